# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks of a hostile account owner (issue 15): one or more per class.

Root runs the real modules (subprocesses) for accounts ``k15*`` whose owners
(simulated by the test, as root) plant links, nest homes, race the registry
with rename-exchange loops, patch key-derivation costs, hold locks, grow files
while they are read, put sockets, fifos and devices where modules scan, and
name paths that leave the home. Each test failed before the hardening. Root
directories the attacks aim at are compared before and after (content, owner,
mode, link count, mtime); module runs are bounded (time) and measured (peak
RSS from ``wait4``).

Figures (printed by ``test_zz_figures`` as a warning in the summary): 73
attacks, 38 raced runs (rename-exchange loops, files grown while read), max
RSS 89.5 MiB and max 2.3 s per module run under hostile files, 22 s for the
file on 2 cores (``FIGURES_NOTE``). Before the hardening 23 of its 24 tests
failed (the one that passed: ``ssh_key_info`` was already refusing a linked
directory) and one module run peaked at 1.5 GiB.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ctypes
import ctypes.util
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings

import pytest

from conftest import COLLECTIONS, PYTHON, _args_file, module_env, module_path, snapshot

FIGURES_NOTE = ('last run: 73 attacks, 38 raced runs, max RSS 89.5 MiB, max 2.3 s per module run '
                '(hostile files), suite 22 s on 2 cores; before the hardening 23 of these 24 tests '
                'failed and a module run peaked at 1.5 GiB RSS')

FIG = {'attacks': 0, 'raced_runs': 0, 'max_rss_kib': 0, 'max_seconds': 0.0}
RSS_LIMIT_MIB = 256
TIME_LIMIT = 20.0
SECRET_TOKEN = 'K15TOPSECRET'


# --------------------------------------------------------------------------- running

class Run:
    def __init__(self, rc, stdout, stderr, seconds, rss_kib):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.rss_kib = rss_kib
        self.result = {}
        for line in stdout.splitlines():
            line = line.strip()
            if line.startswith('{'):
                try:
                    self.result = json.loads(line)
                except ValueError:
                    pass

    @property
    def failed(self):
        return bool(self.result.get('failed')) or self.rc != 0

    @property
    def msg(self):
        return self.result.get('msg', '') + self.stderr[-500:]

    def __repr__(self):
        return 'Run(rc=%r, %.1fs, %d KiB, result=%r, stderr=%r)' % (
            self.rc, self.seconds, self.rss_kib, self.result, self.stderr[-1000:])


def start(name, args, check=False, env=None):
    tmpdir = tempfile.mkdtemp(prefix='k15-run-')
    argfile = _args_file(tmpdir, args, check)
    out = open(os.path.join(tmpdir, 'out'), 'w+b')
    err = open(os.path.join(tmpdir, 'err'), 'w+b')
    proc = subprocess.Popen([PYTHON, module_path(name), argfile], stdout=out, stderr=err,
                            env=module_env(env), cwd=tmpdir)
    return proc, tmpdir, out, err, time.monotonic()


def finish(started, timeout=60, attack=True):
    """Wait for a started run (``wait4``: its peak RSS), killing it past ``timeout``."""
    proc, tmpdir, out, err, began = started
    status = ru = None
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - began > timeout:
            proc.kill()
            dummy, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.monotonic() - began
    proc.returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    out.seek(0)
    err.seek(0)
    run = Run(proc.returncode, out.read().decode('utf-8', 'replace'), err.read().decode('utf-8', 'replace'),
              seconds, ru.ru_maxrss)
    out.close()
    err.close()
    shutil.rmtree(tmpdir, ignore_errors=True)
    if attack:
        FIG['attacks'] += 1
        FIG['max_rss_kib'] = max(FIG['max_rss_kib'], run.rss_kib)
        FIG['max_seconds'] = max(FIG['max_seconds'], seconds)
    assert seconds < timeout, 'module ran longer than %s s: %r' % (timeout, run)
    return run


def run(name, args, check=False, env=None, timeout=60, attack=True):
    return finish(start(name, args, check, env), timeout, attack)


