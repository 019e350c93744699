# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenSSH private key container read without a backend (ssh-keygen keys):
encryption seen from the armor, the check integers and padding of the private
section, one key per file, comments of encrypted keys never rewritten."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import struct
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import openssh_private


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp('openssh-private')
    made = {}
    for name, passphrase, extra in (('plain', '', []), ('locked', 'secret phrase', []),
                                    ('pem', '', ['-t', 'rsa', '-b', '1024', '-m', 'PEM']),
                                    ('pem_locked', 'secret phrase', ['-t', 'rsa', '-b', '1024', '-m', 'PEM']),
                                    ('pkcs8', '', ['-t', 'ecdsa', '-m', 'PKCS8']),
                                    ('pkcs8_locked', 'secret phrase', ['-t', 'ecdsa', '-m', 'PKCS8'])):
        path = directory / name
        args = extra or ['-t', 'ed25519', '-a', '1']
        subprocess.run(['ssh-keygen', '-q'] + args + ['-N', passphrase, '-C', 'c-' + name, '-f', str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        made[name] = path.read_bytes()
    return made


def test_encryption_is_seen_in_every_format(keys):
    for name, encrypted in (('plain', False), ('locked', True), ('pem', False), ('pem_locked', True),
                            ('pkcs8', False), ('pkcs8_locked', True)):
        assert openssh_private.is_encrypted(keys[name]) == encrypted, name


def test_public_key_of_an_encrypted_key_is_read_without_the_passphrase(keys):
    public = openssh_private.openssh_public_key(keys['locked'])
    assert public.key_type == 'ssh-ed25519' and public.comment == ''
    assert openssh_private.openssh_public_key(keys['plain']).comment == 'c-plain'


def _section(keys):
    return openssh_private.OpenSSHContainer(keys['plain']).private_section


def test_check_integers_must_agree(keys):
    section = _section(keys)
    dummy, comment = openssh_private.split_private_section(section)
    assert comment == b'c-plain'
    broken = section[:4] + struct.pack('>I', struct.unpack('>I', section[4:8])[0] ^ 1) + section[8:]
    with pytest.raises(WrongPassphrase):
        openssh_private.split_private_section(broken)


def test_padding_must_be_1_2_3(keys):
    key_part, dummy = openssh_private.split_private_section(_section(keys))
    for comment in (b'a', b'ab', b'abc'):
        rebuilt = key_part + struct.pack('>I', len(comment)) + comment
        if len(rebuilt) % 8:
            break
    padded = openssh_private.pad_section(rebuilt, 8)
    assert len(padded) > len(rebuilt)
    assert openssh_private.split_private_section(padded) == (key_part, comment)
    with pytest.raises(KeyLoadError, match='bad padding'):
        openssh_private.split_private_section(padded[:-1] + b'\x09')


def test_one_key_per_file(keys):
    raw = base64.b64decode(b''.join(keys['plain'].strip().split(b'\n')[1:-1]))
    container = openssh_private.OpenSSHContainer(keys['plain'])
    count_at = len(openssh_private.OPENSSH_MAGIC) + 4 + len(container.cipher) + 4 + len(container.kdf) \
        + 4 + len(container.kdf_options)
    assert raw[count_at:count_at + 4] == struct.pack('>I', 1)
    for count in (0, 2):
        patched = raw[:count_at] + struct.pack('>I', count) + raw[count_at + 4:]
        with pytest.raises(KeyLoadError, match='bad header'):
            openssh_private.OpenSSHContainer(openssh_private.armor(patched))


def test_comment_of_an_encrypted_key_is_never_rewritten(keys):
    with pytest.raises(BackendError):
        openssh_private.set_plain_comment(keys['locked'], 'new')
    renamed = openssh_private.set_plain_comment(keys['plain'], 'new comment')
    assert openssh_private.openssh_public_key(renamed).comment == 'new comment'
