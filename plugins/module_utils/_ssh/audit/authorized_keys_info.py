# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who can log in where: the ``authorized_keys_info`` operation.

For every account (or a filtered set) the ``authorized_keys`` files are found
and judged the way sshd finds and judges them:

* the effective ``AuthorizedKeysFile`` comes from ``sshd -T`` (per account
  with ``-C user=NAME,host=,addr=`` when the configuration has ``Match``
  blocks); when ``sshd -T`` fails, from ``sshd_config`` (its ``Include``
  files, global section only) and sshd's defaults, with a warning;
* tokens ``%%``, ``%h``, ``%u``, ``%U`` are expanded as ``percent_expand``
  does, and a relative path is taken relative to the home directory;
* a file is used only if sshd can open it as the account (permission bits),
  it is a regular file and, with ``StrictModes``, it and every directory up to
  the home (or ``/``) are owned by root or the account and not writable by
  group or others: OpenSSH's ``auth_secure_path``, on the ``realpath``
  (Debian's sshd accepts a group-writable path whose group has only the
  account as member: ``sshd_flavor``);
* a key line is accepted when its file is used, its options parse, its
  ``expiry-time`` has not passed, its type is in ``PubkeyAcceptedAlgorithms``
  and an RSA key is at least ``RequiredRSASize``.

