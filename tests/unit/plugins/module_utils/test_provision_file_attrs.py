# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""provision's authorized_keys items share one file: their owner/group/mode must agree (issue 27)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import file_attrs_of


def test_items_give_the_file_attributes_once_or_alike():
    assert file_attrs_of(None) == {}
    assert file_attrs_of([{'key': 'a'}, {'key': 'b', 'mode': '0644'}, {'key': 'c', 'mode': '0644', 'owner': 'root'}]) \
        == {'mode': '0644', 'owner': 'root'}
    with pytest.raises(InvalidInput, match=r'authorized_keys\[0\] gives mode 0600, authorized_keys\[1\] 0644'):
        file_attrs_of([{'key': 'a', 'mode': '0600'}, {'key': 'b', 'mode': '0644'}])
