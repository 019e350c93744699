# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``sshkey.c``'s key type table: the names sshd reads at the start of a line
(``peek_type_nid``) and inside a blob (``sshkey_type_from_name``), the wire
name of each kind of key, the NIST curves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# Key kinds (sshd's KEY_* types, a certificate is kind + '-cert').
RSA, DSA, ECDSA, ED25519, ECDSA_SK, ED25519_SK = 'rsa', 'dsa', 'ecdsa', 'ed25519', 'ecdsa-sk', 'ed25519-sk'

_CURVES = {
    # name: (field prime p, b, order n, field bytes); a = -3 for all three.
    'nistp256': (
        0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
        0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
        0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551, 32),
    'nistp384': (
        int('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe'
            'ffffffff0000000000000000ffffffff', 16),
        int('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a'
            'c656398d8a2ed19d2a85c8edd3ec2aef', 16),
        int('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf'
            '581a0db248b0a77aecec196accc52973', 16), 48),
    'nistp521': (
        (1 << 521) - 1,
        int('0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef1'
            '09e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b50'
            '3f00', 16),
        int('01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
            'fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e913864'
            '09', 16), 66),
}
_CURVE_BITS = {'nistp256': 256, 'nistp384': 384, 'nistp521': 521}

# Names sshd's peek_type_nid() accepts at the start of a line:
# name -> (kind, certificate, curve or None).
KEY_NAMES = {
    'ssh-ed25519': (ED25519, False, None),
    'ssh-ed25519-cert-v01@openssh.com': (ED25519, True, None),
    'sk-ssh-ed25519@openssh.com': (ED25519_SK, False, None),
    'sk-ssh-ed25519-cert-v01@openssh.com': (ED25519_SK, True, None),
    'ecdsa-sha2-nistp256': (ECDSA, False, 'nistp256'),
    'ecdsa-sha2-nistp384': (ECDSA, False, 'nistp384'),
    'ecdsa-sha2-nistp521': (ECDSA, False, 'nistp521'),
    'ecdsa-sha2-nistp256-cert-v01@openssh.com': (ECDSA, True, 'nistp256'),
    'ecdsa-sha2-nistp384-cert-v01@openssh.com': (ECDSA, True, 'nistp384'),
    'ecdsa-sha2-nistp521-cert-v01@openssh.com': (ECDSA, True, 'nistp521'),
    'sk-ecdsa-sha2-nistp256@openssh.com': (ECDSA_SK, False, 'nistp256'),
    'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': (ECDSA_SK, True, 'nistp256'),
    'webauthn-sk-ecdsa-sha2-nistp256@openssh.com': (ECDSA_SK, False, 'nistp256'),
    'ssh-dss': (DSA, False, None),
    'ssh-dss-cert-v01@openssh.com': (DSA, True, None),
    'ssh-rsa': (RSA, False, None),
    'rsa-sha2-256': (RSA, False, None),
    'rsa-sha2-512': (RSA, False, None),
    'ssh-rsa-cert-v01@openssh.com': (RSA, True, None),
    'rsa-sha2-256-cert-v01@openssh.com': (RSA, True, None),
    'rsa-sha2-512-cert-v01@openssh.com': (RSA, True, None),
}
# sshkey_type_from_name() (used for the type inside the blob) also takes the
# short names of plain key types, in any case.
_SHORT_NAMES = {'rsa': RSA, 'dsa': DSA, 'ecdsa': ECDSA, 'ed25519': ED25519,
                'ecdsa-sk': ECDSA_SK, 'ed25519-sk': ED25519_SK}

# The wire name a key of a kind is written with.
_WIRE = {RSA: 'ssh-rsa', DSA: 'ssh-dss', ED25519: 'ssh-ed25519',
         ED25519_SK: 'sk-ssh-ed25519@openssh.com', ECDSA_SK: 'sk-ecdsa-sha2-nistp256@openssh.com'}

MIN_RSA_BITS = 1024          # SSH_RSA_MINIMUM_MODULUS_SIZE


def wire_name(kind, curve=None, cert=False):
    name = 'ecdsa-sha2-' + curve if kind == ECDSA else _WIRE[kind]
    if cert:
        if name.endswith('@openssh.com'):
            return name[:-len('@openssh.com')] + '-cert-v01@openssh.com'
        return name + '-cert-v01@openssh.com'
    return name


def _blob_type(name):
    """sshkey_type_from_name: (kind, certificate) or None."""
    info = KEY_NAMES.get(name)
    if info is not None:
        return info[0], info[1]
    kind = _SHORT_NAMES.get(name.lower())
    if kind is not None:
        return kind, False
    return None
