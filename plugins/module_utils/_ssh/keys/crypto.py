# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guarded imports of ``cryptography`` and ``bcrypt`` for the SSH side:
the managed node may lack either (the ssh-keygen backend works without)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# What the SSH models and backends take from here (they are names of this module on purpose).
__all__ = ['HAS_BCRYPT', 'HAS_CRYPTOGRAPHY', 'CRYPTOGRAPHY_IMPORT_ERROR', 'CRYPTOGRAPHY_VERSION', 'Cipher', 'algorithms',
           'backend_kwargs', 'bcrypt', 'dsa', 'ec', 'ed25519', 'modes', 'rsa', 'serialization']

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
    # The names exist either way; they are only used when HAS_CRYPTOGRAPHY.
    serialization = ec = ed25519 = rsa = dsa = Cipher = algorithms = modes = None

try:
    import bcrypt  # cryptography needs it for encrypted OpenSSH format keys
    HAS_BCRYPT = hasattr(bcrypt, 'kdf')
except ImportError:
    bcrypt = None
    HAS_BCRYPT = False


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
