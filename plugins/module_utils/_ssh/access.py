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
import fnmatch
import grp
import os
import pwd
import re
import time

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import (
    AuthorizedKeys,
    parse_key_text,
)

DEFAULT_AUTHORIZED_KEYS_FILE = ('.ssh/authorized_keys', '.ssh/authorized_keys2')
DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config'
SSHD_FLAVORS = ('openssh', 'debian')
DEFAULT_WEAK_POLICY = {'rsa_min_bits': 2048, 'ecdsa_min_bits': 0, 'weak_types': ['dsa']}

# RSA signature algorithm names that let an ssh-rsa key (or certificate) in.
_RSA_ALGORITHMS = {
    'ssh-rsa': ('ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512'),
    'ssh-rsa-cert-v01@openssh.com': ('ssh-rsa-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com',
                                     'rsa-sha2-512-cert-v01@openssh.com'),
}
_EXPIRY_RE = re.compile(r'^([0-9]{8})([0-9]{4})?([0-9]{2})?(Z?)$')
_FINGERPRINT_RE = re.compile(r'^(SHA256:[A-Za-z0-9+/]{43}|MD5(:[0-9a-f]{2}){16})$')
_MAX_INCLUDE_DEPTH = 16


# ---------------------------------------------------------------------------
# sshd settings

class SshdSettings:
    """What sshd applies to one account."""

    def __init__(self, authorized_keys_file=DEFAULT_AUTHORIZED_KEYS_FILE, strict_modes=True,
                 pubkey_authentication=True, accepted_algorithms=None, required_rsa_size=1024,
                 authorized_keys_command=None, source='sshd -T'):
        self.authorized_keys_file = list(authorized_keys_file)
        self.strict_modes = strict_modes
        self.pubkey_authentication = pubkey_authentication
        self.accepted_algorithms = accepted_algorithms
        self.required_rsa_size = required_rsa_size
        self.authorized_keys_command = authorized_keys_command
        self.source = source

    def as_dict(self):
        return {
            'authorized_keys_file': list(self.authorized_keys_file),
            'strict_modes': self.strict_modes,
            'pubkey_authentication': self.pubkey_authentication,
            'authorized_keys_command': self.authorized_keys_command,
            'required_rsa_size': self.required_rsa_size,
            'source': self.source,
        }

    def algorithm_allowed(self, key_type):
        if self.accepted_algorithms is None:
            return True
        names = _RSA_ALGORITHMS.get(key_type, (key_type,))
        return any(name in self.accepted_algorithms for name in names)


def _yes(value):
    return value.lower() == 'yes'


def settings_from_values(values, source):
    """SshdSettings from a {lower-case keyword: argument string} mapping."""
    files = values.get('authorizedkeysfile')
    if files is None:
        files = DEFAULT_AUTHORIZED_KEYS_FILE
    else:
        files = [item for item in files.split() if item.lower() != 'none']
    algorithms = values.get('pubkeyacceptedalgorithms') or values.get('pubkeyacceptedkeytypes')
    command = values.get('authorizedkeyscommand')
    try:
        rsa_size = int(values.get('requiredrsasize', '1024'))
    except ValueError:
        rsa_size = 1024
    return SshdSettings(
        authorized_keys_file=files,
        strict_modes=_yes(values.get('strictmodes', 'yes')),
        pubkey_authentication=_yes(values.get('pubkeyauthentication', 'yes')),
        # A +/-/^ list in sshd_config modifies defaults we do not know: not checked then.
        accepted_algorithms=(algorithms.split(',') if algorithms and algorithms[0] not in '+-^' else None),
        required_rsa_size=rsa_size,
        authorized_keys_command=None if not command or command.lower() == 'none' else command,
        source=source,
    )


def parse_sshd_t(text):
    """The values ``sshd -T`` prints: first word lower-case, the rest as is."""
    values = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() not in values:
            values[parts[0].lower()] = parts[1]
    return values


def _config_words(line):
    """(keyword, argument string) of an sshd_config line, or None."""
    line = line.strip()
    if not line or line.startswith('#'):
        return None
    match = re.match(r'^([A-Za-z0-9]+)(?:\s*=\s*|\s+)(.*)$', line)
    if not match:
        return (line.lower(), '')
    args = match.group(2).strip()
    if args.startswith('"') and args.endswith('"') and args.count('"') == 2:
        args = args[1:-1]
    return match.group(1).lower(), args


