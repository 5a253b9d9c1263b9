#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nfs_provisioner
short_description: Deploy the NFS dynamic provisioner (nfs-subdir-external-provisioner) and its StorageClass
version_added: 0.1.0
description:
  - Creates, updates or removes everything the NFS dynamic provisioner needs in a Kubernetes cluster, so that
    PersistentVolumeClaims of a StorageClass get PersistentVolumes carved out of one NFS export.
  - "Objects, with the names derived from O(name) and O(namespace) (the defaults are the walkthrough's names):
    ServiceAccount O(name); ClusterRole C(<namespace>:<name>-runner) with exactly the rules the provisioner needs
    (persistentvolumes get/list/watch/create/delete; persistentvolumeclaims get/list/watch/update;
    storageclasses get/list/watch; events create/update/patch; nodes get/list/watch; no wildcards);
    ClusterRoleBinding C(<namespace>:run-<name>); Role and RoleBinding C(leader-locking-<name>) for leader election
    (endpoints get/list/watch/create/update/patch); Deployment O(name) (strategy Recreate, the NFS export
    mounted at C(/persistentvolumes), environment C(PROVISIONER_NAME), C(NFS_SERVER), C(NFS_PATH));
    StorageClass O(storage_class_name); with O(mount_options), the PersistentVolume and PersistentVolumeClaim
    C(<name>-root-<hash>) of the provisioner's own mount, the hash over namespace, server, path and options."
  - The cluster-scoped RBAC objects and the root PersistentVolume carry the namespace (in the name or the hash), so
    two provisioners of one O(name) in two namespaces never share one. The StorageClass is named by
    O(storage_class_name).
  - "Upgrade from 0.3.0, which named the ClusterRole C(<name>-runner) and the ClusterRoleBinding C(run-<name>) in
    every namespace: the new binding is applied first, then the old binding and role are deleted, only when they
    carry the label C(app.kubernetes.io/managed-by=stateful.nfs) and the old binding names this provisioner's
    ServiceAccount alone (a binding another namespace's provisioner took over stays, with a warning, for that
    provisioner's own run). A 0.3.0 root volume is kept while the Deployment mounts it and its PV is bound to
    this namespace (a new name would restart the provisioner)."
  - A O(provisioner_name) already served by another Deployment (the C(PROVISIONER_NAME) of its containers, in
    another namespace or under another name) is refused before any change, naming that Deployment - two
    provisioners of one name take the same claims and race for them. The check lists Deployments in all
    namespaces (C(list deployments.apps) at cluster scope); when RBAC forbids that read, the check is not
    made and a warning says so.
  - With O(wait=true) the module returns once the Deployment is Available; on timeout the error lists the
    provisioner pods that are not ready with their phase, conditions and latest events (an image that
    cannot be pulled, an NFS mount that fails).
  - O(state=absent) removes exactly these objects, and only those that carry the label
    C(app.kubernetes.io/managed-by=stateful.nfs) or are owned by the C(stateful.nfs) field manager.
    0.3.0's shared ClusterRole and ClusterRoleBinding go under the conditions of an upgrade (above).
    It never touches the PersistentVolumes and PersistentVolumeClaims of the class, nor anything on
    the NFS server; it removes the provisioner's own root claim and volume (see O(mount_options)),
    which only describe its mount.
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
    details: Writes are sent with C(dryRun=All); nothing is stored.
  diff_mode:
    support: full
    details: One before/after pair per object that changes.
options:
  state:
    description:
      - V(present) creates or updates the objects; V(absent) deletes them (never data).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Name of the Deployment and the ServiceAccount, and the base of the RBAC object names.
      - A DNS-1123 label (it is also the value of the pods' C(app) label).
    type: str
    default: nfs-client-provisioner
  namespace:
    description:
      - Namespace of the namespaced objects. It must exist, unless O(create_namespace=true).
    type: str
    default: default
  provisioner_name:
    description:
      - Name under which the provisioner serves claims; the StorageClass's C(provisioner) field and the
        C(PROVISIONER_NAME) environment variable. Both always match.
      - If a StorageClass O(storage_class_name) already exists with another provisioner, PVCs of that class
        would stay Pending. The module warns and fails before writing anything, unless
        O(replace_storage_class=true).
    type: str
    default: fuseim.pri/ifs
  nfs_server:
    description:
      - Host name or IP address of the NFS server, as the Kubernetes nodes reach it.
      - Required when O(state=present).
    type: str
  nfs_path:
    description:
      - Exported directory on O(nfs_server) under which the provisioner creates one directory per volume.
      - Required when O(state=present).
    type: str
  image:
    description:
      - Provisioner image.
      - The default is the maintained upstream image. Where C(registry.k8s.io) cannot be reached, the
        walkthrough's mirror V(fxkjnj/nfs-client-provisioner:latest) can be given (or a copy in a private
        registry).
      - "B(Warning:) old C(nfs-client-provisioner) images (the retired external-storage project, which
        the mirror is) rely on the C(selfLink) field that Kubernetes removed in 1.20. On Kubernetes 1.20
        and later their claims stay Pending and the provisioner logs C(unexpected error getting claim
        reference: selfLink was empty, can't make reference). Use them only on older clusters."
      - For an image of that project (C(quay.io/external_storage/nfs-client-provisioner),
        C(fxkjnj/nfs-client-provisioner)) the module reads the API server's version first (C(/version)).
        On Kubernetes 1.24 and later, where nothing can make it work, it fails before any write; on
        1.20 to 1.23 it warns (it works there only with the API server's feature gate
        C(RemoveSelfLink=false)). Another image named C(nfs-client-provisioner) gets the warning."
    type: str
    default: registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2
  image_pull_policy:
    description: Pull policy of the provisioner container.
    type: str
    choices: [Always, IfNotPresent, Never]
    default: IfNotPresent
  replicas:
    description:
      - Number of provisioner pods. They elect a leader, so more than one only adds standby capacity.
    type: int
    default: 1
  labels:
    description: Extra labels for every object (and the provisioner pods).
    type: dict
  resources:
    description:
      - Compute resources of the provisioner container, as in a Kubernetes manifest
        (C(requests)/C(limits) of C(cpu), C(memory)).
    type: dict
  node_selector:
    description: Node labels the provisioner pods must run on.
    type: dict
  tolerations:
    description: Tolerations of the provisioner pods, as in a Kubernetes manifest.
    type: list
    elements: dict
  image_pull_secrets:
    description: Names of Secrets (in O(namespace)) used to pull O(image).
    type: list
    elements: str
  security_context:
    description: Container C(securityContext) of the provisioner, as in a Kubernetes manifest.
    type: dict
  pod_security_context:
    description: Pod C(securityContext) of the provisioner pods, as in a Kubernetes manifest.
    type: dict
  storage_class_name:
    description: Name of the StorageClass served by this provisioner.
    type: str
    default: managed-nfs-storage
  default_class:
    description:
      - Mark the StorageClass as the cluster's default (annotation
        C(storageclass.kubernetes.io/is-default-class)).
    type: bool
    default: false
  archive_on_delete:
    description:
      - StorageClass parameter C(archiveOnDelete). When V(true), the directory of a deleted volume is renamed
        C(archived-<name>) on the NFS server instead of being removed. Unset means V(true).
      - Ignored by the provisioner when O(on_delete) is set.
      - The provisioner acts on a directory only when Kubernetes deletes the volume, which
        O(reclaim_policy=Retain) never does. So with V(Retain), V(false) (remove the directory) fails the
        module before any request, and V(true) given explicitly produces a warning; both name the way
        out (O(reclaim_policy=Delete), or leaving the option out).
    type: bool
  on_delete:
    description:
      - StorageClass parameter C(onDelete). V(retain) keeps the directory of a deleted volume as is,
        V(delete) removes it. Takes precedence over O(archive_on_delete).
      - With O(reclaim_policy=Retain), V(delete) fails the module before any request and V(retain)
        produces a warning (see O(archive_on_delete)).
    type: str
    choices: [delete, retain]
  path_pattern:
    description:
      - StorageClass parameter C(pathPattern), the directory of each volume relative to O(nfs_path), built
        from PVC metadata, for example V(${.PVC.namespace}/${.PVC.name}).
      - Default (unset) is C(${namespace}-${pvcName}-${pvName}).
      - A C(..) segment, an absolute pattern, or one that names the share's root (V(.)) is refused before any change -
        the provisioner joins the expanded pattern onto its mount and the export path and resolves C(..)
        (nfs-subdir-external-provisioner, C(filepath.Join)), so the directory would be made outside the share, or
        every claim would share one.
      - A pattern built from PVC annotations (C(${.PVC.annotations.<key>})) takes what the claim's author wrote there,
        which no check here can see. Upstream's provisioner joins it as it is; the lab's stand-in cleans the
        expanded path as rooted at the export (a C(..) cannot leave it) and refuses an empty one.
    type: str
  reclaim_policy:
    description: Reclaim policy of the volumes the class provisions.
    type: str
    choices: [Delete, Retain]
    default: Delete
  volume_binding_mode:
    description: When volumes are bound and provisioned.
    type: str
    choices: [Immediate, WaitForFirstConsumer]
    default: Immediate
  allow_volume_expansion:
    description: Whether PVCs of the class may grow. Unset leaves the field out of the class.
    type: bool
  mount_options:
    description:
      - NFS mount options, one per item, for example V(nfsvers=4.1) or V(hard), of the volumes the
        class provisions (StorageClass C(mountOptions)) and of the provisioner's own mount of the export.
      - "The provisioner's own mount: with options, the module creates a PersistentVolume and a
        PersistentVolumeClaim C(<name>-root-<hash>) that carry them (the upstream Helm chart's way,
        C(nfs.mountOptions)), bound to each other in advance (the PV's C(claimRef), the claim's
        C(volumeName)), without a StorageClass and with reclaim policy C(Retain), and the Deployment
        mounts that claim instead of an inline C(nfs) volume. Without options the inline volume is used."
      - The hash covers O(nfs_server), O(nfs_path) and the options, as a PersistentVolume's NFS source cannot
        change. A change of any of them makes a new pair, the Deployment moves to it (its pod is
        recreated) and the old pair is deleted. Deleting these objects never touches the export's data.
      - Checked against nfs(5) and mount(8) before anything is written (unknown names, values a
        flag does not take, values nfs(5) does not allow such as V(nfsvers=5)); names starting
        with V(x-) pass as they are. Role C(stateful.nfs.nfs_client) checks its mounts with the
        same table.
    type: list
    elements: str
  replace_storage_class:
    description:
      - When the StorageClass exists with a different provisioner (a field Kubernetes does not allow to
        change), delete and recreate it. Existing PVs and PVCs of the class are not affected.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the Deployment is Available; with O(state=absent), until it is gone.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
  prove_with_claim:
    description:
      - When anything was created or changed (and O(wait=true), not in check mode), prove the class provisions -
        create the claim C(<name>-proof) of the class in O(namespace) (1Mi, ReadWriteOnce), wait up to O(wait_timeout)
        seconds until it is Bound to a PV whose NFS source is O(nfs_server) and a directory under O(nfs_path), then
        delete the claim. Its directory then goes as the class says (archived, deleted or retained).
      - A re-run with nothing changed creates no claim. A class with O(volume_binding_mode=WaitForFirstConsumer)
        is not proved this way (a claim binds only with a pod); RV(proof) says so.
      - Fails naming the claim, its phase and its events when it is not Bound in time or is bound elsewhere.
    type: bool
    default: false
    version_added: 0.4.0
