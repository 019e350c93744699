# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's evidence sections: every value an account controls is escaped; unknown usage is not "unused"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import report_evidence

REPORT = {
    'usage': {'web1': {'complete': True, 'sources': [
        {'path': '/var/log/auth.log"><evil-path>', 'status': 'read', 'logins': 1, 'bytes_read': 10}]}},
    'policy': {'rules': {'max_unused_days': 90}, 'violations': [
        {'host': 'web1', 'user': 'alice', 'rule': 'unused', 'fingerprint': 'SHA256:k', 'file': '/h/ak', 'line': 2,
         'message': 'key commented <evil-message>', 'fix': 'remove it'}]},
    'key_map': {'collected': True, 'authorized_without_private': [], 'private_keys': [
        {'host': 'web1', 'user': 'alice', 'path': '/home/alice/<evil-key>', 'text': 'web1:/home/alice/<evil-key>',
         'fingerprint': 'SHA256:k', 'encrypted': None, 'opens': ['root@web1'], 'flags': []}]},
}


def test_html_escapes_what_accounts_and_files_name():
    html = report_evidence.render_evidence_html(REPORT)
    for raw in ('"><evil-path>', '<evil-message>', '<evil-key>'):
        assert raw not in html
    assert 'data-search="web1 /var/log/auth.log&quot;&gt;&lt;evil-path&gt; read"' in html
    assert '<svg' in html and '/home/alice/&lt;evil-key&gt;<title>' in html


def test_usage_that_could_not_be_read_is_not_never():
    assert report_evidence.last_used_text({'uses': 0, 'unused': True}) == 'never in the logs read'
    assert report_evidence.last_used_text({'uses': 0, 'unused': None}) == 'unknown (logs not fully read)'
    assert report_evidence.last_used_text({}) == ''
    assert report_evidence.last_used_text({'uses': 2, 'last_used': 'x', 'used_from': ['1.1.1.1']}).startswith('x (2 logins')
