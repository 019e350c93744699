# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
import stat
import threading

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import LockTimeout, NotFound, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import (
    Tree,
    open_trusted_dir,
    read_fd,
    read_named_file,
    split_under,
)

NOBODY = 65534  # an unprivileged uid and gid for the account of these tests (they run as root)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='gives files to another account')


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_split_under_home_and_outside():
    assert split_under('/home/a', '/home/a/.ssh/id') == ('/home/a', ['.ssh'], 'id')
    assert split_under('/home/a', '/home/a/x/y/k') == ('/home/a', ['x', 'y'], 'k')
    assert split_under('/home/a', '/srv/keys/k') == ('/srv/keys', [], 'k')
    assert split_under('/home/a', '/home/ab/k') == ('/home/ab', [], 'k')
    assert split_under(None, '/srv/k') == ('/srv', [], 'k')


def test_write_creates_dirs_with_mode_and_is_atomic(tmp_path):
    tree = Tree(str(tmp_path))
    tree.write(['.ssh'], 'key', b'secret', 0o600)
    tree.write(['.ssh'], 'key.pub', b'public\n', 0o644)
    assert mode_of(str(tmp_path / '.ssh')) == 0o700
    assert mode_of(str(tmp_path / '.ssh' / 'key')) == 0o600
    assert mode_of(str(tmp_path / '.ssh' / 'key.pub')) == 0o644
    assert (tmp_path / '.ssh' / 'key').read_bytes() == b'secret'
    # no temporary files are left behind
    assert sorted(os.listdir(str(tmp_path / '.ssh'))) == ['key', 'key.pub']
    state = tree.read(['.ssh'], 'key')
    assert state.exists and state.data == b'secret' and state.mode == 0o600


def test_read_missing_dir_and_file(tmp_path):
    tree = Tree(str(tmp_path))
    assert not tree.read(['.ssh'], 'key').exists
    assert not tree.dir_state(['.ssh']).exists
    assert not Tree(str(tmp_path / 'nope')).read(['.ssh'], 'key').exists


def test_symlinked_directory_is_refused_unless_follow(tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'key').write_bytes(b'outside')
    home = tmp_path / 'home'
    home.mkdir()
    os.symlink(str(outside), str(home / '.ssh'))
    tree = Tree(str(home))
    with pytest.raises(UnsafePath, match='symbolic link'):
        tree.read(['.ssh'], 'key')
    with pytest.raises(UnsafePath, match='symbolic link'):
        tree.write(['.ssh'], 'key', b'new', 0o600)
    assert (outside / 'key').read_bytes() == b'outside'
    assert Tree(str(home), follow=True).read(['.ssh'], 'key').data == b'outside'


def test_symlinked_file_is_refused(tmp_path):
    target = tmp_path / 'target'
    target.write_bytes(b'do not touch')
    (tmp_path / 'd').mkdir()
    os.symlink(str(target), str(tmp_path / 'd' / 'f'))
    tree = Tree(str(tmp_path))
    with pytest.raises(UnsafePath):
        tree.read(['d'], 'f')
    with pytest.raises(UnsafePath):
        tree.write(['d'], 'f', b'x', 0o600)
    assert target.read_bytes() == b'do not touch'
    assert os.path.islink(str(tmp_path / 'd' / 'f'))


def test_follow_writes_through_the_symlink_atomically(tmp_path):
    real_dir = tmp_path / 'real'
    real_dir.mkdir()
    (real_dir / 'f').write_bytes(b'old')
    (tmp_path / 'd').mkdir()
    os.symlink(str(real_dir / 'f'), str(tmp_path / 'd' / 'f'))
    Tree(str(tmp_path), follow=True).write(['d'], 'f', b'new', 0o600)
    assert os.path.islink(str(tmp_path / 'd' / 'f'))
    assert (real_dir / 'f').read_bytes() == b'new'


def test_hard_link_and_non_regular_files_are_refused(tmp_path):
    (tmp_path / 'd').mkdir()
    (tmp_path / 'other').write_bytes(b'other')
    os.link(str(tmp_path / 'other'), str(tmp_path / 'd' / 'f'))
    os.mkfifo(str(tmp_path / 'd' / 'fifo'))
    (tmp_path / 'd' / 'dir').mkdir()
    tree = Tree(str(tmp_path))
    with pytest.raises(UnsafePath, match='hard links'):
        tree.read(['d'], 'f')
    with pytest.raises(UnsafePath, match='not a regular file'):
        tree.read(['d'], 'fifo')
    with pytest.raises(UnsafePath, match='not a regular file'):
        tree.read(['d'], 'dir')
    with pytest.raises(UnsafePath, match='not a directory'):
        tree.read(['other'], 'x')


def test_owner_outside_allowed_set_is_refused(tmp_path):
    (tmp_path / 'd').mkdir()
    (tmp_path / 'd' / 'f').write_bytes(b'x')
    tree = Tree(str(tmp_path), allowed_owners=[os.geteuid() + 12345])
    with pytest.raises(UnsafePath, match='owned by uid'):
        tree.read(['d'], 'f')


def test_missing_base_is_created_only_when_allowed(tmp_path):
    base = tmp_path / 'new' / 'home'
    with pytest.raises(NotFound):
        Tree(str(base)).write([], 'f', b'x', 0o600)
    assert not base.exists()
    Tree(str(base), create_base=True).write(['.ssh'], 'f', b'x', 0o600)
    assert mode_of(str(base)) == 0o700
    assert (base / '.ssh' / 'f').read_bytes() == b'x'


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    tree = Tree(str(tmp_path))
    tree.write([], 'f', b'old content', 0o600)

    def broken_fsync(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError):
        tree.write([], 'f', b'new content', 0o600)
    monkeypatch.undo()
    assert (tmp_path / 'f').read_bytes() == b'old content'
    assert os.listdir(str(tmp_path)) == ['f']


