"""playbooks/teardown.yml on the walkthrough's application (web; role statefulset's entry point teardown):
orphan (the pods and the headless Service left, the pods re-adopted by site.yml) and background (the
pods gone, the claims and the data kept and rebound)."""
from __future__ import annotations

import pytest
from conftest import nfs_cat, pods_by_name, pvc_uids

STATE: dict = {}


@pytest.fixture(scope="module")
def site_vars(images) -> dict:
    """The image upgrade.yml rolled out: site.yml is re-run with it (as a user records the
    upgrade in the inventory), else the re-run would roll the pods back."""
    return {"k8s_statefulset_nginx_image": images["nginx_upgrade"]}


def _read(read, *args):
    """The object ``read(*args)`` returns, or None when the API answers 404."""
    from kubernetes.client.exceptions import ApiException

    try:
        return read(*args)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _sts(api):
    import kubernetes.client as k

    return _read(k.AppsV1Api(api).read_namespaced_stateful_set, "web", "default")


def _service(api):
    import kubernetes.client as k

    return _read(k.CoreV1Api(api).read_namespaced_service, "web", "default")


def test_orphan_keeps_pods_running(play, api):
    pods = {n: p.metadata.uid for n, p in pods_by_name(api).items()}
    claims = pvc_uids(api)
    run = play("playbooks/teardown.yml", cascade="orphan")
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["application"] == "web"
    assert r["cascade"] == "orphan" and r["service_deleted"] is False
    assert r["pods_after"] == pods  # proved by the module: the same pods, running, owned by nothing
    assert _sts(api) is None
    assert _service(api) is not None, "the orphans' headless Service was deleted: their DNS names went with it"
    assert r["pvcs_kept"] == sorted(claims) and r["pvcs_deleted"] == []
    assert [v["claim"] for v in r["volumes_after"]] == [v["claim"] for v in r["volumes_before"]] == sorted(claims)
    after = pods_by_name(api)
    assert {n: p.metadata.uid for n, p in after.items()} == pods
    assert all(not p.metadata.owner_references for p in after.values())
    assert all(p.status.phase == "Running" for p in after.values())
    assert pvc_uids(api) == claims
    STATE["orphaned"] = pods


def test_site_rerun_adopts_the_orphans(play, api, site_vars):
    if "orphaned" not in STATE:
        pytest.skip("orphan teardown failed")
    run = play("site.yml", **site_vars)
    assert run.rc == 0, run.failure()
    sts = _sts(api)
    assert sts is not None
    after = pods_by_name(api)
    assert {n: p.metadata.uid for n, p in after.items()} == STATE["orphaned"], "pods were recreated, not adopted"
    for pod in after.values():
        assert [(o.kind, o.uid) for o in pod.metadata.owner_references] == [("StatefulSet", sts.metadata.uid)]


def test_background_deletes_pods_keeps_pvcs_and_data(play, api, nfs_host):
    claims = pvc_uids(api)
    run = play("playbooks/teardown.yml", cascade="background")
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["pods_after"] == {} and r["service_deleted"] is True
    assert r["pods_deleted"] == ["web-0", "web-1", "web-2"]  # each waited for until gone
    assert _sts(api) is None and pods_by_name(api) == {} and _service(api) is None
    assert pvc_uids(api) == claims
    assert r["pvcs_kept"] == sorted(claims) and r["pvcs_deleted"] == []
    # the claims still bound to the same volumes, each directory below the provisioner's export, on the server
    volumes = {v["claim"]: v for v in r["volumes_after"]}
    assert r["volumes_after"] == r["volumes_before"] and sorted(volumes) == sorted(claims)
    assert sorted(r["nfs_dirs_present"]) == sorted(v["directory"] for v in volumes.values())
    # Leave a marker in every volume's directory ON THE SERVER; the re-run must serve it.
    for pvc, volume in volumes.items():
        assert volume["directory"].startswith(volume["share"].rstrip("/") + "/"), volume
        directory = nfs_host.file(volume["directory"])
        assert directory.is_directory, volume["directory"]
        nfs_host.check_output(f"echo 'written before teardown: {pvc}' > {volume['directory']}/marker.txt")
    STATE["volumes"] = volumes
    STATE["claims"] = claims


def test_site_rerun_rebinds_the_same_pvcs_and_data(play, api, nfs_host, site_vars):
    if "volumes" not in STATE:
        pytest.skip("background teardown failed")
    run = play("site.yml", **site_vars)
    assert run.rc == 0, run.failure()
    assert sorted(pods_by_name(api)) == ["web-0", "web-1", "web-2"]
    assert pvc_uids(api) == STATE["claims"]
    verify = play("playbooks/verify.yml")
    assert verify.rc == 0, verify.failure()
    for row in verify.day2["identity"]:
        volume = STATE["volumes"][row["pvc"]]
        assert row["pv"] == volume["pv"] and row["nfs_path"] == volume["directory"]
        assert nfs_cat(nfs_host, f"{row['nfs_path']}/marker.txt").strip() == f"written before teardown: {row['pvc']}"
        assert nfs_cat(nfs_host, f"{row['nfs_path']}/index.html").strip() == f"congratulations {row['name']} for k8s"
