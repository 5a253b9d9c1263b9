# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse, validate and edit exports(5) files (/etc/exports, /etc/exports.d/*.exports).

The file is modelled as a list of spans, each span being the exact text of one logical
line: a blank line, a comment, or an export entry that may cover several physical lines
joined with backslash-newline. Joining the spans gives back the file byte for byte, so an
edit replaces, inserts or removes whole spans and leaves every other byte alone.

Tokenisation follows nfs-utils (support/nfs/xio.c and exports.c) rather than the man page
alone:

* ``#`` starts a comment wherever it appears (also inside double quotes) and ends the
  logical line; a backslash-newline inside a comment does not continue the line.
* backslash-newline outside a comment joins the next physical line (it acts as a space).
* ``"`` toggles quoting inside a token, so ``"/srv/my share"`` is one token.
* a backslash followed by three octal digits is decoded to that byte (``\\040`` is a space).
* a token starting with ``-`` holds default options for the clients after it on the line.
* a client token is ``host``, ``host(options)`` or ``(options)``; the last one has no host
  and exports to the world, which is usually a typo for ``host (options)``.

Text is handled as ``str`` decoded with ``surrogateescape`` so that undecodable bytes
survive a round trip unchanged.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import namedtuple

# --------------------------------------------------------------------------------------
# Export options, as accepted by exportfs from nfs-utils 2.6 (support/nfs/exports.c
# parseopts) plus xprtsec= from nfs-utils 2.7.
# --------------------------------------------------------------------------------------

#: Options that take no value.
FLAG_OPTIONS = frozenset((
    'rw', 'ro',
    'sync', 'async',
    'secure', 'insecure',
    'wdelay', 'no_wdelay',
    'hide', 'nohide',
    'crossmnt', 'nocrossmnt',
    'subtree_check', 'no_subtree_check',
    'secure_locks', 'auth_nlm', 'insecure_locks', 'no_auth_nlm',
    'root_squash', 'no_root_squash',
    'all_squash', 'no_all_squash',
    'acl', 'no_acl',
    'pnfs', 'no_pnfs',
    'nordirplus',
    'security_label',
    'mountpoint', 'mp',
))

#: Options of the form name=value.
VALUE_OPTIONS = frozenset((
    'anonuid', 'anongid', 'fsid', 'sec', 'xprtsec',
    'mountpoint', 'mp', 'refer', 'replicas',
))

#: Security flavours accepted in sec= (nfs-utils flav_map).
SEC_FLAVORS = ('sys', 'krb5', 'krb5i', 'krb5p', 'unix', 'none', 'null')

#: Transport security policies accepted in xprtsec=.
XPRTSEC_POLICIES = ('none', 'tls', 'mtls')

# Pairs of flags that say opposite things. Each entry: (group of flags, group of flags).
_CONFLICTS = (
    (('rw',), ('ro',)),
    (('sync',), ('async',)),
    (('secure',), ('insecure',)),
    (('wdelay',), ('no_wdelay',)),
    (('hide',), ('nohide',)),
    (('crossmnt',), ('nocrossmnt',)),
    (('subtree_check',), ('no_subtree_check',)),
    (('secure_locks', 'auth_nlm'), ('insecure_locks', 'no_auth_nlm')),
    (('root_squash',), ('no_root_squash',)),
    (('all_squash',), ('no_all_squash',)),
    (('all_squash',), ('no_root_squash',)),
    (('acl',), ('no_acl',)),
    (('pnfs',), ('no_pnfs',)),
)

# exports(5): the only options that may differ between sec= sections.
_PER_FLAVOR = frozenset(('rw', 'ro', 'root_squash', 'no_root_squash', 'all_squash', 'no_all_squash'))

# Limits of exportfs' parser: a client token (host plus options) is read into a 512-byte
# buffer, a path into NFS_MAXPATHLEN (1024) bytes.
MAX_CLIENT_TOKEN = 511
MAX_PATH = 1024

_ID_MAX = 4294967294  # (uid_t)-1 is reserved

_HOST_CHARS = re.compile(r'^[A-Za-z0-9_.*?\[\]-]+$')
_NETGROUP = re.compile(r'^@[A-Za-z0-9_.+-]+$')


class ExportsError(ValueError):
    """Invalid input or an exports file that cannot be parsed."""


