# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's reading of sshd settings, rule by rule: AuthorizedKeysFile
tokens as sshd's percent_expand reads them, Include bounded, and the settings
that refuse every key of an account."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import types

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import login_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import settings as sshd_settings

ACCOUNT = types.SimpleNamespace(name='alice', uid=1234, home='/home/alice')


@pytest.mark.parametrize('pattern, path', [
    ('.ssh/authorized_keys', '/home/alice/.ssh/authorized_keys'),
    ('%h/.ssh/keys', '/home/alice/.ssh/keys'),
    ('/etc/ssh/keys/%u', '/etc/ssh/keys/alice'),
    ('/etc/ssh/keys/%U', '/etc/ssh/keys/1234'),
    ('/etc/ssh/100%%/%u', '/etc/ssh/100%/alice'),
    ('keys/../%u', '/home/alice/keys/../alice'),
])
def test_authorized_keys_file_tokens(pattern, path):
    assert sshd_settings.expand_tokens(pattern, ACCOUNT) == path


@pytest.mark.parametrize('pattern', ['/etc/keys/%x', '/etc/keys/%', '%d/keys'])
def test_tokens_sshd_fails_on(pattern):
    with pytest.raises(InvalidInput):
        sshd_settings.expand_tokens(pattern, ACCOUNT)


def test_an_include_loop_is_bounded(tmp_path):
    config = tmp_path / 'sshd_config'
    config.write_text('Include %s\nPort 2222\n' % config)
    values, has_match = sshd_settings.read_sshd_config(str(config))
    assert not has_match and values


def _settings(pubkey=True, **login):
    return types.SimpleNamespace(pubkey_authentication=pubkey, login=login_rules.LoginSettings(**login))


def test_settings_that_refuse_every_key():
    assert login_rules.login_refusals(_settings(), 'alice', ['staff'], '10.0.0.1', '10.0.0.1') == []
    assert login_rules.login_refusals(_settings(pubkey=False), 'alice', ['staff'], '10.0.0.1', '10.0.0.1') == \
        ['PubkeyAuthentication no']
    assert login_rules.login_refusals(_settings(allow_users=['bob']), 'alice', ['staff'], 'h', '10.0.0.1') == \
        ['not listed in AllowUsers']
    assert login_rules.login_refusals(_settings(deny_groups=['st*']), 'alice', ['staff'], 'h', '10.0.0.1') == \
        ['a group is listed in DenyGroups']
    assert login_rules.login_refusals(_settings(allow_groups=['wheel']), 'alice', ['staff'], 'h', '10.0.0.1') == \
        ["none of the account's groups is listed in AllowGroups"]
