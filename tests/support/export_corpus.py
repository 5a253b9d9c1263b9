"""The corpus of exports(5) option lists both NFS differentials load (fixed seed): the Ganesha one
(molecule/nfs_server, through the role into NFS-Ganesha, read back over DBus) and the kernel one
(molecule/nfs_kernel_vm test_50, into the real exportfs), so both servers see the same lists.
Each list is valid as the role and exportfs take it: contradictions only across ``sec=``
sections, which is where the per-flavor cases are."""
from __future__ import annotations

import random

from ansible_collections.stateful.nfs.plugins.module_utils.exports import ExportsError, validate_options

SEED = 2026
CORPUS_SIZE = 150
# Choices per option family; a list draws one element of each family.
FAMILIES = [
    [[], ["rw"], ["ro"]],
    [[], ["root_squash"], ["no_root_squash"], ["all_squash"], ["no_all_squash"], ["root_squash", "all_squash"],
     ["no_all_squash", "no_root_squash"]],
    [[], ["secure"], ["insecure"]],
    [[], ["anonuid=1000"], ["anongid=2000"], ["anonuid=0", "anongid=0"], ["anonuid=70000", "anongid=70001"]],
    [[], ["sync"], ["async"]],
    [[], ["no_subtree_check"], ["subtree_check"]],
    [[], ["wdelay"], ["no_wdelay"], ["hide"], ["nohide"], ["crossmnt"], ["insecure_locks"], ["no_acl"],
     ["nordirplus"], ["pnfs"], ["fsid=7"], ["mountpoint"]],
]
FLAVORS = ["sys", "unix", "none", "null", "krb5", "krb5i", "krb5p"]


def draw_option_lists(count=CORPUS_SIZE, seed=SEED):
    """``count`` option lists exportfs and the role accept, the same on every run."""
    rng = random.Random(seed)
    lists = []
    while len(lists) < count:
        options = [o for family in FAMILIES for o in rng.choice(family)]
        rng.shuffle(options)
        shape = rng.random()
        if shape < 0.5:
            options.insert(rng.randrange(len(options) + 1), "sec=" + ":".join(rng.sample(FLAVORS, rng.randint(1, 2))))
        elif shape < 0.65:
            # Two sec= sections: the second flavor starts from the settings as they are then.
            first, second = rng.sample(["sys", "krb5", "krb5p", "none"], 2)
            options = ["sec=" + first] + options + ["sec=" + second] + rng.choice(FAMILIES[0] + FAMILIES[1])
        try:
            validate_options(options, "corpus")
        except ExportsError:
            continue
        lists.append(options)
    return lists


def corpus_host(index):
    """The client address of the corpus's list ``index`` (TEST-NET-like, never a real client)."""
    return f"10.213.{index // 200}.{index % 200 + 1}"
