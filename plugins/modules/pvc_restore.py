#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pvc_restore
short_description: Bind archived or retained NFS directories to a StatefulSet's claims before its pods start
version_added: 0.4.0
description:
  - For each ordinal of a StatefulSet and each of its claim templates, finds the data of claim
    C(<template>-<statefulset>-<ordinal>) and makes it that claim's volume again, so the pod of that
    ordinal mounts its old directory when the StatefulSet is deployed (or scaled back up).
  - O(source=archive) - the directory the NFS provisioner kept when the claim was deleted
    (C(archiveOnDelete), C(archived-<namespace>-<claim>-<pv>) in the NFS path of the claim template's
    StorageClass, read from the provisioner Deployment that serves the class). A directory name is only
    matched against the namespace and claim it must belong to, never split blindly (both contain C(-)).
  - O(source=retained) - the directory of a Released PersistentVolume (reclaim policy C(Retain)) whose
    C(claimRef) names the claim.
  - Mechanism, a pre-bound static volume. For an archive, a PersistentVolume C(restored-<pv>) with
    C(spec.nfs) naming the directory, reclaim policy C(Retain) (the data is never deleted with it),
    and C(claimRef) set to the claim; a Released PV gets its C(claimRef) pointed at the claim. Then the
    claim is created with C(volumeName) set to that PV, with the template's class, access modes and size -
    the StatefulSet controller adopts an existing claim of that name. Nothing is copied.
  - The archive must have been renamed C(restored-<namespace>-<claim>-<pv>) on the NFS server before
    the claim is bound (RV(renames); playbook C(restore.yml) does it), so that it no longer looks
    like an archive to C(archive_prune.yml).
  - "Refused before the first change, each naming the claim: the namespace is missing; the claim exists
    bound to another volume (or unbound); no archive or Released volume is found; several are found
    (listed; O(choose) picks one); a directory name could belong to another namespace and claim;
    the chosen one belongs to another claim (unless O(force_claim_mismatch)); the pod of the ordinal exists
    (the claim must be bound before the pod starts; unless O(quiesce), the caller stopping it first)."
  - O(source=backup) - a claim's copy in a backup of C(backup.yml) (module M(stateful.nfs.nfs_dir_copy)), given
    as O(backups) with its manifest; the claim template and ordinal of the manifest choose the copy. It is restored
    into a fresh directory C(restored-<namespace>-<claim>-backup-<first 12 of its list_sha256>) of the class's
    export, which the caller copies from the backup first (RV(copies); playbook C(restore.yml) does it with
    M(stateful.nfs.nfs_dir_copy)) - the backup stays as it is, for another restore. Then the directory is bound
    as an archive is (PV of that name, reclaim policy C(Retain), pre-bound to the claim). Refused, before any
    change - an ordinal the backup has no copy of (the ordinals it holds are named), a copy without its manifest.
  - O(namespace) restores into another namespace than the StatefulSet's (C(restore.yml -e to_namespace=NS));
    a claim there that is bound to another volume is refused as in the StatefulSet's own.
  - O(source=migrate) - move the data to the class the claim templates of O(statefulset) name (the inventory's,
    the source of truth) - each claim's live directory (its PV's C(spec.nfs) path, read as the NFS server's disk
    path) is copied by the caller into C(migrated-<namespace>-<claim>-<old pv>) of the new class's export
    (RV(copies); playbook C(migrate.yml) does it with M(stateful.nfs.nfs_dir_copy)) and the claim is created again
    bound to its copy (PV C(migrated-<old pv>), reclaim policy C(Retain), pre-bound, as a restore). Two steps. Without
    O(directories), each old PV is set to reclaim policy C(Retain) and marked C(stateful.nfs/migrate-to) (RV(retains)),
    before any claim is deleted. With O(directories) (the finished copies, as listed on the NFS server), each old
    claim is deleted (its volume and directory stay) and created again bound to its copy; a copy not listed, a pod
    that still exists or an old PV that is not C(Retain) is refused first. A claim is never bound to an unfinished copy
    and no directory is removed. A re-run finds a deleted claim's old PV by its mark and converges.
  - "O(source=migrate) refuses, before any change - the new class missing or not served by an NFS provisioner of
    the cluster; a claim not Bound; a claim template of the live StatefulSet the given one lacks; an old directory on
    another NFS server than the new class's export (unless O(copy_host)). A claim on the new class already is
    C(unchanged); when every claim is and the live StatefulSet asks for the new class, RV(nothing_to_do) is true."
  - Without O(directories) and with O(source=archive), only reads and returns where to list the
    archives (RV(nfs_volumes)) and the refusals already known.
  - With a class's C(pathPattern) the provisioner archives as C(archived-<last path element>), a name that
    says no claim. Such an archive is attributed by the collection's index on the NFS server (O(volume_index),
    read with M(stateful.nfs.nfs_volume_index); C(teardown.yml -e purge=true) records it before deleting the
    claims). An archive neither named C(archived-<namespace>-<claim>-<pv>) nor in the index is never taken for a
    claim - the refusal lists it, and O(choose) (C(-e archive=DIR)) picks it.
  - O(index_only=true) only returns RV(volumes), the volumes of the StatefulSet's claims bound now, for
    M(stateful.nfs.nfs_volume_index) to record.
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
    details: The PV and claim are created with C(dryRun=All); every refusal is the same as in a real run.
  diff_mode:
    support: full
    details: Each PV and claim created, and each PV's C(claimRef) changed.
