# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate and load SSH private keys behind one interface.

Two backends: the ``cryptography`` library (imported only when present) and
the ``ssh-keygen`` binary. Passphrases never appear on a command line: for
``ssh-keygen`` they travel through ``SSH_ASKPASS`` (a tiny script in a private
directory that prints an environment variable). Error messages never contain
key material or passphrases.

What needs no backend (which format a private key is in, whether it is
encrypted, the public key and comment of an OpenSSH format private key) is
done in pure Python in ``KeyBackend``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno
import os
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import warnings

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import (
    DEFAULT_BITS,
    ECDSA_SIZES,
    PRIVATE_KEY_FORMATS,
    RSA_MAX_BITS,
    RSA_MIN_BITS,
    SSH_KEY_TYPES as KEY_TYPES,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    TooExpensive,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import PublicKey

try:
    import cryptography
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    try:
        from cryptography.hazmat.primitives.asymmetric import dsa
    except ImportError:  # pragma: no cover - a future cryptography without DSA
        dsa = None
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    HAS_CRYPTOGRAPHY = hasattr(serialization, 'load_ssh_private_key')
    CRYPTOGRAPHY_VERSION = getattr(cryptography, '__version__', 'unknown')
    CRYPTOGRAPHY_IMPORT_ERROR = None if HAS_CRYPTOGRAPHY else (
        'cryptography %s is too old (3.0 or later is needed)' % CRYPTOGRAPHY_VERSION)
except ImportError as exc:  # the managed node may lack it
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_VERSION = None
    CRYPTOGRAPHY_IMPORT_ERROR = str(exc)
    # Names other modules (ppk) take from here; only used when HAS_CRYPTOGRAPHY.
    serialization = ec = ed25519 = rsa = dsa = Cipher = algorithms = modes = None

try:
    import bcrypt  # cryptography needs it for encrypted OpenSSH format keys
    HAS_BCRYPT = hasattr(bcrypt, 'kdf')
except ImportError:
    bcrypt = None
    HAS_BCRYPT = False

BACKEND_CHOICES = ('auto', 'cryptography', 'ssh-keygen')

ASKPASS_ENV = 'KEYSMITH_ASKPASS_SECRET'

_OPENSSH_BEGIN = b'-----BEGIN OPENSSH PRIVATE KEY-----'
_OPENSSH_END = b'-----END OPENSSH PRIVATE KEY-----'
_OPENSSH_MAGIC = b'openssh-key-v1\0'
_PEM_RE = re.compile(br'-----BEGIN ([A-Z0-9 ]+)-----')
_PKCS1_LABELS = (b'RSA PRIVATE KEY', b'EC PRIVATE KEY', b'DSA PRIVATE KEY')
_PKCS8_LABELS = (b'PRIVATE KEY', b'ENCRYPTED PRIVATE KEY')


# Key-derivation costs come from key files the account controls: a patched
# file must not keep root busy for hours. The caps are far above what real
# keys use (ssh-keygen -a defaults to 16 rounds, OpenSSL to 2048 PBKDF2
# iterations) and keep one derivation within seconds (bcrypt 500 rounds about
# 6 s, PBKDF2-SHA256 5 million about 3 s, scrypt at most 256 MiB).
MAX_BCRYPT_ROUNDS = 500
MAX_PBKDF_ITERATIONS = 5 * 1000 * 1000
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
MAX_SCRYPT_WORK = 1024 * 1024 * 1024

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
    data = _to_bytes(private_bytes) or b''
    if _OPENSSH_BEGIN in data:
        try:
            container = OpenSSHContainer(data)
        except KeyLoadError:
            return
        if container.kdf == 'bcrypt':
            wire = _Wire(container.kdf_options)
            try:
                wire.string()
                rounds = wire.uint32()
            except ValueError:
                return
            check_bcrypt_rounds(rounds)
        return
    if b'BEGIN ENCRYPTED PRIVATE KEY' in data:
        try:
            body = data.split(b'-----BEGIN ENCRYPTED PRIVATE KEY-----', 1)[1].split(b'-----END', 1)[0]
            der = base64.b64decode(b''.join(body.split()))
            _pkcs8_kdf_cost(der)
        except (ValueError, IndexError, binascii.Error):
            return  # not parseable: the loader reports it


def _to_bytes(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8')


def _passphrase_bytes(passphrase):
    """``None`` for no passphrase (``None`` or empty), else bytes."""
    if passphrase is None or passphrase == '' or passphrase == b'':
        return None
    return _to_bytes(passphrase)


def validate_generate_args(key_type, size, private_key_format):
    """Check the generate options; return the size to use (defaults filled in)."""
    if key_type not in KEY_TYPES:
        raise InvalidInput('cannot generate keys of type %s; choose one of %s'
                           % (key_type, ', '.join(KEY_TYPES)))
    if private_key_format not in PRIVATE_KEY_FORMATS:
        raise InvalidInput('unknown private key format %s; choose one of %s'
                           % (private_key_format, ', '.join(PRIVATE_KEY_FORMATS)))
    if key_type == 'ed25519' and private_key_format == 'pkcs1':
        raise InvalidInput('ed25519 keys have no PKCS#1 (traditional PEM) format; use openssh or pkcs8')
    if size is None or (key_type == 'ed25519'):
        return DEFAULT_BITS[key_type]
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise InvalidInput('key size must be a number of bits')
    if key_type == 'rsa' and not RSA_MIN_BITS <= size <= RSA_MAX_BITS:
        raise InvalidInput('RSA keys must have %d to %d bits, not %d' % (RSA_MIN_BITS, RSA_MAX_BITS, size))
    if key_type == 'ecdsa' and size not in ECDSA_SIZES:
        raise InvalidInput('ECDSA keys have 256, 384 or 521 bits, not %d' % size)
    if key_type == 'dsa' and size != 1024:
        raise InvalidInput('DSA keys have 1024 bits, not %d' % size)
    return size


# ---------------------------------------------------------------------------
# Pure Python reading of private key containers

class _Wire:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError('truncated')
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint32(self):
        return struct.unpack('>I', self.take(4))[0]

    def string(self):
        return self.take(self.uint32())


def _ssh_string(data):
    return struct.pack('>I', len(data)) + data


def _openssh_decode(private_bytes):
    """The binary body of an OpenSSH format private key (``KeyLoadError`` if broken)."""
    data = _to_bytes(private_bytes).strip()
    start = data.find(_OPENSSH_BEGIN)
    end = data.find(_OPENSSH_END)
    if start < 0 or end < start:
        raise KeyLoadError('the private key is not in OpenSSH format')
    body = b''.join(data[start + len(_OPENSSH_BEGIN):end].split())
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyLoadError('the OpenSSH private key is damaged (bad base64)')
    if not raw.startswith(_OPENSSH_MAGIC):
        raise KeyLoadError('the OpenSSH private key is damaged (bad magic)')
    return raw


class OpenSSHContainer:
    """The clear parts of an OpenSSH format private key (``openssh-key-v1``)."""

    def __init__(self, private_bytes):
        raw = _openssh_decode(private_bytes)
        wire = _Wire(raw)
        try:
            wire.take(len(_OPENSSH_MAGIC))
            self.cipher = wire.string().decode('ascii')
            self.kdf = wire.string().decode('ascii')
            self.kdf_options = wire.string()
            count = wire.uint32()
            if count != 1:
                raise ValueError('%d keys' % count)
            self.public_blob = wire.string()
            self.private_section = wire.string()
        except (ValueError, UnicodeDecodeError):
            raise KeyLoadError('the OpenSSH private key is damaged (bad header)')
        self.header = raw[:wire.pos - 4 - len(self.private_section)]

    @property
    def encrypted(self):
        return self.cipher != 'none'

    def public_key(self, comment=''):
        wire = _Wire(self.public_blob)
        try:
            key_type = wire.string().decode('ascii')
        except (ValueError, UnicodeDecodeError):
            raise KeyLoadError('the OpenSSH private key is damaged (bad public key)')
        try:
            return PublicKey.from_blob(key_type, self.public_blob, comment)
        except InvalidInput:
            raise KeyLoadError('the OpenSSH private key is damaged (bad public key)')


# Private fields after the type string in the private section, per type.
_PRIVATE_LAYOUT = {
    'ssh-rsa': 'ssssss',
    'ssh-dss': 'sssss',
    'ecdsa-sha2-nistp256': 'sss',
    'ecdsa-sha2-nistp384': 'sss',
    'ecdsa-sha2-nistp521': 'sss',
    'ssh-ed25519': 'ss',
    'sk-ecdsa-sha2-nistp256@openssh.com': 'sssbss',
    'sk-ssh-ed25519@openssh.com': 'ssbss',
}


def _split_private_section(plain):
    """(key part incl. check ints, comment bytes) of a decrypted private section."""
    wire = _Wire(plain)
    try:
        check1 = wire.uint32()
        check2 = wire.uint32()
        if check1 != check2:
            raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
        key_type = wire.string().decode('ascii')
        layout = _PRIVATE_LAYOUT.get(key_type)
        if layout is None:
            raise KeyLoadError('the OpenSSH private key has a key type this module does not know')
        for field in layout:
            if field == 'b':
                wire.take(1)
            else:
                wire.string()
        key_part = plain[:wire.pos]
        comment = wire.string()
        padding = plain[wire.pos:]
    except (ValueError, UnicodeDecodeError):
        raise KeyLoadError('the OpenSSH private key is damaged (bad private section)')
    if padding != bytes(bytearray(range(1, len(padding) + 1))):
        raise KeyLoadError('the OpenSSH private key is damaged (bad padding)')
    return key_part, comment


def _pad_section(data, block):
    pad = (-len(data)) % block
    return data + bytes(bytearray(range(1, pad + 1)))


def _openssh_armor(raw):
    text = base64.b64encode(raw)
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return _OPENSSH_BEGIN + b'\n' + b'\n'.join(lines) + b'\n' + _OPENSSH_END + b'\n'


def _decode_text(value):
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return value.decode('latin-1')


# ---------------------------------------------------------------------------
# The interface

class KeyBackend:
    """Base class of the backends; the pure Python parts are shared here."""

    name = None

    def can_generate(self, key_type, private_key_format='auto', encrypted=False):
        """Whether this backend can make a ``key_type`` key in that format."""
        return False

    def can_load(self, private_bytes):
        """Whether this backend can read ``private_bytes`` (given the passphrase)."""
        return False

    def generate(self, key_type, size, passphrase=None, comment='', private_key_format='auto'):
        """Make a new key; return ``(private_bytes, PublicKey)``."""
        raise NotImplementedError

    def load_private(self, private_bytes, passphrase=None):
        """The ``PublicKey`` of a private key (comment set where the format stores one)."""
        raise NotImplementedError

    def set_comment(self, private_bytes, passphrase, comment):
        """New private key bytes with ``comment`` stored (OpenSSH format only)."""
        raise NotImplementedError

    # -- shared pure Python helpers -----------------------------------------

    @staticmethod
    def private_format(private_bytes):
        """``openssh``, ``pkcs1`` or ``pkcs8`` from the PEM armor; ``KeyLoadError`` otherwise."""
        data = _to_bytes(private_bytes)
        if not data or not data.strip():
            raise KeyLoadError('the private key file is empty')
        if _OPENSSH_BEGIN in data:
            return 'openssh'
        match = _PEM_RE.search(data)
        if match:
            label = match.group(1)
            if label in _PKCS1_LABELS:
                return 'pkcs1'
            if label in _PKCS8_LABELS:
                return 'pkcs8'
        raise KeyLoadError('the private key is in no known format (OpenSSH, PKCS#1 or PKCS#8 PEM)')

    @classmethod
    def is_encrypted(cls, private_bytes):
        fmt = cls.private_format(private_bytes)
        data = _to_bytes(private_bytes)
        if fmt == 'openssh':
            return OpenSSHContainer(data).encrypted
        if fmt == 'pkcs8':
            return b'BEGIN ENCRYPTED PRIVATE KEY' in data
        return b'ENCRYPTED' in data

    @staticmethod
    def openssh_public_key(private_bytes):
        """Public key of an OpenSSH format private key, read without the passphrase.

        The comment is set when the key is not encrypted.
        """
        container = OpenSSHContainer(private_bytes)
        comment = ''
        if not container.encrypted:
            comment = _decode_text(_split_private_section(container.private_section)[1])
        return container.public_key(comment)

    @staticmethod
    def _set_plain_comment(private_bytes, comment):
        container = OpenSSHContainer(private_bytes)
        if container.encrypted:
            raise BackendError('internal error: comment change of an encrypted key without cipher')
        key_part, dummy = _split_private_section(container.private_section)
        section = _pad_section(key_part + _ssh_string(_to_bytes(comment or '')), 8)
        return _openssh_armor(container.header + _ssh_string(section))

    @staticmethod
    def _check_passphrase_text(passphrase):
        value = _passphrase_bytes(passphrase)
        if value is not None and (b'\n' in value or b'\r' in value or b'\0' in value):
            raise InvalidInput('a passphrase must not contain line breaks or NUL characters')
        return value

    def __repr__(self):
        return '<%s backend>' % self.name


# ---------------------------------------------------------------------------
# cryptography

def backend_kwargs():
    """The ``backend`` argument where cryptography needs it (< 3.1; later ones ignore
    it), for every caller of the library (SSH and TLS)."""
    try:
        major, minor = [int(x) for x in CRYPTOGRAPHY_VERSION.split('.')[:2]]
    except (AttributeError, ValueError):
        return {}
    if (major, minor) < (3, 1):
        from cryptography.hazmat.backends import default_backend
        return {'backend': default_backend()}
    return {}


_CURVES = {256: 'SECP256R1', 384: 'SECP384R1', 521: 'SECP521R1'}
_DSA_PROBE = {}
_ED25519_OID = b'\x06\x03\x2b\x65\x70'  # 1.3.101.112


class CryptographyBackend(KeyBackend):
    name = 'cryptography'

    def __init__(self):
        if not HAS_CRYPTOGRAPHY:
            raise BackendUnavailable(
                'the cryptography Python library is not available on the target (%s); '
                'install python3-cryptography or use backend ssh-keygen' % CRYPTOGRAPHY_IMPORT_ERROR)

    def _dsa_works(self):
        if 'ok' not in _DSA_PROBE:
            ok = False
            if dsa is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter('ignore')
                        key = dsa.generate_private_key(1024, **backend_kwargs())
                        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption())
                        key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                      serialization.PublicFormat.OpenSSH)
                    ok = True
                except Exception:  # unsupported by this cryptography/OpenSSL build
                    ok = False
            _DSA_PROBE['ok'] = ok
        return _DSA_PROBE['ok']

    def can_generate(self, key_type, private_key_format='auto', encrypted=False):
        if key_type not in KEY_TYPES:
            return False
        if key_type == 'ed25519' and private_key_format == 'pkcs1':
            return False
        if encrypted and private_key_format in ('auto', 'openssh') and not HAS_BCRYPT:
            return False
        if key_type == 'dsa':
            return self._dsa_works()
        return True

    def can_load(self, private_bytes):
        try:
            fmt = self.private_format(private_bytes)
            if fmt == 'openssh' and self.is_encrypted(private_bytes):
                return HAS_BCRYPT
        except KeyLoadError:
            return True  # let load_private report the problem
        return True

    def _make(self, key_type, size):
        kwargs = backend_kwargs()
        if key_type == 'rsa':
            return rsa.generate_private_key(public_exponent=65537, key_size=size, **kwargs)
        if key_type == 'ecdsa':
            return ec.generate_private_key(getattr(ec, _CURVES[size])(), **kwargs)
        if key_type == 'ed25519':
            return ed25519.Ed25519PrivateKey.generate()
        if not self._dsa_works():
            raise BackendUnavailable('this cryptography library cannot make DSA keys any more; '
                                     'use backend ssh-keygen (OpenSSH before 9.8) or another key type')
        return dsa.generate_private_key(key_size=size, **kwargs)

    def generate(self, key_type, size, passphrase=None, comment='', private_key_format='auto'):
        size = validate_generate_args(key_type, size, private_key_format)
        secret = self._check_passphrase_text(passphrase)
        fmt = 'openssh' if private_key_format == 'auto' else private_key_format
        if secret is not None and fmt == 'openssh' and not HAS_BCRYPT:
            raise BackendUnavailable(
                'writing an encrypted OpenSSH format key with cryptography needs the bcrypt Python '
                'library; install python3-bcrypt, or use backend ssh-keygen or a PEM format')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # DSA deprecation warnings
            key = self._make(key_type, size)
            if fmt == 'openssh':
                encoding_format = serialization.PrivateFormat.OpenSSH
            elif fmt == 'pkcs1':
                encoding_format = serialization.PrivateFormat.TraditionalOpenSSL
            else:
                encoding_format = serialization.PrivateFormat.PKCS8
            if secret is None:
                encryption = serialization.NoEncryption()
            else:
                encryption = serialization.BestAvailableEncryption(secret)
            try:
                private_bytes = key.private_bytes(serialization.Encoding.PEM, encoding_format, encryption)
                public_line = key.public_key().public_bytes(
                    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            except Exception as exc:  # UnsupportedAlgorithm, ValueError of old versions
                raise BackendError('cryptography could not serialize the %s key (%s)'
                                   % (key_type, type(exc).__name__))
        if fmt == 'openssh' and comment:
            # cryptography writes an empty comment; store the one asked for, as ssh-keygen does.
            private_bytes = self.set_comment(private_bytes, passphrase, comment)
        public = PublicKey.from_line(public_line.decode('ascii'))
        public.comment = comment or ''
        return private_bytes, public

    def _load(self, private_bytes, secret):
        data = _to_bytes(private_bytes)
        fmt = self.private_format(data)
        check_kdf_cost(data)
        encrypted = self.is_encrypted(data)
        if encrypted and secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        if fmt == 'openssh' and encrypted and not HAS_BCRYPT:
            raise BackendUnavailable(
                'reading an encrypted OpenSSH format key with cryptography needs the bcrypt Python '
                'library; install python3-bcrypt or use backend ssh-keygen')
        password = secret if encrypted else None
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                if fmt == 'openssh':
                    return serialization.load_ssh_private_key(data, password, **backend_kwargs())
                return serialization.load_pem_private_key(data, password, **backend_kwargs())
            except (ValueError, TypeError) as exc:
                if encrypted:
                    raise WrongPassphrase('the private key could not be decrypted: wrong passphrase '
                                          '(or a damaged key)')
                raise KeyLoadError('the private key cannot be read: %s' % _short_reason(exc))
            except Exception as exc:  # UnsupportedAlgorithm and friends
                raise KeyLoadError('the private key cannot be read (%s)' % type(exc).__name__)

    def load_private(self, private_bytes, passphrase=None):
        secret = _passphrase_bytes(passphrase)
        key = self._load(private_bytes, secret)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                     serialization.PublicFormat.OpenSSH)
        except Exception as exc:
            raise KeyLoadError('the private key has a type without an OpenSSH public key (%s)'
                               % type(exc).__name__)
        public = PublicKey.from_line(line.decode('ascii'))
        if self.private_format(private_bytes) == 'openssh':
            public.comment = _decode_text(self._openssh_section(private_bytes, secret)[1])
        return public

    # -- OpenSSH container encryption (comment handling) ---------------------

    @staticmethod
    def _kdf(container, secret):
        if container.cipher != 'aes256-ctr' or container.kdf != 'bcrypt':
            raise BackendUnavailable('the key is encrypted with %s/%s, which this backend cannot '
                                     'rewrite; use backend ssh-keygen' % (container.cipher, container.kdf))
        if not HAS_BCRYPT:
            raise BackendUnavailable('encrypted OpenSSH keys need the bcrypt Python library with '
                                     'cryptography; install python3-bcrypt or use backend ssh-keygen')
        wire = _Wire(container.kdf_options)
        try:
            salt = wire.string()
            rounds = wire.uint32()
        except ValueError:
            raise KeyLoadError('the OpenSSH private key is damaged (bad KDF options)')
        check_bcrypt_rounds(rounds)
        material = bcrypt.kdf(secret, salt, 48, rounds, ignore_few_rounds=True)
        return Cipher(algorithms.AES(material[:32]), modes.CTR(material[32:]), **backend_kwargs())

    def _openssh_section(self, private_bytes, secret):
        container = OpenSSHContainer(private_bytes)
        if not container.encrypted:
            return _split_private_section(container.private_section)
        if secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        decryptor = self._kdf(container, secret).decryptor()
        plain = decryptor.update(container.private_section) + decryptor.finalize()
        return _split_private_section(plain)

    def set_comment(self, private_bytes, passphrase, comment):
        if self.private_format(private_bytes) != 'openssh':
            raise InvalidInput('only OpenSSH format private keys store a comment')
        secret = _passphrase_bytes(passphrase)
        container = OpenSSHContainer(private_bytes)
        if not container.encrypted:
            return self._set_plain_comment(private_bytes, comment)
        key_part, dummy = self._openssh_section(private_bytes, secret)
        section = _pad_section(key_part + _ssh_string(_to_bytes(comment or '')), 16)
        # A fresh salt, so no key stream is used twice.
        wire = _Wire(container.kdf_options)
        wire.string()
        rounds = wire.uint32()
        kdf_options = _ssh_string(os.urandom(16)) + struct.pack('>I', rounds)
        header = (_OPENSSH_MAGIC + _ssh_string(b'aes256-ctr') + _ssh_string(b'bcrypt')
                  + _ssh_string(kdf_options) + struct.pack('>I', 1) + _ssh_string(container.public_blob))
        fresh = OpenSSHContainer(_openssh_armor(header + _ssh_string(b'')))
        encryptor = self._kdf(fresh, secret).encryptor()
        encrypted = encryptor.update(section) + encryptor.finalize()
        return _openssh_armor(header + _ssh_string(encrypted))


