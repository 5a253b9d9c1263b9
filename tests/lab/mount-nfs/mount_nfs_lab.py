#!/usr/bin/python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab-only /sbin/mount.nfs: an NFS mount through a user-space client over FUSE.

LAB ONLY, never part of the collection. The lab's kernel has no NFS client, so the
Kubernetes nodes of the lab get this helper in place of nfs-common's mount.nfs
(installed with dpkg-divert, see tests/lab/build-k8s-images.sh). kubelet's in-tree
``nfs`` volume runs ``mount -t nfs -o <mountOptions> SERVER:/PATH DIR``; mount(8) then runs, as mount.nfs(8) documents::

    mount.nfs SERVER:/PATH DIR [-fnrsvw] [-o OPTIONS]

The helper connects to the export as root (to fail early with a mount.nfs-style message),
starts a FUSE daemon (mfusepy over libfuse 3) that serves DIR with nfs-rs (NFSv3 or
NFSv4.1, AUTH_SYS), and returns once the mount is in /proc/self/mountinfo. The daemon
runs in a transient systemd scope of its own (kubelet's nfs volume mounts without one, and
a daemon in kubelet.service's cgroup would die when kubelet stops) and exits when DIR is
unmounted.

Each request goes to the server with the calling process's uid and gid (one NFS client
per uid/gid pair), so root_squash, all_squash and file ownership behave as with the
kernel client; with ``default_permissions`` the kernel checks mode bits first, as the
kernel client does. Options (nfs(5)): ``vers``/``nfsvers`` 3, 4, 4.0, 4.1 (4.2 is served
as 4.1), ``port``,
``mountport``, ``ro``/``rw``, ``timeo`` (tenths of a second per operation; default 100 here,
600 in the kernel: an outage in a lab test must end in seconds, not minutes) and ``retrans``
(extra tries after a timeout, default 2). Every other nfs(5) option is
accepted and logged as not applied. Differences from the kernel client: no version means
NFSv3, where the kernel negotiates 4.2 first (nfs-rs 0.8.7's NFSv4 client cannot read the root
of an NFS-Ganesha 4.3 export: NFS4ERR_BADNAME; below the root it works); a "hard" mount
gives up after retrans tries (EIO) instead of blocking forever; nfs-rs reconnects keeping
its file handles, and only when it gives up does the helper mount the export again (so a
server restarted with a changed Export_Id can go unnoticed where the kernel returns ESTALE);
a stale handle (NFS3ERR_STALE, e.g. a re-created directory) is ESTALE as with the kernel,
once NFS-Ganesha no longer holds the old directory open (it caches open fds; a restart drops
them); there is no
close-to-open page cache (attributes are cached for 1 s), no locks, no ACLs.

Logs go to the journal with the identifier ``lab-mount.nfs``
(``journalctl -t lab-mount.nfs`` on the node); failures of the mount itself are also
printed on stderr, which kubelet shows in the pod's FailedMount event.
Exit status as mount(8): 0 mounted, 1 bad usage, 32 mount failure.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import logging
import logging.handlers
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time

# The node image installs the helper's libraries here (tests/lab/node/Dockerfile), and
# mfusepy must load libfuse 3 (libfuse 2 is not installed).
sys.path.insert(0, "/usr/lib/stateful-nfs-lab/python")
os.environ.setdefault("FUSE_LIBRARY_NAME", "fuse3")

IDENT = "lab-mount.nfs"
EX_USAGE = 1
EX_FAIL = 32
READY_TIMEOUT = 60  # seconds the mount may take before the helper gives up
READY_FD_ENV = "LAB_MOUNT_NFS_READY_FD"  # set for the daemon: the pipe it reports readiness on
# NFS status codes nfs-rs raises without an errno, as the kernel client maps them
# (fs/nfs/nfs3xdr.c, nfs4xdr.c: a stale or bad handle is ESTALE to the application).
STATUS_ERRNO = {
    "NFS3ERR_STALE": errno.ESTALE, "NFS3ERR_BADHANDLE": errno.ESTALE,
    "NFS4ERR_STALE": errno.ESTALE, "NFS4ERR_BADHANDLE": errno.ESTALE,
    "NFS4ERR_FHEXPIRED": errno.ESTALE,
}

log = logging.getLogger(IDENT)


def setup_logging() -> None:
    log.setLevel(logging.INFO)
    try:
        handler: logging.Handler = logging.handlers.SysLogHandler(address="/dev/log")
        handler.setFormatter(logging.Formatter(IDENT + "[%(process)d]: %(message)s"))
    except OSError:  # no journal socket: stderr is all there is
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(IDENT + ": %(message)s"))
    log.addHandler(handler)


def fail(message: str, code: int = EX_FAIL) -> int:
    log.error("%s", message)
    print(f"mount.nfs: {message}", file=sys.stderr)
    return code


