# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A key's type and size have one name everywhere (``type`` and ``size``), in
every module, provision's items, the roles' argument specs and the docs; the
former names (``bits``, and in an ``ssl`` item ``key_type``/``key_size``) are
aliases that still work."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keysmith.accounts.plugins.modules import provision
from ansible_collections.keysmith.accounts.tests.unit.test_examples import module_spec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

# (where, the options holding a key's type and size, the aliases each must keep)
SIZE = ('size', ['bits'])
SSL_SIZE = ('size', ['key_size', 'bits'])
SSL_TYPE = ('type', ['key_type'])


def documented(module_name):
    module = __import__('ansible_collections.keysmith.accounts.plugins.modules.' + module_name,
                        fromlist=['DOCUMENTATION'])
    return yaml.safe_load(module.DOCUMENTATION)['options']


def assert_named(options, canonical, aliases, where):
    assert canonical in options, '%s: no option %s' % (where, canonical)
    assert sorted(options[canonical].get('aliases') or []) == sorted(aliases), where
    for alias in aliases:
        assert alias not in options, '%s: %s is an option of its own, not an alias of %s' % (where, alias, canonical)


@pytest.mark.parametrize('module_name', ['ssh_genkey', 'ssl_genkey', 'keypair'])
def test_modules_name_a_keys_size_size(module_name):
    dummy, captured = module_spec(module_name)
    assert_named(captured['argument_spec'], *SIZE, where=module_name)
    assert_named(documented(module_name), *SIZE, where=module_name + ' DOCUMENTATION')
    assert 'type' in captured['argument_spec']


def test_provision_items_name_a_keys_size_and_type_as_the_modules():
    items = provision.ACCOUNT_ITEM_OPTIONS
    assert_named(items['ssh_keys']['options'], *SIZE, where='ssh_keys')
    assert_named(items['ssl']['options'], *SSL_SIZE, where='ssl')
    assert_named(items['ssl']['options'], *SSL_TYPE, where='ssl')
    docs = documented('provision')['accounts']['suboptions']
    assert_named(docs['ssh_keys']['suboptions'], *SIZE, where='provision DOCUMENTATION ssh_keys')
    assert_named(docs['ssl']['suboptions'], *SSL_SIZE, where='provision DOCUMENTATION ssl')
    assert_named(docs['ssl']['suboptions'], *SSL_TYPE, where='provision DOCUMENTATION ssl')


def test_the_former_names_still_work():
    dummy, captured = module_spec('provision')
    accounts = [{'name': 'alice', 'ssh_keys': [{'name': 'id_rsa', 'type': 'rsa', 'bits': 3072}],
                 'ssl': [{'host': 'www.example.com', 'city': 'Houston', 'company': 'Example', 'country': 'US',
                          'province': 'Texas', 'key_type': 'ecdsa', 'key_size': 384}]}]
    result = ArgumentSpecValidator(captured['argument_spec']).validate({'accounts': accounts})
    assert not result.error_messages, result.error_messages
    account = result.validated_parameters['accounts'][0]
    assert account['ssh_keys'][0]['size'] == 3072
    assert (account['ssl'][0]['type'], account['ssl'][0]['size']) == ('ecdsa', 384)
    # the roles accept them too (and hand them to provision as given)
    with open(os.path.join(ROOT, 'roles', 'account', 'meta', 'argument_specs.yml')) as stream:
        users = yaml.safe_load(stream)['argument_specs']['main']['options']['account_users']
    result = ArgumentSpecValidator({'account_users': users}).validate({'account_users': accounts})
    assert not result.error_messages, result.error_messages
    for module_name in ('ssh_genkey', 'ssl_genkey', 'keypair'):
        dummy, captured = module_spec(module_name)
        result = ArgumentSpecValidator(captured['argument_spec']).validate({'name': 'k', 'host': 'h', 'bits': 384})
        assert result.validated_parameters['size'] == 384, module_name


@pytest.mark.parametrize('role', ['account', 'ssh_account', 'ssl_account'])
def test_roles_name_a_keys_size_and_type_as_provision(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as stream:
        specs = yaml.safe_load(stream)['argument_specs']
    for entry_point, spec in specs.items():
        users = spec['options'].get('%s_users' % role)
        if users is None:
            continue
        item = users['options']
        # a role's argument spec has no aliases: the former names are options of their own, said to be so
        for field, (canonical, aliases) in (('ssh_keys', SIZE), ('ssl', SSL_SIZE), ('ssl', SSL_TYPE)):
            options = item[field]['options']
            assert canonical in options and 'aliases' not in options[canonical], (role, entry_point, field)
            for alias in aliases:
                assert 'C(%s)' % canonical in options[alias]['description'], (role, entry_point, field, alias)


# ``bits: 3072`` or ``{..., bits: 3072}`` as a task's or an item's option (not ``rsa_min_bits``, not a return value)
FORMER = re.compile(r'(^|[{,]\s*)(bits|key_size|key_type):\s', re.M)


def test_docs_playbooks_and_role_readmes_use_the_one_name():
    found = []
    paths = [os.path.join(ROOT, 'README.md'), os.path.join(ROOT, 'extensions', 'molecule', 'default', 'molecule.yml')]
    for top in ('docs', 'playbooks', 'roles'):
        for directory, dummy, files in os.walk(os.path.join(ROOT, top)):
            paths.extend(os.path.join(directory, name) for name in files if name.endswith(('.md', '.yml')))
    for path in paths:
        if os.sep + 'modules' + os.sep in path or path.endswith('argument_specs.yml'):
            continue  # generated from DOCUMENTATION (checked above); return values keep their names
        with open(path) as stream:
            text = stream.read()
        found.extend('%s: %s' % (os.path.relpath(path, ROOT), match.group(0).strip())
                     for match in FORMER.finditer(text))
    assert found == []
    size_line = re.compile(r'^\s+size: "\{\{ key_rotation_size')
    with open(os.path.join(ROOT, 'roles', 'key_rotation', 'tasks', 'main.yml')) as stream:
        assert any(size_line.match(line) for line in stream)
