# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key-derivation costs a hostile key file asks for are refused before they are
spent: bcrypt rounds of OpenSSH keys (a real ssh-keygen key, patched), PBKDF2,
scrypt and PBES1 parameters of PKCS#8 keys (DER built here), each at its cap."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import struct
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _kdf_limits
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import (
    OPENSSH_MAGIC,
    OpenSSHContainer,
    armor,
)


def _der(tag, content):
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    raw = length.to_bytes((length.bit_length() + 7) // 8, 'big')
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _seq(*items):
    return _der(0x30, b''.join(items))


def _int(value):
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, 'big'))


def _oid(raw):
    return _der(0x06, raw)


def _octets(data):
    return _der(0x04, data)


AES256_CBC = b'\x60\x86\x48\x01\x65\x03\x04\x01\x2a'
PBE_SHA1_3DES = b'\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x01\x03'


def _pem(algorithm):
    der = _seq(algorithm, _octets(b'\0' * 48))
    body = base64.encodebytes(der)
    return b'-----BEGIN ENCRYPTED PRIVATE KEY-----\n' + body + b'-----END ENCRYPTED PRIVATE KEY-----\n'


def pbkdf2_key(iterations):
    kdf = _seq(_oid(_kdf_limits._OID_PBKDF2), _seq(_octets(b's' * 16), _int(iterations)))
    return _pem(_seq(_oid(_kdf_limits._OID_PBES2), _seq(kdf, _seq(_oid(AES256_CBC), _octets(b'i' * 16)))))


def scrypt_key(cost, block, parallel):
    kdf = _seq(_oid(_kdf_limits._OID_SCRYPT), _seq(_octets(b's' * 16), _int(cost), _int(block), _int(parallel)))
    return _pem(_seq(_oid(_kdf_limits._OID_PBES2), _seq(kdf, _seq(_oid(AES256_CBC), _octets(b'i' * 16)))))


def pbes1_key(iterations):
    return _pem(_seq(_oid(PBE_SHA1_3DES), _seq(_octets(b's' * 8), _int(iterations))))


def test_pbkdf2_iterations_at_the_cap():
    _kdf_limits.check_kdf_cost(pbkdf2_key(2048))
    _kdf_limits.check_kdf_cost(pbkdf2_key(_kdf_limits.MAX_PBKDF_ITERATIONS))
    with pytest.raises(TooExpensive, match='5000001 key-derivation iterations'):
        _kdf_limits.check_kdf_cost(pbkdf2_key(_kdf_limits.MAX_PBKDF_ITERATIONS + 1))


def test_pbes1_iterations_at_the_cap():
    _kdf_limits.check_kdf_cost(pbes1_key(_kdf_limits.MAX_PBKDF_ITERATIONS))
    with pytest.raises(TooExpensive):
        _kdf_limits.check_kdf_cost(pbes1_key(_kdf_limits.MAX_PBKDF_ITERATIONS + 1))


def test_scrypt_memory_and_work():
    _kdf_limits.check_kdf_cost(scrypt_key(16384, 8, 1))            # 16 MiB, the usual
    _kdf_limits.check_kdf_cost(scrypt_key(262144, 8, 4))           # 256 MiB, 1 GiB of work: at both caps
    with pytest.raises(TooExpensive, match='scrypt N=524288'):
        _kdf_limits.check_kdf_cost(scrypt_key(524288, 8, 1))       # 512 MiB
    with pytest.raises(TooExpensive, match='scrypt N=16384 r=8 p=1024'):
        _kdf_limits.check_kdf_cost(scrypt_key(16384, 8, 1024))     # 16 MiB x 1024


def test_garbage_is_left_to_the_loader():
    _kdf_limits.check_kdf_cost(b'-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n')
    _kdf_limits.check_kdf_cost(b'not a key')


@pytest.fixture(scope='module')
def openssh_key(tmp_path_factory):
    path = tmp_path_factory.mktemp('kdf') / 'key'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-a', '1', '-N', 'secret phrase', '-f', str(path)],
                   check=True, stdout=subprocess.DEVNULL)
    return path.read_bytes()


def with_rounds(key, rounds):
    container = OpenSSHContainer(key)
    salt_part = container.kdf_options[:-4]
    options = salt_part + struct.pack('>I', rounds)
    raw = base64.b64decode(b''.join(key.split(b'\n')[1:-2]))
    old = struct.pack('>I', len(container.kdf_options)) + container.kdf_options
    new = struct.pack('>I', len(options)) + options
    assert raw.startswith(OPENSSH_MAGIC) and raw.count(old) == 1
    return armor(raw.replace(old, new))


def test_bcrypt_rounds_at_the_cap(openssh_key):
    _kdf_limits.check_kdf_cost(openssh_key)
    _kdf_limits.check_kdf_cost(with_rounds(openssh_key, _kdf_limits.MAX_BCRYPT_ROUNDS))
    for rounds in (_kdf_limits.MAX_BCRYPT_ROUNDS + 1, 50000, 2 ** 32 - 1):
        with pytest.raises(TooExpensive, match='%d bcrypt rounds' % rounds):
            _kdf_limits.check_kdf_cost(with_rounds(openssh_key, rounds))
