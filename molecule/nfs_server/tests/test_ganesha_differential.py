"""NFS-Ganesha's own view of the exports the role writes, against the kernel's meaning.

module_utils/export_meaning.py gives each exports(5) option list one meaning, the kernel's
as exportfs gives it (proven against the real exportfs by the nfs_kernel_vm scenario,
test_50), and the role writes Ganesha's CLIENT blocks from it. Here a generated corpus of
option lists (fixed seed, tests/support/export_corpus.py: the nfs_kernel_vm scenario loads the
same lists into the real exportfs) goes through the role into the real NFS-Ganesha of both servers,
and what Ganesha parsed is read back over its DBus interface (org.ganesha.nfsd.exportmgr
DisplayExport: per client, the permission bits, the bits its CLIENT block set, the anonymous
ids) and compared with the model. Lists Ganesha cannot express must be refused by the role
before any change. Then sys access is exercised through NFS (libnfs) from two client
addresses: read-write with root squashed to an anonuid, and read-only.

krb5 flavors are compared as configuration only: the lab has no KDC, so no Kerberos mount is
tried. The last test restores the scenario's configuration.
"""

import json
import uuid
from pathlib import Path

import pytest
from conftest import CLIENT, SERVERS, container_ip, docker_host, run_role

from tests.support.export_corpus import corpus_host, draw_option_lists

from ansible_collections.stateful.nfs.plugins.module_utils.export_meaning import ganesha_client
from ansible_collections.stateful.nfs.plugins.module_utils.exports import ExportsError

# These tests drive ansible-playbook themselves; run them once, not per host.
testinfra_hosts = ["docker://" + SERVERS[0]]

DIFF_PATH = "/srv/nfs/differential"
ACCESS_PATH = "/srv/nfs/access"
# The scenario's own exports (molecule.yml), kept while the corpus is loaded.
SCENARIO_EXPORTS = [
    {"path": "/srv/nfs"},
    {"path": "/srv/nfs/squashed", "clients": [{"host": "172.16.0.0/12", "options": "rw,sync,no_subtree_check,root_squash"}],
     "owner": "nobody", "group": "nogroup", "mode": "0770"},
]
REFUSED_EXAMPLES = [["sec=sys", "rw", "sec=krb5", "ro"], ["security_label", "rw"], ["xprtsec=tls", "rw"]]

# Ganesha's export permission bits (src/include/nfs_exports.h, "Constants for export
# permissions masks"), as DisplayExport reports them in each client's options and set masks.
SQUASH_BITS = {0x0: "No_Root_Squash", 0x2: "Root_Squash", 0x4: "All_Squash"}
SQUASH_MASK = 0x7
ANON_SET = 0x8 | 0x10
ACCESS_BITS = {0x20 | 0x40 | 0x80 | 0x100: "RW", 0x20 | 0x80: "RO"}
ACCESS_MASK = 0x20 | 0x40 | 0x80 | 0x100
PRIVILEGED_PORT = 0x200
FLAVOR_BITS = {"none": 0x1000, "sys": 0x2000, "krb5": 0x4000, "krb5i": 0x8000, "krb5p": 0x10000}
FLAVOR_MASK = 0x1F000
# The figures of the last run (corpus, agreements per server), outside the tracked tree.
REPORT = Path(__file__).resolve().parents[3] / ".lab" / "nfs_server-ganesha-differential.json"
COMPARED = ("Access_Type", "Squash", "PrivilegedPort", "SecType", "Anonymous_Uid", "Anonymous_Gid")


def reported_name(name):
    """A client as DisplayExport names it, as the role wrote it: a single address has /32
    there and a netgroup no @ (the corpus has no host names, so a bare word is a netgroup)."""
    if name.isidentifier():
        return "@" + name
    return name.removesuffix("/32")


