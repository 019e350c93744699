# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The trust checks' view of a certificate: its fields, or None when it cannot be read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs import certificate as certificate_module
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs import signer
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.certificate import certificate_fields


@pytest.fixture(scope='module')
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp('trustcert')
    for name in ('ca', 'user'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', str(directory / name)],
                       check=True)
    subprocess.run(['ssh-keygen', '-q', '-s', str(directory / 'ca'), '-I', 'alice', '-n', 'alice', '-z', '9',
                    '-V', '0x100:0x200', str(directory / 'user.pub')], check=True)
    return directory


def test_fields_of_a_certificate(made):
    key = PublicKey.from_line((made / 'user-cert.pub').read_text())
    fields = certificate_fields(key)
    assert (fields['type'], fields['serial'], fields['key_id'], fields['principals']) == ('user', 9, 'alice', ['alice'])
    assert (fields['valid_after'], fields['valid_before']) == (0x100, 0x200)
    assert fields['signature_key'].blob == PublicKey.from_line((made / 'ca.pub').read_text()).blob
    assert certificate_fields(PublicKey.from_line((made / 'user.pub').read_text())) is None


def test_a_certificate_the_model_refuses_is_none(made, monkeypatch):
    # sshd's key reader takes a (validly signed) certificate naming a critical option twice; the model does not
    encode = certificate_module.encode_options
    monkeypatch.setattr(certificate_module, 'encode_options', lambda options: encode(options) * 2)
    one = signer.CryptographySigner((made / 'ca').read_bytes())
    cert = Certificate(PublicKey.from_line((made / 'user.pub').read_text()), 'user', 1, 'x', ['alice'], 0,
                       2 ** 64 - 1, critical_options={'force-command': '/bin/true'})
    signed = one.sign(cert, 'ssh-ed25519')
    blob = signed.blob()
    monkeypatch.undo()
    key = PublicKey.from_blob(signed.wire_type, blob)
    assert key.is_certificate
    assert certificate_fields(key) is None
