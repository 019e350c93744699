# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's certificate authority rows: escaped in HTML, a revoked CA never shown as trusted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import certificate_report
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.report_evidence import esc


def ca_row(revoked=None, comment='ca <evil-comment>', user='deploy<evil-user>'):
    return {'host': 'web1', 'fingerprint': 'SHA256:ca', 'type': 'ed25519', 'bits': 256, 'comment': comment,
            'source': '/etc/ssh/ca.pub', 'revoked': revoked,
            'accounts': [{'user': user, 'principals': ['ops<evil-principal>'], 'principals_from': 'key id'}]}


def test_html_escapes_what_accounts_and_files_name():
    html = certificate_report.html_section({'certificate_authorities': [ca_row()]}, esc)
    for raw in ('<evil-comment>', '<evil-user>', '<evil-principal>'):
        assert raw not in html
    assert 'ca &lt;evil-comment&gt;' in html and 'ops&lt;evil-principal&gt;' in html
    assert '>trusted<' in html


def test_a_revoked_ca_is_not_shown_trusted():
    report = {'certificate_authorities': [ca_row(revoked='in /etc/ssh/revoked')]}
    html = certificate_report.html_section(report, esc)
    assert 'revoked: in /etc/ssh/revoked' in html and '>trusted<' not in html
    rows = list(certificate_report.csv_rows(report))
    assert rows and all(row['accepted'] is False and row['refused_reasons'] == ['in /etc/ssh/revoked'] for row in rows)
    assert all(row['accepted'] is True for row in certificate_report.csv_rows({'certificate_authorities': [ca_row()]}))
