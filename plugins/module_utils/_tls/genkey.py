# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TLS private key for a host in an account's ``~/ssl/keys``: spec, plan, apply (``ssl_genkey``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import REGENERATE_CHOICES
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._module import (
    Operation,
    Plan,
    generated_ahead,
    plan_generates,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._regenerate import replacement_reason
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.layout import (
    KEY_MODE,
    Location,
    default_key_path,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import validate_host, validate_path


class TlsKeySpec:
    """The validated form of ``ssl_genkey``'s options."""

    def __init__(self, account, host=None, path=None, key_type='rsa', size=None, passphrase=None,
                 state='present', regenerate='partial_idempotence', follow=False):
        self.account = account
        if host is None and path is None:
            raise InvalidInput('one of host and path is required')
        self.host = validate_host(host) if host is not None else None
        self.path = validate_path(path) if path is not None else default_key_path(account.home, self.host)
        if state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent, got %r' % state)
        if regenerate not in REGENERATE_CHOICES:
            raise InvalidInput('regenerate must be one of %s' % ', '.join(REGENERATE_CHOICES))
        self.key_type = key_type
        self.size = tls_keys.resolve_size(key_type, size)
        self.passphrase = tls_keys.validate_passphrase(passphrase)
        self.state = state
        self.regenerate = regenerate
        self.follow = follow


class TlsKey(Operation):
    """Plan and apply one TLS private key."""

    def __init__(self, spec):
        self.spec = spec
        self.location = Location(spec.account, spec.path, spec.follow)
        self.key = None
        self.encrypted = False
        self.generated = False
        self.plans_new_key = False  # what the last plan() decided (a CSR of the same run reads it)

    # ---------------------------------------------------------------- plan
    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        self.plans_new_key = False
        if spec.state == 'present':
            tls_keys.require_cryptography('TLS keys')
        if not spec.account.exists:
            plan.warn_missing_user(spec.account)
            current = None
        else:
            current = self.location.read(require_base=spec.state == 'present')
        if spec.state == 'absent':
            plan.before = self._view_of_file(current)
            if current is not None and current.exists:
                plan.add('remove', spec.path, self.location.remove)
            return plan
        reason = self._regeneration_reason(plan, current)
        plan.before = self._view() if self.key is not None else self._view_of_file(current)
        if reason is not None:
            if spec.account.exists and not current.exists:
                self.location.plan_dirs(plan)
            detail = '%s %d' % (spec.key_type, spec.size)
            if reason != 'missing':
                detail += ', ' + reason
            plan.add('regenerate' if current is not None and current.exists else 'generate',
                     spec.path, self._generate, detail)
            self.plans_new_key = True
            plan.after = {'type': spec.key_type, 'size': spec.size, 'encrypted': bool(spec.passphrase),
                          'fingerprint': '(new key)'}
            return plan
        plan.ensure_attrs(spec.path, current, lambda: self.location.set_attrs(KEY_MODE), KEY_MODE,
                          self.location.tree.uid, self.location.tree.gid)
        plan.after = self._view()
        return plan

    def _regeneration_reason(self, plan, current):
        """Why the key must be (re)generated, or None to keep it (``self.key`` is then set).

        The meanings of ``regenerate`` are those of ``ssh_genkey`` (community.crypto's).
        """
        spec = self.spec
        existing = []

        def compare():
            key, encrypted = tls_keys.load_private(current.data, spec.passphrase, spec.path)
            existing.append((key, encrypted))
            key_type, size = tls_keys.describe(key)
            drift = []
            if key_type != spec.key_type:
                drift.append('type is %s, not %s' % (key_type, spec.key_type))
            elif size != spec.size:
                drift.append('size is %d, not %d' % (size, spec.size))
            if bool(spec.passphrase) != encrypted:
                drift.append('it is %s a passphrase' % ('protected by' if encrypted else 'not protected by'))
            return drift, bool(spec.passphrase) and not encrypted

        reason = replacement_reason(plan, spec.path, spec.regenerate, current is not None and current.exists,
                                    compare)
        if reason is None:
            self.key, self.encrypted = existing[0]
        return reason

    # ---------------------------------------------------------------- views
    def _view(self):
        key_type, size = tls_keys.describe(self.key)
        return {'type': key_type, 'size': size, 'encrypted': self.encrypted,
                'fingerprint': tls_keys.fingerprint(self.key)}

    @staticmethod
    def _view_of_file(current):
        if current is None or not current.exists:
            return None
        return {'fingerprint': '(existing key, not readable with the task\'s passphrase)'}

    # ---------------------------------------------------------------- apply
    def _key_computation(self):
        spec = self.spec
        return lambda: tls_keys.generate(spec.key_type, spec.size)

    def key_generation(self, plan):
        return self._key_computation() if plan_generates(plan) else None

    def _generate(self):
        spec = self.spec
        key = generated_ahead(self, self._key_computation())
        self.location.write(tls_keys.serialize(key, spec.passphrase), KEY_MODE)
        self.key, self.encrypted = key, bool(spec.passphrase)
        self.generated = True

    def after_apply(self):
        return self._view() if self.generated else None

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        result = self.file_result(plan, host=spec.host)
        if spec.state == 'present' and self.key is not None:
            view = self._view()
            result.update({
                'type': view['type'],
                'size': view['size'],
                'encrypted': view['encrypted'],
                'fingerprint': view['fingerprint'],
                'public_key': tls_keys.public_pem(self.key),
            })
        return result
