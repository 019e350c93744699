# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_authkey's rules one by one: paths that stay in the home, modes sshd
accepts, key files that are not shown, one-line comments, the file's mode, and
a write that keeps what another process added after the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import (
    AuthKeySpec,
    SshAuthKey,
    resolve_file_attrs,
    resolve_path,
)


@pytest.fixture(scope='module')
def lines(tmp_path_factory):
    directory = tmp_path_factory.mktemp('authkey-rules')
    made = []
    for index in range(3):
        path = directory / ('k%d' % index)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'k%d' % index, '-f', str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        made.append((directory / ('k%d.pub' % index)).read_text().strip())
    return made


@pytest.fixture
def account(tmp_path):
    return Account.resolve(None, str(tmp_path / 'home'))


def test_paths_stay_in_the_home(account):
    assert resolve_path(account, '~/.ssh/authorized_keys') == os.path.join(account.home, '.ssh', 'authorized_keys')
    for path in ('~/../../etc/cron.d/x', '~/..', 'relative/file', '/etc/..', '~'):
        with pytest.raises(InvalidInput):
            resolve_path(account, path)
    assert resolve_path(account, '/etc/ssh/keys/%u') == '/etc/ssh/keys/%u'


@pytest.mark.parametrize('mode, expected', [('0600', 0o600), ('644', 0o644), (0o640, 0o640), ('0400', 0o400)])
def test_modes_sshd_accepts(mode, expected):
    assert resolve_file_attrs(mode=mode) == (None, None, expected)


@pytest.mark.parametrize('mode', ['0664', '0646', '0666', '04600', '01644', '1000', 'rw', 0o777])
def test_modes_refused(mode):
    with pytest.raises(InvalidInput):
        resolve_file_attrs(mode=mode)


def test_a_private_key_file_is_named_and_no_key_file_content_is_shown(tmp_path, account):
    private = tmp_path / 'id'
    private.write_text('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n')
    with pytest.raises(InvalidInput, match='holds a private key'):
        SshAuthKey(AuthKeySpec(account, key_file=str(private))).plan()
    secret = tmp_path / 'secret'
    secret.write_text('db_password=hunter2-very-secret\n')
    with pytest.raises(InvalidInput) as caught:
        SshAuthKey(AuthKeySpec(account, key_file=str(secret))).plan()
    assert 'hunter2' not in caught.value.msg and 'its content is not shown' in caught.value.msg


@pytest.mark.parametrize('comment', ['a\nb', 'a\rb', 'a\0b'])
def test_comment_is_one_line(account, lines, comment):
    with pytest.raises(InvalidInput):
        AuthKeySpec(account, key=lines[0], comment=comment)


def test_the_file_is_written_0600(account, lines):
    SshAuthKey(AuthKeySpec(account, key=lines[0])).plan().apply()
    path = os.path.join(account.home, '.ssh', 'authorized_keys')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_line_added_between_plan_and_write_is_kept(account, lines):
    path = os.path.join(account.home, '.ssh', 'authorized_keys')
    SshAuthKey(AuthKeySpec(account, key=lines[0])).plan().apply()
    operation = SshAuthKey(AuthKeySpec(account, key=lines[1]))
    plan = operation.plan()
    with open(path, 'a') as handle:
        handle.write(lines[2] + '\n')   # another process, after the plan
    plan.apply()
    with open(path) as handle:
        assert handle.read().splitlines() == [lines[0], lines[2], lines[1]]
