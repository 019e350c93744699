# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SSH key backend on the ``ssh-keygen`` program. Passphrases travel
through ``SSH_ASKPASS`` (a tiny script in a private directory that prints an
environment variable), never on a command line; temporary key material lives
in a private directory that the next run sweeps if this one is killed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno
import os
import shutil
import stat
import subprocess
import tempfile

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import SSH_KEY_TYPES as KEY_TYPES
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable
from ansible_collections.keysmith.accounts.plugins.module_utils._kdf_limits import check_kdf_cost
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend, validate_generate_args
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import OpenSSHContainer, set_plain_comment, to_bytes

ASKPASS_ENV = 'KEYSMITH_ASKPASS_SECRET'
_ED25519_OID = b'\x06\x03\x2b\x65\x70'  # 1.3.101.112
_DSA_PROBE = {}
_ASKPASS_SCRIPT = '#!/bin/sh\nprintf \'%%s\\n\' "$%s"\n' % ASKPASS_ENV


def _private_base():
    """``<tmp>/keysmith-private-<euid>``: 0700, owned by the running user.

    Temporary private key material lives in ``<pid>-*`` directories below it,
    so a module killed before its cleanup leaves nothing anywhere else, and the
    next run removes what a dead process left (``_sweep_private``). None when
    the name is taken by someone else (a world-writable /tmp): then a plain
    private ``mkdtemp`` is used.
    """
    base = os.path.join(tempfile.gettempdir(), 'keysmith-private-%d' % os.geteuid())
    try:
        os.mkdir(base, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            return None
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) != 0o700:
        return None
    return base


def _sweep_private(base):
    """Remove the directories of runs whose process is gone."""
    for name in os.listdir(base):
        pid = name.split('-', 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue  # alive (EPERM: another user's process)
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


class _PrivateDir:
    """A 0700 temporary directory removed (with its content) on exit; below
    ``<tmp>/keysmith-private-<euid>``, where the next run removes it if this
    process is killed first."""

    def __enter__(self):
        base = _private_base()
        if base is not None:
            _sweep_private(base)
            self.path = tempfile.mkdtemp(prefix='%d-' % os.getpid(), dir=base)
        else:
            self.path = tempfile.mkdtemp(prefix='keysmith-')
        os.chmod(self.path, 0o700)
        return self

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)
        return False

    def write(self, name, data, mode=0o600):
        path = os.path.join(self.path, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), mode)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(path, mode)
        return path

    def read(self, name):
        with open(os.path.join(self.path, name), 'rb') as handle:
            return handle.read()


