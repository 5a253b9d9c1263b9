# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module does, given validated parameters and a :class:`K8sClient`.

The module validated its input at its entry (``validation``); a runner takes that
validated copy as it is. Order of operations in every runner: read what exists
(GETs only) and refuse clearly on conflicts -> write, a namespace to create included.
A refusal therefore leaves the cluster untouched (in check mode not even a dry-run
write is sent); a failure while writing leaves objects that the next
run converges (every write is an apply of the full desired state, so there is no
partial state a re-run cannot fix).
"""

from __future__ import annotations

import re

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import day2, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait as waiters
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import (
    FIELD_MANAGER,
    Result,
    apply_object,
    delete_object,
    needs_apply,
    sanitize,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.compare import foreign_template_fields, immutable_changes
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.dns_client import remove_dns_clients
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import (
    ApiError,
    ImmutableFieldError,
    InputError,
    K8sError,
    WaitTimeoutError,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.identity import identity_table
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

CASCADE = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}


class Outcome:
    """Accumulates per-object results, diffs and warnings of one module run."""

    def __init__(self, warn=None):
        self.results = []
        self.warnings = []
        self._warn = warn
        self.extra = {}

    def add(self, result):
        self.results.append(result)
        if result.dropped:
            self.warn("{}: the API server did not keep {} (a field of a feature gate that is off, or one this"
                      " Kubernetes version does not serve): it has no effect".format(result.ref, ", ".join(result.dropped)))
        return result

    def warn(self, text):
        self.warnings.append(text)
        if self._warn:
            self._warn(text)

    @property
    def changed(self):
        return any(r.changed for r in self.results)

    def module_result(self):
        out = {
            "changed": self.changed,
            "objects": [r.as_dict() for r in self.results],
            "diff": [r.diff() for r in self.results if r.changed],
        }
        out.update(self.extra)
        return out


def namespace_to_create(client, namespace, create=False):
    """Read only: True when ``namespace`` is missing and ``create`` allows creating it.

    Missing and ``create`` false: fail with guidance. An existing namespace is never written to
    (its labels and annotations are not ours). A 403 on namespaces skips the check.
    """
    try:
        ns = client.get(Ref("Namespace", namespace))
    except ApiError as exc:
        if exc.status == 403:
            return False
        raise
    if ns is not None:
        return False
    if not create:
        raise InputError("namespace", f"namespace {namespace!r} does not exist; create it first, set"
                                      " create_namespace: true, or choose an existing one")
    return True


def create_namespace(client, namespace, check_mode, outcome):
    """Create ``namespace`` (server-side apply; dry run in check mode), recorded in ``outcome``.

    Returns True when the namespace is still missing because check mode only pretended to create
    it (the caller cannot dry-run objects into it on the server).
    """
    outcome.add(apply_object(client, mf.namespace_manifest(namespace), check_mode, live=None, live_known=True))
    return check_mode


def is_ours(obj):
    """True when ``obj`` was created or is managed by this collection."""
    meta = (obj or {}).get("metadata") or {}
    if (meta.get("labels") or {}).get(mf.MANAGED_BY_LABEL) == mf.MANAGED_BY:
        return True
    return any(e.get("manager") == FIELD_MANAGER for e in meta.get("managedFields") or [])


# --------------------------------------------------------------------------- nfs_provisioner
def run_provisioner(client, p, check_mode, outcome, clock=None, sleep=None):
    """Converge the provisioner's objects to ``p`` (``validation.validate_provisioner_params``' result)."""
    state = p["state"]
    names = mf.provisioner_names(p["name"], p["namespace"])
    if state == "absent":
        outcome.extra["names"] = dict(names, storage_class=p["storage_class_name"], root_volume=None)
        _provisioner_absent(client, p, check_mode, outcome, clock, sleep)
        return

    # Reads and refusals first: nothing is written before every check has passed.
    for text in validation.provisioner_warnings(p):
        outcome.warn(text)
    check_provisioner_image(client, p["image"], outcome)
    check_provisioner_name_unique(client, p, outcome)
    new_namespace = namespace_to_create(client, p["namespace"], p["create_namespace"])
    sc_ref = Ref("StorageClass", p["storage_class_name"])
    live_sc = client.get(sc_ref)
    replace_sc = False
    if live_sc is not None and live_sc.get("provisioner") != p["provisioner_name"]:
        text = "StorageClass {0} exists with provisioner {1!r}, but this provisioner is named {2!r}: PVCs of class {0} would stay Pending".format(
            p["storage_class_name"], live_sc.get("provisioner"), p["provisioner_name"])
        outcome.warn(text)
        if not p.get("replace_storage_class"):
            raise InputError("provisioner_name", text + ". The provisioner field of a StorageClass cannot be"
                             " changed: set provisioner_name: {!r} to serve the existing class, choose another"
                             " storage_class_name, or set replace_storage_class: true to delete and recreate the"
                             " class (existing PVs and PVCs are not affected)".format(live_sc.get("provisioner")))
        replace_sc = True

    dep_ref = Ref("Deployment", names["deployment"], p["namespace"])
    live_dep = client.get(dep_ref)
    old_root = mf.root_claim_of(live_dep)
    p = _keep_legacy_root(client, p, old_root)
    outcome.extra["names"] = dict(names, storage_class=p["storage_class_name"], root_volume=mf.root_volume_name(p))
    desired = mf.provisioner_manifests(p)
    legacy = _legacy_rbac(client, p, names)

    pending = create_namespace(client, p["namespace"], check_mode, outcome) if new_namespace else False
    for manifest in desired:
        ref = Ref.of(manifest)
        if ref == sc_ref and replace_sc:
            delete_object(client, sc_ref, check_mode, live=live_sc, live_known=True)
            if check_mode:
                outcome.add(Result(ref, "recreate", True, sanitize(live_sc), manifest,
                                   "provisioner changed: class deleted and recreated"))
                continue
            waiters.wait_deleted(client, sc_ref, timeout=60, **_timing(clock, sleep))
            res = apply_object(client, manifest, check_mode, p["force_conflicts"], live=None,
                               live_known=True)
            res.action, res.before = "recreate", sanitize(live_sc)
            outcome.add(res)
            continue
        kwargs = {}
        if ref in (sc_ref, dep_ref):
            kwargs = {"live": live_sc if ref == sc_ref else live_dep, "live_known": True}
        outcome.add(apply_object(client, manifest, check_mode, p["force_conflicts"],
                                 namespace_pending=pending and ref.namespaced, **kwargs))
    # the Deployment mounts the new root claim (or the inline volume) now: the old pair goes
    if old_root and old_root != mf.root_volume_name(p) and old_root.startswith(p["name"] + "-root-"):
        for ref in (Ref("PersistentVolumeClaim", old_root, p["namespace"]), Ref("PersistentVolume", old_root)):
            _delete_if_ours(client, ref, client.get(ref), check_mode, outcome)
    # the account is bound by the new names now: 0.3.0's shared ones go (see _legacy_rbac)
    _retire_legacy_rbac(client, legacy, check_mode, outcome)

    outcome.extra["provisioner_name"] = p["provisioner_name"]
    outcome.extra["storage_class"] = p["storage_class_name"]
    if p.get("wait") and not check_mode and p["replicas"] > 0:
        outcome.extra["deployment"] = waiters.wait_deployment_available(
            client, dep_ref, timeout=p["wait_timeout"], **_timing(clock, sleep))
        if p.get("prove_with_claim") and outcome.changed:
            outcome.extra["proof"] = prove_class_with_claim(client, p, clock, sleep)


def prove_class_with_claim(client, p, clock=None, sleep=None):
    """Prove that the class provisions: a claim of it (``manifests.proof_claim_manifest``) is Bound
    within ``wait_timeout`` to a PV whose NFS source is ``nfs_server`` and a directory under
    ``nfs_path``; the claim is deleted again (its directory then goes as the class says: archived,
    deleted or retained). Returns ``{claim, volume, nfs_server, nfs_path, seconds}``, or
    ``{skipped: why}`` for a WaitForFirstConsumer class (no claim binds without a pod).
    Raises K8sError naming the claim, what it saw and the provisioner's events when not proved."""
    if p.get("volume_binding_mode") == "WaitForFirstConsumer":
        return {"skipped": "volumeBindingMode WaitForFirstConsumer: a claim binds only with a pod that uses it"}
    manifest = mf.proof_claim_manifest(p)
    ref = Ref.of(manifest)
    apply_object(client, manifest, False, True)
    try:
        done, claim, seconds = waiters.wait_claim_bound(client, ref, timeout=p["wait_timeout"],
                                                        **_timing(clock, sleep))
        if not done:
            events = "; ".join(f"{e['reason']}: {e['message']}" for e in
                               waiters.latest_events(client, "PersistentVolumeClaim", ref.name, ref.namespace))
            raise K8sError(f"StorageClass {p['storage_class_name']} is not proved: claim {ref.namespace}/{ref.name}"
                           f" is {(claim.get('status') or {}).get('phase', 'missing')} after {seconds:.0f} s"
                           f" (events: {events or 'none'}); is provisioner {p['provisioner_name']} running and"
                           f" can it write {p['nfs_server']}:{p['nfs_path']}?")
        volume = claim["spec"]["volumeName"]
        nfs = ((client.get(Ref("PersistentVolume", volume)) or {}).get("spec") or {}).get("nfs") or {}
        if nfs.get("server") != p["nfs_server"] or not (nfs.get("path") or "").startswith(p["nfs_path"].rstrip("/") + "/"):
            raise K8sError(f"StorageClass {p['storage_class_name']} is not proved: claim {ref.namespace}/{ref.name}"
                           f" was bound to PV {volume} on {nfs.get('server')}:{nfs.get('path')}, not under"
                           f" {p['nfs_server']}:{p['nfs_path']}: another provisioner serves the class")
        return {"claim": f"{ref.namespace}/{ref.name}", "volume": volume, "nfs_server": nfs["server"],
                "nfs_path": nfs["path"], "seconds": round(seconds, 2)}
    finally:
        delete_object(client, ref, False)


