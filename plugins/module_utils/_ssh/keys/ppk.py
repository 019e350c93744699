# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PuTTY private key files (``.ppk``, format version 3): write and verify.

The format is the one of the "PPK file format" appendix of the PuTTY manual
(and ``sshpubk.c``)::

    PuTTY-User-Key-File-3: <algorithm>
    Encryption: none | aes256-cbc
    Comment: <comment>
    Public-Lines: <n>
    <base64 of the SSH wire format public key, 64 characters a line>
    [Key-Derivation: Argon2id
     Argon2-Memory: <KiB>
     Argon2-Passes: <n>
     Argon2-Parallelism: <n>
     Argon2-Salt: <hex>]
    Private-Lines: <n>
    <base64 of the (encrypted, padded) private blob>
    Private-MAC: <hex HMAC-SHA-256>

Unencrypted files need only the standard library (and the private numbers,
taken from a ``cryptography`` key object). Encrypted files need Argon2id:
``cryptography`` 44 or later, or the ``argon2-cffi`` package; without either
``BackendUnavailable`` is raised. Nothing here puts key material or a
passphrase into an error message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import hmac
import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    TooExpensive,
    WrongPassphrase,
)

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import (
    HAS_CRYPTOGRAPHY,
    Cipher,
    algorithms,
    dsa,
    ec,
    ed25519,
    modes,
    rsa,
    serialization,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import to_bytes as _to_bytes
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import mpint as _mpint, ssh_string as _string

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id as _CryptographyArgon2id
except ImportError:  # cryptography < 44, or none at all
    _CryptographyArgon2id = None

try:
    from argon2.low_level import Type as _Argon2Type, hash_secret_raw as _argon2_hash_secret_raw
except ImportError:
    _Argon2Type = None
    _argon2_hash_secret_raw = None

PPK_VERSION = 3
PPK_SUFFIX = '.ppk'
PPK_MAGIC = b'PuTTY-User-Key-File-'
# puttygen's defaults (0.75 and later): 8 MiB, one lane; puttygen calibrates the
# passes to about 0.1 s, 13 is what it picks on common hardware.
ARGON2_MEMORY_KIB = 8192
ARGON2_PASSES = 13
ARGON2_PARALLELISM = 1
ARGON2_SALT_BYTES = 16
# Cost caps when reading a file the account controls (a patched .ppk must not
# make root burn memory or hours): 256 MiB, 100 passes, and at most 4 GiB of
# memory passes in all (a few seconds; puttygen's defaults are 8 MiB x 13).
_MAX_ARGON2_MEMORY_KIB = 256 * 1024
_MAX_ARGON2_PASSES = 100
_MAX_ARGON2_WORK_KIB = 4 * 1024 * 1024
_MAX_ARGON2_PARALLELISM = 64
_LINE_CHARS = 64
_CIPHER_BLOCK = 16
_KDF_OUTPUT = 32 + 16 + 32  # AES-256 key, CBC IV, MAC key


def argon2_available():
    """Whether an Argon2id implementation can be imported here."""
    return _CryptographyArgon2id is not None or _argon2_hash_secret_raw is not None


def require_argon2():
    """``BackendUnavailable`` unless an Argon2id implementation is importable."""
    if not argon2_available():
        raise BackendUnavailable(
            'a passphrase-protected PuTTY key file (PPK version 3) needs Argon2id, and no implementation '
            'is importable on the target: install cryptography 44 or later, or the argon2-cffi Python '
            'package, or export the .ppk without a passphrase')


def _argon2id(secret, salt, memory, passes, parallelism, length):
    require_argon2()
    if _CryptographyArgon2id is not None:
        kdf = _CryptographyArgon2id(salt=salt, length=length, iterations=passes, lanes=parallelism,
                                    memory_cost=memory)
        return kdf.derive(secret)
    return _argon2_hash_secret_raw(secret, salt, time_cost=passes, memory_cost=memory,
                                   parallelism=parallelism, hash_len=length, type=_Argon2Type.ID)


# ---------------------------------------------------------------------------
# Private key blobs

def private_key_blobs(key):
    """``(algorithm, public blob, private blob)`` of a ``cryptography`` private key object.

    The private blob is the PPK one: RSA ``d, p, q, iqmp``; DSA ``x``; ECDSA the
    private scalar (all mpints); Ed25519 the 32 byte private key (a string).
    """
    if not HAS_CRYPTOGRAPHY:
        raise BackendUnavailable('writing a PuTTY key file needs the cryptography Python library on the target')
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    algorithm, b64 = line.split()[:2]
    public_blob = base64.b64decode(b64)
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        private_blob = _mpint(numbers.d) + _mpint(numbers.p) + _mpint(numbers.q) + _mpint(numbers.iqmp)
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        private_blob = _string(raw)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        private_blob = _mpint(key.private_numbers().private_value)
    elif dsa is not None and isinstance(key, dsa.DSAPrivateKey):
        private_blob = _mpint(key.private_numbers().x)
    else:
        raise InvalidInput('keys of this type cannot be written in the PuTTY format')
    return algorithm.decode('ascii'), public_blob, private_blob


def _mac(mac_key, algorithm, encryption, comment, public_blob, private_plain):
    data = b''.join(_string(part) for part in (
        _to_bytes(algorithm), _to_bytes(encryption), _to_bytes(comment), public_blob, private_plain))
    return hmac.new(mac_key, data, hashlib.sha256).hexdigest()


def _lines(data):
    text = base64.b64encode(data).decode('ascii')
    return [text[i:i + _LINE_CHARS] for i in range(0, len(text), _LINE_CHARS)] or ['']


def _cipher(key_material):
    return Cipher(algorithms.AES(key_material[:32]), modes.CBC(key_material[32:48]))


def encode_ppk(algorithm, public_blob, private_blob, comment='', passphrase=None, salt=None,
               passes=ARGON2_PASSES, memory=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM):
    """The bytes of a PPK version 3 file (encrypted when ``passphrase`` is set)."""
    comment = comment or ''
    if '\n' in comment or '\r' in comment:
        raise InvalidInput('a PuTTY key comment must be a single line')
    secret = _to_bytes(passphrase) or None
    head = ['PuTTY-User-Key-File-%d: %s' % (PPK_VERSION, algorithm),
            'Encryption: %s' % ('aes256-cbc' if secret else 'none'),
            'Comment: %s' % comment,
            'Public-Lines: %d' % len(_lines(public_blob))] + _lines(public_blob)
    if secret:
        if not HAS_CRYPTOGRAPHY:
            raise BackendUnavailable('an encrypted PuTTY key file needs the cryptography Python library')
        salt = salt if salt is not None else os.urandom(ARGON2_SALT_BYTES)
        material = _argon2id(secret, salt, memory, passes, parallelism, _KDF_OUTPUT)
        pad = (-len(private_blob)) % _CIPHER_BLOCK
        plain = private_blob + os.urandom(pad)
        encryptor = _cipher(material).encryptor()
        stored = encryptor.update(plain) + encryptor.finalize()
        mac_key = material[48:]
        head += ['Key-Derivation: Argon2id',
                 'Argon2-Memory: %d' % memory,
                 'Argon2-Passes: %d' % passes,
                 'Argon2-Parallelism: %d' % parallelism,
                 'Argon2-Salt: %s' % binascii.hexlify(salt).decode('ascii')]
        encryption = 'aes256-cbc'
    else:
        plain = stored = private_blob
        mac_key = b''
        encryption = 'none'
    head += ['Private-Lines: %d' % len(_lines(stored))] + _lines(stored)
    head.append('Private-MAC: %s' % _mac(mac_key, algorithm, encryption, comment, public_blob, plain))
    return ('\n'.join(head) + '\n').encode('utf-8')


def export_key(key, comment='', passphrase=None):
    """PPK version 3 bytes of a ``cryptography`` private key object."""
    algorithm, public_blob, private_blob = private_key_blobs(key)
    return encode_ppk(algorithm, public_blob, private_blob, comment, passphrase)


# ---------------------------------------------------------------------------
# Reading

class PpkFile:
    """The fields of a PPK file (version 2 or 3); ``KeyLoadError`` when it is none."""

    def __init__(self, data):
        text = _to_bytes(data)
        if not text.startswith(PPK_MAGIC):
            raise KeyLoadError('the file is not a PuTTY key file')
        try:
            lines = text.decode('utf-8').replace('\r\n', '\n').replace('\r', '\n').split('\n')
        except UnicodeDecodeError:
            raise KeyLoadError('the PuTTY key file is not valid UTF-8')
        self._lines = lines
        self._pos = 0
        try:
            name, value = self._header()
            self.version = int(name[len('PuTTY-User-Key-File-'):])
            self.algorithm = value
            self.encryption = self._expect('Encryption')
            self.comment = self._expect('Comment')
            self.public_blob = self._blob('Public-Lines')
            self.kdf = {}
            if self.version >= 3 and self.encryption != 'none':
                self.kdf['Key-Derivation'] = self._expect('Key-Derivation')
                for field in ('Argon2-Memory', 'Argon2-Passes', 'Argon2-Parallelism', 'Argon2-Salt'):
                    self.kdf[field] = self._expect(field)
            self.private_stored = self._blob('Private-Lines')
            self.mac = self._expect('Private-MAC').lower()
        except (ValueError, IndexError, binascii.Error):
            raise KeyLoadError('the PuTTY key file is damaged (bad header or base64)')
        if self.version not in (2, 3):
            raise KeyLoadError('PuTTY key files of version %d are not supported' % self.version)
        if self.encryption not in ('none', 'aes256-cbc'):
            raise KeyLoadError('the PuTTY key file uses an unknown encryption')

    def _header(self):
        line = self._lines[self._pos]
        self._pos += 1
        name, sep, value = line.partition(': ')
        if not sep:
            raise ValueError('no header')
        return name, value

    def _expect(self, wanted):
        name, value = self._header()
        if name != wanted:
            raise ValueError('expected %s' % wanted)
        return value

    def _blob(self, field):
        count = int(self._expect(field))
        if count < 0 or count > 10000:
            raise ValueError('bad line count')
        chunk = self._lines[self._pos:self._pos + count]
        if len(chunk) != count:
            raise ValueError('truncated')
        self._pos += count
        return base64.b64decode(''.join(chunk).encode('ascii'), validate=True)

    @property
    def encrypted(self):
        return self.encryption != 'none'

    def private_blob(self, passphrase=None):
        """The private blob (with any padding), after checking the MAC.

        ``WrongPassphrase`` when the passphrase (or its absence) does not fit,
        ``KeyLoadError`` when the file was tampered with.
        """
        secret = _to_bytes(passphrase) or None
        if self.version != 3:
            raise KeyLoadError('only PuTTY key files of version 3 are verified')
        if not self.encrypted:
            plain = self.private_stored
            mac_key = b''
        else:
            if secret is None:
                raise WrongPassphrase('the PuTTY key file is protected by a passphrase and none was given')
            if self.kdf.get('Key-Derivation') != 'Argon2id':
                raise KeyLoadError('the PuTTY key file uses a key derivation other than Argon2id')
            try:
                memory = int(self.kdf['Argon2-Memory'])
                passes = int(self.kdf['Argon2-Passes'])
                parallelism = int(self.kdf['Argon2-Parallelism'])
                salt = binascii.unhexlify(self.kdf['Argon2-Salt'])
            except (ValueError, TypeError, binascii.Error):
                raise KeyLoadError('the PuTTY key file is damaged (bad Argon2 parameters)')
            if not (8 <= memory and 1 <= passes and 1 <= parallelism <= _MAX_ARGON2_PARALLELISM
                    and len(salt) >= 8):
                raise KeyLoadError('the PuTTY key file has Argon2 parameters out of range')
            if memory > _MAX_ARGON2_MEMORY_KIB or passes > _MAX_ARGON2_PASSES \
                    or memory * passes > _MAX_ARGON2_WORK_KIB:
                raise TooExpensive('the PuTTY key file asks for Argon2 with %d KiB x %d passes, beyond the %d MiB, '
                                   '%d passes this collection spends on a key file (puttygen uses 8 MiB x 13); '
                                   'refusing to derive it' % (memory, passes, _MAX_ARGON2_MEMORY_KIB // 1024,
                                                              _MAX_ARGON2_PASSES))
            if len(self.private_stored) % _CIPHER_BLOCK:
                raise KeyLoadError('the PuTTY key file is damaged (private data length)')
            material = _argon2id(secret, salt, memory, passes, parallelism, _KDF_OUTPUT)
            decryptor = _cipher(material).decryptor()
            plain = decryptor.update(self.private_stored) + decryptor.finalize()
            mac_key = material[48:]
        wanted = _mac(mac_key, self.algorithm, self.encryption, self.comment, self.public_blob, plain)
        if not hmac.compare_digest(wanted, self.mac):
            if self.encrypted:
                raise WrongPassphrase('the PuTTY key file cannot be opened: wrong passphrase (or a damaged file)')
            raise KeyLoadError('the PuTTY key file is damaged (its MAC does not match)')
        return plain


def public_blob_of(data):
    """The public blob of PPK ``data``, or None when it is no readable PPK file."""
    try:
        return PpkFile(data).public_blob
    except KeyLoadError:
        return None


def check_ppk(data, key, comment='', passphrase=None):
    """Why the PPK ``data`` does not hold ``key`` as asked, or None when it does.

    ``key`` is a ``cryptography`` private key object. The file must be version
    3, encrypted exactly when ``passphrase`` is set, open with it (MAC), carry
    the comment and hold the same public and private blobs.
    """
    algorithm, public_blob, private_blob = private_key_blobs(key)
    try:
        ppk = PpkFile(data)
    except KeyLoadError as exc:
        return exc.msg
    secret = _to_bytes(passphrase) or None
    if ppk.version != PPK_VERSION:
        return 'it is a version %d file' % ppk.version
    if ppk.algorithm != algorithm or ppk.public_blob != public_blob:
        return 'it holds another key'
    if ppk.encrypted != bool(secret):
        return 'it is %s a passphrase' % ('protected by' if ppk.encrypted else 'not protected by')
    if ppk.comment != (comment or ''):
        return 'its comment differs'
    if ppk.encrypted and ppk.kdf.get('Key-Derivation') != 'Argon2id':
        return 'it uses another key derivation'
    try:
        plain = ppk.private_blob(secret)
    except KeyLoadError as exc:
        return exc.msg
    padding = len(plain) - len(private_blob)
    if not plain.startswith(private_blob) or padding >= _CIPHER_BLOCK or (not ppk.encrypted and padding):
        return 'its private part holds another key'
    return None
