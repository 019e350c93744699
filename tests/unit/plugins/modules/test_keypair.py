# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The keypair and keypair_info modules run as Ansible runs them: a process with an args file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.keysmith.accounts.plugins.modules import keypair as keypair_module
from ansible_collections.keysmith.accounts.plugins.modules import keypair_info as keypair_info_module


def call(module, tmp_path, **args):
    args.setdefault('registry', str(tmp_path / 'reg'))
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop('SUDO_USER', None)
    out = subprocess.run([sys.executable, module.__file__, str(args_file)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=str(tmp_path), check=False)
    return json.loads(out.stdout.decode())


def test_create_rerun_list_delete(tmp_path):
    created = call(keypair_module, tmp_path, name='web_1', type='ed25519')
    assert created['changed'] and not created.get('failed')
    assert created['private_key'].startswith('-----BEGIN OPENSSH PRIVATE KEY-----')
    assert 'no_log' in json.dumps(created['warnings'])  # 2.19 wraps warnings in objects
    again = call(keypair_module, tmp_path, name='web_1', type='ed25519')
    assert not again['changed'] and 'private_key' not in again
    listed = call(keypair_info_module, tmp_path)
    assert listed['keypairs'] == [created['keypair']]
    assert not listed['changed']
    by_id = call(keypair_info_module, tmp_path, id=created['keypair']['id'])
    assert by_id['keypairs'] == [created['keypair']]
    removed = call(keypair_module, tmp_path, id=created['keypair']['id'], state='absent')
    assert removed['changed']
    assert not call(keypair_module, tmp_path, id=created['keypair']['id'], state='absent')['changed']
    assert call(keypair_info_module, tmp_path, name='web_1')['keypairs'] == []


def test_check_mode_and_diff(tmp_path):
    result = call(keypair_module, tmp_path, name='web_1', type='ed25519', _ansible_check_mode=True,
                  _ansible_diff=True)
    assert result['changed'] and result['keypair']['id'] is None
    assert 'type: ed25519' in result['diff']['after']
    assert not (tmp_path / 'reg').exists()


@pytest.mark.parametrize('args, words', [
    (dict(name='bad-name'), 'only letters, digits and "_"'),
    (dict(name='a' * 26), 'at most 25'),
    (dict(id='skey-abcdefgh'), 'missing: name'),
    (dict(name='k', owner='root'), 'owner'),
    (dict(name='k', public_key='ssh-ed25519 AAAA', private_key_path='/tmp/x'), 'mutually exclusive'),
    (dict(name='k', type='dsa'), 'value of type must be one of'),
])
def test_bad_arguments_fail_cleanly(tmp_path, args, words):
    result = call(keypair_module, tmp_path, **args)
    assert result['failed']
    assert words in result['msg']
    assert not (tmp_path / 'reg').exists()


def test_info_of_a_missing_registry(tmp_path):
    result = call(keypair_info_module, tmp_path, name='nothing')
    assert not result.get('failed')
    assert result['keypairs'] == [] and 'does not exist' in result['msg']


def test_no_private_key_warning_when_the_task_has_no_log(tmp_path):
    # The warning asks for no_log: a task that has it gets no (false) warning, one that lacks it does.
    hidden = call(keypair_module, tmp_path, name='web_1', type='ed25519', _ansible_no_log=True)
    assert hidden['changed'] and hidden['private_key']
    assert 'no_log' not in json.dumps(hidden.get('warnings', []))
    shown = call(keypair_module, tmp_path, name='web_2', type='ed25519')
    assert 'no_log' in json.dumps(shown['warnings'])


@pytest.mark.parametrize('key_type, fmt, header', [
    ('rsa', 'pkcs1', '-----BEGIN RSA PRIVATE KEY-----'),   # Tencent Cloud's secretkey
    ('ecdsa', 'pkcs1', '-----BEGIN EC PRIVATE KEY-----'),
    ('rsa', 'pkcs8', '-----BEGIN PRIVATE KEY-----'),
    ('ed25519', 'pkcs8', '-----BEGIN PRIVATE KEY-----'),
    ('ed25519', 'openssh', '-----BEGIN OPENSSH PRIVATE KEY-----'),
])
def test_private_key_format(tmp_path, key_type, fmt, header):
    result = call(keypair_module, tmp_path, name='k', type=key_type, size=2048 if key_type == 'rsa' else None,
                  private_key_format=fmt, _ansible_no_log=True)
    assert result['private_key'].startswith(header)
    # The private key is the key pair's (ssh-keygen cannot read ed25519 in PKCS#8: cryptography does).
    serialization = pytest.importorskip('cryptography.hazmat.primitives.serialization')
    data = result['private_key'].encode()
    load = serialization.load_ssh_private_key if fmt == 'openssh' else serialization.load_pem_private_key
    derived = load(data, None).public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                         serialization.PublicFormat.OpenSSH).decode()
    assert derived.split()[:2] == result['keypair']['public_key'].split()[:2]
    # A rerun keeps the key pair, whatever the format.
    assert not call(keypair_module, tmp_path, name='k', type=key_type, private_key_format=fmt,
                    size=2048 if key_type == 'rsa' else None)['changed']


def test_pkcs1_ed25519_is_an_error(tmp_path):
    result = call(keypair_module, tmp_path, name='k', type='ed25519', private_key_format='pkcs1')
    assert result['failed'] and 'pkcs1' in result['msg']
    assert not (tmp_path / 'reg').exists()


def test_diff_names_the_entry_and_shows_the_assigned_id(tmp_path, tmp_path_factory):
    public = tmp_path_factory.mktemp('k17-pub') / 'id'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(public)], check=True)
    for args in (dict(name='made', type='ed25519'),
                 dict(name='imported', public_key=(public.parent / 'id.pub').read_text())):
        result = call(keypair_module, tmp_path, _ansible_diff=True, _ansible_no_log=True, **args)
        entry = str(tmp_path / 'reg' / (args['name'] + '.json'))
        assert result['diff']['before_header'] == result['diff']['after_header'] == entry
        assert 'id: %s' % result['keypair']['id'] in result['diff']['after']
        assert 'assigned on creation' not in result['diff']['after']
