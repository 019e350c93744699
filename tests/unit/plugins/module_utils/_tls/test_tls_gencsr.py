# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssl_gencsr's operation against real openssl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    KeyLoadError,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import (
    OUTPUT_GENERATED,
    OUTPUT_UNCHANGED,
    CertificateSigningRequest,
    CsrSpec,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec

HOST = 'www.example.com'
SEED = dict(host=HOST, city='Houston', company='Example, Inc.', companydivision='Web Team', country='US',
            province='Texas', email='admin@example.com', password='')


def make_key(account, run_op, host=HOST, **options):
    return run_op(TlsKey(TlsKeySpec(account, host=host, **options)))[1]


def gencsr(account, **options):
    params = dict(SEED)
    params.update(options)
    return CertificateSigningRequest(CsrSpec(account, **params))


def csr_file(account, host=HOST):
    return os.path.join(account.home, 'ssl', 'csrs', host + '.csr')


def verify(openssl, path):
    rc, out, err = openssl('req', '-verify', '-noout', '-in', path)
    assert rc == 0, err
    assert 'verify OK' in out + err
    rc, text, err = openssl('req', '-text', '-noout', '-in', path)
    assert rc == 0, err
    return text


@pytest.mark.parametrize('key_type, size, sig', [
    ('rsa', None, 'sha256WithRSAEncryption'),
    ('rsa', 4096, 'sha256WithRSAEncryption'),
    ('ecdsa', 256, 'ecdsa-with-SHA256'),
    ('ecdsa', 384, 'ecdsa-with-SHA256'),
    ('ed25519', None, 'ED25519'),
])
def test_csr_for_each_key_type(account, run_op, openssl, key_type, size, sig):
    key = make_key(account, run_op, key_type=key_type, size=size)
    plan, result = run_op(gencsr(account, subject_alt_names=['example.com', 'IP:192.0.2.10']))
    assert plan.changed and result['output'] == OUTPUT_GENERATED
    path = csr_file(account)
    assert result['path'] == path and result['key_path'] == key['path']
    text = verify(openssl, path)
    assert ('Subject: C = US, ST = Texas, L = Houston, O = "Example, Inc.", OU = Web Team, '
            'CN = www.example.com, emailAddress = admin@example.com') in text
    assert 'DNS:www.example.com, DNS:example.com, IP Address:192.0.2.10' in text
    assert 'Signature Algorithm: %s' % sig in text
    assert result['key_fingerprint'] == key['fingerprint']
    assert result['subject'] == {'C': 'US', 'ST': 'Texas', 'L': 'Houston', 'O': 'Example, Inc.', 'OU': 'Web Team',
                                 'CN': HOST, 'emailAddress': 'admin@example.com'}
    assert result['subject_alt_names'] == ['DNS:www.example.com', 'DNS:example.com', 'IP:192.0.2.10']
    assert result['digest'] == (None if key_type == 'ed25519' else 'sha256')
    with open(path) as handle:
        assert result['csr'] == handle.read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    # rerun: unchanged, same file
    before = os.stat(path).st_mtime_ns
    plan, again = run_op(gencsr(account, subject_alt_names=['example.com', 'IP:192.0.2.10']))
    assert not plan.changed and again['output'] == OUTPUT_UNCHANGED and again['csr'] == result['csr']
    assert os.stat(path).st_mtime_ns == before


def test_minimal_seed_subject(account, run_op, openssl):
    make_key(account, run_op)
    _plan, result = run_op(gencsr(account, companydivision='', email=''))
    text = verify(openssl, result['path'])
    assert 'Subject: C = US, ST = Texas, L = Houston, O = "Example, Inc.", CN = www.example.com\n' in text
    assert 'challengePassword' not in text


def test_challenge_password(account, run_op, openssl):
    make_key(account, run_op)
    plan, result = run_op(gencsr(account, password='open sesame'))
    text = verify(openssl, result['path'])
    assert 'challengePassword' in text and 'open sesame' in text
    assert 'open sesame' not in repr(result) and 'open sesame' not in repr(plan.diff())
    assert stat.S_IMODE(os.stat(result['path']).st_mode) == 0o600
    assert not run_op(gencsr(account, password='open sesame'))[0].changed
    plan, _result = run_op(gencsr(account, password='another one'))
    assert plan.changed and 'challengePassword' in plan.describe()[0]
    assert 'another one' not in repr(plan.describe())
    plan, _result = run_op(gencsr(account))
    assert plan.changed
    assert stat.S_IMODE(os.stat(result['path']).st_mode) == 0o644


