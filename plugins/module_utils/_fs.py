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
import pwd
import stat
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    KeysmithError,
    LockTimeout,
    NotFound,
    NotRegularFile,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils import _selinux

# authorized_keys of tens of thousands of lines are a few MiB; anything larger
# is not a file this collection manages.
MAX_READ_BYTES = 64 * 1024 * 1024

# How long a module call waits for flocks other processes hold (the account can
# hold one on its own ~/.ssh forever); modules with a lock_timeout option give
# their own to the call's ``Locks`` (never process-wide state).
DEFAULT_LOCK_TIMEOUT = 60

# Symbolic links followed on the way to a trusted directory (as the kernel's 40).
_MAX_SYMLINKS = 40

_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


_ACL_XATTR = 'system.posix_acl_access'
_ACL_USER, _ACL_GROUP_OBJ, _ACL_GROUP, _ACL_MASK = 0x02, 0x04, 0x08, 0x10


def _acl_entries(fd):
    """[(tag, perm, id)] of the POSIX access ACL of open file ``fd`` (its
    extended attribute, little-endian version 2 entries), [] without one."""
    try:
        data = os.getxattr(fd, _ACL_XATTR)
    except (OSError, AttributeError):
        return []
    entries = []
    for offset in range(4, len(data) - 7, 8):
        tag = int.from_bytes(data[offset:offset + 2], 'little')
        perm = int.from_bytes(data[offset + 2:offset + 4], 'little')
        entries.append((tag, perm, int.from_bytes(data[offset + 4:offset + 8], 'little')))
    return entries


def _acl_can_read(uid, st, groups, entries):
    """The kernel's ACL check (``acl_permission_check``) for reading, the owner aside."""
    mask = [perm for tag, perm, dummy in entries if tag == _ACL_MASK]
    mask = mask[0] if mask else 7
    for tag, perm, ident in entries:
        if tag == _ACL_USER and ident == uid:
            return bool(perm & mask & 4)
    found = False
    for tag, perm, ident in entries:
        if (tag == _ACL_GROUP_OBJ and st.st_gid in groups) or (tag == _ACL_GROUP and ident in groups):
            if perm & mask & 4:
                return True
            found = True
    if found:
        return False
    return (st.st_mode & stat.S_IROTH) != 0


def _user_can_read(uid, st, fd=None):
    """Whether account ``uid`` may read the file of stat ``st`` (mode bits,
    and the POSIX ACL of ``fd`` when given: a named entry can deny what the
    mode bits allow)."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IRUSR)
    try:
        entry = pwd.getpwuid(uid)
        groups = set(os.getgrouplist(entry.pw_name, entry.pw_gid))
    except KeyError:
        groups = set()
    entries = _acl_entries(fd) if fd is not None else []
    if entries:
        return _acl_can_read(uid, st, groups, entries)
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


def read_named_file(path, limit=MAX_READ_BYTES):
    """The bytes of a file a task names by path (``ssh_authkey file=``), or
    None when it does not exist.

    Its directory is reached by the trust walk; the file itself is opened
    without following a symbolic link and must be a regular file. When an
    account (not root) controls the directory, it could have hard-linked any
    file there: the file must then be one that account can read itself, so
    root never discloses what the account could not see.
    """
    path = os.path.normpath(path)
    directory, name = os.path.dirname(path), os.path.basename(path)
    dir_fd = open_trusted_dir(directory, any_owner=True)
    if dir_fd is None:
        return None
    try:
        controllers = set()
        dir_st = os.fstat(dir_fd)
        if dir_st.st_uid not in (0, os.geteuid()):
            controllers.add(dir_st.st_uid)
        try:
            lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise KeysmithError('cannot inspect %s: %s' % (path, exc.strerror), path=path)
        if stat.S_ISLNK(lst.st_mode):
            raise UnsafePath('%s is a symbolic link; refusing to follow it (name the file it points to)'
                             % path, path=path)
        if not stat.S_ISREG(lst.st_mode):
            raise NotRegularFile('%s is not a regular file' % path, path=path)
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0)
                         | getattr(os, 'O_NOCTTY', 0), dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise KeysmithError('cannot open %s: %s' % (path, exc.strerror), path=path)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFile('%s is not a regular file' % path, path=path)
            for uid in controllers:
                if not _user_can_read(uid, st, fd):
                    raise UnsafePath('%s lies in a directory of uid %d, who cannot read it (mode %04o, owner uid '
                                     '%d): it could be a planted link to a file that account must not see; '
                                     'refusing to read it' % (path, uid, stat.S_IMODE(st.st_mode), st.st_uid),
                                     path=path)
            if st.st_size > limit:
                raise UnsafePath('%s is larger than %d bytes' % (path, limit), path=path)
            return read_fd(fd, limit, path)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


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


# ``Tree.lock_ahead`` of a directory that does not exist yet.
MISSING = 'missing'


def check_lock_timeout(seconds):
    """``lock_timeout`` as given by a task: seconds, 0 or more."""
    if seconds is not None and seconds < 0:
        raise InvalidInput('lock_timeout must be 0 or more seconds, got %r' % (seconds,))
    return seconds


def read_fd(fd, limit=MAX_READ_BYTES, path=None):
    """The bytes of an open file descriptor, at most ``limit``.

    The limit holds while reading: a file the account grows after ``fstat``
    stops the read at ``limit`` bytes and fails (``UnsafePath``) instead of
    filling memory.
    """
    chunks = []
    total = 0
    # A regular file is read in one piece of its size (chunks joined after the
    # read held a 64 MiB file twice); what it grew meanwhile is read on.
    try:
        info = os.fstat(fd)
        first = info.st_size + 1 if stat.S_ISREG(info.st_mode) else 0
    except OSError:
        first = 0
    while True:
        chunk = os.read(fd, min(max(first, 1024 * 1024), limit + 1 - total))
        first = 0
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise UnsafePath('%s is larger than %d bytes' % (path or 'the file', limit), path=path)
    return b''.join(chunks)


def read_head(fd, size):
    """At most the first ``size`` bytes of an open file descriptor."""
    chunks = []
    total = 0
    while total < size:
        chunk = os.read(fd, size - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b''.join(chunks)


def _try_flock(fd):
    """Take an exclusive ``flock`` on ``fd`` without waiting: False when another holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
    return False


