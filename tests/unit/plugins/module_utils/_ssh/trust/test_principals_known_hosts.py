# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_principals and ssh_known_hosts_ca: declarative edits that keep what they
do not manage, files with the right owner and mode, check mode = real run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust import principals as principals_mod
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.known_hosts import KnownHostsCA, KnownHostsCASpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.principals import (
    AuthorizedPrincipals,
    PrincipalsSpec,
)
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


@pytest.fixture
def world(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    (tmp_path / 'etc').mkdir()
    os.chmod(str(tmp_path / 'etc'), 0o755)
    home = tmp_path / 'home'
    keys = {}
    for name in ('ca', 'other'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', str(tmp_path / name)],
                       check=True)
        keys[name] = (tmp_path / (name + '.pub')).read_text().strip()
    return {'tmp': tmp_path, 'account': Account.resolve(None, str(home)), 'keys': keys}


def principals(w, **options):
    options.setdefault('path', str(w['tmp'] / 'etc' / 'principals' / '%u'))
    return AuthorizedPrincipals(PrincipalsSpec(w['account'], **options))


def test_principals_check_mode_then_real_run_then_unchanged(world):
    plan, checked = run_op(principals(world, principals=['dev', 'ops']), check_mode=True)
    path = world['tmp'] / 'etc' / 'principals' / world['account'].name
    assert checked['changed'] and not path.parent.exists()
    plan, done = run_op(principals(world, principals=['dev', 'ops']))
    assert done['actions'] == checked['actions'] and done['diff'] == checked['diff']
    assert path.read_text() == 'dev\nops\n'
    st, dir_st = os.stat(str(path)), os.stat(str(path.parent))
    assert (st.st_uid, st.st_mode & 0o7777, dir_st.st_uid, dir_st.st_mode & 0o7777) == (0, 0o644, 0, 0o755)
    plan, again = run_op(principals(world, principals=['ops', 'dev']))
    assert not again['changed'] and again['principals'] == ['dev', 'ops']


def test_principals_keep_options_comments_and_others_unless_exclusive(world):
    path = world['tmp'] / 'etc' / 'principals' / world['account'].name
    path.parent.mkdir(parents=True)
    path.write_text('# team leads\ncommand="/bin/date" lead\nold\t# gone soon\n')
    plan, done = run_op(principals(world, principals=['lead', 'dev']))
    assert path.read_text() == '# team leads\ncommand="/bin/date" lead\nold\t# gone soon\ndev\n'
    assert done['principals'] == ['lead', 'old', 'dev']
    plan, done = run_op(principals(world, principals=['lead'], exclusive=True))
    assert path.read_text() == '# team leads\ncommand="/bin/date" lead\n'
    assert done['actions'] == ['update %s (-old, -dev)' % path]
    run_op(principals(world, principals=['lead'], state='absent'))
    assert path.read_text() == '# team leads\n'
    run_op(principals(world, state='absent'))
    assert not path.exists()


def test_principals_in_the_home_belong_to_the_account(world):
    plan, done = run_op(principals(world, principals=['dev'], path='%h/.ssh/principals'))
    path = world['tmp'] / 'home' / '.ssh' / 'principals'
    assert path.read_text() == 'dev\n' and done['path'] == str(path)
    assert os.stat(str(path)).st_uid == world['account'].uid


def test_principals_sshd_cannot_read_are_refused(world):
    for bad in ('two words', 'hash#tag', 'new\nline', ''):
        with pytest.raises(InvalidInput):
            principals(world, principals=[bad])
    assert principals_mod.line_principal('from="10.0.0.0/8" dev # c') == 'dev'
    assert principals_mod.line_principal('  # only a comment') is None


def test_principals_refuse_a_planted_link(world):
    directory = world['tmp'] / 'etc' / 'principals'
    directory.mkdir(parents=True)
    os.symlink('/etc/shadow', str(directory / world['account'].name))
    with pytest.raises(UnsafePath):
        run_op(principals(world, principals=['dev']))
    assert os.path.islink(str(directory / world['account'].name))


def known_hosts(w, key='ca', **options):
    options.setdefault('path', str(w['tmp'] / 'known_hosts'))
    return KnownHostsCA(KnownHostsCASpec(w['keys'][key], **options))


def test_known_hosts_line_is_set_in_place_and_others_are_kept(world):
    path = world['tmp'] / 'known_hosts'
    host_line = 'bastion.example.com %s' % world['keys']['other']
    ca_body = ' '.join(world['keys']['ca'].split()[:2])
    path.write_text('%s\n@cert-authority old.example.com %s renamed\n@cert-authority dup %s\n'
                    % (host_line, ca_body, ca_body))
    plan, checked = run_op(known_hosts(world, hosts=['*.example.com', '[127.0.0.1]:2222']), check_mode=True)
    plan, done = run_op(known_hosts(world, hosts=['*.example.com', '[127.0.0.1]:2222']))
    assert done['actions'] == checked['actions'] and done['diff'] == checked['diff']
    assert path.read_text() == '%s\n@cert-authority *.example.com,[127.0.0.1]:2222 %s ca\n' % (host_line, ca_body)
    plan, again = run_op(known_hosts(world, hosts=['*.example.com', '[127.0.0.1]:2222']))
    assert not again['changed']
    run_op(known_hosts(world, key='other', hosts=['*.example.org']))
    run_op(known_hosts(world, state='absent'))
    assert path.read_text() == '%s\n@cert-authority *.example.org %s\n' % (host_line, world['keys']['other'])


def test_known_hosts_refuses_bad_input(world):
    with pytest.raises(InvalidInput):
        known_hosts(world, hosts=['a b'])
    with pytest.raises(InvalidInput):
        known_hosts(world, hosts=[])
    with pytest.raises(InvalidInput):
        KnownHostsCA(KnownHostsCASpec('-----BEGIN OPENSSH PRIVATE KEY-----', hosts=['h']))


def test_known_hosts_of_an_account(world):
    plan, done = run_op(KnownHostsCA(KnownHostsCASpec(world['keys']['ca'], hosts=['h'], account=world['account'])))
    path = world['tmp'] / 'home' / '.ssh' / 'known_hosts'
    assert done['path'] == str(path) and path.read_text().startswith('@cert-authority h ssh-ed25519 ')


def test_missing_directories_are_made_root_0755_and_predicted(world):
    path = world['tmp'] / 'etc' / 'a' / 'b' / 'known_hosts'
    plan, checked = run_op(known_hosts(world, hosts=['h'], path=str(path)), check_mode=True)
    assert not (world['tmp'] / 'etc' / 'a').exists()
    plan, done = run_op(known_hosts(world, hosts=['h'], path=str(path)))
    assert done['actions'] == checked['actions'] == [
        'create directory %s (0755)' % path.parent, 'create %s (added @cert-authority line of %s)'
        % (path, done['fingerprint'])]
    for directory in (path.parent, path.parent.parent):
        st = os.stat(str(directory))
        assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o755)
