# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How OpenSSH's sshd (9.2, Debian 12) reads one ``authorized_keys`` line.

A port of the rules of ``auth2-pubkeyfile.c`` (``auth_check_authkey_line``,
``auth_authorise_keyopts``), ``sshkey.c`` (``sshkey_read``,
``sshkey_from_blob``), ``auth-options.c`` (``sshauthopt_parse``),
``openbsd-compat/base64.c`` (``b64_pton``), ``misc.c``
(``parse_absolute_time``, ``a2tun``, ``a2port``, ``hpdelim2``,
``valid_env_name``) and ``match.c``/``addrmatch.c`` (``from=``).
``tests/parity`` checks them line by line against a real sshd.

The C code works on bytes with the C locale: lengths and character classes
here are those of the UTF-8 (surrogateescape) bytes of the text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import calendar
import re
import socket
import struct
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import (
    HAS_CRYPTOGRAPHY,
    ec,
    ed25519,
    rsa,
)

if HAS_CRYPTOGRAPHY:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
else:  # without it, certificate signatures are not checked (see verify_signature)
    InvalidSignature = hashes = padding = encode_dss_signature = None

SSHD_VERSION = 'OpenSSH 9.2'

# isspace() in the C locale.
C_SPACE = ' \t\n\v\f\r'
_BLANK = ' \t'

# Key kinds (sshd's KEY_* types, a certificate is kind + '-cert').
RSA, DSA, ECDSA, ED25519, ECDSA_SK, ED25519_SK = 'rsa', 'dsa', 'ecdsa', 'ed25519', 'ecdsa-sk', 'ed25519-sk'

_CURVES = {
    # name: (field prime p, b, order n, field bytes); a = -3 for all three.
    'nistp256': (
        0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
        0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
        0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551, 32),
    'nistp384': (
        int('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe'
            'ffffffff0000000000000000ffffffff', 16),
        int('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a'
            'c656398d8a2ed19d2a85c8edd3ec2aef', 16),
        int('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf'
            '581a0db248b0a77aecec196accc52973', 16), 48),
    'nistp521': (
        (1 << 521) - 1,
        int('0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef1'
            '09e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b50'
            '3f00', 16),
        int('01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
            'fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e913864'
            '09', 16), 66),
}
_CURVE_BITS = {'nistp256': 256, 'nistp384': 384, 'nistp521': 521}

# Names sshd's peek_type_nid() accepts at the start of a line:
# name -> (kind, certificate, curve or None).
KEY_NAMES = {
    'ssh-ed25519': (ED25519, False, None),
    'ssh-ed25519-cert-v01@openssh.com': (ED25519, True, None),
    'sk-ssh-ed25519@openssh.com': (ED25519_SK, False, None),
    'sk-ssh-ed25519-cert-v01@openssh.com': (ED25519_SK, True, None),
    'ecdsa-sha2-nistp256': (ECDSA, False, 'nistp256'),
    'ecdsa-sha2-nistp384': (ECDSA, False, 'nistp384'),
    'ecdsa-sha2-nistp521': (ECDSA, False, 'nistp521'),
    'ecdsa-sha2-nistp256-cert-v01@openssh.com': (ECDSA, True, 'nistp256'),
    'ecdsa-sha2-nistp384-cert-v01@openssh.com': (ECDSA, True, 'nistp384'),
    'ecdsa-sha2-nistp521-cert-v01@openssh.com': (ECDSA, True, 'nistp521'),
    'sk-ecdsa-sha2-nistp256@openssh.com': (ECDSA_SK, False, 'nistp256'),
    'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': (ECDSA_SK, True, 'nistp256'),
    'webauthn-sk-ecdsa-sha2-nistp256@openssh.com': (ECDSA_SK, False, 'nistp256'),
    'ssh-dss': (DSA, False, None),
    'ssh-dss-cert-v01@openssh.com': (DSA, True, None),
    'ssh-rsa': (RSA, False, None),
    'rsa-sha2-256': (RSA, False, None),
    'rsa-sha2-512': (RSA, False, None),
    'ssh-rsa-cert-v01@openssh.com': (RSA, True, None),
    'rsa-sha2-256-cert-v01@openssh.com': (RSA, True, None),
    'rsa-sha2-512-cert-v01@openssh.com': (RSA, True, None),
}
# sshkey_type_from_name() (used for the type inside the blob) also takes the
# short names of plain key types, in any case.
_SHORT_NAMES = {'rsa': RSA, 'dsa': DSA, 'ecdsa': ECDSA, 'ed25519': ED25519,
                'ecdsa-sk': ECDSA_SK, 'ed25519-sk': ED25519_SK}

# The wire name a key of a kind is written with.
_WIRE = {RSA: 'ssh-rsa', DSA: 'ssh-dss', ED25519: 'ssh-ed25519',
         ED25519_SK: 'sk-ssh-ed25519@openssh.com', ECDSA_SK: 'sk-ecdsa-sha2-nistp256@openssh.com'}

MIN_RSA_BITS = 1024          # SSH_RSA_MINIMUM_MODULUS_SIZE
MAX_BIGNUM_BYTES = 2048      # SSHBUF_MAX_BIGNUM (16384 bits)
MAX_ECPOINT_BYTES = 133      # SSHBUF_MAX_ECPOINT
MAX_ENV = 1024
MAX_PERMITS = 4096
NI_MAXHOST = 1025
TUNID_ANY = 0x7fffffff
TUNID_MAX = 0x7fffffff - 2


