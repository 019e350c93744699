# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenSSH public key model, in pure standard library Python.

It runs on managed nodes that may lack ``cryptography``: parsing and checking
of an OpenSSH public key line (``type base64 comment``), the key family and
size read from the wire format, SHA256 and MD5 fingerprints and the
"randomart" picture exactly as ``ssh-keygen -lv`` prints them.

Error messages name the problem and show at most the key type and a short
prefix of the base64 text, never a whole key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import (
    Reader as _Reader,
    WireError as _WireError,
    ssh_string as _ssh_string,
)

CERT_SUFFIX = '-cert-v01@openssh.com'

# How many characters of a base64 body an error message may show.
_PREFIX_CHARS = 16

# Upper bound for one line: an 16384-bit RSA certificate is ~5 KiB of base64.
MAX_LINE_CHARS = 64 * 1024

# Plain key types: wire name -> (family, label used by ssh-keygen, layout).
# The layout lists the fields after the type string:
#   'mpint' / 'string' generic SSH strings; 'curve' a string naming the curve.
_PLAIN_TYPES = {
    'ssh-rsa': ('rsa', 'RSA', ('mpint', 'mpint')),
    'ssh-dss': ('dsa', 'DSA', ('mpint', 'mpint', 'mpint', 'mpint')),
    'ecdsa-sha2-nistp256': ('ecdsa', 'ECDSA', ('curve', 'string')),
    'ecdsa-sha2-nistp384': ('ecdsa', 'ECDSA', ('curve', 'string')),
    'ecdsa-sha2-nistp521': ('ecdsa', 'ECDSA', ('curve', 'string')),
    'ssh-ed25519': ('ed25519', 'ED25519', ('string',)),
    'sk-ecdsa-sha2-nistp256@openssh.com': ('sk-ecdsa', 'ECDSA-SK', ('curve', 'string', 'string')),
    'sk-ssh-ed25519@openssh.com': ('sk-ed25519', 'ED25519-SK', ('string', 'string')),
}

_CURVE_BITS = {
    'nistp256': 256,
    'nistp384': 384,
    'nistp521': 521,
}

_ECDSA_TYPE_CURVE = {
    'ecdsa-sha2-nistp256': 'nistp256',
    'ecdsa-sha2-nistp384': 'nistp384',
    'ecdsa-sha2-nistp521': 'nistp521',
    'sk-ecdsa-sha2-nistp256@openssh.com': 'nistp256',
}


def cert_type_for(plain_type):
    """The certificate wire type of a plain key type (``ssh-rsa`` -> ``ssh-rsa-cert-v01@openssh.com``)."""
    if plain_type.endswith('@openssh.com'):
        return plain_type[:-len('@openssh.com')] + CERT_SUFFIX
    return plain_type + CERT_SUFFIX


_CERT_TYPES = dict((cert_type_for(t), t) for t in _PLAIN_TYPES)


def plain_type_of(key_type):
    """The plain key type of a certificate type (or ``key_type`` itself)."""
    return _CERT_TYPES.get(key_type, key_type)


def is_known_type(key_type):
    return key_type in _PLAIN_TYPES or key_type in _CERT_TYPES


def _read_key_fields(reader, plain_type):
    """Read the public fields of ``plain_type`` and return (size_bits, raw_fields_bytes)."""
    start = reader.pos
    layout = _PLAIN_TYPES[plain_type][2]
    size = 0
    for index, field in enumerate(layout):
        if field == 'mpint':
            value = reader.mpint('key field')
            if index == len(layout) - 1 and plain_type == 'ssh-rsa':
                size = value.bit_length()
            elif index == 0 and plain_type == 'ssh-dss':
                size = value.bit_length()
        elif field == 'curve':
            curve = reader.text('curve name')
            if curve != _ECDSA_TYPE_CURVE[plain_type]:
                raise _WireError('curve %s does not match the key type' % curve)
            size = _CURVE_BITS[curve]
        else:
            value = reader.string('key field')
            if index == 0 and plain_type in ('ssh-ed25519', 'sk-ssh-ed25519@openssh.com'):
                if len(value) != 32:
                    raise _WireError('ed25519 public key of %d bytes' % len(value))
                size = 256
    return size, reader.data[start:reader.pos]


