# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An SSH key pair in an account's ``~/.ssh``: plan and apply (``SshKeyPair``).

Shared by the ``ssh_genkey`` module and the bulk ``provision`` module. A pair
is generated, or imported from a given private key (or a public key alone),
and optionally exported in PuTTY's ``.ppk`` format next to the private key.
Its options are validated in spec.py, the ``.ppk`` is planned by
genkey_ppk.py, and what the diff and ``reason`` show comes from genkey_report.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    Conflict,
    KeyLoadError,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import account_tree
from ansible_collections.keysmith.accounts.plugins.module_utils._module import (
    Operation,
    Plan,
    generated_ahead,
    plan_generates,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._regenerate import replacement_reason
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk as ppk_format
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.ppk_companion import PpkCompanion
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.report import key_view, parse_public, public_view, reason_text
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import (
    EMPTY_PASSPHRASE_WARNING,
    PRIVATE_MODE,
    PUBLIC_MODE,
    SSH_DIR_MODE,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


class SshKeyPair(Operation):
    """Plan and apply one key pair (``ssh_genkey``'s operation)."""

    def __init__(self, spec):
        self.spec = spec
        account = spec.account
        self.tree, self.parts, self.name = account_tree(account, spec.path, spec.follow)
        self._generator = None
        self.key = None          # PublicKey of the pair once known
        self.comment = None      # the comment the pair ends with
        self.generated = False
        self.has_private = True  # False when only a public key is installed
        self.ppk = PpkCompanion(spec, self.tree, self.parts, self.name)

    @property
    def generator(self):
        """The backend that can make the key the task asks for."""
        if self._generator is None:
            spec = self.spec
            self._generator = select_backend(spec.backend_name, spec.key_type, spec.private_key_format,
                                             encrypted=bool(spec.passphrase))
        return self._generator

    def loader(self, private_bytes):
        """The backend that can read an existing private key."""
        return select_backend(self.spec.backend_name, private_bytes=private_bytes)

    # ---------------------------------------------------------------- plan
    def plan(self):
        spec = self.spec
        # A public key alone installs no private key file: the diff names the .pub.
        plan = Plan(spec.public_path if spec.state == 'present' and spec.importing and spec.import_private is None
                    else spec.path)
        for text in spec.warnings:
            plan.warn(text)
        if spec.key_type == 'dsa' and spec.state == 'present':
            plan.deprecate('dsa keys are deprecated: OpenSSH disables them by default and removes them; '
                           'use type ed25519 or rsa', version='2.0.0', collection_name='keysmith.accounts')
        if not spec.account.exists:
            plan.warn_missing_user(spec.account)
            private, public, ssh_dir, ppk = None, None, None, None
        else:
            if spec.state == 'present':
                self.tree.check_base(spec.account.name if self.parts else None)
            private = self.tree.read(self.parts, self.name)
            public = self.tree.read(self.parts, self.name + '.pub')
            ppk = self.tree.read(self.parts, self.name + ppk_format.PPK_SUFFIX)
            ssh_dir = self.tree.dir_state(self.parts) if spec.managed_ssh_dir else None
        if spec.state == 'absent':
            self._plan_absent(plan, private, public, ppk)
        elif spec.importing and spec.import_private is None:
            self._plan_public_import(plan, private, public, ssh_dir)
        else:
            self._plan_present(plan, private, public, ssh_dir)
            if spec.ppk:
                new_key = any(a.kind in ('generate', 'regenerate', 'import') for a in plan.actions)
                self.ppk.plan_export(plan, private, ppk, self.comment, new_key)
        return plan

    def _plan_absent(self, plan, private, public, ppk=None):
        plan.before = public_view(public) if private is not None and private.exists else None
        for state in (private, public):
            if state is not None and state.exists:
                plan.add('remove', state.path, self._remover(state.path))
        if ppk is not None and ppk.exists:
            self.ppk.plan_removal(plan, private, parse_public(public), ppk)
        plan.after = None

    def _remover(self, path):
        name = os.path.basename(path)
        return lambda: self.tree.remove(self.parts, name)

    def _plan_present(self, plan, private, public, ssh_dir):
        spec = self.spec
        if ssh_dir is not None:
            self._plan_ssh_dir(plan, ssh_dir)
        if spec.importing:
            reason = self._import_reason(plan, private)
        else:
            reason = self._regeneration_reason(plan, private)
        plan.before = public_view(public) if private is not None and private.exists else None
        if reason is not None and spec.importing:
            self.key = spec.import_key
            self.comment = self._wanted_comment(public)
            detail = '%s %d, %s' % (spec.key_type, spec.bits, spec.import_key.fingerprint_sha256)
            if reason != 'missing':
                detail += ', ' + reason
            plan.add('import', spec.path, self._import, detail)
            self.key = PublicKey.from_blob(self.key.key_type, self.key.blob, self.comment)
            plan.after = key_view(self.key)
            return
        if reason is not None:
            self.comment = self._wanted_comment(public)
            detail = '%s %d' % (spec.key_type, spec.bits)
            if reason != 'missing':
                detail += ', ' + reason
            plan.add('regenerate' if private is not None and private.exists else 'generate',
                     spec.path, self._generate, detail)
            plan.after = {'type': spec.key_type, 'size': spec.bits,
                          'comment': self.comment,
                          'fingerprint': '(new key)', 'public_key': '(new key)'}
            if not spec.passphrase and not spec.empty_passphrase_acknowledged:
                # One warning a run naming every such key, however many a fleet run makes.
                plan.warn_grouped(EMPTY_PASSPHRASE_WARNING, spec.path, 'keys')
            return
        # The existing private key stays: fix its comment, restore the public
        # key and fix attributes. The comment inside an OpenSSH private key
        # (what ssh-keygen -y prints) is only rewritten when the task sets one
        # (or the imported key brings one).
        comment = self.comment = self._wanted_comment(public)
        explicit = self._explicit_comment()
        if (explicit is not None and self.key.comment != explicit
                and self.loader(private.data).private_format(private.data) == 'openssh'):
            plan.add('update comment of', spec.path, self._private_comment_setter(explicit))
        self._plan_public_file(plan, public, comment)
        plan.ensure_attrs(spec.path, private, self._attr_setter(self.name, PRIVATE_MODE), PRIVATE_MODE,
                          self.tree.uid, self.tree.gid)
        self.key = PublicKey.from_blob(self.key.key_type, self.key.blob, comment)
        plan.after = key_view(self.key)

    def _plan_public_file(self, plan, public, comment):
        """Write the .pub of ``self.key`` with ``comment`` when it differs; else fix its attributes."""
        spec = self.spec
        wanted_line = self.key.to_line(comment) + '\n'
        if not public.exists or public.data.decode('utf-8', 'replace') != wanted_line:
            what = 'restore' if not public.exists or not self._pub_matches(public) else 'update comment of'
            if self.imported_public_only and not self._pub_matches(public):
                what = 'import'
            plan.add(what, spec.public_path, self._writer(self.name + '.pub', wanted_line.encode('utf-8'),
                                                          PUBLIC_MODE))
        else:
            plan.ensure_attrs(spec.public_path, public, self._attr_setter(self.name + '.pub', PUBLIC_MODE),
                              PUBLIC_MODE, self.tree.uid, self.tree.gid)

    @property
    def imported_public_only(self):
        return self.spec.importing and self.spec.import_private is None

    def _plan_ssh_dir(self, plan, ssh_dir):
        plan.ensure_dir(ssh_dir, lambda: self.tree.ensure_dir(self.parts, SSH_DIR_MODE), SSH_DIR_MODE,
                        self.tree.uid, self.tree.gid)

    def _load_existing(self, private):
        """(loader, encrypted, PublicKey) of the existing private key; ``KeyLoadError`` if unreadable."""
        loader = self.loader(private.data)
        encrypted = loader.is_encrypted(private.data)
        key = loader.load_private(private.data, self.spec.passphrase if encrypted else None)
        return loader, encrypted, key

    def _regeneration_reason(self, plan, private):
        """Why the pair must be (re)generated, or None to keep it.

        Sets ``self.key`` to the existing key when it is kept.
        """
        spec = self.spec
        existing = []

        def compare():
            loader, encrypted, key = self._load_existing(private)
            existing.append(key)
            drift = []
            if key.family != spec.key_type:
                drift.append('type is %s, not %s' % (key.family, spec.key_type))
            elif key.size != spec.bits:
                drift.append('size is %d, not %d' % (key.size, spec.bits))
            if bool(spec.passphrase) != encrypted:
                drift.append('it is %s a passphrase' % ('protected by' if encrypted else 'not protected by'))
            if spec.private_key_format != 'auto':
                current_format = loader.private_format(private.data)
                if current_format != spec.private_key_format:
                    drift.append('format is %s, not %s' % (current_format, spec.private_key_format))
            return drift, bool(spec.passphrase) and not encrypted

        reason = replacement_reason(plan, spec.path, spec.regenerate, private is not None and private.exists,
                                    compare)
        if reason is None:
            self.key = existing[0]
        return reason

    def _import_reason(self, plan, private):
        """Why the given private key must be installed, or None to keep the existing one.

        The existing key is kept when it is the same key in the same format and
        with the same protection (its bytes may differ). Another key, format or
        protection is drift and ``regenerate`` decides; ``always`` acts as
        ``full_idempotence`` (an imported key is the same on every run).
        """
        spec = self.spec
        new = spec.import_key
        existing = []

        def compare():
            loader, encrypted, key = self._load_existing(private)
            existing.append(key)
            drift = []
            if not key.same_key(new):
                drift.append('it is another key (%s), not the given one (%s)'
                             % (key.fingerprint_sha256, new.fingerprint_sha256))
            else:
                if encrypted != spec.import_encrypted:
                    drift.append('it is %s a passphrase' % ('protected by' if encrypted else 'not protected by'))
                current_format = loader.private_format(private.data)
                if current_format != spec.import_format:
                    drift.append('format is %s, not %s' % (current_format, spec.import_format))
            return drift, False

        reason = replacement_reason(plan, spec.path, spec.regenerate, private is not None and private.exists,
                                    compare, replacement='the given key (%s)' % new.fingerprint_sha256,
                                    wanted='the given key', importing=True)
        if reason is None:
            self.key = existing[0]
        elif existing and not existing[0].same_key(new):
            plan.warn('%s holds another key (%s); it is replaced by the given key (%s). The old private key '
                      'is gone unless you have a copy' % (spec.path, existing[0].fingerprint_sha256,
                                                          new.fingerprint_sha256))
        return reason

    def _plan_public_import(self, plan, private, public, ssh_dir):
        """``public_key`` alone: install just the .pub.

        An existing private key of the same key stays. A private key of
        another key (or one that cannot be read) conflicts: ``never`` keeps
        everything with a warning, ``full_idempotence`` and ``always`` remove
        that private key, the others fail naming both fingerprints.
        """
        spec = self.spec
        new = spec.import_key
        if ssh_dir is not None:
            self._plan_ssh_dir(plan, ssh_dir)
        plan.before = public_view(public) if (private is not None and private.exists) or (
            public is not None and public.exists) else None
        self.key = new
        keep_private = False
        if private is not None and private.exists:
            existing, why = self._public_of_private(private)
            if existing is not None and existing.same_key(new):
                keep_private = True
            else:
                what = ('it holds another key (%s)' % existing.fingerprint_sha256 if existing is not None
                        else 'it cannot be read (%s)' % why)
                if spec.regenerate == 'never':
                    plan.warn('%s does not match public_key (%s): %s, but regenerate is never: keeping it'
                              % (spec.path, new.fingerprint_sha256, what))
                    self.key = None
                    plan.after = plan.before
                    return
                if spec.regenerate not in ('full_idempotence', 'always'):
                    raise Conflict('%s does not match public_key (%s): %s. It is left untouched; set '
                                   'regenerate: full_idempotence to remove that private key and install '
                                   'the public key alone' % (spec.path, new.fingerprint_sha256, what),
                                   path=spec.path)
                plan.add('remove', spec.path, self._remover(spec.path), 'another key: %s' % what)
        self.has_private = keep_private
        comment = self.comment = self._wanted_comment(public)
        self.key = PublicKey.from_blob(new.key_type, new.blob, comment)
        self._plan_public_file(plan, public, comment)
        if keep_private:
            plan.ensure_attrs(spec.path, private, self._attr_setter(self.name, PRIVATE_MODE), PRIVATE_MODE,
                              self.tree.uid, self.tree.gid)
        plan.after = key_view(self.key)

    def _public_of_private(self, private):
        """(PublicKey, None) of an existing private key, read without the
        passphrase where the format allows; (None, reason) when unreadable."""
        try:
            if KeyBackend.private_format(private.data) == 'openssh':
                return KeyBackend.openssh_public_key(private.data), None
            return self._load_existing(private)[2], None
        except (KeyLoadError, BackendUnavailable) as exc:
            return None, exc.msg

    def _pub_matches(self, public):
        current = parse_public(public)
        return current is not None and current.same_key(self.key)

    def _explicit_comment(self):
        """The comment the task sets: ``comment``, else the one of an imported key."""
        spec = self.spec
        if spec.comment is not None:
            return spec.comment
        if spec.importing and spec.import_key.comment and (
                self.key is None or self.key.same_key(spec.import_key)):
            return spec.import_key.comment
        return None

    def _wanted_comment(self, public):
        """The task's comment; else the one already in use; else user@host."""
        explicit = self._explicit_comment()
        if explicit is not None:
            return explicit
        current = parse_public(public)
        if current is not None and current.comment and (self.key is None or current.same_key(self.key)):
            return current.comment
        if self.key is not None and self.key.comment:
            return self.key.comment
        return self.spec.default_comment()

    # ---------------------------------------------------------------- apply
    def _writer(self, name, data, mode):
        return lambda: self.tree.write(self.parts, name, data, mode)

    def _private_comment_setter(self, comment):
        def run():
            # Re-read: the comment goes into the key as it is now.
            current = self.tree.read(self.parts, self.name)
            updated = self.loader(current.data).set_comment(current.data, self.spec.passphrase, comment)
            self.tree.write(self.parts, self.name, updated, PRIVATE_MODE)
        return run

    def _attr_setter(self, name, mode):
        return lambda: self.tree.set_attrs(self.parts, name, mode)

    def _key_computation(self):
        spec = self.spec
        # the backend is chosen here, in the calling thread
        generate = self.generator.generate
        comment = self.comment
        return lambda: generate(spec.key_type, spec.bits, spec.passphrase, comment, spec.private_key_format)

    def key_generation(self, plan):
        if not plan_generates(plan):
            return None
        return self._key_computation()

    def _generate(self):
        private_bytes, key = generated_ahead(self, self._key_computation())
        self.key = PublicKey.from_blob(key.key_type, key.blob, self.comment)
        # Private key first: if the run dies between the two writes, the next
        # run sees a .pub that does not match and restores it.
        self.tree.write(self.parts, self.name, private_bytes, PRIVATE_MODE)
        self.tree.write(self.parts, self.name + '.pub', (self.key.to_line() + '\n').encode('utf-8'), PUBLIC_MODE)
        self.generated = True

    def _import(self):
        spec = self.spec
        data = spec.import_private
        if spec.import_format == 'openssh' and spec.import_private_comment != self.comment:
            # Stored in the key as ssh-keygen -c does; the key itself is unchanged.
            data = self.loader(data).set_comment(data, spec.passphrase, self.comment)
        self.tree.write(self.parts, self.name, data, PRIVATE_MODE)
        self.tree.write(self.parts, self.name + '.pub', (self.key.to_line() + '\n').encode('utf-8'), PUBLIC_MODE)

    def after_apply(self):
        # The plan could only announce a new key; the diff shows the real one.
        return key_view(self.key) if self.generated else None

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        result = self.file_result(plan, public_key_path=spec.public_path)
        if spec.ppk and spec.state == 'present':
            result['ppk_path'] = spec.ppk_path
        key = self.key if spec.state == 'present' else None
        if key is not None:
            result.update({
                'public_key': key.to_line(),
                'fingerprint': key.fingerprint_sha256,
                'fingerprint_md5': key.fingerprint_md5,
                'randomart': key.randomart(),
                'type': key.family,
                'size': key.size,
                'comment': key.comment,
                'reason': self._reason(key, plan, applied),
            })
        elif spec.state == 'present' and spec.importing:
            result['reason'] = 'Kept %s: it does not match the given key, and regenerate is never.' % spec.path
        elif spec.state == 'present':
            result['reason'] = 'Would generate a public/private %s key pair in %s.' % (spec.key_type, spec.path)
        else:
            result['reason'] = ('Removed %s.' % ', '.join(a.path for a in plan.actions) if plan.actions
                                else 'No key pair at %s.' % spec.path)
        return result

    def _reason(self, key, plan=None, applied=False):
        """A text like cPanel's genkey ``reason`` (ssh-keygen's own words)."""
        importing = plan is not None and any(a.kind == 'import' for a in plan.actions)
        if self.generated:
            event = 'generated'
        elif importing:
            event = 'installed' if self.imported_public_only else 'imported'
        elif self.imported_public_only and not self.has_private:
            event = 'public_kept'
        else:
            event = 'kept'
        return reason_text(self.spec, key, event, applied)
