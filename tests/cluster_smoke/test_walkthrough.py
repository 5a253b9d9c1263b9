"""The lab cluster does what the walkthrough and the Kubernetes tutorial "StatefulSet Basics"
(kubernetes.io/docs/tutorials/stateful-application/basic-stateful-set/) show, with their own
manifests and kubectl: ordered start, stable hostname and DNS name, per-pod NFS storage served
by nginx, a deleted pod coming back with its name, claim and data, and the provisioner's
directories on the export. The tests run in file order and share one StatefulSet.
"""
from __future__ import annotations

import itertools
import json
import re
import time

import pytest

from tests.cluster_smoke.conftest import NAMESPACE, pod_ready_time
from tests.support.lab import EXPORT_DIR, NFS_HOST, NODES, Lab, dexec
from tests.support.waiting import wait_for

PODS = ("web-0", "web-1", "web-2")
SERVICE = "web"


def pods(lab: Lab) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in lab.get("pods", "-n", NAMESPACE, "-l", "app=nginx")["items"]}


def http_get_from_node(node: str, url: str) -> str:
    """GET ``url`` from a node, as the walkthrough's curl from a node does."""
    script = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    return dexec(node, "python3", "-c", script, url).stdout


def line(pod: str) -> str:
    return f"congratulations {pod} for k8s"


def run_busybox(lab: Lab, name: str, script: str) -> str:
    """Run ``script`` in a throwaway busybox pod (the walkthrough's nslookup pod) and return its
    output."""
    lab.kubectl("run", name, "-n", NAMESPACE, "--image", lab.images["busybox"], "--image-pull-policy=IfNotPresent",
                "--restart=Never", "--command", "--", "sh", "-c", script)
    try:
        wait_for(f"pod {name} to finish", lambda: lab.get("pod", name, "-n", NAMESPACE)["status"].get("phase")
                 in ("Succeeded", "Failed"), timeout=120, interval=1)
        return lab.kubectl("logs", "-n", NAMESPACE, name).stdout
    finally:
        lab.kubectl("delete", "pod", name, "-n", NAMESPACE, "--ignore-not-found", "--wait=true")


def test_pods_start_in_ordinal_order(lab: Lab, walkthrough):
    """OrderedReady: web-N is created only after web-(N-1) is Running and Ready."""
    current = pods(lab)
    assert sorted(current) == list(PODS)
    for before, after in itertools.pairwise(PODS):
        ready_at = pod_ready_time(current[before])
        created_at = current[after]["metadata"]["creationTimestamp"]
        assert created_at >= ready_at, f"{after} was created at {created_at}, before {before} was Ready at {ready_at}"
    nodes = {p["spec"]["nodeName"] for p in current.values()}
    assert nodes <= set(NODES), nodes


def test_hostname_is_the_pod_name(lab: Lab, walkthrough):
    for pod in PODS:
        assert lab.kubectl("exec", "-n", NAMESPACE, pod, "--", "hostname").stdout.strip() == pod


def test_claims_bound_to_provisioned_directories(lab: Lab, walkthrough):
    """Each claim nginx-pvc-web-N is Bound to its own PV, whose NFS directory the provisioner
    created on the export as <namespace>-<pvc>-<pv>."""
    claims = {c["metadata"]["name"]: c for c in lab.get("pvc", "-n", NAMESPACE)["items"]}
    assert sorted(claims) == [f"nginx-pvc-{p}" for p in PODS]
    listing = set(dexec(NFS_HOST, "ls", "-1", EXPORT_DIR).stdout.split())
    for name, claim in claims.items():
        assert claim["status"]["phase"] == "Bound", claim["status"]
        pv = lab.get("pv", claim["spec"]["volumeName"])
        directory = f"{NAMESPACE}-{name}-{pv['metadata']['name']}"
        assert pv["spec"]["nfs"]["path"] == f"{walkthrough['path']}/{directory}"
        assert pv["spec"]["nfs"]["server"] == walkthrough["server"]
        assert directory in listing, f"{directory} not on the export: {sorted(listing)}"


