"""examples/redis: the variables a user copies for a non-root redis on an export that squashes root
(README.md, "Storage") are what the roles accept, and they are the working configuration: the
class's export squashes root for every client but the server's own loopback proof, and its
directory belongs to the anonymous user the server maps root to (what the provisioner needs to
make claims' directories; the nfs_provisioner role checks it on a node before it deploys).
The lab runs the same configuration in molecule/applications (test_15_root_squash.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.stateful.nfs.plugins.filter.nfs_exports import nfs_exports
from ansible_collections.stateful.nfs.plugins.filter.provisioner_class_plan import provisioner_class_plan

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "redis"
LOOPBACK = ["rw", "sync", "no_subtree_check", "no_root_squash", "secure"]  # nfs_server's proof client


def _vars(name: str) -> dict:
    return yaml.safe_load((EXAMPLE / name).read_text())


def _model(backend: str) -> dict:
    return nfs_exports(_vars("nfs-server-vars.yml")["nfs_server_exports"], default_clients=["192.0.2.11"],
                       default_options=["rw", "sync", "no_root_squash"], client_group="k8s_nodes",
                       loopback_options=LOOPBACK, backend=backend)


@pytest.mark.parametrize("backend", ["kernel", "ganesha"])
def test_the_examples_exports_are_valid(backend):
    assert _model(backend)["problems"] == []


def test_the_class_export_squashes_root_to_the_user_that_owns_its_directory():
    """One meaning of the options for both backends (module_utils/export_meaning.py), read here in
    NFS-Ganesha's terms: Squash, Anonymous_Uid, Anonymous_Gid of each client."""
    (cls,) = _vars("inventory-vars.yml")["nfs_provisioner_classes"]
    (export,) = [e for e in _model("ganesha")["exports"] if e["path"] == cls["nfs_path"]]
    clients = [c for c in export["ganesha_clients"] if c["Clients"] != "127.0.0.1"]
    assert clients and {c["Squash"] for c in clients} == {"Root_Squash"}, clients
    anonymous = {(str(c["Anonymous_Uid"]), str(c["Anonymous_Gid"])) for c in clients}
    assert anonymous == {(export["owner"], export["group"])}, (anonymous, export)
    assert int(export["mode"], 8) & 0o700 == 0o700  # its owner (the anonymous user) may make directories


def test_the_examples_class_is_a_valid_entry():
    plan = provisioner_class_plan(_vars("inventory-vars.yml")["nfs_provisioner_classes"], {"nfs_server": "192.0.2.5"})
    assert plan["problems"] == [], plan["problems"]


def test_the_examples_pods_run_as_a_non_root_user():
    (_service, statefulset) = yaml.safe_load_all((EXAMPLE / "redis.yaml").read_text())
    context = statefulset["spec"]["template"]["spec"]["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] != 0 and context["runAsGroup"] != 0, context
