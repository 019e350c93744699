# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenSSH public key model, in pure standard library Python.

It runs on managed nodes that may lack ``cryptography``. A key line
(``type base64 comment``) and a key blob are read by the one reader of key
text, the port of sshd's ``sshkey_read``/``sshkey_from_blob``
(:mod:`..sshd.rules`): the type names sshd accepts (``rsa-sha2-512`` and
``rsa-sha2-256`` are names of an ``ssh-rsa`` key, as for sshd and
``ssh-keygen -l``), its checks of the key data, its reasons for refusing, and
its idea of the same key (the key material, ``sshkey_equal``). Here: the key
family and size, SHA256 and MD5 fingerprints and the "randomart" picture
exactly as ``ssh-keygen -lv`` prints them.

Error messages name the problem and show at most the key type and a short
prefix of the base64 text, never a whole key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules

CERT_SUFFIX = '-cert-v01@openssh.com'

# How many characters of a base64 body an error message may show.
_PREFIX_CHARS = 16

# Upper bound for one line: an 16384-bit RSA certificate is ~5 KiB of base64.
MAX_LINE_CHARS = 64 * 1024

# Plain key types: wire name -> (family, label used by ssh-keygen).
_PLAIN_TYPES = {
    'ssh-rsa': ('rsa', 'RSA'),
    'ssh-dss': ('dsa', 'DSA'),
    'ecdsa-sha2-nistp256': ('ecdsa', 'ECDSA'),
    'ecdsa-sha2-nistp384': ('ecdsa', 'ECDSA'),
    'ecdsa-sha2-nistp521': ('ecdsa', 'ECDSA'),
    'ssh-ed25519': ('ed25519', 'ED25519'),
    'sk-ecdsa-sha2-nistp256@openssh.com': ('sk-ecdsa', 'ECDSA-SK'),
    'sk-ssh-ed25519@openssh.com': ('sk-ed25519', 'ED25519-SK'),
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
    """A name sshd reads as a key type at the start of a line (``rsa-sha2-512`` too)."""
    return key_type in sshd_rules.KEY_NAMES


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

    ``key_type`` is the key's own wire name (``ssh-rsa`` for a line written
    ``rsa-sha2-512``), ``blob`` the key as sshd encodes it. ``family`` is the
    module ``type`` value of the key (of the certified key for a
    certificate), ``size`` its bits. ``material`` is what sshd compares keys
    by (:meth:`same_key`).
    """

    def __init__(self, key_type, blob, comment='', _parsed=None):
        if _parsed is None:
            _parsed = _read_blob(key_type, bytes(blob))
        self._sshd = _parsed
        self.key_type = _parsed.wire_type
        self.blob = _parsed.blob
        self.comment = comment or ''

    # -- construction --------------------------------------------------------

    @classmethod
    def from_sshd(cls, found, comment=''):
        """From a key read by the sshd port (:class:`sshd_rules.SshdKey`)."""
        return cls(found.wire_type, found.blob, comment, _parsed=found)

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
        return cls(key_type, blob, comment, _parsed=_read_blob(key_type, bytes(blob)))

    @classmethod
    def from_line(cls, text):
        """Parse ``type base64 [comment]`` (surrounding white space is ignored)
        as sshd's ``sshkey_read`` reads it.

        Raises ``InvalidInput`` naming the problem with the reason of the one
        reader of key text (:func:`sshd_rules.line_error`, the same words
        ``ssh_authkey`` gives); the message shows only the type and a short
        prefix of the base64 text.
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
        found, dummy = sshd_rules.read_key_explained(line)
        if found is None:
            raise InvalidInput(key_text_error(line))
        key, dummy, comment = found
        return cls.from_sshd(key, comment)

    # -- properties ---------------------------------------------------------

    @property
    def is_certificate(self):
        return self._sshd.cert

    @property
    def material(self):
        """What sshd compares keys by (``sshkey_equal``): the public numbers, not
        their encoding nor the type name written; a certificate is compared whole."""
        return self._sshd.material

    @property
    def plain_key_type(self):
        """Wire type of the key itself (the certified key for a certificate)."""
        return sshd_rules.wire_name(self._sshd.kind, self._sshd.curve)

    @property
    def plain_blob(self):
        """Blob of the key itself: for a certificate the certified key (what its
        fingerprint is computed from), else ``blob``."""
        return self._sshd.plain_blob

    @property
    def family(self):
        info = _PLAIN_TYPES.get(self.plain_key_type)
        return info[0] if info else 'unknown'

    @property
    def size(self):
        return self._sshd.bits

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
        return fingerprint_sha256(self.plain_blob)

    @property
    def fingerprint_md5(self):
        return fingerprint_md5(self.plain_blob)

    def fingerprint(self, digest='sha256'):
        """``SHA256:...`` or ``MD5:..`` as ``ssh-keygen -l -E <digest>`` prints it."""
        if digest.lower() == 'md5':
            return 'MD5:' + self.fingerprint_md5
        if digest.lower() == 'sha256':
            return self.fingerprint_sha256
        raise InvalidInput('unsupported fingerprint digest %r' % (digest,))

    def randomart(self, digest='sha256'):
        """The art box ``ssh-keygen -lv -E <digest> -f key.pub`` prints."""
        return randomart(self.plain_blob, self.type_label, self.size, digest=digest)

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
        """The same key for sshd (its key material), whatever the comments, the type
        name written or the encoding of the numbers."""
        return isinstance(other, PublicKey) and self.material == other.material

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
        return hash((self.material, self.comment))

    def __repr__(self):
        return 'PublicKey(%s %s, %s)' % (self.key_type, self.fingerprint_sha256, self.comment)

    def __str__(self):
        return self.to_line()


def key_text_error(line):
    """The one explanation of key text every module gives: why ``line`` is not a
    public key line (``type base64 [comment]``), in sshd's terms
    (:func:`sshd_rules.line_error`; options sshd refuses, or options at all where
    a public key is asked for), naming the type and a short prefix of the data;
    None when sshd reads it as a key with no options before it."""
    line = line.lstrip(' \t')
    if sshd_rules.read_key_explained(line)[0] is not None:
        return None
    reason = sshd_rules.line_error(line)
    if reason is None:
        options_error = sshd_rules.Line(line).options_error
        if options_error is not None:
            reason = 'bad key options: %s' % options_error
        else:
            reason = 'options before the key belong to an authorized_keys line, give "type base64 [comment]"'
    parts = line.split(None, 2)
    if len(parts) < 2:
        return 'public key: %s' % reason
    return 'public key %s: %s' % (_describe(parts[0], parts[1]), reason)


def _read_blob(key_type, blob):
    """The key in ``blob`` as sshd reads it (``sshkey_from_blob``), of the type
    ``key_type`` names (a name sshd reads at the start of a line); ``InvalidInput``
    with sshd's reason otherwise."""
    try:
        found = sshd_rules.key_from_blob(blob)
    except sshd_rules.BlobError as exc:
        raise InvalidInput('invalid %s public key: %s' % (_describe(key_type, ''), exc))
    info = sshd_rules.KEY_NAMES.get(key_type)
    if info is None or (found.kind, found.cert) != info[:2] or (info[2] is not None and found.curve != info[2]):
        raise InvalidInput('invalid %s public key: the key data is of type %s'
                           % (_describe(key_type, ''), found.wire_type))
    return found
