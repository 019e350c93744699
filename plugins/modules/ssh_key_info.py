#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_key_info
short_description: List the SSH keys in an account's C(~/.ssh)
version_added: 0.1.0
description:
  - Lists the SSH keys of a user account, as cPanel's C(SSH::listkeys) does, or fetches one key by name
    (cPanel's C(SSH::fetchkey)).
  - A key is a file C(NAME.pub) holding a public key and/or a file C(NAME) holding a private key
    (OpenSSH, PKCS#1 or PKCS#8 PEM). C(authorized_keys), C(known_hosts), C(config) and the other reserved
    names, certificates (C(*-cert.pub)) and PuTTY files (C(*.ppk)) are not keys of their own.
  - For each key the module reports its public data, fingerprints, whether the private key is
    protected by a passphrase and whether the public key is in C(authorized_keys).
  - The module only reads. It never returns private key material and never follows symbolic
    links unless O(follow=true); a symbolic link in the directory is skipped with a warning.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
  - keysmith.accounts.attributes
  - keysmith.accounts.attributes.info_module
options:
  name:
    description:
      - Return only the key with this file name (in O(path)).
      - When there is no such key, RV(keys) is empty and RV(msg) says so; that is not an error.
    type: str
  path:
    description:
      - The directory to list. Defaults to the account's C(~/.ssh).
    type: path
  authorized_keys_path:
    description:
      - The C(authorized_keys) file that RV(keys[].authorized) is checked against.
      - Defaults to the account's C(~/.ssh/authorized_keys). A missing file authorizes no key.
    type: path
seealso:
  - module: keysmith.accounts.ssh_genkey
    description: Generates, imports, exports (PuTTY) and removes the keys listed here.
  - name: cPanel API 2 SSH::listkeys
    description: The API this module follows.
    link: https://api.docs.cpanel.net/cpanel-api-2/cpanel-api-2-modules-ssh/cpanel-api-2-functions-ssh-listkeys/
'''

EXAMPLES = r'''
- name: List alice's SSH keys
  keysmith.accounts.ssh_key_info:
    user: alice
  become: true
  register: alice_keys

- name: Show the fingerprints of the keys that can log in
  ansible.builtin.debug:
    msg: "{{ alice_keys['keys'] | selectattr('authorized') | map(attribute='fingerprint') | list }}"

- name: Fetch one public key
  keysmith.accounts.ssh_key_info:
    user: alice
    name: id_ed25519
  register: deploy_key

- name: Hand it to another host
  keysmith.accounts.ssh_authkey:
    user: deploy
    key: "{{ deploy_key.public_key }}"
  delegate_to: git.example.com
  become: true
  when: deploy_key['keys'] | length > 0
'''

RETURN = r'''
keys:
  description: The keys, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The key's file name.
      type: str
      sample: id_ed25519
    path:
      description: The private key file (which may not exist, see RV(keys[].has_private_key)).
      type: str
      sample: /home/alice/.ssh/id_ed25519
    public_key_path:
      description: The public key file, V(null) when there is none.
      type: str
      sample: /home/alice/.ssh/id_ed25519.pub
    public_key:
      description:
        - The public key line, from C(NAME.pub), else derived from the private key (possible for
          OpenSSH format keys, and PEM keys without a passphrase). V(null) when unknown.
      type: str
      sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ alice@example.com
    type:
      description: The key type (V(null) when the public key is unknown).
      type: str
      sample: ed25519
    size:
      description: The key size in bits.
      type: int
      sample: 256
    comment:
      description: The public key's comment.
      type: str
      sample: alice@example.com
    fingerprint:
      description: The SHA256 fingerprint, as C(ssh-keygen -l) prints it.
      type: str
      sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
    fingerprint_md5:
      description: The MD5 fingerprint in colon-separated hex.
      type: str
      sample: 89:7b:05:97:f7:93:ef:66:95:48:d3:de:e1:0d:21:3f
    has_private_key:
      description: Whether the private key file C(NAME) exists.
      type: bool
      sample: true
    has_passphrase:
      description: Whether the private key is protected by a passphrase; V(null) when there is no private key.
      type: bool
      sample: true
    has_ppk:
      description: Whether a PuTTY key file C(NAME.ppk) exists.
      type: bool
      sample: false
    authorized:
      description: Whether the public key is in the C(authorized_keys) file (O(authorized_keys_path)).
      type: bool
      sample: true
public_key:
  description: The public key line of the key O(name).
  returned: when O(name) is set and the key exists
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ alice@example.com
path:
  description: The directory listed.
  returned: always
  type: str
  sample: /home/alice/.ssh
user:
  description: The account.
  returned: always
  type: str
  sample: alice
msg:
  description: What was found.
  returned: always
  type: str
  sample: Found 2 keys in /home/alice/.ssh.
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import ACCOUNT_OPTIONS
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = KeyInfoSpec(account, name=params['name'], path=params['path'],
                       authorized_keys_path=params['authorized_keys_path'], follow=params['follow'])
    return SshKeyInfo(spec)


def main():
    argument_spec = dict(
        name=dict(type='str'),
        path=dict(type='path'),
        authorized_keys_path=dict(type='path'),
    )
    argument_spec.update(ACCOUNT_OPTIONS)
    module = KeysmithModule(argument_spec=argument_spec, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
