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
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import (
    EMPTY_PASSPHRASE_WARNING,
    KeyPairSpec,
    validate_key_name,
)
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def account(tmp_path):
    return Account.resolve(None, str(tmp_path / 'home'))


def run(tmp_path, check_mode=False, **options):
    """Plan and (unless check mode) apply, by run_operation."""
    options.setdefault('name', 'id_test')
    return run_op(SshKeyPair(KeyPairSpec(account(tmp_path), **options)), check_mode)


def security_risk(plan):
    return [text for text in plan.all_warnings() if text.startswith('SECURITY RISK')]


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
    assert not security_risk(plan2)
    assert 'PRIVATE' not in repr(result2) and 'test passphrase' not in repr(result2)

    plan3, result3 = run(tmp_path, key_type='ed25519', passphrase='test passphrase', comment='t@example')
    assert not plan3.changed
    assert result3['fingerprint'] == result2['fingerprint']
    assert 'is up to date' in result3['reason']


def test_empty_passphrase_warns_only_when_generating(tmp_path):
    plan, _result = run(tmp_path, key_type='ed25519')
    # cPanel's text, naming the key
    assert security_risk(plan) == ['%s (keys: %s)' % (EMPTY_PASSPHRASE_WARNING, ssh_dir(tmp_path) / 'id_test')]
    plan2, _result = run(tmp_path, key_type='ed25519')
    assert not plan2.changed and not security_risk(plan2)


def test_explicit_empty_passphrase_is_acknowledged(tmp_path):
    plan, _result = run(tmp_path, key_type='ed25519', passphrase='')
    assert plan.changed and not security_risk(plan)
    plan, _result = run(tmp_path, key_type='ed25519', name='id_check', passphrase='', check_mode=True)
    assert plan.changed and not security_risk(plan)


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
    operation = SshKeyPair(KeyPairSpec(future, name='id_ed25519', key_type='ed25519'))
    plan = operation.plan()
    assert plan.changed and any('does not exist yet' in w for w in plan.warnings)


# ---------------------------------------------------------------- import

def keygen(tmp_path, name, key_type='ed25519', passphrase='', comment='given@example', fmt=None):
    """A key made by ssh-keygen outside the home: (private text, public line)."""
    path = tmp_path / name
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', passphrase, '-C', comment, '-f', str(path)]
    if fmt:
        args += ['-m', fmt]
    subprocess.run(args, check=True)
    return path.read_text(), (tmp_path / (name + '.pub')).read_text().strip()


def test_import_private_key_check_real_idempotent(tmp_path):
    private, public = keygen(tmp_path, 'given')
    plan, result = run(tmp_path, check_mode=True, private_key=private)
    assert [a.kind for a in plan.actions] == ['create directory', 'import']
    assert result['public_key'] == public and 'Would import' in result['reason']
    assert not (tmp_path / 'home').exists()
    plan, result = run(tmp_path, private_key=private)
    assert result['public_key'] == public and result['comment'] == 'given@example'
    assert 'Imported the ed25519 key pair' in result['reason']
    assert (ssh_dir(tmp_path) / 'id_test.pub').read_text() == public + '\n'
    assert stat.S_IMODE((ssh_dir(tmp_path) / 'id_test').stat().st_mode) == 0o600
    derived = subprocess.check_output(['ssh-keygen', '-y', '-f', str(ssh_dir(tmp_path) / 'id_test')]).decode()
    assert derived.split()[:2] == public.split()[:2]
    assert 'PRIVATE KEY' not in repr(result) and 'PRIVATE KEY' not in repr(plan.diff())
    before = snapshot(ssh_dir(tmp_path))
    plan, result = run(tmp_path, private_key=private)
    assert not plan.changed and 'is up to date' in result['reason']
    # The same key with other bytes (trailing white space, CRLF) is the same key.
    plan, _result = run(tmp_path, private_key=private.replace('\n', '\r\n') + '\n\n')
    assert not plan.changed and snapshot(ssh_dir(tmp_path)) == before


