# nginx from Debian's package, laid out like the upstream image (docker-library/nginx):
# document root /usr/share/nginx/html, port 80, in the foreground, logs on stdout/stderr,
# graceful stop on SIGQUIT. Workers run as Debian's www-data.
ARG BASE
FROM ${BASE}
RUN apt-get update -q && apt-get install -y -q --no-install-recommends nginx \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx-default.conf /etc/nginx/conf.d/default.conf
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
