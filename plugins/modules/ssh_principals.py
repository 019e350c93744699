#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_principals
short_description: Manage an account's AuthorizedPrincipalsFile (the certificate principals it accepts)
version_added: 0.1.0
description:
  - Writes the C(AuthorizedPrincipalsFile) of an account, the list of certificate principals sshd accepts for it
    (see M(keysmith.accounts.sshd_trust) to set C(AuthorizedPrincipalsFile) and the trusted CAs).
  - The file is read as sshd reads it - a C(#) ends a line, and a line with inner blanks is
    C(<options> <principal>); such lines and comments are kept. Principals missing from the file are added as
    lines of their own; with O(exclusive=true) lines of other principals are removed.
  - O(path) is sshd's pattern (C(%u), C(%h), C(%U), C(%%); relative to the home). A file below the home belongs
    to the account (mode C(0644)); any other file is root's, mode C(0644), and a missing directory is made
    C(root:root 0755). Files are written atomically through the collection's safe file layer; a file below the
    home under the C(flock) on its directory that M(keysmith.accounts.ssh_authkey) takes (see O(lock_timeout)).
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
    details: Shows the principals before and after.
options:
  user:
    description:
      - The account whose principals file is written. In check mode a missing user is assumed to be created by an
        earlier task.
    type: str
    required: true
  home:
    description:
      - The account's home, instead of the one in the password database (for C(%h) and relative paths).
    type: path
  principals:
    description:
      - The principals (names in a certificate's principals list) that may log in as O(user).
      - With O(state=absent), the principals to remove; none given removes the file.
    type: list
    elements: str
    default: []
  path:
    description:
      - The file, as sshd's C(AuthorizedPrincipalsFile) pattern. It must be the pattern sshd is configured with.
    type: str
    default: /etc/ssh/auth_principals/%u
  exclusive:
    description:
      - Remove the lines of principals not in O(principals).
    type: bool
    default: false
  state:
    description:
      - Whether O(principals) are in the file.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: keysmith.accounts.sshd_trust
    description: C(TrustedUserCAKeys) and C(AuthorizedPrincipalsFile) in an sshd drop-in.
  - module: keysmith.accounts.provision
    description: Principals of many accounts in one call (its C(principals) items).
'''

EXAMPLES = r'''
- name: Certificates for the dev team log in as the account (AuthorizedPrincipalsFile /etc/ssh/auth_principals/%u)
  keysmith.accounts.ssh_principals:
    user: deploy
    principals: [dev-team, deploy]
    exclusive: true
  become: true

- name: The same, with principals files in the homes (AuthorizedPrincipalsFile .ssh/authorized_principals)
  keysmith.accounts.ssh_principals:
    user: deploy
    path: .ssh/authorized_principals
    principals: [dev-team]
  become: true
'''

RETURN = r'''
path:
  description: The principals file (the pattern expanded).
  returned: always
  type: str
  sample: /etc/ssh/auth_principals/deploy
user:
  description: The account.
  returned: always
  type: str
  sample: deploy
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
  sample: ["create /etc/ssh/auth_principals/deploy (+dev-team, +deploy)"]
principals:
  description: The principals in the file after the task, in file order.
  returned: always
  type: list
  elements: str
  sample: [dev-team, deploy]
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Locks
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import LOCKING, SSH_PRINCIPALS, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.principals import (
    AuthorizedPrincipals,
    PrincipalsSpec,
)


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    return AuthorizedPrincipals(PrincipalsSpec(account, principals=params['principals'], path=params['path'],
                                               state=params['state'], exclusive=params['exclusive']),
                                locks=Locks(params['lock_timeout']))


def main():
    # lock_timeout: the wait for the flock on an in-home file's directory (ssh_authkey's option)
    module = module_spec(SSH_PRINCIPALS, LOCKING).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
