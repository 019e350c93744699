# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What sshd refuses on before any key is looked at: the account-state part of
OpenSSH 9.2's ``allowed_user`` (auth.c), as built for Linux.

* ``if (!options.use_pam && platform_locked_account(pw))``: with ``UsePAM no``
  an account is refused when its shadow entry has expired
  (``auth_shadow_acctexpired``: ``sp_expire != -1`` and ``sp_expire`` < today in
  days since the epoch, UTC) or its password field (the shadow one, else the
  passwd one) starts with ``!`` (``LOCKED_PASSWD_PREFIX`` on Linux; ``*`` is
  not a lock there). With ``UsePAM yes`` sshd does not look: PAM's account
  stack decides, and this audit says so instead of guessing.
* Password expiry (``auth_shadow_pwexpired``) is checked by sshd only for
  password authentication (auth-passwd.c): never a refusal of a key; reported
  as information.
* Unless ``ChrootDirectory`` is set (not ``none``), the shell (empty:
  ``/bin/sh``) must exist (``stat``, following symlinks), be a regular file and
  have an execute bit for someone. ``nologin`` and ``false`` are executable:
  sshd accepts the key (the session then ends at once); reported as
  information ("no shell").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit

SHADOW = '/etc/shadow'
NSSWITCH = '/etc/nsswitch.conf'
PAM_DIR = '/etc/pam.d'
_PAM_MAX_DEPTH = 8
PATH_BSHELL = '/bin/sh'
LOCKED_PASSWD_PREFIX = '!'
NO_SHELLS = ('nologin', 'false')
_DAY = 24 * 60 * 60


class ShadowEntry:
    def __init__(self, password, last_change, max_days, expire):
        self.password = password
        self.last_change = last_change
        self.max_days = max_days
        self.expire = expire


def _number(text):
    """A shadow number field as glibc reads it: empty is -1; None when not a number."""
    text = text.strip()
    if not text:
        return -1
    try:
        return int(text)
    except ValueError:
        return None


def parse_shadow(data):
    """{name: ShadowEntry} of /etc/shadow (the first entry of a name wins, as getspnam)."""
    entries = {}
    for line in data.decode('utf-8', 'replace').splitlines():
        fields = line.split(':')
        if len(fields) < 2 or not fields[0] or fields[0][0] in '+-#':
            continue
        numbers = [_number(field) for field in (fields[2:9] + [''] * 7)[:6]]
        if any(value is None for value in numbers):
            continue  # glibc skips a line it cannot parse
        if fields[0] not in entries:
            entries[fields[0]] = ShadowEntry(fields[1], numbers[0], numbers[2], numbers[5])
    return entries


def _shadow_sources(data):
    """The sources of the ``shadow:`` line of nsswitch.conf (['files'] when absent)."""
    if data is None:
        return ['files']
    for line in data.decode('utf-8', 'replace').splitlines():
        words = line.split('#', 1)[0].split()
        if words and words[0] == 'shadow:':
            return [word for word in words[1:] if not word.startswith('[')] or ['files']
    return ['files']


def pam_account_modules(service='sshd', pam_dir=PAM_DIR, depth=0):
    """The module names of a PAM service's ``account`` stack, in order, with
    ``@include``, ``include`` and ``substack`` followed; None when the service
    file cannot be read."""
    data = _fs_audit.read_config_file(os.path.join(pam_dir, service))
    if data is None:
        return None
    modules = []
    for line in data.decode('utf-8', 'replace').splitlines():
        words = line.split('#', 1)[0].split()
        if not words:
            continue
        if words[0] == '@include':
            if len(words) > 1 and depth < _PAM_MAX_DEPTH:
                modules.extend(pam_account_modules(words[1], pam_dir, depth + 1) or [])
            continue
        if words[0].lstrip('-') != 'account' or len(words) < 3:
            continue
        rest = line.split('#', 1)[0].split(None, 1)[1].strip()
        if rest.startswith('['):
            after = rest[rest.find(']') + 1:].split()
            control = None
        else:
            control, after = words[1], words[2:]
        if not after:
            continue
        if control in ('include', 'substack'):
            if depth < _PAM_MAX_DEPTH:
                modules.extend(pam_account_modules(after[0], pam_dir, depth + 1) or [])
            continue
        modules.append(os.path.basename(after[0]))
    return modules


