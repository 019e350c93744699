# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet access report: ``authorized_keys_info`` results of many hosts as
one JSON document, one CSV file and one self-contained HTML page.

One meaning of "duplicate" everywhere: a key line is a *duplicate* when the
same key (SHA256 fingerprint) is on at least one other key line in scope - the
host in ``authorized_keys_info``, the fleet here - and ``duplicates`` counts
such key lines. Where else a key is: the ``fingerprints`` index (the report
never lists the other accounts on every line: that made it quadratic).

The HTML page needs nothing but itself: styles, the inline SVG charts and the
search script are in the page, the data is escaped into it (no network, no
external script), so it can be mailed or attached to an AWX job.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
import re
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import certificate_report
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import report_evidence
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.policy import check_policy

from html import escape as _html_escape

SUMMARY_FIELDS = ('hosts', 'accounts', 'accounts_that_can_log_in', 'accounts_login_refused', 'accounts_not_audited',
                  'accounts_incomplete', 'keys', 'accepted', 'weak', 'unmanaged', 'ignored', 'expired', 'duplicates',
                  'managed_missing', 'files_ignored')
CHART_FIELDS = ('keys', 'weak', 'unmanaged', 'ignored', 'expired')
CSV_COLUMNS = ('host', 'user', 'uid', 'file', 'line', 'fingerprint', 'type', 'bits', 'comment', 'options',
               'accepted', 'refused_reasons', 'weak', 'weak_reasons', 'expiry_time', 'expired', 'managed',
               'accounts_with_key', 'hosts_with_key', 'duplicate', 'client_dependent', 'record', 'keys', 'accepted_keys',
               'can_log_in', 'last_used', 'uses', 'used_from', 'unused', 'violations')
# The CSV's ``record`` column: a key line, a managed key found nowhere on a host
# (host and fingerprint), an audited account (keys, accepted_keys, can_log_in,
# and its login_refused_reasons in refused_reasons), or a user CA and an account it opens
# (certificate_report.py: the principals in options, the CA's source in file).
CSV_RECORDS = ('key', 'managed_missing', 'account', 'certificate_authority')
# "also on" in the HTML key table: at most this many other accounts by name, then the index
ALSO_ON_NAMES = 5
FORMATS = ('json', 'csv', 'html')
# Stands for the generation time while comparing a new report with the file on
# disk: a report that differs only in when it was made is not rewritten.
_STAMP_MARK = 'KEYSMITH-GENERATED-AT-MARK'
_STAMP_RE = b'[0-9A-Za-z:+.-]{1,64}'


def esc(value):
    return _html_escape('' if value is None else str(value), quote=True)


