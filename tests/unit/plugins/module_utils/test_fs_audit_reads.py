# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``_fs_audit``'s reads in this process (sshd_config, Include files) and their
verdicts: what is opened at all, the read cap to the byte, links followed as sshd
follows them, read errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit


@pytest.fixture
def opened(monkeypatch):
    """The paths this process passes to os.open."""
    seen = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        seen.append(path)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, 'open', spy)
    return seen


def test_fifo_and_device_are_never_opened(tmp_path, opened):
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    for path in (fifo, '/dev/null', '/dev/zero'):
        info, data, truncated = _fs_audit.read_for_audit(path)
        assert not info.is_file and data is None and not truncated
        assert _fs_audit.read_config_file(path) is None
    assert opened == []
    regular = tmp_path / 'regular'
    regular.write_bytes(b'Port 22\n')
    assert _fs_audit.read_config_file(str(regular)) == b'Port 22\n'
    assert opened == [str(regular)]


@pytest.mark.parametrize('size, truncated', [(0, False), (9, False), (10, False), (11, True), (100, True)])
def test_read_cap_to_the_byte(tmp_path, size, truncated):
    path = tmp_path / 'f'
    path.write_bytes(b'x' * size)
    info, data, was_cut = _fs_audit.read_for_audit(str(path), max_bytes=10)
    assert info.is_file and data == b'x' * min(size, 10) and was_cut == truncated


def test_stat_follows_links_as_sshd(tmp_path):
    (tmp_path / 'dir').mkdir()
    os.symlink(str(tmp_path / 'dir'), str(tmp_path / 'link'))
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'dangling'))
    info = _fs_audit.stat_path(str(tmp_path / 'link'))
    assert info.exists and info.is_dir and not info.is_file
    assert not _fs_audit.stat_path(str(tmp_path / 'dangling')).exists


def test_the_reader_reports_fifos_and_read_errors(tmp_path):
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    with _fs_audit.AccountReader(max_bytes=1000) as reader:
        got = reader.read(fifo, 0, 0, [])
        assert got.status == 'not a regular file' and got.data is None and got.audited
        # /proc/self/mem is a regular file whose first page cannot be read: EIO
        got = reader.read('/proc/self/mem', 0, 0, [])
        assert got.status == 'denied' and got.data is None and got.reason.startswith('read error')
