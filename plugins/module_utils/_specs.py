# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument spec pieces shared by the modules (documented in doc_fragments/account.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACCOUNT_OPTIONS = dict(
    user=dict(type='str'),
    home=dict(type='path'),
    follow=dict(type='bool', default=False),
)

BACKEND_OPTIONS = dict(
    backend=dict(type='str', default='auto', choices=['auto', 'cryptography', 'ssh-keygen']),
)

# The options of the single modules (without ACCOUNT_OPTIONS/BACKEND_OPTIONS).
# ``provision``'s items (and the roles' argument specs, checked by a unit test)
# are picked from these, so they cannot drift from the modules. The choices are
# spelled out here to keep this file free of imports; a unit test checks them
# against the constants the code uses.
REGENERATE = ['never', 'fail', 'partial_idempotence', 'full_idempotence', 'always']

# A key's type and size have one name everywhere: ``type`` and ``size`` (as in
# community.crypto's openssh_keypair and openssl_privatekey); ``bits`` (and in
# provision's ``ssl`` items ``key_type``/``key_size``) are kept as aliases.
SIZE_ALIASES = ['bits']

SSH_GENKEY_OPTIONS = dict(
    name=dict(type='str'),
    path=dict(type='path'),
    type=dict(type='str', choices=['rsa', 'ecdsa', 'ed25519', 'dsa']),
    size=dict(type='int', aliases=list(SIZE_ALIASES)),
    passphrase=dict(type='str', no_log=True, aliases=['pass']),
    comment=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    regenerate=dict(type='str', default='partial_idempotence', choices=REGENERATE),
    private_key_format=dict(type='str', default='auto', choices=['auto', 'openssh', 'pkcs1', 'pkcs8']),
    private_key=dict(type='str', no_log=True),
    public_key=dict(type='str'),
    ppk=dict(type='bool', default=False),
)

SSH_AUTHKEY_OPTIONS = dict(
    key=dict(type='raw', aliases=['text'], no_log=False),
    file=dict(type='path'),
    path=dict(type='str', default='~/.ssh/authorized_keys'),
    state=dict(type='str', choices=['present', 'absent']),
    authorize=dict(type='bool'),
    options=dict(type='str'),
    comment=dict(type='str'),
    exclusive=dict(type='bool', default=False),
    manage_dir=dict(type='bool', default=True),
    backup=dict(type='bool', default=False),
    # the file's attributes, for a central layout (AuthorizedKeysFile outside the homes)
    owner=dict(type='str'),
    group=dict(type='str'),
    mode=dict(type='raw'),
)

SSL_GENKEY_OPTIONS = dict(
    host=dict(type='str'),
    path=dict(type='path'),
    type=dict(type='str', default='rsa', choices=['rsa', 'ecdsa', 'ed25519']),
    size=dict(type='int', aliases=list(SIZE_ALIASES)),
    passphrase=dict(type='str', no_log=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    regenerate=dict(type='str', default='partial_idempotence', choices=REGENERATE),
)

SSL_GENCSR_OPTIONS = dict(
    host=dict(type='str', required=True),
    city=dict(type='str'),
    company=dict(type='str'),
    companydivision=dict(type='str', default=''),
    country=dict(type='str'),
    province=dict(type='str'),
    # No choices: a province given as state gets its own message (CsrSpec).
    state=dict(type='str', default='present'),
    email=dict(type='str', default=''),
    password=dict(type='str', default='', no_log=True),
    subject_alt_names=dict(type='list', elements='str', default=[]),
    digest=dict(type='str', default='sha256', choices=['sha256', 'sha384', 'sha512']),
    key_path=dict(type='path'),
    key_passphrase=dict(type='str', no_log=True),
    path=dict(type='path'),
)
SSL_GENCSR_REQUIRED_IF = [('state', 'present', ('city', 'company', 'country', 'province'))]


def pick(options, names=None, rename=None, **changes):
    """Copies of option specs of a module's ``options`` piece.

    ``names``: which (all when None); ``rename``: {option: name in the copy};
    ``changes``: {option (its new name): {spec key: value}} set in the copy.
    Lists are copied too, so a caller cannot change the module's spec.
    """
    rename = rename or {}
    picked = {}
    for name in (names if names is not None else list(options)):
        spec = dict((key, list(value) if isinstance(value, list) else value)
                    for key, value in options[name].items())
        new_name = rename.get(name, name)
        spec.update(changes.get(new_name, {}))
        if new_name != name:
            spec.pop('aliases', None)   # an alias of type is no alias of key_type
        picked[new_name] = spec
    return picked


# ssh_cert: the task's own per-certificate options are the defaults of its
# ``certificates`` items (validated in _ssh/certs/spec.py, which lists them).
SSH_CERT_OPTIONS = dict(
    ca_key=dict(type='path', required=True),
    ca_key_passphrase=dict(type='str', no_log=True),
    signature_algorithm=dict(type='str'),
    backend=dict(type='str', default='auto', choices=['auto', 'cryptography', 'ssh-keygen']),
    certificates=dict(type='list', elements='dict'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    type=dict(type='str', default='user', choices=['user', 'host']),
    public_key=dict(type='str'),
    public_key_path=dict(type='path'),
    path=dict(type='path'),
    owner=dict(type='str'),
    group=dict(type='str'),
    mode=dict(type='raw'),
    principals=dict(type='list', elements='str'),
    key_id=dict(type='str'),
    valid_from=dict(type='raw', default='always'),
    valid_to=dict(type='raw', default='forever'),
    renew_before=dict(type='raw'),
    serial=dict(type='raw'),
    critical_options=dict(type='dict'),
    extensions=dict(type='list', elements='str'),
)

SSH_KRL_OPTIONS = dict(
    path=dict(type='path', required=True),
    keys=dict(type='list', elements='str', default=[], no_log=False),
    key_hashes=dict(type='list', elements='str', default=[], no_log=False),
    certificates=dict(type='list', elements='dict', default=[], options=dict(
        ca=dict(type='str'),
        ca_path=dict(type='path'),
        serials=dict(type='list', elements='raw'),
        key_ids=dict(type='list', elements='str', no_log=False),
    )),
    comment=dict(type='str', default=''),
    owner=dict(type='str'),
    group=dict(type='str'),
    mode=dict(type='raw'),
)
