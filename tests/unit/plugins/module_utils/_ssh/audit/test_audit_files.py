# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's paths and blind spots (issue 26, classes 5-7): AuthorizedKeysFile
words as sshd reads them, tokens, ``..``, reads as the account, and the
``status`` of an account the audit could not (fully) see."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import os
import pathlib
import shutil
import tempfile
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import settings as sshd_settings

SSHD_T = """strictmodes yes
pubkeyauthentication yes
authorizedkeysfile {files}
"""


def fake_sshd(files):
    return lambda argv: (0, SSHD_T.format(files=files), '')


@pytest.fixture
def area():
    """Below /tmp with every directory searchable (accounts other than root read here)."""
    path = tempfile.mkdtemp(prefix='keysmith-audit-files-', dir='/tmp')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def entry(name, home, uid=0, gid=0):
    return accounts.AccountEntry(name, uid, gid, str(home), '/bin/sh', [])


def audit(monkeypatch, entries, files, config='/nonexistent/sshd_config', **extra):
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: entries)
    operation = access.AuthorizedKeysInfo(
        access.AccessSpec(sshd_config=config, sshd_path='/usr/sbin/sshd', sshd_flavor='openssh', **extra),
        fake_sshd(files))
    plan = operation.plan()
    return plan, operation.result(plan, False)


def home_with_keys(area, name, text, mode=0o644):
    home = area / name
    (home / '.ssh').mkdir(parents=True)
    os.chmod(str(home), 0o755)
    os.chmod(str(home / '.ssh'), 0o755)
    path = home / '.ssh' / 'authorized_keys'
    path.write_text(text)
    os.chmod(str(path), mode)
    return home


# ---------------------------------------------------------------- sshd's words

def test_argv_split_as_sshd():
    split = sshd_settings.argv_split
    assert split('"/etc/ssh/keys dir/%u" .ssh/authorized_keys') == ['/etc/ssh/keys dir/%u', '.ssh/authorized_keys']
    assert split("'a b'c \"d\"") == ['a bc', 'd']
    assert split('a\\ b c') == ['a b', 'c']
    assert split('"a\\ b"') == ['a\\ b']           # inside quotes "\ " is kept as is
    assert split('a\\"b \\x') == ['a"b', '\\x']
    assert split('a # comment') == ['a']
    assert split('a#b') == ['a#b']
    assert split('\t a \t b ') == ['a', 'b']
    assert split('"open') is None
    assert split('""') == ['']


def test_tilde_expand_as_servconf():
    expand = sshd_settings.tilde_expand
    homes = {'bob': '/home/bob', 'root/': None}
    of_user = homes.get

    def of_uid(uid):
        return '/root'
    assert expand('~/keys', of_uid, of_user) == '/root/keys'
    assert expand('~bob/keys', of_uid, of_user) == '/home/bob/keys'
    assert expand('~', of_uid, of_user) == '/root/'
    assert expand('~bob', of_uid, of_user) == '/root/bob'  # no slash: sshd's quirk
    assert expand('~nobody/keys', of_uid, of_user) is None
    assert expand('/abs/~x', of_uid, of_user) == '/abs/~x'
    assert expand('~/k', lambda uid: '/', of_user) == '/k'


def test_sshd_t_entries_with_spaces_are_read_back_from_the_config():
    text = '/etc/ssh/keys dir/%u .ssh/authorized_keys'
    split = sshd_settings.split_authorized_keys_file
    assert split(text) == ['/etc/ssh/keys', 'dir/%u', '.ssh/authorized_keys']
    lines = [['.ssh/other'], ['/etc/ssh/keys dir/%u', '.ssh/authorized_keys']]
    assert split(text, lines) == ['/etc/ssh/keys dir/%u', '.ssh/authorized_keys']
    assert split('.ssh/authorized_keys none', [['.ssh/authorized_keys', 'none']]) == ['.ssh/authorized_keys']
    warnings = []
    both = lines + [['/etc/ssh/keys', 'dir/%u .ssh/authorized_keys']]
    assert split(text, both, warnings) == ['/etc/ssh/keys dir/%u', '.ssh/authorized_keys']
    assert len(warnings) == 1 and 'can be read as' in warnings[0]


