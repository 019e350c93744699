# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Root-managed files of the trust setup (sshd drop-ins, CA key lists,
central principals files, the system known_hosts), read and written through
``_fs``: the directory is reached by the trust walk, the file is written
atomically and gets ``root:root`` and its mode; a missing directory is made
``root:root 0755``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree

DIR_MODE = 0o755


class CentralFile:
    """The root-owned file at absolute ``path`` with ``mode``."""

    def __init__(self, path, mode=0o644):
        if not path or not os.path.isabs(path):
            raise UnsafePath('%r is not an absolute path' % (path,))
        self.path = os.path.normpath(path)
        self.mode = mode
        self.name = os.path.basename(self.path)
        directory = os.path.dirname(self.path)
        # The walk starts at the nearest directory that exists (checked by the
        # trust walk on use); missing ones below it are made root:root 0755.
        base = os.path.dirname(directory) if directory != '/' else directory
        while base != '/' and not _fs_audit.stat_path(base).is_dir:
            base = os.path.dirname(base)
        self.tree = Tree(base, uid=0, gid=0, fixed_attrs=(0, 0, mode))
        self.parts = [part for part in os.path.relpath(directory, base).split('/') if part not in ('', '.')]

    def read(self):
        return self.tree.read(self.parts, self.name)

    def plan_write(self, plan, data, current, what, edit=None, locks=None):
        """Add to ``plan`` what makes the file hold ``data`` (bytes) with its
        owner and mode, given its ``current`` FileState; whether anything.

        ``edit(text)`` -> the new text: the write then takes the directory's
        flock, reads the file again and edits what it finds (two runs at once
        both keep their lines); ``locks``: the call's ``Locks``."""
        added = False
        if self.parts:
            state = self.tree.dir_state(self.parts)
            if not state.exists:
                plan.ensure_dir(state, lambda: self.tree.ensure_dir(self.parts, DIR_MODE), DIR_MODE, uid=0, gid=0)
                added = True
        if current.exists and current.data == data:
            repair = plan.ensure_attrs(self.path, current, self._set_attrs, self.mode, 0, 0)
            return bool(repair) or added
        if edit is not None:
            plan.add('update' if current.exists else 'create', self.path, lambda: self.rewrite(edit, locks), what)
        else:
            plan.add('update' if current.exists else 'create', self.path,
                     lambda: self.tree.write(self.parts, self.name, data, self.mode), what)
        return True

    def rewrite(self, edit, locks=None):
        """Under the flock of the file's directory: read the file again,
        ``edit`` its text and write the result (or only repair owner and mode
        when the bytes are the same)."""
        with self.tree.locked(self.parts, locks) as dir_fd:
            current = self.tree.read_in(dir_fd, self.parts, self.name)
            text = current.data.decode('utf-8', 'replace') if current.exists else ''
            data = edit(text).encode('utf-8')
            if current.exists and current.data == data:
                if current.attrs_differ(self.mode, 0, 0):
                    self._set_attrs()
                return
            self.tree.write(self.parts, self.name, data, self.mode, dir_fd=dir_fd)

    def _set_attrs(self):
        self.tree.set_attrs(self.parts, self.name, self.mode)

    def plan_remove(self, plan, current, what):
        if not current.exists:
            return False
        plan.add('remove', self.path, lambda: self.tree.remove(self.parts, self.name), what)
        return True
