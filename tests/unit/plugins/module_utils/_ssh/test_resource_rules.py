# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules that bound what a hostile file costs and keep results valid text (issue 27)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import struct

import pytest

from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules import sshkey, sshkey_verify
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import (
    build_report,
    csv_safe,
    render_csv,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._text import escape_text, valid_text

_SHA512_INFO = bytes.fromhex('3051300d060960864801650304020305000440')


def _string(data):
    return struct.pack('>I', len(data)) + data


def _mpint(number):
    return _string(number.to_bytes((number.bit_length() + 8) // 8, 'big'))


def _rsa_with_exponent(bits, exponent_bits):
    """(e, n, d) of an RSA key whose public exponent has ``exponent_bits`` bits."""
    numbers = rsa.generate_private_key(65537, bits).private_numbers()
    p, q = numbers.p, numbers.q
    phi = (p - 1) * (q - 1)
    exponent = (1 << (exponent_bits - 1)) | 1
    while True:
        try:
            private = pow(exponent, -1, phi)
            return exponent, p * q, private
        except ValueError:
            exponent += 2


def _cert(exponent, modulus, private=None, nonce=b'n' * 32):
    """An ed25519 user certificate signed with rsa-sha2-512 by (e, n); a valid signature when ``private`` is given."""
    ca = _string(b'ssh-rsa') + _mpint(exponent) + _mpint(modulus)
    body = (_string(b'ssh-ed25519-cert-v01@openssh.com') + _string(nonce) + _string(b'k' * 32)
            + struct.pack('>QI', 1, 1) + _string(b'id') + _string(b'') + struct.pack('>QQ', 0, 2 ** 64 - 1)
            + _string(b'') + _string(b'') + _string(b'') + _string(ca))
    size = (modulus.bit_length() + 7) // 8
    if private is None:
        signature = os.urandom(size - 1)
    else:
        digest = _SHA512_INFO + hashlib.sha512(body).digest()
        encoded = b'\x00\x01' + b'\xff' * (size - len(digest) - 3) + b'\x00' + digest
        signature = pow(int.from_bytes(encoded, 'big'), private, modulus).to_bytes(size, 'big')
    return body + _string(_string(b'rsa-sha2-512') + _string(signature))


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.setattr(sshkey, '_BLOB_CACHE', {})
    monkeypatch.setattr(sshkey_verify, '_VERIFY', {'spent': 0, 'unchecked': 0})


def test_rsa_ca_with_long_exponent_verifies_as_openssl_does():
    """sshd (OpenSSL) takes an exponent as long as a 2048-bit modulus; the signature is really checked."""
    exponent, modulus, private = _rsa_with_exponent(2048, 2000)
    assert sshd_rules.key_from_blob(_cert(exponent, modulus, private)).cert
    with pytest.raises(sshd_rules.BlobError):
        sshd_rules.key_from_blob(_cert(exponent, modulus))
    assert sshd_rules.unchecked_signatures() == 0


def test_rsa_verification_budget(monkeypatch):
    """Past the budget a costly signature is taken as valid without a check, and counted."""
    exponent, modulus, dummy = _rsa_with_exponent(2048, 2000)
    cost = sshkey_verify._rsa_verify_cost(exponent, modulus)
    monkeypatch.setattr(sshkey_verify, 'RSA_VERIFY_BUDGET', cost * 2.5)
    outcomes = []
    for index in range(4):
        try:
            sshd_rules.key_from_blob(_cert(exponent, modulus, nonce=b'%032d' % index))
            outcomes.append('taken')
        except sshd_rules.BlobError:
            outcomes.append('refused')
    assert outcomes == ['refused', 'refused', 'taken', 'taken']
    assert sshd_rules.unchecked_signatures() == 2


def test_one_verification_per_distinct_certificate(monkeypatch):
    calls = []
    real = sshd_rules.verify_signature

    def counting(signer, signature, data):
        calls.append(1)
        return real(signer, signature, data)

    monkeypatch.setattr(sshkey, 'verify_signature', counting)
    exponent, modulus, private = _rsa_with_exponent(2048, 17)
    blob = _cert(exponent, modulus, private)
    bad = _cert(exponent, modulus)
    for dummy in range(50):
        assert sshd_rules.key_from_blob(blob).cert
        with pytest.raises(sshd_rules.BlobError):
            sshd_rules.key_from_blob(bad)
    assert len(calls) == 2


def test_exponent_not_below_the_modulus_is_refused():
    exponent, modulus, private = _rsa_with_exponent(2048, 17)
    signer = sshd_rules.key_from_blob(_string(b'ssh-rsa') + _mpint(modulus + 2) + _mpint(modulus))
    signature = _string(b'rsa-sha2-512') + _string(b'\x01' * 16)
    assert not sshd_rules.verify_signature(signer, signature, b'data')


def test_audit_read_error_is_reported_not_raised():
    # read as root, as the audit's reader reads for an account: EIO is this file's verdict, not a failure
    with _fs_audit.AccountReader() as reader:
        got = reader.read('/proc/self/mem', 0, 0, [0], 'root')
        assert got.status == 'denied' and got.data is None
        assert got.reason == 'read error: %s' % os.strerror(5)      # EIO
        assert reader.read('/etc/hostname', 0, 0, [0], 'root').status == 'read'   # the reader goes on


def test_audit_read_is_bounded(tmp_path):
    path = tmp_path / 'big'
    path.write_bytes(b'a' * 100)
    info, data, truncated = _fs_audit.read_for_audit(str(path), max_bytes=64)
    assert (data, truncated) == (b'a' * 64, True)
    info, data, truncated = _fs_audit.read_for_audit(str(path), max_bytes=100)
    assert (data, truncated) == (b'a' * 100, False)


def test_results_are_valid_text():
    raw = b'caf\xe9 \xff'.decode('utf-8', 'surrogateescape')
    assert escape_text(raw) == ('caf\\xe9 \\xff', True)
    assert escape_text('caf\u00e9') == ('caf\u00e9', False)
    escaped = []
    value = {'keys': [{'comment': raw, 'bits': 256}, {'comment': 'ok'}], 'path': ('/a', raw)}
    out = valid_text(value, escaped)
    assert out == {'keys': [{'comment': 'caf\\xe9 \\xff', 'bits': 256}, {'comment': 'ok'}],
                   'path': ('/a', 'caf\\xe9 \\xff')}
    assert escaped == ['result.keys[0].comment', 'result.path[1]']
    clean = {'keys': [{'comment': 'ok'}]}
    assert valid_text(clean, []) is clean


@pytest.mark.parametrize('text', ['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])
def test_csv_formula_cells_are_text(text):
    assert csv_safe(text) == "'" + text
    report = build_report({'h': {'accounts': [{'user': 'u', 'uid': 1, 'files': [], 'keys': [
        {'fingerprint': 'SHA256:x', 'file': '/f', 'line': 1, 'accepted': True, 'weak': False, 'expired': False,
         'comment': text, 'options': text}]}]}})
    assert render_csv(report).decode().count("'" + text) == 2


def test_csv_plain_cells_unchanged():
    assert csv_safe('laptop') == 'laptop'
    assert csv_safe('') == ''
