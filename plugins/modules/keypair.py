#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: keypair
short_description: Create, import and remove named SSH key pairs in a key pair registry on the target
version_added: 0.1.0
description:
  - Manages named SSH key pairs in a registry directory on the target, like Tencent Cloud's C(CreateKeyPair)
    and the CFEngine SSH keys API, but declaratively.
  - Each entry has an id (V(skey-) and 8 lowercase letters or digits, stable for the life of the entry), the
    name, the public key, its SHA256 fingerprint, type, size, comment, source (V(generated) or V(imported)),
    C(generated_by) and C(generated_at) (UTC, ISO 8601).
  - The registry never holds private keys. A generated private key is handed over once - written to
    O(private_key_path), or else returned as RV(private_key) in the result of the run that generated it -
    and never again. When it is returned and the task does not set C(no_log), the module warns that the
    task should set C(no_log) or use O(private_key_path).
  - Creating a key pair that exists with the same settings changes nothing. A changed O(comment) is
    written into the entry in place (same key, same id). Another type or size, or another imported
    public key, is an error unless O(force) is set.
  - An entry whose stored public key cannot be read, or is not the key its recorded fingerprint, type and
    size describe (a damaged or edited entry), is an error naming the entry; it is never taken as up to
    date. O(force) replaces it with a new key (generated or imported; the id stays).
  - The registry is one JSON file per entry, C(REGISTRY/NAME.json), mode V(0600), in a directory of mode
    V(0700) owned by the user running the module. Changes are made under an exclusive C(flock) on the
    registry directory and files are replaced atomically, so concurrent runs lose nothing.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account.backend
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the registry and reports exactly what a real run would change, writing nothing.
      - The id of a key pair that does not exist yet is not known in check mode (RV(keypair.id) is V(null)).
  diff_mode:
    support: full
    details: The diff shows the registry entry before and after (public data only).
  platform:
    platforms: posix
