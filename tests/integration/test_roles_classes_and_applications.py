"""site.yml with a list of StorageClasses (role nfs_provisioner) and a list of applications (role
statefulset), on the lab: two classes from one inventory (one archiving deleted claims, one
deleting them under a pathPattern), each with a provisioner of its own; two applications in one
namespace (the redis example as a manifest, a one-container web server from the shorthand
options), each deployed, proved per pod with its own check, reported. A re-run changes nothing,
``statefulset_app`` acts on one application, and a list with two applications of one name is
refused before anything reaches the API."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support.cluster import IDENTITY_NAMESPACE
from tests.support.lab import LAB_DIR, NFS_HOST, dexec

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "redis" / "redis.yaml"
TAGS = "provisioner,statefulset"


def classes(lab, ns):
    return [{"storage_class_name": f"{ns}-data", "archive_on_delete": True},
            {"storage_class_name": f"{ns}-scratch", "on_delete": "delete",
             "path_pattern": "${.PVC.namespace}/${.PVC.name}"}]


def applications(lab, ns):
    service, sts = yaml.safe_load_all(EXAMPLE.read_text())
    sts["metadata"]["namespace"] = ns
    sts["spec"]["replicas"] = 2
    sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = f"{ns}-data"
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = lab.image("redis")
    web = {"name": "web", "namespace": ns, "replicas": 2, "labels": {"app": "web"}, "image": lab.nginx,
           "ports": [{"name": "web", "container_port": 80}],
           "volume_claim_templates": [{"name": "www", "storage_class_name": f"{ns}-scratch", "size": "1Mi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    return [
        {"name": "cache", "statefulset": {"definition": sts, "service": service},
         "verify": {"dns_timeout": 30, "app_check": {"exec": {"command": ["redis-cli", "info", "replication"],
                                                              "stdout": "role:(master|slave)"}}}},
        # the storage marker is the page: served over HTTP from the pod's own claim
        {"name": "web", "statefulset": web,
         "verify": {"app_check": {"http_get": {"path": "/.stateful-nfs-verify", "port": 80, "status": 200,
                                               "body": "^stateful\\.nfs .*/{pod} "}}}},
    ]


def extra(lab, ns, tmp_path, **more):
    return {"nfs_provisioner_classes": classes(lab, ns), "nfs_provisioner_namespace": ns,
            "nfs_provisioner_nfs_server": lab.nfs_server, "nfs_provisioner_nfs_path": lab.nfs_dir("classes"),
            "statefulset_applications": applications(lab, ns), "statefulset_report_dir": str(tmp_path / "reports"),
            **more}


def test_two_classes_and_two_applications_through_site_yml(lab, ns, tmp_path, player):
    # check mode from scratch: the classes planned in the run are not refused as missing, the
    # applications are not proved (their pods do not exist), and nothing is stored
    dry = player.play("site.yml", tags=TAGS, check=True, **extra(lab, ns, tmp_path))
    assert dry.rc == 0, dry.failure()
    assert lab.http("GET", f"/apis/storage.k8s.io/v1/storageclasses/{ns}-data")[0] == 404
    assert lab.items(f"/apis/apps/v1/namespaces/{ns}/statefulsets") == []
    assert not (tmp_path / "reports").exists()

    first = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert first.rc == 0, first.failure()

    # each class has a provisioner of its own (no shared name, no shared cluster-scoped RBAC)
    for sc, reclaim in ((f"{ns}-data", "Delete"), (f"{ns}-scratch", "Delete")):
        klass = lab.get(f"/apis/storage.k8s.io/v1/storageclasses/{sc}")
        assert klass["provisioner"] == f"stateful.nfs/{sc}" and klass["reclaimPolicy"] == reclaim, klass
        dep = lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{sc}-provisioner")
        assert dep["status"].get("availableReplicas") == 1
        lab.get(f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/run-{sc}-provisioner")
    # each new class proved by a claim Bound to a directory of its export, and the claim deleted again
    applied = next(iter(first.results("Apply each class's RBAC, provisioner Deployment and StorageClass").values()))
    proofs = {r["storage_class"]: r["proof"] for r in applied["results"]}
    export = lab.nfs_dir_path("classes")
    assert proofs[f"{ns}-data"]["claim"] == f"{ns}/{ns}-data-provisioner-proof", proofs
    assert all(p["nfs_server"] == lab.nfs_server and p["nfs_path"].startswith(export + "/") for p in proofs.values())
    assert lab.http("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{ns}-data-provisioner-proof")[0] == 404
    assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/{ns}-data")["parameters"]["archiveOnDelete"] == "true"
    assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/{ns}-scratch")["parameters"]["onDelete"] == "delete"

    # each application proved per pod, and reported
    for app, pods in (("cache", ["redis-0", "redis-1"]), ("web", ["web-0", "web-1"])):
        report = json.loads((tmp_path / "reports" / f"{app}-identity.json").read_text())
        assert [p["name"] for p in report["pods"]] == pods
        statuses = {(c["pod"], c["check"]): c["status"] for c in report["checks"]}
        assert set(statuses.values()) == {"pass"}, statuses
        # ready_order: with OrderedReady, each pod was created once the one before was Ready
        assert {check for _, check in statuses} == {"identity", "ready_order", "hostname", "dns", "claims", "storage",
                                                    "app"}
        assert report["exec_hostnames"] == {p: p for p in pods}
        assert (tmp_path / "reports" / f"{app}-identity.md").read_text().count("| pass |") >= 2
    # the scratch class's pathPattern: <namespace>/<claim> under the export
    web = json.loads((tmp_path / "reports" / "web-identity.json").read_text())
    assert [p["nfs_path"] for p in web["pods"]] == [f"{lab.nfs_dir_path('classes')}/{ns}/www-web-{i}" for i in (0, 1)]

    # nothing to do on a re-run
    again = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert again.rc == 0, again.failure()
    assert again.changed()["localhost"] == 0, again.changed_tasks()
    reapplied = next(iter(again.results("Apply each class's RBAC, provisioner Deployment and StorageClass").values()))
    assert not any("proof" in r for r in reapplied["results"])  # nothing changed: no claim

    # one application by name: the other one is not touched
    one = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path, statefulset_app="web"))
    assert one.rc == 0, one.failure()
    applied = [task for task in one.changed_tasks() + [t["task"]["name"] for t in one.tasks()]
               if "Apply the StatefulSet" in task]
    assert applied and all("cache" not in task for task in applied), applied

    # day 2 by application name: verify proves one application as it runs and writes nothing
    verified = player.play("playbooks/verify.yml", app="web", **extra(lab, ns, tmp_path))
    assert verified.rc == 0, verified.failure()
    assert list(verified.day2["applications"]) == ["web"]
    assert verified.day2["applications"]["web"]["proved"][0] == "identity: web-0, web-1"
    assert verified.changed()["localhost"] == 0, verified.changed_tasks()

    # found in a user's trial: an app check's port name no container declares is refused by the plan,
    # before anything is sent to the API or written (the report stays as it was)
    passed = (tmp_path / "reports" / "web-identity.json").read_text()
    misnamed = extra(lab, ns, tmp_path)
    misnamed["statefulset_applications"][1]["verify"]["app_check"]["http_get"]["port"] = "webb"
    refused = player.play("playbooks/verify.yml", app="web", **misnamed)
    assert refused.rc != 0
    assert ("statefulset_applications[1].verify.app_check.http_get.port: no container declares a port named 'webb';"
            " the containers declare web (80)") in refused.failure(), refused.failure()
    assert refused.changed_tasks() == [] and (tmp_path / "reports" / "web-identity.json").read_text() == passed

    # a failed proof (a page that never matches) is reported, replacing the passing report, then the run
    # fails in one short message: the verdicts are in the report, not dumped on the console
    failing = extra(lab, ns, tmp_path)
    app_check = failing["statefulset_applications"][1]["verify"]["app_check"]
    app_check["http_get"]["body"], app_check["timeout"] = "^never$", 1
    bad = player.play("playbooks/verify.yml", app="web", **failing)
    assert bad.rc != 0
    [(task, hosts)] = [(t["task"]["name"], t["hosts"]) for t in bad.tasks()
                       if any(r.get("failed") for r in t["hosts"].values())]
    assert task.endswith("Stop when the proof failed: web"), task
    result = hosts["localhost"]
    assert result["msg"].startswith(f"Verification of StatefulSet {ns}/web failed: web-0 app: GET :80/"), result["msg"]
    assert result["msg"].endswith("web-identity.md says which pods and checks failed.")
    assert "checks" not in result and len(json.dumps(result)) < 3000, result
    report = json.loads((tmp_path / "reports" / "web-identity.json").read_text())
    statuses = {(c["pod"], c["check"]): c["status"] for c in report["checks"]}
    assert statuses[("web-0", "app")] == statuses[("web-1", "app")] == "fail", statuses
    assert statuses[("web-0", "identity")] == "pass"
    assert [f.split(":")[0] for f in report["failures"]] == ["web-0 app", "web-1 app"], report["failures"]
    markdown = (tmp_path / "reports" / "web-identity.md").read_text()
    assert "**Verification failed** (2 failure(s))" in markdown and "## Failed" in markdown
    # and a passing run writes the passing report again
    again_verified = player.play("playbooks/verify.yml", app="web", **extra(lab, ns, tmp_path))
    assert again_verified.rc == 0, again_verified.failure()
    assert (tmp_path / "reports" / "web-identity.json").read_text() == passed

    # teardown of one application: a purge without its confirmation is refused before any change
    refused = player.play("playbooks/teardown.yml", app="web", purge=True, **extra(lab, ns, tmp_path))
    assert refused.rc != 0 and "confirm with -e confirm_purge=NAME" in refused.failure()
    assert lab.items(f"/apis/apps/v1/namespaces/{ns}/statefulsets", "app=web")
    down = player.play("playbooks/teardown.yml", app="web", **extra(lab, ns, tmp_path))
    assert down.rc == 0, down.failure()
    assert down.day2["applications"]["web"]["pvcs_kept"] == ["www-web-0", "www-web-1"]
    assert [s["metadata"]["name"] for s in lab.items(f"/apis/apps/v1/namespaces/{ns}/statefulsets")] == ["redis"]
    assert {c["metadata"]["name"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")} >= {
        "www-web-0", "www-web-1"}
    gone = player.play("playbooks/verify.yml", app="web", **extra(lab, ns, tmp_path))
    assert gone.rc != 0 and "Application web is not deployed" in gone.failure()


def test_an_application_list_with_a_name_twice_is_refused_before_the_api(lab, ns, tmp_path, player):
    apps = applications(lab, ns)
    apps[1]["name"] = "cache"
    # the whole site.yml: the lists are checked before the NFS server is touched
    run = player.play("site.yml", **dict(extra(lab, ns, tmp_path), statefulset_applications=apps,
                                         statefulset_app="nope"))
    assert run.rc != 0
    message = run.failure()
    assert "statefulset_applications[1]: application name 'cache' is also statefulset_applications[0]'s" in message
    assert "statefulset_app (-e app=NAME): 'nope' is not an application of statefulset_applications" in message
    # the plan stops the run before the NFS server's or the provisioner's first task
    assert run.changed_tasks() == []
    names = [t["task"]["name"] for t in run.tasks()]
    assert not [n for n in names if "nfs_server :" in n or "nfs_provisioner : Apply" in n], names
    assert lab.http("GET", f"/apis/storage.k8s.io/v1/storageclasses/{ns}-data")[0] == 404


def nfs_server_state():
    """What the nfs_server stage would change: the NFS server's configuration, its export list, and
    the export directory's owner and mode (not the tree below it: other tests' provisioners may
    still archive their claims' directories there)."""
    return dexec(NFS_HOST, "sh", "-c", "cat /etc/ganesha/ganesha.conf /etc/exports 2>/dev/null;"
                                       " stat -c '%n %U:%G %a' /srv/nfs").stdout


