# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Caps on the key-derivation cost of encrypted private key files (SSH and
TLS), checked before any derivation starts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeyLoadError, TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import OPENSSH_BEGIN, OpenSSHContainer, to_bytes
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader

# Key-derivation costs come from key files the account controls: a patched
# file must not keep root busy for hours. The caps are far above what real
# keys use (ssh-keygen -a defaults to 16 rounds, OpenSSL to 2048 PBKDF2
# iterations) and keep one derivation within seconds (bcrypt 500 rounds about
# 6 s, PBKDF2-SHA256 5 million about 3 s, scrypt at most 256 MiB).
MAX_BCRYPT_ROUNDS = 500
MAX_PBKDF_ITERATIONS = 5 * 1000 * 1000
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
MAX_SCRYPT_WORK = 1024 * 1024 * 1024

# An unencrypted PEM key is checked by OpenSSL when loaded (RSA: a primality test of
# p and q): a 90 KiB file of 60,000-bit numbers kept it busy for minutes. Real keys hold
# numbers of at most 16384 bits (RSA 16384's modulus and private exponent).
MAX_KEY_NUMBER_BITS = 16384
_PEM_PLAIN = (b'-----BEGIN RSA PRIVATE KEY-----', b'-----BEGIN PRIVATE KEY-----', b'-----BEGIN DSA PRIVATE KEY-----',
              b'-----BEGIN EC PRIVATE KEY-----')

_OID_PBES2 = b'\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0d'
_OID_PBKDF2 = b'\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0c'
_OID_SCRYPT = b'\x2b\x06\x01\x04\x01\xda\x47\x04\x0b'


def _der(data, pos=0):
    """(tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError('truncated')
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError('bad length')
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise ValueError('truncated')
    return tag, pos, pos + length


def _der_children(data, start, end):
    out = []
    while start < end:
        tag, cstart, cend = _der(data, start)
        out.append((tag, cstart, cend))
        start = cend
    return out


def _der_int(data, element):
    tag, start, end = element
    if tag != 0x02:
        raise ValueError('not an integer')
    return int.from_bytes(data[start:end], 'big', signed=True)


def _largest_number_bits(der, start, end, depth=0):
    """The bit length of the largest INTEGER in the DER of a private key
    (sequences and the PKCS#8 octet string holding the inner key)."""
    largest = 0
    for tag, cstart, cend in _der_children(der, start, end):
        if tag == 0x02:
            largest = max(largest, int.from_bytes(der[cstart:cend], 'big').bit_length())
        elif tag in (0x30, 0x04) and depth < 4:
            try:
                largest = max(largest, _largest_number_bits(der, cstart, cend, depth + 1))
            except ValueError:
                continue
    return largest


def _check_plain_pem(data):
    for begin in _PEM_PLAIN:
        if begin not in data:
            continue
        try:
            body = data.split(begin, 1)[1].split(b'-----END', 1)[0]
            if b':' in body:
                return  # RFC 1421 headers (Proc-Type): an encrypted legacy PEM
            der = base64.b64decode(b''.join(body.split()))
            bits = _largest_number_bits(der, 0, len(der))
        except (ValueError, IndexError, binascii.Error):
            return  # not parseable: the loader reports it
        if bits > MAX_KEY_NUMBER_BITS:
            raise TooExpensive('the private key holds a %d-bit number; real keys hold at most %d bits (RSA %d): '
                               'refusing to load it (checking it would take minutes)'
                               % (bits, MAX_KEY_NUMBER_BITS, MAX_KEY_NUMBER_BITS))
        return


def _pkcs8_kdf_cost(der):
    """Refuse the PBKDF2/scrypt (or PKCS#5 v1 / PKCS#12 PBE) parameters of an
    EncryptedPrivateKeyInfo beyond the caps."""
    top = _der(der)
    algorithm = _der_children(der, top[1], top[2])[0]
    oid, params = _der_children(der, algorithm[1], algorithm[2])[:2]
    if der[oid[1]:oid[2]] != _OID_PBES2:
        # PBES1 and PKCS#12 PBE: SEQUENCE { salt, iterations }
        _check_iterations(_der_int(der, _der_children(der, params[1], params[2])[1]))
        return
    kdf = _der_children(der, params[1], params[2])[0]
    kdf_oid, kdf_params = _der_children(der, kdf[1], kdf[2])[:2]
    values = _der_children(der, kdf_params[1], kdf_params[2])
    if der[kdf_oid[1]:kdf_oid[2]] == _OID_PBKDF2:
        _check_iterations(_der_int(der, values[1]))
    elif der[kdf_oid[1]:kdf_oid[2]] == _OID_SCRYPT:
        cost, block, parallel = (_der_int(der, v) for v in values[1:4])
        memory = 128 * cost * block
        if memory > MAX_SCRYPT_MEMORY or memory * parallel > MAX_SCRYPT_WORK:
            raise TooExpensive('the private key asks for scrypt N=%d r=%d p=%d (%d MiB), beyond the %d MiB '
                               'this collection spends on a key file; refusing to derive it'
                               % (cost, block, parallel, memory // (1024 * 1024), MAX_SCRYPT_MEMORY // (1024 * 1024)))


def _check_iterations(iterations):
    if iterations > MAX_PBKDF_ITERATIONS:
        raise TooExpensive('the private key asks for %d key-derivation iterations, more than the %d this '
                           'collection spends on a key file (real keys use a few thousand); refusing to derive it'
                           % (iterations, MAX_PBKDF_ITERATIONS))


def check_bcrypt_rounds(rounds):
    if rounds > MAX_BCRYPT_ROUNDS:
        raise TooExpensive('the OpenSSH private key asks for %d bcrypt rounds, more than the %d this collection '
                           'spends on a key file (ssh-keygen uses 16); refusing to derive it'
                           % (rounds, MAX_BCRYPT_ROUNDS))


def check_kdf_cost(private_bytes):
    """Fail fast (``TooExpensive``) when an encrypted private key's
    key-derivation parameters exceed the caps; other keys pass."""
    data = to_bytes(private_bytes) or b''
    if OPENSSH_BEGIN in data:
        try:
            container = OpenSSHContainer(data)
        except KeyLoadError:
            return
        if container.kdf == 'bcrypt':
            wire = Reader(container.kdf_options)
            try:
                wire.string()
                rounds = wire.uint32()
            except ValueError:
                return
            check_bcrypt_rounds(rounds)
        return
    _check_plain_pem(data)
    if b'BEGIN ENCRYPTED PRIVATE KEY' in data:
        try:
            body = data.split(b'-----BEGIN ENCRYPTED PRIVATE KEY-----', 1)[1].split(b'-----END', 1)[0]
            der = base64.b64decode(b''.join(body.split()))
            _pkcs8_kdf_cost(der)
        except (ValueError, IndexError, binascii.Error):
            return  # not parseable: the loader reports it
