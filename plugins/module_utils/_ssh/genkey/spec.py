# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an ``ssh_genkey`` task (or a provision ``ssh_keys`` item) asks for,
validated before anything is read: name, type and size, passphrase, comment,
a key to import, PuTTY export. The operation is SshKeyPair (genkey.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import (
    DEFAULT_BITS,
    DEFAULT_KEY_TYPE,
    DSA_BITS,
    ECDSA_SIZES,
    PRIVATE_KEY_FORMATS,
    REGENERATE_CHOICES,
    RSA_MAX_BITS,
    RSA_MIN_BITS,
    RSA_WARN_BITS,
    SSH_KEY_TYPES as KEY_TYPES,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeyLoadError
from ansible_collections.keysmith.accounts.plugins.module_utils._module import private_key_values
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk as ppk_format
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

# cPanel's SSH::genkey refuses these names; the *2 variants are read by sshd
# and ssh as well, so a key must not overwrite them either.
RESERVED_NAMES = frozenset([
    'config', 'known_hosts', 'authorized_keys', 'environment', 'rc', 'identity',
    'authorized_keys2', 'known_hosts2', 'known_hosts.old',
])
PASSPHRASE_MIN_LENGTH = 4
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
PPK_MODE = 0o600
SSH_DIR_MODE = 0o700

EMPTY_PASSPHRASE_WARNING = (
    'SECURITY RISK: The passphrase is empty. This is allowed but STRONGLY discouraged. '
    'Please consider deleting the generated key pair and creating a new one with a strong passphrase. '
    'Give passphrase: "" to say no passphrase on purpose.')


def validate_key_name(name):
    """The rules of cPanel's ``name``: a plain file name in ``~/.ssh``."""
    if name is None or name == '':
        raise InvalidInput('name must not be empty')
    for bad, why in (('\0', 'a NUL byte'), ('\n', 'a newline'), ('\r', 'a carriage return'),
                     ('/', 'a slash')):
        if bad in name:
            raise InvalidInput('name %r is not allowed: it contains %s' % (name, why))
    if name.startswith('..') or name == '.':
        raise InvalidInput('name %r is not allowed: it must not start with ".."' % name)
    if name.startswith('-'):
        raise InvalidInput('name %r is not allowed: it must not start with "-"' % name)
    if name in RESERVED_NAMES:
        raise InvalidInput('name %r is reserved: it is not allowed to use the names %s'
                           % (name, ', '.join(sorted(RESERVED_NAMES))))
    return name


def resolve_bits(key_type, bits):
    """The key size for ``key_type``; returns (bits, warnings)."""
    warnings = []
    if key_type == 'rsa':
        if bits is None:
            bits = DEFAULT_BITS['rsa']
        if bits < RSA_MIN_BITS:
            raise InvalidInput('size must be a positive integer of %d or more for rsa keys, got %d'
                               % (RSA_MIN_BITS, bits))
        if bits > RSA_MAX_BITS:
            raise InvalidInput('size must be at most %d for rsa keys, got %d' % (RSA_MAX_BITS, bits))
        if bits < RSA_WARN_BITS:
            warnings.append('rsa keys of %d bits are weak; use %d bits or more' % (bits, RSA_WARN_BITS))
    elif key_type == 'ecdsa':
        if bits is None:
            bits = DEFAULT_BITS['ecdsa']
        if bits not in ECDSA_SIZES:
            raise InvalidInput('size must be one of %s for ecdsa keys, got %d'
                               % (', '.join(str(s) for s in ECDSA_SIZES), bits))
    elif key_type == 'ed25519':
        if bits not in (None, 256):
            raise InvalidInput('ed25519 keys have a fixed size of 256 bits, got size=%d' % bits)
        bits = 256
    elif key_type == 'dsa':
        if bits not in (None, DSA_BITS):
            raise InvalidInput('dsa keys are %d bits, got size=%d' % (DSA_BITS, bits))
        bits = DSA_BITS
    else:
        raise InvalidInput('type must be one of %s, got %r' % (', '.join(KEY_TYPES), key_type))
    return bits, warnings


def validate_passphrase(passphrase):
    if passphrase and len(passphrase) < PASSPHRASE_MIN_LENGTH:
        # Never echo the passphrase itself.
        raise InvalidInput('passphrase must be %d characters or more (or empty for no passphrase)'
                           % PASSPHRASE_MIN_LENGTH)
    return passphrase or None


class KeyPairSpec:
    """The validated, typed form of the task's options.

    ``private_key`` / ``public_key`` (keyword only) import an existing key
    instead of generating one; ``ppk`` also writes ``<path>.ppk`` (PuTTY).
    ``key_type`` None means rsa when generating and "whatever the imported
    key is" when importing.
    """

    def __init__(self, account, name=None, path=None, key_type=None, bits=None, passphrase=None,
                 comment=None, state='present', regenerate='partial_idempotence',
                 private_key_format='auto', backend='auto', follow=False, *,
                 private_key=None, public_key=None, ppk=False):
        self.account = account
        if (name is None) == (path is None):
            raise InvalidInput('exactly one of name and path is required')
        if path is not None:
            if not os.path.isabs(path):
                raise InvalidInput('path must be an absolute path, got %r' % path)
            if '\n' in path or '\0' in path:
                raise InvalidInput('path must not contain a newline or NUL byte')
            self.path = os.path.normpath(path)
            self.managed_ssh_dir = False
        else:
            validate_key_name(name)
            self.path = os.path.join(account.home, '.ssh', name)
            self.managed_ssh_dir = True
        if key_type is not None and key_type not in KEY_TYPES:
            raise InvalidInput('type must be one of %s, got %r' % (', '.join(KEY_TYPES), key_type))
        if regenerate not in REGENERATE_CHOICES:
            raise InvalidInput('regenerate must be one of %s' % ', '.join(REGENERATE_CHOICES))
        if private_key_format not in PRIVATE_KEY_FORMATS:
            raise InvalidInput('private_key_format must be one of %s' % ', '.join(PRIVATE_KEY_FORMATS))
        if comment is not None and ('\n' in comment or '\r' in comment or '\0' in comment):
            raise InvalidInput('comment must be a single line')
        self.passphrase = validate_passphrase(passphrase)
        # passphrase: "" is said on purpose; an omitted one gets the SECURITY RISK warning
        self.empty_passphrase_acknowledged = passphrase == ''
        self.comment = comment
        self.state = state
        self.regenerate = regenerate
        self.private_key_format = private_key_format
        self.backend_name = backend
        self.follow = follow
        self.public_path = self.path + '.pub'
        self.ppk = bool(ppk)
        self.ppk_path = self.path + ppk_format.PPK_SUFFIX
        # Import: the key (PublicKey, with the comment it brings), the private
        # key bytes to install (None for a public key alone), their format and
        # whether they are encrypted.
        self.import_key = None
        self.import_private = None
        self.import_private_comment = None
        self.import_format = None
        self.import_encrypted = False
        self.warnings = []
        if state == 'present' and (private_key is not None or public_key is not None):
            self._prepare_import(private_key, public_key, key_type, bits)
        else:
            key_type = key_type or DEFAULT_KEY_TYPE
            if private_key_format == 'pkcs1' and key_type == 'ed25519':
                raise InvalidInput('ed25519 keys cannot be written in the pkcs1 format; use openssh or pkcs8')
            self.key_type = key_type
            self.bits, self.warnings = resolve_bits(key_type, bits)
        if self.ppk and state == 'present':
            if self.importing and self.import_private is None:
                raise InvalidInput('ppk needs a private key, but public_key alone installs none; '
                                   'give private_key as well')
            if self.passphrase:
                ppk_format.require_argon2()  # fail before anything is written

    @property
    def importing(self):
        return self.import_key is not None

    def _prepare_import(self, private_key, public_key, key_type, bits):
        """Check the given key(s) as a generated key would be checked."""
        key = None
        if private_key is not None:
            data = private_key.encode('utf-8') if not isinstance(private_key, bytes) else private_key
            data = data.strip().replace(b'\r\n', b'\n') + b'\n'
            if data == b'\n':
                raise InvalidInput('private_key is empty')
            try:
                fmt = KeyBackend.private_format(data)
                encrypted = KeyBackend.is_encrypted(data)
            except KeyLoadError as exc:
                raise InvalidInput('private_key cannot be read: %s' % exc.msg)
            if encrypted and not self.passphrase:
                raise InvalidInput('private_key is protected by a passphrase; give it as passphrase')
            if not encrypted and self.passphrase:
                raise InvalidInput('private_key is not protected by a passphrase, but passphrase is set; '
                                   'omit passphrase (the key is installed as it is given)')
            if self.private_key_format not in ('auto', fmt):
                raise InvalidInput('private_key is in the %s format, not %s as private_key_format asks; '
                                   'the key is installed as it is given' % (fmt, self.private_key_format))
            loader = select_backend(self.backend_name, private_bytes=data)
            try:
                key = loader.load_private(data, self.passphrase if encrypted else None)
            except KeyLoadError as exc:
                raise InvalidInput('private_key cannot be read: %s' % exc.msg)
            self.import_private = data
            self.import_private_comment = key.comment
            self.import_format = fmt
            self.import_encrypted = encrypted
        if public_key is not None:
            if private_key_values(public_key):
                raise InvalidInput('public_key holds a private key; give it as private_key (its public key '
                                   'is derived from it), or give the public key (the .pub file) as public_key')
            line = PublicKey.from_line(public_key)
            if line.is_certificate:
                raise InvalidInput('public_key is a certificate (%s), not a public key' % line.key_type)
            if key is not None and not line.same_key(key):
                raise InvalidInput('public_key (%s) is not the public key of private_key (%s)'
                                   % (line.fingerprint_sha256, key.fingerprint_sha256))
            if key is None or (line.comment and not key.comment):
                key = line
        family = key.family
        allowed = KEY_TYPES if self.import_private is not None else KEY_TYPES + ('sk-ecdsa', 'sk-ed25519')
        if family not in allowed:
            raise InvalidInput('keys of type %s cannot be imported' % key.key_type)
        what = 'private_key' if self.import_private is not None else 'public_key'
        if key_type is not None and key_type != family:
            raise InvalidInput('%s is of type %s, not %s as type says' % (what, family, key_type))
        if bits is not None and bits != key.size:
            raise InvalidInput('%s is a key of %d bits, not %d as bits says' % (what, key.size, bits))
        if family in KEY_TYPES:
            self.bits, self.warnings = resolve_bits(family, key.size)
        else:
            self.bits = key.size
        self.key_type = family
        self.import_key = key

    def default_comment(self):
        return '%s@%s' % (self.account.name, socket.gethostname())
