# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Log files: rotated and gzipped copies, the trust rule, since, bisection, the byte cap;
the journal through a journalctl stand-in; the usage joined to audited keys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import gzip
import json
import os
import shutil
import stat
import tempfile

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import collect, journal, logfiles, records

FP1 = 'SHA256:BWfr0uK0Tgp44ZA1RQ5i9BqHDfiPdqfPePlDk1aS/Cs'
FP2 = 'SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc'
T0 = calendar.timegm((2026, 11, 1, 0, 0, 0, 0, 0, 0))


def stamp(epoch):
    return records.iso(epoch).replace('Z', '+00:00')


def login_line(epoch, user='deploy', fp=FP1, addr='10.0.0.1'):
    return ('%s web1 sshd[77]: Accepted publickey for %s from %s port 40000 ssh2: ED25519 %s\n'
            % (stamp(epoch), user, addr, fp))


def noise_line(epoch):
    return '%s web1 CRON[12]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n' % stamp(epoch)


@pytest.fixture
def logdir():
    # below a root-owned 0755 directory (the trust walk refuses /tmp's world-writable dirs below it)
    base = tempfile.mkdtemp(prefix='kus-usage-', dir='/run')
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base)


def write(path, text, mtime=None, compress=False):
    data = text.encode()
    if compress:
        with gzip.open(path, 'wb') as handle:
            handle.write(data)
    else:
        with open(path, 'wb') as handle:
            handle.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_rotated_names_newest_first():
    names = ['auth.log.2.gz', 'auth.log', 'auth.log.1', 'auth.log.10.gz', 'auth.logger', 'secure', 'auth.log.gz',
             'auth.log-20260101', 'auth.log-20261201.gz']
    assert logfiles.rotated_names('auth.log', names) == [
        'auth.log', 'auth.log-20261201.gz', 'auth.log-20260101', 'auth.log.1', 'auth.log.2.gz', 'auth.log.10.gz']


def table_of(spec):
    table, reports, problems = collect.collect(spec)
    return table, reports, problems


def test_live_rotated_and_gz_files(logdir):
    log = os.path.join(logdir, 'auth.log')
    write(log, noise_line(T0 + 500) + login_line(T0 + 600, addr='10.0.0.9'), mtime=T0 + 700)
    cert = ('%s web1 sshd[78]: Accepted publickey for deploy from 10.0.0.5 port 1 ssh2: ED25519-CERT %s ID ci (x) '
            '(serial 9) CA ED25519 %s\n' % (stamp(T0 + 350), FP2, FP1))
    write(log + '.1', login_line(T0 + 300) + noise_line(T0 + 301) + cert, mtime=T0 + 400)
    write(log + '.2.gz', login_line(T0 + 100, user='root', fp=FP2), mtime=T0 + 200, compress=True)
    spec = collect.UsageSpec(paths=[log], sources=['files'], now=T0 + 1000)
    table, reports, problems = table_of(spec)
    assert problems == []
    assert [r['path'] for r in reports] == [log, log + '.1', log + '.2.gz']
    # the certificate login counts for the certified key (FP2) and the CA's line (FP1)
    first, last, uses, addresses, key_ids = table.get('deploy', FP1)
    assert (first, last, uses) == (T0 + 300, T0 + 600, 3)
    assert set(addresses) == set([b'10.0.0.1', b'10.0.0.9', b'10.0.0.5'])
    assert list(key_ids) == [b'ci (x)']
    assert table.get('deploy', FP2)[2] == 1
    assert table.get('root', FP2)[2] == 1
    assert table.logins == 4


def test_since_skips_old_files_unread(logdir):
    log = os.path.join(logdir, 'auth.log')
    write(log, login_line(T0 + 600), mtime=T0 + 700)
    write(log + '.1', login_line(T0 + 300), mtime=T0 + 400)
    spec = collect.UsageSpec(paths=[log], sources=['files'], since='2026-11-01T00:08:00Z', now=T0 + 1000)
    table, reports, problems = table_of(spec)
    assert reports[1]['status'] == 'skipped' and reports[1]['bytes_read'] == 0
    assert table.get('deploy', FP1)[2] == 1


