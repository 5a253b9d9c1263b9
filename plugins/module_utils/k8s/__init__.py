# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes helpers of stateful.nfs.

Layout (one concern per file; each imports only the ones listed before it):

* ``errors``     - exception types; every message names the object and the input.
* ``resources``  - static map kind -> REST path (no discovery round trips).
* ``retry``      - bounded backoff for 429 / 5xx / connection resets.
* ``client``     - connection options (shared argument spec with ``K8S_AUTH_*``
                   fallbacks), building a ``kubernetes.client.ApiClient`` and a
                   thin REST wrapper (``K8sClient``) with retries.
* ``compare``    - desired-vs-live comparison, fields the server dropped, immutable
                   StatefulSet fields, Kubernetes quantities (pure).
* ``manifests``  - pure functions: validated parameters -> list of manifests (the
                   shorthand StatefulSet builder, the headless Service of a StatefulSet).
* ``validation`` - the modules' parameter rules (names, quantities, choices, mount
                   options, whole StatefulSet and Service manifests); the one place they
                   live, asked by modules and roles.
* ``lists``      - the roles' lists (StorageClasses, applications): derived names,
                   nothing given twice, the selected application; entries judged by
                   ``validation``.
* ``apply``      - apply policy (field manager, force), server-side apply with a
                   no-write idempotency check, diff, delete.
* ``wait``       - Deployment availability and StatefulSet rollout waiters.
* ``day2``       - day-2 changes of a deployed StatefulSet (option ``patch``): what is refused
                   before a write, what is written, what a later apply sets back, and the
                   proof of a scale or an upgrade from the pods and claims before and after.
* ``dns_client`` - the DNS client pod of a namespace (kept between runs): names resolved
                   inside the cluster, read through the pod proxy, without exec.
* ``markers``    - the proof's storage markers planned from a StatefulSet and its identity
                   table (pure; asked by ``verify`` and by filter ``nfs_side_markers``).
* ``identity``   - the read-only StatefulSet identity table.
* ``verify``     - the per-pod proof of any StatefulSet (exec sessions on threads).
* ``runners``    - what each module does, given validated parameters and a client.
* ``restore``    - module ``pvc_restore``: archived or retained directories bound again
                   to a StatefulSet's claims (pre-bound static volumes), every refusal first.
* ``migrate``    - module ``pvc_restore``, ``source=migrate``: each claim's live directory
                   copied to another class's export and its claim bound to the copy.
* ``access``     - what each stage needs to be allowed to do, asked of the API server
                   (SelfSubjectAccessReview) before the first change.
* ``module``     - the modules' one entry path: argument spec, validate once,
                   connect, run, every error to ``fail_json``.
"""