class ExportsSyntaxError(ExportsError):
    """An exports file that does not follow exports(5) syntax."""

    def __init__(self, message, lineno=None):
        self.lineno = lineno
        if lineno is not None:
            message = f'line {lineno}: {message}'
        super().__init__(message)


#: One client on an export line: ``host`` ('' for the hostless ``(options)`` form) and
#: ``options``, a tuple of option strings (empty when the token has no parentheses).
#: ``bare`` is True when the token had no parentheses at all (``host`` alone).
Client = namedtuple('Client', ['host', 'options'])

#: A ``-opt,opt`` group of default options on an export line.
Defaults = namedtuple('Defaults', ['options'])


class Export:
    """The parsed content of one export line."""

    __slots__ = ('comment', 'items', 'path', 'raw_path', 'sep')

    def __init__(self, path, items, raw_path=None, comment='', sep=' '):
        self.path = path            # decoded path
        self.raw_path = raw_path    # the path token as written (None: render from path)
        self.items = list(items)    # Client and Defaults, in line order
        self.comment = comment      # trailing '  # ...' text (with its leading blanks), or ''
        self.sep = sep              # blanks between path and first item

    @property
    def clients(self):
        return [i for i in self.items if isinstance(i, Client)]

    @property
    def default_options(self):
        """Default options that apply to the first client (all of them, usually)."""
        opts = []
        for item in self.items:
            if isinstance(item, Client):
                break
            opts.extend(item.options)
        return tuple(opts)

    def __eq__(self, other):
        if not isinstance(other, Export):
            return NotImplemented
        return self.path == other.path and self.items == other.items

    def __repr__(self):
        return f'Export({self.path!r}, {self.items!r})'


class Span:
    """One logical line of the file, exactly as written (including its line ending)."""

    __slots__ = ('export', 'lineno', 'text')

    def __init__(self, text, lineno, export=None):
        self.text = text
        self.lineno = lineno        # 1-based number of the first physical line
        self.export = export        # Export, or None for blank/comment lines

    def __repr__(self):
        return f'Span({self.text!r}, {self.lineno}, {self.export!r})'


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------

def split_logical_lines(text):
    """Split file text into logical-line strings whose concatenation is ``text``.

    Yields ``(lineno, chunk)``. A chunk ends after a newline that is not escaped with a
    backslash; a newline that ends a comment always ends the chunk.
    """
    i = 0
    n = len(text)
    lineno = 1
    while i < n:
        start = i
        start_line = lineno
        while i < n:
            c = text[i]
            if c == '#':
                j = text.find('\n', i)
                i = n if j < 0 else j + 1
                lineno += 1 if j >= 0 else 0
                break
            if c == '\\' and i + 1 < n and text[i + 1] == '\n':
                i += 2
                lineno += 1
                continue
            i += 1
            if c == '\n':
                lineno += 1
                break
        yield start_line, text[start:i]


def _line_ending(chunk):
    if chunk.endswith('\r\n'):
        return '\r\n'
    if chunk.endswith('\n'):
        return '\n'
    return ''


def _split_comment(chunk):
    """Return (content, comment) of a logical line without its line ending.

    ``comment`` keeps the blanks before the ``#`` so a re-rendered line can keep it.
    """
    body = chunk[:len(chunk) - len(_line_ending(chunk))]
    idx = body.find('#')
    if idx < 0:
        return body, ''
    content = body[:idx]
    stripped = content.rstrip(' \t')
    return stripped, body[len(stripped):]


def _decode_token(raw, lineno):
    """Decode one raw token the way exportfs' xgettok does: quotes toggle, \\ooo octal."""
    out = []
    quoted = False
    for c in raw:
        if c == '"':
            quoted = not quoted
            continue
        out.append(c)
        if (len(out) >= 4 and out[-4] == '\\' and out[-3] in '01234567'
                and out[-2] in '01234567' and out[-1] in '01234567'):
            value = int(''.join(out[-3:]), 8)
            if value < 256:
                del out[-4:]
                out.append(chr(value) if value < 128 else chr(0xDC00 + value))
    if quoted:
        raise ExportsSyntaxError(f'unterminated double quote in {raw!r}', lineno)
    # octal escapes of bytes >= 128 and literal UTF-8 must compare equal: go through bytes
    return ''.join(out).encode('utf-8', 'surrogateescape').decode('utf-8', 'surrogateescape')


