"""Cluster DNS emulation on a loopback UDP+TCP port (dnslib for the wire format).

Answers, for the cluster domain (default ``cluster.local``):
* ``<svc>.<ns>.svc.<domain>`` — headless Service: one A per ready pod selected by it;
  ClusterIP Service: its cluster IP.
* ``<hostname>.<svc>.<ns>.svc.<domain>`` — a ready pod whose spec.hostname/subdomain
  match a headless Service in that namespace.
Everything else under the domain is NXDOMAIN; other names are REFUSED (no recursion).
Addresses are the test double's FAKE pod IPs (10.244.x.y); nothing listens there.
"""
from __future__ import annotations

import asyncio
import struct

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from . import semantics
from .controllers import R, pod_ready


class ClusterDNS:
    def __init__(self, store, domain="cluster.local", ttl=5):
        self.store, self.domain, self.ttl = store, domain.strip("."), ttl
        self.queries = 0

    def resolve(self, qname):
        """-> (rcode, [ip, ...])."""
        name = qname.rstrip(".").lower()
        suffix = f".svc.{self.domain}"
        if not name.endswith(suffix):
            return RCODE.REFUSED, []
        parts = name[: -len(suffix)].split(".")
        if len(parts) == 2:
            svc_name, ns = parts
            svc = self.store.get(R["services"], ns, svc_name)
            if svc is None:
                return RCODE.NXDOMAIN, []
            spec = svc.get("spec") or {}
            if spec.get("clusterIP") and spec["clusterIP"] != "None":
                return RCODE.NOERROR, [spec["clusterIP"]]
            sel = spec.get("selector")
            ips = []
            if sel:
                for p in self.store.list(R["pods"], ns):
                    if semantics.selector_object_matches({"matchLabels": sel}, p["metadata"].get("labels")) and \
                            (pod_ready(p) or spec.get("publishNotReadyAddresses")) and \
                            (p.get("status") or {}).get("podIP"):
                        ips.append(p["status"]["podIP"])
            return RCODE.NOERROR, sorted(ips)
        if len(parts) == 3:
            host, svc_name, ns = parts
            svc = self.store.get(R["services"], ns, svc_name)
            if svc is None or (svc.get("spec") or {}).get("clusterIP") != "None":
                return RCODE.NXDOMAIN, []
            for p in self.store.list(R["pods"], ns):
                spec = p.get("spec") or {}
                if spec.get("hostname") == host and spec.get("subdomain") == svc_name and \
                        (pod_ready(p) or (svc.get("spec") or {}).get("publishNotReadyAddresses")) and \
                        (p.get("status") or {}).get("podIP"):
                    return RCODE.NOERROR, [p["status"]["podIP"]]
            return RCODE.NXDOMAIN, []
        return RCODE.NXDOMAIN, []

    def answer(self, data):
        self.queries += 1
        req = DNSRecord.parse(data)
        reply = req.reply()
        reply.header.ra = 0
        q = req.q
        rcode, ips = self.resolve(str(q.qname))
        reply.header.rcode = rcode
        if rcode == RCODE.NOERROR and q.qtype in (QTYPE.A, QTYPE.ANY):
            for ip in ips:
                reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(ip), ttl=self.ttl))
        return reply.pack()

    async def start(self, host="127.0.0.1", port=0):
        loop = asyncio.get_running_loop()
        dns = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                try:
                    self.transport.sendto(dns.answer(data), addr)
                except Exception:  # noqa: BLE001 - malformed query: drop it
                    pass

        self.udp, _ = await loop.create_datagram_endpoint(Udp, local_addr=(host, port))
        self.port = self.udp.get_extra_info("sockname")[1]

        async def tcp(reader, writer):
            try:
                for _ in range(100):
                    hdr = await asyncio.wait_for(reader.readexactly(2), 10)
                    (n,) = struct.unpack("!H", hdr)
                    out = dns.answer(await reader.readexactly(n))
                    writer.write(struct.pack("!H", len(out)) + out)
                    await writer.drain()
            except Exception:  # noqa: BLE001
                pass
            finally:
                writer.close()

        try:
            self.tcp = await asyncio.start_server(tcp, host, self.port)
        except OSError:  # the TCP twin of the UDP port is taken: serve UDP only
            self.tcp = None
        return self.port

    def stop(self):
        self.udp.close()
        if self.tcp:
            self.tcp.close()
