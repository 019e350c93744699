# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``make mutants`` runs a curated list of realistic bugs (tests/mutants/mutations.py).
A mutation whose text no longer occurs once in its file is reported INVALID
there and tests nothing; the code moves under it (it did when backends.py and
provision were reshaped), so the list is checked on every unit run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUTATIONS = runpy.run_path(os.path.join(ROOT, 'tests', 'mutants', 'mutations.py'))['MUTATIONS']


@pytest.mark.parametrize('item', MUTATIONS, ids=['%s: %s' % (m['file'], m['why']) for m in MUTATIONS])
def test_each_mutation_changes_one_place_and_names_existing_tests(item):
    with open(os.path.join(ROOT, 'plugins', 'module_utils', item['file'])) as stream:
        text = stream.read()
    assert text.count(item['find']) == 1
    assert item['replace'] != item['find']
    for test in item['tests']:
        assert os.path.exists(os.path.join(ROOT, test)), test  # a test file or directory
