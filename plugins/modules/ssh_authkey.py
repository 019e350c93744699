#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_authkey
short_description: Authorize or revoke SSH public keys in an account's C(authorized_keys), declaratively
version_added: 0.1.0
description:
  - Authorizes public keys for a user account, as WHM's C(authorizesshkey) does, but idempotently and for
    many keys in one task. O(state=absent) (or O(authorize=false)) revokes them.
  - The file is read the way sshd reads it, following the rules of OpenSSH 9.2 (Debian 12) - C(sshkey_read),
    C(sshkey_from_blob), C(sshauthopt_parse) and the login checks of C(auth2-pubkeyfile.c). A test suite
    compares this reading with a real sshd line by line.
  - Every OpenSSH key type is understood, including C(sk-ecdsa-sha2-nistp256@openssh.com),
    C(sk-ssh-ed25519@openssh.com) and the C(*-cert-v01@openssh.com) certificates, with or without options; the
    base64 data of each key is decoded as sshd decodes it (white space inside it is skipped, padding must be
    exact) and its inner type must match the type written before it.
  - A key is identified by its public key material, never by its comment - as sshd compares keys. A line that
    writes the same key another way (C(rsa-sha2-512) for C(ssh-rsa), numbers with leading zero bytes) holds the
    same key, so O(state=absent) and O(exclusive=true) remove it too. When the options or the comment of an
    authorized key differ from the task, its line is rewritten in place.
  - Lines the task does not manage stay exactly as they are, in order, byte for byte - comments, blank lines,
    other keys and lines sshd cannot read. A file without a final newline keeps it that way unless a key is
    appended.
  - A C(cert-authority) line and a plain line of the same key are two different authorizations - the first lets
    in certificates signed by the key, the second the key itself. A line is managed by its identity (key
    material, is a C(cert-authority) line). A task whose options (O(options), or those written in front of the
    key in O(key)) contain C(cert-authority) manages only the C(cert-authority) lines of its key; a task without
    it manages only the plain lines of its key. The other kind is never changed - O(state=present) of a CA key
    adds a plain line beside its C(cert-authority) line and O(state=absent) of it leaves the C(cert-authority)
    line. O(exclusive=true) removes every line whose identity is not given (the C(cert-authority) line of a key
    given without C(cert-authority) too). Duplicates (below) are counted within one identity.
  - If the same key is on several lines, it is reported in a warning and in RV(duplicates). With O(state=present)
    the first line is the one managed and the later copies of a key the task names are removed, because sshd
    tries every matching line and a later copy with weaker options (no C(from=)) would still let the key in.
    O(state=absent) removes every copy. Copies of keys the task does not name are kept, unless O(exclusive=true).
  - The read-modify-write holds an C(flock) on the file's directory, re-reads the file under the lock and writes
    it atomically, so concurrent tasks adding different keys to the same file all land.
  - A file in the home gets mode V(0600) and the account as owner; the directory C(~/.ssh) mode V(0700) (see
    O(manage_dir)). A file outside the home (a central C(AuthorizedKeysFile)) keeps its owner and mode, a new one
    there is C(root:root) V(0644); O(owner), O(group) and O(mode) set them.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.account
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the file and reports exactly the actions and per-key results a real run gives.
      - For a user that does not exist yet, or a O(file) that does not exist yet, it reports the change with a
        warning instead of failing (an earlier task of the play may create them).
  diff_mode:
    support: full
    details: The diff shows the whole file before and after (a file larger than 4 MiB by its size and the planned change only).
  platform:
    platforms: posix
