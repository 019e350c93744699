# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The journal reader: the query (sshd running as root only), the since bound, the byte budget, failures said."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import os
import shutil
import stat
import tempfile

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import collect, journal

FP = 'SHA256:BWfr0uK0Tgp44ZA1RQ5i9BqHDfiPdqfPePlDk1aS/Cs'
T0 = calendar.timegm((2026, 11, 1, 0, 0, 0, 0, 0, 0))


def entry(when, user='bob', uid='0'):
    return {'__REALTIME_TIMESTAMP': str(when * 1000000), '_UID': uid, '_COMM': 'sshd',
            'MESSAGE': 'Accepted publickey for %s from 127.0.0.1 port 2 ssh2: ED25519 %s' % (user, FP)}


def stand_in(directory, entries, code=0):
    """A journalctl that prints entries whatever it is asked (as if it ignored the filters)."""
    data = os.path.join(directory, 'entries.json')
    with open(data, 'w') as handle:
        handle.write(''.join(json.dumps(item) + '\n' for item in entries))
    script = os.path.join(directory, 'journalctl')
    with open(script, 'w') as handle:
        handle.write('#!/bin/sh\nif [ "$1" = --version ]; then echo "systemd 252 +PCRE2"; exit 0; fi\n'
                     'cat %s\necho "journal broke" >&2\nexit %d\n' % (data, code))
    os.chmod(script, stat.S_IRWXU)
    return script


def test_the_query_asks_for_sshd_running_as_root():
    command = journal.journal_command('/bin/journalctl', T0, True)
    assert command[-5:] == ['_COMM=sshd', '_UID=0', '+', '_COMM=sshd-session', '_UID=0']
    assert '--since=@%d' % T0 in command and '--grep=Accepted publickey for ' in command
    assert not any(arg.startswith('--grep') for arg in journal.journal_command('/bin/journalctl', None, False))


def test_logins_before_since_are_not_counted(tmp_path):
    script = stand_in(str(tmp_path), [entry(T0 - 10, 'old'), entry(T0 + 10, 'new'), entry(T0 + 20, 'root', '1000')])
    logins = []
    result = journal.read_journal(script, T0, 10 ** 6, logins.append)
    assert [login.user for login in logins] == ['new'] and result.logins == 1
    assert result.status == 'read' and not result.cut


def test_the_budget_cuts_the_read(tmp_path):
    entries = [entry(T0 + index, 'u%d' % index) for index in range(50)]
    script = stand_in(str(tmp_path), entries)
    size = len(json.dumps(entries[0])) + 1
    logins = []
    result = journal.read_journal(script, None, 3 * size, logins.append)
    assert result.cut and len(logins) <= 4 and result.bytes < 5 * size
    assert result.as_dict()['cut'] is True


def test_a_failed_journalctl_is_said(tmp_path):
    result = journal.read_journal(stand_in(str(tmp_path), [], code=1), None, 10 ** 6, lambda login: None)
    assert result.status == 'not read' and 'journal broke' in result.reason and result.cut
    result = journal.read_journal(stand_in(str(tmp_path), [entry(T0)], code=1), None, 10 ** 6, lambda login: None)
    assert result.status == 'read' and result.logins == 1 and 'exited with 1' in result.reason


@pytest.fixture
def journal_dir():
    # below a root-owned 0755 directory (the trust walk refuses /tmp's world-writable dirs below it)
    base = tempfile.mkdtemp(prefix='kj-journal-', dir='/run')
    os.chmod(base, 0o755)
    machine = os.path.join(base, 'journal', '3d1219c7c4c5404aaa1f6d2a48adfda4')
    os.makedirs(machine)
    open(os.path.join(machine, 'system.journal'), 'w').close()
    yield os.path.join(base, 'journal')
    shutil.rmtree(base)


def test_a_journal_directory_is_handed_to_journalctl(tmp_path, journal_dir):
    script = stand_in(str(tmp_path), [entry(T0 + 10, 'new')])
    logins = []
    result = journal.read_journal(script, T0, 10 ** 6, logins.append, journal_dir)
    assert '--directory=%s' % journal_dir in result.command and result.status == 'read'
    assert [login.user for login in logins] == ['new'] and result.as_dict()['path'] == journal_dir
    assert journal.journal_present([journal_dir]) is True


@pytest.mark.parametrize('where', ['top', 'machine-id'])
def test_a_journal_directory_an_account_can_write_is_refused(tmp_path, journal_dir, where):
    # journal files an account can write: it forges the logins of its stale keys
    script = stand_in(str(tmp_path), [entry(T0 + 10, 'forged')])
    target = journal_dir if where == 'top' else os.path.join(journal_dir, os.listdir(journal_dir)[0])
    os.chown(target, 65534, 65534)
    logins = []
    result = journal.read_journal(script, T0, 10 ** 6, logins.append, journal_dir)
    assert result.status == 'not read' and result.cut and not logins
    assert 'not a directory only root' in result.reason
    os.chown(target, 0, 0)
    os.chmod(target, 0o777)
    result = journal.read_journal(script, T0, 10 ** 6, logins.append, journal_dir)
    assert result.status == 'not read' and not logins


def test_a_symbolic_link_in_a_journal_directory_is_refused(tmp_path, journal_dir):
    script = stand_in(str(tmp_path), [entry(T0 + 10, 'forged')])
    os.symlink(str(tmp_path), os.path.join(journal_dir, '0123456789abcdef0123456789abcdef'))
    result = journal.read_journal(script, T0, 10 ** 6, lambda login: None, journal_dir)
    assert result.status == 'not read' and 'symbolic link' in result.reason


def test_a_missing_journal_directory_is_said(tmp_path):
    script = stand_in(str(tmp_path), [entry(T0 + 10)])
    result = journal.read_journal(script, T0, 10 ** 6, lambda login: None, '/run/kj-no-such-journal')
    assert result.status == 'not read' and 'does not exist' in result.reason


def test_the_usage_spec_takes_the_journal_directory(tmp_path, journal_dir):
    script = stand_in(str(tmp_path), [entry(T0 + 10, 'bob')])
    spec = collect.UsageSpec(sources=['auto'], journalctl=script, journal_directory=journal_dir + '/', now=T0 + 20)
    assert spec.journal_directory == journal_dir and collect.resolve_sources(spec) == ['journal']
    table, reports, problems = collect.collect(spec)
    assert table.logins == 1 and reports[0]['path'] == journal_dir and not problems
    with pytest.raises(InvalidInput):
        collect.UsageSpec(journal_directory='relative/journal')
