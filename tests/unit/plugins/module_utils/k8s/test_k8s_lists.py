"""The lists the roles hand over (module_utils/k8s/lists.py): StorageClasses for role
nfs_provisioner, applications for role statefulset. Each entry is judged by its module's rules;
the list as a whole by the rules here: derived names, nothing given twice, the selected app."""
from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import (
    application_plan,
    deployment_name_for,
    provisioner_class_plan,
    provisioner_name_for,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import check_dns1123_label

DEFAULTS = {"nfs_server": "192.0.2.5", "nfs_path": "/srv/nfs", "namespace": "nfs", "image": None}
WEB = {"name": "web", "namespace": "shop", "image": "nginx:1.27.3",
       "volume_claim_templates": [{"name": "www", "size": "1Gi", "mount_path": "/usr/share/nginx/html"}]}


def test_each_class_gets_a_provisioner_of_its_own():
    plan = provisioner_class_plan([{"storage_class_name": "nfs-data", "archive_on_delete": True},
                                   {"storage_class_name": "nfs.scratch", "on_delete": "delete"}], DEFAULTS)
    assert plan["problems"] == []
    assert [(c["name"], c["provisioner_name"]) for c in plan["classes"]] == [
        ("nfs-data-provisioner", "stateful.nfs/nfs-data"), ("nfs-scratch-provisioner", "stateful.nfs/nfs.scratch")]
    # defaults fill what an entry leaves out; None defaults are left out; the entry wins
    assert plan["classes"][0] == {"nfs_server": "192.0.2.5", "nfs_path": "/srv/nfs", "namespace": "nfs",
                                  "name": "nfs-data-provisioner", "provisioner_name": "stateful.nfs/nfs-data",
                                  "storage_class_name": "nfs-data", "archive_on_delete": True}


def test_a_long_class_name_gives_distinct_valid_deployment_names():
    a, b = "x" * 60 + ".a", "x" * 60 + ".b"
    names = {deployment_name_for(a), deployment_name_for(b)}
    assert len(names) == 2
    for n in names:
        check_dns1123_label("name", n)
    assert provisioner_name_for("nfs-data") == "stateful.nfs/nfs-data"


@pytest.mark.parametrize(("classes", "expected"), [
    ([{"storage_class_name": "a"}, {"storage_class_name": "a", "name": "other", "provisioner_name": "x.io/b"}],
     "nfs_provisioner_classes[1]: StorageClass 'a' is also nfs_provisioner_classes[0]'s"),
    ([{"storage_class_name": "a", "provisioner_name": "x.io/p"}, {"storage_class_name": "b", "provisioner_name": "x.io/p"}],
     "nfs_provisioner_classes[1]: provisioner_name 'x.io/p' is also nfs_provisioner_classes[0]'s"),
    ([{"storage_class_name": "a", "name": "prov"}, {"storage_class_name": "b", "name": "prov"}],
     "nfs_provisioner_classes[1]: provisioner Deployment (namespace, name) ('nfs', 'prov') is also"),
    ([{"archive_on_delete": True}], "nfs_provisioner_classes[0].storage_class_name: is required"),
    ([{"storage_class_name": "a", "nfs_path": "relative"}], "nfs_provisioner_classes[0]: nfs_provisioner: nfs_path:"),
    ([{"storage_class_name": "a", "reclam_policy": "Retain"}], "nfs_provisioner_classes[0]: nfs_provisioner: reclam_policy."),
    ("nfs-data", "nfs_provisioner_classes: must be a list"),
])
def test_class_list_problems_name_the_entry(classes, expected):
    problems = provisioner_class_plan(classes, DEFAULTS)["problems"]
    assert any(p.startswith(expected) for p in problems), problems


def test_applications_are_planned_with_the_modules_rules_and_selected_by_name():
    apps = [{"name": "cache", "statefulset": {"src": "redis.yaml"}},
            {"statefulset": WEB, "verify": {"app_check": {"http_get": {"path": "/", "port": 80}}}},
            {"name": "db", "statefulset": {"definition": {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                                          "metadata": {"name": "pg"}, "spec": {
                "serviceName": "pg", "selector": {"matchLabels": {"app": "pg"}},
                "template": {"metadata": {"labels": {"app": "pg"}},
                             "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}}}},
             "verify": False, "report": False}]
    plan = application_plan(apps)
    assert plan["problems"] == []
    assert plan["selected"] == ["cache", "web", "db"]
    assert [(a["name"], a["namespace"], a["statefulset_name"], a["service_name"]) for a in plan["applications"]] == [
        ("cache", None, None, None), ("web", "shop", "web", "web"), ("db", "default", "pg", "pg")]
    assert plan["applications"][2]["verify"] is False and plan["applications"][2]["report"] is False
    assert application_plan(apps, "web")["selected"] == ["web"]


@pytest.mark.parametrize(("apps", "selected", "expected"), [
    ([{"name": "a", "statefulset": WEB}, {"name": "a", "statefulset": dict(WEB, name="web2")}], "",
     "statefulset_applications[1]: application name 'a' is also statefulset_applications[0]'s"),
    ([{"name": "a", "statefulset": WEB}, {"name": "b", "statefulset": WEB}], "",
     "statefulset_applications[1]: StatefulSet (namespace, name) ('shop', 'web') is also"),
    ([{"statefulset": WEB}, {"statefulset": dict(WEB, name="web2", service_name="web")}], "",
     "statefulset_applications[1]: headless Service (namespace, name) ('shop', 'web') is also"),
    ([{"statefulset": {"src": "x.yaml"}}], "", "statefulset_applications[0].name: None must be a DNS-1123 label"),
    ([{"name": "a"}], "", "statefulset_applications[0].statefulset: is required"),
    ([{"statefulset": WEB, "verfy": {}}], "", "statefulset_applications[0]: unknown key(s) verfy"),
    ([{"statefulset": dict(WEB, replicas=-1)}], "", "statefulset_applications[0].statefulset: statefulset: replicas"),
    ([{"statefulset": WEB, "verify": {"namespace": "x"}}], "",
     "statefulset_applications[0].verify: namespace come(s) from the StatefulSet"),
    ([{"statefulset": WEB, "verify": {"app_check": {"exec": {"command": ["true"], "stdout": "("}}}}], "",
     "statefulset_applications[0].verify: statefulset_verify: app_check.exec.stdout"),
    ([{"statefulset": WEB, "report": "yes"}], "", "statefulset_applications[0].report: must be true or false"),
    ([{"statefulset": WEB}], "nope", "statefulset_app (-e app=NAME): 'nope' is not an application of statefulset_applications; it has web"),
    ({"statefulset": WEB}, "", "statefulset_applications: must be a list"),
    ([{"statefulset": dict(WEB, patch={"replicas": 3})}], "",
     "statefulset_applications[0].statefulset.patch: a day-2 change is made by playbooks/scale.yml"),
])
def test_application_list_problems_name_the_entry(apps, selected, expected):
    problems = application_plan(apps, selected)["problems"]
    assert any(p.startswith(expected) for p in problems), problems


def test_the_day2_changes_need_one_application_named():
    apps = [{"statefulset": WEB}, {"name": "cache", "statefulset": dict(WEB, name="redis")}]
    assert application_plan(apps, "", required=True)["problems"] == [
        "statefulset_app (-e app=NAME): name the one application to act on; statefulset_applications has web, cache"]
    plan = application_plan(apps, "cache", required=True)
    assert plan["problems"] == [] and plan["selected"] == ["cache"]
    # without required, no name means every application
    assert application_plan(apps, "")["selected"] == ["web", "cache"]


def _nats(port_names=("client", "cluster", "monitor")):
    """The trial's NATS StatefulSet (a definition with create_service: false): named ports."""
    ports = [{"name": n, "containerPort": p} for n, p in zip(port_names, (4222, 6222, 8222))]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "nats", "namespace": "mq"},
            "spec": {"serviceName": "nats", "replicas": 3, "selector": {"matchLabels": {"app": "nats"}},
                     "template": {"metadata": {"labels": {"app": "nats"}}, "spec": {"containers": [
                         {"name": "nats", "image": "localhost/nats:2.9.10", "ports": ports}]}}}}


@pytest.mark.parametrize(("statefulset", "port", "expected"), [
    # the trial: "monitoring" where the container declares "monitor"
    ({"definition": _nats(), "create_service": False}, "monitoring",
     "statefulset_applications[0].verify.app_check.http_get.port: no container declares a port named 'monitoring';"
     " the containers declare client (4222), cluster (6222), monitor (8222)"),
    ({"definition": _nats(port_names=())}, "monitor",
     "statefulset_applications[0].verify.app_check.http_get.port: no container declares a port named 'monitor';"
     " the containers declare no port"),
    # the shorthand options make the containers' ports too
    (dict(WEB, ports=[{"name": "web", "container_port": 80}]), "http",
     "statefulset_applications[0].verify.app_check.http_get.port: no container declares a port named 'http';"
     " the containers declare web (80)"),
])
def test_an_app_check_port_name_no_container_declares_is_refused_while_planning(statefulset, port, expected):
    plan = application_plan([{"name": "mq", "statefulset": statefulset,
                              "verify": {"app_check": {"http_get": {"port": port, "path": "/varz"}}}}])
    assert [p for p in plan["problems"] if p.startswith(expected)], plan["problems"]


@pytest.mark.parametrize(("statefulset", "port"), [
    ({"definition": _nats(), "create_service": False}, "monitor"),
    ({"definition": _nats(port_names=())}, 8222),  # a number: a container may listen on a port it does not declare
    ({"definition": _nats(port_names=())}, "8222"),
    ({"src": "nats.yaml"}, "monitoring"),  # only the module reads src: refused at verify time
])
def test_an_app_check_port_the_plan_cannot_refuse_passes(statefulset, port):
    plan = application_plan([{"name": "mq", "statefulset": statefulset,
                              "verify": {"app_check": {"http_get": {"port": port, "path": "/varz"}}}}])
    assert plan["problems"] == []
