# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StrictModes as sshd judges it (auth_secure_path, Debian's group-writable rule)
and whether the account can open a file at all (the kernel's permission bits)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os
import shutil
import tempfile

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.accounts import AccountEntry
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import strict_modes

ALICE, BOB = 51001, 51002
Info = collections.namedtuple('Info', 'exists is_file is_dir mode uid gid')
Passwd = collections.namedtuple('Passwd', 'pw_name pw_uid pw_gid')
Group = collections.namedtuple('Group', 'gr_name gr_gid gr_mem')


def directory(mode, uid=0, gid=0):
    return Info(True, False, True, mode, uid, gid)


def regular(mode, uid=ALICE, gid=ALICE):
    return Info(True, True, False, mode, uid, gid)


def problem(tree, path='/home/alice/.ssh/authorized_keys', home='/home/alice', uid=ALICE, rule=None):
    """secure_path_problem with the stats of ``tree`` (path -> Info); missing paths do not exist."""
    def stat_fn(name):
        return tree.get(name, Info(False, False, False, None, None, None))
    return strict_modes.secure_path_problem(path, tree[path], home, uid, stat_fn, rule)


def standard_tree(**changes):
    tree = {'/': directory(0o755), '/home': directory(0o755), '/home/alice': directory(0o755, ALICE, ALICE),
            '/home/alice/.ssh': directory(0o700, ALICE, ALICE),
            '/home/alice/.ssh/authorized_keys': regular(0o600)}
    tree.update(changes)
    return tree


def test_a_usual_layout_is_accepted():
    assert problem(standard_tree()) is None


@pytest.mark.parametrize('path, info', [
    ('/home/alice/.ssh', directory(0o703, ALICE, ALICE)),          # writable by others
    ('/home/alice/.ssh', directory(0o700, BOB, BOB)),              # owned by another account
    ('/home/alice/.ssh', directory(0o770, ALICE, ALICE)),          # group-writable, no rule given
    ('/home/alice', directory(0o757, ALICE, ALICE)),               # the home itself is judged
    ('/home/alice/.ssh/authorized_keys', regular(0o622)),
    ('/home/alice/.ssh/authorized_keys', regular(0o600, BOB, BOB)),
])
def test_bad_ownership_or_modes(path, info):
    assert 'bad ownership or modes' in problem(standard_tree(**{path: info}))


def test_not_a_regular_file():
    tree = standard_tree(**{'/home/alice/.ssh/authorized_keys': Info(True, False, False, 0o600, ALICE, ALICE)})
    assert problem(tree) == '/home/alice/.ssh/authorized_keys is not a regular file'


def test_walk_stops_at_the_home():
    # what lies above the home is not judged (sshd stops at pw_dir)
    tree = standard_tree(**{'/home': directory(0o777)})
    assert problem(tree) is None
    # without a home inside the path, the walk goes up to /
    assert 'bad ownership or modes for directory /home' in problem(tree, home=None)


def test_missing_directory_on_the_way():
    tree = standard_tree()
    tree.pop('/home/alice/.ssh')
    assert problem(tree) == 'bad ownership or modes for directory /home/alice/.ssh'
    tree = standard_tree()
    del tree['/home']
    assert problem(tree, home=None) == 'bad ownership or modes for directory /home'


# --------------------------------------------------------------------------- Debian's rule

def groups_rule(passwd, groups, uid=ALICE):
    return strict_modes.UserGroups(passwd=passwd, groups=groups).single_member_rule(uid)


PASSWD = [Passwd('alice', ALICE, ALICE), Passwd('bob', BOB, BOB)]


def test_debian_rule_private_group_of_the_account():
    rule = groups_rule(PASSWD, [Group('alice', ALICE, [])])
    tree = standard_tree(**{'/home/alice/.ssh': directory(0o770, ALICE, ALICE)})
    assert problem(tree, rule=rule) is None
    assert rule(directory(0o770, ALICE, ALICE))


def test_debian_rule_single_listed_member_who_owns_the_path():
    rule = groups_rule(PASSWD, [Group('alice', ALICE, []), Group('keys', 52000, ['alice'])])
    assert rule(directory(0o770, ALICE, 52000))
    # the listed member must be the owner
    assert not rule(directory(0o770, BOB, 52000))


@pytest.mark.parametrize('groups, passwd', [
    ([Group('keys', 52000, ['alice', 'bob'])], PASSWD),                                  # two listed members
    ([Group('keys', 52000, [])], PASSWD + [Passwd('carol', 51003, 52000)]),              # another's primary group
    ([Group('keys', 52000, [])], PASSWD + [Passwd('al2', ALICE, 52000), Passwd('carol', 51003, 52000)]),
    ([Group('keys', 52000, [])], PASSWD),                                                # no member at all
    ([Group('keys', 52000, ['bob'])], PASSWD),                                           # someone else
    ([], PASSWD),                                                                        # no group entry
])
def test_debian_rule_refuses(groups, passwd):
    rule = groups_rule(passwd, groups)
    assert not rule(directory(0o770, ALICE, 52000))
    tree = standard_tree(**{'/home/alice/.ssh': directory(0o770, ALICE, 52000)})
    assert 'bad ownership or modes for directory /home/alice/.ssh' in problem(tree, rule=rule)


def test_debian_rule_primary_member_and_listed_owner():
    rule = groups_rule(PASSWD + [Passwd('al2', ALICE, 52000)], [Group('keys', 52000, ['alice'])])
    assert rule(directory(0o770, ALICE, 52000))


# --------------------------------------------------------------------------- the kernel's permission bits

@pytest.fixture
def shared_dir():
    """A directory below /tmp that other uids can search (tmp_path's parents are root-only)."""
    path = tempfile.mkdtemp(prefix='kmu-strict-')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def entry(uid, groups=()):
    return AccountEntry('u%d' % uid, uid, uid, '/nonexistent', '/bin/sh', groups)


def make(path, kind, mode, uid=0, gid=0):
    if kind == 'dir':
        os.mkdir(path)
    else:
        with open(path, 'w') as handle:
            handle.write('x\n')
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


def test_search_bit_of_a_directory(shared_dir):
    make(os.path.join(shared_dir, 'd'), 'dir', 0o711)
    path = make(os.path.join(shared_dir, 'd', 'f'), 'file', 0o644)
    assert strict_modes.open_problem(path, entry(ALICE)) is None
    os.chmod(os.path.join(shared_dir, 'd'), 0o744)
    assert 'is not searchable by u%d' % ALICE in strict_modes.open_problem(path, entry(ALICE))


def test_group_bits_for_the_accounts_groups(shared_dir):
    make(os.path.join(shared_dir, 'd'), 'dir', 0o750, 0, 52000)
    path = make(os.path.join(shared_dir, 'd', 'f'), 'file', 0o640, 0, 52000)
    assert strict_modes.open_problem(path, entry(ALICE, [52000])) is None
    assert 'not searchable' in strict_modes.open_problem(path, entry(ALICE))
    os.chmod(os.path.join(shared_dir, 'd'), 0o755)
    assert 'is not readable by u%d' % ALICE in strict_modes.open_problem(path, entry(ALICE))


def test_owner_bits_and_root(shared_dir):
    path = make(os.path.join(shared_dir, 'f'), 'file', 0o400, ALICE, ALICE)
    assert strict_modes.open_problem(path, entry(ALICE)) is None
    os.chmod(path, 0o044)
    assert 'not readable' in strict_modes.open_problem(path, entry(ALICE))
    # root reads whatever the bits say
    os.chmod(path, 0o000)
    assert strict_modes.open_problem(path, entry(0)) is None
    assert strict_modes.open_problem(os.path.join(shared_dir, 'missing'), entry(0)) == 'missing'
