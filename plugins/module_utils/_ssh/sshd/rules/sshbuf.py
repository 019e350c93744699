# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``sshbuf.c``/``sshbuf-getput-basic.c``/``sshbuf-getput-crypto.c``: reading a key blob
(strings, C strings, numbers with sshd's limits)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct


MAX_BIGNUM_BYTES = 2048      # SSHBUF_MAX_BIGNUM (16384 bits)
MAX_ECPOINT_BYTES = 133      # SSHBUF_MAX_ECPOINT


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