def _server_minor(version):
    """The API server's minor version as an int (``"28+"`` -> 28), or None when unknown."""
    match = re.match(r"[0-9]+", str((version or {}).get("minor") or ""))
    return int(match.group(0)) if match and str(version.get("major")) == "1" else None


def check_provisioner_image(client, image, outcome):
    """Refuse the retired nfs-client-provisioner where it cannot work; warn where it may not.

    It fails on Kubernetes 1.20 and later (no selfLink) unless the API server runs with the
    feature gate RemoveSelfLink=false, which 1.24 removed. Reads ``/version`` only for such an image.
    """
    kind = validation.legacy_provisioner_image(image)
    if kind is None:
        return
    try:
        version = client.version() or {}
    except K8sError:
        version = {}
    minor = _server_minor(version)
    if minor is not None and minor < 20:
        return
    server = "Kubernetes {}".format(version.get("gitVersion") or "of unknown version")
    why = ("it builds claim references from metadata.selfLink, which Kubernetes stopped filling in with 1.20, so its"
           " claims stay Pending (\"selfLink was empty, can't make reference\")")
    way_out = (f"Leave image out to use the maintained {validation.DEFAULT_PROVISIONER_IMAGE}, or give a copy of"
               " that image in a registry the nodes can reach")
    if kind == "known" and minor is not None and minor >= 24:
        raise InputError("image", f"{image} is the retired nfs-client-provisioner, which cannot provision on {server}:"
                                  f" {why}, and the feature gate RemoveSelfLink=false that once kept it working was"
                                  f" removed in 1.24. {way_out}")
    named = "is the retired nfs-client-provisioner" if kind == "known" else (
        "looks like the retired nfs-client-provisioner (if it is a copy of the maintained image, ignore this)")
    outcome.warn(f"{image} {named}, which fails on {server} unless the API server runs with the feature gate"
                 f" RemoveSelfLink=false (1.20 to 1.23 only): {why}. {way_out}")


