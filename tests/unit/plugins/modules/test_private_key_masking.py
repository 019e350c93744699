# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private key given where a public key belongs is refused, and masked in the
result (``invocation``, shown at -vvv and stored by AWX), the message and the
module's log (syslog/journal), as AnsibleModule's ``no_log_values`` does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible.module_utils import basic
from ansible_collections.keysmith.accounts.plugins.modules import provision as provision_module
from ansible_collections.keysmith.accounts.plugins.modules import ssh_authkey as ssh_authkey_module
from ansible_collections.keysmith.accounts.plugins.modules import ssh_genkey as ssh_genkey_module

# Runs a module as Ansible does, with its log (syslog, or the journal) written to a file.
RUNNER = r'''
import sys, runpy
import ansible.module_utils.basic as basic
log_path, module_path, args_path = sys.argv[1:4]
def log(*args, **kwargs):
    with open(log_path, 'a') as stream:
        stream.write(repr(args) + repr(kwargs) + '\n')
basic.has_journal = False
basic.syslog.syslog = log
basic.syslog.openlog = lambda *args, **kwargs: None
sys.argv = [module_path, args_path]
runpy.run_path(module_path, run_name='__main__')
'''


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    """A fresh key pair (never a literal private key in the tests)."""
    directory = tmp_path_factory.mktemp('k17-masking')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'masking@test',
                    '-f', str(directory / 'id')], check=True)
    return (directory / 'id').read_text(), (directory / 'id.pub').read_text().strip()


def run(module, tmp_path, args):
    if 'inject_invocation' in open(basic.__file__).read():
        # ansible-core 2.20+ returns the invocation only when asked (as -vvv does)
        args = dict(args, _ansible_inject_invocation=True)
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    log_file = tmp_path / 'module.log'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, '-c', RUNNER, str(log_file), module.__file__, str(args_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path), check=False)
    output = proc.stdout.decode()
    log = log_file.read_text() if log_file.exists() else ''
    return json.loads(output), output, log


def assert_masked(private_key, output, log):
    body = [line for line in private_key.splitlines() if line and not line.startswith('-----')]
    for text in (output, log):
        assert 'PRIVATE KEY-----' not in text
        for line in body:
            assert line not in text


@pytest.mark.parametrize('module, args, refusal', [
    (ssh_authkey_module, lambda key, pub, home: dict(home=home, key=key), 'looks like a private key'),
    (ssh_authkey_module, lambda key, pub, home: dict(home=home, key=[pub, key]), 'private key'),
    (ssh_genkey_module, lambda key, pub, home: dict(home=home, name='id_x', public_key=key), 'public_key holds a private key'),
    (provision_module,
     lambda key, pub, home: dict(accounts=[dict(name='root', home=home, authorized_keys=[dict(key=key)])]),
     'private key'),
])
def test_private_key_in_a_public_option_is_masked(tmp_path, keys, module, args, refusal):
    private_key, public_key = keys
    home = str(tmp_path / 'home')
    result, output, log = run(module, tmp_path, args(private_key, public_key, home))
    assert result['failed'] and refusal in result['msg']
    # the whole value is replaced (VALUE_SPECIFIED_IN_NO_LOG_PARAMETER), a part of one by ********
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in json.dumps(result['invocation'])
    assert 'Invoked with' in log   # the log was written, and masked
    assert_masked(private_key, output, log)


def test_validation_error_still_masks(tmp_path, keys):
    private_key = keys[0]
    # Argument validation fails before the invocation is logged; the result is masked all the same.
    result, output, log = run(ssh_authkey_module, tmp_path, dict(key=private_key, exclusive='maybe'))
    assert result['failed'] and 'exclusive' in result['msg']
    assert_masked(private_key, output, log)


def test_public_values_are_not_masked(tmp_path):
    result, _output, _log = run(ssh_authkey_module, tmp_path,
                                dict(home=str(tmp_path / 'home'), key='ssh-ed25519 AAAA-not-base64 x'))
    assert result['failed']
    assert result['invocation']['module_args']['key'] == 'ssh-ed25519 AAAA-not-base64 x'
