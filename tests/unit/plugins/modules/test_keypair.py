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
