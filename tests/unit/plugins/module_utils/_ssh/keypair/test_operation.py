# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import multiprocessing
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.registry import Registry
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import (
    DEFAULT_COMMENT,
    Keypair,
    KeypairInfo,
    KeypairSpec,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

needs_ssh_keygen = pytest.mark.skipif(not shutil.which('ssh-keygen'), reason='ssh-keygen is not installed')


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def run(tmp_path, check_mode=False, **options):
    """Plan and (unless check mode) apply, by run_operation."""
    options.setdefault('registry', str(tmp_path / 'reg'))
    operation = Keypair(KeypairSpec(**options))
    result = run_op(operation, check_mode)[1]
    assert not operation.registry.held
    return result


def info(tmp_path, **options):
    options.setdefault('registry', str(tmp_path / 'reg'))
    operation = KeypairInfo(**options)
    plan = operation.plan()
    assert not plan.changed
    result = operation.result(plan, False)
    result['warnings'] = list(plan.warnings)
    return result


def registry_text(tmp_path):
    path = tmp_path / 'reg'
    if not path.exists():
        return ''
    return ''.join((path / name).read_text() for name in sorted(os.listdir(str(path))))


def derive_public(tmp_path, private_key):
    """``ssh-keygen -y`` of a private key text: ``type base64``."""
    key_file = tmp_path / 'derive_key'
    key_file.write_text(private_key)
    os.chmod(str(key_file), 0o600)
    out = subprocess.run(['ssh-keygen', '-y', '-f', str(key_file)], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE).stdout.decode()
    key_file.unlink()
    return ' '.join(out.split()[:2])


def public_blob(line):
    return ' '.join(line.split()[:2])


# ----------------------------------------------------------------- spec
@pytest.mark.parametrize('options, words', [
    (dict(name='bad-name'), 'only letters, digits'),
    (dict(name='x' * 26), 'at most 25'),
    (dict(name=''), 'must not be empty'),
    (dict(), 'name is required'),
    (dict(name='k', key_id='skey-abcdefgh'), 'mutually exclusive'),
    (dict(key_id='skey-abcdefgh'), 'state: absent'),
    (dict(key_id='nope', state='absent'), 'not a key pair id'),
    (dict(state='absent'), 'one of name and id'),
    (dict(name='k', key_type='dsa'), 'type must be one of'),
    (dict(name='k', key_type='rsa', size=512), '1024 or more'),
    (dict(name='k', key_type='ed25519', size=384), 'fixed size'),
    (dict(name='k', comment='a\nb'), 'single line'),
    (dict(name='k', private_key_path='relative/key'), 'absolute path'),
    (dict(name='k', public_key='ssh-ed25519'), 'type base64'),
    (dict(name='k', state='maybe'), 'present or absent'),
])
def test_spec_rejects(options, words):
    with pytest.raises(InvalidInput) as info_:
        KeypairSpec(**options)
    assert words in info_.value.msg


def test_spec_defaults_are_cfengine_rsa_4096():
    spec = KeypairSpec(name='k')
    assert (spec.key_type, spec.size, spec.comment, spec.imported) == ('rsa', 4096, DEFAULT_COMMENT, False)


@needs_ssh_keygen
def test_spec_import_checks(keyset):
    line = keyset.lines['ssh-ed25519']
    spec = KeypairSpec(name='k', public_key=line)
    assert (spec.key_type, spec.size, spec.comment) == ('ed25519', 256, line.split()[2])
    assert KeypairSpec(name='k', public_key=public_blob(line)).comment == DEFAULT_COMMENT
    assert KeypairSpec(name='k', public_key=line, comment='mine').public_key.to_line().endswith(' mine')
    with pytest.raises(InvalidInput, match='type is rsa'):
        KeypairSpec(name='k', public_key=line, key_type='rsa')
    with pytest.raises(InvalidInput, match='size is 384'):
        KeypairSpec(name='k', public_key=line, size=384)
    with pytest.raises(InvalidInput, match='certificate'):
        KeypairSpec(name='k', public_key=keyset.lines['ssh-ed25519-cert-v01@openssh.com'])
    with pytest.raises(InvalidInput, match='registry takes'):
        KeypairSpec(name='k', public_key=keyset.lines['sk-ssh-ed25519@openssh.com'])
    with pytest.raises(InvalidInput, match='private_key_path cannot be used with public_key'):
        KeypairSpec(name='k', public_key=line, private_key_path='/tmp/x')


# ----------------------------------------------------------------- generate
def test_check_mode_predicts_and_writes_nothing(tmp_path):
    result = run(tmp_path, check_mode=True, name='web_1', key_type='ed25519')
    assert result['changed']
    assert result['keypair']['id'] is None
    assert result['keypair']['name'] == 'web_1'
    assert 'id is not known yet' in result['msg']
    assert 'private_key' not in result
    assert '(assigned on creation)' in result['diff']['after']
    assert result['actions'][0].startswith('create directory')
    assert not (tmp_path / 'reg').exists()


@needs_ssh_keygen
def test_create_returns_the_private_key_once(tmp_path):
    first = run(tmp_path, name='web_1', key_type='ed25519')
    assert first['changed']
    keypair = first['keypair']
    assert keypair['id'].startswith('skey-') and len(keypair['id']) == 13
    assert keypair['source'] == 'generated'
    assert keypair['public_key'].endswith(' ' + DEFAULT_COMMENT)
    assert keypair['fingerprint'] == PublicKey.from_line(keypair['public_key']).fingerprint_sha256
    assert first['private_key'].startswith('-----BEGIN OPENSSH PRIVATE KEY-----')
    assert any('no_log' in text for text in first['warnings'])
    assert derive_public(tmp_path, first['private_key']) == public_blob(keypair['public_key'])
    # The private key is in no registry file and not in the diff.
    assert 'PRIVATE KEY' not in registry_text(tmp_path)
    assert first['private_key'].splitlines()[1] not in registry_text(tmp_path)
    assert 'PRIVATE' not in repr(first['diff'])
    assert mode_of(tmp_path / 'reg') == 0o700
    assert mode_of(tmp_path / 'reg' / 'web_1.json') == 0o600

    again = run(tmp_path, name='web_1', key_type='ed25519')
    assert not again['changed']
    assert again['keypair'] == keypair
    assert 'private_key' not in again
    assert again['warnings'] == []
    assert 'up to date' in again['msg']


def test_comment_change_updates_in_place(tmp_path):
    first = run(tmp_path, name='k', key_type='ed25519')
    check = run(tmp_path, check_mode=True, name='k', key_type='ed25519', comment='new')
    assert check['changed'] and check['keypair']['comment'] == 'new'
    assert registry_text(tmp_path).count('"comment": "%s"' % DEFAULT_COMMENT) == 1
    second = run(tmp_path, name='k', key_type='ed25519', comment='new')
    assert second['changed']
    assert second['keypair']['id'] == first['keypair']['id']
    assert second['keypair']['fingerprint'] == first['keypair']['fingerprint']
    assert second['keypair']['public_key'] == public_blob(first['keypair']['public_key']) + ' new'
    assert second['keypair']['generated_at'] == first['keypair']['generated_at']
    assert 'private_key' not in second
    assert 'comment: new' in second['diff']['after']
    assert not run(tmp_path, name='k', key_type='ed25519', comment='new')['changed']


def test_other_type_or_size_needs_force(tmp_path):
    first = run(tmp_path, name='k', key_type='ecdsa')
    for options in (dict(key_type='ed25519'), dict(key_type='ecdsa', size=384)):
        with pytest.raises(Conflict) as info_:
            run(tmp_path, name='k', **options)
        assert 'force' in info_.value.msg
        assert info_.value.details['id'] == first['keypair']['id']
    forced = run(tmp_path, name='k', key_type='ecdsa', size=384, force=True)
    assert forced['changed']
    assert forced['keypair']['id'] == first['keypair']['id']
    assert forced['keypair']['size'] == 384
    assert forced['keypair']['fingerprint'] != first['keypair']['fingerprint']
    assert forced['private_key'] != first['private_key']
    assert 'regenerate' in forced['actions'][0]


def test_force_regenerates_every_run_keeping_the_id(tmp_path):
    first = run(tmp_path, name='k', key_type='ed25519', force=True)
    second = run(tmp_path, name='k', key_type='ed25519', force=True)
    assert second['changed']
    assert second['keypair']['id'] == first['keypair']['id']
    assert second['keypair']['fingerprint'] != first['keypair']['fingerprint']


@needs_ssh_keygen
def test_private_key_path_writes_0600_and_keeps_it_out_of_the_result(tmp_path):
    key_path = tmp_path / 'keys' / 'id_k'
    key_path.parent.mkdir()
    owner = Account.resolve(None)
    result = run(tmp_path, name='k', key_type='ed25519', private_key_path=str(key_path), owner=owner)
    assert result['changed']
    assert 'private_key' not in result
    assert result['private_key_path'] == str(key_path)
    assert not any('no_log' in text for text in result['warnings'])
    assert mode_of(key_path) == 0o600
    assert os.stat(str(key_path)).st_uid == owner.uid
    assert derive_public(tmp_path, key_path.read_text()) == public_blob(result['keypair']['public_key'])
    assert any(a.startswith('write private key %s' % key_path) for a in result['actions'])
    # A later run does not touch the file; when it is gone the task warns that it cannot come back.
    assert not run(tmp_path, name='k', key_type='ed25519', private_key_path=str(key_path))['changed']
    key_path.unlink()
    gone = run(tmp_path, name='k', key_type='ed25519', private_key_path=str(key_path))
    assert not gone['changed']
    assert any('cannot be written again' in text for text in gone['warnings'])


def test_private_key_path_needs_an_existing_directory(tmp_path):
    with pytest.raises(NotFound) as info_:
        run(tmp_path, name='k', key_type='ed25519', private_key_path=str(tmp_path / 'no' / 'key'))
    assert 'does not exist' in info_.value.msg
    assert not (tmp_path / 'reg').exists()


def test_private_key_path_directory_may_be_made_by_an_earlier_task_in_check_mode(tmp_path):
    """In --check an earlier task (ansible.builtin.file) has not made ~/.ssh yet: the task
    says what a real run would do, with a warning, instead of failing the whole check run."""
    result = run(tmp_path, check_mode=True, name='k', key_type='ed25519',
                 private_key_path=str(tmp_path / 'no' / 'key'))
    assert result['changed']
    assert any('does not exist' in text and 'check mode' in text for text in result['warnings'])
    assert not (tmp_path / 'reg').exists() and not (tmp_path / 'no').exists()


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give the key to another user')
def test_private_key_path_owner(tmp_path):
    nobody = Account.resolve('nobody')
    key_path = tmp_path / 'id_nobody'
    run(tmp_path, name='k', key_type='ed25519', private_key_path=str(key_path), owner=nobody)
    st = os.stat(str(key_path))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (nobody.uid, nobody.gid, 0o600)


def test_registry_mode_is_fixed_and_reported(tmp_path):
    run(tmp_path, name='k', key_type='ed25519')
    os.chmod(str(tmp_path / 'reg'), 0o755)
    result = run(tmp_path, name='k', key_type='ed25519')
    assert result['changed']
    assert result['actions'] == ['set mode of %s (0700)' % (tmp_path / 'reg')]
    assert mode_of(tmp_path / 'reg') == 0o700


# ----------------------------------------------------------------- import
@needs_ssh_keygen
def test_import_same_other_and_force(tmp_path, keyset):
    line_a = keyset.make('ed25519')
    line_b = keyset.make('rsa', 2048)
    first = run(tmp_path, name='laptop', public_key=line_a)
    assert first['changed'] and 'private_key' not in first
    assert first['keypair']['public_key'] == line_a
    assert first['keypair']['source'] == 'imported'
    assert first['actions'][-1].startswith('import ')
    assert not run(tmp_path, name='laptop', public_key=line_a)['changed']
    # The same key with another comment in the line is the same key: only the comment changes.
    renamed = run(tmp_path, name='laptop', public_key=public_blob(line_a) + ' other')
    assert renamed['changed'] and renamed['keypair']['comment'] == 'other'
    assert renamed['keypair']['fingerprint'] == first['keypair']['fingerprint']
    with pytest.raises(Conflict) as info_:
        run(tmp_path, name='laptop', public_key=line_b)
    assert 'another public key' in info_.value.msg
    replaced = run(tmp_path, name='laptop', public_key=line_b, force=True)
    assert replaced['changed']
    assert replaced['keypair']['id'] == first['keypair']['id']
    assert replaced['keypair']['type'] == 'rsa' and replaced['keypair']['size'] == 2048
    assert not run(tmp_path, name='laptop', public_key=line_b, force=True)['changed']


@needs_ssh_keygen
def test_import_check_mode(tmp_path, keyset):
    line = keyset.make('ed25519')
    result = run(tmp_path, check_mode=True, name='laptop', public_key=line)
    assert result['changed'] and result['keypair']['public_key'] == line
    assert result['keypair']['id'] is None
    assert not (tmp_path / 'reg').exists()


# ----------------------------------------------------------------- absent
def test_delete_by_name_and_id_twice(tmp_path):
    a = run(tmp_path, name='a', key_type='ed25519')['keypair']
    b = run(tmp_path, name='b', key_type='ed25519')['keypair']
    check = run(tmp_path, check_mode=True, name='a', state='absent')
    assert check['changed'] and (tmp_path / 'reg' / 'a.json').exists()
    gone = run(tmp_path, name='a', state='absent')
    assert gone['changed'] and gone['keypair'] == a
    assert 'state: present' not in gone['diff']['after']
    again = run(tmp_path, name='a', state='absent')
    assert not again['changed'] and again['keypair'] is None and 'No key pair a' in again['msg']
    by_id = run(tmp_path, key_id=b['id'], state='absent')
    assert by_id['changed'] and by_id['keypair']['name'] == 'b'
    again = run(tmp_path, key_id=b['id'], state='absent')
    assert not again['changed'] and 'No key pair with id' in again['msg']
    assert os.listdir(str(tmp_path / 'reg')) == []


def test_delete_in_a_missing_registry_creates_nothing(tmp_path):
    result = run(tmp_path, name='a', state='absent')
    assert not result['changed']
    assert not (tmp_path / 'reg').exists()


# ----------------------------------------------------------------- info
def test_info_lists_and_gets(tmp_path):
    missing = info(tmp_path)
    assert missing['keypairs'] == [] and 'does not exist' in missing['msg']
    assert info(tmp_path, name='x')['keypairs'] == []
    made = dict((name, run(tmp_path, name=name, key_type='ed25519')['keypair']) for name in ('zeta', 'Mid', 'alpha'))
    listed = info(tmp_path)
    assert [k['name'] for k in listed['keypairs']] == ['Mid', 'alpha', 'zeta']
    assert listed['keypairs'] == [made['Mid'], made['alpha'], made['zeta']]
    assert '3 key pairs' in listed['msg']
    for keypair in listed['keypairs']:
        for field in ('id', 'public_key', 'generated_by', 'generated_at', 'fingerprint', 'name', 'type'):
            assert keypair[field]
    assert info(tmp_path, name='alpha')['keypairs'] == [made['alpha']]
    assert info(tmp_path, key_id=made['zeta']['id'])['keypairs'] == [made['zeta']]
    nothing = info(tmp_path, name='nope')
    assert nothing['keypairs'] == [] and 'No key pair named nope' in nothing['msg']
    nothing = info(tmp_path, key_id='skey-00000000')
    assert nothing['keypairs'] == [] and 'No key pair with id skey-00000000' in nothing['msg']
    with pytest.raises(InvalidInput):
        info(tmp_path, name='bad-name')
    with pytest.raises(InvalidInput):
        info(tmp_path, key_id='skey-')
    with pytest.raises(InvalidInput):
        info(tmp_path, name='alpha', key_id=made['alpha']['id'])


def test_info_skips_a_broken_entry_with_a_warning(tmp_path):
    run(tmp_path, name='a', key_type='ed25519')
    (tmp_path / 'reg' / 'b.json').write_text('garbage')
    result = info(tmp_path)
    assert [k['name'] for k in result['keypairs']] == ['a']
    assert len(result['warnings']) == 1


# ----------------------------------------------------------------- concurrency
def _operation_worker(registry, name, start, queue):
    try:
        start.wait(10)
        result = run_op(Keypair(KeypairSpec(name=name, key_type='ed25519', registry=registry)))[1]
        queue.put(('ok', name, result['keypair']['id'], result['private_key']))
    except Exception as exc:  # pylint: disable=broad-except
        queue.put(('error', name, repr(exc), None))


@needs_ssh_keygen
def test_eight_parallel_module_runs_lose_none(tmp_path):
    registry = str(tmp_path / 'reg')
    context = multiprocessing.get_context('fork')
    start = context.Event()
    queue = context.Queue()
    names = ['par_%d' % n for n in range(8)]
    workers = [context.Process(target=_operation_worker, args=(registry, name, start, queue)) for name in names]
    for worker in workers:
        worker.start()
    start.set()
    results = [queue.get(timeout=120) for dummy in workers]
    for worker in workers:
        worker.join(60)
    assert [r[0] for r in results] == ['ok'] * 8, results
    listed = info(tmp_path)['keypairs']
    assert [k['name'] for k in listed] == names
    assert len(set(k['id'] for k in listed)) == 8
    by_name = dict((r[1], r) for r in results)
    for keypair in listed:
        assert keypair['id'] == by_name[keypair['name']][2]
        assert derive_public(tmp_path, by_name[keypair['name']][3]) == public_blob(keypair['public_key'])
    assert 'PRIVATE KEY' not in registry_text(tmp_path)


def test_the_lock_is_held_by_the_session_from_plan_to_result(tmp_path):
    run(tmp_path, name='a', key_type='ed25519')
    operation = Keypair(KeypairSpec(name='b', key_type='ed25519', registry=str(tmp_path / 'reg')))
    # plan() alone takes no lock (it writes nothing); run_operation's session does.
    operation.plan()
    assert not operation.registry.held
    other = Registry(str(tmp_path / 'reg'))
    fd = os.open(other.path, os.O_RDONLY)
    try:
        with operation.session():
            plan = operation.plan()
            assert operation.registry.held
            with pytest.raises(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            operation.apply(plan)
            operation.result(plan, True)
            assert operation.registry.held
        assert not operation.registry.held
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_the_session_creates_the_registry_and_the_plan_reports_it(tmp_path):
    result = run(tmp_path, name='a', key_type='ed25519')
    assert result['actions'][0] == 'create directory %s (0700)' % (tmp_path / 'reg')
    os.chmod(str(tmp_path / 'reg'), 0o755)
    result = run(tmp_path, name='a', key_type='ed25519')
    assert result['changed'] and result['actions'] == ['set mode of %s (0700)' % (tmp_path / 'reg')]
    assert mode_of(tmp_path / 'reg') == 0o700
    # Without the session (plan and apply alone) the action does the work itself.
    os.chmod(str(tmp_path / 'reg'), 0o755)
    operation = Keypair(KeypairSpec(name='a', key_type='ed25519', registry=str(tmp_path / 'reg')))
    operation.apply(operation.plan())
    assert mode_of(tmp_path / 'reg') == 0o700 and not operation.registry.held
