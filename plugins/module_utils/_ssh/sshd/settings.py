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
import pwd
import re

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.login_rules import (
    LIST_KEYWORDS,
    LoginSettings,
    login_settings_from_values,
)

DEFAULT_AUTHORIZED_KEYS_FILE = ('.ssh/authorized_keys', '.ssh/authorized_keys2')
DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config'

_MAX_INCLUDE_DEPTH = 16


class SshdSettings:
    """What sshd applies to one account."""

    def __init__(self, authorized_keys_file=DEFAULT_AUTHORIZED_KEYS_FILE, strict_modes=True,
                 pubkey_authentication=True, accepted_algorithms=None, required_rsa_size=1024,
                 authorized_keys_command=None, source='sshd -T', ca_signature_algorithms=None, login=None,
                 use_pam=False, chroot_directory=None):
        self.authorized_keys_file = list(authorized_keys_file)
        # allowed_user: UsePAM decides who checks locked/expired accounts,
        # ChrootDirectory (not none) turns the shell check off
        self.use_pam = use_pam
        self.chroot_directory = chroot_directory
        self.strict_modes = strict_modes
        self.pubkey_authentication = pubkey_authentication
        self.accepted_algorithms = accepted_algorithms
        self.required_rsa_size = required_rsa_size
        self.ca_signature_algorithms = ca_signature_algorithms
        self.authorized_keys_command = authorized_keys_command
        self.source = source
        # What decides before any key is read (DenyUsers, ..., AuthenticationMethods,
        # RevokedKeys): a login_rules.LoginSettings.
        self.login = login if login is not None else LoginSettings()

    def file_key(self):
        """What the reading and judging of an authorized_keys file depends on: two
        settings with the same file_key judge a file alike."""
        algorithms = tuple(self.accepted_algorithms) if self.accepted_algorithms is not None else None
        ca_algorithms = tuple(self.ca_signature_algorithms) if self.ca_signature_algorithms is not None else None
        return (self.strict_modes, self.pubkey_authentication, algorithms, self.required_rsa_size, ca_algorithms)

    def as_dict(self):
        result = {
            'authorized_keys_file': list(self.authorized_keys_file),
            'strict_modes': self.strict_modes,
            'pubkey_authentication': self.pubkey_authentication,
            'authorized_keys_command': self.authorized_keys_command,
            'required_rsa_size': self.required_rsa_size,
            'source': self.source,
        }
        result.update(self.login.as_dict())
        return result

    def algorithm_allowed(self, key_type):
        if self.accepted_algorithms is None:
            return True
        return any(sshd_rules.algorithm_allowed(name, self.accepted_algorithms)
                   for name in sshd_rules.type_algorithms(key_type))


def _yes(value):
    return value.lower() == 'yes'


def argv_split(text):
    """OpenSSH's ``argv_split(s, ..., terminate_on_comment=1)``: the words of a
    configuration line's arguments, with its quotes and escapes; None when a
    quote is not closed (sshd: "invalid quotes")."""
    words = []
    index = 0
    length = len(text)
    while index < length:
        if text[index] in ' \t':
            index += 1
            continue
        if text[index] == '#':
            break
        quote = None
        word = []
        while index < length:
            char = text[index]
            if char == '\\':
                following = text[index + 1:index + 2]
                if following in ('\'', '"', '\\') or (quote is None and following == ' '):
                    index += 1
                    word.append(following)
                else:
                    word.append(char)
            elif quote is None and char in ' \t':
                break
            elif quote is None and char in '"\'':
                quote = char
            elif quote is not None and char == quote:
                quote = None
            else:
                word.append(char)
            index += 1
        if quote is not None:
            return None
        words.append(''.join(word))
    return words


def tilde_expand(path, home_of_uid=None, home_of_user=None):
    """servconf's ``tilde_expand_filename(arg, getuid())`` of an AuthorizedKeysFile
    word: ``~/x`` is the home of the user sshd runs as (root), ``~name/x`` that
    account's; None when sshd would stop (unknown user)."""
    if not path.startswith('~'):
        return path
    rest = path[1:]
    slash = rest.find('/')
    if slash > 0:
        home = (home_of_user or _home_of_user)(rest[:slash])
    else:
        home = (home_of_uid or _home_of_uid)(os.getuid())
    if home is None:
        return None
    if slash >= 0:
        rest = rest[slash + 1:]
    return home + ('' if home.endswith('/') else '/') + rest


def _home_of_user(name):
    try:
        return pwd.getpwnam(name).pw_dir
    except KeyError:
        return None


def _home_of_uid(uid):
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return None


