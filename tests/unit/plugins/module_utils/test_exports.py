"""Tests of the exports(5) parser, renderer and validator."""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.export_meaning import exportfs_options
from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    Client,
    Defaults,
    Export,
    ExportsError,
    ExportsSyntaxError,
    build_export,
    client_dicts,
    encode_path,
    export_warnings,
    has_marker,
    normalize_path,
    parse_exports,
    render_line,
    validate_dest,
    validate_host,
    validate_marker,
    validate_options,
    validate_path,
)

MAN_PAGE_EXAMPLE = """\
# sample /etc/exports file
/               master(rw) trusty(rw,no_root_squash)
/projects       proj*.local.domain(rw)
/usr            *.local.domain(ro) @trusted(rw)
/home/joe       pc001(rw,all_squash,anonuid=150,anongid=100)
/pub            *(ro,insecure,all_squash)
/srv/www        -sync,rw server @trusted @external(ro)
/foo            2001:db8:9:e54::/64(rw) 192.0.2.0/24(rw)
/build          buildhost[0-9].local.domain(rw)
"""


def only_export(text):
    exports = parse_exports(text).exports
    assert len(exports) == 1, exports
    return exports[0]


# ----------------------------------------------------------------------------- parser

def test_man_page_example_parses_and_renders_back():
    f = parse_exports(MAN_PAGE_EXAMPLE)
    assert f.render() == MAN_PAGE_EXAMPLE
    assert [e.path for e in f.exports] == ['/', '/projects', '/usr', '/home/joe', '/pub', '/srv/www', '/foo', '/build']
    assert f.exports[0].items == [Client('master', ('rw',)), Client('trusty', ('rw', 'no_root_squash'))]
    assert f.exports[5].items == [Defaults(('sync', 'rw')), Client('server', None), Client('@trusted', None),
                                  Client('@external', ('ro',))]
    assert f.exports[6].clients == [Client('2001:db8:9:e54::/64', ('rw',)), Client('192.0.2.0/24', ('rw',))]
    assert f.exports[7].clients == [Client('buildhost[0-9].local.domain', ('rw',))]


def test_comments_and_blank_lines_are_not_exports():
    text = '\n   \n# a comment\n\t# indented comment\n/srv a(rw)\n\n'
    f = parse_exports(text)
    assert [s.export is None for s in f.spans] == [True, True, True, True, False, True]
    assert f.render() == text


def test_trailing_comment_is_split_off_and_kept():
    e = only_export('/srv a(rw)   # keep me\n')
    assert e.clients == [Client('a', ('rw',))]
    assert e.comment == '   # keep me'


def test_hash_inside_quotes_still_starts_a_comment_like_exportfs():
    # exportfs' xgetc() handles '#' before quoting is considered
    with pytest.raises(ExportsSyntaxError):
        parse_exports('"/srv/a#b" x(rw)\n')


def test_backslash_newline_continues_the_line():
    text = '/srv/a \\\n    host1(rw) \\\n\thost2(ro)\n/srv/b c(rw)\n'
    f = parse_exports(text)
    assert len(f.spans) == 2
    assert f.spans[0].export.clients == [Client('host1', ('rw',)), Client('host2', ('ro',))]
    assert f.spans[1].lineno == 4
    assert f.render() == text


def test_backslash_newline_inside_a_comment_does_not_continue():
    f = parse_exports('# comment \\\n/srv a(rw)\n')
    assert f.spans[0].export is None
    assert f.spans[1].export.path == '/srv'


def test_quoted_path_and_octal_escapes():
    assert only_export('"/srv/my share" a(rw)\n').path == '/srv/my share'
    assert only_export('/srv/my\\040share a(rw)\n').path == '/srv/my share'
    assert only_export('/srv/"my share"/x a(rw)\n').path == '/srv/my share/x'
    assert only_export('/srv/tab\\011x a(rw)\n').path == '/srv/tab\tx'
    # a backslash not followed by three octal digits is literal
    assert only_export('/srv/a\\9 a(rw)\n').path == '/srv/a\\9'


def test_octal_escape_of_utf8_bytes_equals_literal_utf8():
    assert only_export('/srv/caf\\303\\251 a(rw)\n').path == only_export('/srv/café a(rw)\n').path


