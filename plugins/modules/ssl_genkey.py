#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssl_genkey
short_description: Generate a TLS private key for a host in an account's C(~/ssl/keys), declaratively
version_added: 0.1.0
description:
  - Generates the TLS private key of a host for a user account, in the place cPanel keeps it,
    C(~/ssl/keys/HOST.key), idempotently. A wildcard host C(*.example.com) is stored as
    C(~/ssl/keys/_wildcard_.example.com.key).
  - The key is written in the PKCS#8 PEM format, encrypted when O(passphrase) is given, with mode
    V(0600) and owned by the account. C(~/ssl) and C(~/ssl/keys) are created with mode V(0700) when missing.
  - An existing key that matches O(type), O(size) and O(passphrase) is left alone (its mode and owner are
    fixed). When it does not match, O(regenerate) decides what happens.
  - This key is what M(keysmith.accounts.ssl_gencsr) signs a CSR for the host with.
  - Private keys and passphrases never appear in the results, the diff or the logs.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
attributes:
  check_mode:
    support: full
    details: Check mode reads the current key and reports exactly what a real run would change.
  diff_mode:
    support: full
    details: The diff shows the key type, size, whether it is encrypted and its public key fingerprint.
  platform:
    platforms: posix
options:
  host:
    description:
      - The domain or subdomain the key is for (for example V(www.example.com) or V(*.example.com)).
      - The key file is C(~/ssl/keys/HOST.key). One of O(host) and O(path) is required.
    type: str
  path:
    description:
      - An absolute path for the key file instead of the default C(~/ssl/keys/HOST.key).
      - Directories below the account's home are created (mode V(0700)) when missing; outside the home the
        parent directory must exist.
    type: path
  type:
    description:
      - The type of key.
    type: str
    default: rsa
    choices: [rsa, ecdsa, ed25519]
  size:
    description:
      - The size of the key in bits.
      - V(rsa) defaults to V(2048) (cPanel's default); V(4096) is common; 2048 to 16384 are accepted.
      - V(ecdsa) takes V(256) (curve P-256, default) or V(384) (P-384). V(ed25519) is always V(256).
    type: int
    aliases: [bits]
  passphrase:
    description:
      - A passphrase that encrypts the key file. Omitted or empty means an unencrypted key, which is what
        web servers normally need.
      - At least 4 characters.
    type: str
  state:
    description:
      - V(present) makes sure the key exists; V(absent) removes the key file.
    type: str
    default: present
    choices: [present, absent]
  regenerate:
    description:
      - When an existing key is replaced by a new one, with the meanings of M(keysmith.accounts.ssh_genkey)
        and community.crypto's C(openssl_privatekey).
      - V(never) never replaces an existing key; it fails if the key cannot be read and only warns when it
        does not match the task.
      - V(fail) fails when the key does not match the task.
      - V(partial_idempotence) replaces a key that does not match the task (type, size). It fails, leaving the
        key untouched, when the key cannot be read or is not protected although the task gives a passphrase.
      - V(full_idempotence) also replaces a key that cannot be read, is protected by another passphrase, or
        is not protected although the task gives a passphrase.
      - V(always) generates a new key on every run.
      - Replacing a key makes the CSRs and certificates made for the old one useless.
    type: str
    default: partial_idempotence
    choices: [never, fail, partial_idempotence, full_idempotence, always]
requirements:
  - Python C(cryptography) on the target.
seealso:
  - module: keysmith.accounts.ssl_gencsr
  - module: keysmith.accounts.ssl_csr_info
  - name: cPanel UAPI SSL::generate_key
    description: The cPanel call that makes keys in C(~/ssl/keys).
    link: https://api.docs.cpanel.net/openapi/cpanel/operation/generate_key/
'''

EXAMPLES = r'''
- name: An rsa 2048 key for www.example.com in ~alice/ssl/keys
  keysmith.accounts.ssl_genkey:
    user: alice
    host: www.example.com
  become: true

- name: An ECDSA P-384 key for a wildcard
  keysmith.accounts.ssl_genkey:
    user: alice
    host: "*.example.com"
    type: ecdsa
    size: 384

- name: An encrypted rsa 4096 key at a custom place
  keysmith.accounts.ssl_genkey:
    user: alice
    path: /home/alice/private/shop.key
    size: 4096
    passphrase: "{{ vault_shop_key_passphrase }}"

- name: Remove a key
  keysmith.accounts.ssl_genkey:
    user: alice
    host: old.example.com
    state: absent
'''

RETURN = r'''
path:
  description: The key file.
  returned: always
  type: str
  sample: /home/alice/ssl/keys/www.example.com.key
host:
  description: The host, in lower case (null when only O(path) was given).
  returned: always
  type: str
  sample: www.example.com
user:
  description: The account.
  returned: always
  type: str
  sample: alice
state:
  description: The state asked for.
  returned: always
  type: str
  sample: present
actions:
  description: What the run did (in check mode, what it would do), in order. Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["create directory /home/alice/ssl/keys (0700)", "generate /home/alice/ssl/keys/www.example.com.key (rsa 2048)"]
type:
  description: The key type.
  returned: when O(state=present) and the key exists (not for a key that check mode would create)
  type: str
  sample: rsa
size:
  description: The key size in bits.
  returned: when RV(type) is returned
  type: int
  sample: 2048
encrypted:
  description: Whether the key file is protected by a passphrase.
  returned: when RV(type) is returned
  type: bool
  sample: false
fingerprint:
  description: SHA-256 of the DER public key, colon-separated hex; the same for the key's CSRs.
  returned: when RV(type) is returned
  type: str
  sample: "cd:f8:7f:02:97:3b:56:b7:7e:a3:c8:19:11:2d:38:20:26:db:a8:74:fa:2a:b9:b0:e7:9b:03:06:72:17:c4:39"
public_key:
  description: The public key in PEM format.
  returned: when RV(type) is returned
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import ACCOUNT, SSL_GENKEY, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = TlsKeySpec(
        account,
        host=params['host'],
        path=params['path'],
        key_type=params['type'],
        size=params['size'],
        passphrase=params['passphrase'],
        state=params['state'],
        regenerate=params['regenerate'],
        follow=params['follow'],
    )
    return TlsKey(spec)


def main():
    module = module_spec(SSL_GENKEY, ACCOUNT).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
