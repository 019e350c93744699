# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``from=`` addresses and patterns as sshd matches them (``addrmatch.c``, ``match.c``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules


@pytest.mark.parametrize('patterns, expected', [
    ('127.0.0.1', 1), ('127.0.0.0/8', 1), ('127.*', 1), ('127.1', 1), ('2130706433', 1),
    ('10.0.0.1,127.0.0.1', 1), ('!10.0.0.1,127.0.0.1', 1), ('::1,127.0.0.1', 1),
    ('10.0.0.0/8', 0), ('localhost', 0), ('!127.0.0.1', 0), ('127.0.0.1,!127.0.0.1', 0), ('::1', 0),
    ('127.0.0.1/8', -1), ('', -1), ('127.0.0.1,', -1), ('127.0.0.1/33', -1),
])
def test_from_matching(patterns, expected):
    assert sshd_rules.match_host_and_ip('127.0.0.1', '127.0.0.1', patterns) == expected


@pytest.mark.parametrize('element, address', [
    ('127.1', '127.0.0.1'), ('2130706433', '127.0.0.1'), ('0x7f.0.0.1', '127.0.0.1'),
    ('10.0.0.0/8', '10.0.0.1'), ('192.0.2.7/32', '192.0.2.7'), ('fe80::/64', 'fe80::1'),
    ('10.0.0.1/8', None), ('*', None), ('host.example.com', None),
])
def test_address_in_cidr_reads_elements_as_sshd(element, address):
    # an address the element covers, read as sshd's addr_pton_cidr reads it (inet_aton forms too)
    assert sshd_rules.address_in_cidr(element) == address
    if address is not None:
        assert sshd_rules.addr_match_list(address, element) == 1
