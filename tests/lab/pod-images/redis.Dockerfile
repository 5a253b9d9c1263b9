# redis from Debian's redis-server package, laid out like the upstream image: data in /data,
# port 6379, in the foreground, logs on stdout; the process runs as the package's own
# non-root user (redis), so the image proves what a non-root pod can write on an NFS claim.
ARG BASE
FROM ${BASE}
RUN apt-get update -q && apt-get install -y -q --no-install-recommends redis-server redis-tools \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data \
 && echo "redis uid=$(id -u redis) gid=$(id -g redis)" > /etc/redis/image-user
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--dir", "/data", "--protected-mode", "no"]
