# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument spec pieces shared by the modules (documented in doc_fragments/account.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACCOUNT_OPTIONS = dict(
    user=dict(type='str'),
    home=dict(type='path'),
    follow=dict(type='bool', default=False),
)

BACKEND_OPTIONS = dict(
    backend=dict(type='str', default='auto', choices=['auto', 'cryptography', 'ssh-keygen']),
)
