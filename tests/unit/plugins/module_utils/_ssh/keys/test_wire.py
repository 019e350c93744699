# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SSH wire format shared by the key models (RFC 4251 section 5)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import (
    Reader,
    WireError,
    mpint,
    ssh_string,
    uint32,
)


@pytest.mark.parametrize('value, encoded', [
    # RFC 4251's own examples
    (0, b'\x00\x00\x00\x00'),
    (0x9a378f9b2e332a7, b'\x00\x00\x00\x08\x09\xa3\x78\xf9\xb2\xe3\x32\xa7'),
    (0x80, b'\x00\x00\x00\x02\x00\x80'),
    (0x7f, b'\x00\x00\x00\x01\x7f'),
    (0xff00, b'\x00\x00\x00\x03\x00\xff\x00'),
])
def test_mpint_is_rfc4251s_encoding(value, encoded):
    assert mpint(value) == encoded
    assert Reader(encoded).mpint() == value


def test_strings_and_integers_read_back():
    data = ssh_string('ssh-ed25519') + uint32(7) + ssh_string(b'\x00\xff') + b'\x00' * 7 + b'\x2a'
    reader = Reader(data)
    assert reader.text() == 'ssh-ed25519'
    assert reader.uint32() == 7
    assert reader.string() == b'\x00\xff'
    assert reader.uint64() == 42
    assert reader.remaining() == 0


@pytest.mark.parametrize('data', [b'', b'\x00\x00\x00', b'\x00\x00\x00\x05abcd', b'\xff\xff\xff\xff'])
def test_truncated_data_is_a_wire_error_and_a_value_error(data):
    with pytest.raises(WireError) as info:
        Reader(data).string()
    assert isinstance(info.value, ValueError)
    assert 'truncated' in str(info.value)


def test_text_must_be_ascii():
    with pytest.raises(WireError):
        Reader(ssh_string(b'\xc3\xa9')).text()
    with pytest.raises(UnicodeEncodeError):
        ssh_string(u'\xe9')
