# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SSH keys in an account's ``~/.ssh``: the ``ssh_key_info`` operation.

Reads only. A key is a ``NAME.pub`` file holding a public key and/or a file
``NAME`` holding a private key (recognised by its PEM armor). Public data is
returned, never private material: for a private key only whether it is
there and whether it is protected by a passphrase.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    NotRegularFile,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import account_tree
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import AuthorizedKeys
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import RESERVED_NAMES, validate_key_name
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.ppk import PPK_SUFFIX

# A private key file starts with its armor; anything else is not looked at further.
_PRIVATE_ARMOR = b'-----BEGIN '
_HEAD_BYTES = 64
# The largest key file (an RSA 16384 private key) is about 13 KiB; a larger
# file in ~/.ssh is not a key and is not read (the account controls the files:
# thirty sparse 63 MiB files must not cost gigabytes).
_KEY_FILE_LIMIT = 256 * 1024


def _tree_for(account, path, follow):
    """(Tree, parts) of directory ``path`` (walked from the home when inside it)."""
    tree, parts, last = account_tree(account, path, follow)
    return tree, list(parts) + [last]


class KeyInfoSpec:
    def __init__(self, account, name=None, path=None, authorized_keys_path=None, follow=False):
        self.account = account
        if name is not None:
            validate_key_name(name)
        self.name = name
        for option, value in (('path', path), ('authorized_keys_path', authorized_keys_path)):
            if value is not None and (not os.path.isabs(value) or '\n' in value or '\0' in value):
                raise InvalidInput('%s must be an absolute path without newline or NUL, got %r' % (option, value))
        self.path = os.path.normpath(path) if path else os.path.join(account.home, '.ssh')
        self.authorized_keys_path = (os.path.normpath(authorized_keys_path) if authorized_keys_path
                                     else os.path.join(account.home, '.ssh', 'authorized_keys'))
        self.follow = follow


class SshKeyInfo(Operation):
    """List the keys (``plan`` reads, there is never anything to apply)."""

    def __init__(self, spec):
        self.spec = spec
        self.keys = []
        self.skipped = []
        # path -> the public key a private key file holds itself (never its .pub's word for it)
        self.private_public_keys = {}

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        if not spec.account.exists:
            plan.warn('user %s does not exist; there are no keys to list' % spec.account.name)
            return plan
        tree, parts = _tree_for(spec.account, spec.path, spec.follow)
        authorized = self._authorized(plan)
        if spec.name is not None:
            names = [spec.name, spec.name + '.pub', spec.name + PPK_SUFFIX]
            present = set(tree.list_names(parts))
            names = [n for n in names if n in present]
        else:
            names = tree.list_names(parts)
        files = {}
        for entry in names:
            if entry in RESERVED_NAMES or (entry.startswith('.') and entry.endswith('.tmp')):
                continue
            try:
                state = tree.read(parts, entry, limit=_KEY_FILE_LIMIT)
            except NotRegularFile:
                continue  # directories, sockets, fifos: not keys
            except UnsafePath as exc:
                self._skip(plan, entry, exc.msg)
                continue
            if state.exists:
                files[entry] = state
        candidates = set()
        for entry, state in files.items():
            if entry.endswith('.pub') and not entry.endswith('-cert.pub'):
                candidates.add(entry[:-len('.pub')])
            elif not entry.endswith(PPK_SUFFIX) and state.data[:_HEAD_BYTES].lstrip().startswith(_PRIVATE_ARMOR):
                candidates.add(entry)
        if spec.name is not None:
            candidates &= set([spec.name])
        for name in sorted(candidates):
            info = self._describe(plan, tree, parts, name, files, authorized)
            if info is not None:
                self.keys.append(info)
        return plan

    def _skip(self, plan, entry, why):
        self.skipped.append(entry)
        plan.warn('skipped %s: %s' % (entry, why))

    def _authorized(self, plan):
        spec = self.spec
        tree, parts, name = account_tree(spec.account, spec.authorized_keys_path, spec.follow)
        try:
            state = tree.read(parts, name)
        except UnsafePath as exc:
            plan.warn('cannot read %s: %s' % (spec.authorized_keys_path, exc.msg))
            return set()
        if not state.exists:
            return set()
        # one line at a time, read by sshd's rules alone (a file of 700,000 key lines keeps no model)
        return set(sshd_rules.Line(line.raw).key.plain_blob for line in AuthorizedKeys.iter_lines(state.data)
                   if line.kind == 'key')

    def _describe(self, plan, tree, parts, name, files, authorized):
        private = files.get(name)
        public = files.get(name + '.pub')
        private_key_data = None
        if private is not None and private.data[:_HEAD_BYTES].lstrip().startswith(_PRIVATE_ARMOR):
            private_key_data = private.data
        key = None
        if public is not None:
            try:
                key = PublicKey.from_line(public.data.decode('utf-8', 'replace').strip())
            except InvalidInput as exc:
                plan.warn('%s is not a valid public key file: %s' % (public.path, exc.msg))
        has_passphrase = None
        if private_key_data is not None:
            try:
                has_passphrase = KeyBackend.is_encrypted(private_key_data)
            except KeyLoadError as exc:
                plan.warn('%s does not look like a private key: %s' % (private.path, exc.msg))
                private_key_data = None
        if private_key_data is None and key is None:
            return None
        if private_key_data is not None:
            derived = self._public_of_private(private_key_data, has_passphrase)
            if derived is not None:
                self.private_public_keys[tree.path(parts, name)] = derived
            if derived is not None and key is not None and not derived.same_key(key):
                plan.warn('%s does not hold the public key of %s' % (public.path, private.path))
            if key is None:
                key = derived
        info = {
            'name': name,
            'path': tree.path(parts, name),
            'public_key_path': tree.path(parts, name + '.pub') if public is not None else None,
            'has_private_key': private_key_data is not None,
            'has_passphrase': has_passphrase,
            'has_ppk': (name + PPK_SUFFIX) in files,
            'public_key': None, 'type': None, 'size': None, 'comment': None,
            'fingerprint': None, 'fingerprint_md5': None, 'authorized': False,
        }
        if key is not None:
            info.update({
                'public_key': key.to_line(),
                'type': key.family,
                'size': key.size,
                'comment': key.comment,
                'fingerprint': key.fingerprint_sha256,
                'fingerprint_md5': key.fingerprint_md5,
                'authorized': key.plain_blob in authorized,
            })
        return info

    def _public_of_private(self, data, encrypted):
        """The public key of a private key without its passphrase, when the
        format allows (OpenSSH always; PEM only when not encrypted)."""
        try:
            if KeyBackend.private_format(data) == 'openssh':
                return KeyBackend.openssh_public_key(data)
            if encrypted:
                return None
            return select_backend('auto', private_bytes=data).load_private(data, None)
        except (KeyLoadError, BackendUnavailable):
            return None

    def result(self, plan, applied):
        spec = self.spec
        result = {'keys': self.keys, 'path': spec.path, 'user': spec.account.name}
        if spec.name is not None:
            if self.keys:
                result['public_key'] = self.keys[0]['public_key']
                result['msg'] = 'Found the key %s in %s.' % (spec.name, spec.path)
            else:
                result['msg'] = 'There is no key %s in %s.' % (spec.name, spec.path)
        else:
            plural = '' if len(self.keys) == 1 else 's'
            result['msg'] = 'Found %d key%s in %s.' % (len(self.keys), plural, spec.path)
        return result
