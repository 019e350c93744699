# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import access_report
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import policy as policy_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import settings as sshd_settings
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import strict_modes
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

SSHD_T = """port 22
strictmodes yes
pubkeyauthentication yes
requiredrsasize 1024
authorizedkeysfile {files}
pubkeyacceptedalgorithms ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256
authorizedkeyscommand none
"""


def fake_sshd(files, rc=0, calls=None):
    def run(argv):
        if calls is not None:
            calls.append(argv)
        if rc:
            return rc, '', 'sshd: no hostkeys available -- exiting.\n'
        return 0, SSHD_T.format(files=files), ''
    return run


def entry(name, home, uid=None):
    uid = os.geteuid() if uid is None else uid
    return accounts.AccountEntry(name, uid, os.getegid(), str(home), '/bin/sh', [])


def audit(monkeypatch, accounts, run, config='/nonexistent/sshd_config', **options):
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: accounts)
    options.setdefault('sshd_flavor', 'openssh')
    operation = access.AuthorizedKeysInfo(
        access.AccessSpec(sshd_config=config, sshd_path='/usr/sbin/sshd', **options), run)
    plan = operation.plan()
    assert not plan.changed
    return plan, operation.result(plan, False)


def make_home(tmp_path, name='alice'):
    home = tmp_path / name
    (home / '.ssh').mkdir(parents=True)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(home), 0o755)
    os.chmod(str(home / '.ssh'), 0o700)
    return home


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(str(path), mode)


# ---------------------------------------------------------------- pieces

def test_expand_tokens():
    account = entry('bob', '/home/bob', uid=1234)
    assert sshd_settings.expand_tokens('.ssh/authorized_keys', account) == '/home/bob/.ssh/authorized_keys'
    assert sshd_settings.expand_tokens('/etc/ssh/keys/%u', account) == '/etc/ssh/keys/bob'
    assert sshd_settings.expand_tokens('%h/k_%U_%%', account) == '/home/bob/k_1234_%'
    with pytest.raises(InvalidInput, match='unknown token'):
        sshd_settings.expand_tokens('/k/%x', account)


def test_secure_path_walks_to_home():
    stats = {
        '/home': _fake(0o755, 0), '/home/a': _fake(0o755, 5), '/home/a/.ssh': _fake(0o700, 5), '/': _fake(0o755, 0),
    }
    ok = _fake(0o600, 5, is_file=True)
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', ok, '/home/a', 5, stats.get) is None
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', _fake(0o620, 5, True), '/home/a', 5, stats.get) == \
        'bad ownership or modes for file /home/a/.ssh/ak'
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', _fake(0o600, 7, True), '/home/a', 5, stats.get) == \
        'bad ownership or modes for file /home/a/.ssh/ak'
    stats['/home/a'] = _fake(0o775, 5)
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', ok, '/home/a', 5, stats.get) == \
        'bad ownership or modes for directory /home/a'
    # Above the home nothing is looked at; outside it every directory up to / is.
    stats['/home'] = _fake(0o777, 0)
    stats['/home/a'] = _fake(0o755, 5)
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', ok, '/home/a', 5, stats.get) is None
    assert strict_modes.secure_path_problem('/home/a/.ssh/ak', ok, None, 5, stats.get) == \
        'bad ownership or modes for directory /home'


def _fake(mode, uid, is_file=False, gid=None):
    class Info:
        pass
    info = Info()
    info.exists, info.mode, info.uid, info.is_file = True, mode, uid, is_file
    info.gid = uid if gid is None else gid
    return info


class _Pw:
    def __init__(self, name, uid, gid):
        self.pw_name, self.pw_uid, self.pw_gid = name, uid, gid


class _Gr:
    def __init__(self, gid, members=(), name=None):
        self.gr_gid, self.gr_mem, self.gr_name = gid, list(members), name or 'g%d' % gid


