#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: statefulset_verify
short_description: Prove each pod of any StatefulSet has its stable identity, its DNS record and its own storage
version_added: 0.4.0
description:
  - Proves, per pod of the StatefulSet, what a StatefulSet promises (Kubernetes docs, StatefulSets, "Pod Identity"
    and "Stable Storage"), for any application, and fails naming the pod, the check and what was seen.
  - "C(identity): the pod exists and is Ready, its spec hostname is its name and its subdomain the governing
    Service (from the API). A pod that is not Ready is named with its phase, conditions, container states, node
    and the node's Ready condition."
  - "C(hostname): the hostname the container sees (C(/proc/sys/kernel/hostname)) is the pod's name, through
    exec."
  - "C(dns): C(<pod>.<service>.<namespace>.svc.<cluster_domain>) answers the pod's IP and the Service's name the
    ready members' IPs, asked from inside the cluster by the first ready member (C(getent ahosts), else
    C(nslookup)), except its own name, which the second ready member asks (a member answers its own name from
    the C(/etc/hosts) kubelet writes; a lone member's record is proved by the Service's name); asked again each
    second up to O(dns_timeout) while the DNS server catches up. With O(method=api), or when those members cannot
    resolve (no shell, neither C(getent) nor C(nslookup) in the image), asked from the namespace's DNS client pod
    instead (O(dns_client))."
  - "C(claims): each claim template's PVC exists and is Bound, to a PV of its own, with an NFS directory of its
    own (in-tree C(nfs) volumes and the C(nfs.csi.k8s.io) driver)."
  - "C(storage): a marker file (O(storage_marker)) at the mount path of each claim template mounted in the
    container holds the pod's own line: written through exec when it differs, then read back once every pod
    wrote, so two pods on one directory are caught; a read-only mount is only read. The result's C(markers)
    name where each marker lies in its PV's NFS directory, for a check from a host the export admits."
  - "C(storage) on the NFS side, with O(nfs_side) (what a cluster that forbids exec keeps, and an extra with exec):
    each marker's directory (its PV's C(spec.nfs.path), with the mount's C(subPath)) lies under O(nfs_side.export),
    exists on O(nfs_side.host) and is no other marker's, and the marker's line, written there by
    M(stateful.nfs.nfs_volume_check) on that host, reads back through NFS (O(nfs_side.volumes), its result). With
    O(method=exec) each pod must then find that line at its mount (the tie between the pod and its directory);
    with O(method=api) an O(app_check) matching C({line}) that passes is the tie (the walkthrough's page), and
    without one the result's C(not_proved) says the tie was not proved. The C(proved) entry names the way and the
    host (see RV(proved))."
  - "C(ready_order): with C(podManagementPolicy: OrderedReady) (the default), each pod was created once the pod of
    the ordinal before it was Ready (that pod's Ready condition's C(lastTransitionTime) against the next pod's
    C(creationTimestamp)); it fails when the pod before had not even started its containers then (no restart
    since). A pod before that is Ready since a later time yet ran earlier (a readiness change, or the order
    broken) leaves it C(not_proved); a pair where the pod before was re-created later (a rolling update) and
    C(Parallel) skip it."
  - "C(app): the application's own check, when O(app_check) is given: an HTTP GET through the API server's pod
    proxy, or a command through exec, its answer matched against a pattern; asked again each second up to
    O(app_check.timeout) until it passes."
  - "A failed C(dns) check says what the name answered (other addresses, NXDOMAIN, no address, no answer) and,
    when the Service that C(spec.serviceName) names does not exist, is not headless or does not select the pods,
    says so (with the RBAC right C(get) on C(services))."
  - Every pod's exec session (one per pod; a second, the read-back, on the run that writes its markers) and HTTP
    GET runs at once, from this one module process.
  - Each check ends as C(pass), C(fail), C(not_proved) or C(skipped). An image without a shell cannot prove its
    hostname or storage by exec - C(not_proved), which fails the run unless O(identity_by_exec=false). With
    O(method=api) (clusters that forbid C(pods/exec)) no exec session is started; DNS is proved from the DNS client
    pod and the result lists what was then not proved (hostname; storage unless O(nfs_side) proves it on the
    NFS side).
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
    details:
      - Markers are read, never written; a marker that would be written is reported as a change.
      - The DNS client pod is never created or recreated; when it is absent, the C(dns) check is C(not_proved) and
        says what a run would ask and expect.
  diff_mode:
    support: none
options:
  container:
    description: The container to exec into, whose claim mounts carry the markers. Defaults to the pod template's first container.
    type: str
  method:
    description:
      - V(exec) proves hostname, DNS and storage from inside the pods (needs the RBAC right C(create) on C(pods/exec)).
      - V(api) starts no exec session, for clusters that forbid it; C(hostname) is then C(not_proved), and
        C(storage) too unless O(nfs_side) proves it on the NFS side; the result's C(not_proved) says so; C(dns) is
        asked from the DNS client pod (O(dns_client)), or C(not_proved) with O(dns_client.enabled=false).
    type: str
    choices: [exec, api]
    default: exec
  identity_by_exec:
    description:
      - Whether the image can prove its hostname by exec. V(false) (an image without a shell) turns a failed exec
        into C(not_proved) instead of a failure.
    type: bool
    default: true
  dns:
    description: Prove the DNS records from inside the cluster.
    type: bool
    default: true
  dns_timeout:
    description: Seconds to ask the DNS names again until they answer the expected addresses.
    type: int
    default: 60
  dns_client:
    description:
      - The DNS client pod, which asks the DNS names when no member can (O(method=api), or a member image without a
        shell or a resolver). Its C(httpd) runs a CGI program that calls C(nslookup) for each name; the module reads
        the answer through the API server's pod proxy (RBAC C(get) on C(pods/proxy), as O(app_check.http_get); no
        exec).
      - One per namespace, labelled C(app.kubernetes.io/managed-by=stateful.nfs) and
        C(app.kubernetes.io/component=dns-client). Created on first need (RBAC C(create) on C(pods)) and kept, so a
        re-run that finds it matching and Ready writes nothing; recreated (C(delete), then C(create)) only when its
        spec differs from what these options make, or it has ended. Never created in check mode.
      - It runs as uid 65534 (non-root) with no service account token, no capabilities, a read-only root file system,
        requests of 5m CPU and 8Mi memory and limits of 100m CPU and 32Mi memory, and listens on port 8053.
      - M(stateful.nfs.statefulset) with O(stateful.nfs.statefulset#module:state=absent) deletes it with the
        namespace's last StatefulSet (so does the C(teardown) entry point of role C(stateful.nfs.statefulset));
        elsewhere remove it with C(kubectl delete pod -l app.kubernetes.io/component=dns-client,app.kubernetes.io/managed-by=stateful.nfs).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Use the pod when no member can ask. V(false) leaves C(dns) C(not_proved) with O(method=api).
        type: bool
        default: true
      name:
        description: The pod's name.
        type: str
        default: stateful-nfs-dns-client
      image:
        description:
          - The pod's image; it needs C(sh), C(httpd) with CGI and C(nslookup), as busybox has them. The default is
            the walkthrough's busybox; give a copy in a registry the nodes can reach where they cannot pull it.
        type: str
        default: busybox:1.28
      image_pull_policy:
        description: The pod's C(imagePullPolicy).
        type: str
        choices: [Always, IfNotPresent, Never]
        default: IfNotPresent
      start_timeout:
        description:
          - Seconds to wait for the pod, once created, to be Ready (also for an old one to be gone when it is
            recreated). An image that cannot be pulled or started fails the C(dns) check at once, naming the pod.
        type: int
        default: 60
  exec_timeout:
    description: Seconds one exec session may take.
    type: int
    default: 30
  storage_marker:
    description:
      - The marker written at each claim's mount path. Some applications refuse a data directory with files they did
        not make (C(initdb) of PostgreSQL does, when the claim is its data directory itself); disable the marker for
        them, or mount a directory of the claim for the data (C(subPath)).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Write and read the markers.
        type: bool
        default: true
      file:
        description: The marker's file name, at the mount path.
        type: str
        default: .stateful-nfs-verify
      line:
        description: Its one line; C({pod}), C({namespace}) and C({claim}) stand for the pod's name, its namespace and the claim's name.
        type: str
        default: "stateful.nfs {namespace}/{pod} {claim}"
  nfs_side:
    description:
      - Prove each pod's storage on the NFS side too (see C(storage) above). The caller runs the module first with
        O(markers_only=true), hands its RV(nfs_volume_check) to M(stateful.nfs.nfs_volume_check) delegated to
        O(nfs_side.host), and runs it again with that module's RV(stateful.nfs.nfs_volume_check#module:volumes)
        as O(nfs_side.volumes) (role C(stateful.nfs.statefulset) does, for an application's C(verify.nfs_side)).
      - Needs O(storage_marker.enabled=true).
    type: dict
    suboptions:
      host:
        description:
          - The inventory host that writes the markers and reads them back through NFS - the NFS server host, or
            another host the export admits whose disk holds O(nfs_side.export_directory). Named in the result.
        type: str
        required: true
      export:
        description: The export as NFS clients see it (the PVs' C(spec.nfs.path) lie under it), mounted once.
        type: str
        required: true
      export_directory:
        description: The directory on O(nfs_side.host)'s disk that backs O(nfs_side.export); defaults to O(nfs_side.export).
        type: str
      server:
        description: The address O(nfs_side.host) reads the export through.
        type: str
        default: 127.0.0.1
      volumes:
        description:
          - M(stateful.nfs.nfs_volume_check)'s RV(stateful.nfs.nfs_volume_check#module:volumes) for the markers.
            Without it C(storage) stays C(not_proved) (O(method=api)).
        type: list
        elements: dict
  markers_only:
    description:
      - Plan the markers and prove nothing, writing nothing - the first step of the NFS side (O(nfs_side)); the
        result's RV(markers) and RV(nfs_volume_check) say where each marker lies.
    type: bool
    default: false
  fail_on_failure:
    description:
      - V(false) returns a failed proof instead of failing, for a caller that reports the verdicts before it fails
        (role C(stateful.nfs.statefulset) writes its identity report, then fails the run). RV(failures) and RV(msg)
        say what failed, also when the proof could not be made (the StatefulSet missing, an API error, exec
        refused). Invalid options fail the module either way.
    type: bool
    default: true
  app_check:
    description: The application's own check, asked of every ready pod; exactly one of O(app_check.http_get) and O(app_check.exec).
    type: dict
    suboptions:
      http_get:
        description: An HTTP GET through the API server's pod proxy (C(pods/proxy), needs the RBAC right C(get) on it).
        type: dict
        suboptions:
          path:
            description: Absolute URL path, without query or fragment.
            type: str
            default: /
          port:
            description:
              - Container port, a number or the name of a port a container of the pod declares.
              - A name the StatefulSet's pod template does not declare is refused before any marker is written
                (role C(stateful.nfs.statefulset) refuses it while planning, from the definition or the options); a
                pod whose containers do not declare it fails its C(app) check at once, not asked again until
                O(app_check.timeout).
            type: raw
            required: true
          status:
            description: The HTTP status expected.
            type: int
            default: 200
          body:
            description:
              - A regular expression (Python C(re), searched) the body must match; C({pod}) stands for the pod's name
                and C({line}) for its marker's line (of its first claim), both matched literally.
            type: str
      exec:
        description: A command run through exec.
        type: dict
        suboptions:
          command:
            description: The command, an argument list (no shell unless it names one), for example V([redis-cli, ping]).
            type: list
            elements: str
            required: true
          container:
            description: The container; defaults to the pod's first.
            type: str
          rc:
            description: The exit code expected.
            type: int
            default: 0
          stdout:
            description:
              - A regular expression (Python C(re), searched) the standard output must match; C({pod}) stands for the pod's
                name and C({line}) for its marker's line (of its first claim), both matched literally.
              - Standard error is not matched (a failure shows it). For a tool that answers on standard error, run it
                through a shell, for example V([sh, -c, "etcdctl endpoint health 2>&1"]).
            type: str
      timeout:
        description: Seconds to ask again until the check passes.
        type: int
        default: 30
seealso:
  - module: stateful.nfs.statefulset
  - module: stateful.nfs.statefulset_info
  - name: StatefulSets
    description: Kubernetes documentation.
    link: https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/
"""

EXAMPLES = r"""
- name: Prove the redis members, and that each answers PONG
  stateful.nfs.statefulset_verify:
    name: redis
    namespace: cache
    app_check:
      exec:
        command: [redis-cli, -p, "6379", ping]
        stdout: ^PONG
  register: redis_proof

- name: The walkthrough's web - each pod's line is its page (the marker is nginx's index.html)
  stateful.nfs.statefulset_verify:
    name: web
    storage_marker:
      file: index.html
      line: "{pod} serves from its own NFS volume"
    app_check:
      http_get: {port: 80, path: /index.html, body: "^{line}$"}

- name: A cluster that forbids exec - DNS asked from a busybox pod kept in the namespace, read through the pod proxy
  stateful.nfs.statefulset_verify:
    name: web
    method: api
    dns_client:
      image: registry.example.com/library/busybox:1.36.1

- name: A cluster that forbids exec - storage proved on the NFS side, each pod tied to its directory by its page
  stateful.nfs.statefulset_verify:
    name: web
    method: api
    storage_marker: {file: index.html, line: "{pod} serves from its own NFS volume"}
    app_check:
      http_get: {port: 80, path: /index.html, body: "^{line}$"}
    nfs_side:
      host: nfs1
      export: /srv/nfs
      volumes: "{{ written.volumes }}"  # stateful.nfs.nfs_volume_check's, run on nfs1 with a markers_only run's nfs_volume_check
"""

RETURN = r"""
changed:
  description: Whether a marker was written or the DNS client pod created or recreated (or would be, in check mode).
  returned: always
  type: bool
exists:
  description: Whether the StatefulSet exists (false only in check mode; otherwise a missing StatefulSet fails).
  returned: always
  type: bool
statefulset:
  description: Summary of the StatefulSet, as M(stateful.nfs.statefulset_info) returns it.
  returned: when it exists
  type: dict
container:
  description: The container the exec sessions ran in.
  returned: when it exists
  type: str
  sample: redis
pods:
  description:
    - The identity table's rows (see M(stateful.nfs.statefulset_info)), each with C(checks), the verdict per check,
      and C(observed), what the pod said (C(hostname) through exec, null without; C(app) the application check's answer).
  returned: always
  type: list
  elements: dict
checks:
  description: One entry per pod and check.
  returned: always
  type: list
  elements: dict
  contains:
    pod: {description: The pod., type: str, sample: redis-1}
    check: {description: The check., type: str, choices: [identity, ready_order, hostname, dns, claims, storage, app]}
    status: {description: The verdict., type: str, choices: [pass, fail, not_proved, skipped]}
    detail: {description: What was seen., type: str, sample: "redis-1.redis.cache.svc.cluster.local -> 10.244.2.7 (asked from redis-0)"}
proved:
  description: The checks every pod passed, with the pods; C(storage) proved on the NFS side names the way and the host.
  returned: always
  type: list
  elements: str
  sample: ["hostname: redis-0, redis-1, redis-2", "storage (without exec, through NFS on nfs1): web-0, web-1"]
not_proved:
  description: What could not be proved, and why.
  returned: always
  type: list
  elements: str
failures:
  description:
    - "The failed checks, C(<pod> <check>: <what was seen>); the module fails when there is one (unless
      O(fail_on_failure=false))."
    - With O(fail_on_failure=false), a proof that could not be made is one entry saying why.
  returned: always
  type: list
  elements: str
msg:
  description: With O(fail_on_failure=false) and a failed proof, the message the module would have failed with.
  returned: when the proof failed and O(fail_on_failure=false)
  type: str
dns_answers:
  description: The addresses each DNS name answered inside the cluster, sorted.
  returned: when the DNS names were asked
  type: dict
  sample: {redis-0.redis.cache.svc.cluster.local: [10.244.1.7], redis.cache.svc.cluster.local: [10.244.1.7, 10.244.2.4]}
dns_client:
  description: The DNS client pod, when it was needed (see O(dns_client)).
  returned: when the DNS client pod was needed
  type: dict
  contains:
    name: {description: The pod., type: str, sample: stateful-nfs-dns-client}
    namespace: {description: Its namespace., type: str}
    image: {description: Its image., type: str}
    action:
      description: What was done with it.
      type: str
      choices: [use, created, recreated, would_create, would_recreate]
    reason:
      description: Why, for example C(field spec.containers[0].image differs).
      type: str
    uid: {description: Its uid., type: str}
    ready: {description: Whether it was Ready and asked., type: bool}
    used_because: {description: Why it was needed., type: str, sample: "method api: no exec session"}
    problem: {description: Why it could not be asked (only when it could not)., type: str}
nfs_volume_check:
  description:
    - With O(nfs_side) and O(markers_only=true), what to hand M(stateful.nfs.nfs_volume_check) on C(host) (its
      options C(export), C(server), C(file), C(write) and C(volumes), one per marker whose directory is under
      the export).
  returned: with O(nfs_side) and O(markers_only=true)
  type: dict
  sample: {host: nfs1, export: /srv/nfs, server: 127.0.0.1, file: index.html, write: true,
           volumes: [{name: "web-0:www", path: /srv/nfs/default-www-web-0-pvc-1, directory: /srv/nfs/default-www-web-0-pvc-1,
                      content: web-0 from its own volume}]}
markers:
  description:
    - Each marker, with its claim, PV and place in the PV's NFS directory (C(nfs_server), C(nfs_path), and
      C(nfs_directory), the directory with the mount's C(subPath)).
    - With O(nfs_side), also C(nfs_volume) (its entry in RV(nfs_volume_check)) or C(nfs_problem) (why it has none).
  returned: always
  type: list
  elements: dict
  sample:
    - {pod: redis-0, claim: data-redis-0, pv: pvc-3f0c..., template: data, path: /data/.stateful-nfs-verify,
       read_only: false, line: stateful.nfs cache/redis-0 data-redis-0, nfs_server: 192.0.2.20,
       nfs_path: /srv/nfs/k8s/cache-data-redis-0-pvc-3f0c.../.stateful-nfs-verify}
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.module import (
    run_module,
)


def main():
    run_module("statefulset_verify")


if __name__ == "__main__":
    main()