def _raw_tokens(content, lineno):
    """Split logical-line content into raw tokens (blanks and continuations separate them)."""
    tokens = []
    cur = []
    quoted = False
    i = 0
    n = len(content)
    while i < n:
        c = content[i]
        if c == '\\' and i + 1 < n and content[i + 1] == '\n':
            # continuation: acts as a blank
            c = ' '
            i += 1
        i += 1
        if c == '"':
            quoted = not quoted
            cur.append(c)
            continue
        if not quoted and c in ' \t\r\n\v\f':
            if cur:
                tokens.append(''.join(cur))
                cur = []
            continue
        cur.append(c)
    if quoted:
        raise ExportsSyntaxError('unterminated double quote', lineno)
    if cur:
        tokens.append(''.join(cur))
    return tokens


def split_options(text):
    """Split an option list written as ``a,b,c`` into a tuple (empty entries kept)."""
    if text == '':
        return ()
    return tuple(text.split(','))


def parse_client_token(token, lineno=None):
    """Parse one decoded client token: ``host``, ``host(opts)`` or ``(opts)``."""
    idx = token.find('(')
    if idx < 0:
        if ')' in token:
            raise ExportsSyntaxError(f'bad option list in {token!r}', lineno)
        return Client(token, None)
    host = token[:idx]
    rest = token[idx + 1:]
    if not rest.endswith(')') or ')' in rest[:-1] or '(' in rest:
        raise ExportsSyntaxError(f'bad option list in {token!r}', lineno)
    return Client(host, split_options(rest[:-1]))


def parse_line(content, lineno=None, comment=''):
    """Parse the content of one logical line (no comment, no line ending) into an Export."""
    raw = _raw_tokens(content, lineno)
    if not raw:
        return None
    path = _decode_token(raw[0], lineno)
    items = []
    for tok in raw[1:]:
        decoded = _decode_token(tok, lineno)
        if decoded.startswith('-'):
            items.append(Defaults(split_options(decoded[1:])))
        else:
            items.append(parse_client_token(decoded, lineno))
    # blanks between the path token and the first item, as written (continuations included)
    lead = re.match(r'^(?:[ \t\r\v\f]|\\\n)*', content).end()
    after_path = lead + len(raw[0])
    sep_m = re.match(r'(?:[ \t\r\v\f]|\\\n)*', content[after_path:])
    sep = sep_m.group(0) if items else ' '
    if '\\\n' in sep or not sep:
        sep = ' '
    return Export(path, items, raw_path=content[:after_path], comment=comment, sep=sep)


