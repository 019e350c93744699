# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks through switches (issue 27, High): ``follow: true`` and central
``authorized_keys`` files outside the homes.

Root runs the real modules for accounts ``kh6*`` whose owners (simulated by
the test, as root) link their ``~/.ssh/authorized_keys`` (or ``~/.ssh``, or a
hard link) to a root-only file. Following a link must never let an account
reach, read or own a file it could not write itself: the run is refused before
the target is read (its content is in no output, ``--diff`` included) and the
target keeps content, owner and mode. The layouts ``follow`` is for (a link to
the account's own file; a central, root-managed file behind root's links) still
work and keep the target's owner and mode. A central file named by ``path``
(``access_cleanup``'s layout) keeps its owner and mode, its backup too; a new
one is root's, 0644; ``owner``/``group``/``mode`` set them. Each of these
tests failed before the fix (the target was shown in the diff, rewritten and
given to the account).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import run_module, run_playbook
from test_attacks import made_accounts, mkdir_as, root_owned_dir, write_as

SECRET = 'KH6ROOTONLYSECRET'


@pytest.fixture
def accounts():
    yield from made_accounts('kh6')


@pytest.fixture
def rootdir():
    """A root-owned 0755 directory on the homes' file system (hard links reach it)."""
    yield from root_owned_dir('kh6-root-')


@pytest.fixture(scope='module')
def key():
    directory = tempfile.mkdtemp(prefix='kh6-keys-')
    try:
        path = os.path.join(directory, 'k')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kh6', '-f', path], check=True)
        with open(path + '.pub') as handle:
            yield handle.read().strip()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def root_file(directory, name='shadow', data=SECRET + ':x:root-only\n', mode=0o600):
    path = os.path.join(directory, name)
    with open(path, 'w') as handle:
        handle.write(data)
    os.chmod(path, mode)
    return path


class Result:
    def __init__(self, module_run):
        self.stdout = module_run.stdout
        self.stderr = module_run.stderr
        self.result = module_run.result or {}
        self.failed = module_run.rc != 0 or bool(self.result.get('failed'))

    def __repr__(self):
        return 'Result(%r, stderr=%r)' % (self.result, self.stderr[-1500:])


def run(module, args, check=False):
    """One real module run, always with --diff (a refused target must not show in it)."""
    return Result(run_module(module, args, check=check, diff=True, timeout=60))


def state(path):
    st = os.lstat(path)
    with open(path, 'rb') as handle:
        return (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_nlink, handle.read())


def ssh_dir(user):
    return mkdir_as(os.path.join(user.pw_dir, '.ssh'), user)


def _plant(how, user, target_dir, target):
    """The owner's trap: its authorized_keys (or ~/.ssh) leads to ``target``."""
    if how == 'file_link':
        os.symlink(target, os.path.join(ssh_dir(user), 'authorized_keys'))
    elif how == 'dir_link':
        os.symlink(target_dir, os.path.join(user.pw_dir, '.ssh'))
        os.rename(target, os.path.join(target_dir, 'authorized_keys'))
        return os.path.join(target_dir, 'authorized_keys')
    elif how == 'hard_link':
        os.link(target, os.path.join(ssh_dir(user), 'authorized_keys'))
    elif how == 'relative_link':
        os.symlink(os.path.relpath(target, os.path.join(user.pw_dir, '.ssh')),
                   os.path.join(ssh_dir(user), 'authorized_keys'))
    else:
        raise AssertionError(how)
    return target


@pytest.mark.parametrize('module', ['ssh_authkey', 'provision'])
@pytest.mark.parametrize('how', ['file_link', 'dir_link', 'hard_link', 'relative_link'])
def test_follow_never_reaches_a_root_only_file(accounts, rootdir, key, how, module):
    """Item 1: ~/.ssh/authorized_keys (or ~/.ssh) leads to a root-only file (the /etc/shadow attack)."""
    user = accounts.make()
    central = os.path.join(rootdir, 'etc')
    os.mkdir(central, 0o755)
    target = _plant(how, user, central, root_file(central))
    before = state(target)
    dir_before = os.lstat(central)
    if module == 'ssh_authkey':
        args = dict(user=user.pw_name, key=key, follow=True, backup=True)
    else:
        args = dict(follow=True, accounts=[dict(name=user.pw_name, authorized_keys=[dict(key=key)])])
    for check in (True, False):
        result = run(module, args, check=check)
        assert result.failed, result
        assert 'follow only reaches' in result.stdout, result
        assert SECRET not in result.stdout + result.stderr, result
        assert 'Traceback' not in result.stdout + result.stderr, result
    assert state(target) == before, 'the root-only target changed'
    after = os.lstat(central)
    assert (after.st_uid, stat.S_IMODE(after.st_mode)) == (dir_before.st_uid, stat.S_IMODE(dir_before.st_mode))
    assert sorted(os.listdir(central)) == [os.path.basename(target)], 'something was written beside the target'


def test_follow_to_the_accounts_own_file(accounts, key):
    """follow: the account's own file behind its link is written, and stays the account's."""
    user = accounts.make()
    keys = mkdir_as(os.path.join(user.pw_dir, 'keys'), user)
    own = write_as(os.path.join(keys, 'ak'), b'# mine\n', user, 0o600)
    os.symlink(own, os.path.join(ssh_dir(user), 'authorized_keys'))
    result = run('ssh_authkey', dict(user=user.pw_name, key=key, follow=True))
    assert not result.failed and result.result['changed'], result
    assert os.path.islink(os.path.join(user.pw_dir, '.ssh', 'authorized_keys'))
    mode, uid, gid, nlink, data = state(own)
    assert (mode, uid, gid) == (0o600, user.pw_uid, user.pw_gid)
    assert key.encode() in data and data.startswith(b'# mine\n')
    again = run('ssh_authkey', dict(user=user.pw_name, key=key, follow=True))
    assert not again.failed and not again.result['changed'], again


def test_follow_to_a_central_root_managed_file(accounts, rootdir, key):
    """follow: a central layout - root's link in a root-only directory to a root-only file -
    is written in place, keeping owner root and its mode; the link stays."""
    user = accounts.make()
    links = os.path.join(rootdir, 'links')
    central = os.path.join(rootdir, 'central')
    os.mkdir(links, 0o755)
    os.mkdir(central, 0o755)
    target = root_file(central, user.pw_name, '# central\n', 0o644)
    link = os.path.join(links, user.pw_name)
    os.symlink(target, link)
    result = run('ssh_authkey', dict(user=user.pw_name, key=key, follow=True, path=link, backup=True))
    assert not result.failed and result.result['changed'], result
    mode, uid, gid, nlink, data = state(target)
    assert (mode, uid, gid) == (0o644, 0, 0) and key.encode() in data
    assert os.path.islink(link)
    backups = [name for name in os.listdir(links) if name.endswith('~')]
    assert len(backups) == 1, os.listdir(links)
    st = os.lstat(os.path.join(links, backups[0]))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o644), 'the backup of a central file went to the account'


