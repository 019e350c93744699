# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who can log in where: the ``authorized_keys_info`` operation.

For every account (or a filtered set) the ``authorized_keys`` files are found
and judged the way sshd finds and judges them:

* the effective ``AuthorizedKeysFile`` comes from ``sshd -T`` (per account
  and client context with ``-C user=NAME,host=..,addr=..`` when the
  configuration has ``Match`` blocks: ``client_verdicts.py``); when ``sshd -T``
  fails, from ``sshd_config`` (its ``Include`` files, global section only) and
  sshd's defaults, with a warning (``sshd -T`` joins the entries with spaces:
  quoted entries are read back from the configuration's lines,
  ``settings.split_authorized_keys_file``);
* tokens ``%%``, ``%h``, ``%u``, ``%U`` are expanded as ``percent_expand``
  does, and a relative path is taken relative to the home directory; the path
  is not normalised (the kernel resolves ``..``); an unknown token is fatal in
  sshd, so the search ends at that entry;
* every file is opened with the account's rights, as sshd opens it
  (``_fs_audit.AccountReader``); nothing of a file the account cannot read is
  reported, and an account whose files could not be read that way (no root)
  or only in part (the read cap) has ``status`` ``not audited`` / ``incomplete``;
* a file is used only if sshd can open it as the account,
  it is a regular file and, with ``StrictModes``, it and every directory up to
  the home (or ``/``) are owned by root or the account and not writable by
  group or others: OpenSSH's ``auth_secure_path``, on the ``realpath``
  (Debian's sshd accepts a group-writable path whose group has only the
  account as member: ``sshd_flavor``);