class ExportsFile:
    """An exports file as a list of spans; ``render()`` gives back the exact text.

    The lines of one path are one export, as for exportfs: ``set_export`` edits them
    together and keeps their layout. With a ``marker``, every line of a managed path
    ends with the comment ``# <marker>``: that is how a caller (role nfs_server) later
    finds the lines it owns and removes those whose path it no longer lists
    (``remove_marked``), while lines without the mark are never touched.
    Editing methods return a list of one-line descriptions of what changed.
    """

    def __init__(self, spans):
        self.spans = list(spans)

    @classmethod
    def parse(cls, text):
        return cls(_parse_span(chunk, lineno) for lineno, chunk in split_logical_lines(text))

    def render(self):
        return ''.join(s.text for s in self.spans)

    @property
    def exports(self):
        return [s.export for s in self.spans if s.export is not None]

    def find(self, path):
        """Spans whose export path is ``path`` (compared after normalize_path)."""
        want = normalize_path(path)
        return [s for s in self.spans if s.export is not None and normalize_path(s.export.path) == want]

    def set_export(self, export, marker=None):
        """Make the lines of ``export.path`` export exactly ``export``. Return the changes.

        A path without a line gets one at the end of the file. A path on one or more
        lines keeps them: each client stays on the first line that already names its
        host, a new client joins the line of the client listed before it (the first
        line when there is none), each line gets the default options of ``export``
        followed by its clients in the order of ``export``, and a line left without a
        client is removed. A line whose content does not change is not rewritten; a
        rewritten line keeps its path spelling, the blanks after the path, its trailing
        comment and its line ending. With ``marker``, each line of the path ends with
        the comment ``# <marker>`` (appended to an existing comment).
        """
        path = normalize_path(export.path)
        spans = self.find(path)
        if not spans:
            text = self.render()
            if text and not text.endswith('\n'):
                self.spans[-1].text += '\n'
            lineno = self._next_lineno()
            new = Export(export.path, export.items, comment=_marked_comment('', marker))
            self.spans.append(Span(render_line(new) + '\n', lineno, new))
            return [f'{path}: added as line {lineno}: {_without_comment(new)}']

        defaults = [i for i in export.items if isinstance(i, Defaults)]
        first_line = {}
        for index, span in enumerate(spans):
            for client in span.export.clients:
                if client.host:
                    first_line.setdefault(client.host, index)
        assigned = [[] for span in spans]
        index = 0
        for client in export.clients:
            index = first_line.get(client.host, index)
            assigned[index].append(client)
        kept_on = {c.host: spans[i].lineno for i, clients in enumerate(assigned) for c in clients}

        changes = []
        for span, clients in zip(spans, assigned):
            old = span.export
            where = f'{path} line {span.lineno}'
            if not clients:
                self.spans.remove(span)
                changes.append(f'{where}: removed ({_removed_line_reason(old, kept_on)})')
                continue
            items = defaults + clients
            comment = _marked_comment(old.comment, marker)
            if items == old.items:
                if comment != old.comment:
                    # Only the mark is new: append it and keep the line as it is written.
                    body = span.text[:len(span.text) - len(_line_ending(span.text))]
                    span.text = body.rstrip(' \t') + comment[len(old.comment.rstrip()):] + _line_ending(span.text)
                    span.export = _parse_span(span.text, span.lineno).export
                    changes.append(f'{where}: marked with "# {marker}"')
                continue
            new = Export(old.path, items, raw_path=old.raw_path, comment=comment, sep=old.sep)
            span.text = render_line(new) + _line_ending(span.text)
            span.export = new
            changes.extend(f'{where}: {change}' for change in _line_changes(old, new, kept_on, span.lineno))
            if comment != old.comment:
                changes.append(f'{where}: marked with "# {marker}"')
        return changes

    def remove_export(self, path):
        """Remove every line for ``path``. Return the removed spans."""
        spans = self.find(path)
        for span in spans:
            self.spans.remove(span)
        return spans

    def remove_marked(self, marker, keep=()):
        """Remove the lines marked ``# <marker>`` whose path is not in ``keep``. Return the changes."""
        keep = {normalize_path(p) for p in keep}
        changes = []
        for span in list(self.spans):
            export = span.export
            if export is not None and has_marker(export, marker) and normalize_path(export.path) not in keep:
                self.spans.remove(span)
                changes.append(f'{normalize_path(export.path)} line {span.lineno}: removed '
                               f'(marked "# {marker}" and no longer listed): {_without_comment(export)}')
        return changes

    def apply(self, exports, marker=None, exclusive=False):
        """``set_export`` each of ``exports``; with ``exclusive``, then ``remove_marked``.

        Paths must be unique in ``exports``. Return the changes.
        """
        if exclusive and not marker:
            raise ExportsError('exclusive needs a marker: only marked lines are ever removed')
        seen = {}
        for number, export in enumerate(exports, 1):
            key = normalize_path(export.path)
            if key in seen:
                raise ExportsError(f'export {key} is listed twice (#{seen[key]} and #{number}); list each path once')
            seen[key] = number
        changes = []
        for export in exports:
            changes.extend(self.set_export(export, marker))
        if exclusive:
            changes.extend(self.remove_marked(marker, keep=seen))
        return changes

    def _next_lineno(self):
        return self.render().count('\n') + 1


def _parse_span(chunk, lineno):
    content, comment = _split_comment(chunk)
    return Span(chunk, lineno, parse_line(content, lineno, comment))


# --------------------------------------------------------------------------------------
# Ownership marks and change descriptions
# --------------------------------------------------------------------------------------

def validate_marker(marker):
    """Check a marker (the comment text that marks managed lines); return it."""
    if not isinstance(marker, str) or not marker.strip():
        raise ExportsError('marker must be a non-empty string')
    bad = [c for c in marker if c in '\n\r\0']
    if bad:
        raise ExportsError(f'marker {marker!r} contains {bad[0]!r}; it must fit on one line')
    if marker != marker.strip():
        raise ExportsError(f'marker {marker!r} must not start or end with blanks')
    return marker


def has_marker(export, marker):
    """True when the line of ``export`` ends with the comment ``# <marker>``."""
    if not marker or not export.comment:
        return False
    return re.search(r'#[ \t]*' + re.escape(marker) + r'[ \t]*$', export.comment) is not None


