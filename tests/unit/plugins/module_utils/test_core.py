# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The core's own promises, each pinned by a test that a realistic bug fails
(the mutants of issue 16 that survived the rest of the suite): run_operation
itself, Plan.apply's partial-failure message, owners of directories made on
the way, no_log on every secret option, fsync before rename, the defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import os
import pkgutil
import pwd
import re
import stat
import sys

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._constants import DEFAULT_BITS, DEFAULT_KEY_TYPE
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import Conflict, KeysmithError, PartialFailure
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Outcome, Plan, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backend_base
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import KeypairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import CertificateSigningRequest, CsrSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


# ---------------------------------------------------------------- run_operation

class Exited(Exception):
    pass


class Recorder:
    """AnsibleModule as run_operation sees it; records every call."""

    def __init__(self, check_mode=False, diff=True):
        self.check_mode = check_mode
        self._diff = diff
        self.calls = []

    def warn(self, text):
        self.calls.append(('warn', text))

    def deprecate(self, text, version=None, collection_name=None):
        self.calls.append(('deprecate', text, version, collection_name))

    def exit_json(self, **result):
        self.calls.append(('exit_json', result))
        raise Exited()

    def fail_json(self, **result):
        self.calls.append(('fail_json', result))
        raise Exited()

    def run(self, operation):
        with pytest.raises(Exited):
            run_operation(self, lambda module: operation)
        return self.calls


class Scripted(Operation):
    """An operation whose plan, outcome and failures a test sets."""

    def __init__(self, actions=1, fail=None, result=None, after_apply=None):
        self.events = []
        self.actions = actions
        self.fail = fail
        self.extra = result or {}
        self._after = after_apply

    @contextlib.contextmanager
    def session(self, applying=True):
        self.events.append('session' if applying else 'session (check mode)')
        try:
            yield
        finally:
            self.events.append('session closed')

    def plan(self):
        self.events.append('plan')
        plan = Plan('/the/path')
        plan.before, plan.after = {'state': 'old'}, {'state': 'new'}
        plan.warn('planned warning')
        plan.warn('planned warning')  # kept once
        plan.deprecate('old thing', version='2.0.0', collection_name='keysmith.accounts')
        for number in range(self.actions):
            plan.add('do', 'thing %d' % number, lambda number=number: self._act(number))
        return plan

    def _act(self, number):
        self.events.append('action %d' % number)
        if self.fail is not None:
            raise self.fail

    def after_apply(self):
        return self._after

    def result(self, plan, applied):
        self.events.append('result applied=%s' % applied)
        return dict({'value': 1}, **self.extra)


def test_run_operation_plans_applies_and_exits_once():
    operation = Scripted(actions=2, after_apply={'state': 'really new'})
    calls = Recorder().run(operation)
    assert operation.events == ['session', 'plan', 'action 0', 'action 1', 'result applied=True', 'session closed']
    assert calls[:2] == [('warn', 'planned warning'), ('deprecate', 'old thing', '2.0.0', 'keysmith.accounts')]
    kind, result = calls[2]
    assert kind == 'exit_json' and len(calls) == 3
    assert result['changed'] is True and result['value'] == 1
    # The outcome's after, not the plan's, is what the diff shows.
    assert result['diff'] == {'before_header': '/the/path', 'after_header': '/the/path',
                              'before': 'state: old\n', 'after': 'state: really new\n'}


def test_run_operation_check_mode_and_no_diff():
    operation = Scripted(after_apply={'state': 'really new'})
    calls = Recorder(check_mode=True, diff=False).run(operation)
    assert operation.events == ['session (check mode)', 'plan', 'result applied=False', 'session closed']
    assert calls[-1] == ('exit_json', {'value': 1, 'changed': True})


def test_run_operation_with_nothing_to_do_applies_nothing():
    operation = Scripted(actions=0)
    calls = Recorder().run(operation)
    assert 'result applied=False' in operation.events
    assert calls[-1][1]['changed'] is False and calls[-1][1]['diff']['after'] == 'state: new\n'


