# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_cert: the certificate model against ssh-keygen, both signing backends,
idempotence, renewal, check mode and diff, through the real run_operation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import FOREVER, Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.operation import SshCert
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CaSpec, CertRequest, merged_items
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.validity import Validity, convtime, parse_bound
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules as rules
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

NOW = 1800000000
BACKENDS = ('cryptography', 'ssh-keygen')


def keygen(path, key_type='ed25519', comment='', passphrase=''):
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', passphrase, '-C', comment, '-f', str(path)]
    if key_type == 'rsa':
        args[4:4] = ['-b', '2048']
    subprocess.run(args, check=True)
    return (path.parent / (path.name + '.pub')).read_text().strip()


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    """The CA and user keys, made once for the module."""
    directory = tmp_path_factory.mktemp('keys')
    for ca_type in ('ed25519', 'rsa', 'ecdsa'):
        keygen(directory / ('ca_' + ca_type), ca_type)
    alice = keygen(directory / 'alice', 'ed25519', 'alice@example.com')
    return directory, alice, keygen(directory / 'bob', 'rsa', 'bob@example.com')


@pytest.fixture
def pki(tmp_path, keys):
    directory, alice, bob = keys
    for name in os.listdir(str(directory)):
        shutil.copy2(str(directory / name), str(tmp_path / name))
    (tmp_path / 'out').mkdir()
    return {'dir': tmp_path, 'alice': alice, 'bob': bob}


def sign(pki, backend='cryptography', ca='ed25519', check=False, now=NOW, items=None, passphrase=None,
         **options):
    params = dict(state=None, type=None, public_key=pki['alice'], public_key_path=None,
                  path=str(pki['dir'] / 'out' / 'alice-cert.pub'), owner=None, group=None, mode=None,
                  principals=['alice'], key_id='alice', valid_from='always', valid_to='forever', renew_before=None,
                  serial=None, critical_options=None, extensions=None, certificates=items)
    params.update(options)
    ca_spec = CaSpec(str(pki['dir'] / ('ca_' + ca)), passphrase, None, backend)
    requests = [CertRequest(item, index) for index, item in enumerate(merged_items(params))]
    return run_op(SshCert(ca_spec, requests, now=now, single=items is None), check_mode=check)


def keygen_list(path):
    out = subprocess.run(['ssh-keygen', '-L', '-f', str(path)], capture_output=True, text=True, check=True)
    return out.stdout


# ------------------------------------------------------------------ validity

def test_convtime_as_openssh():
    assert convtime('90') == 90
    assert convtime('1h30m') == 5400
    assert convtime('2d') == 172800
    assert convtime('52w') == 52 * 604800
    assert convtime('1W1D') == 8 * 86400
    for bad in ('', 'x', '1x', '1s2s', '-1', '1.5h', '1 h'):
        assert convtime(bad) is None, bad


def test_bounds():
    assert parse_bound('always', 'valid_from').absolute == 0
    assert parse_bound('forever', 'valid_to', end=True).absolute == FOREVER
    assert parse_bound('+52w', 'valid_to', end=True).at(NOW) == NOW + 52 * 604800
    assert parse_bound('-1d', 'valid_from').at(NOW) == NOW - 86400
    assert parse_bound('20300101Z', 'valid_to', end=True).absolute == 1893456000
    assert parse_bound('0x10', 'valid_from').absolute == 16
    assert parse_bound(1893456000, 'valid_to', end=True).absolute == 1893456000
    for bad in ('forever', 'tomorrow', '+1x', '0xZZ', '2030-01-01'):
        with pytest.raises(InvalidInput):
            parse_bound(bad, 'valid_from')
    with pytest.raises(InvalidInput):
        Validity('20300101Z', '20290101Z')
    with pytest.raises(InvalidInput, match='renew_before'):
        Validity('always', '+1d', '2d')