def test_follow_link_in_an_account_dir_to_central_file_refused(accounts, rootdir, key):
    """The central file itself is fine, but the link is the account's (in its ~/.ssh): refused."""
    user = accounts.make()
    central = os.path.join(rootdir, 'central')
    os.mkdir(central, 0o755)
    target = root_file(central, user.pw_name, '# central ' + SECRET + '\n', 0o644)
    before = state(target)
    os.symlink(target, os.path.join(ssh_dir(user), 'authorized_keys'))
    result = run('ssh_authkey', dict(user=user.pw_name, key=key, follow=True))
    assert result.failed and 'through a link the account controls' in result.stdout, result
    assert SECRET not in result.stdout
    assert state(target) == before


@pytest.mark.parametrize('exists', [True, False])
def test_central_authorized_keys_keeps_owner_and_mode(accounts, rootdir, key, exists):
    """Item 2: access_cleanup's ssh_authkey with path: of a root-owned central file
    (AuthorizedKeysFile /etc/ssh/authorized_keys/%u) - exclusive, with a backup. The file
    and its backup stay root's 0644 (the account could otherwise re-add the revoked key);
    a new file is root's 0644."""
    user = accounts.make()
    central = os.path.join(rootdir, 'authorized_keys')
    os.mkdir(central, 0o755)
    path = os.path.join(central, user.pw_name)
    if exists:
        root_file(central, user.pw_name, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKzSVSVQX0Aobj5Jb4gGUOgOXp2c6i4V3e7gkKh'
                                         'Xe9cQ revoked\n', 0o644)
    result = run('ssh_authkey', dict(user=user.pw_name, key=key, path=path, exclusive=True, backup=True))
    assert not result.failed and result.result['changed'], result
    mode, uid, gid, nlink, data = state(path)
    assert (mode, uid, gid) == (0o644, 0, 0), 'the central file was given to the account'
    assert b'revoked' not in data
    if exists:
        st = os.lstat(result.result['backup_file'])
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o644)
    again = run('ssh_authkey', dict(user=user.pw_name, key=key, path=path, exclusive=True))
    assert not again.failed and not again.result['changed'], again


