# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proof's NFS-side markers planned from what stateful.nfs.statefulset returned (role statefulset)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_side_markers
short_description: What stateful.nfs.nfs_volume_check takes to write each pod's marker on the NFS side
version_added: 0.4.0
description:
  - Plans each pod's storage marker in its PV's directory on the NFS side as M(stateful.nfs.statefulset_verify) with
    O(stateful.nfs.statefulset_verify#module:markers_only=true) plans it (the same rules, module_utils
    C(k8s/markers.py)), from the result of M(stateful.nfs.statefulset) run with
    O(stateful.nfs.statefulset#module:return_identity=true) - no module run, no request.
  - One marker per pod and claim template mounted in the container; its directory is the PV's NFS path (plus the
    mount's C(subPath)) under C(nfs_side.export), on C(nfs_side.host) under C(nfs_side.export_directory). A claim
    whose PV has no NFS directory under the export gets no marker here; the proof names it.
  - The parameters are checked as the module checks them (argument spec, then its rules); an error names the option.
options:
  _input:
    description: The result of M(stateful.nfs.statefulset) with O(stateful.nfs.statefulset#module:return_identity=true) (its C(statefulset) and C(identity)).
    type: dict
    required: true
  verify:
    description:
      - The parameters of M(stateful.nfs.statefulset_verify) without C(name) and C(namespace), which come from the
        StatefulSet - role C(statefulset)'s C(verify) of the application. C(nfs_side) is required.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply the StatefulSet, wait for it and read its identity table
  stateful.nfs.statefulset:
    src: web.yaml
    wait: true
    return_identity: true
  register: applied

- name: Write each pod's line into its PV's directory and read it back through NFS
  vars:
    job: >-
      {{ applied | stateful.nfs.nfs_side_markers({'storage_marker': {'file': 'index.html', 'line': '{pod} here'},
                                                   'nfs_side': {'host': 'nfs1', 'export': '/srv/nfs'}}) }}
  stateful.nfs.nfs_volume_check:
    export: "{{ job.export }}"
    file: "{{ job.file }}"
    server: "{{ job.server }}"
    volumes: "{{ job.volumes }}"
    write: true
  delegate_to: "{{ job.host }}"
"""

RETURN = r"""
_value:
  description: The parameters of M(stateful.nfs.nfs_volume_check), with the host to run it on.
  type: dict
  contains:
    host: {description: The inventory host that writes and reads the markers (C(nfs_side.host))., type: str}
    export: {description: The export (C(nfs_side.export)) as NFS clients mount it., type: str}
    server: {description: The NFS server's address (C(nfs_side.server))., type: str}
    file: {description: The marker's file name (C(storage_marker.file))., type: str}
    write: {description: Always V(true) - the lines are written., type: bool}
    volumes:
      description: One per marker - C(name) (C(<pod>:<claim template>)), C(directory) on the host, C(path) as NFS clients see it, C(content) (the line).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import plain
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.markers import nfs_side_markers as plan


def nfs_side_markers(applied, verify):
    """The nfs_volume_check job of the StatefulSet ``applied`` (see DOCUMENTATION)."""
    if not isinstance(applied, dict) or "identity" not in applied or not applied.get("statefulset"):
        raise AnsibleFilterError("nfs_side_markers: the input must be the result of stateful.nfs.statefulset"
                                 " with return_identity: true (it has no identity)")
    try:
        # plain data first: the validation deep-copies, and a copy of Ansible's lazy containers renders them again
        return plan(plain(applied["statefulset"]), plain(applied["identity"]), plain(verify))
    except InputError as exc:
        # the option's path under the application's verify (the argument spec's messages name it themselves)
        where = "verify" if exc.param == "statefulset_verify" else f"verify.{exc.param}"
        raise AnsibleFilterError(f"nfs_side_markers: {where}: {str(exc).split(': ', 1)[1]}") from exc


class FilterModule:
    """stateful.nfs NFS-side marker plan."""

    def filters(self):
        return {"nfs_side_markers": nfs_side_markers}