def bounded(run_):
    """No file an account controls may cost more than this."""
    assert run_.rss_kib < RSS_LIMIT_MIB * 1024, run_
    assert run_.seconds < TIME_LIMIT, run_
    return run_


# --------------------------------------------------------------------------- accounts and places

class Accounts:
    """Test accounts named ``prefix`` + 8 hex digits (each suite has a prefix
    of its own), removed by ``cleanup``."""

    def __init__(self, prefix='k15'):
        self.prefix = prefix
        self.names = []

    def make(self, home=None, create_home=True):
        name = '%s%s' % (self.prefix, uuid.uuid4().hex[:8])
        cmd = ['useradd', '-s', '/bin/sh']
        cmd += ['-m'] if create_home else ['-M']
        if home is not None:
            cmd += ['-d', home]
        subprocess.run(cmd + [name], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.names.append(name)
        return pwd.getpwnam(name)

    def cleanup(self):
        for name in reversed(self.names):
            try:
                home = pwd.getpwnam(name).pw_dir
            except KeyError:
                continue
            if os.path.isdir(home) and not os.path.islink(home):
                for dirpath, dirnames, filenames in os.walk(home, topdown=True, followlinks=False):
                    for entry in dirnames + filenames:
                        path = os.path.join(dirpath, entry)
                        if os.path.islink(path):
                            os.unlink(path)
            elif os.path.islink(home):
                os.unlink(home)
            self._userdel(name)

    @staticmethod
    def _userdel(name):
        # userdel fails while another test's useradd holds the passwd lock (the
        # suite runs on two workers) or a raced module run still runs as the
        # account: retry, and fail the test rather than leave the account behind.
        for dummy in range(40):
            proc = subprocess.run(['userdel', '-r', name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            try:
                pwd.getpwnam(name)
            except KeyError:
                return
            time.sleep(0.25)
        raise AssertionError('could not remove the test account %s: %s' % (name, proc.stderr.decode(errors='replace')))


def made_accounts(prefix):
    """The body of an attack suite's accounts fixture (``yield from``): as
    root, accounts named ``prefix``..., all removed afterwards."""
    if os.geteuid() != 0:
        pytest.fail('the attack suite runs as root (useradd, chown)')
    made = Accounts(prefix)
    try:
        yield made
    finally:
        made.cleanup()


def root_owned_dir(prefix, setup=None):
    """The body of a directory fixture (``yield from``): a root-owned 0755
    directory on the homes' file system (hard links reach it), ``setup(path)``
    run in it, removed afterwards."""
    path = tempfile.mkdtemp(prefix=prefix, dir='/home')
    os.chmod(path, 0o755)
    try:
        if setup is not None:
            setup(path)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def accounts():
    yield from made_accounts('k15')


@pytest.fixture
def rootdir():
    """A root-owned 0755 directory on the homes' file system (hard links reach it)."""
    yield from root_owned_dir('k15-root-')


@pytest.fixture(scope='module')
def keys():
    """Two public key lines and an encrypted OpenSSH private key (made now)."""
    directory = tempfile.mkdtemp(prefix='k15-keys-')
    try:
        lines = []
        for index in range(2):
            path = os.path.join(directory, 'k%d' % index)
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'k15-%d' % index, '-f', path],
                           check=True)
            with open(path + '.pub') as handle:
                lines.append(handle.read().strip())
        path = os.path.join(directory, 'enc')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-a', '16', '-N', 'secret-k15', '-f', path], check=True)
        with open(path, 'rb') as handle:
            encrypted = handle.read()
        yield {'lines': lines, 'encrypted': encrypted}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def mkdir_as(path, user, mode=0o700):
    os.mkdir(path, mode)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)
    return path


def write_as(path, data, user, mode=0o600):
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)
    return path


