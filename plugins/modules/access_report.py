#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: access_report
short_description: Write the fleet SSH access report (JSON, CSV, HTML) from authorized_keys_info results
version_added: 0.1.0
description:
  - Takes the results of M(keysmith.accounts.authorized_keys_info) of many hosts and writes, in O(dest),
    C(NAME.json) (the whole report), C(NAME.csv) and C(NAME.html), a self-contained page with a summary,
    inline SVG charts, a searchable key table, a reverse index from each fingerprint to every host and
    account it opens, the per-account view and the managed keys found nowhere.
  - The CSV has one row per record; its C(record) column says which - V(key) (a key line), V(managed_missing)
    (a key of C(managed_keys) found on no line of the host, with C(host) and C(fingerprint); C(managed) is
    V(missing)), V(account) (every audited account, also without keys, with C(keys), C(accepted_keys),
    C(can_log_in) and the reasons in C(refused_reasons)) or V(certificate_authority) (a user CA sshd trusts and one
    account it opens - the CA's fingerprint, key and source in C(file), the principals in C(options), why it is
    revoked and the certificates the KRL revokes in C(refused_reasons)).
  - The page's C(Certificate authorities) table lists, per host, every user CA sshd trusts (C(TrustedUserCAKeys),
    C(cert-authority) lines) and the accounts its certificates open with the principals they must name; an account
    a certificate opens can log in (C(can_log_in)) even without a key.
  - A key line is a duplicate when its key is on at least one other key line of the fleet; C(duplicates)
    counts those lines (the same meaning as M(keysmith.accounts.authorized_keys_info), whose scope is one
    host). Where else a key is comes from the fingerprint index, never from a per-line list.
  - Meant to run once on the controller (C(delegate_to=localhost), C(run_once=true)); the
    M(keysmith.accounts.access_report) role and the C(keysmith.accounts.access_report) playbook do that.
  - In C(NAME.csv) a cell that a spreadsheet would read as a formula (it starts with C(=), C(+), C(-), C(@),
    a tab or a carriage return; comments and options are written by account owners) starts with C(')
    so that it is shown as text.
  - A file is rewritten only when its content differs; the report carries its generation time, so a
    new run normally reports a change.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode computes the report and writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  results:
    description:
      - The M(keysmith.accounts.authorized_keys_info) results by host name. A result with C(failed) or
        C(unreachable) is listed as a failed host.
    type: dict
    required: true
  dest:
    description: The directory to write the files in (created when missing).
    type: path
    required: true
  name:
    description: The file name stem of the report files.
    type: str
    default: access_report
  title:
    description: The title of the HTML page.
    type: str
    default: SSH access report
  formats:
    description: Which files to write.
    type: list
    elements: str
    choices: [json, csv, html]
    default: [json, csv, html]
  policy:
    description:
      - Key policy rules checked over the fleet; the violations are in RV(policy_violations), the report's
        C(policy) section, its HTML table and the CSV's C(violations) column. Each rule is off unless given.
      - C(root_requires_from) (bool) - a key sshd accepts for root (uid 0) needs C(from=);
        C(root_requires_restriction) (bool) - and C(restrict) or C(command=);
        C(max_key_age_days) (int) - no key older; its age is a lower bound, the larger of the time since its first
        login in the logs read (the usage evidence of M(keysmith.accounts.authorized_keys_info)) and the time since the
        C(ctime) of the file holding it (RV(keysmith.accounts.authorized_keys_info#module:accounts[].files[].ctime));
        the violation says which;
        C(max_accounts_per_key) (int) - one key opens at most this many accounts of the fleet;
        C(min_rsa_bits), C(min_ecdsa_bits) (int); C(allowed_types) (list of key families such as V(ed25519));
        C(max_unused_days) (int) - no login for that many days, judged only where the usage evidence is complete
        and its C(since) reaches that far back (such keys are also in RV(stale_keys));
        C(forbid_unencrypted_root_keys) (bool) - no private key without passphrase on an audited host that opens root
        (needs O(keysmith.accounts.authorized_keys_info#module:private_keys)).
    type: dict
  generated_at:
    description:
      - The generation time written in the report (default now, UTC). Set it to make a rerun on the same
        data change nothing.
    type: str
seealso:
  - module: keysmith.accounts.authorized_keys_info
  - name: The access audit guide
    description: What every field of the report means.
    link: https://github.com/keysmith/accounts/blob/main/docs/guides/access_audit.md
'''

EXAMPLES = r'''
- name: Audit every host
  keysmith.accounts.authorized_keys_info:
  become: true
  register: access

- name: Write the report on the controller
  keysmith.accounts.access_report:
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'access'))) }}"
    dest: "{{ playbook_dir }}/reports"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