def test_debian_group_writable_rule():
    passwd = [_Pw('root', 0, 0), _Pw('alice', 5, 5), _Pw('bob', 6, 100), _Pw('carol', 7, 100), _Pw('dave', 8, 8)]
    groups = [_Gr(0), _Gr(5), _Gr(100), _Gr(8, ['dave']), _Gr(9, ['alice']), _Gr(10)]
    rule = strict_modes.UserGroups(passwd, groups).single_member_rule(5)
    assert rule(_fake(0o770, 5, gid=5))            # alice's user private group
    assert not rule(_fake(0o770, 5, gid=100))      # bob and carol are in it
    assert not rule(_fake(0o770, 5, gid=0))        # root's
    assert rule(_fake(0o770, 5, gid=9))            # only member (list): alice, the owner
    assert not rule(_fake(0o770, 5, gid=10))       # no member at all
    assert not rule(_fake(0o770, 5, gid=77))       # unknown group
    stats = {'/home': _fake(0o755, 0), '/home/a': _fake(0o775, 5), '/': _fake(0o755, 0)}
    ok = _fake(0o660, 5, True)
    assert strict_modes.secure_path_problem('/home/a/ak', ok, '/home/a', 5, stats.get, rule) is None
    assert strict_modes.secure_path_problem('/home/a/ak', ok, '/home/a', 5, stats.get) == \
        'bad ownership or modes for file /home/a/ak'
    assert strict_modes.secure_path_problem('/home/a/ak', _fake(0o662, 5, True), '/home/a', 5, stats.get, rule) == \
        'bad ownership or modes for file /home/a/ak'
    with pytest.raises(InvalidInput, match='sshd_flavor'):
        access.AccessSpec(sshd_flavor='bsd')


def test_settings_from_values():
    values = sshd_settings.parse_sshd_t(SSHD_T.format(files='/etc/keys/%u .ssh/authorized_keys'))
    settings = sshd_settings.settings_from_values(values, 'sshd -T')
    assert settings.authorized_keys_file == ['/etc/keys/%u', '.ssh/authorized_keys']
    assert settings.algorithm_allowed('ssh-rsa')
    assert not settings.algorithm_allowed('ssh-dss')
    assert sshd_settings.settings_from_values({'authorizedkeysfile': 'none'}, 'x').authorized_keys_file == []
    assert sshd_settings.settings_from_values({}, 'x').authorized_keys_file == list(sshd_settings.DEFAULT_AUTHORIZED_KEYS_FILE)
    # A +list modifies defaults we do not know: not checked.
    assert sshd_settings.settings_from_values({'pubkeyacceptedalgorithms': '+ssh-dss'}, 'x').algorithm_allowed('x')


def test_read_sshd_config_includes_and_match(tmp_path):
    (tmp_path / 'conf.d').mkdir()
    write(tmp_path / 'conf.d' / '10-a.conf', 'AuthorizedKeysFile /srv/keys/%u\n')
    write(tmp_path / 'conf.d' / '20-b.conf', 'AuthorizedKeysFile /ignored\nStrictModes no\n')
    write(tmp_path / 'conf.d' / 'skip.txt', 'PubkeyAuthentication no\n')
    write(tmp_path / 'sshd_config', '# comment\nInclude %s/conf.d/*.conf\nStrictModes=yes\n'
          'Match User x\n  PubkeyAuthentication no\n' % tmp_path)
    values, has_match = sshd_settings.read_sshd_config(str(tmp_path / 'sshd_config'))
    assert has_match
    assert values['authorizedkeysfile'] == '/srv/keys/%u'
    assert values['strictmodes'] == 'no'  # the first value wins: the include came first
    assert 'pubkeyauthentication' not in values
    with pytest.raises(InvalidInput):
        sshd_settings.read_sshd_config(str(tmp_path / 'missing'))


def test_weak_and_managed(keyset):
    rsa1024 = PublicKey.from_line(keyset.make('rsa', 1024))
    ed = PublicKey.from_line(keyset.make('ed25519'))
    policy = dict(access.DEFAULT_WEAK_POLICY)
    assert access.weak_reasons(rsa1024, policy) == ['RSA key of 1024 bits < 2048']
    assert access.weak_reasons(ed, policy) == []
    assert access.weak_reasons(ed, dict(policy, weak_types=['ed25519'])) == ['ED25519 keys are weak']
    found = access.managed_fingerprints([ed.to_line(), 'from="1.2.3.4" ' + rsa1024.to_line(),
                                         'SHA256:' + 'A' * 43])
    assert ed.fingerprint_sha256 in found and rsa1024.fingerprint_sha256 in found
    assert 'SHA256:' + 'A' * 43 in found
    with pytest.raises(InvalidInput, match='managed_keys\\[1\\]'):
        access.managed_fingerprints(['not a key'])


# ---------------------------------------------------------------- the audit

