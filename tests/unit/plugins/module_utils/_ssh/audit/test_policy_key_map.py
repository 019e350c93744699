# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Policy rules, the key map and their place in the fleet report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import csv
import io
import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import access_report, key_map, policy

NOW = calendar.timegm((2026, 12, 6, 0, 0, 0, 0, 0, 0))
DAY = 86400


def iso(epoch):
    return access_report.time.strftime('%Y-%m-%dT%H:%M:%SZ', access_report.time.gmtime(epoch))


def key(fp, options='', frm=None, family='ed25519', bits=256, accepted=True, line=1, **usage):
    row = {'file': '/h/.ssh/authorized_keys', 'line': line, 'fingerprint': fp, 'type': family,
           'key_type': 'ssh-' + family, 'bits': bits, 'comment': 'c', 'options': options, 'from': frm,
           'accepted': accepted, 'refused_reasons': [], 'weak': False, 'weak_reasons': [], 'expired': False,
           'expiry_time': None, 'managed': None, 'accounts_with_key': 1, 'duplicate': False,
           'cert_authority': False}
    row.update(usage)
    return row


def host(accounts, usage=None):
    result = {'accounts': accounts, 'sshd': {}, 'summary': {'accounts': len(accounts)}}
    if usage is not None:
        result['usage'] = usage
    return result


def account(user, uid, keys, private_keys=None):
    entry = {'user': user, 'uid': uid, 'files': [], 'keys': keys}
    if private_keys is not None:
        entry['private_keys'] = private_keys
    return entry


COMPLETE = {'since': iso(NOW - 120 * DAY), 'window_start': iso(NOW - 120 * DAY), 'complete': True, 'sources': [],
            'problems': []}


def used(days_ago, first_days_ago=None):
    return {'last_used': iso(NOW - days_ago * DAY), 'first_used': iso(NOW - (first_days_ago or days_ago) * DAY),
            'uses': 3, 'used_from': ['10.0.0.1'], 'unused': False}


UNUSED = {'last_used': None, 'first_used': None, 'uses': 0, 'used_from': [], 'unused': True}
UNKNOWN = {'last_used': None, 'first_used': None, 'uses': 0, 'used_from': [], 'unused': None}


def results():
    return {
        'a': host([
            account('root', 0, [key('SHA256:root-open', **used(1)),
                                key('SHA256:root-ok', options='from="10.0.0.1",restrict', frm='10.0.0.1', line=2,
                                    **used(2, 400))]),
            account('deploy', 1000, [key('SHA256:shared', **used(1)), key('SHA256:stale', line=2, **UNUSED),
                                     key('SHA256:rsa', family='rsa', bits=1024, line=3, **used(100)),
                                     key('SHA256:ignored', accepted=False, line=4, **UNUSED)],
                    private_keys=[{'path': '/home/deploy/.ssh/id_ed25519', 'fingerprint': 'SHA256:root-open',
                                   'type': 'ed25519', 'bits': 256, 'encrypted': False},
                                  {'path': '/home/deploy/.ssh/id_old', 'fingerprint': 'SHA256:nowhere',
                                   'type': 'ed25519', 'bits': 256, 'encrypted': True}]),
        ], usage=COMPLETE),
        'b': host([account('deploy', 1000, [key('SHA256:shared', **UNKNOWN)]),
                   account('web', 1001, [key('SHA256:shared', **UNKNOWN)])],
                  usage=dict(COMPLETE, complete=False)),
        # a result whose evidence is incomplete is never a reason to remove a key, whatever its keys say
        'c': host([account('ops', 1002, [key('SHA256:c-only', **UNUSED)],
                           private_keys=[{'path': '/home/ops/.ssh/id_pem', 'fingerprint': 'SHA256:root-open',
                                          'type': 'rsa', 'bits': 3072, 'encrypted': None}])],
                  usage=dict(COMPLETE, complete=False)),
    }


POLICY = {'root_requires_from': True, 'root_requires_restriction': True, 'max_key_age_days': 365,
          'max_accounts_per_key': 2, 'min_rsa_bits': 2048, 'allowed_types': ['ed25519', 'ecdsa'],
          'max_unused_days': 90, 'forbid_unencrypted_root_keys': True}