def test_each_pod_serves_its_own_line_over_http(lab: Lab, walkthrough):
    """Write each pod's line through exec into its NFS volume, then GET each pod IP from a node
    (as the walkthrough's curl): nginx serves the line, which is on the NFS server too."""
    for pod in PODS:
        lab.kubectl("exec", "-n", NAMESPACE, pod, "--", "sh", "-c",
                    f"echo '{line(pod)}' > /usr/share/nginx/html/index.html")
    current = pods(lab)
    for pod in PODS:
        ip = current[pod]["status"]["podIP"]
        body = http_get_from_node(NODES[0], f"http://{ip}/")
        assert body.strip() == line(pod), f"GET http://{ip}/ ({pod}) returned {body!r}"
        pv = lab.get("pvc", f"nginx-pvc-{pod}", "-n", NAMESPACE)["spec"]["volumeName"]
        on_server = dexec(NFS_HOST, "sh", "-c", f"cat {EXPORT_DIR}/{NAMESPACE}-nginx-pvc-{pod}-{pv}/index.html").stdout
        assert on_server.strip() == line(pod)


def test_dns_names_resolve_to_pod_ips(lab: Lab, walkthrough):
    """From a busybox pod: web-N.web.<namespace>.svc.cluster.local is web-N's IP and the
    headless Service's name has one record per pod."""
    names = [f"{p}.{SERVICE}.{NAMESPACE}.svc.cluster.local" for p in PODS]
    service = f"{SERVICE}.{NAMESPACE}.svc.cluster.local"
    script = "; ".join(f"echo \"== {n}\"; nslookup {n}" for n in [*names, service])
    output = run_busybox(lab, "dns-check", script)
    answers: dict[str, set[str]] = {}
    current_name = None
    seen_name = False
    for raw in output.splitlines():
        text = raw.strip()
        if text.startswith("== "):
            current_name, seen_name = text[3:], False
            answers[current_name] = set()
        elif text.startswith("Name:"):
            seen_name = True
        elif seen_name and text.startswith("Address") and current_name:
            answers[current_name].add(text.split(":", 1)[1].split()[0])
    ips = {p: pods(lab)[p]["status"]["podIP"] for p in PODS}
    for pod, name in zip(PODS, names):
        assert answers.get(name) == {ips[pod]}, f"{name}: {answers.get(name)} (output: {output})"
    assert answers.get(service) == set(ips.values()), output


