# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""authorized_keys_info: the settings that decide before any key (DenyUsers,
AllowUsers, DenyGroups, AllowGroups, AuthenticationMethods, PubkeyAuthentication,
RevokedKeys) and the verdicts per client context (Match Address/Host/LocalAddress/
LocalPort, from=). The real-sshd check is tests/parity/audit_settings_check.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import (
    build_report,
    render_csv,
    render_html,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import clients as sshd_clients
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import login_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import revoked as sshd_revoked
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import settings as sshd_settings

BASE_T = """port 22
listenaddress 0.0.0.0:22
usedns no
strictmodes no
pubkeyauthentication yes
authorizedkeysfile {files}
authenticationmethods any
revokedkeys none
"""


def real_run(argv):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def fake_sshd(answer, calls=None):
    """A run_command whose sshd -T prints ``answer(connection dict)``; anything
    else (ssh-keygen) really runs."""
    def run(argv):
        if not argv[0].endswith('sshd'):
            return real_run(argv)
        connection = {}
        if '-C' in argv:
            connection = dict(item.split('=', 1) for item in argv[argv.index('-C') + 1].split(','))
        if calls is not None:
            calls.append(connection)
        return 0, answer(connection), ''
    return run


def make_home(tmp_path, name):
    home = tmp_path / name
    (home / '.ssh').mkdir(parents=True)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(home), 0o755)
    return home


def write(path, text, mode=0o644):
    path.write_text(text)
    os.chmod(str(path), mode)


def entry(name, home, gid=None, groups=()):
    return accounts.AccountEntry(name, os.geteuid(), os.getegid() if gid is None else gid, str(home), '/bin/sh',
                                 list(groups))


def audit(monkeypatch, entries, run, config, **options):
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: entries)
    options.setdefault('sshd_flavor', 'openssh')
    operation = access.AuthorizedKeysInfo(
        access.AccessSpec(sshd_config=str(config), sshd_path='/usr/sbin/sshd', **options), run)
    plan = operation.plan()
    return plan, operation.result(plan, False)


def line(text):
    """The ``type base64`` of a public key line."""
    return ' '.join(text.split()[:2])


def fingerprint(text):
    return PublicKey.from_line(text).fingerprint_sha256


def keys_of(result, user):
    account = [item for item in result['accounts'] if item['user'] == user][0]
    return dict((key['fingerprint'], key) for key in account['keys'])


# ---------------------------------------------------------------- login_rules

def test_match_user_user_and_host_parts():
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'al*') == 1
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'Alice') == 0  # case-sensitive
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'alice@10.0.0.0/8') == 1
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'alice@192.168.*') == 0
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'bob@10.0.0.0/8') == 0
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'alice@!10.1.2.3,10.*') == 0
    assert login_rules.match_user('alice', 'h.example.com', '10.1.2.3', 'alice@*.EXAMPLE.com') == 1
    assert login_rules.match_user('alice', '10.1.2.3', '10.1.2.3', 'alice@10.0.0.1/8') == -1


def test_account_refusals_in_sshd_order():
    login = login_rules.LoginSettings(deny_users=['bob', 'carol@10.*'], allow_users=['alice', 'carol', 'dave@10.*'])

    def refusals(user, addr):
        return login_rules.account_refusals(login, user, ['users'], addr, addr)
    assert refusals('alice', '10.0.0.1') == []
    assert refusals('bob', '10.0.0.1') == ['listed in DenyUsers (bob)']
    assert refusals('carol', '10.0.0.1') == ['listed in DenyUsers (carol@10.*)']
    assert refusals('carol', '192.0.2.1') == []
    assert refusals('dave', '192.0.2.1') == ['not listed in AllowUsers']
    assert refusals('dave', '10.9.9.9') == []
    groups = login_rules.LoginSettings(deny_groups=['wheel'], allow_groups=['staff*', '!x'])

    def check(names):
        return login_rules.account_refusals(groups, 'u', names, '1.2.3.4', '1.2.3.4')
    assert check(['staffers']) == []
    assert check(['staff', 'wheel']) == ['a group is listed in DenyGroups']
    assert check(['users']) == ["none of the account's groups is listed in AllowGroups"]
    # ga_match has no negation: "!x" is a pattern for a group named "!x"
    assert check(['x']) == ["none of the account's groups is listed in AllowGroups"]
    assert check([]) == ['not in any group (DenyGroups/AllowGroups are set)']


def test_methods_refusal():
    assert login_rules.methods_refusal('any') is None
    assert login_rules.methods_refusal('publickey') is None
    assert login_rules.methods_refusal('publickey,password publickey') is None
    assert 'a key alone is not enough' in login_rules.methods_refusal('publickey,password')
    assert 'a key alone is not enough' in login_rules.methods_refusal('publickey,publickey')
    assert 'no list starts with publickey' in login_rules.methods_refusal('password,publickey keyboard-interactive')