def _bytes(text):
    if isinstance(text, bytes):
        return text
    return text.encode('utf-8', 'surrogateescape')


def _text(data):
    return data.decode('utf-8', 'surrogateescape')


def wire_name(kind, curve=None, cert=False):
    name = 'ecdsa-sha2-' + curve if kind == ECDSA else _WIRE[kind]
    if cert:
        if name.endswith('@openssh.com'):
            return name[:-len('@openssh.com')] + '-cert-v01@openssh.com'
        return name + '-cert-v01@openssh.com'
    return name


# ---------------------------------------------------------------------------
# base64 (b64_pton)

_B64 = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
_B64_SPACE = frozenset(bytearray(_bytes(C_SPACE)))
_B64_ALPHABET = frozenset(bytearray(_B64))
_CANONICAL_B64 = re.compile(br'\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z')


def b64_pton(text):
    """Decode as OpenSSH's ``b64_pton``: bytes, or None where it fails.

    White space anywhere is skipped, a NUL ends the data, padding must be
    complete and only white space may follow it, and the unused bits of the
    last character must be zero.
    """
    raw = _bytes(text).split(b'\0', 1)[0]
    if _CANONICAL_B64.match(raw):
        # the usual case, fast: canonical base64 decodes as the C loop would
        decoded = binascii.a2b_base64(raw)
        if binascii.b2a_base64(decoded)[:-1] == raw:
            return decoded
    data = bytearray(raw)
    chars = bytearray()
    index = 0
    length = len(data)
    padded = False
    while index < length:
        char = data[index]
        index += 1
        if char in _B64_SPACE:
            continue
        if char == 0x3d:  # '='
            padded = True
            break
        if char not in _B64_ALPHABET:
            return None
        chars.append(char)
    state = len(chars) % 4
    if padded:
        if state in (0, 1):
            return None
        if state == 2:
            while index < length and data[index] in _B64_SPACE:
                index += 1
            if index >= length or data[index] != 0x3d:
                return None
            index += 1
        while index < length:
            if data[index] not in _B64_SPACE:
                return None
            index += 1
    elif state != 0:
        return None
    if state:
        # the bits of the last character past the last full byte must be 0
        last = _B64.index(bytes(chars[-1:]))
        if last & (0x0f if state == 2 else 0x03):
            return None
        chars.extend(b'=' * (4 - state))
    return binascii.a2b_base64(bytes(chars)) if chars else b''


# ---------------------------------------------------------------------------
# Key blobs (sshkey_from_blob)

class BlobError(Exception):
    pass


_U32 = struct.Struct('>I')


class _Buf:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def left(self):
        return len(self.data) - self.pos

    def take(self, count):
        end = self.pos + count
        if end > len(self.data):
            raise BlobError('truncated key data')
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def u32(self):
        return struct.unpack('>I', self.take(4))[0]

    def u64(self):
        return struct.unpack('>Q', self.take(8))[0]

    def string(self):
        if self.pos + 4 > len(self.data):
            raise BlobError('truncated key data')
        length = _U32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return self.take(length)

    def cstring(self):
        """sshbuf_get_cstring: a NUL is allowed only as the last byte."""
        value = self.string()
        nul = value.find(b'\0')
        if nul != -1 and nul < len(value) - 1:
            raise BlobError('NUL inside a string')
        return value[:nul] if nul != -1 else value

    def bignum(self):
        """sshbuf_get_bignum2: no negative numbers, at most 2048 bytes (a 0x00 prefix allowed).
        Returns (bits, canonical mpint encoding)."""
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise BlobError('negative number')
        if len(raw) > MAX_BIGNUM_BYTES + 1 or (len(raw) == MAX_BIGNUM_BYTES + 1 and raw[:1] != b'\0'):
            raise BlobError('number too large')
        digits = raw.lstrip(b'\0')
        bits = (len(digits) * 8 - 8 + digits[0].bit_length()) if digits else 0
        if digits and digits[0] & 0x80:
            digits = b'\0' + digits
        return bits, _ssh_string(digits)


def _ssh_string(data):
    return struct.pack('>I', len(data)) + data


def _blob_type(name):
    """sshkey_type_from_name: (kind, certificate) or None."""
    info = KEY_NAMES.get(name)
    if info is not None:
        return info[0], info[1]
    kind = _SHORT_NAMES.get(name.lower())
    if kind is not None:
        return kind, False
    return None


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
        raise BlobError('no key type inside the key data')
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


_EC_HASH = {'nistp256': 'SHA256', 'nistp384': 'SHA384', 'nistp521': 'SHA512'}
_EC_CURVE = {'nistp256': 'SECP256R1', 'nistp384': 'SECP384R1', 'nistp521': 'SECP521R1'}
_RSA_SIG_HASH = {'ssh-rsa': 'SHA1', 'rsa-sha2-256': 'SHA256', 'rsa-sha2-512': 'SHA512'}