def build_report(results, title='SSH access report', generated_at=None, policy=None, now=None):
    """The report document from {host: authorized_keys_info result} (``policy``:
    checked rules, see ``policy.py``; usage and the key map come with the results)."""
    hosts = []
    rows = []
    ignored_files = []
    # Accounts the audit could not (fully) read: never shown as "no keys".
    not_audited = []
    accounts = []
    missing = []
    index = {}
    for host in sorted(results):
        result = results[host] or {}
        entry = {'host': host, 'failed': bool(result.get('failed') or result.get('unreachable')),
                 'msg': result.get('msg') if (result.get('failed') or result.get('unreachable')) else None,
                 'summary': result.get('summary') or {}, 'sshd': result.get('sshd') or {},
                 'warnings': list(result.get('warnings') or []),
                 'managed_missing': list(result.get('managed_missing') or [])}
        hosts.append(entry)
        for fingerprint in entry['managed_missing']:
            missing.append({'host': host, 'fingerprint': fingerprint})
        for account in result.get('accounts') or []:
            if account.get('status', 'audited') != 'audited':
                not_audited.append({'host': host, 'user': account['user'], 'status': account['status'],
                                    'reasons': list(account.get('status_reasons') or [])})
            accounts.append(account_view(host, account))
            for item in account.get('files') or []:
                if item.get('exists') and not item.get('used'):
                    ignored_files.append({'host': host, 'user': account['user'], 'path': item['path'],
                                          'mode': item.get('mode'), 'reason': item.get('reason')})
            for key in account.get('keys') or []:
                row = dict(key)
                row.update(host=host, user=account['user'], uid=account.get('uid'))
                rows.append(row)
                index.setdefault(key['fingerprint'], []).append(
                    {'host': host, 'user': account['user'], 'file': key['file'], 'line': key['line'],
                     'accepted': key['accepted']})
    hosts_with_key = dict((fp, len(set(place['host'] for place in places))) for fp, places in index.items())
    for row in rows:
        row['hosts_with_key'] = hosts_with_key[row['fingerprint']]
        # fleet scope: the key is on another line of the fleet
        row['duplicate'] = len(index[row['fingerprint']]) > 1
    summary = {
        'hosts': len(hosts),
        'hosts_failed': sum(1 for host in hosts if host['failed']),
        'accounts': sum(host['summary'].get('accounts', 0) for host in hosts),
        'accounts_that_can_log_in': sum(1 for account in accounts if account['can_log_in']),
        'accounts_login_refused': sum(1 for account in accounts if account['login_refused_reasons']),
        'keys': len(rows),
        'accepted': sum(1 for row in rows if row['accepted']),
        'weak': sum(1 for row in rows if row['weak']),
        'unmanaged': sum(1 for row in rows if row.get('managed') is False),
        'ignored': sum(1 for row in rows if not row['accepted']),
        'expired': sum(1 for row in rows if row['expired']),
        'duplicates': sum(1 for row in rows if row['duplicate']),
        'managed_missing': len(missing),
        'keys_client_dependent': sum(1 for row in rows if row.get('client_dependent')),
        'files_ignored': len(ignored_files),
        'distinct_keys': len(index),
        'accounts_not_audited': sum(1 for item in not_audited if item['status'] == 'not audited'),
        'accounts_incomplete': sum(1 for item in not_audited if item['status'] == 'incomplete'),
        # key lines the audit counted but did not judge (over its max_keys): their accounts are incomplete
        'keys_not_listed': sum(host['summary'].get('keys_not_listed', 0) for host in hosts),
    }
    authorities = certificate_report.collect(results)
    summary.update(certificate_report.summary(authorities, results))
    report = {
        'title': title,
        'generated_at': generated_at or time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'summary': summary,
        'certificate_authorities': authorities,
        'hosts': hosts,
        'keys': rows,
        'accounts': accounts,
        'managed_missing': missing,
        'files_ignored': ignored_files,
        'accounts_not_audited': not_audited,
        'fingerprints': dict((fp, places) for fp, places in sorted(index.items())),
    }
    return report_evidence.add_evidence(report, results, policy, time.time() if now is None else now)


def account_view(host, account):
    """One audited account of the per-account view (accounts without keys too)."""
    keys = account.get('keys') or []
    accepted = sum(1 for key in keys if key.get('accepted'))
    refused = list(account.get('login_refused_reasons') or [])
    status = account.get('status', 'audited')
    reasons = list(refused) + list(account.get('status_reasons') or [])
    # a certificate of a trusted CA opens the account too (certificate_report.opens)
    can_log_in = accepted > 0 or certificate_report.opens(account)
    if status != 'audited' and not can_log_in:
        # what could not be read may hold keys sshd accepts: unknown, never "no"
        can_log_in = None
    elif not can_log_in and not refused:
        reasons.append('no key sshd accepts' if keys else 'no keys')
    state = account.get('account_state') or {}
    return {'host': host, 'user': account.get('user'), 'uid': account.get('uid'), 'keys': len(keys),
            'accepted_keys': accepted, 'can_log_in': can_log_in, 'status': status,
            'login_refused_reasons': refused, 'reasons': reasons,
            'notes': list(state.get('notes') or []) + certificate_report.account_notes(account)}


def _can_log_in_text(account):
    if account['can_log_in'] is None:
        return 'unknown (%s)' % account['status']
    return 'yes' if account['can_log_in'] else 'no'


def render_json(report):
    return (json.dumps(report, indent=2, sort_keys=True) + '\n').encode('utf-8')


def _cell(value):
    if isinstance(value, (list, tuple)):
        return '; '.join(str(item) for item in value)
    if value is None:
        return ''
    return str(value)


# A spreadsheet reads a cell starting with one of these as a formula (OWASP
# "CSV injection"); comments and options are written by account owners.
FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r')


