# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_cert with the CA key in a PKCS#11 token (``ca_pkcs11_provider``):
a SoftHSM token made here (softhsm2, installed by tests/scripts/run-tests.sh
deps), RSA and ECDSA CA keys imported into it; certificates signed by
``ssh-keygen -D``, read back by ``ssh-keygen -L``; idempotence and check mode;
a wrong PIN, a key not in the token and an untrusted provider library fail
clearly and write nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeysmithError,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.operation import SshCert
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CaSpec, CertRequest, merged_items
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

NOW = 1800000000
PROVIDER = '/usr/lib/softhsm/libsofthsm2.so'     # on Debian a link to the library, which is followed
PIN = '4321'


@pytest.fixture(scope='module')
def token(tmp_path_factory):
    """A SoftHSM token holding an RSA and an ECDSA CA key; SOFTHSM2_CONF names it."""
    directory = tmp_path_factory.mktemp('softhsm')
    (directory / 'tokens').mkdir()
    conf = directory / 'softhsm2.conf'
    conf.write_text('directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n'
                    % (directory / 'tokens'))
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    subprocess.run(['softhsm2-util', '--init-token', '--free', '--label', 'kc3ca', '--pin', PIN, '--so-pin', '87654321'],
                   check=True, capture_output=True, env=env)
    for index, (name, args) in enumerate((('ca_rsa', ['-t', 'rsa', '-b', '2048']), ('ca_ecdsa', ['-t', 'ecdsa']),
                                          ('other_ca', ['-t', 'rsa', '-b', '2048']))):
        subprocess.run(['ssh-keygen', '-q'] + args + ['-m', 'PKCS8', '-N', '', '-C', '', '-f', str(directory / name)],
                       check=True)
        if name != 'other_ca':
            subprocess.run(['softhsm2-util', '--import', str(directory / name), '--token', 'kc3ca', '--label', name,
                            '--id', '%02x' % (index + 1), '--pin', PIN], check=True, capture_output=True, env=env)
        os.unlink(str(directory / name))     # the private key is only in the token now
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', str(directory / 'alice')],
                   check=True)
    return directory, str(conf)


@pytest.fixture
def out(tmp_path, token, monkeypatch):
    monkeypatch.setenv('SOFTHSM2_CONF', token[1])
    (tmp_path / 'out').mkdir()
    return tmp_path / 'out'


def sign(token, out, ca='ca_rsa', pin=PIN, provider=PROVIDER, backend='auto', check=False, count=1, now=NOW):
    directory = token[0]
    alice = (directory / 'alice.pub').read_text().strip()
    items = [dict(public_key=alice, path=str(out / ('a%d-cert.pub' % index)), key_id='alice%d' % index,
                  principals=['alice']) for index in range(count)]
    params = dict(state=None, type=None, public_key=None, public_key_path=None, path=None, owner=None, group=None,
                  mode=None, principals=None, key_id=None, valid_from='always', valid_to='+52w', renew_before='4w',
                  serial=None, critical_options=None, extensions=None, certificates=items)
    ca_spec = CaSpec(None, None, None, backend, public_key=str(directory / (ca + '.pub')), pkcs11_provider=provider,
                     pkcs11_pin=pin)
    requests = [CertRequest(item, index) for index, item in enumerate(merged_items(params))]
    return run_op(SshCert(ca_spec, requests, now=now), check_mode=check)


def keygen_list(path):
    return subprocess.run(['ssh-keygen', '-L', '-f', str(path)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize('ca, algorithm', [('ca_rsa', 'rsa-sha2-512'), ('ca_ecdsa', 'ecdsa-sha2-nistp256')])
def test_certificates_signed_in_the_token(token, out, ca, algorithm):
    dummy, check = sign(token, out, ca, check=True, count=2)
    assert check['changed'] and os.listdir(str(out)) == []
    dummy, result = sign(token, out, ca, count=2)
    assert [item['action'] for item in result['certificates']] == ['sign', 'sign']
    for index in range(2):
        shown = keygen_list(out / ('a%d-cert.pub' % index))
        assert 'Key ID: "alice%d"' % index in shown and '(using %s)' % algorithm in shown
    assert result['ca_fingerprint'] in shown
    dummy, again = sign(token, out, ca, count=2, now=NOW + 3600)
    assert not again['changed']


def test_wrong_pin_writes_nothing(token, out):
    with pytest.raises(KeysmithError, match='ssh-keygen failed'):
        sign(token, out, pin='0000')
    assert os.listdir(str(out)) == []


def test_key_not_in_token_fails_while_planning(token, out):
    with pytest.raises(NotFound, match='is not among the 2 keys the PKCS#11 provider'):
        sign(token, out, 'other_ca', check=True)
    assert os.listdir(str(out)) == []


def test_only_ssh_keygen_loads_a_provider(token, out):
    with pytest.raises(BackendUnavailable, match='cannot use a PKCS#11 token'):
        sign(token, out, backend='cryptography')


def test_a_provider_others_can_change_is_not_loaded(token, out, tmp_path):
    copy = tmp_path / 'lib' / 'libsofthsm2.so'
    copy.parent.mkdir()
    shutil.copy(PROVIDER, str(copy))
    os.chmod(str(copy), 0o666)
    with pytest.raises(UnsafePath, match='can be changed by another user'):
        sign(token, out, provider=str(copy))
    os.chmod(str(copy), 0o644)
    os.chown(str(copy), 65534, -1)
    with pytest.raises(UnsafePath, match='owner uid 65534'):
        sign(token, out, provider=str(copy))
    # a link root made in root's directory is followed, and its target checked
    link = tmp_path / 'lib' / 'link.so'
    os.symlink('libsofthsm2.so', str(link))
    with pytest.raises(UnsafePath, match='owner uid 65534'):
        sign(token, out, provider=str(link))
    os.chown(str(copy), 0, -1)
    # a directory others can write: anyone could swap the library
    os.chmod(str(copy.parent), 0o777)
    with pytest.raises(UnsafePath, match='directory other users can write'):
        sign(token, out, provider=str(copy))
    os.chmod(str(copy.parent), 0o755)
    with pytest.raises(NotFound, match='does not exist'):
        sign(token, out, provider=str(tmp_path / 'lib' / 'none.so'))
    assert os.listdir(str(out)) == []


def test_pkcs11_options_that_do_not_go_together(token):
    pub = str(token[0] / 'ca_rsa.pub')
    with pytest.raises(InvalidInput, match='give one'):
        CaSpec(None, public_key=pub, agent=True, agent_socket='/run/a', pkcs11_provider=PROVIDER)
    with pytest.raises(InvalidInput, match='with ca_pkcs11_provider only'):
        CaSpec(str(token[0] / 'ca_rsa'), pkcs11_pin=PIN)
    with pytest.raises(InvalidInput, match='needs ca_public_key'):
        CaSpec(None, pkcs11_provider=PROVIDER)
    with pytest.raises(InvalidInput, match='absolute path of the PKCS#11 library'):
        CaSpec(None, public_key=pub, pkcs11_provider='libsofthsm2.so')
    with pytest.raises(InvalidInput, match='with ca_agent: true only'):
        CaSpec(None, public_key=pub, pkcs11_provider=PROVIDER, agent_socket='/run/a')