def _include_paths(pattern, config_dir):
    if not pattern.startswith('/'):
        pattern = os.path.join(config_dir, pattern)
    directory, name = os.path.split(pattern)
    if not any(ch in name for ch in '*?['):
        return [pattern]
    return [os.path.join(directory, entry) for entry in _fs.list_dir(directory)
            if fnmatch.fnmatchcase(entry, name)]


def read_sshd_config(path, values=None, depth=0):
    """The global section of ``path`` and its includes: ({keyword: args}, has_match).

    The first value of a keyword wins, as in sshd.
    """
    if values is None:
        values = {}
    data = _fs.read_config_file(path)
    if data is None:
        if depth == 0:
            raise InvalidInput('cannot read %s' % path)
        return values, False
    # sshd resolves a relative Include against its SSHDIR, whichever file it is in.
    config_dir = os.path.dirname(DEFAULT_SSHD_CONFIG)
    for line in data.decode('utf-8', 'replace').splitlines():
        words = _config_words(line)
        if words is None:
            continue
        keyword, args = words
        if keyword == 'match':
            return values, True
        if keyword == 'include':
            if depth >= _MAX_INCLUDE_DEPTH:
                continue
            for pattern in args.split():
                for included in _include_paths(pattern, config_dir):
                    dummy, has_match = read_sshd_config(included, values, depth + 1)
                    if has_match:
                        return values, True
            continue
        values.setdefault(keyword, args)
    return values, False


_MATCH_CRITERIA = frozenset(('all', 'user', 'group', 'host', 'localaddress', 'localport', 'rdomain', 'address'))


def match_criteria(path, depth=0, group_lists=None):
    """The criteria the ``Match`` lines of ``path`` and its includes use (lower
    case); the pattern lists of their ``Group`` criteria are added to ``group_lists``."""
    data = _fs.read_config_file(path)
    found = set()
    if data is None:
        return found
    for line in data.decode('utf-8', 'replace').splitlines():
        words = _config_words(line)
        if words is None:
            continue
        keyword, args = words
        if keyword == 'match':
            found.add('match')
            tokens = args.replace('=', ' ').split()
            index = 0
            while index < len(tokens):
                criterion = tokens[index].lower()
                if criterion == 'all':
                    index += 1
                    continue
                if criterion not in _MATCH_CRITERIA or index + 1 >= len(tokens):
                    found.add('user')  # not understood: be cautious, ask sshd per account
                    break
                found.add(criterion)
                if criterion == 'group' and group_lists is not None:
                    patterns = tokens[index + 1].split(',')
                    if any('[' in pattern for pattern in patterns):
                        found.add('user')
                    group_lists.append(patterns)
                index += 2
        elif keyword == 'include' and depth < _MAX_INCLUDE_DEPTH:
            for pattern in args.split():
                for included in _include_paths(pattern, os.path.dirname(DEFAULT_SSHD_CONFIG)):
                    found |= match_criteria(included, depth + 1, group_lists)
    return found


def _group_verdicts(group_names, group_lists):
    """What every ``Match Group`` list says of these groups, the way sshd's
    ``ga_match_pattern_list`` decides: per list (a group matches a negated
    pattern, a group matches a pattern)."""
    verdicts = []
    for patterns in group_lists:
        negated = positive = False
        for name in group_names:
            if any(p.startswith('!') and fnmatch.fnmatchcase(name, p[1:]) for p in patterns):
                negated = True
            elif any(not p.startswith('!') and fnmatch.fnmatchcase(name, p) for p in patterns):
                positive = True
        verdicts.append((negated, positive))
    return tuple(verdicts)