def csv_safe(text):
    """``text`` as a spreadsheet shows it as text: a leading ``'`` before a formula start."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def render_csv(report):
    """The keys as CSV; every cell that could start a formula starts with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_COLUMNS)
    for row in report['keys']:
        writer.writerow([csv_safe(_cell(dict(row, record='key').get(column))) for column in CSV_COLUMNS])
    for item in report['managed_missing']:
        writer.writerow([csv_safe(_cell(dict(item, record='managed_missing', managed='missing').get(column)))
                         for column in CSV_COLUMNS])
    for account in report['accounts']:
        row = dict(account, record='account', refused_reasons=account['reasons'])
        writer.writerow([csv_safe(_cell(row.get(column))) for column in CSV_COLUMNS])
    for row in certificate_report.csv_rows(report):
        writer.writerow([csv_safe(_cell(row.get(column))) for column in CSV_COLUMNS])
    # text from a host that did not escape undecodable bytes cannot fail the report
    return out.getvalue().encode('utf-8', 'backslashreplace')


# ---------------------------------------------------------------------------
# HTML

_COLORS = {'keys': '#4472c4', 'accepted': '#2e7d32', 'weak': '#c62828', 'unmanaged': '#ef6c00',
           'ignored': '#757575', 'expired': '#6a1b9a'}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;font-size:13px}
