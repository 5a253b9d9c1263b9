# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proof that a StatefulSet's pods have what a StatefulSet promises, for any application.

Per pod (Kubernetes docs, StatefulSets, "Pod Identity" and "Stable Storage"):

* ``identity``: the pod exists, is Ready, its spec hostname is its name and its subdomain the
  governing Service (API);
* ``hostname``: the hostname the container sees is the pod's name (one exec session);
* ``dns``: ``<pod>.<service>.<namespace>.svc.<domain>`` answers the pod's IP from inside the
  cluster, asked from a member (``getent ahosts``, else ``nslookup``; the first member's own name
  from the second, as a member answers its own name from its /etc/hosts), and the Service's name
  answers the ready members' IPs; without exec (``method: api``), or when the member cannot
  resolve, asked from the namespace's DNS client pod through the pod proxy (``dns_client``);
* ``claims``: each claim template's PVC exists, is Bound, to a PV of its own with an NFS
  directory of its own (API);
* ``storage``: a marker file written at each claim's mount path inside the pod (in the same
  exec session) holds that pod's own line, read back after every pod wrote (two pods on one
  directory would read each other's line); ``markers`` in the result name each marker's
  place in the PV's NFS directory, for a check on the NFS side;
* ``storage`` on the NFS side (``nfs_side``; what a cluster that forbids exec keeps): each
  marker's directory under the export exists on the host that checks it and is no other
  marker's, and the line written there reads back through NFS (``stateful.nfs.nfs_volume_check``
  delegated to ``nfs_side.host``, its result given back as ``nfs_side.volumes``); with exec the
  pod then finds that line at its mount (which ties the pod to its directory), without exec an
  application check matching ``{line}`` does;
