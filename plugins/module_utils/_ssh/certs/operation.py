# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh_cert`` operation: sign user and host certificates with a CA key
on this host, many in one call.

Planning reads the CA key (for its public half), each public key and each
certificate file already there, and compares what is asked with what is on
disk: certified key, CA, type, key id, principals, critical options,
extensions, signature algorithm, serial (when one is given) and validity
(``validity.py``: absolute bounds exactly, relative ones by whether the
certificate still fits, ``renew_before``). Only a certificate that differs is
signed, so an unchanged task re-run signs nothing. The serial (random, or the
one given) and the validity window are fixed in the plan, so check mode
shows exactly what a real run signs. The certificate files are written
atomically through ``_fs``; the CA key is only read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import FileState, Tree, read_named_file
from ansible_collections.keysmith.accounts.plugins.module_utils._module import (
    Operation,
    Outcome,
    Plan,
    missing_prerequisite,
    render_state,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import (
    Certificate,
    epoch_now,
    utc_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.signer import (
    ca_public_key,
    select_agent_signer,
    select_pkcs11_signer,
    select_signer,
    signature_algorithm_for,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import DEFAULT_MODE
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules

# A certificate file is one line of a few KiB; a larger file is not one.
CERT_FILE_LIMIT = 64 * 1024
KEY_FILE_LIMIT = 256 * 1024


def differences(cert, request, key, ca_key, algorithm, now):
    """Why the certificate on disk (``cert``) is not what ``request`` asks:
    a list of reasons ([] when it is)."""
    reasons = []
    if cert.key.blob != key.blob:
        reasons.append('it certifies another key')
    if cert.ca_blob != ca_key.blob:
        reasons.append('another CA signed it')
    else:
        try:
            sshd_rules.key_from_blob(cert.blob())
        except sshd_rules.BlobError as exc:
            reasons.append('sshd would not accept it (%s)' % exc)
    if cert.signature_algorithm != algorithm:
        reasons.append('signature algorithm %s, not %s' % (cert.signature_algorithm, algorithm))
    if cert.cert_type != request.cert_type:
        reasons.append('it is a %s certificate' % cert.cert_type)
    if cert.key_id != request.key_id:
        reasons.append('key id differs')
    if sorted(cert.principals) != sorted(request.principals):
        reasons.append('principals differ')
    if cert.critical_options != request.critical_options:
        reasons.append('critical options differ')
    if cert.extensions != request.extensions:
        reasons.append('extensions differ')
    if request.serial is not None and cert.serial != request.serial:
        reasons.append('serial differs')
    validity = request.validity.mismatch(cert, now)
    if validity is not None:
        reasons.append(validity)
    return reasons


def _random_serial():
    return int.from_bytes(os.urandom(8), 'big') or 1


class _Item:
    """One certificate of the plan: the request, the key, what is on disk,
    and the certificate to sign (its fields fixed while planning)."""

    def __init__(self, request):
        self.request = request
        self.tree = None
        self.current = None
        self.existing = None
        self.key = None
        self.wanted = None
        self.verb = None
        self.reasons = []
        self.signed = None


class SshCert(Operation):
    """Sign (or remove) the certificates a task asks for."""

    def __init__(self, ca, requests, now=None, single=False):
        self.ca = ca
        self.requests = list(requests)
        self.now = epoch_now() if now is None else now
        self.single = single
        self.items = []
        self.signer = None
        self.ca_key = None
        self.algorithm = None
        self._trees = {}

    # ---------------------------------------------------------------- plan
    def _load_agent_ca(self, plan):
        """The CA public key (text or file) and the signer of the agent or
        token: it is asked now whether it holds the key (a question; nothing
        written)."""
        if self.ca.public_key_path is not None:
            data = read_named_file(self.ca.public_key_path, KEY_FILE_LIMIT)
            if data is None:
                missing_prerequisite(NotFound('the CA public key %s does not exist' % self.ca.public_key_path,
                                              path=self.ca.public_key_path), plan)
                return
            text = data.decode('utf-8', 'replace').strip()
        else:
            text = self.ca.public_key
        key = PublicKey.from_line(text)
        if key.is_certificate:
            raise InvalidInput('ca_public_key is a certificate; give the CA\'s plain public key')
        key.comment = ''
        self.algorithm = signature_algorithm_for(key, self.ca.signature_algorithm)
        if self.ca.agent:
            self.signer = select_agent_signer(self.ca.backend, key, self.ca.agent_socket)
        else:
            self.signer = select_pkcs11_signer(self.ca.backend, key, self.ca.pkcs11_provider, self.ca.pkcs11_pin)
        self.ca_key = key

    def _load_ca(self, plan):
        if self.ca.external:
            self._load_agent_ca(plan)
            return
        data = read_named_file(self.ca.path)
        if data is None:
            # check mode: an earlier task of the play may make it
            missing_prerequisite(NotFound('the CA key %s does not exist' % self.ca.path, path=self.ca.path), plan)
            return
        self.signer = select_signer(self.ca.backend, data, self.ca.passphrase)
        self.ca_key = ca_public_key(self.signer)
        self.algorithm = signature_algorithm_for(self.ca_key, self.ca.signature_algorithm)

    def _tree(self, request):
        directory = os.path.dirname(request.path)
        uid, gid, mode = request.file_attrs
        key = (directory, uid, gid, mode)
        tree = self._trees.get(key)
        if tree is None:
            owners = set([0, os.geteuid()])
            if uid is not None:
                owners.add(uid)
            tree = Tree(directory, allowed_owners=owners, keep_attrs=True, fixed_attrs=(uid, gid, mode),
                        new_owner=(os.geteuid(), os.getegid()))
            self._trees[key] = tree
        return tree

    def _public_key(self, request, plan):
        if request.public_key is not None:
            text = request.public_key
        else:
            data = read_named_file(request.public_key_path, KEY_FILE_LIMIT)
            if data is None:
                missing_prerequisite(NotFound('the public key %s does not exist' % request.public_key_path,
                                              path=request.public_key_path), plan)
                return None
            text = data.decode('utf-8', 'replace').strip()
        key = PublicKey.from_line(text)
        if key.is_certificate:
            raise InvalidInput('%s: public_key is a certificate; give the plain public key to certify'
                               % request.path)
        if key.family == 'unknown':
            raise InvalidInput('%s: cannot certify a key of type %s' % (request.path, key.key_type))
        return key

    def plan(self):
        plan = Plan(self.requests[0].path if len(self.requests) == 1 else None)
        if any(request.state == 'present' for request in self.requests):
            self._load_ca(plan)
        seen = set()
        before, after = [], []
        for request in self.requests:
            if request.path in seen:
                raise InvalidInput('two certificates are asked for at %s' % request.path)
            seen.add(request.path)
            item = _Item(request)
            self.items.append(item)
            item.tree = tree = self._tree(request)
            name = os.path.basename(request.path)
            try:
                tree.check_base()
                item.current = tree.read([], name, limit=CERT_FILE_LIMIT)
            except NotFound as exc:
                missing_prerequisite(NotFound('%s (the directory of the certificate %s)' % (exc.msg, request.path),
                                              path=request.path), plan)
                item.current = FileState(request.path)
            if request.state == 'absent':
                if item.current.exists:
                    item.verb = 'remove'
                    plan.add('remove', request.path, self._remover(item))
                    before.append(self._text_view(request.path, self._existing_view(item)))
                continue
            item.key = self._public_key(request, plan)
            if item.current.exists:
                try:
                    item.existing = Certificate.from_line(item.current.data.decode('utf-8', 'replace').strip())
                except InvalidInput as exc:
                    item.reasons = ['the file holds no valid certificate (%s)' % exc.msg]
                else:
                    if item.key is None or self.ca_key is None:
                        item.reasons = ['check mode: the %s does not exist yet'
                                        % ('CA key' if self.ca_key is None else 'public key')]
                    else:
                        item.reasons = differences(item.existing, request, item.key, self.ca_key, self.algorithm,
                                                   self.now)
                    if item.existing.valid_before <= self.now and not item.reasons:
                        plan.warn('%s has expired (valid_to %s is fixed: give a new one or a relative one such '
                                  'as +52w)' % (request.path, request.validity.valid_to.text))
            else:
                item.reasons = ['there is no certificate']
            if item.reasons:
                item.wanted = self._wanted(item)
                if not item.current.exists:
                    item.verb = 'sign'
                elif len(item.reasons) == 1 and item.reasons[0].startswith('renewal'):
                    item.verb = 'renew'
                else:
                    item.verb = 're-sign'
                detail = '%s certificate, key id %s, serial %d, %s to %s%s' % (
                    request.cert_type, request.key_id, item.wanted.serial, utc_text(item.wanted.valid_after),
                    utc_text(item.wanted.valid_before),
                    '' if item.verb == 'sign' else ': ' + ', '.join(item.reasons))
                plan.add(item.verb, request.path, self._signer_of(item), detail)
                if item.current.exists:
                    before.append(self._text_view(request.path, self._existing_view(item)))
                after.append(self._text_view(request.path, self._wanted_view(item)))
            else:
                uid, gid, mode = tree.attrs_for(request.path, (item.current.uid, item.current.gid,
                                                               item.current.mode), DEFAULT_MODE)
                if plan.ensure_attrs(request.path, item.current, self._attrs_fixer(item), mode, uid, gid):
                    item.verb = 'set attributes'
        plan.before = ''.join(before)
        plan.after = ''.join(after)
        return plan

    def _wanted(self, item):
        """The certificate to sign (without nonce and signature), its serial
        and validity fixed now; its key is None only in check mode (a public
        key file an earlier task makes)."""
        request = item.request
        serial = request.serial
        if serial is None:
            serial = _random_serial()
        after, before = request.validity.window(self.now)
        return Certificate(item.key, request.cert_type, serial, request.key_id, request.principals, after, before,
                           request.critical_options, request.extensions,
                           comment=item.key.comment if item.key is not None else '')

    @staticmethod
    def _text_view(path, view):
        return '%s:\n%s' % (path, ''.join('  %s\n' % line for line in render_state(view).splitlines()))

    def _existing_view(self, item):
        if item.existing is None:
            return {'content': 'not a valid certificate'} if item.current.exists else {}
        view = item.existing.view()
        view.pop('public_key', None)
        return view

    def _wanted_view(self, item):
        wanted = item.wanted
        known = wanted.key is not None
        view = {
            'type': wanted.cert_type, 'key_type': wanted.wire_type if known else None,
            'fingerprint': wanted.key.fingerprint_sha256 if known else None,
            'ca_fingerprint': self.ca_key.fingerprint_sha256 if self.ca_key is not None else None,
            'signature_algorithm': self.algorithm,
            'serial': wanted.serial, 'key_id': wanted.key_id, 'principals': list(wanted.principals),
            'valid_from': utc_text(wanted.valid_after), 'valid_to': utc_text(wanted.valid_before),
            'critical_options': dict(wanted.critical_options), 'extensions': sorted(wanted.extensions),
        }
        return view

    # --------------------------------------------------------------- apply
    def _signer_of(self, item):
        def run():
            wanted = item.wanted
            cert = Certificate(wanted.key, wanted.cert_type, wanted.serial, wanted.key_id, wanted.principals,
                               wanted.valid_after, wanted.valid_before, wanted.critical_options, wanted.extensions,
                               comment=wanted.comment)
            item.signed = self.signer.sign(cert, self.algorithm)
            request = item.request
            item.tree.write([], os.path.basename(request.path), (item.signed.to_line() + '\n').encode('ascii'),
                            DEFAULT_MODE)
        return run

    def _remover(self, item):
        return lambda: item.tree.remove([], os.path.basename(item.request.path))

    def _attrs_fixer(self, item):
        return lambda: item.tree.set_attrs([], os.path.basename(item.request.path), DEFAULT_MODE)

    def apply(self, plan):
        try:
            done, skipped = plan.run_actions()
        finally:
            if self.signer is not None:
                self.signer.close()
        return Outcome(done=done, skipped=skipped)

    # -------------------------------------------------------------- result
    def _item_result(self, item, applied):
        request = item.request
        out = {'path': request.path, 'state': request.state, 'changed': item.verb is not None,
               'action': item.verb, 'reasons': list(item.reasons) if item.verb else []}
        if request.state == 'absent':
            return out
        cert = item.signed if applied and item.signed is not None else None
        if cert is None and item.verb in (None, 'set attributes'):
            cert = item.existing
        if cert is not None:
            view = cert.view()
            view.pop('public_key', None)
            out.update(view)
            out['certificate'] = cert.to_line()
        elif item.wanted is not None:
            out.update(self._wanted_view(item))
            out['certificate'] = None
        return out

    def result(self, plan, applied):
        if self.signer is not None:
            # check mode: the agent's connection (opened while planning) is closed here
            self.signer.close()
        items = [self._item_result(item, applied) for item in self.items]
        changed = sum(1 for item in items if item['changed'])
        verb = 'changed' if applied or not changed else 'to change'
        result = {'certificates': items, 'actions': plan.describe(),
                  'msg': '%d of %d certificate%s %s.' % (changed, len(items), '' if len(items) == 1 else 's', verb)}
        if self.ca_key is not None:
            result['ca_fingerprint'] = self.ca_key.fingerprint_sha256
        if self.single and items:
            for name, value in items[0].items():
                if name not in ('changed',):
                    result.setdefault(name, value)
        return result