def _short_reason(exc):
    text = str(exc).split('.', maxsplit=1)[0]
    return text[:120] if text else type(exc).__name__


# ---------------------------------------------------------------------------
# ssh-keygen

_DEFAULT_SEARCH = ('/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin')


def find_executable(name, path=None):
    """Full path of ``name``: ``path`` when given (a file or a directory holding it),
    else the first one in ``$PATH`` and the usual directories; ``None`` when absent."""
    if path:
        candidate = os.path.join(path, name) if os.path.isdir(path) else path
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        return None
    search = os.environ.get('PATH', '').split(os.pathsep) + list(_DEFAULT_SEARCH)
    return shutil.which(name, path=os.pathsep.join(p for p in search if p))


_ASKPASS_SCRIPT = '#!/bin/sh\nprintf \'%%s\\n\' "$%s"\n' % ASKPASS_ENV


def _private_base():
    """``<tmp>/keysmith-private-<euid>``: 0700, owned by the running user.

    Temporary private key material lives in ``<pid>-*`` directories below it,
    so a module killed before its cleanup leaves nothing anywhere else, and the
    next run removes what a dead process left (``_sweep_private``). None when
    the name is taken by someone else (a world-writable /tmp): then a plain
    private ``mkdtemp`` is used.
    """
    base = os.path.join(tempfile.gettempdir(), 'keysmith-private-%d' % os.geteuid())
    try:
        os.mkdir(base, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            return None
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) != 0o700:
        return None
    return base


