# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resolve the account a task works for: user -> uid, gid, home."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    NotFound,
)


class Account:
    """A system account, or the prediction of one that does not exist yet.

    ``exists`` is False only in check mode for a user that is missing (an
    earlier task of the play may create it): the plan is then computed against
    an empty state, so check mode reports what a real run would do.
    """

    def __init__(self, name, uid, gid, home, exists=True, home_overridden=False):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.exists = exists
        self.home_overridden = home_overridden

    def __repr__(self):
        return 'Account(%r, uid=%r, home=%r, exists=%r)' % (self.name, self.uid, self.home, self.exists)

    @classmethod
    def resolve(cls, user=None, home=None, check_mode=False):
        """Look ``user`` up (default: the user running the module).

        ``home`` overrides the home directory (non-standard layouts, rootless
        runs). A missing user is an error, except in check mode where an
        ``Account`` with ``exists=False`` is returned.
        """
        if home is not None:
            if not os.path.isabs(home):
                raise InvalidInput('home must be an absolute path, got %r' % home)
            home = os.path.normpath(home)
        if user is None:
            entry = pwd.getpwuid(os.geteuid())
        else:
            if not user or '\n' in user or '\0' in user or '/' in user or ':' in user:
                raise InvalidInput('user %r is not a valid account name' % user)
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                if not check_mode:
                    raise NotFound(
                        'user %r does not exist on this host; create it first '
                        '(for example with ansible.builtin.user or the keysmith.accounts.account role '
                        'with create: true)' % user, user=user)
                predicted_home = home if home is not None else os.path.join('/home', user)
                return cls(user, None, None, predicted_home, exists=False,
                           home_overridden=home is not None)
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid,
                   home if home is not None else entry.pw_dir,
                   home_overridden=home is not None)
