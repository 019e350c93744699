# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The accounts an audit looks at, as sshd sees them (name, uid, groups, home, shell)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import pwd


class AccountEntry:
    def __init__(self, name, uid, gid, home, shell, groups, password=None):
        self.name = name
        # the passwd entry's password field (sshd's lock check uses it when
        # the account has no shadow entry)
        self.password = password
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
        self.groups = set(groups) | set([gid])


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
                                     entry.pw_shell, members.get(entry.pw_name, ()), entry.pw_passwd))
    return accounts