def test_unterminated_quote_is_a_syntax_error_with_line_number():
    with pytest.raises(ExportsSyntaxError, match='line 2'):
        parse_exports('/ok a(rw)\n"/srv/x a(rw)\n')


def test_default_options_and_bare_hosts():
    e = only_export('/srv -rw,sync a b(ro) -ro c\n')
    assert e.items == [Defaults(('rw', 'sync')), Client('a', None), Client('b', ('ro',)),
                       Defaults(('ro',)), Client('c', None)]
    assert e.default_options == ('rw', 'sync')


def test_anonymous_and_star_clients():
    e = only_export('/x (rw) *(ro)\n')
    assert e.clients == [Client('', ('rw',)), Client('*', ('ro',))]
    assert client_dicts(e)[0]['host'] == '*'


def test_path_without_clients():
    e = only_export('/srv/x\n')
    assert e.items == [] and e.path == '/srv/x'


def test_bad_option_list_is_a_syntax_error():
    for text in ('/x a(rw\n', '/x a(rw)b\n', '/x a)rw(\n', '/x a((rw))\n'):
        with pytest.raises(ExportsSyntaxError, match='bad option list'):
            parse_exports(text)


def test_crlf_and_missing_final_newline_are_preserved():
    text = '/a x(rw)\r\n/b y(ro)'
    f = parse_exports(text)
    assert f.render() == text
    assert f.exports[0].clients == [Client('x', ('rw',))]


def test_undecodable_bytes_survive():
    raw = b'# \xff\xfe latin junk\n/srv a(rw)\n'
    text = raw.decode('utf-8', 'surrogateescape')
    assert parse_exports(text).render().encode('utf-8', 'surrogateescape') == raw


# ----------------------------------------------------------------------------- renderer

def test_render_new_line():
    e = build_export('/srv/nfs', [{'host': '10.0.0.0/24', 'options': ['rw', 'sync']}, {'host': 'h', 'options': []}],
                     default_options=['no_subtree_check'])
    assert render_line(e) == '/srv/nfs -no_subtree_check 10.0.0.0/24(rw,sync) h'


def test_render_escapes_special_path_characters():
    assert encode_path('/a b\tc#d\\e') == '/a\\040b\\011c\\043d\\134e'
    e = build_export('/srv/my share', [{'host': '*', 'options': 'ro'}])
    assert render_line(e) == '/srv/my\\040share *(ro)'
    assert only_export(render_line(e) + '\n').path == '/srv/my share'


def test_parse_render_line_round_trip_keeps_hostless_and_empty_forms():
    for line in ('/x (rw)', '/x a() b', '/x - a', '/x -ro,sync a(rw) @ng'):
        assert render_line(only_export(line + '\n')) == line


# ----------------------------------------------------------------------------- editing

BASE = """\
# managed by hand
/srv/one   10.0.0.0/24(rw,sync)   # first
\t/srv/two  host(ro)

/srv/three \\
   a(rw) \\
   b(ro)
# end"""


def test_update_touches_only_the_managed_line():
    f = parse_exports(BASE)
    assert f.set_export(build_export('/srv/one', [{'host': '10.0.0.0/24', 'options': 'ro,sync'}]))
    lines_before = BASE.split('\n')
    lines_after = f.render().split('\n')
    assert lines_after[1] == '/srv/one   10.0.0.0/24(ro,sync)   # first'
    assert lines_after[:1] + lines_after[2:] == lines_before[:1] + lines_before[2:]


def test_update_of_continued_line_becomes_one_line():
    f = parse_exports(BASE)
    f.set_export(build_export('/srv/three', [{'host': 'a', 'options': 'rw'}]))
    assert f.render() == BASE.replace('/srv/three \\\n   a(rw) \\\n   b(ro)\n', '/srv/three a(rw)\n')


def test_update_keeps_quoted_path_spelling():
    text = '"/srv/my share"\t-sync a(rw)\n'
    f = parse_exports(text)
    f.set_export(build_export('/srv/my share', [{'host': 'a', 'options': 'ro'}]))
    assert f.render() == '"/srv/my share"\ta(ro)\n'


def test_add_appends_and_fixes_missing_final_newline():
    f = parse_exports(BASE)
    assert f.set_export(build_export('/srv/four', [{'host': '*', 'options': 'ro'}]))
    assert f.render() == BASE + '\n/srv/four *(ro)\n'


