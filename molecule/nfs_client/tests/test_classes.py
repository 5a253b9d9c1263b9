"""StorageClasses on several exports: role nfs_client proves every export the classes use on
every node, and an export that does not admit a node stops the run naming the node and the export.

The server serves /srv/nfs/share and /srv/nfs/second to every node and /srv/nfs/restricted to
node1 and node2 only. site.yml runs with --tags nfs_client and the scenario's inventory plus a
k8s_api host (tests/k8s_api.yml): its preflight plans the classes with role nfs_provisioner,
role nfs_client reads that plan (fact nfs_provisioner_plan), and the gate play judges every node.
"""

import os

from conftest import HERE, NODES, SERVER, PLAYBOOK_TIMEOUT, failures, task_results
from tests.support.playbook import molecule_play

testinfra_hosts = [SERVER]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SITE = os.path.join(REPO, 'site.yml')
SUMMARY = 'Summarise the proof of every node'
FAIL_ONCE = 'Fail once, naming every node whose proof failed'
GATE = 'Stop unless every node in k8s_nodes proved every NFS export it must use'
PUBLISH = "Publish this node's proof of every export (nfs_client_proof_result)"
QUICK = {'nfs_client_install': False}
# The first class takes the defaults (the server host's address and its first export,
# /srv/nfs/share), as role nfs_provisioner gives them.
SHARE_CLASS = {'storage_class_name': 'nfs-share'}
SECOND_CLASS = {'storage_class_name': 'nfs-second', 'nfs_path': '/srv/nfs/second', 'mount_options': ['hard']}
RESTRICTED_CLASS = {'storage_class_name': 'nfs-restricted', 'nfs_path': '/srv/nfs/restricted'}


def _site(extra_vars):
    inventory = os.path.dirname(os.environ.get('MOLECULE_INVENTORY_FILE', '')) or None
    sources = [inventory, os.path.join(HERE, 'k8s_api.yml')] if inventory else None
    return molecule_play(SITE, extra_vars, inventory=sources, timeout=PLAYBOOK_TIMEOUT, tags='nfs_client')


def _proofs(data):
    """{node: nfs_client_proof_result} as the role published it."""
    return {host: result['ansible_facts']['nfs_client_proof_result']
            for host, result in task_results(data, PUBLISH).items()}


def _empty(host, *paths):
    for path in paths:
        assert host.check_output(f'find {path} -mindepth 1 -printf "%f\\n"') == '', path


def test_two_classes_on_two_exports_every_node_proves_both_and_the_gate_opens(host):
    rc, data, text = _site(dict(QUICK, nfs_provisioner_classes=[SHARE_CLASS, SECOND_CLASS]))
    assert rc == 0, text[-4000:]
    proofs = _proofs(data)
    assert sorted(proofs) == NODES, proofs
    for node, result in proofs.items():
        assert result['ok'] is True, (node, result['message'])
        # One proof per export, each named with the class that uses it; `hard` makes no export of its own.
        assert [(p['export'], p['classes'], p['ok']) for p in result['proofs']] == [
            ('/srv/nfs/share', ['nfs-share'], True), ('/srv/nfs/second', ['nfs-second'], True)], result['proofs']
        assert result['message'].startswith('2 exports proved ('), result['message']
    gate = task_results(data, GATE)
    assert list(gate) == ['localhost'] and not gate['localhost'].get('failed'), gate
    assert 'Preflight gate open: all 3 Kubernetes nodes proved every NFS export' in gate['localhost']['msg']
    _empty(host, '/srv/nfs/share', '/srv/nfs/second')


