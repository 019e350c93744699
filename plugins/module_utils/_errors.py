# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed errors of the shared core.

They are raised where a problem is found and turned into ``fail_json`` in one
place (``_module.run_operation``), so no helper deep down needs the module object.
Messages must never contain private key material or passphrases.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class KeysmithError(Exception):
    """Base class: a failure the user should see as a clean ``msg``."""

    def __init__(self, msg, **details):
        super(KeysmithError, self).__init__(msg)
        self.msg = msg
        # Extra public fields added to the failure result (never secrets).
        self.details = details


class InvalidInput(KeysmithError):
    """An option value breaks a rule (bad name, bits, key text, ...)."""


class NotFound(KeysmithError):
    """Something the task needs does not exist (user, key for a host, entry)."""


class UnsafePath(KeysmithError):
    """A path is a symlink, hard link, wrong type or owned by someone else."""


class NotRegularFile(UnsafePath):
    """A path names a directory, socket, fifo or device where a file belongs."""


class BackendUnavailable(KeysmithError):
    """No usable crypto backend for what was asked (library or binary missing)."""


class BackendError(KeysmithError):
    """A backend failed while doing its work (ssh-keygen exit status, ...)."""


class KeyLoadError(KeysmithError):
    """An existing key cannot be read: broken file or wrong passphrase."""


class WrongPassphrase(KeyLoadError):
    """The key is encrypted and the given passphrase does not open it."""


class PartialFailure(KeysmithError):
    """Part of the work failed and the rest was done (``provision`` without
    ``atomic``): the task fails with ``result``, its full public result."""

    def __init__(self, msg, result, changed=None):
        super(PartialFailure, self).__init__(msg)
        self.result = result
        # whether anything was done (None: the plan's changed)
        self.changed = changed


class Conflict(KeysmithError):
    """The current state conflicts with the task and no option allows fixing it
    (``regenerate: fail``, an imported key differing without ``force``, ...)."""


class LockTimeout(KeysmithError):
    """A lock another process holds (possibly the account itself) was not
    released within the task's ``lock_timeout``."""


class TooExpensive(KeyLoadError):
    """A key file asks for a key-derivation cost (rounds, memory) beyond what
    any real key uses: refused before spending it."""