def root_target(rootdir, name='target'):
    """A root-owned directory with a root-owned file an attack aims at."""
    target = os.path.join(rootdir, name)
    os.mkdir(target, 0o755)
    with open(os.path.join(target, 'id_rsa'), 'w') as handle:
        handle.write('echo root code\n')
    with open(os.path.join(target, 'authorized_keys'), 'w') as handle:
        handle.write('# root\n')
    return target


_LIBC = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def rename_exchange(first, second):
    """renameat2(RENAME_EXCHANGE): swap two names atomically (the racer's tool)."""
    if hasattr(_LIBC, 'renameat2'):
        rc = _LIBC.renameat2(_AT_FDCWD, first.encode(), _AT_FDCWD, second.encode(), _RENAME_EXCHANGE)
    else:  # glibc < 2.28: the x86_64 system call
        rc = _LIBC.syscall(316, _AT_FDCWD, first.encode(), _AT_FDCWD, second.encode(), _RENAME_EXCHANGE)
    return rc == 0


class Racer:
    """A thread swapping two names in a tight loop while modules run."""

    def __init__(self, first, second):
        self.first, self.second = first, second
        self.stop = threading.Event()
        self.swaps = 0
        self.thread = threading.Thread(target=self._loop)

    def _loop(self):
        while not self.stop.is_set():
            if rename_exchange(self.first, self.second):
                self.swaps += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False


# --------------------------------------------------------------------------- 1. symlinked parents of explicit paths

def test_keypair_private_key_path_through_linked_ssh_dir(accounts, rootdir):
    """Item 1: the documented ~/.ssh/id_rsa, with ~/.ssh a link to a root directory."""
    victim = accounts.make()
    target = root_target(rootdir)
    os.symlink(target, os.path.join(victim.pw_dir, '.ssh'))
    before = snapshot(target)
    result = bounded(run('keypair', {'name': 'k15one', 'type': 'ed25519', 'owner': victim.pw_name,
                                     'private_key_path': os.path.join(victim.pw_dir, '.ssh', 'id_rsa'),
                                     'registry': os.path.join(rootdir, 'registry')}))
    assert result.failed and 'symbolic link' in result.msg, result
    assert snapshot(target) == before
    assert not os.path.exists(os.path.join(rootdir, 'registry')), 'refused before the registry is made'


EXPLICIT = {
    'ssh_genkey': lambda user, path: {'user': user, 'path': path, 'type': 'ed25519'},
    'ssh_authkey': lambda user, path: {'user': user, 'path': path, 'key': '%(key)s'},
    'ssl_genkey': lambda user, path: {'user': user, 'path': path, 'type': 'ed25519', 'host': 'k15.example.com'},
    'keypair': lambda user, path: {'owner': user, 'private_key_path': path, 'name': 'k15x', 'type': 'ed25519',
                                   'registry': '%(registry)s'},
    'ssh_key_info': lambda user, path: {'user': user, 'path': os.path.dirname(path)},
}


@pytest.mark.parametrize('module', sorted(EXPLICIT))
def test_explicit_path_below_an_account_directory_link(accounts, rootdir, keys, module):
    """Item 1 (every explicit path): the parent of a path outside the home is an
    account's directory holding a link to a root directory."""
    victim = accounts.make()
    target = root_target(rootdir)
    srv = os.path.join(rootdir, 'srv')
    os.mkdir(srv, 0o755)
    owned = mkdir_as(os.path.join(srv, victim.pw_name), victim, 0o755)
    os.symlink(target, os.path.join(owned, 'keys'))
    path = os.path.join(owned, 'keys', 'id_rsa')
    args = EXPLICIT[module](victim.pw_name, path)
    args = dict((k, v % {'key': keys['lines'][0], 'registry': os.path.join(rootdir, 'reg')}
                 if isinstance(v, str) else v) for k, v in args.items())
    before = snapshot(target)
    result = bounded(run(module, args))
    assert result.failed and 'symbolic link' in result.msg, result
    assert snapshot(target) == before


# --------------------------------------------------------------------------- 2. nested homes

