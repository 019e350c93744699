# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A hostile account owner against the in-home trust files (issue 30):
``ssh_known_hosts_ca`` (``~/.ssh/known_hosts``) and ``ssh_principals`` (an
``AuthorizedPrincipalsFile`` below the home) resist what ``ssh_authkey``
resists (``test_attacks.py``): a linked ``~/.ssh`` or file, a hard link to a
root file, a fifo, a directory others may write, and an flock the account
holds on its ``~/.ssh`` forever (the writers take the lock ssh_authkey takes).

Root runs the real modules as subprocesses for accounts ``kc4*``; the root
files the attacks aim at are compared before and after."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile

import pytest

from conftest import snapshot
from test_attacks import _hold_lock, bounded, made_accounts, mkdir_as, root_owned_dir, run, write_as

ROOT_TEXT = '# root only\n'


@pytest.fixture
def accounts():
    yield from made_accounts('kc4')


@pytest.fixture
def victim(accounts):
    return accounts.make()


@pytest.fixture
def target():
    """A root-owned 0755 directory on the homes' file system (hard links reach it) with a root file."""
    def root_file(path):
        with open(os.path.join(path, 'file'), 'w') as handle:
            handle.write(ROOT_TEXT)
    yield from root_owned_dir('kc4-root-', root_file)


@pytest.fixture(scope='module')
def ca_key():
    directory = tempfile.mkdtemp(prefix='kc4-keys-')
    try:
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kc4-ca', '-f',
                        os.path.join(directory, 'ca')], check=True)
        with open(os.path.join(directory, 'ca.pub')) as handle:
            yield handle.read().strip()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# (module, file name below ~/.ssh, arguments)
def _writers(user, ca_key):
    return [
        ('ssh_known_hosts_ca', 'known_hosts', {'user': user.pw_name, 'key': ca_key, 'hosts': ['*.example.com'],
                                               'lock_timeout': 2}),
        ('ssh_principals', 'principals', {'user': user.pw_name, 'principals': ['dev'],
                                          'path': '%h/.ssh/principals', 'lock_timeout': 2}),
    ]


def _refused(result, *words):
    assert result.failed, result
    assert any(word in result.msg for word in words), result


def test_linked_ssh_dir(victim, target, ca_key):
    """~/.ssh is a link to a root directory: nothing is written there."""
    os.symlink(target, os.path.join(victim.pw_dir, '.ssh'))
    os.lchown(os.path.join(victim.pw_dir, '.ssh'), victim.pw_uid, victim.pw_gid)
    before = snapshot(target)
    for module, name, args in _writers(victim, ca_key):
        _refused(bounded(run(module, args)), 'link', 'symbolic')
    assert snapshot(target) == before


def test_linked_file(victim, target, ca_key):
    """~/.ssh/<file> is a link to a root file: refused, the root file is untouched."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    before = snapshot(target)
    for module, name, args in _writers(victim, ca_key):
        os.symlink(os.path.join(target, 'file'), os.path.join(ssh, name))
        os.lchown(os.path.join(ssh, name), victim.pw_uid, victim.pw_gid)
        _refused(bounded(run(module, args)), 'link', 'symbolic')
        assert os.path.islink(os.path.join(ssh, name))
    assert snapshot(target) == before


def test_hard_linked_file(victim, target, ca_key):
    """~/.ssh/<file> is a hard link to a root file: refused (a rename would
    leave the root file as it is, but the owner repair would give it away)."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    writers = _writers(victim, ca_key)
    for module, name, args in writers:
        os.link(os.path.join(target, 'file'), os.path.join(ssh, name))
    before = snapshot(target)
    for module, name, args in writers:
        _refused(bounded(run(module, args)), 'hard link', 'links')
    assert snapshot(target) == before


def test_fifo(victim, ca_key):
    """~/.ssh/<file> is a fifo: refused at once (never opened: it would block)."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    for module, name, args in _writers(victim, ca_key):
        os.mkfifo(os.path.join(ssh, name))
        os.chown(os.path.join(ssh, name), victim.pw_uid, victim.pw_gid)
        result = bounded(run(module, args, timeout=30))
        _refused(result, 'not a regular file')
        assert stat.S_ISFIFO(os.lstat(os.path.join(ssh, name)).st_mode)


def test_directory_writable_by_others(victim, ca_key):
    """~/.ssh mode 0777 (the account's own doing): as ssh_authkey, the writer
    puts only the account's own 0644 file there (another account's file or
    link in it is refused, below); nothing outside the home is touched."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim, mode=0o777)
    nobody = pwd.getpwnam('nobody')
    authkey = bounded(run('ssh_authkey', {'user': victim.pw_name, 'key': ca_key}))
    for module, name, args in _writers(victim, ca_key):
        result = bounded(run(module, args))
        assert result.failed == authkey.failed, (result, authkey)
        st = os.lstat(os.path.join(ssh, name))
        assert (st.st_uid, stat.S_IMODE(st.st_mode), st.st_nlink) == (victim.pw_uid, 0o644, 1)
        # a stranger swaps in its own file: refused, never rewritten or chowned
        os.unlink(os.path.join(ssh, name))
        write_as(os.path.join(ssh, name), b'# planted\n', nobody, mode=0o666)
        _refused(bounded(run(module, args)), 'owned by', 'owner')
        assert os.lstat(os.path.join(ssh, name)).st_uid == nobody.pw_uid


def test_file_of_another_owner(victim, target, ca_key):
    """~/.ssh/<file> belongs to another account (nobody): refused, kept as it is."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    nobody = pwd.getpwnam('nobody')
    for module, name, args in _writers(victim, ca_key):
        write_as(os.path.join(ssh, name), b'# theirs\n', nobody, mode=0o644)
        _refused(bounded(run(module, args)), 'owned by', 'owner')
        with open(os.path.join(ssh, name), 'rb') as handle:
            assert handle.read() == b'# theirs\n'


def test_hostile_flock_bounded(victim, ca_key):
    """The account holds an flock on its ~/.ssh forever: each writer waits
    lock_timeout, then fails naming the lock; with the lock released it writes."""
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    holder = _hold_lock(victim, ssh)
    try:
        for module, name, args in _writers(victim, ca_key):
            result = bounded(run(module, args))
            assert result.failed and 'flock' in result.msg and ssh in result.msg, result
            assert 2 <= result.seconds < 10, result
            assert not os.path.exists(os.path.join(ssh, name))
        # provision's principals item takes the same lock ahead (one wait for the call)
        result = bounded(run('provision', {'lock_timeout': 2, 'accounts': [
            {'name': victim.pw_name, 'principals': ['dev'], 'principals_file': '%h/.ssh/principals'}]}))
        assert result.failed and victim.pw_name in result.msg and 'flock' in result.msg, result
        assert not os.path.exists(os.path.join(ssh, 'principals'))
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    for module, name, args in _writers(victim, ca_key):
        result = bounded(run(module, args))
        assert not result.failed and result.result['changed'], result
        st = os.lstat(os.path.join(ssh, name))
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (victim.pw_uid, 0o644)
