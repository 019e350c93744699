# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of tests/examples/run_examples.py (`make examples`): which documents it
runs, and that examples only ever reach throwaway accounts and scratch paths."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC = importlib.util.spec_from_file_location('run_examples', os.path.join(ROOT, 'tests', 'examples', 'run_examples.py'))
run_examples = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_examples)


def test_accounts_and_paths_are_renamed_in_values_only():
    renamer = run_examples.Renamer('kx01', '/tmp/scratch')
    task = {
        'name': "Give alice a key, alice@example.com",
        'keysmith.accounts.ssh_authkey': {
            'user': 'alice',
            'file': '/home/alice/.ssh/deploy.pub',
            'backup': True,                      # an option named like an account stays
            'key': ['{{ alice_key.public_key }}', 'ssh-ed25519 AAAA bob@laptop'],
        },
        'register': 'alice_key',                  # a variable named after an account stays
        'vars': {'dest': '/srv/deploy', 'other': '/root/x.pem', 'keep': '/etc/ssh/sshd_config'},
    }
    renamed = renamer(task)
    args = renamed['keysmith.accounts.ssh_authkey']
    assert args['user'] == 'kx01alice'
    assert args['file'] == '/home/kx01alice/.ssh/kx01deploy.pub'
    assert args['backup'] is True
    assert args['key'] == ['{{ alice_key.public_key }}', 'ssh-ed25519 AAAA kx01bob@laptop']
    assert renamed['register'] == 'alice_key'
    assert renamed['name'] == 'Give kx01alice a key, kx01alice@example.com'
    assert renamed['vars'] == {'dest': '/tmp/scratch/srv/kx01deploy', 'other': '/tmp/scratch/root/x.pem',
                               'keep': '/etc/ssh/sshd_config'}
    assert renamer.used == {'kx01alice', 'kx01bob', 'kx01deploy'}
    # accounts are made only for names used as accounts, not for kx01bob@laptop
    assert run_examples.account_names(renamed, 'kx01') == {'kx01alice'}


def test_host_names_are_not_renamed_and_become_inventory_aliases():
    renamer = run_examples.Renamer('kx01', '/tmp/scratch')
    play = {'hosts': 'webservers', 'roles': [{'role': 'keysmith.accounts.key_rotation', 'vars': {
        'key_rotation_user': 'deploy', 'key_rotation_key_host': 'ci.example.com'}}],
        'tasks': [{'ansible.builtin.debug': {'msg': '{{ deploy.public_key }}'}, 'delegate_to': 'git.example.com'}]}
    renamed = renamer(play)
    role_vars = renamed['roles'][0]['vars']
    assert role_vars == {'key_rotation_user': 'kx01deploy', 'key_rotation_key_host': 'ci.example.com'}
    assert renamed['tasks'][0]['ansible.builtin.debug']['msg'] == '{{ kx01deploy.public_key }}'
    assert run_examples.delegated_hosts([renamed]) == {'ci.example.com', 'git.example.com'}
    # an account option of a role is an account: checked and created
    assert run_examples.account_names(renamed, 'kx01') == {'kx01deploy'}
    with pytest.raises(SystemExit, match="add 'mallory' to ACCOUNTS"):
        run_examples.check_accounts('doc', {'key_rotation_user': 'mallory'}, 'kx01')


def test_a_vars_file_runs_as_its_playbook():
    renamer = run_examples.Renamer('kx03', '/tmp/scratch')
    plays = run_examples.plays_of('playbooks/README.md', ['accounts:\n  - name: deploy\n'], renamer, {}, [])
    assert plays == [{'name': 'playbooks/README.md: block 1, vars for keysmith.accounts.provision_accounts',
                      'ansible.builtin.import_playbook': 'keysmith.accounts.provision_accounts',
                      'vars': {'accounts': [{'name': 'kx03deploy'}], 'target_hosts': 'localhost'}}]


@pytest.mark.parametrize('task', [
    {'name': 'a real account', 'keysmith.accounts.ssh_genkey': {'user': 'mallory', 'name': 'id_rsa'}},
    {'name': 'an owner', 'ansible.builtin.copy': {'dest': '/tmp/x', 'owner': 'www-data', 'content': 'x'}},
    {'name': 'a role item', 'ansible.builtin.include_role': {'name': 'keysmith.accounts.account'},
     'vars': {'account_users': [{'name': 'mallory'}]}},
])
def test_an_account_outside_the_mapping_is_refused(task):
    renamer = run_examples.Renamer('kx01', '/tmp/scratch')
    with pytest.raises(SystemExit, match='not a throwaway account'):
        run_examples.check_accounts('doc.md', renamer([task]), 'kx01')


def test_templated_and_root_accounts_pass():
    tasks = [{'name': 'x', 'keysmith.accounts.ssh_genkey': {'user': '{{ who }}'}},
             {'name': 'y', 'ansible.builtin.copy': {'owner': 'root', 'dest': '/tmp/y', 'content': 'y'}}]
    run_examples.check_accounts('doc.md', tasks, 'kx01')


def test_every_module_and_documentation_page_with_yaml_is_run():
    docs = dict(run_examples.documents())
    modules = [os.path.relpath(path, ROOT) for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
               if not path.endswith('__init__.py')]
    assert set(modules) <= set(docs)
    pages = [os.path.relpath(path, ROOT) for path in
             glob.glob(os.path.join(ROOT, 'docs', '**', '*.md'), recursive=True)
             + glob.glob(os.path.join(ROOT, 'roles', '*', 'README.md')) + [os.path.join(ROOT, 'README.md')]]
    with_yaml = [page for page in pages if '```yaml' in run_examples.read(os.path.join(ROOT, page))
                 and not page.startswith(tuple(run_examples.EXCLUDED_DOCS))]
    assert with_yaml and set(with_yaml) <= set(docs)
    # generated module pages: only the "try it" playbook, the EXAMPLES run from the module
    for page, blocks in docs.items():
        if page.startswith('docs/modules/'):
            assert len(blocks) == 1 and blocks[0].lstrip().startswith('- name: Try ')


def test_task_lists_become_localhost_plays_and_other_yaml_is_no_example(capsys):
    renamer = run_examples.Renamer('kx02', '/tmp/scratch')
    blocks = ['accounts:\n  - name: alice\n',
              '- name: a task\n  ansible.builtin.debug:\n    msg: hi\n',
              '- name: a play\n  hosts: webservers\n  tasks: []\n']
    plays = run_examples.plays_of('doc.md', blocks, renamer, {'m': {}}, [])
    assert [play['hosts'] for play in plays] == ['localhost', 'webservers']
    assert plays[0]['tasks'][0]['name'] == 'a task'
    assert run_examples.host_groups(plays) == {'webservers'}
    assert 'doc.md block 1: not a playbook or task list' in capsys.readouterr().out