def test_config_lines_and_fallback_keep_quoted_entries(area):
    (area / 'inc.conf').write_text('AuthorizedKeysFile "/k dir/%u"\n')
    config = area / 'sshd_config'
    config.write_text('Include %s\nAuthorizedKeysFile=".ssh/a b" \'x y\' # note\n'
                      'Match User bob\n  AuthorizedKeysFile "/m n/%%u"\n' % (area / 'inc.conf'))
    assert sshd_settings.authorized_keys_file_lines(str(config)) == [['/k dir/%u'], ['.ssh/a b', 'x y'], ['/m n/%u']]
    values, has_match = sshd_settings.read_sshd_config(str(config))
    lines = sshd_settings.authorized_keys_file_lines(str(config))
    assert has_match and values['authorizedkeysfile'] == '/k dir/%u'
    settings = sshd_settings.settings_from_values(values, 'sshd_config', lines)
    assert settings.authorized_keys_file == ['/k dir/%u']


def test_expand_tokens_keeps_the_path_as_sshd_opens_it():
    bob = entry('bob', '/home/bob', uid=1234)
    assert sshd_settings.expand_tokens('%h/link/../ak', bob) == '/home/bob/link/../ak'
    assert sshd_settings.expand_tokens('.ssh//ak', bob) == '/home/bob/.ssh//ak'
    assert sshd_settings.expand_tokens('.ssh/ak', entry('r', '/')) == '//.ssh/ak'
    with pytest.raises(InvalidInput, match='unknown token %x'):
        sshd_settings.expand_tokens('/k/%x', bob)
    with pytest.raises(InvalidInput, match='ends with %'):
        sshd_settings.expand_tokens('/k/%', bob)


# ---------------------------------------------------------------- the audit

def test_dotdot_after_a_symlinked_directory_is_resolved_by_the_kernel(area, monkeypatch, keyset):
    real, decoy = keyset.make('ed25519'), keyset.make('ecdsa', 256)
    home = home_with_keys(area, 'alice', '')
    (area / 'elsewhere' / 'sub').mkdir(parents=True)
    os.chmod(str(area / 'elsewhere'), 0o755)
    (area / 'elsewhere' / 'ak').write_text(real + '\n')
    (home / 'ak').write_text(decoy + '\n')
    os.symlink(str(area / 'elsewhere' / 'sub'), str(home / 'link'))
    dummy, result = audit(monkeypatch, [entry('alice', home)], '%h/link/../ak')
    account = result['accounts'][0]
    assert account['files'][0]['path'] == '%s/link/../ak' % home
    assert [key['fingerprint'] for key in account['keys']] == [PublicKey.from_line(real).fingerprint_sha256]


def test_unknown_token_ends_the_search(area, monkeypatch, keyset):
    first, later = keyset.make('ed25519'), keyset.make('ecdsa', 256)
    home = home_with_keys(area, 'alice', first + '\n')
    (home / 'later').write_text(later + '\n')
    plan, result = audit(monkeypatch, [entry('alice', home)], '.ssh/authorized_keys /k/%x %h/later /k/%y')
    account = result['accounts'][0]
    assert [f['configured'] for f in account['files']] == ['.ssh/authorized_keys', '/k/%x', '%h/later', '/k/%y']
    assert [f['used'] for f in account['files']] == [True, False, False, False]
    assert account['files'][1]['path'] is None and 'unknown token %x' in account['files'][1]['reason']
    assert account['files'][3]['reason'] == account['files'][1]['reason']  # the first stop counts
    by_fp = dict((key['fingerprint'], key) for key in account['keys'])
    assert by_fp[PublicKey.from_line(first).fingerprint_sha256]['accepted']
    refused = by_fp[PublicKey.from_line(later).fingerprint_sha256]
    assert not refused['accepted'] and 'sshd stops at AuthorizedKeysFile entry /k/%x' in refused['refused_reasons'][0]
    assert account['status'] == 'audited'
    assert [w for w in plan.warnings if 'unknown token' in w] == [
        'alice: %s' % account['files'][1]['reason']]


def test_a_file_the_account_cannot_open_shows_nothing(area, monkeypatch, keyset):
    home = home_with_keys(area, 'alice', keyset.make('ed25519') + '\n', mode=0o600)
    dummy, result = audit(monkeypatch, [entry('alice', home, uid=4321, gid=4321)], '.ssh/authorized_keys')
    account = result['accounts'][0]
    report = account['files'][0]
    assert report['reason'] == 'permission denied: alice cannot open %s/.ssh/authorized_keys' % home
    assert report['exists'] is True and report['mode'] is None and report['owner_uid'] is None
    assert account['keys'] == [] and account['status'] == 'audited'
    assert result['summary']['accounts_without_keys'] == 1


