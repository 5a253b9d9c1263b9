# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS mount options: the one table of what nfs(5) and mount(8) accept, and its check.

Used by the ``nfs_provisioner`` module (StorageClass ``mountOptions`` and the provisioner's
own mount) and, through the filter ``stateful.nfs.nfs_mount_option_problems``, by the
``nfs_client`` role (``/etc/fstab`` entries), so a mount option is judged the same way
wherever it is given, before anything is written.
"""

from __future__ import annotations

import re

# name -> regular expression its value must match in full; None: a flag, no value.
# From nfs(5) and mount(8) (util-linux). Names starting with "x-" are userspace options
# (x-systemd.automount, ...) and pass as they are.
NFS_MOUNT_OPTIONS = {
    # mount(8), any file system
    "defaults": None, "auto": None, "noauto": None, "rw": None, "ro": None,
    "user": None, "nouser": None, "users": None, "owner": None, "group": None,
    "exec": None, "noexec": None, "suid": None, "nosuid": None, "dev": None, "nodev": None,
    "sync": None, "async": None, "dirsync": None,
    "atime": None, "noatime": None, "diratime": None, "nodiratime": None,
    "relatime": None, "norelatime": None, "strictatime": None, "nostrictatime": None,
    "lazytime": None, "nolazytime": None, "iversion": None, "noiversion": None,
    "silent": None, "loud": None, "nofail": None, "_netdev": None,
    "comment": r".*", "context": r".+", "fscontext": r".+", "defcontext": r".+", "rootcontext": r".+",
    # nfs(5)
    "soft": None, "softerr": None, "hard": None, "softreval": None, "nosoftreval": None,
    "intr": None, "nointr": None, "ac": None, "noac": None, "cto": None, "nocto": None,
    "lock": None, "nolock": None, "acl": None, "noacl": None, "rdirplus": None, "nordirplus": None,
    "sharecache": None, "nosharecache": None, "resvport": None, "noresvport": None,
    "fsc": r".*", "nofsc": None, "posix": None, "noposix": None, "bg": None, "fg": None,
    "udp": None, "tcp": None, "rdma": None, "migration": None, "nomigration": None,
    "trunkdiscovery": None, "notrunkdiscovery": None,
    "timeo": r"[0-9]+", "retrans": r"[0-9]+", "rsize": r"[0-9]+", "wsize": r"[0-9]+", "bsize": r"[0-9]+",
    "acregmin": r"[0-9]+", "acregmax": r"[0-9]+", "acdirmin": r"[0-9]+", "acdirmax": r"[0-9]+",
    "actimeo": r"[0-9]+", "retry": r"[0-9]+", "port": r"[0-9]+", "nconnect": r"[0-9]+",
    "max_connect": r"[0-9]+", "namlen": r"[0-9]+", "mountport": r"[0-9]+", "mountvers": r"[0-9]+",
    "minorversion": r"[0-9]+",
    "mounthost": r"[A-Za-z0-9.:_-]+", "clientaddr": r"[0-9A-Fa-f.:]+",
    "vers": r"(2|3|4|4\.0|4\.1|4\.2)", "nfsvers": r"(2|3|4|4\.0|4\.1|4\.2)",
    "proto": r"(tcp|udp|rdma|tcp6|udp6|rdma6)", "mountproto": r"(tcp|udp|tcp6|udp6)",
    "sec": r"(sys|none|krb5|krb5i|krb5p)(:(sys|none|krb5|krb5i|krb5p))*",
    "lookupcache": r"(all|none|pos|positive)", "local_lock": r"(all|flock|posix|none)",
    "write": r"(lazy|eager|wait)", "xprtsec": r"(none|tls|mtls)",
}

_USERSPACE = re.compile(r"^x-[A-Za-z0-9._-]+$")


class MountOptionError(ValueError):
    """A mount option nfs(5) / mount(8) would not take; the message names it."""


def mount_option_problems(options):
    """Every problem of NFS mount ``options``, one message each naming the option; [] when they are valid.

    ``options`` is a comma-separated string (``rw,hard,nfsvers=4.1``, as in /etc/fstab) or a
    list of single options. An option is wrong when it is empty, unknown, missing its value,
    given a value it does not take, or given a value outside what nfs(5) allows.
    """
    if isinstance(options, str):
        tokens = options.split(",")
    elif isinstance(options, (list, tuple)) and all(isinstance(o, str) for o in options):
        tokens = list(options)
    else:
        return [f"mount options must be a comma-separated string or a list of strings, got {options!r}"]
    problems = []
    for tok in tokens:
        name, eq, value = tok.partition("=")
        if tok == "":
            problems.append(f"empty option in {','.join(tokens)!r}")
        elif _USERSPACE.match(name):
            continue
        elif name not in NFS_MOUNT_OPTIONS:
            problems.append(f"option {tok!r} is unknown (see nfs(5) and mount(8))")
        elif NFS_MOUNT_OPTIONS[name] is None and eq:
            problems.append(f"option {tok!r} takes no value")
        elif NFS_MOUNT_OPTIONS[name] is not None and not eq:
            problems.append(f"option {tok!r} needs a value ({name}=...)")
        elif NFS_MOUNT_OPTIONS[name] is not None and not re.fullmatch(NFS_MOUNT_OPTIONS[name], value):
            problems.append(f"option {tok!r} has an invalid value (see nfs(5))")
    return problems


def nfs_mount_options(options):
    """Check NFS mount options (see :func:`mount_option_problems`); return them as a tuple.

    Raises :class:`MountOptionError` naming every wrong option.
    """
    problems = mount_option_problems(options)
    if problems:
        raise MountOptionError("; ".join(problems))
    return tuple(options.split(",") if isinstance(options, str) else options)


# The options that decide whether and how a client can make the mount at all: the protocol
# version, the transport and its ports, the MOUNT protocol's own settings, the security flavour,
# transport security, locking (NFSv3 locking needs rpc.statd on the client) and the source port.
# The others (hard/soft, timeouts, caching, sizes, atime, ...) change how a working mount
# behaves, not whether a node can make it, so a proof need not be repeated for them.
MOUNT_ACCESS_OPTIONS = frozenset({
    "vers", "nfsvers", "minorversion", "proto", "udp", "tcp", "rdma", "port",
    "mountport", "mountproto", "mountvers", "mounthost", "clientaddr",
    "sec", "xprtsec", "lock", "nolock", "resvport", "noresvport",
})


def mount_access_options(options):
    """The options of ``options`` (a list, or a comma-separated string) in MOUNT_ACCESS_OPTIONS, in order."""
    tokens = options.split(",") if isinstance(options, str) else list(options or ())
    return tuple(tok for tok in tokens if tok.partition("=")[0] in MOUNT_ACCESS_OPTIONS)


def nfs_major_version(options):
    """The NFS major version ``options`` ask for (the last ``vers``/``nfsvers`` given), an int; None without one."""
    major = None
    tokens = options.split(",") if isinstance(options, str) else list(options or ())
    for tok in tokens:
        name, _eq, value = tok.partition("=")
        if name in ("vers", "nfsvers") and value:
            major = int(value.partition(".")[0]) if value.partition(".")[0].isdigit() else major
    return major
