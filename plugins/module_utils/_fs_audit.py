# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads for audits: as the account, following links like sshd.

The rule of this file (the audit's side of the file layer; the
descriptor-relative trust layer for writes is ``_fs``):

* paths are followed as the kernel follows them when sshd opens them:
  symbolic links anywhere, ``..`` after a symlinked directory resolved by the
  kernel, never normalised by string operations;
* an ``authorized_keys`` file is opened with the account's own rights, as
  sshd's ``temporarily_use_uid`` does before ``auth_openfile``: effective uid
  and gid of the account and its groups (``initgroups``). As root this
  happens in one helper process (:class:`AccountReader`) whose real and saved
  uid stay 0, so it switches to the next account as sshd does; the module
  process itself never changes its credentials. Without root, only the
  process's own account can be judged: any other file that exists is *not
  audited* and its content is dropped;
* ``open(O_RDONLY|O_NONBLOCK)`` and ``fstat``: anything but a regular file
  is refused (a FIFO or device is not even opened: it is refused by ``stat``
  first); at most ``max_bytes`` are read and a longer file is marked truncated;
* nothing is ever written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import struct

from ansible_collections.keysmith.accounts.plugins.module_utils._fs import MAX_READ_BYTES

_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
_READ_FLAGS = os.O_RDONLY | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0)
_CHUNK = 1024 * 1024


class PathStat:
    """``stat`` of a path, following symlinks as sshd's ``stat``/``fstat`` do."""

    def __init__(self, path, st=None):
        self.path = path
        self.exists = st is not None
        self.is_dir = bool(st is not None and stat.S_ISDIR(st.st_mode))
        self.is_file = bool(st is not None and stat.S_ISREG(st.st_mode))
        self.mode = stat.S_IMODE(st.st_mode) if st is not None else None
        self.uid = st.st_uid if st is not None else None
        self.gid = st.st_gid if st is not None else None
        # whole seconds: the last change of the content (the owner can set it with utime) and of the
        # inode (the kernel's clock only: never earlier than any write of the content now in it)
        self.mtime = int(st.st_mtime) if st is not None else None
        self.ctime = int(st.st_ctime) if st is not None else None


def stat_path(path):
    """PathStat of ``path`` (``exists`` False when it cannot be reached)."""
    try:
        return PathStat(path, os.stat(path))
    except OSError:
        return PathStat(path)


def real_path(path):
    """The canonical path sshd's ``realpath`` gives (symlinks resolved before
    each ``..``, as the kernel resolves them)."""
    return os.path.realpath(path)


def _open_as_sshd(path):
    """Open ``path`` with the current credentials as ``auth_openfile`` does.

    Returns (errno or 0, stat result or None, descriptor or None): a
    descriptor only for a regular file (refused otherwise, with its stat).
    """
    try:
        before = os.stat(path)
    except OSError as exc:
        return exc.errno or errno.EIO, None, None
    if not stat.S_ISREG(before.st_mode):
        # Never opened: a device can have side effects on open (a tape rewinds).
        return 0, before, None
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        return exc.errno or errno.EIO, None, None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return exc.errno or errno.EIO, None, None
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        return 0, st, None
    return 0, st, fd


def _read_capped(fd, max_bytes, sink):
    """Hand at most ``max_bytes`` of ``fd`` to ``sink``: (truncated, errno or 0)."""
    left = max_bytes + 1
    total = 0
    while left > 0:
        try:
            chunk = os.read(fd, min(left, _CHUNK))
        except OSError as exc:
            return False, exc.errno or errno.EIO
        if not chunk:
            break
        left -= len(chunk)
        total += len(chunk)
        if total > max_bytes:
            chunk = chunk[:len(chunk) - (total - max_bytes)]
        if chunk:
            sink(chunk)
    return total > max_bytes, 0


def _read_open(path, max_bytes):
    """(errno or 0, stat or None, data or None, truncated) with the current credentials."""
    err, st, fd = _open_as_sshd(path)
    if fd is None:
        return err, st, None, False
    chunks = []
    try:
        truncated, err = _read_capped(fd, max_bytes, chunks.append)
    finally:
        os.close(fd)
    if err:
        return err, None, None, False
    return 0, st, b''.join(chunks), truncated


