# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The settings sshd applies to an account: ``sshd -T`` (per account when the
configuration has ``Match`` blocks), or ``sshd_config`` and its ``Include``
files with sshd's defaults when ``sshd -T`` fails; ``AuthorizedKeysFile``
tokens expanded as ``percent_expand`` does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import re

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput

DEFAULT_AUTHORIZED_KEYS_FILE = ('.ssh/authorized_keys', '.ssh/authorized_keys2')
DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config'

# RSA signature algorithm names that let an ssh-rsa key (or certificate) in.
_RSA_ALGORITHMS = {
    'ssh-rsa': ('ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512'),
    'ssh-rsa-cert-v01@openssh.com': ('ssh-rsa-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com',
                                     'rsa-sha2-512-cert-v01@openssh.com'),
}
_MAX_INCLUDE_DEPTH = 16


class SshdSettings:
    """What sshd applies to one account."""

    def __init__(self, authorized_keys_file=DEFAULT_AUTHORIZED_KEYS_FILE, strict_modes=True,
                 pubkey_authentication=True, accepted_algorithms=None, required_rsa_size=1024,
                 authorized_keys_command=None, source='sshd -T', use_pam=False, chroot_directory=None):
        self.authorized_keys_file = list(authorized_keys_file)
        # allowed_user: UsePAM decides who checks locked/expired accounts,
        # ChrootDirectory (not none) turns the shell check off
        self.use_pam = use_pam
        self.chroot_directory = chroot_directory
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
        use_pam=_yes(values.get('usepam', 'no')),
        chroot_directory=_not_none(values.get('chrootdirectory')),
    )


def _not_none(value):
    """A path setting's value, None when unset or ``none`` (any case, as sshd's strcasecmp)."""
    return None if not value or value.lower() == 'none' else value


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
