"""Verify the Ganesha-backend NFS servers through NFS, from the client container."""

import uuid

import pytest

from conftest import CLIENT, EXPORTS, SERVERS, container_ip, docker_host, quote

testinfra_hosts = ["docker://" + name for name in SERVERS]

TIMEOUT = "timeout 30 "


def test_ganesha_and_rpcbind_running_and_enabled(host):
    for name in ("nfs-ganesha", "rpcbind"):
        service = host.service(name)
        assert service.is_running, name + " is not running"
        assert service.is_enabled, name + " is not enabled"


def test_ganesha_config_is_graceless_and_rendered_from_the_export_list(host):
    conf = host.file("/etc/ganesha/ganesha.conf")
    assert conf.mode == 0o644
    content = conf.content_string
    assert "Graceless = true;" in content
    for path in EXPORTS:
        assert 'Path = "%s";' % path in content
    # Each export gets its own id.
    assert "Export_Id = 1;" in content and "Export_Id = 2;" in content
    # The root_squash client of the second export maps to Root_Squash.
    assert "Squash = Root_Squash;" in content
    assert "Squash = No_Root_Squash;" in content


def test_export_directories_ownership(host):
    top = host.file("/srv/nfs")
    assert top.is_directory and top.user == "root" and top.mode == 0o755
    squashed = host.file("/srv/nfs/squashed")
    assert squashed.user == "nobody" and squashed.group == "nogroup" and squashed.mode == 0o770


def test_showmount_lists_every_export(host):
    # Ganesha lists only the exports the asking address may use: ask from 127.0.0.1,
    # a client of every export (the role's verification client).
    out = host.check_output(TIMEOUT + "showmount -e 127.0.0.1")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    for path in EXPORTS:
        assert path in lines, out
    # Default clients: the k8s_nodes group's address, never '*'.
    assert container_ip(CLIENT) in lines["/srv/nfs"], out
    assert "*" not in lines["/srv/nfs"], out


def test_file_written_through_nfs_from_the_client_appears_on_the_server(host, client):
    server_ip = container_ip(host.backend.name)
    token = "from-client-" + uuid.uuid4().hex
    name = "probe-" + token
    local = "/tmp/" + name
    url = "nfs://%s/srv/nfs/%s" % (server_ip, name)
    client.check_output("printf %s > " % quote(token) + quote(local))
    try:
        client.check_output(TIMEOUT + "nfs-cp " + quote(local) + " " + quote(url))
        on_server = host.file("/srv/nfs/" + name)
        assert on_server.exists
        assert on_server.content_string == token
        assert on_server.user == "root"  # no_root_squash on the default export
    finally:
        client.run("rm -f " + quote(local))
        host.run("rm -f " + quote("/srv/nfs/" + name))


def test_file_written_on_the_server_is_read_back_through_nfs(host, client):
    server_ip = container_ip(host.backend.name)
    token = "from-server-" + uuid.uuid4().hex
    path = "/srv/nfs/probe-" + token
    host.check_output("printf %s > " % quote(token) + quote(path))
    try:
        got = client.check_output(TIMEOUT + "nfs-cat " + quote("nfs://%s%s" % (server_ip, path)))
        assert got == token
    finally:
        host.run("rm -f " + quote(path))


def test_root_squash_export_maps_client_root_to_nobody(host, client):
    server_ip = container_ip(host.backend.name)
    token = "squashed-" + uuid.uuid4().hex
    local = "/tmp/" + token
    url = "nfs://%s/srv/nfs/squashed/%s" % (server_ip, token)
    client.check_output("printf %s > " % quote(token) + quote(local))
    try:
        client.check_output(TIMEOUT + "nfs-cp " + quote(local) + " " + quote(url))
        on_server = host.file("/srv/nfs/squashed/" + token)
        assert on_server.content_string == token
        assert on_server.user == "nobody", "root_squash did not squash root"
    finally:
        client.run("rm -f " + quote(local))
        host.run("rm -f " + quote("/srv/nfs/squashed/" + token))


def test_unlisted_client_is_refused(host):
    """The server's own eth0 address is not a client of /srv/nfs: access is refused."""
    server_ip = container_ip(host.backend.name)
    result = host.run(TIMEOUT + "nfs-ls " + quote("nfs://%s/srv/nfs" % server_ip))
    assert result.rc != 0
    assert "ACCES" in result.stderr or "denied" in result.stderr.lower(), result.stderr


def test_role_left_no_probe_files(host):
    """The role's proof (nfs_probe's .nfs-probe-<host>; before 0.4.0 .stateful-nfs-probe.*) removes its files."""
    leftovers = host.check_output(r"find /srv/nfs -maxdepth 2 \( -name '.nfs-probe-*' -o -name '.stateful-nfs-probe*' \)")
    assert leftovers == ""


@pytest.mark.parametrize("server", SERVERS)
def test_both_debian_releases_serve(server):
    """Each server answers NFS from the client (guards against one platform being skipped)."""
    client = docker_host(CLIENT)
    ip = container_ip(server)
    out = client.check_output(TIMEOUT + "nfs-ls " + quote("nfs://%s/srv/nfs" % ip))
    assert "squashed" in out
