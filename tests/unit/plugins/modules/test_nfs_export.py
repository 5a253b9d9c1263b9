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


# ----------------------------------------------------------- one path on several lines
# exports(5) allows the same path on several lines; exportfs reads them as one export.
TWO_LINES = '/exports hostA(rw)\n# the read-only client\n/exports hostB(ro)   # added by hand\n'


def test_same_path_on_several_lines_is_managed_as_one_export(run_module, tmp_path):
    """the module used to refuse ("merge them first")."""
    dest = tmp_path / 'exports'
    dest.write_text(TWO_LINES)
    clients = [{'host': 'hostA', 'options': 'rw'}, {'host': 'hostB', 'options': 'rw'}]
    rc, result = run_module(diff=True, path='/exports', clients=clients, dest=str(dest))
    assert rc == 0, result
    assert result['changed'] is True and result['reload_needed'] is True
    # The layout stays: only the second line changes, its comment kept.
    assert dest.read_text() == TWO_LINES.replace('hostB(ro)', 'hostB(rw)')
    assert result['changes'] == ['/exports line 3: client hostB(ro) -> hostB(rw)']
    assert result['diff']['prepared'] == '# /exports line 3: client hostB(ro) -> hostB(rw)\n'
    assert result['lines'] == ['/exports hostA(rw)', '/exports hostB(rw)   # added by hand']
    assert result['line'] == '/exports hostA(rw)'
    assert [(c['host'], c['options']) for c in result['clients']] == [('hostA', ['rw']), ('hostB', ['rw'])]
    mtime = dest.stat().st_mtime_ns
    rc, result = run_module(path='/exports', clients=clients, dest=str(dest))
    assert rc == 0 and result['changed'] is False and result['changes'] == []
    assert dest.stat().st_mtime_ns == mtime


