# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key usage evidence for the audit: sshd's login records joined to the keys.

``authorized_keys_info``'s ``usage`` option: every accepted public key login
found in the journal or the syslog files (``journal.py``, ``logfiles.py``) is
counted per (user, fingerprint) - the one table kept, with a few addresses per
entry - and each audited key gets ``last_used``, ``uses``, ``used_from`` and
``unused``. A certificate login counts for the certified key and for the
``cert-authority`` line of its CA (with the certificates' key ids).

An audit that cannot see says so: ``unused`` is true only when every source
was read in full; when one was not (permission, read cap, a table cut at its
bound), a key without a login is ``unused: null`` and ``usage.complete`` is
false with the reasons.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import journal, logfiles, records

SOURCES = ('auto', 'journal', 'files')
DEFAULT_MAX_BYTES = 8 * 1024 * 1024 * 1024
# (user, fingerprint) pairs kept; addresses and key ids kept per pair
MAX_PAIRS = 50000
MAX_ADDRESSES = 10
MAX_KEY_IDS = 10


class UsageSpec:
    """The validated ``usage`` option."""

    def __init__(self, since=None, sources=None, paths=None, max_bytes=None, now=0, journalctl=None,
                 journal_directory=None):
        try:
            self.since = records.parse_since(since, now)
        except ValueError as exc:
            raise InvalidInput('usage.%s' % exc)
        self.since_text = since
        self.sources = list(sources or ['auto'])
        for source in self.sources:
            if source not in SOURCES:
                raise InvalidInput('usage.sources: %r is not one of %s' % (source, ', '.join(SOURCES)))
        self.paths = list(paths or logfiles.DEFAULT_LOGS)
        for path in self.paths:
            if not os.path.isabs(path) or '\0' in path or '\n' in path:
                raise InvalidInput('usage.paths: %r is not an absolute path' % path)
        self.max_bytes = int(max_bytes) if max_bytes else DEFAULT_MAX_BYTES
        if self.max_bytes <= 0:
            raise InvalidInput('usage.max_bytes must be positive')
        self.journalctl = journalctl
        # journal files read instead of the host's (journalctl --directory); checked as the logs' directories
        if journal_directory is not None and (not os.path.isabs(journal_directory) or '\0' in journal_directory
                                              or '\n' in journal_directory):
            raise InvalidInput('usage.journal_directory: %r is not an absolute path' % journal_directory)
        self.journal_directory = os.path.normpath(journal_directory) if journal_directory else None


def _bytes(text):
    return text.encode('utf-8', 'surrogateescape') if isinstance(text, str) else text


def _text(data):
    return data.decode('utf-8', 'replace') if isinstance(data, bytes) else data


class UsageTable:
    """{(user, fingerprint): [first, last, uses, {address: uses}, {key id: None}]},
    bounded; keys and values as the log's bytes (decoded for the result only)."""

    def __init__(self, max_pairs=MAX_PAIRS):
        self.pairs = {}
        self.max_pairs = max_pairs
        self.dropped = 0
        self.logins = 0

    @property
    def earliest(self):
        return min(entry[0] for entry in self.pairs.values()) if self.pairs else None

    @property
    def latest(self):
        return max(entry[1] for entry in self.pairs.values()) if self.pairs else None

    def count(self, when, user, address, fingerprint, key_id=None, ca_fingerprint=None):
        """One login (bytes; a certificate login counts for its CA's line too).
        The hot path of a large log: one lookup, no call."""
        self.logins += 1
        entry = self.pairs.get((user, fingerprint))
        if entry is None:
            if len(self.pairs) >= self.max_pairs:
                self.dropped += 1
                entry = None
            else:
                entry = self.pairs[(user, fingerprint)] = [when, when, 0, {}, {}]
        if entry is not None:
            if when > entry[1]:
                entry[1] = when
            elif when < entry[0]:
                entry[0] = when
            entry[2] += 1
            addresses = entry[3]
            if address in addresses:
                addresses[address] += 1
            elif len(addresses) < MAX_ADDRESSES:
                addresses[address] = 1
            if key_id is not None and len(entry[4]) < MAX_KEY_IDS:
                entry[4][key_id] = None
        if ca_fingerprint is not None:
            self.logins -= 1
            self.count(when, user, address, ca_fingerprint, key_id)

    def merge(self, pairs, dropped=0):
        """A file's tally (``SyslogParser.pairs``) into the table."""
        self.dropped += dropped
        for key, (first, last, uses, addresses, key_ids) in pairs.items():
            entry = self.pairs.get(key)
            if entry is None:
                if len(self.pairs) >= self.max_pairs:
                    self.dropped += uses
                    continue
                entry = self.pairs[key] = [first, last, 0, {}, {}]
            entry[0] = min(entry[0], first)
            entry[1] = max(entry[1], last)
            entry[2] += uses
            for address, count in addresses.items():
                if address in entry[3]:
                    entry[3][address] += count
                elif len(entry[3]) < MAX_ADDRESSES:
                    entry[3][address] = count
            for key_id in key_ids:
                if len(entry[4]) < MAX_KEY_IDS:
                    entry[4][key_id] = None

    def add(self, login):
        """A Login of text fields (the journal's)."""
        self.count(login.time, _bytes(login.user), _bytes(login.address), _bytes(login.fingerprint),
                   _bytes(login.key_id) if login.key_id is not None else None,
                   _bytes(login.ca_fingerprint) if login.ca_fingerprint is not None else None)

    def get(self, user, fingerprint):
        return self.pairs.get((_bytes(user), _bytes(fingerprint)))


def resolve_sources(spec):
    """The sources to read: ['journal'], ['files'] or both."""
    wanted = []
    for source in spec.sources:
        if source == 'auto':
            present = journal.journal_present([spec.journal_directory]) if spec.journal_directory \
                else journal.journal_present()
            source = 'journal' if spec.journalctl and present else 'files'
        if source not in wanted:
            wanted.append(source)
    return wanted


def collect(spec, table=None):
    """(UsageTable, [source reports], [problems]) from the sources of ``spec``."""
    table = table if table is not None else UsageTable()
    reports = []
    problems = []
    budget = spec.max_bytes
    for source in resolve_sources(spec):
        if source == 'journal':
            if not spec.journalctl:
                reports.append({'source': 'journal', 'path': None, 'status': 'not read',
                                'reason': 'journalctl was not found', 'bytes_read': 0, 'logins': 0,
                                'from_offset': 0, 'cut': True})
                problems.append('journal not read: journalctl was not found')
                continue
            got = journal.read_journal(spec.journalctl, spec.since, budget, table.add, spec.journal_directory)
            budget -= got.bytes
            reports.append(got.as_dict())
            if got.status != 'read' or got.cut:
                problems.append('journal %s: %s' % (got.status, got.reason or 'stopped at max_bytes'))
            continue
        found, unlisted = logfiles.list_logs(spec.paths)
        for path, reason in unlisted:
            reports.append({'source': 'file', 'path': path, 'status': 'not read', 'reason': reason,
                            'bytes_read': 0, 'logins': 0, 'from_offset': 0, 'cut': False})
            problems.append('%s not read: %s' % (path, reason))
        if not found and not unlisted:
            problems.append('no log file found (%s)' % ', '.join(spec.paths))
        for directory, name in found:
            if budget <= 0:
                path = os.path.join(directory, name)
                reports.append({'source': 'file', 'path': path, 'status': 'not read',
                                'reason': 'max_bytes reached', 'bytes_read': 0, 'logins': 0, 'from_offset': 0,
                                'cut': True})
                problems.append('%s not read: max_bytes (%d) reached' % (path, spec.max_bytes))
                continue
            got = logfiles.read_log(directory, name, spec.since, budget, table.merge)
            table.logins += got.logins
            budget -= got.bytes
            reports.append(got.as_dict())
            if got.status == 'not read':
                problems.append('%s not read: %s' % (got.path, got.reason))
            elif got.cut:
                problems.append('%s read in part: %s' % (got.path, got.reason or 'stopped at max_bytes'))
    if table.dropped:
        problems.append('%d logins of keys past the first %d (user, key) pairs were not counted'
                        % (table.dropped, table.max_pairs))
    return table, reports, problems


def key_usage(table, user, fingerprint, complete):
    """The usage fields of one audited key."""
    entry = table.get(user, fingerprint)
    if entry is None:
        return {'last_used': None, 'first_used': None, 'uses': 0, 'used_from': [], 'used_key_ids': [],
                'unused': True if complete else None}
    addresses = sorted(entry[3].items(), key=lambda item: (-item[1], item[0]))
    return {'last_used': records.iso(entry[1]), 'first_used': records.iso(entry[0]), 'uses': entry[2],
            'used_from': [_text(address) for address, dummy in addresses],
            'used_key_ids': sorted(_text(key_id) for key_id in entry[4]), 'unused': False}


def attach(accounts, spec):
    """Read the logs of ``spec`` and add usage fields to every key of the
    audited ``accounts``: the result's ``usage`` section."""
    table, reports, problems = collect(spec)
    complete = not problems
    starts = [records.parse_since(item['earliest'], 0) for item in reports if item.get('earliest')]
    reaches = min(starts) if starts else None
    # the window the evidence covers: from since when the logs reach back that far, else from their start
    if spec.since is not None and reaches is not None and reaches <= spec.since:
        window_start = spec.since
    else:
        window_start = reaches
    keys = 0
    used = 0
    known = set()
    for account in accounts:
        for key in account.get('keys') or ():
            fields = key_usage(table, account['user'], key['fingerprint'], complete)
            key.update(fields)
            keys += 1
            known.add((_bytes(account['user']), _bytes(key['fingerprint'])))
            if fields['uses']:
                used += 1
    # logins with a key the audit found on no line of that account (removed
    # since, or authorized through a file the audit does not read)
    elsewhere = sum(1 for pair in table.pairs if pair not in known)
    return {
        'since': records.iso(spec.since) if spec.since is not None else None,
        'logs_reach_back_to': records.iso(reaches) if reaches is not None else None,
        'window_start': records.iso(window_start) if window_start is not None else None,
        'covers_since': spec.since is not None and window_start == spec.since,
        'sources': reports,
        'complete': complete,
        'problems': problems,
        'logins': table.logins,
        'earliest_login': records.iso(table.earliest) if table.earliest is not None else None,
        'latest_login': records.iso(table.latest) if table.latest is not None else None,
        'keys_used': used,
        'keys_unused': (keys - used) if complete else None,
        'keys_used_not_found': elsewhere,
    }