def test_idempotent_when_content_is_the_same_even_with_other_spacing():
    f = parse_exports(BASE)
    assert not f.set_export(build_export('/srv/three', [{'host': 'a', 'options': 'rw'}, {'host': 'b', 'options': 'ro'}]))
    assert f.render() == BASE


def test_trailing_slash_matches_the_same_export():
    f = parse_exports('/srv/one/ a(rw)\n')
    assert not f.set_export(build_export('/srv//one', [{'host': 'a', 'options': 'rw'}]))


def test_remove_only_the_managed_line():
    f = parse_exports(BASE)
    removed = f.remove_export('/srv/two')
    assert [s.lineno for s in removed] == [3]
    assert f.render() == BASE.replace('\t/srv/two  host(ro)\n', '')
    assert f.remove_export('/srv/none') == []


def test_different_lines_of_one_path_are_one_export():
    f = parse_exports('/srv a(rw)\n# x\n/srv b(ro)\n')
    changes = f.set_export(build_export('/srv', [{'host': 'a', 'options': 'rw'}, {'host': 'b', 'options': 'rw'}]))
    assert changes == ['/srv line 3: client b(ro) -> b(rw)']
    assert f.render() == '/srv a(rw)\n# x\n/srv b(rw)\n'
    assert not f.set_export(build_export('/srv', [{'host': 'a', 'options': 'rw'}, {'host': 'b', 'options': 'rw'}]))


def test_marker_is_appended_after_an_existing_comment_and_recognised():
    f = parse_exports('/srv a(rw)   # mine\n/other b(ro)\n')
    assert f.set_export(build_export('/srv', [{'host': 'a', 'options': 'rw'}]), marker='owned') == \
        ['/srv line 1: marked with "# owned"']
    assert f.render() == '/srv a(rw)   # mine  # owned\n/other b(ro)\n'
    (span,) = f.find('/srv')
    assert has_marker(span.export, 'owned')
    assert not has_marker(f.find('/other')[0].export, 'owned')
    assert not has_marker(parse_exports('/x a # not owned\n').exports[0], 'owned')
    assert f.remove_marked('owned', keep=['/srv/']) == []
    assert len(f.remove_marked('owned')) == 1
    assert f.render() == '/other b(ro)\n'


def test_apply_refuses_exclusive_without_marker_and_duplicate_paths():
    f = parse_exports('/srv a(rw)\n')
    with pytest.raises(ExportsError, match='exclusive needs a marker'):
        f.apply([], exclusive=True)
    export = build_export('/srv', [{'host': 'a', 'options': 'rw'}])
    with pytest.raises(ExportsError, match='listed twice'):
        f.apply([export, export])
    assert f.render() == '/srv a(rw)\n'


@pytest.mark.parametrize('marker, match', [('', 'non-empty'), ('a\nb', 'one line'), (' a', 'blanks'), (None, 'non-empty')])
def test_bad_markers(marker, match):
    with pytest.raises(ExportsError, match=match):
        validate_marker(marker)


def test_identical_duplicate_lines_are_collapsed():
    f = parse_exports('/srv a(rw)\n# x\n/srv  a(rw)\n')
    assert f.set_export(build_export('/srv', [{'host': 'a', 'options': 'rw'}]))
    assert f.render() == '/srv a(rw)\n# x\n'


def test_absent_removes_all_duplicates():
    f = parse_exports('/srv a(rw)\n/other x\n/srv b(ro)\n')
    assert len(f.remove_export('/srv')) == 2
    assert f.render() == '/other x\n'


# ----------------------------------------------------------------------------- validation

@pytest.mark.parametrize('path, match', [
    ('srv/nfs', 'not absolute'),
    ('', 'non-empty'),
    ('/srv/a\nb', 'newline'),
    ('/srv/a\rb', 'carriage return'),
    ('/srv/a\0b', 'NUL'),
    ('/srv/a"b', 'double quote'),
    ('/srv/../etc', r'"\.\."'),
    ('/srv/a\\101', 'backslash followed by octal'),
    ('/' + 'a' * 1100, 'too long'),
])
def test_bad_paths(path, match):
    with pytest.raises(ExportsError, match=match):
        validate_path(path)