def violations_by(report):
    found = {}
    for item in report['policy']['violations']:
        found.setdefault(item['rule'], set()).add((item['host'], item['user'], item['fingerprint']))
    return found


def test_policy_rules():
    report = access_report.build_report(results(), policy=policy.check_policy(POLICY), now=NOW)
    found = violations_by(report)
    assert found['root_requires_from'] == set([('a', 'root', 'SHA256:root-open')])
    assert found['root_requires_restriction'] == set([('a', 'root', 'SHA256:root-open')])
    assert found['max_key_age_days'] == set([('a', 'root', 'SHA256:root-ok')])
    assert found['max_accounts_per_key'] == set([('a', 'deploy', 'SHA256:shared'), ('b', 'deploy', 'SHA256:shared'),
                                                 ('b', 'web', 'SHA256:shared')])
    assert found['min_rsa_bits'] == set([('a', 'deploy', 'SHA256:rsa')])
    assert found['allowed_types'] == set([('a', 'deploy', 'SHA256:rsa')])
    # unused: the never-used key where the evidence is complete and old enough, and the one last used 100 days
    # ago; not host b's keys (incomplete evidence: unknown), not an ignored line
    assert found['max_unused_days'] == set([('a', 'deploy', 'SHA256:stale'), ('a', 'deploy', 'SHA256:rsa')])
    assert report['stale_keys'] == {'a': {'deploy': ['SHA256:rsa', 'SHA256:stale']}}
    # the PEM key on c opens root too, but whether it has a passphrase is unknown: not flagged
    assert found['forbid_unencrypted_root_keys'] == set([('a', 'deploy', 'SHA256:root-open')])
    assert report['summary']['policy_violations'] == len(report['policy']['violations'])
    assert all(item['fix'] for item in report['policy']['violations'])


def test_unused_needs_a_window_long_enough():
    data = results()
    # asked for 120 days, but the logs reach back 30 days only (rotated away)
    data['a']['usage'] = dict(COMPLETE, window_start=iso(NOW - 30 * DAY))
    report = access_report.build_report(data, policy={'max_unused_days': 90}, now=NOW)
    # 30 days of logs cannot show 90 days without a login; the key last used 100 days ago still counts
    assert violations_by(report)['max_unused_days'] == set([('a', 'deploy', 'SHA256:rsa')])


def test_no_policy_no_violations():
    report = access_report.build_report(results(), now=NOW)
    assert report['policy']['violations'] == [] and report['stale_keys'] == {}


@pytest.mark.parametrize('bad', [{'max_unused_days': -1}, {'root_requires_from': 'yes'}, {'nonsense': 1},
                                 {'allowed_types': 'ed25519'}, {'max_accounts_per_key': True}])
def test_bad_policy(bad):
    with pytest.raises(InvalidInput):
        policy.check_policy(bad)


def test_key_map():
    mapped = key_map.build_key_map(results())
    by_path = dict((entry['path'], entry) for entry in mapped['private_keys'])
    entry = by_path['/home/deploy/.ssh/id_ed25519']
    assert entry['opens'] == ['root@a'] and entry['reaches_root']
    assert entry['flags'] == ['unencrypted reaches root']
    assert entry['text'] == 'a /home/deploy/.ssh/id_ed25519 (no passphrase) opens root@a'
    assert by_path['/home/deploy/.ssh/id_old']['flags'] == ['orphan']
    without = dict((item['fingerprint'], item) for item in mapped['authorized_without_private'])
    # ignored lines open nothing; the root key's private half is on host a
    assert 'SHA256:root-open' not in without and 'SHA256:ignored' not in without
    assert without['SHA256:shared']['opens'] == ['deploy@a', 'deploy@b', 'web@b']
    assert without['SHA256:root-ok']['reaches_root']
    assert mapped['summary']['unencrypted_reaching_root'] == 1 and mapped['summary']['orphan_private_keys'] == 1
    pem = [entry for entry in mapped['private_keys'] if entry['path'] == '/home/ops/.ssh/id_pem'][0]
    assert pem['reaches_root'] and pem['flags'] == [] and 'passphrase unknown' in pem['text']


def test_key_map_without_private_key_lists_says_nothing_is_missing():
    data = results()
    del data['a']['accounts'][1]['private_keys']
    del data['c']['accounts'][0]['private_keys']
    mapped = key_map.build_key_map(data)
    assert mapped['collected'] == [] and mapped['authorized_without_private'] == []


