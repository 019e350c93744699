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
import threading
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeysmithError, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Locks
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


# ----------------------------------------------------------------- the ~/.ssh flock (issue 30)

def _hold_flock(directory, then=None):
    """Another process holds the flock on ``directory`` (as ``flock ~/.ssh``
    does); ``then``: a shell command it runs before releasing it."""
    script = 'echo held; %s; read dummy' % (then or 'true')
    proc = subprocess.Popen(['flock', str(directory), 'sh', '-c', script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b'held'
    return proc


def _release(proc):
    proc.stdin.close()
    proc.wait()
    proc.stdout.close()


def _in_home_operations(world):
    ssh = world['tmp'] / 'home' / '.ssh'
    return [
        (ssh / 'principals', lambda locks: AuthorizedPrincipals(
            PrincipalsSpec(world['account'], principals=['dev'], path='%h/.ssh/principals'), locks=locks)),
        (ssh / 'known_hosts', lambda locks: KnownHostsCA(
            KnownHostsCASpec(world['keys']['ca'], hosts=['*.example.com'], account=world['account']), locks=locks)),
    ]


def test_in_home_writers_fail_while_another_holds_the_ssh_dir_flock(world):
    """ssh_principals and ssh_known_hosts_ca take the flock ssh_authkey takes
    on ~/.ssh: held by another process past lock_timeout, the write fails
    naming the lock, and the file is untouched."""
    ssh = world['tmp'] / 'home' / '.ssh'
    ssh.mkdir(parents=True)
    for path, operation in _in_home_operations(world):
        path.write_text('# mine\n')
        holder = _hold_flock(ssh)
        try:
            started = time.monotonic()
            with pytest.raises(KeysmithError) as failed:
                run_op(operation(Locks(1)))
            assert 1 <= time.monotonic() - started < 10
            assert 'waiting for the lock (flock) on %s' % ssh in failed.value.msg
            assert path.read_text() == '# mine\n'
        finally:
            _release(holder)
        # provision takes the same lock ahead (its lock_requests)
        checked = operation(None)
        assert [tree.path(parts) for tree, parts in checked.lock_requests(run_op(checked, check_mode=True)[0])] \
            == [str(ssh)]


def _write_while_another_holds_the_lock(directory, path, operation, line):
    """``operation`` (given its Locks) writes ``path`` while another process
    holds the flock on ``directory`` and adds ``line`` to the file meanwhile:
    the write waits, reads again, and keeps that line after the file's own."""
    path.write_text('# mine\n')
    holder = _hold_flock(directory, then='sleep 0.5; echo %s >> %s' % (line, path))
    release = threading.Timer(1.0, holder.stdin.close)
    release.start()
    try:
        plan, done = run_op(operation(Locks(30)))
    finally:
        release.join()
        holder.wait()
        holder.stdout.close()
    assert done['changed']
    text = path.read_text()
    assert text.startswith('# mine\n%s\n' % line), text
    assert 'dev' in text.splitlines() or '@cert-authority *.example.com' in text


def test_in_home_writers_wait_and_keep_what_the_holder_wrote(world):
    """The writer waits for the lock, then reads the file again: the line the
    holder added while it held the lock is kept (the plan read the file
    before it)."""
    ssh = world['tmp'] / 'home' / '.ssh'
    ssh.mkdir(parents=True)
    for path, operation in _in_home_operations(world):
        _write_while_another_holds_the_lock(ssh, path, operation, 'added-by-holder')


def test_central_writers_wait_and_keep_what_another_run_wrote(world):
    """The root-owned central files (a principals file of /etc/ssh/auth_principals,
    the system known_hosts): two runs at once both keep their lines - the write
    takes the directory's flock, reads the file again and edits what it finds."""
    central = world['tmp'] / 'etc' / 'central'
    central.mkdir()
    os.chmod(str(central), 0o755)
    cases = [
        (central / world['account'].name, lambda locks: AuthorizedPrincipals(
            PrincipalsSpec(world['account'], principals=['dev'], path=str(central / '%u')), locks=locks)),
        (central / 'ssh_known_hosts', lambda locks: KnownHostsCA(
            KnownHostsCASpec(world['keys']['ca'], hosts=['*.example.com'], path=str(central / 'ssh_known_hosts')),
            locks=locks)),
    ]
    for path, operation in cases:
        _write_while_another_holds_the_lock(central, path, operation, 'added-by-other-run')
        st = os.stat(str(path))
        assert (st.st_uid, st.st_mode & 0o777) == (0, 0o644)
