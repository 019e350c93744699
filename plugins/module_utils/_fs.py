# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Safe file access below a trusted base directory.

Everything below the base (an account's home, or the parent of an explicit
path) is reached through directory file descriptors with ``O_NOFOLLOW``, so a
symlink planted in ``~/.ssh`` cannot redirect a read or a write elsewhere
(unless the task sets ``follow``). Files are written atomically: a temporary
file in the same directory, fsync, rename, fsync of the directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import os
import stat
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    KeysmithError,
    NotFound,
    UnsafePath,
)

# authorized_keys of tens of thousands of lines are a few MiB; anything larger
# is not a file this collection manages.
MAX_READ_BYTES = 64 * 1024 * 1024

_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


class FileState:
    """What a file is now (``exists`` False when it or a parent is missing)."""

    def __init__(self, path, exists=False, data=None, mode=None, uid=None, gid=None):
        self.path = path
        self.exists = exists
        self.data = data
        self.mode = mode
        self.uid = uid
        self.gid = gid

    def attrs_differ(self, mode, uid, gid):
        if not self.exists:
            return False
        return (self.mode != mode or (uid is not None and self.uid != uid)
                or (gid is not None and self.gid != gid))


class DirState:
    def __init__(self, path, exists=False, mode=None, uid=None, gid=None):
        self.path = path
        self.exists = exists
        self.mode = mode
        self.uid = uid
        self.gid = gid