# ------------------------------------------------------------- certificates

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('ca', ('ed25519', 'rsa', 'ecdsa'))
def test_signed_certificate_is_what_ssh_keygen_reads(pki, backend, ca):
    """The blob round-trips, ssh-keygen -L shows every field, the sshd port verifies the signature."""
    options = {'force-command': 'echo hi', 'source-address': ['127.0.0.1/32', '10.0.0.0/8'], 'verify-required': True}
    dummy, result = sign(pki, backend, ca, principals=['alice', 'admin'], key_id='alice@example.com', serial=77,
                         valid_from='20260101Z', valid_to='20270101Z', critical_options=options,
                         extensions=['permit-pty', 'x@example.com'])
    assert result['changed'] and result['action'] == 'sign'
    path = pki['dir'] / 'out' / 'alice-cert.pub'
    line = path.read_text().strip()
    cert = Certificate.from_line(line)
    assert cert.to_line() == line
    rules.key_from_blob(cert.blob())
    shown = keygen_list(path)
    assert 'Key ID: "alice@example.com"' in shown
    assert 'Serial: 77' in shown
    assert 'alice\n' in shown and 'admin\n' in shown
    assert 'force-command echo hi' in shown and 'source-address 127.0.0.1/32,10.0.0.0/8' in shown
    assert 'verify-required' in shown and 'permit-pty' in shown and 'permit-X11' not in shown
    assert 'using %s' % ('rsa-sha2-512' if ca == 'rsa' else cert.ca_key.key_type) in shown
    assert result['serial'] == 77 and result['principals'] == ['alice', 'admin']
    assert result['valid_from'] == '2026-01-01T00:00:00Z' and result['valid_to'] == '2027-01-01T00:00:00Z'
    assert line.endswith(' alice@example.com')
    # a signature changed by one bit: the sshd port refuses it
    broken = bytearray(cert.blob())
    broken[-3] ^= 1
    with pytest.raises(rules.BlobError):
        rules.key_from_blob(bytes(broken))