class AccountStates:
    """The account checks of ``allowed_user``, for every account of one audit.

    ``/etc/shadow`` is read once (through ``_fs_audit``); shells are looked at once each.
    """

    def __init__(self, now=None, shadow_path=SHADOW, nsswitch_path=NSSWITCH, pam_dir=PAM_DIR):
        self.today = int((now if now is not None else time.time()) // _DAY)
        info, data, truncated = _fs_audit.read_for_audit(shadow_path)
        self.shadow_error = None
        if data is None:
            self.shadow_error = '%s cannot be read' % shadow_path
            self.shadow = {}
        elif truncated:
            self.shadow_error = '%s is larger than the read cap' % shadow_path
            self.shadow = {}
        else:
            self.shadow = parse_shadow(data)
        self.shadow_path = shadow_path
        self.other_sources = [source for source in _shadow_sources(_fs_audit.read_config_file(nsswitch_path))
                              if source != 'files']
        self._shells = {}
        # UsePAM yes: sshd asks PAM's account stack, where pam_unix refuses an expired account
        self.pam_account = pam_account_modules(pam_dir=pam_dir)

    def shell_problem(self, shell):
        """Why sshd refuses ``shell`` (None: it does not)."""
        if shell not in self._shells:
            info = _fs_audit.stat_path(shell if shell.startswith('/') else os.path.join('/', shell))
            if not info.exists:
                problem = 'shell %s does not exist' % shell
            elif not info.is_file or not info.mode & 0o111:
                problem = 'shell %s is not executable' % shell
            else:
                problem = None
            self._shells[shell] = problem
        return self._shells[shell]

    def state(self, entry, settings):
        """(account_state dict, [refusal reasons]) of AccountEntry ``entry`` under SshdSettings ``settings``."""
        use_pam = bool(getattr(settings, 'use_pam', False))
        chroot = getattr(settings, 'chroot_directory', None)
        refused = []
        notes = []
        state = {'use_pam': use_pam, 'locked': None, 'expired': None, 'account_expires': None,
                 'password_expired': None, 'shell': None, 'shell_ok': None, 'no_shell': False,
                 'chroot_directory': chroot, 'notes': notes}

        shadow = self.shadow.get(entry.name)
        if self.shadow_error is None and shadow is not None:
            password = shadow.password
            if shadow.expire != -1:
                state['account_expires'] = time.strftime('%Y-%m-%d', time.gmtime(shadow.expire * _DAY))
            expired = shadow.expire != -1 and shadow.expire - self.today < 0
            if shadow.last_change == 0:
                state['password_expired'] = True
            elif shadow.max_days == -1 or shadow.last_change == -1:
                state['password_expired'] = False
            else:
                state['password_expired'] = shadow.last_change + shadow.max_days - self.today < 0
        elif self.shadow_error is None and not self.other_sources:
            # getspnam finds nothing: sshd looks at the passwd entry's field
            password = getattr(entry, 'password', None)
            expired = False
        else:
            password = None
            expired = None
        locked = None
        if password is not None:
            locked = bool(password) and password.startswith(LOCKED_PASSWD_PREFIX)
        if use_pam:
            # A lock ("!") is pam_unix's password check, not its account check: a key logs in.
            if self.pam_account is None:
                notes.append('UsePAM yes and %s/sshd cannot be read: expired accounts not judged' % PAM_DIR)
            elif 'pam_unix.so' in self.pam_account and expired is not None:
                state['expired'] = expired
                if expired:
                    refused.append('account expired on %s (PAM: pam_unix in the account stack of sshd)'
                                   % state['account_expires'])
            else:
                notes.append('UsePAM yes: the account stack of sshd (%s) decides on expired accounts (not judged here)'
                             % (', '.join(self.pam_account) or 'empty'))
        else:
            state['locked'] = locked
            state['expired'] = expired
            if expired:
                refused.append('account expired on %s' % state['account_expires'])
            if locked:
                refused.append('account is locked (password field starts with "!")')
            if self.shadow_error is not None:
                notes.append('%s: locked and expired not judged' % self.shadow_error)
            elif shadow is None and expired is None:
                notes.append('not in %s and nsswitch has shadow sources %s: locked and expired not judged'
                             % (self.shadow_path, ', '.join(self.other_sources)))
        if state['password_expired']:
            notes.append('password expired (sshd checks it for password logins only)')

        shell = entry.shell or PATH_BSHELL
        state['shell'] = shell
        if chroot is not None:
            notes.append('ChrootDirectory %s: sshd does not check the shell' % chroot)
        else:
            problem = self.shell_problem(shell)
            state['shell_ok'] = problem is None
            if problem is not None:
                refused.append(problem)
        if os.path.basename(shell) in NO_SHELLS and state['shell_ok'] is not False:
            state['no_shell'] = True
            notes.append('no shell: %s (sshd accepts the key; a session ends at once)' % os.path.basename(shell))
        return state, refused
