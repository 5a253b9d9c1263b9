#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Check that the Kubernetes credentials may do what a run of this collection needs, before it changes anything
version_added: 0.4.0
description:
  - Read-only. Asks the API server, with the module's connection, who the credentials are (a
    C(SelfSubjectReview), what C(kubectl auth whoami) asks) and, for each request the named stages
    send, whether they are allowed (one C(SelfSubjectAccessReview) each, what C(kubectl auth can-i)
    asks). The server's own authorizers answer (RBAC, Node, webhooks); neither review stores an object.
    Kubernetes docs, "Authorization" (Checking API access) and "Authenticating" (SelfSubjectReview).
  - Fails in one line naming the API server (and O(context)), the user and every denied request with the
    stage that needs it, e.g. C(create pods/exec in namespace 'shop' (verify_exec)). A request that only enriches
    failure messages (events, a container's previous log, nodes) is a warning when denied.
  - An unreachable API server, a wrong context or credentials that are not accepted (HTTP 401) fail with the
    connection's own message. C(site.yml) runs this before the first change on the NFS server.
  - The requests of each stage are the table C(NEEDS) in C(plugins/module_utils/k8s/access.py), read from the
    modules' code paths. A stage that creates in a namespace that does not exist also needs C(create namespaces).
author:
  - stateful.nfs contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stateful.nfs.k8s_auth
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: The module only asks; check mode asks the same questions.
  diff_mode:
    support: none
options:
  namespace:
    description: The namespace the stages act in (a DNS-1123 label).
    type: str
    default: default
  needs:
    description:
      - What the run will do. V(provisioner) - M(stateful.nfs.nfs_provisioner) (RBAC, Deployment, StorageClass,
        its wait and the claim that proves a class); V(statefulset) - M(stateful.nfs.statefulset) with O(ignore:state=present)
        (Service, StatefulSet, the ordered wait, claim checks); V(verify) - M(stateful.nfs.statefulset_verify) with
        O(verify_method); V(teardown) - M(stateful.nfs.statefulset) with O(ignore:state=absent); V(purge) - its
        O(ignore:delete_pvcs=true); V(restore) - M(stateful.nfs.pvc_restore) (pre-bound PersistentVolumes and their
        claims); V(quiesce) - the StatefulSet scaled to 0 and back through its C(scale) subresource; V(migrate) -
        M(stateful.nfs.pvc_restore) with O(stateful.nfs.pvc_restore#module:source=migrate) (old PersistentVolumes
        patched, old claims deleted and created again, the StatefulSet recreated); V(prune_source) - the old
        PersistentVolumes deleted (C(migrate.yml -e prune_source=true)).
      - At least one of O(needs) and O(resource_attributes) is required.
    type: list
    elements: str
    choices: [provisioner, statefulset, verify, teardown, purge, restore, quiesce, migrate, prune_source]
    default: []
  verify_method:
    description:
      - The O(stateful.nfs.statefulset_verify#module:method) the V(verify) stage uses - V(exec) needs C(create)
        on C(pods/exec); V(api) needs C(get) on C(pods/proxy) and C(create), C(patch), C(delete) on C(pods) (the
        DNS client pod).
    type: str
    choices: [exec, api]
    default: exec
  resource_attributes:
    description:
      - More requests to ask about, each as a C(SelfSubjectAccessReview)'s C(spec.resourceAttributes) names them.
    type: list
    elements: dict
    default: []
    suboptions:
      verb:
        description: The API verb (C(get), C(list), C(watch), C(create), C(patch), C(update), C(delete), ...).
        type: str
        required: true
      group:
        description: The API group (empty for the core group).
        type: str
        default: ""
      resource:
        description: The resource, plural and lower case (C(statefulsets)).
        type: str
        required: true
      subresource:
        description: The subresource (C(exec), C(proxy), C(log), C(scale)); empty for none.
        type: str
        default: ""
      namespace:
        description: The namespace; empty for a cluster-scoped resource or all namespaces.
        type: str
        default: ""
      name:
        description: One object's name; empty for any.
        type: str
        default: ""
notes:
  - Access reviews are C(create) requests the API server answers without storing anything; an audit log counts
    them apart from writes.
seealso:
  - module: stateful.nfs.nfs_provisioner
  - module: stateful.nfs.statefulset
  - module: stateful.nfs.statefulset_verify
  - name: Kubernetes docs, Authorization - Checking API access
    description: SelfSubjectAccessReview, what kubectl auth can-i sends.
    link: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
"""

EXAMPLES = r"""
- name: Stop before any change unless the credentials may deploy and prove an application in namespace shop
  stateful.nfs.access_review:
    namespace: shop
    needs: [statefulset, verify]
    verify_method: api

- name: Ask about one more request (the scale subresource) as well
  stateful.nfs.access_review:
    namespace: shop
    needs: [provisioner]
    resource_attributes:
      - verb: patch
        group: apps
        resource: statefulsets
        subresource: scale
        namespace: shop
"""

RETURN = r"""
allowed:
  description: Whether every required request is allowed (always V(true) on success; the module fails otherwise).
  returned: always
  type: bool
user:
  description: Who the credentials are (C(username), C(groups)); null when the server offers no C(SelfSubjectReview).
  returned: always
  type: dict
  sample: {username: "system:serviceaccount:ops:deployer", groups: ["system:serviceaccounts", "system:authenticated"]}
reviews:
  description: One row per request asked about, in order.
  returned: always
  type: list
  elements: dict
  contains:
    verb: {description: The verb., type: str, sample: create}
    group: {description: The API group (empty for core)., type: str, sample: apps}
    resource: {description: The resource., type: str, sample: statefulsets}
    subresource: {description: The subresource (empty for none)., type: str, sample: ""}
    namespace: {description: The namespace (empty for cluster scope or all namespaces)., type: str, sample: shop}
    name: {description: The object's name (empty for any)., type: str, sample: ""}
    scope: {description: "V(namespace), V(cluster) (a cluster-scoped resource) or V(all) (every namespace).", type: str}
    allowed: {description: The server's answer., type: bool}
    required: {description: False for a request that only enriches failure messages., type: bool}
    needed_by: {description: The stages that send it (or C(resource_attributes))., type: list, elements: str, sample: [statefulset]}
    reason: {description: The authorizer's reason or evaluation error (may be empty)., type: str}
denied:
  description:
    - The required requests denied, as the failure message names them (verbs on the same target joined); empty
      on success.
  returned: always
  type: list
  elements: str
  sample: ["create pods/exec in namespace 'shop' (verify_exec)", "get,create,patch clusterroles.rbac.authorization.k8s.io (provisioner)"]
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("access_review")


if __name__ == "__main__":
    main()
