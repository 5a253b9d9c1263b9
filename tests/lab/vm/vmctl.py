#!/usr/bin/env python3
"""Start, wait for and stop the kernel-NFS test VMs (qemu, software emulation).

    vmctl.py start NAME --state-dir DIR --image DIR --lan ADDRESS/PREFIX (--lan-listen | --lan-connect PEER)
                        [--host NAME=ADDRESS ...] [--memory MiB] [--cpus N]
    vmctl.py wait  --state-dir DIR [--timeout SECONDS] NAME...
    vmctl.py status --state-dir DIR
    vmctl.py stop  --state-dir DIR

Everything a VM is made of lives in the state directory: its disk overlay on the cached
image (``NAME.qcow2``), pidfile (``NAME.pid``), serial console log (``NAME.console.log``),
settings (``NAME.json``) and the SSH key pair of the run (``id_ed25519``). ``start``
prints the settings as JSON: ``pid``, ``ssh_port`` (127.0.0.1, forwarded to the VM's
port 22), ``lan_port`` and the LAN address.

Two networks per VM: user-mode networking (NAT; the VM reaches Debian's mirror, the host
reaches its sshd through a forwarded loopback port) and a LAN between the VMs: a qemu
socket netdev, one VM listening on a loopback port and the other connecting to it.
Ports are picked free at start; a port taken between the pick and qemu's bind makes qemu
fail, and the start is retried with new ports (``START_TRIES``). Starts are serialised
with a lock file so two runs on one machine never pick the same port.

``stop`` ends every VM of the state directory: the pid in each pidfile (only when that
process is a qemu started with this state directory), then any qemu process whose
command line still names this state directory (a run interrupted before its pidfile was
read), TERM then KILL after ``STOP_GRACE`` seconds; then removes the overlays, pidfiles
and keys. Console logs are kept. It succeeds when there is nothing to stop.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

QEMU = 'qemu-system-x86_64'
QEMU_IMG = 'qemu-img'
START_TRIES = 5
STOP_GRACE = 10           # seconds between SIGTERM and SIGKILL
BANNER_TIMEOUT = 3        # seconds for one read of the SSH banner
PORT_LOCK = Path('/run/lock/stateful-nfs-lab-vm-ports.lock')
# qemu's user-mode network: the guest's address, gateway and DNS forwarder.
NAT_ADDRESS = '10.0.2.15/24'
NAT_GATEWAY = '10.0.2.2'
NAT_DNS = '10.0.2.3'
NAT_MAC = '52:54:00:12:34:56'
# Translation-block cache of the emulator (MiB): qemu's default (1 GiB for a guest of this
# size) almost doubles the VM's resident memory for no measurable speed-up here.
TB_SIZE = 256


class VmError(Exception):
    """A VM that could not be started, reached or stopped."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def lan_mac(address):
    """A stable MAC for a LAN address (locally administered, qemu's 52:54:00 prefix)."""
    octets = [int(o) for o in address.split('/')[0].split('.')]
    return '52:54:00:{:02x}:{:02x}:{:02x}'.format(*octets[1:])


def ssh_key(state_dir):
    key = state_dir / 'id_ed25519'
    if not key.exists():
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', f'stateful-nfs-lab-vm@{state_dir}',
                        '-f', str(key)], check=True)
    return key


def read_settings(state_dir, name):
    path = state_dir / f'{name}.json'
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise VmError(f'no VM {name} in {state_dir} (start it first)') from None


