# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""List an account's CSRs and keys (cPanel's ``listcsrs``/``listkeys``, ``ssl_csr_info``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import csr as tls_csr
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.layout import (
    CSR_SUFFIX,
    CSRS_DIR,
    KEY_SUFFIX,
    KEYS_DIR,
    SSL_DIR,
    directory_location,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import (
    format_san,
    host_file_stem,
    host_from_file_stem,
    validate_host,
    validate_path,
)


class InfoSpec:
    def __init__(self, account, path=None, host=None, key_passphrase=None, follow=False):
        self.account = account
        self.path = validate_path(path) if path is not None else os.path.join(account.home, SSL_DIR)
        self.host = validate_host(host) if host is not None else None
        self.key_passphrase = key_passphrase or None
        self.follow = follow


class SslInfo(Operation):
    """Reads ``~/ssl/keys`` and ``~/ssl/csrs``; changes nothing."""

    def __init__(self, spec):
        self.spec = spec
        base, self.parts = directory_location(spec.account, spec.path)
        self.tree = Tree(base, uid=spec.account.uid, gid=spec.account.gid, follow=spec.follow)
        self.keys = []
        self.csrs = []

    def plan(self):
        plan = Plan(self.spec.path)
        tls_keys.require_cryptography('reading TLS keys and CSRs')
        if not self.spec.account.exists:
            plan.warn('user %s does not exist' % self.spec.account.name)
            return plan
        self.keys = [self._key_entry(name) for name in self._names(KEYS_DIR, KEY_SUFFIX)]
        self.csrs = [self._csr_entry(name) for name in self._names(CSRS_DIR, CSR_SUFFIX)]
        by_der = {}
        for entry, der in self.keys:
            if der is not None:
                by_der.setdefault(der, []).append(entry['path'])
        for entry, der in self.csrs:
            if der is None:
                continue
            matches = by_der.get(der, [])
            entry['matches_key'] = bool(matches)
            entry['key_path'] = matches[0] if matches else None
        csrs_by_der = {}
        for entry, der in self.csrs:
            if der is not None:
                csrs_by_der.setdefault(der, []).append(entry['path'])
        for entry, der in self.keys:
            entry['csrs'] = csrs_by_der.get(der, []) if der is not None else []
        self.keys = [entry for entry, _der in self.keys]
        self.csrs = [entry for entry, _der in self.csrs]
        return plan

    def _names(self, subdir, suffix):
        names = self.tree.list_names(self.parts + [subdir])
        wanted = None
        if self.spec.host is not None:
            wanted = host_file_stem(self.spec.host) + suffix
        return [name for name in names
                if name.endswith(suffix) and not name.startswith('.') and (wanted is None or name == wanted)]

    def _read(self, subdir, name):
        return self.tree.read(self.parts + [subdir], name)

    def _key_entry(self, name):
        path = self.tree.path(self.parts + [KEYS_DIR], name)
        entry = {'path': path, 'host': host_from_file_stem(name[:-len(KEY_SUFFIX)]), 'type': None,
                 'size': None, 'fingerprint': None, 'encrypted': None, 'mode': None, 'error': None}
        try:
            state = self._read(KEYS_DIR, name)
            entry['mode'] = '%04o' % state.mode
            entry['encrypted'] = tls_keys.is_encrypted(state.data)
            key, _encrypted = tls_keys.load_private(state.data, self.spec.key_passphrase, path)
        except KeysmithError as exc:
            entry['error'] = exc.msg
            return entry, None
        entry['type'], entry['size'] = tls_keys.describe(key)
        entry['fingerprint'] = tls_keys.fingerprint(key)
        return entry, tls_keys.public_der(key)

    def _csr_entry(self, name):
        path = self.tree.path(self.parts + [CSRS_DIR], name)
        entry = {'path': path, 'host': host_from_file_stem(name[:-len(CSR_SUFFIX)]), 'subject': None,
                 'subject_string': None, 'subject_alt_names': None, 'key_type': None, 'key_size': None,
                 'key_fingerprint': None, 'digest': None, 'signature_valid': None,
                 'challenge_password': None, 'matches_key': False, 'key_path': None, 'csr': None,
                 'error': None}
        try:
            state = self._read(CSRS_DIR, name)
            info = tls_csr.load(state.data, path)
        except KeysmithError as exc:
            entry['error'] = exc.msg
            return entry, None
        entry.update({
            'subject': dict(info.subject),
            'subject_string': tls_csr.subject_string(info.subject),
            'subject_alt_names': [format_san(item) for item in info.sans],
            'key_type': info.key_type,
            'key_size': info.key_size,
            'key_fingerprint': info.fingerprint,
            'digest': info.digest,
            'signature_valid': info.signature_valid,
            'challenge_password': info.has_password,
            'csr': info.pem,
        })
        return entry, info.public_der

    def result(self, plan, applied):
        return {
            'path': self.spec.path,
            'user': self.spec.account.name,
            'keys': self.keys,
            'csrs': self.csrs,
        }