options:
  name:
    description:
      - The name of the key pair, unique in the registry.
      - 1 to 25 characters, only ASCII letters, digits and V(_) (Tencent's C(KeyName) rule); anything else
        is an error.
      - Required with O(state=present). With O(state=absent), give O(name) or O(id).
    type: str
  id:
    description:
      - The id of the key pair to remove (V(skey-) and 8 lowercase letters or digits), as the CFEngine API
        deletes by id.
      - Only with O(state=absent); mutually exclusive with O(name).
    type: str
  state:
    description:
      - V(present) makes sure the key pair exists; V(absent) removes its entry (removing one that does not
        exist changes nothing).
    type: str
    default: present
    choices: [present, absent]
  type:
    description:
      - The type of key to generate. Defaults to V(rsa) (4096 bits, as the CFEngine API generates).
      - With O(public_key), the type of the imported key; when given it must match.
    type: str
    choices: [rsa, ecdsa, ed25519]
  size:
    description:
      - The key size in bits. V(rsa) defaults to V(4096) (at least V(1024); fewer than V(2048) warns);
        V(ecdsa) takes V(256) (default), V(384) or V(521); V(ed25519) is always V(256).
      - With O(public_key), when given it must match the imported key.
    type: int
    aliases: [bits]
  public_key:
    description:
      - Import this OpenSSH public key (C(type base64 [comment])) instead of generating a key pair.
      - Read as sshd and C(ssh-keygen -l) read it (the same reader as M(keysmith.accounts.ssh_authkey)); C(rsa-sha2-512)
        or C(rsa-sha2-256) as the type name is the C(ssh-rsa) key, stored as C(ssh-rsa).
      - An rsa, ecdsa or ed25519 key; certificates are refused.
      - When the entry exists with another public key, the task fails unless O(force) is set.
    type: str
  comment:
    description:
      - The comment of the public key.
      - Defaults to V(generated-by-keysmith); for an imported key, to the comment of O(public_key) when it
        has one.
      - Changing it updates the entry in place; the key and the id stay.
    type: str
  private_key_format:
    description:
      - The format of the generated private key (returned or written to O(private_key_path)).
      - V(openssh) - C(BEGIN OPENSSH PRIVATE KEY), as C(ssh-keygen) writes it.
      - V(pkcs1) - the traditional PEM format, C(BEGIN RSA PRIVATE KEY) (C(BEGIN EC PRIVATE KEY) for ecdsa),
        as Tencent Cloud's C(CreateKeyPair) returns it. Not for V(ed25519).
      - V(pkcs8) - the PKCS#8 PEM format, C(BEGIN PRIVATE KEY).
      - Only used when a key is generated; the registry holds the public key alone either way.
    type: str
    default: openssh
    choices: [openssh, pkcs1, pkcs8]
  private_key_path:
    description:
      - Write the generated private key (in O(private_key_format), not encrypted) to this absolute path, mode V(0600),
        owned by O(owner), and leave it out of the result.
      - The directory must exist. An existing file is replaced (atomically) when a key is generated.
      - Only written when a key is generated (a new entry, or O(force)); the private key is stored nowhere
        else, so a file removed later cannot be restored (the module warns; use O(force) for a new key).
      - Not with O(public_key).
    type: path
  owner:
    description:
      - The owner of O(private_key_path) (its group is the owner's primary group).
      - Defaults to the user running the module. Another owner needs root (C(become)).
    type: str
  force:
    description:
      - For a generated key pair, generate a new key on every run (key rotation); for an imported one,
        replace the stored public key when it differs.
      - The entry keeps its id; RV(keypair.generated_at) and RV(keypair.generated_by) are updated.
    type: bool
    default: false
  registry:
    description:
      - The registry directory on the target. Created (mode V(0700)) when missing; its mode is set to
        V(0700) when it differs.
      - It must not be a symbolic link, and must belong to the user running the module or to root.
    type: path
    default: /var/lib/keysmith/keypairs
notes:
  - The id of a key pair never changes for the life of its entry, also with O(force). Removing the entry and
    creating it again gives a new id.
  - C(generated_by) is the user the module runs as; when it runs as root through sudo (C(become) with the
    sudo method), the user that called sudo (C(SUDO_USER)), that is, the remote user.
  - A returned RV(private_key) cannot be hidden by the module (a return value cannot be C(no_log)); set
    C(no_log) to V(true) on the task.
  - The registry is on the target. To keep B(one central registry) for a fleet, as the CFEngine API and
    Tencent Cloud do, run the task on one host - C(delegate_to) the registry host with C(run_once), or a
    play for that host alone - and hand each private key to its host in a following task (see EXAMPLES).
seealso:
  - module: keysmith.accounts.keypair_info
    description: Lists the registry, or gets one key pair by name or id.
  - module: keysmith.accounts.ssh_genkey
    description: Generates a key pair in an account's C(~/.ssh) instead.
  - name: Tencent Cloud CreateKeyPair
    description: The API whose names, ids and hand-over-once private key this module follows.
    link: https://www.tencentcloud.com/document/product/213/15702
'''

EXAMPLES = r'''
- name: The accounts' ~/.ssh directories must exist (keypair and copy write into them, they do not make them)
  ansible.builtin.file:
    path: "{{ item.path }}"
    state: directory
    owner: "{{ item.owner }}"
    mode: "0700"
  loop:
    - {path: /home/deploy/.ssh, owner: deploy}
    - {path: /home/backup/.ssh, owner: backup}
  become: true

- name: Create a key pair; the private key is returned once, so keep it out of the logs
  keysmith.accounts.keypair:
    name: deploy_key
    type: ed25519
  register: deploy
  no_log: true

- name: Hand the private key over to the account that needs it (the only time it is available)
  ansible.builtin.copy:
    content: "{{ deploy.private_key }}"
    dest: /home/deploy/.ssh/id_ed25519
    owner: deploy
    mode: "0600"
  when: deploy.private_key is defined
  no_log: true

- name: Create a 4096-bit rsa key pair and write the private key straight to a file
  keysmith.accounts.keypair:
    name: backup_job
    private_key_path: /home/backup/.ssh/id_rsa
    owner: backup
  become: true

- name: Import an existing public key
  keysmith.accounts.keypair:
    name: alice_laptop
    public_key: "{{ lookup('ansible.builtin.file', 'files/alice.pub') }}"

- name: Rotate a key pair (a new key under the same id)
  keysmith.accounts.keypair:
    name: backup_job
    private_key_path: /home/backup/.ssh/id_rsa
    owner: backup
    force: true
  become: true

- name: A key pair in Tencent Cloud's format (BEGIN RSA PRIVATE KEY), written to a file
  keysmith.accounts.keypair:
    name: tencent_style
    type: rsa
    private_key_format: pkcs1
    private_key_path: /root/tencent_style.pem
  become: true

# One central registry for the fleet: the key pairs live on one host (here the
# first of the group "registry"), each host gets its private key once.
- name: One key pair per web host, in the central registry
  keysmith.accounts.keypair:
    name: "web_{{ inventory_hostname | regex_replace('[^A-Za-z0-9_]', '_') | truncate(20, true, '') }}"
    type: ed25519
  delegate_to: "{{ groups['registry'][0] }}"
  register: web_key
  no_log: true

- name: Each host's private key to its deploy account, the one time it is available
  ansible.builtin.copy:
    content: "{{ web_key.private_key }}"
    dest: /home/deploy/.ssh/id_ed25519
    owner: deploy
    mode: "0600"
  when: web_key.private_key is defined
  no_log: true

- name: List the central registry once per run
  keysmith.accounts.keypair_info:
  delegate_to: "{{ groups['registry'][0] }}"
  run_once: true
  register: registry

- name: Remove a key pair by id
  keysmith.accounts.keypair:
    id: skey-mv9yzyjj
    state: absent
'''

RETURN = r'''
keypair:
  description:
    - The registry entry after the run (public data only). With O(state=absent), the entry that was (or in
      check mode would be) removed, V(null) when there was none.
    - In check mode, a key pair that would be created has C(id), C(public_key), C(fingerprint) and
      C(generated_at) V(null), as they are only known once it is created.
  returned: always
  type: dict
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
private_key:
  description:
    - The private key (in O(private_key_format), not encrypted), only in the result of the run that generated it and
      only without O(private_key_path). It is stored nowhere and never returned again.
    - Set C(no_log) on the task.
  returned: when a key was generated and O(private_key_path) is not set
  type: str
  sample: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n"
private_key_path:
  description: Where the private key is written.
  returned: when O(private_key_path) is set and O(state=present)
  type: str
  sample: /home/backup/.ssh/id_rsa
registry:
  description: The registry directory.
  returned: always
  type: str
  sample: /var/lib/keysmith/keypairs
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
  sample: ["generate key pair deploy_key (ed25519 256)", "create /var/lib/keysmith/keypairs/deploy_key.json (registry entry of deploy_key)"]
msg:
  description: What happened, in words.
  returned: always
  type: str
  sample: Key pair deploy_key generated (ed25519 256). Its id is skey-mv9yzyjj.
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import BACKEND, KEYPAIR, module_spec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import Keypair, KeypairSpec


def build(module):
    params = module.params
    owner = None
    if params['private_key_path'] is not None:
        owner = Account.resolve(params['owner'], check_mode=module.check_mode)
    spec = KeypairSpec(
        name=params['name'],
        key_id=params['id'],
        state=params['state'],
        key_type=params['type'],
        size=params['size'],
        public_key=params['public_key'],
        comment=params['comment'],
        private_key_path=params['private_key_path'],
        owner=owner,
        force=params['force'],
        registry=params['registry'],
        backend=params['backend'],
        private_key_format=params['private_key_format'],
        # AnsibleModule's view of the task's no_log (_ansible_no_log).
        task_no_log=module.no_log,
    )
    return Keypair(spec)


def main():
    module = module_spec(KEYPAIR, BACKEND).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
