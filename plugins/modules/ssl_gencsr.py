#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssl_gencsr
short_description: Generate a certificate signing request for a host in an account's C(~/ssl/csrs)
version_added: 0.1.0
description:
  - Generates a certificate signing request (CSR) for a host of a user account, as cPanel's C(SSL::gencsr)
    does, with the same parameters and rules, but idempotently.
  - O(state) is the usual Ansible V(present)/V(absent); V(absent) removes the CSR. The state or province
    of the subject, which cPanel's API calls C(state), is O(province) (see the migration table in C(docs/migration.md)).
  - The CSR is signed with the host's private key, C(~/ssl/keys/HOST.key) by default, which must exist
    first (create it with M(keysmith.accounts.ssl_genkey)). When it does not, the task fails and writes nothing.
  - The CSR is written to C(~/ssl/csrs/HOST.csr) (a wildcard host C(*.example.com) to
    C(~/ssl/csrs/_wildcard_.example.com.csr)), mode V(0644) (V(0600) when it carries a O(password)),
    owned by the account; C(~/ssl/csrs) is created with mode V(0700) when missing.
  - The subject is C(C, ST, L, O, OU, CN, emailAddress) in this order (empty O(companydivision) and
    O(email) are left out), CN is O(host), and the subjectAltName extension lists O(host) first, then
    O(subject_alt_names).
  - An existing CSR with the same subject, subjectAltNames, public key, digest and challenge password
    (and a valid signature) is left alone; any difference generates a new one.
  - The challenge password and the private key never appear in the results, the diff or the logs.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the key and the current CSR and reports exactly what a real run would change.
      - When the key does not exist yet, check mode warns and reports a change (an earlier task, such as
        M(keysmith.accounts.ssl_genkey) in check mode, may create it); a real run fails.
  diff_mode:
    support: full
    details: The diff shows the subject, the subjectAltNames, the digest and the key fingerprint before and after.
  platform:
    platforms: posix