def read_fd(fd):
    """All bytes from an open file descriptor."""
    chunks = []
    while True:
        chunk = os.read(fd, 1024 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
    return b''.join(chunks)


def split_under(base, path):
    """Split absolute ``path`` into (trusted base, [dir parts], file name).

    A path inside ``base`` is walked from ``base``; any other path trusts its
    own parent directory (the task named it explicitly).
    """
    path = os.path.normpath(path)
    if base:
        base = os.path.normpath(base)
        rel = os.path.relpath(path, base)
        if rel != '.' and not rel.startswith('..' + os.sep) and rel != '..':
            parts = rel.split(os.sep)
            return base, parts[:-1], parts[-1]
    return os.path.dirname(path), [], os.path.basename(path)


class Tree:
    """A trusted base directory and the rules for what lies below it.

    ``uid``/``gid``: the account that must own what is created (``None`` keeps
    the running user's). ``allowed_owners``: uids that may own existing
    directories and files below the base (the account and root); anything else
    is refused. ``follow``: the task allows symlinks below the base.
    """

    def __init__(self, base, uid=None, gid=None, follow=False, allowed_owners=None,
                 create_base=False):
        if not os.path.isabs(base):
            raise UnsafePath('%r is not an absolute path' % base)
        self.base = os.path.normpath(base)
        self.uid = uid
        self.gid = gid
        self.follow = follow
        self.create_base = create_base
        if allowed_owners is None:
            allowed_owners = set([0, os.geteuid()])
            if uid is not None:
                allowed_owners.add(uid)
        self.allowed_owners = set(allowed_owners)

    def path(self, parts, name=None):
        items = [self.base] + list(parts)
        if name is not None:
            items.append(name)
        return os.path.join(*items)

    # ------------------------------------------------------------------ reading
    def _open_base(self):
        try:
            return os.open(self.base, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            if exc.errno == errno.ENOTDIR:
                raise UnsafePath('%s is not a directory' % self.base)
            raise KeysmithError('cannot open directory %s: %s' % (self.base, exc.strerror))

    def _open_child_dir(self, dir_fd, name, parent_path):
        """Open directory ``name`` below ``dir_fd``, refusing symlinks and
        directories owned by strangers. Returns None when it does not exist."""
        path = os.path.join(parent_path, name)
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise KeysmithError('cannot inspect %s: %s' % (path, exc.strerror))
        if stat.S_ISLNK(st.st_mode) and not self.follow:
            raise UnsafePath('%s is a symbolic link; refusing to follow it '
                             '(set follow: true if this is intended)' % path, path=path)
        flags = os.O_RDONLY | _DIRECTORY | _CLOEXEC
        if not self.follow:
            flags |= _NOFOLLOW
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                raise UnsafePath('%s exists but is not a directory' % path, path=path)
            raise KeysmithError('cannot open directory %s: %s' % (path, exc.strerror))
        self._check_owner(os.fstat(fd), path, fd)
        return fd

    def _check_owner(self, st, path, fd=None):
        if st.st_uid not in self.allowed_owners:
            if fd is not None:
                os.close(fd)
            raise UnsafePath('%s is owned by uid %d, not by the account or root; refusing to use it'
                             % (path, st.st_uid), path=path)

    def _walk(self, parts):
        """Open the directory at ``parts`` read-only; None when any part is
        missing. Caller closes the returned fd."""
        fd = self._open_base()
        if fd is None:
            return None
        current = self.base
        for part in parts:
            child = self._open_child_dir(fd, part, current)
            os.close(fd)
            if child is None:
                return None
            fd = child
            current = os.path.join(current, part)
        return fd

    def list_names(self, parts):
        """Sorted names of the entries of the directory at ``parts`` ([] when it
        is missing), reached with the same checks as ``read``."""
        fd = self._walk(parts)
        if fd is None:
            return []
        try:
            return sorted(os.listdir(fd))
        finally:
            os.close(fd)

    def base_exists(self):
        return os.path.isdir(self.base)

    def dir_state(self, parts):
        path = self.path(parts)
        fd = self._walk(parts)
        if fd is None:
            return DirState(path)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        return DirState(path, True, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)

    def read(self, parts, name):
        """The current state of file ``name`` in the directory at ``parts``."""
        path = self.path(parts, name)
        dir_fd = self._walk(parts)
        if dir_fd is None:
            return FileState(path)
        try:
            return self._read_in(dir_fd, name, path)
        finally:
            os.close(dir_fd)

    def read_in(self, dir_fd, parts, name):
        """Like ``read`` but in the already open directory ``dir_fd`` (the fd
        ``locked(parts)`` yields), so a read-modify-write under the lock reads
        the very directory it then writes to."""
        return self._read_in(dir_fd, name, self.path(parts, name))

    def _open_existing(self, dir_fd, name, path):
        """Open existing file ``name`` for reading after the safety checks.

        Returns ``(fd, stat)``, or ``(None, None)`` when it does not exist.
        """
        try:
            lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None, None
            raise KeysmithError('cannot inspect %s: %s' % (path, exc.strerror))
        if stat.S_ISLNK(lst.st_mode) and not self.follow:
            raise UnsafePath('%s is a symbolic link; refusing to follow it '
                             '(set follow: true if this is intended)' % path, path=path)
        flags = os.O_RDONLY | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0)
        if not self.follow:
            flags |= _NOFOLLOW
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None, None
            if exc.errno == errno.ELOOP:
                raise UnsafePath('%s is a symbolic link; refusing to follow it' % path, path=path)
            raise KeysmithError('cannot open %s: %s' % (path, exc.strerror))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePath('%s is not a regular file' % path, path=path)
            if st.st_nlink > 1 and not self.follow:
                # A hard link could expose another file's content (a diff of
                # /etc/shadow) or make a write land in two places.
                raise UnsafePath('%s has %d hard links; refusing to use it' % (path, st.st_nlink), path=path)
            self._check_owner(st, path)
            if st.st_size > MAX_READ_BYTES:
                raise UnsafePath('%s is larger than %d bytes' % (path, MAX_READ_BYTES), path=path)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _read_in(self, dir_fd, name, path):
        fd, st = self._open_existing(dir_fd, name, path)
        if fd is None:
            return FileState(path)
        try:
            data = read_fd(fd)
        finally:
            os.close(fd)
        return FileState(path, True, data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)

    # ------------------------------------------------------------------ writing
    def _chown(self, fd, path):
        if self.uid is None:
            return
        st = os.fstat(fd)
        gid = self.gid if self.gid is not None else st.st_gid
        if st.st_uid == self.uid and st.st_gid == gid:
            return
        try:
            os.fchown(fd, self.uid, gid)
        except OSError as exc:
            if exc.errno == errno.EPERM:
                raise KeysmithError('cannot give %s to uid %d: permission denied '
                                    '(run the task as root, for example with become: true)'
                                    % (path, self.uid), path=path)
            raise

    def _ensure_base(self):
        fd = self._open_base()
        if fd is not None:
            return fd
        if not self.create_base:
            raise NotFound('directory %s does not exist' % self.base, path=self.base)
        os.makedirs(self.base, 0o700)
        fd = self._open_base()
        self._chown(fd, self.base)
        os.fchmod(fd, 0o700)
        return fd

    @contextlib.contextmanager
    def directory(self, parts, mode=0o700, create=True):
        """Open (creating when missing) the directory at ``parts``; yields its fd.

        Created directories get ``mode`` and the account as owner.
        """
        fd = self._ensure_base()
        current = self.base
        try:
            for part in parts:
                child = self._open_child_dir(fd, part, current)
                path = os.path.join(current, part)
                if child is None:
                    if not create:
                        raise NotFound('directory %s does not exist' % path, path=path)
                    try:
                        os.mkdir(part, 0o700, dir_fd=fd)
                    except OSError as exc:
                        if exc.errno != errno.EEXIST:
                            raise KeysmithError('cannot create %s: %s' % (path, exc.strerror))
                    child = self._open_child_dir(fd, part, current)
                    if child is None:
                        raise KeysmithError('directory %s vanished while being created' % path)
                    self._chown(child, path)
                    os.fchmod(child, mode)
                    os.fsync(fd)
                os.close(fd)
                fd = child
                current = path
            yield fd
        finally:
            os.close(fd)

    def ensure_dir(self, parts, mode):
        """Create the directory at ``parts`` if needed; give it ``mode`` and the account as owner."""
        with self.directory(parts, mode=mode) as fd:
            self._chown(fd, self.path(parts))
            os.fchmod(fd, mode)

    @contextlib.contextmanager
    def locked(self, parts):
        """Hold an exclusive advisory lock on the directory at ``parts``.

        Locking the directory rather than the file survives the rename of an
        atomic write and leaves no lock file behind.
        """
        with self.directory(parts) as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def write(self, parts, name, data, mode, dir_fd=None):
        """Atomically replace file ``name`` with ``data``, owned by the account."""
        if dir_fd is not None:
            return self._write_in(dir_fd, parts, name, data, mode)
        with self.directory(parts) as fd:
            return self._write_in(fd, parts, name, data, mode)

    def _write_in(self, dir_fd, parts, name, data, mode):
        path = self.path(parts, name)
        # The same checks as a read: a symlink, hard link, stranger's file or
        # non-file is refused rather than silently replaced by the rename.
        fd, _st = self._open_existing(dir_fd, name, path)
        if fd is not None:
            os.close(fd)
            if self.follow and os.path.islink(path):
                return self._write_followed(path, data, mode)
        tmp = '.%s.%s.tmp' % (name, os.urandom(6).hex())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                self._chown(fd, path)
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            raise
        os.fsync(dir_fd)
        return path

    def _write_followed(self, path, data, mode):
        """``follow: true``: write where the symlink points, still atomically."""
        real = os.path.realpath(path)
        target = Tree(os.path.dirname(real), self.uid, self.gid, follow=False,
                      allowed_owners=self.allowed_owners)
        return target.write([], os.path.basename(real), data, mode)

    def set_attrs(self, parts, name, mode):
        """Fix owner and mode of an existing file without rewriting it."""
        path = self.path(parts, name)
        with self.directory(parts, create=False) as dir_fd:
            fd, _st = self._open_existing(dir_fd, name, path)
            if fd is None:
                raise NotFound('%s does not exist' % path, path=path)
            try:
                self._chown(fd, path)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)

    def remove(self, parts, name):
        path = self.path(parts, name)
        with self.directory(parts, create=False) as dir_fd:
            try:
                os.unlink(name, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise KeysmithError('cannot remove %s: %s' % (path, exc.strerror))
            os.fsync(dir_fd)
        return path

    def backup(self, parts, name, data, mode, dir_fd=None):
        """Keep ``data`` (the file's previous content) next to it, named as
        Ansible's ``backup_local`` names backups. Returns the backup path."""
        stamp = time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime())
        backup_name = '%s.%d.%s~' % (name, os.getpid(), stamp)
        self.write(parts, backup_name, data, mode, dir_fd=dir_fd)
        return self.path(parts, backup_name)


