# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``sshkey.c``: ``sshkey_read`` of a line's key (type name, base64, blob),
``sshkey_from_blob`` with its checks (RSA size, EC points, certificates and
their signatures), ``sshkey_advance_past_options``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import re

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _BLANK, _text
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.openbsd_base64 import b64_pton
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshbuf import (
    BlobError,
    _Buf,
    MAX_ECPOINT_BYTES,
    _ssh_string,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_types import (
    _blob_type,
    _CURVE_BITS,
    _CURVES,
    DSA,
    ECDSA,
    ECDSA_SK,
    ED25519_SK,
    KEY_NAMES,
    MIN_RSA_BITS,
    RSA,
    wire_name,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_verify import verify_signature


def _ec_point_ok(curve, point):
    """sshbuf_get_eckey + sshkey_ec_validate_public on an encoded point."""
    prime, coeff_b, order, size = _CURVES[curve]
    if not point or len(point) > MAX_ECPOINT_BYTES or point[0] != 4:
        return False
    if len(point) != 1 + 2 * size:
        return False
    x = int(binascii.hexlify(point[1:1 + size]), 16)
    y = int(binascii.hexlify(point[1 + size:]), 16)
    if x >= prime or y >= prime:
        return False
    if (y * y - (x * x * x - 3 * x + coeff_b)) % prime:
        return False
    # cofactor 1: a point on the curve has the group order; sshd also wants
    # both coordinates longer than half the order
    half = order.bit_length() // 2
    return x.bit_length() > half and y.bit_length() > half


class SshdKey:
    """A key as sshd holds it after reading a blob.

    ``kind`` (rsa, dsa, ecdsa, ed25519, ecdsa-sk, ed25519-sk), ``cert``,
    ``curve`` (ECDSA), ``material`` (what sshkey_equal compares: the public
    numbers, not their encoding), ``wire_type`` and ``blob`` (the canonical
    encoding sshd would write, the certificate itself for a certificate),
    ``plain_blob`` (of the key inside a certificate), ``bits``.
    """

    def __init__(self, kind, cert, curve, fields, blob, bits):
        self.kind = kind
        self.cert = cert
        self.curve = curve
        self.bits = bits
        self.wire_type = wire_name(kind, curve, cert)
        plain_type = wire_name(kind, curve)
        self.plain_blob = _ssh_string(plain_type.encode('ascii')) + b''.join(fields)
        if cert:
            self.blob = blob
            self.material = (kind + '-cert', blob)
        else:
            self.blob = self.plain_blob
            self.material = (kind, self.plain_blob)


def _read_fields(buf, kind, name):
    """Public fields of ``kind``: (canonical encoded fields, curve, bits)."""
    curve = None
    if kind == RSA:
        exponent = buf.bignum()
        modulus = buf.bignum()
        if modulus[0] < MIN_RSA_BITS:
            raise BlobError('RSA modulus shorter than %d bits' % MIN_RSA_BITS)
        return [exponent[1], modulus[1]], curve, modulus[0]
    if kind == DSA:
        numbers = [buf.bignum() for dummy in range(4)]
        return [n[1] for n in numbers], curve, numbers[0][0]
    if kind in (ECDSA, ECDSA_SK):
        info = KEY_NAMES.get(name)
        if info is None or info[2] is None:
            raise BlobError('no curve for key type')
        curve = info[2]
        curve_name = buf.cstring()
        if curve_name != curve.encode('ascii'):
            raise BlobError('curve mismatch')
        point = buf.string()
        if not _ec_point_ok(curve, point):
            raise BlobError('invalid EC point')
        fields = [_ssh_string(curve_name), _ssh_string(point)]
        if kind == ECDSA_SK:
            fields.append(_ssh_string(buf.cstring()))
        return fields, curve, _CURVE_BITS[curve]
    public = buf.string()
    if len(public) != 32:
        raise BlobError('ed25519 key of %d bytes' % len(public))
    fields = [_ssh_string(public)]
    if kind == ED25519_SK:
        fields.append(_ssh_string(buf.cstring()))
    return fields, curve, 256


def read_public_fields(blob, start, name):
    """The public fields of a key of type ``name`` (a certificate's: its plain
    key) at ``start`` of ``blob``, read as ``sshkey_from_blob`` reads them:
    (offset after them, bits); :class:`BlobError` when sshd would refuse them."""
    found = _blob_type(name)
    if found is None:
        raise BlobError('unknown key type %s' % name[:60])
    buf = _Buf(bytes(blob))
    buf.pos = start
    dummy, dummy_curve, bits = _read_fields(buf, found[0], name)
    return buf.pos, bits


# Keys read from blobs, by blob: a file repeating one key (or certificate) on
# 100,000 lines decodes and verifies it once. Bounded: small blobs only, and
# emptied when full.
_BLOB_CACHE = {}
_BLOB_CACHE_ENTRIES = 4096
_BLOB_CACHE_BLOB_BYTES = 16384


def key_from_blob(blob, allow_cert=True):
    """``sshkey_from_blob``: an :class:`SshdKey`, or raise :class:`BlobError`.

    A certificate's signature is verified by its CA key (see :func:`verify_signature`).
    """
    blob = bytes(blob)
    if not allow_cert or len(blob) > _BLOB_CACHE_BLOB_BYTES:
        return _key_from_blob(blob, allow_cert)
    found = _BLOB_CACHE.get(blob)
    if found is None:
        try:
            found = _key_from_blob(blob, allow_cert)
        except BlobError as exc:
            found = exc
        if len(_BLOB_CACHE) >= _BLOB_CACHE_ENTRIES:
            _BLOB_CACHE.clear()
        _BLOB_CACHE[blob] = found
    if isinstance(found, BlobError):
        raise BlobError(str(found))
    return found


def _key_from_blob(blob, allow_cert):
    buf = _Buf(bytes(blob))
    try:
        name = _text(buf.cstring())
    except BlobError:
        raise BlobError('truncated key data (no key type inside)')
    found = _blob_type(name)
    if found is None:
        raise BlobError('unknown key type inside the key data')
    kind, cert = found
    if cert and not allow_cert:
        raise BlobError('a certificate cannot sign a certificate')
    if cert:
        buf.string()  # nonce
    fields, curve, bits = _read_fields(buf, kind, name)
    if cert:
        buf.u64()                   # serial
        if buf.u32() not in (1, 2):  # user or host certificate
            raise BlobError('unknown certificate type')
        buf.cstring()               # key id
        principals = _Buf(buf.string())
        while principals.left():
            principals.cstring()
        buf.u64()
        buf.u64()
        buf.string()                # critical options
        buf.string()                # extensions
        buf.string()                # reserved
        signer = key_from_blob(buf.string(), allow_cert=False)
        signed = bytes(blob[:buf.pos])
        signature = buf.string()
        if not verify_signature(signer, signature, signed):
            raise BlobError('bad certificate signature')
    if buf.left():
        raise BlobError('trailing data after the key')
    return SshdKey(kind, cert, curve, fields, bytes(blob), bits)


def read_key(text):
    """``sshkey_read`` at the start of ``text`` (no leading blanks).

    Returns (SshdKey, written type name, comment) or None where sshd fails.
    The comment has the trailing blanks and CR of the line removed.
    """
    found = _read_key(text)
    return None if isinstance(found, str) else found


def read_key_explained(text):
    """:func:`read_key` with the reason it fails: (found or None, reason or None).

    The reason names the step of ``sshkey_read`` that fails (no blank after
    the type, a type name sshd does not know, base64, the key data, a type
    name that is not the data's) and shows at most a short prefix of the
    text, never the key data.
    """
    found = _read_key(text)
    if isinstance(found, str):
        return None, found
    return found, None


_SHORT_CHARS = 16


def short_text(text):
    """At most the first 16 characters of ``text`` (for messages)."""
    return text if len(text) <= _SHORT_CHARS else text[:_SHORT_CHARS] + '...'


def _read_key(text):
    end = _find_blank(text, 0)
    if end is None:
        return 'this is not a public key ("type base64 [comment]"), got only %s' % short_text(text)
    name = text[:end]
    info = KEY_NAMES.get(name)
    if info is None:
        return '%s is not a key type sshd accepts' % short_text(name)
    pos = _skip_blank(text, end)
    if pos >= len(text):
        return 'this is not a public key ("type base64 [comment]"), got only %s' % short_text(text)
    stop = _find_blank(text, pos)
    if stop is None:
        stop = len(text)
    blob = b64_pton(text[pos:stop])
    if blob is None:
        return 'the key data is not valid base64'
    try:
        key = key_from_blob(blob)
    except BlobError as exc:
        return 'invalid key data: %s' % exc
    if key.kind != info[0] or key.cert != info[1] or (key.kind == ECDSA and key.curve != info[2]):
        return 'the key data is of type %s, not %s' % (key.wire_type, name)
    comment = text[_skip_blank(text, stop):]
    return key, name, normalize_comment(comment)


def normalize_comment(comment):
    """The comment as compared on both sides: without trailing blanks and CR."""
    return comment.rstrip(' \t\r')


_BLANK_RE = re.compile('[ \t]')
# runs of option text: outside quotes (up to a quote or a blank), inside quotes
# (up to the closing quote); an escaped quote \" is part of either
_UNQUOTED_RUN = re.compile(r'(?:\\"|[^" \t])*')
_QUOTED_RUN = re.compile(r'(?:\\"|[^"])*')


def _find_blank(text, start):
    match = _BLANK_RE.search(text, start)
    return match.start() if match else None


def _skip_blank(text, pos):
    while pos < len(text) and text[pos] in _BLANK:
        pos += 1
    return pos


def advance_past_options(text):
    """Index of the first blank outside double quotes (``sshkey_advance_past_options``);
    None for an unterminated quote."""
    # sshd's loop, a run at a time: outside quotes up to a quote or blank, then
    # inside up to the closing quote (``\\"`` is an escaped quote in both)
    index = 0
    length = len(text)
    while True:
        index = _UNQUOTED_RUN.match(text, index).end()
        if index >= length or text[index] != '"':
            return index
        index = _QUOTED_RUN.match(text, index + 1).end()
        if index >= length:
            return None
        index += 1