def test_without_root_other_accounts_are_not_audited(area, monkeypatch, keyset):
    monkeypatch.setattr(_fs_audit.os, 'geteuid', lambda: 4321)
    key = keyset.make('ed25519')
    other = home_with_keys(area, 'bob', key + '\n')
    own = home_with_keys(area, 'alice', key + '\n')
    empty = area / 'carol'
    empty.mkdir()
    accounts_ = [entry('alice', own, uid=4321), entry('bob', other, uid=5555), entry('carol', empty, uid=6666)]
    dummy, result = audit(monkeypatch, accounts_, '.ssh/authorized_keys')
    alice, bob, carol = result['accounts']
    assert alice['status'] == 'audited' and len(alice['keys']) == 1
    assert bob['status'] == 'not audited' and bob['keys'] == [] and bob['files'][0]['exists'] is None
    assert bob['status_reasons'] == ['not audited: not running as root: cannot open %s/.ssh/authorized_keys with '
                                     'the rights of bob' % other]
    assert carol['status'] == 'audited' and carol['files'][0]['reason'] == 'does not exist'
    summary = result['summary']
    assert summary['accounts_not_audited'] == 1 and summary['accounts_incomplete'] == 0
    assert summary['accounts_without_keys'] == 1 and summary['accounts_with_keys'] == 1
    assert result['msg'].endswith('; 1 account not audited (bob): see accounts[].status_reasons')


def test_nothing_read_is_not_audited_even_beside_a_missing_file(area, monkeypatch, keyset):
    monkeypatch.setattr(_fs_audit.os, 'geteuid', lambda: 4321)
    home = home_with_keys(area, 'bob', keyset.make('ed25519') + '\n')
    dummy, result = audit(monkeypatch, [entry('bob', home, uid=5555)], '/nonexistent/%u .ssh/authorized_keys')
    account = result['accounts'][0]
    assert account['status'] == 'not audited'  # the missing file holds nothing; the other was not read
    assert [f['audited'] for f in account['files']] == [True, False]


def test_file_cut_at_the_cap_makes_the_account_incomplete(area, monkeypatch, keyset):
    monkeypatch.setattr(access, 'MAX_AUDIT_BYTES', 200)
    first = keyset.make('ed25519')
    home = home_with_keys(area, 'alice', first + '\n' + '#' * 300 + '\n' + keyset.make('ecdsa', 256) + '\n')
    dummy, result = audit(monkeypatch, [entry('alice', home)], '.ssh/authorized_keys')
    account = result['accounts'][0]
    assert account['files'][0]['truncated'] and account['status'] == 'incomplete'
    assert account['status_reasons'] == ['file %s/.ssh/authorized_keys cut at 200 bytes: sshd reads the whole file'
                                         % home]
    assert [key['fingerprint'] for key in account['keys']] == [PublicKey.from_line(first).fingerprint_sha256]
    assert account['files'][0]['invalid_lines'] == []  # the line cut at the cap is not judged
    assert result['summary']['accounts_incomplete'] == 1
    assert '1 account incomplete (alice)' in result['msg']


def test_key_lines_over_max_keys_are_counted_and_make_the_account_incomplete(area, monkeypatch, keyset):
    """Issue 27: a file of many key lines lists the first max_keys, counts the others, says so."""
    keys = [keyset.make('ed25519') for dummy in range(3)]
    home = home_with_keys(area, 'alice', '\n'.join(keys + [keys[0], 'junk', keys[1]]) + '\n')
    dummy, result = audit(monkeypatch, [entry('alice', home)], '.ssh/authorized_keys', max_keys=2)
    account = result['accounts'][0]
    report = account['files'][0]
    assert report['keys'] == 5 and report['keys_not_listed'] == 3
    assert report['invalid_lines'] == [5] and report['invalid_line_count'] == 1
    assert [key['line'] for key in account['keys']] == [1, 2]
    assert account['status'] == 'incomplete'
    assert account['status_reasons'] == [
        'file %s/.ssh/authorized_keys holds 5 key lines: the first 2 are judged and listed (max_keys per file, '
        '50000 per run), the other 3 are not judged' % home]
    assert result['summary']['keys'] == 2 and result['summary']['keys_not_listed'] == 3
    assert '3 more key lines not judged (max_keys)' in result['msg']
    assert '1 account incomplete (alice)' in result['msg']
    with pytest.raises(InvalidInput):
        access.AccessSpec(sshd_config='/etc/ssh/sshd_config', max_keys=0)


