# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS client pod: names resolved inside the cluster, read without exec.

A cluster that forbids ``pods/exec`` (``statefulset_verify`` with ``method: api``), or a member
image without a resolver, cannot ask the cluster's DNS from a member. One pod per namespace
asks instead: busybox's ``httpd`` runs a CGI program that calls ``nslookup`` for each name of
the query string, and the module reads the answer through the API server's pod proxy (the
``pods/proxy`` GET the application check's ``http_get`` uses). The pod is

* created once (server-side apply, field manager ``stateful.nfs``) and kept: a re-run that
  finds it matching and Ready sends no write; it is recreated only when its spec differs from
  :func:`client_pod_manifest` (another image, another program);
* never created in check mode;
* labelled ``app.kubernetes.io/managed-by=stateful.nfs``, ``app.kubernetes.io/component=dns-client``
  (:data:`SELECTOR`), which is how :func:`remove_dns_clients` finds it when the namespace's
  last StatefulSet is deleted by ``stateful.nfs.statefulset``;
* non-root (uid 65534), without privileges, capabilities, service account token or writable
  root filesystem, with small requests and limits.

The CGI answers in ``verify.POD_PROGRAM``'s own records, one per name:
``dns<TAB><name><TAB><the resolver's output on one line>``.
"""

from __future__ import annotations

import re
import time

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait as waiters
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import FIELD_MANAGER
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.compare import first_difference, format_path
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.manifests import (
    COMPONENT_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

COMPONENT = "dns-client"
SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY},{COMPONENT_LABEL}={COMPONENT}"
PORT = 8053
CGI_PATH = "/cgi-bin/resolve"
WEB_ROOT = "/www"
# uid and gid "nobody": the image needs no user of its own
NOBODY = 65534
# The pod's readiness probe period (seconds): the only cost of a kept pod, a TCP connect.
PROBE_PERIOD = 2
# A name the CGI program accepts: a DNS name, nothing a shell or a URL could misread.
NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")

# The CGI program (POSIX sh, busybox's ash): one record per "name=<dns name>" of QUERY_STRING.
CGI_PROGRAM = r"""#!/bin/sh
PATH=${PATH:-/bin:/usr/bin:/sbin:/usr/sbin}
printf 'Content-Type: text/plain\r\n\r\n'
for q in $(printf '%s' "$QUERY_STRING" | tr '&' ' '); do
  n=${q#name=}
  case $n in
    ''|*[!a-z0-9.-]*) printf 'dns\t%s\t!bad-name\n' "$n"; continue ;;
  esac
  if command -v nslookup >/dev/null 2>&1; then a=$(nslookup "$n" 2>&1); else a='!no-resolver'; fi
  printf 'dns\t%s\t%s\n' "$n" "$(printf '%s' "$a" | tr '\t\n' '  ')"
done
"""

# The container's program: the CGI program (its first argument) into the web root, then httpd
# in the foreground as the container's process.
START_PROGRAM = (f'mkdir -p {WEB_ROOT}/cgi-bin && printf "%s" "$1" > {WEB_ROOT}{CGI_PATH}'
                 f' && chmod 0555 {WEB_ROOT}{CGI_PATH} && exec httpd -f -p {PORT} -h {WEB_ROOT}')


def client_pod_manifest(namespace, options):
    """The DNS client pod of ``namespace`` for ``options`` (``dns_client``: name, image,
    image_pull_policy). Pure; the manifest both creates the pod and is compared with it."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": options["name"], "namespace": namespace,
                     "labels": {MANAGED_BY_LABEL: MANAGED_BY, COMPONENT_LABEL: COMPONENT}},
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "runAsUser": NOBODY, "runAsGroup": NOBODY,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "resolve",
                "image": options["image"],
                "imagePullPolicy": options["image_pull_policy"],
                "command": ["sh", "-c", START_PROGRAM, "stateful-nfs-dns-client", CGI_PROGRAM],
                "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": PROBE_PERIOD},
                "resources": {"requests": {"cpu": "5m", "memory": "8Mi"},
                              "limits": {"cpu": "100m", "memory": "32Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "www", "mountPath": WEB_ROOT}],
            }],
            "volumes": [{"name": "www", "emptyDir": {"sizeLimit": "1Mi"}}],
        },
    }


def plan(live, desired):
    """What to do with the live pod: ``(action, why)``, action one of ``create`` (absent),
    ``recreate`` (its spec or labels differ from ``desired``, it ended, or it is being deleted),
    ``use`` (matches)."""
    if live is None:
        return "create", "does not exist"
    meta, status = live.get("metadata") or {}, live.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "recreate", "is being deleted"
    if status.get("phase") in ("Failed", "Succeeded"):
        return "recreate", f"has ended (phase {status['phase']}{': ' + status['reason'] if status.get('reason') else ''})"
    diff = first_difference(desired, live)
    if diff is not None:
        return "recreate", f"field {format_path(diff)} differs"
    return "use", "matches"


def parse_answers(text):
    """``{name: answer}`` of the CGI program's records."""
    out = {}
    for line in (text or "").splitlines():
        fields = line.split("\t")
        if fields[0] == "dns" and len(fields) >= 3:
            out[fields[1]] = fields[2]
    return out


