# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_genkey's option rules (KeyPairSpec): names that stay in ~/.ssh, size
bounds and their edges, passphrase length, one-line comments, and imports that
must be what they claim (real ssh-keygen keys)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import (
    KeyPairSpec,
    resolve_bits,
    validate_key_name,
    validate_passphrase,
)


@pytest.fixture
def account(tmp_path):
    return Account.resolve(None, str(tmp_path))


@pytest.mark.parametrize('name, words', [
    ('a/b', 'a slash'), ('..', 'must not start with ".."'), ('..x', 'must not start with ".."'),
    ('.', 'must not start'), ('-oProxyCommand=x', 'must not start with "-"'), ('authorized_keys', 'reserved'),
    ('authorized_keys2', 'reserved'), ('config', 'reserved'), ('a\nb', 'a newline'), ('', 'must not be empty'),
])
def test_key_names_that_leave_or_break_ssh_dir(name, words):
    with pytest.raises(InvalidInput, match=words):
        validate_key_name(name)


@pytest.mark.parametrize('name', ['id_ed25519', '.hidden', 'a..b', 'x-'])
def test_key_names_allowed(name):
    assert validate_key_name(name) == name


def test_rsa_bits_edges():
    assert resolve_bits('rsa', None) == (4096, [])
    assert resolve_bits('rsa', 2048) == (2048, [])
    assert resolve_bits('rsa', 2047)[1] == ['rsa keys of 2047 bits are weak; use 2048 bits or more']
    assert resolve_bits('rsa', 16384) == (16384, [])
    for bits in (512, 1023, 16385):
        with pytest.raises(InvalidInput):
            resolve_bits('rsa', bits)


def test_passphrase_length_edge():
    assert validate_passphrase('abcd') == 'abcd'
    assert validate_passphrase('') is None
    with pytest.raises(InvalidInput) as caught:
        validate_passphrase('xq7')
    assert 'xq7' not in caught.value.msg


@pytest.mark.parametrize('comment', ['a\nb', 'a\rb', 'a\0b'])
def test_comment_is_one_line(account, comment):
    with pytest.raises(InvalidInput, match='single line'):
        KeyPairSpec(account, name='k', key_type='ed25519', comment=comment)


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp('spec-keys')
    made = {}
    for name, passphrase in (('one', ''), ('two', ''), ('locked', 'secret phrase')):
        path = directory / name
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-a', '1', '-N', passphrase, '-C', name, '-f', str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        made[name] = (path.read_text(), (directory / (name + '.pub')).read_text())
    subprocess.run(['ssh-keygen', '-q', '-s', str(directory / 'one'), '-I', 'c', '-n', 'x',
                    str(directory / 'two.pub')], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    made['cert'] = (None, (directory / 'two-cert.pub').read_text())
    return made


def test_import_of_a_matching_pair(account, keys):
    spec = KeyPairSpec(account, name='k', private_key=keys['one'][0], public_key=keys['one'][1])
    assert spec.importing and spec.key_type == 'ed25519'


def test_import_public_key_must_belong_to_the_private_key(account, keys):
    with pytest.raises(InvalidInput, match='is not the public key of private_key'):
        KeyPairSpec(account, name='k', private_key=keys['one'][0], public_key=keys['two'][1])


def test_import_of_a_certificate_is_refused(account, keys):
    with pytest.raises(InvalidInput, match='is a certificate'):
        KeyPairSpec(account, name='k', public_key=keys['cert'][1])


def test_import_of_a_private_key_as_public_key_is_named(account, keys):
    with pytest.raises(InvalidInput, match='public_key holds a private key'):
        KeyPairSpec(account, name='k', public_key=keys['one'][0])


def test_import_of_an_encrypted_key_needs_its_passphrase(account, keys):
    with pytest.raises(InvalidInput, match='protected by a passphrase'):
        KeyPairSpec(account, name='k', private_key=keys['locked'][0])
    spec = KeyPairSpec(account, name='k', private_key=keys['locked'][0], passphrase='secret phrase')
    assert spec.import_encrypted
