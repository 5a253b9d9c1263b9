"""redis as a non-root user on an export that squashes root (examples/redis/README.md, "Storage").

The scenario gives redis' class apps-data the NFS server's second export, /srv/nfs/apps-squash
(group_vars/nfs_server/10-applications.yml): root_squash for the nodes, the directory owned by the anonymous
user 65534 with mode 0755, which the nfs_provisioner role proved writable from a node before it
deployed the class. What is shown here, on the files as the NFS server holds them:

- the export squashes root: root in a pod (an inline nfs volume, mounted by kubelet as a claim
  is) makes a file owned by 65534, cannot make it root's with chown, and may not write in
  redis' directory; the same pod on the lab's other export (no_root_squash) makes a file owned
  by 0;
- each claim's directory is as the provisioner made it under root_squash: mode 0777, owned by
  65534 (the provisioner runs as root, so the server makes its directories the anonymous user's);
- redis (uid 100, gid 101, no fsGroup) writes its append-only files there as itself, and a key
  it acknowledged is in them; after its pod is deleted and made again it loads the key from
  them, and the files are still its own.
"""
from __future__ import annotations

import json
import uuid

from conftest import CACHE, Lab, claim_dir, pod, recreated, redis, replication, wait_for

SQUASHED, PLAIN = "/srv/nfs/apps-squash", "/srv/nfs"  # the two exports (group_vars/nfs_server/10-applications.yml)
ANONYMOUS = (65534, 65534)  # what root_squash maps root to (no anonuid/anongid given)
REDIS_USER = (100, 101)  # Debian's redis user in the lab's image (tests/lab/pod-images/redis.Dockerfile)
MEMBERS = ["redis-0", "redis-1", "redis-2"]
CHECKER = "apps-root-check"


def owner(nfs_host, path: str) -> tuple[int, int]:
    f = nfs_host.file(path)
    return f.uid, f.gid


def root_pod(lab: Lab, server: str) -> None:
    """A pod running as root with both exports as inline nfs volumes, Ready (bounded)."""
    manifest = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": CHECKER, "namespace": CACHE},
        "spec": {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "securityContext": {"runAsUser": 0, "runAsGroup": 0},
            "containers": [{"name": "root", "image": lab.images["busybox"], "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "600"],
                            "volumeMounts": [{"name": "squashed", "mountPath": "/squashed"},
                                             {"name": "plain", "mountPath": "/plain"}]}],
            "volumes": [{"name": "squashed", "nfs": {"server": server, "path": SQUASHED}},
                        {"name": "plain", "nfs": {"server": server, "path": PLAIN}}]}}
    lab.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    lab.kubectl("wait", "-n", CACHE, "--for=condition=Ready", f"pod/{CHECKER}", "--timeout=90s", timeout=120)


def as_root(lab: Lab, script: str, *args: str):
    return lab.kubectl("exec", "-n", CACHE, CHECKER, "--", "sh", "-c", script, "check", *args, check=False)


def test_root_in_a_pod_is_the_anonymous_user_on_the_squashed_export(lab, nfs_host):
    volume = lab.get("pv", lab.get("pvc", "-n", CACHE, "data-redis-0")["spec"]["volumeName"])["spec"]["nfs"]
    assert volume["path"].startswith(SQUASHED + "/"), volume
    name = f"apps-root-check-{uuid.uuid4().hex[:8]}"
    aof_dir = f"{volume['path'][len(SQUASHED):]}/appendonlydir"
    root_pod(lab, volume["server"])
    try:
        made = as_root(lab, 'id -u && touch "/squashed/$1" "/plain/$1" && stat -c %u:%g "/squashed/$1" "/plain/$1"', name)
        assert made.returncode == 0, made.stderr
        assert made.stdout.split() == ["0", "65534:65534", "0:0"], made.stdout  # as the pod sees them
        # on the NFS server's disk: root's file is the anonymous user's on the squashed export only
        assert owner(nfs_host, f"{SQUASHED}/{name}") == ANONYMOUS
        assert owner(nfs_host, f"{PLAIN}/{name}") == (0, 0)
        # squashed root cannot make its file root's with chown either (the lab's NFS-Ganesha answers
        # the chown without an error and leaves the owner as it is), nor write in redis' own
        # directory (uid 100's, mode 0755)
        chown = as_root(lab, 'chown 0:0 "/squashed/$1"', name)
        assert owner(nfs_host, f"{SQUASHED}/{name}") == ANONYMOUS, (chown.returncode, chown.stderr)
        assert owner(nfs_host, f"{SQUASHED}{aof_dir}") == REDIS_USER
        intrude = as_root(lab, 'touch "/squashed$1/$2"', aof_dir, name)
        assert intrude.returncode != 0 and "denied" in intrude.stderr.lower(), (intrude.stdout, intrude.stderr)
        assert not nfs_host.file(f"{SQUASHED}{aof_dir}/{name}").exists
    finally:
        lab.kubectl("delete", "pod", "-n", CACHE, CHECKER, "--wait=false", "--ignore-not-found", check=False)
        nfs_host.run(f"rm -f {SQUASHED}/{name} {PLAIN}/{name}")


def test_claims_directories_are_the_provisioners_and_redis_files_its_own(nfs_host):
    """The export's directory is as nfs_server made it (65534, 0755); each claim's directory as the
    provisioner made it through the squashed mount (65534, 0777); redis' files are uid 100's."""
    top = nfs_host.file(SQUASHED)
    assert (top.uid, top.gid, top.mode) == (*ANONYMOUS, 0o755), top.path
    for member in MEMBERS:
        directory = nfs_host.file(claim_dir(CACHE, f"data-{member}"))
        assert directory.path.startswith(SQUASHED + "/"), directory.path
        assert (directory.uid, directory.gid, directory.mode) == (*ANONYMOUS, 0o777), (member, directory.path)
        aof = f"{directory.path}/appendonlydir"
        files = nfs_host.check_output(f"ls -A {aof}").split()
        assert any(f.endswith(".incr.aof") for f in files), (member, files)
        assert {owner(nfs_host, f"{aof}/{f}") for f in ["", *files]} == {REDIS_USER}, (member, files)


def test_redis_writes_its_append_only_file_there_and_reloads_it_after_a_restart(lab, nfs_host):
    key, value = "rootsquash:check", uuid.uuid4().hex
    assert redis(CACHE, "redis-0", "set", key, value) == "OK"
    aof = f"{claim_dir(CACHE, 'data-redis-0')}/appendonlydir"

    def on_server() -> bytes:
        names = nfs_host.check_output(f"ls {aof}").split()
        return b"".join(nfs_host.file(f"{aof}/{n}").content for n in names if n.endswith(".aof"))
    assert value.encode() in on_server()  # appendfsync always: on the NFS server before the OK

    old = pod(CACHE, "redis-0")["metadata"]["uid"]
    lab.kubectl("delete", "pod", "-n", CACHE, "redis-0", "--wait=true", timeout=120)
    wait_for("redis-0 back and Ready", lambda: recreated(CACHE, "redis-0", old), timeout=120, interval=1)
    assert redis(CACHE, "redis-0", "get", key) == value  # loaded from its AOF on the squashed export
    names = nfs_host.check_output(f"ls -A {aof}").split()
    assert {owner(nfs_host, f"{aof}/{n}") for n in ["", *names]} == {REDIS_USER}, names
    wait_for("both replicas back on redis-0", lambda: replication("redis-0").get("connected_slaves") == "2",
             timeout=90, interval=1)
