"""Emulation of nfs-subdir-external-provisioner plus the PV binder.

A StorageClass is served when a Deployment (any namespace) that is Available has a
container env ``PROVISIONER_NAME`` equal to the class's ``provisioner``. That
Deployment's ``NFS_SERVER``/``NFS_PATH`` env name the export. The PV directory is
created ON THE REAL NFS EXPORT through NFSv3 (pyNfsClient), like the real provisioner
does through its mount. If the NFS call fails, no PV is created and the claim gets a
``ProvisioningFailed`` event naming the error; it is retried later.
"""
from __future__ import annotations

import asyncio
import copy
import re

from .controllers import CM, R, owner_ref  # noqa: F401
from .store import ApiError, now_iso

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ON_DELETE_ANN = "stateful-nfs.test-double/on-delete"
DIR_ANN = "stateful-nfs.test-double/nfs-directory"


class NfsError(Exception):
    pass


def _rpc_connect(rpc):
    """pyNfsClient's RPC.connect loops forever trying privileged source ports when not root; this one
    tries a few (root only) and then connects from any port."""
    import os
    import random
    import socket

    from pyNfsClient.rpc import RPC
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(rpc.timeout)
    rpc.client_port = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        for _ in range(20):
            port = random.randint(500, 1023)
            try:
                sock.bind(("", port))
                rpc.client_port = port
                break
            except OSError:
                continue
    rpc.client = sock
    sock.connect((rpc.host, rpc.port))
    RPC.connections.append(rpc)


