"""Tests of the export model and its NFS-Ganesha spelling (module_utils/export_meaning.py).

The kernel half of the model is proven against the real exportfs (nfs_kernel_vm scenario);
the Ganesha half against a real NFS-Ganesha (nfs_server scenario). These tests pin the
mapping table and the refusals.
"""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.filter.nfs_exports import nfs_exports
from ansible_collections.stateful.nfs.plugins.module_utils.export_meaning import (
    GANESHA_IGNORED,
    client_meaning,
    ganesha_client,
    ganesha_clients,
)
from ansible_collections.stateful.nfs.plugins.module_utils.exports import FLAG_OPTIONS, VALUE_OPTIONS, ExportsError


def fields(options, host='10.0.0.1'):
    entry = ganesha_client(host, options)
    return {k: entry[k] for k in ('Access_Type', 'Squash', 'Anonymous_Uid', 'Anonymous_Gid', 'PrivilegedPort', 'SecType')}


def test_no_options_are_the_exports5_defaults():
    assert fields([]) == {'Access_Type': 'RO', 'Squash': 'Root_Squash', 'Anonymous_Uid': 65534,
                          'Anonymous_Gid': 65534, 'PrivilegedPort': True, 'SecType': ['sys']}


@pytest.mark.parametrize('options, expected', [
    (['rw'], {'Access_Type': 'RW'}),
    (['rw', 'ro'], {'Access_Type': 'RO'}),
    (['no_root_squash'], {'Squash': 'No_Root_Squash'}),
    (['all_squash'], {'Squash': 'All_Squash'}),
    (['no_root_squash', 'all_squash'], {'Squash': 'All_Squash'}),
    (['all_squash', 'no_all_squash', 'no_root_squash'], {'Squash': 'No_Root_Squash'}),
    (['insecure'], {'PrivilegedPort': False}),
    (['insecure', 'secure'], {'PrivilegedPort': True}),
    (['anonuid=1000', 'anongid=0150'], {'Anonymous_Uid': 1000, 'Anonymous_Gid': 150}),
    (['sec=unix:krb5p'], {'SecType': ['sys', 'krb5p']}),
    (['sec=null:sys:none'], {'SecType': ['none', 'sys']}),
    (['sec=krb5', 'rw', 'sec=sys'], {'SecType': ['krb5', 'sys'], 'Access_Type': 'RW'}),
    (['rw', 'sec=krb5p:sys', 'ro'], {'SecType': ['krb5p', 'sys'], 'Access_Type': 'RO'}),
])
def test_mapping_table(options, expected):
    got = fields(options)
    assert {k: got[k] for k in expected} == expected


def test_the_drift_case_is_refused_naming_what_each_flavor_gets():
    # The old template gave Access_Type RW with SecType krb5; the kernel gives sys read-write
    # and krb5 read-only. Ganesha has one Access_Type per CLIENT: refused.
    with pytest.raises(ExportsError) as info:
        ganesha_client('10.0.0.1', ['sec=sys', 'rw', 'sec=krb5', 'ro'])
    message = str(info.value)
    assert 'sec=sys gets rw,secure,root_squash,no_all_squash' in message
    assert 'sec=krb5 gets ro,secure,root_squash,no_all_squash' in message
    assert 'nfs_server_backend ganesha' in message and 'client 10.0.0.1' in message


@pytest.mark.parametrize('options, word', [
    (['security_label'], 'security_label'),
    (['xprtsec=tls'], 'xprtsec=tls'),
    (['xprtsec=mtls:tls'], 'xprtsec=mtls:tls'),
    (['sec=sys', 'insecure', 'sec=krb5', 'secure'], 'sec=sys gets'),
])
def test_what_ganesha_cannot_express_is_refused(options, word):
    with pytest.raises(ExportsError, match=word):
        ganesha_client('*', options)


