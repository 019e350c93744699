# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import re
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

ME = pwd.getpwuid(os.geteuid()).pw_name


def public_key(tmp_path, name):
    path = str(tmp_path / name)
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path],
                          stdin=subprocess.DEVNULL)
    with open(path + '.pub') as handle:
        return handle.read().strip()


def accounts(tmp_path, count=3, extra=None):
    bob = public_key(tmp_path, 'bob')
    items = []
    for index in range(count):
        items.append({
            'name': ME,
            'home': str(tmp_path / ('home%d' % index)),
            'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519', 'comment': 'acct%d' % index}],
            'authorized_keys': [{'key': bob, 'options': 'no-pty'}],
        })
    return items + (extra or [])


def run(entries, check_mode=False, atomic=False):
    """Plan and (unless check mode) apply, by run_operation."""
    return run_op(Provision(entries, atomic=atomic), check_mode)


def test_names_must_be_unique(tmp_path):
    entries = accounts(tmp_path, 1)
    with pytest.raises(InvalidInput, match='listed twice'):
        Provision(entries + entries)


def test_check_mode_then_apply_then_unchanged(tmp_path):
    # Same user, different homes: one name per account is enforced, so use distinct homes in separate runs.
    entries = accounts(tmp_path, 1)
    plan, result = run(entries, check_mode=True)
    assert plan.changed and not (tmp_path / 'home0').exists()
    predicted = plan.describe()
    plan, result = run(entries)
    assert plan.describe() == predicted
    account = result['accounts'][0]
    assert account['changed'] and [i['kind'] for i in account['items']] == ['ssh_key', 'authorized_keys']
    key_item = account['items'][0]
    assert key_item['comment'] == 'acct0' and key_item['type'] == 'ed25519'
    authorized = (tmp_path / 'home0' / '.ssh' / 'authorized_keys').read_text()
    assert authorized.startswith('no-pty ssh-ed25519 ') and authorized.endswith(' bob\n')
    plan, result = run(entries)
    assert not plan.changed and not result['accounts'][0]['changed']
    assert 'failed' not in result and 'msg' not in result


def test_keys_without_a_passphrase_are_one_warning_per_run(tmp_path):
    entries = accounts(tmp_path, 1)
    entries[0]['ssh_keys'] = [{'name': 'id_a', 'type': 'ed25519'}, {'name': 'id_b', 'type': 'ed25519'},
                              # said on purpose: not warned about
                              {'name': 'id_c', 'type': 'ed25519', 'passphrase': ''}]
    ssh = tmp_path / 'home0' / '.ssh'
    for check_mode in (True, False):
        dummy, result = run(entries, check_mode=check_mode)
        risks = [text for text in result['warnings'] if 'SECURITY RISK' in text]
        assert len(risks) == 1, result['warnings']
        assert risks[0].endswith('(keys: %s, %s)' % (ssh / 'id_a', ssh / 'id_b'))


def test_diff_is_one_per_changed_item_and_has_no_secrets(tmp_path):
    entries = accounts(tmp_path, 1)
    entries[0]['ssh_keys'][0]['passphrase'] = 'provision secret'
    plan, result = run(entries)
    diffs = plan.diff()
    assert len(diffs) == 2
    assert all(d['before_header'].startswith(ME + ': ') for d in diffs)
    text = repr(diffs) + repr(result)
    assert 'provision secret' not in text and 'PRIVATE KEY' not in text


def test_bad_item_non_atomic_other_accounts_still_applied(tmp_path):
    good = accounts(tmp_path, 1)
    bad = [{'name': 'nobody', 'home': str(tmp_path / 'bad'), 'ssh_keys': [{'name': 'config'}]}]
    plan, result = run(good + bad)
    assert (tmp_path / 'home0' / '.ssh' / 'id_ed25519').exists()
    assert not (tmp_path / 'bad').exists()
    failed = [a for a in result['accounts'] if a.get('failed')]
    assert len(failed) == 1 and 'ssh_keys[0] (config)' in failed[0]['msg']
    assert result['failed'] and result['msg'].startswith('1 of 2 accounts failed') and result['changed']


def test_bad_item_atomic_writes_nothing(tmp_path):
    good = accounts(tmp_path, 1)
    bad = [{'name': 'nobody', 'home': str(tmp_path / 'bad'),
            'authorized_keys': [{'key': 'ssh-ed25519 AAAAnotbase64!!! x'}]}]
    with pytest.raises(KeysmithError, match='account nobody.*nothing was written'):
        run(good + bad, atomic=True)
    assert not (tmp_path / 'home0').exists() and not (tmp_path / 'bad').exists()


