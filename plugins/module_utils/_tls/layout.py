# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where an account's TLS files live, as cPanel lays them out.

``~/ssl/keys/<host>.key`` and ``~/ssl/csrs/<host>.csr`` (a wildcard host
``*.example.com`` is stored as ``_wildcard_.example.com``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._fs import DirState, account_tree, split_under
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import host_file_stem

SSL_DIR = 'ssl'
KEYS_DIR = 'keys'
CSRS_DIR = 'csrs'
KEY_SUFFIX = '.key'
CSR_SUFFIX = '.csr'
DIR_MODE = 0o700
KEY_MODE = 0o600
CSR_MODE = 0o644
CSR_MODE_WITH_PASSWORD = 0o600


def default_key_path(home, host):
    return os.path.join(home, SSL_DIR, KEYS_DIR, host_file_stem(host) + KEY_SUFFIX)


def default_csr_path(home, host):
    return os.path.join(home, SSL_DIR, CSRS_DIR, host_file_stem(host) + CSR_SUFFIX)


class Location:
    """A file reached safely: the trusted tree, the directory parts and the name."""

    def __init__(self, account, path, follow=False):
        self.path = path
        self.tree, self.parts, self.name = account_tree(account, path, follow)
        # Directories below the home are created when missing; outside it the
        # parent of the path must exist (the task named it).
        self.managed_dirs = bool(self.parts)

    def read(self, require_base=False):
        """The file's state. ``require_base``: ``NotFound`` when its base (the
        home) is missing, as writing would fail (check mode predicts it)."""
        if require_base:
            self.tree.check_base()
        return self.tree.read(self.parts, self.name)

    def write(self, data, mode):
        return self.tree.write(self.parts, self.name, data, mode)

    def set_attrs(self, mode):
        return self.tree.set_attrs(self.parts, self.name, mode)

    def remove(self):
        return self.tree.remove(self.parts, self.name)

    def plan_dirs(self, plan):
        """Add a 'create directory' action when a directory on the way is missing."""
        if not self.managed_dirs:
            return
        for depth in range(1, len(self.parts) + 1):
            state = self.tree.dir_state(self.parts[:depth])
            if not state.exists:
                parts = list(self.parts)
                plan.ensure_dir(DirState(self.tree.path(parts)), lambda: self.tree.ensure_dir(parts, DIR_MODE), DIR_MODE)
                return


def directory_location(account, path):
    """(Tree, parts) of a directory; below the home it is walked from the home."""
    base, parts, name = split_under(account.home, path)
    return base, list(parts) + [name]
