# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument spec pieces shared by the modules (documented in doc_fragments/account.py).

The options of each single module live here as an :class:`ArgumentSpec`: the
options AND their constraints (``mutually_exclusive``, ``required_one_of``,
...), as community.crypto's ``ArgumentSpec`` keeps them. A module builds its
``AnsibleModule`` from its object (merged with the shared pieces); ``provision``
builds its items from the same objects (``pick``: the item's options with the
constraints among them), so an item cannot drift from its module.
"""

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
    ca_key=dict(type='path'),
    ca_key_passphrase=dict(type='str', no_log=True),
    # the CA key in an ssh-agent: its public key (path or text) names it
    ca_public_key=dict(type='str'),
    ca_agent=dict(type='bool', default=False),
    ca_agent_socket=dict(type='path'),
    # or in a PKCS#11 token (ssh-keygen -D)
    ca_pkcs11_provider=dict(type='path'),
    ca_pkcs11_pin=dict(type='str', no_log=True),
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
KEYPAIR_OPTIONS = dict(
    name=dict(type='str'),
    id=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    type=dict(type='str', choices=['rsa', 'ecdsa', 'ed25519']),
    size=dict(type='int', aliases=list(SIZE_ALIASES)),
    public_key=dict(type='str'),
    comment=dict(type='str'),
    private_key_format=dict(type='str', default='openssh', choices=['openssh', 'pkcs1', 'pkcs8']),
    private_key_path=dict(type='path'),
    owner=dict(type='str'),
    force=dict(type='bool', default=False),
    # the registry's place (_ssh/keypair/registry.py DEFAULT_REGISTRY; a unit test keeps them equal)
    registry=dict(type='path', default='/var/lib/keysmith/keypairs'),
)

KEYPAIR_INFO_OPTIONS = dict(
    name=dict(type='str'),
    id=dict(type='str'),
    registry=dict(type='path', default='/var/lib/keysmith/keypairs'),
)
CONSTRAINTS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


def _copy_spec(spec):
    return dict((key, list(value) if isinstance(value, list) else value) for key, value in spec.items())


class ArgumentSpec:
    """Options and the constraints between them, kept together.

    ``merge`` adds another object's options and constraints; ``pick`` copies
    some options (renamed, changed) with the constraints that name only picked
    options; ``module_kwargs`` (or ``create_module``) gives what
    ``AnsibleModule`` takes, ``suboptions`` the spec of a list of such items
    (``provision``'s ``ssh_keys``, ``authorized_keys``, ``ssl``).
    """

    def __init__(self, argument_spec=None, mutually_exclusive=None, required_together=None, required_one_of=None,
                 required_if=None, required_by=None):
        self.argument_spec = {}
        self.mutually_exclusive = []
        self.required_together = []
        self.required_one_of = []
        self.required_if = []
        self.required_by = {}
        self.update_argspec(**(argument_spec or {}))
        self.update(mutually_exclusive=mutually_exclusive, required_together=required_together,
                    required_one_of=required_one_of, required_if=required_if, required_by=required_by)

    def update_argspec(self, **options):
        """Add (or replace) options; their specs are copied."""
        for name, spec in options.items():
            self.argument_spec[name] = _copy_spec(spec)
        return self

    def update(self, mutually_exclusive=None, required_together=None, required_one_of=None, required_if=None,
               required_by=None):
        """Add constraints (lists of tuples as AnsibleModule takes them)."""
        for name, value in (('mutually_exclusive', mutually_exclusive), ('required_together', required_together),
                            ('required_one_of', required_one_of), ('required_if', required_if)):
            for entry in value or []:
                entry = tuple(tuple(part) if isinstance(part, list) else part for part in entry)
                if entry not in getattr(self, name):
                    getattr(self, name).append(entry)
        for name, needed in (required_by or {}).items():
            self.required_by[name] = needed
        return self

    def merge(self, other):
        """Add ``other``'s options and constraints (``other`` wins for an option both have)."""
        self.update_argspec(**other.argument_spec)
        self.update(**other.constraints())
        return self

    def copy(self):
        return ArgumentSpec().merge(self)

    def constraints(self):
        """The non-empty constraints, as ``AnsibleModule`` keyword arguments."""
        result = {}
        for name in CONSTRAINTS:
            value = getattr(self, name)
            if value:
                result[name] = dict(value) if isinstance(value, dict) else [tuple(entry) for entry in value]
        return result

    def names(self):
        return set(self.argument_spec)

    def pick(self, names=None, rename=None, **changes):
        """A new ``ArgumentSpec`` with copies of some options and the
        constraints that name only options picked (renamed as they are).

        ``names``: which (all when None); ``rename``: {option: name in the copy}
        (an option renamed loses its aliases: an alias of type is no alias of
        key_type); ``changes``: {option (its new name): {spec key: value}}.
        """
        rename = rename or {}
        names = list(names) if names is not None else list(self.argument_spec)
        picked = ArgumentSpec(pick(self.argument_spec, names, rename, **changes))
        renamed = dict((name, rename.get(name, name)) for name in names)

        def mapped(entry_names):
            if all(name in renamed for name in entry_names):
                return tuple(renamed[name] for name in entry_names)
            return None

        for kind in ('mutually_exclusive', 'required_together', 'required_one_of'):
            picked.update(**{kind: [mapped(entry) for entry in getattr(self, kind) if mapped(entry) is not None]})
        for entry in self.required_if:
            key, value, requirements = entry[0], entry[1], entry[2]
            if mapped((key,)) is not None and mapped(requirements) is not None:
                picked.update(required_if=[(renamed[key], value, mapped(requirements)) + tuple(entry[3:])])
        for name, needed in self.required_by.items():
            needed_names = (needed,) if isinstance(needed, str) else tuple(needed)
            if mapped((name,)) is not None and mapped(needed_names) is not None:
                picked.required_by[renamed[name]] = (renamed[needed] if isinstance(needed, str)
                                                     else list(mapped(needed_names)))
        return picked

    def module_kwargs(self):
        """``argument_spec`` (a copy) and the constraints, for ``AnsibleModule``."""
        kwargs = self.constraints()
        kwargs['argument_spec'] = pick(self.argument_spec)
        return kwargs

    def create_module(self, module_class, **kwargs):
        """``module_class(argument_spec=..., <constraints>, **kwargs)``."""
        arguments = self.module_kwargs()
        arguments.update(kwargs)
        return module_class(**arguments)

    def suboptions(self, **fields):
        """The spec of an option holding a list of such items (``options`` and
        the constraints, which Ansible checks per item), with ``fields``."""
        spec = dict(type='list', elements='dict', options=pick(self.argument_spec))
        spec.update(self.constraints())
        spec.update(fields)
        return spec


# The single modules' options with their constraints. The modules build their
# AnsibleModule from these (merged with ACCOUNT/BACKEND and their own extras),
# provision its items (``pick``): one source for both.
ACCOUNT = ArgumentSpec(ACCOUNT_OPTIONS)
BACKEND = ArgumentSpec(BACKEND_OPTIONS)
# the flock wait: ssh_authkey's option, and provision's (one wait for the whole call)
LOCKING = ArgumentSpec(dict(lock_timeout=dict(type='int', default=60)))

SSH_GENKEY = ArgumentSpec(SSH_GENKEY_OPTIONS, required_one_of=[('name', 'path')],
                          mutually_exclusive=[('name', 'path')])

KEYPAIR = ArgumentSpec(KEYPAIR_OPTIONS, required_one_of=[('name', 'id')],
                       mutually_exclusive=[('name', 'id'), ('public_key', 'private_key_path')],
                       required_if=[('state', 'present', ('name',))], required_by={'owner': 'private_key_path'})

KEYPAIR_INFO = ArgumentSpec(KEYPAIR_INFO_OPTIONS, mutually_exclusive=[('name', 'id')])

SSH_AUTHKEY = ArgumentSpec(SSH_AUTHKEY_OPTIONS, required_one_of=[('key', 'file')],
                           mutually_exclusive=[('key', 'file')])
# ssh_authkey's rotation options (the key_rotation role's); provision's items have none
SSH_AUTHKEY_EXPIRY = ArgumentSpec(dict(
    expire_at=dict(type='str'),
    remove_expired=dict(type='bool', default=False),
))

# provision's authorized_keys items: the key of an account, named (``account`` and
# ``key_name``: its ~/.ssh/KEY_NAME.pub, as it is or as the same call makes it),
# instead of the key's text.
KEY_REFERENCE = ArgumentSpec(
    dict(
        account=dict(type='str'),
        key_name=dict(type='str'),
    ),
    required_one_of=[('key', 'account')],
    mutually_exclusive=[('key', 'account')],
    required_together=[('account', 'key_name')],
)

# ssh_cert: the CA is a private key file (ca_key) or a key an ssh-agent holds
# (ca_agent, named by ca_public_key); CaSpec checks the same for callers
# without AnsibleModule.
SSH_CERT = ArgumentSpec(SSH_CERT_OPTIONS, required_one_of=[('ca_key', 'ca_public_key')],
                        mutually_exclusive=[('ca_key', 'ca_public_key'), ('ca_key_passphrase', 'ca_public_key')],
                        required_if=[('ca_agent', True, ('ca_public_key',))],
                        required_by={'ca_pkcs11_provider': 'ca_public_key', 'ca_pkcs11_pin': 'ca_pkcs11_provider'})
SSH_KRL = ArgumentSpec(SSH_KRL_OPTIONS)

SSL_GENKEY = ArgumentSpec(SSL_GENKEY_OPTIONS, required_one_of=[('host', 'path')])
SSL_GENCSR = ArgumentSpec(SSL_GENCSR_OPTIONS, required_if=SSL_GENCSR_REQUIRED_IF)


# The trust modules (issue 30). Their accounts have no ``follow``: their files
# are reached by the trust walk only. The defaults and choices are the code's
# (trust/sshd_dropin.py DEFAULT_DROPIN, RELOAD_METHODS; trust/principals.py
# DEFAULT_PATH), checked by a unit test.
SSHD_TRUST = ArgumentSpec(
    dict(
        path=dict(type='path', default='/etc/ssh/sshd_config.d/keysmith-trust.conf'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        trusted_user_ca_keys=dict(type='list', elements='str', no_log=False),
        trusted_user_ca_keys_file=dict(type='path'),
        revoked_keys=dict(type='path'),
        host_certificates=dict(type='list', elements='path'),
        authorized_principals_file=dict(type='str'),
        settings=dict(type='dict'),
        sshd_config=dict(type='path', default='/etc/ssh/sshd_config'),
        sshd_path=dict(type='path'),
        reload=dict(type='str', default='service', choices=['service', 'pid_file', 'command', 'none']),
        service_name=dict(type='str'),
        pid_file=dict(type='path'),
        reload_command=dict(type='list', elements='str'),
    ),
    required_if=[('reload', 'pid_file', ('pid_file',)), ('reload', 'command', ('reload_command',))],
)

SSH_PRINCIPALS = ArgumentSpec(dict(
    user=dict(type='str', required=True),
    home=dict(type='path'),
    principals=dict(type='list', elements='str', default=[]),
    path=dict(type='str', default='/etc/ssh/auth_principals/%u'),
    exclusive=dict(type='bool', default=False),
    state=dict(type='str', default='present', choices=['present', 'absent']),
))

SSH_KNOWN_HOSTS_CA = ArgumentSpec(
    dict(
        key=dict(type='str', required=True, no_log=False),
        hosts=dict(type='list', elements='str'),
        path=dict(type='str'),
        user=dict(type='str'),
        home=dict(type='path'),
        comment=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ),
    required_if=[('state', 'present', ('hosts',))],
)


def module_spec(*pieces):
    """One ``ArgumentSpec`` merged from ``pieces`` (each is copied)."""
    spec = ArgumentSpec()
    for piece in pieces:
        spec.merge(piece)
    return spec
