# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The evidence parts of the fleet report: key usage, the key map and the
policy violations (``access_report``'s ``policy``), as data and as HTML.

Split from ``access_report.py`` so that the report's core stays about the keys;
``build_report`` calls :func:`add_evidence`, ``render_html`` :func:`render_evidence_html`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape as _html_escape

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import key_map as _key_map
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import policy as _policy

# the key-map graph draws at most this many private keys (the table lists them all)
GRAPH_MAX_KEYS = 60


def esc(value):
    return _html_escape('' if value is None else str(value), quote=True)


def add_evidence(report, results, policy, now):
    """Add ``usage``, ``key_map``, ``policy`` and ``stale_keys`` to ``report``
    (and their counts to its summary)."""
    usage = {}
    for host in sorted(results):
        section = (results[host] or {}).get('usage')
        if section:
            usage[host] = section
    key_map = _key_map.build_key_map(results)
    violations, stale = _policy.evaluate(report['keys'], policy, now, usage, key_map, _policy.file_times(results))
    report['usage'] = usage
    report['key_map'] = key_map
    report['policy'] = {'rules': policy or {}, 'violations': violations}
    report['stale_keys'] = stale
    summary = report['summary']
    summary['policy_violations'] = len(violations)
    summary['stale_keys'] = sum(len(fps) for accounts in stale.values() for fps in accounts.values())
    if usage:
        summary['keys_used'] = sum(1 for row in report['keys'] if row.get('uses'))
        summary['keys_unused'] = sum(1 for row in report['keys'] if row.get('unused') is True)
    summary.update(key_map['summary'])
    return report


def _table(out, table_id, headers, rows, caption=None):
    if caption:
        out.append('<p class="meta">%s</p>' % caption)
    if not rows:
        # a table without rows is said in a sentence, as the report's other tables
        out.append('<p class="empty" id="%s-empty">None.</p>' % table_id)
        return
    out.append('<table id="%s" class="searchable"><thead><tr>%s</tr></thead><tbody>'
               % (table_id, ''.join('<th>%s</th>' % esc(header) for header in headers)))
    for search, attrs, cells in rows:
        out.append('<tr data-search="%s"%s>%s</tr>' % (
            esc(search.lower()), attrs, ''.join('<td>%s</td>' % cell for cell in cells)))
    out.append('</tbody></table>')


def _graph(key_map):
    """An inline SVG of who reaches what: private keys (left) to accounts (right)."""
    entries = [entry for entry in key_map['private_keys'] if entry['opens']][:GRAPH_MAX_KEYS]
    targets = []
    for entry in entries:
        for target in entry['opens']:
            if target not in targets:
                targets.append(target)
    row_height = 22
    height = 30 + max(len(entries), len(targets), 1) * row_height
    width = 820
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" id="key-map-graph" width="%d" height="%d" role="img" '
             'aria-label="Which private key reaches which account">' % (width, height),
             '<text x="4" y="16" font-size="13" font-weight="bold">private key (host:path)</text>',
             '<text x="%d" y="16" font-size="13" font-weight="bold">opens (account@host)</text>' % (width - 250)]
    target_y = dict((target, 30 + index * row_height + 10) for index, target in enumerate(targets))
    for index, entry in enumerate(entries):
        y = 30 + index * row_height + 10
        color = '#c62828' if entry['flags'] else '#2e7d32'
        for target in entry['opens']:
            parts.append('<line class="edge" x1="330" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>'
                         % (y, width - 260, target_y[target], color))
        label = '%s:%s' % (entry['host'], entry['path'])
        parts.append('<text class="node" x="4" y="%d" font-size="11" fill="%s">%s<title>%s</title></text>'
                     % (y + 4, color, esc(label[-52:]), esc(entry['text'])))
    for target, y in target_y.items():
        parts.append('<text class="node target" x="%d" y="%d" font-size="11">%s</text>'
                     % (width - 250, y + 4, esc(target)))
    parts.append('</svg>')
    return ''.join(parts)


