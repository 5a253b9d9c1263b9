"""CLI: python -m tests.k8s_test_double --state-dir .lab/cluster --kubeconfig .lab/kubeconfig [...]"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .double import BAD_IMAGE_MARKERS, DEFAULT_NODES, Config, TestDouble


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m tests.k8s_test_double",
        description="stateful.nfs TEST DOUBLE of the Kubernetes API (aiohttp). It is NOT a Kubernetes cluster: "
                    "no containers run, pod IPs are fake. Controllers, a fake kubelet, cluster DNS and an NFS "
                    "provisioner emulation (real directories on a real NFS export) are included.")
    p.add_argument("--state-dir", default=".lab/cluster", help="server.json, dns.json, token, objects.json go here")
    p.add_argument("--kubeconfig", default=".lab/kubeconfig", help="kubeconfig to write (bearer token, http)")
    p.add_argument("--host", default="127.0.0.1", help="listen address (loopback by default)")
    p.add_argument("--port", type=int, default=0, help="API port (0 = pick a free one; see server.json)")
    p.add_argument("--dns-port", type=int, default=0, help="cluster DNS port, udp+tcp (0 = free port; -1 = off)")
    p.add_argument("--token", default=None, help="bearer token to require (default: generated)")
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument("--nfs-server", default=None,
                   help="NFS server used when a provisioner Deployment has no NFS_SERVER env")
    p.add_argument("--nfs-export", default=None, help="export used when a provisioner Deployment has no NFS_PATH env")
    p.add_argument("--nfs-address-map", action="append", default=[], metavar="NAME=ADDRESS",
                   help="talk NFS to ADDRESS when a Deployment says NFS_SERVER=NAME (PVs still record NAME)")
    p.add_argument("--nfs-timeout", type=float, default=5.0, help="seconds per NFS RPC")
    p.add_argument("--pod-ready-delay", type=float, default=1.0, help="seconds from scheduling to Running+Ready")
    p.add_argument("--pod-termination-delay", type=float, default=0.5,
                   help="seconds a gracefully deleted pod stays Terminating")
    p.add_argument("--provision-retry", type=float, default=5.0, help="seconds between failed provisioning tries")
    p.add_argument("--nodes", default=",".join(DEFAULT_NODES), help="comma-separated fake node names")
    p.add_argument("--bad-image-marker", action="append", default=None,
                   help=f"image substring that fails to pull (default: {', '.join(BAD_IMAGE_MARKERS)})")
    p.add_argument("--no-nfs-mount-check", action="store_true",
                   help="do not check NFS volumes with a real MOUNT call before pods start")
    p.add_argument("--no-persist", action="store_true", help="do not save/restore objects in the state dir")
    p.add_argument("--fresh", action="store_true", help="ignore a saved objects.json")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def config_from_args(a):
    amap = {}
    for item in a.nfs_address_map:
        if "=" not in item:
            sys.exit(f"--nfs-address-map needs NAME=ADDRESS, got {item!r}")
        k, v = item.split("=", 1)
        amap[k] = v
    return Config(host=a.host, port=a.port, dns_port=None if a.dns_port < 0 else a.dns_port, token=a.token,
                  state_dir=a.state_dir, kubeconfig=a.kubeconfig, pod_ready_delay=a.pod_ready_delay,
                  pod_termination_delay=a.pod_termination_delay, nodes=tuple(n for n in a.nodes.split(",") if n),
                  bad_image_markers=tuple(a.bad_image_marker or BAD_IMAGE_MARKERS),
                  cluster_domain=a.cluster_domain, nfs_server=a.nfs_server, nfs_export=a.nfs_export,
                  nfs_address_map=amap, nfs_timeout=a.nfs_timeout, provision_retry=a.provision_retry,
                  persist=not a.no_persist, quiet=a.quiet, check_nfs_mounts=not a.no_nfs_mount_check)


async def amain(cfg, fresh):
    if fresh and cfg.state_dir:
        import os
        snap = os.path.join(cfg.state_dir, "objects.json")
        if os.path.exists(snap):
            os.remove(snap)
    d = TestDouble(cfg)
    await d.start()
    print(f"stateful.nfs Kubernetes API TEST DOUBLE (not a cluster) listening on {d.url}; "
          f"kubeconfig {cfg.kubeconfig}; state {cfg.state_dir}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("test double stopping", flush=True)
    await d.aclose()


def main(argv=None):
    a = parse_args(argv)
    asyncio.run(amain(config_from_args(a), a.fresh))


if __name__ == "__main__":
    main()
