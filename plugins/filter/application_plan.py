# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan role statefulset asks for its list of applications."""
from __future__ import annotations

DOCUMENTATION = r"""
name: application_plan
short_description: The module parameters of each application of a list, the ones a run selects, and every problem
version_added: 0.4.0
description:
  - An application is a dict with C(name), C(statefulset) (the parameters of M(stateful.nfs.statefulset) -
    C(definition), C(src) or the shorthand options), C(verify) (the parameters of
    M(stateful.nfs.statefulset_verify) without C(name) and C(namespace), which come from the StatefulSet;
    V(false) for no proof; default V({})) and C(report) (default V(true)).
  - C(name) defaults to the StatefulSet's name; it is required with C(src), whose file only the module reads.
  - Every entry is checked with the modules' own rules (an entry with C(src) is checked by the module,
    before its first write; its C(patch), a day-2 change, is a problem - the list declares the applications),
    and the list as a whole - two applications may not share a name, a
    StatefulSet or a headless Service (namespace and name).
options:
  _input:
    description: The list of applications (role variable C(statefulset_applications)).
    type: list
    elements: dict
    required: true
  selected:
    description: The name of the application a run acts on; empty for all. A name not in the list is a problem.
    type: str
    default: ""
  required:
    description:
      - One application must be named in O(selected) (the day-2 changes, role C(statefulset)'s entry points
        C(scale) and C(upgrade), act on one); an empty O(selected) is then a problem naming the choices.
    type: bool
    default: false
    version_added: 0.4.0
"""

EXAMPLES = r"""
- name: Plan the applications and stop on any problem
  vars:
    plan: >-
      {{ [{'name': 'cache', 'statefulset': {'src': 'redis.yaml'},
           'verify': {'app_check': {'exec': {'command': ['redis-cli', 'ping'], 'stdout': '^PONG'}}}}]
         | stateful.nfs.application_plan(app | default('')) }}
  ansible.builtin.assert:
    that: plan.problems | length == 0
    fail_msg: "{{ plan.problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    applications:
      description:
        - Each valid entry, in list order, as C(name), C(statefulset), C(verify) (V(false) or a dict),
          C(report), C(namespace), C(statefulset_name) and C(service_name) (the last three C(null) with C(src)).
      type: list
      elements: dict
    selected:
      description: Names of the applications the run acts on, in list order.
      type: list
      elements: str
    problems:
      description: Every problem of the list; empty when all of it would be accepted.
      type: list
      elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import application_plan


class FilterModule:
    """stateful.nfs application list plan."""

    def filters(self):
        return {"application_plan": application_plan}