def test_bisection_reads_only_the_tail(logdir, monkeypatch):
    monkeypatch.setattr(logfiles, 'BISECT_FROM', 64 * 1024)
    monkeypatch.setattr(logfiles, '_BISECT_WINDOW', 4096)
    log = os.path.join(logdir, 'auth.log')
    lines = []
    for second in range(20000):
        lines.append(login_line(T0 + second) if second % 100 == 0 else noise_line(T0 + second))
    write(log, ''.join(lines), mtime=T0 + 20000)
    size = os.path.getsize(log)
    spec = collect.UsageSpec(paths=[log], sources=['files'], since=records.iso(T0 + 19000), now=T0 + 30000)
    table, reports, problems = table_of(spec)
    # every login at or after since, none before, and only about the last 5 % read
    assert table.get('deploy', FP1)[2] == 10
    assert table.get('deploy', FP1)[0] == T0 + 19000
    assert reports[0]['bytes_read'] < size // 10


def test_how_far_back_the_logs_reach(logdir):
    log = os.path.join(logdir, 'auth.log')
    write(log, noise_line(T0 + 100) + login_line(T0 + 600), mtime=T0 + 700)
    write(log + '.1.gz', noise_line(T0 + 10) + login_line(T0 + 50), mtime=T0 + 60, compress=True)
    accounts = [{'user': 'deploy', 'keys': [{'fingerprint': FP1}, {'fingerprint': FP2}]}]
    # since before the first line: the window starts where the logs start
    section = collect.attach(accounts, collect.UsageSpec(paths=[log], sources=['files'], since=records.iso(T0),
                                                         now=T0 + 1000))
    assert section['logs_reach_back_to'] == records.iso(T0 + 10)
    assert section['window_start'] == records.iso(T0 + 10) and section['covers_since'] is False
    assert accounts[0]['keys'][1]['unused'] is True
    # since inside the logs: covered
    section = collect.attach(accounts, collect.UsageSpec(paths=[log], sources=['files'], since=records.iso(T0 + 200),
                                                         now=T0 + 1000))
    assert section['covers_since'] is True and section['window_start'] == records.iso(T0 + 200)
    assert section['sources'][1]['status'] == 'skipped'


def test_max_bytes_makes_it_incomplete(logdir):
    log = os.path.join(logdir, 'auth.log')
    write(log, ''.join(login_line(T0 + i) for i in range(100)), mtime=T0 + 100)
    write(log + '.1', login_line(T0 - 50), mtime=T0 - 40)
    spec = collect.UsageSpec(paths=[log], sources=['files'], max_bytes=1000, now=T0 + 1000)
    table, reports, problems = table_of(spec)
    assert reports[0]['cut'] and reports[1]['status'] == 'not read'
    assert any('max_bytes' in problem for problem in problems)
    accounts = [{'user': 'deploy', 'keys': [{'fingerprint': FP1}]}, {'user': 'other', 'keys': [{'fingerprint': FP2}]}]
    section = collect.attach(accounts, spec)
    assert section['complete'] is False and section['keys_unused'] is None
    # unknown, never "unused", when the evidence is incomplete
    assert accounts[1]['keys'][0]['unused'] is None
    assert accounts[0]['keys'][0]['unused'] is False


def test_symlinked_log_is_not_followed(logdir):
    target = os.path.join(logdir, 'secret')
    write(target, login_line(T0), mtime=T0)
    os.symlink(target, os.path.join(logdir, 'auth.log'))
    spec = collect.UsageSpec(paths=[os.path.join(logdir, 'auth.log')], sources=['files'], now=T0 + 10)
    table, reports, problems = table_of(spec)
    assert reports[0]['status'] == 'not read' and 'symbolic link' in reports[0]['reason']
    assert table.logins == 0


def test_log_in_a_directory_an_account_controls_is_not_read(logdir):
    sub = os.path.join(logdir, 'userlogs')
    os.mkdir(sub)
    write(os.path.join(sub, 'auth.log'), login_line(T0), mtime=T0)
    os.chown(sub, 65534, 65534)
    spec = collect.UsageSpec(paths=[os.path.join(sub, 'auth.log')], sources=['files'], now=T0 + 10)
    table, reports, problems = table_of(spec)
    assert reports[0]['status'] == 'not read'
    assert table.logins == 0 and problems


def test_group_writable_log_dir_of_a_system_group_is_read(logdir):
    # Ubuntu: /var/log is root:syslog 0775
    os.chmod(logdir, 0o775)
    os.chown(logdir, 0, 4)
    write(os.path.join(logdir, 'auth.log'), login_line(T0), mtime=T0)
    table, reports, problems = table_of(collect.UsageSpec(paths=[os.path.join(logdir, 'auth.log')],
                                                          sources=['files'], now=T0 + 10))
    assert table.logins == 1
    os.chown(logdir, 0, 65534)
    table, reports, problems = table_of(collect.UsageSpec(paths=[os.path.join(logdir, 'auth.log')],
                                                          sources=['files'], now=T0 + 10))
    assert table.logins == 0 and reports[0]['status'] == 'not read'


