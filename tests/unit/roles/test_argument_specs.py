# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The account, ssh_account and ssl_account roles take the same list of account
items: their argument specs must describe it identically, and its fields must
match what the provision module takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.keysmith.accounts.plugins.modules import provision

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

ROLES = ('account', 'ssh_account', 'ssl_account')


def load_specs(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as stream:
        return yaml.safe_load(stream)['argument_specs']


def users_options(role, entry_point):
    return load_specs(role)[entry_point]['options']['%s_users' % role]


@pytest.mark.parametrize('role, entry_point', [
    ('ssh_account', 'main'), ('ssh_account', 'accounts'),
    ('ssl_account', 'main'), ('ssl_account', 'accounts'),
])
def test_users_spec_is_the_same_in_every_role(role, entry_point):
    assert users_options(role, entry_point) == users_options('account', 'main')


@pytest.mark.parametrize('role', ROLES)
def test_every_tasks_file_is_an_entry_point(role):
    tasks = os.listdir(os.path.join(ROOT, 'roles', role, 'tasks'))
    entry_points = set(load_specs(role))
    assert {name.rsplit('.', 1)[0] for name in tasks} == entry_points


@pytest.mark.parametrize('role', ROLES)
def test_defaults_match_the_spec(role):
    with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml')) as stream:
        defaults = yaml.safe_load(stream)
    options = load_specs(role)['main']['options']
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get('default') == value, name


def test_fields_match_the_provision_module():
    item = users_options('account', 'main')['options']
    module_item = provision.ACCOUNT_ITEM_OPTIONS
    for field in ('name', 'home', 'authorized_keys_exclusive'):
        assert item[field]['type'] == module_item[field]['type'], field
    for field in ('ssh_keys', 'authorized_keys', 'ssl'):
        # a role's argument spec cannot declare aliases: the module's aliases of a key's size and type
        # (their former names) are options of their own there, handed to provision as given
        aliases = dict((alias, sub) for sub, spec in module_item[field]['options'].items()
                       if sub in ('size', 'type') for alias in spec.get('aliases') or [])
        assert set(item[field]['options']) == set(module_item[field]['options']) | set(aliases), field
        for sub, spec in module_item[field]['options'].items():
            mine = item[field]['options'][sub]
            assert mine['type'] == spec['type'], (field, sub)
            assert mine.get('choices') == spec.get('choices'), (field, sub)
            assert mine.get('default') == spec.get('default'), (field, sub)
            assert mine.get('required', False) == spec.get('required', False), (field, sub)
        for alias, sub in aliases.items():
            mine, spec = item[field]['options'][alias], module_item[field]['options'][sub]
            assert (mine['type'], mine.get('choices')) == (spec['type'], spec.get('choices')), (field, alias)
            assert 'default' not in mine and 'C(%s)' % sub in mine['description'], (field, alias)


@pytest.mark.parametrize('role', ('access_report', 'key_rotation'))
def test_defaults_match_the_spec_of_the_access_roles(role):
    test_defaults_match_the_spec(role)
    test_every_tasks_file_is_an_entry_point(role)
    options = load_specs(role)['main']['options']
    # the collection's role variable convention: prefixed with the role name
    assert all(name.startswith(role + '_') for name in options)
