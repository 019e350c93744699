# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""provision's authorized_keys items naming the key of an account
(``{account: bob, key_name: id_ed25519}``): as it is or as the same call makes
it, predicted by check mode, read safely from bob's ~/.ssh; and every bad item
of every account reported in one error (real users, removed afterwards)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

SECRET = b'kpa-root-only-secret\n'


@pytest.fixture
def users(tmp_path):
    """Two real accounts (kpa prefix) with homes below tmp_path: {name: home}; removed afterwards."""
    tag = '%d%s' % (os.getpid() % 100000, os.path.basename(str(tmp_path))[-3:].replace('_', ''))
    made = {}
    for letter in 'ab':
        user = 'kpa%s%s' % (letter, tag)
        home = str(tmp_path / user)
        subprocess.check_call(['useradd', '-m', '-d', home, '-s', '/bin/sh', user], stderr=subprocess.DEVNULL)
        made[user] = home
    yield made
    for user in made:
        subprocess.call(['userdel', '-r', user], stderr=subprocess.DEVNULL)
        try:
            grp.getgrnam(user)
            subprocess.call(['groupdel', user], stderr=subprocess.DEVNULL)
        except KeyError:
            pass


def run(entries, check_mode=False, atomic=True, follow=False):
    """(plan, what the task returns), through run_operation."""
    return run_op(Provision(entries, atomic=atomic, follow=follow), check_mode)


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def give(user, *paths):
    """Make ``paths`` (made by root here: the account cannot reach tmp_path) the account's."""
    entry = pwd.getpwnam(user)
    for path in paths:
        os.lchown(path, entry.pw_uid, entry.pw_gid)


def ssh_dir_of(user, home):
    path = os.path.join(home, '.ssh')
    os.mkdir(path, 0o700)
    give(user, path)
    return path


def key_material(line):
    return line.split()[:2]


def test_key_generated_by_a_later_account_is_authorized_check_mode_predicts_it(users):
    alice, bob = sorted(users)
    entries = [
        {'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_ed25519', 'options': 'restrict'}]},
        {'name': bob, 'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519', 'passphrase': ''}]},
    ]
    authorized = os.path.join(users[alice], '.ssh', 'authorized_keys')
    check_plan, check = run(entries, check_mode=True)
    label = 'key id_ed25519 of %s, still to be generated' % bob
    assert any(label in action for action in check['actions']) and check['changed']
    assert any(label in diff['after'] for diff in check['diff'])
    assert not os.path.exists(authorized) and not os.path.exists(os.path.join(users[bob], '.ssh'))

    plan, real = run(entries)
    assert real['actions'] == check['actions'] and real['changed']
    pub = read(os.path.join(users[bob], '.ssh', 'id_ed25519.pub')).decode()
    lines = read(authorized).decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith('restrict ssh-ed25519 ')
    assert key_material(lines[0][len('restrict '):]) == key_material(pub)
    # the diff of the real run shows the real key, not the placeholder
    diff = [d for d in real['diff'] if d['after_header'].startswith(alice)][0]
    assert key_material(pub)[1] in diff['after'] and label not in diff['after']
    assert os.stat(authorized).st_uid == pwd.getpwnam(alice).pw_uid

    again_plan, again = run(entries)
    assert not again['changed'] and not again_plan.actions
    check_plan, check = run(entries, check_mode=True)
    assert not check['changed']


def test_two_accounts_authorize_each_others_new_keys_in_one_call(users):
    alice, bob = sorted(users)
    entries = [
        {'name': name, 'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519', 'passphrase': ''}],
         'authorized_keys': [{'account': other, 'key_name': 'id_ed25519'}]}
        for name, other in ((alice, bob), (bob, alice))
    ]
    dummy, result = run(entries, atomic=False)
    assert result['changed'] and not [a for a in result['accounts'] if a.get('failed')]
    for name, other in ((alice, bob), (bob, alice)):
        pub = read(os.path.join(users[other], '.ssh', 'id_ed25519.pub')).decode()
        lines = read(os.path.join(users[name], '.ssh', 'authorized_keys')).decode().splitlines()
        assert [key_material(line) for line in lines] == [key_material(pub)]
        assert lines[0].split()[2] == pub.split()[2]    # bob's comment kept
    dummy, again = run(entries, atomic=False)
    assert not again['changed']


