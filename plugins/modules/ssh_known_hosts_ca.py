#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_known_hosts_ca
short_description: Trust a host CA in known_hosts (C(@cert-authority) lines)
version_added: 0.1.0
description:
  - Writes the C(@cert-authority) line of a host CA in the system C(/etc/ssh/ssh_known_hosts) or in an account's
    C(~/.ssh/known_hosts), so that ssh verifies hosts by their host certificates (see
    M(keysmith.accounts.sshd_trust) O(keysmith.accounts.sshd_trust#module:host_certificates)) instead of trust on
    first use; with C(StrictHostKeyChecking yes) a host without such a certificate is refused.
  - The CA's line is found by its key (whatever its comment); its host patterns are set to O(hosts), and a later
    copy of the line is removed. Every other line is kept as it is.
  - The system file is root's (mode C(0644)); an account's file is the account's, reached through the
    collection's safe file layer (no symbolic link followed). Writes are atomic; an account's file is written
    under the C(flock) on its directory that M(keysmith.accounts.ssh_authkey) takes (see O(lock_timeout)).
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.attributes
  - keysmith.accounts.trust_file_lock
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the C(@cert-authority) lines before and after.
options:
  key:
    description:
      - The host CA's public key (one OpenSSH public key line).
    type: str
    required: true
  hosts:
    description:
      - The host patterns the CA vouches for (C(*.example.com), C([10.0.0.5]:2222), C(!bastion.example.com)).
      - Required with O(state=present).
    type: list
    elements: str
  path:
    description:
      - The known_hosts file. Default C(/etc/ssh/ssh_known_hosts), or C(~/.ssh/known_hosts) of O(user).
    type: str
  user:
    description:
      - The account whose C(~/.ssh/known_hosts) is written (a O(path) starting with C(~/) is below its home).
    type: str
  home:
    description:
      - The account's home, instead of the one in the password database.
    type: path
  comment:
    description:
      - The comment after the key. Default the comment of O(key).
    type: str
  state:
    description:
      - V(absent) removes the CA's C(@cert-authority) lines.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: keysmith.accounts.sshd_trust
    description: Host certificates on the servers.
  - name: sshd(8) SSH_KNOWN_HOSTS FILE FORMAT
    description: The C(@cert-authority) marker.
    link: https://man.openbsd.org/sshd#SSH_KNOWN_HOSTS_FILE_FORMAT
'''

EXAMPLES = r'''
- name: Every host of the fleet is verified by its host certificate
  keysmith.accounts.ssh_known_hosts_ca:
    hosts: ["*.example.com", "10.20.*"]
    key: "{{ lookup('ansible.builtin.file', 'ca/host_ca.pub') }}"
  become: true

- name: Only for the deploy account
  keysmith.accounts.ssh_known_hosts_ca:
    user: deploy
    hosts: ["git.example.com"]
    key: "{{ lookup('ansible.builtin.file', 'ca/host_ca.pub') }}"
  become: true
'''

RETURN = r'''
path:
  description: The known_hosts file.
  returned: always
  type: str
  sample: /etc/ssh/ssh_known_hosts
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
  sample: ["create /etc/ssh/ssh_known_hosts (added @cert-authority line of SHA256:...)"]
line:
  description: The C(@cert-authority) line (null with O(state=absent)).
  returned: always
  type: str
  sample: "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ host-ca"
fingerprint:
  description: The SHA256 fingerprint of the CA key.
  returned: always
  type: str
  sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Locks
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import LOCKING, SSH_KNOWN_HOSTS_CA, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.known_hosts import KnownHostsCA, KnownHostsCASpec


def build(module):
    params = module.params
    account = None
    if params['user'] is not None or params['home'] is not None:
        account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    return KnownHostsCA(KnownHostsCASpec(params['key'], hosts=params['hosts'], path=params['path'], account=account,
                                         state=params['state'], comment=params['comment']),
                        locks=Locks(params['lock_timeout']))


def main():
    # lock_timeout: the wait for the flock on an in-home file's directory (ssh_authkey's option)
    module = module_spec(SSH_KNOWN_HOSTS_CA, LOCKING).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
