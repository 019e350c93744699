#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssl_csr_info
short_description: List the TLS keys and certificate signing requests of an account's C(~/ssl)
version_added: 0.1.0
description:
  - Lists the CSRs in C(~/ssl/csrs/*.csr) and the private keys in C(~/ssl/keys/*.key) of a user account,
    as cPanel's C(listcsrs) and C(listkeys) do, with their subject, subjectAltNames, key type and size,
    and whether each CSR matches one of the keys.
  - A file that cannot be read (not a CSR or key, an encrypted key without O(key_passphrase), a symbolic
    link) is listed with an RV(keys[].error) or RV(csrs[].error) text instead of failing the task.
  - Changes nothing. Private keys and challenge passwords are never returned.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
  - keysmith.accounts.attributes
  - keysmith.accounts.attributes.info_module
options:
  path:
    description:
      - The certificate directory to read instead of C(~/ssl) (its C(keys) and C(csrs) subdirectories).
    type: path
  host:
    description:
      - Only list the key and CSR of this host (C(HOST.key), C(HOST.csr)).
    type: str
  key_passphrase:
    description:
      - A passphrase tried on encrypted keys, so that their type, size and fingerprint can be shown.
    type: str
requirements:
  - Python C(cryptography) on the target.
seealso:
  - module: keysmith.accounts.ssl_genkey
  - module: keysmith.accounts.ssl_gencsr
'''

EXAMPLES = r'''
- name: List alice's keys and CSRs
  keysmith.accounts.ssl_csr_info:
    user: alice
  become: true
  register: ssl

- name: CSRs without a key
  ansible.builtin.debug:
    msg: "{{ ssl.csrs | rejectattr('matches_key') | map(attribute='path') | list }}"

- name: The CSR of one host
  keysmith.accounts.ssl_csr_info:
    user: alice
    host: www.example.com
  register: www
'''

RETURN = r'''
path:
  description: The certificate directory read.
  returned: always
  type: str
  sample: /home/alice/ssl
user:
  description: The account.
  returned: always
  type: str
  sample: alice
keys:
  description: The private keys in C(keys/), sorted by file name.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The key file.
      type: str
      sample: /home/alice/ssl/keys/www.example.com.key
    host:
      description: The host, from the file name.
      type: str
      sample: www.example.com
    type:
      description: V(rsa), V(ecdsa) or V(ed25519); null when the key cannot be read.
      type: str
      sample: rsa
    size:
      description: The key size in bits; null when the key cannot be read.
      type: int
      sample: 2048
    fingerprint:
      description: SHA-256 of the DER public key, colon-separated hex; null when the key cannot be read.
      type: str
      sample: "cd:f8:7f:02:...:c4:39"
    encrypted:
      description: Whether the key file is protected by a passphrase.
      type: bool
      sample: false
    mode:
      description: The file's mode, in octal.
      type: str
      sample: '0600'
    csrs:
      description: The CSRs in C(csrs/) made for this key.
      type: list
      elements: str
      sample: [/home/alice/ssl/csrs/www.example.com.csr]
    error:
      description: Why the key cannot be read, or null.
      type: str
      sample: null
csrs:
  description: The CSRs in C(csrs/), sorted by file name.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The CSR file.
      type: str
      sample: /home/alice/ssl/csrs/www.example.com.csr
    host:
      description: The host, from the file name.
      type: str
      sample: www.example.com
    subject:
      description: The subject's fields by short name (C, ST, L, O, OU, CN, emailAddress).
      type: dict
      sample: {"C": "US", "ST": "Texas", "L": "Houston", "O": "Example", "CN": "www.example.com"}
    subject_string:
      description: The subject as C(openssl req -text) prints it.
      type: str
      sample: "C = US, ST = Texas, L = Houston, O = Example, CN = www.example.com"
    subject_alt_names:
      description: The subjectAltName entries.
      type: list
      elements: str
      sample: ["DNS:www.example.com"]
    key_type:
      description: The type of the CSR's public key.
      type: str
      sample: rsa
    key_size:
      description: The size of the CSR's public key in bits.
      type: int
      sample: 2048
    key_fingerprint:
      description: SHA-256 of the CSR's DER public key, colon-separated hex.
      type: str
      sample: "cd:f8:7f:02:...:c4:39"
    digest:
      description: The signature digest (null for ed25519).
      type: str
      sample: sha256
    signature_valid:
      description: Whether the CSR's self-signature is valid.
      type: bool
      sample: true
    challenge_password:
      description: Whether the CSR carries a challenge password (its value is never returned).
      type: bool
      sample: false
    matches_key:
      description: Whether one of the keys in C(keys/) is the CSR's key.
      type: bool
      sample: true
    key_path:
      description: The matching key file, or null.
      type: str
      sample: /home/alice/ssl/keys/www.example.com.key
    csr:
      description: The CSR in PEM format.
      type: str
      sample: "-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----\n"
    error:
      description: Why the CSR cannot be read, or null.
      type: str
      sample: null
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import ACCOUNT_OPTIONS
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.info import InfoSpec, SslInfo


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = InfoSpec(account, path=params['path'], host=params['host'],
                    key_passphrase=params['key_passphrase'], follow=params['follow'])
    return SslInfo(spec)


def main():
    argument_spec = dict(
        path=dict(type='path'),
        host=dict(type='str'),
        key_passphrase=dict(type='str', no_log=True),
    )
    argument_spec.update(ACCOUNT_OPTIONS)
    module = KeysmithModule(argument_spec=argument_spec, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
