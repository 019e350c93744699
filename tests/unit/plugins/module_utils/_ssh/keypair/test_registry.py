# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import multiprocessing
import os
import pwd
import stat
import subprocess
import sys

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    KeysmithError,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.registry import (
    ENTRY_FIELDS,
    Entry,
    Registry,
    current_user,
    new_id,
    utc_now,
    validate_id,
    validate_name,
)

PUBLIC = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILpjyorKTsao66qkf7QPGrC9r3hwJigHyx6833IErZHw test'


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def entry(name, **fields):
    values = dict(name=name, public_key=PUBLIC, fingerprint='SHA256:x', type='ed25519', size=256,
                  comment='test', source='imported', generated_by='tester', generated_at=utc_now())
    values.update(fields)
    return Entry(**values)


# ----------------------------------------------------------------- names and ids
@pytest.mark.parametrize('name', ['a', 'A_1', '_', '0', 'x' * 25, 'Deploy_Key_2024'])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize('name, words', [
    ('', 'must not be empty'),
    ('x' * 26, 'at most 25'),
    ('bad-name', "found '-'"),
    ('a b', "found ' '"),
    ('a.json', "found '.'"),
    ('../x', "found '.', '/'"),
    (u'caf\u00e9', 'only letters, digits and "_"'),
    ('a\nb', 'only letters, digits and "_"'),
    (None, 'must not be empty'),
])
def test_invalid_names(name, words):
    with pytest.raises(InvalidInput) as info:
        validate_name(name)
    assert words in info.value.msg


def test_ids_are_skey_and_8_lowercase_alphanumerics():
    ids = set(new_id() for dummy in range(2000))
    assert len(ids) == 2000
    for key_id in ids:
        assert validate_id(key_id) == key_id
    used = set(''.join(key_id[5:] for key_id in ids))
    assert used == set('abcdefghijklmnopqrstuvwxyz0123456789')


def test_new_id_rejects_biased_bytes():
    # 252..255 would make a..d more likely than the rest: they are skipped.
    stream = iter([bytes([255, 254, 253, 252] + [0] * 12), bytes([35] * 16)])
    assert new_id(lambda n: next(stream)) == 'skey-aaaaaaaa'
    assert new_id(lambda n: bytes([35] * n)) == 'skey-99999999'


@pytest.mark.parametrize('key_id', ['skey-ABCDEFGH', 'skey-abc', 'key-abcdefgh', 'skey-abcdefghi', '', None])
def test_invalid_ids(key_id):
    with pytest.raises(InvalidInput):
        validate_id(key_id)


def test_utc_now_is_iso_8601_utc():
    value = utc_now()
    assert len(value) == 20 and value.endswith('Z') and value[10] == 'T'


def test_current_user_prefers_sudo_user_only_as_root(monkeypatch):
    me = pwd.getpwuid(os.geteuid()).pw_name
    monkeypatch.delenv('SUDO_USER', raising=False)
    assert current_user() == me
    monkeypatch.setenv('SUDO_USER', 'nobody')
    assert current_user() == ('nobody' if os.geteuid() == 0 else me)
    monkeypatch.setenv('SUDO_USER', 'no_such_user_keysmith')
    assert current_user() == me


# ----------------------------------------------------------------- entries
def test_entry_refuses_private_material():
    bad = entry('k', public_key='-----BEGIN OPENSSH PRIVATE KEY-----')
    with pytest.raises(KeysmithError) as info:
        bad.serialize()
    assert 'private key material' in info.value.msg
    assert 'BEGIN' not in info.value.msg


def test_entry_round_trip():
    first = entry('k', id='skey-abcdefgh')
    again = Entry.parse(first.serialize(), '/x/k.json')
    assert again == first
    assert set(first.to_dict()) == set(ENTRY_FIELDS)
    with pytest.raises(KeysmithError):
        Entry.parse(b'{"name": 1}', '/x/k.json')
    with pytest.raises(KeysmithError):
        Entry.parse(b'not json', '/x/k.json')