def test_an_export_that_does_not_admit_a_node_fails_the_role_once_naming_node_and_export(host):
    rc, data, text = _site(dict(QUICK, nfs_provisioner_classes=[SHARE_CLASS, RESTRICTED_CLASS]))
    assert rc != 0, text[-4000:]
    failed = failures(data)
    assert len(failed) == 1, f'the run must fail once: {failed}'
    task, _, msg = failed[0]
    assert FAIL_ONCE in task, failed
    assert 'failed on 1 of 3 node(s)' in msg, msg
    bad = msg.partition('): ')[2]   # after the header that lists the exports
    assert bad.startswith(NODES[2] + ' (1 of 2 exports failed: '), msg
    assert ':/srv/nfs/restricted (class nfs-restricted): export_not_allowed: ' in bad, msg
    assert '(class nfs-share)' not in bad and NODES[0] not in bad and NODES[1] not in bad, msg
    lines = next(iter(task_results(data, SUMMARY).values()))['msg']
    assert [line.split(':')[0] for line in lines] == NODES
    assert all(line.startswith(node + ': ok, ') for line, node in zip(lines, NODES[:2])), lines
    # Nothing after the client stage ran: the gate play never started.
    assert task_results(data, GATE) == {}
    _empty(host, '/srv/nfs/share', '/srv/nfs/restricted')


def test_the_gate_closes_naming_the_node_and_the_export_it_could_not_use(host):
    """With nfs_client_proof_fail=false the role only reports; site.yml's gate stops the run."""
    missing = {'storage_class_name': 'nfs-missing', 'nfs_path': '/srv/nfs/not-exported'}
    rc, data, text = _site(dict(QUICK, nfs_client_proof_fail=False,
                                nfs_provisioner_classes=[SHARE_CLASS, RESTRICTED_CLASS, missing]))
    assert rc != 0, text[-4000:]
    failed = failures(data)
    assert [(task, h) for task, h, _ in failed] == [(GATE, 'localhost')], failed
    msg = failed[0][2]
    assert msg.startswith('Preflight gate closed: 3 of 3 Kubernetes node(s) did not prove'), msg
    per_node = dict(part.split(': ', 1) for part in msg.split(' did not prove the NFS exports they must use: ')[1]
                    .split('. Nothing Kubernetes-side runs')[0].split(' | '))
    assert sorted(per_node) == NODES, per_node
    for node in NODES:
        # every node: the export that is not there, before any traffic (the server's configured exports)
        assert ":/srv/nfs/not-exported (class nfs-missing): export_not_found: export '/srv/nfs/not-exported'" \
            in per_node[node], per_node[node]
        assert '(class nfs-share)' not in per_node[node], per_node[node]
    assert ':/srv/nfs/restricted (class nfs-restricted): export_not_allowed' in per_node[NODES[2]], per_node
    for node in NODES[:2]:
        assert '(class nfs-restricted)' not in per_node[node], per_node[node]
    _empty(host, '/srv/nfs/share', '/srv/nfs/restricted')


def _address(host):
    return host.check_output('hostname -I').split()[0]


def test_the_role_alone_takes_the_classes_as_a_variable(host, run_role):
    """Outside site.yml: nfs_client_storage_classes given as nfs_provisioner_classes are written.

    The classes name the server by its address: outside site.yml this play has no facts of the
    server host, so the role's default server is its inventory name, which has an underscore and
    is no host name the provisioner (or Kubernetes) would take."""
    address = _address(host)
    classes = [dict(SECOND_CLASS, nfs_server=address), dict(RESTRICTED_CLASS, nfs_server=address)]
    rc, data, text = run_role(dict(QUICK, nfs_client_storage_classes=classes))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert len(failed) == 1 and FAIL_ONCE in failed[0][0], failed
    msg = failed[0][2]
    assert f'exports {address}:/srv/nfs/second (class nfs-second), {address}:/srv/nfs/restricted' in msg, msg
    assert f'{NODES[2]} (1 of 2 exports failed: {address}:/srv/nfs/restricted (class nfs-restricted): ' in msg, msg
    assert NODES[0] + ' (' not in msg and NODES[1] + ' (' not in msg, msg


def test_a_bad_class_is_refused_before_anything_is_proved(host, run_role):
    bad = {'storage_class_name': 'x', 'nfs_server': _address(host), 'nfs_path': 'rel'}
    rc, data, text = run_role(dict(QUICK, nfs_client_storage_classes=[bad]))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert {h for _, h, _ in failed} == set(NODES), failed
    for task, _, msg in failed:
        assert 'Check the StorageClasses whose exports are proved' in task, task
        assert "nfs_provisioner_classes[0]: nfs_provisioner: nfs_path: 'rel' must be an absolute path" in msg, msg
    assert task_results(data, SUMMARY) == {}
