# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an export means for one client, and how each NFS server backend says it.

One model, :class:`ClientMeaning`, built from a client's effective option list (the line's
``-defaults`` first, then the client's own options) the way nfs-utils' exportfs reads it
(support/nfs/exports.c, parseopts). The model is proven against the real exportfs: the
nfs_kernel_vm scenario loads a corpus of exports files into ``exportfs -ra`` in a VM and
compares ``exportfs -v`` with :func:`exportfs_options` (molecule/nfs_kernel_vm/tests/
test_50_exportfs_differential.py).

Two spellings of the model:

* :func:`exportfs_options`: the kernel's, every setting spelled out as ``exportfs -v`` does.
  The kernel backend writes the user's own option list to /etc/exports; exportfs gives it
  this meaning.
* :func:`ganesha_clients`: the fields of NFS-Ganesha's CLIENT blocks (ganesha-export-config(8),
  "EXPORT_DEFAULTS {}", whose export permission options CLIENT blocks repeat). The nfs_server
  role's ganesha.conf template prints these fields and decides nothing. The nfs_server
  scenario loads them into a real NFS-Ganesha and compares what Ganesha reports over DBus
  (ExportMgr.DisplayExport) with this model, and proves access with NFS from two client
  addresses (molecule/nfs_server/tests/test_ganesha_differential.py).

How exports(5) maps to NFS-Ganesha, per client:

========================  ==============================================================
exports(5)                NFS-Ganesha CLIENT field
========================  ==============================================================
rw / ro                   Access_Type = RW / RO
root_squash, no_root_     Squash = Root_Squash / No_Root_Squash / All_Squash
squash, all_squash        (all_squash wins, as in the kernel)
anonuid= / anongid=       Anonymous_Uid / Anonymous_Gid (65534 when not given, as exports(5);
                          Ganesha's own default is -2)
secure / insecure         PrivilegedPort = true / false
sec=                      SecType (sys; unix is sys; none and null are none; krb5, krb5i,
                          krb5p as named)
host kinds                Clients; CLIENT blocks in exports(5)'s precedence ("Machine Name
                          Formats": single hosts, then IP networks, wildcards, netgroups,
                          anonymous), because Ganesha takes the first CLIENT that matches
========================  ==============================================================