@pytest.mark.parametrize('change, what', [
    (dict(city='Dallas'), 'subject'),
    (dict(province='Oklahoma'), 'subject'),
    (dict(company='Other'), 'subject'),
    (dict(companydivision=''), 'subject'),
    (dict(country='CA'), 'subject'),
    (dict(email='other@example.com'), 'subject'),
    (dict(subject_alt_names=['mail.example.com']), 'subjectAltName'),
    (dict(digest='sha384'), 'digest'),
])
def test_any_difference_regenerates(account, run_op, openssl, change, what):
    make_key(account, run_op)
    run_op(gencsr(account))
    plan, result = run_op(gencsr(account, **change), check_mode=True)
    assert plan.changed and what in plan.describe()[0]
    assert result['output'] != OUTPUT_GENERATED
    diff = plan.diff()
    assert diff['before'] != diff['after']
    plan, result = run_op(gencsr(account, **change))
    assert plan.changed and result['output'] == OUTPUT_GENERATED
    verify(openssl, result['path'])
    assert not run_op(gencsr(account, **change))[0].changed


def test_new_key_regenerates_csr(account, run_op):
    make_key(account, run_op)
    run_op(gencsr(account))
    make_key(account, run_op, key_type='ecdsa')
    plan, result = run_op(gencsr(account))
    assert plan.changed and 'key' in plan.describe()[0] and result['key_type'] == 'ecdsa'


def test_diff_shows_subject_and_sans(account, run_op):
    make_key(account, run_op)
    plan, _result = run_op(gencsr(account), check_mode=True)
    diff = plan.diff()
    assert diff['before'] == ''
    assert 'subject: C = US, ST = Texas' in diff['after'] and '  - DNS:www.example.com' in diff['after']
    run_op(gencsr(account))
    plan, _result = run_op(gencsr(account, subject_alt_names=['example.com']))
    diff = plan.diff()
    assert 'DNS:example.com' not in diff['before'] and '  - DNS:example.com' in diff['after']


def test_check_mode_writes_nothing(account, run_op, snapshot, tmp_path):
    make_key(account, run_op)
    before = snapshot(tmp_path / 'home')
    plan, result = run_op(gencsr(account), check_mode=True)
    assert plan.changed and 'csr' not in result and result['key_fingerprint']
    assert snapshot(tmp_path / 'home') == before


def test_missing_key_fails_clearly_and_writes_nothing(account, run_op, snapshot, tmp_path):
    with pytest.raises(NotFound) as info:
        run_op(gencsr(account))
    msg = info.value.msg
    assert 'You must install a key for the host' in msg and 'keysmith.accounts.ssl_genkey' in msg
    assert HOST in msg
    assert snapshot(tmp_path / 'home') is None


def test_missing_key_in_check_mode_warns(account, run_op):
    plan, result = run_op(gencsr(account), check_mode=True)
    assert plan.changed and 'install a key' in plan.warnings[0]
    assert 'csr' not in result


@pytest.mark.parametrize('change, message', [
    (dict(country='USA'), 'exactly two letters'),
    (dict(country='United States'), 'not the full name'),
    (dict(province='TX'), 'not an abbreviation'),
    (dict(host='not a host'), 'valid domain or subdomain'),
    (dict(host='192.0.2.1'), 'not an IP address'),
    (dict(city=''), 'city is required'),
    (dict(company=' '), 'company is required'),
    (dict(email='nope'), 'e-mail address'),
    (dict(subject_alt_names=['bad_name']), 'valid domain'),
    (dict(digest='md5'), 'digest must be one of'),
])
def test_bad_inputs_fail_and_write_nothing(account, run_op, snapshot, tmp_path, change, message):
    make_key(account, run_op)
    before = snapshot(tmp_path / 'home')
    with pytest.raises(InvalidInput, match=message):
        run_op(gencsr(account, **change))
    assert snapshot(tmp_path / 'home') == before


