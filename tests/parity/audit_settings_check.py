# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real sshd against authorized_keys_info for the settings that decide before any
key and for Match blocks that depend on the client (issue 26, classes 3 and 4).

For every configuration variant (DenyUsers, AllowGroups, AuthenticationMethods,
RevokedKeys as a plain list, as a KRL and missing, Match Address with its own
AuthorizedKeysFile, Match LocalPort, PubkeyAuthentication no under Match User)
one sshd runs on 127.0.0.1 and every (account, key, client) is tried with
``ssh -b 127.0.0.X`` (sshd's answer is the truth), and compared with the audit
(``AuthorizedKeysInfo`` in process) run with ``clients`` set to that client.
Also checks that the "any client" default lists the keys of a Match-Address-only
file as client dependent.

Prints ``agree N/M`` and exits 1 on any disagreement. Root only; accounts
``<prefix>00..02`` and group ``<prefix>g`` are made and removed.

    PYTHONPATH=<dir holding ansible_collections> python audit_settings_check.py
    (AUDIT_CHECK_USER_PREFIX=kh2s AUDIT_CHECK_PORTS=22620-22639)
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

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import (
    AccessSpec,
    AuthorizedKeysInfo,
)

PREFIX = os.environ.get('AUDIT_CHECK_USER_PREFIX', 'kh2s')
PORTS = tuple(int(p) for p in os.environ.get('AUDIT_CHECK_PORTS', '22620-22639').split('-'))
CLIENT_ADDRS = ('127.0.0.1', '127.0.0.2', '127.0.0.3')
WORKERS = 10


def run(args, **kwargs):
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.PIPE)
    return subprocess.run(args, check=False, **kwargs)


def run_command(argv):
    result = run(argv)
    return result.returncode, result.stdout.decode('utf-8', 'replace'), result.stderr.decode('utf-8', 'replace')


