"""Selectors, defaulting, validation and immutability rules of the test double."""
from __future__ import annotations

import base64
import copy
import ipaddress
import re

# ----------------------------------------------------------------- selectors
_REQ = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<nkey>[A-Za-z0-9_./-]+)"
    r"|(?P<key>[A-Za-z0-9_./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[A-Za-z0-9_.-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<vals>[^)]*)\))?)\s*(?:,|$)")


class SelectorError(ValueError):
    pass


def parse_label_selector(text):
    """Return list of (key, op, values). ops: eq, neq, in, notin, exists, notexists."""
    reqs = []
    text = (text or "").strip()
    pos = 0
    while pos < len(text):
        m = _REQ.match(text, pos)
        if not m or m.end() == pos:
            raise SelectorError(f"unable to parse requirement: {text[pos:]!r}")
        pos = m.end()
        if m.group("not"):
            reqs.append((m.group("nkey"), "notexists", ()))
        elif m.group("op"):
            reqs.append((m.group("key"), "neq" if m.group("op") == "!=" else "eq", (m.group("val"),)))
        elif m.group("setop"):
            vals = tuple(v.strip() for v in m.group("vals").split(",") if v.strip())
            reqs.append((m.group("key"), m.group("setop"), vals))
        else:
            reqs.append((m.group("key"), "exists", ()))
    return reqs


def match_requirements(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "eq" and (not have or v != vals[0]):
            return False
        if op == "neq" and have and v == vals[0]:
            return False
        if op == "in" and (not have or v not in vals):
            return False
        if op == "notin" and have and v in vals:
            return False
        if op == "exists" and not have:
            return False
        if op == "notexists" and have:
            return False
    return True


def selector_object_matches(sel, labels):
    """metav1.LabelSelector semantics (empty selector matches everything)."""
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "notexists"}[e["operator"]]
        if not match_requirements([(e["key"], op, tuple(e.get("values") or ()))], labels):
            return False
    return True


FIELD_LABELS = {
    "pods": {"spec.nodeName", "status.phase", "status.podIP", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "status.nominatedNodeName", "spec.hostNetwork"},
    "events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    "secrets": {"type"},
    "namespaces": {"status.phase"},
    "nodes": {"spec.unschedulable"},
    "replicasets": {"status.replicas"},
    "persistentvolumeclaims": {"spec.volumeName"},
}


def parse_field_selector(text, plural):
    reqs = []
    for part in [p for p in (text or "").split(",") if p.strip()]:
        m = re.match(r"\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise SelectorError(f"invalid field selector: {part!r}")
        field, op, val = m.groups()
        if field not in ("metadata.name", "metadata.namespace") and field not in FIELD_LABELS.get(plural, ()):
            raise SelectorError(f'field label not supported: {field}')
        reqs.append((field, op != "!=", val))
    return reqs


def _field_value(obj, dotted):
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, dict):  # e.g. event "source" -> component
        return cur.get("component", "")
    return str(cur)


def match_fields(reqs, obj):
    return all((_field_value(obj, f) == v) == eq for f, eq, v in reqs)


# ----------------------------------------------------------------- validation helpers
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME_RESOURCES = {"namespaces", "services"}  # names must be DNS-1123 labels
ACCESS_MODES = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}


class Invalid(Exception):
    """422 with causes [(reason, field, message)]."""

    def __init__(self, causes):
        self.causes = causes
        super().__init__("; ".join(f"{f}: {m}" for _, f, m in causes))


