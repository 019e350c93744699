# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the key model and the readers around it (ssh-keygen keys): one line
of key text, key data of the type it claims, sizes; ssh_key_info's bounds and
verdicts; PuTTY files checked by their MAC and bounded in Argon2 cost; the
ssh_genkey report showing public data only and check mode as a prediction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import struct
import subprocess
import types

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeyLoadError, TooExpensive
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import FileState
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey import report
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


def _string(data):
    return struct.pack('>I', len(data)) + data


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    """name -> (private path, public line): two ed25519 keys and a 1024-bit rsa key."""
    directory = tmp_path_factory.mktemp('key-rules')
    made = {}
    for name, args in (('a', ['-t', 'ed25519']), ('b', ['-t', 'ed25519']), ('rsa', ['-t', 'rsa', '-b', '1024'])):
        path = directory / name
        subprocess.run(['ssh-keygen', '-q'] + args + ['-N', '', '-C', 'c-' + name, '-f', str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        made[name] = (path, (directory / (name + '.pub')).read_text().strip())
    return made


# --------------------------------------------------------------------------- public_key

def test_key_text_is_one_line(keys):
    line = keys['a'][1]
    with pytest.raises(InvalidInput, match='single line'):
        PublicKey.from_line(line + '\n' + keys['b'][1])
    with pytest.raises(InvalidInput, match='single line'):
        PublicKey.from_line(line + '\rx')
    with pytest.raises(InvalidInput, match='longer than'):
        PublicKey.from_line('ssh-ed25519 ' + 'A' * 70000)


def test_key_data_of_the_type_it_claims(keys):
    b64 = keys['a'][1].split()[1]
    blob = base64.b64decode(b64)
    with pytest.raises(InvalidInput, match='of type ssh-ed25519, not ssh-rsa'):
        PublicKey.from_line('ssh-rsa ' + b64)
    for bad in (_string(b'ssh-ed25519') + _string(b'x' * 31), blob + b'\0'):
        with pytest.raises(InvalidInput):
            PublicKey.from_line('ssh-ed25519 ' + base64.b64encode(bad).decode('ascii'))


def test_sizes_and_identity(keys):
    assert PublicKey.from_line(keys['rsa'][1]).size == 1024
    a, b = PublicKey.from_line(keys['a'][1]), PublicKey.from_line(keys['b'][1])
    assert a.size == 256 and not a.same_key(b) and a.same_key(PublicKey.from_line(keys['a'][1] + 'x'))


# --------------------------------------------------------------------------- ssh_key_info

def _info(home):
    operation = SshKeyInfo(KeyInfoSpec(Account.resolve(None, str(home))))
    plan = operation.plan()
    return operation, plan


def test_key_info_verdicts_and_bounds(tmp_path, keys):
    ssh = tmp_path / '.ssh'
    ssh.mkdir()
    (ssh / 'id_a').write_bytes(keys['a'][0].read_bytes())
    (ssh / 'id_a.pub').write_text(keys['b'][1] + '\n')      # the public key of another key
    (ssh / 'id_b').write_bytes(keys['b'][0].read_bytes())
    (ssh / 'id_b.pub').write_text(keys['b'][1] + '\n')
    (ssh / 'id_rsa.pub').write_text(keys['rsa'][1] + '\n')
    (ssh / 'authorized_keys').write_text(keys['rsa'][1] + '\n')
    (ssh / 'huge').write_bytes(b'-----BEGIN OPENSSH PRIVATE KEY-----\n' + b'A' * (300 * 1024))
    operation, plan = _info(tmp_path)
    assert operation.skipped == ['huge']
    assert any(text.startswith('skipped huge:') and 'larger than' in text for text in plan.warnings)
    assert any('id_a.pub does not hold the public key of' in text for text in plan.warnings)
    by_name = dict((entry['name'], entry) for entry in operation.keys)
    assert sorted(by_name) == ['id_a', 'id_b', 'id_rsa']
    assert by_name['id_rsa']['authorized'] and not by_name['id_b']['authorized'] and not by_name['id_a']['authorized']


# --------------------------------------------------------------------------- PuTTY files

@pytest.fixture(scope='module')
def key_objects(keys):
    from cryptography.hazmat.primitives import serialization
    return dict((name, serialization.load_ssh_private_key(keys[name][0].read_bytes(), None)) for name in ('a', 'b'))


def test_a_tampered_ppk_is_refused(key_objects):
    data = ppk.export_key(key_objects['a'], 'mine')
    assert ppk.PpkFile(data).private_blob()
    assert ppk.check_ppk(data, key_objects['a'], 'mine') is None
    tampered = data.replace(b'Comment: mine', b'Comment: mind')
    with pytest.raises(KeyLoadError, match='MAC does not match'):
        ppk.PpkFile(tampered).private_blob()
    assert ppk.check_ppk(data, key_objects['b'], 'mine') == 'it holds another key'
    assert ppk.check_ppk(data, key_objects['a'], 'mine', passphrase='secret phrase') == \
        'it is not protected by a passphrase'


def test_argon2_cost_of_a_ppk_is_bounded(key_objects):
    data = ppk.export_key(key_objects['a'], 'mine', 'secret phrase')
    text = data.decode('ascii')
    passes = [line for line in text.splitlines() if line.startswith('Argon2-Passes: ')][0]
    costly = text.replace(passes, 'Argon2-Passes: 1000').encode('ascii')
    with pytest.raises(TooExpensive, match='1000 passes'):
        ppk.PpkFile(costly).private_blob('secret phrase')
    memory = [line for line in text.splitlines() if line.startswith('Argon2-Memory: ')][0]
    costly = text.replace(memory, 'Argon2-Memory: %d' % (1024 * 1024)).encode('ascii')
    with pytest.raises(TooExpensive):
        ppk.PpkFile(costly).private_blob('secret phrase')


# --------------------------------------------------------------------------- the ssh_genkey report

def test_the_report_shows_public_data_only(keys):
    planted = FileState('/h/.ssh/id.pub', True, b'-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n')
    assert report.public_view(planted) == {'public_key': '(unreadable public key file)'}
    assert report.public_view(FileState('/h/.ssh/id.pub')) == {'public_key': '(no public key file)'}
    good = FileState('/h/.ssh/id.pub', True, (keys['a'][1] + '\n').encode('ascii'))
    assert report.public_view(good)['public_key'] == keys['a'][1]


def test_check_mode_messages_are_predictions(keys):
    key = PublicKey.from_line(keys['a'][1])
    spec = types.SimpleNamespace(key_type='ed25519', path='/h/.ssh/id', public_path='/h/.ssh/id.pub')
    assert report.reason_text(spec, key, 'installed', False).startswith('Would install the ed25519 public key')
    assert report.reason_text(spec, key, 'installed', True).startswith('Installed the ed25519 public key')
    assert report.reason_text(spec, key, 'imported', False).startswith('Would import the ed25519 key pair')
    assert report.reason_text(spec, key, 'imported', True).startswith('Imported the ed25519 key pair')
    assert os.path.basename(spec.path) == 'id'