summary:
  description: Counts over the fleet.
  returned: always
  type: dict
  contains:
    hosts: {description: Hosts in the report., type: int}
    hosts_failed: {description: Hosts whose audit failed or that were unreachable., type: int}
    accounts: {description: Accounts audited., type: int}
    accounts_that_can_log_in: {description: 'Accounts with at least one key sshd accepts, or opened by a certificate.', type: int}
    accounts_login_refused: {description: Accounts sshd refuses whatever the key (account state)., type: int}
    keys: {description: Key lines., type: int}
    distinct_keys: {description: Different keys (fingerprints)., type: int}
    accepted: {description: Key lines sshd accepts., type: int}
    weak: {description: Weak key lines., type: int}
    unmanaged: {description: Key lines not in managed_keys., type: int}
    ignored: {description: Key lines sshd does not accept., type: int}
    expired: {description: Key lines whose expiry-time has passed., type: int}
    duplicates: {description: 'Duplicate key lines: lines whose key is on at least one other line of the fleet.', type: int}
    managed_missing: {description: '(host, fingerprint) pairs of managed keys found on no line of the host.', type: int}
    files_ignored: {description: Existing authorized_keys files sshd does not use., type: int}
    certificate_authorities: {description: '(host, CA) pairs of user CAs sshd trusts.', type: int}
    accounts_open_to_certificates: {description: Accounts a certificate of a trusted CA can log in to., type: int}
    keys_not_listed:
      description:
        - Key lines the audit counted but neither judged nor listed (over its O(keysmith.accounts.authorized_keys_info#module:max_keys));
          their accounts are C(incomplete) and the report says why. 0 normally.
      type: int
paths:
  description: The files written, by format.
  returned: always
  type: dict
  sample: {json: /srv/reports/access_report.json, csv: /srv/reports/access_report.csv, html: /srv/reports/access_report.html}
policy_violations:
  description:
    - One entry per violation of O(policy) - C(host), C(user), C(fingerprint), C(file), C(line), C(rule), C(message)
      and C(fix) (what brings it back within the policy).
  returned: always
  type: list
  elements: dict
stale_keys:
  description:
    - Keys that violate C(max_unused_days) of O(policy), by host and account - a list of SHA256 fingerprints
      (for C(access_cleanup)).
  returned: always
  type: dict
  sample: {web1: {deploy: ["SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc"]}}
failed_hosts:
  description: Hosts whose audit failed.
  returned: always
  type: list
  elements: str
msg:
  description: The summary in words.
  returned: always
  type: str
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import AccessReport


def build(module):
    params = module.params
    return AccessReport(params['results'], params['dest'], name=params['name'], title=params['title'],
                        formats=params['formats'], generated_at=params['generated_at'], policy=params['policy'])


def main():
    argument_spec = dict(
        results=dict(type='dict', required=True),
        dest=dict(type='path', required=True),
        name=dict(type='str', default='access_report'),
        title=dict(type='str', default='SSH access report'),
        formats=dict(type='list', elements='str', choices=['json', 'csv', 'html'], default=['json', 'csv', 'html']),
        generated_at=dict(type='str'),
        policy=dict(type='dict'),
    )
    module = KeysmithModule(argument_spec=argument_spec, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
