# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

serialization = pytest.importorskip('cryptography.hazmat.primitives.serialization')
PUTTYGEN = shutil.which('puttygen')
needs_puttygen = pytest.mark.skipif(PUTTYGEN is None, reason='puttygen (putty-tools) is not installed')
needs_argon2 = pytest.mark.skipif(not ppk.argon2_available(), reason='no Argon2id implementation')


def make_key(tmp_path, key_type, bits=None, comment='tester@example'):
    path = tmp_path / ('key_' + key_type)
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', comment, '-f', str(path)]
    if bits:
        args[4:4] = ['-b', str(bits)]
    subprocess.run(args, check=True)
    key = serialization.load_ssh_private_key(path.read_bytes(), None)
    return path, key, PublicKey.from_line(path.with_name(path.name + '.pub').read_text())


KEY_TYPES = [('ed25519', None), ('rsa', 2048), ('ecdsa', 256), ('ecdsa', 384), ('ecdsa', 521)]


@needs_puttygen
@pytest.mark.parametrize('key_type, bits', KEY_TYPES)
def test_unencrypted_export_is_what_puttygen_writes(tmp_path, key_type, bits):
    path, key, public = make_key(tmp_path, key_type, bits)
    theirs = tmp_path / 'theirs.ppk'
    subprocess.run([PUTTYGEN, str(path), '-O', 'private', '-o', str(theirs)], check=True)
    mine = ppk.export_key(key, 'tester@example')
    assert mine == theirs.read_bytes()
    assert ppk.check_ppk(theirs.read_bytes(), key, 'tester@example') is None


@needs_puttygen
@needs_argon2
@pytest.mark.parametrize('key_type, bits', KEY_TYPES)
def test_encrypted_export_loads_in_puttygen(tmp_path, key_type, bits):
    path, key, public = make_key(tmp_path, key_type, bits)
    target = tmp_path / 'mine.ppk'
    target.write_bytes(ppk.export_key(key, 'tester@example', 'correct horse'))
    text = target.read_text()
    assert text.startswith('PuTTY-User-Key-File-3: %s\nEncryption: aes256-cbc\n' % public.key_type)
    assert 'Key-Derivation: Argon2id' in text
    secret = tmp_path / 'pass'
    secret.write_text('correct horse\n')
    out = subprocess.run([PUTTYGEN, str(target), '--old-passphrase', str(secret), '-l'], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    assert public.fingerprint_sha256 in out
    # The private half is right, too: puttygen converts it back to the same public key.
    back = tmp_path / 'back'
    subprocess.run([PUTTYGEN, str(target), '--old-passphrase', str(secret), '--new-passphrase', '/dev/null',
                    '-O', 'private-openssh', '-o', str(back)], check=True)
    derived = subprocess.run(['ssh-keygen', '-y', '-P', '', '-f', str(back)], check=True,
                             stdout=subprocess.PIPE).stdout.decode()
    assert PublicKey.from_line(derived).same_key(public)
    # And a file puttygen encrypted verifies with our reader.
    theirs = tmp_path / 'theirs.ppk'
    subprocess.run([PUTTYGEN, str(path), '-O', 'private', '--new-passphrase', str(secret), '-o', str(theirs)],
                   check=True)
    assert ppk.check_ppk(theirs.read_bytes(), key, 'tester@example', 'correct horse') is None


@needs_argon2
def test_check_ppk_reasons(tmp_path):
    _path, key, _public = make_key(tmp_path, 'ed25519')
    _path2, other, _public2 = make_key(tmp_path, 'rsa', 2048)
    plain = ppk.export_key(key, 'c')
    locked = ppk.export_key(key, 'c', 'pass phrase')
    assert locked != ppk.export_key(key, 'c', 'pass phrase')  # random salt
    assert ppk.check_ppk(locked, key, 'c', 'pass phrase') is None
    assert 'wrong passphrase' in ppk.check_ppk(locked, key, 'c', 'other phrase')
    assert 'protected by' in ppk.check_ppk(locked, key, 'c')
    assert 'not protected by' in ppk.check_ppk(plain, key, 'c', 'pass phrase')
    assert 'comment' in ppk.check_ppk(plain, key, 'd')
    assert 'another key' in ppk.check_ppk(plain, other, 'c')
    assert 'not a PuTTY key file' in ppk.check_ppk(b'-----BEGIN OPENSSH PRIVATE KEY-----\n', key, 'c')
    tampered = plain.replace(b'Comment: c', b'Comment: x')
    with pytest.raises(KeyLoadError, match='MAC'):
        ppk.PpkFile(tampered).private_blob()
    with pytest.raises(WrongPassphrase):
        ppk.PpkFile(locked).private_blob()
    assert ppk.public_blob_of(plain) == ppk.public_blob_of(locked)
    assert ppk.public_blob_of(b'garbage') is None


def test_no_argon2_fails_cleanly_for_encrypted_only(tmp_path, monkeypatch):
    _path, key, _public = make_key(tmp_path, 'ed25519')
    monkeypatch.setattr(ppk, '_CryptographyArgon2id', None)
    monkeypatch.setattr(ppk, '_argon2_hash_secret_raw', None)
    assert not ppk.argon2_available()
    assert ppk.export_key(key, 'c').startswith(b'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n')
    with pytest.raises(BackendUnavailable, match='Argon2id') as info:
        ppk.export_key(key, 'c', 'secret phrase')
    assert 'secret phrase' not in info.value.msg


def test_mpint_encoding():
    assert ppk._mpint(0) == b'\0\0\0\0'
    assert ppk._mpint(0x7f) == b'\0\0\0\x01\x7f'
    assert ppk._mpint(0x80) == b'\0\0\0\x02\x00\x80'
    assert ppk._mpint(0x1234) == b'\0\0\0\x02\x12\x34'
