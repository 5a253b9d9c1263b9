# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the Kubernetes modules of stateful.nfs."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file. Several paths may be joined with C(:) (C(;) on Windows), as in E(KUBECONFIG).
      - Only a path is accepted (unlike M(kubernetes.core.k8s), which also takes a dictionary here). Give an
        inline kubeconfig with O(kubeconfig_content) instead, which is never logged.
      - When neither O(kubeconfig), O(kubeconfig_content), O(context) nor O(host) with credentials is given,
        the in-cluster service account is used, else the default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)).
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
      - Mutually exclusive with O(kubeconfig_content).
    type: path
  kubeconfig_content:
    description:
      - The kubeconfig itself, as a dictionary, for example an Ansible Vault encrypted kubeconfig read with
        the P(ansible.builtin.file#lookup) lookup and the P(ansible.builtin.from_yaml#filter) filter.
      - The option is treated as a secret (never logged). Every value in it is therefore masked wherever it
        appears in the module's result, including short ones such as the context or cluster name; prefer
        O(kubeconfig) (a file) when that gets in the way.
      - Mutually exclusive with O(kubeconfig).
    type: dict
  context:
    description:
      - Name of the kubeconfig context to use instead of its current context.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, for example V(https://192.0.2.10:6443).
      - Overrides the server of the kubeconfig. With O(api_key), or with O(client_cert) and O(client_key),
        no kubeconfig is read at all.
      - Can also be set with the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate with the API. Never logged.
      - Can also be set with the E(K8S_AUTH_API_KEY) environment variable. Export it in the shell (or the job's
        environment) before running C(ansible-playbook); do not pass it with the play or task keyword
        C(environment:), see the notes.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Defaults to the kubeconfig's setting (verification on unless the kubeconfig says
        C(insecure-skip-tls-verify)).
      - Can also be set with the E(K8S_AUTH_VERIFY_SSL) environment variable.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate (the full chain) that signed the API server's certificate.
      - Can also be set with the E(K8S_AUTH_SSL_CA_CERT) environment variable.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate used to authenticate with the API. Requires O(client_key).
      - Can also be set with the E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key of O(client_cert). The option is treated as a secret (never logged).
      - Can also be set with the E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [key_file]
requirements:
  - "python >= 3.9"
  - "kubernetes >= 24.2.0 (the official Kubernetes Python client)"
notes:
  - The connection options and their E(K8S_AUTH_*) environment variables are the ones of
    M(kubernetes.core.k8s), so existing inventories and environments work unchanged.
  - Transient API failures (HTTP 429, 500, 502, 503, 504 and connections reset mid-request) are retried
    with exponential backoff, at most 6 attempts within 60 seconds per request; C(Retry-After) is honoured.
    A final failure names the object, the HTTP status and the API's message. An API that cannot be
    reached at all (connection refused, DNS, TLS) fails at once.
  - An HTTP 401 answer means the credentials were rejected (wrong or expired token, unknown client
    certificate); the error message says so.
  - Secrets in E(K8S_AUTH_*) variables (E(K8S_AUTH_API_KEY) above all) must be exported in the environment of
    C(ansible-playbook) before it runs, or given to O(api_key) from a vaulted variable. Values set with the
    play or task keyword C(environment:) are printed by ansible-core itself at C(-vvv) (in the command line
    that starts the module) and written to the log file of E(ANSIBLE_LOG_PATH); the module's C(no_log) cannot
    hide them.
"""

    APPLY = r"""
options:
  force_conflicts:
    description:
      - Objects are written with server-side apply, field manager C(stateful.nfs).
      - When V(true), fields last set by another manager (for example C(kubectl edit) or C(kubectl scale))
        are taken over, because the module's input is the declared state of these objects.
      - When V(false), such a conflict fails with the API's message, which names each conflicting field
        and its manager.
    type: bool
    default: true
  create_namespace:
    description:
      - Create O(namespace) (labelled C(app.kubernetes.io/managed-by=stateful.nfs)) when it does not
        exist, as the first object of the run. An existing namespace is only read, never changed.
      - The namespace is created only once every check that can refuse the run has passed (a
        StorageClass that does not exist, a StorageClass of another provisioner, ...), so a refused run
        leaves no namespace behind.
      - When V(false), a missing namespace fails the module before any write.
      - Ignored with O(state=absent); the namespace is never deleted.
      - In check mode the namespace is dry-run on the server; the objects that would go into it cannot
        be (their namespace does not exist yet), so they are reported from the module's input.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Objects are written with server-side apply (field manager C(stateful.nfs)), so a field removed from
    the module's input is removed from the object on the next run (unless another manager also set it).
  - Before writing, the live object is read and compared with the desired fields and with the fields
    C(stateful.nfs) owns; when nothing would change no write is sent and the result is C(changed=false).
  - In check mode the apply is sent with C(dryRun=All); the API server validates and defaults the object
    without storing it, and that answer is the C(after) of the diff.
"""

    # The StatefulSet a read or a proof is about (statefulset_info, statefulset_verify).
    STATEFULSET = r"""
options:
  name:
    description: Name of the StatefulSet.
    type: str
    required: true
  namespace:
    description: Its namespace.
    type: str
    default: default
  cluster_domain:
    description: The cluster's DNS domain, used to build the DNS names.
    type: str
    default: cluster.local
"""