def split_authorized_keys_file(text, candidates=(), warnings=None):
    """The entries of an ``authorizedkeysfile`` value as ``sshd -T`` prints it.

    sshd -T joins the entries with spaces, so ``"/keys dir/%u"`` prints as two
    words. ``candidates`` are the entries of every AuthorizedKeysFile line of
    the configuration (:func:`authorized_keys_file_lines`): the one whose
    joined form is exactly ``text`` gives the entries; without one, a plain
    split is right (no entry has a space). Two different readings of the same
    text are reported in ``warnings``.
    """
    readings = []
    for words in candidates:
        if words is not None and ' '.join(words) == text and words not in readings:
            readings.append(words)
    if len(readings) > 1 and warnings is not None:
        message = ('AuthorizedKeysFile %s can be read as %s: the first is used'
                   % (text, ' or '.join(repr(words) for words in readings)))
        if message not in warnings:
            warnings.append(message)
    words = readings[0] if readings else text.split()
    return [item for item in words if item.lower() != 'none']


def authorized_keys_file_lines(path, depth=0):
    """The entries (``argv_split``, ``~`` expanded as sshd does) of every
    AuthorizedKeysFile line in ``path`` and its includes, Match blocks too."""
    found = []
    data = _fs_audit.read_config_file(path)
    if data is None:
        return found
    for line in data.decode('utf-8', 'replace').splitlines():
        match = re.match(r'^\s*([A-Za-z0-9]+)(?:\s*=\s*|\s+)(.*)$', line)
        if not match:
            continue
        keyword, args = match.group(1).lower(), match.group(2).strip()
        if keyword == 'authorizedkeysfile':
            words = argv_split(args)
            if words is not None:
                words = [tilde_expand(word) for word in words]
                found.append(None if None in words else words)
        elif keyword == 'include' and depth < _MAX_INCLUDE_DEPTH:
            for pattern in argv_split(args) or ():
                for included in _include_paths(pattern, os.path.dirname(DEFAULT_SSHD_CONFIG)):
                    found.extend(authorized_keys_file_lines(included, depth + 1))
    return found


def settings_from_values(values, source, candidates=(), warnings=None):
    """SshdSettings from a {lower-case keyword: argument string} mapping;
    ``candidates``: see :func:`split_authorized_keys_file`."""
    files = values.get('authorizedkeysfile')
    if files is None:
        files = DEFAULT_AUTHORIZED_KEYS_FILE
    else:
        files = split_authorized_keys_file(files, candidates, warnings)
    algorithms = values.get('pubkeyacceptedalgorithms') or values.get('pubkeyacceptedkeytypes')
    ca_algorithms = values.get('casignaturealgorithms')
    command = values.get('authorizedkeyscommand')
    try:
        rsa_size = int(values.get('requiredrsasize', '1024'))
    except ValueError:
        rsa_size = 1024
    settings = SshdSettings(
        authorized_keys_file=files,
        strict_modes=_yes(values.get('strictmodes', 'yes')),
        pubkey_authentication=_yes(values.get('pubkeyauthentication', 'yes')),
        # A +/-/^ list in sshd_config modifies defaults we do not know: not checked then.
        accepted_algorithms=(algorithms.split(',') if algorithms and algorithms[0] not in '+-^' else None),
        required_rsa_size=rsa_size,
        ca_signature_algorithms=(ca_algorithms.split(',') if ca_algorithms and ca_algorithms[0] not in '+-^'
                                 else None),
        authorized_keys_command=None if not command or command.lower() == 'none' else command,
        source=source,
        login=login_settings_from_values(values),
        use_pam=_yes(values.get('usepam', 'no')),
        chroot_directory=_not_none(values.get('chrootdirectory')),
    )
    # every value, for what the fields above do not carry (certificate trust: audit/certificate_access.py)
    settings.values = values
    return settings


def _not_none(value):
    """A path setting's value, None when unset or ``none`` (any case, as sshd's strcasecmp)."""
    return None if not value or value.lower() == 'none' else value


def parse_sshd_t(text):
    """The values ``sshd -T`` prints: first word lower-case, the rest as is."""
    values = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        keyword = parts[0].lower()
        if keyword in LIST_KEYWORDS and keyword in values:
            # sshd -T prints one line per element of these lists
            values[keyword] += ' ' + parts[1]
        elif keyword not in values:
            values[keyword] = parts[1]
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
    return [os.path.join(directory, entry) for entry in _fs_audit.list_dir(directory)
            if fnmatch.fnmatchcase(entry, name)]


def read_sshd_config(path, values=None, depth=0):
    """The global section of ``path`` and its includes: ({keyword: args}, has_match).

    The first value of a keyword wins, as in sshd.
    """
    if values is None:
        values = {}
    data = _fs_audit.read_config_file(path)
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
        if keyword == 'authorizedkeysfile':
            # As sshd -T would print it (quotes removed, ~ expanded): see split_authorized_keys_file.
            words = argv_split(re.match(r'^\s*[A-Za-z0-9]+(?:\s*=\s*|\s+)(.*)$', line).group(1).strip())
            words = [tilde_expand(word) for word in words or ()]
            args = ' '.join(word for word in words if word is not None)
        if keyword in LIST_KEYWORDS and keyword in values:
            values[keyword] += ' ' + args  # sshd appends every line of these
        else:
            values.setdefault(keyword, args)
    return values, False


