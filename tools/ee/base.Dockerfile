# The local base image of the execution environment (`make ee`): what ansible-builder
# needs from a base, on the lab's Debian 12 image, without any registry.
#
# A base image for execution-environment.yml must have:
#   - python3 >= 3.11 (ansible-core 2.19 on the controller) with pip: the definition
#     sets skip_pip_install (ansible-builder's own pip bootstrap runs ensurepip, which
#     Debian leaves out);
#   - a CA bundle that trusts the site's path to PyPI (a TLS-inspecting proxy's CA too):
#     pip installs ansible-core, ansible-runner and the Python requirements at build time;
#   - bash, and a package manager at PKGMGR that takes `install -y PACKAGE...` and
#     `clean all` (dnf does; on Debian, /usr/local/sbin/ansible-builder-apt).
#
# Built by tools/ee/build.py as stateful-nfs-ee-base:bookworm. The build context holds this
# file, ansible-builder-apt and site-ca.crt (this machine's CA bundle).
ARG FROM_IMAGE=stateful-nfs-lab:bookworm
FROM ${FROM_IMAGE}

COPY ansible-builder-apt /usr/local/sbin/ansible-builder-apt
# This machine's CA bundle joins the system store (update-ca-certificates keeps it on
# every later run); pip reads the store through PIP_CERT.
COPY site-ca.crt /usr/local/share/ca-certificates/site-ca.crt
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt

RUN /usr/local/sbin/ansible-builder-apt install -y python3 python3-pip ca-certificates \
 && update-ca-certificates \
 && python3 -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
 && python3 -m pip --version

# Everything `make ee` builds carries this label (the execution environment inherits it).
LABEL io.stateful-nfs.ee=1