def test_nested_home_swapped_for_a_link(accounts, rootdir, keys):
    """Item 2: the outer account swaps the inner account's home for a link."""
    outer = accounts.make()
    inner = accounts.make(home=os.path.join(outer.pw_dir, 'sub'))
    target = root_target(rootdir)
    home = inner.pw_dir
    os.rename(home, home + '.real')
    os.symlink(target, home)
    before = snapshot(target)
    for module, args in (('ssh_authkey', {'key': keys['lines'][0]}),
                         ('ssh_genkey', {'name': 'id_ed25519', 'type': 'ed25519'}),
                         ('ssl_genkey', {'host': 'k15.example.com', 'type': 'ed25519'})):
        args['user'] = inner.pw_name
        result = bounded(run(module, args))
        assert result.failed, (module, result)
        assert snapshot(target) == before, module
    os.unlink(home)
    os.rename(home + '.real', home)


def test_nested_home_raced(accounts, rootdir, keys):
    """Item 2, raced: the outer account exchanges the inner home and a link in a loop."""
    outer = accounts.make()
    inner = accounts.make(home=os.path.join(outer.pw_dir, 'sub'))
    target = root_target(rootdir)
    link = os.path.join(outer.pw_dir, 'evil')
    os.symlink(target, link)
    before = snapshot(target)
    with Racer(inner.pw_dir, link) as racer:
        for batch in range(4):
            started = [start('ssh_authkey', {'user': inner.pw_name, 'key': keys['lines'][0]}) for dummy in range(4)]
            for item in started:
                result = bounded(finish(item))
                FIG['raced_runs'] += 1
                assert result.failed and 'owned by uid %d' % outer.pw_uid in result.msg, result
    assert racer.swaps > 0
    if os.path.islink(inner.pw_dir):
        rename_exchange(inner.pw_dir, link)
    assert snapshot(target) == before


# --------------------------------------------------------------------------- 3. ssh_authkey file=

def test_key_file_link_to_root_only_file(accounts, rootdir, keys):
    """Item 3: file= a link (and a hard link) to a root-only file of forced commands."""
    victim = accounts.make()
    secret = os.path.join(rootdir, 'forced_keys')
    with open(secret, 'w') as handle:
        handle.write('command="/usr/bin/%s" %s\n' % (SECRET_TOKEN, keys['lines'][1]))
    os.chmod(secret, 0o600)
    soft = os.path.join(victim.pw_dir, 'soft.pub')
    os.symlink(secret, soft)
    hard = os.path.join(victim.pw_dir, 'hard.pub')
    os.link(secret, hard)
    for path in (soft, hard):
        result = bounded(run('ssh_authkey', {'user': victim.pw_name, 'file': path}))
        assert result.failed, result
        assert SECRET_TOKEN not in result.stdout + result.stderr
        ak = os.path.join(victim.pw_dir, '.ssh', 'authorized_keys')
        assert not os.path.exists(ak) or SECRET_TOKEN not in open(ak).read()
    os.unlink(hard)


def test_key_file_content_never_in_errors(accounts, rootdir):
    """Item 3: a file that is no key file; its first characters are not shown."""
    victim = accounts.make()
    other = os.path.join(rootdir, 'not_keys')
    with open(other, 'w') as handle:
        handle.write('%s-value and more\n' % SECRET_TOKEN)
    result = bounded(run('ssh_authkey', {'user': victim.pw_name, 'file': other}))
    assert result.failed and 'not a valid public key line' in result.msg, result
    assert SECRET_TOKEN not in result.stdout + result.stderr


# --------------------------------------------------------------------------- 4. KDF costs

def _patch_bcrypt_rounds(private_bytes, rounds):
    lines = private_bytes.decode().strip().splitlines()
    raw = base64.b64decode(''.join(lines[1:-1]))
    pos = len(b'openssh-key-v1\0')
    for dummy in range(2):  # cipher name, kdf name
        pos += 4 + struct.unpack('>I', raw[pos:pos + 4])[0]
    options = pos + 4
    salt_len = struct.unpack('>I', raw[options:options + 4])[0]
    at = options + 4 + salt_len
    raw = raw[:at] + struct.pack('>I', rounds) + raw[at + 4:]
    body = base64.b64encode(raw).decode()
    return ('%s\n%s\n%s\n' % (lines[0], '\n'.join(body[i:i + 70] for i in range(0, len(body), 70)),
                              lines[-1])).encode()