def render_evidence_html(report):
    """The HTML sections of usage, policy and the key map."""
    out = []
    usage = report.get('usage') or {}
    out.append('<h2>Key usage evidence</h2>')
    rows = []
    for host, section in sorted(usage.items()):
        for source in section.get('sources') or ():
            rows.append(('%s %s %s' % (host, source.get('path') or source.get('source'), source.get('status')), '', [
                esc(host), esc(source.get('path') or source.get('source')), esc(source.get('status')),
                esc(source.get('reason') or ''), esc(source.get('logins')), esc(source.get('bytes_read'))]))
        if not section.get('complete'):
            rows.append(('%s incomplete' % host, ' class="failed"', [
                esc(host), 'all sources', 'incomplete', esc('; '.join(section.get('problems') or [])), '', '']))
    _table(out, 'usage-sources', ['host', 'source', 'status', 'reason', 'logins', 'bytes read'], rows,
           'sshd\'s login records read on each host (the usage option of authorized_keys_info); a key is '
           '"unused" only where every source was read.' if usage else
           'No usage evidence in these results (authorized_keys_info without usage).')

    policy = report.get('policy') or {}
    violations = policy.get('violations') or []
    out.append('<h2>Policy violations</h2><span class="count" id="policy-violations-count"></span>')
    rules = policy.get('rules') or {}
    rows = []
    for item in violations:
        rows.append(('%s %s %s %s %s' % (item['host'], item['user'], item['rule'], item['fingerprint'],
                                         item['message']),
                     ' data-rule="%s" data-fingerprint="%s"' % (esc(item['rule']), esc(item['fingerprint'])),
                     [esc(item['host']), esc(item['user']), esc(item['rule']), '<span class="fp">%s</span>'
                      % esc(item['fingerprint']), esc('%s:%s' % (item['file'], item['line'])
                                                      if item.get('line') else item['file']),
                      esc(item['message']), esc(item['fix'])]))
    _table(out, 'policy-violations', ['host', 'account', 'rule', 'fingerprint', 'where', 'violation', 'fix'],
           rows, 'Rules: %s.' % esc(', '.join('%s=%s' % (name, value) for name, value in sorted(rules.items())))
           if rules else 'No policy given.')

    key_map = report.get('key_map') or {}
    out.append('<h2>Key map: which private key opens what</h2><span class="count" id="key-map-count"></span>')
    rows = []
    for entry in key_map.get('private_keys') or ():
        rows.append((entry['text'] + ' ' + ' '.join(entry['flags']),
                     ' data-fingerprint="%s"' % esc(entry['fingerprint']),
                     [esc(entry['host']), esc(entry['user']), esc(entry['path']),
                      esc({True: 'yes', False: 'no'}.get(entry['encrypted'], 'unknown')),
                      esc(', '.join(entry['opens']) or '-'),
                      ''.join('<span class="tag weak">%s</span>' % esc(flag) for flag in entry['flags'])]))
    _table(out, 'key-map', ['host', 'account', 'private key', 'passphrase', 'opens', 'flags'], rows,
           'Private keys found on the audited hosts (authorized_keys_info private_keys) and the accounts their '
           'public halves open.' if key_map.get('collected') else
           'No private keys listed (authorized_keys_info without private_keys).')
    if key_map.get('private_keys'):
        out.append('<div class="chart">%s</div>' % _graph(key_map))
    rows = []
    for item in key_map.get('authorized_without_private') or ():
        rows.append((item['fingerprint'] + ' ' + ' '.join(item['opens']),
                     ' data-fingerprint="%s"' % esc(item['fingerprint']),
                     ['<span class="fp">%s</span>' % esc(item['fingerprint']), esc(', '.join(item['opens'])),
                      'yes' if item['reaches_root'] else 'no']))
    out.append('<h2>Authorized keys whose private half is in no audited account</h2>')
    _table(out, 'without-private', ['fingerprint', 'opens', 'opens root'], rows)
    return ''.join(out)


def last_used_text(row):
    """The key table's usage cell."""
    if 'uses' not in row:
        return ''
    if row.get('uses'):
        return '%s (%d login%s from %s)' % (row.get('last_used'), row['uses'], '' if row['uses'] == 1 else 's',
                                            ', '.join(row.get('used_from') or []))
    if row.get('unused') is True:
        return 'never in the logs read'
    return 'unknown (logs not fully read)'
