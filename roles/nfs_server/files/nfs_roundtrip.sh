#!/bin/sh
# Usage: nfs_roundtrip.sh SERVER EXPORT_PATH
# Proves an export on the NFS server itself: writes a probe file through NFS
# (libnfs nfs-cp), reads it back through NFS (nfs-cat) and from the disk, compares
# both with what was written, and removes the probe. Exit status 0 only if all match.
set -eu
server=$1
export_path=$2
name=".stateful-nfs-probe.$(hostname).$$"
url="nfs://${server}${export_path}/${name}"
tmp=$(mktemp)
trap 'rm -f "$tmp" "${export_path}/${name}"' EXIT INT TERM
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
if [ "$(cat "${export_path}/${name}")" != "$token" ]; then
    echo "the file written through NFS is not on the disk at ${export_path}/${name}" >&2
    exit 1
fi
echo "ok: ${url} written and read back through NFS"
