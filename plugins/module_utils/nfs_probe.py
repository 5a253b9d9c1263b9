# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove from an NFS client node that an export is usable.

Methods:

* ``kernel``: ``mount -t nfs`` the export on a temporary directory, as kubelet
  mounts NFS volumes (through the node's ``/sbin/mount.nfs`` helper), write a
  file named after the node, read it back, remove it, unmount (the
  walkthrough's test);
* ``userspace``: the same round trip in one libnfs session (the shared library
  through ctypes, in a child Python) under its own NFSv4 client owner. It proves the
  server, the network and the export's client list from this node, not that
  the node can mount NFS;
* ``auto``: the ``kernel`` proof, because that is what kubelet needs. When the
  node itself cannot mount (no mount helper, no kernel NFS client, no right to
  mount), the probe fails with that reason and runs the ``userspace`` round
  trip only to say whether the server side would work from this node.

Before the round trip it resolves the server name, connects to the NFS port,
sends RPC NULL calls for NFSv3/NFSv4 and lists the exports (``showmount -e``),
so a failure is classified (see ``REASONS``) instead of surfacing as an
opaque tool error.

Everything here is importable without Ansible so it can be unit tested; all
process execution goes through an injectable ``runner``.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile

from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import nfs_major_version
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_libnfs_session import (
    NO_LIBNFS,
    nfs_source,
    program_source,
)

NFS_PORT = 2049
NFS_PROGRAM = 100003

# Failure classes, most specific first. Keys are the values of ``reason``.
REASONS = {
    'ok': 'the export was written, read back and cleaned up',
    'dns': 'the server name does not resolve',
    'connection_refused': 'nothing listens on the NFS port (server stopped?)',
    'unreachable': 'no route to the server',
    'timeout': 'the server did not answer in time',
    'export_not_found': 'the server does not export this path',
    'export_not_allowed': 'the server does not export this path to this client',
    'permission_denied': 'the export is mounted but this client may not write to it',
    'root_squashed': ('the server maps root to its anonymous user on this export (root_squash or all_squash) '
                      'and that user may not create a directory there, so the NFS provisioner cannot make '
                      "claims' directories"),
    'read_mismatch': 'the probe file read back differs from what was written',
    'tool_missing': 'a client tool needed for the probe is not installed',
    'mount_helper_missing': ('the node has no NFS mount helper (/sbin/mount.nfs), so mount -t nfs, '
                             'and kubelet with it, cannot mount NFS there'),
    'kernel_client_missing': "the node's kernel has no NFS client, so NFS cannot be mounted there",
    'mount_not_permitted': 'the probe may not mount on the node (not root, or no CAP_SYS_ADMIN)',
    'error': 'another error (see details)',
}

# Failures that come from the node, not from the server or the network: the node cannot
# mount NFS, whatever the server does. What to do about each, in kubelet's terms.
NODE_REASONS = {
    'mount_helper_missing': ('kubelet mounts NFS volumes the same way (mount -t nfs), so pods on this node '
                             'could not mount the export: install the NFS client (nfs-common on Debian, '
                             'nfs-utils on the RHEL family)'),
    'kernel_client_missing': ('kubelet mounts NFS volumes with the kernel client too, so pods on this node '
                              'could not mount the export: use a kernel with NFS client support (module nfs)'),
    'mount_not_permitted': ('kubelet mounts as root: run the probe as root (become: true) with '
                            'CAP_SYS_ADMIN to prove what kubelet can do'),
}

# Patterns over tool output, checked in order. (regex, reason)
# mount(8) and mount.nfs (util-linux 2.38, nfs-utils 2.6, measured in a container): without a
# helper mount(8) calls mount(2) itself and says "bad option ... helper program" (kernel with
# NFS) or "unknown filesystem type 'nfs'" (kernel without, so both are missing); with the
# helper on a kernel without NFS, "mount.nfs: No such device" (nfs-utils 2.8, Debian 13:
# "mount.nfs: failed to prepare mount: No such device"); without CAP_SYS_ADMIN,
# "mount.nfs: Operation not permitted" or "mount: <dir>: permission denied.".
_CLASSIFIERS = [
    (r'you might need a /sbin/mount\.\S+ helper program|unknown filesystem type .nfs4?.', 'mount_helper_missing'),
    (r'mount(\.nfs4?)?: (failed to prepare mount: )?No such device', 'kernel_client_missing'),
    ((r'mount\.nfs4?: Operation not permitted|mount: [^\n]*: permission denied|only root can|'
      r'must be superuser'), 'mount_not_permitted'),
    ((r'Can not resolv|Name or service not known|Unknown host|'
     r'Temporary failure in name resolution|could not resolve|nodename nor servname'), 'dns'),
    (r'Connection refused|ECONNREFUSED|errno 111\b', 'connection_refused'),
    (r'No route to host|Network is unreachable|EHOSTUNREACH|ENETUNREACH', 'unreachable'),
    (r'timed out|Timed out|Timeout|ETIMEDOUT|Unable to receive', 'timeout'),
    ((r'access denied by server|MNT3ERR_ACCES|MNT3ERR_PERM|NFS4ERR_WRONGSEC|'
     r'mount_cb:.*NFS4ERR_(NOENT|ACCESS|PERM)'), 'export_not_allowed'),
    ((r'MNT3ERR_NOENT|MNT3ERR_NOTDIR|No such file or directory.*(mount|server)|'
     r'reason given by server: No such file'), 'export_not_found'),
    ((r'NFS3ERR_ACCES|NFS4ERR_ACCESS|NFS3ERR_ROFS|NFS4ERR_ROFS|NFS3ERR_PERM|NFS4ERR_PERM|'
     r'Read-only file system|Permission denied'), 'permission_denied'),
]


def classify(text):
    """Map tool output or an exception message to a key of ``REASONS``."""
    text = text or ''
    for pattern, reason in _CLASSIFIERS:
        if re.search(pattern, text):
            return reason
    return 'error'


def classify_socket_error(exc):
    """Map an exception from socket connect/resolve to a key of ``REASONS``."""
    if isinstance(exc, socket.gaierror):
        return 'dns'
    if isinstance(exc, socket.timeout):
        return 'timeout'
    code = getattr(exc, 'errno', None)
    if code == errno.ECONNREFUSED:
        return 'connection_refused'
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return 'unreachable'
    if code == errno.ETIMEDOUT:
        return 'timeout'
    return classify(str(exc))


class ProbeFailure(Exception):
    """A classified probe failure."""

    def __init__(self, reason, message, step):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.step = step


def run(cmd, timeout, data=None):
    """Run ``cmd`` (list), bounded by ``timeout`` seconds. Returns (rc, out, err).

    rc is None when the command timed out, 127 when it does not exist.
    """
    try:
        # argv list, no shell; fixed tool names, values are the same user's module parameters
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        return None, _text(exc.stdout), _text(exc.stderr) or f'timed out after {timeout}s'
    except OSError as exc:
        return 127, '', str(exc)
    return proc.returncode, _text(proc.stdout), _text(proc.stderr)


def _text(value):
    if value is None:
        return ''
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


# --------------------------------------------------------------------------
# What may this node do?
# --------------------------------------------------------------------------

CAP_SYS_ADMIN = 21


def has_cap_sys_admin(status_text):
    """True when the CapEff line of /proc/self/status has CAP_SYS_ADMIN."""
    match = re.search(r'^CapEff:\s*([0-9a-fA-F]+)', status_text or '', re.MULTILINE)
    if not match:
        return False
    return bool(int(match.group(1), 16) & (1 << CAP_SYS_ADMIN))


def kernel_nfs_types(filesystems_text):
    """The NFS types listed in /proc/filesystems (``nfs``, ``nfs4``)."""
    found = []
    for line in (filesystems_text or '').splitlines():
        fields = line.split()
        if fields and fields[-1] in ('nfs', 'nfs4'):
            found.append(fields[-1])
    return found


def kernel_capability(filesystems_text, status_text, mount_helper, module_available):
    """Decide whether a kernel mount is possible. Returns (bool, reason).

    ``module_available``: the running kernel ships an nfs module that mount
    would load on demand even though /proc/filesystems does not list it yet.
    """
    problems = []
    if not kernel_nfs_types(filesystems_text) and not module_available:
        problems.append('the kernel has no NFS client (/proc/filesystems lists neither nfs '
                        'nor nfs4 and no nfs module exists for the running kernel)')
    if not mount_helper:
        problems.append('mount.nfs is not installed')
    if not has_cap_sys_admin(status_text):
        problems.append('this process lacks CAP_SYS_ADMIN, so it may not mount')
    if problems:
        return False, '; '.join(problems)
    return True, 'the kernel supports NFS, mount.nfs is installed and CAP_SYS_ADMIN is held'


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ''


def node_facts():
    """What this node offers for a kernel mount: {kernel_nfs, mount_helper, cap_sys_admin, capability}.

    ``capability`` is ``kernel_capability``'s (bool, reason) over the same facts.
    """
    release = os.uname()[2]
    module_available = bool(glob.glob(f'/lib/modules/{release}/kernel/fs/nfs/nfs.ko*'))
    filesystems, status = _read('/proc/filesystems'), _read('/proc/self/status')
    helper = _which('mount.nfs')
    return {'kernel_nfs': bool(kernel_nfs_types(filesystems)) or module_available,
            'mount_helper': helper, 'cap_sys_admin': has_cap_sys_admin(status),
            'capability': kernel_capability(filesystems, status, helper, module_available)}


def _which(name):
    path = os.environ.get('PATH', '') + ':/sbin:/usr/sbin:/usr/local/sbin'
    return shutil.which(name, path=path)


# --------------------------------------------------------------------------
# Network checks
# --------------------------------------------------------------------------

def resolve(server):
    """The first IPv4/IPv6 address of ``server``; raises ProbeFailure('dns')."""
    try:
        infos = socket.getaddrinfo(server, NFS_PORT, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeFailure('dns', f"server name '{server}' does not resolve: {exc}", 'resolve')
    infos.sort(key=lambda info: 0 if info[0] == socket.AF_INET else 1)
    return infos[0][4][0]


def rpc_null_call(xid, program, version):
    """The bytes of an ONC RPC NULL call over TCP (with record marking)."""
    body = struct.pack('>IIIIII', xid, 0, 2, program, version, 0)
    body += struct.pack('>IIII', 0, 0, 0, 0)  # AUTH_NONE credential and verifier
    return struct.pack('>I', 0x80000000 | len(body)) + body


def parse_rpc_reply(data, xid):
    """Interpret the reply to ``rpc_null_call``. Returns (ok, detail)."""
    if len(data) < 4 + 24:
        return False, f'short RPC reply ({len(data)} bytes)'
    rxid, mtype, reply_stat = struct.unpack('>III', data[4:16])
    if rxid != xid or mtype != 1:
        return False, 'not a reply to our call'
    if reply_stat != 0:
        return False, 'RPC call denied'
    verf_len = struct.unpack('>I', data[20:24])[0]
    offset = 24 + ((verf_len + 3) // 4) * 4
    if len(data) < offset + 4:
        return False, 'short RPC reply'
    accept = struct.unpack('>I', data[offset:offset + 4])[0]
    messages = {0: 'ok', 1: 'program unavailable', 2: 'version not supported',
                3: 'procedure unavailable', 4: 'garbage arguments', 5: 'system error'}
    return accept == 0, messages.get(accept, f'accept status {accept}')


def rpc_null(address, version, timeout, port=NFS_PORT):
    """RPC NULL to the NFS program; returns (ok, detail). Raises socket errors."""
    xid = random.randint(1, 0x7fffffff)  # noqa: S311 - RPC transaction id, only matched against the reply
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        sock.sendall(rpc_null_call(xid, NFS_PROGRAM, version))
        data = b''
        while len(data) < 4 + 64:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) >= 4 and len(data) >= 4 + (struct.unpack('>I', data[:4])[0] & 0x7fffffff):
                break
    finally:
        sock.close()
    return parse_rpc_reply(data, xid)


def probe_versions(address, timeout):
    """Which NFS versions answer an RPC NULL on the NFS port: {3: bool, 4: bool}.

    Raises ProbeFailure when the port cannot be reached at all.
    """
    versions = {}
    for version in (4, 3):
        try:
            versions[version] = rpc_null(address, version, timeout, port=NFS_PORT)[0]
        except (TimeoutError, OSError) as exc:
            reason = classify_socket_error(exc)
            raise ProbeFailure(reason, f'cannot reach the NFS service at {address}:{NFS_PORT}: {exc}',
                               'connect') from exc
    return versions


def parse_showmount(text):
    """``showmount -e`` output to a list of {path, clients}."""
    exports = []
    for line in (text or '').splitlines():
        if not line.strip() or line.startswith('Export list for'):
            continue
        fields = line.split(None, 1)
        clients = fields[1].split(',') if len(fields) > 1 else []
        exports.append({'path': fields[0], 'clients': [c.strip() for c in clients if c.strip()]})
    return exports


def list_exports(server, timeout, runner=run):
    """Export listing as seen by this client. Returns (exports or None, detail)."""
    showmount = _which('showmount')
    if not showmount:
        return None, 'showmount is not installed'
    rc, out, err = runner([showmount, '--no-headers', '-e', server], timeout)
    if rc == 0:
        return parse_showmount(out), 'showmount -e'
    return None, 'showmount -e failed: %s' % (err.strip() or out.strip() or f'rc={rc}')


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------

def probe_file_name(node):
    safe = re.sub(r'[^A-Za-z0-9._-]', '_', node or 'node')
    return f'.nfs-probe-{safe}'


def probe_content(node):
    # S311: a marker compared after the read-back, not a secret
    return f'stateful.nfs probe from {node} {random.randint(0, 0xffffffff):08x}\n'  # noqa: S311


def nfs4_client_name(node):
    """A fresh NFSv4 client owner (RFC 7530, 9.1.1) for one user-space session.

    libnfs' default owner is ``Libnfs pid:<pid> <seconds>``. Nodes in containers run the probe
    with the same pids, in the same second, so the server saw one client: SETCLIENTID answered
    NFS4ERR_CLID_INUSE and the other node's state expired (NFS4ERR_EXPIRED) mid round trip.
    """
    # Unique, not secret (it travels in the clear); the random part covers a reused pid.
    return f'stateful.nfs nfs_probe {node} {socket.gethostname()} {os.getpid()} {random.getrandbits(64):016x}'


def _step(steps, name, rc, out, err, ok):
    steps.append({'step': name, 'rc': rc, 'ok': ok,
                  'output': (out.strip() + '\n' + err.strip()).strip()[-2000:]})


def _fail_from(step, rc, out, err, what, facts=None):
    text = (err + '\n' + out).strip()
    if rc is None:
        reason = 'timeout'
    elif rc == 127:
        reason = 'tool_missing'
    else:
        reason = classify(text)
    message = '{} failed: {}'.format(what, telling_line(text) or f'rc={rc}')
    if step == 'mount' and facts is not None and rc not in (None, 127):
        reason, message = _node_side(reason, message, facts)
    raise ProbeFailure(reason, message, step)


def _node_side(reason, message, facts):
    """Refine a failed mount with what the node lacks; add what that means for kubelet."""
    if reason == 'error':
        if not facts.get('mount_helper'):
            reason = 'mount_helper_missing'
        elif not facts.get('cap_sys_admin', True):
            reason = 'mount_not_permitted'
    if reason not in NODE_REASONS:
        return reason, message
    missing = []
    if not facts.get('mount_helper'):
        missing.append('no mount.nfs helper is installed')
    if not facts.get('kernel_nfs', True):
        missing.append('the kernel lists no NFS file system (/proc/filesystems) and has no nfs module')
    if not facts.get('cap_sys_admin', True):
        missing.append('this process lacks CAP_SYS_ADMIN')
    found = f" (on this node: {'; '.join(missing)})" if missing else ''
    return reason, f'{message.rstrip(".")}{found}. {NODE_REASONS[reason]}.'


def telling_line(text):
    """The line of tool output that explains the failure best."""
    lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
    for line in lines:
        if classify(line) != 'error':
            return line
    return lines[-1] if lines else ''


def _run_session(request, python, bound, runner):
    """Run the libnfs session program (``nfs_libnfs_session``) for ``request`` in a child
    ``python``, bounded by ``bound`` seconds: ``(rc, out, err)``. Raises ProbeFailure
    ``tool_missing`` when the node has no libnfs shared library."""
    rc, out, err = runner([python, '-c', program_source(), json.dumps(request)], bound)
    if rc == NO_LIBNFS:
        raise ProbeFailure('tool_missing', 'the libnfs shared library (libnfs-utils depends on it) is not '
                           f'installed: {telling_line(err)}', 'tools')
    return rc, out, err


def userspace_round_trip(server, export, node, version, timeout, write, python, steps, runner=run, local_path=None):
    """One libnfs session from this node: mount, write the probe file, read it back, remove it.

    In check mode (``write`` false) it lists the export instead. The session is a child Python
    (``python``) running the program of ``nfs_libnfs_session`` under a fresh NFSv4 client owner.
    ``local_path``: the export's directory on this host (the probe runs on the NFS server): the
    file is also read there before it is removed. Appends to ``steps``; raises ProbeFailure.
    """
    name = probe_file_name(node)
    content = probe_content(node)
    source = nfs_source(server, '/' + export.strip('/'))
    request = {'server': server, 'export': '/' + export.strip('/'), 'path': '/' + name,
               'version': version if version in (3, 4) else 0, 'timeout_ms': int(timeout * 1000),
               'client_name': nfs4_client_name(node), 'mode': 'round_trip' if write else 'list',
               'content': content, 'local_path': local_path}
    # Each libnfs call is bounded by timeout; a round trip is a mount and three file operations.
    rc, out, err = _run_session(request, python, timeout * 4 + 5, runner)
    on_disk = os.path.join(local_path or '', name)
    labels = {'mount': f'mount {source}', 'list': 'list (check mode, no write)', 'write': f'write {name}',
              'read': f'read {name}', 'disk': f'read {on_disk} on the disk', 'remove': f'remove {name}'}
    whats = {'mount': f'mounting {source}', 'list': f'listing {source}', 'write': f'writing {name}',
             'read': f'reading {name} back', 'disk': f'reading {on_disk} on the disk', 'remove': f'removing {name}'}
    failed = _session_steps(out, content, labels, on_disk, steps)
    if isinstance(failed, ProbeFailure):
        raise failed
    if failed is not None:
        step, text = failed
        _fail_from(step, 1, '', text, whats.get(step, step))
    if rc != 0:
        _fail_from('session', rc, '', err, f'the libnfs session with {source}')


def probe_directory_name(node):
    return probe_file_name(node).replace('.nfs-probe-', '.nfs-probe-dir-', 1)


ROOT_SQUASH_FIX = ('Make the directory writable by the anonymous user the server maps root to (anonuid/Anonymous_Uid, '
                   '65534 by default): on the NFS server, chown 65534:65534 {path} (or chmod 1777 {path}); or '
                   'export it to the nodes with no_root_squash, as the nfs_server role does by default')


def userspace_directory(server, export, node, version, timeout, python, steps, runner=run):
    """One libnfs session from this node, as uid 0 and gid 0: create the directory
    ``.nfs-probe-dir-<node>`` at the top of ``export`` and remove it, as the NFS provisioner makes
    each claim's directory. Appends to ``steps``; raises ProbeFailure (``root_squashed`` when the
    server refuses the directory to root, with the fix)."""
    name = probe_directory_name(node)
    source = nfs_source(server, '/' + export.strip('/'))
    request = {'server': server, 'export': '/' + export.strip('/'), 'path': '/' + name,
               'version': version if version in (3, 4) else 0,
               'timeout_ms': int(timeout * 1000), 'client_name': nfs4_client_name(node), 'mode': 'mkdir'}
    rc, out, err = _run_session(request, python, timeout * 3 + 5, runner)
    labels = {'mount': f'mount {source}', 'mkdir': f'mkdir {name} as uid 0', 'rmdir': f'rmdir {name}'}
    failed = _session_steps(out, '', labels, '', steps)
    if failed is not None:
        step, text = failed
        if step == 'mkdir' and classify(text) == 'permission_denied':
            raise ProbeFailure('root_squashed', f'creating {name} in {source} as uid 0 failed: {text}. '
                               + ROOT_SQUASH_FIX.format(path=export), step)
        _fail_from(step, 1, '', text, f"{labels.get(step, step)} in {source}")
    if rc != 0 or not any(s['step'] == labels['rmdir'] for s in steps):
        _fail_from('session', rc if rc != 0 else 1, '', err, f'the libnfs session with {source}')


def read_through_nfs(server, export, paths, node, timeout, python, runner=run):
    """The files ``paths`` (absolute within ``export``) as one libnfs session reads them.

    The session is the probe's (``nfs_libnfs_session``, mode ``read``, a fresh NFSv4 client
    owner from ``node``): it mounts ``server:export`` once and reads each file. Returns
    ``{path: (content, error)}``, content None when the file could not be read (error says
    why: libnfs' text, or the mount's failure for every path). Raises ProbeFailure when the
    session cannot run (no libnfs: ``tool_missing``; the child died or timed out).
    """
    source = nfs_source(server, '/' + export.strip('/'))
    request = {'server': server, 'export': '/' + export.strip('/'), 'version': 0,
               'timeout_ms': int(timeout * 1000), 'client_name': nfs4_client_name(node), 'mode': 'read',
               'paths': list(paths)}
    rc, out, err = _run_session(request, python, timeout * (len(paths) + 2) + 5, runner)
    found = {}
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get('step') == 'mount' and not record.get('ok'):
            return {path: (None, f"mounting {source} failed: {record.get('error')}") for path in paths}
        data = record.get('data') or {}
        if record.get('step') == 'read' and data.get('path') in paths:
            found[data['path']] = (data.get('content'), record.get('error') or None)
    if rc != 0 or len(found) != len(paths):
        _fail_from('session', rc, '', err, f'the libnfs session with {source}')
    return found


def _session_steps(out, content, labels, on_disk, steps):
    """Read the session's JSON lines into ``steps``; the first failure, or None.

    A failure is a ProbeFailure (``read_mismatch``: what was read through NFS or on the disk is
    not what was written; a probe file missing on the disk) or (step, libnfs' error text).
    """
    failed = None
    for line in out.splitlines():
        try:
            record = json.loads(line)
            step = record['step']
        except (ValueError, TypeError, KeyError):
            continue
        ok = bool(record.get('ok'))
        if step in ('read', 'disk') and ok and record.get('data') != content:
            ok = False
            where = 'through NFS' if step == 'read' else f'on the disk at {on_disk}'
            failed = failed or ProbeFailure('read_mismatch', 'read back {!r} {}, wrote {!r}'.format(
                (record.get('data') or '')[:80], where, content), step)
        if step == 'disk' and not record.get('ok'):
            failed = failed or ProbeFailure('read_mismatch', record.get('error') or 'no file on the disk', step)
        steps.append({'step': labels.get(step, step), 'rc': 0 if ok else 1, 'ok': ok,
                      'output': (record.get('error') or '')[-2000:]})
        if not record.get('ok') and failed is None:
            failed = (step, record.get('error') or '')
    return failed


def kernel_round_trip(server, export, node, version, timeout, write, options, steps, runner=run, facts=None):
    """mount, write, read back, remove, umount. Raises ProbeFailure (never OSError).

    ``facts`` (``node_facts()``) explains a failed mount that comes from the node.
    """
    try:
        mountpoint = tempfile.mkdtemp(prefix='nfs-probe-')
    except OSError as exc:
        raise ProbeFailure('error', f'cannot create a temporary mount point: {exc}', 'mount') from exc
    opts = ['soft', f'timeo={max(10, int(timeout * 10))}', 'retrans=1']
    if not write:
        opts.append('ro')
    # The caller's options may name the version themselves (a StorageClass's nfsvers=4.1):
    # then they say it, not a second, conflicting vers=.
    if version in (3, 4) and nfs_major_version(options or '') is None:
        opts.append(f'vers={version}')
    if options:
        opts.append(options)
    source = nfs_source(server, export)
    mounted = False
    try:
        # As kubelet's in-tree nfs volume does: mount -t nfs [-o opts] server:/path dir.
        rc, out, err = runner([_which('mount') or 'mount', '-t', 'nfs', '-o', ','.join(opts),
                               source, mountpoint], timeout + 5)
        _step(steps, f'mount {source}', rc, out, err, rc == 0)
        if rc != 0:
            _fail_from('mount', rc, out, err, f'mounting {source}', facts)
        mounted = True
        if not write:
            _kernel_io('list', f'listing {source}', os.listdir, mountpoint)
            steps.append({'step': 'list (check mode, no write)', 'rc': 0, 'ok': True, 'output': ''})
            return
        name = probe_file_name(node)
        content = probe_content(node)
        path = os.path.join(mountpoint, name)
        try:
            _kernel_io('write', f'writing {name}', _write_text, path, content)
            steps.append({'step': f'write {name}', 'rc': 0, 'ok': True, 'output': ''})
            back = _kernel_io('read', f'reading {name} back', _read_text, path)
            steps.append({'step': f'read {name}', 'rc': 0, 'ok': back == content, 'output': ''})
            if back != content:
                raise ProbeFailure('read_mismatch', f'read back {back[:80]!r}, wrote {content!r}', 'read')
        finally:
            if os.path.lexists(path):
                _kernel_io('remove', f'removing {name}', os.unlink, path)
                steps.append({'step': f'remove {name}', 'rc': 0, 'ok': True, 'output': ''})
    finally:
        if mounted:
            rc, out, err = runner([_which('umount') or 'umount', mountpoint], timeout + 5)
            if rc != 0:
                rc, out, err = runner([_which('umount') or 'umount', '-f', '-l', mountpoint], timeout + 5)
            _step(steps, 'umount', rc, out, err, rc == 0)
        try:
            os.rmdir(mountpoint)
        except OSError:
            pass


def _kernel_io(step, what, function, *args):
    """Run a file operation on the mounted export; an OSError becomes a classified ProbeFailure."""
    try:
        return function(*args)
    except OSError as exc:
        raise ProbeFailure(classify_os_error(exc), f'{what} failed: {exc}', step) from exc


def _write_text(path, content):
    with open(path, 'w') as handle:
        handle.write(content)


def _read_text(path):
    with open(path) as handle:
        return handle.read()


def classify_os_error(exc):
    code = getattr(exc, 'errno', None)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return 'permission_denied'
    if code == errno.ETIMEDOUT:
        return 'timeout'
    return classify(str(exc))


# --------------------------------------------------------------------------
# The probe
# --------------------------------------------------------------------------

def _export_listed(exports, export):
    want = '/' + export.strip('/')
    return any('/' + e['path'].strip('/') == want for e in exports)


def _method_and_reason(method, why):
    """The method whose result the probe reports, and why it is used (``why``: the kernel check)."""
    if method == 'auto':
        return 'kernel', f'auto: a kernel mount (mount -t nfs), the way kubelet mounts NFS volumes; {why}'
    if method == 'kernel':
        return 'kernel', f'requested (method=kernel); kernel check: {why}'
    return 'userspace', (f'requested (method=userspace): proves the server, the network and the '
                         f'export from this node, not that the node can mount NFS; kernel check: {why}')


def _choose_version(version, versions, address):
    """The NFS version of the round trip, from ``version`` and the RPC NULL answers; raises ProbeFailure."""
    if version == 'auto':
        chosen = 4 if versions.get(4) else 3 if versions.get(3) else None
    else:
        chosen = int(version)
    if chosen is None or not versions.get(chosen):
        wanted = version if version != 'auto' else '3/4'
        answers = {str(k): v for k, v in versions.items()}
        raise ProbeFailure('error', f'the server at {address} answers on port {NFS_PORT} but not as '
                           f'NFSv{wanted} (RPC NULL: {answers})', 'rpc')
    return chosen


def _reach(server, export, version, timeout, known_exports, runner, result):
    """Configuration, name, RPC NULL and export listing, recorded in ``result``. Returns the version."""
    if known_exports is not None and not _export_listed([{'path': p} for p in known_exports], export):
        raise ProbeFailure('export_not_found', f"export '{export}' is not among the server's configured "
                           f"exports {sorted(known_exports)}", 'configuration')
    address = resolve(server)
    result['details']['address'] = address
    versions = probe_versions(address, timeout)
    result['details']['versions'] = {str(k): v for k, v in versions.items()}
    chosen = _choose_version(version, versions, address)
    result['version'] = chosen
    exports, how = list_exports(server, timeout, runner)
    result['exports'] = exports
    result['details']['export_listing'] = how
    if exports is None and chosen == 4:
        result['details']['export_listing'] += '; NFSv4 RPC NULL answered instead'
    return chosen


def _failure(exc, exports, export, known_exports):
    """(reason, message) of a failed probe; the export listing tells a hidden export from a missing one."""
    if not isinstance(exc, ProbeFailure):
        exc = ProbeFailure(classify_os_error(exc), f'{exc}', 'error')
    reason, message = exc.reason, exc.message
    if reason in ('export_not_allowed', 'export_not_found') and exports is not None:
        # The listing tells the two apart when the server shows all exports
        # (kernel nfsd); Ganesha hides exports this client may not use.
        if _export_listed(exports, export):
            reason = 'export_not_allowed'
            message += ' (the server exports it, but not to this client)'
        elif known_exports is not None:
            reason = 'export_not_allowed'
            message += (' (it is configured on the server but not offered to this client; '
                        'exports visible to this client: %s)' % [e['path'] for e in exports])
        else:
            message += ('; exports visible to this client: %s (it is either not exported '
                        'or not exported to this client)' % [e['path'] for e in exports])
    return reason, message, exc.step


def probe(server, export, node, method='auto', version='auto', timeout=10, write=True,
          known_exports=None, mount_options='', python='python3', capability=None, runner=run,
          facts=None, local_path=None, create_directory=False):
    """Run the whole probe. Returns a result dict (never raises ProbeFailure or OSError).

    ``method``: ``kernel`` proves what kubelet needs (``mount -t nfs``); ``userspace`` proves
    the export from this node with libnfs; ``auto`` is ``kernel``, and when the node itself
    cannot mount (a reason of ``NODE_REASONS``) it fails with that reason after a
    ``userspace`` round trip that tells whether the server side works from this node.
    ``facts`` and ``capability`` default to this node's (``node_facts()``). ``local_path``
    (``userspace`` only): the export's directory on this host, read back from the disk too.
    ``create_directory`` (``userspace`` only, with ``write``): instead of the file round trip, a
    directory made and removed as uid 0 (:func:`userspace_directory`).
    """
    steps = []
    result = {'ok': False, 'server': server, 'export': export, 'node': node,
              'method': None, 'method_reason': None, 'version': None, 'reason': None,
              'message': '', 'exports': None, 'details': {'steps': steps}}
    if facts is None and (capability is None or method != 'userspace'):
        facts = node_facts()
    why = (capability if capability is not None else facts['capability'])[1]
    result['method'], result['method_reason'] = _method_and_reason(method, why)
    try:
        if local_path and result['method'] != 'userspace':
            raise ProbeFailure('error', 'local_path is read by the userspace method only', 'configuration')
        if create_directory and result['method'] != 'userspace':
            raise ProbeFailure('error', 'create_directory is done by the userspace method only', 'configuration')
        chosen = _reach(server, export, version, timeout, known_exports, runner, result)
        if result['method'] == 'kernel':
            try:
                kernel_round_trip(server, export, node, chosen if version != 'auto' else None,
                                  timeout, write, mount_options, steps, runner, facts)
            except ProbeFailure as exc:
                if method == 'auto' and exc.reason in NODE_REASONS:
                    exc.message += ' ' + _userspace_diagnosis(server, export, node, chosen, timeout, write,
                                                              python, runner, result['details'])
                raise
        elif create_directory and write:
            userspace_directory(server, export, node, chosen, timeout, python, steps, runner)
        else:
            userspace_round_trip(server, export, node, chosen, timeout, write, python, steps, runner, local_path)
    except (ProbeFailure, OSError) as exc:
        reason, message, result['details']['failed_step'] = _failure(exc, result.get('exports'), export,
                                                                     known_exports)
        result['reason'] = reason
        result['message'] = f'{reason}: {message}'
        return result
    result['ok'] = True
    result['reason'] = 'ok'
    if result['method'] == 'kernel' and facts is not None and not facts.get('kernel_nfs', True):
        # A mount helper that brings its own client (FUSE, for example) mounted it.
        result['method_reason'] += (f"; mounted through the node's mount helper "
                                    f"({facts.get('mount_helper') or 'mount.nfs'}), which does not need it")
    what = 'round trip (write, read back, remove)' if write else 'read-only check (check mode)'
    if create_directory and write:
        what = 'directory made and removed as uid 0'
    result['message'] = f"NFSv{result['version']} {what} via {result['method']}"
    return result


def _userspace_diagnosis(server, export, node, version, timeout, write, python, runner, details):
    """After a node-side mount failure (method auto): does the export work from here in user space?

    Records ``details['userspace']`` and returns a sentence for the message. The verdict stays
    the node's failure: kubelet cannot use the user-space path.
    """
    steps = []
    try:
        userspace_round_trip(server, export, node, version, timeout, write, python, steps, runner)
    except ProbeFailure as exc:
        details['userspace'] = {'ok': False, 'reason': exc.reason, 'message': exc.message, 'steps': steps}
        return f'The user-space round trip (libnfs) from this node failed too: {exc.reason}: {exc.message}.'
    details['userspace'] = {'ok': True, 'reason': 'ok', 'message': 'round trip passed', 'steps': steps}
    return ('The server side is fine: the user-space round trip (libnfs) from this node passed, so only '
            "this node's NFS client is missing.")