def _dir_key(fd):
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


class Locks:
    """The flocks of one module call, passed explicitly to what takes them.

    ``timeout`` (the task's ``lock_timeout``) bounds the waits of the whole
    call, not of each lock: one deadline, started when a lock is first found
    held by another process and shared by every later wait, so N accounts
    holding their ``~/.ssh`` cost one wait, not N. A caller that applies many
    plans takes the locks it can without waiting (``hold``), comes back to the
    others (``pause``) until the deadline, and keeps what it holds until
    ``release``; ``Tree.locked`` of a directory held here uses that lock."""

    def __init__(self, timeout=None, clock=time.monotonic, sleep=time.sleep):
        if timeout is None:
            timeout = DEFAULT_LOCK_TIMEOUT
        self.timeout = check_lock_timeout(timeout)
        self.deadline = None
        self._clock = clock
        self._sleep = sleep
        self._delay = 0.01
        self._held = {}   # (st_dev, st_ino) -> fd

    def remaining(self):
        """Seconds left of the call's one wait (it starts with the first call)."""
        now = self._clock()
        if self.deadline is None:
            self.deadline = now + max(self.timeout, 0)
        return max(self.deadline - now, 0)

    def expired(self):
        return self.remaining() <= 0

    def pause(self):
        """Sleep a little (more each time, never past the deadline) before trying again."""
        self._sleep(min(self._delay, self.remaining()))
        self._delay = min(self._delay * 2, 0.5)

    def hold(self, fd):
        """Take the lock of the open directory ``fd`` now, without waiting,
        and keep it (and ``fd``, which now belongs to this object) until
        ``release``. Returns its key, or None when another process holds it."""
        key = _dir_key(fd)
        if key in self._held:
            os.close(fd)
            return key
        if not _try_flock(fd):
            os.close(fd)
            return None
        self._held[key] = fd
        return key

    def holds(self, fd):
        return bool(self._held) and _dir_key(fd) in self._held

    def release(self, keys=None):
        """Release the locks of ``keys`` (all when None)."""
        for key in list(self._held) if keys is None else keys:
            fd = self._held.pop(key, None)
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

    def timed_out(self, path):
        return LockTimeout('timed out after %s seconds waiting for the lock (flock) on %s: another process '
                           'holds it (for example the account, with flock %s); retry later or raise '
                           'lock_timeout (one wait for the whole task, whatever the number of locks)'
                           % (self.timeout, path, path), path=path)


def wait_for_lock(fd, path, timeout=None, locks=None):
    """Take an exclusive ``flock`` on ``fd``, waiting at most what is left of
    the call's one lock wait (``locks``, a ``Locks``; else ``timeout`` seconds).

    The account owns the directories locked and can hold a lock forever; a
    bounded wait turns that into a clear error (``LockTimeout``) naming the lock.
    """
    if locks is None:
        if timeout is None:
            timeout = DEFAULT_LOCK_TIMEOUT
        locks = Locks(timeout)
    while True:
        if _try_flock(fd):
            return
        if locks.expired():
            raise locks.timed_out(path)
        locks.pause()


# The file whose flock serialises this collection's user and group creations.
USER_DATABASE_LOCK = '/etc/shadow'


@contextlib.contextmanager
def user_database_lock(locks=None, path=USER_DATABASE_LOCK):
    """Hold an flock that serialises this collection's ``useradd``/``groupadd``
    runs: two concurrent ``useradd`` of one name can both succeed, so the
    check "does it exist now" and the creation must be one step. The lock is
    taken on ``/etc/shadow``, which only root (and group shadow) can open, so
    no account can hold it; it is not the lock ``useradd`` itself takes.
    Waits at most what is left of ``locks`` (the call's ``Locks``)."""
    dir_fd = open_trusted_dir(os.path.dirname(path))
    fd = None
    try:
        if dir_fd is not None:
            try:
                fd = os.open(os.path.basename(path), os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0),
                             dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ELOOP, errno.EACCES, errno.EPERM):
                    raise
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    if fd is None:
        # no such file, a link, or not root (useradd then fails with its own
        # message): nothing to serialise on; useradd's own checks remain
        yield
        return
    try:
        wait_for_lock(fd, path, locks=locks)
        yield
    finally:
        os.close(fd)


def _label_new_dir(dir_fd, name, path):
    """SELinux: the default context of the directory ``name`` just made
    below ``dir_fd`` (``open_trusted_dir``), by its descriptor; opened without
    following a link (what the walk finds there next is checked as usual)."""
    if _selinux.enabled() is None:
        return
    try:
        fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        _selinux.set_default_context(fd, path, stat.S_IFDIR)
    finally:
        os.close(fd)


def _writable_by_others(st):
    """Whether someone other than the owner (and root's group) may change the
    entries of directory ``st``: a sticky bit keeps them from renaming or
    removing entries they do not own (``/tmp``)."""
    if st.st_mode & stat.S_ISVTX:
        return False
    return bool(st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and st.st_gid != 0))


