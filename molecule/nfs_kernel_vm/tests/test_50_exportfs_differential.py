"""The real exportfs as a second opinion on our exports(5) parser.

Every file of the corpus (exports_corpus.py) is loaded by nfs-utils' own `exportfs -ra` in
the server VM, and what `exportfs -v` then reports for each path and client, with the
options exportfs filled in, must equal what plugins/module_utils/exports.py makes of the
same file: parse_exports() for the paths, clients and option lists, exportfs_options()
(module_utils/export_meaning.py) for
what they mean. A difference is a bug in one of them, or one of the documented differences
below.

Each file is loaded in a mount namespace of its own (unshare -m) in which the file is bind
mounted over /etc/exports, an empty directory over /etc/exports.d, a fresh /var/lib/nfs
(exportfs' table, etab) and an /etc/hosts that resolves every host name of the corpus: the
server's real exports are never touched (mountd keeps reading the real etab). Paths are
created as directories first (exportfs skips a path it cannot stat).

Documented differences (not bugs, and not compared):
* exportfs drops a client whose host name does not resolve ("Failed to resolve"); the
  parser keeps what the file says. Here every name resolves.
* A (path, client) pair listed twice: exportfs keeps the first, reports "duplicated export
  entries" and exits 1. exports.py parses both lines (nfs_export refuses to write such a
  pair); the comparison keeps the first too, and checks that exportfs reported exactly
  the pairs the parser sees twice.
"""

import json
import re
import shlex
import time
from pathlib import Path

import pytest
from conftest import exportfs_entries
from exports_corpus import fixture_files, generated_files, module_written_files, option_list_files

from ansible_collections.stateful.nfs.plugins.module_utils.export_meaning import exportfs_options
from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    client_dicts,
    normalize_path,
    parse_exports,
)

GENERATED_FILES = 40
MODULE_EXPORTS = 120
MODULE_EXPORTS_PER_FILE = 12
VM_CORPUS = '/var/tmp/exportfs-corpus'
LOAD_TIMEOUT = 900          # seconds for loading the whole corpus in the VM
# The figures of the last run (corpus size, entries, disagreements), outside the tracked tree.
REPORT = Path(__file__).resolve().parents[3] / '.lab' / 'nfs_kernel_vm-exportfs-differential.json'

# Loads each corpus file in a private mount namespace; see the module docstring.
LOAD_SCRIPT = r'''
set -eu
corpus=$1
empty=$(mktemp -d)
exec unshare --mount --propagation private sh -eu -c '
  corpus=$1 empty=$2
  mount --bind "$corpus/hosts" /etc/hosts
  [ ! -d /etc/exports.d ] || mount --bind "$empty" /etc/exports.d
  while IFS= read -r path; do mkdir -p -- "$path"; done < "$corpus/paths"
  for file in "$corpus"/*.exports; do
    state=$(mktemp -d)
    mount --bind "$file" /etc/exports
    mount --bind "$state" /var/lib/nfs
    rc=0; exportfs -ra >"$file.out" 2>"$file.err" || rc=$?
    echo "$rc" >"$file.rc"
    exportfs -v >"$file.v" 2>>"$file.err"
    exportfs -s >"$file.s" 2>>"$file.err"
    umount /var/lib/nfs /etc/exports
    rm -rf "$state"
  done
' sh "$corpus" "$empty"
'''

# Every output of LOAD_SCRIPT in one JSON object (one SSH round trip).
FETCH_SCRIPT = '''
import json, os, sys
folder = sys.argv[1]
print(json.dumps({name: open(os.path.join(folder, name), encoding='utf-8', errors='surrogateescape').read()
                  for name in os.listdir(folder) if name.endswith(('.v', '.s', '.err', '.rc'))}))
'''
_OCTAL = re.compile(rb'\\([0-7]{3})')


def _decode_qword(token):
    """A path as `exportfs -s` writes it: special bytes as \\ooo."""
    raw = _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), token.encode('utf-8', 'surrogateescape'))
    return raw.decode('utf-8', 'surrogateescape')


