# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's certificate access, with the settings of a real ``sshd -T``:
trusted CAs, a CA revoked in a KRL (ssh-keygen -k), principals per account
(file, user name, command: not audited), and the CA rows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import build_report
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


def run_command(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def world(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    made = {'tmp': tmp_path}
    for name in ('host_key', 'ca1', 'ca2', 'ca3'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', str(tmp_path / name)],
                       check=True)
        made[name] = PublicKey.from_line((tmp_path / (name + '.pub')).read_text())
    (tmp_path / 'cas.pub').write_text('# the user CAs\n%s\n\n%s\n' % (made['ca1'].to_line(), made['ca2'].to_line()))
    subprocess.run(['ssh-keygen', '-q', '-k', '-f', str(tmp_path / 'revoked.krl'), str(tmp_path / 'ca2.pub')],
                   check=True)
    (tmp_path / 'krl.spec').write_text('serial: 66\nserial: 100-200\nid: bob\n')
    subprocess.run(['ssh-keygen', '-q', '-k', '-u', '-s', str(tmp_path / 'ca1.pub'), '-f', str(tmp_path / 'revoked.krl'),
                    str(tmp_path / 'krl.spec')], check=True)
    (tmp_path / 'principals').mkdir()
    (tmp_path / 'principals' / 'kcbalice').write_text('dev\nfrom="10.0.0.0/8" ops # night shift\n')
    home = tmp_path / 'home'
    (home / '.ssh').mkdir(parents=True)
    made['entries'] = [accounts.AccountEntry(name, os.geteuid(), os.getegid(), str(home), '/bin/sh', [])
                       for name in ('kcbalice', 'kcbbob')]
    return made


def audit(world, monkeypatch, extra):
    config = world['tmp'] / 'sshd_config'
    config.write_text('HostKey %s/host_key\nAuthorizedKeysFile .ssh/authorized_keys\nTrustedUserCAKeys %s/cas.pub\n'
                      'RevokedKeys %s/revoked.krl\n%s' % (world['tmp'], world['tmp'], world['tmp'], extra))
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: world['entries'])
    operation = access.AuthorizedKeysInfo(access.AccessSpec(sshd_config=str(config), sshd_path='/usr/sbin/sshd',
                                                            sshd_flavor='openssh'), run_command)
    plan = operation.plan()
    return dict(operation.result(plan, False), plan_warnings=plan.all_warnings())


def test_principals_file_trusted_and_revoked_cas(world, monkeypatch):
    result = audit(world, monkeypatch, 'StrictModes no\nAuthorizedPrincipalsFile %s/principals/%%u\n' % world['tmp'])
    alice, bob = result['accounts']
    assert alice['certificates']['principals'] == ['dev', 'ops']
    assert alice['certificates']['can_log_in'] is True
    assert alice['certificates']['authorities'] == [world['ca1'].fingerprint_sha256]
    assert bob['certificates']['can_log_in'] is False and 'does not exist' in bob['certificates']['reason']
    rows = dict((row['fingerprint'], row) for row in result['certificate_authorities'])
    assert rows[world['ca1'].fingerprint_sha256]['accounts'] == [
        {'user': 'kcbalice', 'principals': ['dev', 'ops'], 'principals_from': 'AuthorizedPrincipalsFile',
         'status': 'audited'}]
    revoked = rows[world['ca2'].fingerprint_sha256]
    assert revoked['revoked'] and 'revoked by RevokedKeys' in revoked['revoked'] and revoked['accounts'] == []
    assert world['ca3'].fingerprint_sha256 not in rows
    ca1 = rows[world['ca1'].fingerprint_sha256]
    assert (ca1['revoked_serials'], ca1['revoked_key_ids']) == (['66', '100-200'], ['bob'])
    listing = result['revocation_lists'][str(world['tmp'] / 'revoked.krl')]
    assert listing['revoked_keys'] == 1 and listing['certificates'][world['ca1'].fingerprint_sha256]['serials'] == [
        '66', '100-200']
    assert result['summary']['accounts_open_to_certificates'] == 1
    report = build_report({'host1': result}, generated_at='fixed')
    assert [row['fingerprint'] for row in report['certificate_authorities']] == sorted(rows)
    assert report['summary']['certificate_authorities'] == 2
    assert report['summary']['accounts_open_to_certificates'] == 1
    views = dict((view['user'], view) for view in report['accounts'])
    assert views['kcbalice']['can_log_in'] is True and views['kcbalice']['accepted_keys'] == 0
    assert views['kcbalice']['notes'][-1] == ('certificates of 1 CA log in with principals dev, ops '
                                              '(AuthorizedPrincipalsFile)')
    assert views['kcbbob']['can_log_in'] is False and 'no keys' in views['kcbbob']['reasons']
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import render_csv, render_html
    csv_text = render_csv(report).decode()
    assert 'certificate_authority' in csv_text and 'principals: dev, ops (AuthorizedPrincipalsFile)' in csv_text
    html = render_html(report).decode()
    assert 'id="certificate-authorities"' in html and 'kcbalice: dev, ops' in html
    assert 'revoked certificates: serials 66, 100-200; key ids bob' in html


def test_strict_modes_refuses_a_principals_file_below_tmp(world, monkeypatch):
    result = audit(world, monkeypatch, 'StrictModes yes\nAuthorizedPrincipalsFile %s/principals/%%u\n' % world['tmp'])
    alice = result['accounts'][0]['certificates']
    assert alice['can_log_in'] is False and 'bad ownership or modes for directory /tmp' in alice['reason']


def test_without_principals_file_the_certificate_names_the_account(world, monkeypatch):
    result = audit(world, monkeypatch, 'StrictModes no\n')
    assert [account['certificates']['principals'] for account in result['accounts']] == [['kcbalice'], ['kcbbob']]
    assert all(account['certificates']['principals_from'] == 'user name' for account in result['accounts'])


def test_principals_command_is_not_audited(world, monkeypatch):
    result = audit(world, monkeypatch, 'StrictModes no\nAuthorizedPrincipalsCommand /bin/echo %u\n'
                                       'AuthorizedPrincipalsCommandUser nobody\n')
    view = result['accounts'][0]['certificates']
    assert view['status'] == 'not audited' and view['principals'] is None and view['can_log_in'] is None
    assert 'AuthorizedPrincipalsCommand' in view['reason']
    row = [row for row in result['certificate_authorities']
           if row['fingerprint'] == world['ca1'].fingerprint_sha256][0]
    assert row['accounts'][0]['status'] == 'not audited' and row['accounts'][0]['principals'] is None
    assert result['summary']['accounts_certificates_not_audited'] == 2


def test_a_line_sshd_cannot_read_ends_the_ca_list(world, monkeypatch):
    (world['tmp'] / 'cas.pub').write_text('%s\nnot a key\n%s\n' % (world['ca3'].to_line(), world['ca1'].to_line()))
    result = audit(world, monkeypatch, 'StrictModes no\n')
    assert result['accounts'][0]['certificates']['authorities'] == [world['ca3'].fingerprint_sha256]
    assert any('line 2 cannot be read' in text for text in result['plan_warnings'])


def test_cert_authority_lines_are_rows_too(world, monkeypatch):
    (world['tmp'] / 'home' / '.ssh' / 'authorized_keys').write_text(
        'cert-authority,principals="ci,deploy" %s\n' % world['ca3'].to_line())
    result = audit(world, monkeypatch, 'StrictModes no\n')
    row = [row for row in result['certificate_authorities'] if row['source'] == 'authorized_keys'][0]
    assert row['fingerprint'] == world['ca3'].fingerprint_sha256
    assert [(item['user'], item['principals']) for item in row['accounts']] == [
        ('kcbalice', ['ci', 'deploy']), ('kcbbob', ['ci', 'deploy'])]


def test_every_client_context_is_judged(world, monkeypatch):
    """A Match Address block trusts another CA from one address (issue 30): the
    certificate audit judges every client context the key audit judges, lists
    each one's view, and the CA rows name the contexts an account opens from."""
    (world['tmp'] / 'ca3_only.pub').write_text(world['ca3'].to_line())
    result = audit(world, monkeypatch, 'StrictModes no\nAuthorizedPrincipalsFile %s/principals/%%u\n'
                   'Match Address 127.0.0.2\n    TrustedUserCAKeys %s/ca3_only.pub\n' % (world['tmp'], world['tmp']))
    alice = result['accounts'][0]['certificates']
    views = dict((item['client']['addr'], item) for item in alice['clients'])
    assert len(views) >= 2 and '127.0.0.2' in views
    assert views['127.0.0.2']['authorities'] == [world['ca3'].fingerprint_sha256]
    others = [item for addr, item in views.items() if addr != '127.0.0.2']
    assert all(item['authorities'] == [world['ca1'].fingerprint_sha256] for item in others)
    assert alice['can_log_in'] is True and alice['client_dependent'] is False
    assert sorted(alice['authorities']) == sorted([world['ca1'].fingerprint_sha256, world['ca3'].fingerprint_sha256])
    rows = dict((row['fingerprint'], row) for row in result['certificate_authorities'])
    ca3 = rows[world['ca3'].fingerprint_sha256]
    assert [item['user'] for item in ca3['accounts']] == ['kcbalice']
    assert [client['addr'] for client in ca3['accounts'][0]['clients']] == ['127.0.0.2']
    ca1 = rows[world['ca1'].fingerprint_sha256]
    assert '127.0.0.2' not in [client['addr'] for client in ca1['accounts'][0]['clients']]


def test_a_ca_trusted_from_one_address_only(world, monkeypatch):
    """Trusted only from 127.0.0.2: the account can log in (from there), and
    its view says it depends on the client."""
    (world['tmp'] / 'ca3_only.pub').write_text(world['ca3'].to_line())
    config = world['tmp'] / 'cas.pub'
    config.write_text('')
    result = audit(world, monkeypatch, 'StrictModes no\nAuthorizedPrincipalsFile %s/principals/%%u\n'
                   'Match Address 127.0.0.2\n    TrustedUserCAKeys %s/ca3_only.pub\n' % (world['tmp'], world['tmp']))
    alice = result['accounts'][0]['certificates']
    assert alice['can_log_in'] is True and alice['client_dependent'] is True
    assert alice['authorities'] == [world['ca3'].fingerprint_sha256]
    assert alice['trusted_user_ca_keys'] == str(world['tmp'] / 'ca3_only.pub')
    refused = [item for item in alice['clients'] if item['client']['addr'] != '127.0.0.2']
    assert refused and all(item['can_log_in'] is False for item in refused)
    assert result['summary']['accounts_open_to_certificates'] == 1
