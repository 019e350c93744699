# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Locks held by hostile account owners, against one ``provision`` call (issue 27).

Real accounts ``kh8*`` (removed afterwards) hold an ``flock`` on their own
``~/.ssh`` (``flock DIR sleep``, run as the account), as any owner can:

* the waits of one call must not add up: N held locks cost one
  ``lock_timeout``, not N (measured by wall clock against the same call with
  no lock held, with margins that hold on a loaded machine); the accounts whose
  locks are free are done, a lock released during the wait is taken;
* ``atomic: true`` takes every lock before it writes anything: a lock held on
  the second account leaves the first one untouched and the error names the
  account whose lock is held.

Before the fix the first test took N x lock_timeout and the second wrote the
first account's keys before failing without ``changed``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import signal
import subprocess
import time
import uuid

import pytest

from conftest import Users, run_module

TIMEOUT = 3      # lock_timeout of the calls (seconds)
HELD = 4         # accounts holding their lock


class Kh8Users(Users):
    """Accounts of this test file: ``kh8<random>``."""

    def make(self):
        name = 'kh8%s' % uuid.uuid4().hex[:8]
        subprocess.run(['useradd', '-m', '-s', '/bin/sh', name], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.names.append(name)
        return pwd.getpwnam(name)


@pytest.fixture
def kh8_users():
    if os.geteuid() != 0:
        pytest.skip('needs root (creates accounts with useradd)')
    made = Kh8Users()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def holders():
    """Lock holders started by a test, killed (with their sleep) at its end."""
    procs = []

    def hold(user, path, seconds=120):
        # its own process group: killing it ends flock's child too
        proc = subprocess.Popen(['flock', path, 'sh', '-c', 'echo held; exec sleep %d' % seconds],
                                stdout=subprocess.PIPE, start_new_session=True,
                                preexec_fn=lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid)))
        procs.append(proc)
        assert proc.stdout.readline().strip() == b'held'
        return proc

    yield hold
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        proc.stdout.close()


def _ssh_dir(user):
    path = os.path.join(user.pw_dir, '.ssh')
    os.mkdir(path, 0o700)
    os.chown(path, user.pw_uid, user.pw_gid)
    return path


def _key(tmp_path, name):
    path = str(tmp_path / name)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path], check=True)
    with open(path + '.pub') as handle:
        return handle.read().strip()


def _authorized(user):
    path = os.path.join(user.pw_dir, '.ssh', 'authorized_keys')
    if not os.path.exists(path):
        return ''
    with open(path) as handle:
        return handle.read()


def _timed(args):
    start = time.monotonic()
    result = run_module('provision', args, timeout=300)
    return result, time.monotonic() - start


def test_lock_waits_of_one_provision_call_do_not_add_up(kh8_users, holders, tmp_path):
    key = _key(tmp_path, 'kh8key')
    users = [kh8_users.make() for _index in range(HELD + 2)]
    dirs = [_ssh_dir(user) for user in users]
    entries = [{'name': user.pw_name, 'authorized_keys': [{'key': key}]} for user in users]
    # what the call costs without any lock held (module start, planning, writing), on this machine now
    free, baseline = _timed({'lock_timeout': TIMEOUT, 'accounts': entries})
    assert free.rc == 0 and free.result['changed'], free
    for user in users:
        os.unlink(os.path.join(user.pw_dir, '.ssh', 'authorized_keys'))
    held, released = users[1:1 + HELD], users[1 + HELD]
    for user, path in zip(held, dirs[1:1 + HELD]):
        holders(user, path)
    holders(released, dirs[1 + HELD], seconds=1)   # let go during the call's wait
    result, seconds = _timed({'lock_timeout': TIMEOUT, 'accounts': entries})
    assert result.rc != 0 and result.result['failed'], result
    print('figures: %d held locks, lock_timeout %d s: the call took %.1f s (%.1f s with no lock held)'
          % (HELD, TIMEOUT, seconds, baseline))
    # one wait for the whole call: N held locks cost one lock_timeout, not N (it was N x TIMEOUT)
    assert seconds < 2 * TIMEOUT + baseline, (seconds, baseline)
    assert seconds >= TIMEOUT * 0.9, seconds
    msg = result.result['msg']
    assert msg.startswith('%d of %d accounts failed' % (HELD, len(users))), msg
    for user, path in zip(held, dirs[1:1 + HELD]):
        assert 'account %s' % user.pw_name in msg and path in msg, msg
        assert _authorized(user) == ''
    # the free account and the one whose lock was released are done, and the task says it changed
    assert key in _authorized(users[0]) and key in _authorized(released)
    assert result.result['changed'] is True
    by_name = dict((entry['name'], entry) for entry in result.result['accounts'])
    assert by_name[users[0].pw_name]['changed'] and by_name[released.pw_name]['changed']
    assert all(by_name[user.pw_name]['failed'] and not by_name[user.pw_name]['changed'] for user in held)


def test_atomic_provision_takes_every_lock_before_writing(kh8_users, holders, tmp_path):
    key = _key(tmp_path, 'kh8key')
    first, second, third = [kh8_users.make() for _index in range(3)]
    for user in (first, second, third):
        _ssh_dir(user)
    holders(second, os.path.join(second.pw_dir, '.ssh'))
    entries = [{'name': user.pw_name, 'authorized_keys': [{'key': key}],
                'ssh_keys': [{'name': 'id_kh8', 'type': 'ed25519'}]} for user in (first, second, third)]
    result, seconds = _timed({'atomic': True, 'lock_timeout': 2, 'accounts': entries})
    assert result.rc != 0 and result.result['failed'], result
    msg = result.result['msg']
    assert 'account %s' % second.pw_name in msg and 'lock' in msg and 'nothing was written' in msg, msg
    # nothing at all was written: not the first account's keys (it was), nor the third's
    for user in (first, second, third):
        assert sorted(os.listdir(os.path.join(user.pw_dir, '.ssh'))) == [], user.pw_name
    assert result.result['changed'] is False
    assert seconds < 60