@pytest.mark.parametrize("path", ["walkthrough", "applications"])
def test_a_wrong_context_stops_site_yml_before_the_nfs_server(lab, ns, tmp_path, player, path):
    """Failure mode: a wrong kubeconfig context was found after the NFS stage had changed the server.
    Now the Kubernetes side's preflight (the deploying role's input and one read of the API) runs first,
    and the NFS server's configuration and directories are byte-identical before and after."""
    before = nfs_server_state()
    if path == "walkthrough":
        run = player.play("site.yml", k8s_statefulset_nginx_context="no-such-context")
    else:
        wrong = {"kubeconfig": str(LAB_DIR / "kubeconfig"), "context": "no-such-context"}
        run = player.play("site.yml", **extra(lab, ns, tmp_path, statefulset_k8s_auth=wrong))
    assert run.rc != 0
    assert "(context no-such-context)" in run.failure()
    names = [t["task"]["name"] for t in run.tasks()]
    assert not [n for n in names if "nfs_server :" in n or "nfs_client :" in n], names
    assert run.changed_tasks() == []
    assert nfs_server_state() == before


@pytest.mark.parametrize("mistake", ["class_nowhere", "src_mount_names_nothing"])
def test_an_application_mistake_only_the_module_sees_stops_site_yml_before_the_nfs_server(lab, ns, tmp_path, player,
                                                                                         mistake):
    """Found by a new user: a claim class that neither exists nor is in the list, and a mount in a
    src file that names nothing, were refused only after the NFS stages (and another class) ran.
    The preflight gives each application to its module in check mode first."""
    apps = applications(lab, ns)
    if mistake == "class_nowhere":
        apps[1]["statefulset"]["volume_claim_templates"][0]["storage_class_name"] = f"{ns}-nowhere"
        expected = f"StorageClass '{ns}-nowhere' does not exist"
    else:
        service, sts = apps[0]["statefulset"]["service"], apps[0]["statefulset"]["definition"]
        sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"] = "dta"
        path = tmp_path / "cache.yaml"
        path.write_text(yaml.safe_dump_all([service, sts]))
        apps[0]["statefulset"] = {"src": str(path)}
        expected = "spec.template.spec.containers[0].volumeMounts[0].name: 'dta'"
    run = player.play("site.yml", **dict(extra(lab, ns, tmp_path), statefulset_applications=apps))
    assert run.rc != 0
    assert expected in run.failure(), run.failure()
    names = [t["task"]["name"] for t in run.tasks()]
    assert not [n for n in names if "nfs_server :" in n or "nfs_client :" in n or "nfs_provisioner : Apply" in n], names
    assert run.changed_tasks() == []
    assert lab.http("GET", f"/apis/storage.k8s.io/v1/storageclasses/{ns}-data")[0] == 404