def exportfs_table(v_text, s_text):
    """{(path, client): options} from `exportfs -v`, every setting spelled out as
    exportfs_options() spells it (client ``*`` for exportfs' ``<world>``).

    The paths come from `exportfs -s` (the same entries in the same order, the path
    escaped): `exportfs -v` pads and wraps them, which loses trailing blanks.
    """
    verbose = exportfs_entries(v_text)
    exact = [line.split() for line in s_text.splitlines() if line.strip()]
    assert len(verbose) == len(exact), (v_text, s_text)
    table = {}
    for (v_path, client, options), (s_path, s_client) in zip(verbose, exact):
        path = _decode_qword(s_path)
        client = '*' if client == '<world>' else client
        assert v_path == path.rstrip(' '), (v_path, path)
        assert s_client.split('(')[0] == client, (s_client, client)
        first_sec = next((i for i, o in enumerate(options) if o.startswith('sec=')), len(options))
        general, sec = options[:first_sec], options[first_sec:]

        def pick(on, off, general=general):
            return on if on in general else off

        def starting(*prefixes, general=general):
            return [o for o in general if o.startswith(prefixes)]

        spelled = [pick('async', 'sync'), pick('no_wdelay', 'wdelay'), pick('nohide', 'hide'),
                   pick('crossmnt', 'nocrossmnt'), pick('no_subtree_check', 'subtree_check'),
                   pick('insecure_locks', 'secure_locks'), pick('no_acl', 'acl'), pick('pnfs', 'no_pnfs')]
        spelled += [o for o in ('nordirplus', 'security_label') if o in general]
        spelled += starting('fsid=') + [o for o in general if o.partition('=')[0] == 'mountpoint']
        spelled += (starting('anonuid=') or ['anonuid=65534']) + (starting('anongid=') or ['anongid=65534'])
        spelled += starting('refer=', 'replicas=', 'xprtsec=')
        printed_when_default = {'sync', 'wdelay', 'hide'}
        unknown = [o for o in general if o not in spelled and o not in printed_when_default]
        table.setdefault((normalize_path(path), client), tuple(spelled + unknown + sec))
    return table


def parser_table(text):
    """({(path, client): options}, {duplicated (path, client)}) as exports.py reads the file.

    exportfs keeps the first entry of a (path, client) pair listed twice (and says so):
    so does this table.
    """
    table, duplicated = {}, set()
    for export in parse_exports(text).exports:
        for client in client_dicts(export):
            key = (normalize_path(export.path), client['host'])
            if key in table:
                duplicated.add(key)
            table.setdefault(key, exportfs_options(client['effective_options']))
    return table, duplicated


_DUPLICATE_ENTRY = re.compile(r'^exportfs: \t(.*?)(?: \(0x[0-9a-f]+\))?(?: \[IGNORED\])?$')


def exportfs_duplicates(stderr, keys):
    """The (path, client) pairs exportfs reports as "duplicated export entries"."""
    by_name = {f'{client}:{path}': (path, client) for path, client in keys}
    found = set()
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if line.endswith('duplicated export entries:'):
            for entry in lines[index + 1:index + 3]:
                match = _DUPLICATE_ENTRY.match(entry)
                found.add(by_name.get(match.group(1), match.group(1)) if match else entry)
    return found


def _hosts_file(texts):
    names = set()
    for text in texts:
        for export in parse_exports(text).exports:
            for client in client_dicts(export):
                host = client['host']
                if re.fullmatch(r'[a-z][a-z0-9.-]*', host) and not host.endswith('.'):
                    names.add(host)
    lines = ['127.0.0.1 localhost']
    lines += [f'10.{200 + i // 65536}.{i // 256 % 256}.{i % 256 + 1} {name}' for i, name in enumerate(sorted(names))]
    return '\n'.join(lines) + '\n', len(names)


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    files = fixture_files() + generated_files(GENERATED_FILES) + option_list_files()
    written, count, refused = module_written_files(tmp_path_factory.mktemp('module'), MODULE_EXPORTS,
                                                   MODULE_EXPORTS_PER_FILE)
    return {'files': files + written, 'module_exports_written': count, 'module_refusals': refused}