def test_set_attrs_and_remove(tmp_path):
    tree = Tree(str(tmp_path))
    tree.write(['d'], 'f', b'x', 0o644)
    tree.set_attrs(['d'], 'f', 0o600)
    assert mode_of(str(tmp_path / 'd' / 'f')) == 0o600
    tree.remove(['d'], 'f')
    assert not (tmp_path / 'd' / 'f').exists()
    tree.remove(['d'], 'f')  # removing twice is fine


def test_backup_keeps_previous_content(tmp_path):
    tree = Tree(str(tmp_path))
    tree.write([], 'f', b'v1', 0o600)
    backup = tree.backup([], 'f', b'v1', 0o600)
    tree.write([], 'f', b'v2', 0o600)
    assert open(backup, 'rb').read() == b'v1'
    assert (tmp_path / 'f').read_bytes() == b'v2'


def test_lock_serialises_read_modify_write(tmp_path):
    tree = Tree(str(tmp_path))
    tree.write([], 'counter', b'0', 0o600)

    def bump():
        for _unused in range(25):
            with tree.locked([]) as dir_fd:
                value = int(tree.read([], 'counter').data)
                tree.write([], 'counter', str(value + 1).encode(), 0o600, dir_fd=dir_fd)

    threads = [threading.Thread(target=bump) for _unused in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (tmp_path / 'counter').read_bytes() == b'200'


# ------------------------------------------------------------------ the trust rule, one check at a time
# (the attack suite, tests/reliability/test_attacks.py, races whole modules;
# these pin each check so that a mutation run over _fs.py notices its loss)

def test_symlinked_file_refusal_names_the_follow_option(tmp_path):
    (tmp_path / 'target').write_bytes(b'x')
    os.symlink(str(tmp_path / 'target'), str(tmp_path / 'f'))
    with pytest.raises(UnsafePath, match=r'symbolic link; refusing to follow it \(set follow: true'):
        Tree(str(tmp_path)).read([], 'f')


@needs_root
def test_a_file_of_another_account_is_refused_in_a_trusted_directory(tmp_path):
    (tmp_path / 'f').write_bytes(b'x')
    os.chown(str(tmp_path / 'f'), NOBODY, NOBODY)
    with pytest.raises(UnsafePath, match='f is owned by uid %d' % NOBODY):
        Tree(str(tmp_path)).read([], 'f')
    assert Tree(str(tmp_path), uid=NOBODY, gid=NOBODY).read([], 'f').data == b'x'


@needs_root
def test_a_group_writable_directory_above_the_account_is_not_trusted(tmp_path):
    shared = tmp_path / 'shared'
    (shared / 'home').mkdir(parents=True)
    os.chown(str(shared), 0, NOBODY)
    os.chmod(str(shared), 0o775)
    with pytest.raises(UnsafePath, match='writable by other users'):
        open_trusted_dir(str(shared / 'home'))
    os.chown(str(shared), 0, 0)  # root's group: only root could have arranged it
    os.close(open_trusted_dir(str(shared / 'home')))


@needs_root
def test_no_link_is_followed_inside_an_account_tree_even_a_root_owned_one(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    os.chown(str(home), NOBODY, NOBODY)
    (tmp_path / 'elsewhere').mkdir()
    os.symlink(str(tmp_path / 'elsewhere'), str(home / 'sub'))  # made by root: owned by root
    with pytest.raises(UnsafePath, match='an account could have planted'):
        open_trusted_dir(str(home / 'sub'), owners=[NOBODY])


def test_lock_timeout_of_the_tree_is_honoured(tmp_path):
    holder = os.open(str(tmp_path), os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    outcome = []

    def take():
        try:
            with Tree(str(tmp_path), lock_timeout=0.2).locked([]):
                outcome.append('locked')
        except LockTimeout as exc:
            outcome.append(exc.msg)

    worker = threading.Thread(target=take)
    try:
        worker.start()
        worker.join(10)
        finished = not worker.is_alive()
    finally:
        os.close(holder)  # lets a worker that ignored the timeout finish
        worker.join(70)
    assert finished and len(outcome) == 1 and outcome[0].startswith('timed out after 0.2 seconds')


@needs_root
def test_a_file_named_by_path_must_be_readable_by_the_account_of_its_directory(tmp_path):
    directory = tmp_path / 'account_dir'
    directory.mkdir()
    os.chown(str(directory), NOBODY, NOBODY)
    secret = directory / 'planted'
    secret.write_bytes(b'root only')
    os.chown(str(secret), NOBODY, NOBODY)
    os.chmod(str(secret), 0o000)
    with pytest.raises(UnsafePath, match='who cannot read it'):
        read_named_file(str(secret))
    os.chmod(str(secret), 0o400)
    assert read_named_file(str(secret)) == b'root only'


@needs_root
def test_set_attrs_gives_the_file_to_the_account(tmp_path):
    (tmp_path / 'f').write_bytes(b'x')
    Tree(str(tmp_path), uid=NOBODY, gid=NOBODY).set_attrs([], 'f', 0o600)
    st = os.lstat(str(tmp_path / 'f'))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o600)


def test_read_fd_stops_at_the_limit_while_reading(tmp_path):
    (tmp_path / 'f').write_bytes(b'x' * 15)
    fd = os.open(str(tmp_path / 'f'), os.O_RDONLY)
    try:
        with pytest.raises(UnsafePath, match='larger than 10 bytes'):
            read_fd(fd, limit=10)
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_fd(fd, limit=15) == b'x' * 15
    finally:
        os.close(fd)
