"""A whole StatefulSet manifest as the statefulset module's input: its rules, the Service made from it,
and the shorthand options built into the same definition."""
from __future__ import annotations

import copy

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import compare, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError

REDIS = {
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": "redis", "labels": {"tier": "cache"}},
    "spec": {
        "serviceName": "redis", "replicas": 3,
        "selector": {"matchLabels": {"app": "redis"}},
        "template": {
            "metadata": {"labels": {"app": "redis", "role": "member"}},
            "spec": {
                "securityContext": {"runAsUser": 999, "fsGroup": 999},
                "initContainers": [{"name": "config", "image": "busybox", "command": ["sh", "-c", "cp /src/* /etc/redis/"],
                                    "volumeMounts": [{"name": "config", "mountPath": "/src"},
                                                     {"name": "etc", "mountPath": "/etc/redis"}]}],
                "containers": [
                    {"name": "redis", "image": "redis:7", "command": ["redis-server", "/etc/redis/redis.conf"],
                     "ports": [{"name": "redis", "containerPort": 6379}],
                     "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "etc", "mountPath": "/etc/redis"}]},
                    {"name": "exporter", "image": "exporter:1", "ports": [{"name": "metrics", "containerPort": 9121}]},
                ],
                "volumes": [{"name": "config", "configMap": {"name": "redis"}}, {"name": "etc", "emptyDir": {}}],
            },
        },
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "storageClassName": "nfs-data", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}],
    },
}


def params(**over):
    return validation.with_defaults(validation.STATEFULSET_OPTIONS, dict({"definition": copy.deepcopy(REDIS)}, **over))


def validated(**over):
    return validation.validate_statefulset_params(params(**over))


def refusal(**over):
    with pytest.raises(InputError) as err:
        validated(**over)
    return str(err.value)


def edited(edit):
    d = copy.deepcopy(REDIS)
    edit(d)
    return d


def test_a_definition_names_the_statefulset_and_takes_the_default_namespace():
    p = validated()
    assert (p["name"], p["namespace"], p["service_name"], p["claim_templates"]) == ("redis", "default", "redis", ["data"])
    assert p["where"] == "definition"
    svc, sts = mf.statefulset_manifests(p)
    assert sts["metadata"] == {"name": "redis", "namespace": "default",
                               "labels": {"tier": "cache", "app.kubernetes.io/managed-by": "stateful.nfs"}}
    # the pod template is the user's, untouched
    assert sts["spec"]["template"] == REDIS["spec"]["template"]
    assert svc == {"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "redis", "namespace": "default", "labels": sts["metadata"]["labels"]},
                   "spec": {"clusterIP": "None", "selector": {"app": "redis"},
                            "ports": [{"name": "redis", "port": 6379, "targetPort": 6379, "protocol": "TCP"},
                                      {"name": "metrics", "port": 9121, "targetPort": 9121, "protocol": "TCP"}]}}


def test_the_namespace_comes_from_the_definition_or_the_option_and_they_must_agree():
    assert validated(namespace="cache")["definition"]["metadata"]["namespace"] == "cache"
    in_def = edited(lambda d: d["metadata"].update(namespace="cache"))
    assert validated(definition=in_def)["namespace"] == "cache"
    assert validated(definition=copy.deepcopy(in_def), namespace="cache")["namespace"] == "cache"
    msg = refusal(definition=in_def, namespace="other")
    assert msg.startswith("namespace: 'other' differs from definition.metadata.namespace 'cache'")


def test_name_given_beside_a_definition_must_be_its_name():
    assert validated(name="redis")["name"] == "redis"
    assert refusal(name="web").startswith("name: 'web' differs from definition.metadata.name 'redis'")


def test_output_of_kubectl_get_is_accepted_without_server_fields():
    d = edited(lambda d: (d["metadata"].update(resourceVersion="12", uid="u-1", managedFields=[{}],
                                               creationTimestamp="2026-01-01T00:00:00Z", generation=3),
                          d.update(status={"replicas": 3})))
    sts = validated(definition=d)["definition"]
    assert "status" not in sts and set(sts["metadata"]) == {"name", "labels", "namespace"}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(kind="Deployment"), "definition.kind: 'Deployment' (apiVersion 'apps/v1') is not a StatefulSet"),
    (lambda d: d.update(apiVersion="apps/v1beta2"), "definition.kind: 'StatefulSet' (apiVersion 'apps/v1beta2') is not"),
    (lambda d: d["spec"].pop("serviceName"), "definition.spec.serviceName: is required"),
    (lambda d: d["spec"].update(serviceName="1redis"), "definition.spec.serviceName: '1redis' is not a valid DNS-1035"),
    (lambda d: d["metadata"].update(name="r" * 53), "definition.metadata.name: "),
    (lambda d: d["spec"].update(replicas=-1), "definition.spec.replicas: must be >= 0"),
    (lambda d: d["spec"]["selector"].update(matchLabels={"app": "other"}),
     "definition.spec.selector: {'matchLabels': {'app': 'other'}} does not match the pod template's labels"),
    (lambda d: d["spec"].update(selector={}), "definition.spec.selector: must select the pods"),
    (lambda d: d["spec"]["template"]["spec"].update(containers=[]),
     "definition.spec.template.spec.containers: must list at least one container"),
    (lambda d: d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].append({"name": "logs", "mountPath": "/l"}),
     "definition.spec.template.spec.containers[0].volumeMounts[2].name: 'logs' names no volume of"
     " spec.template.spec.volumes (config, etc) and no claim template of spec.volumeClaimTemplates (data)"),
    (lambda d: d["spec"]["template"]["spec"]["initContainers"][0]["volumeMounts"][0].update(name="cfg"),
     "definition.spec.template.spec.initContainers[0].volumeMounts[0].name: 'cfg' names no volume"),
    (lambda d: d["spec"]["volumeClaimTemplates"].append(copy.deepcopy(d["spec"]["volumeClaimTemplates"][0])),
     "definition.spec.volumeClaimTemplates[1].metadata.name: 'data' is used by two claim templates"),
])
def test_a_definition_is_refused_naming_the_json_path(edit, message):
    assert refusal(definition=edited(edit)).startswith(message)