def test_existing_key_of_an_account_outside_the_call_and_a_missing_one(users):
    alice, bob = sorted(users)
    key = os.path.join(ssh_dir_of(bob, users[bob]), 'id_ed25519')
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'bob@host', '-f', key],
                          stdin=subprocess.DEVNULL)
    give(bob, key, key + '.pub')
    entries = [{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_ed25519', 'comment': 'from bob'}]}]
    dummy, check = run(entries, check_mode=True)
    dummy, real = run(entries)
    assert check['actions'] == real['actions'] and real['changed']
    pub = read(os.path.join(users[bob], '.ssh', 'id_ed25519.pub')).decode()
    line = read(os.path.join(users[alice], '.ssh', 'authorized_keys')).decode().strip()
    assert key_material(line) == key_material(pub) and line.endswith(' from bob')
    dummy, again = run(entries)
    assert not again['changed']

    missing = [{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_rsa'}]}]
    with pytest.raises(KeysmithError) as error:
        run(missing, check_mode=True)
    assert 'key id_rsa of %s' % bob in error.value.msg and 'does not exist' in error.value.msg
    # a key this call removes, and revoking a key still to be made
    for entries, words in (
            ([{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_ed25519'}]},
              {'name': bob, 'ssh_keys': [{'name': 'id_ed25519', 'state': 'absent'}]}], 'is removed by'),
            ([{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_new', 'state': 'absent'}]},
              {'name': bob, 'ssh_keys': [{'name': 'id_new', 'type': 'ed25519'}]}], 'nothing to revoke'),
            ([{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_ed25519.pub'}]}], 'without .pub'),
            ([{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': '../id_ed25519'}]}], 'a slash')):
        with pytest.raises(KeysmithError) as error:
            run(entries, check_mode=True)
        assert words in error.value.msg, error.value.msg


@pytest.mark.parametrize('attack, follow', [
    ('symlink', False), ('symlink', True), ('hardlink', False), ('hardlink', True),  # follow: true changes nothing
    ('fifo', False), ('pem', False), ('private', False), ('two keys', False), ('bad line', False)])
def test_a_hostile_account_cannot_make_root_read_or_authorize_another_file(users, tmp_path, attack, follow):
    """bob's id_ed25519.pub is bob's: a link to a root-only file (holding a
    valid key line), a hard link, a fifo, a TLS PEM, a private key: refused,
    the content never shown, nothing authorized - also with follow: true."""
    alice, bob = sorted(users)
    ssh_dir = ssh_dir_of(bob, users[bob])
    secret = str(tmp_path / 'root-only.pub')
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ROOTONLY', '-f', secret[:-4]],
                          stdin=subprocess.DEVNULL)
    os.chmod(secret, 0o600)
    pub = os.path.join(ssh_dir, 'id_ed25519.pub')
    if attack == 'symlink':
        os.symlink(secret, pub)
        give(bob, pub)
    elif attack == 'hardlink':
        # planted by root here: the kernel's protected_hardlinks stops bob himself
        os.link(secret, pub)
    elif attack == 'fifo':
        os.mkfifo(pub, 0o600)
        give(bob, pub)
    else:
        content = {
            'pem': '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAROOTONLY0000000000000000000000000000000000=\n'
                   '-----END PUBLIC KEY-----\n',
            'private': read(secret[:-4]).decode(),
            'two keys': read(secret).decode() * 2,
            'bad line': 'ssh-ed25519 ROOTONLY-not-base64 comment\n',
        }[attack]
        with open(pub, 'w') as handle:
            handle.write(content)
        give(bob, pub)
    entries = [{'name': alice, 'authorized_keys': [{'account': bob, 'key_name': 'id_ed25519'}]}]
    with pytest.raises(KeysmithError) as error:
        run(entries, follow=follow)
    assert 'key id_ed25519 of %s' % bob in error.value.msg
    assert 'ROOTONLY' not in error.value.msg and 'BEGIN' not in error.value.msg
    assert not os.path.exists(os.path.join(users[alice], '.ssh', 'authorized_keys'))


def test_every_bad_item_of_every_account_is_reported_at_once(users):
    alice, bob = sorted(users)
    entries = [
        {'name': alice,
         'ssh_keys': [{'name': 'id_a', 'type': 'ed25519', 'size': 1024}, {'name': 'ok', 'type': 'ed25519'},
                      {'name': 'a/b', 'type': 'ed25519'}],
         'authorized_keys': [{'key': 'ssh-ed25519 notbase64'}, {'account': bob, 'key_name': 'x.pub'}],
         'ssl': [{'host': 'example.com', 'country': 'United States', 'province': 'Texas', 'city': 'Houston',
                  'company': 'Example', 'size': 12}]},
        {'name': bob, 'ssh_keys': [{'name': 'id_b', 'type': 'rsa', 'size': 100}]},
    ]
    with pytest.raises(KeysmithError) as error:
        run(entries)
    msg = error.value.msg
    for where in ('account %s (6 problems)' % alice, 'ssh_keys[0] (id_a)', 'ssh_keys[2] (a/b)', 'authorized_keys[0]',
                  'authorized_keys[1]', 'ssl[0] (example.com)', 'account %s, ssh_keys[0] (id_b)' % bob):
        assert where in msg, (where, msg)
    assert 'country' in msg and 'nothing was written' in msg
    assert not os.path.exists(os.path.join(users[alice], '.ssh'))
    # not atomic: each account fails with all its problems, the task lists both
    dummy, result = run(entries, atomic=False)
    assert result['failed'] and '2 of 2 accounts failed' in result['msg']
    failed = result['accounts'][0]
    assert failed['failed'] and 'ssh_keys[2] (a/b)' in failed['msg'] and 'ssl[0] (example.com)' in failed['msg']


def test_every_bad_account_entry_is_named():
    with pytest.raises(KeysmithError) as error:
        Provision([{'name': 'kpa-x'}, {'home': '/tmp'}, {'name': 'kpa-x'}, {'name': ''}])
    assert error.value.msg == ('accounts[1]: name is required; account kpa-x is listed twice in accounts; merge its '
                               'items; accounts[3]: name is required')
