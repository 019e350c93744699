# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Harness self-check: the collection under test is the placed copy being tested."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils import _errors


def test_collection_imports_from_tree_under_test():
    # The module must come from the same ansible_collections/keysmith/accounts tree
    # as this test file, not from some other installed copy of the collection.
    here = os.path.realpath(os.path.dirname(__file__))
    collection_root = os.path.dirname(os.path.dirname(here))
    module_path = os.path.realpath(_errors.__file__)
    assert module_path.startswith(collection_root + os.sep), (module_path, collection_root)
    assert collection_root.replace(os.sep, '/').endswith('ansible_collections/keysmith/accounts')
