# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's Python requirements are ranges (an execution environment
shares them with other collections); exact pins live only in the test
constraints, which pin every requirement."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
NAME = re.compile(r'^([A-Za-z0-9._-]+)')


def requirements(name):
    with open(os.path.join(ROOT, name)) as stream:
        lines = [line.split('#', 1)[0].strip() for line in stream]
    return [line for line in lines if line and not line.startswith('-')]


def test_shipped_requirements_are_ranges():
    for line in requirements('requirements.txt'):
        assert '==' not in line and '===' not in line, line
        assert re.search(r'>=\s*\d', line), 'give a lower bound: %s' % line


def test_test_requirements_have_no_exact_pins():
    for line in requirements('requirements-test.txt'):
        assert '==' not in line, line
    with open(os.path.join(ROOT, 'requirements-test.txt')) as stream:
        assert '-c tests/constraints.txt' in stream.read()


def test_constraints_pin_every_requirement():
    pinned = {}
    for line in requirements('tests/constraints.txt'):
        name, _sep, version = line.partition('==')
        assert version, 'constraints are exact pins: %s' % line
        pinned[name.strip().lower()] = version
    for name in ('requirements.txt', 'requirements-test.txt'):
        for line in requirements(name):
            assert NAME.match(line).group(1).lower() in pinned, line