def test_key_lines_over_the_run_bound_are_counted(area, monkeypatch, keyset):
    """The bound holds for the whole run (all accounts): bob's second line is counted only."""
    monkeypatch.setattr(access, 'MAX_KEYS_PER_RUN', 3)
    key = keyset.make('ed25519')
    first = home_with_keys(area, 'alice', (key + '\n') * 2)
    second = home_with_keys(area, 'bob', (key + '\n') * 2)
    dummy, result = audit(monkeypatch, [entry('alice', first), entry('bob', second)], '.ssh/authorized_keys',
                          max_keys=2)
    alice, bob = result['accounts']
    assert (alice['status'], len(alice['keys']), alice['files'][0]['keys_not_listed']) == ('audited', 2, 0)
    assert (bob['status'], len(bob['keys']), bob['files'][0]['keys_not_listed']) == ('incomplete', 1, 1)
    assert bob['files'][0]['keys'] == 2
    assert result['summary']['keys_not_listed'] == 1


# ---------------------------------------------------------------- the report

def test_report_shows_accounts_not_fully_audited():
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import access_report

    def account(user, status, reasons):
        return {'user': user, 'uid': 1000, 'files': [], 'keys': [], 'status': status, 'status_reasons': reasons}

    results = {'web1': {'accounts': [account('alice', 'audited', []),
                                     account('bob', 'not audited', ['not audited: permission <denied>']),
                                     account('carol', 'incomplete', ['file /x cut at 67108864 bytes'])],
                        'summary': {'accounts': 3, 'keys': 0}, 'sshd': {}},
               'old': {'accounts': [{'user': 'dave', 'uid': 1, 'files': [], 'keys': []}], 'summary': {}, 'sshd': {}}}
    report = access_report.build_report(results, generated_at='now')
    assert report['summary']['accounts_not_audited'] == 1 and report['summary']['accounts_incomplete'] == 1
    assert report['accounts_not_audited'] == [
        {'host': 'web1', 'user': 'bob', 'status': 'not audited', 'reasons': ['not audited: permission <denied>']},
        {'host': 'web1', 'user': 'carol', 'status': 'incomplete', 'reasons': ['file /x cut at 67108864 bytes']}]
    html = access_report.render_html(report).decode()
    table = html[html.index('<table id="not-audited">'):]
    table = table[:table.index('</table>')]
    assert '<td>bob</td><td class="failed">not audited</td><td>not audited: permission &lt;denied&gt;</td>' in table
    assert '<td>carol</td><td class="failed">incomplete</td>' in table and 'alice' not in table
    assert 'data-field="accounts_not_audited"><b>1</b>' in html
    operation = access_report.AccessReport(results, '/nonexistent-dest', formats=['json'], generated_at='now')
    assert operation.result(None, False)['msg'].endswith('; 1 accounts not audited, 1 incomplete')


@pytest.mark.parametrize('uid', [0, 4321])
def test_file_times_are_reported(area, monkeypatch, keyset, uid):
    """mtime and ctime of each file, read as the account (through the reader process for another uid)."""
    home = home_with_keys(area, 'alice', keyset.make('ed25519') + '\n')
    path = str(home / '.ssh' / 'authorized_keys')
    before = int(time.time())
    # the owner sets mtime back years: ctime stays the kernel's clock
    os.utime(path, (1000000000, 1000000000))
    dummy, result = audit(monkeypatch, [entry('alice', home, uid=uid, gid=uid)], '.ssh/authorized_keys')
    report = result['accounts'][0]['files'][0]
    assert report['mtime'] == '2001-09-09T01:46:40Z'
    ctime = calendar.timegm(time.strptime(report['ctime'], '%Y-%m-%dT%H:%M:%SZ'))
    assert before - 1 <= ctime <= int(time.time()) + 1
    assert ctime == int(os.stat(path).st_ctime)


def test_no_file_times_for_a_file_the_account_cannot_open(area, monkeypatch, keyset):
    home = home_with_keys(area, 'alice', keyset.make('ed25519') + '\n', mode=0o600)
    dummy, result = audit(monkeypatch, [entry('alice', home, uid=4321, gid=4321)], '.ssh/authorized_keys')
    report = result['accounts'][0]['files'][0]
    assert report['mtime'] is None and report['ctime'] is None
