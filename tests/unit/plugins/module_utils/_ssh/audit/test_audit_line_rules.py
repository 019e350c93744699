# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's per-line verdicts come from sshd_rules (issue 26, classes 1 and 2)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import os
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access

SSHD_T = """port 22
strictmodes no
pubkeyauthentication yes
requiredrsasize {rsa}
authorizedkeysfile .ssh/authorized_keys
pubkeyacceptedalgorithms {accepted}
casignaturealgorithms {ca}
authorizedkeyscommand none
"""
DEFAULT_ACCEPTED = 'ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512'
DEFAULT_CA = 'ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256'


def run_audit(monkeypatch, tmp_path, lines, now=None, accepted=DEFAULT_ACCEPTED, ca=DEFAULT_CA, rsa=1024):
    """The audit's keys for one account whose authorized_keys holds ``lines``."""
    home = tmp_path / 'alice'
    (home / '.ssh').mkdir(parents=True)
    path = home / '.ssh' / 'authorized_keys'
    path.write_text(''.join(line + '\n' for line in lines))
    os.chmod(str(path), 0o600)
    entry = accounts.AccountEntry('alice', os.geteuid(), os.getegid(), str(home), '/bin/sh', [])
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: [entry])

    def run(argv):
        return 0, SSHD_T.format(accepted=accepted, ca=ca, rsa=rsa), ''
    operation = access.AuthorizedKeysInfo(
        access.AccessSpec(sshd_config='/nonexistent/sshd_config', sshd_path='/usr/sbin/sshd',
                          sshd_flavor='openssh', now=now), run)
    plan = operation.plan()
    return operation.result(plan, False)['accounts'][0]['keys']


@pytest.mark.parametrize('options, reason', [
    ('from="10.0.0.1/8"', 'from= holds an invalid criterion'),
    ('from="127.0.0.1,,10.0.0.1"', 'from= holds an invalid criterion'),
    ('from=""', 'from= holds an invalid criterion'),
    ('principals="alice"', 'principals= is only allowed with cert-authority'),
    ('expiry-time="20000101UTC"', 'expiry-time 20000101UTC has passed'),
    ('expiry-time="20000101z"', 'expiry-time 20000101z has passed'),
    ('expiry-time="20991231",expiry-time="20000101utc"', 'expiry-time 20000101utc has passed'),
    ('cert-authority,principals=""', 'principals= names no principal'),
    ('cert-authority,principals=",alice"', 'principals= names no principal'),
])
def test_audit_refuses_what_sshd_refuses(monkeypatch, tmp_path, keyset, options, reason):
    key, = run_audit(monkeypatch, tmp_path, ['%s %s' % (options, keyset.make('ed25519'))])
    assert not key['accepted']
    assert key['refused_reasons'] == [reason] or key['refused_reasons'][0].startswith(reason)
    assert key['client_dependent'] is False


def test_expiry_fields_are_sshds(monkeypatch, tmp_path, keyset):
    line = keyset.make('ed25519')
    keys = run_audit(monkeypatch, tmp_path, [
        'expiry-time="20000101UTC" ' + line,
        'expiry-time="20991231z",expiry-time="20981231000000Z" ' + line])
    assert keys[0]['expired'] and keys[0]['expiry_time'] == '20000101UTC'
    assert keys[0]['expires_at'] == '2000-01-01T00:00:00Z'
    # of several expiry-time options sshd keeps the earliest
    assert not keys[1]['expired'] and keys[1]['accepted'] and keys[1]['expiry_time'] == '20981231000000Z'
    assert keys[1]['expires_at'] == '2098-12-31T00:00:00Z'


def test_local_expiry_is_read_as_sshd_reads_it(monkeypatch, tmp_path, keyset):
    # sshd's parse_absolute_time gives mktime a zeroed struct tm (tm_isdst 0):
    # in summer a local time is read one hour later than the wall clock says.
    monkeypatch.setenv('TZ', 'Europe/Berlin')
    time.tzset()
    try:
        now = calendar.timegm((2030, 7, 1, 12, 0, 0, 0, 0, 0))      # 14:00 CEST
        line = keyset.make('ed25519')
        keys = run_audit(monkeypatch, tmp_path, [
            'expiry-time="203007011330" ' + line,                    # 12:30 UTC for sshd
            'expiry-time="203007011230" ' + line], now=now)          # 11:30 UTC for sshd
    finally:
        monkeypatch.delenv('TZ')
        time.tzset()
    assert keys[0]['accepted'] and not keys[0]['expired']
    assert keys[0]['expires_at'] == '2030-07-01T12:30:00Z'
    assert not keys[1]['accepted'] and keys[1]['expired']


