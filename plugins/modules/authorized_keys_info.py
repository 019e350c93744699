#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: authorized_keys_info
short_description: Who can log in with which SSH key, read the way sshd reads it
version_added: 0.1.0
description:
  - For every account of the host (or the accounts selected by O(users), O(uid_min), O(uid_max)),
    lists the C(authorized_keys) files sshd looks at and every key in them, and says whether sshd
    would let the key in and why not.
  - The files are the effective C(AuthorizedKeysFile) of each account, from C(sshd -T) (with
    C(-C user=NAME,host=,addr=) per account when the configuration has C(Match) blocks; when no C(Match)
    block names a user, once per distinct answer of the C(Match Group) lists). When
    C(sshd -T) fails the module reads O(sshd_config) (global section and its C(Include) files) and
    sshd's defaults, and warns. C(sshd -T) prints the entries joined by spaces; an entry quoted in the
    configuration because it holds a space (C("/etc/ssh/keys dir/%u")) is read back from the
    configuration's C(AuthorizedKeysFile) lines. Tokens C(%%), C(%h), C(%u), C(%U) are expanded;
    relative paths are taken relative to the home directory; the path is not normalised (C(..) after a
    symbolic link to a directory is resolved by the kernel, as when sshd opens it). An unknown token
    (C(%x)) is fatal in sshd; the search ends at that entry, its later entries never count (their keys
    are reported as refused) and a client that offers another key first is disconnected; the module warns.
  - The files are opened as sshd opens them, with the account's rights (effective uid, gid and groups of
    the account, symbolic links followed, regular files only), so permission bits, ACLs, unsearchable
    directories and links to files the account cannot read count exactly as for sshd; nothing of a file
    the account cannot read is reported. This needs root; without root only the module's own account is
    judged, and the other accounts whose files exist are reported as V(not audited), never as having
    no keys. A file longer than 64 MiB is read up to that limit and its account is V(incomplete).
    See RV(accounts[].status).
  - A file is used by sshd only when the account can open it, it is a regular file and, with
    C(StrictModes yes), the file and every directory up to the home directory (or C(/)) are owned
    by root or the account and not writable by group or others (OpenSSH C(auth_secure_path); see
    O(sshd_flavor) for Debian's exception).
  - A key line is accepted when its file is used and sshd's rules (the collection's port of OpenSSH
    9.2, checked against a real sshd) do not refuse it - the same rules ssh_authkey uses. Refused
    are lines whose options sshd refuses, whose C(expiry-time) has passed (read as sshd reads it,
    C(Z)/C(UTC) suffixes in any case, local time otherwise), with C(principals=) but no
    C(cert-authority), with an invalid C(from=) (an empty element, a mask that does not fit the
    address), and certificates written as a line (sshd never matches them). A plain key needs an
    algorithm of its type in C(PubkeyAcceptedAlgorithms) and an RSA key at least C(RequiredRSASize)
    bits.
  - A C(cert-authority) line is accepted when certificates signed by its key can log in - some
    certificate algorithm (C(*-cert-v01@openssh.com)) is in C(PubkeyAcceptedAlgorithms), a
    signature algorithm of the CA key is in C(CASignatureAlgorithms), and its C(principals=), if
    given, names a principal (sshd reads the list up to its first empty name).
  - A key is also refused when it is in C(RevokedKeys) (a KRL is asked with C(ssh-keygen -Q); a
    C(RevokedKeys) file sshd cannot read refuses every key), and when the account may not log in with a key
    at all - C(PubkeyAuthentication), C(DenyUsers), C(AllowUsers) (also C(user@host) patterns),
    C(DenyGroups), C(AllowGroups) (primary and supplementary groups) and C(AuthenticationMethods)
    (a key alone must complete one of the lists) - see RV(accounts[].login_refused_reasons).
  - Every verdict is made per client context (O(clients)), sshd's settings are asked with
    C(sshd -T -C user=NAME,host=HOST,addr=ADDR[,laddr=..,lport=..]), so C(Match Address), C(Host),
    C(LocalAddress) and C(LocalPort) blocks apply, and C(from=) is evaluated for the client. A key is
    accepted when it is accepted for at least one evaluated client; RV(accounts[].keys[].clients) has
    the verdict per client and RV(accounts[].keys[].client_dependent) says when they differ.
  - The module only reads. It returns public data only; lines that are not keys are reported by
    line number, never by content.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - keysmith.accounts.attributes
  - keysmith.accounts.attributes.info_module
