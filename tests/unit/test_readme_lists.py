# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README is a newcomer's first page: it names every module and role the
collection ships, each with a link to its page that exists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                 if not os.path.basename(path).startswith('_'))
ROLES = sorted(os.path.basename(path) for path in glob.glob(os.path.join(ROOT, 'roles', '*'))
               if os.path.isdir(path))


def readme():
    with open(os.path.join(ROOT, 'README.md')) as handle:
        return handle.read()


def test_there_is_something_to_check():
    assert 'ssh_authkey' in MODULES and 'sshd_trust' in MODULES and 'account' in ROLES


@pytest.mark.parametrize('name', MODULES)
def test_the_readme_lists_every_module_with_its_page(name):
    row = '| [`%s`](docs/modules/%s.md) |' % (name, name)
    assert row in readme(), 'README.md has no row for the module %s' % name
    assert os.path.isfile(os.path.join(ROOT, 'docs', 'modules', name + '.md'))


@pytest.mark.parametrize('name', ROLES)
def test_the_readme_names_every_role_with_its_page(name):
    assert re.search(r'\[`%s`\]\(docs/roles/%s\.md\)' % (name, name), readme()), \
        'README.md does not name the role %s' % name
    assert os.path.isfile(os.path.join(ROOT, 'docs', 'roles', name + '.md'))
