# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key map: which private key on which host opens which account where.

Two halves: on each audited host, ``authorized_keys_info`` with
``private_keys: true`` lists the private keys in every audited account's
``~/.ssh`` (:func:`attach_private_keys`, through the ``ssh_key_info``
operation: the trust walk of ``_fs``, at most 256 KiB per file, public data
and "protected by a passphrase or not" only); on the controller,
:func:`build_key_map` joins them, fleet-wide, with the key lines sshd accepts.

    host A, ~bob/.ssh/id_ed25519 (no passphrase) opens root@B and deploy@C

Flags: a private key without passphrase that opens root; an orphan private key
(its public half is authorized on no audited account); an authorized key whose
private half is on no audited host (it lives elsewhere: a laptop, a CI
system - or nobody knows where).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pwd

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo

# private keys listed per account (~/.ssh is the account's: it could hold thousands of files)
MAX_PRIVATE_KEYS = 100


def unread_files(plan):
    """What of ~/.ssh could not be judged (a linked, hard-linked or oversized file, a
    private key that cannot be read): the listing is then not the whole truth and says so."""
    return [text for text in plan.warnings if text.startswith('skipped ') or 'does not look like a private key' in text]


def private_keys_of(user, uid, home):
    """([{path, fingerprint, type, bits, encrypted}], problem or None) of ``~/.ssh``."""
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:
        gid = uid
    account = Account(user, uid, gid, home)
    operation = SshKeyInfo(KeyInfoSpec(account))
    try:
        plan = operation.plan()
    except KeysmithError as exc:
        return [], exc.msg
    except Exception as exc:  # pylint: disable=broad-except
        # one account's ~/.ssh never blinds the audit of the others
        return [], 'listing failed: %s: %s' % (type(exc).__name__, exc)
    found = []
    for key in operation.keys:
        if not key.get('has_private_key'):
            continue
        # the key the private file holds, not what the account's .pub beside it says
        own = operation.private_public_keys.get(key['path'])
        if own is not None:
            key = dict(key, fingerprint=own.fingerprint_sha256, type=own.family, size=own.size)
        found.append({'path': key['path'], 'fingerprint': key['fingerprint'], 'type': key['type'],
                      'bits': key['size'], 'encrypted': key['has_passphrase']})
    problems = unread_files(plan)
    problems.extend('%s: which key it holds is unknown' % item['path'] for item in found if not item['fingerprint'])
    if len(found) > MAX_PRIVATE_KEYS:
        problems.append('%d private keys in %s/.ssh, the first %d listed' % (len(found), home, MAX_PRIVATE_KEYS))
        found = found[:MAX_PRIVATE_KEYS]
    problem = '; '.join(problems) or None
    del plan
    return found, problem


def attach_private_keys(accounts, warnings):
    """Add ``private_keys`` (and ``private_keys_problem``) to every audited account."""
    for account in accounts:
        keys, problem = private_keys_of(account['user'], account['uid'], account.get('home') or '/')
        account['private_keys'] = keys
        account['private_keys_problem'] = problem
        if problem and 'does not exist' not in problem:
            warnings.append('private keys of %s: %s' % (account['user'], problem))


def _who(user, host):
    return '%s@%s' % (user, host)


def build_key_map(results):
    """The fleet key map from {host: authorized_keys_info result}.

    Returns {'private_keys': [...], 'authorized_without_private': [...],
    'collected': hosts that listed private keys, 'edges': [(from, to)]}."""
    opens = {}
    hosts_listed = []
    private = []
    for host in sorted(results):
        result = results[host] or {}
        listed = False
        for account in result.get('accounts') or ():
            if 'private_keys' in account:
                listed = True
            for key in account.get('keys') or ():
                if key.get('accepted') and not key.get('cert_authority'):
                    opens.setdefault(key['fingerprint'], []).append(
                        {'host': host, 'user': account['user'], 'uid': account.get('uid'),
                         'from': key.get('from'), 'options': key.get('options') or ''})
            for item in account.get('private_keys') or ():
                private.append(dict(item, host=host, user=account['user']))
        if listed:
            hosts_listed.append(host)
    held = set()
    entries = []
    for item in private:
        fingerprint = item['fingerprint']
        held.add(fingerprint)
        places = opens.get(fingerprint, []) if fingerprint else []
        reaches_root = any(place['uid'] == 0 for place in places)
        flags = []
        if not places:
            flags.append('orphan')
        if reaches_root and item['encrypted'] is False:
            flags.append('unencrypted reaches root')
        opened = [_who(place['user'], place['host']) for place in places]
        entries.append({
            'host': item['host'], 'user': item['user'], 'path': item['path'], 'fingerprint': fingerprint,
            'type': item.get('type'), 'bits': item.get('bits'), 'encrypted': item['encrypted'],
            'opens': opened, 'reaches_root': reaches_root, 'flags': flags,
            'text': '%s %s (%s) opens %s' % (
                item['host'], item['path'],
                'passphrase' if item['encrypted'] else ('no passphrase' if item['encrypted'] is False
                                                        else 'passphrase unknown'),
                ', '.join(opened) if opened else 'nothing on the audited hosts'),
        })
    without = []
    if hosts_listed:
        for fingerprint in sorted(opens):
            if fingerprint not in held:
                places = opens[fingerprint]
                without.append({'fingerprint': fingerprint,
                                'opens': [_who(place['user'], place['host']) for place in places],
                                'reaches_root': any(place['uid'] == 0 for place in places)})
    edges = []
    for entry in entries:
        for target in entry['opens']:
            edges.append(('%s:%s' % (entry['host'], entry['path']), target))
    return {'private_keys': entries, 'authorized_without_private': without, 'collected': hosts_listed,
            'edges': edges,
            'summary': {
                'private_keys': len(entries),
                'private_keys_unencrypted': sum(1 for entry in entries if entry['encrypted'] is False),
                'unencrypted_reaching_root': sum(1 for entry in entries
                                                 if 'unencrypted reaches root' in entry['flags']),
                'orphan_private_keys': sum(1 for entry in entries if 'orphan' in entry['flags']),
                'authorized_without_private': len(without),
            }}
