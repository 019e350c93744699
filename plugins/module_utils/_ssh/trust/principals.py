# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh_principals`` operation: an account's ``AuthorizedPrincipalsFile``.

The file is read as sshd 9.2 reads it (auth2-pubkeyfile.c
``auth_process_principals``): a ``#`` ends the line, blank lines are
skipped, and a line with inner blanks is ``<key options> <principal>`` (the
principal is its last word). Principals are added as lines of their own;
lines this task does not name are kept, unless ``exclusive``; comments stay.

Where the file lies: the path is sshd's pattern (``%u``, ``%h``, ``%U``,
``%%``; relative to the home). Below the home it belongs to the account (0644)
and is reached by the account's trust walk, written under the flock on its
directory as ``authorized_keys`` is (``home_file``); elsewhere (the usual
``/etc/ssh/auth_principals/%u``) it is root's, 0644, in a root-owned
directory (``central.CentralFile``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import principals_file
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import expand_tokens
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.central import CentralFile
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.home_file import HomeFile

DEFAULT_PATH = '/etc/ssh/auth_principals/%u'
FILE_MODE = 0o644
# An in-home principals file is the account's: larger ones are refused, not edited (64 MiB of
# one-letter lines, held as lines to edit, took gigabytes).
HOME_FILE_LIMIT = 1024 * 1024


def check_principal(name):
    if not isinstance(name, str) or not name:
        raise InvalidInput('a principal must be a non-empty string')
    if any(char in name for char in ' \t#') or not name.isprintable():
        raise InvalidInput('principal %r cannot be written: blanks, "#" and control characters end it for sshd'
                           % name)
    return name


def line_principal(line):
    """The principal of one line of the file (sshd's reading), or None."""
    found = principals_file.line_principal(line)
    return found[0] if found is not None else None


def principals_in(text):
    return [name for name, dummy in principals_file.principal_lines(text)]


def edit_lines(text, wanted, state, exclusive):
    """(the new text, [principals added], [principals removed])."""
    lines = text.splitlines()
    present = set(principals_in(text))
    kept, removed = [], []
    for line in lines:
        principal = line_principal(line)
        drop = principal is not None and ((state == 'absent' and principal in wanted)
                                          or (state == 'present' and exclusive and principal not in wanted))
        if drop:
            removed.append(principal)
        else:
            kept.append(line)
    added = []
    if state == 'present':
        for principal in wanted:
            if principal not in present and principal not in added:
                kept.append(principal)
                added.append(principal)
    new_text = ''.join(line + '\n' for line in kept)
    return new_text, added, removed


class PrincipalsSpec:
    def __init__(self, account, principals=None, path=DEFAULT_PATH, state='present', exclusive=False):
        if state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent')
        self.account = account
        self.principals = [check_principal(name) for name in (principals or [])]
        self.pattern = path or DEFAULT_PATH
        self.state = state
        self.exclusive = exclusive
        self.path = expand_tokens(self.pattern, account) if account.home or self.pattern.startswith('/') else None
        if self.path is None:
            raise InvalidInput('path %s is relative to the home, and %s has none' % (self.pattern, account.name))
        self.path = os.path.normpath(self.path)
        self.in_home = bool(account.home) and (self.path + '/').startswith(os.path.normpath(account.home) + '/')


class AuthorizedPrincipals(Operation):
    """Plan and apply one account's principals file."""

    def __init__(self, spec, locks=None):
        self.spec = spec
        self.after_principals = []
        # the call's Locks (lock_timeout: one wait for the whole task); None: the default wait
        self.locks = locks
        self.home_file = None

    def _edit(self, text):
        """(the new text, [principals added], [principals removed])."""
        spec = self.spec
        if spec.state == 'absent' and not spec.principals:
            return '', [], principals_in(text)
        return edit_lines(text, spec.principals, spec.state, spec.exclusive)

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        if not spec.account.exists:
            plan.warn_missing_user(spec.account)
        if spec.in_home:
            self.home_file = HomeFile(spec.account, spec.path, FILE_MODE, self.locks, HOME_FILE_LIMIT)
            current = self.home_file.read()
        else:
            central = CentralFile(spec.path, FILE_MODE)
            current = central.read()
        text = current.data.decode('utf-8', 'replace') if current.exists else ''
        new_text, added, removed = self._edit(text)
        self.after_principals = principals_in(new_text)
        plan.before = {'principals': principals_in(text)} if current.exists else {}
        plan.after = {'principals': self.after_principals} if (new_text or spec.state == 'present') else {}
        detail = ', '.join(['+%s' % name for name in added] + ['-%s' % name for name in removed]) or None
        remove_file = spec.state == 'absent' and not spec.principals
        if self.home_file is not None:
            self._plan_in_home(plan, current, new_text, detail, remove_file)
        elif remove_file:
            central.plan_remove(plan, current, 'principals of %s' % spec.account.name)
        else:
            central.plan_write(plan, new_text.encode('utf-8'), current, detail or 'principals file',
                               edit=lambda found: self._edit(found)[0], locks=self.locks)
        return plan

    def _plan_in_home(self, plan, current, new_text, detail, remove_file):
        home_file = self.home_file
        if remove_file:
            if current.exists:
                plan.add('remove', self.spec.path, lambda: home_file.rewrite(lambda found: None))
            return

        def rewrite():
            return home_file.rewrite(lambda found: self._edit(found)[0])
        if current.exists and current.data == new_text.encode('utf-8'):
            plan.ensure_attrs(self.spec.path, current, rewrite, FILE_MODE, self.spec.account.uid, None)
            return
        plan.add('update' if current.exists else 'create', self.spec.path, rewrite, detail)

    def lock_requests(self, plan):
        """An in-home file's write takes the flock on its directory."""
        if self.home_file is not None and plan.actions:
            return self.home_file.lock_requests()
        return []

    def result(self, plan, applied):
        spec = self.spec
        return {'path': spec.path, 'user': spec.account.name, 'state': spec.state, 'actions': plan.describe(),
                'principals': self.after_principals}


def principal_items(account, principals, path=None, exclusive=False, locks=None):
    """``provision``'s ``principals`` of one account: [(item name, operation)]
    (none when ``principals`` is None: the file is not managed)."""
    if principals is None:
        return []
    spec = PrincipalsSpec(account, principals=principals, path=path or DEFAULT_PATH, exclusive=exclusive)
    return [('principals (%d%s)' % (len(spec.principals), ', exclusive' if exclusive else ''),
             AuthorizedPrincipals(spec, locks=locks))]