def test_real_exportfs_agrees_with_the_parser(server, corpus):
    files = corpus['files']
    texts = [text for _name, text in files]
    hosts, host_count = _hosts_file(texts)
    paths = sorted({normalize_path(e.path) for text in texts for e in parse_exports(text).exports})
    payload = {'hosts': hosts, 'paths': '\n'.join(paths) + '\n'}
    payload.update({f'{name}.exports': text for name, text in files})
    server.run_expect([0], f'rm -rf {VM_CORPUS} && mkdir -p {VM_CORPUS}')
    # One SSH round trip per file would take minutes under emulation: one JSON payload.
    blob = json.dumps(payload)
    server.run_expect([0], 'python3 -c ' + shlex.quote(
        'import json, os, sys\n'
        f'for name, text in json.loads(sys.stdin.read()).items():\n'
        f'    open(os.path.join({VM_CORPUS!r}, name), "w", encoding="utf-8", errors="surrogateescape").write(text)\n'
    ) + ' <<\'EOF_CORPUS\'\n' + blob + '\nEOF_CORPUS')
    real_before = server.check_output('exportfs -v')
    started = time.monotonic()
    load = server.run(f'timeout {LOAD_TIMEOUT} sh -c {shlex.quote(LOAD_SCRIPT)} sh {VM_CORPUS}')
    load_seconds = round(time.monotonic() - started, 1)
    assert load.rc == 0, load.stderr
    # The server's own exports did not move.
    assert server.check_output('exportfs -v') == real_before

    results = json.loads(server.check_output('python3 -c ' + shlex.quote(FETCH_SCRIPT) + ' ' + VM_CORPUS))
    disagreements, entries, duplicates, stderr, real_keys = [], 0, 0, {}, set()
    for name, text in files:
        out = {ext: results[f'{name}.exports.{ext}'] for ext in ('v', 's', 'err', 'rc')}
        real = exportfs_table(out['v'], out['s'])
        real_keys.update(real)
        ours, duplicated = parser_table(text)
        entries += len(real)
        for key in sorted(set(real) | set(ours)):
            if real.get(key) != ours.get(key):
                disagreements.append({'file': name, 'path': key[0], 'client': key[1],
                                      'exportfs': real.get(key), 'exports.py': ours.get(key)})
        # exportfs fails (exit 1) on a (path, client) pair listed twice, keeping the first.
        reported = exportfs_duplicates(out['err'], set(ours))
        duplicates += len(duplicated)
        if reported != duplicated or int(out['rc']) != (1 if duplicated else 0):
            disagreements.append({'file': name, 'exit': int(out['rc']), 'exportfs duplicates': sorted(map(str, reported)),
                                  'exports.py duplicates': sorted(map(str, duplicated))})
        errors = [line for line in out['err'].splitlines()
                  if ('error' in line.lower() or 'Failed' in line) and 'duplicated export entries' not in line]
        if errors:
            stderr[name] = errors
    report = {
        'files': len(files),
        'files_by_kind': {kind: sum(1 for n, _ in files if n.startswith(kind)) for kind in ('fixture', 'generated', 'optionlists', 'module')},
        'module_exports_written': corpus['module_exports_written'],
        'module_exports_refused': len(corpus['module_refusals']),
        'resolved_host_names': host_count,
        'paths': len(paths),
        'entries_compared': entries,
        'duplicated_pairs': duplicates,
        'disagreements': len(disagreements),
        'exportfs_load_seconds': load_seconds,
        'exportfs_errors': stderr,
        'first_disagreements': disagreements[:20],
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + '\n')
    print(json.dumps(report, indent=2))
    assert entries > 0
    # Every list of the shared corpus reached the kernel and was compared.
    assert sum(1 for key in real_keys if key[0].startswith('/srv/optionlists/')) == len(option_list_files()[0][1].splitlines())
    assert not disagreements, json.dumps(disagreements[:10], indent=2)
    assert not stderr, stderr
