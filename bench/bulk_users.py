# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thousands of bench accounts in seconds: real entries of /etc/passwd, group,
shadow and gshadow, written in one go under the locks ``useradd`` takes.

``useradd`` rewrites the four files once per account: 5,000 of them took
1,983 s in the ``audit`` case (bench/results.json). Here the accounts are
appended at once and removed at once, holding what shadow-utils' ``commonio``
holds (``lckpwdf``'s ``/etc/.pwd.lock`` and the ``FILE.lock`` links), each
file replaced by a rename, with its mode and owner kept. For the module
they are accounts like any other (NSS, ``getpwnam``). Only names with the
given prefix are ever removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import time

FILES = ('/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow')


@contextlib.contextmanager
def locked(timeout=120):
    """The locks of shadow-utils: ``lckpwdf`` (fcntl on /etc/.pwd.lock) and ``FILE.lock`` hard links."""
    deadline = time.time() + timeout
    fd = os.open('/etc/.pwd.lock', os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    taken = []
    try:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        for path in FILES:
            if not os.path.exists(path):
                continue
            scratch = '%s.%d' % (path, os.getpid())
            with open(scratch, 'w') as handle:
                handle.write('%d' % os.getpid())
            try:
                while True:
                    try:
                        os.link(scratch, path + '.lock')
                        taken.append(path + '.lock')
                        break
                    except OSError as exc:
                        if exc.errno != errno.EEXIST or time.time() > deadline:
                            raise
                        time.sleep(0.1)
            finally:
                os.unlink(scratch)
        yield
    finally:
        for lock in reversed(taken):
            os.unlink(lock)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        os.close(fd)


def _replace(path, lines):
    st = os.stat(path)
    scratch = path + '+'
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, ''.join(lines).encode())
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, st.st_mode & 0o7777)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(scratch, path)


def _read(path):
    with open(path) as handle:
        return handle.readlines()


def add_users(names, home_base, shell='/bin/sh'):
    """Each name an account with its own group and home ``home_base/NAME`` (0755, its own);
    uids and gids from above the highest in use (below 60000). Names already present are kept."""
    os.makedirs(home_base, exist_ok=True)
    with locked():
        passwd, group = _read('/etc/passwd'), _read('/etc/group')
        present = set(line.split(':', 1)[0] for line in passwd)
        used_ids = [int(line.split(':')[2]) for line in passwd + group if line.count(':') >= 3
                    and line.split(':')[2].isdigit()]
        next_id = max([1000] + [value for value in used_ids if value < 60000]) + 1
        wanted = [name for name in names if name not in present]
        if next_id + len(wanted) >= 60000:
            raise RuntimeError('no room for %d ids below 60000' % len(wanted))
        today = int(time.time() // 86400)
        add = {'/etc/passwd': [], '/etc/group': [], '/etc/shadow': [], '/etc/gshadow': []}
        for offset, name in enumerate(wanted):
            ident = next_id + offset
            home = os.path.join(home_base, name)
            add['/etc/passwd'].append('%s:x:%d:%d::%s:%s\n' % (name, ident, ident, home, shell))
            add['/etc/group'].append('%s:x:%d:\n' % (name, ident))
            add['/etc/shadow'].append('%s:*:%d:0:99999:7:::\n' % (name, today))
            add['/etc/gshadow'].append('%s:!::\n' % name)
        for path in FILES:
            if os.path.exists(path) and add[path]:
                lines = _read(path)
                if lines and not lines[-1].endswith('\n'):
                    lines[-1] += '\n'
                _replace(path, lines + add[path])
    for name in names:
        entry = pwd.getpwnam(name)
        os.makedirs(entry.pw_dir, exist_ok=True)
        os.chown(entry.pw_dir, entry.pw_uid, entry.pw_gid)
        os.chmod(entry.pw_dir, 0o755)


def remove_users(prefix, names):
    """Remove the accounts of ``names`` (each must start with ``prefix``) and their groups."""
    gone = set(name for name in names if name.startswith(prefix))
    with locked():
        for path in FILES:
            if not os.path.exists(path):
                continue
            lines = _read(path)
            kept = [line for line in lines if line.split(':', 1)[0] not in gone]
            if len(kept) != len(lines):
                _replace(path, kept)
