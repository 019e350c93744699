# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's syslog files (``auth.log``, ``secure``, their rotated and gzipped
copies): found, opened and scanned, bounded.

The rule of these reads (logs are root's, not an account's):

* the directory is reached by ``_fs.open_trusted_dir``'s walk from ``/``
  (every level owned by root and writable by nobody else, links only where
  root alone could have made them); the log directory itself may also be
  writable by a system group (Ubuntu's ``/var/log`` is ``root:syslog 0775``:
  a gid below 1000, never an account's own group);
* the file is opened with ``O_NOFOLLOW | O_NONBLOCK`` in that directory and
  must be a regular file; it is streamed in 1 MiB chunks, never read whole;
* a file last written before ``since`` is skipped unread; in a large plain
  file, the first line at or after ``since`` is found by bisection on the
  time stamps, so only the tail is scanned; a run reads at most
  ``max_bytes`` (newest files first), and says so when it stops;
* what cannot be read is reported as ``not read`` with the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import gzip
import os
import re
import stat
import zlib

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import open_trusted_dir
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import records

DEFAULT_LOGS = ('/var/log/auth.log', '/var/log/secure')
_CHUNK = 1024 * 1024
# A line longer than this is not a login record of sshd's (its user name and
# address are capped at 100 and 200 characters): the rest is skipped.
MAX_LINE = 64 * 1024
# Files larger than this are bisected to the first line at or after `since`.
BISECT_FROM = 16 * 1024 * 1024
_BISECT_WINDOW = 256 * 1024
_SYSTEM_GID_MAX = 999
_FLAGS = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0) \
    | getattr(os, 'O_NOCTTY', 0)


def rotated_names(base, names):
    """The names in ``names`` that are ``base`` or its rotated copies
    (``base.1``, ``base.2.gz``, ``base-20240101``, ``base-20240101.gz``),
    newest first (the live file, then by rotation number or date)."""
    pattern = re.compile(r'^%s(?:([.-])(\d+))?(\.gz)?$' % re.escape(base))
    found = []
    for name in names:
        match = pattern.match(name)
        if match is None or (match.group(3) and not match.group(2)):
            continue
        number = match.group(2)
        if number is None:
            rank = (0, 0)
        elif match.group(1) == '.':
            rank = (1, int(number))
        else:
            rank = (1, -int(number))  # dateext: a later date is newer
        found.append((rank, name))
    return [name for dummy, name in sorted(found)]


class LogRead:
    """What reading one file gave: ``status`` ``read``, ``skipped`` or ``not read``."""

    def __init__(self, path, status, reason=None):
        self.path = path
        self.status = status
        self.reason = reason
        self.bytes = 0
        self.logins = 0
        self.started_at = 0
        self.cut = False
        # the time of the file's first stamped line (how far back the logs reach)
        self.earliest = None

    def as_dict(self):
        return {'source': 'file', 'path': self.path, 'status': self.status, 'reason': self.reason,
                'bytes_read': self.bytes, 'logins': self.logins, 'from_offset': self.started_at,
                'cut': self.cut, 'earliest': records.iso(self.earliest) if self.earliest is not None else None}


def open_log_dir(directory):
    """A descriptor of ``directory`` by the trust walk (see the module doc), None
    when it does not exist; KeysmithError when it fails the rule."""
    return _open_log_dir(directory)


