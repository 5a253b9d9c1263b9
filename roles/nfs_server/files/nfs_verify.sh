#!/bin/sh
# Usage: nfs_verify.sh [--showmount] SERVER EXPORT_PATH...
# Proves the exports on the NFS server itself, in one run for all of them:
#  --showmount: `showmount --exports SERVER` (NFSv3 MOUNT protocol) lists every path;
#  for each path, writes a probe file through NFS (libnfs nfs-cp), reads it back
#  through NFS (nfs-cat) and from the disk, compares both with what was written and
#  removes the probe. Exit status 0 only if everything matches; the first failure
#  is named on stderr. The role retries the whole run while the server starts.
set -eu
showmount=0
if [ "${1:-}" = --showmount ]; then showmount=1; shift; fi
server=$1
shift
tmp=$(mktemp)
probe=""
trap 'rm -f "$tmp"; [ -z "$probe" ] || rm -f "$probe"' EXIT INT TERM

if [ "$showmount" = 1 ]; then
    if ! listed=$(timeout 30 showmount --exports "$server" 2>&1); then
        echo "showmount --exports ${server} failed: ${listed}" >&2
        exit 1
    fi
    for export_path in "$@"; do
        if ! printf '%s\n' "$listed" | tail -n +2 | cut -d' ' -f1 | grep -qxF "$export_path"; then
            echo "showmount --exports ${server} does not list ${export_path}: $(printf '%s' "$listed" | tr '\n' ';')" >&2
            exit 1
        fi
    done
    echo "ok: showmount lists $*"
fi

for export_path in "$@"; do
    name=".stateful-nfs-probe.$(hostname).$$"
    url="nfs://${server}${export_path}/${name}"
    probe="${export_path}/${name}"
    token="stateful.nfs probe $(date +%s) $$"
    printf '%s\n' "$token" > "$tmp"
    if ! timeout 30 nfs-cp "$tmp" "$url" >/dev/null; then
        echo "writing ${url} through NFS failed" >&2
        exit 1
    fi
    if ! read_back=$(timeout 30 nfs-cat "$url"); then
        echo "reading ${url} back through NFS failed" >&2
        exit 1
    fi
    if [ "$read_back" != "$token" ]; then
        echo "${url}: read back '${read_back}' through NFS, expected '${token}'" >&2
        exit 1
    fi
    if [ "$(cat "$probe")" != "$token" ]; then
        echo "the file written through NFS is not on the disk at ${probe}" >&2
        exit 1
    fi
    rm -f "$probe"
    probe=""
    echo "ok: ${url} written and read back through NFS"
done
