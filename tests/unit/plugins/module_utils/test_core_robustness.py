# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Robustness of the core (issue 27): lock waits bounded per call and never
process-global, ``provision atomic`` atomic at apply time, failures that say
what was done, unexpected errors contained per account, a damaged registry
entry never taken as up to date, and actions reported exactly under races."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import pwd
import re
import subprocess
import threading
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import Conflict, KeysmithError, LockTimeout
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Locks, Tree
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import Keypair, KeypairSpec
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

ME = pwd.getpwuid(os.geteuid()).pw_name


def public_key(tmp_path, name):
    path = str(tmp_path / name)
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path],
                          stdin=subprocess.DEVNULL)
    with open(path + '.pub') as handle:
        return handle.read().strip()


class Held:
    """flocks held by this process on other open file descriptions (as
    another process would hold them: flock conflicts between descriptions)."""

    def __init__(self):
        self.fds = []

    def hold(self, path):
        fd = os.open(str(path), os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.fds.append(fd)
        return fd

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


@pytest.fixture
def held():
    made = Held()
    yield made
    made.close()


def homes(tmp_path, count, key):
    """``count`` accounts (this user, each with its own home and ~/.ssh) authorizing ``key``."""
    entries = []
    for index in range(count):
        home = tmp_path / ('home%d' % index)
        (home / '.ssh').mkdir(parents=True, mode=0o700)
        entries.append({'name': 'acct%d' % index, 'home': str(home), 'authorized_keys': [{'key': key}]})
    return entries


def provision(entries, **options):
    """Provision accounts that are all this user under other names: resolve them as ME."""
    operation = Provision([dict(entry) for entry in entries], **options)
    for run in operation.runs:
        run.name = ME
    return operation


# ---------------------------------------------------------------- lock waits

def test_lock_timeout_is_given_per_call_not_set_for_the_process(tmp_path):
    from ansible_collections.keysmith.accounts.plugins.modules import ssh_authkey

    class Module:
        check_mode = False
        params = dict(user=None, home=str(tmp_path), key=public_key(tmp_path, 'k'), file=None, path=None,
                      state='present', authorize=None, options=None, comment=None, exclusive=False,
                      manage_dir=True, follow=False, backup=False, expire_at=None, remove_expired=False,
                      lock_timeout=7, owner=None, group=None, mode=None)

    operation = ssh_authkey.build(Module())
    assert operation.locks.timeout == 7
    assert _fs.DEFAULT_LOCK_TIMEOUT == 60 and Tree(str(tmp_path)).lock_timeout is None
    assert not hasattr(_fs, 'set_lock_timeout')
    assert Provision([], lock_timeout=3).locks.timeout == 3 and Provision([]).locks.timeout == 60


def test_every_wait_of_a_call_shares_one_deadline(tmp_path, held):
    tree = Tree(str(tmp_path))
    for name in ('a', 'b', 'c'):
        (tmp_path / name).mkdir()
        held.hold(tmp_path / name)
    # three waits (6 s) against one (2 s): apart by far more than a loaded machine's stalls
    locks = Locks(2.0)
    start = time.monotonic()
    for name in ('a', 'b', 'c'):
        with pytest.raises(LockTimeout, match='on %s' % (tmp_path / name)):
            with tree.locked([name], locks):
                pass
    # one wait of 2 s for the three, not three (it was 6 s)
    assert time.monotonic() - start < 4.0
    # a lock taken ahead is used by locked() of the same directory (no second flock, no wait)
    (tmp_path / 'd').mkdir()
    key = tree.lock_ahead(['d'], locks)
    assert key is not None and tree.lock_ahead(['missing'], locks) == _fs.MISSING
    with tree.locked(['d'], locks):
        pass
    other = os.open(str(tmp_path / 'd'), os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(other)
    locks.release()
    held.hold(tmp_path / 'd')


def test_provision_waits_once_for_all_held_locks_and_does_the_free_accounts(tmp_path, held):
    key = public_key(tmp_path, 'bob')
    entries = homes(tmp_path, 5, key)
    for index in (1, 2, 3):
        held.hold(tmp_path / ('home%d' % index) / '.ssh')
    late = held.hold(tmp_path / 'home4' / '.ssh')
    releaser = threading.Timer(0.3, lambda: fcntl.flock(late, fcntl.LOCK_UN))
    releaser.start()
    start = time.monotonic()
    dummy_plan, result = run_op(provision(entries, lock_timeout=2))
    seconds = time.monotonic() - start
    releaser.join()
    # one lock_timeout for the call (three held locks cost 6 s before)
    assert seconds < 4, seconds
    assert result['failed'] and result['msg'].startswith('3 of 5 accounts failed'), result['msg']
    assert result['changed'] is True
    for index in (1, 2, 3):
        ssh = tmp_path / ('home%d' % index) / '.ssh'
        assert str(ssh) in result['msg'] and not (ssh / 'authorized_keys').exists()
    for index in (0, 4):   # free, and released during the wait
        assert key in (tmp_path / ('home%d' % index) / '.ssh' / 'authorized_keys').read_text()
    assert [a['changed'] for a in result['accounts']] == [True, False, False, False, True]


def test_atomic_provision_takes_every_lock_before_writing_anything(tmp_path, held):
    key = public_key(tmp_path, 'bob')
    entries = homes(tmp_path, 3, key)
    for entry in entries:
        entry['ssh_keys'] = [{'name': 'id_ed25519', 'type': 'ed25519'}]
    held.hold(tmp_path / 'home1' / '.ssh')
    dummy_plan, result = run_op(provision(entries, atomic=True, lock_timeout=0.3))
    assert result['failed'] and result['changed'] is False
    assert 'home1/.ssh' in result['msg'] and 'nothing was written' in result['msg'], result['msg']
    for index in range(3):
        assert os.listdir(str(tmp_path / ('home%d' % index) / '.ssh')) == []


# ---------------------------------------------------------------- failures say what was done

class Steps(Operation):
    """Two actions; the second fails with ``error``."""

    def __init__(self, error):
        self.error = error
        self.ran = []

    def plan(self):
        plan = Plan('/steps')
        plan.add('write', '/steps/one', lambda: self.ran.append('one'))
        plan.add('write', '/steps/two', self._fail)
        return plan

    def _fail(self):
        raise self.error

    def result(self, plan, applied):
        return {'actions': plan.describe()}


class Module:
    check_mode = False
    _diff = False

    def __init__(self):
        self.failed = None

    def warn(self, text):
        pass

    def fail_json(self, **result):
        self.failed = result
        raise SystemExit(1)

    def exit_json(self, **result):
        raise AssertionError('exit_json after a failure: %r' % (result,))


@pytest.mark.parametrize('error', [ZeroDivisionError('a bug'), KeysmithError('disk full'), OSError(28, 'ENOSPC')])
def test_a_failure_after_an_action_was_done_is_changed_and_says_what_was_done(error):
    module = Module()
    with pytest.raises(SystemExit):
        run_operation(module, lambda dummy: Steps(error))
    failed = module.failed
    assert failed['changed'] is True and failed['done'] == ['write /steps/one'], failed
    assert 'already done before the failure: write /steps/one' in failed['msg']
    if isinstance(error, ZeroDivisionError):
        assert 'unexpected ZeroDivisionError: a bug' in failed['msg']
        assert 'Traceback' in failed['exception'] and 'ZeroDivisionError' in failed['exception']


def test_an_unexpected_error_in_one_account_fails_that_account_only(tmp_path, monkeypatch):
    key = public_key(tmp_path, 'bob')
    entries = homes(tmp_path, 3, key)
    for entry in entries:
        entry['ssh_keys'] = [{'name': 'id_ed25519', 'type': 'ed25519'}]
    apply_key, plan_auth = SshKeyPair.apply, SshAuthKey.plan

    def buggy_apply(self, plan):
        if 'home1' in self.spec.path:
            raise ZeroDivisionError('bug while applying')
        return apply_key(self, plan)

    def buggy_plan(self):
        if 'home2' in self.spec.path:
            raise IndexError('bug while planning')
        return plan_auth(self)

    monkeypatch.setattr(SshKeyPair, 'apply', buggy_apply)
    monkeypatch.setattr(SshAuthKey, 'plan', buggy_plan)
    dummy_plan, result = run_op(provision(entries))
    assert result['failed'] and result['msg'].startswith('2 of 3 accounts failed'), result['msg']
    assert result['changed'] is True
    first, second, third = result['accounts']
    assert first['changed'] and not first.get('failed')
    assert key in (tmp_path / 'home0' / '.ssh' / 'authorized_keys').read_text()
    assert second['failed'] and 'unexpected ZeroDivisionError: bug while applying' in second['msg']
    assert 'Traceback' in second['exception'] and 'buggy_apply' in second['exception']
    assert third['failed'] and 'unexpected IndexError: bug while planning' in third['msg']
    assert 'buggy_plan' in third['exception'] and not third['changed']
    assert not (tmp_path / 'home2' / '.ssh' / 'id_ed25519').exists()


# ---------------------------------------------------------------- exact under races

class MakeDir(Operation):
    """Plans ~/d; ``between`` runs after the plan, as another run would."""

    def __init__(self, tree, between):
        self.tree = tree
        self.between = between

    def plan(self):
        plan = Plan(self.tree.path(['d']))
        plan.ensure_dir(self.tree.dir_state(['d']), lambda: self.tree.ensure_dir(['d'], 0o700), 0o700)
        self.between()
        return plan

    def result(self, plan, applied):
        return {'actions': plan.describe()}


def test_a_directory_another_run_created_meanwhile_is_not_reported_as_created_here(tmp_path):
    path = tmp_path / 'd'
    dummy_plan, result = run_op(MakeDir(Tree(str(tmp_path)), lambda: os.mkdir(str(path), 0o700)))
    assert result['changed'] is False
    assert result['actions'] == ['create directory %s (0700): already created by another run' % path]
    os.rmdir(str(path))
    # created by another run with another mode: this run set it, and says so
    dummy_plan, result = run_op(MakeDir(Tree(str(tmp_path)), lambda: os.mkdir(str(path), 0o755)))
    assert result['changed'] is True and oct(os.stat(str(path)).st_mode & 0o777) == oct(0o700)
    assert result['actions'] == ['create directory %s (0700): created by another run, mode and owner set here'
                                 % path]
    os.rmdir(str(path))
    dummy_plan, result = run_op(MakeDir(Tree(str(tmp_path)), lambda: None))
    assert result['changed'] is True and result['actions'] == ['create directory %s (0700)' % path]


def test_the_registry_created_by_another_run_is_not_reported_as_created_here(tmp_path, monkeypatch):
    registry = tmp_path / 'reg'
    real_mkdir = os.mkdir

    def racing_mkdir(path, *args, **kwargs):
        if path == 'reg':      # another run makes it first
            real_mkdir(str(registry), 0o700)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, 'mkdir', racing_mkdir)
    operation = Keypair(KeypairSpec(name='k', key_type='ed25519', registry=str(registry)))
    dummy_plan, result = run_op(operation)
    assert not any(text.startswith('create directory') for text in result['actions']), result['actions']
    assert result['changed'] and result['actions'][0].startswith('generate key pair k')


# ---------------------------------------------------------------- a damaged registry entry

def _damage(registry, name, **fields):
    path = registry / ('%s.json' % name)
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize('damage', ['unreadable', 'another key'])
def test_a_damaged_stored_public_key_is_never_up_to_date(tmp_path, damage):
    registry = tmp_path / 'reg'

    def keypair(**options):
        return run_op(Keypair(KeypairSpec(name='k', key_type='ed25519', registry=str(registry), **options)))[1]

    first = keypair()
    if damage == 'unreadable':
        _damage(registry, 'k', public_key='ssh-ed25519 AAAA-not-base64 generated-by-keysmith')
        reason = 'its public key cannot be read'
    else:
        _damage(registry, 'k', public_key=public_key(tmp_path, 'other'))
        reason = re.escape('not the recorded %s' % first['keypair']['fingerprint'])
    with pytest.raises(Conflict, match='registry entry .*k.json of key pair k is damaged: .*%s' % reason):
        keypair()
    imported = public_key(tmp_path, 'imported')
    with pytest.raises(Conflict, match='is damaged'):
        run_op(Keypair(KeypairSpec(name='k', public_key=imported, registry=str(registry))))
    # force replaces it with a new key, keeping the id
    forced = keypair(force=True)
    assert forced['changed'] and forced['keypair']['id'] == first['keypair']['id']
    assert keypair()['changed'] is False