class SshdReader:
    """The settings sshd applies per account, from ``sshd -T`` or the config file."""

    def __init__(self, run_command, sshd_path, config_path):
        self.run_command = run_command
        self.sshd_path = sshd_path
        self.config_path = config_path
        self.warnings = []
        self.global_settings = None
        self.per_user = False
        # Without a "Match User", what sshd applies depends on the account only
        # through what its groups make of the "Match Group" lists (host and
        # address are empty): one sshd -T per distinct verdict.
        self.by_groups = False
        self.group_lists = []
        self._cache = {}
        self.sshd_runs = 0

    def _sshd_t(self, connection=None):
        argv = [self.sshd_path, '-T', '-f', self.config_path]
        if connection:
            argv += ['-C', connection]
        self.sshd_runs += 1
        rc, out, err = self.run_command(argv)
        if rc != 0:
            return None, (err or out or 'exit status %d' % rc).strip().splitlines()[-1:]
        return parse_sshd_t(out), None

    def load(self):
        has_match = False
        file_values = None
        try:
            file_values, has_match = read_sshd_config(self.config_path)
        except InvalidInput:
            pass
        values, error = (None, ['sshd not found']) if not self.sshd_path else self._sshd_t()
        if values is not None:
            self.global_settings = settings_from_values(values, 'sshd -T')
            self.per_user = has_match
            if has_match:
                criteria = match_criteria(self.config_path, group_lists=self.group_lists)
                self.by_groups = 'user' not in criteria
            return self
        reason = '; '.join(error or [])
        if file_values is None:
            self.warnings.append('sshd -T failed (%s) and %s cannot be read: using sshd defaults'
                                 % (reason, self.config_path))
            file_values = {}
            source = 'defaults'
        else:
            self.warnings.append('sshd -T failed (%s): settings read from %s and sshd defaults%s'
                                 % (reason, self.config_path,
                                    '; Match blocks are not applied' if has_match else ''))
            source = 'sshd_config'
        self.global_settings = settings_from_values(file_values, source)
        return self

    def for_user(self, name, group_names=()):
        if not self.per_user:
            return self.global_settings
        key = _group_verdicts(group_names, self.group_lists) if self.by_groups else name
        if key in self._cache:
            return self._cache[key]
        values, error = self._sshd_t('user=%s,host=,addr=' % name)
        if values is None:
            self.warnings.append('sshd -T -C user=%s failed (%s): global settings used'
                                 % (name, '; '.join(error or [])))
            settings = self.global_settings
        else:
            settings = settings_from_values(values, 'sshd -T -C user=%s' % name)
        self._cache[key] = settings
        return settings