.empty{color:#666;font-style:italic}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:96px}
.card b{display:block;font-size:24px}.card span{font-size:12px;color:#555;text-transform:uppercase}
.charts{display:flex;flex-wrap:wrap;gap:24px}.chart{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eee;position:sticky;top:0}
td.fp{font-family:ui-monospace,Menlo,monospace;font-size:12px;word-break:break-all;min-width:17em}
.tag{display:inline-block;border-radius:3px;padding:0 4px;margin:1px;font-size:11px;color:#fff}
.ok{background:#2e7d32}.no{background:#757575}.weak{background:#c62828}.unmanaged{background:#ef6c00}
.expired{background:#6a1b9a}.dup{background:#4472c4}.failed{color:#c62828}
#search{font-size:15px;padding:6px 8px;width:420px;max-width:100%;margin:8px 0}
.count{color:#555;font-size:13px;margin-left:8px}
"""

_SCRIPT = """
(function () {
  var box = document.getElementById('search');
  var tables = document.querySelectorAll('table.searchable');
  function apply() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(function (w) { return w; });
    tables.forEach(function (table) {
      var rows = table.tBodies[0].rows, shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var text = rows[i].getAttribute('data-search');
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        rows[i].style.display = match ? '' : 'none';
        if (match) { shown++; }
      }
      var counter = document.getElementById(table.id + '-count');
      if (counter) { counter.textContent = shown + ' of ' + rows.length + ' rows'; }
    });
  }
  box.addEventListener('input', apply);
  apply();
})();
"""


def bar_chart(title, items, width=420, bar_height=22):
    """An inline SVG horizontal bar chart of [(label, value, color)]."""
    label_width = 130
    top = 26
    height = top + len(items) * (bar_height + 6) + 6
    largest = max([value for dummy, value, dummy2 in items] + [1])
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="%d" height="%d" role="img" '
             'aria-label="%s">' % (width, height, esc(title)),
             '<text x="4" y="16" font-size="13" font-weight="bold">%s</text>' % esc(title)]
    for number, (label, value, color) in enumerate(items):
        y = top + number * (bar_height + 6)
        length = int((width - label_width - 50) * value / float(largest))
        parts.append('<text x="4" y="%d" font-size="12">%s</text>' % (y + bar_height - 7, esc(label)))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (label_width, y, max(length, 1), bar_height, color, esc(label), value))
        parts.append('<text x="%d" y="%d" font-size="12">%d</text>'
                     % (label_width + max(length, 1) + 4, y + bar_height - 7, value))
    parts.append('</svg>')
    return ''.join(parts)


def _tags(row):
    tags = ['<span class="tag ok">accepted</span>' if row['accepted'] else '<span class="tag no">ignored</span>']
    if row['weak']:
        tags.append('<span class="tag weak">weak</span>')
    if row.get('managed') is False:
        tags.append('<span class="tag unmanaged">unmanaged</span>')
    if row['expired']:
        tags.append('<span class="tag expired">expired</span>')
    if row.get('duplicate'):
        tags.append('<span class="tag dup">duplicate</span>')
    if row.get('client_dependent'):
        tags.append('<span class="tag dup" title="accepted for some clients only">depends on client</span>')
    return ''.join(tags)


def _status_words(row):
    words = ['accepted' if row['accepted'] else 'ignored']
    for flag in ('weak', 'expired'):
        if row[flag]:
            words.append(flag)
    if row.get('managed') is False:
        words.append('unmanaged')
    if row.get('client_dependent'):
        words.append('client-dependent')
    return ' '.join(words)


def _accounts_per_key(fingerprints):
    """{fingerprint: [(host, account) pairs holding it, in order, each once]}, once for the page."""
    holders = {}
    for fp, places in fingerprints.items():
        seen = set()
        pairs = []
        for place in places:
            pair = (place['host'], place['user'])
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
        holders[fp] = pairs
    return holders


def _also_on(row, fingerprints, accounts_per_key):
    """"also on ..." of a key row, from the index: the other accounts holding
    the key by name up to ALSO_ON_NAMES, else their number (bounded per row:
    the holders are listed once per key, not once per line of the key)."""
    pairs = accounts_per_key.get(row['fingerprint']) or [(row['host'], row['user'])]
    others = len(pairs) - 1
    if others <= 0:
        return None
    if others > ALSO_ON_NAMES:
        return 'also on %d other accounts (see the index)' % others
    names = ['%s: %s' % pair for pair in pairs if pair != (row['host'], row['user'])]
    return 'also on: ' + ', '.join(names)


def _search_text(*values):
    return esc(' '.join(_cell(value) for value in values).lower())


def _end_table(out, start, sentence):
    """Close the table begun at ``out[start]``; a table without rows is said
    in a sentence (``<p class="empty">``) instead of a header row alone."""
    if len(out) > start + 1:
        out.append('</tbody></table>')
        return
    head = out[start]
    at = head.index('<table')
    table_id = head[at:].split('id="', 1)[1].split('"', 1)[0]
    out[start] = head[:at] + '<p class="empty" id="%s-empty">%s</p>' % (table_id, esc(sentence))


def _plain_table(out, title, table_id, headers, rows, sentence):
    """A titled table of (row start tag, cells) rows, or ``sentence`` when it has none."""
    start = len(out)
    out.append('<h2>%s</h2><table id="%s"><thead><tr>%s</tr></thead><tbody>' % (
        esc(title), table_id, ''.join('<th>%s</th>' % esc(header) for header in headers)))
    for row_tag, cells in rows:
        out.append(row_tag + ''.join(cells) + '</tr>')
    _end_table(out, start, sentence)


def render_html(report):
    summary = report['summary']
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s</title><style>%s</style></head><body>' % (esc(report['title']), _STYLE),
           '<h1>%s</h1><div class="meta">generated %s by keysmith.accounts</div>'
           % (esc(report['title']), esc(report['generated_at']))]
    out.append('<div class="cards" id="summary">')
    for field in SUMMARY_FIELDS:
        out.append('<div class="card" data-field="%s"><b>%d</b><span>%s</span></div>'
                   % (field, summary.get(field, 0), esc(field.replace('_', ' '))))
    out.append('</div>')

    out.append('<div class="charts">')
    out.append('<div class="chart">%s</div>' % bar_chart(
        'Keys in the fleet', [(field, summary.get(field, 0), _COLORS[field]) for field in CHART_FIELDS]))
    per_host = []
    for host in report['hosts']:
        per_host.append((host['host'], host['summary'].get('keys', 0), _COLORS['keys']))
    out.append('<div class="chart">%s</div>' % bar_chart('Keys per host', per_host))
    weak_per_host = [(host['host'], host['summary'].get('weak', 0) + host['summary'].get('unmanaged', 0),
                      _COLORS['weak']) for host in report['hosts']]
    out.append('<div class="chart">%s</div>' % bar_chart('Weak + unmanaged per host', weak_per_host))
    out.append('</div>')

    start = len(out)
    out.append('<h2>Hosts</h2><table id="hosts"><thead><tr><th>host</th><th>accounts</th><th>keys</th>'
               '<th>accepted</th><th>weak</th><th>unmanaged</th><th>ignored</th><th>expired</th>'
               '<th>sshd settings</th></tr></thead><tbody>')
    for host in report['hosts']:
        host_summary = host['summary']
        sshd = host['sshd']
        if host['failed']:
            settings = '<span class="failed">failed: %s</span>' % esc(host['msg'])
        else:
            settings = esc('AuthorizedKeysFile %s; StrictModes %s; from %s' % (
                ' '.join(sshd.get('authorized_keys_file') or []), 'yes' if sshd.get('strict_modes') else 'no',
                sshd.get('source')))
        out.append('<tr data-host="%s"><td>%s</td>%s<td>%s</td></tr>' % (
            esc(host['host']), esc(host['host']),
            ''.join('<td>%d</td>' % host_summary.get(field, 0)
                    for field in ('accounts', 'keys', 'accepted', 'weak', 'unmanaged', 'ignored', 'expired')),
            settings))
    _end_table(out, start, 'No hosts were audited.')

    out.append('<h2>Keys</h2><input id="search" type="search" placeholder="Search host, account, fingerprint, '
               'comment, status..." autocomplete="off" aria-label="Search">')
    out.append('<span class="count" id="keys-count"></span>')
    accounts_per_key = _accounts_per_key(report['fingerprints'])
    start = len(out)
    out.append('<table id="keys" class="searchable"><thead><tr><th>host</th><th>account</th><th>file:line</th>'
               '<th>key</th><th>fingerprint</th><th>comment</th><th>options</th><th>status</th><th>why</th>'
               '<th>last used</th></tr></thead><tbody>')
    for row in report['keys']:
        reasons = list(row.get('refused_reasons') or []) + list(row.get('weak_reasons') or [])
        reasons.extend('policy: %s' % rule for rule in row.get('violations') or ())
        used = report_evidence.last_used_text(row)
        also = _also_on(row, report['fingerprints'], accounts_per_key)
        if also:
            reasons.append(also)
        out.append('<tr data-search="%s" data-fingerprint="%s"><td>%s</td><td>%s</td><td>%s:%d</td>'
                   '<td>%s %s</td><td class="fp">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                   '</tr>' % (
                       _search_text(row['host'], row['user'], row['file'], row['fingerprint'], row['type'],
                                    row['comment'], row['options'], _status_words(row), reasons, used),
                       esc(row['fingerprint']), esc(row['host']), esc(row['user']), esc(row['file']), row['line'],
                       esc(row['type']), esc(row['bits']), esc(row['fingerprint']), esc(row['comment']),
                       esc(row['options']), _tags(row), esc('; '.join(reasons)), esc(used)))
    _end_table(out, start, 'No keys found.')

    out.append('<h2>Which key opens what</h2><span class="count" id="index-count"></span>')
    start = len(out)
    out.append('<table id="index" class="searchable"><thead><tr><th>fingerprint</th><th>hosts</th>'
               '<th>opens (host: account, file:line)</th></tr></thead><tbody>')
    for fingerprint, places in report['fingerprints'].items():
        opens = ['%s: %s %s:%d%s' % (place['host'], place['user'], place['file'], place['line'],
                                     '' if place['accepted'] else ' (ignored by sshd)') for place in places]
        out.append('<tr data-search="%s" data-fingerprint="%s"><td class="fp">%s</td><td>%d</td><td>%s</td></tr>' % (
            _search_text(fingerprint, opens), esc(fingerprint), esc(fingerprint),
            len(set(place['host'] for place in places)), '<br>'.join(esc(item) for item in opens)))
    _end_table(out, start, 'No keys.')

    out.append(certificate_report.html_section(report, esc))

    start = len(out)
    out.append('<h2>Accounts not fully audited</h2><p class="meta">The audit could not read everything sshd '
               'would read for these accounts: their keys are unknown or incomplete (not "no keys").</p>'
               '<table id="not-audited"><thead><tr><th>host</th><th>account</th><th>status</th><th>why</th>'
               '</tr></thead><tbody>')
    for item in report.get('accounts_not_audited') or []:
        out.append('<tr><td>%s</td><td>%s</td><td class="failed">%s</td><td>%s</td></tr>' % (
            esc(item['host']), esc(item['user']), esc(item['status']), esc('; '.join(item['reasons']))))
    _end_table(out, start, 'None: every account was audited completely.')

    out.append('<h2>Accounts</h2><span class="count" id="accounts-count"></span>')
    start = len(out)
    out.append('<table id="accounts" class="searchable"><thead><tr><th>host</th><th>account</th><th>keys</th>'
               '<th>accepted keys</th><th>can log in</th><th>why not / notes</th></tr></thead><tbody>')
    for account in report['accounts']:
        why = account['reasons'] + account['notes']
        out.append('<tr data-search="%s" data-user="%s"><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td>'
                   '<td>%s</td></tr>' % (
                       _search_text(account['host'], account['user'], why, _can_log_in_text(account)),
                       esc(account['user']), esc(account['host']), esc(account['user']), account['keys'],
                       account['accepted_keys'], esc(_can_log_in_text(account)), esc('; '.join(why))))
    _end_table(out, start, 'No accounts.')

    _plain_table(out, 'Managed keys found nowhere', 'managed-missing', ('host', 'fingerprint'),
                 [('<tr data-fingerprint="%s">' % esc(item['fingerprint']), (
                     '<td>%s</td>' % esc(item['host']), '<td class="fp">%s</td>' % esc(item['fingerprint'])))
                  for item in report['managed_missing']], 'None: every managed key was found.')
    _plain_table(out, 'Files sshd ignores', 'ignored-files', ('host', 'account', 'file', 'mode', 'reason'),
                 [('<tr>', tuple('<td>%s</td>' % esc(item[name]) for name in ('host', 'user', 'path', 'mode', 'reason')))
                  for item in report['files_ignored']], 'None.')
    out.append(report_evidence.render_evidence_html(report))
    out.append('<script>%s</script></body></html>\n' % _SCRIPT)
    return ''.join(out).encode('utf-8', 'backslashreplace')


# ---------------------------------------------------------------------------
# The operation

class AccessReport(Operation):
    """Write the report files; a file is rewritten only when its content differs."""

    def __init__(self, results, dest, name='access_report', title='SSH access report', formats=FORMATS,
                 mode=0o644, generated_at=None, policy=None):
        if not isinstance(results, dict):
            raise InvalidInput('results must be a mapping of host name to authorized_keys_info result')
        if not os.path.isabs(dest):
            raise InvalidInput('dest must be an absolute path, got %r' % dest)
        if not name or '/' in name or name.startswith('.'):
            raise InvalidInput('name must be a plain file name stem, got %r' % name)
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise InvalidInput('unknown formats: %s' % ', '.join(sorted(unknown)))
        self.dest = os.path.normpath(dest)
        self.name = name
        self.formats = list(formats)
        self.mode = mode
        self.report = build_report(results, title=title, generated_at=generated_at, policy=check_policy(policy))
        self.stamp_given = generated_at is not None
        self.paths = {}

    @staticmethod
    def _render(fmt, report):
        if fmt == 'json':
            return render_json(report)
        if fmt == 'csv':
            return render_csv(report)
        return render_html(report)

    def _content(self, fmt):
        return self._render(fmt, self.report)

    def _same_but_generated_at(self, fmt, existing):
        """``existing`` is this report but for its generation time (a time this
        module wrote, when ``generated_at`` was not given)."""
        if existing is None or self.stamp_given:
            return False
        marked = self._render(fmt, dict(self.report, generated_at=_STAMP_MARK))
        parts = marked.split(_STAMP_MARK.encode('ascii'))
        if len(parts) == 1:
            return False
        pattern = _STAMP_RE.join(re.escape(part) for part in parts)
        return re.fullmatch(pattern, existing, re.S) is not None

    def plan(self):
        plan = Plan(self.dest)
        tree = Tree(self.dest, create_base=True)
        for fmt in self.formats:
            file_name = '%s.%s' % (self.name, fmt)
            path = tree.path([], file_name)
            self.paths[fmt] = path
            data = self._content(fmt)
            existing = tree.read([], file_name).data
            if existing == data or self._same_but_generated_at(fmt, existing):
                continue
            plan.add('write', path, lambda d=data, f=file_name: tree.write([], f, d, self.mode),
                     detail='%d bytes' % len(data))
        return plan

    def result(self, plan, applied):
        summary = self.report['summary']
        return {
            'summary': summary,
            'paths': self.paths,
            'failed_hosts': [host['host'] for host in self.report['hosts'] if host['failed']],
            'policy_violations': self.report['policy']['violations'],
            'stale_keys': self.report['stale_keys'],
            'msg': '%d hosts, %d accounts, %d keys (%d weak, %d unmanaged, %d ignored by sshd, %d expired)%s' % (
                summary['hosts'], summary['accounts'], summary['keys'], summary['weak'], summary['unmanaged'],
                summary['ignored'], summary['expired'],
                '; %d accounts not audited, %d incomplete' % (summary['accounts_not_audited'],
                                                              summary['accounts_incomplete'])
                if summary['accounts_not_audited'] or summary['accounts_incomplete'] else ''),
        }
