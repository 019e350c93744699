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
import shutil
import subprocess
import uuid

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


def _one_creation_each(results, registry):
    """Exactly one run generated the key pair and at most one created the
    registry (not always the same run: the creator of the directory may lose
    the race for its lock); every run is changed exactly when it did something."""
    actions = [r['actions'] for r in results]
    generated = [a for r in results for a in r['actions'] if a.startswith('generate key pair same')]
    made = [a for r in results for a in r['actions'] if a.startswith('create directory %s' % registry)]
    assert len(generated) == 1 and len(made) <= 1, actions
    assert all(r['changed'] == bool(r['actions']) for r in results), actions
    assert len(set(r['keypair']['id'] for r in results)) == 1
    return made


def test_eight_keypair_creations_of_one_name(tmp_path):
    """Same name 8 times at once: exactly one key pair is created, the others find it."""
    registry = str(tmp_path / 'registry')
    results = _run_all([('keypair', dict(name='same', type='ed25519', registry=registry))
                        for _index in range(WORKERS)])
    assert len(_one_creation_each(results, registry)) == 1
    info = run_module('keypair_info', dict(registry=registry))
    assert [k['name'] for k in info.result['keypairs']] == ['same']


# ------------------------------------------------------------------ races forced (issue 27)
# Each run waits at a barrier (tests/reliability/_faults.py) right before it
# creates what it planned to create, until all have planned: the race the
# loaded machine only sometimes produced happens every time, and the reported
# actions must be exactly what each run did.

def _run_all_at_barrier(tmp_path, monkeypatch, jobs, fault):
    barrier = tmp_path / 'barrier'
    barrier.mkdir()
    monkeypatch.setenv('KEYSMITH_BARRIER', str(barrier))
    procs = [start_module(name, args, fault=fault) for name, args in jobs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    # every run reached the barrier: each planned before any created
    assert len(os.listdir(str(barrier))) == len(jobs)
    return results


def test_concurrency_registry_created_by_one_run_only_one_reports_it(tmp_path, monkeypatch):
    registry = str(tmp_path / 'registry')
    results = _run_all_at_barrier(tmp_path, monkeypatch,
                                  [('keypair', dict(name='same', type='ed25519', registry=registry))] * WORKERS,
                                  'barrier_mkdir:=registry:%d' % WORKERS)
    # all planned before any created it: one mkdir succeeded, the others found it made
    assert len(_one_creation_each(results, registry)) == 1


def test_concurrency_ssh_directory_created_by_one_run_only_one_reports_it(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    home.mkdir()
    keys = _keys(tmp_path, WORKERS)
    results = _run_all_at_barrier(tmp_path, monkeypatch,
                                  [('ssh_authkey', dict(key=key, home=str(home))) for key in keys],
                                  'barrier_mkdir:=.ssh:%d' % WORKERS)
    ssh = str(home / '.ssh')
    planned = 'create directory %s (0700)' % ssh
    assert all(r['changed'] for r in results)     # each added its key
    said = [[a for a in r['actions'] if a.startswith(planned)] for r in results]
    assert sorted(len(s) for s in said) == [1] * WORKERS, said
    assert sum(1 for s in said if s == [planned]) == 1, said
    assert sum(1 for s in said if s == [planned + ': already created by another run']) == WORKERS - 1, said
    lines = (home / '.ssh' / 'authorized_keys').read_text().splitlines()
    assert sorted(lines) == sorted(keys)


def test_concurrency_user_created_by_one_provision_run_only(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip('needs root (creates accounts with useradd)')
    from test_provision_locks import Kh8Users
    users = Kh8Users()
    name = 'kh8r%s' % uuid.uuid4().hex[:7]
    users.names.append(name)
    try:
        results = _run_all_at_barrier(tmp_path, monkeypatch,
                                      [('provision', dict(accounts=[dict(name=name, create=True)]))] * 2,
                                      'barrier_open:=shadow:2')
    finally:
        created = os.path.isdir('/home/%s' % name)
        users.cleanup()
        if os.path.isdir('/home/%s' % name):
            # a second useradd of the name (the bug) leaves a home userdel does not remove
            shutil.rmtree('/home/%s' % name)
    assert created
    assert sorted(r["changed"] for r in results) == [False, True], json.dumps(results)
    loser = [r for r in results if not r['changed']][0]
    assert loser['actions'] == ['create user %s: already created by another run' % name], loser
    assert loser['accounts'][0]['items'][0]['created'] is False