def _sweep_private(base):
    """Remove the directories of runs whose process is gone."""
    for name in os.listdir(base):
        pid = name.split('-', 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue  # alive (EPERM: another user's process)
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


class _PrivateDir:
    """A 0700 temporary directory removed (with its content) on exit; below
    ``<tmp>/keysmith-private-<euid>``, where the next run removes it if this
    process is killed first."""

    def __enter__(self):
        base = _private_base()
        if base is not None:
            _sweep_private(base)
            self.path = tempfile.mkdtemp(prefix='%d-' % os.getpid(), dir=base)
        else:
            self.path = tempfile.mkdtemp(prefix='keysmith-')
        os.chmod(self.path, 0o700)
        return self

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)
        return False

    def write(self, name, data, mode=0o600):
        path = os.path.join(self.path, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), mode)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(path, mode)
        return path

    def read(self, name):
        with open(os.path.join(self.path, name), 'rb') as handle:
            return handle.read()


class SshKeygenBackend(KeyBackend):
    name = 'ssh-keygen'

    def __init__(self, executable=None):
        self.executable = find_executable('ssh-keygen', executable)
        if not self.executable:
            if executable:
                raise BackendUnavailable('ssh-keygen not found or not executable at %s' % executable)
            raise BackendUnavailable('the ssh-keygen program is not installed on the target; '
                                     'install the OpenSSH client (openssh-client) or python3-cryptography')

    def can_generate(self, key_type, private_key_format='auto', encrypted=False):
        if key_type not in KEY_TYPES:
            return False
        if key_type == 'ed25519' and private_key_format in ('pkcs1', 'pkcs8'):
            return False  # ssh-keygen silently writes OpenSSH format instead
        if key_type == 'dsa':
            return self._dsa_works()
        return True

    def can_load(self, private_bytes):
        # OpenSSH (9.2 at least) cannot read PKCS#8 ed25519 keys.
        try:
            if self.private_format(private_bytes) == 'pkcs8' and not self.is_encrypted(private_bytes):
                data = _to_bytes(private_bytes)
                body = b''.join(data.split(b'-----')[2].split())
                return _ED25519_OID not in base64.b64decode(body)[:32]
        except (KeyLoadError, IndexError, binascii.Error, ValueError):
            pass
        return True

    def _dsa_works(self):
        # OpenSSH 9.8 made DSA a compile time option, 10.0 removed it.
        if self.executable not in _DSA_PROBE:
            try:
                with _PrivateDir() as work:
                    rc = self._run(['-t', 'dsa', '-b', '1024', '-q', '-N', '', '-f',
                                    os.path.join(work.path, 'probe')], check=False, workdir=work.path)[0]
            except BackendError:
                rc = 1
            _DSA_PROBE[self.executable] = rc == 0
        return _DSA_PROBE[self.executable]

    def _run(self, args, secret=None, check=True, workdir=None):
        """Run ssh-keygen; return ``(rc, stdout, stderr)``. ``secret`` goes through askpass."""
        env = dict(os.environ)
        for name in ('SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SSH_AUTH_SOCK', ASKPASS_ENV):
            env.pop(name, None)
        env['LC_ALL'] = 'C'
        env['LANG'] = 'C'
        askdir = None
        try:
            if secret is not None:
                askdir = _PrivateDir().__enter__()
                script = askdir.write('askpass', _ASKPASS_SCRIPT.encode('ascii'), mode=0o700)
                env['SSH_ASKPASS'] = script
                env['SSH_ASKPASS_REQUIRE'] = 'force'
                env['DISPLAY'] = env.get('DISPLAY') or ':keysmith'
                env[ASKPASS_ENV] = secret.decode('utf-8', 'surrogateescape') if isinstance(secret, bytes) else secret
            try:
                proc = subprocess.Popen(
                    [self.executable] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=env, cwd=workdir, start_new_session=True, close_fds=True)
                stdout, stderr = proc.communicate(timeout=300)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BackendError('could not run ssh-keygen (%s)' % type(exc).__name__)
        finally:
            if askdir is not None:
                askdir.__exit__(None, None, None)
        if check and proc.returncode != 0:
            raise BackendError('ssh-keygen failed (exit status %d): %s'
                               % (proc.returncode, _clean_stderr(stderr, workdir)))
        return proc.returncode, stdout, stderr

    def generate(self, key_type, size, passphrase=None, comment='', private_key_format='auto'):
        size = validate_generate_args(key_type, size, private_key_format)
        secret = self._check_passphrase_text(passphrase)
        if not self.can_generate(key_type, private_key_format):
            if key_type == 'dsa':
                raise BackendUnavailable('this ssh-keygen cannot make DSA keys any more; '
                                         'use backend cryptography or another key type')
            raise BackendUnavailable('ssh-keygen cannot write %s keys in %s format; use backend cryptography'
                                     % (key_type, private_key_format))
        if secret is not None and private_key_format in ('pkcs1', 'pkcs8') and len(secret) < 5:
            raise InvalidInput('ssh-keygen needs a passphrase of at least five characters for PEM '
                               'format keys; use a longer one, the openssh format or backend cryptography')
        args = ['-q', '-t', key_type, '-C', comment or '']
        if key_type != 'ed25519':
            args += ['-b', str(size)]
        if private_key_format == 'pkcs1':
            args += ['-m', 'PEM']
        elif private_key_format == 'pkcs8':
            args += ['-m', 'PKCS8']
        if secret is None:
            args += ['-N', '']
        with _PrivateDir() as work:
            path = os.path.join(work.path, 'key')
            self._run(args + ['-f', path], secret=secret, workdir=work.path)
            private_bytes = work.read('key')
            public_line = work.read('key.pub').decode('utf-8', 'replace')
        wanted = 'openssh' if private_key_format == 'auto' else private_key_format
        if self.private_format(private_bytes) != wanted:
            raise BackendError('ssh-keygen wrote a %s key instead of %s'
                               % (self.private_format(private_bytes), wanted))
        public = PublicKey.from_line(public_line)
        public.comment = comment or ''
        return private_bytes, public

    def load_private(self, private_bytes, passphrase=None):
        data = _to_bytes(private_bytes)
        self.private_format(data)  # KeyLoadError for what is no key at all
        if not self.can_load(data):
            raise BackendUnavailable('ssh-keygen cannot read PKCS#8 ed25519 keys; use backend cryptography')
        encrypted = self.is_encrypted(data)
        secret = self._check_passphrase_text(passphrase)
        if encrypted and secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        check_kdf_cost(data)
        with _PrivateDir() as work:
            path = work.write('key', data, 0o600)
            args = ['-y', '-f', path]
            if not encrypted:
                args[1:1] = ['-P', '']
            rc, stdout, stderr = self._run(args, secret=secret if encrypted else None,
                                           check=False, workdir=work.path)
        if rc != 0:
            lowered = stderr.lower()
            if encrypted and (b'incorrect passphrase' in lowered or b'bad decrypt' in lowered
                              or b'passphrase' in lowered):
                raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
            hint = ''
            if self.private_format(data) == 'pkcs8' and b'invalid format' in lowered:
                hint = ' (ssh-keygen cannot read PKCS#8 ed25519 keys; backend cryptography can)'
            raise KeyLoadError('the private key cannot be read: %s%s' % (_clean_stderr(stderr, work.path), hint))
        try:
            return PublicKey.from_line(stdout.decode('utf-8', 'replace').strip())
        except InvalidInput:
            raise KeyLoadError('ssh-keygen printed no valid public key for the private key')

    def set_comment(self, private_bytes, passphrase, comment):
        data = _to_bytes(private_bytes)
        if self.private_format(data) != 'openssh':
            raise InvalidInput('only OpenSSH format private keys store a comment')
        container = OpenSSHContainer(data)
        if not container.encrypted:
            return self._set_plain_comment(data, comment)
        secret = self._check_passphrase_text(passphrase)
        if secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        check_kdf_cost(data)
        with _PrivateDir() as work:
            path = work.write('key', data, 0o600)
            rc, dummy, stderr = self._run(['-c', '-C', comment or '', '-f', path], secret=secret,
                                          check=False, workdir=work.path)
            if rc != 0:
                if b'passphrase' in stderr.lower():
                    raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
                raise BackendError('ssh-keygen could not change the comment: %s'
                                   % _clean_stderr(stderr, work.path))
            return work.read('key')


def _clean_stderr(stderr, workdir=None):
    text = stderr.decode('utf-8', 'replace') if isinstance(stderr, bytes) else (stderr or '')
    if workdir:
        text = text.replace(workdir + os.sep, '').replace(workdir, '')
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('@')]
    text = lines[-1] if lines else 'no error message'
    return text[:200]


# ---------------------------------------------------------------------------
# Selection

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