def provisioner_containers(deployments):
    """``(namespace/name, env)`` for each container (init containers included) of ``deployments``
    that sets ``PROVISIONER_NAME``; ``env`` maps its variables' names to their literal values
    (``PROVISIONER_NAME``, ``NFS_SERVER``, ``NFS_PATH``, as the provisioner reads them)."""
    for dep in deployments:
        spec = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {})
        meta = dep.get("metadata") or {}
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            env = {e.get("name"): e.get("value") for e in container.get("env") or []}
            if "PROVISIONER_NAME" in env:
                yield "{}/{}".format(meta.get("namespace"), meta.get("name")), env


def serving_deployments(client, provisioner_name):
    """``namespace/name`` of every Deployment whose containers set ``PROVISIONER_NAME`` to
    ``provisioner_name`` (one cluster-wide list of Deployments)."""
    return list(dict.fromkeys(where for where, env in provisioner_containers(client.list("Deployment"))
                              if env["PROVISIONER_NAME"] == provisioner_name))


def check_provisioner_name_unique(client, p, outcome):
    """Refuse a second Deployment for a provisioner name another Deployment (in another namespace,
    or under another name) already serves: both would take the same claims and race for them.

    Needs ``list`` of Deployments in every namespace; when RBAC forbids that read, the check is
    not made and a warning says so (never silently)."""
    me = "{}/{}".format(p["namespace"], p["name"])
    try:
        others = [d for d in serving_deployments(client, p["provisioner_name"]) if d != me]
    except ApiError as exc:
        if exc.status != 403:
            raise
        outcome.warn(f"could not check that no other Deployment serves provisioner name {p['provisioner_name']!r}:"
                     f" listing Deployments in all namespaces is forbidden ({exc.api_message}). Two provisioners of"
                     " one name race for the same claims; grant list on deployments (apps) cluster-wide to the"
                     " account that runs this module to have it checked")
        return
    if others:
        where = others[0].split("/", 1)
        raise InputError("provisioner_name", "provisioner name {!r} is already served by Deployment {}: a second"
                         " provisioner of that name ({}) would take the same claims and race with it. Manage that"
                         " provisioner under its own name and namespace (name: {}, namespace: {}), choose another"
                         " provisioner_name (with its own storage_class_name), or remove that Deployment"
                         " first".format(p["provisioner_name"], ", ".join(others), me, where[1], where[0]))


def _keep_legacy_root(client, p, old_root):
    """``p``, keeping 0.3.0's root pair (named without the namespace) while the Deployment mounts it
    and its PV is bound to this namespace's claim: a new name would restart the provisioner for
    nothing. Any change of server, path or options moves it to the new name."""
    if not old_root or old_root != mf.legacy_root_volume_name(p):
        return p
    pv = client.get(Ref("PersistentVolume", old_root)) or {}
    if (((pv.get("spec") or {}).get("claimRef") or {}).get("namespace")) != p["namespace"]:
        return p
    return dict(p, root_volume=old_root)


