# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh-keygen backend on its own: what it is asked is what it makes, and
a key file's KDF cost is capped before ssh-keygen spends it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import shutil
import struct

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._kdf_limits import MAX_BCRYPT_ROUNDS
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_sshkeygen import SshKeygenBackend

pytestmark = pytest.mark.skipif(not shutil.which('ssh-keygen'), reason='ssh-keygen is not installed')


def with_bcrypt_rounds(private_bytes, rounds):
    """An OpenSSH private key with its bcrypt rounds field replaced."""
    lines = private_bytes.decode().strip().splitlines()
    raw = base64.b64decode(''.join(lines[1:-1]))
    pos = len(b'openssh-key-v1\0')
    for dummy in range(2):  # cipher name, kdf name
        pos += 4 + struct.unpack('>I', raw[pos:pos + 4])[0]
    salt_at = pos + 4
    rounds_at = salt_at + 4 + struct.unpack('>I', raw[salt_at:salt_at + 4])[0]
    raw = raw[:rounds_at] + struct.pack('>I', rounds) + raw[rounds_at + 4:]
    body = base64.b64encode(raw).decode()
    return ('%s\n%s\n%s\n' % (lines[0], '\n'.join(body[i:i + 70] for i in range(0, len(body), 70)),
                              lines[-1])).encode()


def test_the_size_and_format_asked_for_are_made():
    backend = SshKeygenBackend()
    private, public = backend.generate('rsa', 2048, 'sk-backend', 'c', 'pkcs8')
    assert public.size == 2048 and backend.private_format(private) == 'pkcs8' and backend.is_encrypted(private)
    assert backend.load_private(private, 'sk-backend').same_key(public)
    private, public = backend.generate('ecdsa', 384, None, 'c', 'auto')
    assert public.size == 384 and backend.private_format(private) == 'openssh'


def test_a_patched_kdf_cost_is_refused_before_ssh_keygen_runs():
    backend = SshKeygenBackend()
    private, dummy = backend.generate('ed25519', 256, 'sk-backend', 'c', 'openssh')
    patched = with_bcrypt_rounds(private, MAX_BCRYPT_ROUNDS + 1)
    with pytest.raises(TooExpensive, match='bcrypt rounds'):
        backend.load_private(patched, 'sk-backend')
    assert backend.load_private(with_bcrypt_rounds(private, 16), 'sk-backend') is not None
