# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Can sshd use a file: ``StrictModes`` (OpenSSH's ``auth_secure_path``, with
Debian's rule for group-writable paths: :class:`UserGroups`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd


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
