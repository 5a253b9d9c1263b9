"""Verify the kernel backend: packages and configuration always; then either the clear
failure (kernel without nfsd) or the running server (kernel with nfsd)."""

import json

import pytest

RECORD = "/var/tmp/nfs_server_kernel_result.json"


def kernel_has_nfsd(host):
    return "nfsd" in host.file("/proc/filesystems").content_string.split()


@pytest.fixture()
def record(host):
    return json.loads(host.file(RECORD).content_string)


def test_packages_installed(host):
    assert host.package("nfs-kernel-server").is_installed
    assert host.package("libnfs-utils").is_installed


def test_exports_file(host):
    exports = host.file("/etc/exports")
    assert exports.exists
    lines = {line.split()[0]: line for line in exports.content_string.splitlines()
             if line.strip() and not line.lstrip().startswith("#")}
    assert "192.0.2.0/24(rw,sync,no_subtree_check,no_root_squash)" in lines["/srv/nfs"]
    # The loopback client the role proves the export with.
    assert "127.0.0.1(" in lines["/srv/nfs"]
    assert "*.example.com(ro,sync,root_squash)" in lines["/srv/nfs/readonly"]
    assert "*(" not in exports.content_string


def test_export_directories(host):
    assert host.file("/srv/nfs").mode == 0o755
    readonly = host.file("/srv/nfs/readonly")
    assert readonly.is_directory and readonly.mode == 0o750 and readonly.user == "root"


def test_nfs_conf_versions_and_threads(host):
    conf = host.file("/etc/nfs.conf").content_string
    section = conf.split("[nfsd]", 1)[1].split("\n[", 1)[0]
    settings = dict(line.split("=", 1) for line in section.split() if "=" in line)
    assert settings["threads"] == "16"
    assert settings["vers3"] == "y"
    assert settings["vers4"] == "y"
    assert settings["vers4.0"] == "n"
    assert settings["vers4.1"] == "n"
    assert settings["vers4.2"] == "y"
    # The distribution's own settings are kept.
    assert "manage-gids=y" in conf


def test_outcome_matches_the_kernel(host, record):
    service = host.service("nfs-server")
    if not kernel_has_nfsd(host):
        assert record["result"] == "failed", record
        message = record["message"]
        assert "nfsd" in message and "nfs_server_backend: ganesha" in message, message
        assert "Traceback" not in message
        assert record["task"].startswith("Stop with a clear message"), record
        assert not service.is_running
        assert not service.is_enabled
    else:
        assert record["result"] == "ok", record
        assert service.is_running and service.is_enabled
        out = host.check_output("timeout 30 showmount -e 127.0.0.1")
        assert "/srv/nfs " in out and "/srv/nfs/readonly " in out
