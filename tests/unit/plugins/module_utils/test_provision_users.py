# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""provision creates missing users and groups (real useradd/groupadd, users removed afterwards)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

HASH = '$6$ks18salt$3zQKf0m6cZy8o0cXs5mNqCE3v7dG2kq2xk8Jk0XmTqUq0a8qJw0eLx8r7l6v0dS7Qb1bX0ZqV2p3m4n5o6p7q.'


def shadow_hash(user):
    with open('/etc/shadow') as handle:
        for line in handle:
            fields = line.split(':')
            if fields[0] == user:
                return fields[1]
    return None


def exists(lookup, name):
    try:
        lookup(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def names(tmp_path):
    """Unique ks18 user and group names; whatever a test created is removed."""
    tag = '%d%s' % (os.getpid() % 100000, os.path.basename(str(tmp_path))[-4:].replace('_', ''))
    made = {'users': ['ks18u%s' % tag, 'ks18v%s' % tag], 'groups': ['ks18g%s' % tag, 'ks18h%s' % tag]}
    yield made
    for user in made['users']:
        if exists(pwd.getpwnam, user):
            subprocess.call(['userdel', '-r', user], stderr=subprocess.DEVNULL)
    for group in made['groups'] + made['users']:
        if exists(grp.getgrnam, group):
            subprocess.call(['groupdel', group], stderr=subprocess.DEVNULL)


def run(entries, check_mode=False, atomic=False):
    """Plan and (unless check mode) apply, by run_operation: (plan, what the task returns)."""
    return run_op(Provision(entries, atomic=atomic), check_mode)


def entry(user, home, **extra):
    item = {'name': user, 'home': home, 'create': True, 'shell': '/bin/sh', 'password': HASH,
            'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}]}
    item.update(extra)
    return item


def test_check_mode_predicts_creation_and_writes_nothing(names, tmp_path):
    user, group = names['users'][0], names['groups'][0]
    home = str(tmp_path / user)
    plan, result = run([entry(user, home, group=group)], check_mode=True)
    assert plan.describe()[:2] == ['create group %s' % group, 'create user %s (group %s)' % (user, group)]
    assert any(action.startswith('generate ') for action in plan.describe())
    assert not [text for text in result['warnings'] if "does not exist" in text]  # this call creates it
    account = result['accounts'][0]
    assert account['changed'] and account['items'][0] == {
        'kind': 'user', 'item': 'user', 'changed': True, 'user': user, 'created': True,
        'actions': plan.describe()[:2], 'groups_created': [group]}
    assert not exists(pwd.getpwnam, user) and not exists(grp.getgrnam, group) and not os.path.exists(home)


def test_creates_user_groups_and_keys_in_one_call_then_unchanged(names, tmp_path):
    user, group, extra_group = names['users'][0], names['groups'][0], names['groups'][1]
    home = str(tmp_path / user)
    wanted = [entry(user, home, group=group, groups=[extra_group], uid=None, comment='ks18 test')]
    plan, result = run(wanted)
    entry_pw = pwd.getpwnam(user)
    assert entry_pw.pw_dir == home and entry_pw.pw_shell == '/bin/sh' and entry_pw.pw_gecos == 'ks18 test'
    assert grp.getgrgid(entry_pw.pw_gid).gr_name == group and user in grp.getgrnam(extra_group).gr_mem
    assert shadow_hash(user) == HASH
    key = os.path.join(home, '.ssh', 'id_ed25519')
    assert os.stat(key).st_uid == entry_pw.pw_uid
    items = result['accounts'][0]['items']
    assert [i['kind'] for i in items] == ['user', 'ssh_key'] and items[0]['created']
    assert items[0]['groups_created'] == [group, extra_group]
    # the key items were planned again for the real account and applied
    assert result['actions'][:3] == ['create group %s' % group, 'create group %s' % extra_group,
                                     'create user %s (group %s, groups %s)' % (user, group, extra_group)]
    assert any(a.startswith('generate %s' % key) for a in result['actions'])
    assert items[1]['changed'] and items[1]['type'] == 'ed25519'
    text = json.dumps(result)
    assert HASH not in text and 'ks18salt' not in text
    plan, result = run(wanted)
    assert not plan.changed and not result['accounts'][0]['changed']
    assert result['accounts'][0]['items'][0]['created'] is False


def test_existing_user_is_left_as_it_is(names, tmp_path):
    user = names['users'][0]
    subprocess.check_call(['useradd', '-M', '-s', '/bin/false', user])
    plan, result = run([entry(user, str(tmp_path / 'h'), shell='/bin/sh', uid=None)], check_mode=True)
    assert not any(a.startswith('create user') for a in plan.describe())
    assert ['account %s, user: user %s exists with shell /bin/false, not /bin/sh: left as it is (provision only '
            'creates missing users; change existing ones with ansible.builtin.user)' % (user, user)] == [
        text for text in result['warnings'] if 'exists with' in text]
    run([entry(user, str(tmp_path / 'h'))])
    assert pwd.getpwnam(user).pw_shell == '/bin/false'


def test_atomic_bad_user_option_writes_nothing(names, tmp_path):
    good, bad = names['users']
    entries = [entry(good, str(tmp_path / good)), entry(bad, str(tmp_path / bad), shell='sh')]
    with pytest.raises(KeysmithError, match='account %s, user: shell must be an absolute path' % bad):
        run(entries, atomic=True)
    assert not exists(pwd.getpwnam, good) and not exists(pwd.getpwnam, bad)


def test_failed_creation_fails_the_account_and_others_go_on(names, tmp_path):
    first, second = names['users']
    taken_uid = pwd.getpwnam('root').pw_uid
    entries = [entry(first, str(tmp_path / first), uid=taken_uid), entry(second, str(tmp_path / second))]
    plan, result = run(entries)
    failed, done = result['accounts']
    assert failed['failed'] and 'useradd %s failed' % first in failed['msg'] and HASH not in failed['msg']
    assert not exists(pwd.getpwnam, first) and not os.path.exists(str(tmp_path / first))
    assert done['changed'] and os.path.exists(os.path.join(str(tmp_path / second), '.ssh', 'id_ed25519'))
    assert result['failed'] and result['msg'].startswith('1 of 2 accounts failed')


def test_keys_of_users_being_created_are_computed_ahead_while_they_are_created(names, tmp_path, monkeypatch):
    import threading
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    threads, real = [], tls_keys.generate

    def generate(key_type, size):
        threads.append(threading.current_thread().name)
        return real(key_type, size)
    monkeypatch.setattr(tls_keys, 'generate', generate)
    entries = []
    for user in names['users']:
        item = entry(user, str(tmp_path / user))
        item['ssl'] = [{'host': '%s.example.com' % user, 'country': 'US', 'province': 'Texas', 'city': 'Houston',
                        'company': 'Example', 'type': 'rsa', 'size': 2048}]
        entries.append(item)
    plan, result = run(entries)
    assert not result.get('failed')
    # one key per account, computed for the predicted plan and taken over by the plan made for the new user
    assert len(threads) == 2 and 'MainThread' not in threads
    for user in names['users']:
        home = tmp_path / user
        key = str(home / 'ssl' / 'keys' / ('%s.example.com.key' % user))
        assert os.stat(key).st_uid == pwd.getpwnam(user).pw_uid
        from_key = subprocess.check_output(['openssl', 'pkey', '-in', key, '-pubout'])
        from_csr = subprocess.check_output(['openssl', 'req', '-noout', '-pubkey', '-verify', '-in',
                                            str(home / 'ssl' / 'csrs' / ('%s.example.com.csr' % user))],
                                           stderr=subprocess.DEVNULL)
        assert from_key == from_csr
