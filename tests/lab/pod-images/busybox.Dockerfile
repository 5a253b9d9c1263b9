# busybox from Debian's busybox-static (the walkthrough's nslookup pod): one static binary
# and its applet links, nothing else.
ARG BASE
FROM ${BASE} AS debian
RUN apt-get update -q && apt-get install -y -q --no-install-recommends busybox-static
FROM scratch
COPY --from=debian /bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