def test_audit_files_keys_and_reasons(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path)
    other = make_home(tmp_path, 'carol')
    good = keyset.make('ed25519')
    weak = keyset.make('rsa', 1024)
    shared = keyset.make('ecdsa', 256)
    write(home / '.ssh' / 'authorized_keys',
          '# team keys\n%s\nexpiry-time="20000101Z" %s\n\nnot a key line\nbogus-opt %s\n' % (good, weak, shared))
    write(other / '.ssh' / 'authorized_keys', shared + '\n', mode=0o664)  # group-writable: ignored
    keys_dir = home / '.keys'
    keys_dir.mkdir()
    os.chmod(str(keys_dir), 0o755)
    write(keys_dir / 'alice', 'command="true" %s\n' % shared, mode=0o644)
    files = '%h/.keys/%u .ssh/authorized_keys'
    calls = []
    plan, result = audit(monkeypatch, [entry('alice', home), entry('carol', other)], fake_sshd(files, calls=calls),
                         managed_keys=[good])
    assert plan.warnings == []
    assert len(calls) == 1  # no Match block: one sshd -T for every account
    alice, carol = result['accounts']
    assert [f['path'] for f in alice['files']] == [str(keys_dir / 'alice'), str(home / '.ssh' / 'authorized_keys')]
    assert [f['used'] for f in alice['files']] == [True, True]
    assert alice['files'][1]['invalid_lines'] == [5]
    by_line = dict(((k['file'], k['line']), k) for k in alice['keys'])
    first = by_line[(str(home / '.ssh' / 'authorized_keys'), 2)]
    assert first['accepted'] and first['managed'] is True and not first['weak'] and first['type'] == 'ed25519'
    expired = by_line[(str(home / '.ssh' / 'authorized_keys'), 3)]
    assert expired['expired'] and not expired['accepted'] and expired['weak']
    assert expired['expires_at'] == '2000-01-01T00:00:00Z'
    assert expired['refused_reasons'] == ['expiry-time 20000101Z has passed']
    bad_options = by_line[(str(home / '.ssh' / 'authorized_keys'), 6)]
    assert not bad_options['accepted'] and bad_options['refused_reasons'][0].startswith('bad key options')
    central = by_line[(str(keys_dir / 'alice'), 1)]
    assert central['accepted'] and central['options'] == 'command="true"' and central['accounts_with_key'] == 2
    assert central['managed'] is False
    assert not carol['files'][0]['exists'] and carol['files'][0]['reason'] == 'does not exist'
    assert not carol['files'][1]['used']
    assert carol['files'][1]['reason'] == 'bad ownership or modes for file %s' % (other / '.ssh' / 'authorized_keys')
    assert carol['keys'][0]['accounts_with_key'] == 2 and not carol['keys'][0]['accepted']
    assert 'also_on' not in carol['keys'][0]  # where else: the fingerprints index, once
    assert first['accounts_with_key'] == 1 and not first['duplicate']
    summary = result['summary']
    assert summary == dict(summary, accounts=2, keys=5, accepted=2, ignored=3, weak=1, expired=1,
                           unmanaged=4, files=3, files_ignored=1, duplicates=3, accounts_that_can_log_in=1)
    fp = PublicKey.from_line(shared).fingerprint_sha256
    assert sorted(place['user'] for place in result['fingerprints'][fp]) == ['alice', 'alice', 'carol']
    assert result['managed_missing'] == []
    # Public data only: no key text, no line text.
    assert 'not a key line' not in repr(result) and good.split()[1] not in repr(result)


def test_audit_directory_modes_and_symlinks(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path)
    write(home / '.ssh' / 'authorized_keys', keyset.make('ed25519') + '\n')
    os.chmod(str(home / '.ssh'), 0o777)
    dummy, result = audit(monkeypatch, [entry('alice', home)], fake_sshd('.ssh/authorized_keys'))
    assert result['accounts'][0]['files'][0]['reason'] == 'bad ownership or modes for directory %s' % (home / '.ssh')
    os.chmod(str(home / '.ssh'), 0o700)
    # A symlink is followed, as sshd follows it, and the target's path is checked.
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o777)
    os.chmod(str(target), 0o777)
    os.rename(str(home / '.ssh' / 'authorized_keys'), str(target / 'ak'))
    os.symlink(str(target / 'ak'), str(home / '.ssh' / 'authorized_keys'))
    dummy, result = audit(monkeypatch, [entry('alice', home)], fake_sshd('.ssh/authorized_keys'))
    assert result['accounts'][0]['files'][0]['reason'] == 'bad ownership or modes for directory %s' % target
    # A FIFO is not read (and does not block).
    os.unlink(str(home / '.ssh' / 'authorized_keys'))
    os.mkfifo(str(home / '.ssh' / 'authorized_keys'))
    dummy, result = audit(monkeypatch, [entry('alice', home)], fake_sshd('.ssh/authorized_keys'))
    assert 'not a regular file' in result['accounts'][0]['files'][0]['reason']