def test_certificate_written_as_a_line_authorizes_nothing(monkeypatch, tmp_path, keyset):
    cert = keyset.lines['ssh-ed25519-cert-v01@openssh.com']
    keys = run_audit(monkeypatch, tmp_path, [cert, 'cert-authority ' + cert])
    assert [key['accepted'] for key in keys] == [False, False]
    assert all(key['refused_reasons'] == [sshd_rules.CERTIFICATE_LINE] for key in keys)


def test_valid_from_is_client_dependent(monkeypatch, tmp_path, keyset):
    line = keyset.make('ed25519')
    keys = run_audit(monkeypatch, tmp_path, ['from="10.0.0.0/8,!10.1.*" ' + line, line,
                                             'from="10.0.0.0/8",expiry-time="20000101Z" ' + line])
    assert keys[0]['accepted'] and keys[0]['client_dependent'] is True
    assert keys[1]['accepted'] and keys[1]['client_dependent'] is False
    # refused for every client: the answer does not depend on the client
    assert not keys[2]['accepted'] and keys[2]['client_dependent'] is False


def test_cert_authority_line_is_judged_by_certificate_algorithms(monkeypatch, tmp_path, keyset):
    rsa_ca = keyset.make('rsa', 1024)
    ed_ca = keyset.make('ed25519')
    ecdsa_ca = keyset.make('ecdsa', 384)
    lines = ['cert-authority ' + rsa_ca, 'cert-authority,principals="alice" ' + ed_ca,
             'cert-authority ' + ecdsa_ca, rsa_ca]
    # only ed25519 keys and certificates: an RSA CA still signs ed25519 certificates;
    # RequiredRSASize is checked on the certified key, not on the CA
    keys = run_audit(monkeypatch, tmp_path, lines, accepted='ssh-ed25519-cert-v01@openssh.com,ssh-ed25519',
                     rsa=2048)
    assert [key['accepted'] for key in keys] == [True, True, False, False]
    assert keys[2]['refused_reasons'] == [
        'CASignatureAlgorithms allows no signature by a ecdsa-sha2-nistp384 CA key']
    assert keys[3]['refused_reasons'] == ['key type ssh-rsa is not in PubkeyAcceptedAlgorithms',
                                          'RSA key of 1024 bits is below RequiredRSASize 2048']
    # no certificate algorithm at all: no certificate logs in through any CA line
    keys = run_audit(monkeypatch, tmp_path / 'b', lines, accepted='ssh-ed25519,rsa-sha2-512,rsa-sha2-256',
                     ca='ssh-ed25519,rsa-sha2-*')
    assert [key['accepted'] for key in keys] == [False, False, False, True]
    assert keys[0]['refused_reasons'] == [
        'no certificate algorithm (*-cert-v01@openssh.com) is in PubkeyAcceptedAlgorithms']
    assert keys[2]['refused_reasons'][0].startswith('no certificate algorithm')


def test_algorithm_lists_are_pattern_lists():
    assert sshd_rules.algorithm_allowed('rsa-sha2-512', ['ssh-ed25519', 'rsa-sha2-*'])
    assert not sshd_rules.algorithm_allowed('rsa-sha2-512', ['*', '!rsa-sha2-512'])
    # PubkeyAcceptedAlgorithms is matched without lower-casing the patterns
    assert not sshd_rules.algorithm_allowed('ssh-ed25519', 'SSH-ED25519')


def test_principal_names_as_match_list_reads_them():
    assert sshd_rules.principal_names('a,b') == ['a', 'b']
    assert sshd_rules.principal_names('a,,b') == ['a']
    assert sshd_rules.principal_names('') == []
    assert sshd_rules.principal_names(',a') == []
    assert len(sshd_rules.principal_names(','.join('p%d' % n for n in range(50)))) == sshd_rules.MAX_PROP


def test_type_algorithms():
    assert sshd_rules.type_algorithms('ssh-rsa') == ('rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa')
    assert sshd_rules.type_algorithms('rsa-sha2-512') == ('rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa')
    assert sshd_rules.type_algorithms('ssh-ed25519') == ('ssh-ed25519',)
    assert sshd_rules.type_algorithms('ecdsa-sha2-nistp384') == ('ecdsa-sha2-nistp384',)
    assert 'rsa-sha2-512-cert-v01@openssh.com' in sshd_rules.type_algorithms('ssh-rsa-cert-v01@openssh.com')