# OpenSSL's RSA public operation (rsa_ossl_public_decrypt, used by sshd's
# RSA_public_decrypt): the exponent must be below the modulus, and at most 64
# bits long when the modulus is longer than 3072 bits.
OPENSSL_RSA_SMALL_MODULUS_BITS = 3072
OPENSSL_RSA_MAX_PUBEXP_BITS = 64
# An RSA verification costs about (exponent bits) x (modulus bits)^2: a CA key
# whose exponent is as long as its modulus makes each certificate line ~200
# times dearer than a usual one (e = 65537). Per module run, certificate
# signatures are verified up to this cost (in exponent bits x (modulus
# bits / 1024)^2: about a second of CPU; 30,000 certificates of a usual
# 3072-bit CA); past it they are taken as valid without a check, as without
# ``cryptography``, and counted (:func:`unchecked_signatures`).
RSA_VERIFY_BUDGET = 5000000
_VERIFY = {'spent': 0, 'unchecked': 0}


def unchecked_signatures():
    """How many certificate signatures this process took as valid without checking
    them (verification cost budget spent)."""
    return _VERIFY['unchecked']


def _rsa_verify_cost(exponent, modulus):
    return exponent.bit_length() * (modulus.bit_length() / 1024.0) ** 2


def verify_signature(signer, signature, data):
    """sshkey_verify of a certificate signature by its CA key (``signer``, an :class:`SshdKey`).

    Needs ``cryptography`` for RSA, ECDSA and Ed25519 CA keys; without it, and
    for DSA and security-key CAs, the signature is taken as valid (such a
    line never authorizes a key itself, only certificates, in sshd). RSA
    verifications past the cost budget (``RSA_VERIFY_BUDGET``) are too.
    """
    if not HAS_CRYPTOGRAPHY or signer.kind not in (RSA, ECDSA, ED25519):
        return True
    try:
        sig = _Buf(signature)
        sig_type = _text(sig.cstring())
        body = sig.string()
        if sig.left():
            return False
        fields = _Buf(signer.plain_blob)
        fields.string()
        if signer.kind == ED25519:
            if sig_type != 'ssh-ed25519' or len(body) != 64:
                return False
            ed25519.Ed25519PublicKey.from_public_bytes(fields.string()).verify(body, data)
        elif signer.kind == ECDSA:
            if sig_type != signer.wire_type:
                return False
            numbers = _Buf(body)
            r_value = int(binascii.hexlify(numbers.string()) or b'0', 16)
            s_value = int(binascii.hexlify(numbers.string()) or b'0', 16)
            if numbers.left():
                return False
            fields.string()
            curve = getattr(ec, _EC_CURVE[signer.curve])()
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, fields.string())
            public.verify(encode_dss_signature(r_value, s_value), data,
                          ec.ECDSA(getattr(hashes, _EC_HASH[signer.curve])()))
        else:
            if sig_type not in _RSA_SIG_HASH:
                return False
            exponent = int(binascii.hexlify(fields.string()) or b'0', 16)
            modulus = int(binascii.hexlify(fields.string()) or b'0', 16)
            size = (modulus.bit_length() + 7) // 8
            if len(body) > size:
                return False
            if exponent >= modulus or (modulus.bit_length() > OPENSSL_RSA_SMALL_MODULUS_BITS
                                       and exponent.bit_length() > OPENSSL_RSA_MAX_PUBEXP_BITS):
                return False
            cost = _rsa_verify_cost(exponent, modulus)
            if _VERIFY['spent'] + cost > RSA_VERIFY_BUDGET:
                _VERIFY['unchecked'] += 1
                return True
            _VERIFY['spent'] += cost
            public = rsa.RSAPublicNumbers(exponent, modulus).public_key()
            public.verify(body.rjust(size, b'\0'), data, padding.PKCS1v15(),
                          getattr(hashes, _RSA_SIG_HASH[sig_type])())
    except (BlobError, InvalidSignature, ValueError, TypeError):
        return False
    return True


def read_key(text):
    """``sshkey_read`` at the start of ``text`` (no leading blanks).

    Returns (SshdKey, written type name, comment) or None where sshd fails.
    The comment has the trailing blanks and CR of the line removed.
    """
    end = _find_blank(text, 0)
    if end is None:
        return None
    name = text[:end]
    info = KEY_NAMES.get(name)
    if info is None:
        return None
    pos = _skip_blank(text, end)
    if pos >= len(text):
        return None
    stop = _find_blank(text, pos)
    if stop is None:
        stop = len(text)
    blob = b64_pton(text[pos:stop])
    if blob is None:
        return None
    try:
        key = key_from_blob(blob)
    except BlobError:
        return None
    if key.kind != info[0] or key.cert != info[1]:
        return None
    if key.kind == ECDSA and key.curve != info[2]:
        return None
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


# ---------------------------------------------------------------------------
# Options (sshauthopt_parse)

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


class OptionsError(Exception):
    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason
        self.partial = None


RESTRICT_FLAGS = ('restrict', 'cert-authority')
NEGATABLE_FLAGS = ('port-forwarding', 'agent-forwarding', 'x11-forwarding', 'touch-required',
                   'verify-required', 'pty', 'user-rc')
VALUE_OPTIONS = ('command', 'principals', 'from', 'expiry-time', 'environment',
                 'permitopen', 'permitlisten', 'tunnel')
