# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``sshkey_verify`` of a certificate's signature by its CA key (``ssh-rsa.c``,
``ssh-ecdsa.c``, ``ssh-ed25519.c``), with OpenSSL's limits on RSA keys and a
CPU budget per module run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import (
    HAS_CRYPTOGRAPHY,
    ec,
    ed25519,
    rsa,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _text
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshbuf import BlobError, _Buf
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_types import (
    ECDSA,
    ED25519,
    RSA,
)


if HAS_CRYPTOGRAPHY:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
else:  # without it, certificate signatures are not checked (see verify_signature)
    InvalidSignature = hashes = padding = encode_dss_signature = None

_EC_HASH = {'nistp256': 'SHA256', 'nistp384': 'SHA384', 'nistp521': 'SHA512'}
_EC_CURVE = {'nistp256': 'SECP256R1', 'nistp384': 'SECP384R1', 'nistp521': 'SECP521R1'}
_RSA_SIG_HASH = {'ssh-rsa': 'SHA1', 'rsa-sha2-256': 'SHA256', 'rsa-sha2-512': 'SHA512'}


# OpenSSL's RSA public operation (rsa_ossl_public_decrypt, used by sshd's
# RSA_public_decrypt): the exponent must be below the modulus, and at most 64
# bits long when the modulus is longer than 3072 bits.
OPENSSL_RSA_SMALL_MODULUS_BITS = 3072
OPENSSL_RSA_MAX_PUBEXP_BITS = 64
# An RSA verification costs about (exponent bits) x (modulus bits)^2: a CA key
# whose exponent is as long as its modulus makes each certificate line ~200
# times dearer than a usual one (e = 65537). Per module run, certificate
# signatures are verified up to this cost (in exponent bits x (modulus
# bits / 1024)^2: about a second of CPU; 30,000 certificates of a usual
# 3072-bit CA); past it they are taken as valid without a check, as without
# ``cryptography``, and counted (:func:`unchecked_signatures`).
RSA_VERIFY_BUDGET = 5000000
_VERIFY = {'spent': 0, 'unchecked': 0}


def unchecked_signatures():
    """How many certificate signatures this process took as valid without checking
    them (verification cost budget spent)."""
    return _VERIFY['unchecked']


def _rsa_verify_cost(exponent, modulus):
    return exponent.bit_length() * (modulus.bit_length() / 1024.0) ** 2


def verify_signature(signer, signature, data):
    """sshkey_verify of a certificate signature by its CA key (``signer``, an :class:`SshdKey`).

    Needs ``cryptography`` for RSA, ECDSA and Ed25519 CA keys; without it, and
    for DSA and security-key CAs, the signature is taken as valid (such a
    line never authorizes a key itself, only certificates, in sshd). RSA
    verifications past the cost budget (``RSA_VERIFY_BUDGET``) are too.
    """
    if not HAS_CRYPTOGRAPHY or signer.kind not in (RSA, ECDSA, ED25519):
        return True
    try:
        sig = _Buf(signature)
        sig_type = _text(sig.cstring())
        body = sig.string()
        if sig.left():
            return False
        fields = _Buf(signer.plain_blob)
        fields.string()
        if signer.kind == ED25519:
            if sig_type != 'ssh-ed25519' or len(body) != 64:
                return False
            ed25519.Ed25519PublicKey.from_public_bytes(fields.string()).verify(body, data)
        elif signer.kind == ECDSA:
            if sig_type != signer.wire_type:
                return False
            numbers = _Buf(body)
            r_value = int(binascii.hexlify(numbers.string()) or b'0', 16)
            s_value = int(binascii.hexlify(numbers.string()) or b'0', 16)
            if numbers.left():
                return False
            fields.string()
            curve = getattr(ec, _EC_CURVE[signer.curve])()
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, fields.string())
            public.verify(encode_dss_signature(r_value, s_value), data,
                          ec.ECDSA(getattr(hashes, _EC_HASH[signer.curve])()))
        else:
            if sig_type not in _RSA_SIG_HASH:
                return False
            exponent = int(binascii.hexlify(fields.string()) or b'0', 16)
            modulus = int(binascii.hexlify(fields.string()) or b'0', 16)
            size = (modulus.bit_length() + 7) // 8
            if len(body) > size:
                return False
            if exponent >= modulus or (modulus.bit_length() > OPENSSL_RSA_SMALL_MODULUS_BITS
                                       and exponent.bit_length() > OPENSSL_RSA_MAX_PUBEXP_BITS):
                return False
            cost = _rsa_verify_cost(exponent, modulus)
            if _VERIFY['spent'] + cost > RSA_VERIFY_BUDGET:
                _VERIFY['unchecked'] += 1
                return True
            _VERIFY['spent'] += cost
            public = rsa.RSAPublicNumbers(exponent, modulus).public_key()
            public.verify(body.rjust(size, b'\0'), data, padding.PKCS1v15(),
                          getattr(hashes, _RSA_SIG_HASH[sig_type])())
    except (BlobError, InvalidSignature, ValueError, TypeError):
        return False
    return True
