# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of the small modules: account lookup, finding tools, key size
bounds, error classes, text escaping, the SSH wire format, the audit's account
list and the backends' argument checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import types

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _errors, _text
from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.accounts import AccountEntry, list_accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import resolve_bits
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backend_base, wire


# --------------------------------------------------------------------------- _account

@pytest.mark.parametrize('user', ['../etc', 'a/b', 'a:b', 'a\nb', ''])
def test_account_names_that_are_no_names(user):
    with pytest.raises(_errors.InvalidInput):
        Account.resolve(user, check_mode=True)


def test_account_home_must_be_absolute():
    with pytest.raises(_errors.InvalidInput, match='home must be an absolute path'):
        Account.resolve('root', home='relative/home')
    assert Account.resolve('root', home='/srv//x/').home == '/srv/x'


def test_missing_account_is_an_error_except_in_check_mode():
    with pytest.raises(_errors.NotFound, match='does not exist on this host'):
        Account.resolve('kmu-no-such-user')
    predicted = Account.resolve('kmu-no-such-user', check_mode=True)
    assert not predicted.exists and predicted.home == '/home/kmu-no-such-user' and predicted.uid is None


# --------------------------------------------------------------------------- _executables

def test_a_tool_given_by_path_must_be_executable(tmp_path):
    tool = tmp_path / 'tool'
    tool.write_text('#!/bin/sh\n')
    os.chmod(str(tool), 0o644)
    assert find_executable('tool', str(tool)) is None
    assert find_executable('tool', str(tmp_path)) is None
    os.chmod(str(tool), 0o755)
    assert find_executable('tool', str(tool)) == str(tool)
    assert find_executable('tool', str(tmp_path)) == str(tool)


def test_tools_are_found_with_a_short_path(monkeypatch):
    monkeypatch.setenv('PATH', '/nonexistent')
    assert find_executable('ssh-keygen') in ('/usr/bin/ssh-keygen', '/bin/ssh-keygen')


# --------------------------------------------------------------------------- key sizes

def test_rsa_size_bounds():
    assert resolve_bits('rsa', 1024) == (1024, ['rsa keys of 1024 bits are weak; use 2048 bits or more'])
    for bits in (768, 1000, 1023):
        with pytest.raises(_errors.InvalidInput):
            resolve_bits('rsa', bits)
        with pytest.raises(_errors.InvalidInput):
            backend_base.validate_generate_args('rsa', bits, 'auto')
    assert backend_base.validate_generate_args('rsa', 1024, 'auto') == 1024
    assert backend_base.validate_generate_args('rsa', 16384, 'auto') == 16384
    with pytest.raises(_errors.InvalidInput):
        backend_base.validate_generate_args('rsa', 16385, 'auto')


@pytest.mark.parametrize('passphrase', ['a\nb', 'a\rb', 'a\0b'])
def test_backend_passphrase_must_be_one_line(passphrase):
    with pytest.raises(_errors.InvalidInput, match='line breaks or NUL'):
        backend_base.KeyBackend._check_passphrase_text(passphrase)
    assert backend_base.KeyBackend._check_passphrase_text('good one') == b'good one'


# --------------------------------------------------------------------------- _errors

def test_error_classes_and_details():
    assert issubclass(_errors.NotRegularFile, _errors.UnsafePath)
    assert issubclass(_errors.TooExpensive, _errors.KeyLoadError)
    assert issubclass(_errors.WrongPassphrase, _errors.KeyLoadError)
    error = _errors.UnsafePath('bad', path='/x')
    assert (error.msg, error.details) == ('bad', {'path': '/x'})


# --------------------------------------------------------------------------- _text

def test_undecodable_bytes_are_escaped_and_said():
    escaped = []
    value = {'keys': [{'comment': 'caf\udce9'}], 'ok': 'plain', 'user\udcff': 1}
    out = _text.valid_text(value, escaped)
    assert out == {'keys': [{'comment': 'caf\\xe9'}], 'ok': 'plain', 'user\\xff': 1}
    assert escaped == ['result.keys[0].comment', 'result']
    assert 'keys[0].comment' in _text.escaped_warning(escaped)
    clean = {'a': ['b']}
    assert _text.valid_text(clean, []) is clean


# --------------------------------------------------------------------------- wire

def test_wire_strings_are_read_to_the_byte():
    assert wire.Reader(b'\0\0\0\1a').string() == b'a'
    reader = wire.Reader(b'\0\0\0\2ab\0\0\0\0')
    assert reader.string() == b'ab' and reader.string() == b'' and reader.remaining() == 0
    for short in (b'\0\0\0\2a', b'\0\0\0', b'\0\0\0\5abcd'):
        with pytest.raises(wire.WireError):
            wire.Reader(short).string()


@pytest.mark.parametrize('value, encoded', [(0, b''), (1, b'\1'), (0x7f, b'\x7f'), (0x80, b'\0\x80'),
                                            (0xff00, b'\0\xff\0'), (0x7fff, b'\x7f\xff')])
def test_mpint_keeps_numbers_positive(value, encoded):
    assert wire.mpint(value) == wire.ssh_string(encoded)
    assert wire.Reader(wire.mpint(value)).mpint() == value


# --------------------------------------------------------------------------- the audit's accounts

def _spec(users=None, uid_min=None, uid_max=None):
    return types.SimpleNamespace(users=users, uid_min=uid_min, uid_max=uid_max)


def test_uid_bounds_are_inclusive():
    names = [entry.name for entry in list_accounts(_spec(uid_min=0, uid_max=0), [])]
    assert names == ['root']
    nobody = pwd.getpwnam('nobody').pw_uid
    names = [entry.name for entry in list_accounts(_spec(uid_min=nobody, uid_max=nobody), [])]
    assert names == ['nobody']


def test_unknown_audited_users_are_said():
    warnings = []
    names = [entry.name for entry in list_accounts(_spec(users=['root', 'kmu-no-such-user']), warnings)]
    assert names == ['root']
    assert warnings == ['user kmu-no-such-user does not exist on this host']


def test_an_accounts_groups_hold_its_primary_group():
    assert AccountEntry('a', 5000, 5001, '/h', '/bin/sh', [7]).groups == set([5001, 7])
