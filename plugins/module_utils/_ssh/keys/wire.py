# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSH wire format (RFC 4251 section 5): the reader and the encoders every
SSH model shares (public key blobs, OpenSSH private key containers, PPK).
sshd/rules/sshbuf.py keeps its own buffer: it ports sshbuf's stricter rules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import struct


class WireError(ValueError):
    """Truncated or malformed wire data."""


class Reader:
    """Reads SSH wire format values from bytes."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n, what='data'):
        if n < 0 or self.pos + n > len(self.data):
            raise WireError('truncated %s' % what)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint32(self, what='uint32'):
        return struct.unpack('>I', self.take(4, what))[0]

    def uint64(self, what='uint64'):
        return struct.unpack('>Q', self.take(8, what))[0]

    def string(self, what='string'):
        length = self.uint32(what)
        return self.take(length, what)

    def text(self, what='string'):
        raw = self.string(what)
        try:
            return raw.decode('ascii')
        except UnicodeDecodeError:
            raise WireError('non-ASCII %s' % what)

    def mpint(self, what='mpint'):
        raw = self.string(what)
        return int(binascii.hexlify(raw), 16) if raw else 0


def ssh_string(data):
    """A length-prefixed string (text is encoded as ASCII)."""
    if not isinstance(data, bytes):
        data = data.encode('ascii')
    return struct.pack('>I', len(data)) + data


def uint32(value):
    return struct.pack('>I', value)


def mpint(value):
    """A non-negative integer as an SSH mpint."""
    if value == 0:
        return ssh_string(b'')
    raw = value.to_bytes((value.bit_length() + 8) // 8, 'big')  # room for the sign bit
    if len(raw) > 1 and raw[0] == 0 and not raw[1] & 0x80:
        raw = raw[1:]
    return ssh_string(raw)
