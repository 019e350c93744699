# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``_fs_audit``: files opened with the account's rights, links followed as
the kernel follows them (the unit suite runs as root, as the modules do)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit

UID = 4321   # no such account: only its numbers matter to the kernel
GID = 4321
GROUP = 4242


@pytest.fixture
def area():
    """A directory every account can reach (pytest's tmp_path is below a 0700 one)."""
    path = tempfile.mkdtemp(prefix='keysmith-fs-audit-', dir='/tmp')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def reader():
    made = _fs_audit.AccountReader(max_bytes=1000)
    yield made
    made.close()


def _file(path, text='data\n', mode=0o644, uid=0, gid=0):
    path.write_text(text)
    os.chown(str(path), uid, gid)
    os.chmod(str(path), mode)
    return str(path)


def _dir(path, mode=0o755):
    path.mkdir()
    os.chmod(str(path), mode)
    return path


def test_reads_with_the_accounts_rights(area, reader):
    assert os.geteuid() == 0 and reader.as_root
    readable = _file(area / 'readable')
    root_only = _file(area / 'root-only', mode=0o600)
    got = reader.read(readable, UID, GID, [])
    assert (got.status, got.data, got.info.uid) == ('read', b'data\n', 0)
    got = reader.read(root_only, UID, GID, [])
    assert got.status == 'denied' and got.data is None and got.info is None
    # root itself (uid 0) reads it; the reader switches back after each request
    assert reader.read(root_only, 0, 0, []).data == b'data\n'
    assert reader.read(root_only, UID, GID, []).status == 'denied'
    assert reader.started == 1  # one reader process for every request
    # The group rights come from the groups given (the account's initgroups).
    group_file = _file(area / 'group', mode=0o640, gid=GROUP)
    assert reader.read(group_file, UID, GID, []).status == 'denied'
    assert reader.read(group_file, UID, GID, [GROUP]).status == 'read'
    assert reader.read(group_file, UID, GROUP, []).status == 'read'  # the primary group counts too


def test_missing_only_when_the_account_sees_enoent(area, reader):
    closed = _dir(area / 'closed', 0o700)
    _file(closed / 'present')
    assert reader.read(str(area / 'absent'), UID, GID, []).status == 'missing'
    assert reader.read(str(area / 'readable' / 'x'), UID, GID, []).status == 'missing'
    # behind a directory the account cannot search: denied, whether the file is there or not
    assert reader.read(str(closed / 'present'), UID, GID, []).status == 'denied'
    assert reader.read(str(closed / 'absent'), UID, GID, []).status == 'denied'
    assert reader.read(str(closed / 'present'), 0, 0, []).status == 'read'


def test_links_are_followed_as_the_account(area, reader):
    secret = _file(area / 'secret', 'ssh-ed25519 AAAA root-only\n', mode=0o600)
    os.symlink(secret, str(area / 'link'))
    got = reader.read(str(area / 'link'), UID, GID, [])
    assert got.status == 'denied' and got.data is None
    # ".." after a symlinked directory is resolved by the kernel, not by the string
    real = _dir(area / 'real')
    _dir(real / 'sub')
    _file(real / 'ak', 'behind the link\n')
    _file(area / 'ak', 'string-normalised\n')
    os.symlink(str(real / 'sub'), str(area / 'dirlink'))
    path = os.path.join(str(area), 'dirlink', '..', 'ak')
    assert reader.read(path, UID, GID, []).data == b'behind the link\n'


def test_acl_grant_is_honoured(area, reader):
    private = _dir(area / 'private', 0o755)
    path = _file(private / 'keys', mode=0o600)
    assert reader.read(path, UID, GID, []).status == 'denied'
    subprocess.run(['setfacl', '-m', 'u:%d:r' % UID, path], check=True)
    got = reader.read(path, UID, GID, [])
    assert got.status == 'read' and got.data == b'data\n'
    assert reader.read(path, UID + 1, GID, []).status == 'denied'


def test_fifo_and_devices_are_not_opened(area, reader):
    fifo = str(area / 'fifo')
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    started = time.time()
    got = reader.read(fifo, UID, GID, [])
    assert got.status == 'not a regular file' and got.data is None and time.time() - started < 5
    assert reader.read('/dev/null', UID, GID, []).status == 'not a regular file'
    # never opened at all (a device can act on open): a FIFO the account could not open is refused by its type
    closed_fifo = str(area / 'closed-fifo')
    os.mkfifo(closed_fifo)
    os.chmod(closed_fifo, 0)
    assert reader.read(closed_fifo, UID, GID, []).status == 'not a regular file'
    assert reader.read(str(area), UID, GID, []).status == 'not a regular file'


def test_read_cap_marks_truncated(area, reader):
    path = _file(area / 'big', 'x' * 1500)
    got = reader.read(path, UID, GID, [])
    assert got.status == 'read' and got.data == b'x' * 1000 and got.truncated
    exact = _file(area / 'exact', 'y' * 1000)
    got = reader.read(exact, UID, GID, [])
    assert got.data == b'y' * 1000 and not got.truncated
    empty = _file(area / 'empty', '')
    got = reader.read(empty, UID, GID, [])
    assert got.status == 'read' and got.data == b''


def test_large_file_streams_through_the_reader(area):
    path = str(area / 'large')
    with open(path, 'wb') as handle:
        handle.write(b'z' * (3 * 1024 * 1024 + 7))
    os.chmod(path, 0o644)
    with _fs_audit.AccountReader() as reader:
        got = reader.read(path, UID, GID, [])
    assert got.status == 'read' and len(got.data) == 3 * 1024 * 1024 + 7 and not got.truncated


def test_a_dead_reader_is_not_audited_and_replaced(area, reader):
    path = _file(area / 'f')
    assert reader.read(path, UID, GID, []).status == 'read'
    os.kill(reader.pid, 9)
    got = reader.read(path, UID, GID, [])
    assert got.status == 'not audited' and got.data is None and 'reader process' in got.reason
    assert reader.read(path, UID, GID, []).status == 'read' and reader.started == 2


def test_without_root_only_the_own_account_is_judged(area, reader):
    reader.as_root = False  # what a run without become gets
    path = _file(area / 'world-readable')
    got = reader.read(path, UID, GID, [], name='alice')
    assert got.status == 'not audited' and got.data is None
    assert got.reason == 'not running as root: cannot open %s with the rights of alice' % path
    # a path that does not exist does not exist for anyone
    assert reader.read(str(area / 'absent'), UID, GID, []).status == 'missing'
    # its own account: what it reads is what the account reads
    assert reader.read(path, os.geteuid(), os.getegid(), []).data == b'data\n'
    assert reader.started == 0


def test_fs_holds_no_audit_helpers():
    # the trust layer keeps its rule by name: the audit's link-following reads live in _fs_audit only
    for name in ('PathStat', 'stat_path', 'real_path', 'read_for_audit', 'read_config_file', 'list_dir'):
        assert hasattr(_fs_audit, name) and not hasattr(_fs, name), name
