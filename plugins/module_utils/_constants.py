# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key types, sizes and defaults of the SSH keys, in one place.

``ssh_genkey``, ``keypair``, ``provision`` and both backends read them from
here (``_specs.py`` spells the choices out, and a unit test checks them
against these). TLS keys have their own rules in ``_tls/keys.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The SSH key types that can be generated (``type``), and the default one.
SSH_KEY_TYPES = ('rsa', 'ecdsa', 'ed25519', 'dsa')
DEFAULT_KEY_TYPE = 'rsa'
# The size of each type when ``bits`` is not given (rsa as ssh_genkey and
# keypair document it: 4096).
DEFAULT_BITS = {'rsa': 4096, 'ecdsa': 256, 'ed25519': 256, 'dsa': 1024}
ECDSA_SIZES = (256, 384, 521)
RSA_MIN_BITS = 1024
RSA_WARN_BITS = 2048
RSA_MAX_BITS = 16384
DSA_BITS = 1024

# How a generated or imported private key is written (``auto``: the backend's
# own, OpenSSH for both).
PRIVATE_KEY_FORMATS = ('auto', 'openssh', 'pkcs1', 'pkcs8')

# ``regenerate`` (community.crypto's meanings), for SSH and TLS keys.
REGENERATE_CHOICES = ('never', 'fail', 'partial_idempotence', 'full_idempotence', 'always')
