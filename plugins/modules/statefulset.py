#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: statefulset
short_description: Manage a StatefulSet and its headless Service, with per-pod persistent storage
version_added: 0.1.0
description:
  - "Creates, updates or deletes a StatefulSet with one container and, unless O(create_service=false), the
    headless Service (C(clusterIP: None)) that gives its pods stable DNS names
    C(<pod>.<service>.<namespace>.svc.<cluster domain>)."
  - Each entry of O(volume_claim_templates) gives every pod its own PersistentVolumeClaim
    C(<template>-<statefulset>-<ordinal>), mounted at the template's C(mount_path).
  - O(wait=true) waits for the ordered rollout and handles a partitioned rolling update (O(partition) > 0)
    correctly, and returns the readiness timeline. On timeout the error lists the pods that are not ready,
    with their phase, conditions, container states, unbound PVCs and latest events (for example
    C(ImagePullBackOff), C(FailedMount) with the NFS error, C(Unschedulable)). A pod that runs a revision
    other than the update revision and is not Ready is never replaced by the controller under
    O(pod_management_policy=OrderedReady) (a broken template, then reverted); the error names it, says it must
    be deleted (Kubernetes docs, StatefulSets, Forced rollback) with the C(kubectl delete pod) command, and
    the result lists it in C(forced_rollback).
  - Kubernetes does not allow changing O(volume_claim_templates), O(selector), O(service_name) or
    O(pod_management_policy) of an existing StatefulSet. Such a change fails before anything is written,
    naming the field, unless O(recreate_on_immutable_change=true).
  - O(state=absent) deletes the StatefulSet with the chosen O(cascade) and the headless Service. The PVCs, and
    so the data, are kept unless O(delete_pvcs=true).
author:
  - stateful.nfs contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stateful.nfs.k8s_auth
  - stateful.nfs.k8s_auth.apply
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: Writes and deletes are sent with C(dryRun=All); nothing is stored.
  diff_mode:
    support: full
    details: One before/after pair per object that changes.
