# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``openbsd-compat/base64.c``: ``b64_pton``, as ``sshkey_read`` decodes a key's base64."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import re

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _bytes, C_SPACE


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
