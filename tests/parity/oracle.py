# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSSH itself as the judge: one sshd on a loopback port and throw-away accounts.

:class:`Sshd` starts ``sshd -D`` with its own configuration (own host key,
``UsePAM no``, ``StrictModes no``, ``AuthorizedKeysFile`` per account in the
scratch directory) and creates the accounts ``<prefix>00`` .. ``<prefix>NN``
(``usermod -p '*'``: no password, not locked). :meth:`Sshd.verdicts` writes
each case's file for an account and logs in with the case's key, one login
per account at a time and the accounts in parallel. :func:`keygen_fingerprint`
asks ``ssh-keygen -l`` which key a file holds.

Root only (accounts, sshd). Everything made is removed by :meth:`Sshd.close`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time

LOGIN_TIMEOUT = 20


def run(args, **kwargs):
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.PIPE)
    return subprocess.run(args, check=False, **kwargs)


def free_port(first, last):
    for port in range(first, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise RuntimeError('no free port in %d..%d' % (first, last))


def make_key(directory, name, key_type, bits=None):
    """ssh-keygen a key pair; returns (private key path, public line)."""
    path = os.path.join(directory, name)
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', name, '-f', path]
    if bits:
        args[4:4] = ['-b', str(bits)]
    result = run(args)
    if result.returncode != 0:
        raise RuntimeError('ssh-keygen %s: %s' % (key_type, result.stderr.decode('utf-8', 'replace')))
    with open(path + '.pub') as handle:
        return path, handle.read().strip()


def keygen_fingerprint(directory, data):
    """``ssh-keygen -l -E sha256`` on a file holding ``data``: the fingerprints it prints."""
    fd, path = tempfile.mkstemp(dir=directory, suffix='.keys')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        result = run(['ssh-keygen', '-l', '-E', 'sha256', '-f', path])
    finally:
        os.unlink(path)
    if result.returncode != 0:
        return []
    return [line.split()[1] for line in result.stdout.decode('utf-8', 'replace').splitlines()
            if len(line.split()) > 1 and line.split()[1].startswith('SHA256:')]


class Sshd:
    """One sshd on 127.0.0.1 and ``accounts`` throw-away users."""

    def __init__(self, prefix='k14p', accounts=8, ports=(22400, 22499), tmp_prefix='k14-parity-'):
        self.dir = tempfile.mkdtemp(prefix=tmp_prefix, dir='/tmp')
        os.chmod(self.dir, 0o755)
        self.keys_dir = os.path.join(self.dir, 'authorized')
        os.mkdir(self.keys_dir)
        os.chmod(self.keys_dir, 0o755)
        self.users = ['%s%02d' % (prefix, n) for n in range(accounts)]
        self.created = []
        self.proc = None
        self.log_path = os.path.join(self.dir, 'sshd.log')
        try:
            self._make_users()
            self._start(ports)
        except Exception:
            self.close()
            raise

    # ------------------------------------------------------------ setup
    def _make_users(self):
        home = os.path.join(self.dir, 'home')
        os.mkdir(home)
        for user in self.users:
            run(['userdel', user])  # a leftover of an interrupted run
            result = run(['useradd', '-M', '-d', home, '-s', '/bin/sh', user])
            if result.returncode != 0:
                raise RuntimeError('useradd %s: %s' % (user, result.stderr.decode('utf-8', 'replace')))
            self.created.append(user)
            run(['usermod', '-p', '*', user])

    def _start(self, ports):
        host_key = os.path.join(self.dir, 'host_ed25519')
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', host_key])
        os.makedirs('/run/sshd', exist_ok=True)
        self.port = free_port(*ports)
        config = os.path.join(self.dir, 'sshd_config')
        with open(config, 'w') as handle:
            handle.write('\n'.join([
                'Port %d' % self.port,
                'ListenAddress 127.0.0.1',
                'HostKey %s' % host_key,
                'PidFile %s' % os.path.join(self.dir, 'sshd.pid'),
                'UsePAM no',
                'StrictModes no',
                'UseDNS no',
                'PubkeyAuthentication yes',
                'PasswordAuthentication no',
                'KbdInteractiveAuthentication no',
                'AuthorizedKeysFile %s/%%u' % self.keys_dir,
                'AuthorizedPrincipalsFile none',
                'PermitUserEnvironment no',
                'MaxStartups 64:30:128',
                'MaxAuthTries 10',
                'LoginGraceTime 30',
                'LogLevel DEBUG1',
                'Subsystem sftp internal-sftp',
                '',
            ]))
        self.config = config
        log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', config],
                                         stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('sshd exited: %s' % self.log())
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(('127.0.0.1', self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError('sshd did not listen on %d' % self.port)

    def log(self):
        with open(self.log_path, 'rb') as handle:
            return handle.read()[-4000:].decode('utf-8', 'replace')

    # ------------------------------------------------------------ logins
    def login(self, user, data, private_key):
        """Write ``data`` as ``user``'s authorized_keys, log in with ``private_key``:
        True when sshd authenticated the key."""
        path = os.path.join(self.keys_dir, user)
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chmod(path, 0o644)
        result = run(['ssh', '-F', '/dev/null', '-T', '-p', str(self.port), '-i', private_key,
                      '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes',
                      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                      '-o', 'PreferredAuthentications=publickey', '-o', 'PubkeyAcceptedAlgorithms=+ssh-rsa',
                      '-o', 'ConnectTimeout=10', '-o', 'LogLevel=VERBOSE',
                      '%s@127.0.0.1' % user, 'true'],
                     stdin=subprocess.DEVNULL, timeout=LOGIN_TIMEOUT)
        # a forced command may exit with any status: the log line says whether
        # the key was accepted
        return b'Authenticated to ' in result.stderr

    def verdicts(self, cases):
        """``cases``: list of (file bytes, private key path). Returns the list of
        booleans (login accepted), in order; the accounts work in parallel."""
        results = [None] * len(cases)
        work = queue.Queue()
        for index, case in enumerate(cases):
            work.put((index, case))
        errors = []

        def worker(user):
            while True:
                try:
                    index, (data, key) = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = self.login(user, data, key)
                except Exception as exc:  # a hung login: reported, not hidden
                    errors.append('case %d: %s' % (index, exc))
                    results[index] = None

        threads = [threading.Thread(target=worker, args=(user,)) for user in self.users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError('logins failed to run: %s' % '; '.join(errors[:5]))
        return results

    # ------------------------------------------------------------ teardown
    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for user in self.created:
            run(['userdel', user])
        self.created = []
        shutil.rmtree(self.dir, ignore_errors=True)