options:
  state:
    description: V(present) creates or updates; V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Name of the StatefulSet; its pods are C(<name>-<ordinal>).
      - A DNS-1123 label of at most 52 characters (the pod hostnames and the C(controller-revision-hash)
        label are derived from it).
    type: str
    required: true
  namespace:
    description: Namespace of the StatefulSet, its Service and its PVCs. It must exist, unless O(create_namespace=true).
    type: str
    default: default
  service_name:
    description:
      - Name of the headless Service that governs the pods' DNS names (C(spec.serviceName)).
      - Defaults to O(name).
      - With O(create_service=true) a DNS-1035 label (a Service name starts with a letter), else a
        DNS-1123 label.
    type: str
  create_service:
    description:
      - Create (and on O(state=absent) delete) the headless Service O(service_name), selecting O(selector),
        with one port per entry of O(ports).
      - An existing Service of that name that is not headless is an error (its C(clusterIP) cannot change).
    type: bool
    default: true
  replicas:
    description: Number of pods.
    type: int
    default: 1
  labels:
    description:
      - Labels of the pods (and of the StatefulSet and the Service). Defaults to C(app=<name>).
    type: dict
  selector:
    description:
      - Label selector (C(matchLabels)) of the StatefulSet and the Service. Defaults to O(labels); must be a
        subset of O(labels).
    type: dict
  container_name:
    description: Name of the container. Defaults to O(name).
    type: str
  image:
    description: Container image. Required when O(state=present).
    type: str
  image_pull_policy:
    description: Pull policy of the container. Unset leaves the Kubernetes default.
    type: str
    choices: [Always, IfNotPresent, Never]
  ports:
    description: Container ports; the headless Service exposes the same ports.
    type: list
    elements: dict
    suboptions:
      name:
        description: Port name (IANA service name, at most 15 characters). Required with several ports.
        type: str
      container_port:
        description: Port number.
        type: int
        required: true
      protocol:
        description: Protocol.
        type: str
        choices: [TCP, UDP, SCTP]
        default: TCP
  env:
    description: Environment of the container, as in a Kubernetes manifest (list of C(name)/C(value)).
    type: list
    elements: dict
  resources:
    description: Compute resources of the container (C(requests)/C(limits)), as in a Kubernetes manifest.
    type: dict
  readiness_probe:
    description: Readiness probe of the container, as in a Kubernetes manifest (C(httpGet), C(tcpSocket), ...).
    type: dict
  node_selector:
    description: Node labels the pods must run on.
    type: dict
  tolerations:
    description: Tolerations of the pods, as in a Kubernetes manifest.
    type: list
    elements: dict
  volume_claim_templates:
    description: One PersistentVolumeClaim per pod and template, mounted into the container.
    type: list
    elements: dict
    suboptions:
      name:
        description: Template name (also the volume name); PVCs are C(<name>-<statefulset>-<ordinal>).
        type: str
        required: true
      storage_class_name:
        description:
          - StorageClass of the claims. Unset uses the cluster's default class.
          - With O(check_storage_class=true) the class must exist.
        type: str
      access_modes:
        description: Access modes of the claims.
        type: list
        elements: str
        choices: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod]
        default: [ReadWriteOnce]
      size:
        description: Requested size, a Kubernetes quantity such as V(1Gi).
        type: str
        required: true
      mount_path:
        description: Where the volume is mounted in the container.
        type: path
        required: true
  pod_management_policy:
    description: V(OrderedReady) creates pods one by one in ordinal order; V(Parallel) all at once.
    type: str
    choices: [OrderedReady, Parallel]
    default: OrderedReady
  update_strategy:
    description: How pods are updated when the template changes.
    type: str
    choices: [RollingUpdate, OnDelete]
    default: RollingUpdate
  partition:
    description:
      - For V(RollingUpdate), only pods whose index (ordinal minus O(ordinals_start)) is at least this number
        are updated; the others keep the current revision (a canary or staged rollout).
    type: int
  max_unavailable:
    description:
      - For V(RollingUpdate), how many pods may be unavailable during an update (a number or a percentage
        such as V(25%)). Needs the C(MaxUnavailableStatefulSet) feature of the cluster.
    type: raw
  pvc_retention_policy:
    description: C(persistentVolumeClaimRetentionPolicy) of the StatefulSet. Unset keeps the claims (Retain).
    type: dict
    suboptions:
      when_deleted:
        description: What happens to the claims when the StatefulSet is deleted.
        type: str
        choices: [Retain, Delete]
      when_scaled:
        description: What happens to the claims of pods removed by a scale-down.
        type: str
        choices: [Retain, Delete]
  min_ready_seconds:
    description: Seconds a pod must be ready before it counts as available.
    type: int
  ordinals_start:
    description: First ordinal (C(spec.ordinals.start)); pods are C(<name>-<start>) and up.
    type: int
  check_storage_class:
    description:
      - Before writing, check that every O(volume_claim_templates[].storage_class_name) exists, and fail
        naming it if not (its PVCs would stay Pending).
    type: bool
    default: true
  recreate_on_immutable_change:
    description:
      - When an immutable field changes, delete the StatefulSet with C(propagationPolicy=Orphan) and create it
        again, so that the running pods are adopted by the new one. No pod and no PVC is deleted.
      - Existing PVCs keep their old size, class and access modes; only new ones use the new template.
    type: bool
    default: false
  cascade:
    description:
      - With O(state=absent), what happens to the pods. V(background) (default) and V(foreground) delete them
        (foreground waits for them before the StatefulSet disappears); V(orphan) leaves them running
        (the walkthrough's C(kubectl delete --cascade=false)).
    type: str
    choices: [background, foreground, orphan]
    default: background
  delete_pvcs:
    description:
      - With O(state=absent), also delete the PVCs C(<template>-<name>-<ordinal>). What happens to the data then
        depends on the class's reclaim policy and, for the NFS provisioner, C(archiveOnDelete)/C(onDelete).
      - The default keeps every PVC, and so the data.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the rollout is complete (see the description); with O(state=absent),
        until the StatefulSet is gone.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
seealso:
  - module: stateful.nfs.statefulset_info
  - module: stateful.nfs.nfs_provisioner
  - name: StatefulSets
    description: Kubernetes documentation.
    link: https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/
"""

EXAMPLES = r"""
- name: The walkthrough's StatefulSet web with per-pod NFS storage
  stateful.nfs.statefulset:
    name: web
    replicas: 3
    labels:
      app: nginx
    container_name: nginx
    image: nginx:1.27
    ports:
      - name: web
        container_port: 80
    volume_claim_templates:
      - name: nginx-pvc
        storage_class_name: managed-nfs-storage
        access_modes: [ReadWriteOnce]
        size: 1Gi
        mount_path: /usr/share/nginx/html
    wait: true
  register: web

- name: Show when each pod became ready
  ansible.builtin.debug:
    msg: "{{ web.rollout.timeline | map(attribute='pod') | list }}"

- name: Canary - update only web-2
  stateful.nfs.statefulset:
    name: web
    replicas: 3
    labels: {app: nginx}
    container_name: nginx
    image: nginx:1.28
    ports: [{name: web, container_port: 80}]
    volume_claim_templates:
      - {name: nginx-pvc, storage_class_name: managed-nfs-storage, size: 1Gi, mount_path: /usr/share/nginx/html}
    partition: 2
    wait: true

- name: Grow the claim template (immutable) - recreate without touching pods or PVCs
  stateful.nfs.statefulset:
    name: web
    replicas: 3
    labels: {app: nginx}
    container_name: nginx
    image: nginx:1.28
    volume_claim_templates:
      - {name: nginx-pvc, storage_class_name: managed-nfs-storage, size: 2Gi, mount_path: /usr/share/nginx/html}
    recreate_on_immutable_change: true

- name: Delete the StatefulSet but keep its pods running and its PVCs (kubectl delete --cascade=orphan)
  stateful.nfs.statefulset:
    name: web
    state: absent
    cascade: orphan
"""

RETURN = r"""
changed:
  description: Whether anything was created, changed or deleted (or would be, in check mode).
  returned: always
  type: bool
objects:
  description: One entry per object handled (Service, StatefulSet, PVCs on deletion).
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: Object kind., type: str, sample: StatefulSet}
    name: {description: Object name., type: str, sample: web}
    namespace: {description: Namespace., type: str, sample: default}
    action:
      description: What was done.
      type: str
      sample: update
      choices: [create, update, unchanged, recreate, delete, absent, skipped]
    changed: {description: Whether this object changed., type: bool}
    reason: {description: Why the module wrote or did not write., type: str}