def test_deleted_pod_returns_with_name_claim_and_content(lab: Lab, walkthrough):
    before = pods(lab)["web-1"]
    lab.kubectl("delete", "pod", "web-1", "-n", NAMESPACE, "--wait=true", "--timeout=120s")

    def back():
        pod = pods(lab).get("web-1")
        ready = pod and pod["metadata"]["uid"] != before["metadata"]["uid"] and any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
        return pod if ready else None
    after = wait_for("web-1 to come back Ready", back, timeout=180, interval=1)
    assert after["metadata"]["name"] == "web-1"
    claim = [v["persistentVolumeClaim"]["claimName"] for v in after["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert claim == ["nginx-pvc-web-1"]
    assert after["status"]["podIP"] != before["status"]["podIP"] or after["spec"]["nodeName"] != before["spec"]["nodeName"], \
        "expected a new pod IP (or another node)"
    assert lab.kubectl("exec", "-n", NAMESPACE, "web-1", "--", "hostname").stdout.strip() == "web-1"
    body = http_get_from_node(NODES[1], f"http://{after['status']['podIP']}/")
    assert body.strip() == line("web-1")


def test_volumes_outlive_a_kubelet_restart(lab: Lab, walkthrough):
    """kubelet's nfs volume mounts without a systemd scope; the lab helper's FUSE daemon must
    not live in kubelet.service's cgroup, or stopping kubelet unmounts every pod's volume."""
    node = pods(lab)["web-0"]["spec"]["nodeName"]
    dexec(node, "systemctl", "restart", "kubelet")

    def served():
        read = lab.kubectl("exec", "-n", NAMESPACE, "web-0", "--", "cat", "/usr/share/nginx/html/index.html",
                           check=False)
        return read if read.returncode == 0 else None
    read = wait_for(f"kubectl exec into web-0 after kubelet restarted on {node}", served, timeout=90, interval=2)
    assert read.stdout.strip() == line("web-0")


def test_deleted_claim_is_archived_by_the_provisioner(lab: Lab, walkthrough):
    """archiveOnDelete "true": scale to 2, delete the freed claim, and its directory becomes
    archived-<directory> on the export."""
    pv = lab.get("pvc", "nginx-pvc-web-2", "-n", NAMESPACE)["spec"]["volumeName"]
    directory = f"{NAMESPACE}-nginx-pvc-web-2-{pv}"
    lab.kubectl("scale", "statefulset", "web", "-n", NAMESPACE, "--replicas=2")
    wait_for("web-2 to be gone", lambda: "web-2" not in pods(lab), timeout=120, interval=1)
    lab.kubectl("delete", "pvc", "nginx-pvc-web-2", "-n", NAMESPACE, "--wait=true", "--timeout=120s")

    def archived():
        listing = set(dexec(NFS_HOST, "ls", "-1", EXPORT_DIR).stdout.split())
        return f"archived-{directory}" in listing and directory not in listing
    wait_for(f"{directory} to be archived", archived, timeout=120, interval=1)
    kept = dexec(NFS_HOST, "cat", f"{EXPORT_DIR}/archived-{directory}/index.html").stdout
    assert kept.strip() == line("web-2")
    wait_for(f"PV {pv} to be deleted", lambda: lab.kubectl("get", "pv", pv, check=False).returncode != 0, timeout=60)


@pytest.mark.parametrize("node", NODES)
def test_node_mounts_go_through_the_lab_helper_as_the_caller(lab: Lab, walkthrough, node: str):
    """The lab's mount.nfs (FUSE) acts with the caller's uid: a uid-1000 process cannot write
    into the export's root-owned 0755 top directory, root can (no_root_squash)."""
    server, path = walkthrough["server"], walkthrough["path"]
    target = f"/tmp/smoke-{int(time.time() * 1000)}"
    dexec(node, "mkdir", "-p", target)
    try:
        dexec(node, "mount", "-t", "nfs", f"{server}:{path}", target, timeout=60)
        mounts = dexec(node, "cat", "/proc/self/mountinfo").stdout
        assert f" {target} " in mounts and "fuse.nfs" in mounts
        journal = dexec(node, "journalctl", "-t", "lab-mount.nfs", "-n", "20", "--no-pager", "-o", "cat").stdout
        daemon = re.findall(rf"mounted on {re.escape(target)} \(daemon pid (\d+)\)", journal)
        assert daemon, journal
        cgroup = dexec(node, "cat", f"/proc/{daemon[-1]}/cgroup").stdout
        assert re.search(r"/system\.slice/run-[^/]+\.scope$", cgroup, re.MULTILINE), cgroup
        denied = dexec(node, "setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "sh", "-c",
                       f"echo x > {target}/uid-1000-was-here", check=False)
        assert denied.returncode != 0 and "ermission denied" in denied.stderr, denied
        dexec(node, "sh", "-c", f"echo root > {target}/.smoke-{node} && cat {target}/.smoke-{node} && rm {target}/.smoke-{node}")
    finally:
        dexec(node, "umount", target, check=False)
        dexec(node, "rmdir", target, check=False)
    assert f" {target} " not in dexec(node, "cat", "/proc/self/mountinfo").stdout
    journal = dexec(node, "journalctl", "-t", "lab-mount.nfs", "-n", "20", "--no-pager", "-o", "cat").stdout
    assert f"mount {server}:{path} on {target}" in journal, journal


def test_cluster_reports_a_real_release(lab: Lab):
    version = json.loads(lab.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == lab.images["kubernetes_version"]
    nodes = lab.get("nodes")["items"]
    kubelets = {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}
    assert kubelets == {n: lab.images["kubernetes_version"] for n in NODES}, kubelets