def test_sshd_t_lists_and_config_lines(tmp_path):
    values = sshd_settings.parse_sshd_t('denyusers bob\ndenyusers carol@10.*\nallowgroups wheel\n'
                                        'authenticationmethods publickey,password publickey\n'
                                        'revokedkeys /etc/ssh/revoked\nusedns yes\n')
    settings = sshd_settings.settings_from_values(values, 'sshd -T')
    assert settings.login.deny_users == ['bob', 'carol@10.*'] and settings.login.allow_groups == ['wheel']
    assert settings.login.authentication_methods == 'publickey,password publickey'
    assert settings.login.revoked_keys == '/etc/ssh/revoked' and settings.login.use_dns
    assert settings.as_dict()['deny_users'] == ['bob', 'carol@10.*']
    config = tmp_path / 'sshd_config'
    write(config, 'DenyUsers a b\nDenyUsers c\nRevokedKeys none\n')
    values, dummy = sshd_settings.read_sshd_config(str(config))
    login = sshd_settings.settings_from_values(values, 'sshd_config').login
    assert login.deny_users == ['a', 'b', 'c'] and login.revoked_keys is None


# ---------------------------------------------------------------- clients

def test_address_in_and_clients_option():
    assert sshd_clients.address_in('10.0.0.0/8') == '10.0.0.1'
    assert sshd_clients.address_in('192.168.1.7/32') == '192.168.1.7'
    assert sshd_clients.address_in('192.168.*') == '192.168.1.1'
    assert sshd_clients.address_in('10.1.?.4') == '10.1.1.4'
    assert sshd_clients.address_in('2001:db8::/32') == '2001:db8::1'
    assert sshd_clients.address_in('!10.0.0.0/8') is None and sshd_clients.address_in('*') is None
    assert sshd_clients.address_in('*.example.com') is None
    contexts = sshd_clients.clients_from_option([{'addr': '10.0.0.1'}, {'addr': '::1', 'lport': 2222,
                                                                        'laddr': '::1', 'host': None}])
    assert contexts[0].as_dict() == {'addr': '10.0.0.1', 'host': '10.0.0.1', 'laddr': None, 'lport': None}
    assert contexts[1].connection() == 'host=::1,addr=::1,laddr=::1,lport=2222'
    for bad in ([{'addr': 'example.com'}], [{'addr': '10.0.0.1', 'lport': 0}], [{'addr': '10.0.0.1', 'x': 1}],
                [{'addr': '10.0.0.1', 'host': 'a,b'}], []):
        with pytest.raises(InvalidInput):
            sshd_clients.clients_from_option(bad)


def test_any_client_contexts_one_per_pattern():
    warnings = []
    login = login_rules.LoginSettings(deny_users=['bob@172.16.0.0/12'])
    values = {'port': '22 2222', 'listenaddress': '0.0.0.0:22 [::]:2222'}
    patterns = {'address': ['10.0.0.0/8,!10.9.0.0/16'], 'host': ['192.168.*,*.example.com'],
                'localaddress': ['10.1.1.1'], 'localport': ['2222']}
    contexts = sshd_clients.any_client_contexts(values, patterns, login, warnings)
    got = [(c.addr, c.host, c.laddr, c.lport) for c in contexts]
    assert got[0] == ('192.0.2.1', '192.0.2.1', '198.51.100.1', 22)
    assert ('10.0.0.1', '10.0.0.1', '198.51.100.1', 22) in got
    assert ('172.16.0.1', '172.16.0.1', '198.51.100.1', 22) in got
    assert ('192.168.1.1', '192.168.1.1', '198.51.100.1', 22) in got   # Host with UseDNS no: the address
    assert ('192.0.2.1', '192.0.2.1', '10.1.1.1', 22) in got
    assert ('192.0.2.1', '192.0.2.1', '198.51.100.1', 2222) in got
    assert len(got) == 6
    assert warnings and '*.example.com' in warnings[0]   # never a silent guess
    # UseDNS yes: a host name that matches
    dns = login_rules.LoginSettings(use_dns=True)
    contexts = sshd_clients.any_client_contexts({}, {'host': ['*.example.com']}, dns, [])
    assert [c.host for c in contexts] == ['192.0.2.1', 'x.example.com']


# ---------------------------------------------------------------- RevokedKeys