seealso:
  - module: stateful.nfs.statefulset
  - name: nfs-subdir-external-provisioner
    description: The provisioner this module deploys.
    link: https://github.com/kubernetes-sigs/nfs-subdir-external-provisioner
"""

EXAMPLES = r"""
- name: Provisioner and StorageClass of the walkthrough
  stateful.nfs.nfs_provisioner:
    nfs_server: 192.0.2.20
    nfs_path: /home/nfs

- name: Same, for a network that cannot reach registry.k8s.io (Kubernetes < 1.20 only; refused from 1.24, see image)
  stateful.nfs.nfs_provisioner:
    nfs_server: 192.0.2.20
    nfs_path: /home/nfs
    image: fxkjnj/nfs-client-provisioner:latest

- name: A default class that keeps data of deleted volumes, on tainted storage nodes
  stateful.nfs.nfs_provisioner:
    kubeconfig: ~/.kube/prod.yaml
    context: prod
    name: nfs-prod
    namespace: storage
    provisioner_name: example.com/nfs-prod
    nfs_server: nfs.example.com
    nfs_path: /srv/k8s
    storage_class_name: nfs-prod
    default_class: true
    on_delete: retain
    path_pattern: "${.PVC.namespace}/${.PVC.name}"
    allow_volume_expansion: true
    mount_options: [nfsvers=4.1, hard]
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {memory: 64Mi}
    node_selector:
      node-role.kubernetes.io/storage: ""
    tolerations:
      - key: storage
        operator: Exists
        effect: NoSchedule
    security_context:
      allowPrivilegeEscalation: false