def _marked_comment(comment, marker):
    """``comment`` (a trailing comment with its leading blanks, or '') ending with ``# <marker>``."""
    if not marker or has_marker(Export('', (), comment=comment), marker):
        return comment
    return (comment.rstrip() if comment.strip() else '') + f'  # {marker}'


def _without_comment(export):
    """The export line as rendered, without its trailing comment (for change descriptions)."""
    return render_line(Export(export.path, export.items, raw_path=export.raw_path, sep=export.sep))


def _defaults_text(export):
    return ' '.join(render_item(i) for i in export.items if isinstance(i, Defaults)) or '(none)'


def _line_changes(old, new, kept_on, lineno):
    """What differs between two versions of one line, client by client."""
    out = []
    if _defaults_text(old) != _defaults_text(new):
        out.append(f'default options {_defaults_text(old)} -> {_defaults_text(new)}')
    old_clients = {}
    for client in old.clients:
        old_clients.setdefault(client.host, client)
    new_hosts = {c.host for c in new.clients}
    for client in new.clients:
        before = old_clients.get(client.host)
        if before is None:
            out.append(f'client {render_client(client)} added')
        elif before != client:
            out.append(f'client {render_client(before)} -> {render_client(client)}')
    for client in old.clients:
        if client.host not in new_hosts:
            out.append(f'client {render_client(client)} removed{_still_on(client, kept_on, lineno)}')
    if not out:
        out.append(f'rewritten as {_without_comment(new)}')
    return out


def _still_on(client, kept_on, lineno):
    line = kept_on.get(client.host)
    return f' (it stays on line {line})' if line is not None and line != lineno else ''


def _removed_line_reason(old, kept_on):
    parts = []
    for client in old.clients:
        if client.host in kept_on:
            parts.append(f'client {render_client(client)} stays on line {kept_on[client.host]}')
        else:
            parts.append(f'client {render_client(client)} removed')
    return '; '.join(parts) or 'no client'


def parse_exports(text):
    """Parse exports file text into an ExportsFile."""
    return ExportsFile.parse(text)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

def encode_path(path):
    r"""Write ``path`` as an exports(5) token: blanks, ``#``, ``"``, ``\`` and control
    characters become ``\ooo`` octal escapes, like exportfs' own writer does."""
    out = []
    for c in path:
        code = ord(c)
        if 0xDC80 <= code <= 0xDCFF:   # surrogate-escaped byte
            out.append('\\%03o' % (code - 0xDC00))
        elif code < 32 or code == 127 or c in ' "#\\':
            out.append(f'\\{code:03o}')
        else:
            out.append(c)
    return ''.join(out)


def render_options(options):
    return ','.join(options)


def render_client(client):
    if client.options is None:
        return client.host
    return f'{client.host}({render_options(client.options)})'


def render_item(item):
    if isinstance(item, Defaults):
        return '-' + render_options(item.options)
    return render_client(item)


def render_line(export):
    """Render an Export as one line (no line ending)."""
    path = export.raw_path if export.raw_path is not None else encode_path(export.path)
    if not export.items:
        return path + export.comment
    return path + export.sep + ' '.join(render_item(i) for i in export.items) + export.comment


# --------------------------------------------------------------------------------------
# Validation of what the module is asked to write
# --------------------------------------------------------------------------------------

def normalize_path(path):
    """Collapse repeated slashes and drop a trailing slash (exportfs realpath()s paths)."""
    if not path.startswith('/'):
        return path
    norm = re.sub('/+', '/', path)
    if len(norm) > 1:
        norm = norm.rstrip('/')
    return norm


def validate_path(path):
    """Check an export path given to the module; return it normalised."""
    if not isinstance(path, str) or path == '':
        raise ExportsError('path must be a non-empty string')
    for bad, name in (('\n', 'a newline'), ('\r', 'a carriage return'), ('\0', 'a NUL byte'),
                      ('"', 'a double quote')):
        if bad in path:
            raise ExportsError(f'path {path!r} contains {name}, which exports(5) cannot hold')
    if not path.startswith('/'):
        raise ExportsError(f'path {path!r} is not absolute; exports(5) needs an absolute path')
    parts = path.split('/')
    if '.' in parts or '..' in parts:
        raise ExportsError(f'path {path!r} contains "." or ".." components; give the real directory')
    norm = normalize_path(path)
    encoded = encode_path(norm)
    if _decode_token(encoded, None) != norm:
        raise ExportsError(f'path {path!r} contains a backslash followed by octal digits, which exportfs '
                           'would decode as an escape; it cannot be written unambiguously')
    if len(encoded.encode('utf-8', 'surrogateescape')) >= MAX_PATH:
        raise ExportsError(f'path {path!r} is too long for exportfs (limit {MAX_PATH - 1} bytes)')
    return norm


