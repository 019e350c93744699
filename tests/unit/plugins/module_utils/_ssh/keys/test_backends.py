# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Both key backends against the real ssh-keygen; every key is made at test time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils import _executables
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backend_cryptography
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backends
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_cryptography import CryptographyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_sshkeygen import SshKeygenBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import BACKEND_CHOICES, select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import HAS_BCRYPT, HAS_CRYPTOGRAPHY
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

SSH_KEYGEN = shutil.which('ssh-keygen')
PASS = 'pass phrase #1'

pytestmark = pytest.mark.skipif(not SSH_KEYGEN, reason='ssh-keygen not installed')


def make_backend(name):
    if name == 'cryptography':
        if not HAS_CRYPTOGRAPHY:
            pytest.skip('cryptography not installed')
        return CryptographyBackend()
    return SshKeygenBackend()


def keygen(*args, **kwargs):
    check = kwargs.pop('check', False)
    return subprocess.run([SSH_KEYGEN] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          check=check, **kwargs)


def write(tmp_path, name, data, mode=0o600):
    path = str(tmp_path / name)
    with open(path, 'wb') as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


def expected_generate_failure(backend, key_type, fmt, passphrase):
    """The error class generate must raise for a combination it cannot do, else None."""
    if key_type == 'ed25519' and fmt == 'pkcs1':
        return InvalidInput
    if backend.name == 'ssh-keygen' and key_type == 'ed25519' and fmt == 'pkcs8':
        return BackendUnavailable
    if backend.name == 'cryptography' and passphrase and fmt in ('auto', 'openssh') and not HAS_BCRYPT:
        return BackendUnavailable
    if key_type == 'dsa' and not backend.can_generate('dsa'):
        return BackendUnavailable
    return None


def expected_load_failure(backend, key_type, fmt, passphrase):
    if backend.name == 'cryptography' and passphrase and fmt in ('auto', 'openssh') and not HAS_BCRYPT:
        return BackendUnavailable
    if backend.name == 'ssh-keygen' and key_type == 'ed25519' and fmt == 'pkcs8':
        # Plain: recognised up front; encrypted: only ssh-keygen's "invalid format".
        return KeyLoadError if passphrase else BackendUnavailable
    return None


SPECS = [('ed25519', None), ('rsa', 1024), ('rsa', 2048), ('ecdsa', 256), ('ecdsa', 384),
         ('ecdsa', 521), ('dsa', 1024)]
FORMATS = ['auto', 'openssh', 'pkcs1', 'pkcs8']


@pytest.mark.parametrize('passphrase', [None, PASS], ids=['plain', 'encrypted'])
@pytest.mark.parametrize('fmt', FORMATS)
@pytest.mark.parametrize('key_type, bits', SPECS, ids=['%s%s' % (t, b or '') for t, b in SPECS])
@pytest.mark.parametrize('backend_name', ['cryptography', 'ssh-keygen'])
def test_generate_and_load(tmp_path, backend_name, key_type, bits, fmt, passphrase):
    backend = make_backend(backend_name)
    failure = expected_generate_failure(backend, key_type, fmt, passphrase)
    if failure:
        with pytest.raises(failure):
            backend.generate(key_type, bits, passphrase, 'me@host', fmt)
        return
    private, public = backend.generate(key_type, bits, passphrase, 'me@host', fmt)
    assert isinstance(private, bytes) and b'PRIVATE KEY' in private
    wanted_fmt = 'openssh' if fmt == 'auto' else fmt
    assert KeyBackend.private_format(private) == wanted_fmt
    assert KeyBackend.is_encrypted(private) == bool(passphrase)
    if passphrase:
        assert PASS.encode() not in private
    assert public.family == key_type
    assert public.size == (bits or 256)
    assert public.comment == 'me@host'

    key_path = write(tmp_path, 'key', private)
    pub_path = write(tmp_path, 'key.pub', public.to_line() + '\n', 0o644)
    result = keygen('-y', '-P', passphrase or '', '-f', key_path)
    if key_type == 'ed25519' and wanted_fmt == 'pkcs8':
        assert result.returncode != 0  # OpenSSH 9.2 cannot read PKCS#8 ed25519 keys
    else:
        assert result.returncode == 0, result.stderr
        from_keygen = PublicKey.from_line(result.stdout.decode())
        assert from_keygen.same_key(public)
        if wanted_fmt == 'openssh':
            assert from_keygen.comment == 'me@host'  # the private key stores the comment

    for digest in ('sha256', 'md5'):
        out = keygen('-lv', '-E', digest, '-f', pub_path, check=True).stdout.decode().splitlines()
        assert out[0].split()[0] == str(public.size)
        assert out[0].split()[1] == public.fingerprint(digest)
        assert '\n'.join(out[1:]) == public.randomart(digest)

    # The public key read back from the private key, in both backends.
    for loader_name in ('cryptography', 'ssh-keygen'):
        loader = make_backend(loader_name)
        failure = expected_load_failure(loader, key_type, wanted_fmt, passphrase)
        if failure:
            with pytest.raises(failure):
                loader.load_private(private, passphrase)
            continue
        loaded = loader.load_private(private, passphrase)
        assert loaded.same_key(public)
        assert loaded.comment == ('me@host' if wanted_fmt == 'openssh' else '')
        if passphrase:
            with pytest.raises(WrongPassphrase):
                loader.load_private(private, 'wrong ' + PASS)
            with pytest.raises(WrongPassphrase):
                loader.load_private(private, None)
            with pytest.raises(WrongPassphrase):
                loader.load_private(private, '')
        else:
            # A passphrase given for a key without one does not matter.
            assert loader.load_private(private, 'unused').same_key(public)

    if wanted_fmt == 'openssh':
        # The public key is in the clear part of the OpenSSH format.
        assert KeyBackend.openssh_public_key(private).same_key(public)


