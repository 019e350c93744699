# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-playbook keysmith.accounts.demo` writes into the directory it runs in,
not into the installed collection, and a failed item does not print the demo
passphrases (they are not part of the loop items)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DEMO = os.path.join(ROOT, 'playbooks', 'demo.yml')
# ROOT is ansible_collections/keysmith/accounts when the tests run on the placed collection.
COLLECTIONS = os.path.dirname(os.path.dirname(os.path.dirname(ROOT)))


def load():
    with open(DEMO) as stream:
        return yaml.safe_load(stream)[0]


def test_passphrases_are_not_in_the_loop_items():
    play = load()
    for account in play['vars']['demo_accounts']:
        assert 'passphrase' not in account and 'pass' not in account
    assert set(play['vars']['demo_passphrases']) == set(a['name'] for a in play['vars']['demo_accounts'])


@pytest.mark.skipif(not ROOT.endswith(os.path.join('ansible_collections', 'keysmith', 'accounts')),
                    reason='needs the collection placed under ansible_collections/ (make units does)')
def test_demo_by_name_writes_into_the_working_directory(tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PWD=str(tmp_path), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_NOCOLOR='1',
               PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''))
    # bob's item fails (a passphrase of 3 characters): its result must not show any passphrase
    proc = subprocess.run([os.path.join(bin_dir, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-v',
                           '-e', '{"demo_passphrases": {"alice": "alice demo passphrase", "bob": "bad",'
                                 ' "carol": ""}}',
                           'keysmith.accounts.demo'], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    output = proc.stdout.decode()
    assert proc.returncode != 0 and 'bob' in output
    assert 'alice demo passphrase' not in output and '"bad"' not in output
    assert (tmp_path / 'demo-output' / 'alice' / '.ssh' / 'id_ed25519').exists()
    assert not os.path.exists(os.path.join(ROOT, 'demo-output'))
