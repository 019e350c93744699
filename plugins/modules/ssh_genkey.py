#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_genkey
short_description: Generate or import an SSH key pair in an account's C(~/.ssh), declaratively
version_added: 0.1.0
description:
  - Generates an SSH key pair for a user account, as cPanel's C(SSH::genkey) does, but idempotently.
  - Or imports an existing key given as O(private_key) (or only its public half, O(public_key)), as
    cPanel's C(SSH::importkey) does, with the same checks as a generated key.
  - Can also export the key in PuTTY's format (C(.ppk), format version 3) next to the private key, O(ppk).
  - The private key is written to C(~/.ssh/NAME) (mode V(0600)) and the public key to
    C(~/.ssh/NAME.pub) (mode V(0644)), both owned by the account; C(~/.ssh) is created
    with mode V(0700) when missing.
  - An existing key that matches O(type), O(size), O(comment) and O(passphrase) is left alone.
    When it does not match, O(regenerate) decides what happens. A missing or wrong public key
    file is restored from the private key, and a changed O(comment) is written into the key files
    without generating a new key.
  - Files are written atomically (a temporary file in the same directory, fsync, rename).
  - Private keys and passphrases never appear in the results, the diff or the logs.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
  - keysmith.accounts.account.backend
attributes:
  check_mode:
    support: full
    details: Check mode reads the current files and reports exactly what a real run would change.
  diff_mode:
    support: full
    details: The diff shows the public key, fingerprint, type, size and comment before and after.
  platform:
    platforms: posix