def test_import_checks_like_generate(tmp_path):
    private, public = keygen(tmp_path, 'enc', passphrase='key pass')
    with pytest.raises(InvalidInput, match='give it as passphrase'):
        run(tmp_path, private_key=private)
    with pytest.raises(InvalidInput, match='cannot be read') as info:
        run(tmp_path, private_key=private, passphrase='bad-secret-123')
    assert 'bad-secret-123' not in info.value.msg and 'PRIVATE' not in info.value.msg
    plain, plain_public = keygen(tmp_path, 'plain')
    with pytest.raises(InvalidInput, match='not protected by a passphrase'):
        run(tmp_path, private_key=plain, passphrase='some pass')
    with pytest.raises(InvalidInput, match='of type ed25519, not rsa'):
        run(tmp_path, private_key=plain, key_type='rsa')
    with pytest.raises(InvalidInput, match='not the public key of private_key'):
        run(tmp_path, private_key=plain, public_key=public)
    with pytest.raises(InvalidInput, match='cannot be read'):
        run(tmp_path, private_key='-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----')
    weak, _weak_public = keygen(tmp_path, 'weak', key_type='rsa', fmt='PEM')
    with pytest.raises(InvalidInput, match='pkcs1 format, not openssh'):
        run(tmp_path, private_key=weak, private_key_format='openssh')
    assert not (tmp_path / 'home').exists()
    plan, result = run(tmp_path, private_key=private, passphrase='key pass', comment='set here')
    assert result['comment'] == 'set here'
    assert subprocess.check_output(['ssh-keygen', '-y', '-P', 'key pass', '-f',
                                    str(ssh_dir(tmp_path) / 'id_test')]).decode().strip().endswith('set here')
    assert not run(tmp_path, private_key=private, passphrase='key pass', comment='set here')[0].changed


def test_import_over_another_key_follows_regenerate(tmp_path):
    _plan, first = run(tmp_path, key_type='ed25519')
    private, public = keygen(tmp_path, 'given')
    before = snapshot(ssh_dir(tmp_path))
    with pytest.raises(Conflict, match='another key') as info:
        run(tmp_path, private_key=private, regenerate='fail')
    assert first['fingerprint'] in info.value.msg
    plan, _result = run(tmp_path, private_key=private, regenerate='never')
    assert not plan.changed and any('regenerate is never' in w for w in plan.warnings)
    assert snapshot(ssh_dir(tmp_path)) == before
    plan, result = run(tmp_path, private_key=private)
    assert [a.kind for a in plan.actions] == ['import'] and 'another key' in plan.actions[0].detail
    assert result['public_key'] == public
    # Replacing another key is said, with both fingerprints (the old private key is gone).
    replaced = [w for w in plan.warnings if 'holds another key' in w]
    assert len(replaced) == 1 and first['fingerprint'] in replaced[0] and PublicKeyFp(public) in replaced[0]
    # The same key again: no warning.
    assert not [w for w in run(tmp_path, private_key=private)[0].warnings if 'holds another key' in w]
    # Same key in another format: drift, replaced under partial_idempotence.
    pem, _pem_public = keygen(tmp_path, 'pem', key_type='ecdsa', fmt='PEM')
    run(tmp_path, private_key=pem)
    subprocess.run(['ssh-keygen', '-q', '-p', '-N', '', '-P', '', '-f', str(ssh_dir(tmp_path) / 'id_test')],
                   check=True, stdout=subprocess.DEVNULL)  # rewrites it in the OpenSSH format
    plan, _result = run(tmp_path, private_key=pem)
    assert plan.changed and 'format is openssh, not pkcs1' in plan.actions[0].detail
    # A key that cannot be read is replaced only under full_idempotence.
    (ssh_dir(tmp_path) / 'id_test').write_text('broken\n')
    with pytest.raises(Conflict, match='cannot be read'):
        run(tmp_path, private_key=pem)
    assert run(tmp_path, private_key=pem, regenerate='full_idempotence')[0].changed


def test_import_public_key_alone(tmp_path):
    _private, public = keygen(tmp_path, 'given')
    plan, result = run(tmp_path, public_key=public)
    assert [a.kind for a in plan.actions] == ['create directory', 'import']
    assert 'Installed the ed25519 public key' in result['reason']
    # The diff is named after the file it installs, the .pub (there is no private key file).
    assert plan.diff()['before_header'] == str(ssh_dir(tmp_path) / 'id_test.pub')
    assert sorted(os.listdir(str(ssh_dir(tmp_path)))) == ['id_test.pub']
    assert not run(tmp_path, public_key=public)[0].changed
    with pytest.raises(InvalidInput, match='ppk needs a private key'):
        run(tmp_path, public_key=public, ppk=True)
    # A private key of another key: an error naming both fingerprints ...
    other = tmp_path / 'home' / '.ssh' / 'id_test'
    other_private, other_public = keygen(tmp_path, 'other')
    other.write_text(other_private)
    with pytest.raises(Conflict) as info:
        run(tmp_path, public_key=public)
    assert PublicKeyFp(public) in info.value.msg and PublicKeyFp(other_public) in info.value.msg
    plan, _result = run(tmp_path, public_key=public, regenerate='never')
    assert not plan.changed and other.exists()
    # ... unless full_idempotence removes it.
    plan, _result = run(tmp_path, public_key=public, regenerate='full_idempotence')
    assert [a.kind for a in plan.actions] == ['remove'] and not other.exists()
    # The private key of the same key stays.
    same, _same_public = keygen(tmp_path, 'same2')
    subprocess.run(['cp', str(tmp_path / 'given'), str(other)], check=True)
    os.chmod(str(other), 0o600)
    plan, _result = run(tmp_path, public_key=public)
    assert not plan.changed and other.exists()


