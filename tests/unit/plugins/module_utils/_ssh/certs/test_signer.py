# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing: the algorithm of each CA key (rsa-sha2-512 for RSA), and ssh-keygen's result checked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import BackendError, InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs import signer
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import FOREVER, Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


def _pub(cert_keys, name):
    return PublicKey.from_line((cert_keys / (name + '.pub')).read_text())


def test_rsa_ca_signs_with_sha512_unless_told(cert_keys):
    rsa_ca = _pub(cert_keys, 'ca_rsa')
    assert signer.signature_algorithm_for(rsa_ca, None) == 'rsa-sha2-512'
    assert signer.signature_algorithm_for(rsa_ca, 'rsa-sha2-256') == 'rsa-sha2-256'
    with pytest.raises(InvalidInput):
        signer.signature_algorithm_for(rsa_ca, 'ssh-ed25519')


def test_other_ca_keys_sign_with_their_own_type(cert_keys):
    ca = _pub(cert_keys, 'ca')
    assert signer.signature_algorithm_for(ca, None) == 'ssh-ed25519'
    assert signer.signature_algorithm_for(ca, 'ssh-ed25519') == 'ssh-ed25519'
    with pytest.raises(InvalidInput):
        signer.signature_algorithm_for(ca, 'rsa-sha2-512')


def _request(cert_keys, principals):
    return Certificate(_pub(cert_keys, 'user'), 'user', 5, 'req', principals, 0, FOREVER)


def test_rsa_signature_is_sha512(cert_keys):
    ca_bytes = (cert_keys / 'ca_rsa').read_bytes()
    for one in (signer.select_signer('auto', ca_bytes), signer.select_signer('ssh-keygen', ca_bytes)):
        try:
            algorithm = signer.signature_algorithm_for(signer.ca_public_key(one), None)
            signed = one.sign(_request(cert_keys, ['alice']), algorithm)
        finally:
            one.close()
        assert signed.signature_algorithm == 'rsa-sha2-512'
        assert PublicKey.from_blob(signed.wire_type, signed.blob()).is_certificate


def test_ssh_keygen_signing_another_certificate_is_refused(cert_keys, tmp_path):
    wrapper = str(tmp_path / 'ssh-keygen')
    with open(wrapper, 'w') as handle:
        handle.write('#!/bin/sh\nif [ "$2" = -s ]; then exec ssh-keygen -n root "$@"; fi\nexec ssh-keygen "$@"\n')
    os.chmod(wrapper, stat.S_IRWXU)
    one = signer.SshKeygenSigner((cert_keys / 'ca').read_bytes(), executable=wrapper)
    try:
        with pytest.raises(BackendError, match='other than the one asked for'):
            one.sign(_request(cert_keys, []), 'ssh-ed25519')
    finally:
        one.close()
