#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_krl
short_description: Build an OpenSSH key revocation list (KRL) from a declarative list
version_added: 0.1.0
description:
  - Writes an OpenSSH KRL (C(PROTOCOL.krl)), the file sshd's C(RevokedKeys) reads, from a list of revoked keys,
    key hashes, certificate serials (and serial ranges) per CA and certificate key ids (per CA or for every CA).
  - The list is the whole content - an entry not listed is not revoked any more.
  - Idempotent by content - the KRL on disk is read and its revoked set compared with the one asked for, whatever
    its KRL version, generation time or encoding (a KRL written by C(ssh-keygen -k) is read too); only a
    different set, or comment, writes the file, atomically, with the KRL version one higher.
  - The file is written for OpenSSH 9.2 and later (no signature or extension sections); C(ssh-keygen -Q -f KRL key)
    checks a key against it.
  - Typically run on every host (the KRL is small and the same everywhere), so one playbook run revokes a key
    fleet-wide, whichever account it was authorized for.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode reads the KRL on disk and reports exactly whether a real run writes it.
  diff_mode:
    support: full
    details: The diff lists the entries added and removed (up to 200 each way) and the number of entries.
  platform:
    platforms: posix
options:
  path:
    description: The KRL file (for example C(/etc/ssh/revoked_keys)). Its directory must exist.
    type: path
    required: true
  keys:
    description:
      - Public keys to revoke, as C(type base64 [comment]) lines. They are revoked as keys, also when they sign in
        through a certificate.
    type: list
    elements: str
    default: []
  key_hashes:
    description: SHA256 fingerprints of keys to revoke (V(SHA256:...), as C(ssh-keygen -l) prints them).
    type: list
    elements: str
    default: []
  certificates:
    description:
      - Certificates to revoke, per CA.
    type: list
    elements: dict
    default: []
    suboptions:
      ca:
        description:
          - The CA's public key line. Without O(certificates[].ca) and O(certificates[].ca_path) the entry applies to
            certificates of every CA (key ids only).
        type: str
      ca_path:
        description: A file holding the CA's public key.
        type: path
      serials:
        description: Serials (V(42)) and serial ranges (V(100-200)) of certificates the CA signed.
        type: list
        elements: raw
      key_ids:
        description: Key ids of certificates to revoke.
        type: list
        elements: str
  comment:
    description: The KRL's comment.
    type: str
    default: ''
  owner:
    description: The owner of the KRL file (name or uid); by default a new file is the running user's and an existing one keeps its owner.
    type: str
  group:
    description: The group of the KRL file (name or gid).
    type: str
  mode:
    description: The mode of the KRL file (octal); by default V(0644) for a new file, an existing one keeps its mode.
    type: raw
seealso:
  - module: keysmith.accounts.ssh_cert
    description: Signs the certificates revoked here.
  - name: PROTOCOL.krl
    description: The KRL format.
    link: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.krl
'''

EXAMPLES = r'''
- name: Revoke a stolen key, a certificate serial range and a key id
  keysmith.accounts.ssh_krl:
    path: /srv/revoked_keys
    keys:
      - "{{ lookup('ansible.builtin.file', 'keys/stolen.pub') }}"
    key_hashes:
      - SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
    certificates:
      - ca: "{{ lookup('ansible.builtin.file', 'keys/user_ca.pub') }}"
        serials: [17, 100-199]
        key_ids: [mallory@example.com]
      - key_ids: [compromised-build-host]
  become: true
'''

RETURN = r'''
path:
  description: The KRL file.
  returned: always
  type: str
  sample: /etc/ssh/revoked_keys
revoked:
  description: What the KRL revokes (as asked).
  returned: always
  type: dict
  sample: {keys: 1, sha256: 1, sha1: 0, serials: 101, key_ids: 1, cas: 1}
krl_version:
  description: The KRL version of the file (one higher after each change).
  returned: always
  type: int
  sample: 3
actions:
  description: What was (check mode - would be) done.
  returned: always
  type: list
  elements: str
  sample: ["update /etc/ssh/revoked_keys (revoke 1 more, 0 fewer entries; KRL version 3)"]
msg:
  description: What the KRL holds.
  returned: always
  type: str
  sample: "Wrote /etc/ssh/revoked_keys: 1 keys, 1 key hashes, 101 certificate serials and 1 key ids revoked."
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import SSH_KRL
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl_operation import KrlSpec, SshKrl


def build(module):
    params = module.params
    spec = KrlSpec(params['path'], keys=params['keys'], key_hashes=params['key_hashes'],
                   certificates=params['certificates'], comment=params['comment'], owner=params['owner'],
                   group=params['group'], mode=params['mode'])
    return SshKrl(spec)


def main():
    module = SSH_KRL.create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
