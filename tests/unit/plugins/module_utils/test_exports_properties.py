"""Property-based tests: generated exports files parse to what was generated and render back."""

from __future__ import annotations

from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    FLAG_OPTIONS,
    Client,
    Defaults,
    Export,
    build_export,
    encode_path,
    has_marker,
    normalize_path,
    parse_exports,
    render_item,
    render_line,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_segment = st.text(alphabet='abcxyzABC019_-.é #\t', min_size=1, max_size=8).filter(lambda s: s not in ('.', '..'))
paths = st.lists(_segment, min_size=1, max_size=4).map(lambda parts: '/' + '/'.join(parts))

hosts = st.one_of(
    st.sampled_from(['*', '@trusted', '@ng-1', '10.0.0.0/24', '192.168.1.7', '2001:db8::/64', '::1',
                     '10.0.0.0/255.255.0.0', 'node[0-9].lan', 'node?.lan', '*.example.com']),
    st.from_regex(r'\A[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9]{0,5}){0,2}\Z'),
)
option_lists = st.lists(st.sampled_from(sorted(FLAG_OPTIONS) + ['anonuid=150', 'fsid=1', 'sec=krb5p']),
                        max_size=5).map(tuple)
clients = st.builds(Client, hosts, st.one_of(st.none(), option_lists))
items = st.tuples(
    st.lists(st.builds(Defaults, option_lists), max_size=1),
    st.lists(clients, min_size=1, max_size=4),
).map(lambda t: t[0] + t[1])
exports = st.builds(Export, paths, items)

blanks = st.sampled_from([' ', '\t', '  ', ' \t ', ' \\\n  ', '\\\n\t'])
line_endings = st.sampled_from(['\n', '\n', '\r\n'])


@st.composite
def written_export(draw):
    """An Export and one of the many ways to write it on a (logical) line."""
    export = draw(exports)
    path = export.path
    if '#' not in path and draw(st.booleans()):
        spelled = f'"{path}"'
    else:
        spelled = encode_path(path)
    text = draw(st.sampled_from(['', ' ', '\t'])) + spelled
    for item in export.items:
        text += draw(blanks) + render_item(item)
    if draw(st.booleans()):
        text += draw(st.sampled_from([' ', '\t'])) + '# ' + draw(st.text(alphabet='abc #\\"(', max_size=10))
    return export, text


@st.composite
def exports_files(draw):
    lines = draw(st.lists(st.one_of(
        st.tuples(st.none(), st.sampled_from(['', ' ', '\t \t'])),
        st.tuples(st.none(), st.text(alphabet='abc #\\"()\t', max_size=15).map(lambda c: '#' + c)),
        written_export(),
    ), max_size=12))
    text = ''
    model = []
    for entry in lines:
        if entry[0] is None:
            text += entry[1] + draw(line_endings)
        else:
            model.append(entry[0])
            text += entry[1] + draw(line_endings)
    if text and draw(st.booleans()):
        text = text.rstrip('\r\n')
    return model, text


@SETTINGS
@given(exports_files())
def test_parse_recovers_model_and_renders_byte_for_byte(sample):
    model, text = sample
    parsed = parse_exports(text)
    assert parsed.render() == text
    assert [(e.path, e.items) for e in parsed.exports] == [(e.path, e.items) for e in model]


@SETTINGS
@given(exports)
def test_parse_of_rendered_entry_is_the_entry(export):
    (parsed,) = parse_exports(render_line(export) + '\n').exports
    assert parsed == export


@SETTINGS
@given(exports_files(), st.integers(min_value=0, max_value=20), st.lists(st.sampled_from(['rw', 'sync', 'no_subtree_check']),
                                                                           max_size=2, unique=True))
def test_set_export_changes_only_the_managed_span(sample, pick, opts):
    _model, text = sample
    parsed = parse_exports(text)
    # manage either an existing path (if exactly one line has it) or a new one
    existing = [e.path for e in parsed.exports]
    candidates = [p for p in existing if existing.count(p) == 1 and '\\' not in p]
    path = candidates[pick % len(candidates)] if candidates else '/brand/new'
    desired = build_export(path, [{'host': 'h1', 'options': list(opts)}])
    others_before = [s.text for s in parsed.spans if s.export is None or s.export.path != path]
    parsed.set_export(desired)
    after = parse_exports(parsed.render())
    others_after = [s.text for s in after.spans if s.export is None or s.export.path != path]
    # line endings may be added to what was the last line when a new line is appended
    assert [t.rstrip('\r\n') for t in others_after] == [t.rstrip('\r\n') for t in others_before]
    (managed,) = [e for e in after.exports if e.path == path]
    assert managed.items == desired.items
    # idempotent: a second application changes nothing
    assert not after.set_export(desired)
    # and removing it leaves every other span exactly
    after.remove_export(path)
    assert [s.text.rstrip('\r\n') for s in after.spans] == [t.rstrip('\r\n') for t in others_before]


MARK = 'managed by a property test'


@SETTINGS
@given(exports_files(), st.integers(min_value=0, max_value=20),
       st.lists(st.sampled_from(['h1', 'h2', '10.0.0.0/24', '*']), min_size=1, max_size=3, unique=True))
def test_owned_export_on_any_number_of_lines(sample, pick, hosts_wanted):
    """the lines of one path are one export; the marked lines of
    an unlisted path go; every other line stays byte for byte."""
    _model, text = sample
    parsed = parse_exports(text)
    existing = sorted({e.path for e in parsed.exports if '\\' not in e.path})
    path = existing[pick % len(existing)] if existing and pick % 3 else '/brand/new'
    desired = build_export(path, [{'host': h, 'options': ['rw']} for h in hosts_wanted])
    others_before = [s.text for s in parsed.spans if s.export is None or normalize_path(s.export.path) != path]
    parsed.apply([desired], marker=MARK, exclusive=True)
    after = parse_exports(parsed.render())
    others_after = [s.text for s in after.spans if s.export is None or normalize_path(s.export.path) != path]
    # the generated comments never carry the mark, so nothing else is removed
    assert [t.rstrip('\r\n') for t in others_after] == [t.rstrip('\r\n') for t in others_before]
    managed = after.find(path)
    assert managed and all(has_marker(s.export, MARK) for s in managed)
    clients = [c for s in managed for c in s.export.clients]
    assert sorted(c.host for c in clients) == sorted(hosts_wanted)
    assert all(c.options == ('rw',) for c in clients)
    assert not after.apply([desired], marker=MARK, exclusive=True)
    # dropped from the list: its lines go, and only they
    assert after.apply([], marker=MARK, exclusive=True)
    assert [s.text.rstrip('\r\n') for s in after.spans] == [t.rstrip('\r\n') for t in others_before]
