# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSSH certificates (PROTOCOL.certkeys): the model, its wire form and a
public view. No file access, no signing (``signer.py`` signs).

A certificate blob is::

    string  "<plain type>-cert-v01@openssh.com"
    string  nonce
    ...     the certified key's public fields (as in its plain blob)
    uint64  serial
    uint32  type (1 user, 2 host)
    string  key id
    string  valid principals (strings packed inside)
    uint64  valid after
    uint64  valid before
    string  critical options ((string name, string data) sorted by name)
    string  extensions (same encoding)
    string  reserved
    string  signature key (the CA's plain public key blob)
    string  signature (over everything before it)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import calendar
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import (
    PublicKey,
    cert_type_for,
    fingerprint_sha256,
    plain_type_of,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, WireError, ssh_string
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshbuf import BlobError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey import read_public_fields

USER = 'user'
HOST = 'host'
_TYPE_CODES = {USER: 1, HOST: 2}
_TYPE_NAMES = {1: USER, 2: HOST}

FOREVER = 0xFFFFFFFFFFFFFFFF

# What ssh-keygen puts in a user certificate unless told otherwise (-O clear).
DEFAULT_USER_EXTENSIONS = ('permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding',
                           'permit-pty', 'permit-user-rc')
KNOWN_EXTENSIONS = DEFAULT_USER_EXTENSIONS + ('no-touch-required',)
# Critical options OpenSSH defines (user certificates only); flags have no value.
STRING_OPTIONS = ('force-command', 'source-address')
FLAG_OPTIONS = ('verify-required',)


def _u64(value):
    return value.to_bytes(8, 'big')


def _u32(value):
    return value.to_bytes(4, 'big')


def encode_options(options):
    """Critical options or extensions (``{name: value}``; value None for a flag,
    text for a string option) as the wire field: sorted by name, a string
    value packed as a string inside the data string."""
    out = b''
    for name in sorted(options):
        value = options[name]
        data = b'' if value is None else ssh_string(value.encode('utf-8'))
        out += ssh_string(name.encode('utf-8')) + ssh_string(data)
    return out


def decode_options(raw, what):
    """``{name: value}`` of an options field: None for an empty (flag) value,
    the text of a value holding one string, else ``hex:...`` of its bytes."""
    reader = Reader(raw)
    found = {}
    while reader.remaining():
        name = reader.string(what).decode('utf-8', 'replace')
        data = reader.string(what)
        if name in found:
            raise WireError('%s %s appears twice' % (what, name))
        value = None
        if data:
            inner = Reader(data)
            try:
                text = inner.string(what)
                value = text.decode('utf-8') if not inner.remaining() else None
            except (WireError, UnicodeDecodeError):
                value = None
            if value is None:
                value = 'hex:' + binascii.hexlify(data).decode('ascii')
        found[name] = value
    return found


def utc_text(seconds):
    """A validity bound as text: ``always``/``forever`` or ISO 8601 UTC."""
    if seconds == 0:
        return 'always'
    if seconds >= FOREVER:
        return 'forever'
    try:
        return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))
    except (OverflowError, ValueError, OSError):
        return '0x%x' % seconds