def ganesha_view(client):
    """One DisplayExport client entry as CLIENT fields (None for a field the block did not set)."""
    name, anon_uid, anon_gid, options, mask = client[0], client[-5], client[-4], client[-2], client[-1]
    view = {"Clients": reported_name(name)}
    view["Squash"] = SQUASH_BITS.get(options & SQUASH_MASK, hex(options & SQUASH_MASK)) if mask & SQUASH_MASK else None
    view["Access_Type"] = ACCESS_BITS.get(options & ACCESS_MASK, hex(options & ACCESS_MASK)) if mask & ACCESS_MASK else None
    view["PrivilegedPort"] = bool(options & PRIVILEGED_PORT) if mask & PRIVILEGED_PORT else None
    view["SecType"] = sorted(f for f, bit in FLAVOR_BITS.items() if options & bit) if mask & FLAVOR_MASK else None
    view["Anonymous_Uid"] = anon_uid if mask & ANON_SET else None
    view["Anonymous_Gid"] = anon_gid if mask & ANON_SET else None
    return view


def busctl(host, method, *args):
    """Call a method of Ganesha's ExportMgr over DBus; its reply's data."""
    command = ("timeout 30 busctl --json=short call org.ganesha.nfsd /org/ganesha/nfsd/ExportMgr "
               "org.ganesha.nfsd.exportmgr " + method + " %s" * len(args))
    return json.loads(host.check_output(command, *map(str, args)))["data"]


def displayed_clients(host, path):
    """What Ganesha reports for the export of ``path``: its clients, in Ganesha's order."""
    exports = busctl(host, "ShowExports")[1]
    ids = [entry[0] for entry in exports if entry[1] == path]
    assert ids, f"Ganesha on {host.backend.name} does not serve {path}: {[e[1] for e in exports]}"
    return busctl(host, "DisplayExport", "q", ids[0])[4]


@pytest.fixture(scope="module")
def corpus():
    accepted, refused = [], []
    for index, options in enumerate(draw_option_lists()):
        host = corpus_host(index)
        try:
            expected = ganesha_client(host, options)
        except ExportsError as exc:
            refused.append((host, options, str(exc)))
            continue
        accepted.append({"host": host, "options": options, "expected": expected})
    # Overlapping kinds: Ganesha must get them in exports(5)'s precedence, not as listed.
    overlapping = [("*", ["ro", "all_squash"]), ("@differential", ["ro"]), ("10.214.0.0/255.255.255.0", ["ro"]),
                   ("10.214.0.9", ["rw"])]
    for host, options in overlapping:
        accepted.append({"host": host, "options": options, "expected": ganesha_client(host, options)})
    return {"accepted": accepted, "refused": refused}


@pytest.fixture(scope="module")
def loaded(corpus):
    """The role run with the corpus export; Ganesha's report of it per server."""
    clients = [{"host": c["host"], "options": c["options"]} for c in corpus["accepted"]]
    rc, _data, text = run_role({"nfs_server_exports": SCENARIO_EXPORTS + [{"path": DIFF_PATH, "clients": clients}]})
    assert rc == 0, text
    return {name: displayed_clients(docker_host(name), DIFF_PATH) for name in SERVERS}


def test_corpus_is_large_and_mixed(corpus):
    assert len(corpus["accepted"]) >= 100, len(corpus["accepted"])
    assert corpus["refused"], "the corpus should hold lists Ganesha cannot express (flavors that differ)"
    assert any(len(c["expected"]["SecType"]) > 1 for c in corpus["accepted"])
    assert any(c["expected"]["ignored"] for c in corpus["accepted"])