def _read_cert_rest(reader):
    """Read the certificate fields after the key and check nothing follows."""
    reader.uint64('serial')
    reader.uint32('certificate type')
    reader.string('key id')
    reader.string('principals')
    reader.uint64('valid after')
    reader.uint64('valid before')
    reader.string('critical options')
    reader.string('extensions')
    reader.string('reserved')
    signature_key = reader.string('signature key')
    reader.string('signature')
    if not signature_key:
        raise _WireError('empty signature key')


# ---------------------------------------------------------------------------
# Fingerprints and randomart

def _b64_unpadded(data):
    return base64.b64encode(data).decode('ascii').rstrip('=')


def fingerprint_sha256(blob):
    """``SHA256:`` fingerprint of a key blob, as ``ssh-keygen -l -E sha256`` shows it."""
    return 'SHA256:' + _b64_unpadded(hashlib.sha256(blob).digest())


def fingerprint_md5(blob):
    """Colon separated hex MD5 of a key blob (``ssh-keygen -E md5`` without the ``MD5:`` prefix)."""
    # md5 is what the format is defined with; not used for security here.
    try:
        digest = hashlib.new('md5', blob, usedforsecurity=False).digest()
    except TypeError:  # Python < 3.9 has no usedforsecurity
        digest = hashlib.md5(blob).digest()  # nosec - fingerprint format only
    return ':'.join('%02x' % c for c in bytearray(digest))


_FLDBASE = 8
_FLDSIZE_Y = _FLDBASE + 1
_FLDSIZE_X = _FLDBASE * 2 + 1
_AUGMENTATION = ' .o+=*BOX@%&#/^SE'


def _c_snprintf(text, size):
    """What C snprintf into a buffer of ``size`` keeps, and the length it returns."""
    return text[:size - 1], len(text)