def _restart_at_root(fd):
    """Close ``fd`` and start a walk again at /: (fd, path, in_account_tree, stat)."""
    os.close(fd)
    fd = os.open('/', os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    return fd, '/', False, os.fstat(fd)


def open_trusted_dir(path, owners=None, create=False, create_mode=0o700, final_link=True, any_owner=False,
                     made=None):
    """Open directory ``path`` walking from ``/`` with a descriptor per level.

    The trust rule: each directory on the way must be owned by root or the
    user running the module, and not writable by others (unless sticky), until
    the walk enters a directory owned by one of ``owners`` (the account); from
    there on every directory must be owned by root, the running user or the
    account. A symbolic link is followed only where nobody but root (or the
    running user) could have planted it: owned by them, in a directory the rule
    trusts, before any account-owned level. Every component is opened with
    ``O_NOFOLLOW`` relative to the previous descriptor, so nothing is resolved
    by path again between the check and the use.

    Returns the fd (caller closes), or None when a component is missing
    (``create``: missing components are made, the last one with
    ``create_mode``, intermediate ones with 0755). ``final_link`` False
    refuses a symbolic link as the last component even where one is trusted.
    ``made`` (a list): the paths this call created are appended to it (a
    directory another process created first is not: exact under races).
    ``any_owner`` (reading only, ``read_named_file``): directories of any
    owner are accepted, the walk then counts as inside an account's tree.
    """
    if not os.path.isabs(path):
        raise UnsafePath('%r is not an absolute path' % path)
    trusted_uids = set([0, os.geteuid()])
    account_uids = set(owners or ()) - trusted_uids
    pending = [p for p in os.path.normpath(path).split('/') if p]
    pending.reverse()
    fd = os.open('/', os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    current = '/'
    in_account_tree = False
    links = 0
    try:
        st = os.fstat(fd)
        while pending:
            part = pending.pop()
            if part == '..':
                # Only from a resolved symlink target: go back up by path of
                # the trusted walk, re-walking from the root.
                parent = os.path.dirname(current.rstrip('/')) or '/'
                pending.extend(reversed([p for p in parent.split('/') if p]))
                fd, current, in_account_tree, st = _restart_at_root(fd)
                continue
            if part == '.':
                continue
            child_path = os.path.join(current, part)
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    if not create:
                        os.close(fd)
                        fd = None
                        return None
                    try:
                        os.mkdir(part, create_mode if not pending else 0o755, dir_fd=fd)
                        if made is not None:
                            made.append(child_path)
                        _label_new_dir(fd, part, child_path)
                    except OSError as mkexc:
                        if mkexc.errno != errno.EEXIST:
                            raise KeysmithError('cannot create %s: %s' % (child_path, mkexc.strerror),
                                                path=child_path)
                    pending.append(part)
                    continue
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise KeysmithError('cannot open directory %s: %s' % (child_path, exc.strerror),
                                        path=child_path)
                try:
                    lst = os.stat(part, dir_fd=fd, follow_symlinks=False)
                except OSError as exc2:
                    if exc2.errno == errno.ENOENT:
                        pending.append(part)
                        continue
                    raise KeysmithError('cannot inspect %s: %s' % (child_path, exc2.strerror), path=child_path)
                if not stat.S_ISLNK(lst.st_mode):
                    raise UnsafePath('%s exists but is not a directory' % child_path, path=child_path)
                if not pending and not final_link:
                    raise UnsafePath('%s is a symbolic link; refusing to use it' % child_path, path=child_path)
                if in_account_tree or lst.st_uid not in trusted_uids or _writable_by_others(st):
                    raise UnsafePath('%s is a symbolic link an account could have planted or changed (owned by '
                                     'uid %d, in a directory not only root controls, or below an account\'s '
                                     'directory); refusing to follow it' % (child_path, lst.st_uid),
                                     path=child_path)
                links += 1
                if links > _MAX_SYMLINKS:
                    raise UnsafePath('too many symbolic links on the way to %s' % path, path=path)
                target = os.readlink(part, dir_fd=fd)
                target_parts = [p for p in target.split('/') if p]
                pending.extend(reversed(target_parts))
                if target.startswith('/'):
                    fd, current, in_account_tree, st = _restart_at_root(fd)
                continue
            child_st = os.fstat(child)
            refusal = None
            if child_st.st_uid in trusted_uids:
                # The base itself may be writable by others (/tmp): what lies
                # in it is checked entry by entry by Tree.
                if not in_account_tree and pending and _writable_by_others(child_st):
                    refusal = ('%s is writable by other users (mode %04o); refusing to trust the paths below it'
                               % (child_path, stat.S_IMODE(child_st.st_mode)))
            elif child_st.st_uid not in account_uids and not any_owner:
                refusal = ('%s is owned by uid %d, not by root or the account; that user could swap what lies '
                           'below it, refusing to use it' % (child_path, child_st.st_uid))
            if refusal is not None:
                os.close(child)
                raise UnsafePath(refusal, path=child_path)
            if child_st.st_uid not in trusted_uids:
                in_account_tree = True
            os.close(fd)
            fd = child
            st = child_st
            current = child_path
        result, fd = fd, None
        return result
    finally:
        if fd is not None:
            os.close(fd)


# ---------------------------------------------------------------------------
# follow: true. A link is followed only to a file the account could write
# itself (its own file: owned by it, readable and writable by it) or to a
# central, root-managed one (owned by root, writable by nobody else, on a path
# of directories only root can change, through links only root could have
# made). Anything else - /etc/shadow behind ~/.ssh/authorized_keys - is
# refused before it is read. A followed target keeps its owner and mode.

FOLLOWED_OWN = 'own'
FOLLOWED_CENTRAL = 'central'


def _root_only(st):
    """Only root can change it: owned by root, no write bit for group or
    others (with an ACL the group bits are its mask, which bounds every named
    user and group, so this also holds for ACLs)."""
    return st.st_uid == 0 and not st.st_mode & 0o022


def _account_owns(st, uid, is_dir=False):
    """The account's own file (readable and writable by it) or directory."""
    need = 0o700 if is_dir else 0o600
    return uid is not None and uid != 0 and st.st_uid == uid and (st.st_mode & need) == need


def _root_only_path(directory):
    """Whether ``directory`` and every directory above it only root can change."""
    current = os.path.normpath(directory)
    while True:
        try:
            st = os.stat(current)
        except OSError:
            return False
        if not _root_only(st):
            return False
        if current == '/':
            return True
        current = os.path.dirname(current)


def _resolve_links(path):
    """(real path, [trusted, ...] per link followed, exists) of absolute ``path``,
    resolved component by component as the kernel does. A link is trusted when
    root owns it and only root can change the directory holding it; any other
    link is one an account could have planted or changed."""
    pending = [p for p in os.path.normpath(path).split('/') if p]
    pending.reverse()
    current = '/'
    links = []
    while pending:
        part = pending.pop()
        if part == '.':
            continue
        if part == '..':
            current = os.path.dirname(current) or '/'
            continue
        child = os.path.join(current, part)
        try:
            lst = os.lstat(child)
        except OSError:
            rest = [child] + list(reversed(pending))
            return os.path.normpath(os.path.join(*rest)), links, False
        if not stat.S_ISLNK(lst.st_mode):
            current = child
            continue
        if len(links) >= _MAX_SYMLINKS:
            raise UnsafePath('too many symbolic links on the way to %s' % path, path=path)
        try:
            holder = os.stat(current)
        except OSError:
            holder = None
        links.append(lst.st_uid == 0 and holder is not None and _root_only(holder))
        target = os.readlink(child)
        if target.startswith('/'):
            current = '/'
        pending.extend(reversed([p for p in target.split('/') if p]))
    return current, links, True


def others_can_change(path):
    """Why someone but root could change the file at ``path`` that root
    names for sshd to read (``RevokedKeys``), or None when nobody can: the
    file root's with no write bit for group or others, every directory above
    it root's and not writable by group or others (unless sticky: nobody else
    can then rename root's entry), every link on the way one only root could
    have made. A KRL an account can rewrite revokes nothing."""
    real, links, exists = _resolve_links(path)
    if not all(links):
        return '%s goes through a symbolic link an account could have planted or changed' % path
    if not exists:
        return None
    st = os.stat(real)
    if st.st_uid != 0 or st.st_mode & 0o022:
        return '%s is owned by uid %d with mode %04o' % (real, st.st_uid, stat.S_IMODE(st.st_mode))
    current = os.path.dirname(real)
    while True:
        st = os.stat(current)
        if st.st_uid != 0 or (st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX):
            return 'its directory %s is owned by uid %d with mode %04o' % (
                current, st.st_uid, stat.S_IMODE(st.st_mode))
        if current == '/':
            return None
        current = os.path.dirname(current)


def classify_followed(path, uid, is_dir=False, hard_linked=False):
    """(real path, kind) of ``path`` for account ``uid`` under ``follow: true``.

    kind is None when nothing is followed (no link on the way, no hard link):
    the ordinary rules apply. Otherwise ``FOLLOWED_OWN`` (the account's own
    file or directory) or ``FOLLOWED_CENTRAL`` (root-managed, reached through
    root's links only); anything else raises ``UnsafePath`` - before anything
    of the target is read.
    """
    real, links, exists = _resolve_links(path)
    if not links and not hard_linked:
        return real, None
    if uid is None or uid == os.geteuid():
        # No account besides the running user: following gives it nothing it does not have.
        return real, FOLLOWED_OWN
    trusted = all(links)
    if hard_linked:
        # A second name of a file: only root could have made it where only root
        # can change the directory.
        trusted = trusted and _root_only_path(os.path.dirname(real))
    if exists:
        try:
            st = os.stat(real)
        except OSError as exc:
            raise KeysmithError('cannot inspect %s (the target of %s): %s' % (real, path, exc.strerror), path=path)
        if _account_owns(st, uid, is_dir):
            return real, FOLLOWED_OWN
        if trusted and _root_only(st) and _root_only_path(os.path.dirname(real)):
            return real, FOLLOWED_CENTRAL
        what = ('owned by uid %d, mode %04o' % (st.st_uid, stat.S_IMODE(st.st_mode)))
    else:
        parent = os.path.dirname(real)
        try:
            pst = os.stat(parent)
        except OSError:
            raise NotFound('%s leads to %s, whose directory %s does not exist' % (path, real, parent), path=path)
        if _account_owns(pst, uid, True):
            return real, FOLLOWED_OWN
        if trusted and _root_only_path(parent):
            return real, FOLLOWED_CENTRAL
        what = 'a new file in %s (owned by uid %d, mode %04o)' % (parent, pst.st_uid, stat.S_IMODE(pst.st_mode))
    raise UnsafePath(
        '%s leads to %s (%s)%s: follow only reaches the account\'s own files or a central, root-managed file '
        '(owned by root, writable by nobody else, on a path only root can change, through links only root can '
        'change); refusing to read or write it' % (
            path, real, what, '' if trusted else ', through a link the account controls'), path=path)


def followed_fits(kind, st, uid, is_dir=False):
    """Whether the opened target ``st`` is still of ``kind`` (checked on the descriptor)."""
    if kind == FOLLOWED_OWN:
        return uid is None or uid == os.geteuid() or _account_owns(st, uid, is_dir)
    return _root_only(st)


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


def account_tree(account, path, follow=False, keep_outside_home=False, fixed_attrs=None):
    """(Tree, dir parts, file name) of ``path`` for ``account``: walked from
    its home when the path lies below it (the home is created when the task
    overrides it), else from the path's own directory. What is created belongs
    to the account - except, with ``keep_outside_home``, a file outside the
    home (a central ``AuthorizedKeysFile``): it keeps its owner and mode, and a
    new one is root's. ``fixed_attrs``: (uid, gid, mode) the task gives (None
    each: not given)."""
    base, parts, name = split_under(account.home, path)
    outside = keep_outside_home and (not account.home or os.path.normpath(base) != os.path.normpath(account.home))
    tree = Tree(base, uid=account.uid, gid=account.gid, follow=follow, create_base=account.home_overridden,
                keep_attrs=outside, fixed_attrs=fixed_attrs)
    return tree, parts, name


# Every directory this process created, whichever Tree made it: a later
# "create directory" of the same run that finds it is not another run's doing.
_MADE_BY_THIS_PROCESS = set()


class _MadeHere(list):
    """A Tree's list of the directories it created, also recorded process-wide."""

    def append(self, path):
        _MADE_BY_THIS_PROCESS.add(path)
        list.append(self, path)


class Tree:
    """A trusted base directory and the rules for what lies below it.

    ``uid``/``gid``: the account that must own what is created (``None`` keeps
    the running user's). ``allowed_owners``: uids that may own existing
    directories and files below the base (the account and root); anything else
    is refused. ``follow``: the task allows symlinks below the base.
    """

    def __init__(self, base, uid=None, gid=None, follow=False, allowed_owners=None,
                 create_base=False, lock_timeout=None, keep_attrs=False, fixed_attrs=None, new_owner=(0, 0)):
        # keep_attrs: files keep their owner and mode (a central file outside
        # a home); a new one gets new_owner. fixed_attrs: (uid, gid, mode) the
        # task gives, each None when not given; never applied to a followed target.
        self.keep_attrs = keep_attrs
        self.fixed_attrs = tuple(fixed_attrs) if fixed_attrs is not None else (None, None, None)
        self.new_owner = new_owner
        # path -> (real path, kind) of what follow: true followed (classify_followed)
        self.followed = {}
        if not os.path.isabs(base):
            raise UnsafePath('%r is not an absolute path' % base)
        self.base = os.path.normpath(base)
        self.uid = uid
        self.gid = gid
        self.follow = follow
        self.create_base = create_base
        self.lock_timeout = lock_timeout
        # The directories this object created (mkdir succeeded here, not in
        # another process racing it): what a run reports as created.
        self.made = _MadeHere()
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
        """The base directory's fd, reached by the trust walk from ``/``
        (``open_trusted_dir``); None when it does not exist."""
        return open_trusted_dir(self.base, owners=self.allowed_owners)

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
        if stat.S_ISLNK(st.st_mode):
            return self._open_followed_dir(path)
        flags = os.O_RDONLY | _DIRECTORY | _CLOEXEC | _NOFOLLOW
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

    def _open_followed_dir(self, path):
        """``follow: true``: the directory a link at ``path`` leads to, when it
        is the account's own or a central root-managed one (classify_followed),
        opened by the trust walk of its real path."""
        real, kind = classify_followed(path, self.uid, is_dir=True)
        fd = open_trusted_dir(real, owners=self.allowed_owners, final_link=False)
        if fd is None:
            return None
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode) or not followed_fits(kind, st, self.uid, is_dir=True):
            os.close(fd)
            raise UnsafePath('%s (the target of %s) changed while it was checked; refusing to use it'
                             % (real, path), path=path)
        self.followed[path] = (real, kind)
        return fd

    def followed_kind(self, path):
        """``FOLLOWED_OWN``/``FOLLOWED_CENTRAL`` when ``path`` or a directory
        above it was reached through a link (follow: true), else None."""
        current = os.path.normpath(path)
        while True:
            entry = self.followed.get(current)
            if entry is not None:
                return entry[1]
            if current in (self.base, '/'):
                return None
            current = os.path.dirname(current)

    def attrs_for(self, path, current, mode):
        """(uid, gid, mode) a file written at ``path`` gets; ``current`` is the
        (uid, gid, mode) of the file there now, or None. uid None: not changed.

        A followed target keeps its owner and mode (a new file behind a link:
        the account's in its own directory, root's in a central one); a kept
        file (``keep_attrs``, outside the home) keeps them too, a new one is
        ``new_owner``'s; the task's ``fixed_attrs`` apply to files not followed.
        """
        kind = self.followed_kind(path)
        if kind is not None:
            if current is not None:
                return current
            if kind == FOLLOWED_OWN:
                return self.uid, self.gid, mode
            return 0, 0, mode
        if self.keep_attrs:
            uid, gid, mode = current if current is not None else (self.new_owner[0], self.new_owner[1], mode)
        else:
            uid, gid = self.uid, self.gid
        fixed_uid, fixed_gid, fixed_mode = self.fixed_attrs
        if fixed_uid is not None:
            uid = fixed_uid
        if fixed_gid is not None:
            gid = fixed_gid
        if fixed_mode is not None:
            mode = fixed_mode
        return uid, gid, mode

    def _give(self, fd, path, attrs):
        """Give open file ``fd`` the (uid, gid, mode) of ``attrs_for``."""
        uid, gid, mode = attrs
        if uid is not None:
            st = os.fstat(fd)
            gid = gid if gid is not None else st.st_gid
            if (st.st_uid, st.st_gid) != (uid, gid):
                try:
                    os.fchown(fd, uid, gid)
                except OSError as exc:
                    if exc.errno == errno.EPERM:
                        raise KeysmithError('cannot give %s to uid %d: permission denied '
                                            '(run the task as root, for example with become: true)'
                                            % (path, uid), path=path)
                    raise
        os.fchmod(fd, mode)

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
        fd = self._open_base()
        if fd is None:
            return False
        os.close(fd)
        return True

    def check_base(self, owner_name=None):
        """``NotFound`` now, while planning, when a write would fail for a
        missing base (a user without a home): check mode predicts the failure."""
        if self.create_base or self.base_exists():
            return
        raise NotFound('directory %s does not exist%s' % (
            self.base, ' (the home of %s)' % owner_name if owner_name else ''), path=self.base)

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

    def read(self, parts, name, limit=MAX_READ_BYTES):
        """The current state of file ``name`` in the directory at ``parts``
        (``UnsafePath`` when it holds more than ``limit`` bytes)."""
        path = self.path(parts, name)
        dir_fd = self._walk(parts)
        if dir_fd is None:
            return FileState(path)
        try:
            return self._read_in(dir_fd, name, path, limit)
        finally:
            os.close(dir_fd)

    def read_in(self, dir_fd, parts, name, limit=MAX_READ_BYTES):
        """Like ``read`` but in the already open directory ``dir_fd`` (the fd
        ``locked(parts)`` yields), so a read-modify-write under the lock reads
        the very directory it then writes to."""
        return self._read_in(dir_fd, name, self.path(parts, name), limit)

    def _open_existing(self, dir_fd, name, path, limit=MAX_READ_BYTES):
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
        if stat.S_ISLNK(lst.st_mode):
            return self._open_followed_file(path, limit)
        if not stat.S_ISREG(lst.st_mode):
            # Sockets (an ssh ControlMaster socket), fifos and devices are
            # never opened: a fifo would block, a device could act on open.
            raise NotRegularFile('%s is not a regular file' % path, path=path)
        flags = os.O_RDONLY | _CLOEXEC | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0) | _NOFOLLOW
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None, None
            if exc.errno == errno.ELOOP:
                raise UnsafePath('%s is a symbolic link; refusing to follow it' % path, path=path)
            if exc.errno == errno.ENXIO:
                raise NotRegularFile('%s is not a regular file' % path, path=path)
            raise KeysmithError('cannot open %s: %s' % (path, exc.strerror))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFile('%s is not a regular file' % path, path=path)
            if st.st_nlink > 1 and not self.follow:
                # A hard link could expose another file's content (a diff of
                # /etc/shadow) or make a write land in two places.
                raise UnsafePath('%s has %d hard links; refusing to use it' % (path, st.st_nlink), path=path)
            if st.st_nlink > 1:
                # follow: true - a second name is followed like a link.
                dummy, kind = classify_followed(path, self.uid, hard_linked=True)
                if not followed_fits(kind, st, self.uid):
                    raise UnsafePath('%s changed while it was checked; refusing to use it' % path, path=path)
                self.followed[path] = (path, kind)
            self._check_owner(st, path)
            if st.st_size > limit:
                raise UnsafePath('%s is larger than %d bytes' % (path, limit), path=path)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _open_followed_file(self, path, limit=MAX_READ_BYTES):
        """``follow: true`` and ``path`` is a link: open its target when it is
        the account's own file or a central root-managed one - by the trust
        walk of its real path, never following a link again. (None, None) when
        the target does not exist (a write then replaces the link)."""
        real, kind = classify_followed(path, self.uid)
        dir_fd = open_trusted_dir(os.path.dirname(real), owners=self.allowed_owners, final_link=False)
        if dir_fd is None:
            return None, None
        try:
            try:
                fd = os.open(os.path.basename(real), os.O_RDONLY | _CLOEXEC | _NOFOLLOW | getattr(os, 'O_NONBLOCK', 0)
                             | getattr(os, 'O_NOCTTY', 0), dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return None, None
                if exc.errno == errno.ELOOP:
                    raise UnsafePath('%s (the target of %s) changed into a symbolic link; refusing to follow it'
                                     % (real, path), path=path)
                raise KeysmithError('cannot open %s (the target of %s): %s' % (real, path, exc.strerror), path=path)
        finally:
            os.close(dir_fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFile('%s (the target of %s) is not a regular file' % (real, path), path=path)
            if not followed_fits(kind, st, self.uid) or (st.st_nlink > 1 and kind != FOLLOWED_OWN
                                                         and not _root_only_path(os.path.dirname(real))):
                raise UnsafePath('%s (the target of %s) changed while it was checked; refusing to use it'
                                 % (real, path), path=path)
            self._check_owner(st, path)
            if st.st_size > limit:
                raise UnsafePath('%s is larger than %d bytes' % (path, limit), path=path)
        except BaseException:
            os.close(fd)
            raise
        self.followed[path] = (real, kind)
        return fd, st

    def _read_in(self, dir_fd, name, path, limit=MAX_READ_BYTES):
        fd, st = self._open_existing(dir_fd, name, path, limit)
        if fd is None:
            return FileState(path)
        try:
            data = read_fd(fd, limit, path)
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
        fd = open_trusted_dir(self.base, owners=self.allowed_owners, create=True, made=self.made)
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
                        self.made.append(path)
                    except OSError as exc:
                        if exc.errno != errno.EEXIST:
                            raise KeysmithError('cannot create %s: %s' % (path, exc.strerror))
                    child = self._open_child_dir(fd, part, current)
                    if child is None:
                        raise KeysmithError('directory %s vanished while being created' % path)
                    if path in self.made:
                        # SELinux: the default context of the new directory, by its descriptor
                        _selinux.set_default_context(child, path, stat.S_IFDIR)
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
        """Create the directory at ``parts`` if needed; give it ``mode`` and the account as owner.

        Returns what this call did: ``'created'``, ``'repaired'`` (mode or
        owner set) or None when it was right already (another process made or
        fixed it between the plan and now: exact under races)."""
        path = self.path(parts)
        made = len(self.made)
        with self.directory(parts, mode=mode) as fd:
            before = os.fstat(fd)
            if self.followed_kind(self.path(parts)) is not None:
                return None  # a followed directory keeps its owner and mode
            self._chown(fd, self.path(parts))
            os.fchmod(fd, mode)
            after = os.fstat(fd)
        if path in self.made[made:] or path in _MADE_BY_THIS_PROCESS:
            # made by this call, or earlier in this run by another item of the same
            # plan (provision plans every item first): what the plan said
            return 'created'
        if (before.st_mode, before.st_uid, before.st_gid) != (after.st_mode, after.st_uid, after.st_gid):
            return 'repaired'
        return None

    @contextlib.contextmanager
    def locked(self, parts, locks=None):
        """Hold an exclusive advisory lock on the directory at ``parts``.

        Locking the directory rather than the file survives the rename of an
        atomic write and leaves no lock file behind. ``locks``: the call's
        ``Locks`` (its one deadline; a lock it already holds is used as is),
        else a wait of the tree's ``lock_timeout``.
        """
        with self.directory(parts) as fd:
            if locks is not None and locks.holds(fd):
                yield fd
                return
            wait_for_lock(fd, self.path(parts), self.lock_timeout, locks)
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def lock_ahead(self, parts, locks):
        """Take the lock ``locked(parts, locks)`` will need, now and without
        waiting, into ``locks``: its key; None when another process holds it;
        ``MISSING`` when the directory does not exist yet (nothing to take)."""
        fd = self._walk(parts)
        if fd is None:
            return MISSING
        return locks.hold(fd)

    def write(self, parts, name, data, mode, dir_fd=None, attrs=None):
        """Atomically replace file ``name`` with ``data``, owned by the account
        (or as ``attrs_for`` says; ``attrs``: the (uid, gid, mode) to give)."""
        if dir_fd is not None:
            return self._write_in(dir_fd, parts, name, data, mode, attrs)
        with self.directory(parts) as fd:
            return self._write_in(fd, parts, name, data, mode, attrs)

    def _write_in(self, dir_fd, parts, name, data, mode, attrs=None):
        path = self.path(parts, name)
        # The same checks as a read: a symlink, hard link, stranger's file or
        # non-file is refused rather than silently replaced by the rename.
        fd, st = self._open_existing(dir_fd, name, path)
        current = None
        context = None
        if fd is not None:
            try:
                # SELinux: a replaced file keeps its context (as atomic_move does)
                context = _selinux.context_of(fd)
            finally:
                os.close(fd)
            current = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
            followed = self.followed.get(path)
            if followed is not None and followed[0] != path:
                return self._write_followed(path, followed, data, mode)
        if attrs is None:
            attrs = self.attrs_for(path, current, mode)
        tmp = '.%s.%s.tmp' % (name, os.urandom(6).hex())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                self._give(fd, path, attrs)
                # SELinux: the context goes on the open temporary file before the rename
                if context is None:
                    _selinux.set_default_context(fd, path, stat.S_IFREG)
                else:
                    _selinux.set_context(fd, path, context)
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

    def _write_followed(self, path, followed, data, mode):
        """``follow: true``: write where the link points (the target checked by
        ``_open_followed_file``), still atomically, keeping its owner and mode;
        the target's directory is reached by the trust walk of its real path."""
        real, kind = followed
        new_owner = (self.uid, self.gid) if kind == FOLLOWED_OWN else (0, 0)
        target = Tree(os.path.dirname(real), self.uid, self.gid, follow=False,
                      allowed_owners=self.allowed_owners, keep_attrs=True, new_owner=new_owner)
        with target.directory([], create=False) as dir_fd:
            dir_st = os.fstat(dir_fd)
            if kind == FOLLOWED_CENTRAL and not _root_only(dir_st):
                raise UnsafePath('%s (the directory of the target of %s) changed while it was checked; refusing '
                                 'to write there' % (target.base, path), path=path)
            target._write_in(dir_fd, [], os.path.basename(real), data, mode)
        return path

    def set_attrs(self, parts, name, mode):
        """Fix owner and mode of an existing file without rewriting it."""
        path = self.path(parts, name)
        with self.directory(parts, create=False) as dir_fd:
            fd, st = self._open_existing(dir_fd, name, path)
            if fd is None:
                raise NotFound('%s does not exist' % path, path=path)
            try:
                self._give(fd, path, self.attrs_for(path, (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), mode))
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

    def backup(self, parts, name, data, mode, dir_fd=None, like=None):
        """Keep ``data`` (the file's previous content) next to it, named as
        Ansible's ``backup_local`` names backups. Returns the backup path.

        ``like``: the (uid, gid, mode) of the file backed up; a kept or
        followed file's backup gets them (a central file's copy stays root's)."""
        stamp = time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime())
        backup_name = '%s.%d.%s~' % (name, os.getpid(), stamp)
        attrs = self.attrs_for(self.path(parts, name), like, mode) if like is not None else None
        self.write(parts, backup_name, data, mode, dir_fd=dir_fd, attrs=attrs)
        return self.path(parts, backup_name)


@contextlib.contextmanager
def scratch_files(contents):
    """Files holding ``contents`` (list of public bytes) for a tool that reads
    files only (``ssh-keygen -Q``): a new private directory (``mkdtemp``, 0700,
    never an existing path), the paths in order; removed on exit."""
    import shutil
    import tempfile
    directory = tempfile.mkdtemp(prefix='keysmith-')
    try:
        paths = []
        for index, data in enumerate(contents):
            path = os.path.join(directory, 'k%d' % index)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------
# A UNIX socket a task names (an ssh-agent's): trusted as open_trusted_dir
# trusts a directory, so an account cannot put its own agent (or a link to
# one) where root signs with "the CA key in the agent".

def _peer_uid(sock):
    """The uid of the process at the other end of a connected UNIX socket
    (Linux SO_PEERCRED), or None where the platform cannot tell."""
    import socket
    import struct
    option = getattr(socket, 'SO_PEERCRED', None)
    if option is None:
        return None
    data = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize('3i'))
    return struct.unpack('3i', data)[1]