def test_path_normalisation():
    assert validate_path('/srv//nfs/') == '/srv/nfs'
    assert validate_path('/') == '/'
    assert normalize_path('relative/') == 'relative/'


@pytest.mark.parametrize('host, kind', [
    ('*', 'anonymous'), ('@trusted', 'netgroup'), ('10.0.0.1', 'address'), ('10.0.0.0/24', 'network'),
    ('10.0.0.0/255.255.255.0', 'network'), ('2001:db8::1', 'address'), ('2001:db8::/64', 'network'),
    ('node1.example.com', 'hostname'), ('*.example.com', 'wildcard'), ('node?.lan', 'wildcard'),
    ('node[0-9].lan', 'wildcard'), ('localhost', 'hostname'),
])
def test_good_hosts(host, kind):
    assert validate_host(host) == kind


@pytest.mark.parametrize('host, match', [
    ('10.0.0.0/33', 'not a valid network'),
    ('10.0.0.1/24', 'host bits set'),
    ('300.0.0.0/8', 'not a valid network'),
    ('10.0.0.0/255.0.255.0', 'not a valid network'),
    ('2001:db8::/129', 'not a valid network'),
    ('2001:db8::/ffff::', 'not a valid network'),
    ('10.0.0.256', 'not a valid IPv4'),
    ('10.0.0', 'not a valid IPv4'),
    ('2001:db8:::1', 'not a valid IPv6'),
    ('[2001:db8::1]', 'without square brackets'),
    ('', 'non-empty'),
    ('host name', 'not allowed'),
    ('host(rw)', 'not allowed'),
    ('-host', 'not a valid host'),
    ('@', 'netgroup'),
    ('node[0-9.lan', 'unbalanced'),
    ('bad/host', 'not a valid network'),
])
def test_bad_hosts(host, match):
    with pytest.raises(ExportsError, match=match):
        validate_host(host)


@pytest.mark.parametrize('options', [
    ['rw', 'sync', 'no_subtree_check', 'no_root_squash'],
    ['ro', 'async', 'insecure', 'no_wdelay', 'nohide', 'crossmnt', 'insecure_locks', 'all_squash',
     'anonuid=150', 'anongid=100'],
    ['fsid=0'], ['fsid=root'], ['fsid=1', 'fsid=0123abcd-0123-abcd-0123-0123456789ab'],
    ['sec=sys:krb5:krb5i:krb5p'], ['sec=sys', 'rw', 'sec=krb5p', 'ro'], ['mountpoint'], ['mp=/srv'],
    ['refer=/a@h1+h2:/b@h3'], ['replicas=/a@h1'], ['xprtsec=tls:mtls'], ['nordirplus', 'security_label', 'pnfs'],
    ['rw', 'rw'], [],
])
def test_good_options(options):
    assert validate_options(options, 'x') == tuple(options)


@pytest.mark.parametrize('options, match', [
    (['rw', 'ro'], "'rw' and 'ro' contradict"),
    (['sync', 'async'], "'sync' and 'async'"),
    (['secure', 'insecure'], "'secure' and 'insecure'"),
    (['subtree_check', 'no_subtree_check'], 'contradict'),
    (['root_squash', 'no_root_squash'], 'contradict'),
    (['all_squash', 'no_all_squash'], 'contradict'),
    (['all_squash', 'no_root_squash'], 'contradict'),
    (['auth_nlm', 'insecure_locks'], 'contradict'),
    (['sec=krb5', 'rw', 'ro'], "'rw' and 'ro'"),
    (['anonuid=1', 'anonuid=2'], 'contradict'),
    (['fsid=1', 'fsid=2'], 'contradict'),
    (['anonuid=-1'], 'non-negative integer'),
    (['anonuid=abc'], 'non-negative integer'),
    (['anongid=4294967295'], 'non-negative integer'),
    (['anonuid='], 'needs a value'),
    (['anonuid'], 'needs a value'),
    (['fsid=abc'], 'fsid must be'),
    (['fsid=99999999999'], '32 bits'),
    (['sec=krb6'], 'unknown security flavor'),
    (['sec=sys:sys'], 'twice'),
    (['xprtsec=ssl'], 'unknown transport'),
    (['mountpoint=relative'], 'absolute'),
    (['refer=nohost'], 'path@host'),
    (['rw=1'], 'takes no value'),
    (['bogus'], "unknown export option 'bogus'"),
    (['nosuch=1'], 'unknown export option'),
    (['rw', ''], 'empty option'),
    (['r w'], 'contains'),
])
def test_bad_options_name_the_option_and_where(options, match):
    with pytest.raises(ExportsError, match=match) as info:
        validate_options(options, 'export /srv, client h')
    assert 'export /srv, client h' in str(info.value)


