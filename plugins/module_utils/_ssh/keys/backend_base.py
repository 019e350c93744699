# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The interface of the SSH key backends (generate, read, set a comment),
with the parts that need no backend. Passphrases never appear on a command
line or in an error message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import (
    DEFAULT_BITS,
    ECDSA_SIZES,
    PRIVATE_KEY_FORMATS,
    RSA_MAX_BITS,
    RSA_MIN_BITS,
    SSH_KEY_TYPES as KEY_TYPES,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import openssh_private


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


class KeyBackend:
    """Base class of the backends."""

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

    # What needs no backend (openssh_private), for the callers that hold a backend.
    private_format = staticmethod(openssh_private.private_format)
    is_encrypted = staticmethod(openssh_private.is_encrypted)
    openssh_public_key = staticmethod(openssh_private.openssh_public_key)

    @staticmethod
    def _check_passphrase_text(passphrase):
        value = openssh_private.passphrase_bytes(passphrase)
        if value is not None and (b'\n' in value or b'\r' in value or b'\0' in value):
            raise InvalidInput('a passphrase must not contain line breaks or NUL characters')
        return value

    def __repr__(self):
        return '<%s backend>' % self.name