class Usage(Exception):
    """Bad command line."""


def parse_args(argv: list[str]) -> tuple[str, str, dict[str, str | None], set[str]]:
    """Return (spec, mountpoint, options, flags) from mount.nfs's command line."""
    if len(argv) < 2:
        raise Usage("usage: mount.nfs remotetarget dir [-rvVwfnsh] [-o nfsoptions]")
    spec, mountpoint, rest = argv[0], argv[1], argv[2:]
    options: dict[str, str | None] = {}
    flags: set[str] = set()
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "-o":
            if i + 1 >= len(rest):
                raise Usage("-o needs an argument")
            for item in rest[i + 1].split(","):
                if item:
                    key, sep, value = item.partition("=")
                    options[key] = value if sep else None
            i += 2
            continue
        if arg.startswith("-") and len(arg) > 1:
            flags.update(arg[1:])
        else:
            raise Usage(f"unexpected argument {arg!r}")
        i += 1
    if ":" not in spec or not spec.rsplit(":", 1)[1].startswith("/"):
        raise Usage(f"remote target {spec!r} is not SERVER:/PATH")
    return spec, mountpoint, options, flags


def client_settings(spec: str, options: dict[str, str | None], program: str) -> dict:
    """nfs-rs connection settings from the mount options."""
    server, path = spec.rsplit(":", 1)
    server = server.strip("[]")
    host = f"[{server}]" if ":" in server else server
    vers = options.get("vers") or options.get("nfsvers")
    if vers is None:
        vers = "4" if program.endswith("nfs4") else None  # mount -t nfs4 asks for version 4
    versions = {None: ["3"], "3": ["3"], "4": ["4.1", "4.0"], "4.0": ["4.0"],
                "4.1": ["4.1"], "4.2": ["4.1"]}.get(vers)
    if versions is None:
        raise Usage(f"NFS version {vers} is not supported (3, 4, 4.0, 4.1, 4.2)")
    timeo = int(options.get("timeo") or 100) / 10
    retrans = int(options.get("retrans") or 2)
    settings = {
        "url": f"nfs://{host}{path}",
        "versions": versions,
        "connect_timeout": min(timeo, 30.0),
        "operation_timeout": timeo,
        "tries": retrans + 1,
        "readonly": "ro" in options,
    }
    for key, name in (("port", "nfs_port"), ("mountport", "mount_port")):
        if options.get(key) and options[key] != "0":
            settings[name] = int(options[key])
    applied = {"vers", "nfsvers", "port", "mountport", "ro", "rw", "timeo", "retrans"}
    ignored = sorted(k for k in options if k not in applied)
    if ignored:
        log.info("%s: options not applied by this helper: %s", spec, ",".join(ignored))
    return settings


def connect(settings: dict, uid: int, gid: int):
    import nfs_rs  # imported late: a usage error must not need it

    kwargs = {k: settings[k] for k in ("versions", "connect_timeout", "operation_timeout",
                                       "nfs_port", "mount_port") if k in settings}
    return nfs_rs.Client.connect(settings["url"], uid=uid, gid=gid, **kwargs)


def translate(func):
    """Turn nfs-rs errors into the errno FUSE returns to the caller."""
    import mfusepy
    import nfs_rs

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        for attempt in range(self.tries):
            try:
                return func(self, *args, **kwargs)
            except (nfs_rs.NfsConnectionError, nfs_rs.NfsTimeoutError) as exc:
                log.warning("%s %s: %s (try %d of %d)", func.__name__, args[:1], exc, attempt + 1, self.tries)
                self.drop_client()
                last = exc
            except nfs_rs.NfsError as exc:
                raise mfusepy.FuseOSError(exc.errno or STATUS_ERRNO.get(exc.code_name, errno.EIO)) from exc
        raise mfusepy.FuseOSError(getattr(last, "errno", None) or errno.EIO) from last
    return wrapper


