#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: provision
short_description: Provision the keys of many accounts in one module call
version_added: 0.1.0
description:
  - Applies, for every account in O(accounts), what the single modules do - SSH key pairs
    (M(keysmith.accounts.ssh_genkey)), authorized keys (M(keysmith.accounts.ssh_authkey)), TLS keys
    (M(keysmith.accounts.ssl_genkey)) and certificate signing requests (M(keysmith.accounts.ssl_gencsr)) -
    with the same code, in one module call per host. A host with 100 accounts costs one call, not hundreds.
  - Every item of every account is planned first (options checked, current files read); then the
    plans are applied. Check mode reports the plans and writes nothing.
  - The plans are applied one after the other, in order, while the new keys they need are generated
    ahead on all the CPUs the module may use (one worker thread each), so a first run with many RSA
    keys takes about half the time on two CPUs.
  - Results are given per account and per item, with the single modules' return values.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account.backend
attributes:
  check_mode:
    support: full
    details: Every item is planned against the current files; nothing is written.
  diff_mode:
    support: full
    details: One diff per changed item, named by account.
  platform:
    platforms: posix
options:
  accounts:
    description:
      - The accounts and what each of them should have.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The system account. It must exist (check mode assumes an earlier task creates it), unless
            O(accounts[].create=true).
        type: str
        required: true
      home:
        description:
          - Use this directory as the account's home, as the single modules' O(keysmith.accounts.ssh_genkey#module:home) option.
          - When the user is created (O(accounts[].create=true)), also its home directory.
        type: path
      create:
        description:
          - Create the user when it is missing (C(useradd --create-home)), with the missing groups of
            O(accounts[].group) and O(accounts[].groups) (C(groupadd)), in the same call, before its keys.
          - An existing user is left as it is - its uid, groups, shell, comment and password are not changed; a warning
            names what differs from the task.
          - In check mode the creation is predicted and nothing is written. A failed creation fails the account
            like any other item (see O(atomic)).
        type: bool
        default: false
      uid:
        description: The user ID of a user that is created.
        type: int
      group:
        description: The primary group of a user that is created; created when missing.
        type: str
      groups:
        description: Supplementary groups of a user that is created; the missing ones are created.
        type: list
        elements: str
      shell:
        description: The login shell of a user that is created.
        type: str
      comment:
        description: The GECOS field of a user that is created.
        type: str
      system:
        description: Create the user (and its missing groups) as system accounts.
        type: bool
        default: false
      password:
        description:
          - The password hash of a user that is created (as in C(/etc/shadow), for example V(*) for no
            password login without locking the account). Never changed on an existing user, never shown.
        type: str
      ssh_keys:
        description: SSH key pairs in the account's C(~/.ssh), as M(keysmith.accounts.ssh_genkey) makes them.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The key's file name in C(~/.ssh). Exactly one of O(accounts[].ssh_keys[].name) and O(accounts[].ssh_keys[].path).
            type: str
          path:
            description: An absolute path for the private key instead of a name.
            type: path
          type:
            description:
              - The type of key; V(rsa) when generating and not set.
              - With O(accounts[].ssh_keys[].private_key) or O(accounts[].ssh_keys[].public_key), the type of the given key (checked when set).
            type: str
            choices: [rsa, ecdsa, ed25519, dsa]
          size:
            description: The size of the key in bits (see M(keysmith.accounts.ssh_genkey)).
            type: int
            aliases: [bits]
          passphrase:
            description:
              - The passphrase of the private key; at least 4 characters.
              - Omitted means none, with one C(SECURITY RISK) warning a run naming every such key; an explicit
                empty string means none on purpose (no warning).
            type: str
            aliases: [pass]
          comment:
            description: The public key's comment.
            type: str
          regenerate:
            description: When an existing key is replaced (see M(keysmith.accounts.ssh_genkey)).
            type: str
            default: partial_idempotence
            choices: [never, fail, partial_idempotence, full_idempotence, always]
          private_key_format:
            description: The format of the private key file.
            type: str
            default: auto
            choices: [auto, openssh, pkcs1, pkcs8]
          state:
            description: V(absent) removes the key pair.
            type: str
            default: present
            choices: [present, absent]
          private_key:
            description:
              - Import this private key instead of generating one, as M(keysmith.accounts.ssh_genkey)'s
                O(keysmith.accounts.ssh_genkey#module:private_key) does. Never shown in results or diffs.
            type: str
          public_key:
            description:
              - A public key line; with O(accounts[].ssh_keys[].private_key) it must be its public key, alone only
                C(NAME.pub) is installed (see M(keysmith.accounts.ssh_genkey)).
            type: str
          ppk:
            description: Also write the key in PuTTY's format to C(PATH.ppk) (see M(keysmith.accounts.ssh_genkey)).
            type: bool
            default: false
      authorized_keys:
        description: Public keys to authorize (or revoke) in the account's C(~/.ssh/authorized_keys).
        type: list
        elements: dict
        default: []
        suboptions:
          key:
            description:
              - A public key line, for example C(ssh-ed25519 AAAA... bob@laptop), several lines, or a list of them,
                as M(keysmith.accounts.ssh_authkey)'s O(keysmith.accounts.ssh_authkey#module:key).
              - A private key is refused (and masked in the result).
              - Exactly one of O(accounts[].authorized_keys[].key) and O(accounts[].authorized_keys[].account).
            type: raw
            aliases: [text]
          account:
            description:
              - Authorize (or revoke) the key of this account instead of a key given as text - the key named
                O(accounts[].authorized_keys[].key_name) in its C(~/.ssh), as it is or as this same call makes it
                (an O(accounts[].ssh_keys) item of that account, in any position of O(accounts)).
              - A key this call generates is authorized once it is made; check mode and C(--diff) name it as
                C(key NAME of ACCOUNT, still to be generated).
              - Otherwise the account's C(~/.ssh/KEY_NAME.pub) is read - through the same safe walk as every file
                the collection reads, and only when it is a regular file (not a symbolic or hard link, not owned
                by another user) of at most 64 KiB holding one public key line. A missing key is an error, and so
                is a key this call removes. Its content is never shown in a message.
              - The key's comment is kept unless O(accounts[].authorized_keys[].comment) is given.
            type: str
          key_name:
            description:
              - The key's file name in the C(~/.ssh) of O(accounts[].authorized_keys[].account), without C(.pub)
                (as O(accounts[].ssh_keys[].name)), for example V(id_ed25519). Required with
                O(accounts[].authorized_keys[].account).
            type: str
          options:
            description:
              - OpenSSH key options for the key(s) of this item, for example C(from="10.0.0.0/8",no-pty). They apply
                to every key of O(accounts[].authorized_keys[].key), replacing options written in front of a key.
              - A single line; a newline is an error.
            type: str
          comment:
            description: The comment of the key(s) of this item, replacing the key's own.
            type: str
          state:
            description: V(absent) revokes the key(s); V(present) (the default) authorizes them.
            type: str
            choices: [present, absent]
          owner:
            description:
              - The owner of the C(authorized_keys) file, as M(keysmith.accounts.ssh_authkey)'s
                O(keysmith.accounts.ssh_authkey#module:owner). The file is one for all items of the account, so
                the items that give O(accounts[].authorized_keys[].owner), O(accounts[].authorized_keys[].group)
                or O(accounts[].authorized_keys[].mode) must give the same value.
            type: str
          group:
            description: The group of the C(authorized_keys) file (see O(accounts[].authorized_keys[].owner)).
            type: str
          mode:
            description: The mode of the C(authorized_keys) file, octal (see O(accounts[].authorized_keys[].owner)).
            type: raw
      authorized_keys_exclusive:
        description: Only the keys in O(accounts[].authorized_keys) stay authorized; all others are removed.
        type: bool
        default: false
      principals:
        description:
          - The certificate principals that may log in as this account, written to its C(AuthorizedPrincipalsFile)
            (O(accounts[].principals_file)) as M(keysmith.accounts.ssh_principals) writes it (an item of kind
            V(principals), after the keys).
          - Not given (the default), the file is not managed; V([]) with O(accounts[].principals_exclusive=true)
            empties it.
        type: list
        elements: str
      principals_exclusive:
        description: Remove the principals not in O(accounts[].principals) from the file.
        type: bool
        default: false
      principals_file:
        description:
          - The C(AuthorizedPrincipalsFile) pattern sshd is configured with (see M(keysmith.accounts.sshd_trust)).
        type: str
        default: /etc/ssh/auth_principals/%u
      ssl:
        description:
          - TLS keys and certificate signing requests, one item per host, as M(keysmith.accounts.ssl_genkey)
            and M(keysmith.accounts.ssl_gencsr) make them - the key in C(~/ssl/keys/HOST.key), then the CSR in
            C(~/ssl/csrs/HOST.csr). A CSR made in the same run as its key is for the new key.
        type: list
        elements: dict
        default: []
        suboptions:
          host:
            description: The CSR's host name (CN and first subjectAltName), a valid domain or subdomain.
            type: str
            required: true
          city:
            description: The CSR owner's city. Required when O(accounts[].ssl[].state=present).
            type: str
          company:
            description: The CSR owner's company. Required when O(accounts[].ssl[].state=present).
            type: str
          companydivision:
            description: The division or department within the company.
            type: str
            default: ''
          country:
            description: The two-letter ISO 3166 country code (not the country's name). Required when O(accounts[].ssl[].state=present).
            type: str
          province:
            description:
              - The state or province, by its full name (not an abbreviation); cPanel's C(SSL::gencsr) calls it C(state).
              - Required when O(accounts[].ssl[].state=present).
            type: str
          state:
            description:
              - V(absent) removes the host's CSR and TLS key. Any other value than V(present) or V(absent) is an error.
            type: str
            default: present
          email:
            description: The CSR owner's email address.
            type: str
            default: ''
          password:
            description: The CSR's challenge password.
            type: str
            default: ''
          subject_alt_names:
            description: More subjectAltNames after the host (plain names, or C(DNS:), C(IP:), C(email:) entries).
            type: list
            elements: str
            default: []
          digest:
            description: The CSR's signature digest (not used with V(ed25519) keys).
            type: str
            default: sha256
            choices: [sha256, sha384, sha512]
          type:
            description:
              - The type of the host's TLS key.
              - V(key_type), its former name, is kept as an alias.
            type: str
            default: rsa
            choices: [rsa, ecdsa, ed25519]
            aliases: [key_type]
          size:
            description:
              - The size of the host's TLS key in bits (see M(keysmith.accounts.ssl_genkey)).
              - V(key_size), its former name, is kept as an alias (as is V(bits)).
            type: int
            aliases: [key_size, bits]
          key_passphrase:
            description: The passphrase of the host's TLS key.
            type: str
          regenerate:
            description: When an existing TLS key is replaced (see M(keysmith.accounts.ssl_genkey)).
            type: str
            default: partial_idempotence
            choices: [never, fail, partial_idempotence, full_idempotence, always]
  atomic:
    description:
      - V(true) - every item of every account is checked before anything is written; bad items
        fail the task, which names every one of them (account and item) in one message, and nothing is changed.
        Then every C(flock) the accounts need is taken before anything is written; a lock that cannot be had
        within O(lock_timeout) fails the task naming the account, and nothing is changed. An error while writing
        (a full disk) stops the run; the task fails with C(changed=true) and its message says what was already
        done and which accounts were not applied.
      - V(false) - an account with bad items is reported, with the account and every bad item named, and
        the other accounts are still provisioned; the task fails at the end, listing every failed account.
    type: bool
    default: false
  follow:
    description:
      - Follow symbolic links below the homes (see M(keysmith.accounts.ssh_authkey)'s
        O(keysmith.accounts.ssh_authkey#module:follow) for what a link may lead to).
      - A link is followed only to the account's own file or directory, or to a central, root-managed one
        reached through links only root can change; anything else (a link to C(/etc/shadow)) fails the account.
        A followed target keeps its owner and mode.
    type: bool
    default: false
  report:
    description:
      - V(full) - every account with every item and its return values.
      - V(summary) - RV(counts), and in RV(accounts) only the accounts that changed or failed, with only their
        changed items. Use it for thousands of accounts on a host, where the full result (about 1 KiB an
        account) is too large for a callback plugin or an AWX/AAP job event; an unchanged rerun then returns
        a few hundred bytes. RV(actions) and the diff stay complete.
    type: str
    default: full
    choices: [full, summary]
  lock_timeout:
    description:
      - Seconds to wait for the C(flock) on an account's C(~/.ssh) (held by another run, or by the account
        itself). When it is not released in time, that account fails with an error naming the lock and the
        other accounts are still provisioned (unless O(atomic=true)).
      - One wait for the whole task, however many locks are held; the accounts whose locks are free are done
        first, the others are tried again until this many seconds have passed since a lock was first found
        held (five held locks cost one wait, not five).
    type: int
    default: 60
seealso:
  - module: keysmith.accounts.ssh_genkey
  - module: keysmith.accounts.ssh_authkey
  - module: keysmith.accounts.ssl_genkey
  - module: keysmith.accounts.ssl_gencsr
'''

EXAMPLES = r'''
- name: Provision two accounts in one call
  keysmith.accounts.provision:
    accounts:
      - name: alice
        ssh_keys:
          - {name: id_ed25519, type: ed25519, comment: alice@example.com}
        authorized_keys:
          - key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ bob@laptop"
            options: no-pty
      - name: deploy
        home: /srv/deploy
        ssh_keys:
          - {name: id_rsa, type: rsa, bits: 4096, passphrase: "{{ vault_deploy_passphrase }}"}
        authorized_keys_exclusive: true
        authorized_keys:
          - key: "{{ lookup('ansible.builtin.file', 'keys/ci.pub') }}"
        ssl:
          - host: deploy.example.com
            subject_alt_names: [www.deploy.example.com]
            country: US
            province: Texas
            city: Houston
            company: Example
    atomic: true
  become: true
  register: provisioned

- name: Give deploy a key and let it log in as backup, in the same call
  keysmith.accounts.provision:
    accounts:
      - name: backup
        authorized_keys:
          # deploy's ~/.ssh/id_ed25519.pub, as it is or as this call generates it
          - {account: deploy, key_name: id_ed25519, options: 'restrict'}
      - name: deploy
        ssh_keys:
          - {name: id_ed25519, type: ed25519, passphrase: ""}
  become: true

- name: Show what changed for each account
  ansible.builtin.debug:
    msg: "{{ provisioned.accounts | selectattr('changed') | map(attribute='name') | list }}"
'''

RETURN = r'''
accounts:
  description: One entry per account, in the order given (with O(report=summary), only those that changed or failed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The account.
      type: str
      sample: alice
    changed:
      description: Whether anything was (or, in check mode, would be) changed for this account.
      type: bool
    failed:
      description: Present and true when an item of this account failed.
      type: bool
      returned: when the account failed
    msg:
      description:
        - Why the account failed, naming the item.
        - With O(atomic=true), for an account not applied because the run stopped at another account's
          failure, that it was not applied.
      type: str
      returned: when the account failed, or was not applied by a stopped atomic run
    exception:
      description: The traceback of an unexpected error (a bug) in the account's operation; the other
        accounts are still provisioned.
      type: str
      returned: when the account failed with an unexpected error
    items:
      description:
        - One entry per item, with the return values of the single module that does the same
          (M(keysmith.accounts.ssh_genkey), M(keysmith.accounts.ssh_authkey), M(keysmith.accounts.ssl_genkey),
          M(keysmith.accounts.ssl_gencsr), M(keysmith.accounts.ssh_principals)), plus C(kind) (V(ssh_key),
          V(authorized_keys), V(ssl_key), V(ssl_csr) or V(principals)), C(item) (which one) and C(changed).
        - With O(accounts[].create=true), the first item is of kind V(user) - C(user), C(created) and, when
          groups are created, C(groups_created).
      type: list
      elements: dict
counts:
  description: How many accounts there are, changed, unchanged and failed, and how many items and changed items.
  returned: when O(report=summary)
  type: dict
  sample: {accounts: 5000, changed: 2, unchanged: 4998, failed: 0, items: 10000, changed_items: 2}
actions:
  description:
    - Everything the run did (in check mode, would do), in order.
    - An action another run did between the plan and now is listed with the note C(already created by another run)
      and is not counted as a change.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import (
    BACKEND,
    KEY_REFERENCE,
    LOCKING,
    SSH_AUTHKEY,
    SSH_GENKEY,
    SSL_GENCSR,
    SSL_GENKEY,
    ArgumentSpec,
    module_spec,
)

# The items are the single modules' ArgumentSpecs picked (options with the
# constraints among them, module_utils/_specs.py), so they cannot drift.
SSH_KEY_ITEM = SSH_GENKEY.pick(['name', 'path', 'type', 'size', 'passphrase', 'comment', 'regenerate',
                                'private_key_format', 'state', 'private_key', 'public_key', 'ppk'])

# a key given as text, or the key of an account named (the key of bob's
# ~/.ssh/id_ed25519.pub, as it is or as this call generates it)
AUTHORIZED_KEY_ITEM = SSH_AUTHKEY.pick(['key', 'options', 'comment', 'state', 'owner', 'group', 'mode']).merge(
    KEY_REFERENCE)

SSL_ITEM = SSL_GENCSR.pick(['host', 'city', 'company', 'companydivision', 'country', 'province', 'state', 'email',
                            'password', 'subject_alt_names', 'digest']).merge(
    # The TLS key's type and size: ``type`` and ``size`` as everywhere (key_type and
    # key_size, their names before, are aliases).
    SSL_GENKEY.pick(['type', 'size', 'passphrase', 'regenerate'], rename=dict(passphrase='key_passphrase'),
                    type=dict(aliases=['key_type']), size=dict(aliases=['key_size', 'bits'])))

SSH_KEY_OPTIONS = SSH_KEY_ITEM.argument_spec
AUTHORIZED_KEY_OPTIONS = AUTHORIZED_KEY_ITEM.argument_spec
SSL_OPTIONS = SSL_ITEM.argument_spec

ACCOUNT_ITEM_OPTIONS = dict(
    name=dict(type='str', required=True),
    home=dict(type='path'),
    ssh_keys=SSH_KEY_ITEM.suboptions(default=[], no_log=False),
    authorized_keys=AUTHORIZED_KEY_ITEM.suboptions(default=[], no_log=False),
    authorized_keys_exclusive=dict(type='bool', default=False),
    create=dict(type='bool', default=False),
    uid=dict(type='int'),
    group=dict(type='str'),
    groups=dict(type='list', elements='str'),
    shell=dict(type='str'),
    comment=dict(type='str'),
    system=dict(type='bool', default=False),
    password=dict(type='str', no_log=True),
    ssl=SSL_ITEM.suboptions(default=[]),
    principals=dict(type='list', elements='str'),
    principals_exclusive=dict(type='bool', default=False),
    principals_file=dict(type='str', default='/etc/ssh/auth_principals/%u'),
)

PROVISION = module_spec(ArgumentSpec(dict(
    accounts=dict(type='list', elements='dict', required=True, options=ACCOUNT_ITEM_OPTIONS),
    atomic=dict(type='bool', default=False),
    follow=dict(type='bool', default=False),
    report=dict(type='str', default='full', choices=['full', 'summary']),
)), LOCKING, BACKEND)


def build(module):
    params = module.params
    return Provision(params['accounts'], atomic=params['atomic'], backend=params['backend'],
                     follow=params['follow'], report=params['report'],
                     lock_timeout=params['lock_timeout'])


def main():
    module = PROVISION.create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