def _valid_ipv4_text(text):
    parts = text.split('.')
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts)


def validate_host(host):
    """Check a client host specification; return a short kind name.

    Accepts ``*``, ``@netgroup``, IPv4/IPv6 addresses, networks as address/prefix (IPv6:
    prefix length only; IPv4: also a dotted netmask), and host names possibly containing the
    wildcards ``*``, ``?`` and ``[...]``. Networks must not have host bits set
    (``10.0.0.1/24`` is rejected; write ``10.0.0.0/24``) although exportfs would mask them:
    such an entry usually means a single host was intended.
    """
    if not isinstance(host, str) or host == '':
        raise ExportsError('client host must be a non-empty string; use "*" for every host')
    bad = [c for c in host if c in ' \t\r\n\v\f(),"#\\\0']
    if bad:
        raise ExportsError(f'client host {host!r} contains {bad[0]!r}, which is not allowed in a host specification')
    if host == '*':
        return 'anonymous'
    if host.startswith('@'):
        if not _NETGROUP.match(host):
            raise ExportsError(f'client host {host!r} is not a valid @netgroup name')
        return 'netgroup'
    if host.startswith('[') and ':' in host:
        raise ExportsError(f'client host {host!r}: exports(5) wants IPv6 addresses without square brackets')
    if '/' in host:
        addr, mask = host.split('/', 1)
        try:
            if ':' in addr:
                if not mask.isdigit():
                    raise ValueError('IPv6 networks need a prefix length')
                ipaddress.IPv6Network(f'{addr}/{mask}', strict=True)
                return 'network'
            if not _valid_ipv4_text(addr) or not (mask.isdigit() or _valid_ipv4_text(mask)):
                raise ValueError('expected address/prefix')
            ipaddress.IPv4Network(f'{addr}/{mask}', strict=True)
            return 'network'
        except ValueError as exc:
            raise ExportsError(f'client host {host!r} is not a valid network (CIDR): {exc}')
    if ':' in host:
        try:
            ipaddress.IPv6Address(f'{host}')
        except ValueError as exc:
            raise ExportsError(f'client host {host!r} is not a valid IPv6 address: {exc}')
        return 'address'
    if re.match(r'^[0-9.]+$', host):
        try:
            if not _valid_ipv4_text(host):
                raise ValueError('expected four dot-separated numbers')
            ipaddress.IPv4Address(f'{host}')
        except ValueError as exc:
            raise ExportsError(f'client host {host!r} is not a valid IPv4 address: {exc}')
        return 'address'
    if not _HOST_CHARS.match(host):
        raise ExportsError(f'client host {host!r} is not a valid host name or wildcard')
    if host.count('[') != host.count(']') or re.search(r'\[[^\]]*\[', host) or re.search(r'\[\]', host):
        raise ExportsError(f'client host {host!r} has an unbalanced or empty [...] wildcard')
    if '..' in host or host.startswith(('.', '-')):
        raise ExportsError(f'client host {host!r} is not a valid host name or wildcard')
    if any(c in host for c in '*?['):
        return 'wildcard'
    return 'hostname'


def _valid_uuid(value):
    return (re.match(r'^[0-9A-Fa-f:.-]+$', value) is not None
            and sum(1 for c in value if c in '0123456789abcdefABCDEF') == 32)


