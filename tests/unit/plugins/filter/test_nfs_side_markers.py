"""Filter nfs_side_markers: the NFS side's markers planned from stateful.nfs.statefulset's result
with return_identity; what it cannot plan is refused naming the option under the application's verify."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.filter.nfs_side_markers import nfs_side_markers

STS = {"metadata": {"name": "web", "namespace": "default"},
       "spec": {"serviceName": "web", "replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                "volumeClaimTemplates": [{"metadata": {"name": "www"}}],
                "template": {"spec": {"containers": [{"name": "nginx", "volumeMounts": [
                    {"name": "www", "mountPath": "/usr/share/nginx/html", "subPath": "site"}]}]}}}}
ROW = {"name": "web-0", "volumes": [{"template": "www", "pvc": "www-web-0", "pv": "pv-0", "nfs_server": "192.0.2.20",
                                     "nfs_path": "/srv/nfs/default-www-web-0-pv-0"}]}
APPLIED = {"statefulset": STS, "identity": {"exists": True, "pods": [ROW]}}
VERIFY = {"storage_marker": {"file": "index.html", "line": "{pod} on {claim}"},
          "nfs_side": {"host": "nfs1", "export": "/srv/nfs", "server": "192.0.2.20"}}


def test_the_marker_goes_into_the_pvs_directory_under_the_mounts_subpath():
    job = nfs_side_markers(APPLIED, VERIFY)
    assert {k: job[k] for k in ("host", "export", "server", "file", "write")} == {
        "host": "nfs1", "export": "/srv/nfs", "server": "192.0.2.20", "file": "index.html", "write": True}
    assert job["volumes"] == [{"name": "web-0:www", "path": "/srv/nfs/default-www-web-0-pv-0/site",
                               "directory": "/srv/nfs/default-www-web-0-pv-0/site", "content": "web-0 on www-web-0"}]


@pytest.mark.parametrize(("applied", "verify", "message"), [
    ({"statefulset": STS}, VERIFY, "nfs_side_markers: the input must be the result of stateful.nfs.statefulset"
                                   " with return_identity: true"),
    (APPLIED, {"storage_marker": {"file": "index.html"}}, "nfs_side_markers: verify.nfs_side: is required"),
    (APPLIED, dict(VERIFY, nfs_side={"host": "nfs1", "export": "srv"}),
     "nfs_side_markers: verify.nfs_side.export: 'srv' must be an absolute path"),
    # the argument spec's own message names the option
    (APPLIED, dict(VERIFY, storage_marker="index.html"), "nfs_side_markers: verify: "),
])
def test_what_cannot_be_planned_is_refused_naming_the_option(applied, verify, message):
    with pytest.raises(AnsibleFilterError) as err:
        nfs_side_markers(applied, verify)
    assert str(err.value).startswith(message), str(err.value)
    if message.endswith("verify: "):
        assert "argument 'storage_marker' is of type str" in str(err.value)
