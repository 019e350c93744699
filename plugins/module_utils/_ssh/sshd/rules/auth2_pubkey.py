# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``auth2-pubkey.c``: what sshd's settings refuse before any line is read
(``PubkeyAcceptedAlgorithms``, ``CASignatureAlgorithms``, ``RequiredRSASize``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.match import match_pattern_list
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_types import (
    KEY_NAMES,
    RSA,
    wire_name,
)


# PubkeyAcceptedAlgorithms names a client logs in with: any certificate
# algorithm through a cert-authority line (a CA signs keys of every type).
CERTIFICATE_ALGORITHMS = tuple(sorted(name for name, info in KEY_NAMES.items() if info[1]))


def type_algorithms(type_name):
    """The algorithm names a key (or certificate) of the wire type ``type_name`` is
    used with: the RSA signature names for RSA, else the type itself."""
    info = KEY_NAMES.get(type_name)
    if info is None:
        return (type_name,)
    return tuple(sorted(name for name, other in KEY_NAMES.items()
                        if other == info and not name.startswith('webauthn-')))


def key_algorithms(key):
    """The algorithm names a plain key is used with (login with the key, or a
    certificate signature by it as a CA)."""
    return type_algorithms(wire_name(key.kind, key.curve))


def algorithm_allowed(name, patterns):
    """``match_pattern_list(name, patterns, 0) == 1`` as auth2-pubkey.c asks it;
    ``patterns`` a list or a comma-separated string."""
    if not isinstance(patterns, str):
        patterns = ','.join(patterns)
    return match_pattern_list(name, patterns, dolower=False) == 1


def settings_refusals(line, accepted_algorithms=None, ca_signature_algorithms=None, required_rsa_size=0):
    """Why sshd's settings refuse every login a key line is meant for: a list of reasons.

    ``accepted_algorithms`` (``PubkeyAcceptedAlgorithms``) and
    ``ca_signature_algorithms`` (``CASignatureAlgorithms``): lists of patterns,
    None when not known (not checked). A plain key line needs one of the key's
    algorithms accepted and an RSA key of at least ``required_rsa_size`` bits;
    a ``cert-authority`` line needs a certificate algorithm accepted and a
    signature algorithm of its key allowed for CAs (``RequiredRSASize`` is
    checked on the certified key, not on the CA: auth2-pubkey.c).
    """
    reasons = []
    if line.kind != 'key' or line.key.cert:
        return reasons
    key = line.key
    if line.options is not None and line.options.cert_authority:
        if accepted_algorithms is not None and not any(
                algorithm_allowed(name, accepted_algorithms) for name in CERTIFICATE_ALGORITHMS):
            reasons.append('no certificate algorithm (*-cert-v01@openssh.com) is in PubkeyAcceptedAlgorithms')
        if ca_signature_algorithms is not None and not any(
                algorithm_allowed(name, ca_signature_algorithms) for name in key_algorithms(key)):
            reasons.append('CASignatureAlgorithms allows no signature by a %s CA key' % key.wire_type)
        return reasons
    if accepted_algorithms is not None and not any(
            algorithm_allowed(name, accepted_algorithms) for name in key_algorithms(key)):
        reasons.append('key type %s is not in PubkeyAcceptedAlgorithms' % key.wire_type)
    if key.kind == RSA and required_rsa_size and key.bits < required_rsa_size:
        reasons.append('RSA key of %d bits is below RequiredRSASize %d' % (key.bits, required_rsa_size))
    return reasons
