# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SIGKILL at each write point of a real module run (issue 10).

The module runs in its own process (``_faults.py`` wraps ``os.rename`` /
``os.write`` and sends SIGKILL at the chosen point). After the kill the
target file is either the complete old or the complete new content - never
empty, truncated or half-written - and the next run, without a fault,
finishes the job and reports it (``changed``), or reports nothing to do when
the kill came after the rename that completed it.

Left-over temporary files (``.NAME.XXXXXXXXXXXX.tmp``) are expected after a
kill before the rename: they are hidden, mode 0600 (0644 for a public key), owned by the account,
never read by sshd or by the modules, and do not disturb the next run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat
import subprocess

import pytest

from conftest import run_module

TMP_RE = re.compile(r'^\..+\.[0-9a-f]{12}\.tmp$')


def keygen(directory, name, key_type='ed25519'):
    path = os.path.join(str(directory), name)
    subprocess.run(['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', name, '-f', path], check=True)
    with open(path + '.pub') as handle:
        return handle.read().strip()


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp('killkeys')
    return [keygen(directory, 'k%d' % index) for index in range(4)]


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def _temps(directory):
    return sorted(n for n in os.listdir(directory) if TMP_RE.match(n))


def _assert_harmless_temps(directory, names):
    for name in names:
        st = os.lstat(os.path.join(directory, name))
        assert stat.S_ISREG(st.st_mode)
        # created 0600; a .pub temp gets its final 0644 once written, before the rename
        assert stat.S_IMODE(st.st_mode) in ((0o600, 0o644) if '.pub.' in name else (0o600,)), name
        assert st.st_uid == os.geteuid()


# (fault, backup, what the file must be right after the kill)
AUTHKEY_POINTS = [
    ('before_rename:=authorized_keys', False, 'old'),
    ('after_rename:=authorized_keys', False, 'new'),
    ('mid_write:authorized_keys.', False, 'old'),
    ('before_rename:=authorized_keys', True, 'old'),
    ('after_rename:=authorized_keys', True, 'new'),
    # during the backup (written first): its temp file torn, or it never renamed
    ('mid_write:~.', True, 'old'),
    ('before_rename:~', True, 'old'),
    ('after_rename:~', True, 'old'),
]


@pytest.mark.parametrize('fault,backup,after_kill', AUTHKEY_POINTS,
                         ids=['%s%s' % (p[0].replace('=', ''), '+backup' if p[1] else '') for p in AUTHKEY_POINTS])
def test_authkey_killed_at_write_point(tmp_path, keys, fault, backup, after_kill):
    home = tmp_path / 'home'
    ssh_dir = home / '.ssh'
    ssh_dir.mkdir(parents=True, mode=0o700)
    target = ssh_dir / 'authorized_keys'
    old = (b'# managed by hand\r\n' + keys[0].encode() + b'\n\ncommand="x \\" y" ' + keys[1].encode()
           + b'  odd  comment\n\xff not utf-8, no final newline')
    target.write_bytes(old)
    target.chmod(0o600)
    new = old + b'\n' + keys[2].encode() + b'\n'
    args = dict(key=keys[2], home=str(home), backup=backup)

    killed = run_module('ssh_authkey', args, fault=fault)
    assert killed.killed, killed
    assert _read(str(target)) == (old if after_kill == 'old' else new)
    temps = _temps(str(ssh_dir))
    _assert_harmless_temps(str(ssh_dir), temps)
    for name in temps:
        data = _read(str(ssh_dir / name))
        # a temp file holds (a prefix of) the new content or of the backup
        assert new.startswith(data) or old.startswith(data)

    again = run_module('ssh_authkey', args)
    assert again.rc == 0, again
    assert again.result['changed'] is (after_kill == 'old'), again.result
    assert _read(str(target)) == new
    assert _temps(str(ssh_dir)) == temps       # the next run does not trip over them
    third = run_module('ssh_authkey', args)
    assert third.rc == 0 and third.result['changed'] is False
    if backup and after_kill == 'old':
        backups = [n for n in os.listdir(str(ssh_dir)) if n.endswith('~') and not TMP_RE.match(n)]
        assert backups, os.listdir(str(ssh_dir))
        # every complete backup holds the complete old content
        for name in backups:
            assert _read(str(ssh_dir / name)) == old


GENKEY_POINTS = [
    ('before_rename:=id_ed25519', 'no private key'),
    ('after_rename:=id_ed25519', 'private key only'),
    ('mid_write:id_ed25519.', 'no private key'),
    ('before_rename:=id_ed25519.pub', 'private key only'),
    ('after_rename:=id_ed25519.pub', 'complete'),
    ('mid_write:id_ed25519.pub.', 'private key only'),
]


def _public_of(private_path):
    out = subprocess.run(['ssh-keygen', '-y', '-f', private_path], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()
    return out.split()[:2]


def _check_private(path):
    data = _read(path)
    assert data.startswith(b'-----BEGIN ') and data.rstrip().endswith(b'PRIVATE KEY-----')
    _public_of(path)      # ssh-keygen reads it: not torn


@pytest.mark.parametrize('fault,after_kill', GENKEY_POINTS, ids=[p[0].replace('=', '') for p in GENKEY_POINTS])
def test_genkey_killed_at_write_point(tmp_path, fault, after_kill):
    home = tmp_path / 'home'
    home.mkdir()
    ssh_dir = home / '.ssh'
    private = ssh_dir / 'id_ed25519'
    public = ssh_dir / 'id_ed25519.pub'
    args = dict(name='id_ed25519', type='ed25519', home=str(home))

    killed = run_module('ssh_genkey', args, fault=fault)
    assert killed.killed, killed
    if after_kill == 'no private key':
        assert not private.exists() and not public.exists()
    else:
        _check_private(str(private))
        if after_kill == 'private key only':
            assert not public.exists()
        else:
            assert public.read_text().split()[:2] == _public_of(str(private))
    if ssh_dir.exists():
        _assert_harmless_temps(str(ssh_dir), _temps(str(ssh_dir)))

    again = run_module('ssh_genkey', args)
    assert again.rc == 0, again
    assert again.result['changed'] is (after_kill != 'complete'), again.result
    _check_private(str(private))
    assert public.read_text().split()[:2] == _public_of(str(private))
    third = run_module('ssh_genkey', args)
    assert third.rc == 0 and third.result['changed'] is False, third


def test_genkey_killed_between_private_and_public_on_regenerate(tmp_path):
    """A regeneration killed after the new private key is in place but before
    its public key: the next run sees the stale .pub and repairs it."""
    home = tmp_path / 'home'
    home.mkdir()
    private = home / '.ssh' / 'id_ed25519'
    public = home / '.ssh' / 'id_ed25519.pub'
    args = dict(name='id_ed25519', type='ed25519', home=str(home))
    first = run_module('ssh_genkey', args)
    assert first.rc == 0 and first.result['changed']
    old_public = public.read_text()
    killed = run_module('ssh_genkey', dict(args, regenerate='always'), fault='after_rename:=id_ed25519')
    assert killed.killed, killed
    _check_private(str(private))
    assert public.read_text() == old_public            # complete, but of the old key
    assert public.read_text().split()[:2] != _public_of(str(private))
    again = run_module('ssh_genkey', args)
    assert again.rc == 0 and again.result['changed'] is True, again
    assert public.read_text().split()[:2] == _public_of(str(private))
