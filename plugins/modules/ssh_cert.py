#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_cert
short_description: Sign OpenSSH user and host certificates with a CA key, idempotently and many per call
version_added: 0.1.0
description:
  - Signs OpenSSH certificates (C(PROTOCOL.certkeys)) for user and host public keys with a certificate authority
    (CA) private key on the host where the task runs - typically a CA host reached with C(delegate_to). The CA
    private key never leaves that host and never appears in results, diffs or messages.
  - Many certificates in one call (O(certificates)), so a fleet's worth is signed in one module run; the task's
    own options are the defaults of every item.
  - Idempotent - an unchanged task re-run signs nothing. The certificate on disk is compared with what is asked -
    certified key, CA key, type, key id, principals (in any order), critical options, extensions, signature
    algorithm, serial (when one is given) and validity - and only a certificate that differs is signed again.
    RV(certificates[].reasons) says why.
  - "Validity follows C(ssh-keygen -V): an absolute bound (V(always), V(forever), V(20270101), V(20270101120000Z),
    V(0x...) seconds) must match exactly; a relative bound (V(+52w), V(-5m)) moves with the clock, so a
    certificate fits while it is valid now and ends no later than the bound would put it now. O(renew_before)
    signs again when less than that is left."
  - "Serials: O(serial) fixes one; by default each signing draws a random 64-bit serial (revocable by
    C(keysmith.accounts.ssh_krl)); an existing certificate's serial is accepted as it is."
  - The CA private key can also stay in an C(ssh-agent) on that host (O(ca_agent), O(ca_public_key)) - it is then
    never on disk; the module speaks the agent protocol itself, over one connection for all certificates.
  - Check mode computes the same plan as a real run (serial and validity window included) and signs nothing.
  - The certificate files are written atomically, without following symbolic links; their directory must exist.
author:
  - keysmith.accounts contributors (@keysmith)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode reports exactly the certificates a real run signs, with their serial and validity.
  diff_mode:
    support: full
    details: The diff shows, for each certificate to sign or remove, its fields before and after.
  platform:
    platforms: posix
