# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The chunked syslog reader against a line-at-a-time reference (issue 31).

The reference below is a frozen copy of the reader's rule as of 1d4d900 (the
regex of ``records._SYSLOG_RE`` and the tally of ``SyslogParser.feed``),
applied to the file split into lines, with no chunks at all. The reader must
give the same table (logins, first and last time, uses, addresses, key ids)
whatever the chunk size, on generated logs with tricky lines: odd spacing,
CRLF, invalid UTF-8, a year change, certificate lines, IPv6 addresses, odd
user names, look-alikes of sshd's tag, lines longer than ``MAX_LINE`` that
carry a login text in their middle, and lines split across chunk borders.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import os
import random
import re
import shutil
import tempfile
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import collect, logfiles, records

# --- the reference (frozen) --------------------------------------------------------------------------------------

_REF_RE = re.compile(
    br'\n([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) '
    br'\S+ sshd(?:-session)?\[\d+\]: Accepted publickey for (\S+) from (\S+) port \d+ ssh2: \S+ '
    br'(SHA256:[A-Za-z0-9+/=]+)(?: ID ([^\n]*) \(serial \d+\) CA \S+ (SHA256:[A-Za-z0-9+/=]+))?')


def reference(content, mtime, since=None, max_values=10):
    """{(user, fp): (first, last, uses, {address: uses}, [key ids])} and the number of logins, line by line.

    A line of more than MAX_LINE bytes is not a record of sshd's: skipped whole."""
    years = records.YearGuess(mtime)
    tally = {}
    logins = 0
    passed = since is None

    def count(stamp, user, address, fingerprint, key_id):
        entry = tally.get((user, fingerprint))
        if entry is None:
            entry = tally[(user, fingerprint)] = [stamp, stamp, 0, {}, {}]
        entry[1] = stamp
        entry[2] += 1
        if address in entry[3]:
            entry[3][address] += 1
        elif len(entry[3]) < max_values:
            entry[3][address] = 1
        if key_id and len(entry[4]) < max_values:
            entry[4][key_id] = None

    for line in content.split(b'\n'):
        if len(line) >= logfiles.MAX_LINE:
            continue
        found = _REF_RE.findall(b'\n' + line)
        if not found:
            continue
        stamp, user, address, fingerprint, key_id, ca_fingerprint = found[0]
        if not passed:
            when = records.line_time(stamp + b' ', years)
            if when is None or when < since:
                continue
            passed = True
        logins += 1
        count(stamp, user, address, fingerprint, key_id if ca_fingerprint else b'')
        if ca_fingerprint:
            count(stamp, user, address, ca_fingerprint, key_id)
    result = {}
    for key, entry in tally.items():
        first = records.line_time(entry[0] + b' ', years)
        last = records.line_time(entry[1] + b' ', years)
        if first is None or last is None:
            continue
        result[key] = (min(first, last), max(first, last), entry[2], entry[3], list(entry[4]))
    return result, logins


# --- generated logs -----------------------------------------------------------------------------------------------

FPS = ['SHA256:' + ('%02dBWfr0uK0Tgp44ZA1RQ5i9BqHDfiPdqfPePlDk1aS/C' % index) for index in range(6)]
USERS = [b'deploy', b'root', b'a.b-c_d', b'svc@corp', u'j\u00f6rg'.encode('utf-8'), b'x\xff\xfey', b'UPPER']
ADDRESSES = [b'10.0.0.1', b'10.0.0.2', b'::1', b'2001:db8::17', b'fe80::1%eth0', b'192.0.2.254']
MTIME = calendar.timegm((2027, 1, 2, 12, 0, 0, 0, 0, 0))
START = calendar.timegm((2026, 12, 29, 12, 0, 0, 0, 0, 0))


def _traditional(epoch):
    return time.strftime('%b %e %H:%M:%S', time.gmtime(epoch)).encode()


def _rfc3339(epoch):
    return records.iso(epoch).replace('Z', '.123456+00:00').encode()


