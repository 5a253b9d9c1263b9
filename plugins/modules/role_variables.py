#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: role_variables
short_description: Warn about variables with a role's prefix that the role does not know
version_added: 0.4.0
description:
  - Runs in a role (an action on the controller; nothing runs on the host). Every variable
    visible to the task whose name starts with O(prefix) and that the role does not know is
    reported in RV(unknown) and as a warning naming the closest name the role knows, if one is
    close (for example C(k8s_statefulset_nginx_replica) - did you mean
    C(k8s_statefulset_nginx_replicas)?).
  - A role knows the options of every entry point of its C(meta/argument_specs.yml), the names
    of its C(defaults/main.yml) and C(vars/main.yml), and O(results). Names starting with C(_)
    are never reported.
  - Ansible ignores a variable nobody reads, so a mistyped name otherwise passes unseen with rc=0.
options:
  prefix:
    description: The prefix of the role's variables. Default the role's name plus C(_).
    type: str
  results:
    description: The result facts the role sets and documents (known names besides its argument specs).
    type: list
    elements: str
    default: []
  deprecated:
    description:
      - Say that the role is deprecated - a deprecation warning with C(msg), removal planned in C(version)
        (run the task with C(run_once) to say it once per run).
    type: dict
    version_added: 0.4.0
    suboptions:
      msg:
        description: What to use instead.
        type: str
        required: true
      version:
        description: The collection version that removes the role.
        type: str
        required: true
attributes:
  action:
    support: full
    description: Reads the role's files on the controller.
  check_mode:
    support: full
    description: It only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
author:
  - stateful.nfs contributors (!UNKNOWN)
'''

EXAMPLES = r'''
- name: Warn about variables with the role's prefix that it does not know
  stateful.nfs.role_variables:
    prefix: nfs_server_
    results: [nfs_server_exported]
'''

RETURN = r'''
unknown:
  description: The unknown variables, sorted.
  returned: always
  type: list
  elements: str
  sample: [k8s_statefulset_nginx_command]
suggestions:
  description: For unknown variables with a close known name, that name.
  returned: always
  type: dict
  sample: {k8s_statefulset_nginx_replica: k8s_statefulset_nginx_replicas}
'''