Refused for NFS-Ganesha (they change access or security and Ganesha cannot say them):
settings that differ by flavor after ``sec=`` in what they mean (Ganesha has one Access_Type,
Squash and PrivilegedPort per CLIENT for all of its SecTypes; flavors that differ only in
root_squash while all_squash is on mean the same and are accepted), ``security_label`` (Ganesha 4 sets
security labels per EXPORT, not per client) and ``xprtsec=`` without ``none`` (Ganesha
serves no RPC-with-TLS, so it would let in the clear-text clients the kernel refuses).
Accepted and ignored, listed in :data:`GANESHA_IGNORED` with the reason: options that
change neither access nor security, or only where Ganesha has its own fixed behaviour.
"""

from __future__ import annotations

import ipaddress
from collections import namedtuple

from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    VALUE_OPTIONS,
    ExportsError,
    _check_value,
    validate_host,
)

# --------------------------------------------------------------------------------------
# The model: what exportfs makes of an option list
# --------------------------------------------------------------------------------------

# Boolean settings as nfs-utils keeps them (one bit each in struct exportent's e_flags), by
# the name of the option that sets the bit and the one that clears it. Order: how
# exportfs_options() lists them.
_SETTINGS = (
    # (set, clear)
    ('async', 'sync'),
    ('wdelay', 'no_wdelay'),
    ('nohide', 'hide'),
    ('crossmnt', 'nocrossmnt'),
    ('no_subtree_check', 'subtree_check'),
    ('insecure_locks', 'secure_locks'),
    ('no_acl', 'acl'),
    ('pnfs', 'no_pnfs'),
    ('nordirplus', None),
    ('security_label', None),
    # Per flavor (the kernel's secinfo flags): listed after each sec= group.
    ('ro', 'rw'),
    ('insecure', 'secure'),
    ('root_squash', 'no_root_squash'),
    ('all_squash', 'no_all_squash'),
)
_SETTING_OF = dict([(on, (on, True)) for on, _off in _SETTINGS]
                   + [(off, (on, False)) for on, off in _SETTINGS if off]
                   + [('auth_nlm', ('insecure_locks', False)), ('no_auth_nlm', ('insecure_locks', True))])
#: Settings that can differ per security flavor after "sec=": the kernel's secinfo flags
#: (/proc/fs/nfsd/export_features). exports(5) lists ro/rw, root_squash and all_squash only;
#: validate_options() keeps to that list, exportfs also takes secure/insecure.
PER_FLAVOR_SETTINGS = ('ro', 'insecure', 'root_squash', 'all_squash')
# nfs-utils EXPORT_DEFAULT_FLAGS: ro, root_squash, wdelay, no_subtree_check; everything else off.
_DEFAULT_SETTINGS = frozenset(('ro', 'root_squash', 'wdelay', 'no_subtree_check'))
#: anonuid and anongid when not given (nfs-utils: the uid and gid of nobody, 65534).
ANON_ID = 65534
# sys and unix name one flavor (AUTH_UNIX), as do none and null (AUTH_NULL).
_FLAVOR_NUMBER = {'none': 0, 'null': 0, 'sys': 1, 'unix': 1, 'krb5': 390003, 'krb5i': 390004, 'krb5p': 390005}

#: What exportfs makes of a client's options.
#: ``settings``: the names of the boolean settings that are on (the "set" names of the
#: table above; general ones and, for the options before any ``sec=``, per-flavor ones);
#: ``values``: anonuid and anongid (ints, always), fsid, uuid, mountpoint, refer,
#: replicas, xprtsec (strings, when given); ``flavors``: ``(name, settings)`` per security
#: flavor in the order first named (``sys`` when none is), each with the per-flavor and
#: general settings on for it.
ClientMeaning = namedtuple('ClientMeaning', 'settings values flavors')


def _apply_value(values, name, value):
    if name == 'fsid':
        if value == 'root':
            values['fsid'] = '0'
        elif value.isdigit():
            # strtoul(value, NULL, 0): a leading 0 means octal
            values['fsid'] = str(int(value, 8) if value.startswith('0') else int(value))
        else:
            values['uuid'] = value
    elif name in ('anonuid', 'anongid'):
        values[name] = int(value)
    elif name in ('mountpoint', 'mp'):
        values['mountpoint'] = value
    elif name in ('refer', 'replicas'):
        values.pop('refer', None)
        values.pop('replicas', None)
        values[name] = value
    else:
        values[name] = value


def client_meaning(options):
    """The :data:`ClientMeaning` of a client's effective option list.

    ``options`` is the list in order, the line's ``-defaults`` first. It follows how
    exportfs reads a list: it starts from the defaults of exports(5) (ro, sync, wdelay,
    hide, no_subtree_check, secure_locks, acl, root_squash, no_all_squash, secure, anonuid
    and anongid 65534, sec=sys); a later option overrides an earlier one;
    ``auth_nlm``/``no_auth_nlm`` are the old names of ``secure_locks``/``insecure_locks``
    and ``mp`` of ``mountpoint``; after ``sec=``, the settings that may differ per flavor
    (ro/rw, secure/insecure, root_squash, all_squash) apply to the flavors of the last
    ``sec=`` only, and a flavor first named later starts from the settings as they are at
    that point. Raises ExportsError for an option exportfs would refuse (unknown name, bad
    value), as ``validate_options()`` does, but accepts contradicting options (the later
    wins).
    """
    settings = set(_DEFAULT_SETTINGS)
    values = {'anonuid': ANON_ID, 'anongid': ANON_ID}
    flavors = []          # [name, settings] in the order first named
    active = []           # the flavors of the last sec=
    for opt in options:
        name, eq, value = opt.partition('=')
        if opt in _SETTING_OF:
            setting, on = _SETTING_OF[opt]
            for target in [settings] + [f[1] for f in active]:
                (target.add if on else target.discard)(setting)
            continue
        if opt in ('mountpoint', 'mp'):
            values['mountpoint'] = ''
            continue
        if not eq or name not in VALUE_OPTIONS:
            raise ExportsError(f'unknown export option {opt!r} (see exports(5))')
        _check_value(f'option {opt!r}', name, value)
        if name != 'sec':
            _apply_value(values, name, value)
            continue
        active = []
        for flavor in value.split(':'):
            known = [f for f in flavors if _FLAVOR_NUMBER[f[0]] == _FLAVOR_NUMBER[flavor]]
            if not known:
                flavors.append([flavor, set(settings)])
                known = flavors[-1:]
            active.append(known[0])
    if not flavors:
        flavors.append(['sys', set(settings)])
    # A flavor also carries every general setting that is on at the end (nfs-utils
    # fix_pseudoflavor_flags).
    general = settings - set(PER_FLAVOR_SETTINGS)
    return ClientMeaning(frozenset(settings), values,
                         tuple((name, frozenset(own | general)) for name, own in flavors))


def _spelled(names, pool):
    """Each of ``names`` (the "set" names of _SETTINGS) as its set or clear option."""
    out = []
    for on, off in _SETTINGS:
        if on not in names:
            continue
        if on in pool:
            out.append(on)
        elif off:
            out.append(off)
    return out


def exportfs_options(options):
    """The complete options exportfs applies to a client given ``options``.

    ``options`` as for :func:`client_meaning`. Returns a tuple of option strings, every
    setting spelled out, in this order: sync or async, wdelay or no_wdelay, hide or nohide,
    crossmnt or nocrossmnt, subtree_check or no_subtree_check, secure_locks or
    insecure_locks, acl or no_acl, pnfs or no_pnfs, then ``nordirplus`` and
    ``security_label`` when set, ``fsid=`` (number, then UUID) and ``mountpoint[=path]``
    when given, ``anonuid=``, ``anongid=``, ``refer=``/``replicas=`` and ``xprtsec=`` when
    given; then per group of consecutive flavors with the same settings
    ``sec=flavor[:flavor]`` followed by rw or ro, secure or insecure, root_squash or
    no_root_squash, all_squash or no_all_squash. Raises ExportsError as
    :func:`client_meaning` does.
    """
    meaning = client_meaning(options)
    values = meaning.values
    result = _spelled([on for on, _off in _SETTINGS if on not in PER_FLAVOR_SETTINGS], meaning.settings)
    if 'fsid' in values:
        result.append('fsid=' + values['fsid'])
    if 'uuid' in values:
        result.append('fsid=' + values['uuid'])
    if 'mountpoint' in values:
        result.append('mountpoint' + ('=' + values['mountpoint'] if values['mountpoint'] else ''))
    result += [f'anonuid={values["anonuid"]}', f'anongid={values["anongid"]}']
    result += [f'{name}={values[name]}' for name in ('refer', 'replicas', 'xprtsec') if name in values]
    for names, own in _flavor_groups(meaning.flavors):
        result.append('sec=' + ':'.join(names))
        result += _spelled(PER_FLAVOR_SETTINGS, own)
    return tuple(result)


def _flavor_groups(flavors):
    """``[(names, settings)]``: consecutive flavors with equal settings, grouped."""
    groups = []
    for name, own in flavors:
        if groups and groups[-1][1] == own:
            groups[-1][0].append(name)
        else:
            groups.append(([name], own))
    return groups


# --------------------------------------------------------------------------------------
# NFS-Ganesha's spelling (ganesha-export-config(8))
# --------------------------------------------------------------------------------------

#: Options NFS-Ganesha does not express, accepted and ignored, with the reason
#: (documented in the nfs_server role's README and argument specs).
GANESHA_IGNORED = {
    'sync': 'Ganesha commits writes as its FSAL does (NFS_Commit is an EXPORT setting)',
    'async': 'Ganesha commits writes as its FSAL does (NFS_Commit is an EXPORT setting)',
    'wdelay': 'a kernel write-gathering heuristic', 'no_wdelay': 'a kernel write-gathering heuristic',
    'subtree_check': 'Ganesha file handles carry the export; no subtree checking',
    'no_subtree_check': 'Ganesha file handles carry the export; no subtree checking',
    'hide': 'Ganesha builds its own NFSv4 pseudo file system from each Pseudo path',
    'nohide': 'Ganesha builds its own NFSv4 pseudo file system from each Pseudo path',
    'crossmnt': 'Ganesha builds its own NFSv4 pseudo file system from each Pseudo path',
    'nocrossmnt': 'Ganesha builds its own NFSv4 pseudo file system from each Pseudo path',
    'secure_locks': 'Ganesha checks lock requests like any other request',
    'auth_nlm': 'Ganesha checks lock requests like any other request',
    'insecure_locks': 'Ganesha checks lock requests like any other request (stricter, never looser)',
    'no_auth_nlm': 'Ganesha checks lock requests like any other request (stricter, never looser)',
    'acl': 'ACL support is a Ganesha EXPORT setting (Disable_ACL), not a client one',
    'no_acl': 'ACL support is a Ganesha EXPORT setting (Disable_ACL), not a client one',
    'pnfs': 'pNFS layouts are a Ganesha FSAL setting', 'no_pnfs': 'pNFS layouts are a Ganesha FSAL setting',
    'nordirplus': 'READDIRPLUS is a Ganesha EXPORT setting (NFSv3 only), not a client one',
    'fsid': 'Ganesha identifies an export by its Export_Id (the role keeps it stable)',
    'mountpoint': 'Ganesha refuses an export whose path does not exist', 'mp': 'Ganesha refuses an export whose path does not exist',
    'refer': 'NFSv4 referrals are not written by this role for Ganesha',
    'replicas': 'NFSv4 referrals are not written by this role for Ganesha',
}
# ganesha-export-config(8) SecType values; exports(5) also spells sys as unix, none as null.
_GANESHA_FLAVOR = {'sys': 'sys', 'unix': 'sys', 'none': 'none', 'null': 'none',
                   'krb5': 'krb5', 'krb5i': 'krb5i', 'krb5p': 'krb5p'}
# exports(5) "Machine Name Formats": a client matching several specifications gets the
# first kind in this order, whatever the order on the line; within one kind, the first
# listed. Ganesha takes the first CLIENT block that matches, so blocks go in this order.
_HOST_PRECEDENCE = {'address': 0, 'hostname': 0, 'network': 1, 'wildcard': 2, 'netgroup': 3, 'anonymous': 4}


def _ganesha_host(host):
    """The host as Ganesha's Clients takes it: a network with a dotted mask as a prefix."""
    host = host or '*'
    kind = validate_host(host)
    if kind == 'network' and ':' not in host:
        host = ipaddress.IPv4Network(host, strict=True).with_prefixlen
    return host, _HOST_PRECEDENCE[kind]