def _check_value(where, name, value):
    if name in ('anonuid', 'anongid'):
        if not value.isdigit() or int(value) > _ID_MAX:
            raise ExportsError(f'{where}: {name}={value}: {name} must be a non-negative integer (0..{_ID_MAX})')
    elif name == 'fsid':
        if value == 'root':
            return
        if value.isdigit():
            # exportfs reads the number with strtoul(..., 0): a leading 0 makes it octal
            if value.startswith('0') and value.strip('01234567'):
                raise ExportsError(f'{where}: fsid={value}: a number with a leading 0 is octal to exportfs, '
                                   f'and {value} is not; drop the leading 0')
            if int(value, 8 if value.startswith('0') else 10) > 4294967295:
                raise ExportsError(f'{where}: fsid={value}: a numeric fsid must fit in 32 bits')
            return
        if not _valid_uuid(value):
            raise ExportsError(f'{where}: fsid={value}: fsid must be "root", a non-negative integer or a UUID '
                               '(32 hex digits)')
    elif name == 'sec':
        flavors = value.split(':')
        for flavor in flavors:
            if flavor not in SEC_FLAVORS:
                raise ExportsError('{}: sec={}: unknown security flavor {!r} (known: {})'.format(where, value, flavor, ', '.join(SEC_FLAVORS)))
        if len(set(flavors)) != len(flavors):
            raise ExportsError(f'{where}: sec={value}: a flavor is listed twice')
    elif name == 'xprtsec':
        for policy in value.split(':'):
            if policy not in XPRTSEC_POLICIES:
                known = ', '.join(XPRTSEC_POLICIES)
                raise ExportsError(f'{where}: xprtsec={value}: unknown transport security policy {policy!r} (known: {known})')
    elif name in ('mountpoint', 'mp'):
        if not value.startswith('/'):
            raise ExportsError(f'{where}: {name}={value}: the mount point must be an absolute path')
    elif name in ('refer', 'replicas'):
        for loc in value.split(':'):
            p, at, hosts = loc.partition('@')
            if not p.startswith('/') or not at or not all(hosts.split('+')):
                raise ExportsError(f'{where}: {name}={value}: expected path@host[+host][:path@host[+host]]')


def validate_options(options, where='options'):
    """Check an option list for unknown names, bad values and contradictions.

    ``where`` names the line and client in error messages. Returns the options as a tuple.
    Contradictions are looked for in each ``sec=`` section separately for the options
    exports(5) lets vary by flavor (ro, rw, root_squash, no_root_squash, all_squash,
    no_all_squash) and across the whole list for all others.
    """
    options = tuple(options)
    values = {}
    sections = [[]]
    seen_flags = set()
    for opt in options:
        if not isinstance(opt, str):
            raise ExportsError(f'{where}: option {opt!r} is not a string')
        if opt == '':
            raise ExportsError('{}: empty option in {!r}'.format(where, ','.join(options)))
        bad = [c for c in opt if c in ' \t\r\n\v\f(),"#\\\0']
        if bad:
            raise ExportsError(f'{where}: option {opt!r} contains {bad[0]!r}')
        name, eq, value = opt.partition('=')
        if eq:
            if name not in VALUE_OPTIONS:
                if name in FLAG_OPTIONS:
                    raise ExportsError(f'{where}: option {opt!r} takes no value')
                raise ExportsError(f'{where}: unknown export option {opt!r} (see exports(5))')
            if value == '':
                raise ExportsError(f'{where}: option {opt!r} needs a value')
            _check_value(where, name, value)
            if name == 'sec':
                sections.append([])
                continue
            key = name
            if name == 'fsid':
                key = 'fsid-uuid' if _valid_uuid(value) else 'fsid'
            if name == 'mp':
                key = 'mountpoint'
            previous = values.get(key)
            if previous is not None and previous[1] != value:
                raise ExportsError(f'{where}: options {previous[0]!r} and {opt!r} contradict each other')
            values[key] = (opt, value)
        else:
            if name not in FLAG_OPTIONS:
                if name in VALUE_OPTIONS:
                    raise ExportsError(f'{where}: option {opt!r} needs a value ({opt}=...)')
                raise ExportsError(f'{where}: unknown export option {opt!r} (see exports(5))')
            if name in _PER_FLAVOR:
                sections[-1].append(name)
            else:
                seen_flags.add(name)
    for group in [seen_flags] + [set(s) for s in sections]:
        for left, right in _CONFLICTS:
            a = [o for o in left if o in group]
            b = [o for o in right if o in group]
            if a and b:
                raise ExportsError(f'{where}: options {a[0]!r} and {b[0]!r} contradict each other')
    return options