def PublicKeyFp(line):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
    return PublicKey.from_line(line).fingerprint_sha256


# ---------------------------------------------------------------- PuTTY export

def puttygen_fingerprint(path, passphrase=None, tmp_path=None):
    import shutil
    if shutil.which('puttygen') is None:
        return None
    args = ['puttygen', str(path), '-l']
    if passphrase:
        secret = tmp_path / 'ppk-pass'
        secret.write_text(passphrase + '\n')
        args += ['--old-passphrase', str(secret)]
    return subprocess.check_output(args).decode()


def test_ppk_export_idempotence_and_removal(tmp_path):
    ppk_file = ssh_dir(tmp_path) / 'id_test.ppk'
    plan, result = run(tmp_path, check_mode=True, key_type='ed25519', ppk=True)
    assert [a.kind for a in plan.actions] == ['create directory', 'generate', 'export']
    plan, result = run(tmp_path, key_type='ed25519', ppk=True, comment='c1')
    assert result['ppk_path'] == str(ppk_file) and stat.S_IMODE(ppk_file.stat().st_mode) == 0o600
    assert ppk_file.read_text().startswith('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: c1\n')
    printed = puttygen_fingerprint(ppk_file)
    assert printed is None or result['fingerprint'] in printed
    assert not run(tmp_path, key_type='ed25519', ppk=True, comment='c1')[0].changed
    # A comment change is exported too; a missing or foreign file is rewritten.
    plan, _result = run(tmp_path, key_type='ed25519', ppk=True, comment='c2')
    assert [a.kind for a in plan.actions][-1] == 'export' and 'Comment: c2\n' in ppk_file.read_text()
    ppk_file.write_text('PuTTY-User-Key-File-3: ssh-ed25519\nbroken\n')
    plan, _result = run(tmp_path, key_type='ed25519', ppk=True, comment='c2')
    assert [a.kind for a in plan.actions] == ['export']
    os.chmod(str(ppk_file), 0o644)
    plan, _result = run(tmp_path, key_type='ed25519', ppk=True, comment='c2')
    assert [a.kind for a in plan.actions] == ['set mode and owner of']
    # ppk: false leaves the file alone; absent removes it with the pair.
    assert not run(tmp_path, key_type='ed25519', comment='c2')[0].changed
    plan, _result = run(tmp_path, check_mode=True, state='absent')
    assert len(plan.actions) == 3 and ppk_file.exists()
    run(tmp_path, state='absent')
    assert os.listdir(str(ssh_dir(tmp_path))) == []


def test_ppk_of_another_key_survives_absent(tmp_path):
    run(tmp_path, key_type='ed25519', ppk=True)
    saved = (ssh_dir(tmp_path) / 'id_test.ppk').read_bytes()
    run(tmp_path, key_type='ed25519', regenerate='always')
    (ssh_dir(tmp_path) / 'id_test.ppk').write_bytes(saved)
    plan, _result = run(tmp_path, state='absent')
    assert any('holds another key' in w for w in plan.warnings)
    assert os.listdir(str(ssh_dir(tmp_path))) == ['id_test.ppk']


def test_ppk_with_passphrase(tmp_path):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk as ppk_module
    if not ppk_module.argon2_available():
        pytest.skip('no Argon2id implementation')
    private, public = keygen(tmp_path, 'enc', passphrase='key pass', comment='imported')
    plan, result = run(tmp_path, private_key=private, passphrase='key pass', ppk=True)
    ppk_file = ssh_dir(tmp_path) / 'id_test.ppk'
    assert 'Encryption: aes256-cbc' in ppk_file.read_text()
    assert 'key pass' not in repr(result) and 'key pass' not in repr(plan.diff())
    printed = puttygen_fingerprint(ppk_file, 'key pass', tmp_path)
    assert printed is None or result['fingerprint'] in printed
    before = ppk_file.read_bytes()
    assert not run(tmp_path, private_key=private, passphrase='key pass', ppk=True)[0].changed
    assert ppk_file.read_bytes() == before
