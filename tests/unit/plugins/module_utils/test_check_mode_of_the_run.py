# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode is a property of the run: provision (the runner of its items)
is told it by its session, and decides for its items as ``run_operation``
does for a module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Item, Provision


class NeedsAFile(Operation):
    def plan(self):
        plan = Plan('/p')
        missing_prerequisite(NotFound('public key file /k.pub does not exist', path='/k.pub'), plan)
        return plan


def test_a_provision_item_missing_a_file_fails_a_real_run_and_is_assumed_by_check_mode():
    item = Item('authorized_keys', 'authorized_keys (1 key)', NeedsAFile())
    plan = item.make_plan(False)
    assert item.plan is plan and plan.missing and 'check mode assumes' in plan.warnings[0]
    item = Item('authorized_keys', 'authorized_keys (1 key)', NeedsAFile())
    with pytest.raises(NotFound, match='/k.pub does not exist'):
        item.make_plan(True)
    assert item.plan is None


def test_provision_learns_check_mode_from_its_session(tmp_path):
    operation = Provision([{'name': 'nobody-here', 'home': str(tmp_path)}])
    assert not operation.check_mode
    with operation.session(False):
        assert operation.check_mode
    with operation.session(True):
        assert not operation.check_mode
