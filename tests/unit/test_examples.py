# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's EXAMPLES is valid YAML; each task of this collection's modules
passes the module's own argument spec (types, choices, required and exclusive
options), public keys in them are real keys, only ansible-core and this
collection are used, and a debug of a registered value does not break check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                 if name.endswith('.py') and name != '__init__.py')
PREFIX = 'keysmith.accounts.'
TASK_KEYWORDS = {'name', 'register', 'become', 'become_user', 'when', 'loop', 'loop_control', 'no_log',
                 'delegate_to', 'run_once', 'check_mode', 'diff', 'vars', 'changed_when', 'failed_when',
                 'ignore_errors', 'tags'}
SPEC_KEYS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class Captured(Exception):
    pass


def module_spec(name):
    """The argument spec (and its rules) main() hands to AnsibleModule."""
    module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.modules.' + name)
    captured = {}

    def fake(**kwargs):
        captured.update(kwargs)
        raise Captured()
    original = module.KeysmithModule
    module.KeysmithModule = fake
    try:
        with pytest.raises(Captured):
            module.main()
    finally:
        module.KeysmithModule = original
    return module, captured


def tasks(module):
    data = yaml.safe_load(module.EXAMPLES)
    assert isinstance(data, list) and data, 'EXAMPLES is a list of tasks'
    return data


def templated(value):
    return isinstance(value, str) and '{{' in value


def untemplated(args):
    """The arguments without templated values (their type is only known at run time)."""
    if isinstance(args, dict):
        return dict((k, untemplated(v)) for k, v in args.items() if not templated(v))
    if isinstance(args, list):
        return [untemplated(v) for v in args if not templated(v)]
    return args


def public_key_texts(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from public_key_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from public_key_texts(item)
    elif isinstance(value, str) and re.match(r'^(ssh-|ecdsa-|sk-)\S+ AAAA', value):
        yield value


def templated_keys(args):
    """Option names (at any depth) whose value is a template."""
    found = set()
    if isinstance(args, dict):
        for key, value in args.items():
            if templated(value):
                found.add(key)
            found |= templated_keys(value)
    elif isinstance(args, list):
        for item in args:
            found |= templated_keys(item)
    return found


@pytest.mark.parametrize('name', MODULES)
def test_examples_pass_the_argument_spec(name):
    module, _captured = module_spec(name)
    for task in tasks(module):
        action = [key for key in task if key not in TASK_KEYWORDS]
        assert len(action) == 1, 'one action per task: %s' % task.get('name')
        action = action[0]
        assert action.startswith(PREFIX) or action.startswith('ansible.builtin.'), \
            '%s: only ansible-core and this collection (got %s)' % (task.get('name'), action)
        if not action.startswith(PREFIX):
            continue
        _module, captured = module_spec(action[len(PREFIX):])
        spec = captured.pop('argument_spec')
        rules = dict((key, captured[key]) for key in SPEC_KEYS if key in captured)
        args = task[action] or {}
        result = ArgumentSpecValidator(spec, **rules).validate(untemplated(args))
        # an option given by a template is there all the same (its type is known at run time)
        late = templated_keys(args)
        errors = [str(error) for error in result.errors
                  if not any(re.search(r'\b%s\b' % key, str(error)) for key in late)]
        assert not errors, '%s: %s' % (task.get('name'), errors)
        for text in public_key_texts(args):
            for line in text.splitlines():
                PublicKey.from_line(line)   # a real key, not a placeholder


def test_every_csr_example_has_its_key_first():
    """ssl_gencsr fails without the host's key: each example makes it first."""
    module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.modules.ssl_gencsr')
    keys = set()
    for task in tasks(module):
        if PREFIX + 'ssl_genkey' in task:
            keys.add(task[PREFIX + 'ssl_genkey']['host'])
        args = task.get(PREFIX + 'ssl_gencsr')
        if args and args.get('state', 'present') == 'present' and 'key_path' not in args:
            assert args['host'] in keys, '%s: no ssl_genkey task for %s before it' % (task.get('name'), args['host'])


def not_always_returned(name):
    """The return values of a module that are not returned on every run."""
    module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.modules.' + name)
    returns = yaml.safe_load(module.RETURN)
    return set(key for key, doc in returns.items() if doc.get('returned') != 'always')


@pytest.mark.parametrize('name', MODULES)
def test_debug_of_registered_values_survives_check_mode(name):
    """In check mode a module does not return every value (the CSR or the key
    of a file it would create); a debug of one needs a default or a when."""
    module, _captured = module_spec(name)
    registered = {}
    for task in tasks(module):
        action = [key for key in task if key not in TASK_KEYWORDS][0]
        if 'register' in task and action.startswith(PREFIX):
            registered[task['register']] = not_always_returned(action[len(PREFIX):])
        debug = task.get('ansible.builtin.debug')
        if not debug:
            continue
        text = str(debug.get('msg', debug.get('var', '')))
        for var, sometimes in registered.items():
            for field, rest in re.findall(r'\b%s\.(\w+)([^}]*)' % re.escape(var), text):
                if field in sometimes:
                    assert 'default' in rest or task.get('when'), \
                        '%s: %s.%s is not always returned; give a default (or a when) for check mode' % (
                            task.get('name'), var, field)
