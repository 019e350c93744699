# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``make mutants``: apply each curated mutation (tests/mutants/mutations.py)
to a placed copy of the collection, run the unit tests that should notice it,
and report which mutants survive. Not part of ``make test``.

Usage: run_mutants.py [-k SUBSTRING] [--list] [--report FILE] [--jobs N]

``--jobs N`` runs N mutants at a time, each in its own placed copy (on a
machine shared with other work, N processes get N shares of the CPU).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from mutations import MUTATIONS  # noqa: E402 pylint: disable=wrong-import-position

SKIP = ('.git', '.venv', 'output', '__pycache__', '.pytest_cache', '.hypothesis', 'demo-output')
TIMEOUT = 600


def place(root):
    """Copy the collection to ``root``/ansible_collections/keysmith/accounts."""
    target = os.path.join(root, 'ansible_collections', 'keysmith', 'accounts')
    shutil.copytree(ROOT, target, ignore=lambda directory, names: [n for n in names if n in SKIP or
                                                                   n.endswith('.tar.gz')])
    return target


def run_tests(root, collection, tests):
    env = dict(os.environ, PYTHONPATH=root, PYTHONDONTWRITEBYTECODE='1')
    command = [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '--import-mode=importlib', '-x', '-q',
               '-p', 'no:randomly'] + tests
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=collection, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT, check=False)
        status = 'passed' if proc.returncode == 0 else 'failed'
        tail = proc.stdout.decode('utf-8', 'replace').strip().splitlines()[-1:]
    except subprocess.TimeoutExpired:
        status, tail = 'timeout', ['timed out after %d s' % TIMEOUT]
    return status, time.monotonic() - started, tail[0] if tail else ''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('-k', dest='only', help='only mutations whose file or reason contains this')
    parser.add_argument('--list', action='store_true', help='list the mutations and exit')
    parser.add_argument('--report', default=os.path.join(ROOT, 'tests', 'output', 'mutants.md'),
                        help='where to write the report (Markdown)')
    parser.add_argument('--jobs', type=int, default=1, help='mutants run at a time (each in its own copy)')
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or args.only in m['file'] or args.only in m['why']]
    if args.list:
        for number, item in enumerate(chosen, 1):
            print('%2d %-26s %s' % (number, item['file'], item['why']))
        return 0
    jobs = max(1, min(args.jobs, len(chosen) or 1))
    roots = [tempfile.mkdtemp(prefix='keysmith-mutants-') for dummy in range(jobs)]
    rows = [None] * len(chosen)
    started = time.monotonic()
    try:
        collections = [place(root) for root in roots]
        baseline = sorted(set(t for m in chosen for t in m['tests']))
        outcomes = [None] * jobs

        def run_part(index):
            outcomes[index] = run_tests(roots[index], collections[index], baseline[index::jobs])

        parts = [threading.Thread(target=run_part, args=(index,)) for index in range(jobs) if baseline[index::jobs]]
        for thread in parts:
            thread.start()
        for thread in parts:
            thread.join()
        for status, seconds, tail in [outcome for outcome in outcomes if outcome is not None]:
            print('baseline (%d test paths in %d parts): %s in %.0f s: %s'
                  % (len(baseline), len(parts), status, seconds, tail))
            if status != 'passed':
                print('the unmutated collection fails its tests: fix that first')
                return 2
        pending = list(enumerate(chosen, 1))
        lock = threading.Lock()

        def worker(root, collection):
            while True:
                with lock:
                    if not pending:
                        return
                    number, item = pending.pop(0)
                rows[number - 1] = run_one(root, collection, number, item, lock)

        threads = [threading.Thread(target=worker, args=(root, collection))
                   for root, collection in zip(roots, collections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
    return report([row for row in rows if row is not None], args.report, time.monotonic() - started, jobs)


def run_one(root, collection, number, item, lock):
    """Apply mutation ``item`` in ``collection``, run its tests, restore: the report row."""
    path = os.path.join(collection, 'plugins', 'module_utils', item['file'])
    with open(path) as stream:
        original = stream.read()
    count = original.count(item['find'])
    if count != 1:
        with lock:
            print('%2d INVALID  %s: %s (occurs %d times)' % (number, item['file'], item['why'], count))
        return (item, 'invalid', 0.0, 'the text to change occurs %d times' % count)
    with open(path, 'w') as stream:
        stream.write(original.replace(item['find'], item['replace']))
    try:
        status, seconds, tail = run_tests(root, collection, item['tests'])
    finally:
        with open(path, 'w') as stream:
            stream.write(original)
    verdict = 'survived' if status == 'passed' else 'killed'
    with lock:
        print('%2d %-8s %5.1f s  %s: %s' % (number, verdict.upper(), seconds, item['file'], item['why']))
        sys.stdout.flush()
    return (item, verdict, seconds, tail)


def report(rows, path, elapsed=None, jobs=1):
    valid = [row for row in rows if row[1] != 'invalid']
    survivors = [row for row in valid if row[1] == 'survived']
    rate = 100.0 * len(survivors) / len(valid) if valid else 0.0
    files = len(set(row[0]['file'] for row in rows))
    lines = ['# Mutation run', '',
             '%d mutants in %d files, %d killed, %d survived (survival rate %.1f%%), %d invalid; %.0f s of tests%s.'
             % (len(valid), files, len(valid) - len(survivors), len(survivors), rate, len(rows) - len(valid),
                sum(row[2] for row in rows),
                '' if elapsed is None else ', %.0f s wall time with %d job%s' % (elapsed, jobs, '' if jobs == 1 else 's')),
             '',
             '| file | mutant | verdict | seconds |', '| --- | --- | --- | --- |']
    for item, verdict, seconds, dummy in rows:
        lines.append('| %s | %s | %s | %.1f |' % (item['file'], item['why'], verdict, seconds))
    text = '\n'.join(lines) + '\n'
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory)
    with open(path, 'w') as stream:
        stream.write(text)
    print(lines[2])
    print('report: %s' % path)
    return 1 if survivors or len(rows) != len(valid) else 0


if __name__ == '__main__':
    sys.exit(main())
