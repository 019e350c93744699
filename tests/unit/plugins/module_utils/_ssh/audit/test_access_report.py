# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import access_report


def key(fp, line=1, accepted=True, weak=False, managed=None, expired=False, comment='c', file='/h/.ssh/ak'):
    return {'file': file, 'line': line, 'fingerprint': fp, 'type': 'ed25519', 'key_type': 'ssh-ed25519',
            'bits': 256, 'comment': comment, 'options': '', 'accepted': accepted,
            'refused_reasons': [] if accepted else ['file not used by sshd: x'], 'weak': weak,
            'weak_reasons': ['RSA key of 1024 bits < 2048'] if weak else [], 'expired': expired,
            'expiry_time': None, 'managed': managed, 'accounts_with_key': 1, 'duplicate': False}


def host_result(accounts):
    keys = [k for a in accounts for k in a['keys']]
    sshd = {'authorized_keys_file': ['.ssh/authorized_keys'], 'strict_modes': True, 'source': 'sshd -T'}
    return {'changed': False, 'accounts': accounts, 'sshd': sshd,
            'summary': {'accounts': len(accounts), 'keys': len(keys)}}


RESULTS = {
    'web1': host_result([
        {'user': 'alice', 'uid': 1000, 'files': [], 'keys': [key('SHA256:aaa'), key('SHA256:shared', 2, weak=True)]},
        {'user': 'bob', 'uid': 1001,
         'files': [{'path': '/home/bob/.ssh/authorized_keys', 'exists': True, 'used': False, 'mode': '0666',
                    'reason': 'bad ownership or modes for file /home/bob/.ssh/authorized_keys'}],
         'keys': [key('SHA256:shared', accepted=False, managed=False, comment='<script>alert(1)</script>')]},
    ]),
    'db1': host_result([{'user': 'alice', 'uid': 1000, 'files': [],
                         'keys': [key('SHA256:shared', expired=True, accepted=False)]}]),
    'down': {'unreachable': True, 'msg': 'no audit result (host unreachable)'},
}


def test_build_report_counts_and_index():
    report = access_report.build_report(RESULTS, generated_at='now')
    assert report['summary'] == dict(report['summary'], hosts=3, hosts_failed=1, accounts=3, keys=4, accepted=2,
                                     weak=1, unmanaged=1, ignored=2, expired=1, duplicates=3, files_ignored=1,
                                     distinct_keys=2)
    assert [h['host'] for h in report['hosts']] == ['db1', 'down', 'web1']
    assert report['hosts'][1]['failed'] and report['hosts'][1]['msg'].startswith('no audit result')
    places = report['fingerprints']['SHA256:shared']
    assert sorted((p['host'], p['user']) for p in places) == [('db1', 'alice'), ('web1', 'alice'), ('web1', 'bob')]
    assert set(row['hosts_with_key'] for row in report['keys'] if row['fingerprint'] == 'SHA256:shared') == {2}


def test_csv_has_one_row_per_key():
    rows = list(csv.DictReader(io.StringIO(access_report.render_csv(access_report.build_report(RESULTS)).decode())))
    keys = [r for r in rows if r['record'] == 'key']
    assert len(keys) == 4 and set(rows[0]) == set(access_report.CSV_COLUMNS)
    assert [(r['host'], r['user']) for r in rows if r['record'] == 'account'] == [
        ('db1', 'alice'), ('web1', 'alice'), ('web1', 'bob')]
    rows = keys
    bob = [r for r in rows if r['user'] == 'bob'][0]
    assert bob['accepted'] == 'False' and bob['refused_reasons'] == 'file not used by sshd: x'


def test_html_is_self_contained_and_escaped():
    page = access_report.render_html(access_report.build_report(RESULTS, generated_at='now')).decode()
    assert '<script>alert(1)</script>' not in page and '&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert 'src=' not in page and 'href=' not in page and '@import' not in page  # nothing fetched
    assert page.count('<svg') == 3 and 'id="search"' in page
    for fp in ('SHA256:aaa', 'SHA256:shared'):
        assert 'data-fingerprint="%s"' % fp in page
    assert 'failed: no audit result' in page


def test_bar_chart_scales_to_largest():
    svg = access_report.bar_chart('t', [('a', 10, '#000'), ('b', 5, '#000'), ('c', 0, '#000')], width=300)
    widths = [int(part.split('"')[0]) for part in svg.split('<rect x="130" y="')[1:] for part in
              [part.split('width="')[1]]]
    assert widths == [120, 60, 1]