def test_build_export_errors_name_path_and_client():
    with pytest.raises(ExportsError, match=r'export /srv, client 10\.0\.0\.0/24: options .rw. and .ro.'):
        build_export('/srv', [{'host': '10.0.0.0/24', 'options': 'rw,ro'}])
    with pytest.raises(ExportsError, match='client list is empty'):
        build_export('/srv', [])
    with pytest.raises(ExportsError, match='listed twice'):
        build_export('/srv', [{'host': 'a'}, {'host': 'a', 'options': 'ro'}])
    with pytest.raises(ExportsError, match='host is missing'):
        build_export('/srv', [{'options': 'ro'}])
    with pytest.raises(ExportsError, match='default options'):
        build_export('/srv', [{'host': 'a'}], default_options='rw,ro')
    with pytest.raises(ExportsError, match='longer than exportfs accepts'):
        build_export('/srv', [{'host': 'a', 'options': ['refer=/a@' + 'h' * 600]}])


def test_options_as_comma_string_or_list():
    a = build_export('/srv', [{'host': 'a', 'options': 'rw, sync'}])
    b = build_export('/srv', [{'host': 'a', 'options': ['rw', 'sync']}])
    assert a == b
    assert a.clients == [Client('a', ('rw', 'sync'))]


@pytest.mark.parametrize('dest', ['/etc/exports', '/etc/exports.d/k8s.exports', '/tmp/x/exports'])
def test_good_dest(dest):
    assert validate_dest(dest) == dest


@pytest.mark.parametrize('dest, match', [
    ('/etc/exports.d/k8s.conf', 'ending in ".exports"'),
    ('/etc/exports.d/.hidden.exports', 'starting with a dot'),
    ('/etc/exports.d/.exports', 'ending in ".exports"'),
    ('etc/exports', 'absolute'),
    ('/etc/exports.d/', 'directory'),
])
def test_bad_dest(dest, match):
    with pytest.raises(ExportsError, match=match):
        validate_dest(dest)


# ----------------------------------------------------------------------------- warnings

def test_warns_about_blank_before_options():
    (warning,) = export_warnings(only_export('/x host (rw)\n'), 1)
    assert 'blank between the host and its options' in warning and 'line 1' in warning


def test_warns_about_hostless_options():
    (warning,) = export_warnings(only_export('/x (rw)\n'))
    assert 'every host' in warning and '*(rw)' in warning


def test_warns_about_world_no_root_squash():
    (warning,) = export_warnings(only_export('/x *(rw,no_root_squash)\n'))
    assert 'no_root_squash' in warning


def test_no_warnings_for_ordinary_line():
    assert export_warnings(only_export('/x 10.0.0.0/24(rw,no_root_squash)\n')) == []


def test_export_equality():
    assert Export('/a', [Client('h', None)]) == Export('/a', [Client('h', None)])
    assert Export('/a', [Client('h', None)]) != Export('/a', [Client('h', ())])


# ----------------------------------------------------------------------------- what exportfs applies

DEFAULTS = ('sync', 'wdelay', 'hide', 'nocrossmnt', 'no_subtree_check', 'secure_locks', 'acl', 'no_pnfs',
            'anonuid=65534', 'anongid=65534')
SYS_DEFAULTS = ('sec=sys', 'ro', 'secure', 'root_squash', 'no_all_squash')


def test_exportfs_options_of_no_options_are_the_exports5_defaults():
    assert exportfs_options(()) == DEFAULTS + SYS_DEFAULTS