statefulset:
  description: The StatefulSet as stored (or, in check mode, as it would be stored), without status.
  returned: state=present
  type: dict
pvc_names:
  description: Names of the PVCs the StatefulSet's pods use.
  returned: state=present
  type: list
  elements: str
  sample: [nginx-pvc-web-0, nginx-pvc-web-1, nginx-pvc-web-2]
recreated_because:
  description: The immutable fields whose change made the module recreate the StatefulSet.
  returned: when recreated
  type: list
  elements: str
  sample: [spec.volumeClaimTemplates]
rollout:
  description: Outcome of the wait.
  returned: state=present, wait=true, not in check mode
  type: dict
  contains:
    ready: {description: Always true on success., type: bool}
    elapsed: {description: Seconds waited., type: float}
    reason: {description: Summary., type: str, sample: 3/3 pods ready and at revision web-7d4b9c8f5}
    partition: {description: Partition in effect., type: int}
    update_revision: {description: The StatefulSet's update revision., type: str}
    current_revision: {description: The StatefulSet's current revision., type: str}
    in_order: {description: Whether pods first became ready in ordinal order., type: bool}
    timeline:
      description: Which pod became ready when, in order; one entry per pod incarnation.
      type: list
      elements: dict
      sample:
        - {pod: web-0, ordinal: 0, ready_at: "2024-05-01T10:00:03Z", observed_after_seconds: 3.1,
           revision: web-7d4b9c8f5, uid: 0c6a..., created_at: "2024-05-01T10:00:00Z"}
cascade:
  description: The cascade used on deletion.
  returned: state=absent
  type: str
  sample: orphan
pvcs_kept:
  description: PVCs of the StatefulSet left in place on deletion.
  returned: state=absent
  type: list
  elements: str
pvcs_deleted:
  description: PVCs deleted (O(delete_pvcs=true)).
  returned: state=absent
  type: list
  elements: str
diff:
  description: Before/after of each object that changed (Service, StatefulSet, PVCs on deletion), in diff mode.
  returned: when changed
  type: list
  elements: dict
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("statefulset")


if __name__ == "__main__":
    main()