def connect_trusted_socket(path, timeout=None):
    """A connected ``AF_UNIX`` stream socket to ``path``, or None when there
    is no such socket.

    The directory is reached by the trust walk of :func:`open_trusted_dir`
    (root's or the running user's directories, none writable by others unless
    sticky) and must itself be writable by nobody else (unless sticky); the
    socket must be a socket (not a link) owned by root or the running user.
    It is connected through the directory's descriptor (``/proc/self/fd``),
    so the path is not resolved again between the check and the connect (and
    its length does not matter). Where the kernel tells (SO_PEERCRED), the
    process listening must run as root or the running user too.
    """
    import socket
    path = os.path.normpath(path)
    directory, name = os.path.dirname(path), os.path.basename(path)
    trusted = (0, os.geteuid())
    dir_fd = open_trusted_dir(directory)
    if dir_fd is None:
        return None
    try:
        dir_st = os.fstat(dir_fd)
        if _writable_by_others(dir_st):
            raise UnsafePath('%s is writable by other users (mode %04o): anyone could put a socket there; '
                             'refusing to use %s' % (directory, stat.S_IMODE(dir_st.st_mode), path), path=path)
        try:
            lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise KeysmithError('cannot inspect %s: %s' % (path, exc.strerror), path=path)
        if stat.S_ISLNK(lst.st_mode):
            raise UnsafePath('%s is a symbolic link; refusing to follow it (name the socket itself)' % path,
                             path=path)
        if not stat.S_ISSOCK(lst.st_mode):
            raise UnsafePath('%s is not a socket' % path, path=path)
        if lst.st_uid not in trusted:
            raise UnsafePath('%s is owned by uid %d, not by root or the running user; refusing to use it'
                             % (path, lst.st_uid), path=path)
        address = path
        if os.path.isdir('/proc/self/fd'):
            address = '/proc/self/fd/%d/%s' % (dir_fd, name)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except socket.timeout:
                raise KeysmithError('%s did not accept a connection within %s seconds' % (path, timeout), path=path)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
                    raise NotFound('nothing listens on %s (%s)' % (path, exc.strerror), path=path)
                raise KeysmithError('cannot connect to %s: %s' % (path, exc.strerror or exc), path=path)
            peer = _peer_uid(sock)
            if peer is not None and peer not in trusted:
                raise UnsafePath('the process listening on %s runs as uid %d, not as root or the running user; '
                                 'refusing to use it' % (path, peer), path=path)
            result, sock = sock, None
            return result
        finally:
            if sock is not None:
                sock.close()
    finally:
        os.close(dir_fd)