def test_run_operation_turns_errors_into_fail_json():
    operation = Scripted(fail=Conflict('it conflicts', path='/x'))
    calls = Recorder().run(operation)
    assert operation.events[-1] == 'session closed'
    assert [c[0] for c in calls] == ['warn', 'deprecate', 'fail_json']
    assert calls[-1][1] == {'msg': 'it conflicts', 'path': '/x'}
    error = OSError(13, 'Permission denied')
    error.filename = '/etc/x'
    calls = Recorder().run(Scripted(fail=error))
    assert calls[-1] == ('fail_json', {'msg': 'do thing 0 failed: Permission denied'})
    calls = Recorder().run(Scripted(fail=KeysmithError('late', where='w'), actions=1))
    assert calls[-1] == ('fail_json', {'msg': 'late', 'where': 'w'})


def test_a_permission_refused_without_root_says_to_use_become(monkeypatch):
    from ansible_collections.keysmith.accounts.plugins.module_utils import _module
    error = OSError(13, 'Permission denied')
    error.filename = '/home/bob/.ssh'
    denied = [Scripted(fail=error), Scripted(fail=KeysmithError('cannot open directory /home/bob/.ssh: Permission denied')),
              Scripted(fail=KeysmithError('useradd: Operation not permitted'))]
    monkeypatch.setattr(_module.os, 'geteuid', lambda: 1000)
    for operation in denied:
        msg = Recorder().run(operation)[-1][1]['msg']
        assert msg.endswith('(the task runs as uid 1000, not root: run it with become: true)'), msg
    assert 'become' not in Recorder().run(Scripted(fail=Conflict('it conflicts')))[-1][1]['msg']
    monkeypatch.setattr(_module.os, 'geteuid', lambda: 0)
    assert 'become' not in Recorder().run(Scripted(fail=KeysmithError('x: Permission denied')))[-1][1]['msg']


def test_run_operation_unexpected_io_error_names_the_file():
    class Broken(Scripted):
        def result(self, plan, applied):
            error = IOError(2, 'No such file or directory')
            error.filename = '/gone'
            raise error
    calls = Recorder().run(Broken())
    assert calls[-1] == ('fail_json', {'msg': '/gone: No such file or directory', 'errno': 'ENOENT'})


def test_run_operation_partial_failure_fails_with_the_whole_result():
    class Partial(Scripted):
        def result(self, plan, applied):
            raise PartialFailure('1 of 2 accounts failed', {'value': 1, 'applied': applied})
    operation = Partial()
    calls = Recorder().run(operation)
    assert operation.events[-1] == 'session closed'
    assert calls[-1] == ('fail_json', {'msg': '1 of 2 accounts failed', 'value': 1, 'applied': True,
                                       'changed': True})
    assert [c[0] for c in calls].count('warn') == 1


def test_run_operation_emits_the_outcome_warnings():
    class Warns(Scripted):
        def apply(self, plan):
            return Outcome(done=plan.apply(), warnings=['after the fact'])
    calls = Recorder().run(Warns())
    assert [c[1] for c in calls if c[0] == 'warn'] == ['planned warning', 'after the fact']


# ---------------------------------------------------------------- Plan.apply

def test_plan_apply_names_what_was_done_before_a_failure():
    done = []

    def broken():
        raise KeysmithError('c broke', path='/p/c')

    plan = Plan('/p')
    plan.add('write', '/p/a', lambda: done.append('a'))
    plan.add('write', '/p/b', lambda: done.append('b'), 'detail')
    plan.add('write', '/p/c', broken)
    with pytest.raises(KeysmithError) as info:
        plan.apply()
    assert info.value.msg == 'c broke (already done before the failure: write /p/a; write /p/b (detail))'
    assert info.value.details == {'path': '/p/c', 'done': ['write /p/a', 'write /p/b (detail)']}
    assert done == ['a', 'b'] and plan.describe()[0] == 'write /p/a'


def test_plan_apply_first_action_failing_says_nothing_was_done():
    plan = Plan('/p')
    plan.add('write', '/p/a', lambda: os.open('/nonexistent/dir/file', os.O_RDONLY))
    with pytest.raises(KeysmithError) as info:
        plan.apply()
    assert info.value.msg == 'write /p/a failed: No such file or directory' and info.value.details == {}
    ok = Plan('/p')
    ok.add('write', '/p/a', lambda: None)
    assert ok.apply() == ['write /p/a']