def _ganesha_access(own):
    """(Access_Type, Squash, PrivilegedPort) of one flavor's settings: all_squash squashes root
    too, so with it root_squash and no_root_squash mean the same (nfsd, nfsd_setuser)."""
    squash = 'All_Squash' if 'all_squash' in own else ('Root_Squash' if 'root_squash' in own else 'No_Root_Squash')
    return 'RO' if 'ro' in own else 'RW', squash, 'insecure' not in own


def _ganesha_refusals(options, meaning):
    """Why Ganesha cannot express ``options`` (empty when it can)."""
    refusals = []
    per_flavor = [(name, own & set(PER_FLAVOR_SETTINGS)) for name, own in meaning.flavors]
    if len({_ganesha_access(own) for _name, own in per_flavor}) > 1:
        said = '; '.join(f'sec={name} gets ' + ','.join(_spelled(PER_FLAVOR_SETTINGS, own)) for name, own in per_flavor)
        refusals.append(f'{said}: NFS-Ganesha has one Access_Type, Squash and PrivilegedPort per CLIENT for all '
                        'of its SecTypes (ganesha-export-config(8)), so settings that differ by flavor cannot be '
                        'expressed; give every flavor the same settings')
    if 'security_label' in meaning.settings:
        refusals.append("option 'security_label': NFS-Ganesha sets NFSv4.2 security labels per EXPORT, not per "
                        'client')
    xprtsec = meaning.values.get('xprtsec')
    if xprtsec and 'none' not in xprtsec.split(':'):
        refusals.append(f"option 'xprtsec={xprtsec}': NFS-Ganesha serves no RPC-with-TLS, so it would let in "
                        'the clear-text clients the kernel refuses')
    return refusals


