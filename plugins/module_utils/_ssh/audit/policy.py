# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Declarative key policy, checked over the fleet report (controller side,
``access_report``) and over one host's audit (``authorized_keys_info``'s
``policy``): both call the same rule functions (``KEY_RULES``).

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
                               (on one host: of that host)
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
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import key_map as _key_map

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


# ---------------------------------------------------------------------------
# The rules: one function each, called by the fleet check (access_report,
# :func:`evaluate`) and the host check (authorized_keys_info, :func:`evaluate_host`)
# alike. A key rule is ``rule(row, value, context)`` -> ``(message, fix)`` or None.

class Context:
    """What the key rules look at beside the row: the time, the accounts each key
    opens (over the rows checked: the fleet, or one host), the usage sections."""

    def __init__(self, rows, now, usage_by_host, times=None):
        self.now = now
        self.usage_by_host = usage_by_host or {}
        self.times = times or {}
        self.accounts_per_key = {}
        for row in rows:
            if row.get('accepted'):
                self.accounts_per_key.setdefault(row['fingerprint'], set()).add((row['host'], row['user']))


def _root_requires_from(row, value, context):
    if row.get('uid') == 0 and value and not row.get('from'):
        return 'a key that opens root without from=', 'add from="ADDRESSES" to the line (or remove the key)'
    return None


def _root_requires_restriction(row, value, context):
    options = row.get('options') or ''
    if row.get('uid') == 0 and value and not (_has_option(options, 'restrict') or _has_option(options, 'command')):
        return ('a key that opens root without restrict or command=',
                'add restrict (and the permits it needs) or command= to the line')
    return None


def _allowed_types(row, value, context):
    family = (row.get('type') or '').lower()
    if family not in value:
        return '%s keys are not allowed (%s)' % (family, ', '.join(value)), 'replace the key with one of an allowed type'
    return None


def _min_rsa_bits(row, value, context):
    bits = row.get('bits') or 0
    if (row.get('type') or '').lower() == 'rsa' and bits and bits < value:
        return 'RSA key of %d bits < %d' % (bits, value), 'replace the key'
    return None


def _min_ecdsa_bits(row, value, context):
    bits = row.get('bits') or 0
    if (row.get('type') or '').lower() in ('ecdsa', 'sk-ecdsa') and bits and bits < value:
        return 'ECDSA key of %d bits < %d' % (bits, value), 'replace the key'
    return None


def _max_accounts_per_key(row, limit, context):
    accounts = context.accounts_per_key
    if len(accounts.get(row['fingerprint'], ())) > limit:
        return ('the key opens %d accounts (> %d)' % (len(accounts[row['fingerprint']]), limit),
                'give each account (or person) its own key')
    return None


def _max_key_age_days(row, age, context):
    seconds, evidence = key_age(row, context.now, context.times)
    if seconds is not None and seconds > age * _DAY:
        return '%s: more than %d days' % (evidence, age), 'rotate the key (key_rotation)'
    return None


def _max_unused_days(row, unused_days, context):
    now = context.now
    usage = context.usage_by_host.get(row['host']) or {}
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
        return stale_reason, 'remove the key (access_cleanup)'
    return None


# the key rules, in the order their violations are listed
KEY_RULES = (
    ('root_requires_from', _root_requires_from),
    ('root_requires_restriction', _root_requires_restriction),
    ('allowed_types', _allowed_types),
    ('min_rsa_bits', _min_rsa_bits),
    ('min_ecdsa_bits', _min_ecdsa_bits),
    ('max_accounts_per_key', _max_accounts_per_key),
    ('max_key_age_days', _max_key_age_days),
    ('max_unused_days', _max_unused_days),
)


def _forbid_unencrypted_root_keys(key_map):
    """The violations of the private keys of the key map (``forbid_unencrypted_root_keys``)."""
    violations = []
    for entry in key_map.get('private_keys') or ():
        if 'unencrypted reaches root' in entry['flags']:
            violations.append({'host': entry['host'], 'user': entry['user'], 'fingerprint': entry['fingerprint'],
                               'file': entry['path'], 'line': None, 'rule': 'forbid_unencrypted_root_keys',
                               'message': 'private key without passphrase opens %s' % ', '.join(entry['opens']),
                               'fix': 'protect it with a passphrase (ssh-keygen -p) or remove it'})
    return violations


def evaluate(rows, policy, now, usage_by_host=None, key_map=None, times=None):
    """(violations, stale) of the key ``rows`` (the report's, with host, user,
    uid) under ``policy`` (checked). ``usage_by_host``: {host: the result's
    ``usage`` section}; ``key_map``: :func:`key_map.build_key_map`'s result;
    ``times``: :func:`file_times` of the results."""
    violations = []
    stale = {}
    if not policy:
        return violations, stale
    context = Context(rows, now, usage_by_host, times)

    for row in rows:
        if not row.get('accepted') or row.get('cert_authority'):
            continue
        for rule, check in KEY_RULES:
            if policy.get(rule) is None:
                continue
            found = check(row, policy[rule], context)
            if found is None:
                continue
            violations.append({'host': row['host'], 'user': row['user'], 'fingerprint': row['fingerprint'],
                               'file': row.get('file'), 'line': row.get('line'), 'rule': rule,
                               'message': found[0], 'fix': found[1]})
            row.setdefault('violations', []).append(rule)
            if rule == 'max_unused_days':
                stale.setdefault(row['host'], {}).setdefault(row['user'], []).append(row['fingerprint'])
    if policy.get('forbid_unencrypted_root_keys') and key_map:
        violations.extend(_forbid_unencrypted_root_keys(key_map))
    for accounts in stale.values():
        for user in accounts:
            accounts[user] = sorted(set(accounts[user]))
    return violations, stale


def host_rows(host, accounts):
    """The key rows of one host's audited ``accounts`` (authorized_keys_info's),
    as the report builds them: a copy of each key with host, user, uid."""
    rows = []
    for account in accounts:
        for key in account.get('keys') or ():
            row = dict(key)
            row.update(host=host, user=account['user'], uid=account.get('uid'))
            rows.append(row)
    return rows


def evaluate_host(host, accounts, policy, now, usage=None):
    """(violations, stale) of one host (``authorized_keys_info``'s ``policy``):
    the same rules as the fleet's over this host's accounts - keys shared
    across accounts counted on this host, private keys that open root here."""
    results = {host: {'accounts': accounts}}
    return evaluate(host_rows(host, accounts), policy, now, {host: usage} if usage else None,
                    _key_map.build_key_map(results), file_times(results))
