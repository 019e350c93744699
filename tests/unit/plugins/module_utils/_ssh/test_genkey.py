# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    KeysmithError,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey import (
    EMPTY_PASSPHRASE_WARNING,
    KeyPairSpec,
    SshKeyPair,
    validate_key_name,
)


def account(tmp_path):
    return Account.resolve(None, str(tmp_path / 'home'))


def run(tmp_path, check_mode=False, **options):
    """Plan and (unless check mode) apply, as run_operation does."""
    options.setdefault('name', 'id_test')
    operation = SshKeyPair(KeyPairSpec(account(tmp_path), **options), check_mode=check_mode)
    plan = operation.plan()
    if plan.changed and not check_mode:
        plan.apply()
    return plan, operation.result(plan, not check_mode)


def ssh_dir(tmp_path):
    return tmp_path / 'home' / '.ssh'


def snapshot(directory):
    if not directory.exists():
        return None
    return dict((p.name, (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))) for p in directory.iterdir())


@pytest.mark.parametrize('name', ['config', 'known_hosts', 'authorized_keys', 'environment', 'rc', 'identity',
                                  'a/b', '../x', '..x', '-x', 'a\nb', 'a\0b', '', '.'])
def test_bad_names(name):
    with pytest.raises(InvalidInput):
        validate_key_name(name)


@pytest.mark.parametrize('name', ['id_rsa', 'user', 'deploy.key', 'a..b', 'x-1', '.hidden'])
def test_good_names(name):
    assert validate_key_name(name) == name


@pytest.mark.parametrize('options, message', [
    (dict(bits=512), '1024 or more'),
    (dict(bits=32768), 'at most'),
    (dict(key_type='ecdsa', bits=255), '256, 384, 521'),
    (dict(key_type='ed25519', bits=4096), 'fixed size'),
    (dict(key_type='dsa', bits=2048), '1024'),
    (dict(passphrase='abc'), '4 characters'),
    (dict(key_type='ed25519', private_key_format='pkcs1'), 'pkcs1'),
    (dict(comment='a\nb'), 'single line'),
    (dict(name=None, path='relative/key'), 'absolute'),
    (dict(path='/tmp/x'), 'exactly one'),
])
def test_bad_options_fail_before_touching_anything(tmp_path, options, message):
    with pytest.raises(InvalidInput, match=message) as info:
        run(tmp_path, **options)
    assert 'abc' not in str(info.value)
    assert not (tmp_path / 'home').exists()


def test_generate_check_mode_then_real_then_idempotent(tmp_path):
    plan, result = run(tmp_path, check_mode=True, key_type='ed25519', passphrase='test passphrase')
    assert plan.changed
    assert not (tmp_path / 'home').exists()
    assert [a.kind for a in plan.actions] == ['create directory', 'generate']

    plan2, result2 = run(tmp_path, key_type='ed25519', passphrase='test passphrase', comment='t@example')
    assert plan2.describe() == plan.describe()
    assert stat.S_IMODE(ssh_dir(tmp_path).stat().st_mode) == 0o700
    private = ssh_dir(tmp_path) / 'id_test'
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((ssh_dir(tmp_path) / 'id_test.pub').stat().st_mode) == 0o644
    derived = subprocess.check_output(['ssh-keygen', '-y', '-P', 'test passphrase', '-f', str(private)])
    assert derived.split()[:2] == result2['public_key'].encode().split()[:2]
    assert result2['type'] == 'ed25519' and result2['size'] == 256
    assert EMPTY_PASSPHRASE_WARNING not in plan2.warnings
    assert 'PRIVATE' not in repr(result2) and 'test passphrase' not in repr(result2)

    plan3, result3 = run(tmp_path, key_type='ed25519', passphrase='test passphrase', comment='t@example')
    assert not plan3.changed
    assert result3['fingerprint'] == result2['fingerprint']
    assert 'is up to date' in result3['reason']


def test_empty_passphrase_warns_only_when_generating(tmp_path):
    plan, _result = run(tmp_path, key_type='ed25519')
    assert EMPTY_PASSPHRASE_WARNING in plan.warnings
    plan2, _result = run(tmp_path, key_type='ed25519')
    assert not plan2.changed and EMPTY_PASSPHRASE_WARNING not in plan2.warnings


def test_drift_policies(tmp_path):
    run(tmp_path, key_type='ecdsa', bits=256, comment='c')
    before = snapshot(ssh_dir(tmp_path))
    with pytest.raises(Conflict, match='size is 256, not 384'):
        run(tmp_path, key_type='ecdsa', bits=384, regenerate='fail')
    plan, _result = run(tmp_path, key_type='ecdsa', bits=384, regenerate='never')
    assert not plan.changed and any('regenerate is never' in w for w in plan.warnings)
    assert snapshot(ssh_dir(tmp_path)) == before
    plan, result = run(tmp_path, key_type='ecdsa', bits=384)
    assert plan.actions[0].kind == 'regenerate'
    assert result['size'] == 384 and result['comment'] == 'c'


