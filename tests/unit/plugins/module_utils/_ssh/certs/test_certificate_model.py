# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The certificate model's reading of blobs: bounds, type, validity (certificates made by ssh-keygen)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader


def _cert(cert_keys, kind='user'):
    return Certificate.from_line((cert_keys / ('user-cert-%s.pub' % kind)).read_text())


def test_user_and_host_certificates(cert_keys):
    user = _cert(cert_keys)
    assert (user.cert_type, user.serial, user.key_id, user.principals) == ('user', 7, 'alice', ['alice', 'deploy'])
    assert (user.valid_after, user.valid_before) == (0x10, 0x20)
    host = _cert(cert_keys, 'host')
    assert (host.cert_type, host.principals) == ('host', ['h.example'])
    assert Certificate.from_blob(user.blob()).to_be_signed() == user.to_be_signed()


def test_trailing_data_is_refused(cert_keys):
    with pytest.raises(InvalidInput, match='trailing data'):
        Certificate.from_blob(_cert(cert_keys).blob() + b'\0')


def test_unknown_certificate_type_is_refused(cert_keys):
    blob = _cert(cert_keys).blob()
    reader = Reader(blob)
    reader.string()   # type name
    reader.string()   # nonce
    reader.string()   # the ed25519 key
    reader.uint64('serial')
    at = reader.pos
    assert blob[at:at + 4] == struct.pack('>I', 1)
    with pytest.raises(InvalidInput, match='unknown certificate type 3'):
        Certificate.from_blob(blob[:at] + struct.pack('>I', 3) + blob[at + 4:])


def test_valid_before_is_the_first_second_not_valid(cert_keys):
    cert = _cert(cert_keys)
    assert not cert.is_valid_at(0xf)
    assert cert.is_valid_at(0x10) and cert.is_valid_at(0x1f)
    assert not cert.is_valid_at(0x20)