_MATCH_CRITERIA = frozenset(('all', 'user', 'group', 'host', 'localaddress', 'localport', 'rdomain', 'address'))


CLIENT_CRITERIA = ('address', 'host', 'localaddress', 'localport')


def match_criteria(path, depth=0, group_lists=None, client_patterns=None):
    """The criteria the ``Match`` lines of ``path`` and its includes use (lower
    case); the pattern lists of their ``Group`` criteria are added to ``group_lists``,
    those of the criteria that depend on the client (CLIENT_CRITERIA) to
    ``client_patterns`` ({criterion: [pattern list, ...]})."""
    data = _fs_audit.read_config_file(path)
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
                if criterion in CLIENT_CRITERIA and client_patterns is not None:
                    client_patterns.setdefault(criterion, []).append(tokens[index + 1])
                index += 2
        elif keyword == 'include' and depth < _MAX_INCLUDE_DEPTH:
            for pattern in args.split():
                for included in _include_paths(pattern, os.path.dirname(DEFAULT_SSHD_CONFIG)):
                    found |= match_criteria(included, depth + 1, group_lists, client_patterns)
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
        # A Match block with Address, Host, LocalAddress or LocalPort: what sshd
        # applies depends on the client too (one sshd -T per client context).
        self.by_client = False
        self.client_patterns = {}
        self.criteria = set()
        self.unmatched_lport = None
        self.global_values = {}
        self._cache = {}
        self.sshd_runs = 0
        # The AuthorizedKeysFile lines of the configuration, to read sshd -T's
        # space-joined entries back (a quoted entry may contain a space).
        self.authorized_keys_lines = []

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
        self.authorized_keys_lines = authorized_keys_file_lines(self.config_path)
        criteria = set()
        if has_match:
            criteria = match_criteria(self.config_path, group_lists=self.group_lists,
                                      client_patterns=self.client_patterns)
        if 'localport' in criteria:
            # sshd -T refuses to run without an lport then: one no Match LocalPort names
            named = set(self.client_patterns.get('localport', []))
            self.unmatched_lport = next(port for port in range(65535, 0, -1) if str(port) not in named)
        connection = 'lport=%d' % self.unmatched_lport if self.unmatched_lport else None
        values, error = (None, ['sshd not found']) if not self.sshd_path else self._sshd_t(connection)
        if values is not None:
            self.global_values = values
            self.global_settings = settings_from_values(values, 'sshd -T', self.authorized_keys_lines, self.warnings)
            self.per_user = has_match
            if has_match:
                self.criteria = criteria
                self.by_groups = 'user' not in criteria
                self.by_client = any(criterion in criteria for criterion in CLIENT_CRITERIA)
                if 'rdomain' in criteria:
                    self.warnings.append('Match RDomain cannot be evaluated (sshd -T is asked without a routing '
                                         'domain, so those blocks are taken as not matching)')
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
        self.global_settings = settings_from_values(file_values, source, self.authorized_keys_lines, self.warnings)
        return self

    def for_user(self, name, group_names=(), client=None):
        """The settings for account ``name`` (its groups ``group_names``) and a client
        context (``clients.ClientContext``; None: the empty address and host)."""
        if not self.per_user:
            return self.global_settings
        key = _group_verdicts(group_names, self.group_lists) if self.by_groups else name
        if self.by_client and client is not None:
            key = (key, client.key())
        if key in self._cache:
            return self._cache[key]
        connection = 'user=%s,%s' % (name, client.connection() if client is not None and self.by_client
                                     else 'host=,addr=')
        if self.unmatched_lport and 'lport=' not in connection:
            connection += ',lport=%d' % self.unmatched_lport
        values, error = self._sshd_t(connection)
        if values is None:
            self.warnings.append('sshd -T -C %s failed (%s): global settings used'
                                 % (connection, '; '.join(error or [])))
            settings = self.global_settings
        else:
            settings = settings_from_values(values, 'sshd -T -C %s' % (
                connection if self.by_client and client is not None else 'user=%s' % name),
                self.authorized_keys_lines, self.warnings)
        self._cache[key] = settings
        return settings


def expand_tokens(pattern, account):
    """``expand_authorized_keys``: ``percent_expand`` of an AuthorizedKeysFile
    entry (``%%``, ``%h``, ``%u``, ``%U``), made absolute by prefixing the home
    as sshd does (``"%s/%s"``). The path is not normalised: the kernel resolves
    ``..`` after a symlinked directory when sshd opens it, and so does the audit.

    Raises InvalidInput for an unknown token or a ``%`` at the end: sshd's
    ``percent_expand`` is fatal there (the connection is closed, no later
    entry is searched)."""
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
            if not token:
                raise InvalidInput('AuthorizedKeysFile %s ends with %%: sshd fails on it (invalid format)' % pattern)
            raise InvalidInput('unknown token %%%s in AuthorizedKeysFile %s' % (token, pattern))
        out.append(replacement)
        index += 2
    path = ''.join(out)
    if not path.startswith('/'):
        path = '%s/%s' % (account.home, path)
    return path