options:
  name:
    description:
      - The key's file name in the account's C(~/.ssh) directory.
      - The names V(config), V(known_hosts), V(authorized_keys), V(environment), V(rc),
        V(identity) (and V(authorized_keys2), V(known_hosts2), V(known_hosts.old)) are not allowed,
        nor a name with a slash, a leading V(..) or V(-), a NUL byte or a newline.
      - Exactly one of O(name) and O(path) is required.
    type: str
  path:
    description:
      - An absolute path for the private key instead of O(name); the public key is written next
        to it with the suffix C(.pub).
      - Directories below the account's home are created (mode V(0700)) when missing; outside the
        home the parent directory must exist.
    type: path
  type:
    description:
      - The type of key. When generating, the default is V(rsa).
      - With O(private_key) or O(public_key), the type of the given key; when set, a key of
        another type is an error.
      - V(dsa) is deprecated; it only works where the backend can still make such keys.
    type: str
    choices: [rsa, ecdsa, ed25519, dsa]
  size:
    description:
      - The size of the key in bits.
      - V(bits), its former name, is kept as an alias (one name for a key's size in every module).
      - V(rsa) defaults to V(4096); fewer than V(1024) is an error and fewer than V(2048) a warning.
      - V(ecdsa) takes V(256) (default), V(384) or V(521). V(ed25519) is always V(256) and V(dsa) V(1024).
      - With O(private_key) or O(public_key), the size of the given key; when set, a key of
        another size is an error. The size limits above apply to given keys as well.
    type: int
    aliases: [bits]
  passphrase:
    description:
      - The passphrase that protects the private key; at least 4 characters.
      - Omitted means no passphrase, which is allowed but gives a C(SECURITY RISK) warning when a key
        is generated (one warning a run, naming every such key, also in M(keysmith.accounts.provision)).
      - An explicit empty string says "no passphrase" on purpose and gives no warning.
      - With O(private_key), the passphrase of the given key. It is required when that key is
        protected and an error when it is not (the key is installed as it is given).
      - With O(ppk=true), the C(.ppk) file is protected by this passphrase too.
    type: str
    aliases: [pass]
  comment:
    description:
      - The comment of the public key.
      - When omitted, an existing key keeps its comment and a new key gets C(USER@HOSTNAME).
      - The comment is stored in the C(.pub) file and, for private keys in the OpenSSH format, inside
        the private key as well (as C(ssh-keygen -c) does). Changing it does not regenerate the key.
    type: str
  state:
    description:
      - V(present) makes sure the key pair exists; V(absent) removes both files, and C(PATH.ppk) when
        it is a PuTTY key file of the same key (another one is left with a warning).
    type: str
    default: present
    choices: [present, absent]
  regenerate:
    description:
      - When an existing key is replaced by a new one. The meanings are those of
        community.crypto's C(openssh_keypair).
      - V(never) never replaces an existing key; it fails if the key cannot be read (broken file,
        or a passphrase that does not open it) and only warns when it does not match the task.
      - V(fail) fails when the key does not match the task.
      - V(partial_idempotence) replaces a key that does not match the task (type, size, format). It
        fails, leaving the key untouched, when the key cannot be read or is not protected although
        the task gives a passphrase.
      - V(full_idempotence) also replaces a key that cannot be read, is protected by another
        passphrase, or is not protected although the task gives a passphrase. Keep a backup.
      - V(always) generates a new key on every run.
      - Comment, mode and owner are fixed without regeneration under every choice.
      - With O(private_key), an existing private key is kept when it is the same key (same public key) in
        the same format and with the same protection, even if its bytes differ. Another key, format or
        protection is drift as above (V(partial_idempotence) replaces it with the given key), a key that
        cannot be read is replaced only under V(full_idempotence). V(always) acts as V(full_idempotence).
      - With O(public_key) alone, an existing private key of the same key stays. A private key of
        another key, or one that cannot be read, is an error naming both fingerprints under V(fail) and
        V(partial_idempotence); V(never) keeps everything with a warning; V(full_idempotence) and
        V(always) remove that private key and install the public key alone.
    type: str
    default: partial_idempotence
    choices: [never, fail, partial_idempotence, full_idempotence, always]
  private_key_format:
    description:
      - The format of the private key file.
      - V(auto) and V(openssh) write the OpenSSH format, as C(ssh-keygen) does by default. With
        V(auto) an existing key in another format is accepted as it is.
      - V(pkcs1) writes the traditional PEM format (not for V(ed25519)); V(pkcs8) the PKCS#8 PEM format.
    type: str
    default: auto
    choices: [auto, openssh, pkcs1, pkcs8]
  private_key:
    description:
      - Import this private key (the content of an OpenSSH, PKCS#1 or PKCS#8 PEM private key file)
        instead of generating one. It must load (with O(passphrase) when it is protected); the public
        key is derived from it and written to C(NAME.pub).
      - The key is installed as it is given (format and protection); for an OpenSSH format key the
        comment is stored in the key as C(ssh-keygen -c) does.
      - When O(comment) is not set, the comment of the given key (or of O(public_key)) is used.
      - Never shown in results, diffs or messages. Ignored with O(state=absent).
    type: str
  public_key:
    description:
      - A public key line (C(type base64 [comment])), read as sshd and C(ssh-keygen -l) read it (the same reader
        as M(keysmith.accounts.ssh_authkey)); C(rsa-sha2-512) or C(rsa-sha2-256) as the type name is the C(ssh-rsa)
        key, written as C(ssh-rsa).
      - With O(private_key), it must be the public key of that key (it may bring the comment).
      - Alone, only C(NAME.pub) is installed; there is no private key. See O(regenerate) for an
        existing private key of another key. Certificates are refused. Ignored with O(state=absent).
    type: str
  ppk:
    description:
      - Also write the key in PuTTY's private key format, version 3, to C(PATH.ppk) (mode V(0600)),
        with the key's comment.
      - Protected by O(passphrase) when one is set (AES-256-CBC, Argon2id key derivation as PuTTY does);
        that needs C(cryptography) 44 or later or the C(argon2-cffi) Python package on the target.
        Unprotected export needs only C(cryptography).
      - The file is rewritten when it is missing, does not open with the passphrase (or is protected
        while no passphrase is set, or the other way round), holds another key or comment, or the key is
        (re)generated or imported. A correct file is kept; it is verified, not compared byte for byte.
      - With V(false) an existing C(.ppk) is left alone. O(state=absent) removes C(PATH.ppk) when it is
        a PuTTY key file of the removed key.
      - Needs a private key; an error with O(public_key) alone.
    type: bool
    default: false
notes:
  - The private key is never returned. To hand a new private key over once, see
    M(keysmith.accounts.keypair).
seealso:
  - name: cPanel API 2 SSH::genkey
    description: The API whose parameters and reason text this module follows.
    link: https://api.docs.cpanel.net/cpanel-api-2/cpanel-api-2-modules-ssh/cpanel-api-2-functions-ssh-genkey/
  - module: community.crypto.openssh_keypair
    description: Generates key pairs at arbitrary paths; the meaning of O(regenerate) is the same.
'''

EXAMPLES = r'''
- name: Give alice an ed25519 key protected by a passphrase
  keysmith.accounts.ssh_genkey:
    user: alice
    name: id_ed25519
    type: ed25519
    passphrase: "{{ vault_alice_key_passphrase }}"
    comment: alice@example.com
  become: true

- name: The cPanel genkey call, as a task (rsa, 4096 bits)
  keysmith.accounts.ssh_genkey:
    user: alice
    name: deploy
    size: 4096
    pass: "{{ vault_deploy_passphrase }}"
    type: rsa

- name: A key for a rootless demo account under a custom home
  keysmith.accounts.ssh_genkey:
    home: /srv/demo/alice
    name: id_ecdsa
    type: ecdsa
    size: 384
  register: key

- name: Show its fingerprint and randomart
  ansible.builtin.debug:
    msg: "{{ key.fingerprint | default('(check mode: no key yet)') }}\n{{ key.randomart | default('') }}"

- name: Replace the key when it does not match, even if it cannot be read any more
  keysmith.accounts.ssh_genkey:
    user: alice
    name: id_rsa
    regenerate: full_idempotence

- name: Import an existing key pair, and export it for PuTTY as well
  keysmith.accounts.ssh_genkey:
    user: alice
    name: id_ed25519
    private_key: "{{ vault_alice_private_key }}"
    passphrase: "{{ vault_alice_key_passphrase }}"
    ppk: true

- name: Install only a public key (for example of a hardware token) as ~/.ssh/yubikey.pub
  keysmith.accounts.ssh_genkey:
    user: alice
    name: yubikey
    public_key: "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIDc6Ja/Pe3dFT2mQOfgOb2bMPBpMjeTRxKIhn59OEPsGAAAABHNzaDo= alice@token"

- name: Remove a key pair (and its .ppk)
  keysmith.accounts.ssh_genkey:
    user: alice
    name: old_key
    state: absent
'''

RETURN = r'''
path:
  description: The private key file.
  returned: always
  type: str
  sample: /home/alice/.ssh/id_ed25519
public_key_path:
  description: The public key file.
  returned: always
  type: str
  sample: /home/alice/.ssh/id_ed25519.pub
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
ppk_path:
  description: The PuTTY key file.
  returned: when O(ppk=true) and O(state=present)
  type: str
  sample: /home/alice/.ssh/id_ed25519.ppk
actions:
  description: What the run did (in check mode, what it would do), in order. Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["create directory /home/alice/.ssh (0700)", "generate /home/alice/.ssh/id_ed25519 (ed25519 256)"]
public_key:
  description: The public key, as in the C(.pub) file.
  returned: when O(state=present) and the key exists (not for a key that check mode would create)
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ alice@example.com
fingerprint:
  description: The SHA256 fingerprint, as C(ssh-keygen -l) prints it.
  returned: when RV(public_key) is returned
  type: str
  sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
fingerprint_md5:
  description: The MD5 fingerprint in colon-separated hex, as cPanel's genkey reports it.
  returned: when RV(public_key) is returned
  type: str
  sample: 89:7b:05:97:f7:93:ef:66:95:48:d3:de:e1:0d:21:3f
randomart:
  description: The key's randomart image, identical to C(ssh-keygen -lv).
  returned: when RV(public_key) is returned
  type: str
  sample: "+--[ED25519 256]--+\n|        .o.      |\n...\n+----[SHA256]-----+"
type:
  description: The key type.
  returned: when RV(public_key) is returned
  type: str
  sample: ed25519
size:
  description: The key size in bits.
  returned: when RV(public_key) is returned
  type: int
  sample: 256
comment:
  description: The public key's comment.
  returned: when RV(public_key) is returned
  type: str
  sample: alice@example.com
reason:
  description:
    - A text like cPanel's genkey C(reason) - where the identification and the public key were saved,
      the fingerprint and the randomart - or what is up to date, or what check mode would do.
  returned: always
  type: str
  sample: "Generating public/private ed25519 key pair.\nYour identification has been saved in /home/alice/.ssh/id_ed25519\n..."
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import ACCOUNT, BACKEND, SSH_GENKEY, module_spec


def build(module):
    params = module.params
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = KeyPairSpec(
        account,
        name=params['name'],
        path=params['path'],
        key_type=params['type'],
        bits=params['size'],
        passphrase=params['passphrase'],
        comment=params['comment'],
        state=params['state'],
        regenerate=params['regenerate'],
        private_key_format=params['private_key_format'],
        backend=params['backend'],
        follow=params['follow'],
        private_key=params['private_key'],
        public_key=params['public_key'],
        ppk=params['ppk'],
    )
    return SshKeyPair(spec)


def main():
    module = module_spec(SSH_GENKEY, ACCOUNT, BACKEND).create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
