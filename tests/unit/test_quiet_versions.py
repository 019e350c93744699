# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which ansible-core and cryptography print a DSA CryptographyDeprecationWarning
on every command (ansible-core's own SSH agent code imports DSA names): the
README says it, and the controller this test runs on behaves as the README
says (run on every ansible-core make test covers)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def version(text):
    return tuple(int(part) for part in re.findall(r'\d+', text)[:2])


def pinned(name):
    with open(os.path.join(ROOT, 'tests', 'constraints.txt')) as stream:
        for line in stream:
            if line.startswith(name + '=='):
                return line.split('==', 1)[1].strip()
    raise AssertionError('%s is not pinned in tests/constraints.txt' % name)


def test_readme_names_the_quiet_combination_the_tests_pin():
    with open(os.path.join(ROOT, 'README.md')) as stream:
        readme = ' '.join(stream.read().split())
    assert 'CryptographyDeprecationWarning' in readme
    assert 'ansible-core %s with cryptography %s' % (pinned('ansible-core'), pinned('cryptography')) in readme
    assert "PYTHONWARNINGS='ignore:DSA is deprecated'" in readme


def test_the_controller_warns_exactly_where_the_readme_says():
    probe = ('import ansible.release, sys\n'
             'try:\n    import cryptography; crypto = cryptography.__version__\n'
             'except ImportError:\n    crypto = "0"\n'
             'sys.stdout.write("%s %s" % (ansible.release.__version__, crypto))\n'
             'import ansible.cli\n')
    env = dict(os.environ)
    env.pop('PYTHONWARNINGS', None)
    done = subprocess.run([sys.executable, '-c', probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, check=True, universal_newlines=True)
    core, crypto = done.stdout.split()
    warned = 'DSA is deprecated' in done.stderr
    # the README: ansible-core 2.19 and later with cryptography 51 and later warn; 2.16, or cryptography 50, do not
    assert warned == (version(core) >= (2, 19) and version(crypto) >= (51, 0)), (core, crypto, done.stderr[-500:])