def read_pid(pidfile):
    try:
        return int(pidfile.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def cmdline(pid):
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().split(b'\0')
    except OSError:
        return []


def is_our_qemu(pid, state_dir):
    """True when ``pid`` is a qemu whose command line names ``state_dir``."""
    args = cmdline(pid)
    return bool(args) and os.path.basename(args[0]).startswith(b'qemu-system') \
        and any(f'{state_dir}/'.encode() in a for a in args)


def memory_kib(pid):
    """(VmRSS, VmHWM) of ``pid`` in KiB: resident now and at its peak."""
    values = {}
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            key, _, rest = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values.get('VmRSS'), values.get('VmHWM')


def kernel_cmdline(name, lan, lan_mac_address, hosts, pubkey):
    key_b64 = base64.b64encode(pubkey.encode()).decode()
    args = [
        'root=/dev/vda', 'rw', 'console=ttyS0', 'net.ifnames=0', 'mitigations=off',
        f'systemd.hostname={name}',
        f'snfs.net={NAT_MAC},{NAT_ADDRESS},{NAT_GATEWAY}',
        f'snfs.net={lan_mac_address},{lan}',
        f'snfs.dns={NAT_DNS}',
        f'snfs.ssh_key={key_b64}',
    ]
    args += [f'snfs.host={h},{a}' for h, a in hosts]
    return ' '.join(args)


def start(args):
    state_dir = Path(args.state_dir).resolve()
    image = Path(args.image).resolve()
    for part in ('disk.img', 'vmlinuz', 'initrd.img', 'READY'):
        if not (image / part).exists():
            raise VmError(f'{image} is not a built VM image ({part} missing): run tests/lab/vm/build-vm-image.sh')
    state_dir.mkdir(parents=True, exist_ok=True)
    name = args.name
    pidfile = state_dir / f'{name}.pid'
    pid = read_pid(pidfile)
    if pid and is_our_qemu(pid, state_dir):
        raise VmError(f'VM {name} is already running (pid {pid}); stop it first')
    hosts = [tuple(h.split('=', 1)) for h in args.host]
    key = ssh_key(state_dir)
    overlay = state_dir / f'{name}.qcow2'
    overlay.unlink(missing_ok=True)
    subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', str(image / 'disk.img'),
                    str(overlay)], check=True)
    console = state_dir / f'{name}.console.log'
    lan_mac_address = lan_mac(args.lan)
    append = kernel_cmdline(name, args.lan, lan_mac_address, hosts, (key.with_suffix('.pub')).read_text().strip())

    PORT_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(PORT_LOCK, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        error = ''
        for _ in range(START_TRIES):
            ssh_port = free_port()
            if args.lan_connect:
                lan_port = read_settings(state_dir, args.lan_connect)['lan_port']
                lan = f'connect=127.0.0.1:{lan_port}'
            else:
                lan_port = free_port()
                lan = f'listen=127.0.0.1:{lan_port}'
            pidfile.unlink(missing_ok=True)
            cmd = [
                QEMU, '-name', f'snfs-{name}', '-nodefaults', '-no-user-config', '-display', 'none',
                '-machine', 'pc', '-accel', f'tcg,tb-size={TB_SIZE}',
                '-m', str(args.memory), '-smp', str(args.cpus),
                '-kernel', str(image / 'vmlinuz'), '-initrd', str(image / 'initrd.img'), '-append', append,
                '-drive', f'file={overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap',
                '-netdev', f'user,id=nat,hostfwd=tcp:127.0.0.1:{ssh_port}-:22',
                '-device', f'virtio-net-pci,netdev=nat,mac={NAT_MAC}',
                '-netdev', f'socket,id=lan,{lan}',
                '-device', f'virtio-net-pci,netdev=lan,mac={lan_mac_address}',
                '-device', 'virtio-rng-pci',
                '-serial', f'file:{console}',
                '-daemonize', '-pidfile', str(pidfile),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
            if proc.returncode == 0:
                break
            error = (proc.stderr or proc.stdout).strip()
            # A port taken by someone else since it was picked: try new ports.
            if not any(s in error for s in ('Address already in use', 'host forwarding', 'Could not set up')):
                raise VmError(f'qemu failed to start VM {name}: {error}')
        else:
            raise VmError(f'qemu failed to start VM {name} after {START_TRIES} tries: {error}')
    pid = read_pid(pidfile)
    settings = {'name': name, 'pid': pid, 'ssh_port': ssh_port, 'lan_port': lan_port,
                'lan_address': args.lan.split('/')[0], 'identity_file': str(key),
                'memory_mib': args.memory, 'cpus': args.cpus, 'image': str(image),
                'console_log': str(console)}
    (state_dir / f'{name}.json').write_text(json.dumps(settings, indent=2) + '\n')
    print(json.dumps(settings))


def ssh_banner(port):
    with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', port), timeout=BANNER_TIMEOUT) as s:
        s.settimeout(BANNER_TIMEOUT)
        return s.recv(64).startswith(b'SSH-')
    return False


def console_tail(path, lines=25):
    try:
        text = Path(path).read_text(errors='replace')
    except OSError:
        return '(no console log)'
    return '\n'.join(text.splitlines()[-lines:])


def wait(args):
    """Wait until every named VM's sshd answers; fail early when a VM's qemu is gone."""
    state_dir = Path(args.state_dir).resolve()
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    pending = {n: read_settings(state_dir, n) for n in args.names}
    ready = {}
    while pending:
        for name, settings in list(pending.items()):
            if not is_our_qemu(settings['pid'], state_dir):
                raise VmError(f'VM {name} (pid {settings["pid"]}) is gone; its console:\n'
                              f'{console_tail(settings["console_log"])}')
            if ssh_banner(settings['ssh_port']):
                ready[name] = round(time.monotonic() - t0, 1)
                del pending[name]
        if pending and time.monotonic() > deadline:
            name, settings = next(iter(pending.items()))
            raise VmError(f'VM {name}: no SSH banner on 127.0.0.1:{settings["ssh_port"]} after {args.timeout} s; '
                          f'its console:\n{console_tail(settings["console_log"])}')
        if pending:
            time.sleep(1)
    print(json.dumps({'ssh_ready_after_s': ready}))


def status(args):
    state_dir = Path(args.state_dir).resolve()
    out = {}
    for settings_file in sorted(state_dir.glob('*.json')):
        settings = json.loads(settings_file.read_text())
        pid = settings.get('pid')
        running = bool(pid) and is_our_qemu(pid, state_dir)
        rss, hwm = memory_kib(pid) if running else (None, None)
        out[settings['name']] = {'pid': pid, 'running': running, 'rss_mib': rss and rss // 1024,
                                 'peak_rss_mib': hwm and hwm // 1024}
    print(json.dumps(out))


def stop(args):
    state_dir = Path(args.state_dir).resolve()
    if not state_dir.exists():
        print(json.dumps({'stopped': {}}))
        return
    pids = {}
    for pidfile in state_dir.glob('*.pid'):
        pid = read_pid(pidfile)
        if pid and is_our_qemu(pid, state_dir):
            pids[pid] = pidfile.stem
    # A qemu whose pidfile is gone or was never read (an interrupted run) still names
    # its overlay in this state directory on its command line.
    for proc in Path('/proc').iterdir():
        if proc.name.isdigit() and int(proc.name) not in pids and is_our_qemu(int(proc.name), state_dir):
            pids[int(proc.name)] = f'pid {proc.name} (no pidfile)'
    stopped = {}
    for pid, name in pids.items():
        rss, hwm = memory_kib(pid)
        stopped[name] = {'pid': pid, 'rss_mib': rss and rss // 1024, 'peak_rss_mib': hwm and hwm // 1024}
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while any(is_our_qemu(p, state_dir) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if is_our_qemu(pid, state_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_GRACE
    while any(is_our_qemu(p, state_dir) for p in pids):
        if time.monotonic() > deadline:
            raise VmError(f'VMs still running after SIGKILL: {sorted(pids)}')
        time.sleep(0.2)
    for pattern in ('*.qcow2', '*.pid', '*.json', 'id_ed25519*'):
        for path in state_dir.glob(pattern):
            path.unlink(missing_ok=True)
    print(json.dumps({'stopped': stopped}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('start', help='start one VM')
    p.add_argument('name')
    p.add_argument('--state-dir', required=True)
    p.add_argument('--image', required=True, help='image directory printed by build-vm-image.sh')
    p.add_argument('--lan', required=True, help='the VM\'s LAN address, ADDRESS/PREFIX')
    lan = p.add_mutually_exclusive_group(required=True)
    lan.add_argument('--lan-listen', action='store_true', help='this VM listens for the LAN peer')
    lan.add_argument('--lan-connect', metavar='PEER', help='connect to the LAN of VM PEER (started first)')
    p.add_argument('--host', action='append', default=[], metavar='NAME=ADDRESS', help='/etc/hosts entry')
    p.add_argument('--memory', type=int, default=1024, help='MiB')
    p.add_argument('--cpus', type=int, default=2)
    p.set_defaults(func=start)
    p = sub.add_parser('wait', help='wait until the VMs answer on SSH')
    p.add_argument('names', nargs='+')
    p.add_argument('--state-dir', required=True)
    p.add_argument('--timeout', type=int, default=300)
    p.set_defaults(func=wait)
    p = sub.add_parser('status', help='pid, running, resident memory of each VM')
    p.add_argument('--state-dir', required=True)
    p.set_defaults(func=status)
    p = sub.add_parser('stop', help='stop every VM of the state directory and remove its overlays')
    p.add_argument('--state-dir', required=True)
    p.set_defaults(func=stop)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except VmError as exc:
        print(f'vmctl: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