class Certificate:
    """One OpenSSH certificate. ``key`` is the certified key (a plain
    ``PublicKey``), ``ca_blob`` the signing CA's plain public key blob,
    ``critical_options``/``extensions`` dicts (see ``encode_options``)."""

    def __init__(self, key, cert_type, serial, key_id, principals, valid_after, valid_before,
                 critical_options=None, extensions=None, nonce=b'', reserved=b'', ca_blob=b'', signature=b'',
                 comment=''):
        self.key = key
        self.cert_type = cert_type
        self.serial = serial
        self.key_id = key_id
        self.principals = list(principals)
        self.valid_after = valid_after
        self.valid_before = valid_before
        self.critical_options = dict(critical_options or {})
        self.extensions = dict(extensions or {})
        self.nonce = nonce
        self.reserved = reserved
        self.ca_blob = ca_blob
        self.signature = signature
        self.comment = comment or ''

    # ------------------------------------------------------------ wire form
    @property
    def wire_type(self):
        return cert_type_for(self.key.key_type)

    def to_be_signed(self):
        """Every field up to and including the signature key: what the CA signs."""
        fields = Reader(self.key.blob)
        fields.string()
        principals = b''.join(ssh_string(name.encode('utf-8')) for name in self.principals)
        return b''.join([
            ssh_string(self.wire_type), ssh_string(self.nonce), self.key.blob[fields.pos:],
            _u64(self.serial), _u32(_TYPE_CODES[self.cert_type]), ssh_string(self.key_id.encode('utf-8')),
            ssh_string(principals), _u64(self.valid_after), _u64(self.valid_before),
            ssh_string(encode_options(self.critical_options)), ssh_string(encode_options(self.extensions)),
            ssh_string(self.reserved), ssh_string(self.ca_blob),
        ])

    def blob(self):
        return self.to_be_signed() + ssh_string(self.signature)

    def to_line(self):
        line = '%s %s' % (self.wire_type, base64.b64encode(self.blob()).decode('ascii'))
        return line + (' ' + self.comment if self.comment else '')

    # ------------------------------------------------------------- parsing
    @classmethod
    def from_blob(cls, blob, comment=''):
        """Parse a certificate blob; ``InvalidInput`` naming what is wrong."""
        try:
            return cls._from_blob(bytes(blob), comment)
        except WireError as exc:
            raise InvalidInput('invalid certificate: %s' % exc)

    @classmethod
    def _from_blob(cls, blob, comment):
        reader = Reader(blob)
        wire_type = reader.text('certificate type name')
        plain = plain_type_of(wire_type)
        if plain == wire_type:
            raise WireError('%s is not a certificate type' % wire_type[:60])
        nonce = reader.string('nonce')
        start = reader.pos
        # the certificate's key, read by the one reader of key data (the sshd port)
        try:
            reader.pos, dummy = read_public_fields(blob, start, wire_type)
        except BlobError as exc:
            raise WireError('%s: %s' % (wire_type[:60], exc))
        key = PublicKey.from_blob(plain, ssh_string(plain) + blob[start:reader.pos])
        serial = reader.uint64('serial')
        code = reader.uint32('certificate type')
        if code not in _TYPE_NAMES:
            raise WireError('unknown certificate type %d' % code)
        key_id = reader.string('key id').decode('utf-8', 'replace')
        packed = Reader(reader.string('principals'))
        principals = []
        while packed.remaining():
            principals.append(packed.string('principal').decode('utf-8', 'replace'))
        valid_after = reader.uint64('valid after')
        valid_before = reader.uint64('valid before')
        critical = decode_options(reader.string('critical options'), 'critical option')
        extensions = decode_options(reader.string('extensions'), 'extension')
        reserved = reader.string('reserved')
        ca_blob = reader.string('signature key')
        signature = reader.string('signature')
        if reader.remaining():
            raise WireError('%d bytes of trailing data' % reader.remaining())
        if not ca_blob:
            raise WireError('no signature key')
        return cls(key, _TYPE_NAMES[code], serial, key_id, principals, valid_after, valid_before, critical,
                   extensions, nonce, reserved, ca_blob, signature, comment)

    @classmethod
    def from_line(cls, text):
        """Parse ``type base64 [comment]`` of a certificate (a ``-cert.pub`` file)."""
        key = PublicKey.from_line(text)
        if not key.is_certificate:
            raise InvalidInput('%s is a plain public key, not a certificate' % key.key_type)
        return cls.from_blob(key.blob, key.comment)

    # ---------------------------------------------------------- public view
    @property
    def signature_algorithm(self):
        try:
            return Reader(self.signature).text('signature type')
        except WireError:
            return None

    @property
    def ca_key(self):
        """The CA's public key (``PublicKey``), None when its blob is unknown."""
        try:
            reader = Reader(self.ca_blob)
            return PublicKey.from_blob(reader.text('CA key type'), self.ca_blob)
        except (WireError, InvalidInput):
            return None

    @property
    def ca_fingerprint(self):
        return fingerprint_sha256(self.ca_blob)

    def is_valid_at(self, now):
        return self.valid_after <= now < self.valid_before

    def view(self):
        """What ``ssh-keygen -L`` shows, as a dict (public data only)."""
        return {
            'type': self.cert_type,
            'key_type': self.wire_type,
            'public_key': self.key.to_line(comment=''),
            'fingerprint': self.key.fingerprint_sha256,
            'ca_fingerprint': self.ca_fingerprint,
            'signature_algorithm': self.signature_algorithm,
            'serial': self.serial,
            'key_id': self.key_id,
            'principals': list(self.principals),
            'valid_from': utc_text(self.valid_after),
            'valid_to': utc_text(self.valid_before),
            'critical_options': dict(self.critical_options),
            'extensions': sorted(self.extensions),
        }


def epoch_now():
    return calendar.timegm(time.gmtime())
