# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StrictModes as sshd judges it (auth_secure_path, Debian's group-writable rule)
and whether the account can open a file at all (the kernel's permission bits)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

import pytest

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