@pytest.mark.parametrize('backend', ['cryptography', 'ssh-keygen'])
def test_openssh_bcrypt_rounds_patched(accounts, keys, backend):
    """Item 4: an OpenSSH key with 4e9 bcrypt rounds fails fast."""
    victim = accounts.make()
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    write_as(os.path.join(ssh, 'id_ed25519'), _patch_bcrypt_rounds(keys['encrypted'], 4000000000), victim)
    result = bounded(run('ssh_genkey', {'user': victim.pw_name, 'name': 'id_ed25519', 'type': 'ed25519',
                                        'passphrase': 'secret-k15', 'backend': backend}, timeout=30))
    assert result.failed and 'bcrypt rounds' in result.msg, result


_KDF_SCRIPT = r'''
import sys
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
data = open(sys.argv[2], 'rb').read()
try:
    if sys.argv[1] == 'ppk':
        ppk.PpkFile(data).private_blob('secret-k15')
    else:
        select_backend('cryptography', private_bytes=data).load_private(data, 'secret-k15')
except Exception as exc:  # the cap's error by name: before the fix it does not exist
    if type(exc).__name__ != 'TooExpensive':
        raise
    print('refused: ' + exc.msg)
    sys.exit(0)
print('derived')
sys.exit(1)
'''


def _kdf_check(kind, data, tmp_path):
    path = tmp_path / 'key'
    path.write_bytes(data)
    began = time.monotonic()
    proc = subprocess.run([PYTHON, '-c', _KDF_SCRIPT, kind, str(path)], env=module_env(), timeout=60,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    FIG['attacks'] += 1
    FIG['max_seconds'] = max(FIG['max_seconds'], time.monotonic() - began)
    output = proc.stdout.decode()
    assert proc.returncode == 0 and output.startswith('refused'), output
    assert time.monotonic() - began < TIME_LIMIT
    return output


def test_pkcs8_pbkdf2_iterations_patched(tmp_path):
    """Item 4: a PKCS#8 key whose PBKDF2 iteration count was raised to 8388607."""
    plain = subprocess.run(['openssl', 'genpkey', '-algorithm', 'ed25519'], stdout=subprocess.PIPE,
                           check=True).stdout
    pem = subprocess.run(['openssl', 'pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-iter', '32768',
                          '-passout', 'pass:secret-k15'], input=plain, stdout=subprocess.PIPE, check=True).stdout
    lines = pem.decode().strip().splitlines()
    der = base64.b64decode(''.join(lines[1:-1]))
    assert der.count(b'\x02\x03\x00\x80\x00') == 1
    der = der.replace(b'\x02\x03\x00\x80\x00', b'\x02\x03\x7f\xff\xff')
    body = base64.b64encode(der).decode()
    patched = '%s\n%s\n%s\n' % (lines[0], '\n'.join(body[i:i + 64] for i in range(0, len(body), 64)), lines[-1])
    assert 'iterations' in _kdf_check('pkcs8', patched.encode(), tmp_path)


def test_ppk_argon2_cost_patched(tmp_path):
    """Item 4: a .ppk asking for Argon2 with 1 GiB x 1000 passes."""
    script = ('import sys\n'
              'from cryptography.hazmat.primitives.asymmetric import ed25519\n'
              'from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk\n'
              'sys.stdout.buffer.write(ppk.export_key(ed25519.Ed25519PrivateKey.generate(), "k15", "secret-k15"))\n')
    data = subprocess.run([PYTHON, '-c', script], env=module_env(), stdout=subprocess.PIPE, check=True).stdout
    text = data.decode()
    assert 'Argon2-Memory: 8192' in text and 'Argon2-Passes: 13' in text
    text = text.replace('Argon2-Memory: 8192', 'Argon2-Memory: 1048576')
    text = text.replace('Argon2-Passes: 13', 'Argon2-Passes: 1000')
    assert 'Argon2' in _kdf_check('ppk', text.encode(), tmp_path)


# --------------------------------------------------------------------------- 5. hostile locks

def _hold_lock(user, path):
    """``flock PATH sleep 60`` as the account; returns once the lock is held."""
    # Its own process group: killing it must end the sleep too (flock's child), or
    # the account stays in use and cannot be removed after the test.
    proc = subprocess.Popen(['flock', path, 'sh', '-c', 'echo held; exec sleep 60'], stdout=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid)))
    assert proc.stdout.readline().strip() == b'held'
    return proc


