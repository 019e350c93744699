# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the OS tools a module runs (ssh-keygen, useradd, ...) are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

# Searched after $PATH: a module run by an account with a short PATH still finds them.
_DEFAULT_SEARCH = ('/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin')


def find_executable(name, path=None):
    """Full path of ``name``: ``path`` when given (a file or a directory holding it),
    else the first one in ``$PATH`` and the usual directories; ``None`` when absent."""
    if path:
        candidate = os.path.join(path, name) if os.path.isdir(path) else path
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        return None
    search = os.environ.get('PATH', '').split(os.pathsep) + list(_DEFAULT_SEARCH)
    return shutil.which(name, path=os.pathsep.join(p for p in search if p))