options:
  users:
    description:
      - Audit only these accounts. A name that does not exist is skipped with a warning.
      - Default is every account of the password database.
    type: list
    elements: str
  uid_min:
    description: Audit only accounts with at least this uid.
    type: int
  uid_max:
    description: Audit only accounts with at most this uid.
    type: int
  managed_keys:
    description:
      - The keys that are meant to exist, as public key lines (C(type base64 [comment]), options
        allowed) or fingerprints (C(SHA256:...) or C(MD5:xx:...)).
      - When set, every key not in the list is reported with RV(accounts[].keys[].managed=false)
        and counted in RV(summary.unmanaged).
    type: list
    elements: str
  managed_keys_by_user:
    description:
      - The keys meant to exist per account, as a mapping of account name to a list like O(managed_keys).
      - An account named here is judged by its own list (a key managed for another account is unmanaged on
        it), the others by O(managed_keys) - the same lists the C(access_cleanup.yml) playbook enforces with
        M(keysmith.accounts.ssh_authkey)'s O(keysmith.accounts.ssh_authkey#module:exclusive).
    type: dict
  weak_policy:
    description: What counts as a weak key.
    type: dict
    suboptions:
      rsa_min_bits:
        description: RSA keys with fewer bits are weak.
        type: int
        default: 2048
      ecdsa_min_bits:
        description: ECDSA keys with fewer bits are weak (V(0) never).
        type: int
        default: 0
      weak_types:
        description: Key families that are always weak (C(dsa), C(rsa), C(ecdsa), C(ed25519), C(sk-ecdsa), C(sk-ed25519)).
        type: list
        elements: str
        default: [dsa]
  clients:
    description:
      - The clients to judge every key for, as sshd sees them before any key.
      - When not set, "any client" - one client context per pattern of the C(Match Address), C(Host),
        C(LocalAddress) and C(LocalPort) lines of O(sshd_config) and its C(Include) files and of the
        host parts of C(DenyUsers)/C(AllowUsers) (an address the pattern matches), plus one matching
        none (C(192.0.2.1), a documentation address; these addresses are only passed to C(sshd -T),
        never connected to). A key whose valid C(from=) allows none of them is also judged for an
        address its C(from=) allows. A host pattern no address can match is named in a warning.
      - A C(Match RDomain) block cannot be evaluated and is taken as not matching, with a warning; so
        are C(Match LocalAddress)/C(LocalPort) blocks for a client without O(clients[].laddr)/O(clients[].lport).
    type: list
    elements: dict
    suboptions:
      addr:
        description: The client's IP address.
        type: str
        required: true
      host:
        description:
          - The client's host name as sshd resolves it with C(UseDNS yes). Default is O(clients[].addr),
            which is what sshd uses with C(UseDNS no) (the default; then a different host is ignored with a warning).
        type: str
      laddr:
        description: The local address the client connects to (C(Match LocalAddress)).
        type: str
      lport:
        description: The local port the client connects to (C(Match LocalPort)).
        type: int
  max_keys:
    description:
      - The most key lines judged and listed per C(authorized_keys) file, to bound the module's memory
        and its result (a file under the 64 MiB read limit can hold 700,000 key lines; each listed key
        costs a few KiB).
      - The lines after it are counted (RV(accounts[].files[].keys), RV(accounts[].files[].keys_not_listed)),
        not judged; their account is V(incomplete) with the reason in RV(accounts[].status_reasons), and
        RV(summary.keys_not_listed) counts them for the whole run.
      - The whole run judges at most 50,000 key lines (all accounts and files), or O(max_keys) when that is more;
        the files read after that are counted the same way.
    type: int
    default: 10000
  sshd_config:
    description: The sshd configuration file to evaluate.
    type: path
    default: /etc/ssh/sshd_config
  sshd_path:
    description: The sshd binary. Default is C(sshd) on the PATH or in C(/usr/sbin).
    type: path
  sshd_flavor:
    description:
      - Which C(StrictModes) rule the host's sshd applies.
      - V(openssh) refuses a file or directory writable by its group.
      - V(debian) is OpenSSH with Debian's patch (Debian, Ubuntu and their derivatives) that accepts a
        group-writable file or directory when its group has exactly one member, the account (user private groups).
      - V(auto) is V(debian) when C(/etc/debian_version) exists, else V(openssh).
    type: str
    choices: [auto, openssh, debian]
    default: auto
  usage:
    description:
      - Usage evidence - read sshd's own login records on the host and add to every key RV(accounts[].keys[].last_used),
        RV(accounts[].keys[].uses), RV(accounts[].keys[].used_from) and RV(accounts[].keys[].unused); RV(usage) says
        what was read.
      - "A record is sshd's C(Accepted publickey for USER from ADDR port N ssh2: TYPE SHA256:...) (a certificate login
        counts for the certified key and for the C(cert-authority) line of its CA, with its key id)."
      - The journal is read through C(journalctl -o json), only entries of C(sshd)/C(sshd-session) running as root
        (C(_COMM), C(_UID) - set by journald, an account cannot forge them). Syslog files (C(auth.log), C(secure),
        their rotated copies C(.1), C(.2.gz), C(-20240101)) are streamed, never read whole; a line there cannot be told
        from one any local user writes with C(logger -t sshd), so prefer the journal where the host has one.
      - Log files are opened only in a directory only root (or a system group, as Ubuntu's C(/var/log)) can change,
        without following a symbolic link; a file that cannot be read is listed in RV(usage.sources) as V(not read)
        with the reason.
      - A key is RV(accounts[].keys[].unused) V(true) only when every source was read completely; otherwise V(null).
    type: dict
    suboptions:
      since:
        description:
          - Count logins at or after this time - a date C(YYYY-MM-DD), a UTC time C(YYYY-MM-DDTHH:MM:SSZ) or a number of
            days, hours or weeks ago (V(90d), V(12h), V(2w)). Default - everything in the logs.
          - Log files last written before it are skipped unread; in a large file the first line at or after it is found
            by bisection, so only the tail is read.
        type: str
      sources:
        description:
          - V(journal), V(files) (the syslog files of O(usage.paths)) or V(auto) (the journal when the host keeps one,
            else the files).
        type: list
        elements: str
        choices: [auto, journal, files]
        default: [auto]
      paths:
        description: The syslog files to read with their rotated copies.
        type: list
        elements: path
        default: [/var/log/auth.log, /var/log/secure]
      max_bytes:
        description: Read at most this many bytes of log in all (newest first); past it the evidence is incomplete.
        type: int
        default: 8589934592
      journal_directory:
        description:
          - Read the journal files in this directory (C(journalctl --directory)) instead of the host's journal - the
            persistent journal of a container, a copied C(/var/log/journal), a C(systemd-journal-remote) directory.
            journalctl reads the files there and in its machine-id subdirectories.
          - It is read only when it and its subdirectories can be changed by root (and system groups) alone, as the
            directories of O(usage.paths), and hold no symbolic link; otherwise RV(usage.sources) says V(not read)
            with the reason (an account that can write journal files could forge its logins).
          - The same entries count as in the host's journal - C(sshd)/C(sshd-session) running as root (C(_COMM),
            C(_UID)); with O(usage.sources=auto), the journal is read when this directory holds journal files.
        type: path
  private_keys:
    description:
      - List the private keys in every audited account's C(~/.ssh) (as M(keysmith.accounts.ssh_key_info) does -
        path, fingerprint, protected by a passphrase or not; never the key) in RV(accounts[].private_keys), for the
        key map of M(keysmith.accounts.access_report).
    type: bool
    default: false
  policy:
    description:
      - Key policy rules checked on this host - the same rules, names and values as the O(keysmith.accounts.access_report#module:policy)
        option of M(keysmith.accounts.access_report) (the same code judges both); the violations are in
        RV(policy_violations), so one host's run can fail a play (C(failed_when)). Each rule is off unless given.
      - C(root_requires_from) (bool) - a key sshd accepts for root (uid 0) needs C(from=);
        C(root_requires_restriction) (bool) - and C(restrict) or C(command=);
        C(max_key_age_days) (int) - no key whose first login in the logs read is older (needs O(usage));
        C(max_accounts_per_key) (int) - one key opens at most this many accounts, counted on this host;
        C(min_rsa_bits), C(min_ecdsa_bits) (int); C(allowed_types) (list of key families such as V(ed25519));
        C(max_unused_days) (int) - no login for that many days, judged only where the usage evidence is complete
        and reaches that far back (needs O(usage); without it a warning says the rule was not checked);
        C(forbid_unencrypted_root_keys) (bool) - no private key without passphrase in an audited account's C(~/.ssh)
        that opens root on this host (needs O(private_keys); without it a warning says the rule was not checked).
      - Only key lines sshd accepts are judged, as in the report.
    type: dict
seealso:
  - module: keysmith.accounts.ssh_authkey
    description: Adds and removes keys; its O(keysmith.accounts.ssh_authkey#module:exclusive) option removes unmanaged keys.
  - module: keysmith.accounts.access_report
    description: Turns the results of many hosts into JSON, CSV and HTML reports.
'''

EXAMPLES = r'''
- name: Audit the human accounts
  keysmith.accounts.authorized_keys_info:
    uid_min: 1000
    managed_keys:
      - "{{ lookup('ansible.builtin.file', 'keys/alice.pub') }}"
      - SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
  become: true
  register: access

- name: Which keys logged in during the last 90 days, and the private keys in the accounts' ~/.ssh
  keysmith.accounts.authorized_keys_info:
    uid_min: 1000
    usage:
      since: 90d
    private_keys: true
  become: true
  register: evidence

- name: Keys nobody used in those 90 days (unused is null when the logs could not all be read)
  ansible.builtin.debug:
    msg: "{{ evidence.accounts | map(attribute='keys') | flatten | selectattr('unused', 'true') | map(attribute='fingerprint') | list }}"

- name: Fail the host when the keys of its service accounts break the key policy (access_report's rules)
  keysmith.accounts.authorized_keys_info:
    users: [deploy, ops]
    usage:
      since: 180d
    private_keys: true
    policy:
      root_requires_from: true
      root_requires_restriction: true
      min_rsa_bits: 3072
      allowed_types: [ed25519, ecdsa, rsa]
      max_accounts_per_key: 1
      max_unused_days: 90
      forbid_unencrypted_root_keys: true
  become: true
  register: checked
  failed_when: checked.policy_violations | length > 0

- name: Fail when a weak key can log in
  ansible.builtin.assert:
    that: access.accounts | map(attribute='keys') | flatten | selectattr('accepted') | selectattr('weak') | list | length == 0
'''

RETURN = r'''
accounts:
  description: One entry per audited account, sorted by uid.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The account name.
      type: str
      sample: alice
    uid:
      description: The account's uid.
      type: int
      sample: 1000
    home:
      description: The home directory from the password database.
      type: str
      sample: /home/alice
    shell:
      description: The login shell.
      type: str
      sample: /bin/bash
    account_state:
      description:
        - What sshd refuses on before any key is read (OpenSSH 9.2 C(allowed_user)), for this account.
        - With C(UsePAM no) sshd refuses a locked account (its shadow password field, else its passwd one,
          starts with C(!); C(*) is no lock on Linux) and an expired account (shadow C(sp_expire) before today,
          UTC days). With C(UsePAM yes) sshd leaves both to PAM's account stack; the audit does not guess
          (C(locked) and C(expired) are V(null), a note says so).
        - Unless C(ChrootDirectory) applies, the shell (empty is C(/bin/sh)) must exist and be a regular file
          with an execute bit. C(nologin) and C(false) pass (sshd accepts the key, the session ends at once), so
          they are information in C(notes), not a refusal.
        - Password expiry is checked by sshd for password logins only, so it is information, not a refusal.
      type: dict
      contains:
        use_pam: {description: UsePAM of sshd., type: bool}
        locked:
          description: The account is locked for sshd; V(null) when not judged (UsePAM yes, shadow unreadable).
          type: bool
        expired:
          description: The account has expired for sshd; V(null) when not judged.
          type: bool
        account_expires: {description: 'The account expiry date (UTC, YYYY-MM-DD), V(null) when none.', type: str}
        password_expired: {description: The password has expired (information only)., type: bool}
        shell: {description: The shell sshd checks (an empty one is C(/bin/sh))., type: str}
        shell_ok:
          description: sshd accepts the shell; V(null) when a C(ChrootDirectory) applies (not checked).
          type: bool
        no_shell: {description: 'The shell is C(nologin) or C(false): no interactive session.', type: bool}
        chroot_directory: {description: The ChrootDirectory that applies (V(null) for none)., type: str}
        notes:
          description: What was not judged and why, and information (no shell, password expired).
          type: list
          elements: str
    sshd:
      description: The sshd settings that apply to the account for the first client context (see RV(sshd)).
      type: dict
      sample: {authorized_keys_file: [.ssh/authorized_keys], strict_modes: true, source: sshd -T}
    status:
      description:
        - V(audited) when everything sshd would read for the account was read with its rights.
        - V(incomplete) when part of it could not be read (a file cut at the 64 MiB read limit, a file that
          could not be read as the account); RV(accounts[].keys) may miss keys sshd accepts.
        - V(not audited) when nothing of it could be read (the module runs without root, the reader failed);
          the account's keys are unknown, which is not the same as having none.
      type: str
      choices: [audited, incomplete, not audited]
      sample: audited
    status_reasons:
      description: Why the account is V(incomplete) or V(not audited) (empty when V(audited)).
      type: list
      elements: str
      sample: ['not audited: not running as root: cannot open /home/bob/.ssh/authorized_keys with the rights of bob']
    login_refused_reasons:
      description:
        - Why sshd refuses every key login of the account before reading any key, for every evaluated client
          (C(PubkeyAuthentication no), C(listed in DenyUsers (bob)), C(not listed in AllowUsers),
          C(a group is listed in DenyGroups), C(none of the account's groups is listed in AllowGroups),
          C(AuthenticationMethods publickey,password - a key alone is not enough), the account's state - locked,
          expired, no valid shell, see RV(accounts[].account_state)); empty when some client may log in.
        - Each reason is also in every key's RV(accounts[].keys[].refused_reasons), and those keys are not accepted.
      type: list
      elements: str
      sample: ['account is locked (password field starts with "!")', shell /nonexistent does not exist]
    clients:
      description: Per evaluated client context, the C(client) and its C(login_refused_reasons).
      type: list
      elements: dict
    files:
      description: The C(authorized_keys) files sshd looks at, in its order.
      type: list
      elements: dict
      contains:
        path:
          description:
            - The path with tokens expanded, as sshd opens it (not normalised).
            - V(null) for an entry with an unknown token (sshd stops there, see RV(accounts[].files[].reason)).
          type: str
          sample: /home/alice/.ssh/authorized_keys
        configured:
          description: The C(AuthorizedKeysFile) entry it comes from.
          type: str
          sample: .ssh/authorized_keys
        exists:
          description:
            - Whether the file exists (V(false) only when opening it as the account says it does not exist).
            - V(null) when the file was not audited (RV(accounts[].files[].audited) is V(false)).
          type: bool
        audited:
          description:
            - The file was opened with the account's rights (or does not exist). V(false) when this run could
              not do that (no root); then nothing of the file is reported and the account is not V(audited).
          type: bool
        used:
          description: Whether sshd reads keys from it.
          type: bool
        reason:
          description:
            - Why sshd does not use it (V(null) when it does), in sshd's words where it has some.
            - A file that exists but cannot be read to its end (a link to C(/proc/self/mem)) says
              C(cannot be read) and why; a FIFO, device or other file that is not a regular file is
              never opened. Such a file is reported for its account only; the others are audited as usual.
          type: str
          sample: bad ownership or modes for directory /home/alice/.ssh
        owner_uid:
          description: The file's owner (V(null) when the account cannot open the file).
          type: int
        mode:
          description: The file's permission bits, octal (V(null) when the account cannot open the file).
          type: str
          sample: '0600'
        mtime:
          description:
            - The file's last content change (C(st_mtime), ISO 8601 UTC, whole seconds); V(null) when the account
              cannot open the file.
            - The file's owner can set it to any time (C(touch -d)), so it is information, not evidence.
          type: str
          sample: '2026-11-30T08:12:44Z'
        ctime:
          description:
            - The file's last inode change (C(st_ctime), ISO 8601 UTC, whole seconds); V(null) when the account
              cannot open the file.
            - Set by the kernel's clock only, never earlier than the write of any line now in the file, so every
              key line of the file is at least as old as this; the policy rule C(max_key_age_days) of
              M(keysmith.accounts.access_report) uses it as a lower bound of each key's age.
          type: str
          sample: '2026-11-30T08:12:44Z'
        keys:
          description: How many key lines it holds.
          type: int
        keys_not_listed:
          description:
            - How many of its key lines are neither judged nor listed in RV(accounts[].keys) (more than
              O(max_keys)); the account is then V(incomplete).
          type: int
          sample: 0
        invalid_lines:
          description:
            - Numbers of the lines sshd cannot read a key from (not comments or blank lines); the first
              1000 of them (a file can hold millions), all of them are counted in RV(accounts[].files[].invalid_line_count).
          type: list
          elements: int
        invalid_line_count:
          description: How many lines sshd cannot read a key from.
          type: int
        truncated:
          description:
            - The file was larger than the read limit (64 MiB); only its start was read (up to its last complete
              line) and the account is V(incomplete).
          type: bool
    private_keys:
      description:
        - The private keys in the account's C(~/.ssh) (with O(private_keys)) - C(path), C(fingerprint), C(type),
          C(bits), C(encrypted) (protected by a passphrase; V(null) when unknown). Never the key itself.
      returned: with O(private_keys)
      type: list
      elements: dict
    private_keys_problem:
      description: Why the private keys could not be listed (or were listed in part), V(null) otherwise.
      returned: with O(private_keys)
      type: str
    keys:
      description: Every key line of the account's files.
      type: list
      elements: dict
      contains:
        file:
          description: The file holding the line.
          type: str
        line:
          description: The line number (1-based).
          type: int
        fingerprint:
          description: The SHA256 fingerprint, as C(ssh-keygen -l) prints it.
          type: str
          sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
        type:
          description: The key family (C(rsa), C(ed25519), C(ecdsa), C(dsa), ...).
          type: str
        key_type:
          description: The key type as written in the key (wire name).
          type: str
          sample: ssh-ed25519
        bits:
          description: The key size in bits.
          type: int
        comment:
          description:
            - The key's comment.
            - Bytes that are not UTF-8 are shown as C(\xNN) (in every string of the result, paths too),
              and a warning names the fields where that was done.
          type: str
        options:
          description: The options as written on the line (bytes that are not UTF-8 as C(\xNN)).
          type: str
          sample: from="10.0.0.0/8",no-pty
        from:
          description: The C(from=) restriction, V(null) when there is none.
          type: str
        cert_authority:
          description: The line is a C(cert-authority) line (it lets in certificates signed by the key).
          type: bool
        expiry_time:
          description: The C(expiry-time) option as written, V(null) when there is none.
          type: str
        expires_at:
          description: The expiry time in UTC (ISO 8601).
          type: str
        expired:
          description: The expiry time has passed; sshd refuses the key.
          type: bool
        weak:
          description: The key is weak by O(weak_policy).
          type: bool
        weak_reasons:
          description: Why it is weak.
          type: list
          elements: str
        accepted:
          description:
            - sshd would let this key in for at least one evaluated client, the account's state and what refuses
              every key of the account (RV(accounts[].login_refused_reasons)) included.
          type: bool
        refused_reasons:
          description: Why sshd would refuse it (empty when it is accepted for some client).
          type: list
          elements: str
        revoked:
          description: The key is in the C(RevokedKeys) file (a plain key list or a KRL) for some client.
          type: bool
        clients:
          description:
            - The verdict for every evaluated client context - C(client) (C(addr), C(host), C(laddr), C(lport)),
              C(accepted) and C(refused_reasons) (a key in a file that is an C(AuthorizedKeysFile) only for some
              clients is refused for the others).
            - Only when more than one client context was evaluated for the key; with one, the key's own
              C(accepted) and C(refused_reasons) are that context's verdict.
          type: list
          elements: dict
        client_dependent:
          description:
            - The key is accepted for some evaluated clients and refused for others; without O(clients) also
              when a valid C(from=) limits the clients it opens to.
          type: bool
        managed:
          description:
            - The key is in O(managed_keys) (or the account's list of O(managed_keys_by_user)); V(null) when neither
              says anything about the account.
          type: bool
        accounts_with_key:
          description:
            - How many accounts of this host hold the key (this one included). Which ones is in RV(fingerprints).
            - Replaces C(also_on) (a list of the other accounts on every line, which made the result grow with
              the square of the accounts sharing a key).
          type: int
        last_used:
          description: The time of the last login with this key in the logs read (UTC), V(null) when none. With O(usage).
          type: str
        first_used:
          description: The time of the first login with it in the logs read. With O(usage).
          type: str
        uses:
          description: Logins with it in the logs read since O(usage.since). With O(usage).
          type: int
        used_from:
          description: Client addresses of those logins, most frequent first (at most 10). With O(usage).
          type: list
          elements: str
        used_key_ids:
          description: Key ids of the certificates that logged in through this C(cert-authority) line. With O(usage).
          type: list
          elements: str
        unused:
          description:
            - V(true) - no login in the logs read; V(false) - used; V(null) - unknown (a source could not be read
              completely, RV(usage.problems)). With O(usage).
          type: bool
        duplicate:
          description:
            - The key is a duplicate - on at least one other key line of the host (this or other accounts).
              RV(summary.duplicates) counts these lines; M(keysmith.accounts.access_report) uses the same
              meaning over the fleet.
          type: bool
    certificates:
      description:
        - Certificate access to the account, judged for every evaluated client context (as the keys are - a
          C(Match) block may change C(TrustedUserCAKeys), C(AuthorizedPrincipalsFile) or C(RevokedKeys) per client).
          The fields are those of the first context a certificate opens the account from (else of the first
          context); RV(accounts[].certificates.authorities) lists the CAs of all contexts.
      type: dict
      contains:
        trusted_user_ca_keys: {description: The TrustedUserCAKeys file (V(null) when none)., type: str}
        authorities: {description: SHA256 fingerprints of the trusted CA keys not revoked by RevokedKeys., type: list, elements: str}
        principals_from:
          description: V(AuthorizedPrincipalsFile), V(user name) (a certificate must name the account) or
            V(AuthorizedPrincipalsCommand) (not audited).
          type: str
        principals_file: {description: The AuthorizedPrincipalsFile of the account (tokens expanded)., type: str}
        principals:
          description: The principals a certificate must name one of; V(null) when they are not audited.
          type: list
          elements: str
        status: {description: 'V(audited) or V(not audited) (an AuthorizedPrincipalsCommand, or no settings).', type: str}
        reason: {description: 'Why no certificate logs in, or what was not audited.', type: str}
        can_log_in:
          description: A certificate of a trusted, unrevoked CA can log in from some client (V(null) - unknown,
            not audited).
          type: bool
        client_dependent:
          description: The contexts disagree on whether a certificate can log in (for example a CA trusted from
            one address only).
          type: bool
        clients:
          description:
            - With more than one client context, each context's view - C(client) (the context) and the fields
              above (C(trusted_user_ca_keys), C(authorities), C(principals_from), C(principals_file),
              C(principals), C(status), C(reason), C(can_log_in)).
          type: list
          elements: dict
certificate_authorities:
  description:
    - The user CAs - from TrustedUserCAKeys and accepted C(cert-authority) lines of authorized_keys - and the accounts
      their certificates open, with the principals a certificate must name. A CA revoked by RevokedKeys opens nothing.
  returned: always
  type: list
  elements: dict
  contains:
    source: {description: 'C(TrustedUserCAKeys PATH) or C(authorized_keys).', type: str}
    fingerprint: {description: The CA key's SHA256 fingerprint., type: str}
    type: {description: The CA key's type., type: str}
    bits: {description: The CA key's size., type: int}
    comment: {description: The CA key's comment., type: str}
    revoked: {description: Why sshd refuses the CA (RevokedKeys) or V(null)., type: str}
    revocation_list: {description: The RevokedKeys file sshd checks the CA's certificates against (V(null) when none)., type: str}
    revoked_serials: {description: 'Serials (and ranges, C(100-200)) of this CA''s certificates the KRL revokes.', type: list, elements: str}
    revoked_key_ids: {description: Key ids of this CA's certificates the KRL revokes., type: list, elements: str}
    accounts:
      description: C(user), C(principals) (V(null) when not audited), C(principals_from) and C(status) per account,
        and, with more than one client context, C(clients) - the contexts the CA opens the account from.
      type: list
      elements: dict
revocation_lists:
  description:
    - Per RevokedKeys KRL in use, what C(ssh-keygen -Q -l) lists - C(version), C(generated_at), C(revoked_keys)
      (how many keys, by key or hash), C(certificates) (per CA SHA256 fingerprint, V(*) for any CA - C(serials) and
      C(key_ids)) - or C(error) when it cannot be listed. Plain key lists are not listed here.
  returned: always
  type: dict
usage:
  description: What the usage evidence read (with O(usage)).
  returned: when O(usage) is given
  type: dict
  contains:
    since: {description: The start of the window (UTC) or V(null)., type: str}
    sources:
      description:
        - Every source - C(source) (V(journal) or V(file)), C(path) (of a file; of the journal, O(usage.journal_directory)
          or V(null)), C(status) (V(read), V(skipped), V(not read)),
          C(reason), C(bytes_read), C(logins), C(from_offset) (where the scan of a bisected file began), C(cut)
          (read in part), C(earliest) (its first time stamp).
      type: list
      elements: dict
    complete: {description: Every source was read in full., type: bool}
    problems: {description: What could not be read., type: list, elements: str}
    logins: {description: Public key logins found., type: int}
    earliest_login: {description: The first login found., type: str}
    latest_login: {description: The last login found., type: str}
    keys_used: {description: Key lines with at least one login., type: int}
    keys_unused: {description: Key lines without a login (V(null) when the evidence is incomplete)., type: int}
    keys_used_not_found:
      description: (user, key) pairs that logged in but are on no audited key line (removed since, certificates, other files).
      type: int
    logs_reach_back_to: {description: 'The first time stamp of the oldest log read (how far back the evidence reaches).', type: str}
    window_start: {description: 'The start of the window the evidence covers - O(usage.since) when the logs reach it, else their start.', type: str}
    covers_since: {description: The logs reach back to O(usage.since)., type: bool}
policy_violations:
  description:
    - One entry per violation of O(policy) on this host, as M(keysmith.accounts.access_report) returns them -
      C(host) (this host's name), C(user), C(fingerprint), C(file), C(line) (V(null) for a private key), C(rule),
      C(message) and C(fix) (what brings it back within the policy).
  returned: when O(policy) is given
  type: list
  elements: dict
  sample:
    - host: web1
      user: root
      fingerprint: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
      file: /root/.ssh/authorized_keys
      line: 1
      rule: root_requires_from
      message: a key that opens root without from=
      fix: add from="ADDRESSES" to the line (or remove the key)
fingerprints:
  description:
    - Reverse index, fingerprint to every place it appears (C(user), C(file), C(line), C(accepted)); where else
      a key is, said once per place.
  returned: always
  type: dict
summary:
  description: Counts over all audited accounts.
  returned: always
  type: dict
  contains:
    accounts: {description: Accounts audited., type: int}
    accounts_with_keys: {description: Accounts with at least one key line., type: int}
    accounts_without_keys:
      description: Accounts fully audited (V(audited)) with no key line; not audited accounts are never counted here.
      type: int
    accounts_not_audited: {description: 'Accounts whose files could not be read (RV(accounts[].status)).', type: int}
    accounts_incomplete: {description: 'Accounts whose files could be read only in part (RV(accounts[].status)).', type: int}
    accounts_that_can_log_in: {description: Accounts with at least one accepted key., type: int}
    files: {description: Existing authorized_keys files., type: int}
    files_ignored: {description: Existing files sshd does not use., type: int}
    keys: {description: 'Key lines judged and listed (see RV(summary.keys_not_listed)).', type: int}
    keys_not_listed:
      description: Key lines counted but neither judged nor listed (over O(max_keys) in their file); 0 normally.
      type: int
    accepted: {description: Key lines sshd accepts., type: int}
    ignored: {description: 'Key lines sshd does not accept (ignored file, bad options, expired, algorithm, account state).', type: int}
    weak: {description: Weak keys., type: int}
    expired: {description: Keys whose expiry-time has passed., type: int}
    unmanaged: {description: Keys not in O(managed_keys) (0 when it is not set)., type: int}
    duplicates: {description: 'Duplicate key lines: lines whose key is on at least one other line of the host.', type: int}
    keys_client_dependent: {description: Key lines accepted for some evaluated clients and refused for others., type: int}
    accounts_login_refused: {description: Accounts sshd refuses before any key for every evaluated client., type: int}
    certificate_authorities: {description: CA rows (RV(certificate_authorities))., type: int}
    accounts_open_to_certificates: {description: 'Accounts a certificate of a trusted, unrevoked CA can log in to.', type: int}
    accounts_certificates_not_audited: {description: Accounts whose certificate principals are not audited., type: int}
    keys_unused: {description: 'Key lines without a login in the logs read (with O(usage); V(null) when incomplete).', type: int}
    policy_violations: {description: 'Violations of O(policy) (with O(policy)).', type: int}
sshd:
  description: The global sshd settings used.
  returned: always
  type: dict
  contains:
    authorized_keys_file: {description: The AuthorizedKeysFile entries., type: list, elements: str}
    strict_modes: {description: StrictModes., type: bool}
    pubkey_authentication: {description: PubkeyAuthentication., type: bool}
    authorized_keys_command: {description: The AuthorizedKeysCommand (its keys are not audited)., type: str}
    required_rsa_size: {description: RequiredRSASize., type: int}
    source: {description: 'Where they come from: C(sshd -T), C(sshd_config) or C(defaults).', type: str}
    config: {description: The configuration file., type: str}
    per_user: {description: sshd -T was run per account because of Match blocks., type: bool}
    per_group_set:
      description:
        - No Match block names a user, so sshd -T ran once per distinct answer of the C(Match Group) lists
          rather than once per account (an account's C(source) then names the account sshd was asked about).
      type: bool
    runs: {description: How many times sshd -T ran., type: int}
    flavor: {description: 'The StrictModes rule applied: V(openssh) or V(debian) (O(sshd_flavor)).', type: str}
    deny_users: {description: DenyUsers patterns., type: list, elements: str}
    allow_users: {description: AllowUsers patterns., type: list, elements: str}
    deny_groups: {description: DenyGroups patterns., type: list, elements: str}
    allow_groups: {description: AllowGroups patterns., type: list, elements: str}
    authentication_methods: {description: AuthenticationMethods (V(any) when not set)., type: str}
    revoked_keys: {description: The RevokedKeys file (V(null) when none)., type: str}
    per_client: {description: 'A Match block depends on the client, so sshd -T ran per client context too.', type: bool}
    any_client: {description: O(clients) was not given; the client contexts were derived from the configuration., type: bool}
    clients: {description: 'The evaluated client contexts (C(addr), C(host), C(laddr), C(lport)).', type: list, elements: dict}
managed_missing:
  description: SHA256 fingerprints of O(managed_keys) and O(managed_keys_by_user) found in no file.
  returned: always
  type: list
  elements: str
msg:
  description: What was found, and which accounts are not audited or incomplete (when there are such accounts).
  returned: always
  type: str
  sample: 12 accounts, 5 keys (4 accepted by sshd, 1 weak, 2 unmanaged)
'''

import time

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage.collect import UsageSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import AccessSpec, AuthorizedKeysInfo


def _usage_spec(module):
    usage = module.params['usage']
    if usage is None:
        return None
    return UsageSpec(since=usage['since'], sources=usage['sources'], paths=usage['paths'],
                     max_bytes=usage['max_bytes'], now=time.time(), journal_directory=usage['journal_directory'],
                     journalctl=module.get_bin_path('journalctl', opt_dirs=['/usr/bin', '/bin']))


def build(module):
    params = module.params
    sshd_path = params['sshd_path'] or module.get_bin_path('sshd', opt_dirs=['/usr/sbin', '/usr/local/sbin'])
    spec = AccessSpec(users=params['users'], uid_min=params['uid_min'], uid_max=params['uid_max'],
                      managed_keys=params['managed_keys'], weak_policy=params['weak_policy'],
                      managed_keys_by_user=params['managed_keys_by_user'],
                      sshd_config=params['sshd_config'], sshd_path=sshd_path, sshd_flavor=params['sshd_flavor'],
                      clients=params['clients'], usage=_usage_spec(module), private_keys=params['private_keys'],
                      max_keys=params['max_keys'], policy=params['policy'])
    return AuthorizedKeysInfo(spec, module.run_command)


def main():
    argument_spec = dict(
        users=dict(type='list', elements='str'),
        uid_min=dict(type='int'),
        uid_max=dict(type='int'),
        managed_keys=dict(type='list', elements='str', no_log=False),
        managed_keys_by_user=dict(type='dict', no_log=False),
        weak_policy=dict(type='dict', options=dict(
            rsa_min_bits=dict(type='int', default=2048),
            ecdsa_min_bits=dict(type='int', default=0),
            weak_types=dict(type='list', elements='str', default=['dsa']),
        )),
        clients=dict(type='list', elements='dict', options=dict(
            addr=dict(type='str', required=True),
            host=dict(type='str'),
            laddr=dict(type='str'),
            lport=dict(type='int'),
        )),
        max_keys=dict(type='int', default=10000, no_log=False),
        sshd_config=dict(type='path', default='/etc/ssh/sshd_config'),
        sshd_path=dict(type='path'),
        sshd_flavor=dict(type='str', default='auto', choices=['auto', 'openssh', 'debian']),
        usage=dict(type='dict', options=dict(
            since=dict(type='str'),
            sources=dict(type='list', elements='str', choices=['auto', 'journal', 'files'], default=['auto']),
            paths=dict(type='list', elements='path', default=['/var/log/auth.log', '/var/log/secure']),
            max_bytes=dict(type='int', default=8589934592),
            journal_directory=dict(type='path'),
        )),
        private_keys=dict(type='bool', default=False),
        policy=dict(type='dict'),
    )
    module = KeysmithModule(argument_spec=argument_spec, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
