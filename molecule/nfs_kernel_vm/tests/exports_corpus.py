"""The corpus of exports files that test_50 loads into the real exportfs.

Three kinds, the same on every run (hypothesis with a fixed seed):

* ``fixture-*``: the exports files of the unit tests (tests/unit/plugins/...);
* ``generated-*``: files drawn from the property tests' ``exports_files()`` strategy, which
  writes the same exports in many spellings (quotes, octal escapes, continuations, tabs,
  comments, CRLF, a missing final newline);
* ``optionlists``: the option lists of tests/support/export_corpus.py, one export line each
  (``/srv/optionlists/NNN 10.213.x.y(options)``): the lists the nfs_server scenario loads into
  NFS-Ganesha, so the kernel and Ganesha are compared with the same model on the same lists;
* ``module-*``: exports drawn from the property tests' ``exports`` strategy, written one
  after the other into a file by the nfs_export module itself (its ``main()``, as the unit
  tests run it). The module refuses what fails its validation (contradicting options, an
  ``rw`` client listed twice, ...): those are counted, not written.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
for entry in (str(REPO / '.collections'), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.module_utils.exports import Defaults
from ansible_collections.stateful.nfs.plugins.modules import nfs_export
from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.support.export_corpus import corpus_host, draw_option_lists

UNIT = REPO / 'tests' / 'unit' / 'plugins'
# The same corpus on every run.
SEED = 20141


def _load(path):
    spec = importlib.util.spec_from_file_location(f'nfs_kernel_vm_corpus_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_files():
    """The unit tests' exports files, as (name, text)."""
    unit_exports = _load(UNIT / 'module_utils' / 'test_exports.py')
    unit_module = _load(UNIT / 'modules' / 'test_nfs_export.py')
    return [
        ('fixture-man-page-example', unit_exports.MAN_PAGE_EXAMPLE),
        ('fixture-edited-file', unit_exports.BASE),
        ('fixture-exportfs-semantics', unit_exports.EXPORTFS_SEMANTICS),
        ('fixture-module-original', unit_module.ORIGINAL),
    ]


def draw(strategy, count):
    """``count`` examples of ``strategy``, the same on every run."""
    examples = []

    @seed(SEED)
    @settings(max_examples=count, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def collect(example):
        examples.append(example)

    collect()
    return examples[:count]


def generated_files(count):
    """Files from the property tests' exports_files() strategy, as (name, text)."""
    properties = _load(UNIT / 'module_utils' / 'test_exports_properties.py')
    texts = [text for _model, text in draw(properties.exports_files(), count * 3) if text.strip()]
    return [(f'generated-{i:03d}', text) for i, text in enumerate(texts[:count])]


def option_list_files():
    """The shared option-list corpus as one exports file, as [(name, text)]."""
    lines = [f'/srv/optionlists/{index:03d} {corpus_host(index)}({",".join(options)})'
             for index, options in enumerate(draw_option_lists())]
    return [('optionlists', '\n'.join(lines) + '\n')]


def run_nfs_export(args):
    """Run nfs_export's main() with ``args``; return its result."""
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        nfs_export.main()
    return json.loads(out.getvalue())


def module_written_files(workdir, count, per_file):
    """Exports from the property tests' ``exports`` strategy written by nfs_export.

    Returns ([(name, text)], number of exports written, [refusal messages]).
    """
    properties = _load(UNIT / 'module_utils' / 'test_exports_properties.py')
    exports = draw(properties.exports, count)
    files, written, refused = [], 0, []
    for index in range(0, len(exports), per_file):
        dest = Path(workdir) / f'module-{index // per_file:03d}.exports'
        for export in exports[index:index + per_file]:
            defaults = [o for item in export.items if isinstance(item, Defaults) for o in item.options]
            clients = [{'host': c.host, 'options': list(c.options or ())} for c in export.clients]
            result = run_nfs_export({'path': export.path, 'clients': clients, 'default_options': defaults,
                                     'dest': str(dest), 'create': True})
            if result.get('failed'):
                refused.append(result['msg'])
            else:
                written += 1
        if dest.exists():
            files.append((dest.stem, dest.read_text(encoding='utf-8', errors='surrogateescape')))
    return files, written, refused
