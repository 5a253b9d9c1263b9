"""A kubelet stopped (its node goes NotReady) while a rollout needs that node: the wait fails
within its bound, naming the pod, its node and the node's Ready condition; once the kubelet is
back, a re-run converges.

The StatefulSet is pinned to the node (nodeSelector, through stateful.nfs.statefulset) so that
the outcome does not depend on where the scheduler would put the pod.
"""
from __future__ import annotations

import time

from conftest import dexec, pods, ready, remove, wait_for

STS = "pinned"
WAIT = 90  # seconds: the rollout's bound; the node turns NotReady after the node monitor's grace period


def node_ready(lab, node: str) -> str:
    return lab.kubectl("get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}").stdout


def test_stopped_kubelet_fails_the_wait_naming_pod_node_and_condition(player, api, lab, stopped_node):
    try:
        dexec(stopped_node, "systemctl", "stop", "kubelet")
        started = time.monotonic()
        run = player.play("molecule/faults/tests/statefulset_on_node.yml", sts=STS, node=stopped_node,
                          wait_timeout=WAIT)
        took = time.monotonic() - started
        assert run.rc != 0, "the rollout succeeded on a node without a kubelet"
        assert took < WAIT + 60, f"the wait took {took:.0f} s, more than its bound of {WAIT} s"
        message = run.failure()
        assert f"Timed out after {WAIT}s waiting for StatefulSet default/{STS}" in message, message
        assert f"{STS}-0" in message and f"on node {stopped_node}" in message, message
        assert node_ready(lab, stopped_node) == "Unknown", "the node should be NotReady by now"
        assert "node Ready=Unknown NodeStatusUnknown: Kubelet stopped posting node status" in message, message
    finally:
        dexec(stopped_node, "systemctl", "start", "kubelet")
    try:
        wait_for(f"{stopped_node} to be Ready again", lambda: node_ready(lab, stopped_node) == "True",
                 timeout=120, interval=2)
        again = player.play("molecule/faults/tests/statefulset_on_node.yml", sts=STS, node=stopped_node,
                            wait_timeout=180)
        assert again.rc == 0, again.failure()
        current = pods(api, STS)
        assert list(current) == [f"{STS}-0"] and ready(current[f"{STS}-0"])
        assert current[f"{STS}-0"].spec.node_name == stopped_node
    finally:
        remove(api, STS)