def test_rsa_4096_both_backends():
    for name in ('cryptography', 'ssh-keygen'):
        backend = make_backend(name)
        private, public = backend.generate('rsa', 4096, None, '', 'pkcs1')
        assert public.size == 4096 and public.comment == ''
        assert public.randomart().splitlines()[0] == '+---[RSA 4096]----+'
        other = make_backend('ssh-keygen' if name == 'cryptography' else 'cryptography')
        assert other.load_private(private).same_key(public)


@pytest.mark.parametrize('backend_name', ['cryptography', 'ssh-keygen'])
def test_set_comment(tmp_path, backend_name):
    backend = make_backend(backend_name)
    maker = make_backend('ssh-keygen')
    for passphrase in (None, PASS):
        private, public = maker.generate('ed25519', None, passphrase, 'old comment', 'auto')
        if backend_name == 'cryptography' and passphrase and not HAS_BCRYPT:
            with pytest.raises(BackendUnavailable):
                backend.set_comment(private, passphrase, 'new comment')
            continue
        changed = backend.set_comment(private, passphrase, 'new comment')
        assert KeyBackend.is_encrypted(changed) == bool(passphrase)
        path = write(tmp_path, 'k%s' % bool(passphrase), changed)
        result = keygen('-y', '-P', passphrase or '', '-f', path)
        assert result.returncode == 0, result.stderr
        again = PublicKey.from_line(result.stdout.decode())
        assert again.same_key(public) and again.comment == 'new comment'
        if passphrase:
            with pytest.raises(WrongPassphrase):
                backend.set_comment(private, 'bad', 'x')
    pkcs8, dummy = maker.generate('rsa', 1024, None, '', 'pkcs8')
    with pytest.raises(InvalidInput):
        backend.set_comment(pkcs8, None, 'x')


@pytest.mark.skipif(not (HAS_CRYPTOGRAPHY and HAS_BCRYPT), reason='needs cryptography with bcrypt')
def test_cryptography_encrypted_openssh_comment(tmp_path):
    private, public = CryptographyBackend().generate('ecdsa', 256, PASS, 'made by cryptography', 'openssh')
    path = write(tmp_path, 'key', private)
    result = keygen('-y', '-P', PASS, '-f', path)
    assert PublicKey.from_line(result.stdout.decode()).comment == 'made by cryptography'


CORRUPT = [
    b'',
    b'garbage\n',
    b'-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    b'-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n',
    b'-----BEGIN RSA PRIVATE KEY-----\nAAAAAAAA\n-----END RSA PRIVATE KEY-----\n',
    b'-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n',
]


@pytest.mark.parametrize('backend_name', ['cryptography', 'ssh-keygen'])
@pytest.mark.parametrize('data', CORRUPT)
def test_corrupt_keys(backend_name, data):
    backend = make_backend(backend_name)
    with pytest.raises(KeyLoadError) as info:
        backend.load_private(data, None)
    assert not isinstance(info.value, WrongPassphrase)


@pytest.mark.parametrize('backend_name', ['cryptography', 'ssh-keygen'])
def test_truncated_real_keys(backend_name):
    backend = make_backend(backend_name)
    for fmt in ('auto', 'pkcs8'):
        private, dummy = make_backend('ssh-keygen').generate('ecdsa', 256, None, 'c', fmt)
        lines = private.splitlines()
        broken = b'\n'.join(lines[:2] + lines[-1:]) + b'\n'
        with pytest.raises(KeyLoadError):
            backend.load_private(broken)


