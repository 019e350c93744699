# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's paths, permissions and blind spots, judged by a real sshd (issue 26, classes 5-7).

One sshd on 127.0.0.1 (``UsePAM no``, ``StrictModes yes``) whose ``Match User``
blocks give each throw-away account one layout: a symlink to a root-only file,
a root-owned 0600 file the account may read through an ACL, a directory it
cannot search, a quoted ``AuthorizedKeysFile`` path with a space, ``..`` after
a symlinked directory, an unknown ``%x`` token between two entries, a key
after a 64 MiB sparse hole. Each key logs in (sshd's verdict) and the audit,
run in-process against the same configuration, must agree - or say that it
could not see (status ``incomplete`` / ``not audited``). Then the audit runs
without root (in a child that took an account's uid) and must say
``not audited`` instead of "no keys".

Accounts ``$AUDIT_USER_PREFIX`` + a letter (default ``kh3``), ports
``$AUDIT_PORTS`` (default 22640-22659); all removed at the end.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import sys

import pytest

from conftest import COLLECTIONS

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import (  # noqa: E402
    AccessSpec,
    AuthorizedKeysInfo,
)

PREFIX = os.environ.get('AUDIT_USER_PREFIX', 'kh3')
PORTS = tuple(int(p) for p in os.environ.get('AUDIT_PORTS', '22640-22659').split('-'))
SPARSE_HOLE = 64 * 1024 * 1024
LETTERS = 'abcdefg'


def _run(args, **kwargs):
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.PIPE)
    return subprocess.run(args, check=False, **kwargs)


def _run_command(argv):
    result = _run(argv)
    return result.returncode, result.stdout.decode('utf-8', 'replace'), result.stderr.decode('utf-8', 'replace')


def _write(path, data, mode=0o644, owner=None):
    with open(path, 'wb') as handle:
        handle.write(data)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, mode)


def _mkdir(path, mode=0o755, owner=None):
    os.mkdir(path)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, mode)


