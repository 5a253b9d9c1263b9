# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stable NFS-Ganesha Export_Ids for the exports one owner manages in ganesha.conf."""
from __future__ import annotations

DOCUMENTATION = r"""
name: ganesha_export_ids
short_description: Stable NFS-Ganesha Export_Ids for a managed block of exports
version_added: 0.3.0
description:
  - Reads the current text of an NFS-Ganesha configuration (ganesha-config(8)) in which an owner
    writes its EXPORT blocks between the lines C(# BEGIN <marker>) and C(# END <marker>) (the
    layout of M(ansible.builtin.blockinfile)), and chooses an C(Export_Id) for each path the owner
    is about to write.
  - A path already in the block keeps its id, so removing one export does not renumber the
    others (NFS file handles carry the export id; a renumbered export turns its clients' handles
    stale). A new path gets the lowest id above every id in the block that no other export uses.
    Ids used outside the block are never given out.
  - Files pulled in with C(%include), C(%dir) or C(%url) are not read.
  - Role nfs_server uses it before it rewrites its block.
options:
  _input:
    description: The configuration's current text (empty when the file does not exist yet).
    type: str
    required: true
  paths:
    description: The export paths (Path and Pseudo) the owner will write, in order.
    type: list
    elements: str
    required: true
  marker:
    description: The marker text of the block (without C(# BEGIN)/C(# END)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Choose the Export_Ids before the block is rewritten
  ansible.builtin.set_fact:
    ganesha_plan: >-
      {{ (ganesha_conf.content | default('') | b64decode)
         | stateful.nfs.ganesha_export_ids(['/srv/nfs', '/srv/backup'], 'managed by my-play') }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    ids:
      description: Export_Id by normalised path.
      type: dict
      sample: {/srv/nfs: 1, /srv/backup: 3}
    legacy:
      description:
        - True when the file has no marked block but is the whole-file configuration that role
          nfs_server 0.1.0 wrote; the whole file is then the owner's.
      type: bool
    problems:
      description:
        - Exports outside the block that export one of O(paths) (Ganesha refuses a duplicate
          Path or Pseudo), or why the file cannot be read. Empty when the block can be written.
      type: list
      elements: str
    foreign:
      description: The EXPORT blocks outside the marked block (C(export_id), C(path), C(pseudo), C(line)).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.module_utils.ganesha import plan_export_ids


def ganesha_export_ids(text, paths, marker):
    """Filter entry point: see DOCUMENTATION."""
    if text is not None and not isinstance(text, str):
        raise AnsibleFilterError(f'ganesha_export_ids: the input must be the configuration text, got {type(text).__name__}')
    if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) for p in paths):
        raise AnsibleFilterError('ganesha_export_ids: paths must be a list of strings')
    if not isinstance(marker, str) or not marker.strip():
        raise AnsibleFilterError('ganesha_export_ids: marker must be a non-empty string')
    return plan_export_ids(text or '', list(paths), marker)


class FilterModule:
    """stateful.nfs NFS-Ganesha filters."""

    def filters(self):
        return {'ganesha_export_ids': ganesha_export_ids}
