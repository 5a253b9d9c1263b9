# agnhost for the upstream e2e tests (tests/lab/conformance/run.sh), without a registry.
# The program is k8s.io/kubernetes/test/images/agnhost of the lab's pinned module; the image is
# laid out like the upstream one (test/images/agnhost/Dockerfile: /agnhost, /agnhost-2,
# /localhost.crt and /localhost.key from porter/, /uploads, the user and group it defines,
# ENTRYPOINT /agnhost, CMD pause) but its userland is Debian's busybox-static instead of
# Alpine with bind-tools, curl, netcat, iproute2, iperf, bash and CoreDNS 1.6.2, which the
# StatefulSet and PersistentVolume tests do not use (they run sh, test, mv and dd).
ARG BASE
FROM ${BASE} AS debian
RUN apt-get update -q && apt-get install -y -q --no-install-recommends busybox-static

FROM scratch
COPY --from=debian /bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p -m 1777 /tmp && mkdir -p /uploads /etc \
 && printf 'root:x:0:0:root:/root:/bin/sh\nuser-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n' >/etc/passwd \
 && printf 'root:x:0:\nuser-defined-in-image:x:1000:user-defined-in-image\ngroup-defined-in-image:x:50000:user-defined-in-image\n' >/etc/group
COPY agnhost localhost.crt localhost.key /
RUN ln -s agnhost /agnhost-2
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