options:
  ca_key:
    description:
      - The CA private key file (OpenSSH, PKCS#1 or PKCS#8 format; ed25519, ECDSA or RSA).
      - It is only read. It is never copied anywhere but, with O(backend=ssh-keygen), a private temporary directory
        removed after signing.
      - Exactly one of O(ca_key) and O(ca_public_key) (with O(ca_agent) or O(ca_pkcs11_provider)) is required.
    type: path
  ca_key_passphrase:
    description: The passphrase of O(ca_key).
    type: str
  ca_public_key:
    description:
      - With O(ca_agent=true) or O(ca_pkcs11_provider), the CA's public key - an absolute path of a file on the host
        where the task runs, or the key's text (C(ssh-ed25519 AAAA... comment)). It names the key in the agent or
        the token that signs.
      - The agent or token must hold that key, else the task fails before anything is signed.
    type: str
  ca_agent:
    description:
      - Sign with the CA private key an C(ssh-agent) holds (added with C(ssh-add)) instead of a key file.
      - The agent is asked first whether it holds O(ca_public_key) (check mode too); each certificate is then signed
        by the agent over the same connection (an RSA CA with the SHA-2 flag of O(signature_algorithm)). A
        signature is checked before the certificate is written.
      - A key added with a confirmation (C(ssh-add -c)) is refused unless someone confirms within 60 seconds; a key
        restricted to destinations (C(ssh-add -h)) cannot sign certificates.
    type: bool
    default: false
  ca_pkcs11_provider:
    description:
      - Sign with the CA private key in a PKCS#11 token (a smart card, an HSM) through this provider library
        (for example C(/usr/lib/softhsm/libsofthsm2.so)), by C(ssh-keygen -D PROVIDER -s) with O(ca_public_key).
        Backend V(auto) or V(ssh-keygen).
      - The library is loaded by C(ssh-keygen) as the user running the module, so it must be a regular file only
        root or that user can change, in directories only they can change.
      - C(ssh-keygen -D) must list O(ca_public_key) (without the PIN) when the task plans, else the task fails
        before anything is signed. RSA and ECDSA CA keys, as OpenSSH's PKCS#11 support.
    type: path
  ca_pkcs11_pin:
    description: The PIN of the token of O(ca_pkcs11_provider), given to C(ssh-keygen) through C(SSH_ASKPASS).
    type: str
  ca_agent_socket:
    description:
      - The agent's socket, by default E(SSH_AUTH_SOCK) of the module's environment on the host where the task
        runs.
      - Trusted only as root trusts a file it acts on - the socket must be owned by root or the user running the
        module, in a directory nobody else can write (or a sticky one such as C(/tmp)) reached through
        directories of root or that user, not a symbolic link, and, where the kernel tells, the agent process
        must run as root or that user. An account cannot put its own agent in the way.
      - So an agent forwarded by C(ssh -A) to a login user (its socket is that user's) serves tasks running as that
        user (without C(become)), not tasks running as root.
    type: path
  signature_algorithm:
    description:
      - The CA's signature algorithm. For an RSA CA one of V(rsa-sha2-512) (the default), V(rsa-sha2-256) and
        V(ssh-rsa) (SHA-1, refused by OpenSSH 8.2 and later by default). Other CA keys sign with their own type.
    type: str
  backend:
    description:
      - How certificates are signed.
      - V(cryptography) builds the certificate and signs it in Python with the C(cryptography) library (fast).
      - V(ssh-keygen) runs C(ssh-keygen -s) once per certificate; the passphrase goes through C(SSH_ASKPASS).
      - V(auto) picks V(cryptography) when it can read the CA key, else V(ssh-keygen).
      - With O(ca_agent), V(auto) and V(cryptography) build the certificate in Python and have the agent sign it
        (no Python library needed); V(ssh-keygen) runs C(ssh-keygen -U -s) with the CA public key.
    type: str
    default: auto
    choices: [auto, cryptography, ssh-keygen]
  certificates:
    description:
      - The certificates, each a dict of the per-certificate options below (O(state), O(type), O(public_key),
        O(public_key_path), O(path), O(owner), O(group), O(mode), O(principals), O(key_id), O(valid_from),
        O(valid_to), O(renew_before), O(serial), O(critical_options), O(extensions)).
      - An option an item does not give is taken from the task.
      - Without O(certificates) the task itself is the one certificate.
    type: list
    elements: dict
  state:
    description: V(present) signs the certificate when needed, V(absent) removes the certificate file.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: A V(user) or a V(host) certificate.
    type: str
    choices: [user, host]
    default: user
  public_key:
    description: The public key to certify, as a C(type base64 [comment]) line. Exactly one of this and O(public_key_path).
    type: str
  public_key_path:
    description: A file holding the public key to certify (on the host where the task runs).
    type: path
  path:
    description:
      - The certificate file to write (for example C(/etc/ssh-ca/issued/alice-cert.pub)). Its directory must exist.
      - Required, in the task or in each item of O(certificates).
    type: path
  owner:
    description: The owner of the certificate file (name or uid); by default a new file is the running user's and an existing one keeps its owner.
    type: str
  group:
    description: The group of the certificate file (name or gid).
    type: str
  mode:
    description: The mode of the certificate file (octal); by default V(0644) for a new file, an existing one keeps its mode.
    type: raw
  principals:
    description:
      - The user names (user certificate) or host names (host certificate) the certificate is valid for.
      - Required; an empty list makes the certificate valid for every user or host, as C(ssh-keygen) does without C(-n).
    type: list
    elements: str
  key_id:
    description: The key identity sshd logs for logins with the certificate (C(ssh-keygen -I)). Required.
    type: str
  valid_from:
    description:
      - The start of validity, as C(ssh-keygen -V) reads it - V(always), a relative time (V(-5m), V(-1d)), a date
        V(YYYYMMDD[HHMM[SS]]) (local time, with V(Z) for UTC), V(0x) and hexadecimal seconds, or seconds since
        the epoch.
    type: raw
    default: always
  valid_to:
    description:
      - The end of validity - V(forever), a relative time (V(+52w), V(+1h30m)), a date, V(0x...) or seconds, as O(valid_from).
    type: raw
    default: forever
  renew_before:
    description:
      - Sign again when less than this is left of the certificate's validity (V(4w), V(2d12h), or seconds), and the
        new certificate would end later. Without it a certificate with a relative O(valid_to) is signed again once
        it has expired.
    type: raw
  serial:
    description:
      - The serial number (0 to 2^64-1), or V(random) (the default) for a new random serial at each signing.
      - A given serial is compared with the certificate on disk; a random one is not.
    type: raw
  critical_options:
    description:
      - "Critical options of a user certificate: C(force-command) (a command), C(source-address) (addresses or
        networks, a comma-separated string or a list), C(verify-required) (a flag, V(true)), and custom
        C(name@domain) options with a text value."
    type: dict
  extensions:
    description:
      - The extensions of a user certificate. By default those C(ssh-keygen) sets (C(permit-X11-forwarding),
        C(permit-agent-forwarding), C(permit-port-forwarding), C(permit-pty), C(permit-user-rc)); an empty list
        (or V(clear)) sets none. Also C(no-touch-required) and custom C(name@domain) flags.
    type: list
    elements: str
requirements:
  - Python C(cryptography) (backend V(cryptography)), or the OpenSSH C(ssh-keygen) binary (backend V(ssh-keygen)).
seealso:
  - module: keysmith.accounts.ssh_krl
    description: Revokes certificates by serial or key id, and keys.
  - module: community.crypto.openssh_cert
    description: Signs one certificate per task.
  - name: PROTOCOL.certkeys
    description: The OpenSSH certificate format.
    link: https://datatracker.ietf.org/doc/draft-miller-ssh-cert/
'''

EXAMPLES = r'''
- name: A user CA key on the CA host (made here for the example; keep a real one on a CA host only)
  keysmith.accounts.ssh_genkey:
    home: /srv/ssh-ca
    name: user_ca
    type: ed25519
  delegate_to: ca.example.com

- name: A directory for the certificates
  ansible.builtin.file:
    path: /srv/ssh-ca/issued
    state: directory
    mode: "0755"
  delegate_to: ca.example.com

- name: Sign alice's key for a year, renewed when less than 4 weeks are left
  keysmith.accounts.ssh_cert:
    ca_key: /srv/ssh-ca/.ssh/user_ca
    public_key: "{{ lookup('ansible.builtin.file', 'keys/alice.pub') }}"
    path: /srv/ssh-ca/issued/alice-cert.pub
    key_id: alice@example.com
    principals: [alice]
    valid_from: -5m
    valid_to: +52w
    renew_before: 4w
  delegate_to: ca.example.com

- name: Sign a team in one call; the deploy key gets a forced command, one source network and no pty
  keysmith.accounts.ssh_cert:
    ca_key: /srv/ssh-ca/.ssh/user_ca
    valid_to: +8h
    renew_before: 1h
    certificates:
      - public_key: "{{ lookup('ansible.builtin.file', 'keys/bob.pub') }}"
        path: /srv/ssh-ca/issued/bob-cert.pub
        key_id: bob
        principals: [bob, ops]
      - public_key: "{{ lookup('ansible.builtin.file', 'keys/deploy.pub') }}"
        path: /srv/ssh-ca/issued/deploy-cert.pub
        key_id: deploy
        principals: [deploy]
        critical_options:
          force-command: /usr/local/bin/deploy
          source-address: [10.0.0.0/8]
        extensions: []
  delegate_to: ca.example.com

- name: Sign with the CA key an ssh-agent holds on the CA host (the private key never on disk)
  keysmith.accounts.ssh_cert:
    ca_agent: true
    ca_agent_socket: /run/ssh-ca/agent.sock    # an agent of root on the CA host, the CA key added with ssh-add
    ca_public_key: /srv/ssh-ca/user_ca.pub
    valid_to: +8h
    renew_before: 1h
    certificates:
      - public_key: "{{ lookup('ansible.builtin.file', 'keys/alice.pub') }}"
        path: /srv/ssh-ca/issued/alice-cert.pub
        key_id: alice
        principals: [alice]
  delegate_to: ca.example.com

- name: A host certificate for web1
  keysmith.accounts.ssh_cert:
    ca_key: /srv/ssh-ca/.ssh/user_ca
    type: host
    public_key: "{{ lookup('ansible.builtin.file', 'keys/web1.pub') }}"
    path: /srv/ssh-ca/issued/web1-cert.pub
    key_id: web1.example.com
    principals: [web1.example.com, web1]
    valid_to: +52w
    renew_before: 8w
  delegate_to: ca.example.com
'''

RETURN = r'''
certificates:
  description:
    - One entry per certificate, in the order asked.
    - Without O(certificates) (one certificate per task) the fields of that one entry are also returned at the
      top level (RV(certificates[].path), RV(certificates[].action), RV(certificates[].serial), ...).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The certificate file.
      type: str
      sample: /etc/ssh-ca/issued/alice-cert.pub
    state:
      description: O(state) of the item.
      type: str
      sample: present
    changed:
      description: Whether the item was (check mode - would be) signed, removed or given its owner and mode.
      type: bool
      sample: true
    action:
      description: V(sign), V(re-sign), V(renew), V(remove), V(set attributes), or V(null) when nothing was to do.
      type: str
      sample: renew
    reasons:
      description: Why the certificate on disk was not kept (V(there is no certificate), V(principals differ), ...).
      type: list
      elements: str
      sample: [principals differ]
    certificate:
      description: The certificate line (public data), V(null) in check mode for a certificate still to sign.
      type: str
      sample: ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t... alice@example.com
    type:
      description: V(user) or V(host).
      type: str
      sample: user
    key_type:
      description: The certificate's key type.
      type: str
      sample: ssh-ed25519-cert-v01@openssh.com
    fingerprint:
      description: SHA256 fingerprint of the certified key.
      type: str
      sample: SHA256:4Q8nLFyEpuAgMIv9J18k+HU2eRy/jI9XRCW6hE8qWsc
    ca_fingerprint:
      description: SHA256 fingerprint of the CA key that signed it.
      type: str
      sample: SHA256:dbAEeW+7IrsY96ZyZk7Or9GWR5OwcU2K/Y+ppIkUSM0
    signature_algorithm:
      description: The CA's signature algorithm.
      type: str
      sample: ssh-ed25519
    serial:
      description: The serial number.
      type: int
      sample: 8213409812734
    key_id:
      description: The key id.
      type: str
      sample: alice@example.com
    principals:
      description: The principals.
      type: list
      elements: str
      sample: [alice]
    valid_from:
      description: Start of validity (UTC, ISO 8601), or V(always).
      type: str
      sample: '2026-12-06T23:55:00Z'
    valid_to:
      description: End of validity (UTC, ISO 8601), or V(forever).
      type: str
      sample: '2027-12-05T23:55:00Z'
    critical_options:
      description: The critical options (a flag has the value V(null)).
      type: dict
      sample: {force-command: /usr/local/bin/deploy}
    extensions:
      description: The extensions.
      type: list
      elements: str
      sample: [permit-pty]
ca_fingerprint:
  description: SHA256 fingerprint of the CA key.
  returned: when a certificate is to be present
  type: str
  sample: SHA256:dbAEeW+7IrsY96ZyZk7Or9GWR5OwcU2K/Y+ppIkUSM0
actions:
  description: What was (check mode - would be) done, one line per action.
  returned: always
  type: list
  elements: str
  sample: ["sign /etc/ssh-ca/issued/alice-cert.pub (user certificate, key id alice, serial 42, ...)"]
msg:
  description: How many certificates changed.
  returned: always
  type: str
  sample: 1 of 3 certificates changed.
'''

from ansible_collections.keysmith.accounts.plugins.module_utils._module import KeysmithModule, run_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._specs import SSH_CERT
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.operation import SshCert
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CaSpec, CertRequest, merged_items


def build(module):
    params = module.params
    ca = CaSpec(params['ca_key'], params['ca_key_passphrase'], params['signature_algorithm'], params['backend'],
                public_key=params['ca_public_key'], agent=params['ca_agent'], agent_socket=params['ca_agent_socket'],
                pkcs11_provider=params['ca_pkcs11_provider'], pkcs11_pin=params['ca_pkcs11_pin'])
    requests = [CertRequest(options, index) for index, options in enumerate(merged_items(params))]
    return SshCert(ca, requests, single=params['certificates'] is None)


def main():
    module = SSH_CERT.create_module(KeysmithModule, supports_check_mode=True)
    run_operation(module, build)


if __name__ == '__main__':
    main()
