# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options, ApiClient construction and a small REST wrapper.

The connection options and their ``K8S_AUTH_*`` environment fallbacks are the
ones users know from kubernetes.core (same names, aliases and variables); the
implementation is our own and uses only the public API of the official
``kubernetes`` client.

How the connection is resolved (first match wins, then explicit options override):

1. ``host`` plus ``api_key`` (or plus ``client_cert`` and ``client_key``): nothing
   is loaded, the options are the whole configuration.
2. ``kubeconfig`` (a path), ``kubeconfig_content`` (the kubeconfig itself, a dict; never
   logged) and/or ``context`` given: that kubeconfig and context.
3. Otherwise the in-cluster service account, else the default kubeconfig
   (``$KUBECONFIG`` or ``~/.kube/config``).

Requests go through :class:`K8sClient`, which talks raw REST
(``ApiClient.param_serialize`` + ``ApiClient.call_api``): JSON in, JSON (dicts)
out, every error mapped to :mod:`errors` with the object and the API's message,
transient failures retried per :mod:`retry`.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import errors
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import (
    Ref,
    collection_path,
    object_path,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.retry import (
    RETRIABLE_STATUS,
    RetryPolicy,
    TransientFailure,
    call_with_retry,
)

try:
    import kubernetes
    import kubernetes.client
    import kubernetes.config
    import kubernetes.stream
    import kubernetes.watch
    import urllib3
    import websocket
    from kubernetes.client.exceptions import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the library
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = _exc

USER_AGENT = "stateful.nfs/0.3.0"

# Option name -> env var(s), in the order kubernetes.core reads them.
AUTH_ARG_SPEC = {
    # A path only: the file's content (tokens, client keys) never passes through the module's
    # arguments. An inline kubeconfig goes in kubeconfig_content, which is no_log.
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "kubeconfig_content": {"type": "dict", "no_log": True},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"],
                       "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL", "K8S_AUTH_VALIDATE_CERTS"])},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"],
                "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_CA_CERT"])},
    "client_cert": {"type": "path", "aliases": ["cert_file"],
                    "fallback": (env_fallback, ["K8S_AUTH_CERT_FILE", "K8S_AUTH_CLIENT_CERT"])},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": True,
                   "fallback": (env_fallback, ["K8S_AUTH_KEY_FILE", "K8S_AUTH_CLIENT_KEY"])},
}

AUTH_KEYS = tuple(AUTH_ARG_SPEC)

# kind -> (API class, its namespaced list function): the kinds the waits watch.
WATCHABLE = {"Pod": ("CoreV1Api", "list_namespaced_pod"),
             "StatefulSet": ("AppsV1Api", "list_namespaced_stateful_set")}

# Per request: seconds to connect, seconds to wait for the answer.
DEFAULT_REQUEST_TIMEOUT = (10, 60)


def _check_file(option, path):
    if path and not os.path.isfile(path):
        raise errors.ConnectionConfigError(
            f"{option}: file {path} does not exist or is not a regular file")


