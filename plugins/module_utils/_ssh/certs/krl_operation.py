# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh_krl`` operation: a KRL file built from a declarative list.

Planning reads the KRL on disk (``krl.py``) and compares the revoked set
with the one asked for - not the bytes, not the generation time - so a re-run
changes nothing. A change is written atomically through ``_fs`` with the KRL
version one higher than the file's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import FileState, Tree, read_named_file
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import resolve_file_attrs
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import epoch_now
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl import MAX_SERIAL, Krl
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey, fingerprint_sha256
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules

KRL_MODE = 0o644
# --diff lists the entries added and removed up to this many each way.
DIFF_ENTRIES = 200


def _plain_blob(text, what):
    """The canonical plain blob of a public key line (a certificate: its key)."""
    key = PublicKey.from_line(text)
    try:
        parsed = sshd_rules.key_from_blob(key.blob)
    except sshd_rules.BlobError as exc:
        raise InvalidInput('%s %s: sshd cannot read the key (%s)' % (what, key.fingerprint_sha256, exc))
    if key.is_certificate:
        raise InvalidInput('%s: %s is a certificate; revoke it by serial or key id under certificates, or give '
                           'its plain key' % (what, key.fingerprint_sha256))
    return parsed.plain_blob


def _hash(text):
    text = str(text).strip()
    if not text.startswith('SHA256:'):
        raise InvalidInput('key hash %r must be a SHA256 fingerprint (SHA256:..., as ssh-keygen -l prints)' % text)
    body = text[len('SHA256:'):]
    try:
        digest = base64.b64decode(body + '=' * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        digest = b''
    if len(digest) != 32:
        raise InvalidInput('key hash %r is not a SHA256 fingerprint' % text)
    return digest


def _serial_range(value):
    if isinstance(value, bool):
        raise InvalidInput('serial %r is not a number' % (value,))
    text = str(value).strip()
    low, sep, high = text.partition('-')
    try:
        low = int(low)
        high = int(high) if sep else low
    except ValueError:
        raise InvalidInput('serial %r must be a number or a range such as 100-200' % (value,))
    if not 1 <= low <= high <= MAX_SERIAL:
        raise InvalidInput('serial %r must be from 1 to 2^64-1 (serial 0 is never revoked), low to high' % (value,))
    return low, high


class KrlSpec:
    """The validated options of ``ssh_krl``: the revoked set and the file."""

    def __init__(self, path, keys=None, key_hashes=None, certificates=None, comment='', owner=None, group=None,
                 mode=None):
        if not path or not os.path.isabs(path) or '\n' in path or '\0' in path:
            raise InvalidInput('path (the KRL file) must be an absolute path, got %r' % (path,))
        self.path = os.path.normpath(path)
        self.file_attrs = resolve_file_attrs(owner, group, mode)
        # a CA key file that does not exist (yet): the plan records it, the runner decides
        self.missing = []
        self.comment = comment or ''
        self.krl = Krl(self.comment)
        self.warnings = []
        for index, text in enumerate(keys or []):
            self.krl.keys.add(_plain_blob(text, 'keys[%d]' % index))
        for text in key_hashes or []:
            self.krl.sha256.add(_hash(text))
        for index, entry in enumerate(certificates or []):
            self._certificates(index, entry or {})
        for rev in self.krl.cas.values():
            rev.normalize()

    def _certificates(self, index, entry):
        what = 'certificates[%d]' % index
        unknown = set(entry) - set(['ca', 'ca_path', 'serials', 'key_ids'])
        if unknown:
            raise InvalidInput('%s takes ca, ca_path, serials and key_ids, not %s' % (what, ', '.join(sorted(unknown))))
        ca_text = entry.get('ca')
        if entry.get('ca_path'):
            if ca_text:
                raise InvalidInput('%s: give ca or ca_path, not both' % what)
            data = read_named_file(entry['ca_path'], 256 * 1024)
            if data is None:
                error = NotFound('%s: the CA public key %s does not exist' % (what, entry['ca_path']))
                self.missing.append(error)
                return
            ca_text = data.decode('utf-8', 'replace').strip()
        ca_blob = _plain_blob(ca_text, what + '.ca') if ca_text else b''
        serials = entry.get('serials') or []
        if serials and not ca_blob:
            raise InvalidInput('%s: serials are revoked per CA; give its ca (key ids may be revoked for every CA)'
                               % what)
        rev = self.krl.ca(ca_blob)
        for value in serials:
            rev.add_range(*_serial_range(value))
        for key_id in entry.get('key_ids') or []:
            if key_id is None or str(key_id) == '':
                raise InvalidInput('%s: an empty key id' % what)
            rev.key_ids.add(str(key_id))


def entries(krl):
    """The revoked set as sorted lines of text (the diff's view)."""
    lines = []
    for blob in krl.keys:
        lines.append('key %s' % fingerprint_sha256(blob))
    for digest in krl.sha256:
        lines.append('hash SHA256:%s' % base64.b64encode(digest).decode('ascii').rstrip('='))
    for digest in krl.sha1:
        lines.append('hash SHA1:%s' % base64.b64encode(digest).decode('ascii').rstrip('='))
    for ca_blob, rev in krl.cas.items():
        ca = 'CA %s' % fingerprint_sha256(ca_blob) if ca_blob else 'any CA'
        for low, high in rev.ranges:
            lines.append('%s serial %s' % (ca, low if low == high else '%d-%d' % (low, high)))
        for key_id in rev.key_ids:
            lines.append('%s key id %s' % (ca, key_id))
    return sorted(lines)


class SshKrl(Operation):
    """Write the KRL when its revoked set (or comment) differs from the one asked."""

    def __init__(self, spec, now=None):
        self.spec = spec
        self.now = epoch_now() if now is None else now
        uid, gid, mode = spec.file_attrs
        owners = set([0, os.geteuid()])
        if uid is not None:
            owners.add(uid)
        self.tree = Tree(os.path.dirname(spec.path), allowed_owners=owners, keep_attrs=True,
                         fixed_attrs=(uid, gid, mode), new_owner=(os.geteuid(), os.getegid()))
        self.name = os.path.basename(spec.path)
        self.current = None
        self.existing = None
        self.problem = None
        self.version = None

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        for error in spec.missing:
            missing_prerequisite(error, plan)
        for text in spec.warnings:
            plan.warn(text)
        try:
            self.tree.check_base()
            self.current = current = self.tree.read([], self.name)
        except NotFound as exc:
            missing_prerequisite(NotFound('%s (the directory of the KRL %s)' % (exc.msg, spec.path), path=spec.path),
                                 plan)
            self.current = current = FileState(spec.path)
        if current.exists:
            try:
                self.existing = Krl.parse(current.data)
            except InvalidInput as exc:
                self.problem = exc.msg
        wanted_lines = entries(spec.krl)
        before_lines = entries(self.existing) if self.existing is not None else []
        same = (self.existing is not None and self.existing.same_revocations(spec.krl)
                and self.existing.comment == spec.comment)
        if not same:
            self.version = (self.existing.version + 1) if self.existing is not None else 1
            added = sorted(set(wanted_lines) - set(before_lines))
            removed = sorted(set(before_lines) - set(wanted_lines))
            detail = 'revoke %d more, %d fewer entries; KRL version %d' % (len(added), len(removed), self.version)
            if self.problem:
                detail = 'the file is no KRL sshd reads (%s); KRL version %d' % (self.problem, self.version)
            elif self.existing is not None and not added and not removed:
                detail = 'comment; KRL version %d' % self.version
            plan.add('update' if current.exists else 'create', spec.path, self._write, detail)
            plan.before = self._view(before_lines, removed, 'removed') if current.exists else None
            plan.after = self._view(wanted_lines, added, 'added')
        else:
            plan.before = plan.after = self._view(before_lines, [], '')
            uid, gid, mode = self.tree.attrs_for(spec.path, (current.uid, current.gid, current.mode), KRL_MODE)
            plan.ensure_attrs(spec.path, current,
                              lambda: self.tree.set_attrs([], self.name, KRL_MODE), mode, uid, gid)
        return plan

    @staticmethod
    def _view(lines, changed, verb):
        view = {'entries': len(lines)}
        if changed:
            more = len(changed) - DIFF_ENTRIES
            view[verb] = changed[:DIFF_ENTRIES] + (['... and %d more' % more] if more > 0 else [])
        return view

    def _write(self):
        data = self.spec.krl.render(self.version, self.now)
        self.tree.write([], self.name, data, KRL_MODE)

    def result(self, plan, applied):
        spec = self.spec
        changed = plan.changed
        counts = spec.krl.counts()
        version = self.version if self.version is not None else (self.existing.version if self.existing else None)
        return {
            'path': spec.path,
            'revoked': counts,
            'krl_version': version,
            'actions': plan.describe(),
            'msg': '%s %s: %d keys, %d key hashes, %d certificate serials and %d key ids revoked.' % (
                ('Wrote' if applied else 'Would write') if changed and plan.actions[0].kind != 'set mode and owner of'
                else 'Kept', spec.path, counts['keys'], counts['sha256'] + counts['sha1'], counts['serials'],
                counts['key_ids']),
        }
