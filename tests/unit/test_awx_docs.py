# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/awx.md: the survey names exactly the extra vars of playbooks/awx_ssh_key.yml
with the choices it accepts, and the EE definition is a v3 definition with a base image."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def doc():
    with open(os.path.join(ROOT, 'docs', 'awx.md')) as handle:
        return handle.read()


def survey():
    text = doc()
    start = text.index('<!-- awx-survey-spec -->')
    block = re.search(r'```json\n(.*?)```', text[start:], re.S).group(1)
    return json.loads(block)


def playbook_text():
    with open(os.path.join(ROOT, 'playbooks', 'awx_ssh_key.yml')) as handle:
        return handle.read()


def test_survey_asks_for_every_extra_var_of_the_playbook():
    header_vars = set(re.findall(r'^#   (\w+)\s+(?:text|choice|integer|password)\b', playbook_text(), re.M))
    asked = set(question['variable'] for question in survey()['spec'])
    assert asked == header_vars
    table_vars = set(re.findall(r'^\| `(\w+)` \|', doc(), re.M))
    assert asked <= table_vars


def test_survey_choices_are_what_the_playbook_accepts():
    text = playbook_text()
    for question in survey()['spec']:
        if question['type'] == 'multiplechoice':
            for choice in question['choices']:
                assert "'%s'" % choice in text, (question['variable'], choice)
            assert question['default'] in question['choices']
        if question['variable'] == 'key_passphrase':
            assert question['type'] == 'password'


def test_ee_definition_has_a_base_image():
    text = doc()
    block = re.search(r'```yaml\n(# execution-environment.yml of your EE\n.*?)```', text, re.S).group(1)
    ee = yaml.safe_load(block)
    assert ee['version'] == 3
    assert ee['images']['base_image']['name']
    assert 'ansible-runner:latest' not in ee['images']['base_image']['name']   # the outdated default
    deps = ee['dependencies']
    assert deps['ansible_core']['package_pip'].startswith('ansible-core')
    assert 'ansible_runner' in deps
    assert [c['name'] for c in deps['galaxy']['collections']] == ['keysmith.accounts']


def test_project_playbook_imports_the_collections_playbook():
    text = doc()
    start = text.index('# playbooks/awx_ssh_key.yml of your project')
    block = text[start:text.index('```', start)]
    plays = yaml.safe_load('\n'.join(line[3:] if line.startswith('   ') else line for line in block.splitlines()))
    assert plays[0]['ansible.builtin.import_playbook'] == 'keysmith.accounts.awx_ssh_key'
