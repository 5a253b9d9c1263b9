#!/usr/bin/env python3
"""results/bench/raw.jsonl (tools/bench/bench.py) -> results.md and results.png.

Medians over the successful runs of each row; the goals of issue 21 ("what to reach") with
their verdicts, computed here; the time and the API requests per stage; the time to every pod serving its page
against the floor; where the time goes (the slowest tasks of the median run, and what ran
between the StatefulSet's apply and the last pod serving its line).

    report.py OUT_DIR     (reads OUT_DIR/raw.jsonl and OUT_DIR/meta.json)
"""
from __future__ import annotations

import inspect
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.bench.growth import explain, pod_interval, steps
from tools.bench.measure import STAGE_TITLES, STAGES, ServingPoller

OUT = Path(sys.argv[1])
RECORDS = [json.loads(line) for line in (OUT / "raw.jsonl").read_text().splitlines() if line.strip()]
META = json.loads((OUT / "meta.json").read_text()) if (OUT / "meta.json").exists() else {}
ROWS: dict[str, list[dict]] = defaultdict(list)
for rec in RECORDS:
    ROWS[rec["row"]].append(rec)

# (row prefix, label, column label)
WAYS = (
    ("site", "stateful.nfs `site.yml`", "`site.yml`"),
    ("usual_kubectl", "usual way, `kubectl apply`", "usual `kubectl`"),
    ("usual_k8s", "usual way, `kubernetes.core.k8s`", "usual `k8s`"),
)


def ok(row: str) -> list[dict]:
    return [r for r in ROWS.get(row, []) if r.get("rc") == 0]