# ---------------------------------------------------------------- owners

@pytest.fixture
def nobody_home(tmp_path):
    """A home of the unprivileged account ``nobody`` (the tests run as root)."""
    if os.geteuid() != 0:
        pytest.skip('needs root to give files to another account')
    home = tmp_path / 'home'
    home.mkdir(mode=0o755)
    entry = pwd.getpwnam('nobody')
    os.chown(str(home), entry.pw_uid, entry.pw_gid)
    return Account.resolve('nobody', str(home)), home


def owned(path, account):
    st = os.lstat(str(path))
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (account.uid, account.gid, 0o700)


def test_directories_made_on_the_way_belong_to_the_account(nobody_home):
    account, home = nobody_home
    spec = TlsKeySpec(account, host='www.example.com', key_type='ecdsa')
    run_op(TlsKey(spec))
    run_op(CertificateSigningRequest(CsrSpec(account, 'www.example.com', city='Houston', company='Example',
                                             country='US', province='Texas')))
    run_op(SshKeyPair(KeyPairSpec(account, name='id_test', key_type='ed25519')))
    for directory in ('ssl', 'ssl/keys', 'ssl/csrs', '.ssh'):
        assert owned(home / directory, account), directory


def test_a_root_owned_ssh_directory_is_given_back_to_the_account(nobody_home):
    account, home = nobody_home
    (home / '.ssh').mkdir(mode=0o700)  # right mode, root's
    plan, result = run_op(SshKeyPair(KeyPairSpec(account, name='id_test', key_type='ed25519')))
    assert result['actions'][0] == 'set mode and owner of %s (0700)' % (home / '.ssh')
    assert owned(home / '.ssh', account) and plan.attr_changes[0][1]['owner'] == 'root'


def test_authorized_keys_directory_belongs_to_the_account(nobody_home, tmp_path):
    account, home = nobody_home
    run_op(SshKeyPair(KeyPairSpec(Account.resolve(None, str(tmp_path / 'other')), name='k', key_type='ed25519')))
    public = (tmp_path / 'other' / '.ssh' / 'k.pub').read_text()
    run_op(SshAuthKey(AuthKeySpec(account, key=public)))
    assert owned(home / '.ssh', account)
    assert os.lstat(str(home / '.ssh' / 'authorized_keys')).st_uid == account.uid


def test_tree_write_gives_every_new_directory_to_the_account(tmp_path):
    tree = _fs.Tree(str(tmp_path), uid=65534, gid=65534)
    tree.write(['a', 'b', 'c'], 'f', b'data', 0o640)
    for directory in ('a', 'a/b', 'a/b/c'):
        st = os.lstat(str(tmp_path / directory))
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o700), directory
    st = os.lstat(str(tmp_path / 'a/b/c/f'))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (65534, 0o640)


# ---------------------------------------------------------------- fsync before rename

def test_atomic_write_syncs_the_data_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        target = os.readlink('/proc/self/fd/%d' % fd)
        events.append(('fsync', 'dir' if os.path.isdir(target) else os.path.basename(target)))
        return real_fsync(fd)

    def rename(src, dst, **kwargs):
        events.append(('rename', src.rsplit('.', 2)[-1], dst))
        return real_rename(src, dst, **kwargs)

    monkeypatch.setattr(_fs.os, 'fsync', fsync)
    monkeypatch.setattr(_fs.os, 'rename', rename)
    tree = _fs.Tree(str(tmp_path))
    (tmp_path / 'd').mkdir()
    events[:] = []
    tree.write(['d'], 'file', b'new content', 0o600)
    assert len(events) == 3, events
    assert events[0][0] == 'fsync' and events[0][1].startswith('.file.') and events[0][1].endswith('.tmp')
    assert events[1] == ('rename', 'tmp', 'file')
    assert events[2] == ('fsync', 'dir')
    assert (tmp_path / 'd' / 'file').read_bytes() == b'new content'


# ---------------------------------------------------------------- no_log

SECRET_OPTION = re.compile(r'passphrase|password|secret|^pass$|^private_key$')


