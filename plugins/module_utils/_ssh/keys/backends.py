# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which SSH key backend a task uses: ``cryptography`` (backend_cryptography)
or ``ssh-keygen`` (backend_sshkeygen), both behind ``KeyBackend``
(backend_base)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import BackendUnavailable, InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_cryptography import CryptographyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_sshkeygen import SshKeygenBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import HAS_BCRYPT, HAS_CRYPTOGRAPHY

BACKEND_CHOICES = ('auto', 'cryptography', 'ssh-keygen')


def select_backend(name='auto', key_type=None, private_key_format='auto', encrypted=False,
                   private_bytes=None, ssh_keygen_path=None):
    """The backend to use.

    ``name`` is one of ``BACKEND_CHOICES``. With ``key_type`` (and format and
    ``encrypted``) the backend must be able to generate such a key; with
    ``private_bytes`` it must be able to read that key. ``auto`` prefers
    cryptography, then ssh-keygen. Raises ``BackendUnavailable`` saying what
    to install, ``InvalidInput`` for an unknown name.
    """
    if name not in BACKEND_CHOICES:
        raise InvalidInput('unknown backend %s; choose one of %s' % (name, ', '.join(BACKEND_CHOICES)))

    def fits(backend):
        if key_type is not None and not backend.can_generate(key_type, private_key_format, encrypted):
            return False
        if private_bytes is not None and not backend.can_load(private_bytes):
            return False
        return True

    what = 'keys'
    if key_type is not None:
        what = '%s%s keys in %s format' % ('encrypted ' if encrypted else '', key_type, private_key_format)
    if name == 'cryptography':
        backend = CryptographyBackend()
        if not fits(backend):
            raise BackendUnavailable('the cryptography backend cannot handle %s here%s' % (
                what, '' if HAS_BCRYPT else ' (the bcrypt Python library is missing)'))
        return backend
    if name == 'ssh-keygen':
        backend = SshKeygenBackend(ssh_keygen_path)
        if not fits(backend):
            raise BackendUnavailable('the ssh-keygen backend cannot handle %s here' % what)
        return backend
    reasons = []
    if HAS_CRYPTOGRAPHY:
        backend = CryptographyBackend()
        if fits(backend):
            return backend
        reasons.append('cryptography cannot handle %s%s' % (what, '' if HAS_BCRYPT else ' without bcrypt'))
    else:
        reasons.append('the cryptography Python library is missing')
    try:
        backend = SshKeygenBackend(ssh_keygen_path)
    except BackendUnavailable:
        reasons.append('ssh-keygen is not installed')
    else:
        if fits(backend):
            return backend
        reasons.append('ssh-keygen cannot handle %s' % what)
    raise BackendUnavailable('no backend can handle %s: %s; install python3-cryptography '
                             '(with python3-bcrypt) or the OpenSSH client' % (what, '; '.join(reasons)))