def expand_tokens(pattern, account):
    """``percent_expand`` of an AuthorizedKeysFile entry, made absolute."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char != '%':
            out.append(char)
            index += 1
            continue
        token = pattern[index + 1:index + 2]
        replacement = {'%': '%', 'h': account.home, 'u': account.name, 'U': str(account.uid)}.get(token)
        if replacement is None:
            raise InvalidInput('unknown token %%%s in AuthorizedKeysFile %s' % (token, pattern))
        out.append(replacement)
        index += 2
    path = ''.join(out)
    if not path.startswith('/'):
        path = os.path.join(account.home, path)
    return os.path.normpath(path)


# ---------------------------------------------------------------------------
# Files: can sshd use them

class AccountEntry:
    def __init__(self, name, uid, gid, home, shell, groups):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
        self.groups = set(groups) | set([gid])


def _allowed(info, uid, gids, bit_shift):
    """Permission bit (4 read, 1 search) for uid/gids as the kernel checks it."""
    if uid == 0:
        return True
    if info.uid == uid:
        shift = 6
    elif info.gid in gids:
        shift = 3
    else:
        shift = 0
    return bool(info.mode & (bit_shift << shift))


def _owner_ok(info, uid):
    # platform_sys_dir_uid(): root may own everything.
    return info.uid in (0, uid)


def _secure(info, uid, group_writable_ok):
    """``secure_permissions``: owned by root or the account, not writable by
    others; writable by the group only where ``group_writable_ok`` allows it."""
    if not _owner_ok(info, uid) or info.mode & 0o002:
        return False
    if info.mode & 0o020:
        return bool(group_writable_ok and group_writable_ok(info))
    return True


def secure_path_problem(real_file, file_info, real_home, uid, stat_fn, group_writable_ok=None):
    """``auth_secure_path``: None when sshd accepts the path, else its complaint."""
    if not file_info.is_file:
        return '%s is not a regular file' % real_file
    if not _secure(file_info, uid, group_writable_ok):
        return 'bad ownership or modes for file %s' % real_file
    current = real_file
    while True:
        current = os.path.dirname(current)
        info = stat_fn(current)
        if not info.exists or not _secure(info, uid, group_writable_ok):
            return 'bad ownership or modes for directory %s' % current
        if real_home is not None and current == real_home:
            return None
        if current in ('/', '.', ''):
            return None


class UserGroups:
    """The password and group databases, read once, for Debian's rule on
    group-writable paths (its ``user-group-modes`` patch of ``secure_permissions``):
    a group-writable file or directory is accepted when its group has exactly
    one member - by primary group and by the group's member list - and that
    member is the account (the owner, for the member list)."""

    def __init__(self, passwd=None, groups=None):
        self.passwd = list(passwd if passwd is not None else pwd.getpwall())
        self.groups = dict((group.gr_gid, group) for group in (groups if groups is not None else grp.getgrall()))
        self.names = dict((entry.pw_uid, entry.pw_name) for entry in reversed(self.passwd))

    def single_member_rule(self, uid):
        def allowed(info):
            group = self.groups.get(info.gid)
            if group is None:
                return False
            members = 0
            for entry in self.passwd:
                if entry.pw_gid == info.gid:
                    members += 1
                    if entry.pw_uid != uid:
                        return False
            owner = self.names.get(info.uid)
            if owner is None:
                return False
            if group.gr_mem:
                members += 1
                if group.gr_mem[0] != owner or len(group.gr_mem) > 1:
                    return False
            return members > 0
        return allowed


def _open_problem(path, entry):
    """Why sshd, acting as the account, could not open ``path`` (None: it can)."""
    parts = path.split('/')
    current = '/'
    for part in parts[1:-1]:
        current = os.path.join(current, part)
        info = _fs.stat_path(current)
        if not info.exists:
            return 'missing'
        if not info.is_dir:
            return '%s is not a directory' % current
        if not _allowed(info, entry.uid, entry.groups, 1):
            return 'permission denied: %s is not searchable by %s' % (current, entry.name)
    info = _fs.stat_path(path)
    if not info.exists:
        return 'missing'
    if not _allowed(info, entry.uid, entry.groups, 4):
        return 'permission denied: %s is not readable by %s' % (path, entry.name)
    return None


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


def list_accounts(spec, warnings):
    """The accounts to audit, sorted by uid then name."""
    members = {}
    for group in grp.getgrall():
        for member in group.gr_mem:
            members.setdefault(member, set()).add(group.gr_gid)
    entries = pwd.getpwall()
    if spec.users is not None:
        known = set(entry.pw_name for entry in entries)
        for name in spec.users:
            if name not in known:
                warnings.append('user %s does not exist on this host' % name)
        wanted = set(spec.users)
        entries = [entry for entry in entries if entry.pw_name in wanted]
    if spec.uid_min is not None:
        entries = [entry for entry in entries if entry.pw_uid >= spec.uid_min]
    if spec.uid_max is not None:
        entries = [entry for entry in entries if entry.pw_uid <= spec.uid_max]
    seen = set()
    accounts = []
    for entry in sorted(entries, key=lambda e: (e.pw_uid, e.pw_name)):
        if entry.pw_name in seen:
            continue
        seen.add(entry.pw_name)
        accounts.append(AccountEntry(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or '/',
                                     entry.pw_shell, members.get(entry.pw_name, ())))
    return accounts


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
        return {
            'user': entry.name,
            'uid': entry.uid,
            'home': entry.home,
            'shell': entry.shell,
            'sshd': settings.as_dict(),
            'files': files,
            'keys': keys,
        }

    def _file(self, entry, path, pattern, settings, real_home):
        report = {'path': path, 'configured': pattern, 'exists': False, 'used': False, 'reason': None,
                  'owner_uid': None, 'mode': None, 'keys': 0, 'invalid_lines': [], 'truncated': False}
        problem = _open_problem(path, entry)
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
            'also_on': [],
            'duplicate': False,
        }

    def _cross_reference(self):
        where = {}
        for account in self.accounts:
            for key in account['keys']:
                where.setdefault(key['fingerprint'], []).append((account['user'], key))
        for places in where.values():
            users = set(user for user, dummy in places)
            for user, key in places:
                key['also_on'] = sorted(users - set([user]))
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
