"""tests/lab/vm/vmctl.py without qemu: the kernel command line, and `stop` against real
processes that look like this state directory's VMs (with and without a pidfile)."""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

VMCTL = Path(__file__).resolve().parents[2] / 'lab' / 'vm' / 'vmctl.py'


@pytest.fixture(scope='module')
def vmctl():
    spec = importlib.util.spec_from_file_location('vmctl', VMCTL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lan_mac_is_stable_and_differs_per_address(vmctl):
    assert vmctl.lan_mac('10.99.0.10/24') == '52:54:00:63:00:0a'
    assert vmctl.lan_mac('10.99.0.20/24') != vmctl.lan_mac('10.99.0.10/24')


def test_kernel_cmdline_carries_addresses_hosts_and_the_key(vmctl):
    line = vmctl.kernel_cmdline('srv', '10.99.0.10/24', '52:54:00:63:00:0a', [('srv', '10.99.0.10')],
                                'ssh-ed25519 AAAA test')
    args = line.split()
    assert 'systemd.hostname=srv' in args
    assert 'snfs.net=52:54:00:63:00:0a,10.99.0.10/24' in args
    assert 'snfs.host=srv,10.99.0.10' in args
    key = next(a for a in args if a.startswith('snfs.ssh_key='))
    assert base64.b64decode(key.split('=', 1)[1]) == b'ssh-ed25519 AAAA test'
    # x86 kernels take at most 2048 bytes of command line
    assert len(line) < 2048


def _fake_qemu(state_dir, name):
    """A process whose argv[0] is qemu-system-x86_64 and whose arguments name state_dir."""
    overlay = state_dir / f'{name}.qcow2'
    overlay.write_text('')
    proc = subprocess.Popen(['bash', '-c', f'exec -a qemu-system-x86_64 {sys.executable} -c '
                             f'"import time; time.sleep(120)" {overlay}'])
    deadline = time.monotonic() + 10
    while Path(f'/proc/{proc.pid}/cmdline').read_bytes().split(b'\0')[0] != b'qemu-system-x86_64':
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def test_stop_ends_pidfile_and_orphan_vms_and_removes_overlays(vmctl, tmp_path, capsys):
    state = tmp_path / 'vms'
    state.mkdir()
    with_pidfile = _fake_qemu(state, 'server')
    (state / 'server.pid').write_text(f'{with_pidfile.pid}\n')
    orphan = _fake_qemu(state, 'client')         # an interrupted run: no pidfile
    other_state = tmp_path / 'vms2'              # another run's directory, a prefix match
    other_state.mkdir()
    other = _fake_qemu(other_state, 'server')
    (state / 'id_ed25519').write_text('key')
    (state / 'server.console.log').write_text('boot log')
    try:
        assert vmctl.main(['stop', '--state-dir', str(state)]) == 0
        stopped = json.loads(capsys.readouterr().out)['stopped']
        assert with_pidfile.wait(timeout=15) is not None
        assert orphan.wait(timeout=15) is not None
        assert stopped['server']['pid'] == with_pidfile.pid
        assert any(v['pid'] == orphan.pid for v in stopped.values())
        assert other.poll() is None, 'a VM of another state directory was stopped'
        assert sorted(p.name for p in state.iterdir()) == ['server.console.log']
        # Nothing left to stop is fine.
        assert vmctl.main(['stop', '--state-dir', str(state)]) == 0
    finally:
        for proc in (with_pidfile, orphan, other):
            proc.kill()
            proc.wait()


def test_start_refuses_an_image_that_was_not_built(vmctl, tmp_path, capsys):
    assert vmctl.main(['start', 'x', '--state-dir', str(tmp_path / 's'), '--image', str(tmp_path),
                       '--lan', '10.99.0.10/24', '--lan-listen']) == 1
    assert 'not a built VM image' in capsys.readouterr().err
