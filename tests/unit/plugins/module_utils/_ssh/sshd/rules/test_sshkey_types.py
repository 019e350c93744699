# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's key type table: names, the certificate flag, the curves, the RSA minimum."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import struct
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules import sshkey_types


@pytest.fixture(scope='module')
def ecdsa_lines(tmp_path_factory):
    directory = tmp_path_factory.mktemp('types')
    lines = {}
    for bits in ('384', '521'):
        path = directory / ('k' + bits)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ecdsa', '-b', bits, '-N', '', '-C', '', '-f', str(path)], check=True)
        subprocess.run(['ssh-keygen', '-q', '-s', str(path), '-I', 'id', '-n', 'u', str(path) + '.pub'], check=True)
        lines[bits] = (path.parent / (path.name + '.pub')).read_text().strip()
        lines[bits + '-cert'] = (path.parent / (path.name + '-cert.pub')).read_text().strip()
    return lines


def test_ecdsa_keys_and_certificates_of_each_curve(ecdsa_lines):
    for bits, curve in (('384', 'nistp384'), ('521', 'nistp521')):
        key, name, dummy = sshd_rules.read_key(ecdsa_lines[bits])
        assert (key.kind, key.cert, key.curve, name) == ('ecdsa', False, curve, 'ecdsa-sha2-' + curve)
        key, name, dummy = sshd_rules.read_key(ecdsa_lines[bits + '-cert'])
        assert (key.kind, key.cert, key.curve) == ('ecdsa', True, curve)
        assert name == 'ecdsa-sha2-%s-cert-v01@openssh.com' % curve


def _string(data):
    return struct.pack('>I', len(data)) + data


def _rsa_line(bits):
    modulus = (1 << (bits - 1)) | 1
    blob = _string(b'ssh-rsa') + _string(b'\x01\x00\x01') + _string(b'\0' + modulus.to_bytes(bits // 8, 'big'))
    return 'ssh-rsa ' + base64.b64encode(blob).decode('ascii')


def test_rsa_keys_below_1024_bits_are_refused():
    found, reason = sshd_rules.read_key_explained(_rsa_line(1016))
    assert found is None and 'shorter than 1024 bits' in reason
    found, reason = sshd_rules.read_key_explained(_rsa_line(1024))
    assert reason is None and found[0].bits == 1024


def test_certificate_wire_names():
    assert sshkey_types.wire_name('ed25519-sk', cert=True) == 'sk-ssh-ed25519-cert-v01@openssh.com'
    assert sshkey_types.wire_name('ecdsa-sk', cert=True) == 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com'
    assert sshkey_types.wire_name('rsa', cert=True) == 'ssh-rsa-cert-v01@openssh.com'
    assert sshkey_types.wire_name('ecdsa', 'nistp384') == 'ecdsa-sha2-nistp384'