options:
  statefulset:
    description:
      - The StatefulSet the data is restored for, as M(stateful.nfs.statefulset) takes it
        (C(definition), or the shorthand options such as C(name), C(namespace), C(replicas),
        C(volume_claim_templates)); C(src) is not read here (give its content as C(definition)).
      - Its namespace, name, replicas, first ordinal, selector labels and claim templates (name, class,
        access modes, size) are used; it is not applied.
    type: dict
    required: true
  source:
    description: Where the data is.
    type: str
    choices: [archive, retained, backup, migrate]
    default: archive
  namespace:
    description: The namespace of the claims, when not the StatefulSet's (restore into another namespace).
    type: str
  backups:
    description:
      - With O(source=backup), every claim's copy in the backup - C(path) (the copy's directory on the NFS server)
        and C(manifest) (its C(<path>.manifest.json) as read, or null when it has none). The keys C(claim_template),
        C(ordinal), C(pvc) and C(list_sha256) of a manifest are read.
    type: list
    elements: dict
  ordinals:
    description: The ordinals to restore. Default - every ordinal of the StatefulSet's replicas.
    type: list
    elements: int
  directories:
    description:
      - With O(source=archive), the absolute paths of the C(archived-*) and C(restored-*) directories
        directly under each NFS path of RV(nfs_volumes), as listed on the NFS server.
      - With O(source=migrate), the absolute paths of the finished copies (those with their C(.manifest.json) of
        M(stateful.nfs.nfs_dir_copy)); given, the claims are moved, else only the old PVs are set to C(Retain).
    type: list
    elements: str
  choose:
    description:
      - Claim name to the archive's directory name (O(source=archive)) or to the PV's name
        (O(source=retained)), for a claim with several candidates or an archive of another name.
    type: dict
    default: {}
  force_claim_mismatch:
    description: Restore a chosen archive or PV whose name or C(claimRef) shows it belongs to another claim.
    type: bool
    default: false
  quiesce:
    description:
      - The caller stops the target pods before the real run (scaling the StatefulSet to 0); an existing
        target pod is then no refusal in check mode. A real run still refuses while the pod exists.
    type: bool
    default: false
  copy_host:
    description:
      - With O(source=migrate), the inventory host the copies run on when the old directories' NFS server is not the
        new class's; the caller has checked that both directories are reachable there under their NFS paths.
        Without it such a move is refused.
    type: str
  wait_timeout:
    description: Seconds to wait for every restored claim to be Bound to its volume (0 - do not wait).
    type: int
    default: 60
  volume_index:
    description:
      - With O(source=archive), the entries of the collection's index on the NFS server, as
        M(stateful.nfs.nfs_volume_index) with O(stateful.nfs.nfs_volume_index#module:state=query) returns them
        (RV(stateful.nfs.nfs_volume_index#module:entries) - keys C(pv), C(namespace), C(claim), C(share) and
        C(archive), the archive that is the entry's directory now).
      - An archive an entry locates belongs to that entry's claim, whatever its name; one that two entries locate
        belongs to neither.
    type: list
    elements: dict
    default: []
  index_only:
    description:
      - Only read the StatefulSet's claims and return RV(volumes) (nothing planned, nothing refused, nothing written).
    type: bool
    default: false
notes:
  - The NFS paths are taken to be the server's disk paths (as the provisioner's C(NFS_PATH) is on a kernel
    NFS server without an NFSv4 pseudo root, and on NFS-Ganesha with C(Pseudo) equal to C(Path)).
seealso:
  - module: stateful.nfs.statefulset
  - module: stateful.nfs.statefulset_verify
"""

EXAMPLES = r"""
- name: Where the archives of web's claims are
  stateful.nfs.pvc_restore:
    statefulset: {name: web, namespace: shop, image: "nginx:1.27.3", replicas: 3,
                  volume_claim_templates: [{name: www, storage_class_name: nfs-data, size: 1Gi,
                                            mount_path: /usr/share/nginx/html}]}
  register: where

- name: List them on the NFS server
  ansible.builtin.find:
    paths: "{{ where.nfs_volumes | map(attribute='nfs_path') | unique | list }}"
    file_type: directory
    patterns: ["archived-*", "restored-*"]
  delegate_to: nfs1
  register: found

- name: Plan (every refusal, nothing written)
  stateful.nfs.pvc_restore:
    statefulset: "{{ web_statefulset }}"
    directories: "{{ found.files | map(attribute='path') | list }}"
    choose: {www-web-1: archived-shop-www-web-1-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10}
  check_mode: true
  register: plan

- name: Move web's data to the class its claim template names now - step 1, the old PVs set to Retain
  stateful.nfs.pvc_restore:
    statefulset: "{{ web_statefulset }}"
    source: migrate
  register: move

- name: Step 3 (after the copies of move.copies are finished), each claim bound to its copy
  stateful.nfs.pvc_restore:
    statefulset: "{{ web_statefulset }}"
    source: migrate
    directories: "{{ move.copies | map(attribute='dest') | list }}"

- name: Bind a Released PV (reclaim policy Retain) to claim www-web-0 again
  stateful.nfs.pvc_restore:
    statefulset: "{{ web_statefulset }}"
    source: retained
    ordinals: [0]
"""

RETURN = r"""
statefulset:
  description: The StatefulSet's name and namespace (from O(statefulset)).
  returned: always
  type: dict
  sample: {name: web, namespace: shop}
claims:
  description: One row per claim, by ordinal then template.
  returned: always
  type: list
  elements: dict
  contains:
    ordinal: {description: The pod's ordinal., type: int, sample: 0}
    pod: {description: The pod that will mount the claim., type: str, sample: web-0}
    claim: {description: The claim's name., type: str, sample: www-web-0}
    namespace: {description: The claim's namespace., type: str, sample: shop}
    action:
      description:
        - C(restore) (created or bound now), C(unchanged) (already bound to it), C(list) (directories not given yet).
        - With O(source=migrate) C(migrate) (to copy and bind), C(unchanged) (on the new class), C(none) (no claim and
          no old volume - the StatefulSet makes it on the new class).
      type: str
      sample: restore
    source_directory: {description: The directory's name as found (an archive's C(archived-...))., type: str}
    directory: {description: The directory's name once restored., type: str, sample: restored-shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10}
    nfs_server: {description: The NFS server of the volume., type: str}
    nfs_path: {description: The volume's NFS path (C(spec.nfs.path) of the PV)., type: str}
    pv: {description: The PersistentVolume bound to the claim., type: str, sample: restored-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10}
    rename: {description: "C({from, to}) paths on the NFS server, or null.", type: dict}
    indexed:
      description: "The index entry that attributed the archive (C(pv), C(namespace), C(claim), C(statefulset), C(ordinal), C(directory)), when one did."
      type: dict
    copy: {description: "With O(source=backup), C({src, dest, expect_list_sha256}); with O(source=migrate) C({src, dest}).", type: dict}
    old_pv: {description: "With O(source=migrate), the claim's old PersistentVolume (moved from).", type: str}
    source_nfs_path: {description: "With O(source=migrate), the old volume's NFS path (its directory).", type: str}
    backup:
      description: "With O(source=backup), what the manifest says of the copy (namespace, pvc, pv, list_sha256, files, bytes, time, crash_consistent)."
      type: dict
    pod_exists: {description: Whether the pod exists now., type: bool}
    phase: {description: The claim's phase after the wait (real runs that restored it)., type: str, sample: Bound}
    bind_retried:
      description:
        - The claim was not Bound 2 seconds after its creation and was annotated C(stateful.nfs/bind-retry) once, so
          that the PV controller synced it again at once (else it waits for the controller's next resync of claims,
          C(--pvclaimbinder-sync-period), 15 s by default). Real runs that restored it.
      type: bool
      sample: false
nfs_volumes:
  description: Per claim template, its class and the NFS server and path its provisioner makes directories in.
  returned: always
  type: list
  elements: dict
  sample: [{storage_class: nfs-data, nfs_server: 10.0.0.5, nfs_path: /srv/nfs}]
renames:
  description: The archives to rename on the NFS server before the real run (C({from, to})).
  returned: always
  type: list
  elements: dict
volumes:
  description:
    - With O(index_only=true), the volumes of the StatefulSet's claims that exist and are bound on a class served by
      an NFS provisioner, below its NFS path - C(pv), C(namespace), C(claim), C(statefulset), C(template),
      C(ordinal), C(directory) (the PV's NFS path), C(share) (the provisioner's NFS path); the O(stateful.nfs.nfs_volume_index#module:volumes)
      of M(stateful.nfs.nfs_volume_index).
  returned: with O(index_only=true)
  type: list
  elements: dict
copies:
  description:
    - With O(source=backup), the copies to make on the NFS server before the real run (C({src, dest,
      expect_list_sha256}), the options of M(stateful.nfs.nfs_dir_copy)).
  returned: always
  type: list
  elements: dict
retains:
  description: With O(source=migrate), the old PVs set (or to set) to reclaim policy C(Retain) by this run.
  returned: always with O(source=migrate)
  type: list
  elements: str
apply_statefulset:
  description:
    - With O(source=migrate), whether the StatefulSet must be applied with the new class (its live claim templates
      name another, or it was deleted by an interrupted recreate after claims moved).
  returned: always with O(source=migrate)
  type: bool
live_classes:
  description: With O(source=migrate), the live StatefulSet's claim templates and their class.
  returned: always with O(source=migrate)
  type: dict
  sample: {www: nfs-data}
sources:
  description:
    - With O(source=migrate), the old volume and directory of each claim moved or to move (C({claim, pv, nfs_path}));
      C(migrate.yml -e prune_source=true) removes them once the move is proved.
  returned: always with O(source=migrate)
  type: list
  elements: dict
nothing_to_do:
  description: With O(source=migrate), true when every claim and the live StatefulSet are on the new class already.
  returned: always with O(source=migrate)
  type: bool
pods_to_stop:
  description: Target pods that exist and must be gone before their claims are restored.
  returned: always
  type: list
  elements: str
refusals:
  description: Every refusal (on failure), each naming the claim.
  returned: failure
  type: list
  elements: str
objects:
  description: Each object created or changed (kind, name, namespace, action, changed).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("pvc_restore")


if __name__ == "__main__":
    main()