SINGLE_OPTIONS = ('command', 'principals', 'from')
_NAME_RE = re.compile(r'[A-Za-z0-9_-]*')


def is_flag(lname):
    if lname in RESTRICT_FLAGS or lname in NEGATABLE_FLAGS:
        return True
    return lname.startswith('no-') and lname[3:] in NEGATABLE_FLAGS


def _dequote(text, pos):
    """opt_dequote: (value, position after the closing quote)."""
    if pos >= len(text) or text[pos] != '"':
        raise OptionsError('missing start quote')
    # a run of escaped quotes and other characters (sshd's loop, a run at a time)
    end = _QUOTED_RUN.match(text, pos + 1).end()
    if end >= len(text):
        raise OptionsError('missing end quote')
    return text[pos + 1:end].replace('\\"', '"'), end + 1


class Options:
    """Options of one line as sshd parsed them: ``items`` (name as written, value or None)."""

    __slots__ = ('items', 'cert_authority', 'principals', 'from_patterns', 'valid_before', 'env_names',
                 'permits', 'end')

    def __init__(self):
        self.items = []
        self.cert_authority = False
        self.principals = None
        self.from_patterns = None
        self.valid_before = 0
        self.env_names = []
        self.permits = {'permitopen': 0, 'permitlisten': 0}
        self.end = 0


def parse_options(text, end_is_blank=True):
    """``sshauthopt_parse`` on options ``text`` (the part before the key).

    ``end_is_blank``: the text is followed by the blank before the key (a file
    line), so a trailing comma is allowed as sshd allows it there. Raises
    :class:`OptionsError` with sshd's reason; its ``partial`` holds the options
    read before the error (whether a refused line was meant as ``cert-authority``).
    """
    opts = Options()
    try:
        return _parse_options_into(opts, text, end_is_blank)
    except OptionsError as exc:
        exc.partial = opts
        raise


def _parse_options_into(opts, text, end_is_blank):
    pos = 0
    length = len(text)
    while pos < length and text[pos] not in _BLANK:
        name = _NAME_RE.match(text, pos).group(0)
        lname = name.lower()
        after = pos + len(name)
        if name == '':
            pass  # an empty element: sshd steps over the comma
        elif after < length and text[after] == '=' and lname in VALUE_OPTIONS:
            if lname in SINGLE_OPTIONS and _has(opts, lname):
                raise OptionsError('multiple "%s" clauses' % lname)
            if lname == 'environment' and len(opts.env_names) > MAX_ENV:
                raise OptionsError('too many environment strings')
            if lname in ('permitopen', 'permitlisten') and opts.permits[lname] > MAX_PERMITS:
                raise OptionsError('too many permission directives')
            value, after = _dequote(text, after + 1)
            try:
                _take_value(opts, lname, value)
            except OptionsError as exc:
                raise OptionsError('%s: %s' % (lname, exc.reason))
            opts.items.append((name, value))
        elif (after >= length or text[after] != '=') and is_flag(lname):
            if lname == 'cert-authority':
                opts.cert_authority = True
            opts.items.append((name, None))
        elif is_flag(lname):
            raise OptionsError('unknown key option (%s does not take a value)' % name)
        elif lname in VALUE_OPTIONS:
            raise OptionsError('unknown key option (%s needs a value: %s="...")' % (name, name))
        else:
            raise OptionsError('unknown key option %s' % _short(name or text[pos:]))
        pos = after
        if pos >= length or text[pos] in _BLANK:
            break
        if text[pos] != ',':
            raise OptionsError('unknown key option at %s' % _short(text[pos:]))
        pos += 1
        if pos >= length and not end_is_blank:
            raise OptionsError('unexpected end of options after a comma')
    opts.end = pos
    return opts


def _short(text):
    return text if len(text) <= 16 else text[:16] + '...'


def _has(opts, lname):
    return any(name.lower() == lname for name, dummy in opts.items)


def _take_value(opts, lname, value):
    if lname == 'principals':
        opts.principals = value
    elif lname == 'from':
        opts.from_patterns = value
    elif lname == 'expiry-time':
        valid_before = parse_absolute_time(value)
        if not valid_before:
            raise OptionsError('invalid expires time')
        if opts.valid_before == 0 or valid_before < opts.valid_before:
            opts.valid_before = valid_before
    elif lname == 'environment':
        raw = _bytes(value)
        if b'=' not in raw:
            raise OptionsError('invalid environment string')
        env_name = raw.split(b'=', 1)[0]
        if not valid_env_name(env_name):
            raise OptionsError('invalid environment string')
        if env_name not in opts.env_names:
            opts.env_names.append(env_name)
    elif lname in ('permitopen', 'permitlisten'):
        check_permit(value, lname == 'permitlisten')
        opts.permits[lname] += 1
    elif lname == 'tunnel':
        if a2tun(value) is None:
            raise OptionsError('invalid tun device')


def valid_env_name(name):
    """misc.c valid_env_name: non-empty, ASCII letters, digits and ``_`` only."""
    name = _bytes(name)
    if not name:
        return False
    return all(c == 0x5f or (0x30 <= c <= 0x39) or (0x41 <= c <= 0x5a) or (0x61 <= c <= 0x7a)
               for c in bytearray(name))