* a key line is accepted when its file is used and :mod:`sshd_rules` (the
  parity-tested port, the one source of sshd's rules) refuses neither the line
  (``line_refusal``: options, certificate lines, ``expiry-time``,
  ``principals=``, an invalid ``from=``) nor what the settings make of it
  (``settings_refusals``: ``PubkeyAcceptedAlgorithms``, ``RequiredRSASize``;
  for a ``cert-authority`` line the certificate algorithms and
  ``CASignatureAlgorithms``). A valid ``from=`` marks the key
  ``client_dependent``.
  Per client context, the account may log in with a key at all
  (``login_rules``), ``from=`` allows the client and the key is not in
  ``RevokedKeys``.

Reads only; reports public data only (invalid lines by number, never text).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import os
import re
import socket
import time

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.account_state import AccountStates
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.certificate_access import CertificateAccess
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.accounts import list_accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    parse_key_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import (
    DEFAULT_SSHD_CONFIG,
    SshdReader,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.clients import clients_from_option
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.client_verdicts import ClientVerdicts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import key_map
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import policy as key_policy
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import collect as usage_collect
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.strict_modes import (
    UserGroups,
    secure_path_problem,
)

SSHD_FLAVORS = ('openssh', 'debian')
MAX_AUDIT_BYTES = _fs_audit.MAX_READ_BYTES
DEFAULT_WEAK_POLICY = {'rsa_min_bits': 2048, 'ecdsa_min_bits': 0, 'weak_types': ['dsa']}

# invalid_lines lists the first ones (a file of 64 MiB can have 30 million);
# invalid_line_count counts them all
MAX_INVALID_LINES = 1000
# key lines judged and listed per file (max_keys): a listed key costs a few KiB
# (its dict, its verdicts, its JSON); the others are counted, and the account is incomplete
MAX_KEYS = 10000
# and per run (all accounts, all files), or max_keys when that is more
MAX_KEYS_PER_RUN = 50000

_FINGERPRINT_RE = re.compile(r'^(SHA256:[A-Za-z0-9+/]{43}|MD5(:[0-9a-f]{2}){16})$')


# ---------------------------------------------------------------------------
# Keys

def _iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def _file_times(info):
    """``mtime`` and ``ctime`` of a file's report (ISO 8601 UTC, None when not known): every line of
    the file was written at or before its ``ctime``, the lower bound of a key's age (``policy``)."""
    return {'mtime': _iso(info.mtime) if info.mtime is not None else None,
            'ctime': _iso(info.ctime) if info.ctime is not None else None}


def weak_reasons(key, policy):
    reasons = []
    family = key.family
    if family in policy.get('weak_types', ()):
        reasons.append('%s keys are weak' % family.upper())
    if family == 'rsa' and key.size and key.size < policy.get('rsa_min_bits', 0):
        reasons.append('RSA key of %d bits < %d' % (key.size, policy['rsa_min_bits']))
    if family in ('ecdsa', 'sk-ecdsa') and key.size and key.size < policy.get('ecdsa_min_bits', 0):
        reasons.append('ECDSA key of %d bits < %d' % (key.size, policy['ecdsa_min_bits']))
    return reasons


def managed_fingerprints(items, what='managed_keys'):
    """The SHA256 (and MD5) fingerprints of the ``managed_keys`` entries."""
    found = set()
    for index, item in enumerate(items or (), 1):
        text = (item or '').strip()
        if _FINGERPRINT_RE.match(text):
            found.add(text)
            continue
        key, dummy = parse_key_text(text, '%s[%d]' % (what, index))
        found.add(key.fingerprint_sha256)
        found.add('MD5:' + key.fingerprint_md5)
    return found


def _line_refusals(sshd_line, settings, now):
    """Why sshd refuses every login a key line is meant for, from :mod:`sshd_rules`:
    the line itself (options, certificate line, expiry-time, principals=,
    an invalid from=) and the algorithm settings."""
    reasons = []
    reason = sshd_rules.line_refusal(sshd_line, now=now)
    if reason == 'expiry-time is in the past':
        reason = 'expiry-time %s has passed' % sshd_rules.line_expiry(sshd_line)[1]
    if reason is not None:
        reasons.append(reason)
    reasons.extend(sshd_rules.settings_refusals(
        sshd_line, settings.accepted_algorithms, getattr(settings, 'ca_signature_algorithms', None),
        settings.required_rsa_size))
    return reasons


# ---------------------------------------------------------------------------
# The operation

class AccessSpec:
    def __init__(self, users=None, uid_min=None, uid_max=None, managed_keys=None, weak_policy=None,
                 sshd_config=DEFAULT_SSHD_CONFIG, sshd_path=None, sshd_flavor='auto', now=None,
                 managed_keys_by_user=None, clients=None, usage=None, private_keys=False, max_keys=MAX_KEYS,
                 policy=None, host=None):
        # usage: a usage_collect.UsageSpec (sshd's login records) or None;
        # private_keys: list the private keys in every account's ~/.ssh (the key map)
        self.usage = usage
        self.private_keys = private_keys
        # policy: access_report's rules checked on this host (policy.evaluate_host); host: the name in its violations
        self.policy = key_policy.check_policy(policy)
        self.host = host or socket.gethostname()
        # None: "any client" (contexts derived from sshd_config)
        self.clients = clients_from_option(clients) if clients is not None else None
        self.users = list(users) if users else None
        self.uid_min = uid_min
        self.uid_max = uid_max
        self.managed = managed_fingerprints(managed_keys) if managed_keys is not None else None
        # {user: fingerprints}: an account listed here is judged by its own list
        # (what access_cleanup.yml enforces per account), the others by managed_keys.
        self.managed_by_user = {}
        for user, items in (managed_keys_by_user or {}).items():
            if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
                raise InvalidInput('managed_keys_by_user[%s] must be a list of public key lines or fingerprints'
                                   % user)
            self.managed_by_user[user] = managed_fingerprints(items, 'managed_keys_by_user[%s]' % user)
        policy = dict(DEFAULT_WEAK_POLICY)
        for name, value in (weak_policy or {}).items():
            if value is not None:
                policy[name] = value
        policy['weak_types'] = [item.lower() for item in policy['weak_types']]
        self.weak_policy = policy
        if not os.path.isabs(sshd_config):
            raise InvalidInput('sshd_config must be an absolute path, got %r' % sshd_config)
        self.sshd_config = sshd_config
        self.sshd_path = sshd_path
        if sshd_flavor == 'auto':
            # Debian and its derivatives (Ubuntu, ...) build sshd with the patch.
            sshd_flavor = 'debian' if _fs_audit.stat_path('/etc/debian_version').exists else 'openssh'
        if sshd_flavor not in SSHD_FLAVORS:
            raise InvalidInput('sshd_flavor must be one of auto, %s; got %r' % (', '.join(SSHD_FLAVORS), sshd_flavor))
        self.sshd_flavor = sshd_flavor
        self.now = now if now is not None else time.time()
        if max_keys is None or max_keys < 1:
            raise InvalidInput('max_keys must be at least 1, got %r' % max_keys)
        self.max_keys = max_keys


class AuthorizedKeysInfo(Operation):
    """Audit every account (``plan`` reads; there is never anything to apply)."""

    def __init__(self, spec, run_command):
        self.spec = spec
        self.run_command = run_command
        self.accounts = []
        self.sshd = None
        self.verdicts = None
        self.usage = None
        self.policy_violations = None
        # key lines this run may still judge and list (memory: a few KiB each)
        self.keys_left = max(MAX_KEYS_PER_RUN, spec.max_keys)

    def plan(self):
        plan = Plan()
        spec = self.spec
        self.sshd = SshdReader(self.run_command, spec.sshd_path, spec.sshd_config).load()
        self.user_groups = UserGroups() if spec.sshd_flavor == 'debian' else None
        self.group_names = dict((group.gr_gid, group.gr_name) for group in grp.getgrall())
        self.account_states = AccountStates(spec.now)
        warnings = list(self.sshd.warnings)
        # sshd opens the files as the account: so does the audit (one reader process as root).
        self.reader = _fs_audit.AccountReader(MAX_AUDIT_BYTES)
        try:
            self.verdicts = ClientVerdicts(self, warnings)
            self.certificates = CertificateAccess(self, warnings)
            for entry in list_accounts(spec, warnings):
                self.accounts.append(self._account(entry, warnings))
                self.certificates.account(entry, self.accounts[-1])
            self.verdicts.finish()
            self.certificates.finish(self.accounts)
        finally:
            self.reader.close()
        warnings.extend(w for w in self.sshd.warnings if w not in warnings)
        unchecked = sshd_rules.unchecked_signatures()
        if unchecked:
            warnings.append('%d certificate lines were read without checking their signatures (the CPU budget of '
                            'this run for RSA verifications is spent: their CA keys are unusually costly); sshd '
                            'never accepts a certificate written in authorized_keys' % unchecked)
        self._cross_reference()
        self._evidence(warnings)
        self._policy(warnings)
        for text in warnings:
            plan.warn(text)
        return plan

    def _evidence(self, warnings):
        """The ``usage`` and ``private_keys`` options: sshd's login records
        per key (``_ssh/usage``) and each account's private keys (``key_map``)."""
        if self.spec.usage is not None:
            self.usage = usage_collect.attach(self.accounts, self.spec.usage)
            warnings.extend('usage: %s' % text for text in self.usage['problems'])
        if self.spec.private_keys:
            key_map.attach_private_keys(self.accounts, warnings)

    def _policy(self, warnings):
        """The ``policy`` option: the fleet's rules over this host's accounts."""
        if self.spec.policy is None:
            return
        policy = self.spec.policy
        if policy.get('max_unused_days') is not None and self.usage is None:
            warnings.append('policy: max_unused_days is not checked without usage (no login records read)')
        if policy.get('forbid_unencrypted_root_keys') and not self.spec.private_keys:
            warnings.append('policy: forbid_unencrypted_root_keys is not checked without private_keys')
        self.policy_violations, dummy = key_policy.evaluate_host(self.spec.host, self.accounts, policy, self.spec.now,
                                                                 self.usage)

    def _account(self, entry, warnings):
        """The account's files and keys, judged for every client context
        (``ClientVerdicts``: settings per context, login refusals, from=, RevokedKeys)."""
        return self.verdicts.account(entry)

    def _status(self, files):
        """'audited', 'incomplete' (part of what sshd would read is unknown or not
        judged) or 'not audited' (nothing sshd would read could be read), with the reasons."""
        reasons = []
        read_any = False
        for item in files:
            if not item['audited']:
                reasons.append(item['reason'])
                continue
            if item['truncated']:
                reasons.append('file %s cut at %d bytes: sshd reads the whole file' % (item['path'], MAX_AUDIT_BYTES))
            if item.get('keys_not_listed'):
                listed = item['keys'] - item['keys_not_listed']
                reasons.append('file %s holds %d key lines: the first %d are judged and listed (max_keys per '
                               'file, %d per run), the other %d are not judged'
                               % (item['path'], item['keys'], listed, max(MAX_KEYS_PER_RUN, self.spec.max_keys),
                                  item['keys_not_listed']))
            if item['owner_uid'] is not None:
                read_any = True
        if not reasons:
            return 'audited', reasons
        unaudited = any(not item['audited'] for item in files)
        return ('not audited' if unaudited and not read_any else 'incomplete'), reasons

    @staticmethod
    def _blank_report(path, pattern, reason=None):
        return {'path': path, 'configured': pattern, 'exists': False, 'used': False, 'reason': reason,
                'owner_uid': None, 'mode': None, 'mtime': None, 'ctime': None, 'keys': 0, 'keys_not_listed': 0,
                'invalid_lines': [],
                'invalid_line_count': 0, 'truncated': False, 'audited': True}

    def _file(self, entry, path, pattern, settings, real_home, stopped=None):
        report = self._blank_report(path, pattern)
        got = self.reader.read(path, entry.uid, entry.gid, entry.groups, entry.name)
        if got.status == 'not audited':
            # Nothing of it goes into the result: this process could not read it as the account.
            report.update(audited=False, exists=None, reason='not audited: %s' % got.reason)
            return report, []
        if got.status == 'missing':
            report['reason'] = 'does not exist'
            return report, []
        if got.status == 'denied':
            # The account cannot open it, so sshd cannot: nothing from it is reported.
            report['exists'] = _fs_audit.stat_path(path).exists
            if got.errno == errno.EACCES:
                report['reason'] = 'permission denied: %s cannot open %s' % (entry.name, path)
            else:
                report['reason'] = '%s cannot open %s: %s' % (entry.name, path, got.reason)
            return report, []
        info, data = got.info, got.data
        if got.truncated:
            # sshd would read on: a line cut at the cap is not judged.
            data = data[:data.rfind(b'\n') + 1]
        report.update(exists=True, owner_uid=info.uid, mode='%04o' % info.mode, truncated=got.truncated)
        report.update(_file_times(info))
        if not info.is_file or data is None:
            report['reason'] = '%s is not a regular file' % path
        elif settings.strict_modes:
            rule = self.user_groups.single_member_rule(entry.uid) if self.user_groups else None
            report['reason'] = secure_path_problem(_fs_audit.real_path(path), info, real_home, entry.uid,
                                                   _fs_audit.stat_path, rule)
        if stopped is not None:
            report['reason'] = stopped
        report['used'] = report['reason'] is None
        if data is None:
            return report, []
        # One line at a time: a key line is judged (its dict is ~3 KiB) while the
        # file's bound (max_keys) is not reached, and only counted after it.
        keys = []
        invalid, invalid_count, count = [], 0, 0
        limit = min(self.spec.max_keys, self.keys_left)
        for line in AuthorizedKeys.iter_lines(data):
            if line.kind == 'lines':
                found, more = line.invalid_lines(max(MAX_INVALID_LINES - len(invalid), 0))
                invalid.extend(found)
                invalid_count += more
                continue
            count += 1
            if len(keys) < limit:
                line = line.parsed()
                keys.append(self.verdicts.judged(self._key(line, path, report, settings, entry.name), line))
        data = None
        self.keys_left -= len(keys)
        report['invalid_lines'], report['invalid_line_count'] = invalid, invalid_count
        report['keys'] = count
        report['keys_not_listed'] = count - len(keys)
        return report, keys

    def managed_set(self, user):
        """The fingerprints meant to exist for ``user``, or None when nothing is said."""
        if user in self.spec.managed_by_user:
            return self.spec.managed_by_user[user]
        return self.spec.managed

    def _key(self, line, path, file_report, settings, user=None):
        """One key line's verdict: every rule of sshd's comes from :mod:`sshd_rules`."""
        key = line.key
        sshd_line = line.sshd_line
        options = line.options or []
        values = dict((option.name.lower(), option.value) for option in reversed(options))
        refused = []
        if not file_report['used']:
            refused.append('file not used by sshd: %s' % file_report['reason'])
        refused.extend(_line_refusals(sshd_line, settings, self.spec.now))
        valid_before, expiry = sshd_rules.line_expiry(sshd_line)
        expires_at = valid_before or None
        expired = bool(valid_before) and valid_before < self.spec.now
        weak = weak_reasons(key, self.spec.weak_policy)
        fingerprint = key.fingerprint_sha256
        managed = None
        managed_set = self.managed_set(user)
        if managed_set is not None:
            managed = fingerprint in managed_set or ('MD5:' + key.fingerprint_md5) in managed_set
        return {
            'file': path,
            'line': line.number,
            'fingerprint': fingerprint,
            'type': key.family,
            'key_type': key.key_type,
            'bits': key.size,
            'comment': key.comment or '',
            'options': line.options_text or '',
            'from': values.get('from'),
            'cert_authority': 'cert-authority' in values,
            'expiry_time': expiry,
            'expires_at': _iso(expires_at) if expires_at is not None else None,
            'expired': expired,
            'client_dependent': not refused and sshd_rules.from_is_client_dependent(sshd_line.options),
            'weak': bool(weak),
            'weak_reasons': weak,
            'accepted': not refused,
            'refused_reasons': refused,
            'managed': managed,
            'accounts_with_key': 1,
            'duplicate': False,
        }

    def _cross_reference(self):
        where = {}
        for account in self.accounts:
            for key in account['keys']:
                where.setdefault(key['fingerprint'], []).append((account['user'], key))
        # Linear in key lines: where else a key is, is said once, in the
        # fingerprints index (a per-line list of the other accounts made the
        # result quadratic when a team key is on every account).
        for places in where.values():
            count = len(set(user for user, dummy in places))
            for user, key in places:
                key['accounts_with_key'] = count
                key['duplicate'] = len(places) > 1
        self.fingerprints = dict(
            (fingerprint, [{'user': user, 'file': key['file'], 'line': key['line'], 'accepted': key['accepted']}
                           for user, key in places])
            for fingerprint, places in where.items())

    def summary(self):
        keys = [key for account in self.accounts for key in account['keys']]
        files = [item for account in self.accounts for item in account['files']]
        return {
            'accounts': len(self.accounts),
            'accounts_with_keys': sum(1 for account in self.accounts if account['keys']),
            'accounts_that_can_log_in': sum(1 for account in self.accounts
                                            if any(key['accepted'] for key in account['keys'])),
            'accounts_without_keys': sum(1 for account in self.accounts
                                         if account['status'] == 'audited' and not account['keys']),
            'accounts_not_audited': sum(1 for account in self.accounts if account['status'] == 'not audited'),
            'accounts_incomplete': sum(1 for account in self.accounts if account['status'] == 'incomplete'),
            'files': sum(1 for item in files if item['exists']),
            'files_ignored': sum(1 for item in files if item['exists'] and not item['used']),
            'keys': len(keys),
            'keys_not_listed': sum(item.get('keys_not_listed', 0) for item in files),
            'accepted': sum(1 for key in keys if key['accepted']),
            'ignored': sum(1 for key in keys if not key['accepted']),
            'weak': sum(1 for key in keys if key['weak']),
            'expired': sum(1 for key in keys if key['expired']),
            'unmanaged': sum(1 for key in keys if key['managed'] is False),
            'duplicates': sum(1 for key in keys if key['duplicate']),
            'keys_client_dependent': sum(1 for key in keys if key.get('client_dependent')),
            'accounts_login_refused': sum(1 for account in self.accounts if account.get('login_refused_reasons')),
        }

    def result(self, plan, applied):
        managed_missing = []
        if self.spec.managed is not None or self.spec.managed_by_user:
            wanted = set(self.spec.managed or ())
            for fingerprints in self.spec.managed_by_user.values():
                wanted |= fingerprints
            present = set(self.fingerprints)
            managed_missing = sorted(fp for fp in wanted if fp.startswith('SHA256:') and fp not in present)
        summary = self.summary()
        summary.update(self.certificates.summary(self.accounts))
        extra = {}
        if self.usage is not None:
            extra['usage'] = self.usage
            summary['keys_unused'] = self.usage['keys_unused']
        if self.policy_violations is not None:
            extra['policy_violations'] = self.policy_violations
            summary['policy_violations'] = len(self.policy_violations)
        return dict(extra, **{
            'accounts': self.accounts,
            'fingerprints': self.fingerprints,
            'summary': summary,
            'sshd': dict(self.sshd.global_settings.as_dict(), config=self.spec.sshd_config,
                         per_user=self.sshd.per_user, per_group_set=self.sshd.by_groups,
                         runs=self.sshd.sshd_runs, flavor=self.spec.sshd_flavor,
                         per_client=self.sshd.by_client, any_client=self.spec.clients is None,
                         clients=[context.as_dict() for context in self.verdicts.contexts]),
            'managed_missing': managed_missing,
            'certificate_authorities': self.certificates.authorities(),
            'revocation_lists': self.certificates.revocation_lists(),
            'msg': '%d accounts, %d keys (%d accepted by sshd, %d weak, %d unmanaged)%s%s' % (
                summary['accounts'], summary['keys'], summary['accepted'], summary['weak'],
                summary['unmanaged'],
                ', %d more key lines not judged (max_keys)' % summary['keys_not_listed']
                if summary['keys_not_listed'] else '', self._not_audited_msg())
            + ('; %d policy violations' % len(self.policy_violations) if self.policy_violations else ''),
        })

    def _not_audited_msg(self):
        """What the audit could not see, for ``msg`` (empty when it saw everything)."""
        parts = []
        for status in ('not audited', 'incomplete'):
            names = [account['user'] for account in self.accounts if account['status'] == status]
            if names:
                shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
                noun = 'account' if len(names) == 1 else 'accounts'
                parts.append('%d %s %s (%s)' % (len(names), noun, status, shown))
        if not parts:
            return ''
        return '; ' + ', '.join(parts) + ': see accounts[].status_reasons'