options:
  key:
    description:
      - The public key(s) to authorize or revoke, as C(type base64 [comment]) lines.
      - One key, a list of keys, or a multi-line string with one key per line (blank lines and lines starting
        with C(#) are ignored). A line may start with OpenSSH options, as in C(authorized_keys); O(options)
        replaces them when given.
      - An empty list (or a string with no key) is allowed only with O(exclusive=true), to remove every key.
      - A key that does not parse is an error naming the key by its position, and the file is left untouched.
      - The text is split into lines only at newlines, as sshd splits a file, and each line is read as sshd reads
        a line of C(authorized_keys) (a NUL byte ends it). The comment is compared after dropping trailing
        spaces, tabs and a carriage return, on both sides, so a line copied byte for byte is unchanged.
      - A certificate (C(*-cert-v01@openssh.com)) is an error - sshd never lets a certificate line in
        C(authorized_keys) log in; authorize the CA key with C(cert-authority) instead.
      - Exactly one of O(key) and O(file) is required.
    type: raw
    aliases: [text]
  file:
    description:
      - The absolute path, on the target, of a public key file to authorize (the seed API's C(file)).
      - It may hold several keys, one per line. A missing file or a bad key in it is an error.
      - Exactly one of O(key) and O(file) is required.
    type: path
  path:
    description:
      - The C(authorized_keys) file to edit. An absolute path, or a path starting with C(~/) relative to the
        account's home.
    type: str
    default: ~/.ssh/authorized_keys
  state:
    description:
      - V(present) authorizes the keys, V(absent) removes every line holding them.
      - Defaults to V(present), or to what O(authorize) says. Giving both with opposite meanings is an error.
    type: str
    choices: [present, absent]
  authorize:
    description:
      - The seed API's C(authorize) - V(true) means O(state=present), V(false) means O(state=absent).
    type: bool
  options:
    description:
      - OpenSSH key options for every given key, for example C(from="10.0.0.0/8",no-pty) or
        C(restrict,command="/usr/bin/backup").
      - Written as C(authorized_keys) wants them - comma separated, values in double quotes, C(\") for a
        quote inside a value. White space after a comma is accepted here and dropped in the file (sshd ends
        the options at the first space outside quotes).
      - Checked like sshd checks them - unknown names, a flag with a value, a missing quote, a second
        C(command=)/C(from=)/C(principals=), a bad C(environment=), C(expiry-time=), C(tunnel=),
        C(permitopen=) or C(permitlisten=), too many C(environment=)/C(permitopen=)/C(permitlisten=) are
        errors, since sshd would ignore the whole line. Empty elements (C(a,,b)) and a trailing comma
        (C(no-pty,)) are skipped as sshd skips them in a line - the options are read by the same rules as
        the options of a line in the file.
      - Options sshd parses but then refuses every login with are errors too - an invalid C(from=) criterion
        (an empty element, a network like C(10.0.0.1/8)), C(principals=) without C(cert-authority),
        C(cert-authority) with a C(principals=) list that names no principal (C(principals=""); sshd reads
        the list up to its first empty name), and an C(expiry-time=) in the past.
      - With C(cert-authority) the task manages the C(cert-authority) lines of its keys, not their plain lines
        (see the notes).
      - Compared semantically - option names without regard to case, values after unquoting, in order (order
        matters to sshd, for example C(restrict,pty)). The same options written differently leave the line
        unchanged.
      - When omitted, each key gets the options written in front of it in O(key) (usually none), so the
        options of an existing line are removed. Use V("") to say "no options" explicitly.
    type: str
  comment:
    description:
      - The comment of every given key, instead of the comment in the key text.
      - When omitted, each key keeps the comment of its text (none if it has none).
    type: str
  exclusive:
    description:
      - Remove every line holding another key (even one whose options sshd would reject), so that only the
        given keys stay, each on one line. A line is another key unless its key and its kind (C(cert-authority)
        or plain) are given.
      - Comments, blank lines and lines that hold no key sshd can read are kept.
      - Only with O(state=present).
    type: bool
    default: false
  manage_dir:
    description:
      - Create the directory of the file (C(~/.ssh)) when missing and give it mode V(0700) and the account as
        owner. Applies only to a directory below the home; the directory of a file elsewhere must exist.
      - With V(false) a missing directory is an error.
    type: bool
    default: true
  backup:
    description:
      - Keep the previous content of the file next to it, with a time stamp in the name, when it changes.
    type: bool
    default: false
  owner:
    description:
      - The owner of the file (a user name or a number), for a central layout (an C(AuthorizedKeysFile) outside
        the homes, such as C(/etc/ssh/authorized_keys/%u), which the account must not be able to change).
      - When omitted, a file in the home belongs to the account; a file outside the home keeps its owner, group
        and mode, and a new one there is C(root:root) V(0644) (sshd reads it with the account's rights). The
        backup of such a file gets its owner and mode too.
      - Not applied to a file reached through a link (O(follow)), which keeps its owner and mode.
    type: str
  group:
    description: The group of the file (a name or a number); see O(owner).
    type: str
  mode:
    description:
      - The mode of the file, octal (V('0640')), see O(owner). A mode that lets the group or others write is an
        error (sshd refuses such a file).
    type: raw
  expire_at:
    description:
      - Expire the given keys instead of authorizing them (key rotation with a grace period) - every line holding
        one of them gets the option C(expiry-time="EXPIRE_AT"), after which sshd itself refuses it, even if no
        later run happens. The line's other options and its comment stay as they are.
      - A line whose own C(expiry-time) is at or before O(expire_at) keeps it, so a re-run with a later time
        never moves the deadline; a later one is brought forward. A given key that is not in the file is not
        added (its RV(keys[].options) is V(null)).
      - The time as sshd reads C(expiry-time) - V(YYYYMMDD), V(YYYYMMDDHHMM) or V(YYYYMMDDHHMMSS), followed by
        V(Z) for UTC (without it, the target's local time). A time in the past makes sshd refuse the lines at
        once (with a warning).
      - Only with O(state=present), without O(exclusive), O(options) and O(comment).
    type: str
  remove_expired:
    description:
      - Remove every key line of the file whose C(expiry-time) has passed (sshd refuses those lines), whatever
        key it holds, before the other edits. Lines of keys the task does not name are reported in RV(keys) as
        V(removed).
      - With O(expire_at) this is the cleanup run of a rotation - the lines expired by an earlier run are
        removed, the others get their expiry.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for the C(flock) on the file's directory, held by another run or by the account itself
        (it owns C(~/.ssh)). When it is not released in time the task fails with an error naming the lock.
    type: int
    default: 60
notes:
  - O(follow=false) (the default) refuses a symlinked C(authorized_keys) or C(~/.ssh), a hard-linked file and
    files or directories owned by another user.
  - O(follow=true) is for two layouts - a link to the account's own file (owned by it, readable and writable by
    it), or a central, root-managed file (owned by root, writable by nobody else, in directories only root can
    change, reached through links only root can change, such as a root-owned link in a root-owned C(~/.ssh)).
    Anything else is refused before the target is read - a link in a directory the account can write that leads
    to a file the account could not write itself (C(/etc/shadow)) is the account's attempt to make root read or
    write it. A followed file or directory keeps its owner and mode; it is never given to the account.
  - Only keys sshd reads as keys are managed; shortened type names such as C(RSA) are not key types for sshd
    at the start of a line and such lines are kept as lines it cannot read.
  - The signature of a certificate line is verified as sshd verifies it when the Python C(cryptography) library is
    present on the target (RSA, ECDSA and Ed25519 CA keys); without it such a line is read without that check. A
    certificate line never lets a key log in, so this only changes which lines count as key lines.
seealso:
  - name: WHM API 1 authorizesshkey
    description: The API whose parameters (C(user), C(file) or C(text), C(authorize), C(options)) and output this
      module follows.
    link: https://api.docs.cpanel.net/openapi/whm/operation/authorizesshkey/
  - module: keysmith.accounts.ssh_genkey
  - module: ansible.posix.authorized_key
  - name: sshd(8) AUTHORIZED_KEYS FILE FORMAT
    description: The file format and the options.
    link: https://man.openbsd.org/sshd#AUTHORIZED_KEYS_FILE_FORMAT
'''

EXAMPLES = r'''
- name: Authorize alice's laptop key
  keysmith.accounts.ssh_authkey:
    user: alice
    key: "{{ lookup('ansible.builtin.file', 'keys/alice_laptop.pub') }}"
  become: true

- name: A key pair of alice whose public key the next task authorizes
  keysmith.accounts.ssh_genkey:
    user: alice
    name: deploy
    type: ed25519

- name: The seed API call - authorize a public key file on the target, with options
  keysmith.accounts.ssh_authkey:
    user: alice
    file: /home/alice/.ssh/deploy.pub
    authorize: true
    options: from="10.0.0.0/8",no-pty

- name: Several keys at once, from a list, with one comment for all of them
  keysmith.accounts.ssh_authkey:
    user: backup
    key:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ backup1
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7Oj56Za+q/c2ufaJKkQqqEgxZXq0OucUdPb5J1UCGF backup2
    options: restrict,command="/usr/local/bin/backup-receive"
    comment: managed by ansible

- name: Only the keys of the team stay (every other key is removed)
  keysmith.accounts.ssh_authkey:
    user: deploy
    key: "{{ team_public_keys | join('\n') }}"
    exclusive: true
    backup: true

- name: Revoke a key (the WHM way, authorize false)
  keysmith.accounts.ssh_authkey:
    user: alice
    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ
    authorize: false
  register: revoked

- name: Rotation - the old key expires in a week (a re-run keeps the first deadline)
  keysmith.accounts.ssh_authkey:
    user: deploy
    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7Oj56Za+q/c2ufaJKkQqqEgxZXq0OucUdPb5J1UCGF old-deploy-key
    expire_at: "{{ '%Y%m%d%H%M%SZ' | strftime(now().timestamp() + 7 * 86400, utc=true) }}"
    remove_expired: true

- name: Show what happened to each key
  ansible.builtin.debug:
    msg: "{{ revoked['keys'] | map(attribute='action') }}"
'''

RETURN = r'''
file:
  description: The public key file given in O(file) (the seed API's C(file)); null when O(key) was used.
  returned: always
  type: str
  sample: /home/alice/.ssh/deploy.pub
authorized:
  description:
    - The seed API's C(authorized) - true when the given keys end up authorized (O(state=present)),
      false when they end up revoked.
  returned: always
  type: bool
  sample: true
path:
  description: The C(authorized_keys) file.
  returned: always
  type: str
  sample: /home/alice/.ssh/authorized_keys
user:
  description: The account.
  returned: always
  type: str
  sample: alice
state:
  description: The state the keys were brought to.
  returned: always
  type: str
  sample: present
exclusive:
  description: Whether other keys were removed.
  returned: always
  type: bool
  sample: false
actions:
  description: What the run did (in check mode, what it would do), in order. Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["create directory /home/alice/.ssh (0700)", "create /home/alice/.ssh/authorized_keys (add 1 key)"]
keys:
  description:
    - One entry per given key, in order, then one per other key that O(remove_expired) or O(exclusive) removed
      (the first 1000 of those; RV(keys_not_listed) counts the others).
    - Empty in check mode when O(file) does not exist yet.
  returned: always
  type: list
  elements: dict
  contains:
    fingerprint:
      description: The SHA256 fingerprint, as C(ssh-keygen -l) prints it (of the certified key for a certificate).
      type: str
      sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
    type:
      description: The key type.
      type: str
      sample: ssh-ed25519
    comment:
      description: The key's comment in the file.
      type: str
      sample: alice@laptop
    options:
      description:
        - The key's options as written in the file (null for a removed key).
        - With O(expire_at), the options of the key's first line after the run; V(null) when the key is not in
          the file (or only on a line whose options sshd refuses, so it cannot log in through it).
      type: str
      sample: from="10.0.0.0/8",no-pty
    action:
      description: V(added), V(updated) (options or comment rewritten, or later duplicates removed),
        V(removed) or V(unchanged).
      type: str
      sample: added
duplicates:
  description: Keys that were on more than one line of the file when it was read.
  returned: always
  type: list
  elements: dict
  contains:
    fingerprint:
      description: The SHA256 fingerprint.
      type: str
    type:
      description: The key type.
      type: str
    lines:
      description: The line numbers (from 1) holding the key; the first 100 when there are more (see RV(duplicates[].line_count)).
      type: list
      elements: int
    line_count:
      description: How many lines hold the key; only when there are more than 100 (RV(duplicates[].lines) lists the first 100).
      type: int
    action:
      description: V(removed duplicates) (first kept, later removed), V(removed) (all removed) or V(kept).
      type: str
  sample: [{"fingerprint": "SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc", "type": "ssh-ed25519",
            "lines": [2, 7], "action": "removed duplicates"}]
duplicates_not_listed:
  description:
    - Keys on several lines not listed in RV(duplicates) (it lists the first 1000; warnings name the first 20).
  returned: when a file holds more than 1000 keys that are on several lines
  type: int
  sample: 5000
keys_not_listed:
  description:
    - Keys the task did not name that this run removed (O(exclusive), O(remove_expired)) and that are not
      listed in RV(keys), which lists the first 1000 of them (a file can hold hundreds of thousands).
      The file is edited exactly; the result only shortens the list. The given keys are always listed.
  returned: when more than 1000 keys the task did not name were removed
  type: int
  sample: 250000
expire_at:
  description: The O(expire_at) given.
  returned: when O(expire_at) is given
  type: str
  sample: 20260101120000Z
backup_file:
  description: The copy of the previous content, when O(backup=true) and the file changed.
  returned: changed and O(backup=true)
  type: str
  sample: /home/alice/.ssh/authorized_keys.12345.2026-01-01@12:00:00~
'''


from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Locks
from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import (
    ACCOUNT,
    LOCKING,
    SSH_AUTHKEY,
    SSH_AUTHKEY_EXPIRY,
    module_spec,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import (
    AuthKeySpec,
    SshAuthKey,
)


def build(module):
    params = module.params
    locks = Locks(params['lock_timeout'])
    account = Account.resolve(params['user'], params['home'], check_mode=module.check_mode)
    spec = AuthKeySpec(
        account,
        key=params['key'],
        key_file=params['file'],
        path=params['path'],
        state=params['state'],
        authorize=params['authorize'],
        options=params['options'],
        comment=params['comment'],
        exclusive=params['exclusive'],
        manage_dir=params['manage_dir'],
        follow=params['follow'],
        backup=params['backup'],
        expire_at=params['expire_at'],
        remove_expired=params['remove_expired'],
        owner=params['owner'],
        group=params['group'],
        mode=params['mode'],
    )
    return SshAuthKey(spec, locks=locks)


def main():
    # lock_timeout and the expiry options are this module's, not options of provision's items
    module = module_spec(SSH_AUTHKEY, SSH_AUTHKEY_EXPIRY, LOCKING, ACCOUNT).create_module(
        KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
