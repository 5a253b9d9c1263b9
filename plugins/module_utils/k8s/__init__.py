# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes helpers of stateful.nfs.

Layout (one concern per file):

* ``errors``    - exception types; every message names the object and the input.
* ``client``    - connection options (shared argument spec with ``K8S_AUTH_*``
                  fallbacks), building a ``kubernetes.client.ApiClient`` and a
                  thin REST wrapper (``K8sClient``) with retries.
* ``retry``     - bounded backoff for 429 / 5xx / connection resets.
* ``resources`` - static map kind -> REST path (no discovery round trips).
* ``apply``     - server-side apply, no-write idempotency check, diff, delete.
* ``manifests`` - pure functions: validated params -> list of manifests.
* ``wait``      - Deployment availability and StatefulSet rollout waiters.
* ``identity``  - the read-only StatefulSet identity table.
"""