def test_several_lines_already_right_are_not_touched(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text(TWO_LINES)
    rc, result = run_module(path='/exports', dest=str(dest),
                            clients=[{'host': 'hostA', 'options': 'rw'}, {'host': 'hostB', 'options': 'ro'}])
    assert rc == 0 and result['changed'] is False
    assert dest.read_text() == TWO_LINES


@pytest.mark.parametrize('clients, expected, changes', [
    # a new client joins the line of the client listed before it
    ([('hostA', 'rw'), ('hostB', 'ro'), ('hostC', 'ro')],
     '/exports hostA(rw)\n# the read-only client\n/exports hostB(ro) hostC(ro)   # added by hand\n',
     ['/exports line 3: client hostC(ro) added']),
    ([('hostA', 'rw'), ('hostC', 'ro'), ('hostB', 'ro')],
     '/exports hostA(rw) hostC(ro)\n# the read-only client\n/exports hostB(ro)   # added by hand\n',
     ['/exports line 1: client hostC(ro) added']),
    # listed first: the first line
    ([('hostC', 'ro'), ('hostA', 'rw'), ('hostB', 'ro')],
     '/exports hostC(ro) hostA(rw)\n# the read-only client\n/exports hostB(ro)   # added by hand\n',
     ['/exports line 1: client hostC(ro) added']),
    # a line left without a client goes, comment lines stay
    ([('hostA', 'rw')],
     '/exports hostA(rw)\n# the read-only client\n',
     ['/exports line 3: removed (client hostB(ro) removed)']),
    ([('hostB', 'ro')],
     '# the read-only client\n/exports hostB(ro)   # added by hand\n',
     ['/exports line 1: removed (client hostA(rw) removed)']),
])
def test_several_lines_keep_their_layout(run_module, tmp_path, clients, expected, changes):
    dest = tmp_path / 'exports'
    dest.write_text(TWO_LINES)
    rc, result = run_module(path='/exports', dest=str(dest),
                            clients=[{'host': h, 'options': o} for h, o in clients])
    assert rc == 0 and result['changed'], result
    assert dest.read_text() == expected
    assert result['changes'] == changes


def test_several_lines_get_the_default_options_each(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/exports -sync hostA(rw)\n/exports hostB(ro)\n')
    rc, result = run_module(path='/exports', dest=str(dest), default_options=['async'],
                            clients=[{'host': 'hostA', 'options': 'rw'}, {'host': 'hostB', 'options': 'ro'}])
    assert rc == 0 and result['changed']
    assert dest.read_text() == '/exports -async hostA(rw)\n/exports -async hostB(ro)\n'
    assert result['changes'] == ['/exports line 1: default options -sync -> -async',
                                 '/exports line 2: default options (none) -> -async']
    assert result['clients'][1]['effective_options'] == ['async', 'ro']


def test_a_host_on_two_lines_stays_on_the_first(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/exports hostA(rw) hostB(ro)\n/exports hostA(ro) hostC(ro)\n')
    rc, result = run_module(path='/exports', dest=str(dest),
                            clients=[{'host': 'hostA', 'options': 'rw'}, {'host': 'hostB', 'options': 'ro'},
                                     {'host': 'hostC', 'options': 'ro'}])
    assert rc == 0 and result['changed']
    assert dest.read_text() == '/exports hostA(rw) hostB(ro)\n/exports hostC(ro)\n'
    assert result['changes'] == ['/exports line 2: client hostA(ro) removed (it stays on line 1)']


def test_identical_copies_of_a_line_are_removed(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text('/exports hostA(rw)\n/other x(ro)\n/exports  hostA(rw)\n')
    rc, result = run_module(path='/exports', dest=str(dest), clients=[{'host': 'hostA', 'options': 'rw'}])
    assert rc == 0 and result['changed']
    assert dest.read_text() == '/exports hostA(rw)\n/other x(ro)\n'
    assert result['changes'] == ['/exports line 3: removed (client hostA(rw) stays on line 1)']


def test_absent_removes_every_line_of_the_path(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text(TWO_LINES)
    rc, result = run_module(path='/exports', state='absent', dest=str(dest))
    assert rc == 0 and result['changed']
    assert dest.read_text() == '# the read-only client\n'
    assert result['lines'] == ['/exports hostA(rw)', '/exports hostB(ro)   # added by hand']
    assert result['changes'] == ['/exports line 1: removed', '/exports line 3: removed']


# ------------------------------------------------------- owned exports (marker, exclusive)
MARK = 'managed by stateful.nfs.nfs_server'
BY_HAND = '# written by hand\n/srv/by-hand 192.0.2.7(ro)\n'


def _owned(run_module, dest, paths, **kwargs):
    exports = [{'path': p, 'clients': [{'host': '10.0.0.0/24', 'options': 'rw,sync'}]} for p in paths]
    return run_module(exports=exports, marker=MARK, exclusive=True, dest=str(dest), **kwargs)


def test_export_dropped_from_the_list_leaves_the_file(run_module, tmp_path):
    """exports [/srv/old] then [/srv/new]: /srv/old must go, lines not
    written by the caller stay."""
    dest = tmp_path / 'exports'
    dest.write_text(BY_HAND)
    rc, result = _owned(run_module, dest, ['/srv/old'])
    assert rc == 0 and result['changed'], result
    assert dest.read_text() == BY_HAND + f'/srv/old 10.0.0.0/24(rw,sync)  # {MARK}\n'
    assert result['exports'] == [{'path': '/srv/old', 'lines': [f'/srv/old 10.0.0.0/24(rw,sync)  # {MARK}'],
                                  'clients': [{'host': '10.0.0.0/24', 'options': ['rw', 'sync'],
                                               'effective_options': ['rw', 'sync']}]}]

    # Check mode first: the diff says what would go, nothing is written.
    rc, result = _owned(run_module, dest, ['/srv/new'], check_mode=True, diff=True)
    assert rc == 0 and result['changed'] and result['reload_needed']
    assert dest.read_text() == BY_HAND + f'/srv/old 10.0.0.0/24(rw,sync)  # {MARK}\n'
    assert '/srv/old' not in result['diff']['after'] and '/srv/new 10.0.0.0/24(rw,sync)' in result['diff']['after']
    assert result['diff']['after'].startswith(BY_HAND)
    assert result['changes'] == [
        '/srv/new: added as line 4: /srv/new 10.0.0.0/24(rw,sync)',
        f'/srv/old line 3: removed (marked "# {MARK}" and no longer listed): /srv/old 10.0.0.0/24(rw,sync)']
    assert '# /srv/old line 3: removed (marked' in result['diff']['prepared']

    rc, result = _owned(run_module, dest, ['/srv/new'])
    assert rc == 0 and result['changed']
    assert dest.read_text() == BY_HAND + f'/srv/new 10.0.0.0/24(rw,sync)  # {MARK}\n'
    rc, result = _owned(run_module, dest, ['/srv/new'])
    assert rc == 0 and not result['changed']


def test_every_export_dropped_leaves_only_the_lines_written_by_hand(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text(BY_HAND + f'/srv/a *(ro)  # {MARK}\n/srv/b *(ro) # note  # {MARK}\n')
    rc, result = _owned(run_module, dest, [])
    assert rc == 0 and result['changed'] and result['exports'] == []
    assert dest.read_text() == BY_HAND


def test_a_listed_path_written_by_hand_is_adopted_and_marked(run_module, tmp_path):
    """Lines a previous release wrote (or a person) become the caller's when it lists the path."""
    dest = tmp_path / 'exports'
    dest.write_text('/srv/nfs \\\n    10.0.0.0/24(rw,sync)   # from 0.2.0\n/srv/other x(ro)\n')
    rc, result = _owned(run_module, dest, ['/srv/nfs'])
    assert rc == 0 and result['changed']
    # Only the mark is added; the continuation line and the comment stay as written.
    assert dest.read_text() == f'/srv/nfs \\\n    10.0.0.0/24(rw,sync)   # from 0.2.0  # {MARK}\n/srv/other x(ro)\n'
    assert result['changes'] == [f'/srv/nfs line 1: marked with "# {MARK}"']
    rc, result = _owned(run_module, dest, ['/srv/nfs'])
    assert rc == 0 and not result['changed']


def test_marked_lines_of_a_path_on_several_lines_go_together(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text(f'/srv/x a(rw)  # {MARK}\n/srv/keep k(ro)\n/srv/x b(ro)  # {MARK}\n')
    rc, result = _owned(run_module, dest, [])
    assert rc == 0 and result['changed']
    assert dest.read_text() == '/srv/keep k(ro)\n'
    assert [c.split(':')[0] for c in result['changes']] == ['/srv/x line 1', '/srv/x line 3']


def test_owned_exports_in_an_exports_d_file(run_module, tmp_path):
    dest = tmp_path / 'exports.d' / 'stateful-nfs.exports'
    rc, result = _owned(run_module, dest, ['/srv/old'])
    assert rc == 0 and result['changed'] and dest.exists()
    rc, result = _owned(run_module, dest, ['/srv/new'])
    assert rc == 0 and result['changed']
    assert dest.read_text() == f'/srv/new 10.0.0.0/24(rw,sync)  # {MARK}\n'


def test_marker_alone_marks_without_removing(run_module, tmp_path):
    dest = tmp_path / 'exports'
    dest.write_text(f'/srv/old *(ro)  # {MARK}\n')
    rc, result = run_module(path='/srv/nfs', clients=NFS_CLIENTS, marker=MARK, dest=str(dest))
    assert rc == 0 and result['changed']
    assert dest.read_text() == f'/srv/old *(ro)  # {MARK}\n{NFS_LINE}  # {MARK}\n'
    assert result['line'] == f'{NFS_LINE}  # {MARK}'


@pytest.mark.parametrize('args, message', [
    ({'exports': [], 'exclusive': True}, 'exclusive=true needs a marker'),
    ({'exports': [], 'exclusive': True, 'marker': MARK, 'state': 'absent'}, 'exclusive=true needs state=present'),
    ({'exports': [{'path': '/srv/a', 'clients': NFS_CLIENTS}, {'path': '/srv/a/', 'clients': NFS_CLIENTS}],
      'marker': MARK, 'exclusive': True}, r'export /srv/a is listed twice \(#1 and #2\)'),
    ({'exports': [{'path': '/srv/a'}]}, r'exports\[0\] \(/srv/a\): state is present but clients is missing'),
    ({'exports': [{'path': '/srv/a', 'clients': [{'host': '*', 'options': 'rw,bogus'}]}]}, "unknown export option 'bogus'"),
    ({'exports': [], 'default_options': ['sync']}, 'default_options belongs in each item of exports'),
    ({'exports': [], 'path': '/srv/a'}, 'mutually exclusive: path|exports'),
    ({'exports': [], 'marker': 'two\nlines'}, 'must fit on one line'),
    ({'exports': [], 'marker': ' '}, 'marker must be a non-empty string'),
])
def test_bad_owned_exports_input_fails_untouched(run_module, tmp_path, args, message):
    dest = tmp_path / 'exports'
    dest.write_text(BY_HAND + f'/srv/a *(ro)  # {MARK}\n')
    rc, result = run_module(dest=str(dest), **args)
    assert rc == 1, result
    assert re.search(message, result['msg']), result['msg']
    assert dest.read_text() == BY_HAND + f'/srv/a *(ro)  # {MARK}\n'


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