Reads only; reports public data only (invalid lines by number, never text).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import grp
import os
import re
import time

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.account_state import AccountStates
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.accounts import list_accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import (
    AuthorizedKeys,
    parse_key_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import (
    DEFAULT_SSHD_CONFIG,
    SshdReader,
    expand_tokens,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.strict_modes import (
    UserGroups,
    open_problem,
    secure_path_problem,
)

SSHD_FLAVORS = ('openssh', 'debian')
DEFAULT_WEAK_POLICY = {'rsa_min_bits': 2048, 'ecdsa_min_bits': 0, 'weak_types': ['dsa']}

_EXPIRY_RE = re.compile(r'^([0-9]{8})([0-9]{4})?([0-9]{2})?(Z?)$')
_FINGERPRINT_RE = re.compile(r'^(SHA256:[A-Za-z0-9+/]{43}|MD5(:[0-9a-f]{2}){16})$')


# ---------------------------------------------------------------------------
# Keys

def parse_expiry(value):
    """``parse_absolute_time``: epoch seconds of an expiry-time value (local time unless Z)."""
    match = _EXPIRY_RE.match(value or '')
    if not match:
        return None
    date, hhmm, ss, zulu = match.groups()
    fields = (int(date[0:4]), int(date[4:6]), int(date[6:8]),
              int(hhmm[0:2]) if hhmm else 0, int(hhmm[2:4]) if hhmm else 0, int(ss) if ss else 0)
    try:
        if zulu:
            return calendar.timegm(fields + (0, 0, 0))
        return int(time.mktime(fields + (0, 0, -1)))
    except (ValueError, OverflowError):
        return None


def _iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


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


# ---------------------------------------------------------------------------
# The operation

class AccessSpec:
    def __init__(self, users=None, uid_min=None, uid_max=None, managed_keys=None, weak_policy=None,
                 sshd_config=DEFAULT_SSHD_CONFIG, sshd_path=None, sshd_flavor='auto', now=None,
                 managed_keys_by_user=None):
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
            sshd_flavor = 'debian' if _fs.stat_path('/etc/debian_version').exists else 'openssh'
        if sshd_flavor not in SSHD_FLAVORS:
            raise InvalidInput('sshd_flavor must be one of auto, %s; got %r' % (', '.join(SSHD_FLAVORS), sshd_flavor))
        self.sshd_flavor = sshd_flavor
        self.now = now if now is not None else time.time()


class AuthorizedKeysInfo(Operation):
    """Audit every account (``plan`` reads; there is never anything to apply)."""

    def __init__(self, spec, run_command):
        self.spec = spec
        self.run_command = run_command
        self.accounts = []
        self.sshd = None

    def plan(self):
        plan = Plan()
        spec = self.spec
        self.sshd = SshdReader(self.run_command, spec.sshd_path, spec.sshd_config).load()
        self.user_groups = UserGroups() if spec.sshd_flavor == 'debian' else None
        self.group_names = dict((group.gr_gid, group.gr_name) for group in grp.getgrall())
        self.account_states = AccountStates(spec.now)
        warnings = list(self.sshd.warnings)
        for entry in list_accounts(spec, warnings):
            self.accounts.append(self._account(entry, warnings))
        warnings.extend(w for w in self.sshd.warnings if w not in warnings)
        self._cross_reference()
        for text in warnings:
            plan.warn(text)
        return plan

    def _account(self, entry, warnings):
        settings = self.sshd.for_user(entry.name, [self.group_names.get(gid, str(gid)) for gid in entry.groups])
        real_home = _fs.real_path(entry.home) if _fs.stat_path(entry.home).is_dir else None
        files = []
        keys = []
        seen_paths = set()
        for pattern in settings.authorized_keys_file:
            try:
                path = expand_tokens(pattern, entry)
            except InvalidInput as exc:
                warnings.append('%s: %s' % (entry.name, exc.msg))
                continue
            if path in seen_paths:
                continue
            seen_paths.add(path)
            file_report, file_keys = self._file(entry, path, pattern, settings, real_home)
            files.append(file_report)
            keys.extend(file_keys)
        account = {
            'user': entry.name,
            'uid': entry.uid,
            'home': entry.home,
            'shell': entry.shell,
            'sshd': settings.as_dict(),
            'files': files,
            'keys': keys,
            'login_refused_reasons': [],
        }
        self._account_state(account, entry, settings)
        return account

    def _account_state(self, account, entry, settings):
        """allowed_user's account checks: ``account_state``, and every refusal in
        ``login_refused_reasons`` and in each key's ``refused_reasons``."""
        state, refused = self.account_states.state(entry, settings)
        account['account_state'] = state
        account.setdefault('login_refused_reasons', []).extend(refused)
        if refused:
            for key in account['keys']:
                key['refused_reasons'].extend(refused)
                key['accepted'] = False

    def _file(self, entry, path, pattern, settings, real_home):
        report = {'path': path, 'configured': pattern, 'exists': False, 'used': False, 'reason': None,
                  'owner_uid': None, 'mode': None, 'keys': 0, 'invalid_lines': [], 'truncated': False}
        problem = open_problem(path, entry)
        if problem == 'missing':
            report['reason'] = 'does not exist'
            return report, []
        info, data, truncated = _fs.read_for_audit(path)
        if info is None:
            report['reason'] = problem or 'cannot be opened'
            return report, []
        report.update(exists=True, owner_uid=info.uid, mode='%04o' % info.mode, truncated=truncated)
        if problem is not None:
            report['reason'] = problem
        elif not info.is_file:
            report['reason'] = '%s is not a regular file' % path
        elif settings.strict_modes:
            rule = self.user_groups.single_member_rule(entry.uid) if self.user_groups else None
            report['reason'] = secure_path_problem(_fs.real_path(path), info, real_home, entry.uid,
                                                   _fs.stat_path, rule)
        if not settings.pubkey_authentication and report['reason'] is None:
            report['reason'] = 'PubkeyAuthentication is off'
        report['used'] = report['reason'] is None
        if data is None:
            return report, []
        model = AuthorizedKeys.parse(data)
        keys = []
        for line in model.lines:
            if line.kind == 'invalid':
                report['invalid_lines'].append(line.number)
            elif line.kind == 'key':
                keys.append(self._key(line, path, report, settings, entry.name))
        report['keys'] = len(keys)
        return report, keys

    def managed_set(self, user):
        """The fingerprints meant to exist for ``user``, or None when nothing is said."""
        if user in self.spec.managed_by_user:
            return self.spec.managed_by_user[user]
        return self.spec.managed

    def _key(self, line, path, file_report, settings, user=None):
        key = line.key
        options = line.options or []
        values = dict((option.name.lower(), option.value) for option in reversed(options))
        refused = []
        if not file_report['used']:
            refused.append('file not used by sshd: %s' % file_report['reason'])
        if line.options is None:
            refused.append('bad key options: %s' % line.options_error)
        # Of several expiry-time options sshd keeps the earliest.
        expiries = [(parse_expiry(option.value), option.value) for option in options
                    if option.name.lower() == 'expiry-time' and parse_expiry(option.value) is not None]
        expires_at, expiry = min(expiries) if expiries else (None, None)
        expired = expires_at is not None and expires_at <= self.spec.now
        if expired:
            refused.append('expiry-time %s has passed' % expiry)
        if not settings.algorithm_allowed(key.key_type):
            refused.append('key type %s is not in PubkeyAcceptedAlgorithms' % key.key_type)
        if key.family == 'rsa' and key.size and key.size < settings.required_rsa_size:
            refused.append('RSA key of %d bits is below RequiredRSASize %d' % (key.size, settings.required_rsa_size))
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
            'accounts_login_refused': sum(1 for account in self.accounts if account.get('login_refused_reasons')),
            'files': sum(1 for item in files if item['exists']),
            'files_ignored': sum(1 for item in files if item['exists'] and not item['used']),
            'keys': len(keys),
            'accepted': sum(1 for key in keys if key['accepted']),
            'ignored': sum(1 for key in keys if not key['accepted']),
            'weak': sum(1 for key in keys if key['weak']),
            'expired': sum(1 for key in keys if key['expired']),
            'unmanaged': sum(1 for key in keys if key['managed'] is False),
            'duplicates': sum(1 for key in keys if key['duplicate']),
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
        return {
            'accounts': self.accounts,
            'fingerprints': self.fingerprints,
            'summary': summary,
            'sshd': dict(self.sshd.global_settings.as_dict(), config=self.spec.sshd_config,
                         per_user=self.sshd.per_user, per_group_set=self.sshd.by_groups,
                         runs=self.sshd.sshd_runs, flavor=self.spec.sshd_flavor),
            'managed_missing': managed_missing,
            'msg': '%d accounts, %d keys (%d accepted by sshd, %d weak, %d unmanaged)' % (
                summary['accounts'], summary['keys'], summary['accepted'], summary['weak'],
                summary['unmanaged']),
        }
