# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exports of an NFS-Ganesha configuration, around a block that one owner manages.

An owner (role nfs_server) writes its EXPORT blocks between two marker lines,
``# BEGIN <marker>`` and ``# END <marker>`` (the layout of ansible.builtin.blockinfile);
everything outside them belongs to someone else and is kept. ``plan_export_ids`` reads
the file before the owner rewrites its block and returns an ``Export_Id`` per exported
path that stays the same from run to run (NFS file handles carry the export id, so a
renumbered export turns its clients' handles stale), avoids the ids used outside the
block, and names exports outside the block that would clash with the owner's.

Syntax as in ganesha-config(8): blocks ``NAME { key = value; ... }`` nest; ``#`` starts a
comment up to the end of the line outside quotes; values may be double- or single-quoted;
``%include``, ``%dir`` and ``%url`` lines pull in other files, which are not read here.
"""

from __future__ import annotations

import re

from ansible_collections.stateful.nfs.plugins.module_utils.exports import normalize_path

#: The second line of the whole-file configuration that role nfs_server 0.1.0 wrote
#: (without markers). Such a file is the owner's entirely.
LEGACY_HEADER = 'NFS-Ganesha configuration rendered from nfs_server_exports'

#: Export_Id is an unsigned 16-bit number; 0 is the pseudo file system's root.
MAX_EXPORT_ID = 65535

_TOKEN = re.compile(r'''
    (?P<blank>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'[^']*')
  | (?P<punct>[{}=;,])
  | (?P<word>[^ \t\r\n#"'{}=;,]+)
''', re.VERBOSE)


class GaneshaConfigError(ValueError):
    """A configuration that cannot be read (an unterminated quote, unbalanced braces)."""


def tokens(text):
    """Yield ``(kind, value, lineno)`` for the words, strings and punctuation of ``text``.

    ``kind`` is ``word``, ``string`` (value without its quotes) or the punctuation itself.
    """
    lineno = 1
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GaneshaConfigError(f'line {lineno}: unterminated quoted string')
        kind = match.lastgroup
        value = match.group(kind)
        if kind == 'string':
            yield 'string', value[1:-1], lineno
        elif kind == 'punct':
            yield value, value, lineno
        elif kind == 'word':
            yield 'word', value, lineno
        lineno += value.count('\n')
        pos = match.end()


def export_blocks(text):
    """The top-level EXPORT blocks of ``text``: ``[{export_id, path, pseudo, line}]``.

    ``export_id`` is an int or None, ``path`` and ``pseudo`` strings or None, ``line`` the
    number of the line that opens the block. Keys are matched without regard to case, as
    Ganesha does; values of nested blocks (FSAL, CLIENT) are not looked at.
    """
    blocks = []
    depth = 0
    current = None
    previous = []        # the last tokens at this depth: NAME {   or   key = value
    for kind, value, lineno in tokens(text):
        if kind == '{':
            if depth == 0 and previous and previous[-1][0] == 'word' and previous[-1][1].lower() == 'export':
                current = {'export_id': None, 'path': None, 'pseudo': None, 'line': previous[-1][2]}
                blocks.append(current)
            depth += 1
            previous = []
            continue
        if kind == '}':
            depth -= 1
            if depth < 0:
                raise GaneshaConfigError(f'line {lineno}: "}}" without a block to close')
            if depth == 0:
                current = None
            previous = []
            continue
        if kind == ';':
            if current is not None and depth == 1:
                _record(current, previous)
            previous = []
            continue
        previous.append((kind, value, lineno))
    if depth:
        raise GaneshaConfigError('a block is not closed (missing "}")')
    return blocks


def _record(block, statement):
    """Keep Export_Id, Path and Pseudo from one ``key = value`` statement of an EXPORT block."""
    if len(statement) != 3 or statement[0][0] != 'word' or statement[1][0] != '=':
        return
    key = statement[0][1].lower()
    value = statement[2][1]
    if key == 'export_id':
        try:
            block['export_id'] = int(value, 0)
        except ValueError:
            return
    elif key in ('path', 'pseudo'):
        block[key] = normalize_path(value)


def split_managed(text, marker):
    """Split ``text`` into (text outside the managed block, the block's text or None).

    The block runs from the line ``# BEGIN <marker>`` to the line ``# END <marker>``.
    """
    begin, end = f'# BEGIN {marker}', f'# END {marker}'
    lines = text.splitlines(True)
    stripped = [line.rstrip('\r\n') for line in lines]
    if begin not in stripped:
        return text, None
    first = stripped.index(begin)
    if end not in stripped[first + 1:]:
        return text, None
    last = stripped.index(end, first + 1)
    return ''.join(lines[:first] + lines[last + 1:]), ''.join(lines[first + 1:last])


def plan_export_ids(text, paths, marker):
    """Choose an Export_Id for each of ``paths`` before the managed block is rewritten.

    Returns ``{'ids': {path: id}, 'legacy': bool, 'problems': [str], 'foreign': [block]}``:

    * a path already in the managed block keeps its id, unless an export outside the block
      now uses that id;
    * a new path gets the lowest id above every id in the block (from 1 in a new block)
      that is used neither outside the block nor by another path;
    * ``legacy`` is True when the file has no managed block but was written whole by
      role nfs_server 0.1.0, which had none (it is then the owner's entirely);
    * ``problems`` names each export outside the block whose Path or Pseudo is one of
      ``paths`` (Ganesha would refuse the duplicate) and a file that cannot be read.
    """
    wanted = [normalize_path(p) for p in paths]
    result = {'ids': {}, 'legacy': False, 'problems': [], 'foreign': []}
    outside, managed = split_managed(text or '', marker)
    if managed is None and LEGACY_HEADER in outside:
        result['legacy'] = True
        outside, managed = '', outside
    try:
        foreign = export_blocks(outside)
        owned = export_blocks(managed or '')
    except GaneshaConfigError as exc:
        result['problems'].append(f'cannot read the configuration: {exc}')
        return result
    result['foreign'] = foreign
    for block in foreign:
        for key in ('path', 'pseudo'):
            if block[key] in wanted:
                result['problems'].append(
                    f'the EXPORT block at line {block["line"]} (outside the lines marked "{marker}") already '
                    f'exports {block[key]} ({key.capitalize()}); remove that block or drop {block[key]} from the list')
    taken = {b['export_id'] for b in foreign if b['export_id'] is not None}
    previous = {}
    for block in owned:
        if block['path'] is not None and block['export_id'] is not None:
            previous.setdefault(block['path'], block['export_id'])
    ids = result['ids']
    for path in wanted:
        export_id = previous.get(path)
        if export_id is not None and 0 < export_id <= MAX_EXPORT_ID and export_id not in taken:
            ids[path] = export_id
            taken.add(export_id)
    # Above every id of the block, the dropped exports' included: a client that still holds
    # a handle of a dropped export must not reach a new export through it.
    candidate = max([b['export_id'] for b in owned if b['export_id'] is not None] + [0]) + 1
    for path in wanted:
        if path in ids:
            continue
        while candidate in taken:
            candidate += 1
        if candidate > MAX_EXPORT_ID:
            candidate = next((i for i in range(1, MAX_EXPORT_ID + 1) if i not in taken), None)
            if candidate is None:
                result['problems'].append(f'no free Export_Id is left for {path}')
                break
        ids[path] = candidate
        taken.add(candidate)
    return result
