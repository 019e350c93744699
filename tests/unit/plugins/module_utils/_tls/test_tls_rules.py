# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The TLS rules one by one: when a CSR on disk is what the task asks for, the
challenge password kept out of views and errors, key sizes, KDF costs and RSA
consistency of account-controlled key files, encryption of written keys, field
limits, file names, and what ssl_info reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import types

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeyLoadError, TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import csr as tls_csr
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import validate
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.info import InfoSpec, SslInfo
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.test_kdf_limits import pbkdf2_key

FIELDS = {'country': 'US', 'province': 'Texas', 'city': 'Houston', 'company': 'Example', 'host': 'www.example.com'}
SANS = [('DNS', 'www.example.com'), ('DNS', 'example.com')]


@pytest.fixture(scope='module')
def key():
    return tls_keys.generate('ecdsa', 256)


@pytest.fixture(scope='module')
def other_key():
    return tls_keys.generate('ecdsa', 256)


def info_of(key, password='', fields=None, sans=None, digest='sha256'):
    fields, sans = FIELDS if fields is None else fields, SANS if sans is None else sans
    return tls_csr.load(tls_csr.build(key, fields, sans, digest, password))


def wanted(key, password='', fields=None, sans=None, digest='sha256'):
    fields, sans = FIELDS if fields is None else fields, SANS if sans is None else sans
    return (tls_csr.subject_tuples(fields), sans, tls_keys.public_der(key), digest, password)


def test_a_csr_is_what_was_asked_or_says_why_not(key, other_key):
    info = info_of(key, 'challenge')
    assert info.password == 'challenge' and info.signature_valid
    assert info.same_as(*wanted(key, 'challenge')) == []
    assert info.same_as(*wanted(other_key, 'challenge')) == ['key']
    assert info.same_as(*wanted(key, 'other')) == ['challengePassword']
    assert info.same_as(*wanted(key, '')) == ['challengePassword']
    assert info.same_as(*wanted(key, 'challenge', fields=dict(FIELDS, city='Austin'))) == ['subject']
    assert info.same_as(*wanted(key, 'challenge', sans=SANS[:1])) == ['subjectAltName']
    assert info.same_as(*wanted(key, 'challenge', digest='sha384')) == ['digest']


def test_a_csr_with_a_broken_signature_is_not_kept(key):
    pem = tls_csr.build(key, FIELDS, SANS, 'sha256', '')
    der = bytearray(base64.b64decode(b''.join(pem.split(b'\n')[1:-2])))
    der[-5] ^= 1   # inside the signature
    broken = (b'-----BEGIN CERTIFICATE REQUEST-----\n' + base64.encodebytes(bytes(der))
              + b'-----END CERTIFICATE REQUEST-----\n')
    info = tls_csr.load(broken)
    assert not info.signature_valid
    assert info.same_as(*wanted(key)) == ['its signature is not valid']


def test_the_challenge_password_is_never_shown(key):
    view = info_of(key, 'challenge').view()
    assert view['challenge_password'] == '(set)' and 'challenge' not in repr(view).replace('challenge_password', '')
    assert info_of(key).view()['challenge_password'] is None


def test_tls_rsa_sizes():
    assert tls_keys.resolve_size('rsa', None) == 2048
    for size in (1024, 2040, 16392):
        with pytest.raises(InvalidInput):
            tls_keys.resolve_size('rsa', size)


def test_an_account_key_file_asking_a_huge_kdf_cost_is_refused():
    with pytest.raises(TooExpensive):
        tls_keys.load_private(pbkdf2_key(10 * 1000 * 1000), 'passphrase')


@pytest.fixture(scope='module')
def rsa_numbers():
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=1024).private_numbers()


def _fake(numbers, **changes):
    values = dict(p=numbers.p, q=numbers.q, d=numbers.d, dmp1=numbers.dmp1, dmq1=numbers.dmq1,
                  iqmp=numbers.iqmp, public_numbers=numbers.public_numbers)
    values.update(changes)
    fake = types.SimpleNamespace(**values)
    return types.SimpleNamespace(private_numbers=lambda: fake)


