# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Declarative key policy, checked over the fleet report (controller side).

Rules (each off unless given; NIST IR 7966's controls for SSH user keys):

``root_requires_from``         a key sshd accepts for root (uid 0) needs ``from=``
``root_requires_restriction``  ... and ``restrict`` or ``command=``
``max_key_age_days``           no key older than N days; the age known to the audit is a
                               lower bound, the larger of: the time since its first login in
                               the logs read, and the time since the ``ctime`` of the file
                               holding the line (every line of a file was written at or before
                               its last inode change; ``mtime`` is not used: the file's owner
                               can set it back with ``utime``); so a violation is certain,
                               never a guess, and its message says which evidence gave the age
``max_accounts_per_key``       one key on at most N accounts (host and user) of the fleet
``min_rsa_bits``, ``min_ecdsa_bits``  minimum sizes
``allowed_types``              key families allowed (``ed25519``, ``ecdsa``, ``rsa``, ``sk-ed25519``, ...)
``max_unused_days``            a key with no login in the last N days; only where the usage
                               evidence covers those N days completely (``usage.complete``,
                               ``since`` at least N days back): otherwise unknown, not a violation
``forbid_unencrypted_root_keys``  a private key without passphrase found on an audited host
                               that opens root somewhere (the key map)

Only key lines sshd accepts are judged (an ignored line opens nothing).
Each violation says what fixes it (``fix``); keys unused for ``max_unused_days``
are also listed as ``stale`` per host and account, for ``access_cleanup``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput

RULES = ('root_requires_from', 'root_requires_restriction', 'max_key_age_days', 'max_accounts_per_key',
         'min_rsa_bits', 'min_ecdsa_bits', 'allowed_types', 'max_unused_days', 'forbid_unencrypted_root_keys')
_DAY = 86400


def check_policy(policy):
    """The policy with its values checked (InvalidInput otherwise); None when empty."""
    if not policy:
        return None
    if not isinstance(policy, dict):
        raise InvalidInput('policy must be a mapping of rule to value')
    unknown = sorted(set(policy) - set(RULES))
    if unknown:
        raise InvalidInput('unknown policy rules: %s (known: %s)' % (', '.join(unknown), ', '.join(RULES)))
    checked = {}
    for name, value in policy.items():
        if value is None:
            continue
        if name in ('root_requires_from', 'root_requires_restriction', 'forbid_unencrypted_root_keys'):
            if not isinstance(value, bool):
                raise InvalidInput('policy.%s must be true or false' % name)
        elif name == 'allowed_types':
            if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
                raise InvalidInput('policy.allowed_types must be a list of key types')
            value = [item.lower() for item in value]
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput('policy.%s must be a number >= 0' % name)
        checked[name] = value
    return checked or None


def _epoch(text):
    if not text:
        return None
    try:
        return calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%SZ'))
    except ValueError:
        return None


def _has_option(options_text, name):
    text = (options_text or '').lower()
    return any(part.strip().split('=', 1)[0] == name for part in text.split(','))


def file_times(results):
    """{(host, user, path): ctime text} of every audited file of ``results``
    ({host: authorized_keys_info's result}) whose ``ctime`` is known."""
    times = {}
    for host, result in (results or {}).items():
        for account in (result or {}).get('accounts') or ():
            for item in account.get('files') or ():
                if item.get('ctime'):
                    times[(host, account.get('user'), item.get('path'))] = item['ctime']
    return times


def key_age(row, now, times=None):
    """(seconds, message) of the lower bound of a key line's age, or (None, None): the
    larger of the time since its first login in the logs and since its file's ``ctime``."""
    found = (None, None)
    first = _epoch(row.get('first_used'))
    if first is not None:
        found = (now - first, 'in use since %s (its first login in the logs read)' % row['first_used'])
    changed_text = (times or {}).get((row.get('host'), row.get('user'), row.get('file')))
    changed = _epoch(changed_text)
    if changed is not None and (found[0] is None or now - changed > found[0]):
        found = (now - changed, 'on file since %s at the latest (the last inode change, ctime, of %s)'
                 % (changed_text, row.get('file')))
    return found


def evaluate(rows, policy, now, usage_by_host=None, key_map=None, times=None):
    """(violations, stale) of the key ``rows`` (the report's, with host, user,
    uid) under ``policy`` (checked). ``usage_by_host``: {host: the result's
    ``usage`` section}; ``key_map``: :func:`key_map.build_key_map`'s result;
    ``times``: :func:`file_times` of the results."""
    violations = []
    stale = {}
    if not policy:
        return violations, stale
    usage_by_host = usage_by_host or {}
    accounts_per_key = {}
    for row in rows:
        if row.get('accepted'):
            accounts_per_key.setdefault(row['fingerprint'], set()).add((row['host'], row['user']))

    def add(row, rule, message, fix):
        violation = {'host': row['host'], 'user': row['user'], 'fingerprint': row['fingerprint'],
                     'file': row.get('file'), 'line': row.get('line'), 'rule': rule, 'message': message,
                     'fix': fix}
        violations.append(violation)
        row.setdefault('violations', []).append(rule)

    for row in rows:
        if not row.get('accepted') or row.get('cert_authority'):
            continue
        root = row.get('uid') == 0
        options = row.get('options') or ''
        if root and policy.get('root_requires_from') and not row.get('from'):
            add(row, 'root_requires_from', 'a key that opens root without from=',
                'add from="ADDRESSES" to the line (or remove the key)')
        if root and policy.get('root_requires_restriction') and not (
                _has_option(options, 'restrict') or _has_option(options, 'command')):
            add(row, 'root_requires_restriction', 'a key that opens root without restrict or command=',
                'add restrict (and the permits it needs) or command= to the line')
        family = (row.get('type') or '').lower()
        if 'allowed_types' in policy and family not in policy['allowed_types']:
            add(row, 'allowed_types', '%s keys are not allowed (%s)' % (family, ', '.join(policy['allowed_types'])),
                'replace the key with one of an allowed type')
        bits = row.get('bits') or 0
        if family == 'rsa' and bits and bits < policy.get('min_rsa_bits', 0):
            add(row, 'min_rsa_bits', 'RSA key of %d bits < %d' % (bits, policy['min_rsa_bits']),
                'replace the key')
        if family in ('ecdsa', 'sk-ecdsa') and bits and bits < policy.get('min_ecdsa_bits', 0):
            add(row, 'min_ecdsa_bits', 'ECDSA key of %d bits < %d' % (bits, policy['min_ecdsa_bits']),
                'replace the key')
        limit = policy.get('max_accounts_per_key')
        if limit is not None and len(accounts_per_key.get(row['fingerprint'], ())) > limit:
            add(row, 'max_accounts_per_key', 'the key opens %d accounts (> %d)'
                % (len(accounts_per_key[row['fingerprint']]), limit),
                'give each account (or person) its own key')
        age = policy.get('max_key_age_days')
        if age is not None:
            seconds, evidence = key_age(row, now, times)
            if seconds is not None and seconds > age * _DAY:
                add(row, 'max_key_age_days', '%s: more than %d days' % (evidence, age),
                    'rotate the key (key_rotation)')
        unused_days = policy.get('max_unused_days')
        if unused_days is not None:
            usage = usage_by_host.get(row['host']) or {}
            last = _epoch(row.get('last_used'))
            # how far back the logs read reach (a key "unused" in 7 days of logs says nothing of 90)
            window_start = _epoch(usage.get('window_start'))
            covered = bool(usage.get('complete')) and window_start is not None \
                and window_start <= now - unused_days * _DAY
            if last is not None and now - last > unused_days * _DAY:
                stale_reason = 'last used %s (more than %d days ago)' % (row['last_used'], unused_days)
            elif last is None and row.get('unused') and covered:
                stale_reason = 'no login since %s, where the logs read begin (%d days or more)' % (
                    usage.get('window_start'), unused_days)
            else:
                stale_reason = None
            if stale_reason:
                add(row, 'max_unused_days', stale_reason, 'remove the key (access_cleanup)')
                stale.setdefault(row['host'], {}).setdefault(row['user'], []).append(row['fingerprint'])
    if policy.get('forbid_unencrypted_root_keys') and key_map:
        for entry in key_map.get('private_keys') or ():
            if 'unencrypted reaches root' in entry['flags']:
                violations.append({'host': entry['host'], 'user': entry['user'], 'fingerprint': entry['fingerprint'],
                                   'file': entry['path'], 'line': None, 'rule': 'forbid_unencrypted_root_keys',
                                   'message': 'private key without passphrase opens %s' % ', '.join(entry['opens']),
                                   'fix': 'protect it with a passphrase (ssh-keygen -p) or remove it'})
    for accounts in stale.values():
        for user in accounts:
            accounts[user] = sorted(set(accounts[user]))
    return violations, stale