- name: Remove the provisioner (PVs, PVCs and data stay)
  stateful.nfs.nfs_provisioner:
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any object was created, changed or deleted (or would be, in check mode).
  returned: always
  type: bool
objects:
  description: One entry per object, in the order handled.
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: Object kind., type: str, sample: Deployment}
    name: {description: Object name., type: str, sample: nfs-client-provisioner}
    namespace: {description: "Namespace, null for cluster-scoped kinds.", type: str, sample: default}
    action:
      description: What was done.
      type: str
      sample: create
      choices: [create, update, unchanged, recreate, delete, absent, skipped]
    changed: {description: Whether this object changed., type: bool}
    reason: {description: Why the module wrote or did not write., type: str, sample: field spec.replicas differs}
names:
  description:
    - Names of the objects of this provisioner.
    - C(root_volume) is the name of the PersistentVolume and PersistentVolumeClaim of the provisioner's
      own mount with O(mount_options), null without.
  returned: always
  type: dict
  sample:
    service_account: nfs-client-provisioner
    cluster_role: default:nfs-client-provisioner-runner
    cluster_role_binding: default:run-nfs-client-provisioner
    role: leader-locking-nfs-client-provisioner
    role_binding: leader-locking-nfs-client-provisioner
    deployment: nfs-client-provisioner
    storage_class: managed-nfs-storage
    root_volume: nfs-client-provisioner-root-3f2a9c0d1e
