# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The validated options of ``ssh_cert``: one ``CertRequest`` per
certificate (the task's own options are the defaults of its
``certificates`` items) and the CA (``CaSpec``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import resolve_file_attrs
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.agent import agent_socket_path
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import (
    DEFAULT_USER_EXTENSIONS,
    FLAG_OPTIONS,
    FOREVER,
    HOST,
    KNOWN_EXTENSIONS,
    STRING_OPTIONS,
    USER,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.validity import Validity
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.addrmatch import _addr_pton_cidr

# The options a certificates item may hold; the task's own value is the default.
ITEM_OPTIONS = ('state', 'type', 'public_key', 'public_key_path', 'path', 'owner', 'group', 'mode', 'principals',
                'key_id', 'valid_from', 'valid_to', 'renew_before', 'serial', 'critical_options', 'extensions')
DEFAULTS = {'state': 'present', 'type': USER, 'valid_from': 'always', 'valid_to': 'forever'}
DEFAULT_MODE = 0o644
_CIDR_CHARS = re.compile(r'[0-9a-fA-F.:/]+\Z')


def merged_items(params):
    """The certificate requests of a task: its ``certificates`` items with the
    task's own options as defaults, or the task itself when there is no list."""
    base = dict((name, params.get(name)) for name in ITEM_OPTIONS)
    items = params.get('certificates')
    if items is None:
        return [base]
    merged = []
    for item in items:
        one = dict(base)
        for name, value in (item or {}).items():
            if name not in ITEM_OPTIONS:
                raise InvalidInput('certificates items take %s, not %s' % (', '.join(ITEM_OPTIONS), name))
            if value is not None:
                one[name] = value
        merged.append(one)
    return merged


def _critical_options(value, cert_type):
    if not value:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput('critical_options must be a dict such as {force-command: ..., source-address: ...}')
    if cert_type == HOST:
        raise InvalidInput('host certificates have no critical options')
    options = {}
    for name, item in value.items():
        name = str(name)
        if name in FLAG_OPTIONS:
            if item not in (True, False, None, 'yes', 'no', 'true', 'false'):
                raise InvalidInput('critical option %s is a flag: give true or false' % name)
            if item in (True, 'yes', 'true'):
                options[name] = None
            continue
        if name not in STRING_OPTIONS and '@' not in name:
            raise InvalidInput('unknown critical option %s: OpenSSH knows %s (custom ones are name@domain)'
                               % (name, ', '.join(STRING_OPTIONS + FLAG_OPTIONS)))
        if item is None:
            continue
        if isinstance(item, (list, tuple)) and name == 'source-address':
            item = ','.join(str(entry) for entry in item)
        text = str(item)
        if '\0' in text or '\n' in text:
            raise InvalidInput('critical option %s must be one line of text' % name)
        if name == 'source-address':
            for entry in text.split(','):
                if not _CIDR_CHARS.match(entry) or not isinstance(_addr_pton_cidr(entry), tuple):
                    raise InvalidInput('source-address %r is not an address or network (CIDR) sshd reads' % entry)
        options[name] = text
    return options


def _extensions(value, cert_type):
    if value is None:
        return dict((name, None) for name in DEFAULT_USER_EXTENSIONS) if cert_type == USER else {}
    if isinstance(value, str):
        value = [value]
    found = {}
    for name in value:
        name = str(name)
        if name == 'clear':
            continue
        if name not in KNOWN_EXTENSIONS and '@' not in name:
            raise InvalidInput('unknown extension %s: OpenSSH knows %s (custom ones are name@domain)'
                               % (name, ', '.join(KNOWN_EXTENSIONS)))
        if cert_type == HOST:
            raise InvalidInput('host certificates have no extensions')
        found[name] = None
    return found


def _principals(value, cert_type):
    if value is None:
        raise InvalidInput('principals is required: the %s names the certificate is valid for (an empty '
                           'list [] makes it valid for every %s)' % ('user' if cert_type == USER else 'host',
                                                                     'user' if cert_type == USER else 'host'))
    if isinstance(value, str):
        value = [value]
    names = []
    for name in value:
        name = str(name)
        if not name or ',' in name or '\0' in name or '\n' in name:
            raise InvalidInput('principal %r must be a non-empty name without commas or line breaks' % name)
        if name not in names:
            names.append(name)
    return names


def _serial(value):
    if value is None or value == 'random':
        return None
    try:
        serial = int(value)
    except (TypeError, ValueError):
        raise InvalidInput('serial must be a number from 0 to 2^64-1 or random, got %r' % (value,))
    if not 0 <= serial <= FOREVER:
        raise InvalidInput('serial must be a number from 0 to 2^64-1, got %d' % serial)
    return serial


class CertRequest:
    """One certificate the task asks for (validated)."""

    def __init__(self, options, index=None):
        self.index = index
        self.state = options.get('state') or 'present'
        if self.state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent, got %r' % self.state)
        path = options.get('path')
        if not path or not os.path.isabs(str(path)) or '\n' in str(path) or '\0' in str(path):
            raise InvalidInput('path (the certificate file) must be an absolute path, got %r' % (path,))
        self.path = os.path.normpath(str(path))
        if self.path.endswith('/') or os.path.basename(self.path) in ('', '.', '..'):
            raise InvalidInput('path %r does not name a file' % path)
        self.file_attrs = resolve_file_attrs(options.get('owner'), options.get('group'), options.get('mode'))
        if self.state == 'absent':
            return
        self.cert_type = options.get('type') or USER
        if self.cert_type not in (USER, HOST):
            raise InvalidInput('type must be user or host, got %r' % self.cert_type)
        self.public_key = options.get('public_key')
        self.public_key_path = options.get('public_key_path')
        if (self.public_key is None) == (self.public_key_path is None):
            raise InvalidInput('give exactly one of public_key and public_key_path for %s' % self.path)
        if self.public_key_path is not None and not os.path.isabs(self.public_key_path):
            raise InvalidInput('public_key_path must be an absolute path, got %r' % self.public_key_path)
        key_id = options.get('key_id')
        if key_id is None or str(key_id) == '' or '\0' in str(key_id) or '\n' in str(key_id):
            raise InvalidInput('key_id (the name sshd logs for the certificate) is required, one line of text')
        self.key_id = str(key_id)
        self.principals = _principals(options.get('principals'), self.cert_type)
        self.validity = Validity(options.get('valid_from') or 'always', options.get('valid_to') or 'forever',
                                 options.get('renew_before'))
        self.serial = _serial(options.get('serial'))
        self.critical_options = _critical_options(options.get('critical_options'), self.cert_type)
        self.extensions = _extensions(options.get('extensions'), self.cert_type)

    def name(self):
        return self.path


class CaSpec:
    """The CA: its private key file, passphrase, signature algorithm and
    backend; or its public key (``public_key``: a path or the key's text)
    naming the private key in an ssh-agent (``agent``; ``agent_socket``, by
    default ``$SSH_AUTH_SOCK`` where the task runs) or in a PKCS#11 token
    (``pkcs11_provider``, ``pkcs11_pin``)."""

    def __init__(self, ca_key, passphrase=None, signature_algorithm=None, backend='auto', public_key=None,
                 agent=False, agent_socket=None, pkcs11_provider=None, pkcs11_pin=None):
        self.signature_algorithm = signature_algorithm
        self.backend = backend or 'auto'
        self.passphrase = passphrase
        self.agent = bool(agent)
        self.pkcs11_provider = None
        self.pkcs11_pin = None
        self.public_key = None
        self.public_key_path = None
        self.agent_socket = None
        self.path = None
        if self.agent and pkcs11_provider is not None:
            raise InvalidInput('ca_agent and ca_pkcs11_provider name two places of the CA key; give one')
        if pkcs11_pin is not None and pkcs11_provider is None:
            raise InvalidInput('ca_pkcs11_pin is used with ca_pkcs11_provider only')
        where = 'ca_agent' if self.agent else ('ca_pkcs11_provider' if pkcs11_provider is not None else None)
        if where is not None:
            if ca_key is not None:
                raise InvalidInput('%s signs with a CA key that is not in a file: give its public key as '
                                   'ca_public_key, not ca_key' % where)
            if passphrase is not None:
                raise InvalidInput('ca_key_passphrase is for a CA key file, not for a key in an ssh-agent or a '
                                   'token')
            if not public_key or not str(public_key).strip():
                raise InvalidInput('%s needs ca_public_key: the CA public key (a path or the key text) that '
                                   'names the key to sign with' % where)
            public_key = str(public_key).strip()
            if public_key.startswith('/'):
                self.public_key_path = os.path.normpath(public_key)
            else:
                self.public_key = public_key
            if self.agent:
                self.agent_socket = agent_socket_path(agent_socket)
            else:
                if not os.path.isabs(str(pkcs11_provider)):
                    raise InvalidInput('ca_pkcs11_provider must be the absolute path of the PKCS#11 library, got %r'
                                       % (pkcs11_provider,))
                self.pkcs11_provider = os.path.normpath(str(pkcs11_provider))
                self.pkcs11_pin = pkcs11_pin
            if agent_socket is not None and not self.agent:
                raise InvalidInput('ca_agent_socket is used with ca_agent: true only')
            return
        if public_key is not None:
            raise InvalidInput('ca_public_key names a CA key held in an ssh-agent or a PKCS#11 token: set '
                               'ca_agent: true or ca_pkcs11_provider (or give the CA private key file as ca_key)')
        if agent_socket is not None:
            raise InvalidInput('ca_agent_socket is used with ca_agent: true only')
        if not ca_key or not os.path.isabs(ca_key):
            raise InvalidInput('ca_key must be the absolute path of the CA private key, got %r' % (ca_key,))
        self.path = os.path.normpath(ca_key)

    @property
    def external(self):
        """Whether the private key is outside this process (agent or token)."""
        return self.agent or self.pkcs11_provider is not None
