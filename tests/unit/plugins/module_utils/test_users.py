# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of user creation (_users): names and fields that cannot break
/etc/passwd, the hash never echoed, the exact useradd/groupadd command, and a
creation another run made first reported as not done here. The commands are
captured, not run (test_provision_users.py creates real users)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _users
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import BackendError, InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._users import UserCreation, UserSpec, validate_name

HASH = '$6$kmusalt$abcdefghijklmnopqrstuv'


def test_name_length_and_characters():
    assert validate_name('a' * 32, 'user') == 'a' * 32
    assert validate_name('_svc-1.x', 'user') == '_svc-1.x'
    for bad in ('a' * 33, 'Alice', '1abc', 'a:b', 'a b', '-x', ''):
        with pytest.raises(InvalidInput):
            validate_name(bad, 'user')


@pytest.mark.parametrize('field, value, words', [
    ('shell', '/bin/sh:x', 'shell must be an absolute path'),
    ('shell', 'bin/sh', 'shell must be an absolute path'),
    ('shell', '/bin/sh\nroot', 'shell must be an absolute path'),
    ('comment', 'a:b', 'comment must not contain'),
    ('comment', 'a\nb', 'comment must not contain'),
    ('uid', -1, 'uid must be a non-negative integer'),
    ('uid', True, 'uid must be a non-negative integer'),
    ('home', 'rel/home', 'home must be an absolute path'),
])
def test_fields_that_would_break_the_user_database(field, value, words):
    with pytest.raises(InvalidInput, match=words):
        UserSpec('kmuuser', **{field: value})


@pytest.mark.parametrize('password', ['$6$x$y:0:0', '$6$x$y\nroot', '$6$x$\0y'])
def test_a_bad_hash_is_refused_and_never_echoed(password):
    with pytest.raises(InvalidInput) as caught:
        UserSpec('kmuuser', password=password)
    assert '$6$x$' not in caught.value.msg and 'password must be a password hash' in caught.value.msg


@pytest.fixture
def commands(monkeypatch):
    """The commands UserCreation runs (captured; the user and groups do not exist)."""
    ran = []
    existing = set()
    monkeypatch.setattr(UserCreation, '_run', staticmethod(lambda argv, what: ran.append(argv)))
    monkeypatch.setattr(UserCreation, 'user_exists', staticmethod(lambda name: name in existing))
    monkeypatch.setattr(_users, '_group_exists', lambda name: name in existing)
    return ran, existing


def test_the_useradd_command(commands):
    ran, dummy = commands
    spec = UserSpec('kmuuser', home='/srv/kmu', uid=4242, group='kmugrp', groups=['kmua', 'kmub'],
                    shell='/bin/bash', comment='K M', system=True, password=HASH)
    creation = UserCreation(spec)
    plan = creation.plan()
    assert [action.describe() for action in plan.actions][-1].startswith('create user kmuuser')
    plan.apply()
    useradd = ran[-1]
    assert useradd[0].endswith('useradd') and useradd[-1] == 'kmuuser'
    args = useradd[1:-1]
    for option, value in (('--home-dir', '/srv/kmu'), ('--uid', '4242'), ('--gid', 'kmugrp'),
                          ('--groups', 'kmua,kmub'), ('--shell', '/bin/bash'), ('--comment', 'K M'),
                          ('--password', HASH)):
        assert args[args.index(option) + 1] == value
    assert '--create-home' in args and '--system' in args
    assert [argv[-1] for argv in ran[:-1]] == ['kmugrp', 'kmua', 'kmub']
    assert creation.created and creation.groups_created == ['kmugrp', 'kmua', 'kmub']


@pytest.mark.usefixtures('commands')
def test_a_group_named_twice_is_created_once():
    creation = UserCreation(UserSpec('kmuuser', group='kmugrp', groups=['kmugrp', 'kmua', 'kmua']))
    assert creation.missing_groups() == ['kmugrp', 'kmua']


def test_a_creation_another_run_made_first_is_not_done_here(commands):
    ran, existing = commands
    creation = UserCreation(UserSpec('kmuuser', groups=['kmua']))
    plan = creation.plan()
    existing.update(['kmuuser', 'kmua'])   # made by another run between the plan and the apply
    plan.apply()
    assert ran == [] and not creation.created and creation.groups_created == []


def test_a_failed_command_fails():
    with pytest.raises(BackendError, match='false x failed'):
        UserCreation._run(['/bin/false'], 'false x')
    UserCreation._run(['/bin/true'], 'true')


def test_an_existing_user_that_differs_is_warned_about():
    creation = UserCreation(UserSpec('root', uid=4242, shell='/bin/kmu'))
    plan = creation.plan()
    assert not plan.changed
    assert any('uid 0, not 4242' in text and 'shell' in text for text in plan.warnings)