* ``ready_order``: with ``podManagementPolicy: OrderedReady``, each pod was created only once the
  pod of the ordinal before it was Ready (its Ready condition's ``lastTransitionTime`` against the
  next pod's ``creationTimestamp``); skipped with ``Parallel``;
* ``app``: the application's own check, an HTTP GET through the API server's pod proxy or a
  command through exec, its answer matched against a pattern.

One module process runs every pod's exec session and HTTP GET on a thread of its own; a pod
costs one exec session (two on the run that first writes its markers), whatever it proves.
Each check ends as ``pass``, ``fail``, ``not_proved`` (could not be asked: no shell in the
image, exec not used) or ``skipped`` (not asked for); a run fails on a ``fail``, and on a
``not_proved`` that the input did not accept.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait as waiters
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.dns_client import DnsClient
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import (
    ApiError,
    K8sError,
    VerificationError,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.identity import (
    container_port,
    identity_table,
    read_members,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.markers import (
    nfs_volume_check_params,
    plan_markers,
    plan_nfs_volumes,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import named_port_problem

PASS, FAIL, NOT_PROVED, SKIPPED = "pass", "fail", "not_proved", "skipped"
CHECKS = ("identity", "ready_order", "hostname", "dns", "claims", "storage", "app")
MAX_THREADS = 16
DNS_RETRY_INTERVAL = 1.0

# The one program run in each pod (POSIX sh: dash, bash, busybox). Arguments: the number N of
# DNS names, the N names, then triplets (marker path, line, mode: write | read | check). It
# prints one tab-separated record per finding: "hostname <name>", "dns <name> <answer>",
# "marker <index> <state> <what the file held>". tests/unit runs it under the local sh.
POD_PROGRAM = r"""
h=$(cat /proc/sys/kernel/hostname 2>/dev/null) || h=$(hostname 2>/dev/null)
printf 'hostname\t%s\n' "$h"
n=$1; shift
while [ "$n" -gt 0 ]; do
  if command -v getent >/dev/null 2>&1; then a=$(getent ahosts "$1" 2>&1) || a="$a !getent-exit-$?"
  elif command -v nslookup >/dev/null 2>&1; then a=$(nslookup "$1" 2>&1)
  else a='!no-resolver'; fi
  printf 'dns\t%s\t%s\n' "$1" "$(printf '%s' "$a" | tr '\t\n' '  ')"
  n=$((n - 1)); shift
done
i=0
while [ $# -ge 3 ]; do
  f=$1; want=$2; mode=$3; shift 3; have=; s=
  if [ -e "$f" ]; then have=$(cat "$f" 2>&1) || s=read-error; fi
  if [ -n "$s" ]; then :
  elif [ "$have" = "$want" ]; then s=unchanged
  elif [ "$mode" != write ]; then s=differs
  elif err=$( { printf '%s\n' "$want" > "$f"; } 2>&1 ); then s=written
  else s=write-error; have=$err; fi
  printf 'marker\t%s\t%s\t%s\n' "$i" "$s" "$(printf '%s' "$have" | tr '\t\n' '  ' | cut -c1-200)"
  i=$((i + 1))
done
"""


def check(status, detail):
    return {"status": status, "detail": detail}


def parse_program_output(text):
    """``{hostname, dns: {name: answer}, markers: {index: (state, held)}}`` of POD_PROGRAM's output."""
    out = {"hostname": None, "dns": {}, "markers": {}}
    for line in (text or "").splitlines():
        fields = line.split("\t")
        if fields[0] == "hostname" and len(fields) >= 2:
            out["hostname"] = fields[1].strip()
        elif fields[0] == "dns" and len(fields) >= 3:
            out["dns"][fields[1]] = fields[2]
        elif fields[0] == "marker" and len(fields) >= 4 and fields[1].isdigit():
            out["markers"][int(fields[1])] = (fields[2], fields[3])
    return out


def addresses_in(answer):
    """The IP addresses in a resolver's answer (``getent ahosts`` or ``nslookup`` output), sorted;
    ``nslookup``'s own server line (``Server:``/``Address: <dns server>#53``) is left out."""
    found = set()
    text = re.sub(r"Server:\s*\S+\s+Address( \d+)?:\s*\S+", " ", answer or "")
    for token in re.split(r"[\s,]+", text):
        token = token.strip("()[]")
        try:
            found.add(str(ipaddress.ip_address(token)))
        except ValueError:
            continue
    return sorted(found)


def seen_answer(answer, addresses):
    """What a DNS name answered, in words: its addresses, NXDOMAIN, no address, or no answer."""
    text = (answer or "").strip()
    if addresses:
        return f"answered {addresses}"
    if "NXDOMAIN" in text:
        return "answered NXDOMAIN (no such name)"
    if "!getent-exit-2" in text:
        return "answered no address (getent ahosts exit 2: NXDOMAIN, no record, or no answer from the DNS server)"
    if not text:
        return "gave no answer (the resolver printed nothing)"
    return f"answered no address: {text[:200]!r}"


def pod_pattern(pattern, pod, line=None):
    """``pattern`` (a regular expression) with ``{pod}`` replaced by the pod's name and ``{line}``
    by its marker's line (of its first claim), both escaped."""
    return re.compile(pattern.replace("{pod}", re.escape(pod)).replace("{line}", re.escape(line or "")))


def api_time(value):
    """An API timestamp (RFC 3339 in UTC, ``2026-12-06T13:11:49Z``, fraction allowed) as a datetime; None when absent."""
    if not value:
        return None
    return datetime.strptime(value.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")


def _ready_since(pod):
    cond = next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    return api_time(cond.get("lastTransitionTime")) if cond and cond.get("status") == "True" else None


def _started(pod):
    """When the pod's containers last started (the latest), and their restarts."""
    states = (pod.get("status") or {}).get("containerStatuses") or []
    started = [api_time(((s.get("state") or {}).get("running") or {}).get("startedAt")) for s in states]
    started = [t for t in started if t]
    return (max(started) if started else None), sum(s.get("restartCount") or 0 for s in states)


def ready_order(rows, pods, policy):
    """``{pod: check}``: with ``OrderedReady`` (the default) the controller creates a pod only once
    the pod of the ordinal before it is Running and Ready (Kubernetes docs, StatefulSets,
    "Deployment and Scaling Guarantees"). A pair is judged while both pods are the ones of that
    rollout (the one before created first): a pass when the one before became Ready no later than
    the next was created; a failure when its containers had not even started then (no restart
    since); ``not_proved`` when it ran but its Ready condition changed later (a probe's flap, or the
    order broken: the objects cannot tell); ``skipped`` with ``Parallel`` or a pod re-created since."""
    if policy == "Parallel":
        return {row["name"]: check(SKIPPED, "podManagementPolicy Parallel: no order promised") for row in rows}
    by_ordinal = {row["ordinal"]: row for row in rows}
    out = {}
    for row in rows:
        name, before = row["name"], by_ordinal.get(row["ordinal"] - 1)
        if not before:
            out[name] = check(PASS, "no pod before it") if row["ordinal"] == min(by_ordinal) else check(
                SKIPPED, f"the pod of ordinal {row['ordinal'] - 1} does not exist")
            continue
        prev, pod, first = before["name"], pods.get(name) or {}, pods.get(before["name"]) or {}
        created, prev_created = (api_time((p.get("metadata") or {}).get("creationTimestamp")) for p in (pod, first))
        prev_ready = _ready_since(first)
        if not (created and prev_created and prev_ready):
            out[name] = check(SKIPPED, f"{prev} is not Ready, or a creation time is missing")
        elif prev_created > created:
            out[name] = check(SKIPPED, f"{prev} was re-created ({prev_created:%H:%M:%S}) after {name} ({created:%H:%M:%S}):"
                                       " the rollout's order is no longer in the objects")
        elif prev_ready <= created:
            out[name] = check(PASS, f"created {created:%H:%M:%S}, once {prev} was Ready ({prev_ready:%H:%M:%S})")
        else:
            started, restarts = _started(first)
            if started and started > created and not restarts:
                out[name] = check(FAIL, f"created {created:%H:%M:%S}, before {prev} even started ({started:%H:%M:%S};"
                                        f" Ready {prev_ready:%H:%M:%S}): OrderedReady creates a pod only once the one"
                                        " before it is Ready")
            else:
                out[name] = check(NOT_PROVED, f"created {created:%H:%M:%S}; {prev} became Ready last at"
                                              f" {prev_ready:%H:%M:%S} ({restarts} restart(s)): its readiness changed"
                                              " since, or the order was broken")
    return out


def nfs_side_verdicts(markers, nfs_side, check_mode):
    """``{(pod, template): (status, detail)}`` of each marker's NFS side: its directory exists on
    ``nfs_side.host``, is no other marker's, and the line written there reads back through NFS
    (``nfs_side.volumes``: ``stateful.nfs.nfs_volume_check``'s result). ``status`` is PASS, FAIL or
    ``would`` (check mode: the line would be written)."""
    host, file = nfs_side["host"], nfs_side["file"]
    rows = {r.get("name"): r for r in nfs_side.get("volumes") or [] if isinstance(r, dict)}
    owners = {}
    for m in markers:
        if m.get("nfs_volume"):
            owners.setdefault(m["nfs_volume"]["directory"], []).append(f"{m['pod']} ({m['claim']})")
    out = {}
    for m in markers:
        key, vol = (m["pod"], m["template"]), m.get("nfs_volume")
        if not vol:
            out[key] = (FAIL, m.get("nfs_problem") or "no NFS directory")
            continue
        me = f"{m['pod']} ({m['claim']})"
        where, others = vol["directory"], [o for o in owners[vol["directory"]] if o != me]
        row = rows.get(vol["name"])
        if others:
            out[key] = (FAIL, f"directory {where} on {host} is also {', '.join(others)}'s: two pods on one directory")
        elif row is None:
            out[key] = (FAIL, (f"not checked on {host}: nfs_side.volumes has no {vol['name']!r} (give the volumes"
                               " result of stateful.nfs.nfs_volume_check run with the nfs_volume_check result)"))
        elif row.get("directory_exists") is False:
            out[key] = (FAIL, f"directory {where} does not exist on {host}")
        elif row.get("nfs_error"):
            out[key] = (FAIL, f"{vol['path']}/{file} could not be read through NFS on {host}: {row['nfs_error']}")
        elif row.get("nfs_content") is None and check_mode and row.get("written"):
            out[key] = ("would", f"{where}/{file} on {host} would be written (check mode)")
        elif row.get("nfs_content") != m["line"]:
            out[key] = (FAIL, (f"{vol['path']}/{file} reads back {row.get('nfs_content')!r} through NFS on {host},"
                               f" not {m['line']!r} (another pod's line: two pods on one directory?)"))
        else:
            out[key] = (PASS, (f"{vol['path']}/{file}: directory {where} exists on {host}, the line written there"
                               f" read back through NFS ({nfs_side['server']}:{nfs_side['export']})"))
    return out


def ties_line(app):
    """Whether the application check matches the pod's marker line (``{line}``): then a pass shows
    the pod serves what its directory holds."""
    app = app or {}
    pattern = (app.get("http_get") or {}).get("body") or (app.get("exec") or {}).get("stdout") or ""
    return "{line}" in pattern


class Proof:
    """One verification run; :meth:`run` returns the module's result (see the module's RETURN)."""

    def __init__(self, client, p, check_mode, clock=time.monotonic, sleep=time.sleep):
        self.client, self.p, self.check_mode = client, p, check_mode
        self.clock, self.sleep = clock, sleep
        self.changed = False
        # what the pods said: {pod: {hostname, app}}, and the DNS answers {name: [address]}
        self.observed, self.dns_answers, self.lines = {}, {}, {}
        self.dns_client = None  # the DNS client pod's state, when it was needed
        self.nfs = None  # {(pod, template): (status, detail)} of the NFS side, when nfs_side.volumes was given
        self.unproved = []  # what the checks' verdicts leave unsaid (the pod's tie to its directory)
        self.sts = None  # the StatefulSet, once read

    # -- reading --------------------------------------------------------------------------
    def run(self):
        p = self.p
        sts, by_ordinal = read_members(self.client, p["namespace"], p["name"])
        table = identity_table(self.client, p["namespace"], p["name"], p["cluster_domain"], members=(sts, by_ordinal))
        if not table["exists"]:
            if self.check_mode:
                return {"changed": False, "exists": False, "pods": [], "checks": [], "proved": [],
                        "not_proved": [f"StatefulSet {p['namespace']}/{p['name']} does not exist yet (check mode)"],
                        "markers": [], "failures": []}
            raise VerificationError(f"StatefulSet {p['namespace']}/{p['name']} does not exist", failures=[])
        self.sts = sts
        pods = {pod["metadata"]["name"]: pod for pod in by_ordinal.values()}
        container = p.get("container") or sts["spec"]["template"]["spec"]["containers"][0]["name"]
        port = ((p.get("app_check") or {}).get("http_get") or {}).get("port")
        problem = named_port_problem(port, ((sts.get("spec") or {}).get("template") or {}).get("spec"))
        if problem and not p["markers_only"]:
            # refused before the first marker is written: the pods are made from this template
            raise VerificationError(f"app_check.http_get.port: {problem}, in the pod template of StatefulSet"
                                    f" {p['namespace']}/{p['name']}; nothing was written", failures=[])
        rows = table["pods"]
        results = {row["name"]: {c: check(SKIPPED, "not asked for") for c in CHECKS} for row in rows}
        markers = self.plan_markers(sts, rows, container)
        every_marker = [m for planned in markers.values() for m in planned]  # the same dicts, every pod's
        nfs_side = self.p.get("nfs_side")
        if nfs_side:
            plan_nfs_volumes(every_marker, nfs_side)
        if p["markers_only"]:
            return {"changed": False, "exists": True, "statefulset": table["statefulset"], "container": container,
                    "pods": rows, "checks": [], "proved": [], "failures": [],
                    "not_proved": ["markers_only: the markers were planned, nothing was proved"],
                    "markers": every_marker,
                    **({"nfs_volume_check": nfs_volume_check_params(every_marker, nfs_side)} if nfs_side else {})}
        self.identity(table, pods, results)
        order = ready_order(rows, pods, (sts.get("spec") or {}).get("podManagementPolicy") or "OrderedReady")
        for name, verdict in order.items():
            results[name]["ready_order"] = verdict
        self.claims(rows, results)
        self.lines = {name: planned[0]["line"] for name, planned in markers.items() if planned}
        self.nfs = nfs_side_verdicts(every_marker, nfs_side, self.check_mode) \
            if nfs_side and nfs_side.get("volumes") is not None else None
        # what each pod said; hostname null until an exec session reads it (the report lists it per pod)
        self.observed = {row["name"]: {"hostname": None} for row in rows}
        by_exec = p["method"] == "exec"
        ready = [row for row in rows if row["ready"]]
        for row in rows:
            if not row["ready"]:
                results[row["name"]].update({c: check(SKIPPED, "the pod is not Ready") for c in
                                             ("hostname", "dns", "storage", "app")})
        if by_exec and ready:
            self.prove_by_exec(table, ready, container, markers, results)
        elif not by_exec:
            why = "method api: no exec session"
            for row in rows:
                results[row["name"]]["hostname"] = check(NOT_PROVED, why + "; the hostname was read from the pod spec")
                results[row["name"]]["storage"] = check(NOT_PROVED, why + (
                    "; nfs_side.volumes not given (the result of stateful.nfs.nfs_volume_check)" if nfs_side else
                    " and no nfs_side; see markers for the NFS side"))
            if self.nfs is not None:
                self.storage_on_nfs_side(ready, markers, results)
            if not self.p["dns"]:
                for row in ready:
                    results[row["name"]]["dns"] = check(SKIPPED, "dns: false")
            elif not self.p["dns_client"]["enabled"]:
                for row in ready:
                    results[row["name"]]["dns"] = check(NOT_PROVED, why + " and dns_client.enabled: false")
            elif ready:
                want_dns, domain = self.dns_wanted(table, ready)
                self.dns_from_client(ready, want_dns, domain, results)
        if p.get("app_check"):
            self.app_checks(ready, pods, results)
        if self.nfs is not None and not by_exec:
            self.tie_pods_to_directories(ready, markers, results)
        return self.report(table, results, markers, container)

    # -- the NFS side ----------------------------------------------------------------------------
    def storage_on_nfs_side(self, ready, markers, results):
        """Without exec: each ready pod's markers judged on the NFS side alone."""
        for row in ready:
            name = row["name"]
            if not markers[name]:
                results[name]["storage"] = check(SKIPPED, "no claim template mounted in the container, or"
                                                          " storage_marker disabled")
                continue
            verdicts = [self.nfs[(name, m["template"])] for m in markers[name]]
            problems = [detail for status, detail in verdicts if status == FAIL]
            if any(status == "would" for status, _detail in verdicts):
                self.changed = True
            results[name]["storage"] = check(FAIL, "; ".join(problems)) if problems else check(
                PASS, "own line on the NFS side: " + "; ".join(detail for _status, detail in verdicts))

    def tie_pods_to_directories(self, ready, markers, results):
        """Without exec the NFS side proves the directories; an application check that matched the
        pod's line proves the pod mounts its first claim's directory, else that stays unproved."""
        tied = ties_line(self.p.get("app_check"))
        for row in ready:
            name, verdict = row["name"], results[row["name"]]["storage"]
            if verdict["status"] != PASS:
                continue
            if tied and results[name]["app"]["status"] == PASS:
                verdict["detail"] += (f"; the pod serves that line (app check), so it mounts"
                                      f" {markers[name][0]['nfs_directory']}")
                if len(markers[name]) > 1:
                    self.unproved.append(f"{name} storage: that the pod mounts the directories of its claims after"
                                         f" {markers[name][0]['claim']} (no exec; the app check reads the first's)")
            else:
                self.unproved.append(f"{name} storage: that the pod mounts {markers[name][0]['nfs_directory']} (no exec,"
                                     " and no app_check matching {line} passed)")

    # -- what the API says -----------------------------------------------------------------
    def identity(self, table, pods, results):
        info = table["statefulset"]
        service = info["service_name"]
        for ordinal in table["missing_ordinals"]:
            name = f"{self.p['name']}-{ordinal}"
            results[name] = {c: check(SKIPPED, "the pod does not exist") for c in CHECKS}
            results[name]["identity"] = check(FAIL, "the pod does not exist")
        for row in table["pods"]:
            problems = []
            if row["hostname"] != row["name"]:
                problems.append(f"spec hostname {row['hostname']!r}")
            if (row["subdomain"] or service) != service:
                problems.append(f"subdomain {row['subdomain']!r}, not the Service {service!r}")
            if not row["ready"]:
                pod = pods.get(row["name"])
                diagnosis = waiters.format_pod_diagnostics(waiters.pod_diagnostics(
                    self.client, pod, info["volume_claim_templates"])) if pod else row["name"] + ": gone"
                problems.append("not Ready (" + diagnosis + ")")
            results[row["name"]]["identity"] = check(FAIL, "; ".join(problems)) if problems else check(
                PASS, f"Ready on {row['node']}, hostname {row['hostname']}, subdomain {service}, IP {row['pod_ip']}")

    def claims(self, rows, results):
        seen_pv, seen_dir = {}, {}
        for row in rows:
            problems, good = [], []
            for vol in row["volumes"]:
                if vol["pvc_phase"] != "Bound":
                    problems.append(f"PVC {vol['pvc'] or vol['template'] + '-' + row['name']} is {vol['pvc_phase']}")
                    continue
                if vol["pv"] in seen_pv:
                    problems.append(f"PV {vol['pv']} is also {seen_pv[vol['pv']]}'s")
                seen_pv[vol["pv"]] = row["name"]
                place = (vol["nfs_server"], (vol["nfs_path"] or "").rstrip("/"))
                if vol["nfs_path"] and place in seen_dir:
                    problems.append(f"NFS directory {place[0]}:{place[1]} is also {seen_dir[place]}'s")
                if vol["nfs_path"]:
                    seen_dir[place] = f"{row['name']} ({vol['pvc']})"
                good.append(f"{vol['pvc']} -> {vol['pv']}" + (f" ({vol['nfs_server']}:{vol['nfs_path']})"
                                                              if vol["nfs_path"] else ""))
            if not row["volumes"]:
                results[row["name"]]["claims"] = check(SKIPPED, "the StatefulSet has no claim templates")
            else:
                results[row["name"]]["claims"] = check(FAIL, "; ".join(problems)) if problems else check(
                    PASS, "Bound: " + ", ".join(good))

    def plan_markers(self, sts, rows, container):
        """Per pod, the markers to write (:func:`plan_markers`)."""
        return plan_markers(sts, rows, container, self.p["storage_marker"], self.p["namespace"])

    # -- what the pods say ---------------------------------------------------------------------
    def program(self, names, markers, mode):
        args = [str(len(names)), *names]
        for m in markers:
            args += [m["path"], m["line"], "read" if m["read_only"] else mode]
        return ["sh", "-c", POD_PROGRAM, "stateful-nfs-verify", *args]

    def exec_all(self, rows, container, build):
        """Run ``build(row)`` (an argv) in every row's pod at once; ``{pod: exec result}``."""
        def one(row):
            try:
                return row["name"], self.client.exec(self.p["namespace"], row["name"], build(row), container,
                                                     timeout=self.p["exec_timeout"])
            except ApiError as exc:
                if exc.status == 403:
                    raise
                return row["name"], {"rc": None, "stdout": "", "stderr": "", "error": str(exc)}
            except K8sError as exc:
                return row["name"], {"rc": None, "stdout": "", "stderr": "", "error": str(exc)}
        with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(rows))) as pool:
            return dict(pool.map(one, rows))

    def dns_wanted(self, table, ready):
        """``({name: [the addresses it must answer]}, the Service's name)``: each ready member's
        name its own IP, the Service's name the ready members' IPs."""
        info = table["statefulset"]
        domain = f"{info['service_name']}.{self.p['namespace']}.svc.{self.p['cluster_domain']}"
        want = {row["dns_name"]: [row["pod_ip"]] for row in ready}
        want[domain] = sorted(row["pod_ip"] for row in ready)
        return want, domain

    def prove_by_exec(self, table, ready, container, markers, results):
        want_dns, domain = self.dns_wanted(table, ready)
        # A member answers its own name from the /etc/hosts kubelet writes, not from the cluster's
        # DNS: the first member asks every other name, the second asks the first one's.
        asker, own = ready[0]["name"], ready[0]["dns_name"]
        second = ready[1]["name"] if len(ready) > 1 else None
        names_of = {asker: [n for n in want_dns if n != own or second is None]}
        if second:
            names_of[second] = [own]
        mode = "check" if self.check_mode else "write"
        try:
            said = self.exec_all(ready, container, lambda row: self.program(
                names_of.get(row["name"], []) if self.p["dns"] else [], markers[row["name"]], mode))
        except ApiError as exc:
            raise VerificationError(f"{exc}. Give the module's identity the RBAC right create on pods/exec, or set"
                                    " method: api (the proof then says what it could not prove)",
                                    failures=[]) from None
        parsed = {name: parse_program_output(out["stdout"]) for name, out in said.items()}
        no_shell = {name for name, out in said.items() if out["rc"] is None}
        for row in ready:
            name, out, got = row["name"], said[row["name"]], parsed[row["name"]]
            if name in no_shell:
                why = f"not provable by exec: {out['error']}"
                status = FAIL if self.p["identity_by_exec"] else NOT_PROVED
                accepted = "" if self.p["identity_by_exec"] else " (identity_by_exec: false)"
                results[name]["hostname"] = check(status, why + accepted)
                results[name]["storage"] = check(status if markers[name] else SKIPPED, why)
                continue
            self.observed[name]["hostname"] = got["hostname"]
            results[name]["hostname"] = check(PASS, f"the container sees hostname {got['hostname']}") if (
                got["hostname"] == name) else check(FAIL, f"the container sees hostname {got['hostname']!r}, not {name!r}")
        self.storage(ready, container, markers, said, parsed, no_shell, results)
        if self.p["dns"]:
            askers = list(names_of)
            answers = {n: a for member in askers for n, a in parsed.get(member, {}).get("dns", {}).items()}
            cannot = "no shell" if set(askers) & no_shell else "neither getent nor nslookup in its image" if any(
                "!no-resolver" in (answers.get(n) or "") for n in want_dns) else None
            if cannot and self.p["dns_client"]["enabled"]:
                self.dns_from_client(ready, want_dns, domain, results,
                                     because=f"{', '.join(askers)} cannot resolve ({cannot})")
            else:
                self.dns(ready, names_of, container, want_dns, answers, bool(set(askers) & no_shell), domain, results)
        else:
            for row in ready:
                results[row["name"]]["dns"] = check(SKIPPED, "dns: false")

    def storage(self, ready, container, markers, said, parsed, no_shell, results):
        first = {row["name"]: dict(parsed[row["name"]]["markers"]) for row in ready if row["name"] not in no_shell}
        wrote = [row for row in ready if row["name"] not in no_shell and any(
            state == "written" for state, _held in parsed[row["name"]]["markers"].values())]
        if wrote:
            # read back after every pod wrote: a directory two pods share holds only one line
            self.changed = True
            again = self.exec_all(wrote, container, lambda row: self.program([], markers[row["name"]], "read"))
            for row in wrote:
                parsed[row["name"]]["markers"] = parse_program_output(again[row["name"]]["stdout"])["markers"] or {
                    i: ("read-error", again[row["name"]]["error"] or "") for i in range(len(markers[row["name"]]))}
        for row in ready:
            name = row["name"]
            if name in no_shell or not markers[name]:
                if not markers[name] and name not in no_shell:
                    results[name]["storage"] = check(SKIPPED, "no claim template mounted in the container, or"
                                                              " storage_marker disabled")
                continue
            problems, good = [], []
            for index, m in enumerate(markers[name]):
                state, held = parsed[name]["markers"].get(index, ("missing", said[name]["stderr"].strip()))
                nfs_status, nfs_detail = self.nfs[(name, m["template"])] if self.nfs is not None else (None, "")
                if nfs_status == FAIL:
                    problems.append(f"NFS side: {nfs_detail}")
                elif nfs_status == PASS and first[name].get(index, (state,))[0] != "unchanged" and not self.check_mode:
                    # the line was written on the NFS side before this session: a pod mounting that
                    # directory finds it there
                    problems.append(f"{m['path']} held {first[name].get(index, (state, held))[1]!r}, not the line written"
                                    f" into its PV's directory on {self.p['nfs_side']['host']}: the pod does not mount"
                                    f" {m['nfs_directory']}")
                elif state in ("unchanged", "written"):
                    good.append(f"{m['path']} ({m['claim']})" + (
                        f", the line written on the NFS side: {nfs_detail}" if nfs_status == PASS else ""))
                elif state == "differs" and self.check_mode:
                    good.append(f"{m['path']} (would be written)")
                    self.changed = True
                elif state == "differs" and m["read_only"]:
                    problems.append(f"{m['path']} is mounted read-only and holds {held!r}, not {m['line']!r}")
                elif state in ("read-error", "write-error", "missing"):
                    problems.append(f"{m['path']}: {state}: {held.strip() or 'no answer'}")
                else:
                    problems.append(f"{m['path']}: {state}, holds {held!r} (another pod's line: two pods on one"
                                    " directory?)")
            results[name]["storage"] = check(FAIL, "; ".join(problems)) if problems else check(
                PASS, "own line in " + ", ".join(good))

    def dns(self, ready, names_of, container, want, answers, no_shell, domain, results):
        """Judge the names each member of ``names_of`` (``{member: [names it asks]}``) asked; asked
        again from the same member while they answer otherwise."""
        askers = list(names_of)
        if no_shell:
            for row in ready:
                results[row["name"]]["dns"] = check(FAIL, f"not provable: {' or '.join(askers)} cannot run the resolver"
                                                          " (no shell; dns_client.enabled: false)")
            return
        asked_from = {name: member for member, names in names_of.items() for name in names}

        def ask(names):
            rows = [r for r in ready if r["name"] in {asked_from[n] for n in names}]
            again = self.exec_all(rows, container, lambda row: self.program(
                [n for n in names if asked_from[n] == row["name"]], [], "read"))
            return {n: a for out in again.values() for n, a in parse_program_output(out["stdout"])["dns"].items()}
        self.resolve(ready, want, domain, answers, ask, askers[0], asked_from, results)
        if len(ready) == 1 and results[ready[0]["name"]]["dns"]["status"] == PASS:
            # no other member to ask: its own name may come from its hosts file, the Service's
            # name (not in that file) came from the cluster's DNS with the member's address
            results[ready[0]["name"]]["dns"]["detail"] += (f"; the Service's name {domain} answered it too (a lone"
                                                           " member's own name may come from its /etc/hosts)")

    def dns_from_client(self, ready, want, domain, results, because=None):
        """Ask ``want``'s names from the namespace's DNS client pod (created once and kept; never in
        check mode, where an absent pod leaves the check ``not_proved``, saying what it would ask)."""
        client = DnsClient(self.client, self.p["namespace"], self.p["dns_client"], self.check_mode,
                           self.clock, self.sleep)
        try:
            problem = client.prepare()
        except K8sError as exc:
            problem = (f"{client.what}: {exc} (the module's identity needs the RBAC rights get, create and delete"
                       " on pods and get on pods/proxy; dns_client.enabled: false leaves DNS not proved)")
        self.changed = self.changed or client.changed
        self.dns_client = dict(client.state, used_because=because or "method api: no exec session")
        if problem:
            self.dns_client["problem"] = problem
            for row in ready:
                name = row["dns_name"]
                if self.check_mode and not client.usable:
                    results[row["name"]]["dns"] = check(NOT_PROVED, f"{problem}: a run would ask it for {name} and"
                                                                    f" expect {want[name]}")
                else:
                    results[row["name"]]["dns"] = check(FAIL, f"{name} not asked: {problem}")
            return
        self.resolve(ready, want, domain, client.ask(list(want)), client.ask, ready[0]["name"], client.what,
                     results)

    def resolve(self, ready, want, domain, answers, ask, blamed, where, results):
        """Judge ``answers`` (``{name: the resolver's output}``) against ``want``, asking
        ``ask(names)`` again each second up to ``dns_timeout`` for the names that answer otherwise;
        a wrong answer for the Service's name is ``blamed``'s failure. ``where``: who asked, one
        string or ``{name: who}``."""
        where_of = where if isinstance(where, dict) else dict.fromkeys(want, where)
        deadline = self.clock() + self.p["dns_timeout"]
        got = {name: addresses_in(answers.get(name)) for name in want}
        wrong = [name for name in want if got[name] != want[name]]
        final = ("!no-resolver", "!bad-name")
        while wrong and self.clock() < deadline and not any(
                mark in (answers.get(n) or "") for n in want for mark in final):
            # a new pod's record follows its readiness through the EndpointSlice to the DNS server
            self.sleep(DNS_RETRY_INTERVAL)
            answers.update(ask(wrong))
            got.update({name: addresses_in(answers.get(name)) for name in wrong})
            wrong = [name for name in want if got[name] != want[name]]
        self.dns_answers = got
        for row in ready:
            name = row["dns_name"]
            if "!no-resolver" in (answers.get(name) or ""):
                results[row["name"]]["dns"] = check(FAIL, f"not provable from {where_of[name]}: its image has neither getent"
                                                          " nor nslookup (dns: false skips this check)")
            elif got[name] == want[name]:
                results[row["name"]]["dns"] = check(PASS, f"{name} -> {got[name][0]} (asked from {where_of[name]})")
            else:
                results[row["name"]]["dns"] = check(FAIL, f"{name} {seen_answer(answers.get(name), got[name])},"
                                                          f" asked from {where_of[name]}; expected {want[name]}")
        if domain in want and got[domain] != want[domain]:
            results[blamed]["dns"] = check(FAIL, f"the Service's name {domain} {seen_answer(answers.get(domain), got[domain])},"
                                                 f" asked from {where_of[domain]}; expected the ready members {want[domain]}")
        failed = [row["name"] for row in ready if results[row["name"]]["dns"]["status"] == FAIL]
        note = self.service_problem() if failed else ""
        for name in failed:
            results[name]["dns"]["detail"] += f"; {note}" if note else ""

    def service_problem(self):
        """Why the governing Service gives the pods no DNS records, in words, or "" (none seen, or
        the Service may not be read)."""
        name, namespace = ((self.sts or {}).get("spec") or {}).get("serviceName"), self.p["namespace"]
        if not name:
            return ""
        try:
            svc = self.client.get(Ref("Service", name, namespace))
        except K8sError:
            return ""
        what = f"the Service {namespace}/{name} that spec.serviceName names"
        if svc is None:
            return (f"{what} does not exist: the pods get no DNS records until a headless Service of that name"
                    " exists")
        spec = svc.get("spec") or {}
        if spec.get("clusterIP") not in (None, "", "None"):
            return (f"{what} is not headless (clusterIP {spec['clusterIP']}): only a headless Service (clusterIP:"
                    " None) gives each pod its DNS record")
        labels = ((((self.sts.get("spec") or {}).get("template") or {}).get("metadata")) or {}).get("labels") or {}
        selector = spec.get("selector") or {}
        if selector and any(labels.get(key) != value for key, value in selector.items()):
            return f"{what} selects {selector}, which the pods' labels do not match: it has no endpoints for them"
        return ""

    # -- the application's own check ---------------------------------------------------------
    def app_checks(self, ready, pods, results):
        app = self.p["app_check"]
        deadline = self.clock() + app["timeout"]
        pending = []
        port = (app.get("http_get") or {}).get("port")
        for row in ready:
            # a named port the pod's containers do not declare: no wait changes a pod's spec
            problem = named_port_problem(port, pods[row["name"]].get("spec"))
            if problem:
                results[row["name"]]["app"] = check(FAIL, problem + " (not asked again: a pod's ports do not change)")
            else:
                pending.append(row)
        while pending:
            outcome = dict(self._app_round(pending, pods, app))
            for row in pending:
                results[row["name"]]["app"] = outcome[row["name"]]
            pending = [row for row in pending if outcome[row["name"]]["status"] == FAIL]
            if not pending or self.clock() >= deadline:
                return
            self.sleep(DNS_RETRY_INTERVAL)

    def _app_round(self, rows, pods, app):
        def one(row):
            name = row["name"]
            if app.get("http_get"):
                return name, self._http(pods[name], app["http_get"])
            return name, self._exec_check(name, app["exec"])

        with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(rows) or 1)) as pool:
            return list(pool.map(one, rows))

    def _http(self, pod, get):
        name, port = pod["metadata"]["name"], container_port(pod, get["port"])
        if port is None:
            return check(FAIL, named_port_problem(get["port"], pod.get("spec")) or f"no port {get['port']!r}")
        try:
            body, status = self.client.proxy_get(self.p["namespace"], name, port, get["path"]), 200
        except ApiError as exc:
            body, status = (exc.body or b""), exc.status
        except K8sError as exc:
            return check(FAIL, f"GET {get['path']} on port {port}: {exc}")
        text = body[:4096].decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        self.observed[name]["app"] = text.strip()
        what = f"GET :{port}{get['path']} -> {status}"
        if status != get["status"]:
            return check(FAIL, f"{what}, expected {get['status']}: {text.strip()[:200]!r}")
        if get.get("body") and not pod_pattern(get["body"], name, self.lines.get(name)).search(text):
            return check(FAIL, f"{what}, body {text.strip()[:200]!r} does not match {get['body']!r}")
        return check(PASS, f"{what}, body {text.strip()[:80]!r}")

    def _exec_check(self, name, spec):
        try:
            out = self.client.exec(self.p["namespace"], name, spec["command"], spec.get("container"),
                                   timeout=self.p["exec_timeout"])
        except K8sError as exc:
            return check(FAIL, f"{shlex.join(spec['command'])}: {exc}")
        what = "{} -> rc {}".format(shlex.join(spec["command"]), out["rc"])
        self.observed[name]["app"] = out["stdout"].strip()
        if out["rc"] is None:
            return check(FAIL, f"{shlex.join(spec['command'])}: {out['error']}")
        if out["rc"] != spec["rc"]:
            return check(FAIL, f"{what}, expected rc {spec['rc']}: {(out['stdout'] + out['stderr']).strip()[:200]!r}")
        if spec.get("stdout") and not pod_pattern(spec["stdout"], name, self.lines.get(name)).search(out["stdout"]):
            # the pattern sees standard output only; many tools (etcdctl endpoint health) answer on stderr
            stderr = f" (stderr, not matched: {out['stderr'].strip()[:200]!r})" if out["stderr"].strip() else ""
            return check(FAIL, f"{what}, output {out['stdout'].strip()[:200]!r} does not match {spec['stdout']!r}{stderr}")
        return check(PASS, f"{what}, output {out['stdout'].strip()[:80]!r}")

    # -- the verdict -----------------------------------------------------------------------------
    def report(self, table, results, markers, container):
        rows = {row["name"]: row for row in table["pods"]}
        pods, checks, failures, not_proved = [], [], [], []
        for name in sorted(results, key=lambda n: waiters.pod_ordinal(n, self.p["name"]) or 0):
            row = dict(rows.get(name) or {"name": name, "ordinal": waiters.pod_ordinal(name, self.p["name"])})
            row["checks"] = results[name]
            row["observed"] = self.observed.get(name, {"hostname": None})
            pods.append(row)
            for kind in CHECKS:
                verdict = results[name][kind]
                checks.append({"pod": name, "check": kind, **verdict})
                if verdict["status"] == FAIL:
                    failures.append(f"{name} {kind}: {verdict['detail']}")
                elif verdict["status"] == NOT_PROVED:
                    not_proved.append(f"{name} {kind}: {verdict['detail']}")
        label = dict.fromkeys(CHECKS, "")
        if self.nfs is not None:
            how = "in the pods and" if self.p["method"] == "exec" else "without exec,"
            label["storage"] = f" ({how} through NFS on {self.p['nfs_side']['host']})"
        proved = [f"{kind}{label[kind]}: {', '.join(c['pod'] for c in checks if c['check'] == kind)}" for kind in CHECKS
                  if any(c["check"] == kind for c in checks) and all(
                      c["status"] == PASS for c in checks if c["check"] == kind)]
        not_proved += self.unproved
        result = {"changed": self.changed, "exists": True, "statefulset": table["statefulset"], "container": container,
                  "pods": pods, "checks": checks, "proved": proved, "not_proved": not_proved,
                  "markers": [m for name in markers for m in markers[name]], "failures": failures,
                  "dns_answers": self.dns_answers}
        if self.dns_client is not None:
            result["dns_client"] = self.dns_client
        if failures:
            raise VerificationError(stale_handle_advice(checks) + "Verification of StatefulSet {}/{} failed: {}".format(
                self.p["namespace"], self.p["name"], "; ".join(failures)), **result)
        return result


STALE = "Stale file handle"


def stale_handle_advice(checks):
    """The way out, first, when pods' volumes answer ESTALE (nfs(5)); "" when none does."""
    pods = [c["pod"] for c in checks if c["check"] == "storage" and c["status"] == FAIL and STALE in c["detail"]]
    if not pods:
        return ""
    return (f"Stale NFS file handle in {', '.join(pods)}: the NFS server no longer knows the handles these pods"
            " mounted (the export or a volume's directory was re-created, or its Export_Id changed). Restore it, or"
            " delete those pods so that kubelet mounts it again (nfs(5): ESTALE). ")


def run_verify(client, p, check_mode, outcome):
    """``statefulset_verify``'s result (see :class:`Proof`). With ``fail_on_failure`` false a
    failed proof, or one that could not be made, is returned (``msg`` and ``failures`` say why)
    for a caller that reports it before it fails."""
    proof = Proof(client, p, check_mode)
    try:
        return proof.run()
    except K8sError as exc:
        if p.get("fail_on_failure", True):
            raise
        result = {"changed": proof.changed, "exists": proof.sts is not None, "pods": [], "checks": [], "proved": [],
                  "not_proved": [], "markers": [], "failures": [str(exc)]}
        result.update(exc.details or {})
        if not result["failures"]:
            result["failures"] = [str(exc)]
        result["msg"] = str(exc)
        return result