def test_audit_unreadable_for_the_account(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path)
    write(home / '.ssh' / 'authorized_keys', keyset.make('ed25519') + '\n', mode=0o600)
    os.chown(str(home / '.ssh' / 'authorized_keys'), 0, 0)
    dummy, result = audit(monkeypatch, [entry('alice', home, uid=4321)], fake_sshd('.ssh/authorized_keys'))
    report = result['accounts'][0]['files'][0]
    assert not report['used'] and report['reason'].startswith('permission denied')


def test_sshd_t_failure_falls_back_to_config(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path)
    write(home / 'keys', keyset.make('ed25519') + '\n')
    write(tmp_path / 'sshd_config', 'AuthorizedKeysFile %h/keys\n')
    plan, result = audit(monkeypatch, [entry('alice', home)], fake_sshd('x', rc=1), config=str(tmp_path / 'sshd_config'))
    assert result['sshd']['source'] == 'sshd_config'
    assert 'no hostkeys' in plan.warnings[0]
    assert result['accounts'][0]['files'][0]['path'] == str(home / 'keys')
    assert result['summary']['accepted'] == 1


def test_match_blocks_run_sshd_per_account(tmp_path, monkeypatch):
    home = make_home(tmp_path)
    write(tmp_path / 'sshd_config', 'StrictModes yes\nMatch User alice\n  AuthorizedKeysFile /x\n')
    calls = []
    dummy, result = audit(monkeypatch, [entry('alice', home)], fake_sshd('/x/%u', calls=calls),
                          config=str(tmp_path / 'sshd_config'))
    assert calls[-1][-2:] == ['-C', 'user=alice,host=,addr=']
    assert result['sshd']['per_user'] and result['accounts'][0]['files'][0]['path'] == '/x/alice'


def test_read_for_audit_is_bounded(tmp_path):
    write(tmp_path / 'big', 'x' * 100)
    info, data, truncated = _fs_audit.read_for_audit(str(tmp_path / 'big'), max_bytes=10)
    assert info.is_file and data == b'x' * 10 and truncated
    assert _fs_audit.read_for_audit(str(tmp_path / 'missing')) == (None, None, False)


def test_file_outside_home_is_checked_up_to_root(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path)
    write(tmp_path / 'central', keyset.make('ed25519') + '\n')
    dummy, result = audit(monkeypatch, [entry('alice', home)], fake_sshd(str(tmp_path / 'central')))
    report = result['accounts'][0]['files'][0]
    # pytest's tmp_path lies below /tmp (mode 1777): sshd refuses such a file.
    parents = [str(p) for p in (tmp_path / 'central').parents]
    bad = [p for p in parents if os.stat(p).st_mode & 0o022 or os.stat(p).st_uid not in (0, os.geteuid())]
    assert report['reason'] == 'bad ownership or modes for directory %s' % bad[0]


def test_relative_include_is_below_sshdir(tmp_path, monkeypatch):
    sshdir = tmp_path / 'etc-ssh'
    (sshdir / 'conf.d').mkdir(parents=True)
    write(sshdir / 'conf.d' / 'keys.conf', 'AuthorizedKeysFile /srv/%u\n')
    monkeypatch.setattr(sshd_settings, 'DEFAULT_SSHD_CONFIG', str(sshdir / 'sshd_config'))
    (tmp_path / 'elsewhere').mkdir()
    write(tmp_path / 'elsewhere' / 'sshd_config', 'Include conf.d/*.conf\n')
    values, dummy = sshd_settings.read_sshd_config(str(tmp_path / 'elsewhere' / 'sshd_config'))
    assert values['authorizedkeysfile'] == '/srv/%u'


