# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private key files read without a backend: which format a key is in,
whether it is encrypted, and the OpenSSH container (``openssh-key-v1``):
its clear header, public key and, when not encrypted, comment."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendError,
    InvalidInput,
    KeyLoadError,
    WrongPassphrase,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, ssh_string

OPENSSH_BEGIN = b'-----BEGIN OPENSSH PRIVATE KEY-----'
OPENSSH_END = b'-----END OPENSSH PRIVATE KEY-----'
OPENSSH_MAGIC = b'openssh-key-v1\0'
_PEM_RE = re.compile(br'-----BEGIN ([A-Z0-9 ]+)-----')
_PKCS1_LABELS = (b'RSA PRIVATE KEY', b'EC PRIVATE KEY', b'DSA PRIVATE KEY')
_PKCS8_LABELS = (b'PRIVATE KEY', b'ENCRYPTED PRIVATE KEY')


def to_bytes(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8')


def passphrase_bytes(passphrase):
    """``None`` for no passphrase (``None`` or empty), else bytes."""
    if passphrase is None or passphrase == '' or passphrase == b'':
        return None
    return to_bytes(passphrase)


def decode_text(value):
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return value.decode('latin-1')


def _openssh_decode(private_bytes):
    """The binary body of an OpenSSH format private key (``KeyLoadError`` if broken)."""
    data = to_bytes(private_bytes).strip()
    start = data.find(OPENSSH_BEGIN)
    end = data.find(OPENSSH_END)
    if start < 0 or end < start:
        raise KeyLoadError('the private key is not in OpenSSH format')
    body = b''.join(data[start + len(OPENSSH_BEGIN):end].split())
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyLoadError('the OpenSSH private key is damaged (bad base64)')
    if not raw.startswith(OPENSSH_MAGIC):
        raise KeyLoadError('the OpenSSH private key is damaged (bad magic)')
    return raw


class OpenSSHContainer:
    """The clear parts of an OpenSSH format private key (``openssh-key-v1``)."""

    def __init__(self, private_bytes):
        raw = _openssh_decode(private_bytes)
        wire = Reader(raw)
        try:
            wire.take(len(OPENSSH_MAGIC))
            self.cipher = wire.string().decode('ascii')
            self.kdf = wire.string().decode('ascii')
            self.kdf_options = wire.string()
            count = wire.uint32()
            if count != 1:
                raise ValueError('%d keys' % count)
            self.public_blob = wire.string()
            self.private_section = wire.string()
        except (ValueError, UnicodeDecodeError):
            raise KeyLoadError('the OpenSSH private key is damaged (bad header)')
        self.header = raw[:wire.pos - 4 - len(self.private_section)]

    @property
    def encrypted(self):
        return self.cipher != 'none'

    def public_key(self, comment=''):
        wire = Reader(self.public_blob)
        try:
            key_type = wire.string().decode('ascii')
        except (ValueError, UnicodeDecodeError):
            raise KeyLoadError('the OpenSSH private key is damaged (bad public key)')
        try:
            return PublicKey.from_blob(key_type, self.public_blob, comment)
        except InvalidInput:
            raise KeyLoadError('the OpenSSH private key is damaged (bad public key)')


# Private fields after the type string in the private section, per type.
_PRIVATE_LAYOUT = {
    'ssh-rsa': 'ssssss',
    'ssh-dss': 'sssss',
    'ecdsa-sha2-nistp256': 'sss',
    'ecdsa-sha2-nistp384': 'sss',
    'ecdsa-sha2-nistp521': 'sss',
    'ssh-ed25519': 'ss',
    'sk-ecdsa-sha2-nistp256@openssh.com': 'sssbss',
    'sk-ssh-ed25519@openssh.com': 'ssbss',
}


def split_private_section(plain):
    """(key part incl. check ints, comment bytes) of a decrypted private section."""
    wire = Reader(plain)
    try:
        check1 = wire.uint32()
        check2 = wire.uint32()
        if check1 != check2:
            raise WrongPassphrase('the private key could not be decrypted: wrong passphrase')
        key_type = wire.string().decode('ascii')
        layout = _PRIVATE_LAYOUT.get(key_type)
        if layout is None:
            raise KeyLoadError('the OpenSSH private key has a key type this module does not know')
        for field in layout:
            if field == 'b':
                wire.take(1)
            else:
                wire.string()
        key_part = plain[:wire.pos]
        comment = wire.string()
        padding = plain[wire.pos:]
    except (ValueError, UnicodeDecodeError):
        raise KeyLoadError('the OpenSSH private key is damaged (bad private section)')
    if padding != bytes(bytearray(range(1, len(padding) + 1))):
        raise KeyLoadError('the OpenSSH private key is damaged (bad padding)')
    return key_part, comment


def pad_section(data, block):
    pad = (-len(data)) % block
    return data + bytes(bytearray(range(1, pad + 1)))


def armor(raw):
    text = base64.b64encode(raw)
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return OPENSSH_BEGIN + b'\n' + b'\n'.join(lines) + b'\n' + OPENSSH_END + b'\n'


def private_format(private_bytes):
    """``openssh``, ``pkcs1`` or ``pkcs8`` from the PEM armor; ``KeyLoadError`` otherwise."""
    data = to_bytes(private_bytes)
    if not data or not data.strip():
        raise KeyLoadError('the private key file is empty')
    if OPENSSH_BEGIN in data:
        return 'openssh'
    match = _PEM_RE.search(data)
    if match:
        label = match.group(1)
        if label in _PKCS1_LABELS:
            return 'pkcs1'
        if label in _PKCS8_LABELS:
            return 'pkcs8'
    raise KeyLoadError('the private key is in no known format (OpenSSH, PKCS#1 or PKCS#8 PEM)')


def is_encrypted(private_bytes):
    fmt = private_format(private_bytes)
    data = to_bytes(private_bytes)
    if fmt == 'openssh':
        return OpenSSHContainer(data).encrypted
    if fmt == 'pkcs8':
        return b'BEGIN ENCRYPTED PRIVATE KEY' in data
    return b'ENCRYPTED' in data


def openssh_public_key(private_bytes):
    """Public key of an OpenSSH format private key, read without the passphrase.

    The comment is set when the key is not encrypted.
    """
    container = OpenSSHContainer(private_bytes)
    comment = ''
    if not container.encrypted:
        comment = decode_text(split_private_section(container.private_section)[1])
    return container.public_key(comment)


def set_plain_comment(private_bytes, comment):
    """The private key bytes of a not encrypted OpenSSH format key with ``comment`` stored."""
    container = OpenSSHContainer(private_bytes)
    if container.encrypted:
        raise BackendError('internal error: comment change of an encrypted key without cipher')
    key_part, dummy = split_private_section(container.private_section)
    section = pad_section(key_part + ssh_string(to_bytes(comment or '')), 8)
    return armor(container.header + ssh_string(section))