provisioner_name:
  description: The provisioner name the StorageClass and the Deployment use.
  returned: state=present
  type: str
  sample: fuseim.pri/ifs
storage_class:
  description: Name of the StorageClass.
  returned: state=present
  type: str
  sample: managed-nfs-storage
deployment:
  description: Outcome of the wait for the Deployment.
  returned: state=present, wait=true, not in check mode, replicas > 0
  type: dict
  sample: {ready: true, elapsed: 4.2, reason: 1 of 1 replicas available}
proof:
  description:
    - The class's proof by a claim (O(prove_with_claim=true)) - the claim, the PV it was bound to, that PV's NFS
      source and the seconds until Bound; or C(skipped) with the reason.
  returned: when O(prove_with_claim=true) and anything was created or changed, not in check mode
  type: dict
  version_added: 0.4.0
  sample: {claim: nfs-provisioner/nfs-data-provisioner-proof, volume: pvc-5b1c..., nfs_server: 192.0.2.20,
           nfs_path: /srv/nfs/nfs-provisioner-nfs-data-provisioner-proof-pvc-5b1c..., seconds: 1.52}
diff:
  description: Before/after of each object that changed (RBAC objects, Deployment, StorageClass, root volume and claim), in diff mode.
  returned: when changed
  type: list
  elements: dict
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("nfs_provisioner")


if __name__ == "__main__":
    main()
