"""What leaves nfs_server_exports leaves the server, and what the role did not write stays:
prepare.yml exported /srv/dropped through the role and /srv/manual by hand; converge's list no
longer has /srv/dropped."""

from conftest import DROPPED_EXPORT, MANUAL_EXPORT, SERVER_ADDRESS, exportfs_entries


def _exported_paths(server):
    return {path for path, _client, _options in exportfs_entries(server.check_output('exportfs -v'))}


def _exports_file_paths(server):
    lines = server.file('/etc/exports').content_string.splitlines()
    return {line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith('#')}


def test_an_export_dropped_from_the_list_is_no_longer_exported(server, client):
    assert DROPPED_EXPORT not in _exports_file_paths(server)
    assert DROPPED_EXPORT not in _exported_paths(server)
    listing = client.check_output(f'timeout 60 showmount -e {SERVER_ADDRESS}')
    assert DROPPED_EXPORT not in listing.split(), listing


def test_an_export_written_by_hand_is_left_alone(server):
    path, client, options = MANUAL_EXPORT
    assert path in _exports_file_paths(server)
    table = {(p, c): o for p, c, o in exportfs_entries(server.check_output('exportfs -v'))}
    assert set(options) <= set(table[path, client]), table.get((path, client))
