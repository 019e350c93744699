# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``misc.c``'s rules: ``expiry-time`` as sshd reads it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules


def test_expiry_time_forms():
    utc = calendar.timegm((2099, 12, 31, 23, 59, 0, 0, 0, 0))
    assert sshd_rules.parse_absolute_time('209912312359Z') == utc
    assert sshd_rules.parse_absolute_time('209912312359utc') == utc
    # a day past the month's end is normalised like mktime does
    assert sshd_rules.parse_absolute_time('20990230Z') == calendar.timegm((2099, 3, 2, 0, 0, 0, 0, 0, 0))
