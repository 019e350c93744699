# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builders of SSH wire blobs for tests that re-encode a key (the same key written otherwise)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import struct


def ssh_string(data):
    """An SSH ``string``: a 4-byte length and the bytes (text as latin-1)."""
    if not isinstance(data, bytes):
        data = data.encode('latin-1')
    return struct.pack('>I', len(data)) + data


def fields(blob):
    """The ``string`` fields of a blob, in order."""
    out = []
    pos = 0
    while pos < len(blob):
        length = struct.unpack('>I', blob[pos:pos + 4])[0]
        out.append(blob[pos + 4:pos + 4 + length])
        pos += 4 + length
    return out


def b64(data):
    return base64.b64encode(data).decode('ascii')
