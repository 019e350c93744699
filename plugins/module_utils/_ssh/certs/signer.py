# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing certificates with a CA private key: in Python with
``cryptography`` (the blob is built by ``Certificate`` and signed here), or
with ``ssh-keygen -s``. Both take a ``Certificate`` whose fields are final
(serial, validity, ...) and return it signed; the CA key's bytes stay in
this process (and, for ssh-keygen, in a private temporary directory that is
removed afterwards). Nothing here touches an account's files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import warnings

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    KeysmithError,
    NotFound,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import check_trusted_library
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.agent import AgentSigner
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate, FLAG_OPTIONS
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_cryptography import CryptographyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_sshkeygen import (
    SshKeygenBackend,
    _PrivateDir,
    _clean_stderr,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import HAS_CRYPTOGRAPHY, ec, ed25519, rsa
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import mpint, ssh_string

RSA_ALGORITHMS = ('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa')
DEFAULT_RSA_ALGORITHM = 'rsa-sha2-512'
_EC_HASHES = {'ecdsa-sha2-nistp256': 'SHA256', 'ecdsa-sha2-nistp384': 'SHA384', 'ecdsa-sha2-nistp521': 'SHA512'}
_RSA_HASHES = {'rsa-sha2-512': 'SHA512', 'rsa-sha2-256': 'SHA256', 'ssh-rsa': 'SHA1'}
CA_KEY_TYPES = ('ssh-rsa', 'ssh-ed25519') + tuple(sorted(_EC_HASHES))
BACKENDS = ('auto', 'cryptography', 'ssh-keygen')


def signature_algorithm_for(ca_key, asked):
    """The signature algorithm of a CA key: ``asked`` (RSA: one of
    ``RSA_ALGORITHMS``, rsa-sha2-512 by default), else the key's own type."""
    if ca_key.key_type not in CA_KEY_TYPES:
        raise InvalidInput('a %s key cannot be a certificate authority here; use an ed25519, ECDSA or RSA CA key'
                           % ca_key.key_type)
    if ca_key.key_type == 'ssh-rsa':
        algorithm = asked or DEFAULT_RSA_ALGORITHM
        if algorithm not in RSA_ALGORITHMS:
            raise InvalidInput('signature_algorithm %s is not one of %s for an RSA CA key'
                               % (algorithm, ', '.join(RSA_ALGORITHMS)))
        return algorithm
    if asked and asked != ca_key.key_type:
        raise InvalidInput('a %s CA key signs with %s, not %s' % (ca_key.key_type, ca_key.key_type, asked))
    return ca_key.key_type


class CryptographySigner:
    """Signs in Python: ``Certificate.to_be_signed()`` signed by the CA key."""

    name = 'cryptography'

    def __init__(self, ca_bytes, passphrase=None):
        self._key = CryptographyBackend().load_key_object(ca_bytes, passphrase)
        self.ca_key = CryptographyBackend().load_private(ca_bytes, passphrase)
        self.ca_key.comment = ''

    def close(self):
        self._key = None

    def sign(self, cert, algorithm):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        cert.nonce = cert.nonce or os.urandom(32)
        cert.ca_blob = self.ca_key.blob
        data = cert.to_be_signed()
        key = self._key
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if isinstance(key, ed25519.Ed25519PrivateKey):
                body = key.sign(data)
            elif isinstance(key, ec.EllipticCurvePrivateKey):
                r_value, s_value = decode_dss_signature(
                    key.sign(data, ec.ECDSA(getattr(hashes, _EC_HASHES[algorithm])())))
                body = mpint(r_value) + mpint(s_value)
            elif isinstance(key, rsa.RSAPrivateKey):
                body = key.sign(data, padding.PKCS1v15(), getattr(hashes, _RSA_HASHES[algorithm])())
            else:
                raise InvalidInput('this CA key type cannot sign certificates here')
        cert.signature = ssh_string(algorithm) + ssh_string(body)
        return cert


def _option_args(cert):
    args = ['-O', 'clear']
    for name, value in sorted(cert.critical_options.items()):
        if name in FLAG_OPTIONS and value is None:
            args += ['-O', name]
        elif '@' in name:
            args += ['-O', 'critical:%s%s' % (name, '' if value is None else '=' + value)]
        else:
            args += ['-O', '%s=%s' % (name, value)]
    for name, value in sorted(cert.extensions.items()):
        if value is None and '@' not in name:
            args += ['-O', name]
        else:
            args += ['-O', 'extension:%s%s' % (name, '' if value is None else '=' + value)]
    return args


class SshKeygenSigner:
    """Signs with ``ssh-keygen -s``: the CA key is copied into a private
    temporary directory (0700, removed by ``close``; a killed run's copy is
    removed by the next run), the passphrase goes through ``SSH_ASKPASS``."""

    name = 'ssh-keygen'
    _ca_name = 'ca'
    _agent_args = ()
    _agent_env = None

    def __init__(self, ca_bytes, passphrase=None, executable=None):
        self._backend = SshKeygenBackend(executable)
        self._passphrase = passphrase
        self._encrypted = self._backend.is_encrypted(ca_bytes)
        self.ca_key = self._backend.load_private(ca_bytes, passphrase)
        self.ca_key.comment = ''
        self._ca_bytes = ca_bytes
        self._dir = None
        self._count = 0

    def close(self):
        if self._dir is not None:
            self._dir.__exit__(None, None, None)
            self._dir = None

    def sign(self, cert, algorithm):
        if self._dir is None:
            # made when the first certificate is signed (apply), never while planning
            self._dir = _PrivateDir().__enter__()
            self._ca_path = self._dir.write(self._ca_name, self._ca_bytes, 0o600)
        self._count += 1
        name = 'k%d' % self._count
        self._dir.write(name + '.pub', (cert.key.to_line(comment='') + '\n').encode('ascii'), 0o600)
        args = ['-q', '-s', self._ca_path] + list(self._agent_args)
        args += ['-I', cert.key_id, '-z', str(cert.serial),
                 '-V', '0x%x:0x%x' % (cert.valid_after, cert.valid_before), '-t', algorithm]
        if cert.principals:
            args += ['-n', ','.join(cert.principals)]
        if cert.cert_type == 'host':
            args.append('-h')
        args += _option_args(cert)
        args.append(os.path.join(self._dir.path, name + '.pub'))
        secret = self._backend._check_passphrase_text(self._passphrase) if self._encrypted else None
        self._backend._run(args, secret=secret, workdir=self._dir.path, extra_env=self._agent_env)
        signed = Certificate.from_line(self._dir.read(name + '-cert.pub').decode('ascii', 'replace'))
        for path in (name + '.pub', name + '-cert.pub'):
            os.unlink(os.path.join(self._dir.path, path))
        mine = (cert.key.blob, cert.cert_type, cert.serial, cert.key_id, cert.principals, cert.valid_after,
                cert.valid_before, cert.critical_options, cert.extensions, self.ca_key.blob)
        theirs = (signed.key.blob, signed.cert_type, signed.serial, signed.key_id, signed.principals,
                  signed.valid_after, signed.valid_before, signed.critical_options, signed.extensions,
                  signed.ca_blob)
        if mine != theirs or signed.signature_algorithm != algorithm:
            raise BackendError('ssh-keygen signed a certificate other than the one asked for (key id %s)'
                               % cert.key_id)
        signed.comment = cert.comment
        return signed


class SshKeygenAgentSigner(SshKeygenSigner):
    """Signs with ``ssh-keygen -U -s ca.pub``: the CA key is in the ssh-agent
    at ``socket_path`` (given to ssh-keygen as ``SSH_AUTH_SOCK``); only its
    public key is written to the private temporary directory. The agent is
    asked first (our client) whether it holds the key, for a clear error."""

    name = 'ssh-keygen'
    _ca_name = 'ca.pub'
    _agent_args = ('-U',)

    def __init__(self, ca_key, socket_path, executable=None):
        self._backend = SshKeygenBackend(executable)
        self._passphrase = None
        self._encrypted = False
        self.ca_key = ca_key
        self._ca_bytes = (ca_key.to_line(comment='') + '\n').encode('ascii')
        self._agent_env = {'SSH_AUTH_SOCK': socket_path}
        self._dir = None
        self._count = 0
        AgentSigner(ca_key, socket_path).close()


class SshKeygenPkcs11Signer(SshKeygenSigner):
    """Signs with ``ssh-keygen -D PROVIDER -s ca.pub``: the CA key is in a
    PKCS#11 token; the PIN (if any) goes through ``SSH_ASKPASS``. When made
    (planning), the provider library is checked (only root or the running user
    can change it) and ``ssh-keygen -D`` must list the CA public key (a
    question without the PIN; nothing written)."""

    name = 'ssh-keygen'
    _ca_name = 'ca.pub'

    def __init__(self, ca_key, provider, pin=None, executable=None):
        self._backend = SshKeygenBackend(executable)
        check_trusted_library(provider)
        self._passphrase = pin
        self._encrypted = pin is not None
        self.ca_key = ca_key
        self._ca_bytes = (ca_key.to_line(comment='') + '\n').encode('ascii')
        self._agent_args = ('-D', provider)
        self._dir = None
        self._count = 0
        dummy, out, err = self._backend._run(['-D', provider], check=False)
        listed = set()
        for line in out.decode('ascii', 'replace').splitlines():
            try:
                listed.add(PublicKey.from_line(line.strip()).blob)
            except KeysmithError:
                continue
        if ca_key.blob not in listed:
            raise NotFound('the CA key %s (%s) is not among the %d key%s the PKCS#11 provider %s shows (without '
                           'the PIN)%s' % (ca_key.fingerprint_sha256, ca_key.key_type, len(listed),
                                           '' if len(listed) == 1 else 's', provider,
                                           '' if listed else ': %s' % _clean_stderr(err)), path=provider)


def select_pkcs11_signer(name, ca_key, provider, pin=None):
    """The signer for a CA key in a PKCS#11 token: ``ssh-keygen -D`` (the
    only backend that loads a provider)."""
    if name == 'cryptography':
        raise BackendUnavailable('the cryptography backend cannot use a PKCS#11 token; use backend ssh-keygen '
                                 '(or auto)')
    if name not in BACKENDS:
        raise InvalidInput('unknown backend %s; choose one of %s' % (name, ', '.join(BACKENDS)))
    return SshKeygenPkcs11Signer(ca_key, provider, pin)


def select_agent_signer(name, ca_key, socket_path):
    """The signer for a CA key in the ssh-agent at ``socket_path``: our agent
    client (backends auto and cryptography: the certificate is built in
    Python; no library needed), or ``ssh-keygen -U``."""
    if name not in BACKENDS:
        raise InvalidInput('unknown backend %s; choose one of %s' % (name, ', '.join(BACKENDS)))
    if name == 'ssh-keygen':
        return SshKeygenAgentSigner(ca_key, socket_path)
    return AgentSigner(ca_key, socket_path)


def select_signer(name, ca_bytes, passphrase=None):
    """The signer for backend ``name`` (``auto``: cryptography when it can read
    the CA key, else ssh-keygen)."""
    if name not in BACKENDS:
        raise InvalidInput('unknown backend %s; choose one of %s' % (name, ', '.join(BACKENDS)))
    if name == 'cryptography':
        if not HAS_CRYPTOGRAPHY:
            raise BackendUnavailable('the cryptography Python library is not available on the target; '
                                     'install python3-cryptography or use backend ssh-keygen')
        if not CryptographyBackend().can_load(ca_bytes):
            raise BackendUnavailable('the cryptography backend cannot read this CA key here (an encrypted '
                                     'OpenSSH key needs the bcrypt Python library); use backend ssh-keygen')
        return CryptographySigner(ca_bytes, passphrase)
    if name == 'ssh-keygen':
        return SshKeygenSigner(ca_bytes, passphrase)
    if HAS_CRYPTOGRAPHY and CryptographyBackend().can_load(ca_bytes):
        return CryptographySigner(ca_bytes, passphrase)
    try:
        return SshKeygenSigner(ca_bytes, passphrase)
    except BackendUnavailable:
        raise BackendUnavailable('no backend can sign certificates here: install python3-cryptography or the '
                                 'OpenSSH client (ssh-keygen)')


def ca_public_key(signer):
    """The CA's plain public key (``PublicKey``), checked to be a CA key type."""
    key = signer.ca_key
    if not isinstance(key, PublicKey) or key.is_certificate:
        raise KeyLoadError('the CA key is not a plain private key')
    return key
