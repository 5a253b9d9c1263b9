"""The user-space proof on several nodes at once, as the role runs it (one fork per node).

Regression: the proof used libnfs' tools, whose NFSv4 client owner is ``Libnfs pid:<pid>
<second>``. Containers run the same steps with the same pids, so nodes probing in the same
second looked like one client to NFS-Ganesha: SETCLIENTID NFS4ERR_CLID_INUSE, or the other
node's open expired (NFS4ERR_EXPIRED) between write and read back; CI saw it once in the role's
``auto`` diagnosis. Each node here runs the probe as pid 1 of a new pid namespace, at the same
moment as the others, so the pids are equal by construction, not by luck.
"""

import json
import os
import shutil
import subprocess
import time

import pytest
from conftest import NODES, SERVER

# Run once from the controller, not per host.
testinfra_hosts = [SERVER]

DOCKER = shutil.which('docker') or '/usr/bin/docker'
HERE = os.path.dirname(os.path.abspath(__file__))
MODULE_UTILS = os.path.join(HERE, '..', '..', '..', 'plugins', 'module_utils')
# The probe's module_utils files, laid out on each node as the collection's package (nfs_probe
# imports its libnfs session program from nfs_libnfs_session).
NODE_ROOT = '/tmp/snfs-probe'
NODE_PACKAGE = NODE_ROOT + '/ansible_collections/stateful/nfs/plugins/module_utils'
FILES = ('nfs_probe.py', 'nfs_libnfs_session.py', 'mount_options.py')
SHARE = '/srv/nfs/share'
ROUNDS = 10
ROUND_TIMEOUT = 60

# Run by python3 on the node, with the probe's module_utils from NODE_ROOT (no Ansible there).
DRIVER = '''
import json as _json, sys as _sys
_sys.path.insert(0, %(root)r)
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe import ProbeFailure, userspace_round_trip
_steps = []
try:
    userspace_round_trip(%(server)r, %(export)r, _sys.argv[1], 4, 10, True, "python3", _steps)
    print(_json.dumps({"ok": True, "reason": "ok", "steps": _steps}))
except ProbeFailure as _exc:
    print(_json.dumps({"ok": False, "reason": _exc.reason, "message": _exc.message, "steps": _steps}))
'''


def _at_once(argv_for):
    """Start one command per node at the same moment; return {node: Popen}."""
    return {node: subprocess.Popen(argv_for(node), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for node in NODES}


def _collect(procs):
    out = {}
    deadline = time.monotonic() + ROUND_TIMEOUT
    for node, proc in procs.items():
        try:
            stdout, stderr = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            out[node] = (None, stdout, stderr + ' (timed out)')
            continue
        out[node] = (proc.returncode, stdout, stderr)
    return out


def _install_probe(node):
    """The probe's module_utils files into NODE_PACKAGE on ``node``."""
    for name in FILES:
        with open(os.path.join(MODULE_UTILS, name), 'rb') as handle:
            subprocess.run([DOCKER, 'exec', '-i', node, 'sh', '-c', f'mkdir -p {NODE_PACKAGE} && cat > {NODE_PACKAGE}/{name}'],
                           stdin=handle, check=True, timeout=30, capture_output=True)


def test_userspace_proofs_at_once_with_equal_pids_all_pass():
    for node in NODES:
        _install_probe(node)
    program = DRIVER % {'server': SERVER, 'export': SHARE, 'root': NODE_ROOT}
    failed = []
    for round_no in range(ROUNDS):
        # The program in argv, not on stdin: feeding stdin one node after the other staggered them.
        procs = _at_once(lambda node: [DOCKER, 'exec', node, 'unshare', '--pid', '--fork',
                                       'python3', '-c', program, node])
        for node, (rc, stdout, stderr) in _collect(procs).items():
            try:
                result = json.loads(stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                result = {'ok': False, 'message': f'rc={rc} {stdout} {stderr}'}
            steps = [step['step'].split()[0] for step in result.get('steps', [])]
            if not result['ok'] or steps != ['mount', 'write', 'read', 'remove']:
                failed.append((round_no, node, result.get('message'), steps))
    assert failed == [], failed


def test_the_libnfs_tools_default_owner_collides_under_the_same_conditions(host):
    """The control: libnfs' own nfs-cat, same pids, same moment. It shows the test above would
    catch the collision; it skips (saying so) if a libnfs release stops colliding."""
    probe = f'{SHARE}/.nfs-owner-control'
    host.run_expect([0], f'echo control > {probe}')
    try:
        errors = []
        for _ in range(ROUNDS):
            procs = _at_once(lambda node: [DOCKER, 'exec', node, 'unshare', '--pid', '--fork', 'timeout', '20',
                                           'nfs-cat', f'nfs://{SERVER}{probe}?version=4'])
            errors += [stderr for rc, _out, stderr in _collect(procs).values() if rc != 0]
    finally:
        host.run_expect([0], f'rm -f {probe}')
    if not errors:
        pytest.skip(f'nfs-cat from {len(NODES)} nodes with equal pids did not collide in {ROUNDS} rounds: '
                    'this libnfs may set a unique NFSv4 owner')
    assert any('NFS4ERR_' in text for text in errors), errors