def _legacy_rbac(client, p, names):
    """Read 0.3.0's shared ClusterRole and ClusterRoleBinding (named after the Deployment only),
    before any write: ``[(ref, live, why_kept)]``, ``why_kept`` None for those this provisioner
    may remove (:func:`_retire_legacy_rbac`): labelled ``app.kubernetes.io/managed-by=stateful.nfs``,
    and a binding of exactly this provisioner's ServiceAccount (a binding another namespace's
    provisioner took over in 0.3.0 stays for that provisioner's own run, and so does its role)."""
    old = mf.legacy_rbac_names(p["name"])
    crb_ref, cr_ref = Ref("ClusterRoleBinding", old["cluster_role_binding"]), Ref("ClusterRole", old["cluster_role"])
    crb, cr = client.get(crb_ref), client.get(cr_ref)
    account = {"kind": "ServiceAccount", "name": names["service_account"], "namespace": p["namespace"]}

    def labelled(obj):
        return ((obj.get("metadata") or {}).get("labels") or {}).get(mf.MANAGED_BY_LABEL) == mf.MANAGED_BY

    out = []
    crb_why = None
    if crb is not None:
        subjects = [{k: s.get(k) for k in ("kind", "name", "namespace")} for s in crb.get("subjects") or []]
        if not labelled(crb):
            crb_why = f"not labelled {mf.MANAGED_BY_LABEL}={mf.MANAGED_BY}"
        elif subjects != [account]:
            crb_why = "it binds {}, not only this provisioner's account".format(
                ", ".join(f"{s.get('kind')} {s.get('namespace')}/{s.get('name')}" for s in subjects) or "nobody")
        out.append((crb_ref, crb, crb_why))
    if cr is not None:
        if not labelled(cr):
            why = f"not labelled {mf.MANAGED_BY_LABEL}={mf.MANAGED_BY}"
        elif crb is not None and crb_why is not None:
            why = f"{crb_ref}, which is kept, refers to it"
        else:
            why = None
        out.append((cr_ref, cr, why))
    return out


def _retire_legacy_rbac(client, legacy, check_mode, outcome):
    """Delete the 0.3.0 RBAC objects ``_legacy_rbac`` cleared; say why each other one stays."""
    for ref, live, why in legacy:
        if why is None:
            res = delete_object(client, ref, check_mode, "Background", live=live, live_known=True)
            res.reason = "0.3.0's shared name, replaced by a name of this namespace"
            outcome.add(res)
        else:
            outcome.warn(f"{ref} (0.3.0's shared name) is left in place: {why}")


def _timing(clock, sleep, interval=None):
    out = {}
    if clock is not None:
        out["clock"] = clock
    if sleep is not None:
        out["sleep"] = sleep
    if interval is not None:
        out["interval"] = interval
    return out


def _delete_if_ours(client, ref, live, check_mode, outcome):
    """Delete ``ref`` (its ``live`` object) when this collection made it; warn and leave it otherwise."""
    if live is not None and not is_ours(live):
        outcome.warn(f"{ref} exists but was not created by stateful.nfs (no label {mf.MANAGED_BY_LABEL}={mf.MANAGED_BY}, no field manager {FIELD_MANAGER}):"
                     " left in place")
        outcome.add(Result(ref, "skipped", False, sanitize(live), sanitize(live), "not ours"))
        return
    outcome.add(delete_object(client, ref, check_mode, "Background", live=live, live_known=True))


def _provisioner_absent(client, p, check_mode, outcome, clock, sleep):
    refs = [Ref(kind, name, p["namespace"] if namespaced else None)
            for kind, name, namespaced in mf.provisioner_refs(p)]
    legacy = _legacy_rbac(client, p, mf.provisioner_names(p["name"], p["namespace"]))
    # reverse apply order: the class first (no new PVs), the Deployment, then RBAC and the account
    for ref in [refs[-1], refs[5], refs[4], refs[3], refs[2], refs[1]]:
        _delete_if_ours(client, ref, client.get(ref), check_mode, outcome)
    _retire_legacy_rbac(client, legacy, check_mode, outcome)
    _delete_if_ours(client, refs[0], client.get(refs[0]), check_mode, outcome)
    # the provisioner's own root claims and volumes (mount options): they describe its mount only;
    # a PV of that label bound to a claim of another namespace is another provisioner's
    selector = mf.root_selector(p["name"])
    for kind, namespace in (("PersistentVolumeClaim", p["namespace"]), ("PersistentVolume", None)):
        for live in client.list(kind, namespace, label_selector=selector):
            claim_ns = ((live.get("spec") or {}).get("claimRef") or {}).get("namespace")
            if kind == "PersistentVolume" and claim_ns not in (None, p["namespace"]):
                continue
            _delete_if_ours(client, Ref(kind, live["metadata"]["name"], namespace), live, check_mode, outcome)
    if p.get("wait") and not check_mode:
        waiters.wait_deleted(client, refs[5], timeout=p["wait_timeout"], **_timing(clock, sleep))


# --------------------------------------------------------------------------- statefulset
def _immutable_hint(fields, name):
    hints = [("Either set recreate_on_immutable_change: true (the StatefulSet is deleted with"
              " propagationPolicy=Orphan and recreated, so its running pods are adopted; no pod or PVC is"
              " deleted), or delete it yourself with state: absent and cascade: orphan, then re-run.")]
    if "spec.volumeClaimTemplates" in fields:
        hints.append(f"Existing PVCs (<template>-{name}-<ordinal>) keep their old size, class and access modes: only"
                     " PVCs created after the change use the new template.")
    if "spec.selector" in fields:
        hints.append("Pods that do not match the new selector are not adopted and stay orphaned until you"
                     " delete them.")
    return " ".join(hints)


def _claim_class_param(p, index):
    """How a message names the class of claim template ``index``: the option, or the JSON path."""
    if p["where"] is None:
        return f"volume_claim_templates[{index}].storage_class_name"
    return validation.at(p["where"], f"spec.volumeClaimTemplates[{index}].spec.storageClassName")


