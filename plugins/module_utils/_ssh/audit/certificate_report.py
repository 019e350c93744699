# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access report's certificate authority rows: which accounts each CA
opens on each host, with which principals (from ``authorized_keys_info``'s
``certificate_authorities``; see ``certificate_access.py``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The CSV record of one (host, CA, account) - or of a CA that opens nothing there.
CSV_RECORD = 'certificate_authority'


def collect(results):
    """[row] over {host: audit result}, each row with its ``host``."""
    rows = []
    for host in sorted(results):
        for row in (results[host] or {}).get('certificate_authorities') or []:
            rows.append(dict(row, host=host))
    return rows


def summary(rows, results):
    return {
        'certificate_authorities': len(set((row['host'], row['fingerprint']) for row in rows)),
        'accounts_open_to_certificates': sum(((results[host] or {}).get('summary') or {}).get(
            'accounts_open_to_certificates', 0) for host in results),
    }


def opens(account):
    """Whether a certificate of a trusted, unrevoked CA can log in to the audited ``account``."""
    return bool((account.get('certificates') or {}).get('can_log_in'))


def account_notes(account):
    """The account's certificate access in words, for the report's account view."""
    view = account.get('certificates') or {}
    if view.get('can_log_in'):
        return ['certificates of %d CA%s log in with principals %s (%s)' % (
            len(view['authorities']), '' if len(view['authorities']) == 1 else 's',
            ', '.join(view['principals']), view['principals_from'])]
    if view.get('status') == 'not audited' and view.get('authorities'):
        return ['certificate access not audited: %s' % view.get('reason')]
    return []


def _principals_text(item):
    if item['principals'] is None:
        return 'principals not audited (%s)' % item['principals_from']
    return '%s (%s)' % (', '.join(item['principals']) or 'none', item['principals_from'])


def _revoked_certificates_text(row):
    """What the KRL revokes of the CA's certificates, or ''."""
    parts = []
    if row.get('revoked_serials'):
        parts.append('serials %s' % ', '.join(row['revoked_serials']))
    if row.get('revoked_key_ids'):
        parts.append('key ids %s' % ', '.join(row['revoked_key_ids']))
    if row.get('revocation_list_error'):
        parts.append(row['revocation_list_error'])
    return '; revoked certificates: %s' % '; '.join(parts) if parts else ''


def csv_rows(report):
    """Rows for the CSV (dicts of CSV_COLUMNS names): one per account a CA opens."""
    for row in report.get('certificate_authorities') or []:
        notes = [row['revoked']] if row['revoked'] else []
        if _revoked_certificates_text(row):
            notes.append(_revoked_certificates_text(row).lstrip('; '))
        base = {'record': CSV_RECORD, 'host': row['host'], 'fingerprint': row['fingerprint'], 'type': row['type'],
                'bits': row['bits'], 'comment': row['comment'], 'file': row['source'],
                'accepted': not row['revoked'], 'refused_reasons': notes}
        if not row['accounts']:
            yield base
        for item in row['accounts']:
            yield dict(base, user=item['user'], options='principals: %s' % _principals_text(item))


def html_section(report, esc):
    """The HTML table of the CA rows."""
    out = ['<h2>Certificate authorities</h2><p class="meta">User CAs sshd trusts (TrustedUserCAKeys, '
           'cert-authority lines) and the accounts their certificates open, with the principals a certificate '
           'must name.</p>']
    if not report.get('certificate_authorities'):
        out.append('<p class="empty" id="certificate-authorities-empty">No certificate authorities are trusted.</p>')
        return ''.join(out)
    out.append('<table id="certificate-authorities" class="searchable"><thead><tr><th>host</th>'
               '<th>CA fingerprint</th><th>key</th><th>source</th><th>status</th><th>opens (account: principals)</th>'
               '</tr></thead><tbody>')
    for row in report.get('certificate_authorities') or []:
        opens = ['%s: %s' % (item['user'], _principals_text(item)) for item in row['accounts']]
        status = 'revoked: %s' % row['revoked'] if row['revoked'] else ('trusted' if opens else 'opens no account')
        status += _revoked_certificates_text(row)
        out.append('<tr data-search="%s" data-fingerprint="%s"><td>%s</td><td class="fp">%s</td><td>%s %s %s</td>'
                   '<td>%s</td><td>%s</td><td>%s</td></tr>' % (
                       esc(' '.join([row['host'], row['fingerprint'], row['comment'] or '', status] + opens).lower()),
                       esc(row['fingerprint']), esc(row['host']), esc(row['fingerprint']), esc(row['type']),
                       esc(row['bits']), esc(row['comment']), esc(row['source']), esc(status),
                       '<br>'.join(esc(item) for item in opens)))
    out.append('</tbody></table>')
    return ''.join(out)
