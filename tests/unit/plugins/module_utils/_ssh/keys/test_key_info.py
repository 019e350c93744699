# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


def info(tmp_path, **options):
    account = Account.resolve(None, str(tmp_path / 'home'))
    operation = SshKeyInfo(KeyInfoSpec(account, **options))
    plan = operation.plan()
    assert not plan.changed
    return plan, operation.result(plan, False)


def keygen(directory, name, key_type='ed25519', passphrase='', fmt=None, comment=None):
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', passphrase, '-C', comment or name, '-f', str(directory / name)]
    if fmt:
        args += ['-m', fmt]
    subprocess.run(args, check=True)
    return PublicKey.from_line((directory / (name + '.pub')).read_text())


@pytest.fixture
def ssh_dir(tmp_path):
    path = tmp_path / 'home' / '.ssh'
    path.mkdir(parents=True)
    return path


def test_lists_keys_with_public_data_only(tmp_path, ssh_dir):
    plain = keygen(ssh_dir, 'id_ed25519')
    locked = keygen(ssh_dir, 'locked', key_type='ecdsa', passphrase='secret phrase')
    pem = keygen(ssh_dir, 'pem', key_type='rsa', fmt='PEM')
    (ssh_dir / 'pem.pub').unlink()               # derived from the private key
    pem_locked = keygen(ssh_dir, 'pem_locked', key_type='rsa', fmt='PEM', passphrase='secret phrase')
    (ssh_dir / 'pem_locked.pub').unlink()        # cannot be derived without the passphrase
    public_only = keygen(ssh_dir, 'token')
    (ssh_dir / 'token').unlink()
    (ssh_dir / 'authorized_keys').write_text('# keys\nfrom="10.0.0.1" %s\n' % plain.to_line())
    (ssh_dir / 'known_hosts').write_text('host %s\n' % plain.to_line())
    (ssh_dir / 'config').write_text('Host *\n')
    (ssh_dir / 'id_ed25519.ppk').write_text('PuTTY-User-Key-File-3: ssh-ed25519\n')
    (ssh_dir / 'notes.txt').write_text('hello\n')
    (ssh_dir / 'sockets').mkdir()
    plan, result = info(tmp_path)
    keys = dict((k['name'], k) for k in result['keys'])
    assert sorted(keys) == ['id_ed25519', 'locked', 'pem', 'pem_locked', 'token']
    assert [k['name'] for k in result['keys']] == sorted(keys)
    first = keys['id_ed25519']
    assert first == {
        'name': 'id_ed25519', 'path': str(ssh_dir / 'id_ed25519'),
        'public_key_path': str(ssh_dir / 'id_ed25519.pub'),
        'public_key': plain.to_line(), 'type': 'ed25519', 'size': 256, 'comment': 'id_ed25519',
        'fingerprint': plain.fingerprint_sha256, 'fingerprint_md5': plain.fingerprint_md5,
        'has_passphrase': False, 'authorized': True, 'has_private_key': True, 'has_ppk': True,
    }
    assert keys['locked']['has_passphrase'] is True and keys['locked']['size'] == 256
    assert keys['locked']['fingerprint'] == locked.fingerprint_sha256 and not keys['locked']['authorized']
    assert keys['pem']['fingerprint'] == pem.fingerprint_sha256 and keys['pem']['public_key_path'] is None
    assert keys['pem_locked']['has_passphrase'] is True and keys['pem_locked']['public_key'] is None
    assert pem_locked.fingerprint_sha256 not in repr(result)
    assert keys['token']['has_private_key'] is False and keys['token']['has_passphrase'] is None
    assert keys['token']['fingerprint'] == public_only.fingerprint_sha256
    assert 'PRIVATE' not in repr(result) and 'secret phrase' not in repr(result)
    assert result['msg'] == 'Found 5 keys in %s.' % ssh_dir and not plan.warnings


def test_one_key_by_name_and_missing_name(tmp_path, ssh_dir):
    key = keygen(ssh_dir, 'deploy')
    keygen(ssh_dir, 'other')
    _plan, result = info(tmp_path, name='deploy')
    assert [k['name'] for k in result['keys']] == ['deploy'] and result['public_key'] == key.to_line()
    _plan, result = info(tmp_path, name='nope')
    assert result['keys'] == [] and 'There is no key nope' in result['msg'] and 'public_key' not in result
    with pytest.raises(InvalidInput):
        info(tmp_path, name='../etc')


def test_symlinks_are_skipped_unless_follow(tmp_path, ssh_dir):
    outside = tmp_path / 'outside'
    outside.mkdir()
    key = keygen(outside, 'elsewhere')
    os.symlink(str(outside / 'elsewhere.pub'), str(ssh_dir / 'linked.pub'))
    plan, result = info(tmp_path)
    assert result['keys'] == [] and any('symbolic link' in w for w in plan.warnings)
    _plan, result = info(tmp_path, follow=True)
    assert result['keys'][0]['fingerprint'] == key.fingerprint_sha256


def test_other_directory_and_authorized_keys_path(tmp_path, ssh_dir):
    keys = tmp_path / 'home' / 'keys'
    keys.mkdir()
    key = keygen(keys, 'k')
    auth = tmp_path / 'home' / 'auth'
    auth.write_text(key.to_line() + '\n')
    _plan, result = info(tmp_path, path=str(keys), authorized_keys_path=str(auth))
    assert result['keys'][0]['authorized'] is True
    _plan, result = info(tmp_path, path=str(tmp_path / 'home' / 'missing'))
    assert result['keys'] == []


def test_missing_user_in_check_mode_lists_nothing():
    account = Account.resolve('keysmith-no-such-user', check_mode=True)
    operation = SshKeyInfo(KeyInfoSpec(account))
    plan = operation.plan()
    assert operation.result(plan, False)['keys'] == [] and plan.warnings