def check_claim_classes(client, p, sts):
    """Refuse claim templates whose PVCs would stay Pending: a class that does not exist (and is not
    in ``planned_storage_classes``, made earlier in the same run), or no class on a cluster without
    a default class (reads StorageClasses only)."""
    classes = None
    for i, vct in enumerate(sts["spec"].get("volumeClaimTemplates") or []):
        claim, sc = vct["metadata"]["name"], (vct.get("spec") or {}).get("storageClassName")
        if sc:
            if sc not in (p.get("planned_storage_classes") or []) and client.get(Ref("StorageClass", sc)) is None:
                raise InputError(_claim_class_param(p, i),
                                 f"StorageClass {sc!r} does not exist: PVCs {claim}-{p['name']}-<ordinal> would stay"
                                 " Pending. Create it first (stateful.nfs.nfs_provisioner), fix the name, or set"
                                 " check_storage_class: false")
            continue
        if sc == "":
            continue  # "" asks for no class: the claims bind to pre-made PVs of no class
        if classes is None:
            classes = client.list("StorageClass")
        if not any(((c.get("metadata") or {}).get("annotations") or {}).get(mf.DEFAULT_CLASS_ANNOTATION) == "true"
                   for c in classes):
            raise InputError(_claim_class_param(p, i),
                             f"not set, and the cluster has no default StorageClass: PVCs {claim}-{p['name']}-<ordinal>"
                             " would stay Pending. Name a class, mark one as default, or set check_storage_class: false")


def _statefulset_param(p, path, option):
    """How a message names a field of the StatefulSet: the shorthand ``option``, or the JSON path."""
    return option if p["where"] is None else validation.at(p["where"], path)


