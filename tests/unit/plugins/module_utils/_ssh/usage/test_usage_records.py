# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's login records: syslog lines (both time formats), journal JSON, since."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import records

FP = 'SHA256:BWfr0uK0Tgp44ZA1RQ5i9BqHDfiPdqfPePlDk1aS/Cs'
CA_FP = 'SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc'
MTIME = calendar.timegm((2026, 12, 6, 23, 0, 0, 0, 0, 0))
YEARS = records.YearGuess(MTIME)


def test_traditional_line():
    line = ('Dec  6 21:35:17 web1 sshd[812]: Accepted publickey for deploy from 10.0.0.7 port 48996 ssh2: '
            'ED25519 %s' % FP).encode()
    login = records.parse_syslog_line(line, YEARS)
    assert (login.user, login.address, login.key_type, login.fingerprint) == ('deploy', '10.0.0.7', 'ED25519', FP)
    assert login.time == calendar.timegm((2026, 12, 6, 21, 35, 17, 0, 0, 0))
    assert not login.certificate


def test_traditional_line_of_last_year():
    # written in December, the file's last write in January: last year's December
    line = ('Dec 31 23:59:59 h sshd[1]: Accepted publickey for a from ::1 port 1 ssh2: RSA %s' % FP).encode()
    years = records.YearGuess(calendar.timegm((2027, 1, 2, 0, 0, 0, 0, 0, 0)))
    assert records.parse_syslog_line(line, years).time == calendar.timegm((2026, 12, 31, 23, 59, 59, 0, 0, 0))


def test_rfc3339_line_with_offset():
    line = ('2026-12-06T23:35:17.123456+02:00 web1 sshd-session[9]: Accepted publickey for root from 192.0.2.1 '
            'port 22 ssh2: ECDSA %s' % FP).encode()
    login = records.parse_syslog_line(line, YEARS)
    assert login.time == calendar.timegm((2026, 12, 6, 21, 35, 17, 0, 0, 0))
    assert login.user == 'root'


def test_certificate_login():
    line = ('Dec  6 21:35:17 h sshd[1]: Accepted publickey for deploy from 10.1.1.1 port 5 ssh2: ED25519-CERT %s '
            'ID alice@corp (laptop) (serial 42) CA ED25519 %s' % (FP, CA_FP)).encode()
    login = records.parse_syslog_line(line, YEARS)
    assert login.certificate
    assert (login.key_id, login.serial, login.ca_fingerprint) == ('alice@corp (laptop)', 42, CA_FP)


@pytest.mark.parametrize('line', [
    # not sshd's tag
    'Dec  6 21:35:17 h cron[1]: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    # a user's own message through another program, sshd named only inside the text
    'Dec  6 21:35:17 h bash[1]: sshd: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    # no time stamp (sshd -E writes none)
    'Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    # other messages
    'Dec  6 21:35:17 h sshd[1]: Failed publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'Dec  6 21:35:17 h sshd[1]: Accepted password for root from 1.2.3.4 port 1 ssh2',
    'Dec  6 21:35:17 h sshd[1]: Partial publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
])
def test_not_a_login(line):
    assert records.parse_syslog_line(line.encode(), YEARS) is None


def _entry(message, uid='0', when=1765064117000000):
    return json.dumps({'__REALTIME_TIMESTAMP': str(when), 'MESSAGE': message, '_UID': uid, '_COMM': 'sshd'})


def test_journal_entry():
    login = records.parse_journal_entry(_entry('Accepted publickey for bob from 127.0.0.1 port 2 ssh2: ED25519 ' + FP))
    assert (login.user, login.time, login.fingerprint) == ('bob', 1765064117, FP)


def test_journal_entry_not_root_is_ignored():
    # an account's own process logging sshd's words (logger -t sshd): _UID is set by journald
    assert records.parse_journal_entry(
        _entry('Accepted publickey for root from 1.2.3.4 port 2 ssh2: ED25519 ' + FP, uid='1000')) is None


def test_journal_entry_not_sshd_or_without_the_fields_is_ignored():
    # root's own logger -t sshd (a cron job): _COMM is logger's; an entry without journald's fields proves nothing
    message = 'Accepted publickey for root from 1.2.3.4 port 2 ssh2: ED25519 ' + FP
    assert records.parse_journal_entry(json.dumps({'__REALTIME_TIMESTAMP': '1765064117000000', 'MESSAGE': message,
                                                   '_UID': '0', '_COMM': 'logger'})) is None
    assert records.parse_journal_entry(json.dumps({'__REALTIME_TIMESTAMP': '1765064117000000', 'MESSAGE': message,
                                                   '_COMM': 'sshd'})) is None
    assert records.parse_journal_entry(json.dumps({'__REALTIME_TIMESTAMP': '1765064117000000', 'MESSAGE': message,
                                                   '_UID': '0', '_COMM': 'sshd-session'})) is not None


def test_journal_entry_binary_message():
    message = list(('Accepted publickey for b\xe9b from 127.0.0.1 port 2 ssh2: ED25519 ' + FP).encode('latin-1'))
    login = records.parse_journal_entry(_entry(message))
    assert login.user == 'b\ufffdb'
    assert records.parse_journal_entry('not json') is None
    assert records.parse_journal_entry(json.dumps({'MESSAGE': 'x'})) is None


def test_since():
    now = calendar.timegm((2026, 12, 6, 0, 0, 0, 0, 0, 0))
    assert records.parse_since('90d', now) == now - 90 * 86400
    assert records.parse_since('2w', now) == now - 14 * 86400
    assert records.parse_since('2026-01-02', now) == calendar.timegm((2026, 1, 2, 0, 0, 0, 0, 0, 0))
    assert records.parse_since('2026-01-02T03:04:05+01:00', now) == calendar.timegm((2026, 1, 2, 2, 4, 5, 0, 0, 0))
    assert records.parse_since(None, now) is None
    with pytest.raises(ValueError):
        records.parse_since('yesterday', now)


@pytest.mark.parametrize('line', [
    'Dec  6 21:35:17 h cron[1]: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'Dec  6 21:35:17 h bash[1]: sshd: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'Dec  6 21:35:17 h xsshd[1]: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'sshd[1]: Accepted publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
    'Dec  6 21:35:17 h sshd[1]: Partial publickey for root from 1.2.3.4 port 1 ssh2: ED25519 ' + FP,
])
def test_fast_parser_refuses_what_the_plain_one_refuses(line):
    assert records.SyslogParser(YEARS).parse(line.encode()) is None
    assert records.parse_syslog_line(line.encode(), YEARS) is None


def test_fast_parser_agrees():
    parser = records.SyslogParser(YEARS)
    for line in (
            'Dec  6 21:35:17 web1 sshd[812]: Accepted publickey for deploy from 10.0.0.7 port 48996 ssh2: ED25519 ' + FP,
            '2026-12-06T23:35:17.123456+02:00 web1 sshd-session[9]: Accepted publickey for root from ::1 port 22 '
            'ssh2: ECDSA ' + FP,
            'Dec  6 21:35:17 h sshd[1]: Accepted publickey for deploy from 10.1.1.1 port 5 ssh2: ED25519-CERT %s '
            'ID alice@corp (laptop) (serial 42) CA ED25519 %s' % (FP, CA_FP)):
        plain = records.parse_syslog_line(line.encode(), YEARS)
        for dummy in range(2):  # the second one from the stamp cache
            fast = parser.parse(line.encode())
            assert fast[0] == plain.time
            assert [item.decode() if item is not None else None for item in fast[1]] == [
                plain.user, plain.address, plain.fingerprint, plain.key_id, plain.ca_fingerprint]
