"""The proofs a cluster that forbids exec keeps (statefulset_verify, method api, nfs_side): each
pod's directory on the NFS side, its marker written there and read back through NFS, the pod's
page tying the pod to it; and the OrderedReady check. Each is shown passing on what the lab
gives and failing on what it must refuse (two pods on one directory, a missing directory, a
wrong marker, pods created before the one before them was Ready)."""
from __future__ import annotations

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import markers as mk
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import verify as v
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError, VerificationError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.identity import identity_table

NS, EXPORT, HOST = "k8s-real", "/srv/nfs", "nfs1"
PODS = ["web-0", "web-1", "web-2"]
FILE = "index.html"
LINE = "congratulations {pod} for k8s"


def params(**extra):
    given = dict({"name": "web", "namespace": NS, "method": "api", "dns": False,
                  "storage_marker": {"file": FILE, "line": LINE},
                  "nfs_side": {"host": HOST, "export": EXPORT}}, **extra)
    checked = ArgumentSpecValidator(validation.VERIFY_OPTIONS).validate(given)
    assert not checked.error_messages, checked.error_messages
    return validation.validate_verify_params(checked.validated_parameters)


def pod(name, created, ready, started=None, restarts=0):
    return {"metadata": {"name": name, "namespace": NS, "uid": "u-" + name, "creationTimestamp": created,
                         "labels": {"app": "nginx"}},
            "spec": {"hostname": name, "subdomain": "web", "nodeName": "node-1",
                     "containers": [{"name": "nginx", "ports": [{"name": "web", "containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": "10.244.1." + name[-1],
                       "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready}],
                       "containerStatuses": [{"name": "nginx", "restartCount": restarts,
                                              "state": {"running": {"startedAt": started or created}}}]}}


def rollout(policy="OrderedReady"):
    """Three pods as OrderedReady makes them: each created the second after the one before is Ready."""
    return {"web-0": pod("web-0", "2026-12-06T13:00:00Z", "2026-12-06T13:00:03Z", "2026-12-06T13:00:02Z"),
            "web-1": pod("web-1", "2026-12-06T13:00:04Z", "2026-12-06T13:00:07Z", "2026-12-06T13:00:06Z"),
            "web-2": pod("web-2", "2026-12-06T13:00:08Z", "2026-12-06T13:00:11Z", "2026-12-06T13:00:10Z")}


class Cluster:
    """The API reads one proof makes, answered from dicts; pages from what each pod's directory
    holds (``disk``: NFS directory -> file text), as nginx serves its volume."""

    def __init__(self, pods, dirs, disk, policy="OrderedReady"):
        self.pods, self.dirs, self.disk = pods, dirs, disk
        self.sts = {"metadata": {"name": "web", "namespace": NS},
                    "spec": {"serviceName": "web", "replicas": len(pods), "podManagementPolicy": policy,
                             "selector": {"matchLabels": {"app": "nginx"}},
                             "volumeClaimTemplates": [{"metadata": {"name": "www"}}],
                             "template": {"spec": {"containers": [{"name": "nginx", "volumeMounts": [
                                 {"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}}},
                    "status": {"readyReplicas": len(pods)}}
        self.mounted = {}  # pod -> the directory its volume really is (default: its PV's)

    def get(self, ref):
        if ref.kind == "StatefulSet":
            return self.sts
        if ref.kind == "PersistentVolumeClaim":
            owner = ref.name[len("www-"):]
            return {"spec": {"volumeName": "pv-" + owner, "storageClassName": "k8s-real-nfs"},
                    "status": {"phase": "Bound"}}
        if ref.kind == "PersistentVolume":
            owner = ref.name[len("pv-"):]
            return {"spec": {"nfs": {"server": "192.0.2.20", "path": self.dirs[owner]}}}
        return None

    def list(self, kind, namespace, label_selector=None):
        return list(self.pods.values())

    def proxy_get(self, namespace, name, port, path):
        directory = self.mounted.get(name, self.dirs[name])
        return self.disk.get(directory + path, "").encode()


def own_dirs():
    return {p: f"{EXPORT}/{NS}-www-{p}-pv-{p}" for p in PODS}


def nfs_volume_check(volumes, disk, missing=()):
    """What stateful.nfs.nfs_volume_check does on the server: each line written into its
    directory (in order, so a shared directory keeps the last), then every file read back."""
    rows = []
    for vol in volumes:
        exists = vol["path"] not in missing
        if exists:
            disk[vol["path"] + "/" + FILE] = vol["content"]
        rows.append({"name": vol["name"], "directory": vol["directory"], "directory_exists": exists,
                     "written": exists, "nfs_content": None, "nfs_error": None})
    for vol, row in zip(volumes, rows):
        if row["directory_exists"]:
            row["nfs_content"] = disk[vol["path"] + "/" + FILE]
    return rows


def prove(cluster, p, missing=(), tamper=None):
    """The role's three steps: plan the markers, write them on the NFS side, prove."""
    planned = v.Proof(cluster, dict(p, markers_only=True), False).run()
    job = planned["nfs_volume_check"]
    assert job["host"] == HOST and job["write"] is True and job["file"] == FILE
    rows = nfs_volume_check(job["volumes"], cluster.disk, missing)
    if tamper:
        tamper(rows)
    return v.Proof(cluster, dict(p, nfs_side=dict(p["nfs_side"], volumes=rows)), False).run()


def app_check():
    return {"http_get": {"port": 80, "path": "/" + FILE, "body": "^{line}$", "status": 200}, "timeout": 0}


def test_without_exec_storage_is_proved_on_the_nfs_side_and_tied_to_each_pod_by_its_page():
    cluster = Cluster(rollout(), own_dirs(), {})
    result = prove(cluster, params(app_check=app_check()))
    storage = {c["pod"]: c for c in result["checks"] if c["check"] == "storage"}
    assert {p: c["status"] for p, c in storage.items()} == dict.fromkeys(PODS, "pass")
    assert "directory /srv/nfs/k8s-real-www-web-1-pv-web-1 exists on nfs1" in storage["web-1"]["detail"]
    assert "the pod serves that line (app check), so it mounts /srv/nfs/k8s-real-www-web-1-pv-web-1" in \
        storage["web-1"]["detail"]
    assert "storage (without exec, through NFS on nfs1): web-0, web-1, web-2" in result["proved"]
    assert "ready_order: web-0, web-1, web-2" in result["proved"]
    assert [n for n in result["not_proved"] if "storage" in n] == []
    assert [n.split(":")[0] for n in result["not_proved"]] == [f"{p} hostname" for p in PODS]


def test_without_an_app_check_reading_the_line_the_pods_tie_to_their_directory_is_said_unproved():
    result = prove(Cluster(rollout(), own_dirs(), {}), params())
    assert {c["status"] for c in result["checks"] if c["check"] == "storage"} == {"pass"}
    assert "web-2 storage: that the pod mounts /srv/nfs/k8s-real-www-web-2-pv-web-2 (no exec, and no app_check" \
           " matching {line} passed)" in result["not_proved"]


def test_two_pods_on_one_directory_fail_on_the_nfs_side():
    dirs = dict(own_dirs(), **{"web-2": own_dirs()["web-1"]})
    with pytest.raises(VerificationError) as err:
        prove(Cluster(rollout(), dirs, {}), params())
    failures = err.value.details["failures"]
    assert any(f.startswith("web-1 storage: directory /srv/nfs/k8s-real-www-web-1-pv-web-1 on nfs1 is also web-2")
               for f in failures), failures
    assert any(f.startswith("web-2 storage:") and "also web-1 (www-web-1)'s" in f for f in failures), failures


def test_a_missing_directory_fails_naming_it_and_the_host():
    with pytest.raises(VerificationError) as err:
        prove(Cluster(rollout(), own_dirs(), {}), params(), missing={own_dirs()["web-0"]})
    assert err.value.details["failures"] == [
        "web-0 storage: directory /srv/nfs/k8s-real-www-web-0-pv-web-0 does not exist on nfs1"]


def test_a_wrong_marker_read_back_through_nfs_fails():
    def other_line(rows):
        rows[1]["nfs_content"] = "congratulations web-0 for k8s"
    with pytest.raises(VerificationError) as err:
        prove(Cluster(rollout(), own_dirs(), {}), params(), tamper=other_line)
    [failure] = err.value.details["failures"]
    assert failure.startswith("web-1 storage: /srv/nfs/k8s-real-www-web-1-pv-web-1/index.html reads back"
                              " 'congratulations web-0 for k8s' through NFS on nfs1, not 'congratulations web-1 for k8s'")


def test_a_pod_serving_another_directory_fails_its_app_check_and_is_not_tied():
    cluster = Cluster(rollout(), own_dirs(), {})
    cluster.mounted["web-2"] = own_dirs()["web-0"]
    with pytest.raises(VerificationError) as err:
        prove(cluster, params(app_check=app_check()))
    result = err.value.details
    assert [f.split(":")[0] for f in result["failures"]] == ["web-2 app"]
    assert any(n.startswith("web-2 storage: that the pod mounts") for n in result["not_proved"])


def test_a_pv_outside_the_export_or_a_result_without_it_fails():
    dirs = dict(own_dirs(), **{"web-0": "/elsewhere/k8s-real-www-web-0"})
    with pytest.raises(VerificationError) as err:
        prove(Cluster(rollout(), dirs, {}), params())
    assert err.value.details["failures"] == [
        "web-0 storage: the PV's NFS directory 192.0.2.20:/elsewhere/k8s-real-www-web-0 is not under nfs_side.export"
        " /srv/nfs"]
    with pytest.raises(VerificationError) as err:
        prove(Cluster(rollout(), own_dirs(), {}), params(), tamper=lambda rows: rows.pop())
    assert err.value.details["failures"][0].startswith("web-2 storage: not checked on nfs1: nfs_side.volumes has no"
                                                      " 'web-2:www'")


def test_without_the_nfs_side_result_storage_stays_not_proved():
    p = params()
    result = v.Proof(Cluster(rollout(), own_dirs(), {}), p, False).run()
    assert {c["detail"] for c in result["checks"] if c["check"] == "storage"} == {
        "method api: no exec session; nfs_side.volumes not given (the result of stateful.nfs.nfs_volume_check)"}


def test_the_export_directory_on_the_server_may_differ_from_the_export_and_subpaths_are_kept():
    markers = [{"pod": "db-0", "template": "data", "claim": "data-db-0", "line": "x", "nfs_server": "s",
                "nfs_directory": "/exports/k8s/ns-data-db-0-pv-1/pgdata"}]
    mk.plan_nfs_volumes(markers, {"export": "/exports/k8s/", "export_directory": "/srv/disk1"})
    assert markers[0]["nfs_volume"] == {"name": "db-0:data", "path": "/exports/k8s/ns-data-db-0-pv-1/pgdata",
                                        "directory": "/srv/disk1/ns-data-db-0-pv-1/pgdata", "content": "x"}


@pytest.mark.parametrize(("given", "message"), [
    ({"nfs_side": {"host": "nfs1", "export": "srv"}}, "nfs_side.export: 'srv' must be an absolute path"),
    ({"nfs_side": {"host": "nfs1", "export": "/srv"}, "storage_marker": {"enabled": False}},
     "nfs_side: needs storage_marker.enabled: true"),
])
def test_nfs_side_input_is_refused_naming_the_option(given, message):
    checked = ArgumentSpecValidator(validation.VERIFY_OPTIONS).validate(dict({"name": "web"}, **given))
    with pytest.raises(InputError) as err:
        validation.validate_verify_params(checked.validated_parameters)
    assert str(err.value).startswith(message)


# -- OrderedReady ---------------------------------------------------------------------------------
def rows_of(pods):
    return [{"name": n, "ordinal": int(n.rsplit("-", 1)[1])} for n in sorted(pods)]


def test_ordered_ready_passes_on_an_ordered_rollout():
    pods = rollout()
    verdicts = v.ready_order(rows_of(pods), pods, "OrderedReady")
    assert {n: c["status"] for n, c in verdicts.items()} == dict.fromkeys(PODS, "pass")
    assert verdicts["web-1"]["detail"] == "created 13:00:04, once web-0 was Ready (13:00:03)"


def test_ordered_ready_fails_on_pods_created_together():
    # what Parallel makes: all created at once, each started and Ready seconds later
    pods = {n: pod(n, "2026-12-06T13:00:00Z", "2026-12-06T13:00:05Z", "2026-12-06T13:00:03Z") for n in PODS}
    verdicts = v.ready_order(rows_of(pods), pods, "OrderedReady")
    assert {n: c["status"] for n, c in verdicts.items()} == {"web-0": "pass", "web-1": "fail", "web-2": "fail"}
    assert verdicts["web-2"]["detail"].startswith("created 13:00:00, before web-1 even started (13:00:03;")
    with pytest.raises(VerificationError) as err:
        v.Proof(Cluster(pods, own_dirs(), {}), params(nfs_side=None), False).run()
    assert [f.split(":")[0] for f in err.value.details["failures"]] == ["web-1 ready_order", "web-2 ready_order"]
    assert {c["status"] for c in v.ready_order(rows_of(pods), pods, "Parallel").values()} == {"skipped"}


def test_ordered_ready_leaves_later_readiness_changes_and_recreated_pods_unjudged():
    pods = rollout()
    flapped = copy.deepcopy(pods)
    flapped["web-0"]["status"]["conditions"][0]["lastTransitionTime"] = "2026-12-06T13:30:00Z"
    assert v.ready_order(rows_of(flapped), flapped, "OrderedReady")["web-1"]["status"] == "not_proved"
    # a rolling update re-creates web-2, then web-1, then web-0: no pair is the rollout's any more
    upgraded = copy.deepcopy(pods)
    upgraded["web-0"]["metadata"]["creationTimestamp"] = "2026-12-06T14:00:00Z"
    verdict = v.ready_order(rows_of(upgraded), upgraded, "OrderedReady")["web-1"]
    assert verdict["status"] == "skipped" and verdict["detail"].startswith("web-0 was re-created (14:00:00) after web-1")


# -- with exec, the NFS side as an extra: each pod must find the line written into its directory ------
class ExecCluster(Cluster):
    """Exec runs the proof's program under the local sh, the pod's mount path standing for the
    directory the pod really mounts (``disk_root`` + that directory)."""

    def __init__(self, pods, dirs, disk_root):
        super().__init__(pods, dirs, {})
        self.root = disk_root

    def exec(self, namespace, name, command, container=None, timeout=30):
        import subprocess

        where = str(self.root) + self.mounted.get(name, self.dirs[name])
        argv = [a.replace("/usr/share/nginx/html", where) for a in command]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        said = [f"hostname\t{name}" if line.startswith("hostname\t") else line for line in done.stdout.splitlines()]
        return {"rc": done.returncode, "stdout": "\n".join(said).replace(where, "/usr/share/nginx/html"),
                "stderr": done.stderr, "error": None}


def exec_proof(cluster, p):
    planned = v.Proof(cluster, dict(p, markers_only=True), False).run()
    rows = []
    for vol in planned["nfs_volume_check"]["volumes"]:  # written on the server's disk, read back
        target = cluster.root / vol["path"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        (target / FILE).write_text(vol["content"] + "\n")
    for vol in planned["nfs_volume_check"]["volumes"]:
        rows.append({"name": vol["name"], "directory": vol["directory"], "directory_exists": True, "written": True,
                     "nfs_content": (cluster.root / vol["path"].lstrip("/") / FILE).read_text().strip(),
                     "nfs_error": None})
    return v.Proof(cluster, dict(p, nfs_side=dict(p["nfs_side"], volumes=rows)), False).run()


def test_with_exec_each_pod_finds_the_line_written_on_the_nfs_side(tmp_path):
    p = params(method="exec", dns=False)
    result = exec_proof(ExecCluster(rollout(), own_dirs(), tmp_path), p)
    storage = {c["pod"]: c for c in result["checks"] if c["check"] == "storage"}
    assert {c["status"] for c in storage.values()} == {"pass"}, storage
    assert "the line written on the NFS side" in storage["web-0"]["detail"]
    assert "storage (in the pods and through NFS on nfs1): web-0, web-1, web-2" in result["proved"]


def test_with_exec_a_pod_mounting_another_directory_fails(tmp_path):
    cluster = ExecCluster(rollout(), own_dirs(), tmp_path)
    (tmp_path / "elsewhere").mkdir()
    cluster.mounted["web-1"] = "/elsewhere"
    with pytest.raises(VerificationError) as err:
        exec_proof(cluster, params(method="exec", dns=False))
    storage = [f for f in err.value.details["failures"] if " storage:" in f]
    assert storage == ["web-1 storage: /usr/share/nginx/html/index.html held '', not the line written into its PV's"
                       " directory on nfs1: the pod does not mount /srv/nfs/k8s-real-www-web-1-pv-web-1"]


def test_the_filter_plans_the_markers_the_module_plans_from_the_statefulset_modules_identity():
    """Role statefulset plans the NFS side's markers from what stateful.nfs.statefulset returned
    with return_identity (filter nfs_side_markers, no module run): the same job as markers_only."""
    cluster = Cluster(rollout(), own_dirs(), {})
    verify = {"method": "api", "dns": False, "storage_marker": {"file": FILE, "line": LINE},
              "nfs_side": {"host": HOST, "export": EXPORT}}
    planned = v.Proof(cluster, dict(params(), markers_only=True), False).run()["nfs_volume_check"]
    job = mk.nfs_side_markers(cluster.sts, identity_table(cluster, NS, "web"), verify)
    assert job == planned
    assert [vol["content"] for vol in job["volumes"]] == [LINE.replace("{pod}", p) for p in PODS]
    # a StatefulSet that does not exist yet (check mode from scratch): nothing to write
    assert mk.nfs_side_markers(cluster.sts, {"exists": False, "pods": []}, verify)["volumes"] == []
    # a PV outside the export is left out (the proof names it)
    dirs = dict(own_dirs(), **{"web-1": "/elsewhere/web-1"})
    job = mk.nfs_side_markers(cluster.sts, identity_table(Cluster(rollout(), dirs, {}), NS, "web"), verify)
    assert [vol["name"] for vol in job["volumes"]] == ["web-0:www", "web-2:www"]


@pytest.mark.parametrize(("verify", "message"), [
    ({"storage_marker": {"file": FILE}}, "nfs_side: is required"),
    ({"nfs_side": {"host": HOST, "export": "srv"}}, "nfs_side.export: 'srv' must be an absolute path"),
    ({"nfs_side": {"host": HOST, "export": EXPORT}, "storage_marker": {"file": "a/b"}}, "storage_marker.file:"),
])
def test_the_filter_refuses_what_the_module_refuses_naming_the_option(verify, message):
    cluster = Cluster(rollout(), own_dirs(), {})
    with pytest.raises(InputError) as err:
        mk.nfs_side_markers(cluster.sts, identity_table(cluster, NS, "web"), verify)
    assert str(err.value).startswith(message)


def test_the_filter_applies_the_modules_argument_spec_first():
    cluster = Cluster(rollout(), own_dirs(), {})
    with pytest.raises(InputError) as err:
        mk.nfs_side_markers(cluster.sts, identity_table(cluster, NS, "web"), {"storage_marker": "index.html"})
    assert str(err.value).startswith("statefulset_verify: ") and "argument 'storage_marker' is of type str" in str(err.value)