def check_neighbours(client, p, sts):
    """Refuse a StatefulSet that would mix with another one of its namespace (reads StatefulSets only).

    A StatefulSet's selector that matches another's pod template labels (or the other way round)
    makes the two controllers, the headless Service and the proof count each other's pods; two
    StatefulSets governed by one Service share its DNS subdomain and its records. Kubernetes docs,
    StatefulSets ("Pod Selector") and Labels and Selectors."""
    spec = sts["spec"]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for other in client.list("StatefulSet", p["namespace"]):
        meta, other_spec = other.get("metadata") or {}, other.get("spec") or {}
        if meta.get("name") == p["name"]:
            continue
        ref = "StatefulSet {}/{}".format(p["namespace"], meta.get("name"))
        other_labels = ((other_spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if validation.selector_matches(spec.get("selector"), other_labels) or \
                validation.selector_matches(other_spec.get("selector"), labels):
            raise InputError(_statefulset_param(p, "spec.selector", "selector"),
                             "{sel} would select the pods of {ref} (its selector {other}, its pod labels {labels}), or"
                             " {ref} yours: two StatefulSets whose selectors match each other's pods fight over them."
                             " Give this one labels and a selector of its own".format(
                                 sel=spec.get("selector"), ref=ref, other=other_spec.get("selector"), labels=other_labels))
        if other_spec.get("serviceName") and other_spec.get("serviceName") == spec.get("serviceName"):
            raise InputError(_statefulset_param(p, "spec.serviceName", "service_name"),
                             "Service {}/{} already governs {}: its pods' DNS records would mix with this one's."
                             " Give this StatefulSet a headless Service of its own".format(
                                 p["namespace"], spec["serviceName"], ref))


def server_validate(client, p, manifests_and_lives, force):
    """Refuse, before the first write, what the API server would refuse: a dry-run apply
    (``dryRun=All``, ``fieldValidation=Strict``) of each object that needs a write, so the
    server's own schema and admission judge it. The message names the field as the server does."""
    for manifest, live in manifests_and_lives:
        if not needs_apply(manifest, live)[0]:
            continue
        try:
            client.apply(manifest, FIELD_MANAGER, dry_run=True, force=force, field_validation="Strict")
        except ApiError as exc:
            if exc.status not in (400, 422) and not (exc.status == 500 and exc.first_cause_field()):
                raise
            ref = Ref.of(manifest)
            if ref.kind != "Service":
                param = p["where"] or "statefulset"
            elif p.get("service"):
                param = "service"
            else:
                param = f"the headless Service made from {p['where'] or 'the options'}"
            field = exc.first_cause_field()
            raise InputError(validation.at(param, field) if field else param,
                             f"the API server refuses {ref}: {exc.api_message}")


def _report_foreign_fields(outcome, ref, live):
    """Warn about template fields another field manager set: server-side apply keeps them."""
    # the collection's own day-2 changes (option patch) are not foreign: the definition declares them
    found = foreign_template_fields(live, (FIELD_MANAGER, day2.DAY2_FIELD_MANAGER))
    outcome.extra["foreign_fields"] = [{"manager": manager, "field": field} for manager, field in found]
    if found:
        managers = {}
        for manager, field in found:
            managers.setdefault(manager, []).append(field)
        said = "; ".join(f"{manager}: {', '.join(fields)}" for manager, fields in managers.items())
        outcome.warn(f"{ref}: fields of the pod template or claim templates were set by another field manager "
                     f"and are kept (server-side apply never removes another manager's fields): {said}. Put them "
                     "into the definition to own them, or remove them with the tool that set them")


def run_statefulset(client, p, check_mode, outcome, clock=None, sleep=None, interval=None):
    """Converge the StatefulSet and its Service to ``p`` (``validation.validate_statefulset_params``' result)."""
    if p["state"] == "absent":
        _statefulset_absent(client, p, check_mode, outcome, clock, sleep)
        return
    if p.get("patch"):
        _statefulset_patch(client, p, check_mode, outcome, clock, sleep, interval)
    else:
        _statefulset_present(client, p, check_mode, outcome, clock, sleep, interval)
    if p["return_identity"]:
        # after the wait, in the same process: the proof's NFS side plans its markers from it
        # (filter stateful.nfs.nfs_side_markers) without a module run of its own
        outcome.extra["identity"] = identity_table(client, p["namespace"], p["name"])


def _statefulset_present(client, p, check_mode, outcome, clock, sleep, interval):
    """Apply the StatefulSet and its Service (refusals first), then wait for the rollout."""
    desired = mf.statefulset_manifests(p)
    sts_manifest = desired[-1]
    # Reads and refusals first: nothing is written before every check has passed.
    new_namespace = namespace_to_create(client, p["namespace"], p["create_namespace"])
    if p["check_storage_class"]:
        check_claim_classes(client, p, sts_manifest)
    if not new_namespace:
        check_neighbours(client, p, sts_manifest)

    live_svc = None
    if p["create_service"]:
        # an existing non-headless Service of that name cannot be turned headless
        live_svc = client.get(Ref("Service", p["service_name"], p["namespace"]))
        ip = ((live_svc or {}).get("spec") or {}).get("clusterIP")
        if live_svc is not None and ip not in (None, "", "None"):
            raise InputError("service_name", "Service {}/{} exists with clusterIP {}; a StatefulSet needs a headless"
                                             " Service (clusterIP: None) and clusterIP cannot be changed. Delete that"
                                             " Service or choose another service_name".format(p["namespace"], p["service_name"], ip))
    elif new_namespace or client.get(Ref("Service", p["service_name"], p["namespace"])) is None:
        # not an error (the user may apply it next), but without it the pods get no DNS records
        outcome.warn(f"create_service: false and spec.serviceName {p['service_name']!r} names no Service in namespace"
                     f" {p['namespace']!r}: the pods get no DNS records (<pod>.{p['service_name']}) until a headless"
                     " Service of that name exists. Apply it (clusterIP: None), or drop create_service: false and the"
                     " module creates it (a manifest of your own goes in the service option, with definition or src)")

    sts_ref = Ref.of(sts_manifest)
    live_sts = client.get(sts_ref)
    recreate = False
    if live_sts is not None:
        fields = immutable_changes(sts_manifest, live_sts)
        if fields:
            if not p["recreate_on_immutable_change"]:
                raise ImmutableFieldError(str(sts_ref), fields, _immutable_hint(fields, p["name"]))
            recreate = True
            outcome.extra["recreated_because"] = fields
    force = p["force_conflicts"]
    if not new_namespace:
        probe = sts_manifest
        if recreate:
            # the server refuses the immutable change itself: judge the rest, then recreate
            probe = dict(sts_manifest, spec=dict(sts_manifest["spec"], **{
                f.split(".", 1)[1]: live_sts["spec"].get(f.split(".", 1)[1]) for f in outcome.extra["recreated_because"]}))
        server_validate(client, p, list(zip(desired[:-1] + [probe], [live_svc, live_sts][-len(desired):])), force)

    pending = create_namespace(client, p["namespace"], check_mode, outcome) if new_namespace else False
    for manifest in desired[:-1]:
        outcome.add(apply_object(client, manifest, check_mode, force, live=live_svc, live_known=True,
                                 namespace_pending=pending))
    if recreate:
        client.delete(sts_ref, propagation_policy="Orphan", dry_run=check_mode)
        if check_mode:
            outcome.add(Result(sts_ref, "recreate", True, sanitize(live_sts), sts_manifest,
                               "immutable field(s) {} changed".format(", ".join(outcome.extra["recreated_because"]))))
        else:
            waiters.wait_deleted(client, sts_ref, timeout=p["wait_timeout"], **_timing(clock, sleep))
            res = apply_object(client, sts_manifest, False, force, live=None, live_known=True)
            res.action, res.before = "recreate", sanitize(live_sts)
            res.reason = "immutable field(s) {} changed".format(", ".join(outcome.extra["recreated_because"]))
            outcome.add(res)
    else:
        outcome.add(apply_object(client, sts_manifest, check_mode, force, live=live_sts, live_known=True,
                                 namespace_pending=pending))

    spec = sts_manifest["spec"]
    start = (spec.get("ordinals") or {}).get("start") or 0
    outcome.extra["statefulset"] = outcome.results[-1].after
    _report_foreign_fields(outcome, sts_ref, outcome.results[-1].stored)
    outcome.extra["pvc_names"] = [f"{claim}-{p['name']}-{start + i}"
                                  for claim in p["claim_templates"] for i in range(spec.get("replicas", 1))]
    if p["wait"] and not check_mode:
        outcome.extra["rollout"] = _wait_rollout(client, p, outcome, clock, sleep, interval)


def _wait_rollout(client, p, outcome, clock, sleep, interval):
    """The ordered rollout wait; with ``force_rollback``, a forced rollback when the wait names stuck
    pods: those pods are deleted (claims kept) and waited for again. Returns the rollout."""
    def wait():
        return waiters.wait_statefulset(client, p["namespace"], p["name"], timeout=p["wait_timeout"],
                                        **_timing(clock, sleep, interval))
    try:
        return wait()
    except WaitTimeoutError as exc:
        stuck = exc.details.get("forced_rollback") or []
        if not (p["force_rollback"] and stuck):
            raise
        # Kubernetes docs, StatefulSets, "Forced rollback": delete exactly the stuck pods (their
        # claims stay), so the controller recreates them from the current template
        for pod in stuck:
            outcome.add(delete_object(client, Ref("Pod", pod, p["namespace"]), False, "Background"))
        outcome.extra["forced_rollback"] = stuck
        rollout = wait()
        # the whole wait, the part before the forced rollback included
        rollout["elapsed"] = round(rollout["elapsed"] + (exc.details.get("elapsed") or 0), 3)
        return rollout


def _statefulset_patch(client, p, check_mode, outcome, clock, sleep, interval):
    """A day-2 change of the deployed StatefulSet (``p["patch"]``, module_utils/k8s/day2.py says the
    policy): only the fields named are written, under field manager ``stateful.nfs-day2``; the
    rollout is waited for and the change proved (claims reused, kept or deleted; pods kept, added,
    removed or updated). The definition, when given, is not applied: it names the StatefulSet and
    is what ``patch.undone_by_apply`` compares with."""
    ref = Ref("StatefulSet", p["name"], p["namespace"])
    live = client.get(ref)
    if live is None:
        raise InputError("patch", f"{ref} does not exist: a day-2 change (patch) acts on a deployed StatefulSet;"
                                  " apply its definition first (the module without patch, site.yml)")
    patch = day2.resolve_patch(live, {k: v for k, v in p["patch"].items() if v is not None})
    before = day2.snapshot(client, live)
    declared = day2.declared(p.get("definition"), patch)
    diff = day2.changes(live, patch)
    outcome.extra["patch"] = {
        "field_manager": day2.DAY2_FIELD_MANAGER, "container": patch.get("container"),
        "changes": diff, "declared": declared, "undone_by_apply": day2.undone_by_apply(declared, patch)}

    after = live
    body = day2.template_patch({k: v for k, v in patch.items() if k in diff or k == "container"})
    if body:
        after = client.patch(ref, body, day2.DAY2_FIELD_MANAGER, dry_run=check_mode)
    if "replicas" in diff:
        client.patch(ref, {"spec": {"replicas": patch["replicas"]}}, day2.DAY2_FIELD_MANAGER, dry_run=check_mode,
                     subresource="scale", patch_type="merge-patch")
        after = dict(after, spec=dict(after["spec"], replicas=patch["replicas"])) if check_mode else client.get(ref)
    what = ", ".join(f"{k} {v['before']} -> {v['after']}" for k, v in diff.items())
    outcome.add(Result(ref, "update" if diff else "unchanged", bool(diff), sanitize(live), sanitize(after),
                       f"{what} (field manager {day2.DAY2_FIELD_MANAGER})" if diff else "matches"))
    outcome.extra["statefulset"] = sanitize(after)
    outcome.extra["pvc_names"] = [f"{t}-{p['name']}-{before['start'] + i}" for t in before["templates"]
                                  for i in range((after.get("spec") or {}).get("replicas", 1))]
    if check_mode or not p["wait"]:
        # what the change does (check mode) or will do (no wait): not proved
        if patch.get("replicas") is not None:
            outcome.extra["scale"], _problems = day2.judge_scale(before, replicas=patch["replicas"])
        return
    rollout = outcome.extra["rollout"] = _wait_rollout(client, p, outcome, clock, sleep, interval)
    if patch.get("replicas") is not None:
        if before["when_scaled"] == "Delete":
            # the controller's garbage collector deletes the removed pods' claims after the pods
            for claim in day2.judge_scale(before, replicas=patch["replicas"])[0]["claims_deleted"]:
                waiters.wait_deleted(client, Ref("PersistentVolumeClaim", claim, p["namespace"]),
                                     timeout=p["wait_timeout"], **_timing(clock, sleep))
        report, problems = day2.judge_scale(before, day2.snapshot(client, client.get(ref)), rollout["timeline"],
                                            removals=rollout.get("removed"))
        outcome.extra["scale"] = report
    else:
        report, problems = day2.judge_upgrade(before, day2.snapshot(client, client.get(ref)), patch,
                                              outcome.extra.get("forced_rollback") or (), rollout.get("timeline"))
        report["forced_rollback"] = outcome.extra.get("forced_rollback") or []
        outcome.extra["upgrade"] = report
    if problems:
        raise K8sError("{}: the {} is not proved: {}".format(ref, "scale" if "scale" in outcome.extra else "upgrade",
                                                             "; ".join(problems)))


def _remove_dns_client_after_last(client, p, others, check_mode, outcome):
    """The namespace's DNS client pod (``statefulset_verify``'s, kept between runs) goes with the
    namespace's last StatefulSet: none of ``others`` (the namespace's other StatefulSets) left but
    ones being deleted."""
    if any(not s["metadata"].get("deletionTimestamp") for s in others):
        return
    for ref, live in remove_dns_clients(client, p["namespace"], check_mode):
        outcome.add(Result(ref, "delete", True, sanitize(live), None,
                           "the DNS client pod of statefulset_verify; no StatefulSet is left in the namespace"))


def _owned_pods(client, sts):
    """``{name: uid}`` of the pods ``sts`` owns now (its selector, its ordinals, its owner reference)."""
    meta = sts["metadata"]
    selector = waiters.selector_string((((sts.get("spec") or {}).get("selector")) or {}).get("matchLabels"))
    return {pod["metadata"]["name"]: pod["metadata"].get("uid")
            for pod in client.list("Pod", meta["namespace"], label_selector=selector or None)
            if waiters.pod_ordinal(pod["metadata"].get("name", ""), meta["name"]) is not None
            and any(o.get("uid") == meta.get("uid") for o in pod["metadata"].get("ownerReferences") or [])}


def _prove_cascade(client, p, sts, pods_before, outcome, clock, sleep):
    """What the deletion did to the StatefulSet's pods, proved once the StatefulSet is gone: with
    cascade ``orphan`` each pod is still there, the same (uid), not being deleted and owned by nothing
    of the StatefulSet (``pods_orphaned``); else each is gone (waited for, ``pods_deleted``)."""
    ns, uid = p["namespace"], sts["metadata"].get("uid")
    if p["cascade"] != "orphan":
        for name in sorted(pods_before):
            waiters.wait_deleted(client, Ref("Pod", name, ns), timeout=p["wait_timeout"], **_timing(clock, sleep))
        outcome.extra["pods_deleted"] = sorted(pods_before)
        return
    problems, kept = [], {}
    for name, pod_uid in sorted(pods_before.items()):
        pod = client.get(Ref("Pod", name, ns))
        meta = (pod or {}).get("metadata") or {}
        if pod is None or meta.get("uid") != pod_uid:
            problems.append(f"{name} is gone" if pod is None else f"{name} was replaced (uid {pod_uid} -> {meta.get('uid')})")
        elif meta.get("deletionTimestamp"):
            problems.append(f"{name} is being deleted")
        elif any(o.get("uid") == uid for o in meta.get("ownerReferences") or []):
            problems.append(f"{name} still names the deleted StatefulSet as its owner")
        else:
            kept[name] = pod_uid
    outcome.extra["pods_orphaned"] = kept
    if problems:
        raise K8sError("StatefulSet {}/{} was deleted with cascade orphan, but its pods were not left running on"
                       " their own: {}".format(ns, p["name"], "; ".join(problems)))


def _statefulset_absent(client, p, check_mode, outcome, clock, sleep):
    sts_ref = Ref("StatefulSet", p["name"], p["namespace"])
    live = client.get(sts_ref)
    policy = CASCADE[p["cascade"]]
    vct_names, service_name = p["claim_templates"], p["service_name"]
    if live is not None:
        vct_names = [v["metadata"]["name"] for v in (live.get("spec") or {}).get("volumeClaimTemplates") or []]
        service_name = (live.get("spec") or {}).get("serviceName") or service_name
    pods_before = _owned_pods(client, live) if live is not None else {}
    outcome.add(delete_object(client, sts_ref, check_mode, policy, live=live, live_known=True))
    if live is not None and p["wait"] and not check_mode:
        waiters.wait_deleted(client, sts_ref, timeout=p["wait_timeout"], **_timing(clock, sleep))
        _prove_cascade(client, p, live, pods_before, outcome, clock, sleep)

    # the namespace's other StatefulSets, read once: the Service's users and the DNS client's
    others = [o for o in client.list("StatefulSet", p["namespace"]) if o["metadata"]["name"] != p["name"]]
    if p["create_service"]:
        svc_ref = Ref("Service", service_name, p["namespace"])
        svc = client.get(svc_ref)
        # another StatefulSet governed by the same Service still needs it (its pods' DNS records)
        users = [] if svc is None else sorted(
            o["metadata"]["name"] for o in others if (o.get("spec") or {}).get("serviceName") == service_name)
        if svc is not None and not is_ours(svc):
            outcome.warn(f"{svc_ref} was not created by stateful.nfs: left in place")
        elif users:
            outcome.warn(f"{svc_ref} also governs StatefulSet(s) {', '.join(users)}: left in place")
        else:
            outcome.add(delete_object(client, svc_ref, check_mode, "Background", live=svc, live_known=True))

    _remove_dns_client_after_last(client, p, others, check_mode, outcome)

    pattern = re.compile(r"^({})-{}-\d+$".format("|".join(re.escape(n) for n in vct_names), re.escape(p["name"])))
    pvcs = sorted(c["metadata"]["name"] for c in client.list("PersistentVolumeClaim", p["namespace"])
                  if vct_names and pattern.match(c["metadata"]["name"])) if vct_names else []
    if p["delete_pvcs"]:
        for name in pvcs:
            outcome.add(delete_object(client, Ref("PersistentVolumeClaim", name, p["namespace"]), check_mode,
                                      "Background"))
        outcome.extra["pvcs_deleted"], outcome.extra["pvcs_kept"] = pvcs, []
    else:
        outcome.extra["pvcs_deleted"], outcome.extra["pvcs_kept"] = [], pvcs
    outcome.extra["cascade"] = p["cascade"]
