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

No production code carries a test hook: the fault is injected here by
wrapping ``os.rename`` / ``os.write`` in the module's own process.
"""

import os
import runpy
import signal
import sys


def _kill():
    os.kill(os.getpid(), signal.SIGKILL)


def _install(spec):
    parts = spec.split(':')
    point, pattern = parts[0], parts[1]
    nth = int(parts[2]) if len(parts) > 2 else 1
    seen = [0]

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
