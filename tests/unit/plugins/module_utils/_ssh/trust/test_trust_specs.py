# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd_trust, ssh_principals and ssh_known_hosts_ca build their AnsibleModule
from ``_specs`` (ArgumentSpec): the defaults and choices spelled out there are
the code's, and every option (name, type, default, choices, required) is the
one the module documents."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.keysmith.accounts.plugins.module_utils import _specs
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust import principals, sshd_dropin

MODULES = {
    'sshd_trust': _specs.SSHD_TRUST,
    'ssh_principals': _specs.module_spec(_specs.SSH_PRINCIPALS, _specs.LOCKING),
    'ssh_known_hosts_ca': _specs.module_spec(_specs.SSH_KNOWN_HOSTS_CA, _specs.LOCKING),
}


def test_spec_defaults_and_choices_are_the_codes():
    options = _specs.SSHD_TRUST.argument_spec
    assert options['path']['default'] == sshd_dropin.DEFAULT_DROPIN
    assert options['reload']['choices'] == list(sshd_dropin.RELOAD_METHODS)
    assert _specs.SSH_PRINCIPALS.argument_spec['path']['default'] == principals.DEFAULT_PATH


@pytest.mark.parametrize('name', sorted(MODULES))
def test_module_options_are_the_documented_ones(name):
    module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.modules.%s' % name)
    module_doc = yaml.safe_load(module.DOCUMENTATION)
    documented = dict(module_doc['options'])
    # and the options of the collection's doc fragments it extends
    for fragment in module_doc.get('extends_documentation_fragment') or ():
        if fragment.startswith('keysmith.accounts.'):
            fragment_module = importlib.import_module('ansible_collections.keysmith.accounts.plugins.doc_fragments.%s'
                                                      % fragment.split('.')[-1])
            documented.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION).get('options') or {})
    spec = MODULES[name].argument_spec
    assert sorted(spec) == sorted(documented)
    for option, entry in spec.items():
        doc = documented[option]
        assert entry['type'] == doc['type'], option
        assert entry.get('default') == doc.get('default'), option
        assert entry.get('choices') == doc.get('choices'), option
        assert bool(entry.get('required')) == bool(doc.get('required')), option
        assert entry.get('elements') == doc.get('elements'), option