def build_configuration(params):
    """Return a ``kubernetes.client.Configuration`` for the connection options in ``params``.

    Raises :class:`errors.ConnectionConfigError` with a message naming the option
    when the options cannot produce a configuration. Never touches the global
    default configuration of the kubernetes library.
    """
    if not HAS_KUBERNETES:
        raise errors.ConnectionConfigError(
            "the 'kubernetes' Python library is required on the host running this module"
            f" (pip install kubernetes): {KUBERNETES_IMPORT_ERROR}")
    p = {k: params.get(k) for k in AUTH_KEYS}
    for opt in ("ca_cert", "client_cert", "client_key"):
        _check_file(opt, p[opt])
    if p["kubeconfig"] and p["kubeconfig_content"]:
        raise errors.ConnectionConfigError(
            "kubeconfig and kubeconfig_content are mutually exclusive: give the path of a kubeconfig file"
            " (kubeconfig or K8S_AUTH_KUBECONFIG) or the kubeconfig itself (kubeconfig_content), not both")
    if bool(p["client_cert"]) != bool(p["client_key"]):
        raise errors.ConnectionConfigError(
            "client_cert and client_key must be given together (got only %s)"
            % ("client_cert" if p["client_cert"] else "client_key"))

    cfg = kubernetes.client.Configuration()
    self_contained = p["host"] and (p["api_key"] or (p["client_cert"] and p["client_key"]))
    kubeconfig = p["kubeconfig_content"] or p["kubeconfig"]
    if self_contained:
        pass
    elif kubeconfig or p["context"]:
        _load_kubeconfig(cfg, kubeconfig, p["context"])
    else:
        try:
            kubernetes.config.load_incluster_config(client_configuration=cfg)
        except kubernetes.config.ConfigException:
            default = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
            if not p["host"] and not os.path.exists(default):
                raise errors.ConnectionConfigError(
                    "no Kubernetes connection configured: not running in a cluster, no kubeconfig"
                    f" at {default}, and no host/api_key given. Set kubeconfig (or K8S_AUTH_KUBECONFIG),"
                    " or host with api_key or client_cert/client_key")
            if os.path.exists(default):
                _load_kubeconfig(cfg, None, None)

    if p["host"]:
        cfg.host = p["host"].rstrip("/")
    if p["api_key"]:
        cfg.api_key = {"BearerToken": "Bearer {}".format(p["api_key"])}
        cfg.api_key_prefix = {}
        cfg.refresh_api_key_hook = None
    if p["validate_certs"] is not None:
        cfg.verify_ssl = bool(p["validate_certs"])
    if p["ca_cert"]:
        cfg.ssl_ca_cert = p["ca_cert"]
    if p["client_cert"]:
        cfg.cert_file = p["client_cert"]
        cfg.key_file = p["client_key"]
    if not cfg.host:
        raise errors.ConnectionConfigError("no API server address: set host (or K8S_AUTH_HOST) or use a kubeconfig")
    # Our own retry policy is the only one: urllib3 must not retry behind its back.
    cfg.retries = urllib3.util.Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0,
                                     raise_on_redirect=True, raise_on_status=False)
    return cfg


def looks_inline(kubeconfig):
    """True when the ``kubeconfig`` option holds a kubeconfig itself rather than a path.

    The option is of type path, so a dict given there arrives as its string form (credentials
    included); a path does not start with ``{`` or contain a newline.
    """
    return isinstance(kubeconfig, str) and (kubeconfig.lstrip().startswith("{") or "\n" in kubeconfig)


def _load_kubeconfig(cfg, kubeconfig, context):
    try:
        if isinstance(kubeconfig, dict):
            kubernetes.config.load_kube_config_from_dict(
                config_dict=kubeconfig, context=context, client_configuration=cfg, persist_config=False)
            return
        if kubeconfig is not None and not isinstance(kubeconfig, str):
            raise errors.ConnectionConfigError(
                f"kubeconfig must be a path, got {type(kubeconfig).__name__}")
        if looks_inline(kubeconfig):
            # never echo it: it is most likely a kubeconfig (with its credentials) turned into a string
            raise errors.ConnectionConfigError(
                "kubeconfig must be the path of a kubeconfig file, not the kubeconfig itself: give an"
                " inline kubeconfig (a dict) with kubeconfig_content, which is never logged")
        if kubeconfig:
            paths = [os.path.expanduser(x) for x in kubeconfig.split(os.pathsep) if x]
            missing = [x for x in paths if not os.path.exists(x)]
            if missing:
                raise errors.ConnectionConfigError(
                    "kubeconfig {} does not exist (option kubeconfig / K8S_AUTH_KUBECONFIG)".format(", ".join(missing)))
            kubeconfig = os.pathsep.join(paths)
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False)
    except errors.K8sError:
        raise
    except kubernetes.config.ConfigException as exc:
        raise errors.ConnectionConfigError(f"cannot use {_kubeconfig_name(kubeconfig, context)}: {exc}")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise errors.ConnectionConfigError(f"cannot read {_kubeconfig_name(kubeconfig, None)}: {exc}")


def _kubeconfig_name(kubeconfig, context):
    """How a message names the kubeconfig: its path, never the content of kubeconfig_content."""
    if isinstance(kubeconfig, dict):
        where = "kubeconfig_content"
    else:
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "kubeconfig"
    if context:
        where += f" (context {context})"
    return where


def build_api_client(params):
    """``kubernetes.client.ApiClient`` for the connection options in ``params``."""
    api = kubernetes.client.ApiClient(configuration=build_configuration(params))
    api.user_agent = f"{USER_AGENT} kubernetes-python/{kubernetes.__version__}"
    return api


def _status_message(data):
    """(reason, message) from an API error body (a ``Status`` object, or anything)."""
    if not data:
        return None, None
    try:
        body = json.loads(data)
    except (ValueError, TypeError):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        return None, text.strip()[:500] or None
    if isinstance(body, dict):
        return body.get("reason"), body.get("message")
    return None, None


