# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A certificate signing request for a host in ``~/ssl/csrs`` (cPanel's ``SSL::gencsr``, ``ssl_gencsr``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeyLoadError, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import csr as tls_csr
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.layout import (
    CSR_MODE,
    CSR_MODE_WITH_PASSWORD,
    Location,
    default_csr_path,
    default_key_path,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import (
    format_san,
    san_list,
    validate_country,
    validate_email,
    validate_host,
    validate_password,
    validate_path,
    validate_province,
    validate_text,
)

OUTPUT_GENERATED = 'Certificate Signing Request generated!'
OUTPUT_UNCHANGED = 'Certificate Signing Request is up to date.'
OUTPUT_CHECK = 'Certificate Signing Request would be generated (check mode).'


STATES = ('present', 'absent')


def validate_csr_state(state):
    """``present`` or ``absent``. cPanel's ``state`` is the province, so a value
    that is not a misspelt present/absent is named as a province."""
    if state in STATES:
        return state
    text = state.strip() if isinstance(state, str) else ''
    close = difflib.get_close_matches(text.lower(), STATES, n=1, cutoff=0.6)
    if close:
        raise InvalidInput('state must be present or absent, got %r (did you mean %s?)' % (state, close[0]))
    if text:
        raise InvalidInput('state must be present or absent, got %r. The state or province of the subject '
                           'is the province option now (cPanel\'s "state"): use province: %s' % (state, text))
    raise InvalidInput('state must be present or absent, got %r' % (state,))


class CsrSpec:
    """The validated form of ``ssl_gencsr``'s options (cPanel's ``state`` is ``province``)."""

    def __init__(self, account, host, city=None, company=None, country=None, province=None, companydivision='',
                 email='', password='', subject_alt_names=None, digest='sha256', key_path=None,
                 key_passphrase=None, path=None, follow=False, state='present'):
        self.account = account
        self.state = validate_csr_state(state)
        self.host = validate_host(host)
        self.path = validate_path(path) if path is not None else default_csr_path(account.home, self.host)
        self.follow = follow
        if self.state == 'absent':
            # Removing a CSR needs only where it is.
            self.key_path = None
            return
        self.fields = {
            'host': self.host,
            'city': validate_text('city', city, required=True),
            'company': validate_text('company', company, required=True),
            'companydivision': validate_text('companydivision', companydivision, required=False),
            'country': validate_country(country),
            'province': validate_province(province),
            'email': validate_email(email),
        }
        self.password = validate_password(password)
        self.sans = san_list(self.host, subject_alt_names)
        if digest not in tls_csr.DIGESTS:
            raise InvalidInput('digest must be one of %s, got %r' % (', '.join(tls_csr.DIGESTS), digest))
        self.digest = digest
        self.key_path = (validate_path(key_path, 'key_path') if key_path is not None
                         else default_key_path(account.home, self.host))
        self.key_passphrase = key_passphrase or None
        if self.path == self.key_path:
            raise InvalidInput('path and key_path must not be the same file')
        self.subject = tls_csr.subject_tuples(self.fields)
        self.mode = CSR_MODE_WITH_PASSWORD if self.password else CSR_MODE


class CertificateSigningRequest(Operation):
    """Plan and apply one CSR."""

    def __init__(self, spec, key_source=None):
        self.spec = spec
        # key_source: the TlsKey operation of the same run for key_path
        # (provision), planned first; its key, loaded or generated, is used
        # instead of reading the PEM again (each key is loaded at most once
        # per run). When its plan makes a new key, the CSR is planned for it.
        self.key_source = key_source
        self.location = Location(spec.account, spec.path, spec.follow)
        self.key_location = Location(spec.account, spec.key_path, spec.follow) if spec.key_path else None
        self.key = None
        self.digest = getattr(spec, 'digest', None)
        self.info = None         # CsrInfo of the CSR once known
        self.generated = False

    # ---------------------------------------------------------------- plan
    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        if spec.state == 'absent':
            return self._plan_absent(plan)
        tls_keys.require_cryptography('certificate signing requests')
        if not spec.account.exists:
            plan.warn_missing_user(spec.account, 'a key for %s' % spec.host)
            return self._plan_new(plan, None, 'missing')
        key_pending = self.key_source is not None and self.key_source.plans_new_key
        self.key = None if key_pending else self._load_key(plan)
        if self.key is not None:
            self.digest = tls_csr.effective_digest(self.key, spec.digest)
        current = self.location.read(require_base=True)
        if not current.exists:
            return self._plan_new(plan, current, 'missing')
        try:
            self.info = tls_csr.load(current.data, spec.path)
        except KeyLoadError as exc:
            plan.before = {'subject': '(unreadable CSR)'}
            return self._plan_new(plan, current, exc.msg)
        plan.before = self.info.view()
        if self.key is None:
            differences = ['key (not created yet)']
        else:
            differences = self.info.same_as(spec.subject, spec.sans, tls_keys.public_der(self.key),
                                            self.digest, spec.password)
        if differences:
            self.info = None
            return self._plan_new(plan, current, 'differs: ' + ', '.join(differences))
        plan.ensure_attrs(spec.path, current, lambda: self.location.set_attrs(spec.mode), spec.mode,
                          self.location.tree.uid, self.location.tree.gid)
        plan.after = self.info.view()
        return plan

    def _plan_absent(self, plan):
        spec = self.spec
        if not spec.account.exists:
            plan.warn_missing_user(spec.account)
            return plan
        current = self.location.read()
        if current.exists:
            plan.before = {'path': spec.path, 'state': 'present'}
            plan.after = {'path': spec.path, 'state': 'absent'}
            plan.add('remove', spec.path, self.location.remove)
        return plan

    def _load_key(self, plan):
        spec = self.spec
        source = self.key_source
        if source is not None and source.key is not None and source.spec.path == spec.key_path:
            return source.key
        key_file = self.key_location.read()
        if not key_file.exists:
            message = ('no private key for host %s at %s. You must install a key for the host before you '
                       'generate a CSR: create it first with keysmith.accounts.ssl_genkey (host: %s)'
                       % (spec.host, spec.key_path, spec.host))
            missing_prerequisite(NotFound(message, path=spec.key_path), plan)
            return None
        try:
            key, _encrypted = tls_keys.load_private(key_file.data, spec.key_passphrase, spec.key_path)
        except KeyLoadError as exc:
            raise KeyLoadError('%s; give the key\'s passphrase in key_passphrase' % exc.msg
                               if tls_keys.is_encrypted(key_file.data) else exc.msg, path=spec.key_path)
        return key

    def _plan_new(self, plan, current, reason):
        spec = self.spec
        exists = current is not None and current.exists
        if spec.account.exists and not exists:
            self.location.plan_dirs(plan)
        detail = None if reason == 'missing' else reason
        plan.add('regenerate' if exists else 'generate', spec.path, self._generate, detail)
        plan.after = self._wanted_view()
        return plan

    def _wanted_view(self):
        spec = self.spec
        return {
            'subject': tls_csr.subject_string(spec.subject),
            'subject_alt_names': [format_san(item) for item in spec.sans],
            'digest': self.digest,
            'key_fingerprint': tls_keys.fingerprint(self.key) if self.key is not None else '(key not created yet)',
            'challenge_password': '(set)' if spec.password else None,
        }

    # ---------------------------------------------------------------- apply
    def _generate(self):
        spec = self.spec
        if self.key is None:
            self.key = self._load_key(Plan())
            self.digest = tls_csr.effective_digest(self.key, spec.digest)
        pem = tls_csr.build(self.key, spec.fields, spec.sans, self.digest, spec.password)
        self.location.write(pem, spec.mode)
        self.info = tls_csr.load(pem, spec.path)
        self.generated = True

    def after_apply(self):
        return self.info.view() if self.generated else None

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        result = self.file_result(plan, host=spec.host)
        if spec.state == 'present':
            result['key_path'] = spec.key_path
        else:
            result['output'] = (('Certificate Signing Request removed.' if applied
                                 else 'Certificate Signing Request would be removed (check mode).')
                                if plan.changed else 'No Certificate Signing Request to remove.')
            return result
        if self.generated:
            result['output'] = OUTPUT_GENERATED
        elif plan.changed and not applied:
            result['output'] = OUTPUT_CHECK
        else:
            result['output'] = OUTPUT_UNCHANGED
        if self.info is not None:
            info = self.info
            subject = info.subject
            sans = info.sans
            result.update({
                'csr': info.pem,
                'key_fingerprint': info.fingerprint,
                'key_type': info.key_type,
                'key_size': info.key_size,
                'digest': info.digest,
            })
        else:
            subject = spec.subject
            sans = spec.sans
            result['digest'] = self.digest
            if self.key is not None:
                result['key_fingerprint'] = tls_keys.fingerprint(self.key)
                result['key_type'], result['key_size'] = tls_keys.describe(self.key)
        result['subject'] = dict(subject)
        result['subject_string'] = tls_csr.subject_string(subject)
        result['subject_alt_names'] = [format_san(item) for item in sans]
        return result
