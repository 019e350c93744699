# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The trust rule of ``_fs`` against a hostile account: who may own what on the
way, links, the temporary file of a write, locks and their one deadline.
The tests run as root and give files to unprivileged uids."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import (
    Locks,
    Tree,
    check_lock_timeout,
    open_trusted_dir,
    read_named_file,
    user_database_lock,
)

ACCOUNT = 65534   # nobody: the account of these tests
OTHER = 51077     # a third uid, no account needed


def owned(path, uid, mode=0o755, gid=None):
    os.chown(str(path), uid, uid if gid is None else gid)
    os.chmod(str(path), mode)
    return path


def home_of_account(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    return owned(home, ACCOUNT, 0o700)


def test_a_directory_of_another_account_inside_the_home_is_refused(tmp_path):
    home = home_of_account(tmp_path)
    sub = home / 'sub'
    (sub / 'deeper').mkdir(parents=True)
    owned(sub, OTHER)
    with pytest.raises(UnsafePath, match='owned by uid %d, not by root or the account' % OTHER):
        open_trusted_dir(str(sub / 'deeper'), owners=[ACCOUNT])
    owned(sub, ACCOUNT)
    os.close(open_trusted_dir(str(sub / 'deeper'), owners=[ACCOUNT]))


def test_a_directory_of_another_account_above_the_home_is_refused(tmp_path):
    above = tmp_path / 'above'
    (above / 'home').mkdir(parents=True)
    owned(above, OTHER)
    owned(above / 'home', ACCOUNT, 0o700)
    with pytest.raises(UnsafePath, match='owned by uid %d' % OTHER):
        open_trusted_dir(str(above / 'home'), owners=[ACCOUNT])
    with pytest.raises(UnsafePath, match='owned by uid %d' % OTHER):
        Tree(str(above / 'home'), uid=ACCOUNT, gid=ACCOUNT).read(['.ssh'], 'authorized_keys')


def test_a_third_users_ssh_directory_in_the_home_is_refused(tmp_path):
    home = home_of_account(tmp_path)
    ssh = home / '.ssh'
    ssh.mkdir()
    owned(ssh, OTHER, 0o700)
    (ssh / 'authorized_keys').write_bytes(b'planted\n')
    owned(ssh / 'authorized_keys', ACCOUNT, 0o600)
    tree = Tree(str(home), uid=ACCOUNT, gid=ACCOUNT)
    with pytest.raises(UnsafePath, match='%s is owned by uid %d' % (ssh, OTHER)):
        tree.read(['.ssh'], 'authorized_keys')
    with pytest.raises(UnsafePath, match='owned by uid %d' % OTHER):
        tree.write(['.ssh'], 'authorized_keys', b'new\n', 0o600)
    assert (ssh / 'authorized_keys').read_bytes() == b'planted\n'
    owned(ssh, ACCOUNT, 0o700)
    assert tree.read(['.ssh'], 'authorized_keys').data == b'planted\n'


def test_a_world_writable_root_directory_on_the_way_is_refused(tmp_path):
    shared = tmp_path / 'shared'
    (shared / 'home').mkdir(parents=True)
    owned(shared, 0, 0o777)
    with pytest.raises(UnsafePath, match='writable by other users'):
        open_trusted_dir(str(shared / 'home'))
    # a sticky directory (as /tmp) keeps others from swapping what they do not own
    owned(shared, 0, 0o1777)
    os.close(open_trusted_dir(str(shared / 'home')))


def test_a_link_as_the_last_component_when_final_link_is_false(tmp_path):
    (tmp_path / 'real').mkdir()
    os.symlink(str(tmp_path / 'real'), str(tmp_path / 'link'))
    os.close(open_trusted_dir(str(tmp_path / 'link')))
    with pytest.raises(UnsafePath, match='is a symbolic link; refusing to use it'):
        open_trusted_dir(str(tmp_path / 'link'), final_link=False)


def test_the_temporary_file_of_a_write_is_never_an_existing_one(tmp_path, monkeypatch):
    """A planted hard link at the temporary name is not written through (O_EXCL)."""
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious\n')
    directory = tmp_path / 'dir'
    directory.mkdir()
    monkeypatch.setattr(os, 'urandom', lambda count: b'\x01' * count)
    planted = directory / ('.f.%s.tmp' % ('01' * 6))
    os.link(str(victim), str(planted))
    with pytest.raises(OSError) as caught:
        Tree(str(directory)).write([], 'f', b'written\n', 0o600)
    assert caught.value.errno == errno.EEXIST
    monkeypatch.undo()
    assert victim.read_bytes() == b'precious\n'
    assert not (directory / 'f').exists()


def test_a_held_lock_is_exclusive(tmp_path):
    first, second = Locks(0), Locks(0)
    try:
        assert first.hold(os.open(str(tmp_path), os.O_RDONLY)) is not None
        assert second.hold(os.open(str(tmp_path), os.O_RDONLY)) is None
        fd = os.open(str(tmp_path), os.O_RDONLY)
        try:
            with pytest.raises(OSError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    finally:
        first.release()
        second.release()


def test_user_creations_are_serialised_by_one_lock(tmp_path):
    lock_file = tmp_path / 'shadow'
    lock_file.write_bytes(b'')
    with user_database_lock(Locks(0), path=str(lock_file)):
        fd = os.open(str(lock_file), os.O_RDONLY)
        try:
            with pytest.raises(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(str(lock_file), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_the_lock_wait_has_one_deadline():
    now = [100.0]
    locks = Locks(5, clock=lambda: now[0], sleep=lambda seconds: None)
    assert locks.remaining() == 5 and not locks.expired()
    now[0] += 3
    assert locks.remaining() == 2
    now[0] += 3
    assert locks.remaining() == 0 and locks.expired()


def test_lock_timeout_must_not_be_negative():
    assert check_lock_timeout(0) == 0
    assert check_lock_timeout(None) is None
    with pytest.raises(InvalidInput, match='lock_timeout must be 0 or more'):
        check_lock_timeout(-1)


def test_a_path_outside_the_home_is_walked_from_its_own_directory():
    assert _fs.split_under('/home/a', '/etc/ssh/keys/a') == ('/etc/ssh/keys', [], 'a')
    assert _fs.split_under('/home/a', '/home/a') == ('/home', [], 'a')


def test_a_named_file_in_an_account_directory_needs_the_accounts_read_right(tmp_path):
    directory = tmp_path / 'account_dir'
    directory.mkdir()
    owned(directory, ACCOUNT, 0o755)
    secret = directory / 'hard_linked_root_file'
    secret.write_bytes(b'root only\n')
    for mode, readable in ((0o600, False), (0o604, True), (0o640, False)):
        owned(secret, 0, mode, gid=0)
        if readable:
            assert read_named_file(str(secret)) == b'root only\n'
        else:
            with pytest.raises(UnsafePath, match='who cannot read it'):
                read_named_file(str(secret))
    # the group's bits decide for a member of the file's group (nobody's group: nogroup)
    owned(secret, 0, 0o604, gid=65534)
    with pytest.raises(UnsafePath, match='who cannot read it'):
        read_named_file(str(secret))
    owned(secret, 0, 0o640, gid=65534)
    assert read_named_file(str(secret)) == b'root only\n'


def test_read_limit_to_the_byte(tmp_path):
    (tmp_path / 'f').write_bytes(b'x' * 10)
    assert Tree(str(tmp_path)).read([], 'f', limit=10).data == b'x' * 10
    (tmp_path / 'f').write_bytes(b'x' * 11)
    with pytest.raises(UnsafePath, match='larger than 10 bytes'):
        Tree(str(tmp_path)).read([], 'f', limit=10)
    fd = os.open(str(tmp_path / 'f'), os.O_RDONLY)
    try:
        with pytest.raises(UnsafePath, match='larger than 10 bytes'):
            _fs.read_fd(fd, limit=10)
    finally:
        os.close(fd)


def test_written_files_get_the_mode_asked(tmp_path):
    tree = Tree(str(tmp_path))
    for mode in (0o644, 0o600, 0o640):
        tree.write([], 'f', b'x', mode)
        assert os.stat(str(tmp_path / 'f')).st_mode & 0o7777 == mode


def test_a_loop_of_root_links_ends(tmp_path):
    import signal

    def too_long(signum, frame):
        raise RuntimeError('the trust walk did not end')
    os.symlink(str(tmp_path / 'b'), str(tmp_path / 'a'))
    os.symlink(str(tmp_path / 'a'), str(tmp_path / 'b'))
    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    try:
        with pytest.raises(UnsafePath, match='too many symbolic links'):
            open_trusted_dir(str(tmp_path / 'a' / 'x'))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_owner_and_group_are_given_each_their_own(tmp_path):
    """uid and gid differ here, so a swap of the two is seen."""
    group = 51100
    tree = Tree(str(tmp_path), uid=ACCOUNT, gid=group)
    tree.write(['.ssh'], 'authorized_keys', b'x\n', 0o600)
    for path in (tmp_path / '.ssh', tmp_path / '.ssh' / 'authorized_keys'):
        st = os.stat(str(path))
        assert (st.st_uid, st.st_gid) == (ACCOUNT, group), path
    (tmp_path / 'f').write_bytes(b'x')
    tree.set_attrs([], 'f', 0o640)
    st = os.stat(str(tmp_path / 'f'))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (ACCOUNT, group, 0o640)


def test_a_registry_below_an_accounts_directory_is_refused(tmp_path):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.registry import Registry
    above = tmp_path / 'above'
    (above / 'registry').mkdir(parents=True)
    owned(above, ACCOUNT, 0o755)
    with pytest.raises(UnsafePath, match='owned by uid %d' % ACCOUNT):
        Registry(str(above / 'registry')).entries()
    with pytest.raises(UnsafePath, match='owned by uid %d' % ACCOUNT):
        Registry(str(above / 'registry')).hold()
    owned(above, 0, 0o755)
    assert Registry(str(above / 'registry')).entries() == []
