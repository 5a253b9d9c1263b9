"""site.yml --check --diff before a first deployment (issue 24, point 3): with the walkthrough's
variables renamed (namespace, StatefulSet, class, provisioner name), check mode completes, shows
what it would create, counts the class the run plans as present, says what it did not prove, and
creates nothing (the API server's audit log: no write by the lab's admin but dry runs)."""
from __future__ import annotations


def test_walkthrough_check_mode_from_scratch_with_new_names(lab, ns, player):
    new = f"{ns}-new"  # a namespace that does not exist
    mark = lab.lab.audit_mark()
    run = player.play("site.yml", check=True, k8s_statefulset_nginx_namespace=new, k8s_statefulset_nginx_name="chk",
                      k8s_statefulset_nginx_storage_class=f"managed-nfs-{ns}",
                      k8s_statefulset_nginx_provisioner_name=f"example.com/{ns}")
    assert run.rc == 0, run.failure()
    # role k8s_statefulset_nginx maps onto role statefulset: its application, named as the StatefulSet
    said = " ".join(str(r.get("msg")) for r in run.results("Say what was proved: chk").values())
    assert f"Application chk ({new}/chk): not verified: check mode, the StatefulSet would change" in said, said
    applied = next(iter(run.results("Apply the StatefulSet (and its headless Service unless create_service is false), wait for the rollout: chk").values()))
    assert applied["changed"] is True
    assert [(o["kind"], o["action"]) for o in applied["objects"]][-1] == ("StatefulSet", "create")
    # the claims a run would make, one per pod chk-0..2
    assert applied["pvc_names"] == [f"nginx-pvc-chk-{i}" for i in range(3)], applied["pvc_names"]
    writes = [w for w in lab.lab.api_writes(mark) if "dryRun=All" not in w]
    assert writes == [], writes
    assert lab.http("GET", f"/api/v1/namespaces/{new}")[0] == 404
    assert lab.http("GET", f"/apis/storage.k8s.io/v1/storageclasses/managed-nfs-{ns}")[0] == 404
