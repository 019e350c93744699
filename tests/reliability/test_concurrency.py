# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent runs of the real modules (issue 10): nothing is lost.

Each round starts 8 module processes at once and checks that every one's
work is there (the authorized_keys round is repeated to catch interleavings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest

from conftest import run_module, start_module

WORKERS = 8
ROUNDS = 3


def _keys(directory, count):
    out = []
    for index in range(count):
        path = os.path.join(str(directory), 'c%d' % index)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'c%d' % index, '-f', path], check=True)
        with open(path + '.pub') as handle:
            out.append(handle.read().strip())
    return out


def _run_all(jobs):
    procs = [start_module(name, args) for name, args in jobs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_eight_authkey_runs_on_one_file(tmp_path, round_):
    home = tmp_path / 'home'
    (home / '.ssh').mkdir(parents=True, mode=0o700)
    target = home / '.ssh' / 'authorized_keys'
    keep = b'# hand-written line, must survive\n'
    target.write_bytes(keep)
    target.chmod(0o600)
    keys = _keys(tmp_path, WORKERS)
    results = _run_all([('ssh_authkey', dict(key=key, home=str(home), backup=bool(index % 2)))
                        for index, key in enumerate(keys)])
    assert all(r['changed'] for r in results)
    data = target.read_bytes()
    assert data.startswith(keep)
    lines = data.decode().splitlines()
    for key in keys:
        assert lines.count(key) == 1, (key, lines)
    assert len(lines) == WORKERS + 1
    assert not [n for n in os.listdir(str(home / '.ssh')) if n.endswith('.tmp')]
    # a run of all keys at once changes nothing now
    again = run_module('ssh_authkey', dict(key=keys, home=str(home)))
    assert again.rc == 0 and again.result['changed'] is False


def test_eight_keypair_creations(tmp_path):
    registry = str(tmp_path / 'registry')
    results = _run_all([('keypair', dict(name='conc_%d' % index, type='ed25519', registry=registry))
                        for index in range(WORKERS)])
    assert all(r['changed'] for r in results)
    ids = [r['keypair']['id'] for r in results]
    assert len(set(ids)) == WORKERS
    info = run_module('keypair_info', dict(registry=registry))
    assert info.rc == 0, info
    listed = info.result['keypairs']
    assert sorted(k['name'] for k in listed) == sorted('conc_%d' % i for i in range(WORKERS))
    assert sorted(k['id'] for k in listed) == sorted(ids)
    for result, index in zip(results, range(WORKERS)):
        match = [k for k in listed if k['name'] == 'conc_%d' % index][0]
        assert match['fingerprint'] == result['keypair']['fingerprint']
    # the registry holds no private key
    for dirpath, _dirs, files in os.walk(registry):
        for name in files:
            with open(os.path.join(dirpath, name), 'rb') as handle:
                assert b'PRIVATE KEY' not in handle.read()


def test_eight_keypair_creations_of_one_name(tmp_path):
    """Same name 8 times at once: exactly one key pair is created, the others find it."""
    registry = str(tmp_path / 'registry')
    results = _run_all([('keypair', dict(name='same', type='ed25519', registry=registry))
                        for _index in range(WORKERS)])
    assert sum(1 for r in results if r['changed']) == 1
    assert len(set(r['keypair']['id'] for r in results)) == 1
    info = run_module('keypair_info', dict(registry=registry))
    assert [k['name'] for k in info.result['keypairs']] == ['same']