def free_ports(count):
    found = []
    for port in range(PORTS[0], PORTS[1] + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError('no %d free ports in %s' % (count, PORTS))


def write(path, text, mode=0o644):
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


class Lab:
    """Accounts, keys, files; one sshd per variant."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='kh2-audit-', dir='/tmp')
        os.chmod(self.dir, 0o755)
        self.users = ['%s%02d' % (PREFIX, n) for n in range(3)]
        self.group = PREFIX + 'g'
        self.created = []
        self.group_created = False
        self.proc = None
        self.keys = {}   # (user, name) -> (private path, public line)
        try:
            self._setup()
        except Exception:
            self.close()
            raise

    def _setup(self):
        home = os.path.join(self.dir, 'home')
        os.mkdir(home)
        os.chmod(home, 0o755)
        run(['groupdel', self.group])
        if run(['groupadd', self.group]).returncode != 0:
            raise RuntimeError('groupadd %s failed' % self.group)
        self.group_created = True
        for user in self.users:
            run(['userdel', user])
            result = run(['useradd', '-M', '-d', home, '-s', '/bin/sh', user])
            if result.returncode != 0:
                raise RuntimeError('useradd %s: %s' % (user, result.stderr.decode('utf-8', 'replace')))
            self.created.append(user)
            run(['usermod', '-p', '*', user])
        run(['usermod', '-a', '-G', self.group, self.users[1]])
        keys_dir = os.path.join(self.dir, 'keys')
        os.mkdir(keys_dir)
        for name in ('auth', 'alt'):
            os.mkdir(os.path.join(self.dir, name))
            os.chmod(os.path.join(self.dir, name), 0o755)
        for user in self.users:
            for name in ('ka', 'kb', 'kc'):
                path = os.path.join(keys_dir, '%s_%s' % (user, name))
                run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', '%s_%s' % (user, name), '-f', path])
                with open(path + '.pub') as handle:
                    self.keys[(user, name)] = (path, handle.read().strip())
            # ka: plain; kb: only from 127.0.0.2; kc: only in the Match Address/LocalPort file
            write(os.path.join(self.dir, 'auth', user), '%s\nfrom="127.0.0.2" %s\n' % (
                self.keys[(user, 'ka')][1], self.keys[(user, 'kb')][1]))
            write(os.path.join(self.dir, 'alt', user), '%s\n' % self.keys[(user, 'kc')][1])
        # RevokedKeys: a plain list with u0's ka; a KRL with u1's ka
        write(os.path.join(self.dir, 'revoked.list'), '# revoked\n%s\n' % self.keys[(self.users[0], 'ka')][1])
        # a line sshd cannot read: every key not found before it is refused
        write(os.path.join(self.dir, 'revoked.bad'), '%s\nno-such-type AAAA\n' % self.keys[(self.users[2], 'kb')][1])
        krl = os.path.join(self.dir, 'revoked.krl')
        result = run(['ssh-keygen', '-q', '-k', '-f', krl, self.keys[(self.users[1], 'ka')][0] + '.pub'])
        if result.returncode != 0:
            raise RuntimeError('ssh-keygen -k: %s' % result.stderr.decode('utf-8', 'replace'))
        self.host_key = os.path.join(self.dir, 'host_ed25519')
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', self.host_key])
        os.makedirs('/run/sshd', exist_ok=True)

    def variants(self):
        u0, u1, u2 = self.users
        alt = os.path.join(self.dir, 'alt', '%u')
        return [
            ('DenyUsers', ['DenyUsers %s %s@127.0.0.3' % (u0, u2)]),
            ('AllowUsers', ['AllowUsers %s@127.0.0.2 %s' % (u0, u1)]),
            ('AllowGroups', ['AllowGroups %s' % self.group]),
            ('AllowGroups primary group', ['AllowGroups %s' % u0]),
            ('DenyGroups', ['DenyGroups %s' % self.group]),
            ('AuthenticationMethods', ['PasswordAuthentication yes', 'AuthenticationMethods publickey,password',
                                       'Match User %s' % u2, '  AuthenticationMethods publickey']),
            ('RevokedKeys plain', ['RevokedKeys %s' % os.path.join(self.dir, 'revoked.list')]),
            ('RevokedKeys KRL', ['RevokedKeys %s' % os.path.join(self.dir, 'revoked.krl')]),
            ('RevokedKeys missing', ['RevokedKeys %s' % os.path.join(self.dir, 'missing.krl')]),
            ('RevokedKeys bad line', ['RevokedKeys %s' % os.path.join(self.dir, 'revoked.bad')]),
            ('PubkeyAcceptedAlgorithms under Match Address', ['Match Address 127.0.0.3',
                                                              '  PubkeyAcceptedAlgorithms rsa-sha2-512']),
            ('Match Address', ['Match Address 127.0.0.2', '  AuthorizedKeysFile %s' % alt]),
            ('Match LocalPort', ['Match LocalPort {port2}', '  AuthorizedKeysFile %s' % alt]),
            ('Match Host (UseDNS no: the address)', ['Match Host 127.0.0.3', '  AuthorizedKeysFile %s' % alt]),
            ('PubkeyAuthentication under Match User', ['Match User %s' % u1, '  PubkeyAuthentication no']),
            ('Match Address negated', ['Match Address !127.0.0.3,127.0.0.0/8', '  PubkeyAuthentication no']),
        ]

    def start(self, extra, ports):
        config = os.path.join(self.dir, 'sshd_config')
        lines = ['Port %d' % port for port in ports] + [
            'ListenAddress 127.0.0.1',
            'HostKey %s' % self.host_key,
            'PidFile %s' % os.path.join(self.dir, 'sshd.pid'),
            'UsePAM no',
            'StrictModes no',
            'UseDNS no',
            'KbdInteractiveAuthentication no',
            'AuthorizedKeysFile %s' % os.path.join(self.dir, 'auth', '%u'),
            'MaxStartups 64:30:128',
            'MaxAuthTries 10',
            'LoginGraceTime 30',
            'LogLevel DEBUG1',
        ]
        if not any(line.startswith('PasswordAuthentication') for line in extra):
            lines.append('PasswordAuthentication no')
        lines += [line.format(port2=ports[-1]) for line in extra]
        write(config, '\n'.join(lines) + '\n', 0o644)
        self.log_path = os.path.join(self.dir, 'sshd.log')
        log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', config], stdout=log,
                                         stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                with open(self.log_path) as handle:
                    raise RuntimeError('sshd exited: %s' % handle.read()[-2000:])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if all(sock.connect_ex(('127.0.0.1', port)) == 0 for port in ports[:1]):
                    break
            time.sleep(0.05)
        return config

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def login(self, user, key, addr, port):
        result = run(['ssh', '-F', '/dev/null', '-T', '-b', addr, '-p', str(port), '-i', key,
                      '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes',
                      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                      '-o', 'PreferredAuthentications=publickey', '-o', 'ConnectTimeout=10',
                      '-o', 'KexAlgorithms=curve25519-sha256', '-o', 'Ciphers=aes128-ctr',
                      '-o', 'LogLevel=VERBOSE', '%s@127.0.0.1' % user, 'true'],
                     stdin=subprocess.DEVNULL, timeout=30)
        return b'Authenticated to ' in result.stderr

    def close(self):
        self.stop()
        for user in self.created:
            for attempt in range(3):
                if run(['userdel', user]).returncode in (0, 6):
                    break
                time.sleep(0.2)
        self.created = []
        if self.group_created:
            run(['groupdel', self.group])
            self.group_created = False
        shutil.rmtree(self.dir, ignore_errors=True)


def audit(lab, config, clients):
    operation = AuthorizedKeysInfo(AccessSpec(users=lab.users, sshd_config=config, sshd_path='/usr/sbin/sshd',
                                              sshd_flavor='openssh', clients=clients), run_command)
    plan = operation.plan()
    return operation.result(plan, False), list(plan.warnings) if hasattr(plan, 'warnings') else []


def audit_verdicts(result):
    """{(user, fingerprint): accepted} of an audit result."""
    verdicts = {}
    for account in result['accounts']:
        for key in account['keys']:
            where = (account['user'], key['fingerprint'])
            verdicts[where] = verdicts.get(where, False) or key['accepted']
    return verdicts


def fingerprint(public_line):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
    return PublicKey.from_line(public_line).fingerprint_sha256


ACCEPTED = []


def check_variant(lab, name, extra, ports):
    config = lab.start(extra, ports)
    disagreements = []
    total = 0
    try:
        clients = [(addr, ports[0]) for addr in CLIENT_ADDRS]
        if '{port2}' in ' '.join(extra):
            clients += [(addr, ports[1]) for addr in CLIENT_ADDRS[:2]]
        # kc is only in the file a Match block names: tried where one does
        names = ('ka', 'kb', 'kc') if 'Match' in ' '.join(extra) else ('ka', 'kb')
        cases = [(user, key, addr, port) for addr, port in clients for user in lab.users for key in names]
        truth = {}
        lock = threading.Lock()
        work = list(cases)

        def worker():
            while True:
                with lock:
                    if not work:
                        return
                    case = work.pop()
                user, key, addr, port = case
                answer = lab.login(user, lab.keys[(user, key)][0], addr, port)
                with lock:
                    truth[case] = answer

        threads = [threading.Thread(target=worker) for dummy in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ACCEPTED.append((sum(1 for answer in truth.values() if answer), len(truth)))
        for addr, port in clients:
            result, dummy = audit(lab, config, [{'addr': addr, 'laddr': '127.0.0.1', 'lport': port}])
            verdicts = audit_verdicts(result)
            for user in lab.users:
                for key in names:
                    total += 1
                    said = verdicts.get((user, fingerprint(lab.keys[(user, key)][1])), False)
                    real = truth[(user, key, addr, port)]
                    if said != real:
                        reasons = [item['refused_reasons'] for account in result['accounts'] if account['user'] == user
                                   for item in account['keys']
                                   if item['fingerprint'] == fingerprint(lab.keys[(user, key)][1])]
                        disagreements.append('%s: %s %s from %s:%d: sshd %s, audit %s %s' % (
                            name, user, key, addr, port, 'accepts' if real else 'refuses',
                            'accepts' if said else 'refuses', reasons))
        if name == 'Match Address':
            # "any client" (no clients option): the Match-Address-only key is listed, client dependent
            result, dummy = audit(lab, config, None)
            total += 1
            kc = [key for account in result['accounts'] for key in account['keys']
                  if key['comment'].endswith('_kc')]
            if not (len(kc) == 3 and all(key['accepted'] and key['client_dependent'] for key in kc)
                    and result['summary']['keys_client_dependent'] >= 3):
                disagreements.append('%s: any client: Match-Address-only keys not listed as client dependent: %s'
                                     % (name, [(k['accepted'], k['client_dependent']) for k in kc]))
    finally:
        lab.stop()
    return total, disagreements


def main():
    if os.geteuid() != 0:
        print('audit_settings_check: needs root')
        return 2
    started = time.time()
    lab = Lab()
    agree = total = 0
    problems = []
    try:
        ports = free_ports(2)
        for name, extra in lab.variants():
            count, disagreements = check_variant(lab, name, extra, ports)
            total += count
            agree += count - len(disagreements)
            problems.extend(disagreements)
            print('%-40s %d/%d' % (name, count - len(disagreements), count))
    finally:
        lab.close()
    for problem in problems:
        print('DISAGREE ' + problem)
    print('sshd accepted %d of %d logins' % (sum(a for a, dummy in ACCEPTED), sum(n for dummy, n in ACCEPTED)))
    print('agree %d/%d (%.1f s)' % (agree, total, time.time() - started))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
