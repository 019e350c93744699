# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``follow: true`` reaches only the account's own files or central root-managed
ones, never chowns what it follows; files kept outside the home keep owner and
mode (issue 27). Root-only directories are made in /home (root 0755): /tmp is
writable by all, so nothing below it is root-managed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import tempfile

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import (
    FOLLOWED_CENTRAL,
    FOLLOWED_OWN,
    Tree,
    classify_followed,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import resolve_file_attrs

NOBODY = 65534
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isdir('/home'),
                                reason='gives files to another account, needs a root-owned /home')


@pytest.fixture
def root():
    path = tempfile.mkdtemp(prefix='kh6-unit-', dir='/home')
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_dir(path, uid=0, mode=0o755):
    os.mkdir(path)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


def make_file(path, data, uid=0, mode=0o600):
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


def attrs(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def home_with_ssh(root):
    home = make_dir(os.path.join(root, 'home'), NOBODY, 0o700)
    make_dir(os.path.join(home, '.ssh'), NOBODY, 0o700)
    return home


def account_tree(home, **kwargs):
    return Tree(home, uid=NOBODY, gid=NOBODY, follow=True, **kwargs)


def test_account_link_to_root_only_file_is_refused(root):
    home = home_with_ssh(root)
    etc = make_dir(os.path.join(root, 'etc'))
    shadow = make_file(os.path.join(etc, 'shadow'), b'secret\n')
    os.symlink(shadow, os.path.join(home, '.ssh', 'authorized_keys'))
    tree = account_tree(home)
    with pytest.raises(UnsafePath, match='follow only reaches') as info:
        tree.read(['.ssh'], 'authorized_keys')
    assert 'secret' not in info.value.msg and 'through a link the account controls' in info.value.msg
    with pytest.raises(UnsafePath, match='follow only reaches'):
        tree.write(['.ssh'], 'authorized_keys', b'ssh-ed25519 AAAA\n', 0o600)
    with pytest.raises(UnsafePath, match='follow only reaches'):
        tree.set_attrs(['.ssh'], 'authorized_keys', 0o600)
    assert attrs(shadow) == (0, 0, 0o600)
    with open(shadow, 'rb') as handle:
        assert handle.read() == b'secret\n'
    assert os.listdir(etc) == ['shadow']


def test_account_hard_link_to_root_only_file_is_refused(root):
    home = home_with_ssh(root)
    shadow = make_file(os.path.join(make_dir(os.path.join(root, 'etc')), 'shadow'), b'secret\n')
    os.link(shadow, os.path.join(home, '.ssh', 'authorized_keys'))
    with pytest.raises(UnsafePath, match='follow only reaches'):
        account_tree(home).read(['.ssh'], 'authorized_keys')


def test_account_dir_link_to_root_dir_is_refused(root):
    home = make_dir(os.path.join(root, 'home'), NOBODY, 0o700)
    etc = make_dir(os.path.join(root, 'etc'))
    make_file(os.path.join(etc, 'authorized_keys'), b'secret\n')
    os.symlink(etc, os.path.join(home, '.ssh'))
    tree = account_tree(home)
    with pytest.raises(UnsafePath, match='follow only reaches'):
        tree.read(['.ssh'], 'authorized_keys')
    with pytest.raises(UnsafePath, match='follow only reaches'):
        tree.ensure_dir(['.ssh'], 0o700)
    assert attrs(etc) == (0, 0, 0o755)


def test_own_file_behind_a_link_keeps_the_account_as_owner(root):
    home = home_with_ssh(root)
    keys = make_dir(os.path.join(home, 'keys'), NOBODY, 0o700)
    own = make_file(os.path.join(keys, 'ak'), b'# mine\n', NOBODY, 0o600)
    os.symlink(own, os.path.join(home, '.ssh', 'authorized_keys'))
    assert classify_followed(os.path.join(home, '.ssh', 'authorized_keys'), NOBODY)[1] == FOLLOWED_OWN
    tree = account_tree(home)
    assert tree.read(['.ssh'], 'authorized_keys').data == b'# mine\n'
    tree.write(['.ssh'], 'authorized_keys', b'# new\n', 0o600)
    assert os.path.islink(os.path.join(home, '.ssh', 'authorized_keys'))
    assert attrs(own) == (NOBODY, NOBODY, 0o600)


def test_central_file_behind_root_links_keeps_owner_and_mode(root):
    links = make_dir(os.path.join(root, 'links'))
    central = make_dir(os.path.join(root, 'central'))
    target = make_file(os.path.join(central, 'alice'), b'# central\n', 0, 0o644)
    os.symlink(target, os.path.join(links, 'alice'))
    assert classify_followed(os.path.join(links, 'alice'), NOBODY)[1] == FOLLOWED_CENTRAL
    tree = account_tree(links)
    assert tree.read([], 'alice').data == b'# central\n'
    tree.write([], 'alice', b'# new\n', 0o600)
    tree.set_attrs([], 'alice', 0o600)
    assert attrs(target) == (0, 0, 0o644)
    with open(target, 'rb') as handle:
        assert handle.read() == b'# new\n'
    backup = tree.backup([], 'alice', b'# central\n', 0o600, like=(0, 0, 0o644))
    assert attrs(backup) == (0, 0, 0o644)
    # a directory on the way that others can write is no root-managed place
    os.chmod(central, 0o775)
    with pytest.raises(UnsafePath, match='follow only reaches'):
        account_tree(links).read([], 'alice')


def test_followed_dir_is_not_chowned(root):
    links = make_dir(os.path.join(root, 'links'))
    central = make_dir(os.path.join(root, 'central'))
    os.symlink(central, os.path.join(links, '.ssh'))
    tree = account_tree(links)
    tree.ensure_dir(['.ssh'], 0o700)
    tree.write(['.ssh'], 'authorized_keys', b'# new\n', 0o644)
    assert attrs(central) == (0, 0, 0o755)
    assert attrs(os.path.join(central, 'authorized_keys')) == (0, 0, 0o644)


def test_kept_file_outside_the_home(root):
    central = make_dir(os.path.join(root, 'central'))
    existing = make_file(os.path.join(central, 'alice'), b'# central\n', 0, 0o640)
    tree = Tree(central, uid=NOBODY, gid=NOBODY, keep_attrs=True)
    tree.write([], 'alice', b'# new\n', 0o644)
    assert attrs(existing) == (0, 0, 0o640)
    tree.write([], 'bob', b'# new\n', 0o644)
    assert attrs(os.path.join(central, 'bob')) == (0, 0, 0o644)
    backup = tree.backup([], 'alice', b'# central\n', 0o644, like=(0, 0, 0o640))
    assert attrs(backup) == (0, 0, 0o640)
    fixed = Tree(central, uid=NOBODY, gid=NOBODY, keep_attrs=True, fixed_attrs=(None, NOBODY, 0o640))
    fixed.write([], 'carol', b'# new\n', 0o644)
    assert attrs(os.path.join(central, 'carol')) == (0, NOBODY, 0o640)
    # without keep_attrs (a file in the home) the account owns what is written
    Tree(central, uid=NOBODY, gid=NOBODY).write([], 'dave', b'x\n', 0o600)
    assert attrs(os.path.join(central, 'dave')) == (NOBODY, NOBODY, 0o600)


def test_resolve_file_attrs():
    assert resolve_file_attrs() == (None, None, None)
    assert resolve_file_attrs('root', '0', '0640') == (0, 0, 0o640)
    assert resolve_file_attrs(mode=0o644) == (None, None, 0o644)
    for mode in ('0666', '0620', 'rw', '01777'):
        with pytest.raises(InvalidInput):
            resolve_file_attrs(mode=mode)
    with pytest.raises(InvalidInput, match='not a user'):
        resolve_file_attrs(owner='kh6-no-such-user')