# ----------------------------------------------------------------- registry
def test_missing_registry_reads_empty_and_is_not_created(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    assert registry.entries() == []
    assert registry.get('k') is None
    assert registry.delete('k') is None
    assert not (tmp_path / 'reg').exists()


def test_create_get_list_delete(tmp_path):
    path = tmp_path / 'lib' / 'reg'
    registry = Registry(str(path))
    b = registry.create(entry('b'))
    a = registry.create(entry('a'))
    assert mode_of(path) == 0o700
    assert sorted(os.listdir(str(path))) == ['a.json', 'b.json']
    assert mode_of(path / 'a.json') == 0o600
    stored = json.loads((path / 'a.json').read_text())
    assert stored['id'] == a.id and stored['name'] == 'a' and stored['format'] == 1
    assert a.id != b.id
    assert registry.get('a') == a
    assert [e.name for e in registry.entries()] == ['a', 'b']
    assert registry.find_id(b.id) == b
    assert registry.find_id('skey-00000000') is None
    assert registry.delete('a') == a
    assert registry.delete('a') is None
    assert [e.name for e in registry.entries()] == ['b']


def test_create_refuses_an_existing_name(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    registry.create(entry('k'))
    with pytest.raises(Conflict) as info:
        registry.create(entry('k'))
    assert 'already exists' in info.value.msg


def test_create_draws_again_on_an_id_collision(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    stream = iter([b'\x00' * 16, b'\x00' * 16, b'\x01' * 16])
    first = registry.create(entry('a'), urandom=lambda n: next(stream))
    second = registry.create(entry('b'), urandom=lambda n: next(stream))
    assert first.id == 'skey-aaaaaaaa'
    assert second.id == 'skey-bbbbbbbb'


def test_save_keeps_ids_unique(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    a = registry.create(entry('a'))
    b = registry.create(entry('b'))
    with pytest.raises(Conflict):
        registry.save(b.copy(id=a.id))
    registry.save(a.copy(comment='new'))
    assert registry.get('a').comment == 'new'
    assert registry.get('a').id == a.id


def test_listing_skips_temporary_and_foreign_files(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    registry.create(entry('a'))
    (tmp_path / 'reg' / '.a.json.0123.tmp').write_text('{}')
    (tmp_path / 'reg' / 'README').write_text('x')
    (tmp_path / 'reg' / 'bad-name.json').write_text('{}')
    assert [e.name for e in registry.entries()] == ['a']


def test_broken_entry_is_skipped_with_a_warning_when_listing(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    registry.create(entry('a'))
    (tmp_path / 'reg' / 'b.json').write_text('{broken')
    warnings = []
    assert [e.name for e in registry.entries(warnings)] == ['a']
    assert len(warnings) == 1 and 'b.json' in warnings[0]
    with pytest.raises(KeysmithError):
        registry.entries()
    with pytest.raises(KeysmithError):
        registry.get('b')


def test_entry_under_the_wrong_file_name_is_refused(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    registry.create(entry('a'))
    os.rename(str(tmp_path / 'reg' / 'a.json'), str(tmp_path / 'reg' / 'c.json'))
    with pytest.raises(KeysmithError) as info:
        registry.get('c')
    assert "names key pair 'a', not 'c'" in info.value.msg


def test_symlinked_registry_is_refused(tmp_path):
    (tmp_path / 'real').mkdir()
    os.symlink(str(tmp_path / 'real'), str(tmp_path / 'reg'))
    registry = Registry(str(tmp_path / 'reg'))
    with pytest.raises(UnsafePath):
        registry.create(entry('a'))
    with pytest.raises(UnsafePath):
        registry.entries()


def test_symlinked_entry_is_refused(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    registry.create(entry('a'))
    (tmp_path / 'other.json').write_text(entry('b', id='skey-bbbbbbbb').serialize().decode())
    os.symlink(str(tmp_path / 'other.json'), str(tmp_path / 'reg' / 'b.json'))
    with pytest.raises(UnsafePath):
        registry.get('b')


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give the registry away')
def test_registry_of_another_user_is_refused(tmp_path):
    path = tmp_path / 'reg'
    path.mkdir()
    os.chown(str(path), 65534, 65534)
    with pytest.raises(UnsafePath) as info:
        Registry(str(path)).entries()
    assert 'owned by uid 65534' in info.value.msg


def test_relative_registry_is_refused():
    with pytest.raises(InvalidInput):
        Registry('relative/reg')


def test_hold_fixes_the_mode_and_is_reentrant(tmp_path):
    path = tmp_path / 'reg'
    path.mkdir(mode=0o755)
    os.chmod(str(path), 0o755)
    registry = Registry(str(path))
    assert registry.mode() == 0o755
    assert registry.hold() is False
    try:
        assert mode_of(path) == 0o700
        # create() takes the lock it already holds: no deadlock.
        registry.create(entry('a'))
        # Another open file description cannot take the lock meanwhile.
        fd = os.open(str(path), os.O_RDONLY)
        try:
            with pytest.raises(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    finally:
        registry.release()
    fd = os.open(str(path), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_hold_creates_a_missing_registry(tmp_path):
    registry = Registry(str(tmp_path / 'a' / 'b' / 'reg'))
    assert registry.hold() is True
    registry.release()
    assert mode_of(tmp_path / 'a' / 'b' / 'reg') == 0o700


# ----------------------------------------------------------------- concurrency
def _create_worker(path, name, start, queue):
    try:
        start.wait(10)
        stored = Registry(path).create(entry(name))
        queue.put(('ok', name, stored.id))
    except Conflict as exc:
        queue.put(('conflict', name, exc.msg))
    except Exception as exc:  # pylint: disable=broad-except
        queue.put(('error', name, repr(exc)))


def _run_workers(path, names):
    context = multiprocessing.get_context('fork')
    start = context.Event()
    queue = context.Queue()
    workers = [context.Process(target=_create_worker, args=(path, name, start, queue)) for name in names]
    for worker in workers:
        worker.start()
    start.set()
    results = [queue.get(timeout=60) for dummy in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return results


@pytest.mark.skipif(sys.platform.startswith('win'), reason='posix only')
def test_eight_processes_creating_different_names_lose_none(tmp_path):
    path = str(tmp_path / 'fresh' / 'reg')  # the registry itself is created by the race
    names = ['key_%d' % n for n in range(8)]
    results = _run_workers(path, names)
    assert sorted(r[0] for r in results) == ['ok'] * 8, results
    entries = Registry(path).entries()
    assert [e.name for e in entries] == names
    ids = [e.id for e in entries]
    assert len(set(ids)) == 8
    assert sorted(ids) == sorted(r[2] for r in results)
    assert sorted(os.listdir(path)) == sorted(n + '.json' for n in names)


def test_eight_processes_creating_one_name_make_one_entry(tmp_path):
    path = str(tmp_path / 'reg')
    results = _run_workers(path, ['same'] * 8)
    assert sorted(r[0] for r in results) == ['conflict'] * 7 + ['ok']
    entries = Registry(path).entries()
    assert len(entries) == 1
    assert entries[0].id == [r[2] for r in results if r[0] == 'ok'][0]


def test_no_private_key_material_on_disk(tmp_path):
    registry = Registry(str(tmp_path / 'reg'))
    for name in ('a', 'b', 'c'):
        registry.create(entry(name))
    out = subprocess.run(['grep', '-r', 'PRIVATE KEY', str(tmp_path / 'reg')], stdout=subprocess.PIPE, check=False)
    assert out.returncode == 1 and out.stdout == b''