def test_report_renders_evidence():
    report = access_report.build_report(results(), policy=POLICY, now=NOW)
    page = access_report.render_html(report).decode()
    for marker in ('id="policy-violations"', 'id="key-map"', 'id="key-map-graph"', 'id="usage-sources"',
                   'id="without-private"', 'never in the logs read', 'unencrypted reaches root'):
        assert marker in page
    rows = list(csv.DictReader(io.StringIO(access_report.render_csv(report).decode())))
    stale = [row for row in rows if row['record'] == 'key' and row['fingerprint'] == 'SHA256:stale'][0]
    assert stale['unused'] == 'True' and 'max_unused_days' in stale['violations']


def test_private_keys_of_a_home(tmp_path):
    home = tmp_path / 'home'
    ssh = home / '.ssh'
    ssh.mkdir(parents=True)
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'plain', '-f', str(ssh / 'id_plain')])
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', 'words', '-C', 'enc', '-f', str(ssh / 'id_enc')])
    (ssh / 'only.pub').write_text(open(str(ssh / 'id_plain.pub')).read())
    entry = pwd.getpwuid(os.geteuid())
    found, problem = key_map.private_keys_of(entry.pw_name, entry.pw_uid, str(home))
    assert problem is None
    by_path = dict((item['path'], item) for item in found)
    # private keys only (a lone .pub is not one), with their protection; never the key material
    assert sorted(by_path) == [str(ssh / 'id_enc'), str(ssh / 'id_plain')]
    assert by_path[str(ssh / 'id_plain')]['encrypted'] is False and by_path[str(ssh / 'id_enc')]['encrypted'] is True
    expected = subprocess.check_output(['ssh-keygen', '-l', '-E', 'sha256', '-f', str(ssh / 'id_plain.pub')]).split()[1]
    assert by_path[str(ssh / 'id_plain')]['fingerprint'] == expected.decode()
    assert 'PRIVATE' not in repr(found)


def test_private_keys_of_a_missing_home():
    found, problem = key_map.private_keys_of('nobody-kus', 65534, '/nonexistent/kus-home')
    assert found == []


def test_the_host_check_is_the_fleet_check_on_one_host():
    # authorized_keys_info's policy: the fleet's rules over one host's accounts; only the counts that span hosts
    # differ (accounts per key, the hosts a private key opens)
    checked = policy.check_policy(POLICY)
    fleet = access_report.build_report(results(), policy=checked, now=NOW)['policy']['violations']
    for name, result in sorted(results().items()):
        violations, stale = policy.evaluate_host(name, result['accounts'], checked, NOW, result.get('usage'))
        assert all(item['host'] == name for item in violations)
        spanning = ('max_accounts_per_key', 'forbid_unencrypted_root_keys')
        mine = sorted(repr(item) for item in violations if item['rule'] not in spanning)
        assert mine == sorted(repr(item) for item in fleet if item['host'] == name and item['rule'] not in spanning)
    # host a: the shared key is on one account of a (3 in the fleet); its unencrypted private key opens root on a
    violations, stale = policy.evaluate_host('a', results()['a']['accounts'], checked, NOW, COMPLETE)
    rules = set((item['rule'], item['fingerprint']) for item in violations)
    assert ('max_accounts_per_key', 'SHA256:shared') not in rules
    assert ('forbid_unencrypted_root_keys', 'SHA256:root-open') in rules
    assert stale == {'a': {'deploy': ['SHA256:rsa', 'SHA256:stale']}}
    # host b: the shared key on 2 accounts of b
    violations, stale = policy.evaluate_host('b', results()['b']['accounts'], dict(checked, max_accounts_per_key=1),
                                             NOW, results()['b']['usage'])
    assert sorted(item['user'] for item in violations if item['rule'] == 'max_accounts_per_key') == ['deploy', 'web']
    # host c: its PEM key opens root on a, not on c
    violations, stale = policy.evaluate_host('c', results()['c']['accounts'], checked, NOW, None)
    assert 'forbid_unencrypted_root_keys' not in set(item['rule'] for item in violations)


