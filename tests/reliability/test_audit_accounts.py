# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 26 class 8: the audit's account state against a real sshd.

Throw-away accounts (``kh4s..``) in every state sshd's ``allowed_user`` looks
at - locked (``passwd -l``, ``usermod -L``), expired (``chage -E 0``,
``usermod -e 1``), shell missing, not executable, a directory, ``nologin``,
empty; password expired, expiry in the future - each with the same key in its
own authorized_keys file. An sshd on 127.0.0.1 (ports 22660-22679, ``UsePAM
no``; a ``Match User`` block with ``ChrootDirectory``) is the judge: a login
with the key, "Authenticated to" or not. The audit, in-process with
``sshd_config`` pointing to that sshd's configuration, must say the same for
every account, with the reason. A second sshd with ``UsePAM yes`` shows why the
audit leaves locked and expired accounts to PAM there (a locked account logs in).
Root only; everything made is removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import COLLECTIONS

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'parity'))
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

import oracle  # noqa: E402  (tests/parity/oracle.py: sshd on a loopback port, logins)

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import (  # noqa: E402
    AccessSpec,
    AuthorizedKeysInfo,
)

PREFIX = 'kh4s'
PORTS = (22660, 22679)
LOCKED = 'account is locked (password field starts with "!")'


def run(args):
    return subprocess.run(args, check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_command(argv):
    result = run(argv)
    return result.returncode, result.stdout.decode('utf-8', 'replace'), result.stderr.decode('utf-8', 'replace')


class Lab:
    """Accounts in given states and sshd instances judging them."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='kh4-accounts-', dir='/tmp')
        os.chmod(self.dir, 0o755)
        self.keys_dir = os.path.join(self.dir, 'authorized')
        os.mkdir(self.keys_dir)
        os.chmod(self.keys_dir, 0o755)
        self.users = []
        self.procs = []
        self.key, self.line = oracle.make_key(self.dir, 'id_ed25519', 'ed25519')
        self.host_key = os.path.join(self.dir, 'host_ed25519')
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', self.host_key])

    def account(self, suffix, *commands):
        """A ``kh4s<suffix>`` account (shell /bin/sh, password '*'), then each command with the name appended."""
        name = PREFIX + suffix
        run(['userdel', name])  # a leftover of an interrupted run
        result = run(['useradd', '-M', '-d', self.dir, '-s', '/bin/sh', '-p', '*',
                      '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name])
        assert result.returncode == 0, result.stderr
        self.users.append(name)
        for command in commands:
            result = run(list(command) + [name])
            assert result.returncode == 0, (command, result.stderr)
        path = os.path.join(self.keys_dir, name)
        with open(path, 'w') as handle:
            handle.write(self.line + '\n')
        os.chmod(path, 0o644)
        return name

    def sshd(self, name, extra):
        port = oracle.free_port(*PORTS)
        config = os.path.join(self.dir, 'sshd_config_%s' % name)
        with open(config, 'w') as handle:
            handle.write('\n'.join([
                'Port %d' % port, 'ListenAddress 127.0.0.1', 'HostKey %s' % self.host_key,
                'PidFile %s' % os.path.join(self.dir, 'sshd_%s.pid' % name), 'StrictModes no', 'UseDNS no',
                'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
                'AuthorizedKeysFile %s/%%u' % self.keys_dir, 'LogLevel VERBOSE', 'MaxStartups 64:30:128',
            ] + extra + ['']))
        os.makedirs('/run/sshd', exist_ok=True)
        log = open(os.path.join(self.dir, 'sshd_%s.log' % name), 'wb')
        try:
            proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', config], stdout=log,
                                    stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.procs.append(proc)
        _wait(proc, port)
        return config, port

    def logins(self, port, users):
        """{user: authenticated} for a login with the key, the accounts in parallel."""
        verdicts = {}

        def login(user):
            result = subprocess.run(
                ['ssh', '-F', '/dev/null', '-T', '-p', str(port), '-i', self.key, '-o', 'IdentitiesOnly=yes',
                 '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
                 '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=publickey',
                 '-o', 'ConnectTimeout=10', '-o', 'LogLevel=VERBOSE', '%s@127.0.0.1' % user, 'true'],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=oracle.LOGIN_TIMEOUT, check=False)
            verdicts[user] = b'Authenticated to ' in result.stderr

        threads = [threading.Thread(target=login, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return verdicts

    def audit(self, config, users):
        operation = AuthorizedKeysInfo(AccessSpec(users=users, sshd_config=config, sshd_path='/usr/sbin/sshd'),
                                       run_command)
        plan = operation.plan()
        return dict((account['user'], account) for account in operation.result(plan, False)['accounts'])

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        left = []
        for user in self.users:
            if run(['userdel', user]).returncode != 0 and run(['id', user]).returncode == 0:
                left.append(user)
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not left, 'accounts left behind: %s' % left


def _wait(proc, port):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('sshd exited (rc %s)' % proc.returncode)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError('sshd did not listen on %d' % port)


@pytest.fixture
def lab():
    made = Lab()
    try:
        yield made
    finally:
        made.close()


def test_account_states_agree_with_sshd(lab):
    not_exec = os.path.join(lab.dir, 'not-executable-shell')
    with open(not_exec, 'w') as handle:
        handle.write('#!/bin/sh\n')
    os.chmod(not_exec, 0o644)
    nologin = '/usr/sbin/nologin'
    cases = {
        # suffix: (commands, sshd authenticates the key, reasons the audit must give)
        'ok': ((), True, []),
        'pwl': ((['passwd', '-l'],), False, [LOCKED]),
        'usl': ((['usermod', '-L'],), False, [LOCKED]),
        'ce0': ((['chage', '-E', '0'],), False, ['account expired on 1970-01-01']),
        'ue1': ((['usermod', '-e', '1'],), False, ['account expired on 1970-01-02']),
        'fut': ((['chage', '-E', '2099-01-01'],), True, []),
        'pwx': ((['chage', '-d', '0'],), True, []),          # password expiry: password logins only
        'nsh': ((['usermod', '-s', '/nonexistent'],), False, ['shell /nonexistent does not exist']),
        'nex': ((['usermod', '-s', not_exec],), False, ['shell %s is not executable' % not_exec]),
        'dir': ((['usermod', '-s', lab.dir],), False, ['shell %s is not executable' % lab.dir]),
        'nol': ((['usermod', '-s', nologin],), True, []),
        'emp': ((['usermod', '-s', ''],), True, []),
        # ChrootDirectory (Match User below): the shell is not looked at
        'chr': ((['usermod', '-s', '/nonexistent'],), True, []),
        # all at once: every reason
        'all': ((['usermod', '-L'], ['chage', '-E', '0'], ['usermod', '-s', '/nonexistent']), False,
                ['account expired on 1970-01-01', LOCKED, 'shell /nonexistent does not exist']),
    }
    users = dict((lab.account(suffix, *commands), (sshd_says, reasons))
                 for suffix, (commands, sshd_says, reasons) in cases.items())
    config, port = lab.sshd('nopam', ['UsePAM no', 'Match User %schr' % PREFIX, '  ChrootDirectory /run/sshd'])
    logins = lab.logins(port, sorted(users))
    audit = lab.audit(config, sorted(users))
    for user, (sshd_says, reasons) in sorted(users.items()):
        assert logins[user] is sshd_says, (user, 'the scenario itself')
        account = audit[user]
        assert len(account['keys']) == 1, user
        key = account['keys'][0]
        assert key['accepted'] is logins[user], (user, account)
        assert account['login_refused_reasons'] == reasons, user
        assert key['refused_reasons'] == reasons, user
        assert account['account_state']['use_pam'] is False
    assert audit[PREFIX + 'pwl']['account_state']['locked'] is True
    assert audit[PREFIX + 'ce0']['account_state']['expired'] is True
    assert audit[PREFIX + 'fut']['account_state']['account_expires'] == '2099-01-01'
    assert audit[PREFIX + 'pwx']['account_state']['password_expired'] is True
    state = audit[PREFIX + 'nol']['account_state']
    assert state['no_shell'] is True and state['shell_ok'] is True
    assert any(note.startswith('no shell: nologin') for note in state['notes'])
    assert audit[PREFIX + 'emp']['account_state']['shell'] == '/bin/sh'
    state = audit[PREFIX + 'chr']['account_state']
    assert state['chroot_directory'] == '/run/sshd' and state['shell_ok'] is None


def test_usepam_yes_is_left_to_pam(lab):
    users = [lab.account('pok'), lab.account('plk', ['usermod', '-L'])]
    config, port = lab.sshd('pam', ['UsePAM yes'])
    logins = lab.logins(port, users)
    # with PAM, sshd does not look at the "!": the locked account logs in with its key
    assert logins == {users[0]: True, users[1]: True}
    audit = lab.audit(config, users)
    for user in users:
        state = audit[user]['account_state']
        assert audit[user]['keys'][0]['accepted'] is True and audit[user]['login_refused_reasons'] == []
        # Debian's account stack has pam_unix: it judges expiry (not the lock), so the audit does too
        assert (state['use_pam'], state['locked'], state['expired']) == (True, None, False)
