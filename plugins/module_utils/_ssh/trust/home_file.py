# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A trust file below an account's home (``~/.ssh/known_hosts``, an in-home
``AuthorizedPrincipalsFile``), written as ``ssh_authkey`` writes
``authorized_keys``: the plan reads without a lock; applying takes the flock
on the file's directory (``Tree.locked``, one wait for the whole call through
the call's ``Locks``), reads the file again in that very directory, applies
the same edit to what it finds and writes atomically there. Another writer of
the account's files (this collection's, or the account's own ``flock ~/.ssh``)
is waited for, never overwritten; the walk refuses links, hard links, special
files and directories others may write, as for every account file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._fs import MAX_READ_BYTES, FileState, account_tree


class HomeFile:
    """The file at ``path`` below ``account``'s home, with ``mode``.

    ``locks``: the call's ``Locks`` (its ``lock_timeout``); None waits the
    default. ``limit``: the most bytes read (a larger file is refused: the
    account owns it). ``edit(text)`` -> the new text, or None to remove the file."""

    def __init__(self, account, path, mode, locks=None, limit=MAX_READ_BYTES):
        self.account = account
        self.path = path
        self.mode = mode
        self.locks = locks
        self.limit = limit
        self.tree, self.parts, self.name = account_tree(account, path)

    def read(self):
        if not self.account.exists:
            return FileState(self.path)
        return self.tree.read(self.parts, self.name, limit=self.limit)

    def rewrite(self, edit):
        """Under the directory's flock: read again, ``edit`` the text, write
        (or remove, or repair owner and mode when the bytes are unchanged)."""
        with self.tree.locked(self.parts, self.locks) as dir_fd:
            current = self.tree.read_in(dir_fd, self.parts, self.name, limit=self.limit)
            text = current.data.decode('utf-8', 'replace') if current.exists else ''
            new_text = edit(text)
            if new_text is None:
                if current.exists:
                    self.tree.remove(self.parts, self.name)
                return
            data = new_text.encode('utf-8')
            if current.exists and current.data == data:
                if current.attrs_differ(self.mode, self.account.uid, None):
                    self.tree.set_attrs(self.parts, self.name, self.mode)
                return
            self.tree.write(self.parts, self.name, data, self.mode, dir_fd=dir_fd)

    def lock_requests(self):
        """What ``rewrite`` locks, for a caller that takes the locks ahead."""
        return [(self.tree, self.parts)]