def _free_port():
    for port in range(PORTS[0], PORTS[-1] + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise RuntimeError('no free port in %s' % (PORTS,))


class Lab:
    """The accounts, their files, the keys and the sshd."""

    def __init__(self):
        self.users = {}
        self.proc = None
        # Below /srv (root, 0755): the central files pass StrictModes; /tmp (1777) would not.
        self.base = tempfile.mkdtemp(prefix='%s-audit-' % PREFIX, dir='/srv' if os.path.isdir('/srv') else '/var/lib')
        os.chmod(self.base, 0o755)
        self.keys = {}

    def user(self, letter):
        return self.users[letter]

    def make_users(self):
        for letter in LETTERS:
            name = PREFIX + letter
            _run(['userdel', '-r', name])  # a leftover of an interrupted run
            result = _run(['useradd', '-m', '-s', '/bin/sh', name])
            if result.returncode != 0:
                raise RuntimeError('useradd %s: %s' % (name, result.stderr))
            self.users[letter] = pwd.getpwnam(name)
            _run(['usermod', '-p', '*', name])

    def key(self, name):
        path = os.path.join(self.base, 'client', name)
        _run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path])
        with open(path + '.pub', 'rb') as handle:
            line = handle.read()
        fingerprint = _run(['ssh-keygen', '-l', '-E', 'sha256', '-f', path + '.pub']).stdout.split()[1].decode()
        self.keys[name] = (path, line, fingerprint)
        return line

    def dot_ssh(self, letter):
        account = self.user(letter)
        path = os.path.join(account.pw_dir, '.ssh')
        _mkdir(path, 0o700, account)
        return path

    def layout(self):
        base = self.base
        _mkdir(os.path.join(base, 'client'), 0o700)
        # a: ~/.ssh/authorized_keys -> a root-only file
        _write(os.path.join(base, 'root-only'), self.key('a'), 0o600)
        os.symlink(os.path.join(base, 'root-only'), os.path.join(self.dot_ssh('a'), 'authorized_keys'))
        # b: root-owned 0600 file in a root-owned directory, readable by b through an ACL
        _mkdir(os.path.join(base, 'acl'))
        acl_file = os.path.join(base, 'acl', self.user('b').pw_name)
        _write(acl_file, self.key('b'), 0o600)
        result = _run(['setfacl', '-m', 'u:%s:r' % self.user('b').pw_name, acl_file])
        assert result.returncode == 0, result.stderr
        # c: a directory c cannot search
        _mkdir(os.path.join(base, 'closed'), 0o700)
        _write(os.path.join(base, 'closed', self.user('c').pw_name), self.key('c'), 0o644)
        # d: a quoted path with a space
        _mkdir(os.path.join(base, 'keys dir'))
        _write(os.path.join(base, 'keys dir', self.user('d').pw_name), self.key('d'), 0o644)
        # e: %h/link/../ak with link -> base/elsewhere/sub: the kernel opens base/elsewhere/ak;
        # %h/ak (what the string "normalises" to) holds another key
        _mkdir(os.path.join(base, 'elsewhere'))
        _mkdir(os.path.join(base, 'elsewhere', 'sub'))
        _write(os.path.join(base, 'elsewhere', 'ak'), self.key('e1'), 0o644)
        home_e = self.user('e').pw_dir
        os.symlink(os.path.join(base, 'elsewhere', 'sub'), os.path.join(home_e, 'link'))
        _write(os.path.join(home_e, 'ak'), self.key('e2'), 0o600, self.user('e'))
        # f: first/%u, then an entry with an unknown token, then second/%u
        for name in ('first', 'second'):
            _mkdir(os.path.join(base, name))
        _write(os.path.join(base, 'first', self.user('f').pw_name), self.key('f1'), 0o644)
        _write(os.path.join(base, 'second', self.user('f').pw_name), self.key('f2'), 0o644)
        # g: a key after a 64 MiB hole (sparse: no disk used)
        path = os.path.join(self.dot_ssh('g'), 'authorized_keys')
        line = self.key('g')
        with open(path, 'wb') as handle:
            handle.seek(SPARSE_HOLE)
            handle.write(b'\n' + line)
        os.chown(path, self.user('g').pw_uid, self.user('g').pw_gid)
        os.chmod(path, 0o600)

    def start(self):
        host_key = os.path.join(self.base, 'host_ed25519')
        _run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', host_key])
        os.makedirs('/run/sshd', exist_ok=True)
        self.port = _free_port()
        name = dict((letter, self.user(letter).pw_name) for letter in LETTERS)
        lines = [
            'Port %d' % self.port, 'ListenAddress 127.0.0.1', 'HostKey %s' % host_key,
            'PidFile %s' % os.path.join(self.base, 'sshd.pid'), 'UsePAM no', 'StrictModes yes', 'UseDNS no',
            'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
            'AuthorizedKeysFile .ssh/authorized_keys', 'MaxAuthTries 10', 'LogLevel DEBUG1',
            'Match User %s' % name['b'], '    AuthorizedKeysFile %s/acl/%%u' % self.base,
            'Match User %s' % name['c'], '    AuthorizedKeysFile %s/closed/%%u' % self.base,
            'Match User %s' % name['d'], '    AuthorizedKeysFile "%s/keys dir/%%u" .ssh/authorized_keys' % self.base,
            'Match User %s' % name['e'], '    AuthorizedKeysFile %h/link/../ak',
            'Match User %s' % name['f'],
            '    AuthorizedKeysFile {0}/first/%u {0}/bad/%x {0}/second/%u'.format(self.base),
            '',
        ]
        self.config = os.path.join(self.base, 'sshd_config')
        _write(self.config, '\n'.join(lines).encode(), 0o644)
        self.log_path = os.path.join(self.base, 'sshd.log')
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', self.config],
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log()
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(('127.0.0.1', self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError('sshd did not listen on %d' % self.port)

    def log(self):
        with open(self.log_path, 'rb') as handle:
            return handle.read()[-4000:].decode('utf-8', 'replace')

    def login(self, letter, *key_names):
        """True when sshd lets the account in with these keys (offered in this order)."""
        args = ['ssh', '-F', '/dev/null', '-T', '-p', str(self.port)]
        for name in key_names:
            args += ['-i', self.keys[name][0]]
        args += ['-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes',
                 '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                 '-o', 'PreferredAuthentications=publickey', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=VERBOSE',
                 '%s@127.0.0.1' % self.user(letter).pw_name, 'true']
        result = _run(args, stdin=subprocess.DEVNULL, timeout=30)
        return b'Authenticated to ' in result.stderr

    def audit(self):
        spec = AccessSpec(users=[self.user(letter).pw_name for letter in LETTERS], sshd_config=self.config,
                          sshd_path='/usr/sbin/sshd', sshd_flavor='auto')
        operation = AuthorizedKeysInfo(spec, _run_command)
        plan = operation.plan()
        return plan, operation.result(plan, False)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for account in self.users.values():
            # links out of the home first: userdel -r must not follow them
            for path in (os.path.join(account.pw_dir, '.ssh', 'authorized_keys'), os.path.join(account.pw_dir, 'link')):
                if os.path.islink(path):
                    os.unlink(path)
            _run(['userdel', '-r', account.pw_name])
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope='module')
def lab():
    if os.geteuid() != 0:
        pytest.fail('the reliability suite runs as root (accounts, sshd)')
    made = Lab()
    try:
        made.make_users()
        made.layout()
        made.start()
        yield made
    finally:
        made.close()


def _by_user(result):
    return dict((account['user'], account) for account in result['accounts'])


def _accepted(account, fingerprint):
    return any(key['accepted'] for key in account['keys'] if key['fingerprint'] == fingerprint)


CASES = [('a', 'a', False), ('b', 'b', True), ('c', 'c', False), ('d', 'd', True), ('e', 'e1', True),
         ('e', 'e2', False), ('f', 'f1', True), ('f', 'f2', False), ('g', 'g', True)]


def test_audit_agrees_with_sshd_or_says_it_cannot_see(lab):
    verdicts = dict(((letter, key), lab.login(letter, key)) for letter, key, dummy in CASES)
    assert verdicts == dict(((letter, key), expected) for letter, key, expected in CASES), lab.log()
    started = time.time()
    plan, result = lab.audit()
    elapsed = time.time() - started
    accounts = _by_user(result)
    for (letter, key), allowed in sorted(verdicts.items()):
        account = accounts[lab.user(letter).pw_name]
        if account['status'] == 'audited':
            assert _accepted(account, lab.keys[key][2]) == allowed, (letter, key, account)
        else:  # only the sparse file is beyond what the audit reads
            assert letter == 'g' and allowed
    assert elapsed < 20
    # a: the root-only target behind the link: refused, and nothing of it is shown
    a = accounts[lab.user('a').pw_name]
    assert a['status'] == 'audited' and a['keys'] == []
    assert a['files'][0]['reason'] == 'permission denied: %s cannot open %s' % (a['user'], a['files'][0]['path'])
    assert a['files'][0]['exists'] is True and a['files'][0]['mode'] is None
    assert lab.keys['a'][2] not in json.dumps(result)
    # b: the ACL lets b (and sshd as b) read the root-owned 0600 file
    b = accounts[lab.user('b').pw_name]
    assert b['files'][0]['used'] and [k['accepted'] for k in b['keys']] == [True]
    # c: the directory on the way is not searchable by c
    c = accounts[lab.user('c').pw_name]
    assert c['keys'] == [] and c['files'][0]['reason'].startswith('permission denied: ')
    # d: one entry with a space, then the default
    d = accounts[lab.user('d').pw_name]
    assert [f['path'] for f in d['files']] == ['%s/keys dir/%s' % (lab.base, d['user']),
                                               '%s/.ssh/authorized_keys' % d['home']]
    # e: the path is kept as sshd opens it
    e = accounts[lab.user('e').pw_name]
    assert [f['path'] for f in e['files']] == ['%s/link/../ak' % e['home']]
    # f: the search ends at the unknown token; the key in the later entry is listed as refused
    f = accounts[lab.user('f').pw_name]
    assert [item['used'] for item in f['files']] == [True, False, False]
    assert 'unknown token %x' in f['files'][1]['reason'] and f['files'][1]['path'] is None
    late = [key for key in f['keys'] if key['fingerprint'] == lab.keys['f2'][2]]
    assert len(late) == 1 and not late[0]['accepted'] and 'sshd stops at' in late[0]['refused_reasons'][0]
    assert any('unknown token %x' in warning for warning in plan.warnings)
    # ... and sshd indeed closes the connection: a client offering f2 first cannot log in with f1 after it
    assert lab.login('f', 'f1', 'f2') and not lab.login('f', 'f2', 'f1')
    # g: cut at the read cap: incomplete, visibly
    g = accounts[lab.user('g').pw_name]
    assert g['status'] == 'incomplete' and g['files'][0]['truncated']
    assert g['status_reasons'] == ['file %s cut at 67108864 bytes: sshd reads the whole file' % g['files'][0]['path']]
    summary = result['summary']
    assert summary['accounts_incomplete'] == 1 and summary['accounts_not_audited'] == 0
    assert summary['accounts_without_keys'] == 2  # a and c; g is not counted as having no keys
    assert '1 account incomplete (%s)' % g['user'] in result['msg']


def test_audit_without_root_says_not_audited(lab):
    """The module run by an account (no become): nothing is reported as missing or keyless that it cannot see."""
    runner = lab.user('a')
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(runner.pw_gid)
            os.setuid(runner.pw_uid)
            plan, result = lab.audit()
            data = json.dumps({'warnings': plan.warnings, 'result': result}).encode()
            while data:
                data = data[os.write(write_end, data):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    dummy, status = os.waitpid(pid, 0)
    assert status == 0
    output = json.loads(b''.join(chunks))
    result = output['result']
    accounts = _by_user(result)
    # its own account is judged with its own rights (the link to the root-only file: refused)
    own = accounts[runner.pw_name]
    assert own['status'] == 'audited' and own['keys'] == []
    assert own['files'][0]['reason'].startswith('permission denied')
    # g's ~/.ssh (0700) cannot be looked into: not audited, not "no keys"
    g = accounts[lab.user('g').pw_name]
    assert g['status'] == 'not audited' and g['keys'] == []
    assert g['status_reasons'] == ['not audited: not running as root: cannot open %s/.ssh/authorized_keys with '
                                   'the rights of %s' % (g['home'], g['user'])]
    assert g['files'][0]['exists'] is None and g['files'][0]['audited'] is False
    not_audited = [account['user'] for account in result['accounts'] if account['status'] == 'not audited']
    assert result['summary']['accounts_not_audited'] == len(not_audited) >= 1
    assert result['summary']['accounts_without_keys'] + len(not_audited) <= len(result['accounts'])
    assert 'not audited' in result['msg']
    # nothing read from any file the running account could not read itself
    for key_name in ('a', 'g'):
        assert lab.keys[key_name][2] not in json.dumps(result)