def query(names):
    """The pod proxy's query for ``names`` (each checked against :data:`NAME`)."""
    bad = [n for n in names if not NAME.match(n)]
    if bad:
        raise ValueError(f"not DNS names: {bad}")
    return [("name", n) for n in names]


class DnsClient:
    """The DNS client pod of one namespace, for one module run.

    :meth:`prepare` reads it (and creates or recreates it, outside check mode); :meth:`ask`
    resolves names through it. ``state`` says what was found and done, for the module's result.
    """

    def __init__(self, client, namespace, options, check_mode, clock=time.monotonic, sleep=time.sleep):
        self.client, self.namespace, self.options, self.check_mode = client, namespace, options, check_mode
        self.clock, self.sleep = clock, sleep
        self.desired = client_pod_manifest(namespace, options)
        self.ref = Ref.of(self.desired)
        self.changed = False
        self.usable = False
        self.state = {"name": options["name"], "namespace": namespace, "image": options["image"],
                      "action": None, "reason": None, "uid": None, "ready": False}

    @property
    def what(self):
        return f"DNS client pod {self.namespace}/{self.options['name']}"

    def prepare(self):
        """Make the pod usable; returns None when it is, else why not (one sentence)."""
        live = self.client.get(self.ref)
        action, why = plan(live, self.desired)
        self.state["reason"] = why
        if self.check_mode:
            self.state["action"] = {"create": "would_create", "recreate": "would_recreate"}.get(action, "use")
            self.changed = action != "use"
            # a pod that would be recreated still answers DNS queries as well, when Ready
            if live is not None and waiters.pod_ready(live):
                self._use(live)
                return None
            if action == "create":
                return f"{self.what} does not exist and check mode does not create it"
            if action == "use":
                return f"{self.what} is not Ready"
            return f"{self.what} {why} and is not Ready; check mode does not recreate it"
        if action == "use":
            self.state["action"] = "use"
            if waiters.pod_ready(live):
                self._use(live)
                return None
        else:
            if live is not None:
                uid = (live.get("metadata") or {}).get("uid")
                self.client.delete(self.ref, preconditions={"uid": uid} if uid else None)
                self.changed = True
                waiters.wait_deleted(self.client, self.ref, timeout=self.options["start_timeout"],
                                     interval=0.5, clock=self.clock, sleep=self.sleep)
            self.client.apply(self.desired, FIELD_MANAGER, force=True)
            self.changed = True
            self.state["action"] = "created" if action == "create" else "recreated"
        return self._wait_ready()

    def _use(self, pod):
        self.usable = True
        self.state.update(uid=pod["metadata"].get("uid"), ready=True,
                          node=(pod.get("spec") or {}).get("nodeName"), pod_ip=(pod.get("status") or {}).get("podIP"))

    def _wait_ready(self):
        """Wait (bounded by ``start_timeout``) until the pod is Ready, reacting to a watch on it;
        an image that cannot be pulled or a container that cannot start ends the wait at once."""
        timeout = self.options["start_timeout"]
        changes = None
        sleep, interval = self.sleep, 0.5
        if self.sleep is time.sleep:
            changes = waiters.Changes(self.client, self.namespace, [("Pod", None, f"metadata.name={self.ref.name}")])
            sleep, interval = changes.sleep, 5.0
        seen = {}

        def check(_elapsed):
            pod = self.client.get(self.ref)
            seen["pod"] = pod
            if pod is None:
                return False, None
            return waiters.pod_ready(pod) or bool(waiters.stuck_reason(pod)), pod
        try:
            done, pod, elapsed = waiters._poll(check, timeout, interval, self.clock, sleep)
        finally:
            if changes is not None:
                changes.stop()
        pod = seen.get("pod")
        if pod is not None and waiters.pod_ready(pod):
            self._use(pod)
            return None
        self.state["uid"] = ((pod or {}).get("metadata") or {}).get("uid")
        diagnosis = waiters.format_pod_diagnostics(waiters.pod_diagnostics(self.client, pod)) if pod else "gone"
        stuck = waiters.stuck_reason(pod) if pod else None
        return (f"{self.what} (image {self.options['image']}) is not Ready"
                + (f": {stuck}" if stuck and done else f" after {elapsed:.0f} s") + f" ({diagnosis}); set"
                " dns_client.image to a busybox image the nodes can pull, or dns_client.enabled: false")

    def ask(self, names):
        """``{name: the resolver's answer}`` from the pod (``!http <error>`` when the GET failed)."""
        try:
            body = self.client.proxy_get(self.namespace, self.ref.name, PORT, CGI_PATH, query=query(names))
        except K8sError as exc:
            return {name: f"!http {exc}" for name in names}
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        answers = parse_answers(text)
        return {name: answers.get(name, f"!no-record in {text.strip()[:200]!r}") for name in names}


def remove_dns_clients(client, namespace, check_mode=False):
    """Delete the DNS client pods of ``namespace`` (found by :data:`SELECTOR`; dryRun=All in check
    mode). Returns ``[(Ref, live pod)]`` of the pods deleted."""
    gone = []
    for pod in client.list("Pod", namespace, label_selector=SELECTOR):
        ref = Ref("Pod", pod["metadata"]["name"], namespace)
        client.delete(ref, propagation_policy="Background", dry_run=check_mode)
        gone.append((ref, pod))
    return gone
