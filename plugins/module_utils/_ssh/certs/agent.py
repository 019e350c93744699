# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing certificates with a CA key held in an ssh-agent (the CA private key
never on disk): a client of the agent protocol (draft-miller-ssh-agent) and
the signer ``ssh_cert`` uses with ``ca_agent``.

The client speaks two requests over one connection: ``REQUEST_IDENTITIES``
(is the CA key there?) and ``SIGN_REQUEST`` (with the RSA SHA-2 flag an RSA CA
needs). The certificate's to-be-signed body is built in Python
(``Certificate.to_be_signed``); the agent returns the signature, which is
checked (algorithm, and the whole certificate read as sshd reads it, its
signature verified when ``cryptography`` is there) before the certificate is
written. The socket is trusted as ``_fs.connect_trusted_socket`` trusts it
(root's or the running user's, in a directory nobody else can write, an agent
process of root or the running user): an account cannot slip its own agent
in. Every reply is bounded (256 KiB, as OpenSSH's own client) and every wait
is bounded (``AGENT_TIMEOUT``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    BackendUnavailable,
    InvalidInput,
    KeysmithError,
    NotFound,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import connect_trusted_socket
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, WireError, ssh_string

SSH_AGENT_FAILURE = 5
SSH_AGENTC_REQUEST_IDENTITIES = 11
SSH_AGENT_IDENTITIES_ANSWER = 12
SSH_AGENTC_SIGN_REQUEST = 13
SSH_AGENT_SIGN_RESPONSE = 14
SSH_AGENT_EXTENSION_FAILURE = 28
SSH_AGENT_RSA_SHA2_256 = 0x02
SSH_AGENT_RSA_SHA2_512 = 0x04
SIGN_FLAGS = {'rsa-sha2-256': SSH_AGENT_RSA_SHA2_256, 'rsa-sha2-512': SSH_AGENT_RSA_SHA2_512}

# OpenSSH's authfd.c: MAX_AGENT_REPLY_LEN and MAX_AGENT_IDENTITIES.
MAX_AGENT_REPLY = 256 * 1024
MAX_AGENT_IDENTITIES = 2048
# Seconds one request may take (a confirm-constrained key waits for a person).
AGENT_TIMEOUT = 60


def agent_socket_path(asked, environ=None):
    """The agent socket: ``asked``, else ``$SSH_AUTH_SOCK`` of the module's
    environment (on the host where the task runs)."""
    environ = os.environ if environ is None else environ
    path = asked or environ.get('SSH_AUTH_SOCK')
    if not path:
        raise InvalidInput('ca_agent: no ca_agent_socket given and SSH_AUTH_SOCK is not set where the task runs; '
                           'give the path of the agent socket on that host')
    if not os.path.isabs(path) or '\0' in path:
        raise InvalidInput('the ssh-agent socket must be an absolute path, got %r' % (path,))
    return os.path.normpath(path)


class AgentClient:
    """One connection to an ssh-agent (``path`` is checked before use)."""

    def __init__(self, path, timeout=AGENT_TIMEOUT):
        self.path = path
        self.timeout = timeout
        try:
            self._sock = connect_trusted_socket(path, timeout)
        except NotFound as exc:
            raise BackendUnavailable('the ssh-agent at %s is not reachable: %s' % (path, exc.msg), path=path)
        if self._sock is None:
            raise BackendUnavailable('the ssh-agent is not reachable: there is no socket %s' % path, path=path)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _recv(self, size):
        chunks = []
        while size:
            try:
                chunk = self._sock.recv(min(size, 65536))
            except socket.timeout:
                raise BackendError('the ssh-agent at %s did not answer within %d seconds (a key that asks for '
                                   'confirmation waits for it)' % (self.path, self.timeout), path=self.path)
            except OSError as exc:
                raise BackendError('reading from the ssh-agent at %s failed: %s' % (self.path, exc), path=self.path)
            if not chunk:
                raise BackendError('the ssh-agent at %s closed the connection' % self.path, path=self.path)
            chunks.append(chunk)
            size -= len(chunk)
        return b''.join(chunks)

    def request(self, kind, body=b''):
        """Send one message; return (reply type, reply body)."""
        if self._sock is None:
            raise BackendError('the connection to the ssh-agent at %s is closed' % self.path, path=self.path)
        message = struct.pack('>B', kind) + body
        try:
            self._sock.sendall(struct.pack('>I', len(message)) + message)
        except socket.timeout:
            raise BackendError('the ssh-agent at %s did not take a request within %d seconds'
                               % (self.path, self.timeout), path=self.path)
        except OSError as exc:
            raise BackendError('writing to the ssh-agent at %s failed: %s' % (self.path, exc), path=self.path)
        length = struct.unpack('>I', self._recv(4))[0]
        if length < 1 or length > MAX_AGENT_REPLY:
            self.close()
            raise BackendError('the ssh-agent at %s sent a reply of %d bytes (at most %d are read)'
                               % (self.path, length, MAX_AGENT_REPLY), path=self.path)
        reply = self._recv(length)
        return reply[0], reply[1:]

    def identities(self):
        """The agent's keys: a list of (key blob, comment)."""
        kind, body = self.request(SSH_AGENTC_REQUEST_IDENTITIES)
        if kind in (SSH_AGENT_FAILURE, SSH_AGENT_EXTENSION_FAILURE):
            raise BackendError('the ssh-agent at %s refused to list its keys (locked?)' % self.path, path=self.path)
        if kind != SSH_AGENT_IDENTITIES_ANSWER:
            raise BackendError('the ssh-agent at %s answered the key list with message %d' % (self.path, kind),
                               path=self.path)
        try:
            reader = Reader(body)
            count = reader.uint32('key count')
            if count > MAX_AGENT_IDENTITIES:
                raise WireError('%d keys (at most %d)' % (count, MAX_AGENT_IDENTITIES))
            keys = []
            for _index in range(count):
                blob = reader.string('key')
                comment = reader.string('comment')
                keys.append((blob, comment.decode('utf-8', 'replace')))
            if reader.remaining():
                raise WireError('%d bytes of trailing data' % reader.remaining())
        except WireError as exc:
            raise BackendError('the ssh-agent at %s sent a key list that cannot be read: %s' % (self.path, exc),
                               path=self.path)
        return keys

    def sign(self, key_blob, data, flags=0):
        """The agent's signature (``string algorithm, string body``) of ``data`` by ``key_blob``."""
        kind, body = self.request(SSH_AGENTC_SIGN_REQUEST,
                                  ssh_string(key_blob) + ssh_string(data) + struct.pack('>I', flags))
        if kind in (SSH_AGENT_FAILURE, SSH_AGENT_EXTENSION_FAILURE):
            raise BackendError('the ssh-agent at %s refused to sign with the CA key (a key added with a '
                               'confirmation (ssh-add -c) that nobody gave, a key restricted to destinations '
                               '(ssh-add -h), a hardware key not present, or a locked agent)' % self.path,
                               path=self.path)
        if kind != SSH_AGENT_SIGN_RESPONSE:
            raise BackendError('the ssh-agent at %s answered a signing request with message %d' % (self.path, kind),
                               path=self.path)
        try:
            reader = Reader(body)
            signature = reader.string('signature')
            if reader.remaining():
                raise WireError('%d bytes of trailing data' % reader.remaining())
        except WireError as exc:
            raise BackendError('the ssh-agent at %s sent a signature that cannot be read: %s' % (self.path, exc),
                               path=self.path)
        return signature


def signature_algorithm_of(signature):
    """The algorithm name of an SSH signature blob (ValueError when it is not one)."""
    reader = Reader(signature)
    algorithm = reader.text('signature algorithm')
    reader.string('signature')
    if reader.remaining():
        raise WireError('%d bytes of trailing data' % reader.remaining())
    return algorithm


class AgentSigner:
    """Signs certificates with the CA key ``ca_key`` (a plain ``PublicKey``)
    an ssh-agent holds. Connects and checks that the agent holds the key when
    made (planning: a question, nothing written), signs over the same
    connection."""

    name = 'ssh-agent'

    def __init__(self, ca_key, socket_path, timeout=AGENT_TIMEOUT):
        self.ca_key = ca_key
        self.socket_path = socket_path
        self._client = AgentClient(socket_path, timeout)
        try:
            self.check_held()
        except KeysmithError:
            self.close()
            raise

    def check_held(self):
        held = self._client.identities()
        if not any(blob == self.ca_key.blob for blob, _comment in held):
            raise NotFound('the CA key %s (%s) is not in the ssh-agent at %s, which holds %d key%s; add it there '
                           '(ssh-add) or give the CA key the agent holds'
                           % (self.ca_key.fingerprint_sha256, self.ca_key.key_type, self.socket_path, len(held),
                              '' if len(held) == 1 else 's'), path=self.socket_path)

    def close(self):
        self._client.close()

    def sign(self, cert, algorithm):
        # imported here: the sshd port is only needed once something is signed
        from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
        cert.nonce = cert.nonce or os.urandom(32)
        cert.ca_blob = self.ca_key.blob
        signature = self._client.sign(self.ca_key.blob, cert.to_be_signed(), SIGN_FLAGS.get(algorithm, 0))
        try:
            got = signature_algorithm_of(signature)
        except (WireError, UnicodeError) as exc:
            raise BackendError('the ssh-agent at %s sent a signature that cannot be read: %s'
                               % (self.socket_path, exc), path=self.socket_path)
        if got != algorithm:
            raise BackendError('the ssh-agent at %s signed with %s, not %s (an agent without RSA SHA-2 signatures '
                               'ignores the flag asking for them); nothing was written'
                               % (self.socket_path, got, algorithm), path=self.socket_path)
        cert.signature = signature
        try:
            sshd_rules.key_from_blob(cert.blob())
        except sshd_rules.BlobError as exc:
            raise BackendError('the ssh-agent at %s returned a signature sshd would not accept (%s); nothing was '
                               'written' % (self.socket_path, exc), path=self.socket_path)
        return cert