def _is_connection_lost(exc):
    """True when a request failed after the connection was established (retriable)."""
    lost = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
            urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError)
    if isinstance(exc, lost):
        return True
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return isinstance(exc.reason, lost)
    return False


def pod_proxy_path(namespace, pod, port, path):
    """The API path of ``path`` on a pod's ``port`` through the pods/proxy subresource."""
    return "/api/v1/namespaces/{}/pods/{}:{}/proxy{}".format(quote(namespace, safe=""), quote(pod, safe=""), port, path)


class K8sClient:
    """Raw REST access with retries. Every method returns plain dicts."""

    def __init__(self, api_client, retry_policy=None, request_timeout=DEFAULT_REQUEST_TIMEOUT,
                 log=None):
        self.api = api_client
        self.retry_policy = retry_policy or RetryPolicy()
        self.request_timeout = request_timeout
        self.log = log
        self.requests_sent = []  # (method, path) of every attempt, for results and tests

    @classmethod
    def from_params(cls, params, **kwargs):
        return cls(build_api_client(params), **kwargs)

    @property
    def host(self):
        return self.api.configuration.host

    # -- the one request path -------------------------------------------------
    def request(self, method, path, what, query=None, body=None, content_type=None,
                allow_404=False, raw=False):
        """Send one request (with retries). Returns the decoded JSON body (the body's bytes with
        ``raw``), or None on 404 when allowed."""
        query = [(k, v) for k, v in (query or []) if v is not None]
        headers = {"Accept": "*/*" if raw else "application/json"}
        if body is not None:
            # dicts go as JSON (serialized by the REST layer); apply bodies are passed pre-serialized
            headers["Content-Type"] = content_type or "application/json"

        def once():
            m, url, hdrs, b, _files = self.api.param_serialize(
                method=method, resource_path=path, query_params=query or None,
                header_params=dict(headers), body=body, auth_settings=["BearerToken"])
            self.requests_sent.append((method, path + ("?" + "&".join("{}={}".format(*kv) for kv in query) if query else "")))
            try:
                resp = self.api.call_api(m, url, header_params=hdrs, body=b,
                                         _request_timeout=self.request_timeout)
                data = resp.read()
            except ApiException as exc:
                # raised by the REST layer for TLS failures (status 0)
                raise errors.ApiUnreachableError(
                    "{} failed: cannot talk to the Kubernetes API at {}: {}. Check validate_certs / ca_cert".format(
                        what, self.host, (exc.reason or "").replace("\n", ": ")))
            except Exception as exc:
                if _is_connection_lost(exc):
                    raise TransientFailure(errors.ApiUnreachableAfterRetries(what, _short(exc)), cause=exc)
                if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
                    raise errors.ApiUnreachableError(
                        f"{what} failed: cannot reach the Kubernetes API at {self.host}: {_short(exc)}. Check host / kubeconfig"
                        " and that the API server is running")
                raise
            status = resp.status
            if 200 <= status < 300:
                if raw:
                    return data or b""
                if not data:
                    return {}
                try:
                    return json.loads(data)
                except ValueError:
                    raise errors.K8sError(f"{what}: the API answered HTTP {status} with a body that is not JSON: {data[:200]!r}")
            if status == 404 and allow_404:
                return None
            reason, message = _status_message(data)
            err = errors.ApiError(what, status, reason or resp.reason, message, body=data)
            if status in RETRIABLE_STATUS and not _is_bad_apply_body(status, message):
                retry_after = None
                try:
                    ra = resp.getheader("Retry-After")
                    retry_after = float(ra) if ra is not None else None
                except (TypeError, ValueError):
                    retry_after = None
                raise TransientFailure(err, retry_after=retry_after)
            raise err

        def on_retry(attempt, delay, failure):
            if self.log:
                self.log(f"{what}: attempt {attempt} failed ({failure}), retrying in {delay:.1f}s")

        return call_with_retry(once, self.retry_policy, on_retry)

    # -- conveniences ---------------------------------------------------------
    def get(self, ref):
        """The live object as a dict, or None when it does not exist."""
        return self.request("GET", object_path(ref), f"get {ref}", allow_404=True)

    def list(self, kind, namespace=None, label_selector=None, field_selector=None, limit=None):
        what = "list {}{}".format(kind, f" in namespace {namespace}" if namespace else "")
        query = [("labelSelector", label_selector), ("fieldSelector", field_selector),
                 ("limit", str(limit) if limit else None)]
        result = self.request("GET", collection_path(kind, namespace), what, query=query)
        return (result or {}).get("items") or []

    def apply(self, manifest, field_manager, dry_run=False, force=True, field_validation=None):
        """Server-side apply ``manifest`` as ``field_manager``; returns the object as the API returned it.
        ``field_validation``: the API's ``fieldValidation`` (``Strict`` refuses duplicate and unknown
        fields; Kubernetes API concepts, "Field validation")."""
        ref = Ref.of(manifest)
        query = [("fieldManager", field_manager), ("force", "true" if force else "false"),
                 ("fieldValidation", field_validation)]
        if dry_run:
            query.append(("dryRun", "All"))
        what = "{}apply {}".format("dry-run " if dry_run else "", ref)
        return self.request("PATCH", object_path(ref), what, query=query,
                            body=json.dumps(manifest, sort_keys=True),
                            content_type="application/apply-patch+yaml")

    def patch(self, ref, body, field_manager, dry_run=False, subresource=None, patch_type="strategic-merge-patch"):
        """PATCH ``ref`` (or its ``subresource``, e.g. ``scale``) with ``body`` as ``field_manager``
        (an Update, as ``kubectl scale`` and ``kubectl set image`` send: it changes only the fields
        of ``body``). ``patch_type``: ``strategic-merge-patch`` (lists merged by their key, e.g.
        containers by name) or ``merge-patch``. Returns the API's answer."""
        query = [("fieldManager", field_manager)]
        if dry_run:
            query.append(("dryRun", "All"))
        path = object_path(ref) + (f"/{subresource}" if subresource else "")
        what = "{}patch {}{}".format("dry-run " if dry_run else "", ref, f" ({subresource})" if subresource else "")
        return self.request("PATCH", path, what, query=query, body=body,
                            content_type=f"application/{patch_type}+json")

    def delete(self, ref, propagation_policy=None, dry_run=False, preconditions=None):
        """DELETE ``ref``; returns the API's answer, or None when it was already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if preconditions:
            body["preconditions"] = preconditions
        if dry_run:
            # A DELETE with a body takes its DeleteOptions from the body alone: the API server
            # ignores dryRun in the query then (measured on v1.35). The query copy only makes
            # the dry run visible in the URL (audit logs, proxies).
            body["dryRun"] = ["All"]
        query = [("dryRun", "All")] if dry_run else []
        what = "{}delete {}{}".format("dry-run " if dry_run else "", ref,
                                      f" (propagationPolicy={propagation_policy})" if propagation_policy else "")
        return self.request("DELETE", object_path(ref), what, query=query, body=body, allow_404=True)

    def proxy_get(self, namespace, pod, port, path, query=None):
        """GET ``path`` (with ``query``, ``[(key, value)]``) on a pod's ``port`` through the API
        server's pod proxy (the pods/proxy subresource; Kubernetes docs: "Accessing services running
        on the cluster"), which passes the query on to the pod. Returns the body's bytes; raises
        ApiError with the pod's (or the API server's) status."""
        return self.request("GET", pod_proxy_path(namespace, pod, port, path),
                            f"GET {path} on pod {namespace}/{pod} port {port} (pod proxy)", query=query, raw=True)

    def previous_log(self, namespace, pod, container, tail_lines):
        """The last ``tail_lines`` lines of the previous run of a container (``pods/log``), as text."""
        query = [("container", container), ("previous", "true"), ("tailLines", str(tail_lines))]
        data = self.request("GET", object_path(Ref("Pod", pod, namespace)) + "/log",
                            f"read the previous log of {namespace}/{pod} container {container}", query=query, raw=True)
        return (data or b"").decode("utf-8", "replace")

    def version(self):
        return self.request("GET", "/version", "get API server version")

    def watch(self, kind, namespace, label_selector=None, field_selector=None, resource_version=None,
              timeout_seconds=30):
        """Events ``(type, object)`` of a watch on ``kind`` in ``namespace`` (``kubernetes.watch``; the
        API's ``watch=true``, Kubernetes API concepts, "Efficient detection of changes"), ending when
        the server closes it after ``timeout_seconds``. Without ``resource_version`` the current
        objects come first as ADDED. BOOKMARK events carry only a resourceVersion. Raises ApiError
        (410 when ``resource_version`` is too old: list again)."""
        api_class, function = WATCHABLE[kind]
        lister = getattr(getattr(kubernetes.client, api_class)(self.api), function)
        self.requests_sent.append(("WATCH", f"{kind} {namespace} {label_selector or field_selector or ''}"))
        stream = kubernetes.watch.Watch()
        try:
            for event in stream.stream(lister, namespace, label_selector=label_selector, field_selector=field_selector,
                                       resource_version=resource_version, timeout_seconds=timeout_seconds,
                                       allow_watch_bookmarks=True, deserialize=False,
                                       _request_timeout=(self.request_timeout[0], timeout_seconds + 10)):
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise errors.ApiError(f"watch {kind} in namespace {namespace}", status.get("code"),
                                          status.get("reason"), status.get("message"))
                yield event.get("type"), event.get("object") or {}
        except ApiException as exc:
            reason, message = _status_message(exc.body)
            raise errors.ApiError(f"watch {kind} in namespace {namespace}", exc.status, reason or exc.reason,
                                  message, body=exc.body)
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise errors.ApiUnreachableError(f"watch {kind} in namespace {namespace} failed: {_short(exc)}")
        finally:
            stream.stop()

    def exec(self, namespace, pod, command, container=None, timeout=30):
        """Run ``command`` (an argv list, no shell unless it names one) in a container of ``pod``
        through the ``pods/exec`` subresource (a websocket; what ``kubectl exec`` does).

        Returns ``{rc, stdout, stderr, error}``: ``rc`` the exit code, or None when the command did
        not run to its end (``error`` then says why: not found in the image, timed out after
        ``timeout`` seconds). Raises ApiError when the API refuses the session (403 without the
        RBAC right ``create`` on ``pods/exec``, 404 for a pod or container that does not exist).
        """
        what = f"exec in pod {namespace}/{pod}" + (f" container {container}" if container else "")
        # kubernetes.stream swaps the ApiClient's request method for the websocket call while it
        # runs: an ApiClient of its own per session keeps that from other threads' requests.
        session_api = kubernetes.client.ApiClient(configuration=self.api.configuration)
        session_api.user_agent = self.api.user_agent
        core = kubernetes.client.CoreV1Api(session_api)
        self.requests_sent.append(("EXEC", f"/api/v1/namespaces/{namespace}/pods/{pod}/exec"))
        try:
            session = kubernetes.stream.stream(
                core.connect_get_namespaced_pod_exec, pod, namespace, command=list(command), container=container,
                stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
                _request_timeout=self.request_timeout)
        except ApiException as exc:
            reason, message = _status_message(exc.body)
            raise errors.ApiError(what, exc.status, reason or exc.reason, message or exc.reason, body=exc.body)
        except (OSError, urllib3.exceptions.HTTPError, websocket.WebSocketException) as exc:
            raise errors.ApiUnreachableError(f"{what} failed: {_short(exc)}")
        try:
            session.run_forever(timeout=timeout)
            finished = not session.is_open()
            out = {"stdout": session.read_stdout() or "", "stderr": session.read_stderr() or "", "rc": None, "error": None}
            if not finished:
                out["error"] = f"timed out after {timeout} s"
                return out
            status = _exec_status(session.read_channel(3))
        finally:
            session.close()
            session_api.close()
        out.update(status)
        return out


def _is_bad_apply_body(status, message):
    """True for the API server's answer to an apply whose body does not fit the schema: HTTP 500
    "failed to create typed patch object" (an unknown field, a wrong type). Sending it again
    cannot help."""
    return status == 500 and "failed to create typed patch object" in (message or "")


def _exec_status(text):
    """``{rc, error}`` from the exec error channel (a ``Status``: Success, or Failure with the
    cause ``ExitCode``; any other failure, such as an executable not found, has no exit code)."""
    try:
        status = json.loads(text) if text else {}
    except ValueError:
        return {"rc": None, "error": text.strip()}
    if status.get("status") == "Success":
        return {"rc": 0, "error": None}
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return {"rc": int(cause.get("message")), "error": None}
            except (TypeError, ValueError):
                break
    return {"rc": None, "error": status.get("message") or text.strip() or "the command did not run"}


def _short(exc):
    """A one-line description of a connection-level exception."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    text = str(exc)
    # urllib3 messages embed object reprs: keep the useful tail
    if "Failed to establish a new connection:" in text:
        text = text.split("Failed to establish a new connection:", 1)[1].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
