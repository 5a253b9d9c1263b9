"""The client VM's kernel against the server VM's kernel: nfs_client's kernel mount proof,
mounts over NFSv3 and NFSv4.2 that write through to the server, and root squashing as
exports(5) describes it."""

import json
import secrets

import pytest
from conftest import ANON_UID, MOUNT_TIMEOUT, q


def test_the_proof_used_a_kernel_mount(client):
    result = json.loads(client.file('/var/tmp/nfs_client_proof.json').content_string)
    assert result['ok'] is True, result
    assert result['method'] == 'kernel', result
    assert result['reason'] == 'ok' and result['export'] == '/srv/nfs', result
    # nfs_client_nfs_version: auto, and the server offers NFSv4.
    assert result['version'] == 4, result
    assert {'nfs', 'nfs4'} & set(client.file('/proc/filesystems').content_string.split())


def _mount_version(client, target):
    for line in client.file('/proc/mounts').content_string.splitlines():
        fields = line.split()
        if fields[1] == target:
            return dict(o.partition('=')[::2] for o in fields[3].split(','))['vers']
    return None


@pytest.mark.parametrize('version', ['3', '4.2'])
def test_a_file_written_through_a_kernel_mount_appears_on_the_server(client, server, client_mount, version):
    cmd, target = client_mount('/srv/nfs', f'vers={version},hard,timeo=100,retrans=3')
    assert cmd.rc == 0, cmd.stderr
    assert _mount_version(client, target) == version
    name = f'written-over-nfsv{version}-{secrets.token_hex(4)}'
    content = secrets.token_hex(2048)
    client.run_expect([0], f'printf %s {q(content)} > {q(target + "/" + name)} && sync')
    on_server = server.file('/srv/nfs/' + name)
    try:
        assert on_server.content_string == content
        # no_root_squash: root on the client stays root.
        assert on_server.uid == 0
        assert client.file(f'{target}/{name}').content_string == content
    finally:
        server.run(f'rm -f {q("/srv/nfs/" + name)}')


def test_a_version_the_server_does_not_offer_is_refused(client, client_mount):
    # nfs_server_nfs_versions leaves out 4.0.
    cmd, _target = client_mount('/srv/nfs', 'vers=4.0,retry=0,timeo=50,retrans=1')
    assert cmd.rc != 0
    assert 'not supported' in (cmd.stderr + cmd.stdout).lower(), cmd.stderr


def test_root_squash_maps_root_to_the_anonymous_uid(client, server, client_mount):
    # exports(5): root_squash maps requests from uid/gid 0 to the anonymous uid/gid.
    cmd, target = client_mount('/srv/squashed', 'vers=4.2,hard')
    assert cmd.rc == 0, cmd.stderr
    name = f'root-squashed-{secrets.token_hex(4)}'
    client.run_expect([0], f'echo squashed > {q(target + "/" + name)} && sync')
    on_server = server.file('/srv/squashed/' + name)
    try:
        assert on_server.uid == ANON_UID and on_server.gid == ANON_UID
        # Squashed, root on the client may not give the file to root.
        denied = client.run(f'timeout {MOUNT_TIMEOUT} chown 0:0 {q(target + "/" + name)}')
        assert denied.rc != 0 and 'not permitted' in denied.stderr, denied.stderr
        assert server.file('/srv/squashed/' + name).uid == ANON_UID
    finally:
        server.run(f'rm -f {q("/srv/squashed/" + name)}')
