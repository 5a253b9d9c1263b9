"""Unit tests of module_utils/ganesha.py: the exports of an NFS-Ganesha configuration around the
block role nfs_server owns, and stable Export_Ids."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.ganesha import (
    GaneshaConfigError,
    export_blocks,
    plan_export_ids,
    split_managed,
    tokens,
)

MARK = 'managed by stateful.nfs.nfs_server'

# What role nfs_server 0.1.0 wrote (its template rendered for two exports, abridged only
# in the CLIENT blocks): the whole file, no marker lines.
LEGACY = (Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "ganesha-0.1.0.conf").read_text()


def block(*exports):
    """The role's block as blockinfile writes it: marker lines around EXPORT blocks."""
    body = ''.join(f'EXPORT {{\n    Export_Id = {i};\n    Path = "{p}";\n    Pseudo = "{p}";\n'
                   f'    FSAL {{\n        Name = VFS;\n    }}\n}}\n' for i, p in exports)
    return f'# BEGIN {MARK}\nNFSV4 {{\n    Graceless = true;\n}}\n{body}# END {MARK}\n'


USER_EXPORT = """# my own export, written by hand
export
{
    export_id = 0x10;   # hex, lower-case keys: Ganesha accepts both
    path = '/data/archive';
    pseudo = "/archive";   # a comment with { braces } and "quotes"
    FSAL { name = VFS; }
    CLIENT { clients = 192.0.2.1, 192.0.2.2; access_type = RO; }
}
%include "/etc/ganesha/other.conf"
"""


def test_tokens_skip_comments_and_unquote_strings():
    assert [(k, v) for k, v, _ in tokens('A { b = "x # y"; } # c { d\n')] == [
        ('word', 'A'), ('{', '{'), ('word', 'b'), ('=', '='), ('string', 'x # y'), (';', ';'), ('}', '}')]


def test_export_blocks_of_a_hand_written_configuration():
    assert export_blocks(USER_EXPORT) == [{'export_id': 16, 'path': '/data/archive', 'pseudo': '/archive', 'line': 2}]


def test_export_blocks_of_the_legacy_file():
    assert [(b['export_id'], b['path'], b['pseudo']) for b in export_blocks(LEGACY)] == [
        (1, '/srv/nfs', '/srv/nfs'), (2, '/srv/nfs/squashed', '/srv/nfs/squashed')]


def test_debian_stock_configuration_exports_nothing():
    stock = '#EXPORT\n#{\n\t#Export_Id = 12345;\n\t#Path = /nonexistent;\n#}\n'
    assert export_blocks(stock) == []


@pytest.mark.parametrize('text, match', [
    ('EXPORT { Path = "/x; }', 'unterminated quoted string'),
    ('EXPORT { Path = /x;', 'not closed'),
    ('}', 'without a block'),
])
def test_unreadable_configuration(text, match):
    with pytest.raises(GaneshaConfigError, match=match):
        export_blocks(text)


def test_split_managed():
    text = 'before\n' + block((1, '/a')) + 'after\n'
    outside, managed = split_managed(text, MARK)
    assert outside == 'before\nafter\n'
    assert 'Path = "/a";' in managed and 'BEGIN' not in managed
    assert split_managed('no block\n', MARK) == ('no block\n', None)
    assert split_managed(f'# BEGIN {MARK}\nunfinished\n', MARK)[1] is None


def test_a_new_configuration_numbers_from_one():
    plan = plan_export_ids('', ['/srv/nfs', '/srv/nfs/squashed'], MARK)
    assert plan == {'ids': {'/srv/nfs': 1, '/srv/nfs/squashed': 2}, 'legacy': False, 'problems': [], 'foreign': []}


def test_dropping_an_export_keeps_the_ids_of_the_others():
    """Ganesha side of an export dropped from the list: /srv/old leaves, /srv/nfs keeps Export_Id 2 (its
    clients' file handles stay valid) and the new export does not reuse 1 at once."""
    text = block((1, '/srv/old'), (2, '/srv/nfs'))
    plan = plan_export_ids(text, ['/srv/nfs', '/srv/new'], MARK)
    assert plan['ids'] == {'/srv/nfs': 2, '/srv/new': 3}
    assert plan['problems'] == [] and not plan['legacy']


def test_ids_used_outside_the_block_are_never_given_out():
    text = USER_EXPORT.replace('0x10', '3') + block((1, '/srv/a'), (3, '/srv/b'))
    plan = plan_export_ids(text, ['/srv/a', '/srv/b', '/srv/c'], MARK)
    # /srv/b's old id 3 is now taken by the hand-written export: it moves
    assert plan['ids'] == {'/srv/a': 1, '/srv/b': 4, '/srv/c': 5}
    assert plan['foreign'][0]['export_id'] == 3


def test_an_export_outside_the_block_for_a_managed_path_is_a_problem():
    plan = plan_export_ids(USER_EXPORT + block((1, '/srv/nfs')), ['/srv/nfs', '/archive/'], MARK)
    assert plan['problems'] == [
        'the EXPORT block at line 2 (outside the lines marked "managed by stateful.nfs.nfs_server") already '
        'exports /archive (Pseudo); remove that block or drop /archive from the list']


def test_legacy_whole_file_is_the_roles():
    plan = plan_export_ids(LEGACY, ['/srv/nfs/squashed', '/srv/new'], MARK)
    assert plan['legacy'] is True and plan['problems'] == [] and plan['foreign'] == []
    assert plan['ids'] == {'/srv/nfs/squashed': 2, '/srv/new': 3}


def test_a_file_with_the_block_is_not_legacy_even_with_the_old_header_outside():
    plan = plan_export_ids(LEGACY.split('NFS_CORE_PARAM')[0] + block((5, '/srv/nfs')), ['/srv/nfs'], MARK)
    assert not plan['legacy'] and plan['ids'] == {'/srv/nfs': 5}


def test_unreadable_configuration_is_a_problem_not_an_exception():
    plan = plan_export_ids('EXPORT { Path = "/x; }', ['/srv/nfs'], MARK)
    assert plan['problems'] == ['cannot read the configuration: line 1: unterminated quoted string']

