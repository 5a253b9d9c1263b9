"""NFS-Ganesha stopped while pods run, then started; a volume's directory re-created under a
running pod. What the pods see, and what the role's verification (playbooks/verify.yml) says:
the outage and the stale file handle are reported, never hidden, and the way back converges.

Lab note: the pods' NFS volumes go through the lab's FUSE mount helper (tests/lab/mount-nfs/),
which gives up on an operation after its retries (EIO) where a kernel "hard" mount blocks until
the server returns, and which mounts again after a lost connection (so a server restarted with
another Export_Id would not show stale handles there, where the kernel's would): the stale
handle is shown with a re-created directory, stale for both. A pod's read is bounded by
`timeout` either way.
"""
from __future__ import annotations

import re
import subprocess

from conftest import TEMPLATE, NAMESPACE, Lab, claims, core, dexec, ganesha, names, pods, ready, remove, wait_for

STS = "outage"
PODS = [f"{STS}-{i}" for i in range(2)]
VARS = names(STS, k8s_statefulset_nginx_replicas=2)


def pod_read(pod: str, seconds: int = 10) -> subprocess.CompletedProcess:
    """What a process in the pod sees when it reads its index file (bounded by ``timeout``)."""
    return Lab.require().kubectl("exec", "-n", NAMESPACE, pod, "--", "timeout", str(seconds), "cat",
                                 "/usr/share/nginx/html/index.html", check=False, timeout=seconds + 60)


def test_server_down_then_up_is_reported_then_converges(play, api, nfs_name, node_name):
    try:
        run = play("site.yml", tags="statefulset,verify,report", **VARS)
        assert run.rc == 0, run.failure()
        assert all(pod_read(p).returncode == 0 for p in PODS)

        ganesha(nfs_name, node_name, "stop")
        try:
            # What the pods see: their reads do not complete while the server is down.
            seen = {p: pod_read(p, seconds=8) for p in PODS}
            for pod, result in seen.items():
                assert result.returncode != 0, f"{pod} read its volume with the NFS server stopped: {result.stdout}"
            # The verification says so, naming the NFS problem; it does not pass on a dead export.
            down = play("playbooks/verify.yml", **VARS)
            assert down.rc != 0, "verify.yml passed with the NFS server stopped"
            assert re.search(r"nfs|NFS|index\.html|Input/output|timed out|HTTP", down.failure()), down.failure()
        finally:
            ganesha(nfs_name, node_name, "start")

        # Back: the same handles are valid (the role keeps each export's Export_Id), so the pods
        # read their volumes again without being recreated, and verify passes.
        uids = {n: p.metadata.uid for n, p in pods(api, STS).items()}
        wait_for("the pods to read their volumes again", lambda: all(pod_read(p).returncode == 0 for p in PODS),
                 timeout=240, interval=5)
        up = play("playbooks/verify.yml", **VARS)
        assert up.rc == 0, up.failure()
        assert {n: p.metadata.uid for n, p in pods(api, STS).items()} == uids
    finally:
        remove(api, STS)


def test_recreated_volume_directory_gives_a_stale_handle_that_verify_reports(play, api, nfs_name, node_name):
    """A volume's directory deleted and created again on the server (as a restore from backup
    does) while its pod runs: the pod's mount holds the old directory's file handle, which the
    server no longer knows (ESTALE). verify.yml names the pod and the way out; deleting the pod
    (kubelet mounts the directory again) converges."""
    try:
        run = play("site.yml", tags="statefulset,verify,report", **VARS)
        assert run.rc == 0, run.failure()
        pv = core(api).read_persistent_volume(claims(api, STS)[f"{TEMPLATE}-{PODS[1]}"].spec.volume_name)
        directory = pv.spec.nfs.path
        dexec(nfs_name, "sh", "-c", f"rm -rf '{directory}' && mkdir -m 0777 '{directory}'")
        # NFS-Ganesha keeps serving a deleted directory through the fds it caches (kernel nfsd
        # does not); its restart drops them, and the old handle is then stale, as with nfsd.
        ganesha(nfs_name, node_name, "restart")

        stale = pod_read(PODS[1], seconds=20)
        assert stale.returncode != 0 and "Stale file handle" in stale.stderr, (stale.returncode, stale.stderr)
        assert pod_read(PODS[0]).returncode == 0, "the other pod's volume was not touched"

        reported = play("playbooks/verify.yml", **VARS)
        assert reported.rc != 0, "verify.yml passed with a stale file handle"
        message = reported.failure()
        assert f"Stale NFS file handle in {PODS[1]}" in message, message
        assert PODS[0] not in message.split("Stale NFS file handle in", 1)[1].split(":", 1)[0], message
        assert "delete those pods" in message, message

        # The way out the message gives: delete the pod; kubelet mounts the directory again.
        uid = pods(api, STS)[PODS[1]].metadata.uid
        core(api).delete_namespaced_pod(PODS[1], NAMESPACE)
        wait_for(f"{PODS[1]} to come back ready", lambda: (p := pods(api, STS).get(PODS[1])) is not None
                 and p.metadata.uid != uid and ready(p), timeout=180, interval=2)
        after = play("playbooks/verify.yml", **VARS)
        assert after.rc == 0, after.failure()
        assert dexec(nfs_name, "cat", f"{directory}/index.html").decode().strip() == f"congratulations {PODS[1]} for k8s"
    finally:
        remove(api, STS)