def test_encrypted_key_needs_key_passphrase(account, run_op, openssl):
    make_key(account, run_op, passphrase='key pass')
    with pytest.raises(KeyLoadError, match='key_passphrase'):
        run_op(gencsr(account))
    _plan, result = run_op(gencsr(account, key_passphrase='key pass'))
    verify(openssl, result['path'])


def test_key_path_and_path_overrides(account, run_op, openssl, tmp_path):
    other = make_key(account, run_op, host='other.example.com')
    out = tmp_path / 'out'
    out.mkdir()
    _plan, result = run_op(gencsr(account, key_path=other['path'], path=str(out / 'x.csr')))
    assert result['path'] == str(out / 'x.csr') and result['key_fingerprint'] == other['fingerprint']
    verify(openssl, result['path'])


def test_unreadable_csr_is_replaced(account, run_op, openssl):
    make_key(account, run_op)
    run_op(gencsr(account))
    with open(csr_file(account), 'w') as handle:
        handle.write('not a csr\n')
    plan, result = run_op(gencsr(account))
    assert plan.changed and plan.describe()[0].startswith('regenerate')
    verify(openssl, result['path'])


def test_wildcard_host(account, run_op, openssl):
    make_key(account, run_op, host='*.example.com')
    _plan, result = run_op(gencsr(account, host='*.example.com'))
    assert result['path'] == csr_file(account, '_wildcard_.example.com')
    assert 'CN = *.example.com' in verify(openssl, result['path'])


def test_symlinked_csr_dir_is_refused(account, run_op, tmp_path):
    make_key(account, run_op)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    os.symlink(str(elsewhere), os.path.join(account.home, 'ssl', 'csrs'))
    with pytest.raises(UnsafePath, match='symbolic link'):
        run_op(gencsr(account))
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize('state, message', [
    # cPanel's name for the province: the error names the province option
    ('Texas', r"state must be present or absent, got 'Texas'\. .*province option.*use province: Texas"),
    ('New South Wales', 'use province: New South Wales'),
    ('presnt', r'did you mean present\?'),
    ('Absent ', r'did you mean absent\?'),
    ('', 'state must be present or absent'),
])
def test_state_is_present_or_absent(account, state, message):
    with pytest.raises(InvalidInput, match=message):
        gencsr(account, state=state)


def test_state_present_is_not_a_province(account, run_op, openssl):
    # Before 1.0, state=present wrote a CSR with ST = present.
    make_key(account, run_op)
    plan, result = run_op(gencsr(account, state='present'))
    assert result['subject']['ST'] == 'Texas'
    assert 'ST = present' not in verify(openssl, result['path'])


def test_absent_removes_the_csr_only(account, run_op, snapshot, tmp_path):
    make_key(account, run_op)
    run_op(gencsr(account))
    absent = dict(host=HOST, state='absent')
    before = snapshot(tmp_path / 'home')
    plan, result = run_op(CertificateSigningRequest(CsrSpec(account, **absent)), check_mode=True)
    assert plan.changed and plan.describe() == ['remove %s' % csr_file(account)]
    assert 'would be removed' in result['output']
    assert snapshot(tmp_path / 'home') == before
    plan, result = run_op(CertificateSigningRequest(CsrSpec(account, **absent)))
    assert plan.changed and result['output'] == 'Certificate Signing Request removed.'
    assert result['state'] == 'absent' and 'key_path' not in result
    assert not os.path.exists(csr_file(account))
    assert os.path.exists(os.path.join(account.home, 'ssl', 'keys', HOST + '.key'))
    plan, result = run_op(CertificateSigningRequest(CsrSpec(account, **absent)))
    assert not plan.changed and result['output'] == 'No Certificate Signing Request to remove.'


def test_absent_needs_only_the_host(account, run_op):
    # No subject, no key, no cryptography needed to remove a CSR that is not there.
    plan, _result = run_op(CertificateSigningRequest(CsrSpec(account, HOST, state='absent')))
    assert not plan.changed
