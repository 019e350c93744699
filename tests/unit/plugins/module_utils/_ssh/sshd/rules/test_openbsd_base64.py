# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's base64 decoding (``b64_pton``; tests/parity checks it against sshd itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules


@pytest.mark.parametrize('text, expected', [
    ('AAAA', b'\0\0\0'),
    ('AA\vAA', b'\0\0\0'),
    ('AA\r\nAA\f', b'\0\0\0'),
    ('AAA=', b'\0\0'),
    ('AA==', b'\0'),
    ('AA=\v=', b'\0'),
    ('AA== \t', b'\0'),
    ('AAAA\0garbage', b'\0\0\0'),
    ('', b''),
])
def test_b64_pton_accepts(text, expected):
    assert sshd_rules.b64_pton(text) == expected


@pytest.mark.parametrize('text', [
    'AAA',        # no padding: a partial byte
    'AA=',        # one of two pads
    'AAAA=',      # a pad on a byte boundary
    'A===',
    'AAB=',       # unused bits not zero
    'AB==',
    'AA==AA',     # data after the padding
    'AA-_',       # url-safe alphabet
    'AA\u00e9A',
])
def test_b64_pton_refuses(text):
    assert sshd_rules.b64_pton(text) is None