def make_operations(settings: dict):
    import mfusepy
    import nfs_rs

    file_types = {
        nfs_rs.FileType.FILE: stat.S_IFREG, nfs_rs.FileType.DIRECTORY: stat.S_IFDIR,
        nfs_rs.FileType.SYMLINK: stat.S_IFLNK, nfs_rs.FileType.BLOCK_DEVICE: stat.S_IFBLK,
        nfs_rs.FileType.CHARACTER_DEVICE: stat.S_IFCHR, nfs_rs.FileType.FIFO: stat.S_IFIFO,
        nfs_rs.FileType.SOCKET: stat.S_IFSOCK,
    }

    def rel(path: str) -> str:
        return path.lstrip("/") or "."

    class NfsOperations(mfusepy.Operations):
        """Path-based FUSE operations; every call with the caller's uid/gid."""

        use_ns = True

        def __init__(self) -> None:
            self.clients: dict[tuple[int, int], object] = {}
            self.files: dict[int, object] = {}
            self.next_fh = 1
            self.tries = settings["tries"]
            self.ready_fd: int | None = None

        def client(self):
            uid, gid, _pid = mfusepy.fuse_get_context()
            key = (uid, gid)
            if key not in self.clients:
                self.clients[key] = connect(settings, uid, gid)
                log.info("%s: new connection for uid %d gid %d", settings["url"], uid, gid)
            return self.clients[key]

        def drop_client(self) -> None:
            uid, gid, _pid = mfusepy.fuse_get_context()
            client = self.clients.pop((uid, gid), None)
            if client is not None:
                try:
                    client.close()
                except nfs_rs.NfsError:
                    pass

        def init(self, path):
            # Called once the kernel accepted the mount: tell the waiting helper.
            if self.ready_fd is not None:
                os.write(self.ready_fd, b"ready\n")
                os.close(self.ready_fd)
                self.ready_fd = None

        def destroy(self, path):
            for client in self.clients.values():
                try:
                    client.close()
                except nfs_rs.NfsError:
                    pass
            log.info("%s: unmounted, exiting", settings["url"])

        @translate
        def getattr(self, path, fh=None):
            info = self.client().stat(rel(path))
            return {
                "st_mode": file_types.get(info.type, 0) | (info.mode & 0o7777),
                "st_nlink": info.nlink, "st_uid": info.uid, "st_gid": info.gid,
                "st_size": info.size, "st_blocks": (info.used + 511) // 512,
                "st_atime": info.atime, "st_mtime": info.mtime, "st_ctime": info.ctime,
            }

        @translate
        def readdir(self, path, fh):
            return [".", "..", *self.client().listdir(rel(path))]

        @translate
        def readlink(self, path):
            return self.client().readlink(rel(path))

        def _remember(self, handle) -> int:
            fh = self.next_fh
            self.next_fh += 1
            self.files[fh] = handle
            return fh

        @translate
        def open(self, path, flags):
            mode = "rb" if flags & os.O_ACCMODE == os.O_RDONLY else "r+b"
            return self._remember(self.client().open(rel(path), mode))

        @translate
        def create(self, path, mode, fi=None):
            client = self.client()
            handle = client.open(rel(path), "w+b")
            client.chmod(rel(path), mode & 0o7777)
            return self._remember(handle)

        @translate
        def read(self, path, size, offset, fh):
            return self.files[fh].read_at(offset, size)

        @translate
        def write(self, path, data, offset, fh):
            return self.files[fh].write_at(data, offset)

        @translate
        def truncate(self, path, length, fh=None):
            if fh is not None and fh in self.files:
                self.files[fh].truncate(length)
            else:
                self.client().truncate(rel(path), length)

        @translate
        def flush(self, path, fh):
            self.files[fh].flush()

        def fsync(self, path, datasync, fh):
            return self.flush(path, fh)

        @translate
        def release(self, path, fh):
            handle = self.files.pop(fh, None)
            if handle is not None:
                handle.close()

        @translate
        def mkdir(self, path, mode):
            self.client().mkdir(rel(path), mode & 0o7777)

        @translate
        def rmdir(self, path):
            self.client().rmdir(rel(path))

        @translate
        def unlink(self, path):
            self.client().unlink(rel(path))

        @translate
        def rename(self, old, new):
            self.client().rename(rel(old), rel(new))

        @translate
        def symlink(self, target, source):
            self.client().symlink(source, rel(target))

        @translate
        def link(self, target, source):
            self.client().link(rel(source), rel(target))

        @translate
        def chmod(self, path, mode):
            self.client().chmod(rel(path), mode & 0o7777)

        @translate
        def chown(self, path, uid, gid):
            self.client().chown(rel(path), uid, gid)

        @translate
        def utimens(self, path, times=None):
            now = time.time_ns()
            atime, mtime = times if times else (now, now)
            self.client().utime(rel(path), ns=(atime, mtime))

        @translate
        def statfs(self, path):
            fs = self.client().fs_stat()
            block = 4096
            return {
                "f_bsize": block, "f_frsize": block, "f_namemax": 255,
                "f_blocks": fs.total_bytes // block, "f_bfree": fs.free_bytes // block,
                "f_bavail": fs.available_bytes // block,
                "f_files": fs.total_files, "f_ffree": fs.free_files, "f_favail": fs.available_files,
            }

    return NfsOperations()


def is_mounted(mountpoint: str) -> bool:
    target = os.path.realpath(mountpoint)
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            if len(fields) > 4 and fields[4].encode().decode("unicode_escape") == target:
                return True
    return False


