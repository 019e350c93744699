# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's login records: the ``Accepted publickey`` message and the times of
syslog lines and journal entries.

OpenSSH (``auth.c`` ``auth_log``, ``auth2-pubkey.c``) logs a public key login as::

    Accepted publickey for USER from ADDR port N ssh2: ED25519 SHA256:...
    Accepted publickey for USER from ADDR port N ssh2: ED25519-CERT SHA256:... ID KEYID (serial N) CA ED25519 SHA256:...

The fingerprint of a certificate login is the certified key's (sshd hashes the
plain key); the CA's fingerprint names the ``cert-authority`` line it matched.
A syslog file prefixes a line with its time (``Dec  6 23:35:17`` without a
year, or RFC 3339 ``2026-12-06T23:35:17.123456+00:00``), the host and the
tag (``sshd[123]:``, ``sshd-session[123]:`` from OpenSSH 9.8).
Pure functions over bytes and text: no file access.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import collections
import json
import re
import time

MARKER = b'Accepted publickey for '

_ACCEPTED_RE = re.compile(
    r'Accepted publickey for (?P<user>\S+) from (?P<addr>\S+) port (?P<port>\d+) ssh2: (?P<type>\S+) '
    r'(?P<fp>SHA256:[A-Za-z0-9+/=]+)'
    r'(?: ID (?P<key_id>.*) \(serial (?P<serial>\d+)\) CA (?P<ca_type>\S+) (?P<ca_fp>SHA256:[A-Za-z0-9+/=]+))?')