def strtonum(text, low, high):
    """OpenBSD strtonum (strtoll base 10): the number, or None."""
    raw = _bytes(text)
    pos = 0
    while pos < len(raw) and raw[pos:pos + 1] in (b' ', b'\t', b'\n', b'\v', b'\f', b'\r'):
        pos += 1
    sign = 1
    if raw[pos:pos + 1] in (b'+', b'-'):
        sign = -1 if raw[pos:pos + 1] == b'-' else 1
        pos += 1
    digits = raw[pos:]
    if not digits or not all(0x30 <= c <= 0x39 for c in bytearray(digits)):
        return None
    value = sign * int(digits)
    if value < low or value > high:
        return None
    return value


def a2tun(text):
    """misc.c a2tun without a remote part: the device number, TUNID_ANY, or None (error)."""
    if _bytes(text).lower() == b'any':
        return TUNID_ANY
    return strtonum(text, 0, TUNID_MAX)


def a2port(text):
    """misc.c a2port: a port number (0..65535) or a TCP service name; None when neither."""
    port = strtonum(text, 0, 65535)
    if port is not None:
        return port
    try:
        name = _bytes(text).decode('ascii')
        if not name or '\0' in name:
            return None
        return socket.getservbyname(name, 'tcp')
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def hpdelim2(text):
    """misc.c hpdelim2: (host, rest after the ':' or '/', or None when there is none);
    raises OptionsError for a bad ``[...]`` host."""
    if text.startswith('['):
        close = text.find(']')
        if close == -1:
            raise OptionsError('invalid permission hostname')
        end = close + 1
    else:
        match = re.search('[:/]', text)
        end = match.start() if match else len(text)
    if end >= len(text):
        return text, None
    if text[end] not in ':/':
        raise OptionsError('invalid permission hostname')
    return text[:end], text[end + 1:]


def check_permit(value, allow_bare_port):
    """auth-options.c handle_permit: ``host:port`` (``port`` a number 1..65535, a
    service name or ``*``); permitlisten also takes a bare port."""
    if allow_bare_port and ':' not in value:
        value = '*:' + value
    host, port = hpdelim2(value)
    if len(_bytes(host)) >= NI_MAXHOST:
        raise OptionsError('invalid permission hostname')
    if port is None or (port != '*' and (a2port(port) or 0) <= 0):
        raise OptionsError('invalid permission port')


# ---------------------------------------------------------------------------
# expiry-time (parse_absolute_time with glibc strptime)

def _strptime_number(data, pos, low, high, width):
    while pos < len(data) and data[pos] in b' \t\n\v\f\r':
        pos += 1
    if pos >= len(data) or not data[pos:pos + 1].isdigit():
        return None, pos
    value = 0
    count = width
    while True:
        value = value * 10 + int(data[pos:pos + 1])
        pos += 1
        count -= 1
        if not (count > 0 and value * 10 <= high and pos < len(data) and data[pos:pos + 1].isdigit()):
            break
    if value < low or value > high:
        return None, pos
    return value, pos


def parse_absolute_time(text):
    """misc.c parse_absolute_time: seconds since the epoch, or 0 where sshd refuses.

    ``YYYYMMDD``, ``YYYYMMDDHHMM`` or ``YYYYMMDDHHMMSS``, optionally followed by
    ``Z`` or ``UTC`` (any case) for UTC; otherwise local time.
    """
    data = _bytes(text)
    is_utc = False
    length = len(data)
    if length > 1 and data[-1:].lower() == b'z':
        is_utc, length = True, length - 1
    elif length > 3 and data[-3:].lower() == b'utc':
        is_utc, length = True, length - 3
    if length not in (8, 12, 14):
        return 0
    pieces = [data[0:4], data[4:6], data[6:8]]
    if length >= 12:
        pieces += [data[8:10], data[10:12]]
    if length == 14:
        pieces.append(data[12:14])
    limits = [(0, 9999, 4), (1, 12, 2), (1, 31, 2), (0, 23, 2), (0, 59, 2), (0, 61, 2)]
    values = []
    for piece, (low, high, width) in zip(pieces, limits):
        # each field is matched alone: strptime must consume exactly the piece
        value, pos = _strptime_number(piece, 0, low, high, width)
        if value is None or pos != len(piece):
            return 0
        values.append(value)
    values += [0] * (6 - len(values))
    year, month, day, hour, minute, second = values
    try:
        if is_utc:
            # timegm normalises days past the month's end like the C one
            seconds = calendar.timegm((year, month, 1, hour, minute, second, 0, 0, 0)) + (day - 1) * 86400
        else:
            seconds = int(time.mktime((year, month, day, hour, minute, second, 0, 0, 0)))
    except (OverflowError, ValueError):
        return 0
    return seconds if seconds > 0 else 0


# ---------------------------------------------------------------------------
# from= (match_host_and_ip)

# Patterns and addresses already read, by text (an audit asks about the same
# from= lists for every client context); bounded, emptied when full.
_CACHE_MAX = 16384
_CACHED_LIST_CHARS = 4096
_PATTERNS = {}
_ADDRESSES = {}
_VERDICTS = {}