def test_plain_revoked_list(keyset):
    one, two = keyset.make('ed25519'), keyset.make('ecdsa', 256)
    data = ('# revoked\n\n  %s old\n' % one).encode()
    answers = sshd_revoked.check_plain_list(data, [line(one), line(two)])
    assert answers == {line(one): 'revoked by RevokedKeys', line(two): None}
    # a line sshd cannot read is an error: every key not found before it is refused
    answers = sshd_revoked.check_plain_list(('%s\nfrom="x" %s\n%s\n' % (one, two, two)).encode(),
                                            [line(one), line(two)])
    assert answers[line(one)] == 'revoked by RevokedKeys'
    assert answers[line(two)] == 'RevokedKeys line 2 cannot be read: sshd refuses the key'
    assert sshd_revoked.check_plain_list(b'', [line(one)]) == {line(one): None}


def test_revoked_keys_krl_and_missing(tmp_path, keyset):
    one, two = keyset.make('ed25519'), keyset.make('ed25519')
    pub = tmp_path / 'one.pub'
    pub.write_text(one + '\n')
    krl = tmp_path / 'revoked.krl'
    subprocess.run(['ssh-keygen', '-q', '-k', '-f', str(krl), str(pub)], check=True)
    warnings = []
    checker = sshd_revoked.RevokedKeys(real_run, '/usr/bin/ssh-keygen', warnings)
    answers = checker.check(str(krl), [line(one), line(two)])
    assert answers == {line(one): 'revoked by RevokedKeys %s' % krl, line(two): None}
    assert checker.runs == 1 and warnings == []   # one ssh-keygen -Q for every key
    missing = checker.check(str(tmp_path / 'missing'), [line(two)])
    assert missing[line(two)] == 'RevokedKeys %s cannot be read: sshd refuses every key' % (tmp_path / 'missing')


# ---------------------------------------------------------------- the audit

def test_login_settings_refuse_with_reasons(tmp_path, monkeypatch, keyset):
    good, revoked = keyset.make('ed25519'), keyset.make('ed25519')
    homes = dict((name, make_home(tmp_path, name)) for name in ('alice', 'bob', 'carol'))
    for name, home in homes.items():
        write(home / '.ssh' / 'authorized_keys', '%s\n%s\n' % (good, revoked))
    revoked_file = tmp_path / 'revoked'
    write(revoked_file, revoked + '\n')
    text = BASE_T.format(files='.ssh/authorized_keys').replace('revokedkeys none', 'revokedkeys %s' % revoked_file)
    text += 'denyusers bob\n'

    def answer(connection):
        if connection.get('user') == 'carol':
            return text.replace('authenticationmethods any', 'authenticationmethods publickey,password')
        return text
    config = tmp_path / 'sshd_config'
    write(config, 'Match User carol\n  AuthenticationMethods publickey,password\n')
    plan, result = audit(monkeypatch, [entry(name, homes[name]) for name in ('alice', 'bob', 'carol')],
                         fake_sshd(answer), config)
    alice, bob, carol = result['accounts']
    assert alice['login_refused_reasons'] == [] and keys_of(result, 'alice')[fingerprint(good)]['accepted']
    gone = keys_of(result, 'alice')[fingerprint(revoked)]
    assert not gone['accepted'] and gone['revoked']
    assert gone['refused_reasons'] == ['revoked by RevokedKeys %s' % revoked_file]
    assert bob['login_refused_reasons'] == ['listed in DenyUsers (bob)']
    assert not keys_of(result, 'bob')[fingerprint(good)]['accepted']
    assert keys_of(result, 'bob')[fingerprint(good)]['refused_reasons'] == ['listed in DenyUsers (bob)']
    assert carol['login_refused_reasons'] == ['AuthenticationMethods publickey,password - a key alone is not enough']
    assert result['summary']['accounts_login_refused'] == 2
    assert result['summary']['accounts_that_can_log_in'] == 1