def test_owner_group_mode_options(accounts, rootdir, key):
    """owner/group/mode set a central file's attributes (ansible.posix users ask for them)."""
    user = accounts.make()
    central = os.path.join(rootdir, 'authorized_keys')
    os.mkdir(central, 0o755)
    path = os.path.join(central, user.pw_name)
    group = grp.getgrgid(user.pw_gid).gr_name
    args = dict(user=user.pw_name, key=key, path=path, owner='root', group=group, mode='0640')
    for check, changed in ((True, True), (False, True), (False, False)):
        result = run('ssh_authkey', args, check=check)
        assert not result.failed and result.result['changed'] == changed, result
    st = os.lstat(path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, user.pw_gid, 0o640)
    bad = run('ssh_authkey', dict(args, mode='0666'))
    assert bad.failed and 'StrictModes' in bad.stdout, bad
    # provision's items take the same options
    other = os.path.join(user.pw_dir, '.ssh', 'authorized_keys')
    result = run('provision', dict(accounts=[dict(name=user.pw_name, authorized_keys=[
        dict(key=key, mode='0644')])]))
    assert not result.failed, result
    st = os.lstat(other)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o644)


# --------------------------------------------------------------------------- key_rotation (item 3)

def _rotation_play(deploy, victim, old_name, fingerprint):
    return '''
- hosts: localhost
  gather_facts: false
  roles:
    - role: keysmith.accounts.key_rotation
      vars:
        key_rotation_user: %s
        key_rotation_key_name: %s
        key_rotation_new_key_name: id_kh6_new
        key_rotation_old_fingerprint: "%s"
        key_rotation_targets: [{user: %s}]
        key_rotation_expire_at: "20200101000000Z"
''' % (deploy, old_name, fingerprint, victim)


def _fingerprint(pub):
    out = subprocess.run(['ssh-keygen', '-lf', pub], check=True, stdout=subprocess.PIPE).stdout.decode()
    return out.split()[1]


@pytest.mark.parametrize('attack', ['other_key_in_pub', 'old_key_moved_away'])
def test_rotation_trusts_the_controller_not_the_owner(accounts, tmp_path, attack):
    """Item 3: the owner of the rotated key edits ``id_old.pub`` (another account's key: the
    rotation would expire and remove that innocent key and call the real old key retired) or
    moves ``id_old*`` away (reported "retired" with no expiry set). The rotation must fail and
    change nothing: it acts on the fingerprint the controller recorded, never on the owner's files."""
    deploy = accounts.make()
    victim = accounts.make()
    ssh = ssh_dir(deploy)
    old = os.path.join(ssh, 'id_old')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'old', '-f', old], check=True)
    for path in (old, old + '.pub'):
        os.chown(path, deploy.pw_uid, deploy.pw_gid)
    recorded = _fingerprint(old + '.pub')
    innocent = os.path.join(str(tmp_path), 'innocent')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'innocent', '-f', innocent], check=True)
    with open(old + '.pub') as handle:
        old_line = handle.read().strip()
    with open(innocent + '.pub') as handle:
        innocent_line = handle.read().strip()
    victim_ak = write_as(os.path.join(ssh_dir(victim), 'authorized_keys'),
                         ('%s\n%s\n' % (old_line, innocent_line)).encode(), victim)
    # the owner's move
    if attack == 'other_key_in_pub':
        write_as(old + '.pub', (innocent_line + '\n').encode(), deploy, 0o644)
        message = 'not %s (key_rotation_old_fingerprint)' % recorded
    else:
        os.rename(old, os.path.join(deploy.pw_dir, 'stash'))
        os.rename(old + '.pub', os.path.join(deploy.pw_dir, 'stash.pub'))
        message = 'id_old of %s does not exist' % deploy.pw_name
    before = state(victim_ak)
    listing = sorted(os.listdir(ssh))
    done = run_playbook(_rotation_play(deploy.pw_name, victim.pw_name, 'id_old', recorded), tmp_path, verbosity=0)
    assert done.rc != 0, done.output
    assert message in done.output, done.output
    assert 'retired' not in done.output.split('PLAY RECAP')[-1]
    assert state(victim_ak) == before, 'the targets changed'
    assert sorted(os.listdir(ssh)) == listing, 'the key files changed'