def test_hostile_flock_bounded(accounts, keys):
    """Item 5: the account holds an flock on its ~/.ssh forever."""
    victim, neighbour = accounts.make(), accounts.make()
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    holder = _hold_lock(victim, ssh)
    try:
        result = bounded(run('ssh_authkey', {'user': victim.pw_name, 'key': keys['lines'][0], 'lock_timeout': 2}))
        assert result.failed and 'lock' in result.msg and ssh in result.msg, result
        assert result.seconds < 10
        result = bounded(run('provision', {'lock_timeout': 2, 'accounts': [
            {'name': victim.pw_name, 'authorized_keys': [{'key': keys['lines'][0]}]},
            {'name': neighbour.pw_name, 'authorized_keys': [{'key': keys['lines'][1]}]}]}))
        assert result.failed and victim.pw_name in result.msg, result
        with open(os.path.join(neighbour.pw_dir, '.ssh', 'authorized_keys')) as handle:
            assert keys['lines'][1].split()[1] in handle.read()
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()


# --------------------------------------------------------------------------- 6. memory

def _grow_when_read(pid, path, size, state):
    """Once process ``pid`` has read from ``path``, make the file ``size`` bytes."""
    fd_dir = '/proc/%d/fd' % pid
    while not state['stop']:
        try:
            for name in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, name)) != path:
                        continue
                    with open('/proc/%d/fdinfo/%s' % (pid, name)) as handle:
                        pos = int(handle.readline().split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if pos > 0:
                    os.truncate(path, size)
                    state['grown'] = True
                    return
        except OSError:
            return
        time.sleep(0.0002)


def test_file_grown_while_read(accounts, keys):
    """Item 6: authorized_keys of 63 MiB grown to 512 MiB while root reads it."""
    victim = accounts.make()
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    path = os.path.join(ssh, 'authorized_keys')
    won = 0
    for attempt in range(6):
        write_as(path, (keys['lines'][0] + '\n').encode(), victim)
        os.truncate(path, 63 * 1024 * 1024)
        started = start('ssh_authkey', {'user': victim.pw_name, 'key': keys['lines'][1]})
        state = {'stop': False, 'grown': False}
        grower = threading.Thread(target=_grow_when_read, args=(started[0].pid, path, 512 * 1024 * 1024, state))
        grower.start()
        result = finish(started, timeout=60)
        state['stop'] = True
        grower.join()
        FIG['raced_runs'] += 1
        bounded(result)
        if state['grown']:
            won += 1
            assert result.failed and 'larger than' in result.msg, result
        if won >= 2:
            break
    os.unlink(path)
    assert won >= 1, 'the file never grew while being read'


def test_key_info_sparse_files(accounts):
    """Item 6: ~/.ssh full of sparse 63 MiB files; only what is needed is read."""
    victim = accounts.make()
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(ssh, 'id_ed25519')], check=True)
    for suffix in ('', '.pub'):
        os.chown(os.path.join(ssh, 'id_ed25519' + suffix), victim.pw_uid, victim.pw_gid)
    for index in range(10):
        path = write_as(os.path.join(ssh, 'id_k15_%d' % index), b'-----BEGIN OPENSSH PRIVATE KEY-----\n', victim)
        os.truncate(path, 63 * 1024 * 1024)
    result = bounded(run('ssh_key_info', {'user': victim.pw_name}))
    assert not result.failed, result
    assert [k['name'] for k in result.result['keys']] == ['id_ed25519']
    assert result.rss_kib < 128 * 1024, result


