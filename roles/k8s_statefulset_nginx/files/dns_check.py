#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve names with real DNS queries to one nameserver; print JSON.

    dns_check.py NAMESERVER PORT NAME [NAME ...]

Prints {"NAME": {"addresses": [...], "error": null|"..."}, ...}. Used by role
k8s_statefulset_nginx where pods cannot exec (the lab cluster test double serves the
headless Services' records on a loopback port). Needs dnspython. Each query times
out after 3 s; nothing is retried.
"""
import json
import sys


def main() -> int:
    try:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode
        import dns.rdatatype
    except ImportError:
        print(json.dumps({"_error": "dnspython is not installed for this interpreter"}))
        return 1
    server, port, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    out = {}
    for name in names:
        fqdn = name if name.endswith(".") else name + "."
        try:
            reply = dns.query.udp(dns.message.make_query(fqdn, dns.rdatatype.A), server,
                                  port=port, timeout=3)
            addresses = sorted(
                item.address
                for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A
                for item in rrset
            )
            out[name] = {"addresses": addresses, "error": None,
                         "rcode": dns.rcode.to_text(reply.rcode())}
        except (dns.exception.DNSException, OSError) as exc:
            out[name] = {"addresses": [], "error": f"{type(exc).__name__}: {exc}", "rcode": None}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