def test_match_expressions_select_as_kubernetes_does():
    sel = {"matchLabels": {"app": "redis"}, "matchExpressions": [
        {"key": "role", "operator": "In", "values": ["member", "primary"]},
        {"key": "canary", "operator": "DoesNotExist"}]}
    assert validation.selector_matches(sel, {"app": "redis", "role": "member"})
    assert not validation.selector_matches(sel, {"app": "redis", "role": "client"})
    assert not validation.selector_matches(sel, {"app": "redis", "role": "member", "canary": "1"})
    assert validation.selector_matches({"matchExpressions": [{"key": "role", "operator": "NotIn", "values": ["x"]},
                                                             {"key": "app", "operator": "Exists"}]}, {"app": "a"})
    only_expressions = edited(lambda d: d["spec"].update(selector={"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["redis"]}]}))
    assert refusal(definition=only_expressions).startswith("definition.spec.selector: has no matchLabels")
    assert validated(definition=copy.deepcopy(only_expressions), create_service=False)["name"] == "redis"


def test_a_whole_service_is_checked_against_the_statefulset():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis", "annotations": {"a": "b"}},
           "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": {"app": "redis"},
                    "ports": [{"name": "redis", "port": 6379}]}}
    p = validated(service=copy.deepcopy(svc))
    made, _sts = mf.statefulset_manifests(p)
    assert made["metadata"]["namespace"] == "default" and made["spec"]["publishNotReadyAddresses"] is True
    assert made["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "stateful.nfs"}
    for edit, message in [
        (lambda s: s["metadata"].update(name="cache"), "service.metadata.name: 'cache' must be the StatefulSet's"),
        (lambda s: s["spec"].update(clusterIP="10.0.0.1"), "service.spec.clusterIP: '10.0.0.1': the governing Service"),
        (lambda s: s["spec"].update(selector={"app": "web"}), "service.spec.selector: {'app': 'web'} does not select"),
        (lambda s: s.update(kind="Pod"), "service.kind: 'Pod' (apiVersion 'v1') is not a Service"),
    ]:
        bad = copy.deepcopy(svc)
        edit(bad)
        assert refusal(service=bad).startswith(message)
    assert refusal(service=svc, create_service=False).startswith("service: is a Service to create, but create_service")
    assert validation.validate_statefulset_params(validation.with_defaults(
        validation.STATEFULSET_OPTIONS, {"name": "web", "image": "nginx"}))["service"] is None
    with pytest.raises(InputError, match="^service: a whole Service manifest goes with definition or src"):
        validation.validate_statefulset_params(validation.with_defaults(
            validation.STATEFULSET_OPTIONS, {"name": "web", "image": "nginx", "service": svc}))


def test_messages_name_the_file_for_a_definition_read_from_src():
    msg = refusal(src="files/redis.yaml", definition=edited(lambda d: d["spec"].pop("serviceName")))
    assert msg.startswith("src files/redis.yaml: spec.serviceName: is required")


def test_src_without_the_action_plugin_is_refused():
    with pytest.raises(InputError, match="^src: is read on the controller by the module's action plugin"):
        validation.validate_statefulset_params(validation.with_defaults(validation.STATEFULSET_OPTIONS,
                                                                        {"src": "redis.yaml"}))


def test_the_shorthand_builds_the_same_definition_path():
    shorthand = validation.validate_statefulset_params(validation.with_defaults(validation.STATEFULSET_OPTIONS, {
        "name": "web", "image": "nginx:1.27", "labels": {"app": "nginx"}, "ports": [{"name": "web", "container_port": 80}],
        "volume_claim_templates": [{"name": "www", "storage_class_name": "nfs", "size": "1Gi",
                                    "mount_path": "/usr/share/nginx/html"}]}))
    assert shorthand["where"] is None and shorthand["claim_templates"] == ["www"]
    # fed back as a definition, it is accepted and gives the same manifests
    again = validated(definition=copy.deepcopy(shorthand["definition"]))
    assert mf.statefulset_manifests(again) == mf.statefulset_manifests(shorthand)


def test_argument_rules_keep_definition_and_the_shorthand_apart():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    rules = validation.STATEFULSET_RULES
    checker = ArgumentSpecValidator(validation.STATEFULSET_OPTIONS, **rules)
    assert checker.validate({"definition": REDIS, "image": "redis"}).error_messages == [
        "parameters are mutually exclusive: definition|image"]
    assert checker.validate({"src": "x.yaml", "replicas": 2}).error_messages == [
        "parameters are mutually exclusive: src|replicas"]
    assert checker.validate({"definition": REDIS}).error_messages == []  # replicas' default does not count
    assert checker.validate({"state": "absent"}).error_messages == [
        "one of the following is required: name, definition, src"]


def test_dropped_fields_are_what_the_answer_lacks():
    desired = {"spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {
        "partition": 0, "maxUnavailable": 2}}, "template": {"spec": {"containers": [{"name": "a", "env": []}]}}}}
    stored = {"spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                       "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}
    assert [compare.format_path(p) for p in compare.dropped_fields(desired, stored)] == [
        "spec.updateStrategy.rollingUpdate.maxUnavailable"]
    assert compare.dropped_fields(stored, stored) == []
