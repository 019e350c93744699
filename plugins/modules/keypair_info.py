#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: keypair_info
short_description: List the key pairs of the registry on the target, or get one by name or id
version_added: 0.1.0
description:
  - Returns the entries of the key pair registry managed by M(keysmith.accounts.keypair), like the CFEngine
    SSH keys API's list and get calls - all of them, or the one matching O(name) or O(id).
  - A key pair that does not exist (or a registry that does not exist) gives an empty list and a C(msg)
    saying so; it is not an error.
  - The registry holds public data only; no private key is ever returned.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.attributes
  - keysmith.accounts.attributes.info_module
options:
  name:
    description:
      - Only the key pair with this name (1 to 25 letters, digits or V(_)).
      - Mutually exclusive with O(id).
    type: str
  id:
    description:
      - Only the key pair with this id (V(skey-) and 8 lowercase letters or digits).
      - Mutually exclusive with O(name).
    type: str
  registry:
    description:
      - The registry directory on the target.
    type: path
    default: /var/lib/keysmith/keypairs
notes:
  - An entry file that cannot be read is skipped with a warning when listing.
seealso:
  - module: keysmith.accounts.keypair
    description: Creates, imports and removes the key pairs.
  - name: CFEngine Enterprise SSH keys API
    description: The list and get calls whose fields RV(keypairs) follows.
    link: https://docs.cfengine.com/docs/lts/reference-enterprise-api-ref-ssh-keys.html
'''

EXAMPLES = r'''
- name: List all key pairs
  keysmith.accounts.keypair_info:
  register: all_keypairs

- name: Show their names and ids
  ansible.builtin.debug:
    msg: "{{ all_keypairs.keypairs | items2dict(key_name='name', value_name='id') }}"

- name: Get one key pair by id
  keysmith.accounts.keypair_info:
    id: skey-mv9yzyjj
  register: one

- name: Authorize its public key for alice
  keysmith.accounts.ssh_authkey:
    user: alice
    key: "{{ one.keypairs[0].public_key }}"
  when: one.keypairs | length > 0
'''

RETURN = r'''
keypairs:
  description:
    - The key pairs, sorted by name; all of them, or the one matching O(name) or O(id) (an empty list when
      there is none).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id, V(skey-) and 8 lowercase letters or digits.
      type: str
      sample: skey-mv9yzyjj
    name:
      description: The name.
      type: str
      sample: deploy_key
    public_key:
      description: The public key line.
      type: str
      sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ generated-by-keysmith
    fingerprint:
      description: The SHA256 fingerprint, as C(ssh-keygen -l) prints it.
      type: str
      sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
    type:
      description: The key type.
      type: str
      sample: ed25519
    size:
      description: The key size in bits.
      type: int
      sample: 256
    comment:
      description: The public key's comment.
      type: str
      sample: generated-by-keysmith
    source:
      description: V(generated) or V(imported).
      type: str
      sample: generated
    generated_by:
      description: The user that generated or imported the key.
      type: str
      sample: root
    generated_at:
      description: When the key was generated or imported, UTC, ISO 8601.
      type: str
      sample: "2024-05-01T12:00:00Z"
registry:
  description: The registry directory.
  returned: always
  type: str
  sample: /var/lib/keysmith/keypairs
msg:
  description: What was found, in words (for example that no key pair matches).
  returned: always
  type: str
  sample: No key pair named deploy_key in /var/lib/keysmith/keypairs.
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import KEYPAIR_INFO, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import KeypairInfo


def build(module):
    params = module.params
    return KeypairInfo(registry=params['registry'], name=params['name'], key_id=params['id'])


def main():
    module = module_spec(KEYPAIR_INFO).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