def _options_of(module_name, monkeypatch):
    """The argument_spec a module's main() gives AnsibleModule."""
    module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.modules.' + module_name)
    captured = {}

    class Capture(Exception):
        pass

    def fake(*args, **kwargs):
        captured.update(kwargs)
        raise Capture()

    for name in ('KeysmithModule', 'AnsibleModule'):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, fake)
    with pytest.raises(Capture):
        module.main()
    return captured['argument_spec']


def _secret_options(spec, where):
    for name, option in spec.items():
        names = [name] + list(option.get('aliases') or [])
        if any(SECRET_OPTION.search(n) for n in names):
            yield '%s%s' % (where, name), option
        if option.get('options'):
            yield from _secret_options(option['options'], '%s%s.' % (where, name))


def test_every_secret_option_of_every_module_is_no_log(monkeypatch):
    from ansible_collections.keysmith.accounts.plugins import modules
    found = {}
    for info in pkgutil.iter_modules(modules.__path__):
        for name, option in _secret_options(_options_of(info.name, monkeypatch), info.name + ': '):
            found[name] = option.get('no_log')
    assert len(found) >= 10, sorted(found)
    for expected in ('ssh_genkey: passphrase', 'ssh_genkey: private_key', 'ssl_genkey: passphrase',
                     'ssl_gencsr: password', 'ssl_gencsr: key_passphrase', 'ssl_csr_info: key_passphrase',
                     'provision: accounts.ssh_keys.passphrase', 'provision: accounts.ssh_keys.private_key',
                     'provision: accounts.ssl.key_passphrase', 'provision: accounts.ssl.password'):
        assert expected in found
    assert [name for name, no_log in sorted(found.items()) if no_log is not True] == []


# ---------------------------------------------------------------- defaults

def test_the_default_key_is_rsa_4096(tmp_path):
    assert (DEFAULT_KEY_TYPE, DEFAULT_BITS['rsa']) == ('rsa', 4096)
    spec = KeyPairSpec(Account.resolve(None, str(tmp_path)), name='id_default')
    assert (spec.key_type, spec.bits) == ('rsa', 4096)
    spec = KeypairSpec(name='default')
    assert (spec.key_type, spec.size) == ('rsa', 4096)
    assert backend_base.validate_generate_args('rsa', None, 'auto') == 4096
    assert [backend_base.validate_generate_args(t, None, 'auto') for t in ('ecdsa', 'ed25519')] == [256, 256]
    assert sys.modules[KeyPairSpec.__module__].KEY_TYPES[0] == 'rsa'


def test_a_missing_prerequisite_fails_a_real_run_and_is_assumed_by_check_mode():
    """The plan records a missing prerequisite the same way in both modes; the
    runner fails a real run with it and lets check mode assume it."""
    from ansible_collections.keysmith.accounts.plugins.module_utils._errors import NotFound
    from ansible_collections.keysmith.accounts.plugins.module_utils._module import (
        missing_prerequisite, require_prerequisites)
    error = NotFound('public key file /k.pub does not exist', path='/k.pub')
    plan = Plan('/p')
    missing_prerequisite(error, plan)
    assert plan.missing == [error]
    assert plan.warnings == ['public key file /k.pub does not exist; check mode assumes an earlier task creates it '
                             '(a real run fails without it)']
    assert plan.actions == [] and not plan.changed
    require_prerequisites(plan, applying=False)
    with pytest.raises(NotFound) as info:
        require_prerequisites(plan, applying=True)
    assert info.value is error
    require_prerequisites(Plan('/p'), applying=True)
    with pytest.raises(NotFound) as info:
        missing_prerequisite(error)  # no plan: a session's check before writing
    assert info.value is error

    class Missing(Scripted):
        def plan(self):
            plan = super(Missing, self).plan()
            missing_prerequisite(error, plan)
            return plan

    operation = Missing()
    calls = Recorder().run(operation)
    # a real run fails before applying anything, and says nothing of check mode
    assert operation.events == ['session', 'plan', 'session closed']
    assert calls == [('fail_json', {'msg': error.msg, 'path': '/k.pub'})]
    operation = Missing()
    calls = Recorder(check_mode=True).run(operation)
    assert operation.events == ['session (check mode)', 'plan', 'result applied=False', 'session closed']
    assert ('warn', plan.warnings[0]) in calls and calls[-1][0] == 'exit_json'