def _open_log_dir(directory):
    """A descriptor of ``directory`` by the trust walk (see the module doc)."""
    parent, name = os.path.split(os.path.normpath(directory))
    if not name:
        return open_trusted_dir(directory)
    parent_fd = open_trusted_dir(parent)
    if parent_fd is None:
        return None
    try:
        try:
            fd = os.open(name, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_NOFOLLOW', 0)
                         | getattr(os, 'O_CLOEXEC', 0), dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise KeysmithError('cannot open directory %s: %s' % (directory, exc.strerror))
        st = os.fstat(fd)
        mode = st.st_mode
        if (st.st_uid != 0 or mode & stat.S_IWOTH and not mode & stat.S_ISVTX
                or mode & stat.S_IWGRP and st.st_gid > _SYSTEM_GID_MAX):
            os.close(fd)
            raise KeysmithError('%s is not a directory only root (and system groups) can change (owner uid %d, '
                                'group %d, mode %04o)' % (directory, st.st_uid, st.st_gid, stat.S_IMODE(mode)))
        return fd
    finally:
        os.close(parent_fd)


def list_logs(paths):
    """[(directory, name)] of every log in ``paths`` and its rotated copies,
    newest first per path; [(path, reason)] of those that cannot be listed."""
    found = []
    problems = []
    for path in paths:
        directory, base = os.path.split(os.path.normpath(path))
        try:
            fd = _open_log_dir(directory)
        except (KeysmithError, OSError) as exc:
            problems.append((path, getattr(exc, 'msg', None) or str(exc)))
            continue
        if fd is None:
            continue
        try:
            names = os.listdir(fd)
        except OSError as exc:
            problems.append((path, 'cannot list %s: %s' % (directory, exc.strerror)))
            continue
        finally:
            os.close(fd)
        for name in rotated_names(base, names):
            found.append((directory, name))
    return found, problems


class _GzipStream:
    """``read(n)`` of a gzip file, bounded per call."""

    def __init__(self, fd):
        self.file = gzip.GzipFile(fileobj=os.fdopen(os.dup(fd), 'rb'), mode='rb')

    def read(self, size):
        return self.file.read(size)

    def close(self):
        fileobj = self.file.fileobj
        self.file.close()
        fileobj.close()


class _PlainStream:
    def __init__(self, fd):
        self.fd = fd

    def read(self, size):
        return os.read(self.fd, size)

    def close(self):
        pass


def _first_time_at(fd, offset, years):
    """(time, offset of that line) of the first stamped line starting after
    ``offset`` (within a window), or (None, None)."""
    os.lseek(fd, offset, os.SEEK_SET)
    data = os.read(fd, _BISECT_WINDOW)
    start = 0
    if offset:
        start = data.find(b'\n') + 1
        if start == 0:
            return None, None
    while start < len(data):
        end = data.find(b'\n', start)
        if end < 0:
            break
        when = records.line_time(data[start:end], years)
        if when is not None:
            return when, offset + start
        start = end + 1
    return None, None


def _gzip_first_time(fd, years):
    """The time of the first stamped line among the first bytes of a gzip file."""
    stream = _GzipStream(fd)
    try:
        data = stream.read(_BISECT_WINDOW)
    except (OSError, EOFError, zlib.error):
        return None
    finally:
        stream.close()
    for line in data.split(b'\n')[:-1]:
        when = records.line_time(line, years)
        if when is not None:
            return when
    return None


def bisect_offset(fd, size, since, years):
    """The offset of a line at or before the first line stamped at or after
    ``since``: every line from it on is scanned. Assumes the file's times rise
    (syslog appends); 0 when they cannot be read."""
    low, high = 0, size
    while high - low > _BISECT_WINDOW:
        middle = (low + high) // 2
        when, dummy = _first_time_at(fd, middle, years)
        if when is None:
            return low
        if when < since:
            low = middle
        else:
            high = middle
    return low


def scan(stream, feed, budget):
    """Hand ``stream`` to ``feed(data, end)`` in chunks of whole lines: ``data[0]``
    is the newline before the first line, ``data[:end]`` ends before the last
    line's newline. At most ``budget`` bytes: (bytes read, cut). A line longer
    than MAX_LINE is dropped whole, up to its newline: what is left of it never
    starts a line (a login text in its middle is not a record of sshd's)."""
    carry = b'\n'
    total = 0
    skipping = False
    while True:
        if total >= budget:
            return total, True
        chunk = stream.read(min(_CHUNK, budget - total))
        if not chunk:
            break
        total += len(chunk)
        if skipping:
            # the rest of an over-long line: dropped up to its newline
            newline = chunk.find(b'\n')
            if newline < 0:
                continue
            skipping = False
            data = chunk[newline:]
        else:
            data = carry + chunk
        last = data.rfind(b'\n')
        if last <= 0:
            if len(data) <= MAX_LINE:
                carry = data
            else:
                carry, skipping = b'\n', True
            continue
        feed(data, last)
        carry = data[last:]
        if len(carry) > MAX_LINE:
            carry, skipping = b'\n', True
    if len(carry) > 1 and not skipping:
        feed(carry + b'\n', len(carry))
    return total, False


def read_log(directory, name, since, budget, merge):
    """Scan one log file: a LogRead; ``merge(pairs, dropped)`` with the file's
    tally (``SyslogParser.pairs``) of the logins at or after ``since``."""
    path = os.path.join(directory, name)
    try:
        dir_fd = _open_log_dir(directory)
    except (KeysmithError, OSError) as exc:
        return LogRead(path, 'not read', getattr(exc, 'msg', None) or str(exc))
    if dir_fd is None:
        return LogRead(path, 'not read', 'its directory is gone')
    try:
        try:
            fd = os.open(name, _FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return LogRead(path, 'not read', 'a symbolic link: not followed')
            return LogRead(path, 'not read', exc.strerror)
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return LogRead(path, 'not read', 'not a regular file')
        if since is not None and st.st_mtime < since:
            skipped = LogRead(path, 'skipped', 'last written before since')
            # every line of it is older than since: the logs reach back that far
            skipped.earliest = int(st.st_mtime)
            return skipped
        result = LogRead(path, 'read')
        years = records.YearGuess(st.st_mtime)
        compressed = name.endswith('.gz')
        if compressed:
            result.earliest = _gzip_first_time(fd, years)
            os.lseek(fd, 0, os.SEEK_SET)
            stream = _GzipStream(fd)
        else:
            result.earliest = _first_time_at(fd, 0, years)[0]
            if since is not None and st.st_size > BISECT_FROM:
                result.started_at = bisect_offset(fd, st.st_size, since, years)
            os.lseek(fd, result.started_at, os.SEEK_SET)
            stream = _PlainStream(fd)

        parser = records.SyslogParser(years, since)
        sink = parser.feed

        try:
            result.bytes, result.cut = scan(stream, sink, budget)
        except (OSError, EOFError, zlib.error) as exc:
            result.status = 'not read' if not parser.logins else 'read'
            result.reason = 'read error: %s' % exc
            result.cut = True
        finally:
            stream.close()
        result.logins = parser.logins
        merge(parser.pairs(), parser.dropped)
        return result
    finally:
        os.close(fd)