def test_every_rule_is_a_key_rule_or_the_key_map_rule():
    assert set(name for name, check in policy.KEY_RULES) | set(['forbid_unencrypted_root_keys']) == set(policy.RULES)


def with_file_times(data, host_name, user, ctime, mtime=None, path='/h/.ssh/authorized_keys'):
    for entry in data[host_name]['accounts']:
        if entry['user'] == user:
            entry['files'] = [{'path': path, 'exists': True, 'used': True, 'ctime': ctime,
                               'mtime': mtime if mtime is not None else ctime}]
    return data


def test_key_age_from_the_file_ctime():
    # deploy's keys: no first login older than a year in the logs, but the file has not changed for 500 days
    data = with_file_times(results(), 'a', 'deploy', iso(NOW - 500 * DAY))
    report = access_report.build_report(data, policy={'max_key_age_days': 365}, now=NOW)
    found = violations_by(report)
    # every accepted line of that file (not the ignored one), and root's key of the logs as before
    assert found['max_key_age_days'] == set([('a', 'root', 'SHA256:root-ok'), ('a', 'deploy', 'SHA256:shared'),
                                             ('a', 'deploy', 'SHA256:stale'), ('a', 'deploy', 'SHA256:rsa')])
    messages = dict(((item['user'], item['fingerprint']), item['message'])
                    for item in report['policy']['violations'])
    assert 'ctime' in messages[('deploy', 'SHA256:stale')] and iso(NOW - 500 * DAY) in messages[
        ('deploy', 'SHA256:stale')]
    assert 'first login in the logs' in messages[('root', 'SHA256:root-ok')]


def test_key_age_takes_the_larger_lower_bound_and_says_which():
    # root's file changed 450 days ago, its key's first login 400 days ago: the file is the older evidence
    data = with_file_times(results(), 'a', 'root', iso(NOW - 450 * DAY))
    report = access_report.build_report(data, policy={'max_key_age_days': 365}, now=NOW)
    messages = dict(((item['user'], item['fingerprint']), item['message'])
                    for item in report['policy']['violations'])
    assert 'ctime' in messages[('root', 'SHA256:root-ok')]
    # root-open: first login a day ago, but on file for 450 days
    assert 'ctime' in messages[('root', 'SHA256:root-open')]
    # the logs older than the file: the logs say it
    data = with_file_times(results(), 'a', 'root', iso(NOW - 380 * DAY))
    report = access_report.build_report(data, policy={'max_key_age_days': 365}, now=NOW)
    messages = dict(((item['user'], item['fingerprint']), item['message'])
                    for item in report['policy']['violations'])
    assert 'first login in the logs' in messages[('root', 'SHA256:root-ok')]


def test_a_recent_file_change_or_an_old_mtime_is_no_violation():
    # changed 10 days ago: a lower bound of 10 days says nothing about a 365-day limit
    data = with_file_times(results(), 'a', 'deploy', iso(NOW - 10 * DAY))
    report = access_report.build_report(data, policy={'max_key_age_days': 365}, now=NOW)
    assert violations_by(report)['max_key_age_days'] == set([('a', 'root', 'SHA256:root-ok')])
    # an mtime set back by the file's owner (touch -d) is not evidence: only ctime counts
    data = with_file_times(results(), 'a', 'deploy', iso(NOW - 10 * DAY), mtime=iso(NOW - 3000 * DAY))
    report = access_report.build_report(data, policy={'max_key_age_days': 365}, now=NOW)
    assert violations_by(report)['max_key_age_days'] == set([('a', 'root', 'SHA256:root-ok')])
    # no file times at all (a result of an older module): the logs alone, as before
    assert policy.key_age({'first_used': None, 'file': '/x'}, NOW, {}) == (None, None)


def test_the_host_check_takes_the_file_times_too():
    # authorized_keys_info's policy on one host: the file's ctime is evidence there as in the report
    data = with_file_times(results(), 'a', 'deploy', iso(NOW - 500 * DAY))
    checked = policy.check_policy({'max_key_age_days': 365})
    violations, stale = policy.evaluate_host('a', data['a']['accounts'], checked, NOW, data['a'].get('usage'))
    aged = set((item['user'], item['fingerprint']) for item in violations if item['rule'] == 'max_key_age_days')
    assert ('deploy', 'SHA256:stale') in aged and ('deploy', 'SHA256:rsa') in aged
