#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: statefulset_info
short_description: Identity table of a StatefulSet - per pod its names, DNS name, address, claim, volume and NFS directory
version_added: 0.1.0
description:
  - Read-only. For each pod of the StatefulSet, in ordinal order, returns its ordinal, name, hostname,
    subdomain, DNS name C(<hostname>.<service>.<namespace>.svc.<cluster_domain>), pod IP, node, phase and
    readiness, revision, and for each volume claim template the PVC, the PV bound to it, the storage
    class and, for NFS volumes (in-tree C(nfs) or the C(nfs.csi.k8s.io) driver), the NFS server and path.
  - The first template's claim is also flattened into each row (C(pvc), C(pv), C(storage_class),
    C(nfs_server), C(nfs_path)) for the common single-template case.
author:
  - stateful.nfs contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stateful.nfs.k8s_auth
  - stateful.nfs.k8s_auth.statefulset
attributes:
  platform:
    platforms: all
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
options:
  http_get:
    description:
      - Also fetch a page from each ready pod, through the API server's pod proxy (the C(pods/proxy)
        subresource, a read, C(GET /api/v1/namespaces/<namespace>/pods/<pod>:<port>/proxy<path>)),
        into the pod's row as C(http_get). The controller running the module needs no route to the
        pods, and the caller needs the RBAC right C(get) on C(pods/proxy).
      - The fields of Kubernetes' C(HTTPGetAction) (Kubernetes docs, "Configure Liveness, Readiness and
        Startup Probes").
    type: dict
    version_added: 0.3.0
    suboptions:
      path:
        description: Absolute URL path, without query or fragment.
        type: str
        default: /
      port:
        description:
          - Container port, a number (1-65535) or the name of a port a container of the pod declares
            (IANA service name, at most 15 characters), resolved to its C(containerPort) as the kubelet
            resolves a probe's named port.
        type: raw
        required: true
seealso:
  - module: stateful.nfs.statefulset
"""

EXAMPLES = r"""
- name: Identity table of the walkthrough's StatefulSet
  stateful.nfs.statefulset_info:
    name: web
  register: web_info

- name: Identity table, and the page each pod serves (through the API server's pod proxy)
  stateful.nfs.statefulset_info:
    name: web
    http_get:
      path: /index.html
      port: 80
  register: web_served

- name: Every pod has its own directory on the NFS server
  ansible.builtin.assert:
    that:
      - web_info.pods | map(attribute='nfs_path') | unique | length == web_info.pods | length
      - web_info.pods | map(attribute='dns_name') | first == 'web-0.web.default.svc.cluster.local'
"""

RETURN = r"""
exists:
  description: Whether the StatefulSet exists.
  returned: always
  type: bool
statefulset:
  description: Summary of the StatefulSet; null when it does not exist.
  returned: always
  type: dict
  sample:
    name: web
    namespace: default
    service_name: web
    replicas: 3
    ordinals_start: 0
    ready_replicas: 3
    current_revision: web-7d4b9c8f5
    update_revision: web-7d4b9c8f5
    volume_claim_templates: [nginx-pvc]
    cluster_domain: cluster.local
pods:
  description: One row per existing pod, by ordinal.
  returned: always
  type: list
  elements: dict
  contains:
    ordinal: {description: Ordinal., type: int, sample: 0}
    name: {description: Pod name., type: str, sample: web-0}
    hostname: {description: "Pod hostname (C(spec.hostname), else its name).", type: str, sample: web-0}
    subdomain: {description: Pod subdomain (the governing Service)., type: str, sample: web}
    dns_name: {description: Stable DNS name., type: str, sample: web-0.web.default.svc.cluster.local}
    pod_ip: {description: Current pod IP (changes when the pod is recreated)., type: str, sample: 10.244.1.7}
    node: {description: Node the pod runs on., type: str, sample: worker-1}
    phase: {description: Pod phase., type: str, sample: Running}
    ready: {description: Whether the pod is Ready., type: bool}
    revision: {description: The pod's controller-revision-hash., type: str}
    uid: {description: Pod UID (changes when the pod is recreated)., type: str}
    pvc: {description: First template's PVC., type: str, sample: nginx-pvc-web-0}
    pv: {description: PV bound to it., type: str, sample: pvc-5f0c4c1e-7d5a-4a43-9a49-0d1b1b1f2a3c}
    storage_class: {description: Its storage class., type: str, sample: managed-nfs-storage}
    nfs_server: {description: NFS server of the PV., type: str, sample: 192.0.2.20}
    nfs_path:
      description: NFS path of the PV.
      type: str
      sample: /home/nfs/default-nginx-pvc-web-0-pvc-5f0c4c1e-7d5a-4a43-9a49-0d1b1b1f2a3c
    volumes:
      description: All templates' claims (keys template, pvc, pvc_phase, pv, storage_class, capacity, nfs_server, nfs_path).
      type: list
      elements: dict
    http_get:
      description:
        - With O(http_get), what the pod served through the pod proxy - C(url) (the API path), C(status) (200 for any
          2xx answer, else the HTTP status of the error), C(body) (at most 4096 bytes, as text) and C(error) (null on success).
        - A pod that is not ready, or that declares no port of the given name, is not asked (C(error) says so,
          C(url) and C(status) are null).
      type: dict
      returned: with O(http_get)
      version_added: 0.3.0
      sample: {url: /api/v1/namespaces/default/pods/web-0:80/proxy/index.html, status: 200,
               body: "congratulations web-0 for k8s\n", error: null}
missing_ordinals:
  description: Ordinals the StatefulSet should have but whose pod does not exist.
  returned: always
  type: list
  elements: int
server_version:
  description:
    - What the API server answers on C(/version) (the same data as C(kubectl version)), read in the
      same run so that a caller needs no separate cluster-info task.
  returned: always
  type: dict
  version_added: 0.2.0
  sample: {major: "1", minor: "34", gitVersion: v1.34.2, platform: linux/amd64}
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("statefulset_info")


if __name__ == "__main__":
    main()