def test_exportfs_options_later_option_wins_and_old_names_count():
    assert exportfs_options(['rw', 'ro']) == DEFAULTS + SYS_DEFAULTS
    assert exportfs_options(['ro', 'rw'])[-4] == 'rw'
    assert 'insecure_locks' in exportfs_options(['no_auth_nlm'])
    assert 'secure_locks' in exportfs_options(['insecure_locks', 'auth_nlm'])
    assert 'mountpoint=/srv' in exportfs_options(['mp=/srv'])
    assert 'mountpoint' in exportfs_options(['mp'])


def test_exportfs_options_values():
    result = exportfs_options(['anonuid=0150', 'anongid=100', 'fsid=010', 'fsid=root', 'refer=/a@h', 'replicas=/b@h'])
    assert result[8:11] == ('fsid=0', 'anonuid=150', 'anongid=100')
    assert 'replicas=/b@h' in result and not [o for o in result if o.startswith('refer=')]
    assert 'fsid=8' in exportfs_options(['fsid=010'])


def test_exportfs_options_per_flavor():
    # Options after sec= apply to its flavors; a flavor named later starts from the settings
    # as they are then (nfs-utils secinfo_addflavor copies e_flags).
    assert exportfs_options(['rw', 'sec=krb5p:sys', 'ro'])[-5:] == ('sec=krb5p:sys', 'ro', 'secure', 'root_squash',
                                                                   'no_all_squash')
    assert exportfs_options(['sec=krb5', 'rw', 'sec=sys', 'ro', 'insecure'])[-10:] == (
        'sec=krb5', 'rw', 'secure', 'root_squash', 'no_all_squash',
        'sec=sys', 'ro', 'insecure', 'root_squash', 'no_all_squash')
    assert exportfs_options(['sec=krb5', 'rw', 'sec=sys'])[-5:] == ('sec=krb5:sys', 'rw', 'secure', 'root_squash',
                                                                   'no_all_squash')
    # sys and unix are one flavor
    assert exportfs_options(['sec=unix:sys'])[-5] == 'sec=unix'


# Option lists whose meaning is easy to get wrong. The nfs_kernel_vm scenario loads this file
# into the real exportfs and compares with exportfs_options().
EXPORTFS_SEMANTICS = """\
/srv/later-wins     a.example(rw,ro) b.example(ro,rw,async,sync,no_wdelay,wdelay)
/srv/old-names      a.example(no_auth_nlm,mp) b.example(insecure_locks,auth_nlm,mp=/srv)
/srv/values         a.example(anonuid=0150,anongid=100,fsid=010) b.example(fsid=root,refer=/a@h,replicas=/b@h)
/srv/flavors        a.example(rw,sec=krb5p:sys,ro) b.example(sec=krb5,rw,sec=sys,ro,insecure) \\
                    c.example(sec=krb5,rw,sec=sys) d.example(sec=unix:sys,all_squash)
/srv/line-defaults  -rw,async a.example b.example(ro) -no_root_squash c.example(sync)
/srv/world          (rw,nohide,crossmnt,no_acl,pnfs,nordirplus)
/srv/star           *(ro,insecure,subtree_check)
"""


def test_exportfs_semantics_fixture():
    table = {(e.path, c['host']): exportfs_options(c['effective_options'])
             for e in parse_exports(EXPORTFS_SEMANTICS).exports for c in client_dicts(e)}
    assert len(table) == 15
    assert table['/srv/line-defaults', 'a.example'][0] == 'async'
    assert table['/srv/line-defaults', 'c.example'][-2:] == ('no_root_squash', 'no_all_squash')
    assert table['/srv/flavors', 'd.example'][-5:] == ('sec=unix', 'ro', 'secure', 'root_squash', 'all_squash')
    assert table['/srv/world', '*'][:9] == ('sync', 'wdelay', 'nohide', 'crossmnt', 'no_subtree_check',
                                            'secure_locks', 'no_acl', 'pnfs', 'nordirplus')


def test_exportfs_options_refuses_what_exportfs_refuses():
    for options in (['bogus'], ['fsid=09'], ['anonuid=x'], ['sec=krb6'], ['rw=1']):
        with pytest.raises(ExportsError):
            exportfs_options(options)


def test_octal_fsid_with_digits_8_or_9_is_refused():
    with pytest.raises(ExportsError, match='octal'):
        validate_options(['fsid=0129'], 'x')
    assert validate_options(['fsid=0127'], 'x') == ('fsid=0127',)
