#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: sshd_trust
short_description: Make sshd trust SSH certificates through a checked drop-in
version_added: 0.1.0
description:
  - Writes an sshd drop-in (by default C(/etc/ssh/sshd_config.d/keysmith-trust.conf)) that sets
    C(TrustedUserCAKeys), C(RevokedKeys), C(HostCertificate), C(AuthorizedPrincipalsFile) and any other
    keyword given in O(settings), and the list of trusted user CA keys it names.
  - The drop-in is checked by sshd before it is put in place - C(sshd -t) of a temporary copy of O(sshd_config)
    whose C(Include) of the drop-in names the candidate instead - so a configuration sshd would reject is
    never installed. C(sshd -T) of the same copy says whether the values are in force (a value set in
    O(sshd_config) before its C(Include) wins); a warning says so when they are not, or when O(sshd_config)
    does not include O(path) at all.
  - What sshd only notices at login is checked too - O(revoked_keys) must exist and be readable (sshd refuses
    every key otherwise) and, for a KRL, a trusted CA key it revokes is named in a warning;
    O(host_certificates) must be host certificates.
  - Files are written atomically, owned by root, mode C(0644), through the collection's safe file layer.
    sshd is reloaded only when the drop-in changed (O(reload)).
  - Check mode and C(--diff) show the drop-in and the CA key list as they will be, and the reload.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.attributes
attributes:
  check_mode:
    support: full
    details: The drop-in is checked with sshd in check mode too; nothing is written or reloaded.
  diff_mode:
    support: full
    details: Shows the drop-in and the CA key list before and after.
