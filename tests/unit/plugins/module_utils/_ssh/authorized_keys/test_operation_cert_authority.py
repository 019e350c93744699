# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A cert-authority line and a plain line of the same key are two authorizations:
ssh_authkey manages a line by (key, cert-authority) and never changes the other kind."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    ParsedLine,
)
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def write(tmp_path, text):
    ssh = tmp_path / 'home' / '.ssh'
    ssh.mkdir(parents=True, mode=0o700, exist_ok=True)
    path = ssh / 'authorized_keys'
    path.write_text(text)
    os.chmod(str(path), 0o600)
    return path


def run(tmp_path, check_mode=False, **options):
    account = Account.resolve(None, str(tmp_path / 'home'), check_mode=check_mode)
    return run_op(SshAuthKey(AuthKeySpec(account, **options)), check_mode)


def test_present_of_the_plain_key_keeps_the_cert_authority_line(keyset, tmp_path):
    ca = keyset.make('ed25519')
    original = 'cert-authority,principals="alice" %s\n' % ca
    path = write(tmp_path, original)
    plan, result = run(tmp_path, key=ca)
    assert [k['action'] for k in result['keys']] == ['added']
    assert path.read_text() == original + ca + '\n'
    # and again: both lines stay, nothing changes
    plan, result = run(tmp_path, key=ca)
    assert not plan.changed and path.read_text() == original + ca + '\n'


def test_absent_of_the_plain_key_keeps_the_cert_authority_line(keyset, tmp_path):
    ca = keyset.make('ed25519')
    path = write(tmp_path, '%s\ncert-authority %s\n' % (ca, ca))
    plan, result = run(tmp_path, key=ca, state='absent')
    assert [k['action'] for k in result['keys']] == ['removed']
    assert path.read_text() == 'cert-authority %s\n' % ca
    plan, result = run(tmp_path, key=ca, state='absent')
    assert not plan.changed


def test_cert_authority_task_manages_only_cert_authority_lines(keyset, tmp_path):
    ca = keyset.make('ed25519')
    path = write(tmp_path, '%s\n' % ca)
    plan, result = run(tmp_path, key=ca, options='cert-authority,principals="alice"')
    assert [k['action'] for k in result['keys']] == ['added']
    assert path.read_text() == '%s\ncert-authority,principals="alice" %s\n' % (ca, ca)
    plan, result = run(tmp_path, key=ca, options='cert-authority,principals="bob"')
    assert [k['action'] for k in result['keys']] == ['updated']
    assert path.read_text() == '%s\ncert-authority,principals="bob" %s\n' % (ca, ca)
    plan, result = run(tmp_path, key='cert-authority ' + ca, state='absent')
    assert path.read_text() == '%s\n' % ca


def test_exclusive_and_duplicates_work_per_identity(keyset, tmp_path):
    ca, other = keyset.make('ed25519'), keyset.make('ed25519')
    text = 'cert-authority %s\n%s\ncert-authority,principals="x" %s\n%s\n' % (ca, ca, ca, other)
    path = write(tmp_path, text)
    # the key twice as cert-authority (duplicates), once plain: a plain task sees one line
    plan, result = run(tmp_path, check_mode=True, key=ca)
    assert not plan.changed
    assert [(d['lines'], d['action']) for d in result['duplicates']] == [([1, 3], 'kept')]
    plan, result = run(tmp_path, key='cert-authority ' + ca)
    assert [d['lines'] for d in result['duplicates']] == [[1, 3]]
    assert path.read_text() == 'cert-authority %s\n%s\n%s\n' % (ca, ca, other)
    # exclusive with the plain key removes the cert-authority line of the same key
    plan, result = run(tmp_path, key=ca, exclusive=True)
    assert path.read_text() == '%s\n' % ca
    assert sorted(k['action'] for k in result['keys']) == ['removed', 'removed', 'unchanged']


def test_both_kinds_of_one_key_in_one_task(keyset, tmp_path):
    ca = keyset.make('ed25519')
    path = write(tmp_path, '')
    plan, result = run(tmp_path, key=[ca, 'cert-authority ' + ca], exclusive=True)
    assert path.read_text() == '%s\ncert-authority %s\n' % (ca, ca)
    with pytest.raises(InvalidInput, match='same key'):
        run(tmp_path, key=['cert-authority ' + ca, 'cert-authority,principals="a" ' + ca])


def test_a_refused_line_keeps_its_kind(keyset):
    ca = keyset.make('ed25519')
    # sshd refuses the options after the flag; the line was still written as a CA line
    line = ParsedLine('cert-authority,frobnicate %s' % ca)
    assert line.options is None and line.cert_authority
    assert not ParsedLine('frobnicate,cert-authority %s' % ca).cert_authority
    model = AuthorizedKeys.parse(('%s\ncert-authority,frobnicate %s\n' % (ca, ca)).encode())
    assert [line.identity[1] for line in model.key_lines()] == [False, True]


def test_trailing_comma_in_the_options_parameter(keyset, tmp_path):
    key = keyset.make('ed25519')
    path = write(tmp_path, '')
    plan, result = run(tmp_path, key=key, options='no-pty,')
    assert path.read_text() == 'no-pty %s\n' % key
    plan, result = run(tmp_path, key=key, options='no-pty,,')
    assert not plan.changed
    with pytest.raises(InvalidInput, match='names no principal'):
        run(tmp_path, key=key, options='cert-authority,principals=""')


def test_options_parameter_is_read_as_a_line_reads_them(keyset, tmp_path):
    key = keyset.make('ed25519')
    path = write(tmp_path, 'command="a\rb" %s\n' % key)
    # sshd takes a CR inside quotes as part of the value: the same options given
    # as the parameter leave the line as it is
    plan, result = run(tmp_path, key=key, options='command="a\rb"')
    assert not plan.changed and path.read_bytes().decode() == 'command="a\rb" %s\n' % key
    with pytest.raises(InvalidInput, match='unknown key option'):
        run(tmp_path, key=key, options='no-pty\r')