def name_errors(plural, name):
    if not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if plural in LABEL_NAME_RESOURCES:
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            return [("FieldValueInvalid", "metadata.name",
                     f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                     "alphanumeric characters or '-', and must start and end with an alphanumeric character "
                     "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
    elif plural in ("clusterroles", "clusterrolebindings", "roles", "rolebindings"):
        if "/" in name or "%" in name or name in (".", ".."):
            return [("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": may not contain "/"')]
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [("FieldValueInvalid", "metadata.name",
                 f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                 "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return []


def _labels_errors(labels, path):
    errs = []
    for k, v in (labels or {}).items():
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            errs.append(("FieldValueInvalid", f"{path}", f'Invalid value: "{v}": a valid label must be an empty '
                         "string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
                         "end with an alphanumeric character"))
    return errs


def _pod_spec_errors(spec, path):
    errs = []
    containers = (spec or {}).get("containers")
    if not containers:
        errs.append(("FieldValueRequired", f"{path}.containers", "Required value"))
    seen = set()
    for i, c in enumerate(containers or []):
        if not c.get("name"):
            errs.append(("FieldValueRequired", f"{path}.containers[{i}].name", "Required value"))
        elif c["name"] in seen:
            errs.append(("FieldValueDuplicate", f"{path}.containers[{i}].name", f'Duplicate value: "{c["name"]}"'))
        seen.add(c.get("name"))
        if not c.get("image"):
            errs.append(("FieldValueRequired", f"{path}.containers[{i}].image", "Required value"))
        for j, p in enumerate(c.get("ports") or []):
            cp = p.get("containerPort")
            if not isinstance(cp, int) or not 0 < cp < 65536:
                errs.append(("FieldValueInvalid", f"{path}.containers[{i}].ports[{j}].containerPort",
                             f"Invalid value: {cp}: must be between 1 and 65535, inclusive"))
        for kind in ("requests", "limits"):
            for rk, rv in ((c.get("resources") or {}).get(kind) or {}).items():
                if not QUANTITY.match(str(rv)):
                    errs.append(("FieldValueInvalid", f"{path}.containers[{i}].resources.{kind}[{rk}]",
                                 f'Invalid value: "{rv}": must match the regex '
                                 "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"))
    return errs


def _pvc_spec_errors(spec, path):
    errs = []
    modes = (spec or {}).get("accessModes") or []
    if not modes:
        errs.append(("FieldValueRequired", f"{path}.accessModes", "Required value: at least 1 access mode is required"))
    for m in modes:
        if m not in ACCESS_MODES:
            errs.append(("FieldValueNotSupported", f"{path}.accessModes",
                         f'Unsupported value: "{m}": supported values: "ReadOnlyMany", "ReadWriteMany", '
                         '"ReadWriteOnce", "ReadWriteOncePod"'))
    storage = (((spec or {}).get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        errs.append(("FieldValueRequired", f"{path}.resources[storage]", "Required value"))
    elif not QUANTITY.match(str(storage)):
        errs.append(("FieldValueInvalid", f"{path}.resources[storage]", f'Invalid value: "{storage}": '
                     "quantities must match the regular expression "
                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
    return errs


def validate(plural, obj):
    meta = obj.get("metadata") or {}
    errs = list(name_errors(plural, meta.get("name")))
    errs += _labels_errors(meta.get("labels"), "metadata.labels")
    spec = obj.get("spec") or {}
    if plural == "pods":
        errs += _pod_spec_errors(spec, "spec")
    elif plural in ("deployments", "statefulsets", "replicasets"):
        rep = spec.get("replicas")
        if isinstance(rep, int) and rep < 0:
            errs.append(("FieldValueInvalid", "spec.replicas",
                         f"Invalid value: {rep}: must be greater than or equal to 0"))
        sel = spec.get("selector")
        tpl_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not sel or not (sel.get("matchLabels") or sel.get("matchExpressions")):
            errs.append(("FieldValueRequired", "spec.selector", "Required value"))
        elif not selector_object_matches(sel, tpl_labels):
            errs.append(("FieldValueInvalid", "spec.template.metadata.labels",
                         f"Invalid value: {tpl_labels!r}: `selector` does not match template `labels`"))
        errs += _pod_spec_errors((spec.get("template") or {}).get("spec"), "spec.template.spec")
        if plural == "statefulsets":
            pmp = spec.get("podManagementPolicy")
            if pmp not in (None, "OrderedReady", "Parallel"):
                errs.append(("FieldValueNotSupported", "spec.podManagementPolicy",
                             f'Unsupported value: "{pmp}": supported values: "OrderedReady", "Parallel"'))
            for i, t in enumerate(spec.get("volumeClaimTemplates") or []):
                tn = (t.get("metadata") or {}).get("name")
                if not tn:
                    errs.append(("FieldValueRequired", f"spec.volumeClaimTemplates[{i}].metadata.name",
                                 "Required value"))
                errs += _pvc_spec_errors(t.get("spec"), f"spec.volumeClaimTemplates[{i}].spec")
            us = spec.get("updateStrategy") or {}
            part = (us.get("rollingUpdate") or {}).get("partition")
            if isinstance(part, int) and part < 0:
                errs.append(("FieldValueInvalid", "spec.updateStrategy.rollingUpdate.partition",
                             f"Invalid value: {part}: must be greater than or equal to 0"))
    elif plural == "persistentvolumeclaims":
        errs += _pvc_spec_errors(spec, "spec")
    elif plural == "services":
        ports = spec.get("ports") or []
        if not ports and spec.get("clusterIP") != "None" and spec.get("type") != "ExternalName":
            errs.append(("FieldValueRequired", "spec.ports", "Required value"))
        for i, p in enumerate(ports):
            port = p.get("port")
            if not isinstance(port, int) or not 0 < port < 65536:
                errs.append(("FieldValueInvalid", f"spec.ports[{i}].port",
                             f"Invalid value: {port}: must be between 1 and 65535, inclusive"))
        cip = spec.get("clusterIP")
        if cip not in (None, "", "None"):
            try:
                ipaddress.ip_address(cip)
            except ValueError:
                errs.append(("FieldValueInvalid", "spec.clusterIPs[0]",
                             f'Invalid value: "{cip}": must be a valid IP address'))
    elif plural == "storageclasses":
        if not obj.get("provisioner"):
            errs.append(("FieldValueRequired", "provisioner", "Required value"))
        rp = obj.get("reclaimPolicy")
        if rp not in (None, "Delete", "Retain"):
            errs.append(("FieldValueNotSupported", "reclaimPolicy",
                         f'Unsupported value: "{rp}": supported values: "Delete", "Retain"'))
        vbm = obj.get("volumeBindingMode")
        if vbm not in (None, "Immediate", "WaitForFirstConsumer"):
            errs.append(("FieldValueNotSupported", "volumeBindingMode",
                         f'Unsupported value: "{vbm}": supported values: "Immediate", "WaitForFirstConsumer"'))
    elif plural == "clusterrolebindings" or plural == "rolebindings":
        if not (obj.get("roleRef") or {}).get("name"):
            errs.append(("FieldValueRequired", "roleRef.name", "Required value"))
    if errs:
        raise Invalid(errs)


STS_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
               "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}


def immutability(plural, old, new):
    """Raise Invalid for changes real Kubernetes forbids."""
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    errs = []
    if plural == "statefulsets":
        strip = lambda s: {k: v for k, v in s.items() if k not in STS_MUTABLE}
        if strip(os_) != strip(ns_):
            errs.append(("FieldValueForbidden", "spec",
                         "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                         "'template', 'updateStrategy', 'revisionHistoryLimit', "
                         "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
    elif plural in ("deployments", "replicasets"):
        if os_.get("selector") != ns_.get("selector"):
            errs.append(("FieldValueInvalid", "spec.selector",
                         f"Invalid value: {ns_.get('selector')!r}: field is immutable"))
    elif plural == "persistentvolumeclaims":
        a = {k: v for k, v in os_.items() if k not in ("resources", "volumeAttributesClassName")}
        b = {k: v for k, v in ns_.items() if k not in ("resources", "volumeAttributesClassName")}
        if not a.get("volumeName"):
            b = dict(b)
            a.pop("volumeName", None)
            b.pop("volumeName", None)
        if a != b:
            errs.append(("FieldValueForbidden", "spec",
                         "Forbidden: spec is immutable after creation except resources.requests and "
                         "volumeAttributesClassName for bound claims"))
    elif plural == "services":
        o, n = os_.get("clusterIP"), ns_.get("clusterIP")
        if o and n != o:
            errs.append(("FieldValueInvalid", "spec.clusterIPs[0]",
                         f'Invalid value: {n!r}: may not change once set'))
    elif plural == "storageclasses":
        for f in ("parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"):
            if old.get(f) != new.get(f):
                errs.append(("FieldValueForbidden", f, f"Forbidden: updates to {f} are forbidden."))
    elif plural in ("configmaps", "secrets"):
        if old.get("immutable"):
            for f in ("data", "binaryData", "stringData"):
                if old.get(f) != new.get(f):
                    errs.append(("FieldValueForbidden", f, "Forbidden: field is immutable when `immutable` is set"))
    elif plural == "pods":
        def strip_pod(s):
            s = copy.deepcopy(s)
            for c in s.get("containers") or []:
                c.pop("image", None)
            for c in s.get("initContainers") or []:
                c.pop("image", None)
            for k in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
                s.pop(k, None)
            if not os_.get("nodeName"):
                s.pop("nodeName", None)
            return s
        if strip_pod(os_) != strip_pod(ns_):
            errs.append(("FieldValueForbidden", "spec",
                         "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                         "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                         "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                         "(allow it to be set to 1 if it was previously negative)"))
    if errs:
        raise Invalid(errs)


# ----------------------------------------------------------------- defaulting
def _image_pull_policy(image):
    ref = image.rsplit("/", 1)[-1]
    if "@" in ref:
        return "IfNotPresent"
    if ":" not in ref or ref.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_probe(p):
    if isinstance(p, dict):
        p.setdefault("timeoutSeconds", 1)
        p.setdefault("periodSeconds", 10)
        p.setdefault("successThreshold", 1)
        p.setdefault("failureThreshold", 3)
        if "httpGet" in p:
            p["httpGet"].setdefault("path", "/")
            p["httpGet"].setdefault("scheme", "HTTP")


def default_pod_spec(spec):
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        if c.get("image"):
            c.setdefault("imagePullPolicy", _image_pull_policy(c["image"]))
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
        for k in ("readinessProbe", "livenessProbe", "startupProbe"):
            _default_probe(c.get(k))
    for v in spec.get("volumes") or []:
        for kind in ("configMap", "secret"):
            if isinstance(v.get(kind), dict):
                v[kind].setdefault("defaultMode", 420)


def default_object(plural, obj, store=None):
    spec = obj.get("spec")
    meta = obj.setdefault("metadata", {})
    if plural == "pods":
        default_pod_spec(spec)
        if isinstance(spec, dict):
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", spec["serviceAccountName"])
            spec.setdefault("enableServiceLinks", True)
            spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
            spec.setdefault("priority", 0)
    elif plural in ("deployments", "statefulsets", "replicasets") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        tpl = spec.setdefault("template", {})
        default_pod_spec(tpl.get("spec"))
        tpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        if plural == "deployments":
            spec.setdefault("progressDeadlineSeconds", 600)
            st = spec.setdefault("strategy", {})
            st.setdefault("type", "RollingUpdate")
            if st["type"] == "RollingUpdate":
                ru = st.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
        if plural == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            us = spec.setdefault("updateStrategy", {})
            us.setdefault("type", "RollingUpdate")
            if us["type"] == "RollingUpdate":
                us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
            pol = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
            pol.setdefault("whenDeleted", "Retain")
            pol.setdefault("whenScaled", "Retain")
            for t in spec.get("volumeClaimTemplates") or []:
                t.setdefault("apiVersion", "v1")
                t.setdefault("kind", "PersistentVolumeClaim")
                t.setdefault("metadata", {}).setdefault("creationTimestamp", None)
                t.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                t.setdefault("status", {"phase": "Pending"})
    elif plural == "services" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            if "targetPort" not in p and "port" in p:
                p["targetPort"] = p["port"]
        if spec.get("clusterIP"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
    elif plural == "persistentvolumeclaims" and isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    elif plural == "persistentvolumes" and isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    elif plural == "storageclasses":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif plural == "namespaces":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    elif plural == "secrets":
        obj.setdefault("type", "Opaque")
        sd = obj.pop("stringData", None)
        if sd:
            data = obj.setdefault("data", {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    return obj
