"""The lab images boot systemd and can be managed by Ansible (molecule lab_smoke)."""
import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

EXPECTED = {
    "lab_smoke-bookworm": ("12", "Python 3.11"),
    "lab_smoke-trixie": ("13", "Python 3.13"),
}


def test_systemd_is_pid_1_and_running(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in ("running", "degraded"), state
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert failed == "", f"failed units in a bare lab container: {failed}"


def test_debian_release_and_python3(host):
    name = host.backend.get_hostname()
    version, python = EXPECTED[name]
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] == version
    out = host.run("/usr/bin/python3 --version")
    assert out.rc == 0
    assert out.stdout.strip().startswith(python), out.stdout


def test_apt_sources_have_updates_and_security(host):
    sources = host.file("/etc/apt/sources.list.d/debian.sources")
    assert sources.exists
    codename = host.system_info.codename
    assert f"{codename}-updates" in sources.content_string
    assert f"{codename}-security" in sources.content_string


def test_unique_machine_id(host):
    machine_id = host.file("/etc/machine-id").content_string.strip()
    assert len(machine_id) == 32, machine_id
    assert int(machine_id, 16) != 0