def test_xprtsec_allowing_clear_text_is_accepted():
    assert ganesha_client('*', ['xprtsec=none:tls'])['Access_Type'] == 'RO'


def test_ignored_options_are_listed_once_in_given_order():
    entry = ganesha_client('h.example', ['rw', 'sync', 'no_subtree_check', 'sync', 'fsid=7', 'crossmnt'])
    assert entry['ignored'] == ['sync', 'no_subtree_check', 'fsid=7', 'crossmnt']


def test_every_option_is_either_mapped_refused_or_documented_as_ignored():
    mapped = {'rw', 'ro', 'root_squash', 'no_root_squash', 'all_squash', 'no_all_squash', 'secure', 'insecure',
              'anonuid', 'anongid', 'sec'}
    refused = {'security_label', 'xprtsec'}
    assert FLAG_OPTIONS | VALUE_OPTIONS == mapped | refused | set(GANESHA_IGNORED)


def test_clients_go_in_exports5_precedence_and_netmasks_become_prefixes():
    clients = [{'host': '*', 'options': ['ro']}, {'host': '@ops', 'options': ['rw']},
               {'host': '*.example.com', 'options': ['rw']}, {'host': '10.0.0.0/255.255.0.0', 'options': ['rw']},
               {'host': 'db.example.com', 'options': ['rw']}, {'host': '10.0.0.7', 'options': ['rw']}]
    order = [entry['Clients'] for entry in ganesha_clients(clients)]
    assert order == ['db.example.com', '10.0.0.7', '10.0.0.0/16', '*.example.com', '@ops', '*']


def test_meaning_keeps_values_and_flavors():
    meaning = client_meaning(['anonuid=7', 'sec=krb5:sys', 'rw', 'fsid=root'])
    assert meaning.values['anonuid'] == 7 and meaning.values['fsid'] == '0'
    assert [name for name, _own in meaning.flavors] == ['krb5', 'sys']


def test_filter_gives_ganesha_fields_or_problems_per_backend():
    exports = [{'path': '/srv/a', 'clients': [{'host': '10.0.0.0/24', 'options': ['rw', 'sync']}]},
               {'path': '/srv/b', 'clients': [{'host': '10.0.0.9', 'options': ['sec=sys', 'rw', 'sec=krb5', 'ro']}]}]
    kernel = nfs_exports(exports)
    assert kernel['problems'] == [] and 'ganesha_clients' not in kernel['exports'][0]
    ganesha = nfs_exports(exports, backend='ganesha')
    assert ganesha['exports'][0]['ganesha_clients'][0]['Access_Type'] == 'RW'
    assert ganesha['exports'][0]['ganesha_clients'][0]['ignored'] == ['sync']
    assert len(ganesha['problems']) == 1
    assert ganesha['problems'][0].startswith('nfs_server_exports[1] (path "/srv/b"): client 10.0.0.9 with options')
    assert nfs_exports(exports, backend='nas')['problems'] == ["backend must be kernel or ganesha, got 'nas'"]


def test_every_client_ganesha_cannot_express_is_named_at_once():
    clients = [{'host': '10.0.0.1', 'options': ['security_label']}, {'host': '10.0.0.2', 'options': ['rw']},
               {'host': '10.0.0.3', 'options': ['xprtsec=tls']}]
    with pytest.raises(ExportsError) as info:
        ganesha_clients(clients)
    assert 'client 10.0.0.1' in str(info.value) and 'client 10.0.0.3' in str(info.value)
    assert '10.0.0.2' not in str(info.value)


def test_flavors_that_differ_only_where_all_squash_makes_it_moot_are_accepted():
    # all_squash squashes root too: root_squash or not, both flavors mean All_Squash.
    entry = ganesha_client('10.0.0.1', ['all_squash', 'sec=sys', 'root_squash', 'sec=krb5p', 'no_root_squash'])
    assert (entry['Squash'], entry['SecType']) == ('All_Squash', ['sys', 'krb5p'])