def ganesha_client(host, options):
    """The NFS-Ganesha CLIENT fields of one client, as a dict.

    ``host`` is an exports(5) host specification, ``options`` the client's effective option
    list (as for :func:`client_meaning`). Returns ``{Clients, Access_Type, Squash,
    Anonymous_Uid, Anonymous_Gid, PrivilegedPort, SecType, ignored, precedence}``:
    ``Access_Type`` ``RW`` or ``RO``; ``Squash`` ``Root_Squash``, ``No_Root_Squash`` or
    ``All_Squash``; the ids as ints; ``PrivilegedPort`` a bool; ``SecType`` a list of
    Ganesha flavor names; ``ignored`` the given options Ganesha does not express (see
    :data:`GANESHA_IGNORED`); ``precedence`` the rank of the host's kind in exports(5)'s
    matching order (0 single host ... 4 anonymous). Raises ExportsError naming the options
    and the reason when they change access or security in a way Ganesha cannot express.
    """
    meaning = client_meaning(options)
    refusals = _ganesha_refusals(options, meaning)
    if refusals:
        raise ExportsError('client {} with options {}: not possible with nfs_server_backend ganesha: {}'.format(
            host or '*', ','.join(options) or '(none)', '; '.join(refusals)))
    access, squash, privileged = _ganesha_access(meaning.flavors[0][1])
    clients, precedence = _ganesha_host(host)
    sec_types = []
    for name, _own in meaning.flavors:
        if _GANESHA_FLAVOR[name] not in sec_types:
            sec_types.append(_GANESHA_FLAVOR[name])
    ignored = []
    for opt in options:
        if opt.partition('=')[0] in GANESHA_IGNORED and opt not in ignored:
            ignored.append(opt)
    return {'Clients': clients, 'Access_Type': access, 'Squash': squash,
            'Anonymous_Uid': meaning.values['anonuid'], 'Anonymous_Gid': meaning.values['anongid'],
            'PrivilegedPort': privileged, 'SecType': sec_types, 'ignored': ignored,
            'precedence': precedence}


def ganesha_clients(clients):
    """The CLIENT fields of an export's clients, in the order Ganesha must see them.

    ``clients`` is a list of ``{host, options}`` (options effective, as the nfs_exports
    filter returns them). Returns :func:`ganesha_client`'s dicts, each with ``options`` (the
    exports(5) options it came from), sorted by exports(5)'s matching precedence and, within
    a kind, in the given order. Raises one ExportsError naming every client Ganesha cannot
    express.
    """
    fields, refusals = [], []
    for client in clients:
        try:
            entry = ganesha_client(client['host'], list(client['options']))
        except ExportsError as exc:
            refusals.append(str(exc))
            continue
        entry['options'] = list(client['options'])
        fields.append(entry)
    if refusals:
        raise ExportsError('; '.join(refusals))
    return sorted(fields, key=lambda entry: entry['precedence'])