def test_revoke_and_exclusive(tmp_path):
    entries = accounts(tmp_path, 1)
    run(entries)
    carol = public_key(tmp_path, 'carol')
    entries[0]['authorized_keys'].append({'key': carol})
    run(entries)
    path = tmp_path / 'home0' / '.ssh' / 'authorized_keys'
    assert ' carol' in path.read_text()
    entries[0]['authorized_keys'][1]['state'] = 'absent'
    plan, _result = run(entries)
    assert plan.changed and ' carol' not in path.read_text() and ' bob' in path.read_text()
    entries[0]['authorized_keys'] = [{'key': carol}]
    entries[0]['authorized_keys_exclusive'] = True
    run(entries)
    assert ' bob' not in path.read_text() and ' carol' in path.read_text()


def test_missing_user_check_mode_predicts_real_run_names_it(tmp_path):
    entries = [{'name': 'keysmith-no-such-user', 'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}]}]
    plan, result = run(entries, check_mode=True)
    assert plan.changed and result['accounts'][0]['changed']
    _plan, result = run(entries)
    assert 'does not exist' in result['accounts'][0]['msg']


def ssl_entry(tmp_path, key_type='rsa'):
    return [{
        'name': ME,
        'home': str(tmp_path / 'tlshome'),
        'ssl': [{'host': 'alice.example.com', 'country': 'US', 'province': 'Texas', 'city': 'Houston',
                 'company': 'Example', 'subject_alt_names': ['www.alice.example.com'], 'type': key_type}],
    }]


def test_ssl_key_then_csr_in_one_run_and_csr_follows_a_new_key(tmp_path):
    entries = ssl_entry(tmp_path)
    plan, _result = run(entries, check_mode=True)
    assert [a.kind for a in plan.actions].count('generate') == 2
    plan, result = run(entries)
    items = result['accounts'][0]['items']
    assert [i['kind'] for i in items] == ['ssl_key', 'ssl_csr']
    csr_path = str(tmp_path / 'tlshome' / 'ssl' / 'csrs' / 'alice.example.com.csr')
    subprocess.check_call(['openssl', 'req', '-verify', '-noout', '-in', csr_path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert items[1]['output'] == 'Certificate Signing Request generated!'
    plan, _result = run(entries)
    assert not plan.changed
    # A new key type regenerates the key, and the CSR is made for the new key in the same run.
    plan, result = run(ssl_entry(tmp_path, key_type='ecdsa'))
    kinds = [(a.kind, os.path.basename(a.path)) for a in plan.actions]
    assert ('regenerate', 'alice.example.com.key') in kinds and ('regenerate', 'alice.example.com.csr') in kinds
    assert result['accounts'][0]['items'][1]['key_type'] == 'ecdsa'
    plan, _result = run(ssl_entry(tmp_path, key_type='ecdsa'))
    assert not plan.changed


def test_authorized_keys_options_apply_to_every_key_of_an_item(tmp_path):
    # the options are not pasted in front of the text: a value with two keys gets them on both
    carol, dave = public_key(tmp_path, 'carol'), public_key(tmp_path, 'dave')
    entries = accounts(tmp_path, 1)
    entries[0]['authorized_keys'] = [{'key': carol + '\n' + dave, 'options': 'no-pty, restrict'}]
    plan, result = run(entries)
    lines = (tmp_path / 'home0' / '.ssh' / 'authorized_keys').read_text().splitlines()
    assert [line.split(' ', 1)[0] for line in lines] == ['no-pty,restrict'] * 2
    assert [line.rsplit(' ', 1)[1] for line in lines] == ['carol', 'dave']
    plan, result = run(entries)
    assert not plan.changed


def test_authorized_keys_options_with_a_newline_are_an_error(tmp_path):
    carol = public_key(tmp_path, 'carol')
    entries = accounts(tmp_path, 1)
    entries[0]['authorized_keys'] = [{'key': carol, 'options': 'no-pty\nssh-ed25519 AAAA'}]
    # before, the newline made the text after it an extra authorized line
    with pytest.raises(KeysmithError, match='single line'):
        run(entries, atomic=True)


def test_a_bad_first_account_does_not_stop_the_next_one(tmp_path):
    bad = [{'name': 'nobody', 'home': str(tmp_path / 'bad'), 'ssh_keys': [{'name': 'config'}]}]
    dummy_plan, result = run(bad + accounts(tmp_path, 1))
    assert (tmp_path / 'home0' / '.ssh' / 'id_ed25519').exists()
    assert [a['name'] for a in result['accounts'] if a.get('failed')] == ['nobody'] and result['failed']


def test_atomic_stops_at_the_first_account_that_fails_while_applying(tmp_path, monkeypatch):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
    generate = SshKeyPair._generate
    calls = []

    def failing_once(self):
        calls.append(self.spec.path)
        if len(calls) == 1:
            raise KeysmithError('disk full')
        return generate(self)

    monkeypatch.setattr(SshKeyPair, '_generate', failing_once)
    entries = accounts(tmp_path, 1) + [{'name': 'nobody', 'home': str(tmp_path / 'home1'),
                                        'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}]}]
    dummy_plan, result = run(entries, atomic=True)
    assert result['failed'] and re.search('account %s, ssh_keys.0. .id_ed25519.: .*disk full' % ME, result['msg'])
    assert len(calls) == 1 and not (tmp_path / 'home1' / '.ssh' / 'id_ed25519').exists()
    # what was done before the failure is said, and the task is changed (~/.ssh was made)
    assert (tmp_path / 'home0' / '.ssh').is_dir()
    assert result['changed'] is True and 'changed before the failure: account %s' % ME in result['msg']
    assert 'not applied: nobody' in result['msg']
    assert [a.get('msg') for a in result['accounts']][1].startswith('not applied')


def count_key_loads(monkeypatch):
    """Count PEM private key loads (tls_keys.load_private) and OpenSSL-validated loads."""
    from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
    from cryptography.hazmat.primitives import serialization
    loads = {'load_private': 0, 'validated': 0}
    real_load_private = tls_keys.load_private
    real_load_pem = serialization.load_pem_private_key

    def load_private(*args, **kwargs):
        loads['load_private'] += 1
        return real_load_private(*args, **kwargs)

    def load_pem(*args, **kwargs):
        if not kwargs.get('unsafe_skip_rsa_key_validation'):
            loads['validated'] += 1
        return real_load_pem(*args, **kwargs)

    monkeypatch.setattr(tls_keys, 'load_private', load_private)
    monkeypatch.setattr(serialization, 'load_pem_private_key', load_pem)
    return loads


def test_each_tls_key_is_loaded_at_most_once_per_run(tmp_path, monkeypatch):
    loads = count_key_loads(monkeypatch)
    entries = ssl_entry(tmp_path)
    # first run: the key is generated and the CSR signed with it, nothing is read back
    plan, result = run(entries)
    assert [a.kind for a in plan.actions].count('generate') == 2
    assert loads['load_private'] == 0
    assert result['accounts'][0]['items'][1]['output'] == 'Certificate Signing Request generated!'
    # rerun: the key is loaded once (by the key item) and the CSR compares with that key
    plan, _result = run(entries)
    assert not plan.changed
    assert loads['load_private'] == 1
    # a changed subject: the CSR is regenerated with the key loaded by the key item
    entries[0]['ssl'][0]['city'] = 'Austin'
    plan, result = run(entries)
    assert [a.kind for a in plan.actions] == ['regenerate']
    assert loads['load_private'] == 2
    csr_path = str(tmp_path / 'tlshome' / 'ssl' / 'csrs' / 'alice.example.com.csr')
    subprocess.check_call(['openssl', 'req', '-verify', '-noout', '-in', csr_path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert result['accounts'][0]['items'][1]['subject']['L'] == 'Austin'
    # OpenSSL's RSA check (primality tests) is skipped where cryptography offers it
    import cryptography
    if int(cryptography.__version__.split('.')[0]) >= 39:
        assert loads['validated'] == 0


def test_summary_report_keeps_counts_and_changed_items_only(tmp_path):
    other = 'ks18sum%d' % (os.getpid() % 100000)
    subprocess.check_call(['useradd', '-M', other])
    try:
        check_summary(tmp_path, other)
    finally:
        subprocess.call(['userdel', other])


def check_summary(tmp_path, other):
    entries = accounts(tmp_path, 1)
    second = dict(entries[0], name=other, home=str(tmp_path / other), ssh_keys=list(entries[0]['ssh_keys']))
    entries.append(second)
    run(entries)
    # one account changes (a new key), the other does not
    entries[0]['ssh_keys'].append({'name': 'id_second', 'type': 'ed25519'})
    provision = Provision(entries, report='summary')
    plan = provision.plan()
    plan.apply()
    result = provision.result(plan, True)
    assert result['counts'] == {'accounts': 2, 'changed': 1, 'unchanged': 1, 'failed': 0, 'items': 5,
                                'changed_items': 1}
    assert [entry['name'] for entry in result['accounts']] == [ME]  # the other one is unchanged
    assert [item['item'] for item in result['accounts'][0]['items']] == ['ssh_keys[1] (id_second)']
    assert result['actions'] == plan.describe() and len(plan.diff()) == 1
    with pytest.raises(InvalidInput, match='report must be one of'):
        Provision(entries, report='short')


# ---------------------------------------------------------------- keys computed ahead (KeysAhead)

def spy_key_threads(monkeypatch, fail_type=None):
    """Record the thread each TLS and SSH key is generated in; fail TLS keys of ``fail_type``."""
    import threading
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backend_cryptography
    from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
    seen = {'tls': [], 'ssh': []}
    real_tls, real_ssh = tls_keys.generate, backend_cryptography.CryptographyBackend.generate

    def tls_generate(key_type, size):
        seen['tls'].append(threading.current_thread().name)
        if key_type == fail_type:
            raise KeysmithError('entropy ran out')
        return real_tls(key_type, size)

    def ssh_generate(self, *args, **kwargs):
        seen['ssh'].append(threading.current_thread().name)
        return real_ssh(self, *args, **kwargs)

    monkeypatch.setattr(tls_keys, 'generate', tls_generate)
    monkeypatch.setattr(backend_cryptography.CryptographyBackend, 'generate', ssh_generate)
    return seen


def key_matches_files(home, host):
    """The CSR and the SSH .pub are those of the keys written beside them (real openssl / ssh-keygen)."""
    key = str(home / 'ssl' / 'keys' / (host + '.key'))
    csr = str(home / 'ssl' / 'csrs' / (host + '.csr'))
    from_key = subprocess.check_output(['openssl', 'pkey', '-in', key, '-pubout'])
    from_csr = subprocess.check_output(['openssl', 'req', '-in', csr, '-noout', '-pubkey', '-verify'],
                                       stderr=subprocess.DEVNULL)
    ssh_public = subprocess.check_output(['ssh-keygen', '-y', '-f', str(home / '.ssh' / 'id_ecdsa')]).split()[:2]
    with open(str(home / '.ssh' / 'id_ecdsa.pub'), 'rb') as handle:
        assert handle.read().split()[:2] == ssh_public
    return from_key == from_csr


@pytest.fixture
def fleet_users():
    """Throw-away users (useradd: the unit tests run as root, as test_provision_users does), removed afterwards."""
    made = []

    def make(count):
        for index in range(count):
            name = 'ks18k%d%d' % (os.getpid() % 10000, index)
            subprocess.check_call(['useradd', '-M', '-s', '/bin/sh', name])
            made.append(name)
        return list(made)
    yield make
    for name in made:
        subprocess.call(['userdel', name], stderr=subprocess.DEVNULL)


def tls_fleet(tmp_path, names, key_types=None):
    entries = []
    for index, name in enumerate(names):
        entries.append({
            'name': name,
            'home': str(tmp_path / name),
            'ssh_keys': [{'name': 'id_ecdsa', 'type': 'ecdsa', 'comment': name}],
            'ssl': [{'host': '%s.example.com' % name, 'country': 'US', 'province': 'Texas', 'city': 'Houston',
                     'company': 'Example', 'type': (key_types or ['rsa'] * len(names))[index]}],
        })
    return entries


def test_new_keys_are_computed_ahead_in_worker_threads(tmp_path, monkeypatch, fleet_users):
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    seen = spy_key_threads(monkeypatch)
    names = fleet_users(4)
    entries = tls_fleet(tmp_path, names, ['rsa', 'ecdsa', 'ed25519', 'rsa'])
    plan, result = run(entries)
    assert not result.get('failed')
    assert len(seen['tls']) == 4 and len(seen['ssh']) == 4
    assert 'MainThread' not in seen['tls'] + seen['ssh']
    for name in names:
        assert key_matches_files(tmp_path / name, '%s.example.com' % name)
    # nothing is computed ahead when nothing is to be made
    plan, result = run(entries)
    assert not plan.changed and len(seen['tls']) == 4


def test_on_one_cpu_keys_are_made_by_the_applying_thread(tmp_path, monkeypatch, fleet_users):
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 1)
    seen = spy_key_threads(monkeypatch)
    names = fleet_users(2)
    run(tls_fleet(tmp_path, names))
    assert seen['tls'] == ['MainThread'] * 2 and seen['ssh'] == ['MainThread'] * 2
    for name in names:
        assert key_matches_files(tmp_path / name, '%s.example.com' % name)


def test_a_key_that_fails_ahead_fails_its_own_account_only(tmp_path, monkeypatch, fleet_users):
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    spy_key_threads(monkeypatch, fail_type='ecdsa')
    names = fleet_users(3)
    plan, result = run(tls_fleet(tmp_path, names, ['rsa', 'ecdsa', 'rsa']))
    failed = [account for account in result['accounts'] if account.get('failed')]
    assert [account['name'] for account in failed] == [names[1]]
    assert 'ssl[0] (%s.example.com) key: entropy ran out' % names[1] in failed[0]['msg']
    for name in (names[0], names[2]):
        assert key_matches_files(tmp_path / name, '%s.example.com' % name)
    # the failed account's SSH key (applied before its TLS key) is there; its TLS files are not
    assert (tmp_path / names[1] / '.ssh' / 'id_ecdsa').exists()
    assert not (tmp_path / names[1] / 'ssl' / 'keys' / ('%s.example.com.key' % names[1])).exists()


def test_atomic_failure_cancels_the_keys_not_started_and_leaves_no_thread(tmp_path, monkeypatch, fleet_users):
    import threading
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    seen = spy_key_threads(monkeypatch, fail_type='ecdsa')
    names = fleet_users(6)
    before = threading.active_count()
    dummy_plan, result = run(tls_fleet(tmp_path, names, ['ecdsa'] + ['rsa'] * 5), atomic=True)
    assert result['failed'] and re.search('account %s, ssl.0. .*entropy ran out' % names[0], result['msg'])
    assert threading.active_count() == before
    # the first account failed; the keys of the later ones were never written
    for name in names[1:]:
        assert not (tmp_path / name / 'ssl').exists() and not (tmp_path / name / '.ssh').exists()
    assert 'MainThread' not in seen['tls']


def test_ssh_keygen_processes_run_ahead_too(tmp_path, monkeypatch, fleet_users):
    # the ssh-keygen backend: one process per key, each with its own private temporary directory
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    names = fleet_users(3)
    entries = [{'name': name, 'home': str(tmp_path / name),
                'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519', 'passphrase': 'pass %s' % name,
                              'comment': name}]} for name in names]
    plan, result = run_op(Provision(entries, backend='ssh-keygen'), False)
    assert not result.get('failed')
    for name in names:
        key = str(tmp_path / name / '.ssh' / 'id_ed25519')
        public = subprocess.check_output(['ssh-keygen', '-y', '-P', 'pass %s' % name, '-f', key]).split()[:2]
        with open(key + '.pub', 'rb') as handle:
            assert handle.read().split() == public + [name.encode()]


def test_ssl_item_with_a_province_as_state_names_the_province_option(tmp_path):
    entries = ssl_entry(tmp_path)
    entries[0]['ssl'][0]['state'] = 'California'
    with pytest.raises(KeysmithError, match=r'ssl\[0\] \(alice.example.com\).*use province: California'):
        run(entries, atomic=True)


def test_a_backend_missing_when_keys_are_computed_ahead_fails_each_account_with_its_message(
        tmp_path, monkeypatch, fleet_users):
    from ansible_collections.keysmith.accounts.plugins.module_utils import _provision
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import backend_sshkeygen
    monkeypatch.setattr(_provision, 'usable_cpus', lambda: 2)
    monkeypatch.setattr(backend_sshkeygen, 'find_executable', lambda *args, **kwargs: None)
    names = fleet_users(2)
    entries = [{'name': name, 'home': str(tmp_path / name),
                'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}]} for name in names]
    plan, result = run_op(Provision(entries, backend='ssh-keygen'), False)
    assert [account.get('failed') for account in result['accounts']] == [True, True]
    assert all('ssh-keygen program is not installed' in account['msg'] for account in result['accounts'])