def test_unreadable_key_policies(tmp_path):
    run(tmp_path, key_type='ed25519', passphrase='first pass')
    before = snapshot(ssh_dir(tmp_path))
    for policy in ('never', 'fail', 'partial_idempotence'):
        with pytest.raises(Conflict, match='cannot be read') as info:
            run(tmp_path, key_type='ed25519', passphrase='other pass', regenerate=policy)
        assert 'other pass' not in str(info.value) and 'first pass' not in str(info.value)
    assert snapshot(ssh_dir(tmp_path)) == before
    plan, _result = run(tmp_path, key_type='ed25519', passphrase='other pass', regenerate='full_idempotence')
    assert plan.actions[-1].kind == 'regenerate'
    subprocess.check_call(['ssh-keygen', '-y', '-P', 'other pass', '-f', str(ssh_dir(tmp_path) / 'id_test')],
                          stdout=subprocess.DEVNULL)


def test_passphrase_added_to_task_partial_fails_full_regenerates(tmp_path):
    run(tmp_path, key_type='ed25519')
    with pytest.raises(Conflict, match='not protected by a passphrase'):
        run(tmp_path, key_type='ed25519', passphrase='now protected')
    plan, _result = run(tmp_path, key_type='ed25519', passphrase='now protected', regenerate='full_idempotence')
    assert plan.changed


def test_comment_change_and_pub_repair_keep_the_key(tmp_path):
    _plan, first = run(tmp_path, key_type='ed25519', comment='one')
    private = ssh_dir(tmp_path) / 'id_test'
    plan, result = run(tmp_path, key_type='ed25519', comment='two')
    # The comment is changed in both files (as ssh-keygen -c does); the key stays.
    assert [(a.kind, os.path.basename(a.path)) for a in plan.actions] == [
        ('update comment of', 'id_test'), ('update comment of', 'id_test.pub')]
    assert result['fingerprint'] == first['fingerprint'] and result['comment'] == 'two'
    derived = subprocess.check_output(['ssh-keygen', '-y', '-f', str(private)]).decode()
    assert derived.strip() == result['public_key']
    private_before = private.read_bytes()
    (ssh_dir(tmp_path) / 'id_test.pub').unlink()
    os.chmod(str(private), 0o640)
    plan, result = run(tmp_path, key_type='ed25519')
    assert [a.kind for a in plan.actions] == ['restore', 'set mode and owner of']
    assert result['comment'] == 'two'
    assert private.read_bytes() == private_before
    # A .pub of another key is replaced, too.
    (ssh_dir(tmp_path) / 'id_test.pub').write_text(first['public_key'].replace('AAAA', 'BBBB', 1) + '\n')
    plan, result = run(tmp_path, key_type='ed25519')
    assert plan.changed and result['fingerprint'] == first['fingerprint']
    # Without a comment in the task, a hand-edited .pub comment is kept as it is.
    (ssh_dir(tmp_path) / 'id_test.pub').write_text(result['public_key'].replace(' two', ' edited') + '\n')
    plan, result = run(tmp_path, key_type='ed25519')
    assert not plan.changed and result['comment'] == 'edited'


def test_absent_removes_both(tmp_path):
    run(tmp_path, key_type='ed25519')
    plan, _result = run(tmp_path, check_mode=True, state='absent')
    assert len(plan.actions) == 2 and (ssh_dir(tmp_path) / 'id_test').exists()
    plan, _result = run(tmp_path, state='absent')
    assert sorted(os.listdir(str(ssh_dir(tmp_path)))) == []
    plan, _result = run(tmp_path, state='absent')
    assert not plan.changed


def test_explicit_path_and_private_formats(tmp_path):
    target = tmp_path / 'keys'
    target.mkdir()
    _plan, result = run(tmp_path, name=None, path=str(target / 'k'), key_type='rsa', bits=2048,
                        private_key_format='pkcs1')
    assert (target / 'k').read_bytes().startswith(b'-----BEGIN RSA PRIVATE KEY-----')
    assert result['public_key_path'] == str(target / 'k.pub')
    plan, _result = run(tmp_path, name=None, path=str(target / 'k'), key_type='rsa', bits=2048,
                        private_key_format='pkcs8')
    assert plan.changed and 'format is pkcs1, not pkcs8' in plan.actions[0].detail
    assert (target / 'k').read_bytes().startswith(b'-----BEGIN PRIVATE KEY-----')


def test_missing_user_is_an_error_except_in_check_mode():
    with pytest.raises(KeysmithError, match='does not exist'):
        Account.resolve('keysmith-no-such-user')
    future = Account.resolve('keysmith-no-such-user', check_mode=True)
    operation = SshKeyPair(KeyPairSpec(future, name='id_ed25519', key_type='ed25519'), check_mode=True)
    plan = operation.plan()
    assert plan.changed and any('does not exist yet' in w for w in plan.warnings)