# --------------------------------------------------------------------------- 8. raced registry

def test_registry_rename_exchange_race(rootdir, accounts, keys):
    """Item 8: the registry and a link to a root directory exchanged in a loop."""
    victim = accounts.make()
    shared = mkdir_as(os.path.join(rootdir, 'shared'), victim, 0o755)
    registry = os.path.join(shared, 'registry')
    os.mkdir(registry, 0o700)
    target = root_target(rootdir)
    os.chmod(target, 0o755)
    link = os.path.join(shared, 'evil')
    os.symlink(target, link)
    before = snapshot(target)
    with Racer(registry, link) as racer:
        for batch in range(4):
            started = [start('keypair', {'name': 'k15r%d%d' % (batch, n), 'public_key': keys['lines'][0],
                                         'registry': registry}) for n in range(4)]
            started.append(start('keypair_info', {'registry': registry}))
            for item in started:
                result = bounded(finish(item))
                FIG['raced_runs'] += 1
                assert result.failed, result
    assert racer.swaps > 0
    assert snapshot(target) == before


# --------------------------------------------------------------------------- 9. ssh-keygen temporary key material

def test_killed_module_leaves_no_private_key(accounts, tmp_path):
    """Item 9: kill -9 while ssh-keygen's temporary key exists; the next run removes it."""
    victim = accounts.make()
    tmp = tmp_path / 'tmp'
    tmp.mkdir()
    wrappers = tmp_path / 'bin'
    wrappers.mkdir()
    signal_file = tmp_path / 'generated'
    real = shutil.which('ssh-keygen')
    (wrappers / 'ssh-keygen').write_text(
        '#!/bin/sh\n%s "$@" || exit $?\ncase "$*" in *" -t "*) echo $$ > %s; exec sleep 30;; esac\n'
        % (real, signal_file))
    os.chmod(str(wrappers / 'ssh-keygen'), 0o755)
    env = {'TMPDIR': str(tmp), 'PATH': '%s:%s' % (wrappers, os.environ.get('PATH', ''))}
    started = start('ssh_genkey', {'user': victim.pw_name, 'name': 'id_k15', 'type': 'ed25519',
                                   'backend': 'ssh-keygen'}, env=env)
    deadline = time.monotonic() + 30
    while not signal_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert signal_file.exists()
    started[0].kill()
    os.kill(int(signal_file.read_text().strip() or 0), signal.SIGKILL)
    finish(started, timeout=30)

    def private_files():
        found = []
        for dirpath, dummy, filenames in os.walk(str(tmp)):
            for name in filenames:
                with open(os.path.join(dirpath, name), 'rb') as handle:
                    if b'PRIVATE KEY' in handle.read():
                        found.append(os.path.join(dirpath, name))
        return found

    assert private_files(), 'the kill came after the cleanup'
    env['PATH'] = os.environ.get('PATH', '')
    result = bounded(run('ssh_genkey', {'user': victim.pw_name, 'name': 'id_k15b', 'type': 'ed25519',
                                        'backend': 'ssh-keygen'}, env=env))
    assert not result.failed, result
    assert private_files() == []


# --------------------------------------------------------------------------- 11. special files