def serve(spec: str, mountpoint: str, settings: dict, ready_fd: int) -> int:
    """The daemon: prove the export, then serve the FUSE mount until it is unmounted."""
    import mfusepy
    import nfs_rs

    try:
        with connect(settings, 0, 0) as client:
            client.stat(".")
            version = client.version
    except nfs_rs.NfsPermissionError as exc:
        os.write(ready_fd, f"access denied by server while mounting {spec} ({exc})\n".encode())
        return EX_FAIL
    except nfs_rs.NfsNotFoundError as exc:
        os.write(ready_fd, f"mounting {spec} failed, reason given by server: No such file or directory ({exc})\n".encode())
        return EX_FAIL
    except (nfs_rs.NfsError, OSError) as exc:
        os.write(ready_fd, f"mounting {spec} failed: {exc}\n".encode())
        return EX_FAIL
    log.info("%s: server answers NFS %s; mounting on %s", spec, getattr(version, "value", version), mountpoint)
    operations = make_operations(settings)
    operations.ready_fd = ready_fd
    try:
        mfusepy.FUSE(operations, mountpoint, foreground=True, nothreads=True, allow_other=True,
                     default_permissions=True, fsname=spec, subtype="nfs", ro=settings["readonly"],
                     attr_timeout=1.0, entry_timeout=1.0)
    except RuntimeError as exc:
        if operations.ready_fd is not None:
            os.write(operations.ready_fd, f"mounting {spec} on {mountpoint} failed: {exc}\n".encode())
        return EX_FAIL
    return 0


def daemon(spec: str, mountpoint: str, settings: dict, ready_fd: int) -> int:
    try:
        return serve(spec, mountpoint, settings, ready_fd)
    except Exception:  # the daemon's last word goes to the journal
        log.exception("%s: daemon failed", spec)
        return EX_FAIL


def start_daemon(argv: list[str], mountpoint: str, ready_fd: int) -> int:
    """Start this helper again as the FUSE daemon, in a session of its own; return its pid.

    kubelet's in-tree nfs volume mounts WITHOUT ``systemd-run --scope``
    (pkg/volume/nfs: MountSensitiveWithoutSystemd; a kernel NFS mount needs no process),
    so a daemon left in the caller's cgroup would die with kubelet.service. Under systemd
    the daemon gets a transient scope, as k8s.io/mount-utils does for FUSE mounts."""
    # Run as invoked (mount.nfs or mount.nfs4: the name selects the default version).
    program = argv[0] if os.sep in argv[0] else (shutil.which(argv[0]) or os.path.abspath(__file__))
    command = [os.path.abspath(program), *argv[1:]]
    if os.path.isdir("/run/systemd/system") and shutil.which("systemd-run"):
        command = ["systemd-run", "--quiet", "--scope", "--collect",
                   f"--description=lab mount.nfs FUSE daemon for {mountpoint}", "--", *command]
    env = {**os.environ, READY_FD_ENV: str(ready_fd)}
    with open(os.devnull, "r+b") as devnull:
        process = subprocess.Popen(command, env=env, pass_fds=(ready_fd,), start_new_session=True,
                                   stdin=devnull, stdout=devnull, stderr=devnull)
    return process.pid


def main(argv: list[str]) -> int:
    setup_logging()
    program = os.path.basename(argv[0])
    try:
        spec, mountpoint, options, flags = parse_args(argv[1:])
        settings = client_settings(spec, options, program)
    except (Usage, ValueError) as exc:
        return fail(str(exc), EX_USAGE)
    if "f" in flags:  # mount -f: fake it, as mount.nfs does
        return 0
    if os.geteuid() != 0:
        return fail("not root: only root can mount", EX_USAGE)
    if not os.path.isdir(mountpoint):
        return fail(f"mount point {mountpoint} does not exist")
    if "r" in flags:
        settings["readonly"] = True
    if READY_FD_ENV in os.environ:  # the daemon, started below
        return daemon(spec, mountpoint, settings, int(os.environ.pop(READY_FD_ENV)))
    log.info("mount %s on %s (options %s)", spec, mountpoint,
             ",".join(k if v is None else f"{k}={v}" for k, v in options.items()) or "none")
    read_fd, write_fd = os.pipe()
    try:
        pid = start_daemon(argv, mountpoint, write_fd)
    except OSError as exc:
        return fail(f"mounting {spec} on {mountpoint} failed: cannot start the FUSE daemon: {exc}")
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], READY_TIMEOUT)
    answer = os.read(read_fd, 4096).decode(errors="replace").strip() if ready else ""
    os.close(read_fd)
    if answer == "ready" and is_mounted(mountpoint):
        log.info("%s mounted on %s (daemon pid %d)", spec, mountpoint, pid)
        return 0
    if not answer and ready:
        answer = (f"mounting {spec} on {mountpoint} failed: the FUSE daemon exited "
                  f"(journalctl -t {IDENT})")
    elif not answer:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        answer = f"mounting {spec} on {mountpoint} timed out after {READY_TIMEOUT} s"
    return fail(answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
