# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AnsibleModule stops at the first argument error: the modules name every one
(provision: two bad items are reported in one run, not one run each)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

from ansible_collections.keysmith.accounts.plugins.modules import provision as provision_module

RUNNER = 'import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")'


def run(module, tmp_path, args):
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, '-c', RUNNER, module.__file__, str(args_file)], stdout=subprocess.PIPE,
                          env=env, cwd=str(tmp_path), check=False)
    return json.loads(proc.stdout.decode())


def test_every_argument_error_of_every_item_is_named(tmp_path):
    result = run(provision_module, tmp_path, {'accounts': [
        {'name': 'kpa-nobody', 'ssh_keys': [{'name': 'x', 'path': '/y'}, {'name': 'z', 'type': 'nope'}],
         'authorized_keys': [{'key': 'k', 'account': 'b', 'key_name': 'c'}, {'account': 'b'}]}]})
    msg = result['msg']
    assert result['failed'] and 'and 3 more' in msg, msg
    for words in ('mutually exclusive: name|path', 'got: nope', 'mutually exclusive: key|account',
                  'required together: account, key_name'):
        assert words in msg, (words, msg)


def test_one_argument_error_reads_as_before(tmp_path):
    result = run(provision_module, tmp_path, {'accounts': [{'name': 'kpa-nobody', 'ssh_keys': [{'type': 'rsa'}]}]})
    assert result['failed'] and result['msg'] == 'one of the following is required: name, path found in accounts -> ssh_keys'
