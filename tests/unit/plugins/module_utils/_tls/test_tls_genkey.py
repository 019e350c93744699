# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import Conflict, InvalidInput, KeyLoadError
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec


def genkey(account, **options):
    options.setdefault('host', 'www.example.com')
    return TlsKey(TlsKeySpec(account, **options))


def key_file(account, host='www.example.com'):
    return os.path.join(account.home, 'ssl', 'keys', host + '.key')


@pytest.mark.parametrize('key_type, size, text', [
    ('rsa', None, 'Private-Key: (2048 bit'),
    ('rsa', 4096, 'Private-Key: (4096 bit'),
    ('ecdsa', None, 'NIST CURVE: P-256'),
    ('ecdsa', 384, 'NIST CURVE: P-384'),
    ('ed25519', None, 'ED25519'),
])
def test_generate_each_type(account, run_op, openssl, key_type, size, text):
    plan, result = run_op(genkey(account, key_type=key_type, size=size))
    path = key_file(account)
    assert plan.changed and result['path'] == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert os.stat(path).st_uid == os.geteuid()
    rc, out, _err = openssl('pkey', '-in', path, '-noout', '-text')
    assert rc == 0 and any(t in out for t in text.split('|'))
    assert result['type'] == key_type and result['size'] == (size or (2048 if key_type == 'rsa' else 256))
    assert 'PRIVATE' not in repr(result)
    # openssl agrees on the fingerprint: SHA-256 of the DER public key
    rc, der, _err = openssl('pkey', '-in', path, '-pubout', '-outform', 'PEM')
    assert rc == 0 and der == result['public_key']
    # rerun: unchanged
    plan, again = run_op(genkey(account, key_type=key_type, size=size))
    assert not plan.changed and again['fingerprint'] == result['fingerprint']


def test_passphrase_and_wrong_passphrase(account, run_op, openssl):
    _plan, result = run_op(genkey(account, passphrase='correct horse'))
    path = key_file(account)
    assert result['encrypted'] is True
    with open(path, 'rb') as handle:
        assert b'ENCRYPTED' in handle.read()
    rc, _out, _err = openssl('pkey', '-in', path, '-passin', 'pass:correct horse', '-noout')
    assert rc == 0
    plan, _result = run_op(genkey(account, passphrase='correct horse'))
    assert not plan.changed
    with pytest.raises(Conflict, match='passphrase does not open'):
        run_op(genkey(account, passphrase='wrong one'))
    with pytest.raises(Conflict, match='none was given'):
        run_op(genkey(account))
    plan, _result = run_op(genkey(account, passphrase='wrong one', regenerate='full_idempotence'))
    assert plan.changed


def test_drift_and_regenerate_choices(account, run_op):
    _plan, first = run_op(genkey(account))
    with pytest.raises(Conflict, match='size is 2048, not 4096'):
        run_op(genkey(account, size=4096, regenerate='fail'))
    plan, kept = run_op(genkey(account, size=4096, regenerate='never'))
    assert not plan.changed and kept['fingerprint'] == first['fingerprint']
    assert 'regenerate is never: keeping it' in plan.warnings[0]
    plan, _result = run_op(genkey(account, key_type='ecdsa'))
    assert plan.changed and 'type is rsa, not ecdsa' in plan.describe()[0]
    with pytest.raises(Conflict, match='not protected by a passphrase'):
        run_op(genkey(account, key_type='ecdsa', passphrase='abcd'))
    plan, _result = run_op(genkey(account, key_type='ecdsa', regenerate='always'))
    assert plan.changed


def test_broken_key_needs_full_idempotence(account, run_op):
    run_op(genkey(account))
    with open(key_file(account), 'wb') as handle:
        handle.write(b'garbage\n')
    with pytest.raises(Conflict, match='cannot be read'):
        run_op(genkey(account))
    plan, result = run_op(genkey(account, regenerate='full_idempotence'))
    assert plan.changed and result['type'] == 'rsa'


