# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.keysmith.accounts.plugins.filter.ssh_fingerprint import ssh_fingerprint


def test_fingerprint_as_ssh_keygen(tmp_path):
    path = str(tmp_path / 'k')
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'c', '-f', path])
    line = open(path + '.pub').read().strip()
    expected = subprocess.check_output(['ssh-keygen', '-l', '-E', 'sha256', '-f', path + '.pub']).split()[1].decode()
    assert ssh_fingerprint(line) == expected
    assert ssh_fingerprint('from="10.0.0.1",restrict ' + line) == expected


def test_not_a_key():
    with pytest.raises(AnsibleFilterError):
        ssh_fingerprint('ssh-ed25519 nonsense')
    with pytest.raises(AnsibleFilterError):
        ssh_fingerprint(None)