def match_pattern(string, pattern):
    """match.c match_pattern: ``*`` and ``?`` wildcards, the whole string."""
    if '*' not in pattern and '?' not in pattern:
        return string == pattern
    regex = _PATTERNS.get(pattern)
    if regex is None:
        regex = re.compile('(?s)' + ''.join('.*' if c == '*' else '.' if c == '?' else re.escape(c)
                                            for c in pattern) + r'\Z')
        if len(_PATTERNS) >= _CACHE_MAX:
            _PATTERNS.clear()
        _PATTERNS[pattern] = regex
    return regex.match(string) is not None


def _addr_pton(text):
    """addrmatch.c addr_pton: (family, address int, scope) or None."""
    try:
        return _ADDRESSES[text]
    except (KeyError, TypeError):
        pass
    found = _addr_pton_uncached(text)
    if isinstance(text, str):
        if len(_ADDRESSES) >= _CACHE_MAX:
            _ADDRESSES.clear()
        _ADDRESSES[text] = found
    return found


# a dotted quad of plain decimal parts (no leading zero: inet_aton reads 010 as octal)
_PLAIN_QUAD = re.compile(r'(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\Z')


def _addr_pton_uncached(text):
    if not text or '\0' in text:
        return None
    quad = _PLAIN_QUAD.match(text)
    if quad is not None:
        parts = [int(part) for part in quad.groups()]
        if max(parts) <= 255:
            # what getaddrinfo answers for it, without asking it (the audit reads
            # from= lists of thousands of networks)
            return socket.AF_INET, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3], 0
    try:
        infos = socket.getaddrinfo(text, None, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        return None
    if not infos:
        return None
    family, dummy, dummy, dummy, sockaddr = infos[0]
    packed = socket.inet_pton(family, sockaddr[0].split('%', 1)[0])
    scope = sockaddr[3] if family == socket.AF_INET6 else 0
    return family, int(binascii.hexlify(packed), 16), scope


def _bits(family):
    return 32 if family == socket.AF_INET else 128


def _addr_pton_cidr(text):
    """addrmatch.c addr_pton_cidr: ((family, int, scope), masklen), -1 (not an
    address) or -2 (inconsistent mask)."""
    key = ('cidr', text)
    try:
        return _ADDRESSES[key]
    except KeyError:
        pass
    found = _addr_pton_cidr_uncached(text)
    if len(_ADDRESSES) >= _CACHE_MAX:
        _ADDRESSES.clear()
    _ADDRESSES[key] = found
    return found


def _addr_pton_cidr_uncached(text):
    raw = _bytes(text)
    if len(raw) >= 64:
        return -1
    masklen = None
    if '/' in text:
        text, mask = text.split('/', 1)
        match = re.match(r'[0-9]+\Z', mask)
        if not mask or not mask[:1].isdigit() or match is None or int(mask) > 128:
            return -1
        masklen = int(mask)
    addr = _addr_pton(text)
    if addr is None:
        return -1
    bits = _bits(addr[0])
    if masklen is None:
        masklen = bits
    if masklen > bits:
        return -2
    if addr[1] & ((1 << (bits - masklen)) - 1):
        return -2
    return addr, masklen


def address_in_cidr(text):
    """An address (text, as ``inet_ntop`` writes it) that the address or network
    ``text`` covers, read as sshd reads a ``from=``/``Match Address`` element
    (``addr_pton_cidr``: ``127.1``, ``2130706433`` and ``0x7f.0.0.1`` are
    127.0.0.1); None when sshd does not read it as one."""
    parsed = _addr_pton_cidr(text)
    if not isinstance(parsed, tuple):
        return None
    (family, number, dummy), masklen = parsed
    bits = _bits(family)
    if masklen < bits - 1:
        number |= 1  # a host inside the network, not the network address itself
    packed = binascii.unhexlify('%0*x' % (bits // 4, number))
    return socket.inet_ntop(family, packed)


def addr_match_list(addr, patterns):
    """addrmatch.c addr_match_list: 1 match, 0 none, -1 negated match, -2 invalid."""
    try_addr = _addr_pton(addr) if addr is not None else None
    if addr is not None and try_addr is None:
        return 0
    ret = 0
    for element in patterns.split(','):
        negated = element.startswith('!')
        if negated:
            element = element[1:]
        if element == '':
            return -2
        parsed = _addr_pton_cidr(element)
        if parsed == -2:
            return -2
        if parsed == -1:
            found = addr is not None and match_pattern(addr, element)
        else:
            (family, number, scope), masklen = parsed
            bits = _bits(family)
            found = (try_addr is not None and try_addr[0] == family and try_addr[2] == scope
                     and (try_addr[1] >> (bits - masklen)) == (number >> (bits - masklen)))
        if found:
            if negated:
                return -1
            ret = 1
    return ret


def match_pattern_list(string, patterns, dolower=True):
    """match.c match_pattern_list (``dolower``: lower-casing the patterns): 1, 0 or -1 (negated)."""
    got_positive = 0
    raw = _bytes(patterns)
    index = 0
    while index < len(raw):
        negated = raw[index:index + 1] == b'!'
        if negated:
            index += 1
        end = raw.find(b',', index)
        if end == -1:
            end = len(raw)
        sub = raw[index:end]
        if len(sub) >= 1023:
            return 0
        index = end + 1 if end < len(raw) else end
        if match_pattern(string, _text(sub.lower() if dolower else sub)):
            if negated:
                return -1
            got_positive = 1
    return got_positive


def match_host_and_ip(host, ipaddr, patterns):
    """match.c match_host_and_ip: 1 allowed, 0 not, -1 invalid patterns."""
    # an audit asks about the same from= list for every client context, and
    # many lines share one list: answered once (short lists: the cache holds them)
    key = ('from', host, ipaddr, patterns)
    if len(patterns) <= _CACHED_LIST_CHARS:
        try:
            return _VERDICTS[key]
        except KeyError:
            pass
    found = _match_host_and_ip(host, ipaddr, patterns)
    if len(patterns) <= _CACHED_LIST_CHARS:
        if len(_VERDICTS) >= _CACHE_MAX:
            _VERDICTS.clear()
        _VERDICTS[key] = found
    return found


def _match_host_and_ip(host, ipaddr, patterns):
    mip = addr_match_list(ipaddr, patterns)
    if mip == -2:
        return -1
    if host is None or ipaddr is None or mip == -1:
        return 0
    mhost = match_pattern_list(host.lower(), patterns)
    if mhost == -1:
        return 0
    if mhost == 0 and mip == 0:
        return 0
    return 1


def from_is_invalid(patterns):
    """Whether some element of a ``from=`` list makes sshd call it invalid criteria
    (an empty element or a network whose mask does not fit the address)."""
    for element in patterns.split(','):
        if element.startswith('!'):
            element = element[1:]
        if element == '' or _addr_pton_cidr(element) == -2:
            return True
    return False


# ---------------------------------------------------------------------------
# A line and a login

def refusal(opts, remote_ip=None, now=None, plain_key=True):
    """Why sshd refuses a login through a line with these options (auth_authorise_keyopts),
    or None.

    ``plain_key``: the login is with the key itself (not a certificate it
    signed), which a ``cert-authority`` line never allows. Without
    ``remote_ip`` only what refuses every client is checked; ``from=`` is then
    refused only when it is invalid.
    """
    if opts.cert_authority and plain_key:
        return 'cert-authority: the line authorizes certificates signed by the key, not the key'
    if now is None:
        now = time.time()
    if opts.valid_before and opts.valid_before < now:
        return 'expiry-time is in the past'
    if opts.principals is not None and not opts.cert_authority:
        return 'principals= is only allowed with cert-authority'
    if opts.principals is not None and not principal_names(opts.principals):
        return ('principals= names no principal (sshd reads the list up to its first empty name): '
                'no certificate matches')
    if opts.from_patterns is not None:
        if remote_ip is None:
            if from_is_invalid(opts.from_patterns):
                return 'from= holds an invalid criterion'
        elif match_host_and_ip(remote_ip, remote_ip, opts.from_patterns) != 1:
            return 'from= does not allow %s' % remote_ip
    return None


MAX_PROP = 40  # match.c: the names of a list match_list compares


def principal_names(value):
    """The names of a ``principals=`` list that sshd compares (match.c ``match_list``):
    the names before the first empty one, at most ``MAX_PROP``."""
    names = []
    for name in value.split(','):
        if name == '' or len(names) >= MAX_PROP:
            break
        names.append(name)
    return names


CERTIFICATE_LINE = ('a certificate written in authorized_keys authorizes nothing: sshd compares it neither '
                    'with a login key nor with the CA key of a certificate')


def line_refusal(line, remote_ip=None, now=None):
    """Why sshd refuses every login a key line (:class:`Line`) is meant for, or None.

    A plain line is meant for its key, a ``cert-authority`` line for the
    certificates its key signed (``auth_check_authkey_line``): bad options, a
    certificate written as the line's key (its type never equals a login key's
    nor a CA key's), and :func:`refusal`'s reasons.
    """
    if line.kind != 'key':
        return 'not a key line'
    if line.options is None:
        return 'bad key options: %s' % line.options_error
    if line.key.cert:
        return CERTIFICATE_LINE
    return refusal(line.options, remote_ip, now, plain_key=not line.options.cert_authority)


# PubkeyAcceptedAlgorithms names a client logs in with: any certificate
# algorithm through a cert-authority line (a CA signs keys of every type).
CERTIFICATE_ALGORITHMS = tuple(sorted(name for name, info in KEY_NAMES.items() if info[1]))


def type_algorithms(type_name):
    """The algorithm names a key (or certificate) of the wire type ``type_name`` is
    used with: the RSA signature names for RSA, else the type itself."""
    info = KEY_NAMES.get(type_name)
    if info is None:
        return (type_name,)
    return tuple(sorted(name for name, other in KEY_NAMES.items()
                        if other == info and not name.startswith('webauthn-')))


def key_algorithms(key):
    """The algorithm names a plain key is used with (login with the key, or a
    certificate signature by it as a CA)."""
    return type_algorithms(wire_name(key.kind, key.curve))


def algorithm_allowed(name, patterns):
    """``match_pattern_list(name, patterns, 0) == 1`` as auth2-pubkey.c asks it;
    ``patterns`` a list or a comma-separated string."""
    if not isinstance(patterns, str):
        patterns = ','.join(patterns)
    return match_pattern_list(name, patterns, dolower=False) == 1


def settings_refusals(line, accepted_algorithms=None, ca_signature_algorithms=None, required_rsa_size=0):
    """Why sshd's settings refuse every login a key line is meant for: a list of reasons.

    ``accepted_algorithms`` (``PubkeyAcceptedAlgorithms``) and
    ``ca_signature_algorithms`` (``CASignatureAlgorithms``): lists of patterns,
    None when not known (not checked). A plain key line needs one of the key's
    algorithms accepted and an RSA key of at least ``required_rsa_size`` bits;
    a ``cert-authority`` line needs a certificate algorithm accepted and a
    signature algorithm of its key allowed for CAs (``RequiredRSASize`` is
    checked on the certified key, not on the CA: auth2-pubkey.c).
    """
    reasons = []
    if line.kind != 'key' or line.key.cert:
        return reasons
    key = line.key
    if line.options is not None and line.options.cert_authority:
        if accepted_algorithms is not None and not any(
                algorithm_allowed(name, accepted_algorithms) for name in CERTIFICATE_ALGORITHMS):
            reasons.append('no certificate algorithm (*-cert-v01@openssh.com) is in PubkeyAcceptedAlgorithms')
        if ca_signature_algorithms is not None and not any(
                algorithm_allowed(name, ca_signature_algorithms) for name in key_algorithms(key)):
            reasons.append('CASignatureAlgorithms allows no signature by a %s CA key' % key.wire_type)
        return reasons
    if accepted_algorithms is not None and not any(
            algorithm_allowed(name, accepted_algorithms) for name in key_algorithms(key)):
        reasons.append('key type %s is not in PubkeyAcceptedAlgorithms' % key.wire_type)
    if key.kind == RSA and required_rsa_size and key.bits < required_rsa_size:
        reasons.append('RSA key of %d bits is below RequiredRSASize %d' % (key.bits, required_rsa_size))
    return reasons


def line_expiry(line):
    """(seconds since the epoch, the ``expiry-time`` value giving it) of a key line:
    the earliest, as sshd keeps it; (0, None) when there is none."""
    if line.kind != 'key' or line.options is None or not line.options.valid_before:
        return 0, None
    for name, value in line.options.items:
        if name.lower() == 'expiry-time' and parse_absolute_time(value) == line.options.valid_before:
            return line.options.valid_before, value
    return line.options.valid_before, None


def from_is_client_dependent(opts):
    """A valid ``from=``: whether sshd lets a login in depends on the client's address."""
    return opts is not None and opts.from_patterns is not None and not from_is_invalid(opts.from_patterns)


class Line:
    """One line as sshd reads it (``auth_check_authkey_line`` without the login key).

    ``kind``: blank, comment, key or invalid. For a key line: ``key``
    (:class:`SshdKey`), ``type_name`` as written, ``comment``, ``options_text``,
    ``options`` (:class:`Options`, None when sshd refuses them) and ``options_error``.
    """

    __slots__ = ('kind', 'key', 'type_name', 'comment', 'options_text', 'options', 'options_error', 'cert_authority')

    def __init__(self, raw):
        text = raw.split('\0', 1)[0]
        self.kind = 'invalid'
        self.key = None
        self.type_name = None
        self.comment = ''
        self.options_text = ''
        # shared by every line without options (never changed once made)
        self.options = _NO_OPTIONS
        self.options_error = None
        # a cert-authority line authorizes certificates, a plain line its key:
        # two kinds of line (also when sshd refuses the options after the flag)
        self.cert_authority = False
        text = text.lstrip(_BLANK)
        if text == '' or text == '\r' or text.startswith('#'):
            self.kind = 'comment' if text.startswith('#') else 'blank'
            return
        found = read_key(text)
        if found is None:
            end = advance_past_options(text)
            if end is None:
                return
            found = read_key(_skip_blank_text(text[end:]))
            if found is None:
                return
            self.options_text = text[:end]
            try:
                self.options = parse_options(self.options_text)
                self.cert_authority = self.options.cert_authority
            except OptionsError as exc:
                self.options = None
                self.options_error = exc.reason
                self.cert_authority = exc.partial is not None and exc.partial.cert_authority
        self.kind = 'key'
        self.key, self.type_name, self.comment = found

    def authorizes_certificate(self, ca_material, principals, user, remote_ip, now=None):
        """Whether sshd lets a certificate signed by the CA key with ``ca_material``
        and naming ``principals`` log in as ``user`` from ``remote_ip`` through this
        line (``auth_check_authkey_line``: a cert-authority line, its options, then
        its ``principals=`` list or else the user's name among the certificate's
        principals). The certificate's own validity and options are not judged."""
        if self.kind != 'key' or self.options is None or self.key.cert or not self.options.cert_authority:
            return False
        if self.key.material != ca_material:
            return False
        if refusal(self.options, remote_ip, now, plain_key=False) is not None:
            return False
        if self.options.principals is not None:
            names = principal_names(self.options.principals)
            return any(principal in names for principal in principals)
        return user in principals

    def authorizes(self, material, remote_ip, now=None):
        """Whether sshd lets the plain key with ``material`` log in from ``remote_ip``."""
        if self.kind != 'key' or self.options is None or self.key.cert:
            return False
        if self.key.material != material:
            return False
        return refusal(self.options, remote_ip, now) is None


_NO_OPTIONS = Options()


def _skip_blank_text(text):
    return text.lstrip(_BLANK)