def test_mode_is_fixed_without_regeneration(account, run_op):
    _plan, first = run_op(genkey(account))
    os.chmod(key_file(account), 0o644)
    plan, again = run_op(genkey(account))
    assert plan.describe() == ['set mode and owner of %s (0600)' % key_file(account)]
    assert again['fingerprint'] == first['fingerprint']
    assert stat.S_IMODE(os.stat(key_file(account)).st_mode) == 0o600


def test_check_mode_writes_nothing(account, run_op, snapshot, tmp_path):
    plan, result = run_op(genkey(account), check_mode=True)
    assert plan.changed and 'type' not in result
    assert plan.describe()[-1].startswith('generate ')
    assert snapshot(tmp_path / 'home') is None


def test_absent(account, run_op):
    run_op(genkey(account))
    plan, _result = run_op(genkey(account, state='absent'), check_mode=True)
    assert plan.changed and os.path.exists(key_file(account))
    plan, _result = run_op(genkey(account, state='absent'))
    assert plan.changed and not os.path.exists(key_file(account))
    plan, _result = run_op(genkey(account, state='absent'))
    assert not plan.changed


def test_wildcard_and_path(account, run_op, tmp_path):
    _plan, result = run_op(genkey(account, host='*.example.com'))
    assert result['path'] == key_file(account, '_wildcard_.example.com')
    target = tmp_path / 'elsewhere'
    target.mkdir()
    _plan, result = run_op(genkey(account, host=None, path=str(target / 'my.key'), key_type='ed25519'))
    assert result['path'] == str(target / 'my.key') and (target / 'my.key').exists()


@pytest.mark.parametrize('options, message', [
    (dict(size=1024), 'between 2048 and 16384'),
    (dict(key_type='ecdsa', size=521), '256 \\(P-256\\) or 384'),
    (dict(key_type='ed25519', size=4096), 'fixed size'),
    (dict(key_type='dsa'), 'type must be one of'),
    (dict(passphrase='abc'), '4 characters'),
    (dict(host='bad_host'), 'valid domain'),
    (dict(host=None), 'one of host and path'),
    (dict(host=None, path='relative.key'), 'absolute'),
])
def test_bad_options(account, options, message, tmp_path):
    with pytest.raises(InvalidInput, match=message):
        genkey(account, **options)
    assert not (tmp_path / 'home').exists()


def test_load_private_reads_traditional_pem(tmp_path, openssl):
    path = str(tmp_path / 'trad.key')
    rc, _out, _err = openssl('genrsa', '-traditional', '-out', path, '2048')
    assert rc == 0
    with open(path, 'rb') as handle:
        key, encrypted = tls_keys.load_private(handle.read())
    assert tls_keys.describe(key) == ('rsa', 2048) and not encrypted


def test_load_private_refuses_an_inconsistent_rsa_key(tmp_path, openssl):
    # OpenSSL's own RSA check is skipped (cryptography >= 39); the arithmetic
    # consistency check must still refuse a key whose CRT values do not match.
    from cryptography.hazmat.primitives.asymmetric import rsa
    good = tls_keys.generate('rsa', 2048)
    key, _encrypted = tls_keys.load_private(tls_keys.serialize(good), None, 'good.key')
    assert tls_keys.public_der(key) == tls_keys.public_der(good)
    numbers = good.private_numbers()
    bad = rsa.RSAPrivateNumbers(p=numbers.p, q=numbers.q, d=numbers.d, dmp1=numbers.dmp1 ^ 2,
                                dmq1=numbers.dmq1, iqmp=numbers.iqmp, public_numbers=numbers.public_numbers)
    bad_key = bad.private_key(unsafe_skip_rsa_key_validation=True)
    with pytest.raises(KeyLoadError, match='inconsistent'):
        tls_keys.load_private(tls_keys.serialize(bad_key), None, 'bad.key')