def test_rsa_consistency(rsa_numbers):
    tls_keys.check_rsa_consistency(_fake(rsa_numbers))
    p, q, n = rsa_numbers.p, rsa_numbers.q, rsa_numbers.public_numbers.n
    lcm = (p - 1) * (q - 1)
    big_d = rsa_numbers.d + lcm * (n // lcm + 1)   # same residues, past n
    assert big_d > n
    iqmp = rsa_numbers.iqmp + 1 if rsa_numbers.iqmp + 1 < p else rsa_numbers.iqmp - 1
    for changes in ({'d': big_d}, {'iqmp': iqmp}):
        with pytest.raises(KeyLoadError, match='inconsistent'):
            tls_keys.check_rsa_consistency(_fake(rsa_numbers, **changes))


def test_a_key_written_with_a_passphrase_is_encrypted(key):
    assert b'ENCRYPTED' in tls_keys.serialize(key, 'passphrase')
    assert b'ENCRYPTED' not in tls_keys.serialize(key)


def test_subject_fields():
    assert validate.validate_text('company', 'x' * 64, True) == 'x' * 64
    for value in ('x' * 65, 'a\nb', 'a\tb'):
        with pytest.raises(InvalidInput):
            validate.validate_text('company', value, True)


def test_challenge_password_limits_and_secrecy():
    assert validate.validate_password('p' * 255) == 'p' * 255
    with pytest.raises(InvalidInput):
        validate.validate_password('p' * 256)
    with pytest.raises(InvalidInput) as caught:
        validate.validate_password('topsecret\n')
    assert 'topsecret' not in caught.value.msg


def test_file_names_and_paths():
    assert validate.host_file_stem('*.example.com') == '_wildcard_.example.com'
    assert validate.host_from_file_stem('_wildcard_.example.com') == '*.example.com'
    with pytest.raises(InvalidInput):
        validate.validate_path('/srv/a\nb')
    assert validate.validate_path('/srv//a/') == '/srv/a'


def test_ssl_info_reports_without_secrets(account, key, other_key):
    keys = account.home + '/ssl/keys'
    csrs = account.home + '/ssl/csrs'
    import os
    os.makedirs(keys)
    os.makedirs(csrs)
    with open(keys + '/www.example.com.key', 'wb') as handle:
        handle.write(tls_keys.serialize(key))
    with open(csrs + '/www.example.com.csr', 'wb') as handle:
        handle.write(tls_csr.build(key, FIELDS, SANS, 'sha256', 'challenge'))
    with open(csrs + '/other.example.com.csr', 'wb') as handle:
        handle.write(tls_csr.build(other_key, dict(FIELDS, host='other.example.com'), SANS, 'sha256', ''))
    info = SslInfo(InfoSpec(account))
    info.plan()
    by_host = dict((entry['host'], entry) for entry in info.csrs)
    assert by_host['www.example.com']['challenge_password'] is True
    assert by_host['www.example.com']['matches_key'] and by_host['www.example.com']['key_path'].endswith('.key')
    assert by_host['other.example.com']['challenge_password'] is False
    assert not by_host['other.example.com']['matches_key'] and by_host['other.example.com']['key_path'] is None
    assert 'challenge' not in repr(info.csrs).replace('challenge_password', '')


def test_a_csr_never_takes_the_place_of_its_key(account):
    from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import CsrSpec
    options = dict(host='www.example.com', city='Houston', company='Example', country='US', province='Texas')
    with pytest.raises(InvalidInput, match='path and key_path must not be the same file'):
        CsrSpec(account, path='/srv/tls/www.key', key_path='/srv/tls/www.key', **options)
    with pytest.raises(InvalidInput, match='must not be the same file'):
        CsrSpec(account, path=account.home + '/ssl/keys/www.example.com.key', **options)
    assert CsrSpec(account, path='/srv/tls/www.csr', key_path='/srv/tls/www.key', **options).key_path == '/srv/tls/www.key'
