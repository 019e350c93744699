# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys and certificates made once by ssh-keygen for the certificate rule tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest


def _keygen(path, key_type):
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', '', '-f', str(path)]
    if key_type == 'rsa':
        args[4:4] = ['-b', '2048']
    subprocess.run(args, check=True)


@pytest.fixture(scope='package')
def cert_keys(tmp_path_factory):
    """{name: path}: CAs (ed25519, rsa), a user key, a user and a host certificate of it."""
    directory = tmp_path_factory.mktemp('certkeys')
    for name, key_type in (('ca', 'ed25519'), ('ca_rsa', 'rsa'), ('user', 'ed25519')):
        _keygen(directory / name, key_type)
    user = str(directory / 'user.pub')
    subprocess.run(['ssh-keygen', '-q', '-s', str(directory / 'ca'), '-I', 'alice', '-n', 'alice,deploy',
                    '-z', '7', '-V', '0x10:0x20', user], check=True)
    (directory / 'user-cert.pub').rename(directory / 'user-cert-user.pub')
    subprocess.run(['ssh-keygen', '-q', '-s', str(directory / 'ca'), '-h', '-I', 'host', '-n', 'h.example',
                    user], check=True)
    (directory / 'user-cert.pub').rename(directory / 'user-cert-host.pub')
    return directory