def test_operation_writes_only_changed_files(tmp_path):
    dest = str(tmp_path / 'out')
    op = access_report.AccessReport(RESULTS, dest, generated_at='fixed')
    plan = op.plan()
    assert [a.kind for a in plan.actions] == ['write', 'write', 'write']
    assert not os.path.exists(dest + '/access_report.json')  # planning writes nothing
    plan.apply()
    assert json.load(open(dest + '/access_report.json'))['summary']['keys'] == 4
    result = op.result(plan, True)
    assert result['failed_hosts'] == ['down'] and result['paths']['html'] == dest + '/access_report.html'
    again = access_report.AccessReport(RESULTS, dest, generated_at='fixed').plan()
    assert not again.changed
    assert access_report.AccessReport(RESULTS, dest, generated_at='later', formats=['csv']).plan().actions == []


def test_rerun_that_differs_only_in_generation_time_writes_nothing(tmp_path, monkeypatch):
    dest = str(tmp_path / 'out')
    monkeypatch.setattr(access_report.time, 'gmtime', lambda *a: time.struct_time((2026, 1, 2, 3, 4, 5, 4, 2, 0)))
    first = access_report.AccessReport(RESULTS, dest).plan()
    first.apply()
    assert b'2026-01-02T03:04:05Z' in open(dest + '/access_report.html', 'rb').read()
    monkeypatch.setattr(access_report.time, 'gmtime', lambda *a: time.struct_time((2026, 2, 3, 4, 5, 6, 1, 34, 0)))
    assert not access_report.AccessReport(RESULTS, dest).plan().changed
    # a real difference is written, with the new time
    changed = dict(RESULTS, web2=host_result([]))
    plan = access_report.AccessReport(changed, dest).plan()
    assert sorted(a.path.rsplit('.', 1)[1] for a in plan.actions) == ['html', 'json']
    plan.apply()
    assert json.load(open(dest + '/access_report.json'))['generated_at'] == '2026-02-03T04:05:06Z'
    # an explicit generated_at is content: a new one is written
    assert access_report.AccessReport(changed, dest, generated_at='x').plan().changed