class NfsExport:
    """Synchronous NFSv3 access to one export (run it in a thread)."""

    def __init__(self, host, export, timeout=5.0):
        self.host, self.export, self.timeout = host, export, timeout
        self.auth = {"flavor": 1, "machine_name": "k8s-test-double", "uid": 0, "gid": 0, "aux_gid": [],
                     "stamp": 0}

    def __enter__(self):
        try:
            from pyNfsClient import NFS_PROGRAM, NFS_V3, Mount, NFSv3, Portmap
        except ImportError as exc:  # pragma: no cover
            raise NfsError(f"pyNfsClient is not installed: {exc}") from None
        self._conns = []
        try:
            pm = Portmap(self.host, timeout=self.timeout)
            _rpc_connect(pm)
            self._conns.append(pm)
            mport = pm.getport(Mount.program, Mount.program_version)
            nport = pm.getport(NFS_PROGRAM, NFS_V3)
            if not mport or not nport:
                raise NfsError(f"portmapper on {self.host} knows no mountd/nfs v3 (ports {mport}/{nport})")
            self.mount = Mount(host=self.host, port=mport, timeout=self.timeout, auth=self.auth)
            _rpc_connect(self.mount)
            self._conns.append(self.mount)
            r = self.mount.mnt(self.export, self.auth)
            if r.get("status") != 0:
                raise NfsError(f"mount {self.host}:{self.export} failed: MNT3 status {r.get('status')}")
            self.root = r["mountinfo"]["fhandle"]
            self.nfs = NFSv3(self.host, nport, self.timeout, self.auth)
            _rpc_connect(self.nfs)
            self._conns.append(self.nfs)
        except NfsError:
            self.__exit__(None, None, None)
            raise
        except Exception as exc:  # noqa: BLE001
            self.__exit__(None, None, None)
            raise NfsError(f"NFS server {self.host}:{self.export} unreachable: {exc}") from None
        return self

    def __exit__(self, *exc):
        for c in reversed(getattr(self, "_conns", [])):
            try:
                if c is getattr(self, "mount", None) and getattr(self, "root", None):
                    c.umnt(self.auth)
                c.disconnect()
            except Exception:  # noqa: BLE001
                pass

    def _lookup_dir(self, path):
        fh = self.root
        for part in [p for p in path.split("/") if p]:
            r = self.nfs.lookup(fh, part, self.auth)
            if r.get("status") != 0:
                return None
            fh = r["resok"]["object"]["data"]
        return fh

    def exists(self, name, parent=""):
        fh = self._lookup_dir(parent)
        return fh is not None and self.nfs.lookup(fh, name, self.auth).get("status") == 0

    def mkdirs(self, path):
        fh = self.root
        for part in [p for p in path.split("/") if p]:
            r = self.nfs.lookup(fh, part, self.auth)
            if r.get("status") != 0:
                r = self.nfs.mkdir(fh, part, mode=0o777, auth=self.auth)
                if r.get("status") not in (0, 17):
                    raise NfsError(f"mkdir {part} in {self.host}:{self.export} failed: NFS3 status {r.get('status')}")
                r = self.nfs.lookup(fh, part, self.auth)
                if r.get("status") != 0:
                    raise NfsError(f"lookup of new directory {part} failed: NFS3 status {r.get('status')}")
            fh = r["resok"]["object"]["data"]
        # mode 0777 like the real provisioner (umask would have reduced it)
        self.nfs.setattr(fh, mode=0o777, auth=self.auth)

    def rename(self, old, new):
        r = self.nfs.rename(self.root, old, self.root, new, auth=self.auth)
        if r.get("status") != 0:
            raise NfsError(f"rename {old} -> {new} on {self.host}:{self.export} failed: NFS3 status {r.get('status')}")

    def _entries(self, fh):
        names, cookie, verf = [], 0, "0"
        for _ in range(1000):
            r = self.nfs.readdirplus(fh, cookie=cookie, cookie_verf=verf, auth=self.auth)
            if r.get("status") != 0:
                raise NfsError(f"readdir failed: NFS3 status {r.get('status')}")
            ok = r["resok"]
            entry = ok["reply"].get("entries")
            while entry:
                e = entry[0] if isinstance(entry, list) else entry
                names.append((e["name"].decode() if isinstance(e["name"], bytes) else e["name"],
                              e.get("name_attributes", {}).get("attributes", {}).get("type"),
                              e.get("name_handle", {}).get("handle", {}).get("data")))
                cookie = e["cookie"]
                entry = e.get("nextentry")
            verf = ok.get("cookieverf", verf)
            if ok["reply"].get("eof"):
                break
        return [n for n in names if n[0] not in (".", "..")]

    def remove_tree(self, name, fh_parent=None, depth=0):
        if depth > 32:
            raise NfsError("directory tree too deep to remove")
        parent = fh_parent or self.root
        r = self.nfs.lookup(parent, name, self.auth)
        if r.get("status") != 0:
            return
        fh = r["resok"]["object"]["data"]
        for entry, ftype, _ in self._entries(fh):
            if ftype == 2:
                self.remove_tree(entry, fh, depth + 1)
            else:
                self.nfs.remove(fh, entry, auth=self.auth)
        r = self.nfs.rmdir(parent, name, auth=self.auth)
        if r.get("status") != 0:
            raise NfsError(f"rmdir {name} failed: NFS3 status {r.get('status')}")


def _substitute_pattern(pattern, pvc):
    m = pvc["metadata"]

    def repl(match):
        expr = match.group(1).strip()
        if expr == ".PVC.namespace":
            return m.get("namespace", "")
        if expr == ".PVC.name":
            return m["name"]
        for kind in ("labels", "annotations"):
            if expr.startswith(f".PVC.{kind}."):
                return (m.get(kind) or {}).get(expr[len(f".PVC.{kind}."):], "")
        return ""
    return re.sub(r"\$\{([^}]*)\}", repl, pattern)


