#!/usr/bin/env python3
"""Exit 0 when the cluster of KUBECONFIG [CONTEXT] answers /version within 5 s.

    reachable.py KUBECONFIG [CONTEXT]

Prints the server's gitVersion, or why it is unreachable (exit 1).
"""
import sys


def main() -> int:
    try:
        import kubernetes.client
        import kubernetes.config
    except ImportError:
        print("the kubernetes Python client is not installed")
        return 1
    kubeconfig = sys.argv[1]
    context = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    try:
        api = kubernetes.config.new_client_from_config(config_file=kubeconfig, context=context)
        version = kubernetes.client.VersionApi(api).get_code(_request_timeout=(5, 5))
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable", said as is
        print(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return 1
    print(version.git_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
