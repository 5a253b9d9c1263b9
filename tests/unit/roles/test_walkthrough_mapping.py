"""Role k8s_statefulset_nginx (deprecated) maps its variables onto roles nfs_provisioner and
statefulset (filter k8s_statefulset_nginx_mapping). An upgrade must never recreate what a 0.4
deployment has: the objects the mapped entries build, through the tasks of the two roles, are
field for field those the role's own tasks built (a frozen copy in tests/fixtures), for the
defaults and for molecule/k8s_real's renamed variant."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.stateful.nfs.plugins.filter.k8s_statefulset_nginx_mapping import FilterModule
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import lists, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.walkthrough import walkthrough_mapping

ROOT = Path(__file__).resolve().parents[3]
FROZEN = ROOT / "tests" / "fixtures" / "k8s_statefulset_nginx_0_4"
NFS = {"nfs_server": "192.0.2.20", "nfs_path": "/srv/nfs/k8s"}
VARIANTS = {"defaults": {}, "variant": yaml.safe_load((ROOT / "molecule/k8s_real/vars/variant.yml").read_text())}


def _trust(obj):
    if isinstance(obj, str):
        return trust_as_template(obj)
    if isinstance(obj, dict):
        return {k: _trust(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_trust(v) for v in obj]
    return obj


def _render(obj, variables):
    return Templar(loader=DataLoader(), variables=_trust(variables)).template(_trust(obj))


def _role_vars(variant):
    """The role's variables as a run sees them (defaults, then the variant's extra vars)."""
    values = yaml.safe_load((ROOT / "roles/k8s_statefulset_nginx/defaults/main.yml").read_text())
    values.update(VARIANTS[variant])
    values["k8s_statefulset_nginx_report_dir"] = "/tmp/report"
    context = dict(values, playbook_dir="/pb", groups={"nfs_server": ["nfs1"]})
    return _render(values, context)


def _module_args(task_file, module, variables):
    """The rendered arguments of the task of ``task_file`` that calls ``module``."""
    tasks = yaml.safe_load(Path(task_file).read_text())
    task = next(t for t in tasks if module in t)
    return _render(task[module], variables)


def _old_objects(variant):
    role_vars = _role_vars(variant)
    facts = {"_k8s_statefulset_nginx_nfs_server": NFS["nfs_server"], "_k8s_statefulset_nginx_nfs_path": NFS["nfs_path"]}
    sts = _module_args(FROZEN / "statefulset.yml", "stateful.nfs.statefulset", dict(role_vars, **facts))
    prov = _module_args(FROZEN / "provisioner.yml", "stateful.nfs.nfs_provisioner", dict(role_vars, **facts))
    return sts, prov


def _new_objects(variant):
    """What roles statefulset and nfs_provisioner give the modules for the mapped entries."""
    mapping = walkthrough_mapping(_role_vars(variant), **NFS)
    assert mapping["problems"] == []
    classes = lists.provisioner_class_plan(mapping["classes"], {"namespace": "nfs-provisioner", "create_namespace": True,
                                                               "nfs_server": "198.51.100.1", "nfs_path": "/other"})
    apps = lists.application_plan(mapping["applications"])
    assert classes["problems"] == [] and apps["problems"] == []
    (app,) = apps["applications"]
    (cls,) = classes["classes"]
    role_defaults = yaml.safe_load((ROOT / "roles/statefulset/defaults/main.yml").read_text())
    context = dict(role_defaults, _statefulset_app=app, _statefulset_mode="deploy", ansible_check_mode=False,
                   nfs_provisioner_classes=mapping["classes"], playbook_dir="/pb")
    sts = _module_args(ROOT / "roles/statefulset/tasks/application.yml", "stateful.nfs.statefulset", context)
    prov = _module_args(ROOT / "roles/nfs_provisioner/tasks/apply.yml", "stateful.nfs.nfs_provisioner",
                        {"item": cls, "nfs_provisioner_prove_with_claim": True})
    return sts, prov, mapping, app


def _sts_objects(params):
    return mf.statefulset_manifests(validation.validate_statefulset_params(dict(params)))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_mapped_application_builds_the_same_statefulset_and_service(variant):
    old, _ = _old_objects(variant)
    new, _, _, _ = _new_objects(variant)
    old_svc, old_sts = _sts_objects(old)
    new_svc, new_sts = _sts_objects(new)
    assert new_sts == old_sts
    assert new_svc == old_svc
    # and the module is asked the same (wait, timeout, the class the provisioner stage creates)
    for key in ("wait", "wait_timeout", "create_namespace", "planned_storage_classes", "state"):
        assert new[key] == old[key], key
    assert new["force_rollback"] is False and "patch" not in new


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_mapped_class_builds_the_same_provisioner_and_storage_class(variant):
    _, old = _old_objects(variant)
    _, new, _, _ = _new_objects(variant)
    assert new.pop("prove_with_claim") is True  # the new role also proves the class by a claim
    assert new == old
    assert (mf.provisioner_manifests(validation.validate_provisioner_params(dict(new)))
            == mf.provisioner_manifests(validation.validate_provisioner_params(dict(old))))


def test_defaults_keep_the_walkthrough_names():
    _, _, mapping, app = _new_objects("defaults")
    assert app["name"] == "web" and app["statefulset_name"] == "web" and app["service_name"] == "web"
    _svc, sts = _sts_objects(app["statefulset"])
    assert sts["spec"]["selector"]["matchLabels"] == {"app": "nginx"}
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["nginx-pvc"]
    assert mapping["classes"][0]["storage_class_name"] == "managed-nfs-storage"
    assert mapping["classes"][0]["provisioner_name"] == "fuseim.pri/ifs"
    assert mapping["report_dir"] == "/tmp/report" and mapping["k8s_auth"] == {}


def test_verify_proves_the_line_in_the_index_file_served_by_its_pod():
    _, _, _, app = _new_objects("variant")
    assert app["verify"] == {
        "method": "exec", "container": "server", "cluster_domain": "cluster.local", "dns_timeout": 60,
        "dns_client": {"image": "busybox:1.28", "start_timeout": 300},
        "storage_marker": {"file": "index.html", "line": "hello from {pod}"},
        "app_check": {"http_get": {"port": 80, "path": "/index.html", "body": "^{line}$"}},
        # the NFS server host and the export are known: each volume's directory is proved on the server too
        "nfs_side": {"host": "nfs1", "export": "/srv/nfs/k8s"},
    }


def test_method_nfs_is_the_api_method_with_the_nfs_side_on_the_server_and_verify_off_is_false():
    values = dict(_role_vars("defaults"), k8s_statefulset_nginx_verify_method="nfs")
    mapping = walkthrough_mapping(values, **NFS)
    verify = mapping["applications"][0]["verify"]
    assert mapping["problems"] == []
    assert verify["method"] == "api"
    # the line written into each PV's directory on the server host, read back through NFS there
    assert verify["nfs_side"] == {"host": "nfs1", "export": "/srv/nfs/k8s"}
    assert verify["storage_marker"] == {"file": "index.html", "line": "congratulations {pod} for k8s"}
    assert verify["app_check"]["http_get"]["body"] == "^{line}$"  # each pod serves its directory's line
    values["k8s_statefulset_nginx_nfs_export_dir"] = "/exports/disk1"
    assert walkthrough_mapping(values, **NFS)["applications"][0]["verify"]["nfs_side"]["export_directory"] == \
        "/exports/disk1"
    # the mapped verify is statefulset_verify's input, as role statefulset's plan asks
    assert lists.application_plan(walkthrough_mapping(values, **NFS)["applications"])["problems"] == []
    # with exec too, once the NFS server host and the export are known; without the host, exec proves alone
    assert walkthrough_mapping(_role_vars("defaults"), **NFS)["applications"][0]["verify"]["nfs_side"] == \
        {"host": "nfs1", "export": "/srv/nfs/k8s"}
    no_host = dict(_role_vars("defaults"), k8s_statefulset_nginx_nfs_server_host="")
    assert "nfs_side" not in walkthrough_mapping(no_host, **NFS)["applications"][0]["verify"]
    assert "nfs_side" not in walkthrough_mapping(_role_vars("defaults"), nfs_server="192.0.2.20")["applications"][0]["verify"]
    values["k8s_statefulset_nginx_verify"] = False
    assert walkthrough_mapping(values, **NFS)["applications"][0]["verify"] is False


def test_method_nfs_without_the_nfs_server_host_is_a_problem_naming_the_variables():
    values = dict(_role_vars("defaults"), k8s_statefulset_nginx_verify_method="nfs", k8s_statefulset_nginx_nfs_server_host="")
    problems = walkthrough_mapping(values, **NFS)["problems"]
    assert any(p.startswith("k8s_statefulset_nginx_verify_method: nfs writes each pod's line on the NFS server")
               and "k8s_statefulset_nginx_nfs_server_host" in p for p in problems), problems
    values["k8s_statefulset_nginx_verify"] = False
    assert walkthrough_mapping(values, **NFS)["problems"] == []


def test_no_provisioner_no_class_and_no_planned_class():
    values = dict(_role_vars("defaults"), k8s_statefulset_nginx_provisioner_enabled=False)
    mapping = walkthrough_mapping(values)
    assert mapping["classes"] == [] and mapping["problems"] == []


def test_connection_variables_become_the_roles_k8s_auth():
    values = dict(_role_vars("defaults"), k8s_statefulset_nginx_kubeconfig="/k", k8s_statefulset_nginx_validate_certs=False)
    assert walkthrough_mapping(values, **NFS)["k8s_auth"] == {"kubeconfig": "/k", "validate_certs": False}


@pytest.mark.parametrize("over, words", [
    ({"k8s_statefulset_nginx_verify_method": "ssh"}, "k8s_statefulset_nginx_verify_method: 'ssh' must be one of exec, nfs"),
    ({"k8s_statefulset_nginx_replicas": "three"}, "k8s_statefulset_nginx_replicas: 'three' must be an integer"),
    ({"k8s_statefulset_nginx_labels": "app=nginx"}, "k8s_statefulset_nginx_labels: must be a dict"),
])
def test_values_the_mapping_cannot_take_name_the_variable(over, words):
    problems = walkthrough_mapping(dict(_role_vars("defaults"), **over), **NFS)["problems"]
    assert any(words in p for p in problems), problems


def test_no_nfs_server_is_a_problem_naming_the_variables():
    problems = walkthrough_mapping(_role_vars("defaults"))["problems"]
    assert any("k8s_statefulset_nginx_nfs_server" in p for p in problems), problems


def test_the_filter_is_the_rule():
    assert FilterModule().filters()["k8s_statefulset_nginx_mapping"] is walkthrough_mapping
