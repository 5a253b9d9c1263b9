"""The statefulset action plugin's reading of src: one StatefulSet and at most one Service."""
from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.action.statefulset import SrcError, manifests_of

STS = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\n"
SVC = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"


def test_a_statefulset_and_its_service_in_two_documents():
    found = manifests_of(f"---\n{SVC}---\n{STS}---\n", "web.yaml")
    assert found["StatefulSet"]["metadata"]["name"] == "web" and found["Service"]["kind"] == "Service"
    assert list(manifests_of(STS, "web.yaml")) == ["StatefulSet"]


@pytest.mark.parametrize(("text", "message"), [
    ("kind: [unclosed", "src web.yaml: not YAML: "),
    ("- a\n- b\n", "src web.yaml: document 1 is not a mapping"),
    (f"{STS}---\napiVersion: v1\nkind: ConfigMap\n", "src web.yaml: document 2 is a ConfigMap; the file holds a"
                                                     " StatefulSet and optionally its headless Service"),
    (f"{STS}---\n{STS}", "src web.yaml: document 2 is a second StatefulSet"),
    (SVC, "src web.yaml: holds no StatefulSet (kinds found: Service)"),
    ("", "src web.yaml: holds no StatefulSet (kinds found: none)"),
])
def test_what_is_not_one_statefulset_is_refused_naming_the_document(text, message):
    with pytest.raises(SrcError) as err:
        manifests_of(text, "web.yaml")
    assert str(err.value).startswith(message)
