# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SELinux contexts of the files and directories the collection creates.

What ansible-core does for a file it writes (``AnsibleModule.atomic_move``:
a new file gets the policy's default context for its path,
``selinux_default_context`` = ``matchpathcon``; a replaced file keeps the
context the old one had) and ansible.posix ``authorized_key`` does for
``~/.ssh`` (``set_default_selinux_context``), done here by descriptor: the
context goes on the open temporary file before it is renamed into place, or
on the open new directory, so no path an account controls is followed. On
RHEL/Fedora a root-created ``~/.ssh`` without ``ssh_home_t`` can leave sshd
unable to read the keys.

A no-op where SELinux is disabled or no binding is there: the ``selinux``
Python binding (python3-libselinux) when installed, else libselinux itself
through ctypes (as ``ansible.module_utils.compat.selinux`` loads it, with the
descriptor calls that module lacks). A file system without labels (NFS
homes) is left as it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError

# errors that mean "this file system keeps no labels": nothing to do
_NO_LABELS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA)

_LOADED = []   # [binding or None], once per process


class _LibSelinux:
    """libselinux by ctypes: the calls used here, with the Python binding's
    conventions ([rc, context] pairs, OSError on failure)."""

    def __init__(self):
        import ctypes
        self._ctypes = ctypes
        try:
            lib = ctypes.CDLL('libselinux.so.1', use_errno=True)
        except OSError:
            raise ImportError('libselinux.so.1 is not installed')
        char_pp = ctypes.POINTER(ctypes.c_char_p)
        lib.is_selinux_enabled.argtypes = []
        lib.matchpathcon.argtypes = [ctypes.c_char_p, ctypes.c_uint, char_pp]
        lib.fgetfilecon_raw.argtypes = [ctypes.c_int, char_pp]
        lib.fsetfilecon.argtypes = [ctypes.c_int, ctypes.c_char_p]
        lib.freecon.argtypes = [ctypes.c_char_p]
        self._lib = lib

    def _failed(self):
        number = self._ctypes.get_errno()
        return OSError(number, os.strerror(number))

    def is_selinux_enabled(self):
        return self._lib.is_selinux_enabled()

    def _context_call(self, call, first, *rest):
        context = self._ctypes.c_char_p()
        rc = call(first, *(rest + (self._ctypes.byref(context),)))
        # what libselinux allocated (None when nothing); freed here, as the binding does
        value = getattr(context, 'value')
        try:
            if rc < 0:
                raise self._failed()
            return [rc, None if value is None else value.decode('utf-8', 'surrogateescape')]
        finally:
            if value is not None:
                self._lib.freecon(context)

    def matchpathcon(self, path, mode):
        return self._context_call(self._lib.matchpathcon, path.encode('utf-8', 'surrogateescape'), mode)

    def fgetfilecon_raw(self, fd):
        return self._context_call(self._lib.fgetfilecon_raw, fd)

    def fsetfilecon(self, fd, context):
        if self._lib.fsetfilecon(fd, context.encode('utf-8', 'surrogateescape')) < 0:
            raise self._failed()
        return 0


def binding():
    """The SELinux binding of this host, or None (none installed)."""
    if not _LOADED:
        found = None
        try:
            import selinux as found  # pylint: disable=import-error
        except ImportError:
            try:
                found = _LibSelinux()
            except (ImportError, AttributeError):
                found = None
        _LOADED.append(found)
    return _LOADED[0]


def enabled():
    lib = binding()
    try:
        return lib if lib is not None and lib.is_selinux_enabled() == 1 else None
    except OSError:
        return None


def default_context(path, kind):
    """The policy's default context for ``path`` (``kind``: ``stat.S_IFREG``
    or ``stat.S_IFDIR``), as ``AnsibleModule.selinux_default_context`` asks
    ``matchpathcon``; None when SELinux is off or the policy has none."""
    lib = enabled()
    if lib is None:
        return None
    try:
        rc, context = lib.matchpathcon(path, kind)
    except OSError:
        return None
    if rc < 0 or not context:
        return None
    return context


def context_of(fd):
    """The context of the file open at ``fd`` (None when SELinux is off or it has none)."""
    lib = enabled()
    if lib is None:
        return None
    try:
        rc, context = lib.fgetfilecon_raw(fd)
    except OSError:
        return None
    return context if rc >= 0 and context else None


def set_context(fd, path, context):
    """Give the file or directory open at ``fd`` (that will be, or is,
    ``path``) the SELinux ``context``; nothing when ``context`` is None or
    the file system keeps no labels."""
    if context is None:
        return
    lib = enabled()
    if lib is None:
        return
    try:
        lib.fsetfilecon(fd, context)
    except OSError as exc:
        if exc.errno in _NO_LABELS:
            return
        raise KeysmithError('cannot set the SELinux context %s of %s: %s'
                            % (context, path, os.strerror(exc.errno) if exc.errno else exc), path=path)


def set_default_context(fd, path, kind):
    """``set_context`` with the policy's default context for ``path``."""
    if enabled() is None:
        return
    set_context(fd, path, default_context(path, kind))