def namespace_only_identity(lab, ns, tmp_path) -> tuple[str, str]:
    """A kubeconfig for a service account that may do everything the walkthrough does in ``ns``,
    except exec into pods, and nothing cluster-wide (no namespaces, PVs or classes to read): a
    namespace tenant as clusters commonly make them. The account lives in the namespace the lab's
    audit policy records; returns (kubeconfig path, user name)."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    account = f"{ns}-tenant"
    lab.create(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts",
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}})
    lab.create(f"{rbac}/namespaces/{ns}/roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "tenant"},
        "rules": [{"apiGroups": ["", "apps"], "verbs": ["*"],
                   "resources": ["pods", "pods/log", "pods/proxy", "services", "statefulsets", "persistentvolumeclaims",
                                 "events", "configmaps"]}]})
    lab.create(f"{rbac}/namespaces/{ns}/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "tenant"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": IDENTITY_NAMESPACE}]})
    token = lab.create(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts/{account}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    path = tmp_path / "tenant.kubeconfig"
    path.write_text(yaml.safe_dump(lab.kubeconfig_for(lab.url, token["status"]["token"])))
    path.chmod(0o600)
    return str(path), f"system:serviceaccount:{IDENTITY_NAMESPACE}:{account}"


@pytest.mark.parametrize("path", ["walkthrough", "applications"])
def test_verbs_rbac_denies_stop_site_yml_before_the_nfs_server(lab, ns, tmp_path, player, path):
    """Issue 24.2: the preflight asks the API server (SelfSubjectAccessReview) whether the run's
    credentials may send what the run needs, and stops in one line naming the server, the user
    and each denied request before the NFS server is changed (byte-identical) or anything is written."""
    kubeconfig, user = namespace_only_identity(lab, ns, tmp_path)
    try:
        before = nfs_server_state()
        mark = lab.lab.audit_mark()
        if path == "walkthrough":
            run = player.play("site.yml", k8s_statefulset_nginx_kubeconfig=kubeconfig, k8s_statefulset_nginx_namespace=ns,
                              k8s_statefulset_nginx_provisioner_enabled=False)
            denied = [f"create pods/exec in namespace '{ns}' (verify_exec)"]
        else:
            auth = {"kubeconfig": kubeconfig}
            run = player.play("site.yml", **extra(lab, ns, tmp_path, statefulset_k8s_auth=auth,
                                                  nfs_provisioner_k8s_auth=auth))
            denied = ["get,create,patch clusterroles.rbac.authorization.k8s.io (provisioner)",
                      "list deployments.apps in all namespaces (provisioner)",
                      f"get,create,patch serviceaccounts in namespace '{ns}' (provisioner)"]
        assert run.rc != 0
        failure = run.failure()
        assert "may not do what this run needs" in failure, failure
        assert f"The credentials for {lab.url} as '{user}'" in failure, failure
        assert "get persistentvolumes (" in failure and "storageclasses.storage.k8s.io (" in failure, failure
        for request in denied:
            assert request in failure, failure
        assert "get nodes" not in failure  # only enriches messages: a warning
        names = [t["task"]["name"] for t in run.tasks()]
        assert not [n for n in names if "nfs_server :" in n or "nfs_client :" in n], names
        assert run.changed_tasks() == []
        assert nfs_server_state() == before
        events = [e for e in lab.lab.audit_events(mark) if e.get("user", {}).get("username") == user]
        reviews = [e for e in events if (e.get("objectRef") or {}).get("resource") == "selfsubjectaccessreviews"]
        assert len(reviews) >= 20, [e["requestURI"] for e in events]
        assert lab.lab.api_writes(mark, user=user) == []  # reviews are counted apart
    finally:
        lab.http("DELETE", f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts/{ns}-tenant")
