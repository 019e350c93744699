# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A mode/owner repair (``chmod 644 ~/.ssh/id_rsa``) shows mode, owner and group
before and after in ``--diff``, as ansible.builtin.file does, not an empty diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec

ME = pwd.getpwuid(os.geteuid()).pw_name
MY_GROUP = grp.getgrgid(os.getegid()).gr_name


def plan_of(operation):
    return operation.plan()


@pytest.fixture
def account(tmp_path):
    return Account.resolve(None, str(tmp_path / 'home'))


def make_key(account):
    operation = SshKeyPair(KeyPairSpec(account, name='id_rsa', key_type='ed25519', passphrase=''))
    plan = operation.plan()
    plan.apply()
    return os.path.join(account.home, '.ssh', 'id_rsa')


def test_private_key_mode_repair_shows_before_and_after(account):
    path = make_key(account)
    os.chmod(path, 0o644)
    plan = plan_of(SshKeyPair(KeyPairSpec(account, name='id_rsa', key_type='ed25519', passphrase='')))
    assert plan.describe() == ['set mode and owner of %s (0600)' % path]
    diff = plan.diff()
    assert 'mode of %s: 0644' % path in diff['before'] and 'mode of %s: 0600' % path in diff['after']
    assert 'owner of %s: %s' % (path, ME) in diff['before'] and 'owner of %s: %s' % (path, ME) in diff['after']
    assert 'group of %s: %s' % (path, MY_GROUP) in diff['after']
    assert diff['before'] != diff['after']


@pytest.fixture
def k17_user(tmp_path):
    """A throwaway account (the test runs as root, as make units does)."""
    if os.geteuid() != 0:
        pytest.skip('creating an account needs root')
    name = 'k17attrs%d' % (os.getpid() % 100000)
    subprocess.run(['useradd', '-M', '-d', str(tmp_path / 'home'), name], check=True)
    try:
        yield name
    finally:
        subprocess.run(['userdel', name], check=False)


def test_owner_repair_shows_the_owner_before_and_after(k17_user, tmp_path):
    account = Account.resolve(k17_user, str(tmp_path / 'home'))
    path = make_key(account)
    os.chown(path + '.pub', 0, 0)   # root's: allowed, and repaired to the account's
    plan = plan_of(SshKeyPair(KeyPairSpec(account, name='id_rsa', key_type='ed25519', passphrase='')))
    diff = plan.diff()
    assert 'owner of %s.pub: root' % path in diff['before']
    assert 'owner of %s.pub: %s' % (path, k17_user) in diff['after']
    assert 'mode of %s.pub: 0644' % path in diff['before'] and 'mode of %s.pub: 0644' % path in diff['after']


def test_ssh_dir_and_authorized_keys_repairs(account, tmp_path):
    public = tmp_path / 'k'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(public)], check=True)
    line = (tmp_path / 'k.pub').read_text().strip()
    operation = SshAuthKey(AuthKeySpec(account, key=line, state='present'))
    operation.plan().apply()
    ssh_dir = os.path.join(account.home, '.ssh')
    os.chmod(ssh_dir, 0o755)
    os.chmod(os.path.join(ssh_dir, 'authorized_keys'), 0o666)
    diff = plan_of(SshAuthKey(AuthKeySpec(account, key=line, state='present'))).diff()
    assert 'mode of %s: 0755' % ssh_dir in diff['before'] and 'mode of %s: 0700' % ssh_dir in diff['after']
    keys = os.path.join(ssh_dir, 'authorized_keys')
    assert 'mode of %s: 0666' % keys in diff['before'] and 'mode of %s: 0600' % keys in diff['after']


def test_plan_without_repairs_has_the_same_diff_as_before():
    plan = Plan('/x')
    plan.before, plan.after = {'a': 1}, {'a': 2}
    assert plan.diff() == {'before_header': '/x', 'after_header': '/x', 'before': 'a: 1\n', 'after': 'a: 2\n'}