# The tag right before the message in a syslog line: sshd's, or sshd-session's (OpenSSH 9.8+).
_TAG_RE = re.compile(br'(?:^|\s)sshd(?:-session)?\[\d+\]: \Z')
_MONTHS = dict((name, number) for number, name in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'), 1))
_TRADITIONAL_RE = re.compile(br'^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)\s')
_RFC3339_RE = re.compile(br'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?\s')
_DAY = 86400


class Login(collections.namedtuple('Login', 'time user address key_type fingerprint key_id serial ca_fingerprint')):
    """One accepted public key login (``key_id``, ``serial``, ``ca_fingerprint``: of a certificate)."""

    __slots__ = ()

    def __new__(cls, time_, user, address, key_type, fingerprint, key_id=None, serial=None, ca_fingerprint=None):
        return super(Login, cls).__new__(cls, time_, user, address, key_type, fingerprint, key_id, serial,
                                         ca_fingerprint)

    @property
    def certificate(self):
        return self.ca_fingerprint is not None


def parse_message(message, when=None):
    """The Login of sshd's message text, or None when it is not a public key login."""
    match = _ACCEPTED_RE.search(message)
    if match is None:
        return None
    serial = match.group('serial')
    return Login(when, match.group('user'), match.group('addr'), match.group('type'), match.group('fp'),
                 match.group('key_id'), int(serial) if serial is not None else None, match.group('ca_fp'))


class YearGuess:
    """The year of a ``Mmm dd HH:MM:SS`` time: the year of the file's last
    write, or the year before for a date after it (a file spans less than a
    year: logrotate rotates them far more often)."""

    def __init__(self, mtime):
        self.mtime = mtime
        self.year = time.gmtime(mtime).tm_year

    def epoch(self, month, day, hour, minute, second):
        try:
            value = calendar.timegm((self.year, month, day, hour, minute, second, 0, 0, 0))
        except (ValueError, OverflowError):
            return None
        if value > self.mtime + _DAY:
            try:
                value = calendar.timegm((self.year - 1, month, day, hour, minute, second, 0, 0, 0))
            except (ValueError, OverflowError):
                return None
        return value


def line_time(line, years):
    """The epoch of a syslog line's time stamp, or None when it has none.

    The traditional format carries local time without a zone: it is read as
    UTC here, like RFC 3339 times without an offset (an hour or two off on a
    host not on UTC; days and windows are what the audit reports)."""
    match = _RFC3339_RE.match(line)
    if match is not None:
        parts = [int(value) for value in match.groups()[:6]]
        try:
            value = calendar.timegm(tuple(parts) + (0, 0, 0))
        except (ValueError, OverflowError):
            return None
        zone = match.group(7)
        if zone and zone != b'Z':
            zone = zone.replace(b':', b'')
            offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
            value = value - offset if zone[:1] == b'+' else value + offset
        return value
    match = _TRADITIONAL_RE.match(line)
    if match is not None:
        month = _MONTHS.get(match.group(1).decode('ascii'))
        if month is None:
            return None
        return years.epoch(month, int(match.group(2)), int(match.group(3)), int(match.group(4)),
                           int(match.group(5)))
    return None


def parse_syslog_line(line, years):
    """The Login of one syslog line (bytes, without its newline), or None:
    the line must carry sshd's tag and a time stamp."""
    if MARKER not in line:
        return None
    position = line.find(MARKER)
    if _TAG_RE.search(line, 0, position) is None:
        return None
    when = line_time(line, years)
    if when is None:
        return None
    return parse_message(line[position:].decode('utf-8', 'replace'), when)


# Found in a whole chunk of a file at once, in C (``findall``): a line (it
# starts after a newline) with a time stamp, one host name, then sshd's tag and
# the message - the fields as bytes.
_SYSLOG_RE = re.compile(
    br'\n([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) '
    br'\S+ sshd(?:-session)?\[\d+\]: Accepted publickey for (\S{1,256}) from (\S{1,64}) port \d+ ssh2: \S+ '
    br'(SHA256:[A-Za-z0-9+/=]{1,64})(?: ID ([^\n]{0,256}) \(serial \d+\) CA \S+ (SHA256:[A-Za-z0-9+/=]{1,64}))?')
# (field lengths: sshd's user names, numeric addresses and SHA256 fingerprints are short; a line
# an account logs with longer ones is not sshd's, and kept would cost root its size in memory)


class SyslogParser:
    """The logins of one syslog file, tallied as it is read.

    ``feed(data, end)`` takes a chunk of whole lines, ``data[0]`` the newline
    before the first (``logfiles.scan``). Per (user, fingerprint) it keeps the
    first and last time stamp as written, their count and a few addresses: a
    syslog file is appended in time order, so the first and last seen are the
    earliest and latest, and a stamp is turned into a time only once per pair
    and file (:meth:`pairs`). Before ``since`` is passed every stamp is read
    (the lines before it are not counted); from the first login at or after
    it on, none is. The tallies are bounded (``max_pairs``, ``max_values``).
    """

    def __init__(self, years, since=None, max_pairs=50000, max_values=10):
        self.years = years
        self.since = since
        self.passed = since is None
        self.tally = {}
        self.max_pairs = max_pairs
        self.max_values = max_values
        self.dropped = 0
        self.logins = 0

    def feed(self, data, end):
        tally = self.tally
        found = _SYSLOG_RE.findall(data, 0, end)
        if not self.passed:
            found = self._from_since(found)
        self.logins += len(found)
        for stamp, user, address, fingerprint, key_id, ca_fingerprint in found:
            entry = tally.get((user, fingerprint))
            if entry is None:
                if len(tally) >= self.max_pairs:
                    self.dropped += 1
                    continue
                entry = tally[(user, fingerprint)] = [stamp, stamp, 0, {}, {}]
            entry[1] = stamp
            entry[2] += 1
            addresses = entry[3]
            if address in addresses:
                addresses[address] += 1
            elif len(addresses) < self.max_values:
                addresses[address] = 1
            if ca_fingerprint:
                if key_id and len(entry[4]) < self.max_values:
                    entry[4][key_id] = None
                # the certificate's CA line: the same login, counted there too
                self.logins -= 1
                self.feed_one(stamp, user, address, ca_fingerprint, key_id)
        return len(found)

    def feed_one(self, stamp, user, address, fingerprint, key_id):
        self.logins += 1
        entry = self.tally.get((user, fingerprint))
        if entry is None:
            if len(self.tally) >= self.max_pairs:
                self.dropped += 1
                return
            entry = self.tally[(user, fingerprint)] = [stamp, stamp, 0, {}, {}]
        entry[1] = stamp
        entry[2] += 1
        if address in entry[3]:
            entry[3][address] += 1
        elif len(entry[3]) < self.max_values:
            entry[3][address] = 1
        if key_id and len(entry[4]) < self.max_values:
            entry[4][key_id] = None

    def _from_since(self, found):
        for index, item in enumerate(found):
            when = self.time(item[0])
            if when is not None and when >= self.since:
                self.passed = True
                return found[index:]
        return []

    def time(self, stamp):
        return line_time(stamp + b' ', self.years)

    def pairs(self):
        """{(user, fingerprint): (first, last, uses, {address: uses}, [key ids])} of the file (bytes)."""
        result = {}
        for key, entry in self.tally.items():
            first, last = self.time(entry[0]), self.time(entry[1])
            if first is None or last is None:
                continue
            result[key] = (min(first, last), max(first, last), entry[2], entry[3], list(entry[4]))
        return result

    def parse(self, line):
        """(time, (user, address, fingerprint, key id, CA fingerprint)) of one line, or None."""
        found = _SYSLOG_RE.findall(b'\n' + line + b'\n')
        if not found:
            return None
        stamp, user, address, fingerprint, key_id, ca_fingerprint = found[0]
        when = self.time(stamp)
        if when is None:
            return None
        return when, (user, address, fingerprint, key_id or None, ca_fingerprint or None)


# the _COMM of sshd's processes (sshd-session: OpenSSH 9.8+)
SSHD_COMMS = ('sshd', 'sshd-session')


def parse_journal_entry(text):
    """The Login of one ``journalctl -o json`` line, or None.

    Only entries of a process running as root (``_UID`` 0, a field journald
    sets, not the sender) named ``sshd``/``sshd-session`` (``_COMM``, also
    journald's) count: the journal is queried for those, and an account
    cannot log as root; an entry without the fields does not count."""
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get('_UID') != '0':
        return None
    if entry.get('_COMM') not in SSHD_COMMS:
        return None
    message = entry.get('MESSAGE')
    if isinstance(message, list):
        # journald hands non-UTF-8 messages as a list of byte values
        try:
            message = bytes(bytearray(message)).decode('utf-8', 'replace')
        except (TypeError, ValueError):
            return None
    if not isinstance(message, str) or 'Accepted publickey for ' not in message:
        return None
    try:
        when = int(entry.get('__REALTIME_TIMESTAMP')) // 1000000
    except (TypeError, ValueError):
        return None
    return parse_message(message, when)


def iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


_RELATIVE_RE = re.compile(r'^(\d+)\s*([dhw])$')
_DATE_RE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?(Z|[+-]\d\d:?\d\d)?$')


def parse_since(value, now):
    """Epoch of ``since``: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM[:SS][Z|+hh:mm]`` (UTC
    without a zone), or relative ``90d``, ``12h``, ``2w``. None for None;
    ValueError when it is none of these."""
    if value is None or value == '':
        return None
    text = str(value).strip()
    match = _RELATIVE_RE.match(text)
    if match is not None:
        unit = {'d': _DAY, 'h': 3600, 'w': 7 * _DAY}[match.group(2)]
        return int(now) - int(match.group(1)) * unit
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError('since must be a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ) or a number of days ago (90d), '
                         'got %r' % value)
    parts = [int(part or 0) for part in match.groups()[:6]]
    value = calendar.timegm(tuple(parts) + (0, 0, 0))
    zone = match.group(7)
    if zone and zone != 'Z':
        zone = zone.replace(':', '')
        offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
        value = value - offset if zone[0] == '+' else value + offset
    return value