def test_passphrase_never_on_command_line(tmp_path, monkeypatch):
    """A wrapper logs the arguments ssh-keygen gets; the passphrase is not among them."""
    log = tmp_path / 'argv.log'
    wrapper = tmp_path / 'ssh-keygen'
    wrapper.write_text('#!/bin/sh\nprintf "%%s\\n" "$*" >> %s\nexec %s "$@"\n' % (log, SSH_KEYGEN))
    wrapper.chmod(0o700)
    work = tmp_path / 'tmp'
    work.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(work))
    backend = SshKeygenBackend(str(wrapper))
    assert backend.executable == str(wrapper)
    private, public = backend.generate('ed25519', None, PASS, 'c', 'auto')
    assert backend.load_private(private, PASS).same_key(public)
    with pytest.raises(WrongPassphrase):
        backend.load_private(private, 'nope nope')
    changed = backend.set_comment(private, PASS, 'c2')
    assert backend.load_private(changed, PASS).comment == 'c2'
    private2, dummy = backend.generate('rsa', 1024, PASS, 'c', 'pkcs8')
    assert backend.load_private(private2, PASS).family == 'rsa'
    argv = log.read_text()
    assert argv.count('\n') >= 6
    assert PASS not in argv and 'nope nope' not in argv
    assert '-N' not in argv.split()  # no -N on the command line for a passphrase
    # Private temp dirs are removed; only their 0700 parent stays.
    assert os.listdir(str(work)) == ['keysmith-private-%d' % os.geteuid()]
    assert os.listdir(str(work / os.listdir(str(work))[0])) == []


def test_short_pem_passphrase_with_ssh_keygen():
    with pytest.raises(InvalidInput):
        SshKeygenBackend().generate('rsa', 1024, 'abc', '', 'pkcs1')
    # The OpenSSH format has no minimum.
    private, dummy = SshKeygenBackend().generate('ed25519', None, 'abc', '', 'auto')
    assert SshKeygenBackend().load_private(private, 'abc').family == 'ed25519'


def test_passphrase_with_newline_rejected():
    for name in ('cryptography', 'ssh-keygen'):
        with pytest.raises(InvalidInput):
            make_backend(name).generate('ed25519', None, 'a\nb', '', 'pkcs8')


@pytest.mark.parametrize('key_type, size', [('rsa', 512), ('rsa', 'x'), ('ecdsa', 300), ('dsa', 2048), ('foo', 1)])
def test_bad_generate_args(key_type, size):
    for name in ('cryptography', 'ssh-keygen'):
        with pytest.raises(InvalidInput):
            make_backend(name).generate(key_type, size, None, '', 'auto')
    with pytest.raises(InvalidInput):
        make_backend('ssh-keygen').generate('rsa', 2048, None, '', 'der')


def test_missing_ssh_keygen(tmp_path):
    with pytest.raises(BackendUnavailable):
        SshKeygenBackend(str(tmp_path / 'nope'))
    with pytest.raises(BackendUnavailable):
        select_backend('ssh-keygen', ssh_keygen_path=str(tmp_path / 'nope'))


def test_select_backend():
    assert BACKEND_CHOICES == ('auto', 'cryptography', 'ssh-keygen')
    with pytest.raises(InvalidInput):
        select_backend('openssl')
    auto = select_backend('auto', key_type='rsa')
    assert auto.name == ('cryptography' if HAS_CRYPTOGRAPHY else 'ssh-keygen')
    assert select_backend('ssh-keygen').name == 'ssh-keygen'
    encrypted = select_backend('auto', key_type='ed25519', private_key_format='auto', encrypted=True)
    assert encrypted.name == ('cryptography' if HAS_CRYPTOGRAPHY and HAS_BCRYPT else 'ssh-keygen')
    assert select_backend('auto', key_type='ed25519', private_key_format='pkcs8').name == 'cryptography'
    with pytest.raises(BackendUnavailable):
        select_backend('ssh-keygen', key_type='ed25519', private_key_format='pkcs8')
    private, dummy = SshKeygenBackend().generate('ed25519', None, PASS, '', 'auto')
    loader = select_backend('auto', private_bytes=private)
    assert loader.name == ('cryptography' if HAS_CRYPTOGRAPHY and HAS_BCRYPT else 'ssh-keygen')
    assert loader.load_private(private, PASS).family == 'ed25519'
    if HAS_CRYPTOGRAPHY and not HAS_BCRYPT:
        with pytest.raises(BackendUnavailable) as info:
            select_backend('cryptography', key_type='rsa', encrypted=True)
        assert 'bcrypt' in info.value.msg


def test_select_backend_without_anything(monkeypatch, tmp_path):
    monkeypatch.setattr(backends, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(backend_cryptography, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setenv('PATH', str(tmp_path))
    monkeypatch.setattr(_executables, '_DEFAULT_SEARCH', ())
    with pytest.raises(BackendUnavailable) as info:
        select_backend('auto', key_type='rsa')
    assert 'cryptography' in info.value.msg and 'OpenSSH' in info.value.msg
    with pytest.raises(BackendUnavailable):
        CryptographyBackend()


def test_format_sniffing():
    assert KeyBackend.private_format(b'-----BEGIN EC PRIVATE KEY-----\n') == 'pkcs1'
    assert KeyBackend.private_format(b'-----BEGIN ENCRYPTED PRIVATE KEY-----\n') == 'pkcs8'
    assert KeyBackend.is_encrypted(b'-----BEGIN ENCRYPTED PRIVATE KEY-----\n')
    assert KeyBackend.is_encrypted(b'-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n')
    for data in (b'', b'ssh-rsa AAAA', b'-----BEGIN CERTIFICATE-----\n'):
        with pytest.raises(KeyLoadError):
            KeyBackend.private_format(data)