def test_bounded_table():
    table = collect.UsageTable(max_pairs=2)
    for index in range(5):
        table.add(records.Login(T0, 'u%d' % index, '1.1.1.1', 'ED25519', FP1))
    assert len(table.pairs) == 2 and table.dropped == 3


def test_addresses_are_bounded():
    table = collect.UsageTable()
    for index in range(50):
        table.add(records.Login(T0 + index, 'u', '10.0.0.%d' % index, 'ED25519', FP1))
    assert len(table.get('u', FP1)[3]) == collect.MAX_ADDRESSES
    assert table.get('u', FP1)[2] == 50


def test_certificate_login_counts_for_the_ca_line():
    table = collect.UsageTable()
    table.add(records.Login(T0, 'deploy', '1.1.1.1', 'ED25519-CERT', FP1, 'alice', 7, FP2))
    assert table.get('deploy', FP1)[2] == 1
    accounts = [{'user': 'deploy', 'keys': [{'fingerprint': FP2}]}]
    fields = collect.key_usage(table, 'deploy', FP2, True)
    assert fields['uses'] == 1 and fields['used_key_ids'] == ['alice']
    del accounts


def fake_journalctl(directory, entries, grep=True):
    data = os.path.join(directory, 'entries.json')
    with open(data, 'w') as handle:
        handle.write(''.join(json.dumps(entry) + '\n' for entry in entries))
    args = os.path.join(directory, 'args')
    script = os.path.join(directory, 'journalctl')
    with open(script, 'w') as handle:
        handle.write('#!/bin/sh\nif [ "$1" = --version ]; then echo "systemd 252 (252) %s"; exit 0; fi\n'
                     'echo "$@" > %s\ncat %s\n' % ('+PCRE2' if grep else '-PCRE2', args, data))
    os.chmod(script, stat.S_IRWXU)
    return script, args


def test_journal_stream(tmp_path):
    entries = [
        {'__REALTIME_TIMESTAMP': str((T0 + 5) * 1000000), '_UID': '0', '_COMM': 'sshd',
         'MESSAGE': 'Accepted publickey for bob from 127.0.0.1 port 2 ssh2: ED25519 ' + FP1},
        {'__REALTIME_TIMESTAMP': str((T0 + 9) * 1000000), '_UID': '1000', '_COMM': 'sshd',
         'MESSAGE': 'Accepted publickey for root from 127.0.0.1 port 2 ssh2: ED25519 ' + FP2},
        {'__REALTIME_TIMESTAMP': str((T0 + 7) * 1000000), '_UID': '0', '_COMM': 'sshd', 'MESSAGE': 'x' * 300000},
    ]
    script, args = fake_journalctl(str(tmp_path), entries)
    spec = collect.UsageSpec(sources=['journal'], since='2026-10-01', journalctl=script, now=T0)
    table, reports, problems = collect.collect(spec)
    assert problems == [] and reports[0]['status'] == 'read'
    assert table.get('bob', FP1)[2] == 1 and table.get('root', FP2) is None
    with open(args) as handle:
        called = handle.read()
    assert '--since=@%d' % records.parse_since('2026-10-01', T0) in called
    assert '_COMM=sshd _UID=0 + _COMM=sshd-session _UID=0' in called and '--grep' in called


def test_journal_failure_is_said(tmp_path):
    script = os.path.join(str(tmp_path), 'journalctl')
    with open(script, 'w') as handle:
        handle.write('#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "No journal files were found." >&2\nexit 1\n')
    os.chmod(script, stat.S_IRWXU)
    table, reports, problems = collect.collect(collect.UsageSpec(sources=['journal'], journalctl=script, now=T0))
    assert reports[0]['status'] == 'not read' and 'No journal files' in reports[0]['reason']
    assert problems


def test_auto_picks_files_without_a_journal(tmp_path):
    assert journal.journal_present([str(tmp_path)]) is False
    os.makedirs(os.path.join(str(tmp_path), 'abc'))
    open(os.path.join(str(tmp_path), 'abc', 'system.journal'), 'w').close()
    assert journal.journal_present([str(tmp_path)]) is True


def test_bad_options():
    from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
    with pytest.raises(InvalidInput):
        collect.UsageSpec(since='last week', now=T0)
    with pytest.raises(InvalidInput):
        collect.UsageSpec(paths=['auth.log'], now=T0)
    with pytest.raises(InvalidInput):
        collect.UsageSpec(sources=['syslog'], now=T0)