def get(rec: dict, path: str):
    value = rec
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def med(row: str, path: str = "seconds"):
    values = [v for v in (get(r, path) for r in ok(row)) if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def stage_med(row: str, stage: str, key: str = "seconds"):
    values = [get(r, f"stages.{stage}.{key}") or 0 for r in ok(row)]
    return statistics.median(values) if values else None


def pooled(rows: list[str], fn) -> float | None:
    values = [v for row in rows for r in ok(row) if (v := fn(r)) is not None]
    return statistics.median(values) if values else None


def status(row: str) -> str:
    recs = ROWS.get(row, [])
    if not recs:
        return "not run"
    bad = [str(r["run"]) for r in recs if r.get("rc") != 0]
    return f"{len(recs)} ok" if not bad else f"{len(recs) - len(bad)}/{len(recs)} ok (failed: run {', '.join(bad)})"


def s(value, unit: str = " s", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{unit}" if unit != "" else f"{value:.0f}"


def n1(value) -> str:
    return "-" if not value else f"{value:.1f}"


def ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def verdict(good: bool | None) -> str:
    return "not measured" if good is None else ("**met**" if good else "**missed**")


def median_run(row: str) -> dict | None:
    recs = sorted(ok(row), key=lambda r: r["seconds"])
    return recs[len(recs) // 2] if recs else None


md: list[str] = []
w = md.append
runs = max((r["run"] for r in RECORDS), default=0)
trial = runs < 3
w("# stateful.nfs benchmark (`make bench`)")
w("")
w(f"{META.get('started', '')[:16].replace('T', ' ')} UTC; median of {runs} run(s) per row"
  f"{' (**a trial**: one run on a shared, loaded machine; figures are noisy)' if trial else ''}. "
  f"Kubernetes {META.get('kubernetes', '?')} built from source, in the bench's own labs (`tests/lab/lab-up.sh`, "
  f"`LAB_NAME={META.get('lab', 'snfs-bench')}`): an NFS-Ganesha host, a control plane and 1, 3 or 6 kubelet nodes, "
  f"all containers on a {META.get('cpus', '?')}-core machine (load average "
  f"{META.get('loadavg_start', [0])[0]:.1f} at the start, {META.get('loadavg_end', [0])[0]:.1f} at the end). "
  "Raw numbers: `results/bench/raw.jsonl`; each run's event stream (`ansible.posix.jsonl`) and stderr: "
  "`results/bench/logs/`.")
w("")
if META.get("failed"):
    w(f"**Failures:** {'; '.join(META['failed'])}")
    w("")

# ------------------------------------------------------------------ goals
site_warm, site_cold = med("site_warm"), med("site_cold")
floor = med("floor", "serving.from_start")
serve_sts = med("site_cold", "serving.from_statefulset")
serve_start = med("site_cold", "serving.from_start")
warm_writes = [get(r, "api.write") for r in ROWS.get("site_warm", [])]
# Issue 21's goals: warm site.yml against the usual way's warm re-run; from the StatefulSet's apply to
# every pod serving, against the floor; the serving poller's sampling interval, as a share of the floor.
WARM_GOAL, ROLLOUT_GOAL, SAMPLING_GOAL, WAIT_RETURN_GOAL = 1.0, 1.3, 0.05, 0.5
w("## Goals (issue 21, what to reach)")
w("")
w("| goal | measured | verdict |")
w("| --- | --- | --- |")
for way, label, _ in WAYS[1:]:
    other = med(f"{way}_warm")
    r = ratio(site_warm, other)
    w(f"| warm `site.yml` (every proof, report written) <= {WARM_GOAL:.1f}x the warm re-run of the {label} | "
      f"{s(site_warm)} vs {s(other)} = {'n/a' if r is None else f'{r:.2f}x'} | {verdict(None if r is None else r <= WARM_GOAL)} |")
r = ratio(serve_sts, floor)
w(f"| from the StatefulSet's apply to every pod serving its line <= {ROLLOUT_GOAL:.1f}x the floor | {s(serve_sts)} "
  f"(the run's start: {s(serve_start)}) vs floor {s(floor)} = {'n/a' if r is None else f'{r:.2f}x'} | "
  f"{verdict(None if r is None else r <= ROLLOUT_GOAL)} |")
interval = inspect.signature(ServingPoller).parameters["interval"].default  # what bench.py runs it with
# the measured period (the interval plus a round's own requests), the slower of site.yml's and the floor's
periods = [p for p in (med("site_cold", "serving.sample_period"), med("floor", "serving.sample_period")) if p]
period = max(periods) if periods else None
share = None if not floor or period is None else period / floor
w(f"| the serving poller's sampling under {100 * SAMPLING_GOAL:.0f}% of the floor | one sample per pod every "
  f"{'n/a' if period is None else f'{period:.2f}'} s (measured; the interval {interval} s plus a round's requests) = "
  f"{'n/a' if share is None else f'{100 * share:.1f}%'} of the floor | {verdict(None if share is None else share < SAMPLING_GOAL)} |")
delay = med("site_cold", "serving.wait_return_delay")
delays = [get(r, "serving.wait_return_delay") for r in ok("site_cold")]
w(f"| the collection's rollout wait returns under {WAIT_RETURN_GOAL} s after the last pod is Ready (the bench's own "
  f"watch on the pods) | {'n/a' if delay is None else f'{delay:.2f} s'} (runs: "
  f"{', '.join('n/a' if d is None else f'{d:.2f}' for d in delays) or 'none'}; until the end of the task, "
  f"Ansible's result handling included) | {verdict(None if delay is None else delay < WAIT_RETURN_GOAL)} |")
good = None if not warm_writes or None in warm_writes else max(warm_writes) == 0
which = sorted({item.split(": ", 1)[1].replace("write ", "") for r in ok("site_warm")
                for item in r["api"]["writes"] if ": write " in item})
w(f"| zero API writes on a re-run (audit log) | {'n/a' if good is None else max(warm_writes)} write(s) in the warm "
  f"`site.yml` (max over {len(warm_writes)} run(s)){': ' + ', '.join(f'`{x}`' for x in which) if which else ''} "
  f"| {verdict(good)} |")
w("")
w("*Start to serving*: the floor starts with the provisioner already running, so the comparable start of a "
  "`site.yml` run is the StatefulSet's apply (the first task of its `statefulset` stage, the provisioner then "
  "Available); the time from the run's very start includes installing the NFS server and clients on bare hosts.")
w("")

# ------------------------------------------------------------------ whole job
w("## The whole job (3 nodes, fresh lab per way)")
w("")
w("| way | cold (bare hosts) | warm (re-run) | changed cold / warm | API requests cold / warm | API writes cold / warm "
  "| exec sessions cold / warm | start to every pod serving (cold) | runs |")
w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for way, label, _ in WAYS:
    c, wm = f"{way}_cold", f"{way}_warm"
    w(f"| {label} | {s(med(c))} | {s(med(wm))} | {s(med(c, 'changed'), '')} / {s(med(wm, 'changed'), '')} | "
      f"{s(med(c, 'api.requests'), '')} / {s(med(wm, 'api.requests'), '')} | {s(med(c, 'api.write'), '')} / "
      f"{s(med(wm, 'api.write'), '')} | {s(med(c, 'api.stream'), '')} / {s(med(wm, 'api.stream'), '')} | "
      f"{s(med(c, 'serving.from_start'))} | {status(c)}, {status(wm)} |")
w(f"| floor: the walkthrough's manifests in one `kubectl apply`, provisioner running | | | | "
  f"{s(med('floor', 'api.requests'), '')} | {s(med('floor', 'api.write'), '')} | {s(med('floor', 'api.stream'), '')} | "
  f"{s(floor)} | {status('floor')} |")
w("")
w("What each way proves: `site.yml` proves the export through NFS on the server, every node's mount as kubelet "
  "mounts (preflight gate), the provisioner Available, the ordered rollout, each pod's hostname (exec), each PVC "
  "Bound to its own PV and NFS directory, each pod's line served over HTTP and every DNS name, from inside the "
  "cluster, and writes the identity report. The usual way proves what `apt`, `kubectl apply` / `rollout status` "
  "and `kubernetes.core.k8s` `wait` report: packages installed, objects applied, replicas ready.")
w("")

# ------------------------------------------------------------------ stages
present = [st for st in STAGES if any(get(r, f"stages.{st}") for r in RECORDS)]
cols = [(f"{way}_{ph}", f"{short} {ph}") for way, _, short in WAYS for ph in ("cold", "warm")]
w("## Time per stage (median seconds; the stages add up to the wall time)")
w("")
w("| stage | " + " | ".join(c[1] for c in cols) + " |")
w("| --- |" + " --- |" * len(cols))
for st in present:
    w(f"| {STAGE_TITLES.get(st, st)} | " + " | ".join(n1(stage_med(row, st)) for row, _ in cols) + " |")
w("| **wall time** | " + " | ".join(n1(med(row)) for row, _ in cols) + " |")
w("")
w("A stage's time runs from the end of the task before its first task to the end of its last task (Ansible's "
  "work between two tasks counts to the next one); `site.yml` gathers facts once for all hosts in its first play, "
  "the usual way in each play.")
w("")
w("## API requests per stage (median; requests / writes, from the API server's audit log)")
w("")
w("| stage | " + " | ".join(c[1] for c in cols) + " |")
w("| --- |" + " --- |" * len(cols))
for st in present:
    cells = []
    for row, _ in cols:
        req, wr = stage_med(row, st, "requests"), stage_med(row, st, "write")
        cells.append("-" if not req else f"{req:.0f} / {wr:.0f}")
    if any(c != "-" for c in cells):
        w(f"| {STAGE_TITLES.get(st, st)} | " + " | ".join(cells) + " |")
w("| **total** | " + " | ".join(f"{s(med(row, 'api.requests'), '')} / {s(med(row, 'api.write'), '')}" for row, _ in cols) + " |")
w("")
w("Counted: every request of the admin kubeconfig's user (group `kubeadm:cluster-admins`, the one the audit "
  "policy logs) received between the run's start and end, one per request (`ResponseComplete`). *Writes* are "
  "create/update/patch/delete without `dryRun`; exec sessions (`pods/exec`, websocket `get`) are counted apart "
  "(they change no API object). The bench's own requests (pod proxy polling, clean-up) go as `super-admin.conf` "
  "(`system:masters`), which the policy does not log.")
w("")

# ------------------------------------------------------------------ serving
w("## Time to every pod serving its page (cold runs)")
w("")
w("| | from the run's start | StatefulSet applied at | from the StatefulSet's apply | vs the floor | "
  "web-0 / web-1 / web-2 served at (from the start) |")
w("| --- | --- | --- | --- | --- | --- |")
for row, label in (("site_cold", "stateful.nfs `site.yml`"), ("usual_kubectl_cold", "usual way, `kubectl`"),
                   ("usual_k8s_cold", "usual way, `kubernetes.core.k8s`"), ("floor", "**floor**")):
    fs = med(row, "serving.from_statefulset") if row != "floor" else floor
    pods = " / ".join(s(med(row, f"serving.per_pod.web-{i}"), "") if med(row, f"serving.per_pod.web-{i}") is not None
                      else "n/a" for i in range(3))
    r = ratio(fs, floor)
    w(f"| {label} | {s(med(row, 'serving.from_start'))} | {s(med(row, 'serving.statefulset_at')) if row != 'floor' else '0'} "
      f"| {s(fs)} | {'n/a' if r is None else f'{r:.2f}x'} | {pods} |")
w("")
w(f"Each pod's page is fetched every {interval} s (plus the round's own requests) through the API server's pod proxy "
  "(`GET /api/v1/namespaces/default/pods/web-N:80/proxy/index.html`) until it returns that pod's line "
  "`congratulations web-N for k8s`. The floor: the provisioner already running, StatefulSet, Service and claims "
  "removed, then the walkthrough's four manifests in one `kubectl apply`, and each pod's line written with "
  "`kubectl exec` the moment `kubectl wait` sees it Ready: pods started with their images present, plus "
  "provisioning, plus one exec each.")
w("")

# ------------------------------------------------------------------ where the time goes
w("## Where the time goes")
w("")
rec = median_run("site_cold")
if rec and get(rec, "serving.path"):
    path = rec["serving"]["path"]
    by_stage: dict[str, float] = defaultdict(float)
    for _, st, secs in path:
        by_stage[st] += secs
    w(f"**From the StatefulSet's apply to every pod serving, `site.yml` cold** (run {rec['run']}, "
      f"{s(get(rec, 'serving.from_statefulset'))}; floor {s(floor)}): "
      + ", ".join(f"{STAGE_TITLES.get(k, k)} {v:.1f} s" for k, v in by_stage.items()) + ". Its slowest tasks:")
    w("")
    w("| task | stage | seconds |")
    w("| --- | --- | --- |")
    for name, st, secs in sorted(path, key=lambda t: -t[2])[:8]:
        w(f"| {name.replace('|', '/')} | {st} | {secs:.1f} |")
    w("")
for row, label in (("site_warm", "`site.yml` warm"), ("usual_kubectl_warm", "usual way (`kubectl`) warm"),
                   ("usual_k8s_warm", "usual way (`kubernetes.core.k8s`) warm"), ("site_cold", "`site.yml` cold")):
    rec = median_run(row)
    if not rec:
        continue
    w(f"**{label}** (run {rec['run']}, {s(rec['seconds'])}), slowest tasks:")
    w("")
    w("| task | stage | seconds |")
    w("| --- | --- | --- |")
    for name, st, secs in rec["top_tasks"][:8]:
        w(f"| {name.replace('|', '/')} | {st} | {secs:.1f} |")
    w("")

actions: dict[str, float] = defaultdict(float)
for row in ("site_cold", "site_warm", "usual_kubectl_warm", "usual_k8s_warm"):
    rec = median_run(row)
    for action, (_, secs) in ((rec or {}).get("by_action") or {}).items():
        actions[action] = max(actions[action], secs)
if actions:
    mod_rows = ("site_cold", "site_warm", "usual_kubectl_cold", "usual_kubectl_warm", "usual_k8s_cold", "usual_k8s_warm")
    w("**Time per module** (median run of each row; seconds, and tasks in parentheses):")
    w("")
    w("| module | " + " | ".join(dict(cols)[r] for r in mod_rows) + " |")
    w("| --- |" + " --- |" * len(mod_rows))
    for action, _ in sorted(actions.items(), key=lambda kv: -kv[1])[:10]:
        cells = []
        for row in mod_rows:
            entry = ((median_run(row) or {}).get("by_action") or {}).get(action)
            cells.append("-" if not entry else f"{entry[1]:.1f} ({entry[0]})")
        w(f"| `{action}` | " + " | ".join(cells) + " |")
    w("")
    w("A loop is one task; `kubernetes.core.k8s_exec` runs one exec session per item (the *exec sessions* "
      "columns above count them).")
    w("")

# ------------------------------------------------------------------ writes on a re-run
w("## API writes and exec sessions on a re-run")
w("")
for row, label in (("site_warm", "`site.yml` warm"), ("usual_kubectl_warm", "usual way (`kubectl`) warm"),
                   ("usual_k8s_warm", "usual way (`kubernetes.core.k8s`) warm")):
    rec = median_run(row)
    if not rec:
        continue
    writes = rec["api"].get("writes", [])
    counted: dict[str, int] = defaultdict(int)
    for item in writes:
        counted[item] += 1
    listing = "; ".join(f"{k}{f' (x{v})' if v > 1 else ''}" for k, v in counted.items()) or "none"
    w(f"- {label} (run {rec['run']}): {rec['api']['write']} write(s), {rec['api'].get('dry-run', 0)} dry-run, "
      f"{rec['api']['stream']} exec session(s): {listing}")
w("")

# ------------------------------------------------------------------ NFS part
w("## The NFS server part (fresh NFS host, then a re-run)")
w("")
w("| | cold | warm | changed (warm) |")
w("| --- | --- | --- | --- |")
w(f"| role `nfs_server` (Ganesha backend; exports(5) rules, NFS proof) | {s(stage_med('site_cold', 'nfs_server'))} | "
  f"{s(stage_med('site_warm', 'nfs_server'))} | {s(stage_med('site_warm', 'nfs_server', 'changed'), '')} |")
uc = pooled(["usual_kubectl_cold", "usual_k8s_cold"], lambda r: get(r, "stages.nfs_server.seconds"))
uw = pooled(["usual_kubectl_warm", "usual_k8s_warm"], lambda r: get(r, "stages.nfs_server.seconds"))
ucw = pooled(["usual_kubectl_warm", "usual_k8s_warm"], lambda r: get(r, "stages.nfs_server.changed"))
w(f"| usual way: apt + templated ganesha.conf + service/handler (`tools/bench/usual_way/roles/nfs_server_usual`) | "
  f"{s(uc)} | {s(uw)} | {s(ucw, '')} |")
w("")
w("Both on Ganesha: this machine's kernel has no nfsd. The usual role's time includes its own fact gathering; "
  "the collection's facts are gathered once for all hosts (stage *facts*).")
w("")

# ------------------------------------------------------------------ scaling
w("## The client stage on 1, 3 and 6 nodes (fresh lab each, stage `nfs_client`)")
w("")
w("| nodes | cold | warm | cold vs 1 node | warm vs 1 node | wall time of `site.yml --tags nfs_client` cold / warm "
  "| apt floor | cold vs apt floor |")
w("| --- | --- | --- | --- | --- | --- | --- | --- |")
scaling = {}
for n in (1, 3, 6):
    if n == 3:
        c, wm, wc, ww = stage_med("site_cold", "nfs_client"), stage_med("site_warm", "nfs_client"), None, None
    else:
        c, wm = stage_med(f"clients_{n}_cold", "nfs_client"), stage_med(f"clients_{n}_warm", "nfs_client")
        wc, ww = med(f"clients_{n}_cold"), med(f"clients_{n}_warm")
    scaling[n] = (c, wm)
# The apt floor (bench.py apt_floor): the same packages with plain apt-get on every node at once, same fresh lab.
apt_floor = {n: med(f"apt_floor_{n}") for n in scaling}
for n, (c, wm) in scaling.items():
    rc_, rw_ = ratio(c, scaling[1][0]), ratio(wm, scaling[1][1])
    wall = "(from the site rows)" if n == 3 else f"{s(med(f'clients_{n}_cold'))} / {s(med(f'clients_{n}_warm'))}"
    fl = apt_floor[n]
    rf = ratio(c, fl)
    w(f"| {n} | {s(c)} | {s(wm)} | {'n/a' if rc_ is None else f'{rc_:.2f}x'} | {'n/a' if rw_ is None else f'{rw_:.2f}x'} | {wall} "
      f"| {s(fl)} | {'n/a' if rf is None else f'{rf:.2f}x'} |")
uc3 = pooled(["usual_kubectl_cold", "usual_k8s_cold"], lambda r: get(r, "stages.nfs_client.seconds"))
uw3 = pooled(["usual_kubectl_warm", "usual_k8s_warm"], lambda r: get(r, "stages.nfs_client.seconds"))
w("")
w(f"The apt floor is `apt-get update` and `apt-get install -y {' '.join(META.get('client_packages', []))}` on every node at "
  "once on the fresh lab, before the collection's rows (the nodes are put back as they were after it): the packages' own "
  "cost; the client stage adds facts, the package query, the gate and the per-node NFS proof. "
  f"The usual way's client stage (`apt nfs-common`, no proof) at 3 nodes: {s(uc3)} cold, {s(uw3)} warm. "
  f"The nodes are containers sharing {META.get('cpus', '?')} cores: package installation that runs in parallel on "
  "real hosts queues for the same cores here.")
w("")

# ------------------------------------------------------------------ growth (issue 21, point 4)
def runs_note(rows: list[str], per: str = "size") -> str:
    """How many runs the rows had (growth rows may run once), computed."""
    counts = sorted({len(ROWS.get(row, [])) for row in rows if ROWS.get(row)})
    if not counts:
        return "not run"
    return (f"{counts[0]} run(s) per {per}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]} runs per {per}") + (
        f" (**once**: a single run per {per}, no median)" if counts == [1] else "")


def row_state(row: str) -> str:
    """ok, or why a row gave no figure: not run, timed out (did not finish), failed."""
    recs = ROWS.get(row, [])
    if not recs:
        return "not run"
    if any(r.get("rc") == 0 for r in recs):
        return status(row)
    if any(r.get("timed_out") for r in recs):
        return f"**did not finish** (timed out after {META.get('growth_timeout', '?')} s)"
    return "**failed**"


def stage_medians(row: str) -> dict[str, float]:
    return {st: v for st in STAGES if (v := stage_med(row, st))}


sizes = META.get("replicas") or sorted({int(r["row"][8:].split("_")[0]) for r in RECORDS
                                        if r["row"].startswith("replicas") and r["row"][8:].split("_")[0].isdigit()})
replicas_ours = {n: med(f"replicas{n}_site", "serving.from_statefulset") for n in sizes}
replicas_floor = {n: med(f"replicas{n}_floor", "serving.from_start") for n in sizes}
apps_sizes = META.get("applications") or [1, 3]
apps_time = {n: med(f"apps{n}", "to_proved") for n in apps_sizes}
clients = {n: scaling[n] for n in scaling}
growth_rows = [f"replicas{n}_{k}" for n in sizes for k in ("site", "floor")] + [f"apps{n}" for n in apps_sizes]
if any(ROWS.get(row) for row in growth_rows):
    w("## Cost growth (issue 21, point 4)")
    w("")
    w(f"Growth rows: {runs_note(growth_rows)}. Every step below is computed from the figures in the tables: "
      "the time ratio against the size ratio, the time per unit before and after, and k in time ~ size^k; "
      f"a step is *faster than linear* when the time per unit grows by more than 15%.")
    w("")
    w("**Replicas** (the walkthrough's StatefulSet `web`, 3 nodes; from the StatefulSet's apply to every pod "
      "serving its own line):")
    w("")
    w("| replicas | `site.yml` | per pod | floor | per pod | vs the floor | `site.yml` rows | floor rows |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in sizes:
        o, f = replicas_ours[n], replicas_floor[n]
        r = ratio(o, f)
        w(f"| {n} | {s(o)} | {s(o / n if o else None, ' s', 2)} | {s(f)} | {s(f / n if f else None, ' s', 2)} | "
          f"{'n/a' if r is None else f'{r:.2f}x'} | {row_state(f'replicas{n}_site')} | {row_state(f'replicas{n}_floor')} |")
    w("")
    step_rows = [("`site.yml`", replicas_ours), ("floor", replicas_floor)]
    w("| step | " + " | ".join(f"{lbl}: time ratio (size ratio), per pod, k" for lbl, _ in step_rows) + " |")
    w("| --- |" + " --- |" * len(step_rows))
    found = {lbl: {(st.small, st.large): st for st in steps(points)} for lbl, points in step_rows}
    for key in sorted({k for v in found.values() for k in v}):
        cells = []
        for lbl, _ in step_rows:
            st = found[lbl].get(key)
            cells.append("n/a" if st is None else f"x{st.time_ratio:.2f} (x{st.size_ratio:.2f}), "
                         f"x{st.per_unit_ratio:.2f} per pod, k={st.exponent:.2f}: {st.kind}")
        w(f"| {key[0]:g} -> {key[1]:g} | " + " | ".join(cells) + " |")
    w("")
    intervals = {n: pod_interval(get(median_run(f"replicas{n}_site") or {}, "serving.per_pod")) for n in sizes}
    floor_intervals = {n: pod_interval(get(median_run(f"replicas{n}_floor") or {}, "serving.per_pod")) for n in sizes}
    w("- " + explain("`site.yml`, apply to every pod serving", "pod", replicas_ours,
                     {n: stage_medians(f"replicas{n}_site") for n in sizes}, intervals))
    w("- " + explain("Floor, apply to every pod serving", "pod", replicas_floor, None, floor_intervals))
    w("")
    w("The pods set no CPU or memory requests (the walkthrough's StatefulSet), so 30 of them schedule on the "
      f"3 nodes of this {META.get('cpus', '?')}-core machine; with `OrderedReady` each pod starts after the one "
      "before is Ready, so the rollout itself is sequential. The `site.yml` rows run `--tags "
      "k8s_statefulset_nginx` on a lab whose NFS server and clients are set up (row `growth_prep`).")
    w("")
    w("**Applications** (roles `nfs_provisioner` + `statefulset` through `site.yml --tags provisioner,statefulset`, "
      "two classes; each application a StatefulSet of 3 nginx pods proved per pod and by HTTP; time from the first "
      "StatefulSet's apply to the last application proved and reported):")
    w("")
    w("| applications | apply to all proved | per application | wall time | stages statefulset / verify / report | rows |")
    w("| --- | --- | --- | --- | --- | --- |")
    for n in apps_sizes:
        t = apps_time[n]
        st3 = " / ".join(n1(stage_med(f"apps{n}", k)) for k in ("statefulset", "verify", "report"))
        w(f"| {n} | {s(t)} | {s(t / n if t else None, ' s', 2)} | {s(med(f'apps{n}'))} | {st3} | {row_state(f'apps{n}')} |")
    w("")
    w("The first row also makes the two classes (their provisioners and a proof claim each: stage *provisioner*, "
      "outside the figure compared); the second finds them made.")
    w("")
    w("- " + explain("Applications, apply to all proved", "application", apps_time,
                     {n: stage_medians(f"apps{n}") for n in apps_sizes}))
    w("- " + explain("Client stage cold (nodes)", "node", {n: c for n, (c, _) in clients.items()}))
    w("- " + explain("Client stage warm (nodes)", "node", {n: wm for n, (_, wm) in clients.items()}))
    w("- " + explain("apt floor (nodes)", "node", {n: v for n, v in apt_floor.items() if v is not None}))
    w("")
    loads = [f"{r['row']} {r['load']['start'][0]:.1f} -> {r['load']['end'][0]:.1f}" for r in RECORDS
             if r["row"] in (*growth_rows, "growth_prep", "app_site", "app_kubectl") and isinstance(r.get("load"), dict)]
    if loads:
        w("Load average (1 min) at each growth row's start -> end: " + "; ".join(loads) + ".")
        w("")

# ------------------------------------------------------------------ a real application (point 5)
if ROWS.get("app_site") or ROWS.get("app_kubectl"):
    ours_app, usual_app = med("app_site", "to_proved"), med("app_kubectl", "to_proved")
    usual_roll = med("app_kubectl", "to_rollout")
    r = ratio(ours_app, usual_app)
    w("## A real application: redis, a primary and two replicas (issue 21, point 5)")
    w("")
    w(f"`examples/redis/redis.yaml` with the lab's redis image, on the class `bench-data` (its provisioner running "
      f"for both ways). {runs_note(['app_site', 'app_kubectl'], 'way')}.")
    w("")
    w("| way | from the StatefulSet's apply | of which to the rollout done | wall time | API requests / writes / exec "
      "| what it proved | runs |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    w(f"| stateful.nfs `site.yml` (role `statefulset`, application check `redis-cli info replication`) | "
      f"{s(ours_app)} (to every member proved and reported) | {s(stage_med('app_site', 'statefulset'))} (stage "
      f"statefulset) | {s(med('app_site'))} | {s(med('app_site', 'api.requests'), '')} / "
      f"{s(med('app_site', 'api.write'), '')} / {s(med('app_site', 'api.stream'), '')} | each member's identity, "
      "hostname, DNS record from inside the cluster, own claim and NFS directory, redis' role | "
      f"{row_state('app_site')} |")
    w(f"| usual way: `kubectl apply` + `kubectl rollout status`, then `kubectl exec ... redis-cli ping` per pod | "
      f"{s(usual_app)} | {s(usual_roll)} | {s(med('app_kubectl'))} | {s(med('app_kubectl', 'api.requests'), '')} / "
      f"{s(med('app_kubectl', 'api.write'), '')} / {s(med('app_kubectl', 'api.stream'), '')} | replicas ready, "
      f"each redis answers PONG | {row_state('app_kubectl')} |")
    w("")
    w(f"`site.yml` against the usual way, from the apply: {'n/a' if r is None else f'{r:.2f}x'}.")
    w("")

# ------------------------------------------------------------------ notes
w("## How it is measured")
w("")
w("- Every row runs on a lab of its own, brought up by `tests/lab/lab-up.sh` with `LAB_NAME` and `LAB_NODES` "
  "(bare NFS host and nodes: NFS-Ganesha and the NFS client are installed by the run itself), and is taken down "
  "after. Images are imported into every node by `lab-up` (no registry): *cold* means bare hosts and an empty "
  "cluster, not image pulls.")
w("- The usual way uses the same images as the collection (the walkthrough's manifests with the lab's "
  "provisioner and nginx images and the NFS host's address put in: `tools/bench/bench.py`), exports the "
  "walkthrough's `*(rw,async,no_root_squash)`, and writes each pod's line as the walkthrough does "
  "(`kubectl exec`, or `kubernetes.core.k8s_exec`).")
w("- Time per stage: the run's own event stream (stdout callback `ansible.posix.jsonl`: each task's start, end, "
  "file and play); a task's stage comes from its role file or its play (`tools/bench/measure.py`).")
w("- Client scaling: 1 and 6 nodes from labs of that size (`site.yml --tags nfs_server`, then `--tags nfs_client` "
  "twice); 3 nodes from the site rows. Nodes: Debian 12, node 2 Debian 13, as in the lab.")
w("")

(OUT / "results.md").write_text("\n".join(md) + "\n")
print((OUT / "results.md").read_text())

# ------------------------------------------------------------------ plot
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("report: matplotlib is not installed, no plot", file=sys.stderr)
    sys.exit(0)

fig, ((ax1, ax2), (ax3, ax4), (ax5, ax6)) = plt.subplots(3, 2, figsize=(14, 15))


def label_bars(ax, bars):
    ax.bar_label(bars, fmt="%.0f", fontsize=8)


x = range(len(WAYS))
for offset, ph in ((-0.2, "cold"), (0.2, "warm")):
    label_bars(ax1, ax1.bar([i + offset for i in x], [med(f"{way}_{ph}") or 0 for way, _, _ in WAYS], 0.4, label=ph))
ax1.set_xticks(list(x))
ax1.set_xticklabels(["site.yml", "usual way\nkubectl", "usual way\nkubernetes.core.k8s"], fontsize=9)
ax1.set_ylabel("seconds (median)")
ax1.set_title("The whole job on bare hosts (cold) and re-run (warm)", fontsize=10)
ax1.legend(fontsize=8)

bar_rows = [(f"{way}_{ph}", f"{n}\n{ph}") for way, n in (("site", "site.yml"), ("usual_kubectl", "kubectl"),
                                                      ("usual_k8s", "k8s")) for ph in ("cold", "warm")]
bottom = [0.0] * len(bar_rows)
palette = plt.get_cmap("tab20")
for index, st in enumerate(present):
    heights = [stage_med(row, st) or 0 for row, _ in bar_rows]
    if not any(heights):
        continue
    ax2.bar(range(len(bar_rows)), heights, 0.6, bottom=bottom, label=st, color=palette(index % 20))
    bottom = [b + h for b, h in zip(bottom, heights)]
ax2.set_xticks(range(len(bar_rows)))
ax2.set_xticklabels([lbl for _, lbl in bar_rows], fontsize=8)
ax2.set_ylabel("seconds (median)")
ax2.set_title("Where the time goes: stages", fontsize=10)
ax2.legend(fontsize=7, ncol=2)

serve = [("site.yml", med("site_cold", "serving.from_statefulset")),
         ("kubectl", med("usual_kubectl_cold", "serving.from_statefulset")),
         ("kubernetes.core.k8s", med("usual_k8s_cold", "serving.from_statefulset")), ("floor", floor)]
label_bars(ax3, ax3.bar([n for n, _ in serve], [v or 0 for _, v in serve], 0.6,
                        color=["C0", "C1", "C2", "C7"]))
if floor:
    ax3.axhline(floor * ROLLOUT_GOAL, color="k", linestyle="--", linewidth=0.8, label=f"{ROLLOUT_GOAL:.1f}x floor")
    ax3.legend(fontsize=8)
ax3.set_ylabel("seconds (median)")
ax3.set_title("From the StatefulSet's apply to every pod serving its line", fontsize=10)

nodes = list(scaling)
for offset, idx, ph in ((-0.2, 0, "cold"), (0.2, 1, "warm")):
    label_bars(ax4, ax4.bar([i + offset for i in range(len(nodes))], [scaling[n][idx] or 0 for n in nodes], 0.4, label=ph))
ax4.set_xticks(range(len(nodes)))
ax4.set_xticklabels([f"{n} node{'s' if n > 1 else ''}" for n in nodes])
ax4.set_ylabel("seconds (median)")
ax4.set_title("Client stage (nfs_client) by node count", fontsize=10)
ax4.legend(fontsize=8)

def curve(ax, points: dict, label: str, per: bool = False) -> None:
    xs = [n for n in sorted(points) if points[n]]
    if xs:
        ax.plot(xs, [points[n] / n if per else points[n] for n in xs], marker="o", label=label)


for points, lbl in ((replicas_ours, "site.yml"), (replicas_floor, "floor")):
    curve(ax5, points, f"{lbl}: all serving")
ax5b = ax5.twinx()
for points, lbl in ((replicas_ours, "site.yml"), (replicas_floor, "floor")):
    xs = [n for n in sorted(points) if points[n]]
    if xs:
        ax5b.plot(xs, [points[n] / n for n in xs], marker="x", linestyle=":", label=f"{lbl}: per pod")
if sizes:
    ax5.set_xticks(sorted(sizes))
ax5.set_xlabel("replicas")
ax5.set_ylabel("seconds from the StatefulSet's apply")
ax5b.set_ylabel("seconds per pod (dotted)")
ax5.set_title("Growth: replicas (apply to every pod serving its line)", fontsize=10)
ax5.legend(fontsize=8, loc="upper left")
ax5b.legend(fontsize=8, loc="lower right")

curve(ax6, apps_time, "applications: apply to all proved (s)")
curve(ax6, {n: c for n, (c, _) in clients.items()}, "nodes: client stage cold (s)")
curve(ax6, {n: wm for n, (_, wm) in clients.items()}, "nodes: client stage warm (s)")
curve(ax6, {n: v for n, v in apt_floor.items() if v is not None}, "nodes: apt floor (s)")
ax6.set_xticks(sorted({*apps_sizes, *clients}))
ax6.set_xlabel("applications / nodes")
ax6.set_ylabel("seconds (median)")
ax6.set_title("Growth: applications and nodes", fontsize=10)
ax6.legend(fontsize=8)

fig.suptitle(f"stateful.nfs benchmark on real Kubernetes {META.get('kubernetes', '')}, median of {runs} run(s)"
             f"{' (trial)' if trial else ''}", fontsize=11)
fig.tight_layout()
fig.savefig(OUT / "results.png", dpi=110)
print(f"report: wrote {OUT / 'results.md'} and {OUT / 'results.png'}", file=sys.stderr)
