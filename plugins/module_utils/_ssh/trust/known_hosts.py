# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh_known_hosts_ca`` operation: ``@cert-authority`` lines, so that
ssh verifies hosts by their host certificates instead of trust on first use.

One line per CA key: ``@cert-authority <patterns> <key>``. The CA's line is
found by its key (the same key material, whatever the comment); its host
patterns are set to the task's (a later copy of the line is removed, so the
key means one thing). Every other line is kept as it is. The file is the
system ``/etc/ssh/ssh_known_hosts`` (root's, 0644) or an account's
``~/.ssh/known_hosts`` (the account's, reached by its trust walk, written
under the flock on its directory as ``authorized_keys`` is: ``home_file``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.central import CentralFile
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.home_file import HomeFile

SYSTEM_PATH = '/etc/ssh/ssh_known_hosts'
USER_PATH = '~/.ssh/known_hosts'
MARKER = '@cert-authority'
FILE_MODE = 0o644
# An account's known_hosts is its own: larger ones are refused, not edited (64 MiB of
# one-letter lines, held as lines to edit, took 2.8 GiB).
HOME_FILE_LIMIT = 2 * 1024 * 1024


def check_pattern(pattern):
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInput('a host pattern must be a non-empty string')
    if any(char in pattern for char in ' \t,#') or not pattern.isprintable():
        raise InvalidInput('host pattern %r cannot be written (blanks, commas and "#" separate or end patterns)'
                           % pattern)
    return pattern


def ca_line_key(line):
    """(patterns list, PublicKey) of an ``@cert-authority`` line, else None."""
    words = line.strip().split(None, 2)
    if len(words) < 3 or words[0] != MARKER:
        return None
    try:
        key = PublicKey.from_line(words[2])
    except InvalidInput:
        return None
    return words[1].split(','), key


class KnownHostsCASpec:
    def __init__(self, key, hosts=None, path=None, account=None, state='present', comment=None):
        if state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent')
        try:
            self.key = PublicKey.from_line(key or '')
        except InvalidInput as exc:
            raise InvalidInput('key: %s' % exc.msg)
        if self.key.is_certificate:
            raise InvalidInput('key is a certificate; give the host CA\'s public key')
        self.hosts = [check_pattern(pattern) for pattern in (hosts or [])]
        if state == 'present' and not self.hosts:
            raise InvalidInput('hosts is required with state=present (for example "*.example.com")')
        self.account = account
        if path is None:
            path = USER_PATH if account is not None else SYSTEM_PATH
        if path.startswith('~/'):
            if account is None or not account.home:
                raise InvalidInput('path %s needs user (an account with a home)' % path)
            path = os.path.join(account.home, path[2:])
        if not os.path.isabs(path):
            raise InvalidInput('path must be absolute (or start with ~/ with user)')
        self.path = os.path.normpath(path)
        self.state = state
        self.comment = comment if comment is not None else self.key.comment
        self.in_home = account is not None and bool(account.home) and \
            (self.path + '/').startswith(os.path.normpath(account.home) + '/')

    def line(self):
        return '%s %s %s' % (MARKER, ','.join(self.hosts), self.key.to_line(self.comment).strip())


def edit_known_hosts(text, spec):
    """(new text, what changed: 'added' / 'updated' / 'removed' / None)."""
    out, change, placed = [], None, False
    wanted = spec.line() if spec.state == 'present' else None
    for line in text.splitlines():
        found = ca_line_key(line)
        if found is None or not found[1].same_key(spec.key):
            out.append(line)
            continue
        if spec.state == 'absent' or placed:
            change = 'removed' if spec.state == 'absent' else (change or 'updated')
            continue
        placed = True
        if found[0] == spec.hosts and line.strip() == wanted:
            out.append(line)
            continue
        out.append(wanted)
        change = 'updated'
    if spec.state == 'present' and not placed:
        out.append(wanted)
        change = 'added'
    return ''.join(line + '\n' for line in out), change


class KnownHostsCA(Operation):
    def __init__(self, spec, locks=None):
        self.spec = spec
        # the call's Locks (lock_timeout: one wait for the whole task); None: the default wait
        self.locks = locks
        self.home_file = None

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        if spec.in_home:
            if not spec.account.exists:
                plan.warn_missing_user(spec.account)
            self.home_file = HomeFile(spec.account, spec.path, FILE_MODE, self.locks, HOME_FILE_LIMIT)
            current = self.home_file.read()
        else:
            central = CentralFile(spec.path, FILE_MODE)
            current = central.read()
        text = current.data.decode('utf-8', 'replace') if current.exists else ''
        new_text, change = edit_known_hosts(text, spec)
        plan.before = {'lines': [line for line in text.splitlines() if ca_line_key(line) is not None]}
        plan.after = {'lines': [line for line in new_text.splitlines() if ca_line_key(line) is not None]}
        if change is None:
            return plan
        detail = '%s %s line of %s' % (change, MARKER, spec.key.fingerprint_sha256)
        data = new_text.encode('utf-8')
        if spec.in_home:
            plan.add('update' if current.exists else 'create', spec.path,
                     lambda: self.home_file.rewrite(lambda found: edit_known_hosts(found, spec)[0]), detail)
        else:
            central.plan_write(plan, data, current, detail, edit=lambda found: edit_known_hosts(found, spec)[0],
                               locks=self.locks)
        return plan

    def lock_requests(self, plan):
        """An in-home file's write takes the flock on its directory."""
        if self.home_file is not None and plan.actions:
            return self.home_file.lock_requests()
        return []

    def result(self, plan, applied):
        spec = self.spec
        return {'path': spec.path, 'state': spec.state, 'actions': plan.describe(),
                'line': spec.line() if spec.state == 'present' else None,
                'fingerprint': spec.key.fingerprint_sha256}