def check_trusted_library(path, _links=0):
    """Check that ``path`` (a shared library a tool will load, a PKCS#11
    provider) only root or the running user can change: reached by the trust
    walk, a regular file owned by one of them, writable by nobody else (a
    symbolic link in such a directory - only they could have made it - is
    followed and its target checked the same way). Loading it runs its code as
    the module's user."""
    path = os.path.normpath(path)
    directory, name = os.path.dirname(path), os.path.basename(path)
    dir_fd = open_trusted_dir(directory)
    if dir_fd is None:
        raise NotFound('%s does not exist' % path, path=path)
    try:
        if _writable_by_others(os.fstat(dir_fd)):
            raise UnsafePath('%s lies in a directory other users can write; refusing to load it' % path, path=path)
        try:
            lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise NotFound('%s does not exist' % path, path=path)
            raise KeysmithError('cannot inspect %s: %s' % (path, exc.strerror), path=path)
        if stat.S_ISLNK(lst.st_mode):
            if _links >= _MAX_SYMLINKS:
                raise UnsafePath('too many symbolic links on the way to %s' % path, path=path)
            target = os.path.join(directory, os.readlink(name, dir_fd=dir_fd))
            check_trusted_library(target, _links + 1)
            return
        if not stat.S_ISREG(lst.st_mode):
            raise NotRegularFile('%s is not a regular file' % path, path=path)
        if lst.st_uid not in (0, os.geteuid()) or lst.st_mode & 0o022:
            raise UnsafePath('%s can be changed by another user (owner uid %d, mode %04o); refusing to load it'
                             % (path, lst.st_uid, stat.S_IMODE(lst.st_mode)), path=path)
    finally:
        os.close(dir_fd)