@pytest.mark.parametrize('kwargs, message', [
    (dict(results=[], dest='/x'), 'results must be a mapping'),
    (dict(results={}, dest='rel'), 'absolute'),
    (dict(results={}, dest='/x', name='../x'), 'plain file name'),
    (dict(results={}, dest='/x', formats=['pdf']), 'unknown formats'),
])
def test_bad_input(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        access_report.AccessReport(**kwargs)


# ---------------------------------------------------------------- issue 26 class 9

def audited(user, keys, refused=(), uid=1000, notes=()):
    return {'user': user, 'uid': uid, 'files': [], 'keys': keys, 'login_refused_reasons': list(refused),
            'account_state': {'notes': list(notes)}}


def test_managed_missing_in_json_csv_and_html():
    results = {'web1': dict(host_result([audited('alice', [key('SHA256:aaa')])]),
                            managed_missing=['SHA256:gone']),
               'db1': dict(host_result([]), managed_missing=[])}
    report = access_report.build_report(results, generated_at='now')
    assert report['managed_missing'] == [{'host': 'web1', 'fingerprint': 'SHA256:gone'}]
    assert report['summary']['managed_missing'] == 1
    assert [h['managed_missing'] for h in report['hosts']] == [[], ['SHA256:gone']]
    assert json.loads(access_report.render_json(report))['managed_missing'] == report['managed_missing']
    rows = list(csv.DictReader(io.StringIO(access_report.render_csv(report).decode())))
    missing = [r for r in rows if r['record'] == 'managed_missing']
    assert [(r['host'], r['fingerprint'], r['managed']) for r in missing] == [('web1', 'SHA256:gone', 'missing')]
    page = access_report.render_html(report).decode()
    assert 'id="managed-missing"' in page and '<tr data-fingerprint="SHA256:gone">' in page
    assert '<div class="card" data-field="managed_missing"><b>1</b>' in page


def test_per_account_view_lists_accounts_without_keys_and_refusals():
    locked_key = key('SHA256:bbb', accepted=False)
    locked_key['refused_reasons'] = ['account is locked (password field starts with "!")']
    results = {'web1': host_result([
        audited('alice', [key('SHA256:aaa')]),
        audited('nokeys', [], uid=1001),
        audited('locked', [locked_key], refused=['account is locked (password field starts with "!")'], uid=1002),
        audited('svc', [key('SHA256:ccc', accepted=False)], uid=1003, notes=['no shell: nologin']),
    ])}
    report = access_report.build_report(results, generated_at='now')
    view = dict((a['user'], a) for a in report['accounts'])
    assert set(view) == {'alice', 'nokeys', 'locked', 'svc'}
    assert (view['alice']['keys'], view['alice']['accepted_keys'], view['alice']['can_log_in']) == (1, 1, True)
    assert view['alice']['reasons'] == []
    assert (view['nokeys']['can_log_in'], view['nokeys']['reasons']) == (False, ['no keys'])
    assert view['locked']['reasons'] == ['account is locked (password field starts with "!")']
    assert view['locked']['login_refused_reasons'] == view['locked']['reasons']
    assert view['svc']['reasons'] == ['no key sshd accepts'] and view['svc']['notes'] == ['no shell: nologin']
    assert report['summary']['accounts_that_can_log_in'] == 1 and report['summary']['accounts_login_refused'] == 1
    rows = list(csv.DictReader(io.StringIO(access_report.render_csv(report).decode())))
    nokeys = [r for r in rows if r['record'] == 'account' and r['user'] == 'nokeys'][0]
    assert (nokeys['keys'], nokeys['accepted_keys'], nokeys['can_log_in'], nokeys['refused_reasons']) == \
        ('0', '0', 'False', 'no keys')
    page = access_report.render_html(report).decode()
    assert 'id="accounts"' in page and 'data-user="nokeys"' in page
    assert 'account is locked (password field starts with &quot;!&quot;)' in page


def test_one_meaning_of_duplicates():
    """A duplicate is a key line whose key is on another line of the scope;
    duplicates counts those lines, in the audit (host) and the report (fleet) alike."""
    results = {'web1': host_result([audited('alice', [key('SHA256:t', 1), key('SHA256:t', 2), key('SHA256:u', 3)]),
                                    audited('bob', [key('SHA256:v')])]),
               'db1': host_result([audited('bob', [key('SHA256:v')])])}
    report = access_report.build_report(results, generated_at='now')
    flagged = sorted((r['host'], r['user'], r['line']) for r in report['keys'] if r['duplicate'])
    assert flagged == [('db1', 'bob', 1), ('web1', 'alice', 1), ('web1', 'alice', 2), ('web1', 'bob', 1)]
    assert report['summary']['duplicates'] == 4 == len(flagged)
    rows = list(csv.DictReader(io.StringIO(access_report.render_csv(report).decode())))
    assert sum(1 for r in rows if r['record'] == 'key' and r['duplicate'] == 'True') == 4
    page = access_report.render_html(report).decode()
    assert page.count('<span class="tag dup">duplicate</span>') == 4
    assert '<div class="card" data-field="duplicates"><b>4</b>' in page


def test_also_on_comes_from_the_index_and_stays_bounded():
    team = [audited('u%03d' % n, [key('SHA256:team')], uid=2000 + n) for n in range(40)]
    pair = [audited('p1', [key('SHA256:pair')], uid=3001), audited('p2', [key('SHA256:pair')], uid=3002)]
    report = access_report.build_report({'web1': host_result(team + pair)}, generated_at='now')
    assert all('also_on' not in row for row in report['keys'])
    page = access_report.render_html(report).decode()
    assert page.count('<td>also on 39 other accounts (see the index)</td>') == 40  # the why cells
    assert '<td>also on: web1: p2</td>' in page and '<td>also on: web1: p1</td>' in page


# ---------------------------------------------------------------- issue 29 item 12

TABLES = ('hosts', 'keys', 'index', 'not-audited', 'accounts', 'managed-missing', 'ignored-files')


def test_an_empty_table_is_a_sentence_not_a_header_row_alone():
    empty = access_report.render_html(access_report.build_report({}, generated_at='now')).decode()
    assert '<tbody></tbody>' not in empty
    for table in TABLES:
        assert 'id="%s"' % table not in empty and '<p class="empty" id="%s-empty">' % table in empty, table
    assert '<p class="empty" id="keys-empty">No keys found.</p>' in empty
    assert '<p class="empty" id="hosts-empty">No hosts were audited.</p>' in empty
    # a host without keys: its row is there, the key tables say there are none
    page = access_report.render_html(access_report.build_report(
        {'web1': host_result([audited('alice', [])])}, generated_at='now')).decode()
    assert '<tbody></tbody>' not in page
    assert '<table id="hosts">' in page and '<table id="accounts" class="searchable">' in page
    assert '<p class="empty" id="keys-empty">No keys found.</p>' in page and 'id="keys"' not in page
    # a full report keeps its tables
    full = access_report.render_html(access_report.build_report(RESULTS, generated_at='now')).decode()
    assert '<table id="keys" class="searchable">' in full and '<table id="ignored-files">' in full
    assert '<p class="empty" id="keys-empty">' not in full
