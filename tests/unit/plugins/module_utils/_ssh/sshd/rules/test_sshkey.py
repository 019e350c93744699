# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's reading of a line's key (``sshkey_read``, ``sshkey_from_blob``; tests/parity checks it against sshd itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import HAS_CRYPTOGRAPHY
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils._ssh.wire_blobs import (
    b64 as _b64,
    fields as _fields,
    ssh_string as _string,
)


def test_same_rsa_key_encoded_otherwise_is_the_same_key(keyset):
    line = keyset.lines['ssh-rsa']
    blob = base64.b64decode(line.split()[1])
    name, e, n = _fields(blob)
    reference = sshd_rules.read_key(line)[0]
    for variant in (_string('ssh-rsa') + _string(b'\0\0' + e) + _string(n),
                    _string('rsa-sha2-256') + _string(e) + _string(n),
                    _string('RSA') + _string(e) + _string(n),
                    _string('ssh-rsa\0') + _string(e) + _string(n)):
        found = sshd_rules.read_key('ssh-rsa %s c' % _b64(variant))
        assert found is not None
        assert found[0].material == reference.material
        assert found[0].blob == blob
    for alias in ('rsa-sha2-256', 'rsa-sha2-512'):
        assert sshd_rules.read_key('%s %s' % (alias, line.split()[1]))[0].material == reference.material
    # the short names are read inside a blob only, not as the type of a line
    assert sshd_rules.read_key('RSA %s' % line.split()[1]) is None


def test_rsa_limits(keyset):
    name, e, n = _fields(base64.b64decode(keyset.lines['ssh-rsa'].split()[1]))
    small = (1 << 1022) | 1
    small_bytes = small.to_bytes(128, 'big')
    assert sshd_rules.read_key('ssh-rsa %s' % _b64(_string('ssh-rsa') + _string(e) + _string(small_bytes))) is None
    negative = n.lstrip(b'\0')
    assert sshd_rules.read_key('ssh-rsa %s' % _b64(_string('ssh-rsa') + _string(e) + _string(negative))) is None


def test_ecdsa_point_checks(keyset):
    line = keyset.lines['ecdsa-sha2-nistp256']
    name, curve, point = _fields(base64.b64decode(line.split()[1]))
    assert sshd_rules.read_key(line) is not None
    x, y = point[1:33], point[33:]
    off_curve = b'\4' + x + y[:-1] + bytes([y[-1] ^ 1])
    compressed = bytes([2 + (y[-1] & 1)]) + x
    for bad in (off_curve, compressed):
        assert sshd_rules.read_key('%s %s' % (name.decode(), _b64(_string(name) + _string(curve) + _string(bad)))) is None
    # the type on the line must name the curve of the blob
    assert sshd_rules.read_key('ecdsa-sha2-nistp384 %s' % line.split()[1]) is None


def test_blob_of_the_wrong_type_or_with_trailing_data(keyset):
    line = keyset.lines['ssh-ed25519']
    blob = base64.b64decode(line.split()[1])
    assert sshd_rules.read_key('ssh-rsa %s' % line.split()[1]) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(blob + b'\0')) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(blob[:-1])) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(_string('ssh-ed\0' + 'x') + _fields(blob)[1])) is None


@pytest.mark.parametrize('cert_type', ['ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com',
                                       'ecdsa-sha2-nistp256-cert-v01@openssh.com'])
def test_certificate_signature_is_verified(keyset, cert_type):
    line = keyset.lines[cert_type]
    assert sshd_rules.read_key(line) is not None
    blob = bytearray(base64.b64decode(line.split()[1]))
    blob[-1] ^= 1
    tampered = sshd_rules.read_key('%s %s' % (cert_type, _b64(bytes(blob))))
    # sshd refuses a certificate whose signature does not verify; without
    # cryptography the module cannot check it and reads the line
    assert (tampered is None) == HAS_CRYPTOGRAPHY


def test_certificate_line_is_read_but_never_authorizes(keyset):
    cert = keyset.lines['ssh-ed25519-cert-v01@openssh.com']
    line = sshd_rules.Line(cert)
    assert line.kind == 'key' and line.key.cert
    assert not line.authorizes(line.key.material, '127.0.0.1')