def test_match_without_user_runs_sshd_once_per_group_set(tmp_path, monkeypatch):
    write(tmp_path / 'sshd_config', 'StrictModes yes\nMatch Group admins Address 10.0.0.0/8\n  AuthorizedKeysFile /x\n')
    homes = [make_home(tmp_path, name) for name in ('a', 'b', 'c')]
    accounts = [entry('a', homes[0]), entry('b', homes[1]), entry('c', homes[2])]
    accounts[1].groups.add(4241)  # a group no Match names: same answer as a's
    accounts[2].groups.add(4242)
    monkeypatch.setattr(access.grp, 'getgrall', lambda: [_Gr(4241, (), 'staff'), _Gr(4242, (), 'admins')])
    calls = []
    dummy, result = audit(monkeypatch, accounts, fake_sshd('.ssh/authorized_keys', calls=calls),
                          config=str(tmp_path / 'sshd_config'))
    # "any client": the Match Address block is asked about with an address it
    # matches (10.0.0.1) and one it does not (192.0.2.1), once per group verdict
    assert [call[-1] for call in calls[1:]] == [
        'user=a,host=192.0.2.1,addr=192.0.2.1', 'user=a,host=10.0.0.1,addr=10.0.0.1',
        'user=c,host=192.0.2.1,addr=192.0.2.1', 'user=c,host=10.0.0.1,addr=10.0.0.1']
    assert result['sshd']['per_group_set'] and result['sshd']['runs'] == 5
    assert [account['sshd']['source'] for account in result['accounts']] == \
        ['sshd -T -C user=a,host=192.0.2.1,addr=192.0.2.1', 'sshd -T -C user=a,host=192.0.2.1,addr=192.0.2.1',
         'sshd -T -C user=c,host=192.0.2.1,addr=192.0.2.1']
    write(tmp_path / 'sshd_config', 'Include %s/more.conf\n' % tmp_path)
    write(tmp_path / 'more.conf', 'Match Group admins User=b\n  PubkeyAuthentication no\n')
    calls = []
    dummy, result = audit(monkeypatch, accounts, fake_sshd('.ssh/authorized_keys', calls=calls),
                          config=str(tmp_path / 'sshd_config'))
    assert len(calls) == 4 and not result['sshd']['per_group_set']


def test_group_verdicts_follow_sshd():
    lists = [['adm*', '!admin-old'], ['wheel']]
    assert sshd_settings._group_verdicts(['users'], lists) == ((False, False), (False, False))
    assert sshd_settings._group_verdicts(['users', 'admins'], lists) == ((False, True), (False, False))
    assert sshd_settings._group_verdicts(['admins', 'admin-old'], lists) == ((True, True), (False, False))
    assert sshd_settings._group_verdicts(['wheel'], lists) == ((False, False), (False, True))
    found = []
    assert sshd_settings.match_criteria('/nonexistent', group_lists=found) == set()


def test_managed_keys_by_user(tmp_path, monkeypatch, keyset):
    # What access_cleanup.yml enforces: each account judged by its own list.
    alice_home, bob_home = make_home(tmp_path), make_home(tmp_path, 'bob')
    alice_key, bob_key, other = keyset.make('ed25519'), keyset.make('ed25519'), keyset.make('ed25519')
    write(alice_home / '.ssh' / 'authorized_keys', '%s\n%s\n' % (alice_key, bob_key))
    write(bob_home / '.ssh' / 'authorized_keys', '%s\n%s\n' % (bob_key, other))
    fp = PublicKey.from_line(other).fingerprint_sha256
    plan, result = audit(monkeypatch, [entry('alice', alice_home), entry('bob', bob_home)],
                         fake_sshd('.ssh/authorized_keys'), managed_keys=[fp],
                         managed_keys_by_user={'alice': [alice_key], 'carol': [keyset.make('ed25519')]})
    alice, bob = result['accounts']
    assert [k['managed'] for k in alice['keys']] == [True, False]   # bob's key is not alice's
    assert [k['managed'] for k in bob['keys']] == [False, True]     # bob: managed_keys
    assert result['summary']['unmanaged'] == 2
    assert len(result['managed_missing']) == 1                      # carol's key is nowhere
    with pytest.raises(InvalidInput, match='managed_keys_by_user\\[alice\\]'):
        access.AccessSpec(managed_keys_by_user={'alice': 'ssh-ed25519 AAAA'})


