"""A fault with a real application: redis with `appendfsync always` (examples/redis: a write is
acknowledged only after its AOF write and fsync returned) keeps every write it acknowledged
across an NFS-Ganesha restart.

A client pod without NFS (the redis image, `redis-cli` only) writes numbered keys to the
primary: a first batch before the restart, then a second batch while NFS-Ganesha restarts.
After the restart each acknowledged key is in redis-0's AOF as the NFS server's file holds it
(read in the server's container), and redis-0, restarted on the same claim, loads them all
from its AOF. Bounded: at most 200 + 1500 writes, the second batch at most 20 s, one restart.

Lab note (examples/redis/README.md says more): the pods' NFS volumes go through the lab's FUSE
mount helper (tests/lab/mount-nfs/), not the kernel client. It keeps no write-back cache: each
write of redis is sent and made durable on the server (WRITE, then COMMIT unless FILE_SYNC)
before it returns, and an operation the server did not answer is tried again on a new
connection, three times in a row, then fails with EIO: even a sub-second restart fails a write,
redis exits (it cannot go on with appendfsync always) and its container restarts; the writes
sent meanwhile are refused, never acknowledged. So this shows that what redis acknowledged was on the NFS server and stays there
across a server process restart; it does not show the kernel client's own path (its page cache
until fsync, COMMIT then, the resend of unstable writes after a server reboot, a "hard" mount
blocking rather than failing), nor a crash of the server host.
"""
from __future__ import annotations

import re
import subprocess
import time

from conftest import CACHE, Lab, claim_dir, pod, recreated, redis, replication, wait_for

WRITER = "apps-fault-writer"
BEFORE, DURING, DURING_SECONDS = 200, 1500, 20
# Each write is its own redis-cli (bounded by timeout); the reply "OK" is the acknowledgement.
SCRIPT = """
i=$1; end=$(( $(date +%s) + $3 ))
while [ "$i" -lt "$2" ] && [ "$(date +%s)" -lt "$end" ]; do
  if [ "$(timeout 40 redis-cli -h redis-0.redis set "fault:$i" "$i" 2>/dev/null)" = OK ]; then
    echo "acked $i"
  else
    echo "failed $i"
  fi
  i=$((i + 1))
done
"""


def writer(first: int, last: int, seconds: int) -> list:
    argv = [Lab.require().kubectl_path, "--kubeconfig", str(Lab.require().kubeconfig), "exec", "-n", CACHE, WRITER,
            "--", "sh", "-c", SCRIPT, "writer", str(first), str(last), str(seconds)]
    return argv


def outcome(stdout: str) -> tuple[set, set]:
    acked = {int(n) for n in re.findall(r"^acked (\d+)$", stdout, re.MULTILINE)}
    failed = {int(n) for n in re.findall(r"^failed (\d+)$", stdout, re.MULTILINE)}
    return acked, failed


def ganesha_restart(nfs_host) -> float:
    """systemctl restart nfs-ganesha; wait (bounded) until a node lists the export again."""
    start = time.monotonic()
    nfs_host.check_output("timeout 60 systemctl restart nfs-ganesha")
    wait_for("NFS-Ganesha to serve the export again",
             lambda: nfs_host.run("timeout 10 nfs-ls nfs://127.0.0.1/srv/nfs").rc == 0, timeout=60, interval=1)
    return time.monotonic() - start


def test_writes_acknowledged_before_an_nfs_server_restart_are_all_kept(lab, nfs_host):
    lab.kubectl("run", WRITER, "-n", CACHE, f"--image={lab.images['redis']}", "--image-pull-policy=IfNotPresent",
                "--restart=Never", "--command", "--", "sleep", "900")
    try:
        lab.kubectl("wait", "-n", CACHE, "--for=condition=Ready", f"pod/{WRITER}", "--timeout=90s", timeout=120)
        restarts = pod(CACHE, "redis-0")["status"]["containerStatuses"][0]["restartCount"]

        first = subprocess.run(writer(0, BEFORE, 60), capture_output=True, text=True, timeout=120, check=True)
        acked_before, failed_before = outcome(first.stdout)
        assert acked_before == set(range(BEFORE)) and not failed_before, first.stdout[-2000:]

        during = subprocess.Popen(writer(BEFORE, BEFORE + DURING, DURING_SECONDS),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)
            took = ganesha_restart(nfs_host)
            assert during.poll() is None, "the writer ended before NFS-Ganesha was back: raise DURING or DURING_SECONDS"
            out, err = during.communicate(timeout=DURING_SECONDS + 120)
        finally:
            if during.poll() is None:
                during.kill()
                during.wait(timeout=30)
        acked_during, failed_during = outcome(out)
        acked = acked_before | acked_during
        restarted = pod(CACHE, "redis-0")["status"]["containerStatuses"][0]["restartCount"] - restarts
        print(f"\nNFS-Ganesha restart took {took:.1f} s; during it {len(acked_during)} writes acknowledged, "
              f"{len(failed_during)} not; redis-0's container restarted {restarted} time(s)")
        if restarted:  # what redis said before it exited (shown with -rP)
            print(lab.kubectl("logs", "-n", CACHE, "redis-0", "--previous", "--tail=6", check=False).stdout)
        assert acked_during, f"no write acknowledged while the server restarted: {out[-1000:]} {err[-1000:]}"

        # On the NFS server: every acknowledged SET in redis-0's AOF (RESP: the key as a bulk string).
        aof_dir = f"{claim_dir(CACHE, 'data-redis-0')}/appendonlydir"
        files = nfs_host.check_output(f"ls {aof_dir}").split()
        aof = b"".join(nfs_host.file(f"{aof_dir}/{name}").content for name in files if name.endswith(".aof"))
        on_server = {int(n) for n in re.findall(rb"\r\nfault:(\d+)\r\n", aof)}
        assert acked <= on_server, f"acknowledged but not on the NFS server: {sorted(acked - on_server)[:20]}"

        # redis-0 restarted on the same claim loads them all from its AOF.
        old = pod(CACHE, "redis-0")["metadata"]["uid"]
        lab.kubectl("delete", "pod", "-n", CACHE, "redis-0", "--wait=true", timeout=120)
        wait_for("redis-0 back and Ready", lambda: recreated(CACHE, "redis-0", old), timeout=120, interval=1)
        keys = [f"fault:{n}" for n in sorted(acked)]
        assert redis(CACHE, "redis-0", "exists", *keys) == str(len(keys))
        wait_for("the replicas to sync again", lambda: replication("redis-0").get("connected_slaves") == "3",
                 timeout=90, interval=1)
    finally:
        lab.kubectl("delete", "pod", "-n", CACHE, WRITER, "--wait=false", "--ignore-not-found", check=False)
