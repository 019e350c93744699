# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""provision's ``principals`` items: ssh_principals for many accounts, planned
with the other items (check mode = real run), absent when not given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def test_principals_items(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    (tmp_path / 'etc').mkdir(mode=0o755)
    pattern = str(tmp_path / 'etc' / 'principals' / '%u')
    entry = {'name': 'root', 'home': str(tmp_path / 'home'), 'principals': ['dev', 'ops'],
             'principals_file': pattern, 'principals_exclusive': True}
    plan, checked = run_op(Provision([entry]), check_mode=True)
    assert checked['changed'] and not (tmp_path / 'etc' / 'principals').exists()
    plan, done = run_op(Provision([entry]))
    assert done['changed'] and (tmp_path / 'etc' / 'principals' / 'root').read_text() == 'dev\nops\n'
    assert [item['kind'] for item in done['accounts'][0]['items']] == ['principals']
    assert done['actions'] == checked['actions']
    plan, again = run_op(Provision([dict(entry, principals=['ops'])]))
    assert again['changed'] and (tmp_path / 'etc' / 'principals' / 'root').read_text() == 'ops\n'
    plan, none = run_op(Provision([{'name': 'root', 'home': str(tmp_path / 'home')}]))
    assert not none['changed']
