# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text as sshd's C code sees it: UTF-8 (surrogateescape) bytes, C-locale white space."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules import c_text


def test_c_space_is_isspace_of_the_c_locale():
    assert set(sshd_rules.C_SPACE) == set(' \t\n\v\f\r')
    assert sshd_rules.b64_pton('AA\vAA\f') == b'\0\0\0'


def test_lengths_are_utf8_bytes():
    # match_pattern_list gives up on a pattern of 1023 bytes or more: 600 e-acute are 1200 bytes
    assert len(c_text._bytes(u'\xe9' * 600)) == 1200
    assert sshd_rules.match_pattern_list(u'\xe9' * 600, u'\xe9' * 600) == 0
    assert sshd_rules.match_pattern_list(u'\xe9' * 300, u'\xe9' * 300) == 1


def test_undecodable_bytes_round_trip():
    # a name with bytes that are not UTF-8 (from /etc/passwd) matches its own pattern, no other
    name = b'al\xffce'.decode('utf-8', 'surrogateescape')
    assert c_text._text(c_text._bytes(name)) == name
    assert sshd_rules.match_pattern_list(name, name) == 1
    assert sshd_rules.match_pattern_list(b'al\xfece'.decode('utf-8', 'surrogateescape'), name) == 0
    assert c_text._bytes(b'raw') == b'raw'
