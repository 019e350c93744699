# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS private keys with the Python ``cryptography`` library.

Keys are written as PKCS#8 PEM (encrypted with the best available scheme when a
passphrase is given); existing keys in the traditional PEM formats are read too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._kdf_limits import check_kdf_cost
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import backend_kwargs as _backend_kwargs

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError as exc:  # pragma: no cover - exercised by sanity's import test
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = str(exc)
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

TLS_KEY_TYPES = ('rsa', 'ecdsa', 'ed25519')
RSA_DEFAULT_BITS = 2048
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 16384
ECDSA_CURVES = {256: 'secp256r1', 384: 'secp384r1'}
PASSPHRASE_MIN_LENGTH = 4


def require_cryptography(what='TLS keys and CSRs'):
    if not HAS_CRYPTOGRAPHY:
        raise BackendUnavailable(
            '%s need the Python cryptography library on the target (%s); install python3-cryptography '
            '(or pip install cryptography) for the Python that runs the module' % (what, CRYPTOGRAPHY_IMPORT_ERROR))


def resolve_size(key_type, size):
    """The key size for ``key_type``: rsa 2048 (default) .. 16384, ecdsa 256 (P-256) or 384 (P-384),
    ed25519 always 256."""
    if key_type == 'rsa':
        if size is None:
            size = RSA_DEFAULT_BITS
        if size < RSA_MIN_BITS or size > RSA_MAX_BITS:
            raise InvalidInput('size must be between %d and %d for rsa keys, got %d'
                               % (RSA_MIN_BITS, RSA_MAX_BITS, size))
        if size % 8:
            raise InvalidInput('size must be a multiple of 8 for rsa keys, got %d' % size)
        return size
    if key_type == 'ecdsa':
        if size is None:
            size = 256
        if size not in ECDSA_CURVES:
            raise InvalidInput('size must be 256 (P-256) or 384 (P-384) for ecdsa keys, got %d' % size)
        return size
    if key_type == 'ed25519':
        if size not in (None, 256):
            raise InvalidInput('ed25519 keys have a fixed size of 256 bits, got %d' % size)
        return 256
    raise InvalidInput('type must be one of %s, got %r' % (', '.join(TLS_KEY_TYPES), key_type))


def validate_passphrase(passphrase):
    if passphrase and len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise InvalidInput('passphrase must be %d characters or more (or empty for no passphrase)'
                           % PASSPHRASE_MIN_LENGTH)
    return passphrase or None


def describe(key):
    """(type, size) of a private or public key object."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return 'rsa', key.key_size
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return 'ecdsa', key.curve.key_size
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return 'ed25519', 256
    return type(key).__name__, None


def public_der(key):
    """The DER SubjectPublicKeyInfo of a key (private keys give their public half)."""
    if hasattr(key, 'public_key'):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_pem(key):
    if hasattr(key, 'public_key'):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')


def fingerprint(key):
    """SHA-256 of the DER public key, colon-separated hex (as ``openssl pkey -pubout -outform DER | sha256``)."""
    return hex_colons(hashlib.sha256(public_der(key)).digest())


def _skip_rsa_check_kwargs():
    """``unsafe_skip_rsa_key_validation`` (cryptography >= 39), else nothing.

    OpenSSL's RSA check tests p and q for primality (~36 ms for a 2048-bit key,
    most of a rerun). ``load_private`` runs ``check_rsa_consistency`` instead,
    which keeps what makes using an account-controlled key safe for root.
    """
    try:
        from cryptography import __version__ as version
        major = int(version.split('.', 1)[0])
    except (ImportError, ValueError):  # pragma: no cover
        return {}
    return {'unsafe_skip_rsa_key_validation': True} if major >= 39 else {}


def check_rsa_consistency(key, path='the key'):
    """The arithmetic consistency of an RSA private key, without primality tests.

    The file is the account's: it can hold any key, so the key's strength is the
    account's business (a weak but valid key is as possible). What root must not
    do is hand OpenSSL inconsistent CRT values (undefined behaviour, hangs): these
    checks are what makes every operation on the key well-defined. A CSR built
    from the key is reloaded and its signature checked, and a CSR's public key is
    compared with the key's, so a key that signs wrongly is seen.
    """
    numbers = key.private_numbers()
    public = numbers.public_numbers
    p, q, d, n, e = numbers.p, numbers.q, numbers.d, public.n, public.e
    consistent = (
        p > 2 and q > 2 and p % 2 == 1 and q % 2 == 1 and p != q and p * q == n
        and e >= 3 and e % 2 == 1 and 0 < d < n
        and numbers.dmp1 == d % (p - 1) and numbers.dmq1 == d % (q - 1)
        and (e * numbers.dmp1) % (p - 1) == 1 and (e * numbers.dmq1) % (q - 1) == 1
        and 0 < numbers.iqmp < p and (numbers.iqmp * q) % p == 1
    )
    if not consistent:
        raise KeyLoadError('%s is not a valid RSA private key (its numbers are inconsistent)' % path)


def is_encrypted(data):
    return b'ENCRYPTED' in data.split(b'\n', 1)[0] or b'Proc-Type: 4,ENCRYPTED' in data


def load_private(data, passphrase=None, path='the key'):
    """Load a PEM private key; typed errors for a broken file or a wrong passphrase."""
    require_cryptography()
    encrypted = is_encrypted(data)
    if encrypted and not passphrase:
        raise WrongPassphrase('%s is protected by a passphrase and none was given' % path)
    password = passphrase.encode('utf-8') if (encrypted and passphrase) else None
    if password is not None:
        check_kdf_cost(data)  # the account controls ~/ssl/keys: no patched PBKDF2 cost
    try:
        key = serialization.load_pem_private_key(data, password=password, **dict(
            _backend_kwargs(), **_skip_rsa_check_kwargs()))
    except TypeError:
        raise WrongPassphrase('%s is protected by a passphrase and none was given' % path)
    except ValueError as exc:
        if encrypted:
            raise WrongPassphrase('the passphrase does not open %s' % path)
        raise KeyLoadError('%s is not a PEM private key this module can read (%s)'
                           % (path, str(exc).split('\n', 1)[0][:200]))
    except Exception as exc:  # unsupported algorithm and the like
        raise KeyLoadError('%s cannot be read: %s' % (path, str(exc).split('\n', 1)[0][:200]))
    if describe(key)[0] not in TLS_KEY_TYPES:
        raise KeyLoadError('%s is a %s key; only rsa, ecdsa and ed25519 keys are supported'
                           % (path, describe(key)[0]))
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa_consistency(key, path)
    return key, encrypted


def generate(key_type, size):
    require_cryptography()
    if key_type == 'rsa':
        return rsa.generate_private_key(public_exponent=65537, key_size=size, **_backend_kwargs())
    if key_type == 'ecdsa':
        curve = ec.SECP256R1() if size == 256 else ec.SECP384R1()
        return ec.generate_private_key(curve, **_backend_kwargs())
    if key_type == 'ed25519':
        return ed25519.Ed25519PrivateKey.generate()
    raise InvalidInput('type must be one of %s' % ', '.join(TLS_KEY_TYPES))


def serialize(key, passphrase=None):
    """PKCS#8 PEM, encrypted when a passphrase is given."""
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase.encode('utf-8'))
    else:
        encryption = serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def hex_colons(data):
    text = binascii.hexlify(data).decode('ascii')
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))