class Provisioner:
    def __init__(self, double):
        self.d = double
        self.store = double.store
        self.ctl = double.controllers
        self.inflight = set()
        self.retry_at = {}

    def _nfs_host(self, server):
        return self.d.cfg.nfs_address_map.get(server, server)

    def running_provisioner(self, name):
        for dep in self.store.list(R["deployments"]):
            if dep["metadata"].get("deletionTimestamp"):
                continue
            for c in ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
                env = {e.get("name"): e.get("value") for e in c.get("env") or []}
                if env.get("PROVISIONER_NAME") == name:
                    if ((dep.get("status") or {}).get("availableReplicas") or 0) >= 1:
                        server = env.get("NFS_SERVER") or self.d.cfg.nfs_server
                        path = env.get("NFS_PATH") or self.d.cfg.nfs_export
                        return dep, server, path
        return None

    def reconcile(self):
        self._bind_and_provision()
        self._release()

    def _bind_and_provision(self):
        for pvc in self.store.list(R["persistentvolumeclaims"]):
            m = pvc["metadata"]
            if m.get("deletionTimestamp") or (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            if (pvc.get("spec") or {}).get("volumeName"):
                pv = self.store.get(R["persistentvolumes"], None, pvc["spec"]["volumeName"])
                if pv is not None:
                    self._mark_bound(pvc, pv)
                continue
            cls_name = (pvc.get("spec") or {}).get("storageClassName")
            if self._static_bind(pvc, cls_name):
                continue
            if not cls_name:
                continue
            sc = self.store.get(R["storageclasses"], None, cls_name)
            if sc is None:
                msg = f'storageclass.storage.k8s.io "{cls_name}" not found'
                if not self.ctl.has_event(pvc, "ProvisioningFailed"):
                    self.ctl.event(pvc, "ProvisioningFailed", msg, "Warning",
                                   component="persistentvolume-controller")
                continue
            found = self.running_provisioner(sc["provisioner"])
            if found is None:
                msg = (f"Waiting for a volume to be created either by the external provisioner "
                       f"'{sc['provisioner']}' or manually by the system administrator. If volume creation is "
                       "delayed, please verify that the provisioner is running and correctly registered.")
                if not self.ctl.has_event(pvc, "ExternalProvisioning"):
                    self.ctl.event(pvc, "ExternalProvisioning", msg, component="persistentvolume-controller")
                continue
            uid = m["uid"]
            if uid in self.inflight or self.d.loop_time() < self.retry_at.get(uid, 0):
                continue
            self.inflight.add(uid)
            self.d.spawn(self._provision(pvc, sc, *found))

    def _static_bind(self, pvc, cls_name):
        want = self._request_bytes(pvc)
        modes = set((pvc.get("spec") or {}).get("accessModes") or [])
        for pv in self.store.list(R["persistentvolumes"]):
            spec = pv.get("spec") or {}
            if (pv.get("status") or {}).get("phase") not in ("Available", "Pending") or spec.get("claimRef"):
                continue
            if (spec.get("storageClassName") or "") != (cls_name or ""):
                continue
            from .controllers import parse_quantity
            if parse_quantity((spec.get("capacity") or {}).get("storage", "0")) < want:
                continue
            if not modes <= set(spec.get("accessModes") or []):
                continue
            new = copy.deepcopy(pv)
            new["spec"]["claimRef"] = self._claim_ref(pvc)
            pv2 = self.ctl.put(R["persistentvolumes"], new, "persistentvolume-controller")
            if pv2:
                self._mark_bound(pvc, pv2)
                return True
        return False

    @staticmethod
    def _request_bytes(pvc):
        from .controllers import parse_quantity
        return parse_quantity((((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get(
            "storage", "0"))

    @staticmethod
    def _claim_ref(pvc):
        m = pvc["metadata"]
        return {"kind": "PersistentVolumeClaim", "namespace": m["namespace"], "name": m["name"],
                "uid": m["uid"], "apiVersion": "v1", "resourceVersion": m.get("resourceVersion", "")}

    def _mark_bound(self, pvc, pv):
        ctl = self.ctl
        pv_status = {"phase": "Bound", "lastPhaseTransitionTime": now_iso()}
        if (pv.get("status") or {}).get("phase") != "Bound":
            ctl.set_status(R["persistentvolumes"], pv, pv_status, "persistentvolume-controller")
        cur = self.store.get(R["persistentvolumeclaims"], pvc["metadata"]["namespace"], pvc["metadata"]["name"])
        if cur is None:
            return
        new = copy.deepcopy(cur)
        ann = new["metadata"].setdefault("annotations", {})
        ann["pv.kubernetes.io/bind-completed"] = "yes"
        ann["pv.kubernetes.io/bound-by-controller"] = "yes"
        new["spec"]["volumeName"] = pv["metadata"]["name"]
        new = ctl.put(R["persistentvolumeclaims"], new, "persistentvolume-controller") or cur
        ctl.set_status(R["persistentvolumeclaims"], new, {
            "phase": "Bound", "accessModes": list(pv["spec"].get("accessModes") or []),
            "capacity": dict(pv["spec"].get("capacity") or {})}, "persistentvolume-controller")

    async def _provision(self, pvc, sc, dep, server, export):
        ns, name, uid = pvc["metadata"]["namespace"], pvc["metadata"]["name"], pvc["metadata"]["uid"]
        pv_name = f"pvc-{uid}"
        params = sc.get("parameters") or {}
        pattern = params.get("pathPattern")
        dirname = _substitute_pattern(pattern, pvc) if pattern else f"{ns}-{name}-{pv_name}"
        dirname = dirname.strip("/") or f"{ns}-{name}-{pv_name}"
        provisioner = sc["provisioner"]
        try:
            cur = self.store.get(R["persistentvolumeclaims"], ns, name)
            if cur is None or cur["metadata"]["uid"] != uid:
                return
            # the real provisioner sets these annotations on the claim
            new = copy.deepcopy(cur)
            ann = new["metadata"].setdefault("annotations", {})
            ann["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
            ann["volume.kubernetes.io/storage-provisioner"] = provisioner
            self.ctl.put(R["persistentvolumeclaims"], new, "kube-controller-manager")
            self.ctl.event(cur, "Provisioning", f'External provisioner is provisioning volume for claim "{ns}/{name}"',
                           component=f"{provisioner}_{dep['metadata']['name']}")
            host = self._nfs_host(server)
            try:
                await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                    None, self._mkdir_sync, host, export, dirname), self.d.cfg.nfs_timeout * 3)
            except Exception as exc:  # noqa: BLE001 - any NFS/RPC failure is reported, never swallowed
                err = (str(exc) if isinstance(exc, NfsError) else f"{type(exc).__name__}: {exc}") if str(exc) else ""
                err = err or f"timed out after {self.d.cfg.nfs_timeout * 3:.0f}s talking to {server}:{export}"
                cur = self.store.get(R["persistentvolumeclaims"], ns, name)
                if cur is not None:
                    self.ctl.event(cur, "ProvisioningFailed", f'failed to provision volume with StorageClass '
                                   f'"{sc["metadata"]["name"]}": unable to create directory to provision new pv: '
                                   f"{err}", "Warning", component=f"{provisioner}_{dep['metadata']['name']}")
                self.retry_at[uid] = self.d.loop_time() + self.d.cfg.provision_retry
                return
            cur = self.store.get(R["persistentvolumeclaims"], ns, name)
            if cur is None or cur["metadata"]["uid"] != uid:
                return
            on_delete = (params.get("onDelete") or "").lower()
            if on_delete not in ("delete", "retain"):
                on_delete = "delete" if str(params.get("archiveOnDelete", "true")).lower() == "false" else "archive"
            pv_body = {
                "metadata": {"name": pv_name, "annotations": {
                    PROVISIONED_BY: provisioner, ON_DELETE_ANN: on_delete, DIR_ANN: dirname,
                    "stateful-nfs.test-double/nfs-io-host": host}},
                "spec": {"capacity": {"storage": cur["spec"]["resources"]["requests"]["storage"]},
                         "accessModes": list(cur["spec"].get("accessModes") or []),
                         "nfs": {"server": server, "path": f"{export.rstrip('/')}/{dirname}"},
                         "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                         "storageClassName": sc["metadata"]["name"],
                         "volumeMode": cur["spec"].get("volumeMode", "Filesystem"),
                         "claimRef": self._claim_ref(cur)}}
            if sc.get("mountOptions"):
                pv_body["spec"]["mountOptions"] = list(sc["mountOptions"])
            try:
                pv = self.store.create(R["persistentvolumes"], None, pv_body, provisioner.replace("/", "_"))
            except ApiError as exc:
                if exc.code != 409:
                    raise
                pv = self.store.get(R["persistentvolumes"], None, pv_name)
            self.ctl.event(cur, "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}",
                           component=f"{provisioner}_{dep['metadata']['name']}")
            self._mark_bound(cur, pv)
        finally:
            self.inflight.discard(uid)
            self.d.kick()

    def _mkdir_sync(self, host, export, dirname):
        with NfsExport(host, export, self.d.cfg.nfs_timeout) as nfs:
            nfs.mkdirs(dirname)

    # ---------------------------------------------------------------- release / delete
    def _release(self):
        pvcs = {p["metadata"]["uid"] for p in self.store.list(R["persistentvolumeclaims"])}
        for pv in self.store.list(R["persistentvolumes"]):
            spec, st = pv.get("spec") or {}, pv.get("status") or {}
            if pv["metadata"].get("deletionTimestamp"):
                continue
            ref = spec.get("claimRef")
            if not ref:
                if st.get("phase") in (None, "Pending"):
                    self.ctl.set_status(R["persistentvolumes"], pv, {"phase": "Available"},
                                        "persistentvolume-controller")
                continue
            if ref.get("uid") and ref["uid"] in pvcs:
                continue
            if not ref.get("uid"):
                continue
            if st.get("phase") != "Released":
                pv = self.ctl.set_status(R["persistentvolumes"], pv, {"phase": "Released"},
                                         "persistentvolume-controller")
            if spec.get("persistentVolumeReclaimPolicy") == "Delete" and \
                    PROVISIONED_BY in (pv["metadata"].get("annotations") or {}):
                key = ("delete", pv["metadata"]["uid"])
                if key in self.inflight or self.d.loop_time() < self.retry_at.get(key, 0):
                    continue
                self.inflight.add(key)
                self.d.spawn(self._delete_volume(pv, key))

    async def _delete_volume(self, pv, key):
        ann = pv["metadata"].get("annotations") or {}
        action = ann.get(ON_DELETE_ANN, "archive")
        dirname = ann.get(DIR_ANN)
        nfs = pv["spec"].get("nfs") or {}
        export = nfs.get("path", "")[: -len(dirname) - 1] if dirname else ""
        host = ann.get("stateful-nfs.test-double/nfs-io-host") or self._nfs_host(nfs.get("server"))
        try:
            if action != "retain" and dirname:
                await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                    None, self._delete_sync, host, export, dirname, action), self.d.cfg.nfs_timeout * 6)
            try:
                self.store.delete(R["persistentvolumes"], None, pv["metadata"]["name"])
            except ApiError:
                pass
        except Exception as exc:  # noqa: BLE001 - reported as an event, retried
            cur = self.store.get(R["persistentvolumes"], None, pv["metadata"]["name"])
            if cur is not None:
                self.ctl.event(cur, "VolumeFailedDelete", f"{exc or 'NFS timeout'}", "Warning",
                               component=ann.get("pv.kubernetes.io/provisioned-by", "nfs-provisioner"))
            self.retry_at[key] = self.d.loop_time() + self.d.cfg.provision_retry
        finally:
            self.inflight.discard(key)
            self.d.kick()

    def _delete_sync(self, host, export, dirname, action):
        with NfsExport(host, export, self.d.cfg.nfs_timeout) as nfs:
            if not nfs.exists(dirname):
                return
            if action == "delete":
                nfs.remove_tree(dirname)
            else:
                nfs.rename(dirname, f"archived-{dirname}")