def read_for_audit(path, max_bytes=MAX_READ_BYTES):
    """Read ``path`` with this process's own rights, for a report.

    Returns (PathStat of the opened file or None, data or None, truncated).
    A FIFO or device is not read (regular files only), at most ``max_bytes``.
    """
    err, st, data, truncated = _read_open(path, max_bytes)
    if st is None:
        return None, None, False
    return PathStat(path, st), data, truncated


def read_config_file(path, max_bytes=1024 * 1024):
    """Bytes of a small configuration file (sshd_config), or None when missing."""
    dummy, data, dummy2 = read_for_audit(path, max_bytes)
    return data


def list_dir(path):
    """Sorted entry names of directory ``path`` ([] when it cannot be listed)."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


# ---------------------------------------------------------------------------
# Reading as the account

class AccountRead:
    """What opening a file as the account gave.

    ``status``: ``'read'`` (a regular file, ``data`` holds at most the cap),
    ``'not a regular file'``, ``'missing'`` (ENOENT or ENOTDIR as the account
    sees it), ``'denied'`` (the account cannot reach or open it: EACCES and
    other errors), or ``'not audited'`` (this process cannot read with the
    account's rights; ``reason`` says why). Only ``'read'`` carries data.
    """

    def __init__(self, path, status, info=None, data=None, truncated=False, reason=None, error=0):
        self.path = path
        self.status = status
        self.errno = error
        self.info = info
        self.data = data
        self.truncated = truncated
        self.reason = reason

    @property
    def audited(self):
        return self.status != 'not audited'


def _verdict(path, err, st, data, truncated):
    if err in (errno.ENOENT, errno.ENOTDIR):
        return AccountRead(path, 'missing', reason=os.strerror(err), error=err)
    if err:
        return AccountRead(path, 'denied', reason=os.strerror(err), error=err)
    info = PathStat(path, st)
    if not info.is_file or data is None:
        return AccountRead(path, 'not a regular file', info=info)
    return AccountRead(path, 'read', info=info, data=data, truncated=truncated)


# Request: uid, gid, number of groups, byte cap, path length; then the groups
# and the path. Reply: errno (0: opened or refused as not regular), 0 (no
# stat) / 1 (stat, not opened: not a regular file) / 2 (opened), st_mode,
# st_uid, st_gid, st_mtime, st_ctime (whole seconds); then chunks (length + bytes) up to
# an empty one; then the truncated flag.
_REQUEST = struct.Struct('!IIIQI')
_REPLY = struct.Struct('!iBQQQqq')
_CHUNK_HEADER = struct.Struct('!I')
_TRAILER = struct.Struct('!Bi')
_SWITCH_FAILED = -1


def _read_exact(fd, size):
    parts = []
    while size > 0:
        chunk = os.read(fd, min(size, _CHUNK))
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b''.join(parts)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _serve(requests, replies):
    """The reader process: one request at a time, each with the account's
    credentials as sshd's ``temporarily_use_uid`` sets them, then back to root."""
    own_groups = os.getgroups()
    own_gid = os.getegid()
    while True:
        header = _read_exact(requests, _REQUEST.size)
        if header is None:
            return
        uid, gid, count, max_bytes, length = _REQUEST.unpack(header)
        groups = list(struct.unpack('!%dI' % count, _read_exact(requests, 4 * count))) if count else []
        path = _read_exact(requests, length) if length else b''
        try:
            os.setgroups(groups)
            os.setegid(gid)
            os.seteuid(uid)
        except OSError as exc:
            # Not switched (a uid this kernel cannot map, ...): nothing is opened.
            os.seteuid(0)
            os.setegid(own_gid)
            os.setgroups(own_groups)
            _write_all(replies, _REPLY.pack(_SWITCH_FAILED, 0, exc.errno or errno.EPERM, 0, 0, 0, 0)
                       + _CHUNK_HEADER.pack(0) + _TRAILER.pack(0, 0))
            continue
        try:
            err, st, fd = _open_as_sshd(path)
            opened = 0 if st is None else (2 if fd is not None else 1)
            _write_all(replies, _REPLY.pack(err, opened, st.st_mode if st else 0, st.st_uid if st else 0,
                                            st.st_gid if st else 0, int(st.st_mtime) if st else 0,
                                            int(st.st_ctime) if st else 0))
            truncated, read_err = False, 0
            if fd is not None:
                try:
                    truncated, read_err = _read_capped(
                        fd, max_bytes, lambda chunk: _write_all(replies, _CHUNK_HEADER.pack(len(chunk)) + chunk))
                finally:
                    os.close(fd)
            _write_all(replies, _CHUNK_HEADER.pack(0) + _TRAILER.pack(truncated, read_err))
        finally:
            # Back to root before anything else (if that fails, the exception ends this process).
            os.seteuid(0)
            os.setegid(own_gid)
            os.setgroups(own_groups)


class AccountReader:
    """Opens files as sshd opens them for an account (see the module doc).

    As root, one reader process serves every request of the audit, switching
    its effective credentials per request; :meth:`close` ends it. Not as root,
    files are read in this process with its own rights and judged only for its
    own account.
    """

    def __init__(self, max_bytes=MAX_READ_BYTES):
        self.max_bytes = max_bytes
        self.as_root = os.geteuid() == 0
        self.pid = None
        self.requests = None
        self.replies = None
        self.started = 0

    def _start(self):
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process
            code = 1
            try:
                os.close(request_write)
                os.close(reply_read)
                _serve(request_read, reply_write)
                code = 0
            finally:
                os._exit(code)
        os.close(request_read)
        os.close(reply_write)
        self.pid, self.requests, self.replies = pid, request_write, reply_read
        self.started += 1

    def close(self):
        if self.pid is None:
            return
        os.close(self.requests)
        os.close(self.replies)
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.pid = self.requests = self.replies = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def read(self, path, uid, gid, groups, name=None):
        """AccountRead of ``path`` opened as the account (uid, gid, groups)."""
        who = name or 'uid %d' % uid
        if not self.as_root:
            return self._read_without_root(path, uid, who)
        try:
            return self._ask(path, uid, gid, groups)
        except (OSError, struct.error, TypeError) as exc:
            # The reader died (killed, out of memory): this file is not judged; the next request starts a new one.
            self.close()
            return AccountRead(path, 'not audited', reason='the reader process failed on %s: %s' % (path, exc))

    def _ask(self, path, uid, gid, groups):
        if self.pid is None:
            self._start()
        raw = os.fsencode(path)
        groups = sorted(set(groups) | set([gid]))
        _write_all(self.requests, _REQUEST.pack(uid, gid, len(groups), self.max_bytes, len(raw))
                   + struct.pack('!%dI' % len(groups), *groups) + raw)
        err, opened, mode, st_uid, st_gid, st_mtime, st_ctime = _REPLY.unpack(self._exact(_REPLY.size))
        chunks = []
        while True:
            size = _CHUNK_HEADER.unpack(self._exact(_CHUNK_HEADER.size))[0]
            if not size:
                break
            chunks.append(self._exact(size))
        truncated, read_err = _TRAILER.unpack(self._exact(_TRAILER.size))
        if err == _SWITCH_FAILED:
            return AccountRead(path, 'not audited', reason='cannot take the rights of uid %d: %s'
                               % (uid, os.strerror(mode)))
        if read_err:
            return AccountRead(path, 'denied', reason='read error: %s' % os.strerror(read_err), error=read_err)
        st = os.stat_result((mode, 0, 0, 0, st_uid, st_gid, 0, 0, st_mtime, st_ctime)) if opened else None
        return _verdict(path, err, st, b''.join(chunks) if opened == 2 else None, bool(truncated))

    def _exact(self, size):
        data = _read_exact(self.replies, size)
        if data is None:
            raise OSError(errno.EPIPE, 'the reader process ended')
        return data

    def _read_without_root(self, path, uid, who):
        err, st, data, truncated = _read_open(path, self.max_bytes)
        if uid == os.geteuid() or err in (errno.ENOENT, errno.ENOTDIR):
            # Its own account, or a path that does not exist for anyone.
            return _verdict(path, err, st, data, truncated)
        return AccountRead(path, 'not audited',
                           reason='not running as root: cannot open %s with the rights of %s' % (path, who))