options:
  path:
    description:
      - The drop-in. Its name must end in C(.conf) (Debian's and Fedora's C(sshd_config) include
        C(/etc/ssh/sshd_config.d/*.conf)).
    type: path
    default: /etc/ssh/sshd_config.d/keysmith-trust.conf
  state:
    description:
      - V(absent) removes the drop-in (the CA key list is left in place); the configuration without it is
        checked with sshd first.
    type: str
    choices: [present, absent]
    default: present
  trusted_user_ca_keys:
    description:
      - The public keys of the user CAs sshd trusts (C(TrustedUserCAKeys)), one OpenSSH public key line each.
      - Written to O(trusted_user_ca_keys_file), in this order, each key once.
      - Omit it to keep C(TrustedUserCAKeys) out of the drop-in (or to name an existing file with
        O(trusted_user_ca_keys_file)).
    type: list
    elements: str
  trusted_user_ca_keys_file:
    description:
      - Where the CA key list goes. Default C(/etc/ssh/keysmith_user_ca_keys.pub) when
        O(trusted_user_ca_keys) is given.
      - Without O(trusted_user_ca_keys), an existing file the drop-in names as it is.
    type: path
  revoked_keys:
    description:
      - C(RevokedKeys) - a KRL (see C(ssh-keygen -k)) or a list of public keys. It must exist (sshd refuses every
        key when it cannot read it); in check mode a missing one is a warning.
    type: path
  host_certificates:
    description:
      - C(HostCertificate) lines, each a host certificate of one of sshd's host keys.
      - Checked before anything is installed (in check mode too) - each must be a host certificate (not a user
        one), valid now (not expired, not yet to come), and certify the key of one of the C(HostKey) files
        C(sshd -T) of the candidate configuration lists (the private key's public half, as sshd reads it, else
        the C(.pub) beside it). sshd itself accepts a certificate of another key with only a log line and serves
        the host without it.
      - A host key that sshd reaches only through C(HostKeyAgent) (no C(HostKey) file to read) cannot be compared, so
        a certificate of it is refused.
    type: list
    elements: path
  authorized_principals_file:
    description:
      - C(AuthorizedPrincipalsFile), with sshd's tokens (for example C(/etc/ssh/auth_principals/%u)); see
        M(keysmith.accounts.ssh_principals) to write the files.
    type: str
  settings:
    description:
      - Other sshd keywords for the drop-in, as a dictionary of keyword to value (a string, a boolean or a list
        of words), written in keyword order. C(Include) and C(Match) are refused.
    type: dict
  sshd_config:
    description:
      - The main configuration sshd reads; the drop-in is checked as included from it.
    type: path
    default: /etc/ssh/sshd_config
  sshd_path:
    description:
      - The sshd binary. Default C(sshd) from C(PATH), C(/usr/sbin) or C(/usr/local/sbin).
    type: path
  reload:
    description:
      - How sshd is told to read the changed drop-in. V(service) reloads O(service_name) with C(systemctl reload)
        (or C(service NAME reload) without systemd); V(pid_file) sends C(SIGHUP) to the sshd whose pid is in
        O(pid_file) (after checking the process is an sshd); V(command) runs O(reload_command); V(none) does not
        reload (a warning says so).
    type: str
    choices: [service, pid_file, command, none]
    default: service
  service_name:
    description:
      - The service for O(reload=service). Default C(ssh) where a C(ssh) unit or init script exists (Debian,
        Ubuntu), else C(sshd).
    type: str
  pid_file:
    description:
      - The pid file of the sshd to signal with O(reload=pid_file).
    type: path
  reload_command:
    description:
      - The command (argument list, no shell) for O(reload=command).
    type: list
    elements: str
notes:
  - The check follows sshd's C(Include)s in place, also nested ones (an included file that includes O(path) is
    copied with that C(Include) naming the candidate), so the candidate is read where sshd will read the drop-in
    and the first value of a keyword wins as in sshd. C(Include) patterns may hold wildcards in their last path
    component only; an included file whose C(Include) has one in a directory name is taken as not including O(path).
  - C(TrustedUserCAKeys) and C(RevokedKeys) files are read by sshd at every login, so changing only the CA key
    list does not reload sshd; C(HostCertificate) is read when sshd starts or reloads.
seealso:
  - module: keysmith.accounts.ssh_principals
    description: The C(AuthorizedPrincipalsFile) of each account.
  - module: keysmith.accounts.ssh_known_hosts_ca
    description: C(@cert-authority) lines, so clients verify host certificates.
  - name: sshd_config(5)
    description: TrustedUserCAKeys, RevokedKeys, HostCertificate, AuthorizedPrincipalsFile.
    link: https://man.openbsd.org/sshd_config
'''

EXAMPLES = r'''
- name: Trust the user CA, enforce the KRL, serve a host certificate
  keysmith.accounts.sshd_trust:
    trusted_user_ca_keys:
      - "{{ lookup('ansible.builtin.file', 'ca/user_ca.pub') }}"
    revoked_keys: /etc/ssh/revoked_keys.krl
    host_certificates:
      - /etc/ssh/ssh_host_ed25519_key-cert.pub
    authorized_principals_file: /etc/ssh/auth_principals/%u
  become: true

- name: A test sshd started with -f, reloaded through its pid file
  keysmith.accounts.sshd_trust:
    path: /srv/sshd-test/sshd_config.d/trust.conf
    sshd_config: /srv/sshd-test/sshd_config
    trusted_user_ca_keys: ["{{ user_ca_public_key }}"]
    trusted_user_ca_keys_file: /srv/sshd-test/user_ca.pub
    reload: pid_file
    pid_file: /srv/sshd-test/sshd.pid
'''

RETURN = r'''
path:
  description: The drop-in.
  returned: always
  type: str
  sample: /etc/ssh/sshd_config.d/keysmith-trust.conf
state:
  description: O(state).
  returned: always
  type: str
  sample: present
actions:
  description: What was done (in check mode, what would be done).
  returned: always
  type: list
  elements: str
  sample:
    - create /etc/ssh/keysmith_user_ca_keys.pub (trusted user CA keys)
    - create /etc/ssh/sshd_config.d/keysmith-trust.conf (sshd drop-in, checked with sshd -t)
    - reload sshd (/usr/bin/systemctl reload ssh)
content:
  description: The drop-in's text (null with O(state=absent)).
  returned: always
  type: str
  sample: "TrustedUserCAKeys /etc/ssh/keysmith_user_ca_keys.pub\n"
trusted_user_ca_keys_file:
  description: The file C(TrustedUserCAKeys) names, if any.
  returned: always
  type: str
  sample: /etc/ssh/keysmith_user_ca_keys.pub
reloaded:
  description: Whether sshd was (in check mode, would be) reloaded.
  returned: always
  type: bool
  sample: true
checked_with:
  description: The sshd check the drop-in passed.
  returned: always
  type: str
  sample: /usr/sbin/sshd -t -f /etc/ssh/sshd_config
included:
  description: Whether O(sshd_config) includes O(path).
  returned: always
  type: bool
  sample: true
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import SSHD_TRUST
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.sshd_dropin import SshdTrust, TrustSpec


def build(module):
    params = module.params
    sshd_path = params['sshd_path'] or module.get_bin_path('sshd', opt_dirs=['/usr/sbin', '/usr/local/sbin'])
    spec = TrustSpec(path=params['path'], state=params['state'], trusted_user_ca_keys=params['trusted_user_ca_keys'],
                     trusted_user_ca_keys_file=params['trusted_user_ca_keys_file'],
                     revoked_keys=params['revoked_keys'], host_certificates=params['host_certificates'],
                     authorized_principals_file=params['authorized_principals_file'], settings=params['settings'],
                     sshd_config=params['sshd_config'], sshd_path=sshd_path, reload=params['reload'],
                     service_name=params['service_name'], pid_file=params['pid_file'],
                     reload_command=params['reload_command'])
    return SshdTrust(spec, module.run_command)


def main():
    module = SSHD_TRUST.create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
