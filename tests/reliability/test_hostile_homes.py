# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile homes (issue 10): real accounts whose ~/.ssh is a trap.

Run as root for account ``victim``: the modules must refuse with a clear
error, write nothing outside the victim's home and change nothing at all
(the victim's home, the other account's home and the /etc files the links aim
at are compared before and after, content, owner, mode, link count, mtime).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from conftest import etc_snapshot, run_module, snapshot

FIGURES = []


@pytest.fixture(scope='module')
def pubkey(tmp_path_factory):
    directory = tmp_path_factory.mktemp('hostilekeys')
    path = str(directory / 'k')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'hostile', '-f', path], check=True)
    with open(path + '.pub') as handle:
        return handle.read().strip()


def _setup_other(other):
    """The other account's ~/.ssh/authorized_keys and id_ed25519, owned by it."""
    ssh = os.path.join(other.pw_dir, '.ssh')
    os.mkdir(ssh, 0o700)
    os.chown(ssh, other.pw_uid, other.pw_gid)
    for name, data in (('authorized_keys', b'# other account\n'), ('id_ed25519', b'not yours\n')):
        path = os.path.join(ssh, name)
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chown(path, other.pw_uid, other.pw_gid)
        os.chmod(path, 0o600)
    return ssh


def _trap(case, victim, other):
    home = victim.pw_dir
    ssh = os.path.join(home, '.ssh')
    other_ssh = _setup_other(other)
    if case == 'ssh_dir_symlink_to_etc':
        os.symlink('/etc', ssh)
    elif case == 'ssh_dir_symlink_to_other_home':
        os.symlink(other_ssh, ssh)
    elif case == 'ssh_dir_owned_by_other':
        os.mkdir(ssh, 0o700)
        os.chown(ssh, other.pw_uid, other.pw_gid)
    elif case == 'ssh_is_a_file':
        with open(ssh, 'wb') as handle:
            handle.write(b'a file where ~/.ssh should be\n')
        os.chown(ssh, victim.pw_uid, victim.pw_gid)
    else:
        os.mkdir(ssh, 0o700)
        os.chown(ssh, victim.pw_uid, victim.pw_gid)
        target = os.path.join(ssh, 'authorized_keys')
        private = os.path.join(ssh, 'id_ed25519')
        if case == 'file_symlink_to_etc':
            os.symlink('/etc/passwd', target)
            os.symlink('/etc/shadow', private)
        elif case == 'file_symlink_to_other':
            os.symlink(os.path.join(other_ssh, 'authorized_keys'), target)
            os.symlink(os.path.join(other_ssh, 'id_ed25519'), private)
        elif case == 'file_hard_link_to_other':
            os.link(os.path.join(other_ssh, 'authorized_keys'), target)
            os.link(os.path.join(other_ssh, 'id_ed25519'), private)
        elif case == 'file_owned_by_other':
            for path in (target, private):
                with open(path, 'wb') as handle:
                    handle.write(b'# planted\n')
                os.chown(path, other.pw_uid, other.pw_gid)
        elif case == 'file_is_a_directory':
            os.mkdir(target)
            os.mkdir(private)
        else:
            raise AssertionError(case)
    return ssh


CASES = [
    ('ssh_dir_symlink_to_etc', 'is a symbolic link'),
    ('ssh_dir_symlink_to_other_home', 'is a symbolic link'),
    ('ssh_dir_owned_by_other', 'is owned by uid'),
    ('ssh_is_a_file', 'is not a directory'),
    ('file_symlink_to_etc', 'is a symbolic link'),
    ('file_symlink_to_other', 'is a symbolic link'),
    ('file_hard_link_to_other', 'hard links'),
    ('file_owned_by_other', 'is owned by uid'),
    ('file_is_a_directory', 'not a regular file'),
]

MODULES = [
    ('ssh_authkey', lambda key: dict(key=key)),
    ('ssh_authkey_backup_exclusive', lambda key: dict(key=key, backup=True, exclusive=True)),
    ('ssh_genkey', lambda key: dict(name='id_ed25519', type='ed25519')),
    ('ssh_genkey_regenerate', lambda key: dict(name='id_ed25519', type='ed25519', regenerate='always')),
]


@pytest.mark.parametrize('module', [m[0] for m in MODULES])
@pytest.mark.parametrize('case,message', CASES, ids=[c[0] for c in CASES])
def test_hostile_home_is_refused(users, pubkey, case, message, module):
    victim = users.make()
    other = users.make()
    _trap(case, victim, other)
    make_args = dict(MODULES)[module]
    args = dict(make_args(pubkey), user=victim.pw_name)
    before = (snapshot(victim.pw_dir), snapshot(other.pw_dir), etc_snapshot())
    for check in (True, False):
        run = run_module(module.split('_backup')[0].split('_regenerate')[0], args, check=check, diff=True)
        assert run.rc == 1 and run.result and run.result.get('failed'), run
        assert message in run.result['msg'], run.result['msg']
        assert victim.pw_dir in run.result['msg'] or '/etc' in run.result['msg']
        assert 'Traceback' not in run.stdout + run.stderr
    after = (snapshot(victim.pw_dir), snapshot(other.pw_dir), etc_snapshot())
    assert after[0] == before[0], 'victim home changed'
    assert after[1] == before[1], 'other home changed'
    assert after[2] == before[2], '/etc changed'
    FIGURES.append((case, module, run.result['msg']))
    print('\n%s / %s: %s' % (case, module, run.result['msg']))
