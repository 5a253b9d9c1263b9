# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which variables with a role's prefix the role does not know, and the closest name it does.

A variable Ansible does not use is silently ignored: ``-e k8s_statefulset_nginx_command=...``
ran with rc=0 and changed nothing. A role knows the options of its entry points
(``meta/argument_specs.yml``), the names of its ``defaults/main.yml`` and ``vars/main.yml``, and
the result facts it documents. Used by the ``stateful.nfs.role_variables`` action, which reads
those files (``role_known_names``).
"""

from __future__ import annotations

import difflib


def unknown_variables(names, known, prefix):
    """``[(name, closest known name or None)]`` for each of ``names`` with ``prefix`` that is not known.

    Names starting with ``_`` (a role's private facts) are never reported. The closest name is
    difflib's best match, of at least 0.75 similarity, of the part after the prefix among the
    ``known`` names with the prefix (the shared prefix would make every name look close).
    """
    candidates = {n[len(prefix):]: n for n in known if n.startswith(prefix)}
    found = []
    for name in sorted(set(names)):
        if not name.startswith(prefix) or name.startswith('_') or name in known:
            continue
        close = difflib.get_close_matches(name[len(prefix):], sorted(candidates), n=1, cutoff=0.75)
        found.append((name, candidates[close[0]] if close else None))
    return found


def warning_text(role, name, closest):
    """The warning for one unknown variable."""
    hint = f'; did you mean {closest}?' if closest else ''
    return f'{name} is not a variable of role {role}, which ignores it{hint}'
