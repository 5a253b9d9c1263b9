"""Start/stop a throwaway NFS-Ganesha container for the provisioner-emulation tests.

Container and volume names start with ``k8sdouble-``; everything is bounded in time.
Image: ``stateful-nfs-lab:bookworm`` when present, else ``probe:bookworm`` (plain
Debian 12 + systemd). Ganesha is apt-installed inside when missing.
"""
from __future__ import annotations

import shutil
import subprocess
import time
import uuid

DOCKER = "/usr/bin/docker" if shutil.which("/usr/bin/docker") else (shutil.which("docker") or "docker")
IMAGES = ("stateful-nfs-lab:bookworm", "probe:bookworm")
RUN_FLAGS = [
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "DAC_READ_SEARCH",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--cgroupns=host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
]
GANESHA_CONF = """
NFS_CORE_PARAM { Protocols = 3, 4; }
NFSV4 { Graceless = true; }
EXPORT_DEFAULTS { Access_Type = RW; Squash = no_root_squash; }
EXPORT {
    Export_Id = 1;
    Path = /srv/nfs;
    Pseudo = /srv/nfs;
    Protocols = 3, 4;
    Transports = TCP;
    Access_Type = RW;
    Squash = no_root_squash;
    SecType = sys;
    FSAL { Name = VFS; }
}
"""


def _run(args, timeout=60, check=True):
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=check)


def available_image():
    """Return (image, None) or (None, reason-why-not)."""
    try:
        _run(["info"], timeout=20)
    except Exception as exc:  # noqa: BLE001
        return None, f"docker not usable: {exc}"
    for image in IMAGES:
        if _run(["image", "inspect", image], timeout=20, check=False).returncode == 0:
            return image, None
    return None, f"none of the images {IMAGES} exists (build with tests/lab/build-images.sh)"


class Ganesha:
    """A running Ganesha container exporting /srv/nfs (NFSv3+v4) from a docker volume."""

    def __init__(self, image, name=None):
        self.image = image
        suffix = uuid.uuid4().hex[:8]
        self.name = name or f"k8sdouble-ganesha-{suffix}"
        self.volume = f"{self.name}-export"
        self.ip = None

    def exec(self, cmd, timeout=60, check=True):
        return _run(["exec", self.name, "sh", "-c", cmd], timeout=timeout, check=check)

    def start(self, install_timeout=420):
        _run(["volume", "create", "--label", "io.stateful-nfs.lab=1", self.volume], timeout=30)
        _run(["run", "-d", "--name", self.name, "--label", "io.stateful-nfs.lab=1", *RUN_FLAGS,
              "-v", f"{self.volume}:/srv/nfs", self.image, "/lib/systemd/systemd"], timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.exec("test -S /run/systemd/private", check=False).returncode == 0:
                break
            time.sleep(1)
        if self.exec("command -v ganesha.nfsd", check=False).returncode != 0:
            self.exec("DEBIAN_FRONTEND=noninteractive apt-get update -q && "
                      "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
                      "nfs-ganesha nfs-ganesha-vfs rpcbind", timeout=install_timeout)
        self.exec("mkdir -p /srv/nfs && chmod 0777 /srv/nfs && cat > /etc/ganesha/ganesha.conf <<'EOF'\n"
                  + GANESHA_CONF + "EOF")
        self.exec("systemctl enable --now rpcbind >/dev/null 2>&1 || true; systemctl restart nfs-ganesha",
                  timeout=90)
        self.ip = _run(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                        self.name], timeout=20).stdout.strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.exec("rpcinfo -p 2>/dev/null | grep -q 100005", check=False).returncode == 0:
                return self
            time.sleep(1)
        raise RuntimeError("ganesha did not register mountd (100005) with rpcbind within 60 s: "
                           + self.exec("journalctl -u nfs-ganesha --no-pager | tail -20", check=False).stdout)

    def ls(self, path="/srv/nfs"):
        out = self.exec(f"ls -1A {path}", check=False).stdout
        return sorted(line for line in out.splitlines() if line)

    def stop(self):
        _run(["rm", "-f", self.name], timeout=60, check=False)
        _run(["volume", "rm", "-f", self.volume], timeout=60, check=False)


if __name__ == "__main__":  # manual use: python -m tests.k8s_test_double.tests.ganesha NAME
    import sys

    img, why = available_image()
    if not img:
        sys.exit(why)
    g = Ganesha(img, name=sys.argv[1] if len(sys.argv) > 1 else None).start()
    print(g.name, g.ip)
