# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Public keys of every OpenSSH type, made at test time (no key is committed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import shutil
import subprocess

import pytest

from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils._ssh.wire_blobs import (
    fields as _fields,
    ssh_string as _ssh_string,
)


def _keygen(directory, name, key_type, bits=None):
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', name, '-f', str(directory / name)]
    if bits:
        args[4:4] = ['-b', str(bits)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (directory / (name + '.pub')).read_text().strip()


def _blob(line):
    return base64.b64decode(line.split()[1])


class KeySet:
    """``lines[type]``: a public key line (``type base64 comment``) of each wire type."""

    def __init__(self, directory):
        self.directory = directory
        self.lines = {}
        self._counter = 0

    def make(self, key_type='ed25519', bits=None):
        """A fresh public key line of ``key_type`` (ssh-keygen's -t name)."""
        self._counter += 1
        return _keygen(self.directory, 'extra%d' % self._counter, key_type, bits)


@pytest.fixture(scope='session')
def keyset(tmp_path_factory):
    if not shutil.which('ssh-keygen'):
        pytest.skip('ssh-keygen is not installed')
    directory = tmp_path_factory.mktemp('keys')
    keys = KeySet(directory)
    lines = keys.lines
    lines['ssh-rsa'] = _keygen(directory, 'rsa', 'rsa', 1024)
    try:
        lines['ssh-dss'] = _keygen(directory, 'dsa', 'dsa')
    except subprocess.CalledProcessError:  # OpenSSH built without DSA
        pass
    for bits in (256, 384, 521):
        lines['ecdsa-sha2-nistp%d' % bits] = _keygen(directory, 'ecdsa%d' % bits, 'ecdsa', bits)
    lines['ssh-ed25519'] = _keygen(directory, 'ed25519', 'ed25519')
    # Security key types need a token to be generated; their public keys are
    # the plain key fields plus an application string, built here from the
    # fields of ordinary keys (ssh-keygen reads and signs them like any key).
    ecdsa = _fields(_blob(lines['ecdsa-sha2-nistp256']))
    sk_ecdsa = (_ssh_string('sk-ecdsa-sha2-nistp256@openssh.com') + _ssh_string(ecdsa[1])
                + _ssh_string(ecdsa[2]) + _ssh_string('ssh:'))
    ed = _fields(_blob(lines['ssh-ed25519']))
    sk_ed = _ssh_string('sk-ssh-ed25519@openssh.com') + _ssh_string(ed[1]) + _ssh_string('ssh:')
    for name, key_type, blob in (('skecdsa', 'sk-ecdsa-sha2-nistp256@openssh.com', sk_ecdsa),
                                 ('sked25519', 'sk-ssh-ed25519@openssh.com', sk_ed)):
        line = '%s %s %s' % (key_type, base64.b64encode(blob).decode('ascii'), name)
        (directory / (name + '.pub')).write_text(line + '\n')
        lines[key_type] = line
    # A certificate of every plain type, signed by a throw-away CA.
    _keygen(directory, 'ca', 'ed25519')
    for key_type, line in list(lines.items()):
        name = line.split()[2]
        subprocess.run(['ssh-keygen', '-q', '-s', str(directory / 'ca'), '-I', 'cert-' + name,
                        '-n', 'alice', str(directory / (name + '.pub'))],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cert = (directory / (name + '-cert.pub')).read_text().strip()
        lines[cert.split()[0]] = cert
    return keys


def ssh_keygen_fingerprints(path):
    """SHA256 fingerprints ``ssh-keygen -l`` finds in a file (it reads authorized_keys lines)."""
    out = subprocess.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', str(path)], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    return [line.split()[1] for line in out.splitlines() if line.strip()]


@pytest.fixture(scope='session')
def keygen_fingerprints():
    return ssh_keygen_fingerprints
