"""Module-level tests: run nfs_export's main() against temporary files."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.modules import nfs_export

ORIGINAL = """\
# /etc/exports: the access control list for filesystems which may be exported
#               to NFS clients.  See exports(5).
/srv/keep    192.168.0.0/16(ro,sync,no_subtree_check)   # keep this comment
"/srv/with space"\t-sync host1 host2(rw)

/srv/nfs \\
    10.0.0.0/24(ro,sync)
/srv/last *(ro)"""


@pytest.fixture
def run_module(capsys):
    """Run the module with the given arguments; return (exit code, result dict)."""
    def _run(check_mode=False, diff=False, **args):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            nfs_export.main()
        out = capsys.readouterr().out
        return exc.value.code, json.loads(out)
    return _run


@pytest.fixture
def exports(tmp_path):
    path = tmp_path / 'exports'
    path.write_bytes(ORIGINAL.encode())
    return path


NFS_CLIENTS = [{'host': '10.0.0.0/24', 'options': ['rw', 'sync', 'no_subtree_check', 'no_root_squash']}]
NFS_LINE = '/srv/nfs 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)'


def test_update_rewrites_only_the_managed_line(run_module, exports):
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports))
    assert rc == 0, result
    assert result['changed'] is True and result['reload_needed'] is True
    assert result['line'] == NFS_LINE
    assert result['clients'] == [{'host': '10.0.0.0/24', 'options': NFS_CLIENTS[0]['options'],
                                  'effective_options': NFS_CLIENTS[0]['options']}]
    expected = ORIGINAL.replace('/srv/nfs \\\n    10.0.0.0/24(ro,sync)', NFS_LINE)
    assert exports.read_bytes() == expected.encode()


def test_second_run_is_idempotent(run_module, exports):
    run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports))
    content = exports.read_bytes()
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports))
    assert rc == 0 and result['changed'] is False and result['reload_needed'] is False
    assert result['line'] == NFS_LINE
    assert exports.read_bytes() == content


def test_unchanged_existing_line_is_not_rewritten(run_module, exports):
    mtime = exports.stat().st_mtime_ns
    rc, result = run_module(path='/srv/with space', default_options=['sync'],
                            clients=[{'host': 'host1'}, {'host': 'host2', 'options': 'rw'}], dest=str(exports))
    assert rc == 0 and result['changed'] is False
    assert result['line'] == '"/srv/with space"\t-sync host1 host2(rw)'
    assert exports.stat().st_mtime_ns == mtime


def test_add_new_export_appends_a_line(run_module, exports):
    rc, result = run_module(path='/srv/new/', clients=[{'host': '*', 'options': 'ro,sync'}], dest=str(exports))
    assert rc == 0 and result['changed'] and result['path'] == '/srv/new'
    assert exports.read_text() == ORIGINAL + '\n/srv/new *(ro,sync)\n'


def test_check_mode_reports_but_does_not_write(run_module, exports):
    rc, result = run_module(check_mode=True, diff=True, path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports))
    assert rc == 0 and result['changed'] is True and result['reload_needed'] is True
    assert exports.read_bytes() == ORIGINAL.encode()
    assert result['diff']['before'] == ORIGINAL
    assert NFS_LINE in result['diff']['after']
    assert result['diff']['before_header'] == str(exports) == result['diff']['after_header']


def test_check_mode_does_not_create(run_module, tmp_path):
    dest = tmp_path / 'exports.d' / 'k8s.exports'
    rc, result = run_module(check_mode=True, path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 0 and result['changed'] is True
    assert not dest.exists() and not dest.parent.exists()


def test_absent_removes_only_the_managed_line(run_module, exports):
    rc, result = run_module(path='/srv/keep', state='absent', dest=str(exports))
    assert rc == 0 and result['changed'] is True and result['reload_needed'] is True
    assert result['line'] == '/srv/keep    192.168.0.0/16(ro,sync,no_subtree_check)   # keep this comment'
    assert result['clients'] == []
    expected = ORIGINAL.replace('/srv/keep    192.168.0.0/16(ro,sync,no_subtree_check)   # keep this comment\n', '')
    assert exports.read_text() == expected
    rc, result = run_module(path='/srv/keep', state='absent', dest=str(exports))
    assert rc == 0 and result['changed'] is False and result['line'] is None


def test_absent_on_missing_file_does_nothing(run_module, tmp_path):
    dest = tmp_path / 'nope'
    rc, result = run_module(path='/srv/x', state='absent', dest=str(dest))
    assert rc == 0 and result['changed'] is False
    assert not dest.exists()


def test_create_exports_d_file(run_module, tmp_path):
    dest = tmp_path / 'exports.d' / 'k8s.exports'
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 0 and result['changed'] is True
    assert dest.read_text() == NFS_LINE + '\n'
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_create_false_fails_on_missing_file(run_module, tmp_path):
    dest = tmp_path / 'exports'
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest), create=False)
    assert rc == 1 and 'does not exist' in result['msg']
    assert not dest.exists()


def test_bad_exports_d_name_fails(run_module, tmp_path):
    dest = tmp_path / 'exports.d' / 'k8s.conf'
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 1 and '.exports' in result['msg']
    assert not dest.parent.exists()


def test_mode_and_backup(run_module, exports):
    os.chmod(exports, 0o640)
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports), backup=True)
    assert rc == 0 and result['changed']
    assert stat.S_IMODE(exports.stat().st_mode) == 0o640
    with open(result['backup_file'], 'rb') as backup:
        assert backup.read() == ORIGINAL.encode()
    # no stray temporary files next to dest
    assert sorted(p.name for p in exports.parent.iterdir()) == sorted(['exports', os.path.basename(result['backup_file'])])


def test_no_backup_when_unchanged(run_module, exports):
    run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports))
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(exports), backup=True)
    assert rc == 0 and not result['changed'] and 'backup_file' not in result


@pytest.mark.parametrize('args, message', [
    ({'path': 'srv/nfs', 'clients': NFS_CLIENTS}, 'not absolute'),
    ({'path': '/srv/a\nb', 'clients': NFS_CLIENTS}, 'newline'),
    ({'path': '/srv/a"b', 'clients': NFS_CLIENTS}, 'double quote'),
    ({'path': '/srv/nfs', 'clients': [{'host': '*', 'options': 'rw,bogus'}]}, "unknown export option 'bogus'"),
    ({'path': '/srv/nfs', 'clients': [{'host': '*', 'options': 'rw,ro'}]}, "client \\*: options 'rw' and 'ro' contradict"),
    ({'path': '/srv/nfs', 'clients': [{'host': '10.0.0.0/33', 'options': 'rw'}]}, 'not a valid network'),
    ({'path': '/srv/nfs', 'clients': [{'host': '10.0.0.1/24', 'options': 'rw'}]}, 'host bits set'),
    ({'path': '/srv/nfs', 'clients': []}, 'client list is empty'),
    ({'path': '/srv/nfs'}, 'missing required arguments: clients|state is present but all of the following are missing: clients'),
    ({'path': '/srv/nfs', 'clients': [{'host': 'a', 'options': 'anonuid=-5'}]}, 'anonuid must be a non-negative'),
    ({'path': '/srv/nfs', 'clients': [{'host': 'a', 'options': 'sec=krb9'}]}, 'unknown security flavor'),
])
def test_bad_input_fails_and_leaves_file_untouched(run_module, exports, args, message):
    mtime = exports.stat().st_mtime_ns
    rc, result = run_module(dest=str(exports), **args)
    assert rc == 1
    assert result['failed'] is True
    assert re.search(message, result['msg']), result['msg']
    assert exports.read_bytes() == ORIGINAL.encode()
    assert exports.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in exports.parent.iterdir()) == ['exports']


def test_conflicting_duplicates_fail_untouched(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/srv/nfs a(rw)\n/srv/nfs b(ro)\n')
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 1 and 'lines 1, 2' in result['msg']
    assert dest.read_text() == '/srv/nfs a(rw)\n/srv/nfs b(ro)\n'


def test_syntax_error_elsewhere_fails_with_file_and_line(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/ok a(rw)\n/bad a(rw\n')
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 1 and str(dest) in result['msg'] and 'line 2' in result['msg']
    assert dest.read_text() == '/ok a(rw)\n/bad a(rw\n'


def test_unknown_options_on_other_lines_are_left_alone(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/other a(rw,some_future_option)\n')
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, dest=str(dest))
    assert rc == 0 and result['changed']
    assert dest.read_text() == '/other a(rw,some_future_option)\n' + NFS_LINE + '\n'


def test_warns_about_world_no_root_squash(run_module, tmp_path):
    dest = tmp_path / 'exports'
    rc, result = run_module(path='/home/nfs', clients=[{'host': '*', 'options': 'rw,async,no_root_squash'}], dest=str(dest))
    assert rc == 0 and result['line'] == '/home/nfs *(rw,async,no_root_squash)'
    # ansible-core 2.19 reports warnings as structured objects; older versions as strings
    assert 'every host with no_root_squash' in json.dumps(result.get('warnings', []))


def test_options_as_comma_string_and_default_options(run_module, tmp_path):
    dest = tmp_path / 'exports'
    rc, result = run_module(path='/srv/www', default_options='sync,no_subtree_check',
                            clients=[{'host': 'web1'}, {'host': 'web2', 'options': 'ro, secure'}], dest=str(dest))
    assert rc == 0, result
    assert result['line'] == '/srv/www -sync,no_subtree_check web1 web2(ro,secure)'
    assert result['clients'][1] == {'host': 'web2', 'options': ['ro', 'secure'],
                                    'effective_options': ['sync', 'no_subtree_check', 'ro', 'secure']}