def as_option_list(value, where='options'):
    """Accept options as a list of strings or a comma-separated string; blanks around names go."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ExportsError(f'{where}: options must be a list or a comma-separated string')
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ExportsError(f'{where}: option {v!r} is not a string')
        if v.strip():
            out.extend(part.strip() for part in v.split(','))
    return tuple(out)


def build_export(path, clients, default_options=None):
    """Validate module input and return the Export to write.

    ``clients`` is a list of ``{'host': ..., 'options': ...}`` mappings; ``options`` may be
    a list or a comma-separated string, and may be empty (``host`` alone).
    """
    norm = validate_path(path)
    if not clients:
        raise ExportsError(f'export {norm}: the client list is empty; give at least one client '
                           '(use state=absent to remove the export)')
    items = []
    defaults = as_option_list(default_options, f'export {norm}, default options')
    if defaults:
        validate_options(defaults, f'export {norm}, default options')
        items.append(Defaults(defaults))
    seen = {}
    for index, spec in enumerate(clients):
        if isinstance(spec, Client):
            host, options = spec.host, spec.options
        elif isinstance(spec, dict):
            unknown = set(spec) - {'host', 'options'}
            if unknown:
                raise ExportsError(f'export {norm}, client #{index + 1}: unknown key(s) {", ".join(sorted(unknown))}')
            host, options = spec.get('host'), spec.get('options')
        else:
            raise ExportsError(f'export {norm}, client #{index + 1}: expected a mapping with host and options')
        if not isinstance(host, str) or not host:
            raise ExportsError(f'export {norm}, client #{index + 1}: host is missing or empty; use "*" for every host')
        where = f'export {norm}, client {host}'
        try:
            validate_host(host)
        except ExportsError as exc:
            raise ExportsError(f'export {norm}: {exc}')
        if host in seen:
            raise ExportsError(f'export {norm}: client {host} is listed twice (#{seen[host]} and #{index + 1})')
        seen[host] = index + 1
        opts = validate_options(as_option_list(options, where), where)
        client = Client(host, opts if opts else None)
        token = render_client(client)
        if len(token.encode('utf-8', 'surrogateescape')) > MAX_CLIENT_TOKEN:
            raise ExportsError(f'{where}: "{token}" is longer than exportfs accepts ({MAX_CLIENT_TOKEN} bytes)')
        items.append(client)
    return Export(norm, items)


def validate_dest(dest):
    """Check the exports file name: absolute, and ``*.exports`` inside an exports.d folder."""
    if not dest or not dest.startswith('/'):
        raise ExportsError(f'dest {dest!r} must be an absolute file name')
    if dest.endswith('/'):
        raise ExportsError(f'dest {dest!r} names a directory, not a file')
    directory, name = posixpath.split(dest)
    if posixpath.basename(directory) == 'exports.d':
        if not name.endswith('.exports') or name == '.exports':
            raise ExportsError(f'dest {dest!r}: exportfs only reads files ending in ".exports" from {directory}')
        if name.startswith('.'):
            raise ExportsError(f'dest {dest!r}: exportfs ignores files starting with a dot in {directory}')
    return dest


# --------------------------------------------------------------------------------------
# Warnings about the meaning of a line
# --------------------------------------------------------------------------------------

def export_warnings(export, lineno=None):
    """Human-readable warnings about an export line (world exports, host-less options)."""
    where = f'line {lineno}' if lineno else f'export {export.path}'
    warnings = []
    items = export.items
    for idx, item in enumerate(items):
        if not isinstance(item, Client):
            continue
        if item.host == '' and item.options is not None:
            prev = items[idx - 1] if idx else None
            if isinstance(prev, Client) and prev.options is None and prev.host:
                warnings.append(
                    f'{where}: "{prev.host} {render_client(item)}" has a blank between the host and its options: exports(5) gives {prev.host} the '
                    f'default options and applies {render_client(item)} to every host. Write "{prev.host}{render_client(item)}" if that is not intended.')
            else:
                warnings.append(f'{where}: "{render_client(item)}" has no host, so exports(5) applies it to every host; write "*{render_client(item)}"')
        if item.host in ('*', '') and item.options and 'no_root_squash' in item.options:
            warnings.append(f'{where}: {render_client(item)} exports {export.path} to every host with no_root_squash: any client can act as root '
                            'on it')
    return warnings


def client_dicts(export):
    """The clients of an export as plain data (for module results)."""
    defaults = []
    out = []
    for item in export.items:
        if isinstance(item, Defaults):
            defaults.extend(item.options)
            continue
        out.append({'host': item.host or '*', 'options': list(item.options or ()),
                    'effective_options': list(defaults) + list(item.options or ())})
    return out