def test_match_address_file_is_listed_and_client_dependent(tmp_path, monkeypatch, keyset):
    main_key, office_key, from_key = keyset.make('ed25519'), keyset.make('ed25519'), keyset.make('ed25519')
    home = make_home(tmp_path, 'alice')
    write(home / '.ssh' / 'authorized_keys', '%s\nfrom="172.16.5.0/24" %s\n' % (main_key, from_key))
    write(home / '.ssh' / 'office_keys', office_key + '\n')
    config = tmp_path / 'sshd_config'
    write(config, 'Match Address 10.0.0.0/8\n  AuthorizedKeysFile .ssh/office_keys\n')

    def answer(connection):
        if connection.get('addr', '').startswith('10.'):
            return BASE_T.format(files='.ssh/office_keys')
        return BASE_T.format(files='.ssh/authorized_keys')
    calls = []
    plan, result = audit(monkeypatch, [entry('alice', home)], fake_sshd(answer, calls), config)
    keys = keys_of(result, 'alice')
    office = keys[fingerprint(office_key)]
    assert office['accepted'] and office['client_dependent']
    assert [(item['client']['addr'], item['accepted']) for item in office['clients']] == \
        [('192.0.2.1', False), ('10.0.0.1', True)]
    assert office['clients'][0]['refused_reasons'] == ['not in an AuthorizedKeysFile sshd reads for this client']
    assert keys[fingerprint(main_key)]['accepted'] and keys[fingerprint(main_key)]['client_dependent']
    # from= allows none of the derived clients: judged for one it allows too
    limited = keys[fingerprint(from_key)]
    assert limited['accepted'] and limited['client_dependent']
    assert limited['clients'][-1]['client']['addr'] == '172.16.5.1' and limited['clients'][-1]['accepted']
    assert result['summary']['keys_client_dependent'] == 3
    assert result['sshd']['per_client'] and result['sshd']['any_client']
    assert [call.get('addr') for call in calls[1:]] == ['192.0.2.1', '10.0.0.1', '172.16.5.1']
    # The clients option: exactly those clients
    plan, result = audit(monkeypatch, [entry('alice', home)], fake_sshd(answer), config,
                         clients=[{'addr': '10.2.3.4'}])
    keys = keys_of(result, 'alice')
    assert list(keys) == [fingerprint(office_key)]
    assert keys[fingerprint(office_key)]['accepted'] and not keys[fingerprint(office_key)]['client_dependent']
    plan, result = audit(monkeypatch, [entry('alice', home)], fake_sshd(answer), config,
                         clients=[{'addr': '192.0.2.9'}, {'addr': '172.16.5.9'}])
    keys = keys_of(result, 'alice')
    assert keys[fingerprint(from_key)]['client_dependent']
    assert [item['accepted'] for item in keys[fingerprint(from_key)]['clients']] == [False, True]
    assert keys[fingerprint(from_key)]['clients'][0]['refused_reasons'] == ['from= does not allow 192.0.2.9']
    # The report marks them
    report = build_report({'h1': result})
    assert report['summary']['keys_client_dependent'] == 1
    assert b'client_dependent' in render_csv(report)
    assert 'depends on client' in render_html(report).decode('utf-8') if isinstance(render_html(report), bytes) \
        else 'depends on client' in render_html(report)


def test_match_localport_and_clients_without_lport(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path, 'alice')
    write(home / '.ssh' / 'authorized_keys', keyset.make('ed25519') + '\n')
    config = tmp_path / 'sshd_config'
    write(config, 'Match LocalPort 2222\n  PubkeyAuthentication no\n')
    calls = []

    def answer(connection):
        text = BASE_T.format(files='.ssh/authorized_keys')
        if connection.get('lport') == '2222':
            return text.replace('pubkeyauthentication yes', 'pubkeyauthentication no')
        return text
    plan, result = audit(monkeypatch, [entry('alice', home)], fake_sshd(answer, calls), config,
                         clients=[{'addr': '10.0.0.1'}, {'addr': '10.0.0.1', 'lport': 2222}])
    # sshd -T refuses to run without lport when a Match LocalPort exists: one no block names
    assert all(call.get('lport') for call in calls)
    assert calls[0] == {'lport': '65535'}
    assert any('has no lport' in warning for warning in plan.warnings)
    key = list(keys_of(result, 'alice').values())[0]
    assert key['client_dependent']
    assert key['clients'][1]['refused_reasons'] == ['PubkeyAuthentication no']
    assert result['accounts'][0]['clients'][1]['login_refused_reasons'] == ['PubkeyAuthentication no']
    assert result['accounts'][0]['login_refused_reasons'] == []


def test_what_cannot_be_evaluated_is_named(tmp_path, monkeypatch, keyset):
    home = make_home(tmp_path, 'alice')
    write(home / '.ssh' / 'authorized_keys', keyset.make('ed25519') + '\n')
    config = tmp_path / 'sshd_config'
    write(config, 'Match RDomain blue\n  PubkeyAuthentication no\nMatch Host *.example.com\n  PubkeyAuthentication no\n')
    calls = []
    plan, result = audit(monkeypatch, [entry('alice', home)],
                         fake_sshd(lambda connection: BASE_T.format(files='.ssh/authorized_keys'), calls), config,
                         clients=[{'addr': '10.0.0.1', 'host': 'a.example.com'}])
    assert any('Match RDomain cannot be evaluated' in warning for warning in plan.warnings)
    # UseDNS no: sshd uses the address as the host name, the given host is not used
    assert any('host a.example.com ignored' in warning for warning in plan.warnings)
    assert calls[-1]['host'] == '10.0.0.1'
    plan, result = audit(monkeypatch, [entry('alice', home)],
                         fake_sshd(lambda connection: BASE_T.format(files='.ssh/authorized_keys')), config)
    assert any('*.example.com' in warning and 'UseDNS no' in warning for warning in plan.warnings)