# ---------------------------------------------------------------------------
# Read-only inspection for audits (authorized_keys_info): paths are looked at
# the way sshd looks at them (stat and realpath follow symlinks), but nothing
# is ever written and reads are non-blocking, regular files only, bounded.

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


def stat_path(path):
    """PathStat of ``path`` (``exists`` False when it cannot be reached)."""
    try:
        return PathStat(path, os.stat(path))
    except OSError:
        return PathStat(path)


def real_path(path):
    """The canonical path sshd's ``realpath`` gives (symlinks resolved)."""
    return os.path.realpath(path)


def read_for_audit(path, max_bytes=MAX_READ_BYTES):
    """Read ``path`` as sshd opens an ``authorized_keys`` file, for a report.

    Returns (PathStat of the opened file or None, data or None, truncated).
    A FIFO or device is not read (non-blocking open, regular files only), and
    at most ``max_bytes`` are read.
    """
    flags = os.O_RDONLY | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0)
    try:
        before = os.stat(path)
    except OSError:
        return None, None, False
    if not stat.S_ISREG(before.st_mode):
        # Never opened: as root, opening a device can have side effects
        # (a tape rewinds, a modem hangs up) that sshd, opening as the user, could not cause.
        return PathStat(path, before), None, False
    try:
        fd = os.open(path, flags)
    except OSError:
        return None, None, False
    try:
        st = os.fstat(fd)
        info = PathStat(path, st)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            return info, None, False
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b''.join(chunks)
        return info, data[:max_bytes], len(data) > max_bytes
    finally:
        os.close(fd)


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
