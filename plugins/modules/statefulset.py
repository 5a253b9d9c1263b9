#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: statefulset
short_description: Manage a StatefulSet and its headless Service, with per-pod persistent storage
version_added: 0.1.0
description:
  - "Creates, updates or deletes a StatefulSet and, unless O(create_service=false), the headless Service
    (C(clusterIP: None)) that gives its pods stable DNS names
    C(<pod>.<service>.<namespace>.svc.<cluster domain>)."
  - "The StatefulSet comes in one of three ways, all ending in one definition that takes the same path
    (checks, apply, wait, diff, check mode): O(definition), a StatefulSet exactly as a manifest spells it
    (what C(kubectl apply -f) takes); O(src), a YAML file on the controller with the StatefulSet and
    optionally its Service; or the shorthand options (O(image), O(ports), O(volume_claim_templates), ...),
    which describe one container and build the definition. O(definition) and O(src) exclude the shorthand
    options."
  - Each claim template gives every pod its own PersistentVolumeClaim C(<template>-<statefulset>-<ordinal>).
  - "Before the first write the definition is judged twice - by the module's own rules (a volume mount naming
    no volume and no claim template, a selector that does not match the pod template's labels, a claim
    template of a class that does not exist, or of no class on a cluster without a default class, a
    StatefulSet that would mix with another of its namespace - a selector matching the other's pod labels or
    the other's selector matching its own, or the other's governing Service), and by the
    API server itself through a dry-run apply (C(dryRun=All), C(fieldValidation=Strict)) - and a refusal names
    the JSON path of the field, for example C(definition.spec.template.spec.containers[0].volumeMounts[1].name)."
  - After applying, a field of the definition that the API server did not keep (a field of a feature gate that
    is off, such as C(spec.updateStrategy.rollingUpdate.maxUnavailable) without C(MaxUnavailableStatefulSet)
    on Kubernetes v1.35, kubernetes#137409) is a warning naming it.
  - "O(wait=true) waits for the ordered rollout and handles a partitioned rolling update (a partition > 0)
    correctly, and returns the readiness timeline. On timeout the error lists the pods that are not ready,
    with their phase, conditions, container states, unbound PVCs and latest events (for example
    C(ImagePullBackOff), C(FailedMount) with the NFS error, C(Unschedulable)). A pod that runs a revision
    other than the update revision and is not Ready is never replaced by the controller under
    C(podManagementPolicy: OrderedReady) (a broken template, then reverted); the error names it, says it must
    be deleted (Kubernetes docs, StatefulSets, Forced rollback) with the C(kubectl delete pod) command, and
    the result lists it in C(forced_rollback)."
  - Kubernetes does not allow changing C(spec.volumeClaimTemplates), C(spec.selector), C(spec.serviceName) or
    C(spec.podManagementPolicy) of an existing StatefulSet. Such a change fails before anything is written,
    naming the field, unless O(recreate_on_immutable_change=true).
  - O(state=absent) deletes the StatefulSet with the chosen O(cascade) and the headless Service, unless that
    Service was not created by this collection or governs another StatefulSet too (left in place, with a
    warning). The PVCs, and so the data, are kept unless O(delete_pvcs=true).
author:
  - stateful.nfs contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - stateful.nfs.k8s_auth
  - stateful.nfs.k8s_auth.apply
attributes:
  action:
    support: full
    details: The action plugin reads O(src) on the controller.
  async:
    support: full
  bypass_host_loop:
    support: none
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
    description:
      - V(present) creates or updates; V(absent) deletes.
      - With V(absent), when no other StatefulSet is left in the namespace, the namespace's DNS client pod of
        M(stateful.nfs.statefulset_verify) (labels C(app.kubernetes.io/managed-by=stateful.nfs),
        C(app.kubernetes.io/component=dns-client); see its O(stateful.nfs.statefulset_verify#module:dns_client)) is
        deleted too. It holds no data.
    type: str
    choices: [present, absent]
    default: present
  definition:
    description:
      - "The StatefulSet, as a manifest spells it (C(apiVersion: apps/v1), C(kind: StatefulSet), C(metadata),
        C(spec) in camelCase), with any pod template - commands, init containers, sidecars, security contexts,
        ConfigMap and Secret volumes, affinity, topology spread."
      - C(spec.serviceName) is required (the governing Service of the pods' DNS names). C(status) and the
        metadata the server writes (C(resourceVersion), C(uid), C(managedFields), ...) are ignored, so the output
        of C(kubectl get -o yaml) is accepted.
      - The module adds the label C(app.kubernetes.io/managed-by=stateful.nfs) to the StatefulSet's metadata
        (not to its pods); O(state=absent) deletes only what carries it or was applied by the module.
      - Excludes O(src) and the shorthand options.
    type: dict
    version_added: 0.4.0
  src:
    description:
      - A YAML file on the controller with the StatefulSet (as in O(definition)) and optionally its headless
        Service (as in O(service)), in one or two documents, as C(kubectl apply -f) reads them. Found as
        M(ansible.builtin.copy) finds its C(src) (the role's or playbook's C(files/)).
      - Any other kind in the file is refused; apply ConfigMaps and Secrets with M(kubernetes.core.k8s).
      - Excludes O(definition) and the shorthand options.
    type: path
    version_added: 0.4.0
  service:
    description:
      - The headless Service, as a manifest spells it, when the one the module makes is not enough
        (C(publishNotReadyAddresses), more ports, annotations). Its C(metadata.name) is the StatefulSet's
        C(spec.serviceName), C(spec.clusterIP) is V(None) and C(spec.selector) selects the StatefulSet's pods.
      - Without it the module makes the Service from the StatefulSet - named C(spec.serviceName), with its
        metadata labels, selecting C(spec.selector.matchLabels), one port per container port.
      - Only with O(definition) or O(src), and not with O(create_service=false).
    type: dict
    version_added: 0.4.0
  name:
    description:
      - Name of the StatefulSet; its pods are C(<name>-<ordinal>).
      - A DNS-1123 label of at most 52 characters (the pod hostnames and the C(controller-revision-hash)
        label are derived from it).
      - Required with the shorthand options; with O(definition) or O(src) it is C(metadata.name) and may be left
        out (when given, the two must agree).
    type: str
  namespace:
    description:
      - Namespace of the StatefulSet, its Service and its PVCs. It must exist, unless O(create_namespace=true).
      - With O(definition) or O(src), their C(metadata.namespace) when set (this option, when also given, must
        agree). When neither names one, V(default).
    type: str
  service_name:
    description:
      - Shorthand. Name of the headless Service that governs the pods' DNS names (C(spec.serviceName)).
      - Defaults to O(name).
      - With O(create_service=true) a DNS-1035 label (a Service name starts with a letter), else a
        DNS-1123 label.
    type: str
  create_service:
    description:
      - Create (and on O(state=absent) delete) the headless Service (see O(service)).
      - An existing Service of that name that is not headless is an error (its C(clusterIP) cannot change).
    type: bool
    default: true
  replicas:
    description: Shorthand. Number of pods.
    type: int
    default: 1
  labels:
    description:
      - Shorthand. Labels of the pods (and of the StatefulSet and the Service). Defaults to C(app=<name>).
    type: dict
  selector:
    description:
      - Shorthand. Label selector (C(matchLabels)) of the StatefulSet and the Service. Defaults to O(labels); must be a
        subset of O(labels).
    type: dict
  container_name:
    description: Shorthand. Name of the container. Defaults to O(name).
    type: str
  image:
    description: Shorthand. Container image. Required when O(state=present) with the shorthand options.
    type: str
  image_pull_policy:
    description: Shorthand. Pull policy of the container. Unset leaves the Kubernetes default.
    type: str
    choices: [Always, IfNotPresent, Never]
  ports:
    description: Shorthand. Container ports; the headless Service exposes the same ports.
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
    description: Shorthand. Environment of the container, as in a Kubernetes manifest (list of C(name)/C(value)).
    type: list
    elements: dict
  resources:
    description: Shorthand. Compute resources of the container (C(requests)/C(limits)), as in a Kubernetes manifest.
    type: dict
  readiness_probe:
    description: Shorthand. Readiness probe of the container, as in a Kubernetes manifest (C(httpGet), C(tcpSocket), ...).
    type: dict
  node_selector:
    description: Shorthand. Node labels the pods must run on.
    type: dict
  tolerations:
    description: Shorthand. Tolerations of the pods, as in a Kubernetes manifest.
    type: list
    elements: dict
  volume_claim_templates:
    description: Shorthand. One PersistentVolumeClaim per pod and template, mounted into the container.
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
    description: Shorthand. V(OrderedReady) creates pods one by one in ordinal order; V(Parallel) all at once.
    type: str
    choices: [OrderedReady, Parallel]
    default: OrderedReady
  update_strategy:
    description: Shorthand. How pods are updated when the template changes.
    type: str
    choices: [RollingUpdate, OnDelete]
    default: RollingUpdate
  partition:
    description:
      - Shorthand. For V(RollingUpdate), only pods whose index (ordinal minus O(ordinals_start)) is at least this number
        are updated; the others keep the current revision (a canary or staged rollout).
    type: int
  max_unavailable:
    description:
      - Shorthand. For V(RollingUpdate), how many pods may be unavailable during an update (a number or a percentage
        such as V(25%)). Needs the C(MaxUnavailableStatefulSet) feature of the cluster.
    type: raw
  pvc_retention_policy:
    description: Shorthand. C(persistentVolumeClaimRetentionPolicy) of the StatefulSet. Unset keeps the claims (Retain).
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
    description: Shorthand. Seconds a pod must be ready before it counts as available.
    type: int
  ordinals_start:
    description: Shorthand. First ordinal (C(spec.ordinals.start)); pods are C(<name>-<start>) and up.
    type: int
  check_storage_class:
    description:
      - Before writing, check that the class of every claim template exists, and that the cluster has a default
        class for a claim template that names none; fail naming the claim template if not (its PVCs would stay
        Pending). A claim template of class V("") (no class) binds to pre-made volumes and is not checked.
    type: bool
    default: true
  planned_storage_classes:
    description:
      - StorageClasses that O(check_storage_class) takes as existing although the API server does not have them
        yet - classes the same run creates before the StatefulSet is applied (role C(nfs_provisioner) does), so that
        a check or a check-mode run before the first deployment is not refused for them.
    type: list
    elements: str
    default: []
    version_added: 0.4.0
  recreate_on_immutable_change:
    description:
      - When an immutable field changes, delete the StatefulSet with C(propagationPolicy=Orphan) and create it
        again, so that the running pods are adopted by the new one. No pod and no PVC is deleted.
      - Existing PVCs keep their old size, class and access modes; only new ones use the new template.
    type: bool
    default: false
  force_rollback:
    description:
      - With O(wait=true), when the rollout cannot finish because pods at an old revision are not Ready and the
        controller will never replace them (Kubernetes docs, StatefulSets, "Forced rollback"), delete exactly those
        pods - their claims, and so their data, stay - and wait again for the controller to recreate them from the
        current template. The result lists them in C(forced_rollback).
      - The default fails naming them and the C(kubectl delete pod) command.
    type: bool
    default: false
    version_added: 0.4.0
  return_identity:
    description:
      - Also return the StatefulSet's identity table in RV(identity), read after the apply and the wait (in check
        mode, of the StatefulSet as it is stored; empty when it does not exist yet) - the table
        M(stateful.nfs.statefulset_info) returns, DNS names under C(cluster.local). It costs two reads plus two per
        claim.
      - Role C(statefulset) asks it for an application whose proof writes its markers on the NFS side, so that filter
        P(stateful.nfs.nfs_side_markers#filter) plans them from it, without a module run of its own.
      - Ignored with O(state=absent).
    type: bool
    default: false
    version_added: 0.4.0
  patch:
    description:
      - "A day-2 change of the deployed StatefulSet instead of applying its definition: only the fields named here
        are written, under field manager C(stateful.nfs-day2) - O(patch.replicas) through the C(scale) subresource
        (what C(kubectl scale) sends), O(patch.image) and O(patch.partition) as a strategic merge patch (what
        C(kubectl set image) and C(kubectl patch) send). Nothing else changes; nothing is written when the live
        StatefulSet already has these values."
      - The StatefulSet is named by O(name) and O(namespace), or by O(definition), O(src) or the shorthand
        options, which are then not applied - they are the declaration the StatefulSet is managed from, and the
        result's C(patch.undone_by_apply) names each field it sets to another value, which applying it again
        (this module without O(patch), role C(statefulset), C(site.yml)) sets back, as C(kubectl apply -f) does
        after C(kubectl scale). A definition that leaves C(spec.replicas) out leaves the size to day-2 scaling.
      - "With O(wait=true) the rollout is waited for (ordered, partition-aware; O(force_rollback) applies) and
        the change is proved, else the module fails naming what broke. Scale (result C(scale)): the pods below
        the smaller size are kept (same uid); scale-up adds the next ordinals, each with its claims - a claim kept
        from an earlier scale-down is reused (same uid) - Ready in ordinal order under C(OrderedReady);
        scale-down removes the highest ordinals and keeps their claims (same uid), unless
        C(persistentVolumeClaimRetentionPolicy.whenScaled) is C(Delete) (then their deletion is waited for).
        Upgrade (result C(upgrade)): the pods at or above the partition run the update revision and the new
        image, those below it were not replaced, and every claim is the one it was."
      - Refused before any write - a StatefulSet that does not exist, a container it does not have, a partition that
        would update no pod, a partition with updateStrategy C(OnDelete).
    type: dict
    version_added: 0.4.0
    suboptions:
      replicas:
        description: The new number of pods (C(spec.replicas)); alone, not with the other suboptions.
        type: int
      image:
        description: The new image of O(patch.container).
        type: str
      container:
        description: The container whose image changes. Defaults to the first container of the live pod template.
        type: str
      partition:
        description:
          - C(spec.updateStrategy.rollingUpdate.partition) - only pods whose index is at least this number are
            updated (a canary); V(0) updates every pod. Must leave a pod to update.
        type: int
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
- name: A redis primary with replicas, from a whole manifest (what kubectl apply -f takes)
  stateful.nfs.statefulset:
    definition:
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: redis
        namespace: cache
      spec:
        serviceName: redis
        replicas: 3
        selector:
          matchLabels: {app.kubernetes.io/name: redis}
        template:
          metadata:
            labels: {app.kubernetes.io/name: redis}
          spec:
            securityContext: {runAsUser: 999, runAsGroup: 999, fsGroup: 999}
            containers:
              - name: redis
                image: redis:7
                command: [sh, -c]
                args:
                  - >-
                    if [ "${HOSTNAME##*-}" = 0 ]; then exec redis-server --appendonly yes --dir /data;
                    else exec redis-server --appendonly yes --dir /data
                    --replicaof redis-0.redis.cache.svc.cluster.local 6379; fi
                ports: [{name: redis, containerPort: 6379}]
                volumeMounts: [{name: data, mountPath: /data}]
        volumeClaimTemplates:
          - metadata: {name: data}
            spec:
              storageClassName: nfs-data
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
    wait: true

- name: The same from a file of the role or playbook (files/redis.yaml), with its own headless Service
  stateful.nfs.statefulset:
    src: redis.yaml
    wait: true

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

- name: Day 2 - scale web to 5 through the scale subresource, waiting and proving claim reuse
  stateful.nfs.statefulset:
    name: web
    namespace: shop
    patch:
      replicas: 5
    wait: true
  register: scaled

- name: Show which claims the new pods reused (kept from an earlier scale-down)
  ansible.builtin.debug:
    msg: "{{ scaled.scale.claims_reused }}"

- name: Day 2 - a canary of a new image on the pods with index 2 and up
  stateful.nfs.statefulset:
    name: web
    namespace: shop
    patch:
      image: nginx:1.28
      container: nginx
      partition: 2
    wait: true

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
  description: One entry per object handled (Service, StatefulSet, PVCs on deletion, the DNS client pod with the namespace's last StatefulSet).
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
identity:
  description:
    - The StatefulSet's identity table after the apply and the wait, as M(stateful.nfs.statefulset_info) returns it
      (C(exists), C(statefulset), C(pods) - one row per pod with its claims' PVCs, PVs and NFS sources in C(volumes) -
      and C(missing_ordinals)), DNS names under C(cluster.local).
  returned: O(return_identity=true), state=present
  type: dict
  sample:
    exists: true
    statefulset: {name: web, namespace: default, service_name: web, replicas: 1}
    pods:
      - ordinal: 0
        name: web-0
        ready: true
        volumes:
          - {template: nginx-pvc, pvc: nginx-pvc-web-0, pvc_phase: Bound, pv: pvc-5f0c4c1e, nfs_server: 192.0.2.20,
             nfs_path: /srv/nfs/default-nginx-pvc-web-0-pvc-5f0c4c1e}
    missing_ordinals: []
pvc_names:
  description: Names of the PVCs the StatefulSet's pods use.
  returned: state=present
  type: list
  elements: str
  sample: [nginx-pvc-web-0, nginx-pvc-web-1, nginx-pvc-web-2]
foreign_fields:
  description:
    - Fields of the pod template and the claim templates that another field manager set (a
      C(kubectl patch), another controller), read from the StatefulSet's C(metadata.managedFields);
      server-side apply keeps them, so each run also warns, naming the managers and fields.
      C(kubectl rollout restart)'s C(restartedAt) annotation and replicas set through the scale
      subresource are left out. In check mode, as the object would be stored.
  returned: state=present
  type: list
  elements: dict
  contains:
    manager:
      description: The other field manager's name.
      type: str
    field:
      description: The field, dotted; list items by their key (C(containers[name=web])).
      type: str
  sample: [{manager: kubectl-patch, field: "spec.template.metadata.labels.tier"}]
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
forced_rollback:
  description: The pods deleted for a forced rollback (O(force_rollback=true)).
  returned: when pods were deleted for a forced rollback
  type: list
  elements: str
  sample: [web-2]
patch:
  description: What the day-2 change O(patch) did, and how it relates to the definition.
  returned: when O(patch) is given
  type: dict
  contains:
    field_manager: {description: The field manager of the change., type: str, sample: stateful.nfs-day2}
    container: {description: "The container whose image was asked for (null for a scale).", type: str, sample: web}
    changes:
      description: Each field that changed (or would, in check mode), with C(before) and C(after).
      type: dict
      sample: {replicas: {before: 3, after: 5}}
    declared:
      description: What the given definition sets for each field of O(patch) (null where it leaves it out); empty without one.
      type: dict
      sample: {replicas: 3}
    undone_by_apply:
      description: One sentence per field the definition declares with another value - applying it again sets the field back.
      type: list
      elements: str
scale:
  description:
    - The scale and its proof (in check mode, or without O(wait), what it does). C(from), C(to), C(when_scaled),
      C(pods_added), C(pods_removed) (highest first), C(pods_kept), C(claims_created), C(claims_reused) and
      C(claims_kept) (name to uid, the same before and after), C(claims_deleted), C(added_ready_in_order),
      C(removed_in_order) (the removed pods in the order the wait saw them going; those first seen going in one
      reading in the order their deletion shows, gone before terminating, then by C(deletionTimestamp), then highest
      ordinal first) and C(removed_highest_first)
      (null when none was seen going; with C(podManagementPolicy=OrderedReady) false fails the run).
  returned: when O(patch.replicas) is given
  type: dict
  sample:
    from: 1
    to: 3
    when_scaled: Retain
    pods_added: [web-1, web-2]
    pods_removed: []
    pods_kept: [web-0]
    claims_created: [data-web-2]
    claims_reused: {data-web-1: 6a1f0b52-0c2e-4c1e-9d7e-2f0d1f7b9a10}
    claims_kept: {}
    claims_deleted: []
    added_ready_in_order: true
    removed_in_order: []
    removed_highest_first: null
upgrade:
  description:
    - The image or partition change and its proof. C(container), C(image), C(partition), C(strategy),
      C(update_revision), C(current_revision), C(pods_updated), C(pods_not_updated) (below the partition),
      C(pods_replaced), C(images) and C(revisions) (by pod), C(claims) (name to uid, unchanged),
      C(replaced_in_order) (the replaced pods in the order their new pod first became Ready) and
      C(replaced_highest_first) (null when the wait saw none; false fails the run with C(RollingUpdate), unless
      after a forced rollback).
  returned: when O(patch.image) or O(patch.partition) is given, O(wait=true), not in check mode
  type: dict
cascade:
  description: The cascade used on deletion.
  returned: state=absent
  type: str
  sample: orphan
pods_orphaned:
  description:
    - With O(cascade=orphan) and O(wait=true), the pods the StatefulSet owned (name to uid), proved still there
      after its deletion - the same pods, not being deleted, no longer owned by it. The run fails naming any other.
  returned: state=absent, cascade orphan, wait true, the StatefulSet existed, not in check mode
  type: dict
  sample: {web-0: 3f1c0b52-0c2e-4c1e-9d7e-2f0d1f7b9a10}
pods_deleted:
  description:
    - With O(cascade=background) or V(foreground) and O(wait=true), the pods the StatefulSet owned, each waited
      for until it was gone (O(wait_timeout)).
  returned: state=absent, cascade background or foreground, wait true, the StatefulSet existed, not in check mode
  type: list
  elements: str
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