options:
  host:
    description:
      - The domain or subdomain the CSR is for; it becomes the common name (CN) and the first
        subjectAltName.
      - Letters, digits and hyphens in dot-separated labels (RFC 1123), at least two labels, optionally
        starting with V(*.) for a wildcard. IP addresses are not allowed. At most 64 characters (the
        limit of a CN).
    type: str
    required: true
  city:
    description:
      - The city or locality (L).
      - Required when O(state=present).
    type: str
  company:
    description:
      - The company or organization (O).
      - Required when O(state=present).
    type: str
  companydivision:
    description:
      - The division or organizational unit (OU). Empty leaves it out of the subject.
    type: str
    default: ''
  country:
    description:
      - The country (C) as exactly two letters, an ISO 3166-1 alpha-2 code such as V(US) or V(DE)
        (case does not matter). A full name such as V(United States), a three-letter code or an unassigned
        code (V(UK), use V(GB) instead) is an error.
      - Required when O(state=present).
    type: str
  province:
    description:
      - The state or province (ST) of the subject, spelled out in full, such as V(Texas).
      - An abbreviation (two letters such as V(TX), or two or three capital letters such as V(NSW)) is an error.
      - cPanel's C(SSL::gencsr) calls this field C(state).
      - Required when O(state=present).
    type: str
  state:
    description:
      - V(present) - the CSR exists and matches the options (generated or regenerated when it does not).
      - V(absent) - the CSR at O(path) (by default C(~/ssl/csrs/HOST.csr)) is removed; the key is left alone.
        Only O(host) (and O(path)) are used.
      - Any other value is an error; a province name here (cPanel's C(state)) is named as such, with the
        O(province) option to use instead.
    type: str
    default: present
  email:
    description:
      - An e-mail address for the subject (emailAddress). Empty leaves it out.
    type: str
    default: ''
  password:
    description:
      - The challenge password (PKCS#9 challengePassword attribute) of the CSR. Empty means none.
      - At most 255 characters. It is never shown in results or diffs.
    type: str
    default: ''
  subject_alt_names:
    description:
      - More names for the subjectAltName extension, after O(host).
      - V(www.example.com) or V(DNS:www.example.com) for a domain, V(IP:192.0.2.1) for an IP address,
        V(email:admin@example.com) for an e-mail address. Duplicates are dropped.
    type: list
    elements: str
    default: []
  digest:
    description:
      - The digest of the signature.
      - Ignored for V(ed25519) keys, which sign without a separate digest.
    type: str
    default: sha256
    choices: [sha256, sha384, sha512]
  key_path:
    description:
      - The private key to sign with, instead of the host's key C(~/ssl/keys/HOST.key).
    type: path
  key_passphrase:
    description:
      - The passphrase of the private key, when it is encrypted.
    type: str
  path:
    description:
      - An absolute path for the CSR instead of C(~/ssl/csrs/HOST.csr).
    type: path
requirements:
  - Python C(cryptography) on the target.
seealso:
  - module: keysmith.accounts.ssl_genkey
  - module: keysmith.accounts.ssl_csr_info
  - name: cPanel API 2 SSL::gencsr
    description: The API whose parameters, rules and output this module follows.
    link: https://api.docs.cpanel.net/cpanel-api-2/cpanel-api-2-modules-ssl/cpanel-api-2-functions-ssl-gencsr/
'''

EXAMPLES = r'''
- name: The key for the host must exist first
  keysmith.accounts.ssl_genkey:
    user: alice
    host: www.example.com
  become: true

- name: The cPanel gencsr call, as a task
  keysmith.accounts.ssl_gencsr:
    user: alice
    host: www.example.com
    city: Houston
    company: Example, Inc.
    companydivision: Web
    country: US
    province: Texas       # cPanel's "state"
    email: admin@example.com
    password: "{{ vault_csr_challenge }}"
  become: true
  register: csr

- name: Show the CSR to send to the certificate authority
  ansible.builtin.debug:
    msg: "{{ csr.output }}\n{{ csr.csr | default('(check mode: the CSR is not generated)') }}"

- name: An ecdsa key for the next host
  keysmith.accounts.ssl_genkey:
    user: alice
    host: example.com
    type: ecdsa
  become: true

- name: A CSR with more names, signed with sha384
  keysmith.accounts.ssl_gencsr:
    user: alice
    host: example.com
    subject_alt_names:
      - www.example.com
      - DNS:mail.example.com
    city: Berlin
    company: Beispiel GmbH
    country: DE
    province: Berlin
    digest: sha384
  become: true

- name: Remove a CSR that is no longer needed
  keysmith.accounts.ssl_gencsr:
    user: alice
    host: old.example.com
    state: absent
  become: true
'''

RETURN = r'''
output:
  description:
    - V(Certificate Signing Request generated!) (cPanel's text) when a CSR was written,
      V(Certificate Signing Request is up to date.) when nothing changed, and a check mode note otherwise.
    - With O(state=absent), V(Certificate Signing Request removed.) or V(No Certificate Signing Request to remove.).
  returned: always
  type: str
  sample: Certificate Signing Request generated!
path:
  description: The CSR file.
  returned: always
  type: str
  sample: /home/alice/ssl/csrs/www.example.com.csr
key_path:
  description: The private key the CSR is signed with.
  returned: when O(state=present)
  type: str
  sample: /home/alice/ssl/keys/www.example.com.key
host:
  description: The host, in lower case.
  returned: always
  type: str
  sample: www.example.com
user:
  description: The account.
  returned: always
  type: str
  sample: alice
state:
  description: The state asked for, V(present) or V(absent).
  returned: always
  type: str
  sample: present
actions:
  description: What the run did (in check mode, what it would do). Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["create directory /home/alice/ssl/csrs (0700)", "generate /home/alice/ssl/csrs/www.example.com.csr"]
csr:
  description: The CSR in PEM format.
  returned: when the CSR exists (not for a CSR that check mode would generate)
  type: str
  sample: "-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----\n"
subject:
  description: The subject's fields by short name, in order.
  returned: when O(state=present)
  type: dict
  sample: {"C": "US", "ST": "Texas", "L": "Houston", "O": "Example, Inc.", "OU": "Web",
           "CN": "www.example.com", "emailAddress": "admin@example.com"}
subject_string:
  description: The subject as C(openssl req -text) prints it (without its quotes).
  returned: when O(state=present)
  type: str
  sample: "C = US, ST = Texas, L = Houston, O = Example, Inc., OU = Web, CN = www.example.com, emailAddress = admin@example.com"
subject_alt_names:
  description: The subjectAltName entries, O(host) first.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["DNS:www.example.com", "DNS:example.com"]
digest:
  description: The signature digest (null for ed25519 keys).
  returned: when O(state=present)
  type: str
  sample: sha256
key_fingerprint:
  description: SHA-256 of the DER public key, colon-separated hex (as M(keysmith.accounts.ssl_genkey) reports it).
  returned: when O(state=present) and the key exists
  type: str
  sample: "cd:f8:7f:02:97:3b:56:b7:7e:a3:c8:19:11:2d:38:20:26:db:a8:74:fa:2a:b9:b0:e7:9b:03:06:72:17:c4:39"
key_type:
  description: The key type (V(rsa), V(ecdsa), V(ed25519)).
  returned: when O(state=present) and the key exists
  type: str
  sample: rsa
key_size:
  description: The key size in bits.
  returned: when O(state=present) and the key exists
  type: int
  sample: 2048
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import ACCOUNT, SSL_GENCSR, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import CertificateSigningRequest, CsrSpec


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = CsrSpec(
        account,
        host=params['host'],
        city=params['city'],
        company=params['company'],
        companydivision=params['companydivision'],
        country=params['country'],
        province=params['province'],
        email=params['email'],
        password=params['password'],
        subject_alt_names=params['subject_alt_names'],
        digest=params['digest'],
        key_path=params['key_path'],
        key_passphrase=params['key_passphrase'],
        path=params['path'],
        follow=params['follow'],
        state=params['state'],
    )
    return CertificateSigningRequest(spec)


def main():
    module = module_spec(SSL_GENCSR, ACCOUNT).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
