# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The machinery of the audit's differential test: keys, accounts, one sshd per scenario, logins.

:class:`Keys` makes the key pairs (and user certificates signed by CA keys) once.
:class:`Scene` is what one scenario builds: accounts (``useradd -m -p '*'``: no password, not locked),
groups, files with modes/owners/ACLs/symlinks, an ``sshd_config``; it starts one
``sshd -D -e -f CONFIG`` (after ``sshd -t``) on loopback ports of the given range,
logs in (``ssh -b ADDR``: loopback sources only) and removes everything it made
in :meth:`Scene.close` (accounts, groups, sshd, its directory), whatever happened.

Root only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time

LOGIN_TIMEOUT = 40
# useradd/userdel/groupadd take the lock on /etc/passwd: one at a time here, and
# retried when another process on the machine holds it.
_ACCOUNTS_LOCK = threading.Lock()
_PORTS_LOCK = threading.Lock()
_PORTS_USED = set()


def run(args, **kwargs):
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.PIPE)
    return subprocess.run(args, check=False, **kwargs)


def text(data):
    return data.decode('utf-8', 'replace') if isinstance(data, bytes) else data


def run_command(args, check_rc=False, data=None, **kwargs):
    """What ``AnsibleModule.run_command`` returns: (rc, stdout text, stderr text)."""
    result = subprocess.run(args, check=False, input=data.encode('utf-8') if isinstance(data, str) else data,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return result.returncode, text(result.stdout), text(result.stderr)


def accounts_tool(args):
    """useradd & co, serialised here and retried while /etc/passwd is locked elsewhere."""
    deadline = time.time() + 30
    while True:
        with _ACCOUNTS_LOCK:
            result = run(args)
        err = text(result.stderr)
        if result.returncode == 0 or time.time() > deadline or 'lock' not in err.lower():
            return result.returncode, err
        time.sleep(0.2)


def exists(lookup, name):
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def take_ports(first, last, count):
    """``count`` free loopback ports of first..last, reserved until :func:`give_ports`."""
    with _PORTS_LOCK:
        found = []
        for port in range(first, last + 1):
            if port in _PORTS_USED:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(('127.0.0.1', port))
                except OSError:
                    continue
            found.append(port)
            if len(found) == count:
                _PORTS_USED.update(found)
                return found
    raise RuntimeError('no %d free ports in %d..%d' % (count, first, last))


def give_ports(ports):
    with _PORTS_LOCK:
        _PORTS_USED.difference_update(ports)


class Keys:
    """Key pairs by name; user certificates of ``certkey`` signed by the CA keys."""

    SPECS = [('ed1', 'ed25519', None), ('ed2', 'ed25519', None), ('ed3', 'ed25519', None), ('ed4', 'ed25519', None),
             ('ecdsa', 'ecdsa', 256), ('rsa1024', 'rsa', 1024), ('rsa2048', 'rsa', 2048),
             ('certkey', 'ed25519', None), ('ca_ed', 'ed25519', None), ('ca_rsa', 'rsa', 2048)]

    def __init__(self, directory):
        self.dir = directory
        self.private = {}
        self.line = {}
        self.fingerprint = {}
        self._certs = {}
        self._lock = threading.Lock()
        procs = []
        for name, key_type, bits in self.SPECS:
            path = os.path.join(directory, name)
            args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', 'parity-' + name, '-f', path]
            if bits:
                args[4:4] = ['-b', str(bits)]
            procs.append((name, path, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        for name, path, proc in procs:
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise RuntimeError('ssh-keygen %s: %s' % (name, text(err)))
            os.chmod(path, 0o600)
            self.private[name] = path
            with open(path + '.pub') as handle:
                self.line[name] = handle.read().strip()
            self.fingerprint[name] = fingerprint_of(path + '.pub')

    def cert(self, ca, principals):
        """Path of a certificate of ``certkey`` signed by ``ca`` for ``principals`` (valid now, 1 day)."""
        with self._lock:
            key = (ca, principals)
            if key not in self._certs:
                base = os.path.join(self.dir, 'cert%d' % len(self._certs))
                shutil.copyfile(self.private['certkey'] + '.pub', base + '.pub')
                result = run(['ssh-keygen', '-q', '-s', self.private[ca], '-I', 'parity-%s' % ca,
                              '-n', principals, '-V', '-5m:+1d', base + '.pub'])
                if result.returncode != 0:
                    raise RuntimeError('ssh-keygen -s %s: %s' % (ca, text(result.stderr)))
                self._certs[key] = base + '-cert.pub'
            return self._certs[key]

    def cert_line(self, ca, principals):
        with open(self.cert(ca, principals)) as handle:
            return handle.read().strip()


def fingerprint_of(path):
    result = run(['ssh-keygen', '-l', '-E', 'sha256', '-f', path])
    if result.returncode != 0:
        raise RuntimeError('ssh-keygen -l %s: %s' % (path, text(result.stderr)))
    return text(result.stdout).split()[1]


def base_config(directory, ports, host_key):
    lines = ['Port %d' % port for port in ports]
    lines += [
        'ListenAddress 127.0.0.1',
        'HostKey %s' % host_key,
        'PidFile %s' % os.path.join(directory, 'sshd.pid'),
        'UsePAM no',
        'UseDNS no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitUserEnvironment no',
        'MaxStartups 64:30:128',
        'MaxAuthTries 10',
        'LoginGraceTime 30',
        'LogLevel VERBOSE',
        'Subsystem sftp internal-sftp',
    ]
    return lines


class Login:
    """One login to try: ``user`` with ``probe`` (a key name, or ('cert', ca, principal))."""

    def __init__(self, user, probe):
        self.user = user
        self.probe = probe

    def label(self):
        if isinstance(self.probe, tuple):
            return '%s(%s,%s)' % (self.probe[0], self.probe[1], self.probe[2])
        return self.probe


class Scene:
    """What a scenario builds; everything is removed by :meth:`close`."""

    def __init__(self, base_dir, keys, prefix, index, ports):
        self.keys = keys
        self.prefix = prefix
        self.index = index
        self.dir = os.path.join(base_dir, 's%02d' % index)
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o755)
        self.ports_range = ports
        self.users = []
        self.groups = []
        self.probes = []   # Login, in order
        self.config = []   # scenario lines (after the base; Match blocks last)
        self.top = []      # lines before the base (e.g. Include)
        self.clients = [('127.0.0.1', None)]
        self.port_count = 1
        self.ports = []
        self.blind_users = set()   # accounts the audit cannot read (class 7)
        self.hidden = set()        # (user, key name) in files the account cannot read
        self.audit_as = None       # run the audit as this account (not root)
        self.notes = []
        self.proc = None
        self.config_path = os.path.join(self.dir, 'sshd_config')
        self.log_path = os.path.join(self.dir, 'sshd.log')

    # ------------------------------------------------------------ accounts
    def user(self, suffix, shell='/bin/sh', groups=()):
        name = '%s%02d%s' % (self.prefix, self.index, suffix)
        if exists(pwd.getpwnam, name):
            accounts_tool(['userdel', '-r', '-f', name])  # a leftover of an interrupted run
        # -p '*' is what `usermod -p '*'` would set (no password, not locked), in one call: each
        # of these tools rewrites and syncs /etc/passwd & co, the slow part of the whole test
        args = ['useradd', '-m', '-p', '*', '-s', shell, name]
        if groups:
            args[1:1] = ['-G', ','.join(groups)]
        rc, err = accounts_tool(args)
        if rc != 0:
            raise RuntimeError('useradd %s: %s' % (name, err))
        self.users.append(name)
        return name

    def group(self, suffix):
        name = '%s%02dg%s' % (self.prefix, self.index, suffix)
        if exists(grp.getgrnam, name):
            accounts_tool(['groupdel', name])  # a leftover of an interrupted run
        rc, err = accounts_tool(['groupadd', name])
        if rc != 0:
            raise RuntimeError('groupadd %s: %s' % (name, err))
        self.groups.append(name)
        return name

    def usermod(self, *args):
        rc, err = accounts_tool(['usermod'] + list(args))
        if rc != 0:
            raise RuntimeError('usermod %s: %s' % (' '.join(args), err))

    def home(self, user):
        return pwd.getpwnam(user).pw_dir

    def uid(self, user):
        return pwd.getpwnam(user).pw_uid

    # ------------------------------------------------------------ files
    def path(self, *parts):
        """A path in the scenario's directory (outside /tmp: StrictModes walks up to /)."""
        return os.path.join(self.dir, *parts)

    def mkdir(self, path, mode=0o755, owner='root'):
        if not os.path.isdir(path):
            os.makedirs(path)
        os.chmod(path, mode)
        self.chown(path, owner)
        return path

    def chown(self, path, owner, group=None):
        entry = pwd.getpwnam(owner)
        gid = entry.pw_gid
        if group is not None:
            gid = grp.getgrnam(group).gr_gid
        os.lchown(path, entry.pw_uid, gid)

    def write(self, path, lines, mode=0o600, owner='root', group=None):
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
            os.chmod(parent, 0o755)
        data = lines if isinstance(lines, bytes) else ('\n'.join(lines) + '\n').encode('utf-8')
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chmod(path, mode)
        self.chown(path, owner, group)
        return path

    def ssh_dir(self, user, mode=0o700):
        return self.mkdir(os.path.join(self.home(user), '.ssh'), mode, user)

    def authorized_keys(self, user, lines, name='authorized_keys', mode=0o600, owner=None):
        self.ssh_dir(user)
        return self.write(os.path.join(self.home(user), '.ssh', name), lines, mode, owner or user)

    def symlink(self, target, path):
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
        return path

    # ------------------------------------------------------------ key lines
    def key(self, user, name, options=''):
        """A key line for ``user``'s file; the key is tried for ``user``."""
        self.probe(user, name)
        line = self.keys.line[name]
        return '%s %s' % (options, line) if options else line

    def hidden_key(self, user, name, options=''):
        """A key line in a file ``user`` cannot read (sshd opens it as the account): tried like any
        key, and the audit must not show it at all (it would be showing what the account cannot see)."""
        self.hidden.add((user, name))
        return self.key(user, name, options)

    def ca(self, user, ca, options='', principal=None):
        """A cert-authority line; a certificate of ``ca`` for ``principal`` is tried (default: the first
        of the line's ``principals=``, else the user's name: the certificate the line is meant for)."""
        if principal is None:
            listed = re.search(r'principals="([^"]*)"', options)
            principal = listed.group(1).split(',')[0] if listed and listed.group(1) else user
        self.probe(user, ('cert', ca, principal))
        opts = 'cert-authority' + (',' + options if options else '')
        return '%s %s' % (opts, self.keys.line[ca])

    def trusted_ca(self, user, ca, principal):
        """A login with a certificate of ``ca`` for ``principal``, a CA that sshd's TrustedUserCAKeys
        may trust (the scenario writes the CA file and the settings): judged by the audit's
        ``accounts[].certificates``."""
        self.probe(user, ('trusted', ca, principal))
        return self.keys.line[ca]

    def probe(self, user, probe):
        if not any(item.user == user and item.probe == probe for item in self.probes):
            self.probes.append(Login(user, probe))

    # ------------------------------------------------------------ sshd
    def start(self):
        self.ports = take_ports(self.ports_range[0], self.ports_range[1], self.port_count)
        host_key = os.path.join(self.dir, 'host_ed25519')
        result = run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', host_key])
        if result.returncode != 0:
            raise RuntimeError('ssh-keygen host key: %s' % text(result.stderr))
        config = self.top + base_config(self.dir, self.ports, host_key) + self.config
        config = [line.replace('@PORT2@', str(self.ports[-1])) for line in config]
        with open(self.config_path, 'w') as handle:
            handle.write('\n'.join(config) + '\n')
        os.chmod(self.config_path, 0o644)
        result = run(['/usr/sbin/sshd', '-t', '-f', self.config_path])
        if result.returncode != 0:
            raise RuntimeError('sshd -t: %s' % text(result.stderr).strip())
        os.makedirs('/run/sshd', exist_ok=True)
        log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', self.config_path],
                                         stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.time() + 15
        for port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError('sshd exited: %s' % self.log())
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    if sock.connect_ex(('127.0.0.1', port)) == 0:
                        break
                if time.time() > deadline:
                    raise RuntimeError('sshd did not listen on %d' % port)
                time.sleep(0.05)

    def log(self, tail=3000):
        try:
            with open(self.log_path, 'rb') as handle:
                data = handle.read()
        except OSError:
            return ''
        return text(data[-tail:] if tail else data)

    def login(self, item, addr, port):
        """True when sshd authenticated ``item`` from ``addr`` on ``port``. An RSA key refused with
        the client's first choice of signature (rsa-sha2-512: ssh 9.2 does not follow the server's
        PubkeyAcceptedAlgorithms) is tried with the others: the key can log in if one is accepted."""
        if self._login_retried(item, addr, port, None):
            return True
        if isinstance(item.probe, tuple) or not self.keys.line[item.probe].startswith('ssh-rsa '):
            return False
        return any(self._login_retried(item, addr, port, algorithm) for algorithm in ('rsa-sha2-256', 'ssh-rsa'))

    def _login_retried(self, item, addr, port, algorithm, attempts=3):
        """A login that gets no answer (time-out, dropped before the key exchange on a loaded
        machine) is tried again."""
        for attempt in range(attempts):
            try:
                return self._login(item, addr, port, algorithm)
            except (RuntimeError, subprocess.TimeoutExpired):
                if attempt == attempts - 1:
                    raise
                time.sleep(1 + attempt)
        raise AssertionError('not reached')

    def _login(self, item, addr, port, algorithm=None):
        if isinstance(item.probe, tuple):
            dummy, ca, principal = item.probe
            identity = ['-i', self.keys.private['certkey'], '-o', 'CertificateFile=%s' % self.keys.cert(ca, principal)]
        else:
            identity = ['-i', self.keys.private[item.probe]]
        if algorithm:
            identity += ['-o', 'PubkeyAcceptedAlgorithms=%s' % algorithm]
        result = run(['ssh', '-F', '/dev/null', '-T', '-p', str(port or self.ports[0]), '-b', addr] + identity +
                     ['-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes',
                      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                      '-o', 'PreferredAuthentications=publickey', '-o', 'ConnectTimeout=20',
                      '-o', 'LogLevel=VERBOSE', '%s@127.0.0.1' % item.user, 'true'],
                     stdin=subprocess.DEVNULL, timeout=LOGIN_TIMEOUT)
        # a forced command or nologin shell may exit with any status: the client's
        # "Authenticated to" says whether sshd accepted the key
        err = result.stderr
        if b'Authenticated to ' in err:
            return True
        if b'Permission denied' in err:
            return False
        if b'Connection closed by 127.0.0.1' in err and b'Permanently added' in err:
            # after the key exchange sshd closed the session: its own answer (e.g. its fatal() on an
            # unknown AuthorizedKeysFile token); a drop by MaxStartups comes before the key exchange
            return False
        # anything else (refused connection, dropped before the banner, time-out) is not an answer
        raise RuntimeError('login %s as %s from %s gave no answer: %s' % (
            item.label(), item.user, addr, ' | '.join(text(err).strip().splitlines()[-3:])))

    def close_sshd(self):
        """Stop sshd and give its ports back."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.ports:
            give_ports(self.ports)
            self.ports = []

    def close(self, problems):
        """Stop sshd, remove accounts and groups; append what failed to ``problems``."""
        self.close_sshd()
        for user in self.users:
            home = None
            try:
                home = self.home(user)
            except KeyError:
                pass
            if home and os.path.isdir(home):
                # modes set by the scenario (0000 dirs, immutable-looking layouts) must not stop userdel -r
                run(['chmod', '-R', 'u+rwx', home])
            rc, err = accounts_tool(['userdel', '-r', '-f', user])
            if rc not in (0, 12):  # 12: home not removed (already gone)
                problems.append('userdel %s: %s' % (user, err.strip()))
            if home and home.startswith('/home/') and os.path.isdir(home):
                shutil.rmtree(home, ignore_errors=True)
        self.users = []
        for group in self.groups:
            rc, err = accounts_tool(['groupdel', group])
            if rc not in (0, 6):
                problems.append('groupdel %s: %s' % (group, err.strip()))
        self.groups = []