@pytest.mark.parametrize("server", SERVERS)
def test_ganesha_reports_what_the_kernel_meaning_says_for_every_client(corpus, loaded, server):
    # The role adds 127.0.0.1 to every export for its own proof.
    views = {view["Clients"]: view for view in map(ganesha_view, loaded[server]) if view["Clients"] != "127.0.0.1"}
    disagreements = []
    for case in corpus["accepted"]:
        expected = dict(case["expected"], SecType=sorted(case["expected"]["SecType"]))
        view = views.get(case["expected"]["Clients"])
        if view is None:
            expected_names = {c["expected"]["Clients"] for c in corpus["accepted"]}
            disagreements.append({"client": case["host"], "not reported; Ganesha's other names": sorted(set(views) - expected_names)})
            continue
        differing = {k: (expected[k], view[k]) for k in COMPARED if expected[k] != view[k]}
        if differing:
            disagreements.append({"client": case["host"], "options": case["options"], "model vs Ganesha": differing})
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report.update({"clients_compared": len(corpus["accepted"]), "option_lists_refused": len(corpus["refused"]),
                   "refusals": sorted({r[2].rpartition(": ")[0].rpartition("ganesha: ")[2] for r in corpus["refused"]}),
                   server: {"reported": len(views), "disagreements": len(disagreements)}})
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    assert not disagreements, json.dumps(disagreements[:10], indent=1)
    assert len(views) == len(corpus["accepted"])


@pytest.mark.parametrize("server", SERVERS)
def test_ganesha_gets_the_clients_in_exports5_precedence(loaded, server):
    order = [reported_name(c[0]) for c in loaded[server]]
    ranks = {"10.214.0.9": 0, "10.214.0.0/24": 1, "@differential": 3, "*": 4}
    seen = [ranks[name] for name in order if name in ranks]
    assert seen == sorted(seen) and len(seen) == 4, order


def test_what_ganesha_cannot_express_stops_the_role_before_any_change(corpus):
    host = docker_host(SERVERS[0])
    before = host.file("/etc/ganesha/ganesha.conf").content_string
    refused = [{"host": f"10.215.0.{i + 1}", "options": options} for i, options in enumerate(REFUSED_EXAMPLES)]
    rc, _data, text = run_role({"nfs_server_exports": SCENARIO_EXPORTS + [{"path": DIFF_PATH + "-refused",
                                                                           "clients": refused}]})
    assert rc != 0
    assert "not possible with nfs_server_backend ganesha" in text, text
    for word in ("sec=sys gets rw", "security_label", "xprtsec=tls"):
        assert word in text, text
    assert host.file("/etc/ganesha/ganesha.conf").content_string == before
    assert not host.file(DIFF_PATH + "-refused").exists


def test_sys_access_through_nfs_from_two_client_addresses():
    server = docker_host(SERVERS[0])
    writer, reader = docker_host(CLIENT), docker_host(SERVERS[1])
    writer_ip, reader_ip, server_ip = container_ip(CLIENT), container_ip(SERVERS[1]), container_ip(SERVERS[0])
    rc, _data, text = run_role({"nfs_server_exports": SCENARIO_EXPORTS + [{
        "path": ACCESS_PATH, "mode": "0777",
        "clients": [{"host": writer_ip, "options": "rw,root_squash,anonuid=4321,anongid=4322"},
                    {"host": reader_ip, "options": "ro,no_root_squash"}]}]})
    assert rc == 0, text
    token = uuid.uuid4().hex
    name = "written-by-root-" + token
    url = f"nfs://{server_ip}{ACCESS_PATH}/{name}"
    writer.check_output("printf %s > /tmp/%s && timeout 30 nfs-cp /tmp/%s %s", token, name, name, url)
    # root on the read-write client was squashed to anonuid/anongid.
    assert server.check_output("stat -c %%u:%%g %s", f"{ACCESS_PATH}/{name}") == "4321:4322"
    # The read-only client reads it and cannot write.
    assert reader.check_output("timeout 30 nfs-cat %s", url) == token
    reader.check_output("printf x > /tmp/ro-probe")
    denied = reader.run("timeout 30 nfs-cp /tmp/ro-probe %s", f"nfs://{server_ip}{ACCESS_PATH}/ro-{token}")
    assert denied.rc != 0, denied.stdout
    assert not server.file(f"{ACCESS_PATH}/ro-{token}").exists


def test_the_scenario_configuration_is_restored():
    rc, _data, text = run_role({})
    assert rc == 0, text
    content = docker_host(SERVERS[0]).file("/etc/ganesha/ganesha.conf").content_string
    assert DIFF_PATH not in content and ACCESS_PATH not in content