def test_ssh_keygen_verifies_the_signature(pki, tmp_path):
    """ssh-keygen checks a certificate's signature when it uses it: a KRL
    query with it as the certificate loads it (sshkey_load_public + cert check)."""
    sign(pki, 'cryptography', 'rsa')
    cert_path = pki['dir'] / 'out' / 'alice-cert.pub'
    krl = tmp_path / 'krl'
    subprocess.run(['ssh-keygen', '-k', '-f', str(krl), '-s', str(pki['dir'] / 'ca_rsa.pub'), '-z', '5'],
                   check=True, capture_output=True)
    checked = subprocess.run(['ssh-keygen', '-Q', '-f', str(krl), str(cert_path)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize('backend', BACKENDS)
def test_rerun_signs_nothing_and_check_mode_predicts(pki, backend):
    plan, check = sign(pki, backend, check=True, valid_from='-5m', valid_to='+52w', renew_before='4w')
    plan, first = sign(pki, backend, valid_from='-5m', valid_to='+52w', renew_before='4w')
    assert check['changed'] and first['changed']
    assert check['actions'][0].split(' (')[0] == first['actions'][0].split(' (')[0]
    assert check['certificate'] is None and first['certificate']
    # an hour, then 40 weeks later: same request, nothing signed
    for later in (NOW + 3600, NOW + 40 * 604800):
        plan, again = sign(pki, backend, now=later, valid_from='-5m', valid_to='+52w', renew_before='4w')
        assert not again['changed'] and again['actions'] == [], again['reasons']
        assert again['certificate'] == first['certificate']
    # 49 weeks later less than 4 weeks are left: renewed, check mode says so first
    later = NOW + 49 * 604800
    plan, check = sign(pki, backend, now=later, check=True, valid_from='-5m', valid_to='+52w', renew_before='4w')
    plan, renewed = sign(pki, backend, now=later, valid_from='-5m', valid_to='+52w', renew_before='4w')
    assert check['action'] == renewed['action'] == 'renew'
    assert renewed['valid_to'] != first['valid_to'] and renewed['serial'] != first['serial']
    plan, again = sign(pki, backend, now=later + 60, valid_from='-5m', valid_to='+52w', renew_before='4w')
    assert not again['changed']


def test_a_clock_stepped_back_does_not_re_sign(pki):
    sign(pki, valid_to='+1d')
    dummy, result = sign(pki, now=NOW - 120, valid_to='+1d')
    assert not result['changed']
    dummy, result = sign(pki, now=NOW - 120, valid_to='+12h')
    assert result['reasons'] == ['it is valid for longer than valid_to +12h']


def test_expired_certificate_with_relative_bound_is_signed_again(pki):
    sign(pki, valid_to='+1d')
    dummy, later = sign(pki, now=NOW + 2 * 86400, valid_to='+1d')
    assert later['action'] == 're-sign' and later['reasons'] == ['it has expired']


def test_absolute_bound_never_loops(pki):
    sign(pki, valid_to='20300101Z', renew_before='52w')
    dummy, again = sign(pki, now=1893456000 - 86400, valid_to='20300101Z', renew_before='52w')
    assert not again['changed']


@pytest.mark.parametrize('change, reason', [
    ({'principals': ['alice', 'root']}, 'principals differ'),
    ({'key_id': 'other'}, 'key id differs'),
    ({'type': 'host', 'extensions': []}, 'it is a user certificate'),
    ({'critical_options': {'force-command': 'true'}}, 'critical options differ'),
    ({'extensions': ['permit-pty']}, 'extensions differ'),
    ({'serial': 5}, 'serial differs'),
    ({'valid_to': '20300101Z'}, 'valid_to differs'),
    ({'valid_from': '20200101Z'}, 'valid_from differs'),
    ({'valid_to': '+52w'}, 'it is valid for longer than valid_to +52w'),
])
def test_each_difference_re_signs(pki, change, reason):
    sign(pki)
    dummy, result = sign(pki, **change)
    assert result['action'] == 're-sign' and reason in result['reasons'], result['reasons']
    dummy, again = sign(pki, **change)
    assert not again['changed']


def test_fewer_principals_re_signs(pki):
    """A certificate naming more principals than asked (root) is no certificate to keep."""
    sign(pki, principals=['alice', 'root'])
    dummy, result = sign(pki, principals=['alice'])
    assert result['action'] == 're-sign' and result['reasons'] == ['principals differ']
    assert result['principals'] == ['alice']


def test_principals_order_and_another_key_or_ca(pki):
    sign(pki, principals=['a', 'b'])
    dummy, same = sign(pki, principals=['b', 'a'])
    assert not same['changed']
    dummy, other_key = sign(pki, principals=['b', 'a'], public_key=pki['bob'])
    assert other_key['reasons'] == ['it certifies another key']
    dummy, other_ca = sign(pki, ca='ecdsa', principals=['b', 'a'], public_key=pki['bob'])
    assert other_ca['reasons'] == ['another CA signed it', 'signature algorithm ssh-ed25519, not ecdsa-sha2-nistp256']


def test_tampered_certificate_is_re_signed(pki):
    sign(pki)
    path = pki['dir'] / 'out' / 'alice-cert.pub'
    cert = Certificate.from_line(path.read_text())
    cert.key_id = 'alice'  # same fields, a changed principal list under the old signature
    cert.principals = ['alice', 'root']
    path.write_text(cert.to_line() + '\n')
    dummy, result = sign(pki, principals=['alice', 'root'])
    assert result['action'] == 're-sign' and 'bad certificate signature' in result['reasons'][0]
    path.write_text('garbage\n')
    dummy, result = sign(pki)
    assert result['reasons'][0].startswith('the file holds no valid certificate')


def test_diff_shows_before_and_after(pki):
    sign(pki, principals=['alice'])
    plan, result = sign(pki, principals=['alice', 'ops'])
    diff = result['diff']
    assert 'principals:\n    - alice\n' in diff['before'] and '- ops' not in diff['before']
    assert '- ops' in diff['after'] and 'ca_fingerprint' in diff['after']
    assert 'PRIVATE' not in repr(result)


@pytest.mark.parametrize('backend', BACKENDS)
def test_many_certificates_in_one_call(pki, backend):
    items = [{'path': str(pki['dir'] / 'out' / ('u%d-cert.pub' % n)), 'key_id': 'u%d' % n,
              'principals': ['u%d' % n]} for n in range(5)]
    items[4]['public_key'] = pki['bob']
    items[4]['type'] = 'host'
    items[4]['extensions'] = []
    dummy, result = sign(pki, backend, items=items, valid_to='+1d')
    assert [item['action'] for item in result['certificates']] == ['sign'] * 5
    assert result['certificates'][4]['type'] == 'host'
    assert len(set(item['serial'] for item in result['certificates'])) == 5
    dummy, again = sign(pki, backend, items=items, valid_to='+1d', now=NOW + 60)
    assert not again['changed'] and again['msg'] == '0 of 5 certificates changed.'
    items[2]['principals'] = ['u2', 'extra']
    dummy, one = sign(pki, backend, items=items, valid_to='+1d', now=NOW + 120)
    assert [item['changed'] for item in one['certificates']] == [False, False, True, False, False]


def test_encrypted_ca_key_with_both_backends(pki, tmp_path):
    keygen(tmp_path / 'ca_secret', 'ed25519', passphrase='correct horse')
    for backend in BACKENDS:
        out = tmp_path / 'out' / ('%s-cert.pub' % backend)
        dummy, result = sign(pki, backend, ca='secret', passphrase='correct horse', path=str(out))
        assert result['changed']
        keygen_list(out)
        assert 'correct horse' not in repr(result)


def test_state_absent_and_file_mode(pki):
    sign(pki, mode='0640')
    path = pki['dir'] / 'out' / 'alice-cert.pub'
    assert oct(os.stat(str(path)).st_mode & 0o777) == '0o640'
    dummy, same = sign(pki, mode='0600')
    assert same['action'] == 'set attributes' and oct(os.stat(str(path)).st_mode & 0o777) == '0o600'
    dummy, gone = sign(pki, state='absent')
    assert gone['changed'] and not path.exists()
    dummy, again = sign(pki, state='absent')
    assert not again['changed']


def test_bad_requests(pki):
    with pytest.raises(InvalidInput, match='principals is required'):
        sign(pki, principals=None)
    with pytest.raises(InvalidInput, match='key_id'):
        sign(pki, key_id=None)
    with pytest.raises(InvalidInput, match='source-address'):
        sign(pki, critical_options={'source-address': 'example.com'})
    with pytest.raises(InvalidInput, match='unknown extension'):
        sign(pki, extensions=['permit-everything'])
    with pytest.raises(InvalidInput, match='host certificates have no'):
        sign(pki, type='host', critical_options={'force-command': 'x'})
    with pytest.raises(InvalidInput, match='certificate'):
        dummy, result = sign(pki)
        sign(pki, public_key=result['certificate'], path=str(pki['dir'] / 'out' / 'x'))
    with pytest.raises(InvalidInput, match='rsa-sha2-512'):
        requests = [CertRequest(merged_items(dict(path='/tmp/x', key_id='a', principals=['a'],
                                                  public_key=pki['alice']))[0])]
        run_op(SshCert(CaSpec(str(pki['dir'] / 'ca_rsa'), None, 'rsa-sha3', 'auto'), requests))


def test_check_mode_before_the_ca_key_and_directory_exist(pki):
    """Check mode of a play whose earlier tasks make the CA key, the public key
    file and the directory: the plan signs, with warnings; a real run fails."""
    missing = pki['dir'] / 'later'
    params = dict(path=str(missing / 'alice-cert.pub'), public_key_path=str(missing / 'alice.pub'), key_id='a',
                  principals=['alice'])
    request = [CertRequest(merged_items(params)[0])]
    dummy, check = run_op(SshCert(CaSpec(str(missing / 'ca')), request, now=NOW, single=True),
                          check_mode=True)
    assert check['changed'] and check['action'] == 'sign' and check['fingerprint'] is None
    assert any('the CA key' in text and 'check mode assumes' in text for text in check['warnings'])
    assert any('the public key' in text for text in check['warnings'])
    with pytest.raises(Exception, match='the CA key .* does not exist'):
        run_op(SshCert(CaSpec(str(missing / 'ca')), request, now=NOW))