def randomart(blob, key_type_label, size, digest='sha256'):
    """The OpenSSH "visual host key" of ``blob``.

    A port of ``fingerprint_randomart`` in OpenSSH's ``sshkey.c``:
    ``key_type_label`` is what ``sshkey_type`` gives (``RSA``, ``ED25519``,
    ``ECDSA-SK``, ``RSA-CERT``, ...), ``size`` the key bits. ``digest`` is
    ``sha256`` (footer ``[SHA256]``) or ``md5`` (footer ``[MD5]``). Lines are
    joined with ``\\n`` without a trailing newline.
    """
    digest = digest.lower()
    if digest == 'sha256':
        raw = hashlib.sha256(blob).digest()
        alg = 'SHA256'
    elif digest == 'md5':
        try:
            raw = hashlib.new('md5', blob, usedforsecurity=False).digest()
        except TypeError:
            raw = hashlib.md5(blob).digest()  # nosec - fingerprint format only
        alg = 'MD5'
    else:
        raise InvalidInput('unsupported fingerprint digest %r' % (digest,))

    length = len(_AUGMENTATION) - 1
    field = [[0] * _FLDSIZE_Y for dummy in range(_FLDSIZE_X)]
    x = _FLDSIZE_X // 2
    y = _FLDSIZE_Y // 2
    for byte in bytearray(raw):
        value = byte
        for dummy in range(4):
            x += 1 if value & 0x1 else -1
            y += 1 if value & 0x2 else -1
            x = min(max(x, 0), _FLDSIZE_X - 1)
            y = min(max(y, 0), _FLDSIZE_Y - 1)
            if field[x][y] < length - 2:
                field[x][y] += 1
            value >>= 2
    field[_FLDSIZE_X // 2][_FLDSIZE_Y // 2] = length - 1
    field[x][y] = length

    # title buffer is char[FLDSIZE_X]; fall back to "[type]" when truncated.
    title, written = _c_snprintf('[%s %u]' % (key_type_label, size), _FLDSIZE_X)
    if written > _FLDSIZE_X:
        title, written = _c_snprintf('[%s]' % key_type_label, _FLDSIZE_X)
    hash_id = _c_snprintf('[%s]' % alg, _FLDSIZE_X)[0]

    def border(label):
        left = (_FLDSIZE_X - len(label)) // 2
        return '+' + '-' * left + label + '-' * (_FLDSIZE_X - left - len(label)) + '+'

    lines = [border(title)]
    for row in range(_FLDSIZE_Y):
        lines.append('|' + ''.join(
            _AUGMENTATION[min(field[col][row], length)] for col in range(_FLDSIZE_X)) + '|')
    lines.append(border(hash_id))
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# The public key

def _short(text):
    text = text or ''
    if len(text) > _PREFIX_CHARS:
        return text[:_PREFIX_CHARS] + '...'
    return text


def _describe(key_type, b64):
    safe_type = key_type if len(key_type) <= 64 else key_type[:64] + '...'
    return '%s %s' % (safe_type, _short(b64))


class PublicKey:
    """One OpenSSH public key (or certificate) with its comment.

    ``key_type`` is the wire name, ``blob`` the decoded key bytes. ``family`` is
    the module ``type`` value of the key (of the certified key for a
    certificate, ``unknown`` for a type this module does not know), ``size``
    its bits (0 when unknown).
    """

    def __init__(self, key_type, blob, comment='', _parsed=None):
        self.key_type = key_type
        self.blob = bytes(blob)
        self.comment = comment or ''
        if _parsed is None:
            _parsed = _parse_blob(key_type, self.blob)
        self._size, self._plain_blob = _parsed

    # -- construction --------------------------------------------------------

    @classmethod
    def from_blob(cls, key_type, blob, comment=''):
        """Build from the wire type and blob; ``InvalidInput`` when they do not agree."""
        if isinstance(key_type, bytes):
            try:
                key_type = key_type.decode('ascii')
            except UnicodeDecodeError:
                raise InvalidInput('public key type is not ASCII text')
        if not isinstance(blob, (bytes, bytearray)):
            raise InvalidInput('public key blob must be bytes')
        try:
            parsed = _parse_blob(key_type, bytes(blob))
        except _WireError as exc:
            raise InvalidInput('invalid %s public key: %s' % (_describe(key_type, ''), exc))
        return cls(key_type, blob, comment, _parsed=parsed)

    @classmethod
    def from_line(cls, text):
        """Parse ``type base64 [comment]`` (surrounding white space is ignored).

        Raises ``InvalidInput`` naming the problem; the message shows only the
        type and a short prefix of the base64 text.
        """
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode('utf-8')
            except UnicodeDecodeError:
                raise InvalidInput('public key line is not valid UTF-8 text')
        if not isinstance(text, str):
            raise InvalidInput('public key line must be text, got %s' % type(text).__name__)
        if len(text) > MAX_LINE_CHARS:
            raise InvalidInput('public key line is longer than %d characters' % MAX_LINE_CHARS)
        line = text.strip()
        if not line:
            raise InvalidInput('public key line is empty')
        if '\n' in line or '\r' in line or '\0' in line:
            raise InvalidInput('public key text must be a single line')
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise InvalidInput('public key line must be "type base64 [comment]", got only %s'
                               % _short(parts[0]))
        key_type, b64 = parts[0], parts[1]
        comment = parts[2].strip() if len(parts) > 2 else ''
        if not _is_type_name(key_type):
            raise InvalidInput('public key type %s is not a valid key type name' % _short(key_type))
        try:
            blob = base64.b64decode(b64.encode('ascii'), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise InvalidInput('public key %s: the key data is not valid base64' % _describe(key_type, b64))
        if not blob:
            raise InvalidInput('public key %s: the key data is empty' % _describe(key_type, b64))
        try:
            parsed = _parse_blob(key_type, blob)
        except _WireError as exc:
            raise InvalidInput('public key %s: %s' % (_describe(key_type, b64), exc))
        return cls(key_type, blob, comment, _parsed=parsed)

    # -- properties ---------------------------------------------------------

    @property
    def is_certificate(self):
        return self.key_type in _CERT_TYPES

    @property
    def plain_key_type(self):
        """Wire type of the key itself (the certified key for a certificate)."""
        return plain_type_of(self.key_type)

    @property
    def plain_blob(self):
        """Blob of the key itself: for a certificate the certified key (what its
        fingerprint is computed from), else ``blob``."""
        return self._plain_blob

    @property
    def family(self):
        info = _PLAIN_TYPES.get(self.plain_key_type)
        return info[0] if info else 'unknown'

    @property
    def size(self):
        return self._size

    @property
    def type_label(self):
        """The name ``ssh-keygen`` shows for the type (``RSA``, ``ED25519-CERT``, ...)."""
        info = _PLAIN_TYPES.get(self.plain_key_type)
        if not info:
            return 'unknown'
        return info[1] + ('-CERT' if self.is_certificate else '')

    @property
    def base64(self):
        return base64.b64encode(self.blob).decode('ascii')

    @property
    def fingerprint_sha256(self):
        # ssh-keygen fingerprints a certificate by its certified key.
        return fingerprint_sha256(self._plain_blob)

    @property
    def fingerprint_md5(self):
        return fingerprint_md5(self._plain_blob)

    def fingerprint(self, digest='sha256'):
        """``SHA256:...`` or ``MD5:..`` as ``ssh-keygen -l -E <digest>`` prints it."""
        if digest.lower() == 'md5':
            return 'MD5:' + self.fingerprint_md5
        if digest.lower() == 'sha256':
            return self.fingerprint_sha256
        raise InvalidInput('unsupported fingerprint digest %r' % (digest,))

    def randomart(self, digest='sha256'):
        """The art box ``ssh-keygen -lv -E <digest> -f key.pub`` prints."""
        return randomart(self._plain_blob, self.type_label, self._size, digest=digest)

    # -- output and comparison ---------------------------------------------

    def to_line(self, comment=None):
        """``type base64 comment`` (no comment part when it is empty)."""
        if comment is None:
            comment = self.comment
        line = '%s %s' % (self.key_type, self.base64)
        if comment:
            line += ' ' + comment
        return line

    def same_key(self, other):
        """Same type and blob, whatever the comments."""
        return (isinstance(other, PublicKey) and self.key_type == other.key_type
                and self.blob == other.blob)

    def __eq__(self, other):
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self.same_key(other) and self.comment == other.comment

    def __ne__(self, other):
        result = self.__eq__(other)
        if result is NotImplemented:
            return result
        return not result

    def __hash__(self):
        return hash((self.key_type, self.blob, self.comment))

    def __repr__(self):
        return 'PublicKey(%s %s, %s)' % (self.key_type, self.fingerprint_sha256, self.comment)

    def __str__(self):
        return self.to_line()


def _is_type_name(name):
    if not name or len(name) > 256:
        return False
    for ch in name:
        if not (33 <= ord(ch) <= 126) or ch in '"\\,':
            return False
    return True


def _parse_blob(key_type, blob):
    """Check ``blob`` against ``key_type``; return (size, plain blob).

    Raises ``_WireError`` with a short, secret free reason.
    """
    reader = _Reader(blob)
    try:
        inner = reader.string('key type')
    except _WireError:
        raise _WireError('the key data is truncated (no key type inside)')
    try:
        inner = inner.decode('ascii')
    except UnicodeDecodeError:
        raise _WireError('the key type inside the key data is not ASCII')
    if inner != key_type:
        raise _WireError('the key data is of type %s, not %s' % (_short(inner), key_type))
    if key_type in _PLAIN_TYPES:
        size, dummy = _read_key_fields(reader, key_type)
        if reader.remaining():
            raise _WireError('%d bytes of trailing garbage after the key data' % reader.remaining())
        return size, blob
    if key_type in _CERT_TYPES:
        plain = _CERT_TYPES[key_type]
        reader.string('certificate nonce')
        size, fields = _read_key_fields(reader, plain)
        _read_cert_rest(reader)
        if reader.remaining():
            raise _WireError('%d bytes of trailing garbage after the certificate' % reader.remaining())
        return size, _ssh_string(plain) + fields
    # A type this module does not know: the first string matched, accept it.
    return 0, blob
