# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module file as ``__main__``, killing itself with SIGKILL at a write point.

Usage: ``python _faults.py MODULE.py ARGS.json`` with ``KEYSMITH_FAULT`` set to
``POINT:PATTERN[:N]`` (no ``KEYSMITH_FAULT``: the module just runs):

PATTERN is a substring of the file name, or ``=NAME`` for exactly NAME.

* ``before_rename:PATTERN`` - at the Nth ``os.rename`` whose destination name
  contains PATTERN, before it happens (the temporary file is complete, the
  target is not replaced yet);
* ``after_rename:PATTERN`` - right after that rename (before the fsync of the
  directory);
* ``mid_write:PATTERN`` - at the Nth ``os.write`` to a file whose name contains
  PATTERN: half of the bytes are written, then SIGKILL (a torn temp file).

* ``barrier_mkdir:PATTERN:N`` - at the first ``os.mkdir`` whose name matches
  PATTERN, wait (at most 30 s) until N processes have arrived there (files in
  the directory ``KEYSMITH_BARRIER``), then go on: N concurrent runs all
  planned before any of them creates the directory (a race forced, not hoped for);
* ``barrier_open:PATTERN:N`` - the same at the first ``os.open`` of a name
  matching PATTERN (``=shadow``: the lock of user creation).

No production code carries a test hook: the fault is injected here by
wrapping ``os.rename`` / ``os.write`` / ``os.mkdir`` / ``os.open`` in
the module's own process.
"""

import os
import runpy
import signal
import sys
import time


def _kill():
    os.kill(os.getpid(), signal.SIGKILL)


def _barrier(count):
    """Arrive at the barrier; return once ``count`` processes have (or after 30 s)."""
    directory = os.environ['KEYSMITH_BARRIER']
    with open(os.path.join(directory, 'arrived-%d' % os.getpid()), 'w'):
        pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len([n for n in os.listdir(directory) if n.startswith('arrived-')]) >= count:
            return
        time.sleep(0.02)


def _install_barrier(point, pattern, count):
    fired = [False]

    def arrive(name):
        if not fired[0] and ((name == pattern[1:]) if pattern.startswith('=') else (pattern in name)):
            fired[0] = True
            _barrier(count)

    if point == 'barrier_mkdir':
        real_mkdir = os.mkdir

        def mkdir(path, *args, **kwargs):
            arrive(os.path.basename(str(path)))
            return real_mkdir(path, *args, **kwargs)
        os.mkdir = mkdir
    else:
        real_open = os.open

        def open_(path, *args, **kwargs):
            arrive(os.path.basename(str(path)))
            return real_open(path, *args, **kwargs)
        os.open = open_


def _install(spec):
    parts = spec.split(':')
    point, pattern = parts[0], parts[1]
    nth = int(parts[2]) if len(parts) > 2 else 1
    seen = [0]
    if point in ('barrier_mkdir', 'barrier_open'):
        _install_barrier(point, pattern, nth)
        return

    def hit(name):
        if (name == pattern[1:]) if pattern.startswith('=') else (pattern in name):
            seen[0] += 1
            return seen[0] == nth
        return False

    if point in ('before_rename', 'after_rename'):
        real_rename = os.rename

        def rename(src, dst, *args, **kwargs):
            fire = hit(os.path.basename(str(dst)))
            if fire and point == 'before_rename':
                _kill()
            result = real_rename(src, dst, *args, **kwargs)
            if fire:
                _kill()
            return result
        os.rename = rename
    elif point == 'mid_write':
        real_write = os.write

        def write(fd, data, *args):
            try:
                name = os.readlink('/proc/self/fd/%d' % fd)
            except OSError:
                name = ''
            if hit(os.path.basename(name)) and len(data) > 1:
                real_write(fd, bytes(data[:len(data) // 2]))
                _kill()
            return real_write(fd, data, *args)
        os.write = write
    else:
        raise SystemExit('unknown fault point %r' % point)


def main():
    module, argfile = sys.argv[1], sys.argv[2]
    spec = os.environ.get('KEYSMITH_FAULT')
    if spec:
        _install(spec)
    sys.argv = [module, argfile]
    runpy.run_path(module, run_name='__main__')


if __name__ == '__main__':
    main()
