# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Create a missing system user (and its missing groups) with the OS tools, for ``provision``.

Only creation: an existing user is left as it is (its uid, groups, shell and
password are not changed), as ``ansible.builtin.user`` with
``update_password: on_create`` leaves the password. The password is a hash
and is never shown in results, diffs or messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re
import subprocess

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import user_database_lock
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Done, Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable

# shadow-utils' rule for user and group names (NAME_REGEX without the final $ for machine accounts).
_NAME = re.compile(r'^[a-z_][a-z0-9_.-]{0,31}$')
_TIMEOUT = 120


def validate_name(value, what):
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput('%s %r is not a valid name (lower-case letters, digits, _, . and -, starting with a '
                           'letter or _, at most 32 characters)' % (what, value))
    return value


def _group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class UserSpec:
    """The user creation options of a ``provision`` account (those of the ``account`` role)."""

    def __init__(self, name, home=None, uid=None, group=None, groups=None, shell=None, comment=None,
                 system=False, password=None):
        self.name = validate_name(name, 'user')
        if home is not None and not os.path.isabs(home):
            raise InvalidInput('home must be an absolute path, got %r' % home)
        self.home = os.path.normpath(home) if home is not None else None
        if uid is not None and (not isinstance(uid, int) or isinstance(uid, bool) or uid < 0):
            raise InvalidInput('uid must be a non-negative integer, got %r' % (uid,))
        self.uid = uid
        self.group = validate_name(group, 'group') if group else None
        self.groups = [validate_name(item, 'group') for item in (groups or [])]
        if shell is not None and (not os.path.isabs(shell) or '\n' in shell or ':' in shell):
            raise InvalidInput('shell must be an absolute path without ":" or a newline, got %r' % shell)
        self.shell = shell
        if comment is not None and (':' in comment or '\n' in comment):
            raise InvalidInput('comment must not contain ":" or a newline')
        self.comment = comment
        self.system = bool(system)
        if password is not None and (':' in password or '\n' in password or '\0' in password):
            # the value is a secret: never echoed
            raise InvalidInput('password must be a password hash without ":" or a newline')
        self.password = password


class UserCreation(Operation):
    """Plan and apply the creation of a missing user and of its missing groups."""

    def __init__(self, spec, locks=None):
        self.spec = spec
        self.locks = locks   # the call's Locks: the wait for user_database_lock
        self.created = False
        self.groups_created = []

    def missing_groups(self):
        spec = self.spec
        wanted = ([spec.group] if spec.group else []) + spec.groups
        missing = []
        for name in wanted:
            if name not in missing and not _group_exists(name):
                missing.append(name)
        return missing

    @staticmethod
    def user_exists(name):
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    def plan(self):
        spec = self.spec
        plan = Plan('user %s' % spec.name)
        if self.user_exists(spec.name):
            plan.before = plan.after = {'user': spec.name, 'state': 'present'}
            differences = self._differences(pwd.getpwnam(spec.name))
            if differences:
                plan.warn('user %s exists with %s: left as it is (provision only creates missing users; '
                          'change existing ones with ansible.builtin.user)' % (spec.name, ', '.join(differences)))
            return plan
        for tool in ['useradd'] + (['groupadd'] if self.missing_groups() else []):
            if find_executable(tool) is None:
                raise BackendUnavailable('%s is needed to create user %s and was not found' % (tool, spec.name))
        for name in self.missing_groups():
            plan.add('create group', name, lambda name=name: self._groupadd(name),
                     'system' if spec.system else None)
        plan.add('create user', spec.name, self._useradd, self._detail())
        plan.before = {'user': spec.name, 'state': 'absent'}
        plan.after = dict(self._view(), state='present')
        return plan

    def _differences(self, entry):
        """What the task asks for that the existing user does not have (the password is not compared)."""
        spec = self.spec
        found = []
        if spec.uid is not None and entry.pw_uid != spec.uid:
            found.append('uid %d, not %d' % (entry.pw_uid, spec.uid))
        if spec.shell and entry.pw_shell != spec.shell:
            found.append('shell %s, not %s' % (entry.pw_shell, spec.shell))
        if spec.comment is not None and entry.pw_gecos != spec.comment:
            found.append('another comment')
        try:
            primary = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            primary = str(entry.pw_gid)
        if spec.group and primary != spec.group:
            found.append('primary group %s, not %s' % (primary, spec.group))
        missing = [name for name in spec.groups if name != primary and (
            not _group_exists(name) or entry.pw_name not in grp.getgrnam(name).gr_mem)]
        if missing:
            found.append('not in group%s %s' % ('s' if len(missing) > 1 else '', ', '.join(missing)))
        return found

    def _view(self):
        spec = self.spec
        view = {'user': spec.name, 'home': spec.home, 'uid': spec.uid, 'group': spec.group,
                'groups': spec.groups or None, 'shell': spec.shell, 'system': spec.system or None}
        return dict((key, value) for key, value in view.items() if value is not None)

    def _detail(self):
        spec = self.spec
        parts = []
        if spec.uid is not None:
            parts.append('uid %d' % spec.uid)
        if spec.group:
            parts.append('group %s' % spec.group)
        if spec.groups:
            parts.append('groups %s' % ','.join(spec.groups))
        if spec.system:
            parts.append('system')
        return ', '.join(parts) or None

    # ---------------------------------------------------------------- apply
    def _groupadd(self, name):
        argv = [find_executable('groupadd')] + (['--system'] if self.spec.system else []) + [name]
        with user_database_lock(self.locks):
            if _group_exists(name):
                # another run created it since the plan: not done (nor changed) here
                return Done('already created by another run', False)
            self._run(argv, 'groupadd %s' % name)
        self.groups_created.append(name)
        return None

    def _useradd(self):
        spec = self.spec
        argv = [find_executable('useradd'), '--create-home']
        if spec.home:
            argv += ['--home-dir', spec.home]
        if spec.uid is not None:
            argv += ['--uid', str(spec.uid)]
        if spec.group:
            argv += ['--gid', spec.group]
        if spec.groups:
            argv += ['--groups', ','.join(spec.groups)]
        if spec.shell:
            argv += ['--shell', spec.shell]
        if spec.comment:
            argv += ['--comment', spec.comment]
        if spec.system:
            argv += ['--system']
        if spec.password is not None:
            # as ansible.builtin.user does: the hash, never a clear-text password
            argv += ['--password', spec.password]
        argv.append(spec.name)
        with user_database_lock(self.locks):
            if self.user_exists(spec.name):
                # another run created it since the plan: not done (nor changed) here
                return Done('already created by another run', False)
            self._run(argv, 'useradd %s' % spec.name)
        self.created = True
        return None

    @staticmethod
    def _run(argv, what):
        env = dict(os.environ, LC_ALL='C', LANG='C')
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, close_fds=True)
            _stdout, stderr = proc.communicate(timeout=_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError('could not run %s (%s)' % (what, type(exc).__name__))
        if proc.returncode != 0:
            # stderr of useradd names options, never the hash
            raise BackendError('%s failed (exit status %d): %s' % (
                what, proc.returncode, stderr.decode('utf-8', 'replace').strip()[:300]))

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        result = {'user': self.spec.name, 'actions': plan.describe(),
                  'created': self.created if applied else plan.changed}
        if self.groups_created or (plan.changed and not applied):
            result['groups_created'] = self.groups_created if applied else self.missing_groups()
        return result
