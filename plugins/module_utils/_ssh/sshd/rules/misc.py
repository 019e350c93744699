# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``misc.c`` (``valid_env_name``, ``a2tun``, ``a2port``, ``parse_absolute_time`` with
glibc's ``strptime``) and ``openbsd-compat/strtonum.c``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import socket
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _bytes


TUNID_ANY = 0x7fffffff
TUNID_MAX = 0x7fffffff - 2


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