def make_log(rng, lines=30000):
    """A log across a year change (Dec 29 to about Jan 2), the mix of every kind of line."""
    out = []
    clock = START
    step = 2 * 4 * 86400 // lines
    for dummy in range(lines):
        clock += rng.randrange(0, step)
        stamp = _traditional(clock) if rng.random() < 0.8 else _rfc3339(clock)
        user = rng.choice(USERS)
        addr = rng.choice(ADDRESSES)
        fp = rng.choice(FPS).encode()
        ca = rng.choice(FPS[:2]).encode()
        pid = rng.randrange(1, 99999)
        tag = rng.choice([b'sshd', b'sshd', b'sshd', b'sshd-session'])
        kind = rng.random()
        end = b'\r\n' if rng.random() < 0.05 else b'\n'
        if kind < 0.35:
            line = b'%s web1 %s[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 %s' % (
                stamp, tag, pid, user, addr, rng.randrange(1, 65536), fp)
        elif kind < 0.42:
            key_id = rng.choice([b'alice@corp', b'ci (job 7) (serial 3)', b'', b'\xc3(bad', b'id with  spaces'])
            line = (b'%s web1 %s[%d]: Accepted publickey for %s from %s port 22 ssh2: ED25519-CERT %s ID %s '
                    b'(serial %d) CA ED25519 %s' % (stamp, tag, pid, user, addr, fp, key_id, rng.randrange(9), ca))
        elif kind < 0.50:
            # look-alikes: an account's logger line, a tag in the message, other programs, other verbs
            line = rng.choice([
                b'%s web1 alice: sshd[1]: Accepted publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1 sshd: Accepted publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1 xsshd[1]: Accepted publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1 sshd[1]: Failed publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1 sshd[1]: Postponed publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s  web1 sshd[1]: Accepted publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1 sshd[1]:  Accepted publickey for root from %s port %d ssh2: ED25519 %s',
                b'%s web1\tsshd[1]: Accepted publickey for root from %s port %d ssh2: ED25519 %s',
            ]) % (stamp, addr, pid, fp)
        elif kind < 0.52:
            # longer than MAX_LINE, with a login text at a chunk-border-ish place in it
            junk = b'x' * rng.choice([logfiles.MAX_LINE + 1, logfiles.MAX_LINE + 4097, 3 * logfiles.MAX_LINE])
            fake = _traditional(clock) + (
                b' web1 sshd[1]: Accepted publickey for root from 10.9.9.9 port 1 ssh2: ED25519 %s' % FPS[5].encode())
            cut = rng.randrange(0, len(junk))
            line = junk[:cut] + fake * 40 + junk[cut:]
        elif kind < 0.55:
            line = b'%s web1 sshd[%d]: Accepted publickey for %s from %s port 9 ssh2: ED25519 %s' % (
                stamp, pid, user, addr, fp)
            line = line[:rng.randrange(10, len(line))]  # truncated by the writer
        else:
            line = b'%s web1 CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)' % (
                stamp, pid)
        out.append(line + end)
    return b''.join(out)


@pytest.fixture
def logdir():
    base = tempfile.mkdtemp(prefix='kus-diff-', dir='/run')
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base)


def read_table(path, since=None):
    spec = collect.UsageSpec(paths=[path], sources=['files'], now=MTIME + 10,
                             since=records.iso(since) if since is not None else None)
    table, reports, problems = collect.collect(spec)
    assert not problems, problems
    pairs = dict((key, (entry[0], entry[1], entry[2], entry[3], list(entry[4]))) for key, entry in table.pairs.items())
    return pairs, table.logins


@pytest.mark.parametrize('chunk', [1024 * 1024, 65536 + 7, 4093])
@pytest.mark.parametrize('seed', [1, 2])
def test_chunked_reader_equals_the_line_reference(logdir, monkeypatch, chunk, seed):
    monkeypatch.setattr(logfiles, '_CHUNK', chunk)
    rng = random.Random(seed)
    content = make_log(rng, 30000 if chunk > 65536 else 6000)
    path = os.path.join(logdir, 'auth.log')
    with open(path, 'wb') as handle:
        handle.write(content)
    os.utime(path, (MTIME, MTIME))
    expected, logins = reference(content, MTIME)
    assert logins > 1000
    # the year changed in the file: logins of both years
    years = set(time.gmtime(when).tm_year for entry in expected.values() for when in entry[:2])
    assert years == set([2026, 2027])
    got, got_logins = read_table(path)
    assert got_logins == logins
    assert got == expected


def test_since_with_bisection_equals_the_reference(logdir, monkeypatch):
    monkeypatch.setattr(logfiles, 'BISECT_FROM', 64 * 1024)
    monkeypatch.setattr(logfiles, '_BISECT_WINDOW', 4096)
    rng = random.Random(7)
    content = make_log(rng, 20000)
    path = os.path.join(logdir, 'auth.log')
    with open(path, 'wb') as handle:
        handle.write(content)
    os.utime(path, (MTIME, MTIME))
    since = calendar.timegm((2027, 1, 1, 0, 0, 0, 0, 0, 0))  # after the year change
    expected, logins = reference(content, MTIME, since=since)
    got, got_logins = read_table(path, since=since)
    assert got == expected and got_logins == logins


def test_a_long_line_cut_at_a_chunk_border_is_not_a_login(logdir, monkeypatch):
    """The rest of a line longer than MAX_LINE does not start a line: a login text in it is not counted."""
    monkeypatch.setattr(logfiles, '_CHUNK', 4096)
    fake = b'Dec 30 10:00:00 web1 sshd[1]: Accepted publickey for root from 10.9.9.9 port 1 ssh2: ED25519 ' \
        + FPS[5].encode()
    head = b'Dec 30 09:00:00 web1 CRON[2]: x\n'
    # the first chunk border after which the long line's carry is past MAX_LINE: the fake text starts there
    start = 4096
    while start - len(head) + 1 <= logfiles.MAX_LINE:
        start += 4096
    junk = b'y' * (start - len(head))
    content = head + junk + fake + b'\n' + head
    path = os.path.join(logdir, 'auth.log')
    with open(path, 'wb') as handle:
        handle.write(content)
    os.utime(path, (MTIME, MTIME))
    assert reference(content, MTIME) == ({}, 0)
    assert read_table(path) == ({}, 0)