class SshKeygenBackend(KeyBackend):
    name = 'ssh-keygen'

    def __init__(self, executable=None):
        self.executable = find_executable('ssh-keygen', executable)
        if not self.executable:
            if executable:
                raise BackendUnavailable('ssh-keygen not found or not executable at %s' % executable)
            raise BackendUnavailable('the ssh-keygen program is not installed on the target; '
                                     'install the OpenSSH client (openssh-client) or python3-cryptography')

    def can_generate(self, key_type, private_key_format='auto', encrypted=False):
        if key_type not in KEY_TYPES:
            return False
        if key_type == 'ed25519' and private_key_format in ('pkcs1', 'pkcs8'):
            return False  # ssh-keygen silently writes OpenSSH format instead
        if key_type == 'dsa':
            return self._dsa_works()
        return True

    def can_load(self, private_bytes):
        # OpenSSH (9.2 at least) cannot read PKCS#8 ed25519 keys.
        try:
            if self.private_format(private_bytes) == 'pkcs8' and not self.is_encrypted(private_bytes):
                data = to_bytes(private_bytes)
                body = b''.join(data.split(b'-----')[2].split())
                return _ED25519_OID not in base64.b64decode(body)[:32]
        except (KeyLoadError, IndexError, binascii.Error, ValueError):
            pass
        return True

    def _dsa_works(self):
        # OpenSSH 9.8 made DSA a compile time option, 10.0 removed it.
        if self.executable not in _DSA_PROBE:
            try:
                with _PrivateDir() as work:
                    rc = self._run(['-t', 'dsa', '-b', '1024', '-q', '-N', '', '-f',
                                    os.path.join(work.path, 'probe')], check=False, workdir=work.path)[0]
            except BackendError:
                rc = 1
            _DSA_PROBE[self.executable] = rc == 0
        return _DSA_PROBE[self.executable]

    def _run(self, args, secret=None, check=True, workdir=None, extra_env=None):
        """Run ssh-keygen; return ``(rc, stdout, stderr)``. ``secret`` goes through askpass;
        ``extra_env`` (``SSH_AUTH_SOCK`` of a checked agent socket) is added to the environment."""
        env = dict(os.environ)
        for name in ('SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SSH_AUTH_SOCK', ASKPASS_ENV):
            env.pop(name, None)
        env.update(extra_env or {})
        env['LC_ALL'] = 'C'
        env['LANG'] = 'C'
        askdir = None
        try:
            if secret is not None:
                askdir = _PrivateDir().__enter__()
                script = askdir.write('askpass', _ASKPASS_SCRIPT.encode('ascii'), mode=0o700)
                env['SSH_ASKPASS'] = script
                env['SSH_ASKPASS_REQUIRE'] = 'force'
                env['DISPLAY'] = env.get('DISPLAY') or ':keysmith'
                env[ASKPASS_ENV] = secret.decode('utf-8', 'surrogateescape') if isinstance(secret, bytes) else secret
            try:
                proc = subprocess.Popen(
                    [self.executable] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=env, cwd=workdir, start_new_session=True, close_fds=True)
                stdout, stderr = proc.communicate(timeout=300)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BackendError('could not run ssh-keygen (%s)' % type(exc).__name__)
        finally:
            if askdir is not None:
                askdir.__exit__(None, None, None)
        if check and proc.returncode != 0:
            raise BackendError('ssh-keygen failed (exit status %d): %s'
                               % (proc.returncode, _clean_stderr(stderr, workdir)))
        return proc.returncode, stdout, stderr

    def generate(self, key_type, size, passphrase=None, comment='', private_key_format='auto'):
        size = validate_generate_args(key_type, size, private_key_format)
        secret = self._check_passphrase_text(passphrase)
        if not self.can_generate(key_type, private_key_format):
            if key_type == 'dsa':
                raise BackendUnavailable('this ssh-keygen cannot make DSA keys any more; '
                                         'use backend cryptography or another key type')
            raise BackendUnavailable('ssh-keygen cannot write %s keys in %s format; use backend cryptography'
                                     % (key_type, private_key_format))
        if secret is not None and private_key_format in ('pkcs1', 'pkcs8') and len(secret) < 5:
            raise InvalidInput('ssh-keygen needs a passphrase of at least five characters for PEM '
                               'format keys; use a longer one, the openssh format or backend cryptography')
        args = ['-q', '-t', key_type, '-C', comment or '']
        if key_type != 'ed25519':
            args += ['-b', str(size)]
        if private_key_format == 'pkcs1':
            args += ['-m', 'PEM']
        elif private_key_format == 'pkcs8':
            args += ['-m', 'PKCS8']
        if secret is None:
            args += ['-N', '']
        with _PrivateDir() as work:
            path = os.path.join(work.path, 'key')
            self._run(args + ['-f', path], secret=secret, workdir=work.path)
            private_bytes = work.read('key')
            public_line = work.read('key.pub').decode('utf-8', 'replace')
        wanted = 'openssh' if private_key_format == 'auto' else private_key_format
        if self.private_format(private_bytes) != wanted:
            raise BackendError('ssh-keygen wrote a %s key instead of %s'
                               % (self.private_format(private_bytes), wanted))
        public = PublicKey.from_line(public_line)
        public.comment = comment or ''
        return private_bytes, public

    def load_private(self, private_bytes, passphrase=None):
        data = to_bytes(private_bytes)
        self.private_format(data)  # KeyLoadError for what is no key at all
        if not self.can_load(data):
            raise BackendUnavailable('ssh-keygen cannot read PKCS#8 ed25519 keys; use backend cryptography')
        encrypted = self.is_encrypted(data)
        secret = self._check_passphrase_text(passphrase)
        if encrypted and secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        check_kdf_cost(data)
        with _PrivateDir() as work:
            path = work.write('key', data, 0o600)
            args = ['-y', '-f', path]
            if not encrypted:
                args[1:1] = ['-P', '']
            rc, stdout, stderr = self._run(args, secret=secret if encrypted else None,
                                           check=False, workdir=work.path)
        if rc != 0:
            lowered = stderr.lower()
            if encrypted and (b'incorrect passphrase' in lowered or b'bad decrypt' in lowered
                              or b'passphrase' in lowered):
                raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
            hint = ''
            if self.private_format(data) == 'pkcs8' and b'invalid format' in lowered:
                hint = ' (ssh-keygen cannot read PKCS#8 ed25519 keys; backend cryptography can)'
            raise KeyLoadError('the private key cannot be read: %s%s' % (_clean_stderr(stderr, work.path), hint))
        try:
            return PublicKey.from_line(stdout.decode('utf-8', 'replace').strip())
        except InvalidInput:
            raise KeyLoadError('ssh-keygen printed no valid public key for the private key')

    def set_comment(self, private_bytes, passphrase, comment):
        data = to_bytes(private_bytes)
        if self.private_format(data) != 'openssh':
            raise InvalidInput('only OpenSSH format private keys store a comment')
        container = OpenSSHContainer(data)
        if not container.encrypted:
            return set_plain_comment(data, comment)
        secret = self._check_passphrase_text(passphrase)
        if secret is None:
            raise WrongPassphrase('the private key is encrypted and no passphrase was given')
        check_kdf_cost(data)
        with _PrivateDir() as work:
            path = work.write('key', data, 0o600)
            rc, dummy, stderr = self._run(['-c', '-C', comment or '', '-f', path], secret=secret,
                                          check=False, workdir=work.path)
            if rc != 0:
                if b'passphrase' in stderr.lower():
                    raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
                raise BackendError('ssh-keygen could not change the comment: %s'
                                   % _clean_stderr(stderr, work.path))
            return work.read('key')


def _clean_stderr(stderr, workdir=None):
    text = stderr.decode('utf-8', 'replace') if isinstance(stderr, bytes) else (stderr or '')
    if workdir:
        text = text.replace(workdir + os.sep, '').replace(workdir, '')
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('@')]
    text = lines[-1] if lines else 'no error message'
    return text[:200]
