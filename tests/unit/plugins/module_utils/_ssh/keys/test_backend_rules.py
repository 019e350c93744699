# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend choice and the cryptography backend's rules: a passphrase always
encrypts, KDF costs of account-controlled key files are bounded before any
derivation, a re-encrypted key gets a fresh salt, the size asked is the size made."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import openssh_private
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_cryptography import CryptographyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.test_kdf_limits import with_rounds

PASSPHRASE = 'secret phrase'


def test_backend_choice():
    # the test venv has bcrypt
    import bcrypt  # noqa: F401  # pylint: disable=unused-import
    assert select_backend('auto').name == 'cryptography'
    assert select_backend('auto', 'ed25519', 'auto', True).name == 'cryptography'
    assert select_backend('cryptography', 'ed25519', 'openssh', True).name == 'cryptography'
    assert select_backend('ssh-keygen').name == 'ssh-keygen'
    with pytest.raises(InvalidInput, match='unknown backend'):
        select_backend('openssl')


@pytest.fixture(scope='module')
def encrypted_key(tmp_path_factory):
    """An ssh-keygen key of one bcrypt round (the test machine is shared)."""
    path = tmp_path_factory.mktemp('backend-rules') / 'key'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-a', '1', '-N', PASSPHRASE, '-C', 'mine', '-f', str(path)],
                   check=True, stdout=subprocess.DEVNULL)
    return path.read_bytes(), None


def test_a_passphrase_encrypts_the_generated_key():
    private, dummy = CryptographyBackend().generate('ed25519', None, PASSPHRASE)
    assert openssh_private.is_encrypted(private)
    private, dummy = CryptographyBackend().generate('ecdsa', 256, PASSPHRASE, private_key_format='pkcs8')
    assert openssh_private.is_encrypted(private)


def test_kdf_cost_is_checked_before_loading(encrypted_key):
    costly = with_rounds(encrypted_key[0], 501)
    with pytest.raises(TooExpensive, match='501 bcrypt rounds'):
        CryptographyBackend().load_private(costly, PASSPHRASE)
    with pytest.raises(TooExpensive, match='501 bcrypt rounds'):
        CryptographyBackend().set_comment(costly, PASSPHRASE, 'new')


def test_a_comment_change_re_encrypts_with_a_fresh_salt(encrypted_key):
    private = encrypted_key[0]
    renamed = CryptographyBackend().set_comment(private, PASSPHRASE, 'renamed')
    before = openssh_private.OpenSSHContainer(private).kdf_options
    after = openssh_private.OpenSSHContainer(renamed).kdf_options
    assert before[-4:] == after[-4:] and before[:-4] != after[:-4]
    assert CryptographyBackend().load_private(renamed, PASSPHRASE).comment == 'renamed'


def test_the_size_asked_is_the_size_made():
    dummy, public = CryptographyBackend().generate('rsa', 1024)
    assert public.size == 1024