def test_account_state_refuses_every_key_of_the_account(tmp_path, monkeypatch, keyset):
    """Issue 26 class 8: a shell sshd refuses on makes every key of the account refused,
    with the reason on the account and on each key; the other accounts are untouched."""
    home = make_home(tmp_path)
    other = make_home(tmp_path, 'carol')
    line = keyset.make('ed25519')
    write(home / '.ssh' / 'authorized_keys', line + '\n')
    write(other / '.ssh' / 'authorized_keys', line + '\n')
    alice = accounts.AccountEntry('alice', os.geteuid(), os.getegid(), str(home), '/nonexistent/shell', [])
    plan, result = audit(monkeypatch, [alice, entry('carol', other)], fake_sshd('.ssh/authorized_keys'))
    refused, fine = result['accounts']
    assert refused['login_refused_reasons'] == ['shell /nonexistent/shell does not exist']
    assert refused['account_state']['shell_ok'] is False and refused['account_state']['use_pam'] is False
    assert [(k['accepted'], k['refused_reasons']) for k in refused['keys']] == [
        (False, ['shell /nonexistent/shell does not exist'])]
    assert fine['login_refused_reasons'] == [] and fine['keys'][0]['accepted']
    assert result['summary'] == dict(result['summary'], accounts_that_can_log_in=1, accounts_login_refused=1,
                                     accepted=1, ignored=1)
    fp = fine['keys'][0]['fingerprint']
    assert [(p['user'], p['accepted']) for p in result['fingerprints'][fp]] == [('alice', False), ('carol', True)]


def test_policy_on_the_host_is_the_fleet_policy(tmp_path, monkeypatch, keyset):
    # the host check (authorized_keys_info's policy) and the fleet check (access_report's) judge with the same code
    alice = make_home(tmp_path)
    carol = make_home(tmp_path, 'carol')
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'plain',
                           '-f', str(alice / '.ssh' / 'id_ed25519')])
    plain = (alice / '.ssh' / 'id_ed25519.pub').read_text().strip()
    small = keyset.make('rsa', 1024)
    write(alice / '.ssh' / 'authorized_keys', '%s\nfrom="10.0.0.1",restrict %s\n' % (plain, small))
    write(carol / '.ssh' / 'authorized_keys', 'from="10.0.0.2",command="true" %s\n' % plain)
    policy = {'root_requires_from': True, 'root_requires_restriction': True, 'min_rsa_bits': 2048,
              'max_accounts_per_key': 1, 'forbid_unencrypted_root_keys': True, 'allowed_types': None}
    plan, result = audit(monkeypatch, [entry('alice', alice), entry('carol', carol)],
                         fake_sshd('.ssh/authorized_keys'), policy=policy, private_keys=True, host='h1')
    found = sorted((item['user'], item['rule'], item['line']) for item in result['policy_violations'])
    # the accounts are uid 0 here (the test runs as root): both open root
    assert found == [('alice', 'forbid_unencrypted_root_keys', None), ('alice', 'max_accounts_per_key', 1),
                     ('alice', 'min_rsa_bits', 2), ('alice', 'root_requires_from', 1),
                     ('alice', 'root_requires_restriction', 1), ('carol', 'max_accounts_per_key', 1)]
    assert all(item['host'] == 'h1' and item['fix'] for item in result['policy_violations'])
    assert result['summary']['policy_violations'] == 6 and '6 policy violations' in result['msg']
    # the keys of the result are not marked (access_report marks its own rows)
    assert not any('violations' in key for account in result['accounts'] for key in account['keys'])
    report = access_report.build_report({'h1': result}, policy=policy_rules.check_policy(policy))
    assert sorted(report['policy']['violations'], key=repr) == sorted(result['policy_violations'], key=repr)


def test_policy_on_the_host_says_what_it_cannot_check(tmp_path, monkeypatch, keyset):
    alice = make_home(tmp_path)
    write(alice / '.ssh' / 'authorized_keys', keyset.make('ed25519') + '\n')
    plan, result = audit(monkeypatch, [entry('alice', alice)], fake_sshd('.ssh/authorized_keys'),
                         policy={'max_unused_days': 90, 'forbid_unencrypted_root_keys': True})
    assert result['policy_violations'] == [] and result['summary']['policy_violations'] == 0
    assert any('max_unused_days is not checked without usage' in text for text in plan.warnings)
    assert any('forbid_unencrypted_root_keys is not checked without private_keys' in text for text in plan.warnings)
    plan, result = audit(monkeypatch, [entry('alice', alice)], fake_sshd('.ssh/authorized_keys'))
    assert 'policy_violations' not in result and 'policy_violations' not in result['summary']
    with pytest.raises(InvalidInput):
        access.AccessSpec(policy={'max_unused_days': -1})
