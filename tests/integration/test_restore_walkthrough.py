"""The walkthrough's StatefulSet by name in the data lifecycle (issue 22: "with no application list in
the inventory, app=web is the walkthrough's"): an inventory without statefulset_applications deploys
web through role k8s_statefulset_nginx (its variables renamed into the test's namespace, class and
export); each pod writes its own file; teardown.yml -e purge=true archives the claims; restore.yml
-e app=web gives each ordinal its archive back before site.yml deploys again; each pod then serves its
own old file, and a second restore.yml proves it and changes nothing. About 2 minutes."""
from __future__ import annotations

import uuid

import pytest

from tests.integration.test_restore import bound_directories, checksums, remove_restored
from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

TAGS = "provisioner,statefulset"
CLAIMS = ("nginx-pvc-web-0", "nginx-pvc-web-1")


def walkthrough(lab, ns):
    """The walkthrough's variables, renamed into the test's namespace, class and export (no application list)."""
    return {"k8s_statefulset_nginx_namespace": ns, "k8s_statefulset_nginx_replicas": 2,
            "k8s_statefulset_nginx_storage_class": f"managed-nfs-{ns}",
            "k8s_statefulset_nginx_provisioner_name": f"example.com/{ns}",
            "k8s_statefulset_nginx_nfs_path": lab.nfs_dir("walkthrough"),
            "k8s_statefulset_nginx_archive_on_delete": True}


def test_the_walkthrough_is_restored_by_its_name(lab, ns, player):
    export = lab.nfs_dir_path("walkthrough")
    first = player.play("site.yml", tags=TAGS, **walkthrough(lab, ns))
    assert first.rc == 0, first.failure()
    token = uuid.uuid4().hex[:8]
    for i in (0, 1):
        lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "sh", "-c",
                        f"echo 'web-{i} {token}' > /usr/share/nginx/html/owner.txt")
    before = {claim: checksums(lab, d) for claim, d in bound_directories(lab, ns).items()}
    assert sorted(before) == list(CLAIMS) and all("owner.txt" in s for s in before.values()), before
    restored_pvs = []
    try:
        # no app: the only application, the walkthrough's web; purge names it
        down = player.play("playbooks/teardown.yml", purge=True, confirm_purge="web", **walkthrough(lab, ns))
        assert down.rc == 0, down.failure()
        wait_for("the provisioner to archive both directories", lambda: dexec(
            NFS_HOST, "sh", "-c", f"ls {export} | grep -c '^archived-{ns}-nginx-pvc-web-' || true").stdout.strip() == "2",
            timeout=60, interval=1)

        done = player.play("playbooks/restore.yml", app="web", **walkthrough(lab, ns))
        assert done.rc == 0, done.failure()
        assert done.day2["restored"] == list(CLAIMS), done.day2
        restored_pvs = [row["pv"] for row in done.day2["claims"]]

        deployed = player.play("site.yml", tags=TAGS, **walkthrough(lab, ns))
        assert deployed.rc == 0, deployed.failure()
        for i in (0, 1):
            out = lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
            assert out == f"web-{i} {token}\n", (i, out)
        after = {claim: checksums(lab, d) for claim, d in bound_directories(lab, ns).items()}
        assert after == before
        proof = player.play("playbooks/restore.yml", app="web", **walkthrough(lab, ns))
        assert proof.rc == 0, proof.failure()
        assert proof.changed_tasks() == [] and proof.day2["proof"].startswith("proved"), proof.changed_tasks()
    finally:
        remove_restored(lab, ns, restored_pvs, claims=CLAIMS)
