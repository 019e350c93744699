# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SSH key backend on the ``cryptography`` library (imported only when
present; encrypted OpenSSH format keys also need ``bcrypt``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import warnings

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import SSH_KEY_TYPES as KEY_TYPES
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._kdf_limits import check_bcrypt_rounds, check_kdf_cost
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend, validate_generate_args
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_BCRYPT,
    HAS_CRYPTOGRAPHY,
    Cipher,
    algorithms,
    backend_kwargs,
    bcrypt,
    dsa,
    ec,
    ed25519,
    modes,
    rsa,
    serialization,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import (
    OPENSSH_MAGIC,
    OpenSSHContainer,
    armor,
    decode_text,
    pad_section,
    passphrase_bytes,
    set_plain_comment,
    split_private_section,
    to_bytes,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, ssh_string, uint32

_CURVES = {256: 'SECP256R1', 384: 'SECP384R1', 521: 'SECP521R1'}
_DSA_PROBE = {}


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
        data = to_bytes(private_bytes)
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

    def load_key_object(self, private_bytes, passphrase=None):
        """The ``cryptography`` private key object (PuTTY export needs the numbers)."""
        return self._load(private_bytes, passphrase_bytes(passphrase))

    def load_private(self, private_bytes, passphrase=None):
        secret = passphrase_bytes(passphrase)
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
            public.comment = decode_text(self._openssh_section(private_bytes, secret)[1])
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
        wire = Reader(container.kdf_options)
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
            return split_private_section(container.private_section)
        if secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        decryptor = self._kdf(container, secret).decryptor()
        plain = decryptor.update(container.private_section) + decryptor.finalize()
        return split_private_section(plain)

    def set_comment(self, private_bytes, passphrase, comment):
        if self.private_format(private_bytes) != 'openssh':
            raise InvalidInput('only OpenSSH format private keys store a comment')
        secret = passphrase_bytes(passphrase)
        container = OpenSSHContainer(private_bytes)
        if not container.encrypted:
            return set_plain_comment(private_bytes, comment)
        key_part, dummy = self._openssh_section(private_bytes, secret)
        section = pad_section(key_part + ssh_string(to_bytes(comment or '')), 16)
        # A fresh salt, so no key stream is used twice.
        wire = Reader(container.kdf_options)
        wire.string()
        rounds = wire.uint32()
        kdf_options = ssh_string(os.urandom(16)) + uint32(rounds)
        header = (OPENSSH_MAGIC + ssh_string(b'aes256-ctr') + ssh_string(b'bcrypt')
                  + ssh_string(kdf_options) + uint32(1) + ssh_string(container.public_blob))
        fresh = OpenSSHContainer(armor(header + ssh_string(b'')))
        encryptor = self._kdf(fresh, secret).encryptor()
        encrypted = encryptor.update(section) + encryptor.finalize()
        return armor(header + ssh_string(encrypted))


def _short_reason(exc):
    text = str(exc).split('.', maxsplit=1)[0]
    return text[:120] if text else type(exc).__name__


# ---------------------------------------------------------------------------