def _plant_specials(directory, user):
    made = []
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(directory, 'cm-k15.sock'))
    made.append(sock)
    os.mkfifo(os.path.join(directory, 'fifo.key'))
    os.mknod(os.path.join(directory, 'null.pub'), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    for name in ('cm-k15.sock', 'fifo.key', 'null.pub'):
        os.chown(os.path.join(directory, name), user.pw_uid, user.pw_gid, follow_symlinks=False)
    return made


def test_special_files_in_scanned_directories(accounts):
    """Item 11: a ControlMaster socket, a fifo and a device where modules scan or are pointed."""
    victim = accounts.make()
    ssh = mkdir_as(os.path.join(victim.pw_dir, '.ssh'), victim)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(ssh, 'id_ed25519')], check=True)
    for suffix in ('', '.pub'):
        os.chown(os.path.join(ssh, 'id_ed25519' + suffix), victim.pw_uid, victim.pw_gid)
    ssl = mkdir_as(os.path.join(victim.pw_dir, 'ssl'), victim)
    sockets = _plant_specials(ssh, victim)
    for sub in ('keys', 'csrs'):
        sockets += _plant_specials(mkdir_as(os.path.join(ssl, sub), victim), victim)
    try:
        result = bounded(run('ssh_key_info', {'user': victim.pw_name}, timeout=30))
        assert not result.failed, result
        assert [k['name'] for k in result.result['keys']] == ['id_ed25519']
        result = bounded(run('ssl_csr_info', {'user': victim.pw_name}, timeout=30))
        assert not result.failed, result
        for name in ('cm-k15.sock', 'fifo.key', 'null.pub'):
            result = bounded(run('ssh_authkey', {'user': victim.pw_name, 'file': os.path.join(ssh, name)},
                                 timeout=30))
            assert result.failed and 'not a regular file' in result.msg, result
            result = bounded(run('ssh_key_info', {'user': victim.pw_name, 'path': ssh,
                                                  'authorized_keys_path': os.path.join(ssh, name)}, timeout=30))
            assert not result.failed, result
    finally:
        for sock in sockets:
            sock.close()


# --------------------------------------------------------------------------- 12. check mode, 13. escapes

def test_check_mode_predicts_missing_home(accounts):
    """Item 12: a user without a home: check mode fails as the real run does."""
    victim = accounts.make(create_home=False)
    assert not os.path.exists(victim.pw_dir)
    for module, args in (('ssh_genkey', {'name': 'id_ed25519', 'type': 'ed25519'}),
                         ('ssl_genkey', {'host': 'k15.example.com', 'type': 'ed25519'})):
        args['user'] = victim.pw_name
        checked = bounded(run(module, args, check=True))
        real = bounded(run(module, args))
        assert real.failed and 'does not exist' in real.msg, real
        assert checked.failed and 'does not exist' in checked.msg, checked
    assert not os.path.exists(victim.pw_dir)


def test_path_escapes_the_home(accounts, rootdir, keys):
    """Item 13: ~/../.. names a file outside the home."""
    victim = accounts.make()
    up = os.path.relpath(rootdir, victim.pw_dir)
    before = snapshot(rootdir)
    for path in ('~/' + up + '/authorized_keys', '~/../' + os.path.basename(victim.pw_dir) + '/../x/ak'):
        result = bounded(run('ssh_authkey', {'user': victim.pw_name, 'key': keys['lines'][0], 'path': path}))
        assert result.failed and 'leaves the home' in result.msg, result
    assert snapshot(rootdir) == before
    assert not os.path.exists(os.path.join(os.path.dirname(victim.pw_dir), 'x'))


# --------------------------------------------------------------------------- 14. the README, and the figures

def test_readme_exact_about_keypair_private_key():
    """Item 14: the README says keypair returns its generated private key once."""
    root = os.path.join(COLLECTIONS, 'ansible_collections', 'keysmith', 'accounts')
    with open(os.path.join(root, 'README.md')) as handle:
        intro = handle.read().split('\n\n')[1]
    assert 'keypair' in intro and 'returns the private key' in intro and 'once' in intro, intro


def test_zz_figures():
    """The suite's figures (the last test of the file: loadfile keeps it last)."""
    assert FIG['attacks'] > 0
    text = ('attack suite: %(attacks)d attacks, %(raced_runs)d raced runs, max RSS %(rss).1f MiB, '
            'max %(sec).1f s per module run' % dict(FIG, rss=FIG['max_rss_kib'] / 1024.0, sec=FIG['max_seconds']))
    sys.stderr.write('\n' + text + '\n')
    warnings.warn(text)
    assert FIG['max_rss_kib'] < RSS_LIMIT_MIB * 1024
