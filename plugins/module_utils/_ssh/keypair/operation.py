# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key pairs in the registry: the operations of ``keypair`` and ``keypair_info``.

A generated private key is handed over once - written to ``private_key_path``
or returned in the result of the run that made it - and never stored in the
registry (see ``_registry``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._constants import DEFAULT_KEY_TYPE
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree, split_under
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Outcome, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.registry import (
    DEFAULT_REGISTRY,
    REGISTRY_MODE,
    Entry,
    Registry,
    current_user,
    utc_now,
    validate_id,
    validate_name,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import resolve_bits
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

KEYPAIR_TYPES = ('rsa', 'ecdsa', 'ed25519')
# openssh: as ssh-keygen writes it; pkcs1: Tencent Cloud's "BEGIN RSA PRIVATE KEY" PEM; pkcs8: "BEGIN PRIVATE KEY".
KEYPAIR_PRIVATE_KEY_FORMATS = ('openssh', 'pkcs1', 'pkcs8')
DEFAULT_COMMENT = 'generated-by-keysmith'
PRIVATE_KEY_MODE = 0o600

PRIVATE_KEY_WARNING = (
    'The private key of key pair %s is in the result of this task (private_key) and nowhere else: it is '
    'not stored in the registry and is never returned again. Set no_log: true on this task, or use '
    'private_key_path, so that it does not end up in logs or callback output.')


class KeypairSpec:
    """The validated options of a ``keypair`` task.

    ``owner`` is an ``Account`` (the owner of ``private_key_path``) or None.
    """

    def __init__(self, name=None, key_id=None, state='present', key_type=None, size=None, public_key=None,
                 comment=None, private_key_path=None, owner=None, force=False, registry=DEFAULT_REGISTRY,
                 backend='auto', private_key_format='openssh', task_no_log=False):
        if state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent, got %r' % (state,))
        if private_key_format not in KEYPAIR_PRIVATE_KEY_FORMATS:
            raise InvalidInput('private_key_format must be one of %s, got %r'
                               % (', '.join(KEYPAIR_PRIVATE_KEY_FORMATS), private_key_format))
        self.private_key_format = private_key_format
        # The task has no_log: the private key in the result is hidden by Ansible already.
        self.task_no_log = bool(task_no_log)
        self.state = state
        self.force = bool(force)
        self.registry = registry
        self.backend_name = backend
        self.warnings = []
        if name is not None and key_id is not None:
            raise InvalidInput('name and id are mutually exclusive')
        if state == 'present':
            if key_id is not None:
                raise InvalidInput('id selects a key pair to remove (state: absent); '
                                   'a new key pair gets its id when it is created')
            if name is None:
                raise InvalidInput('name is required with state: present')
        elif name is None and key_id is None:
            raise InvalidInput('one of name and id is required')
        self.name = validate_name(name) if name is not None else None
        self.key_id = validate_id(key_id) if key_id is not None else None
        if comment is not None and ('\n' in comment or '\r' in comment or '\0' in comment):
            raise InvalidInput('comment must be a single line')
        if private_key_path is not None:
            if public_key is not None:
                raise InvalidInput('private_key_path cannot be used with public_key: an imported key '
                                   'has no private key here')
            if not os.path.isabs(private_key_path) or '\n' in private_key_path or '\0' in private_key_path:
                raise InvalidInput('private_key_path must be an absolute path, got %r' % (private_key_path,))
            private_key_path = os.path.normpath(private_key_path)
            if os.path.basename(private_key_path) in ('', '.', '..'):
                raise InvalidInput('private_key_path must name a file, got %r' % (private_key_path,))
            if owner is None:
                owner = Account.resolve(None)
        self.private_key_path = private_key_path
        self.owner = owner
        self.public_key = None
        if public_key is not None:
            self._import(public_key, key_type, size, comment)
        else:
            if key_type is None:
                key_type = DEFAULT_KEY_TYPE
            if key_type not in KEYPAIR_TYPES:
                raise InvalidInput('type must be one of %s, got %r' % (', '.join(KEYPAIR_TYPES), key_type))
            if private_key_format == 'pkcs1' and key_type == 'ed25519':
                raise InvalidInput('ed25519 keys cannot be written in the pkcs1 format; use openssh or pkcs8')
            self.key_type = key_type
            self.size, warnings = resolve_bits(key_type, size)
            self.warnings.extend(warnings)
            self.comment = comment if comment is not None else DEFAULT_COMMENT

    def _import(self, text, key_type, size, comment):
        key = PublicKey.from_line(text)
        if key.is_certificate:
            raise InvalidInput('public_key is a certificate (%s); import the plain public key' % key.key_type)
        if key.family not in KEYPAIR_TYPES:
            raise InvalidInput('public_key is a %s key; the registry takes %s keys'
                               % (key.key_type, ', '.join(KEYPAIR_TYPES)))
        if key_type is not None and key_type != key.family:
            raise InvalidInput('type is %s but public_key is a %s key' % (key_type, key.family))
        if size is not None and size != key.size:
            raise InvalidInput('size is %d but public_key is a %d-bit key' % (size, key.size))
        self.key_type = key.family
        self.size = key.size
        if comment is None:
            comment = key.comment or DEFAULT_COMMENT
        self.comment = comment
        self.public_key = PublicKey.from_blob(key.key_type, key.blob, comment)

    @property
    def imported(self):
        return self.public_key is not None


def public_view(entry):
    """What results and diffs show of an entry (it holds public data only)."""
    if entry is None:
        return None
    return entry.to_dict()


def _diff_view(view):
    if view is None:
        return None
    return dict((key, value) for key, value in view.items() if value is not None)


class Keypair(Operation):
    """Plan and apply one ``keypair`` task.

    When the run applies its plan the registry lock is held by ``session()``, which
    ``run_operation`` enters before ``plan()`` and leaves after ``result()``,
    so what the plan saw is what the actions change: no other run can slip in
    between. ``plan()`` itself writes nothing and takes no lock.
    """

    def __init__(self, spec):
        self.spec = spec
        self.registry = Registry(spec.registry)
        self.current = None      # the entry before the run
        self.entry = None        # the entry after the run (or as predicted)
        self.private_key = None  # returned once, when generated without private_key_path
        self.generated = False
        self._private_bytes = None
        self._key = None
        self._generator = None
        self._registry_before = None  # (exists, mode) when the session took the lock
        # (what check mode says, what a real run says): planned before it is known which
        self.msg = ('', '')

    def _select_generator(self):
        if self._generator is None:
            self._generator = select_backend(self.spec.backend_name, self.spec.key_type,
                                             self.spec.private_key_format, encrypted=False)
        return self._generator

    def close(self):
        self.registry.release()

    @contextlib.contextmanager
    def session(self, applying=True):
        """When ``applying`` (not check mode): the registry lock, from before ``plan()`` to
        after ``result()``. Taking it creates the registry (0700) when missing
        and sets its mode, so what can fail before anything is written is
        checked first."""
        try:
            if applying:
                mode = self.registry.mode()
                self._check_before_writing(mode is not None)
                if self.spec.state == 'present' or mode is not None:
                    created = self.registry.hold()
                    # Another run may create the registry or set its mode in
                    # between: the plan reports what this run does, as found
                    # under the lock.
                    self._registry_before = (not created, self.registry.found_mode)
            yield
        finally:
            self.close()

    def _check_before_writing(self, exists, plan=None):
        spec = self.spec
        if spec.state != 'present':
            return
        if spec.private_key_path is not None:
            # The trust walk (the owner's ~/.ssh may be a link to /etc/...):
            # refused here, before anything is written.
            tree, dummy, name = self._private_tree()
            if not tree.base_exists():
                # (ansible.builtin.file makes it in a play)
                missing_prerequisite(NotFound('the directory of private_key_path, %s, does not exist' % tree.base,
                                              path=tree.base), plan)
        if not exists and not spec.imported:
            self._select_generator()

    # ---------------------------------------------------------------- plan
    def plan(self):
        spec = self.spec
        plan = Plan(self.registry.path)
        for text in spec.warnings:
            plan.warn(text)
        if self._registry_before is not None and self.registry.held:
            # As it was before the session's lock created it or set its mode.
            exists, mode = self._registry_before
        else:
            mode = self.registry.mode()
            exists = mode is not None
        self._check_before_writing(exists, plan)
        if spec.state == 'present' or exists:
            if not exists:
                plan.add('create directory', self.registry.path, self._ensure_registry, '%04o' % REGISTRY_MODE)
            elif mode != REGISTRY_MODE:
                plan.add('set mode of', self.registry.path, self._ensure_registry, '%04o' % REGISTRY_MODE)
        if spec.state == 'absent':
            self._plan_absent(plan)
        else:
            self._plan_present(plan)
        plan.before = _diff_view(public_view(self.current))
        plan.after = _diff_view(public_view(self.entry))
        if plan.after is not None and plan.after.get('id') is None:
            plan.after['id'] = '(assigned on creation)'
        name = spec.name or (self.current.name if self.current is not None else None)
        if name is not None:
            # The diff is about one entry, not the whole registry directory.
            plan.path = self.registry.entry_path(name)
        return plan

    def _plan_absent(self, plan):
        spec = self.spec
        if spec.name is not None:
            self.current = self.registry.get(spec.name)
            what = 'key pair %s' % spec.name
        else:
            warnings = []
            self.current = self.registry.find_id(spec.key_id, warnings)
            for text in warnings:
                plan.warn(text)
            what = 'key pair with id %s' % spec.key_id
        if self.current is None:
            self.msg = ('No %s in %s.' % (what, self.registry.path),) * 2
            return
        name = self.current.name
        plan.add('remove', self.registry.entry_path(name), lambda: self.registry.delete(name),
                 'key pair %s, %s' % (name, self.current.id))
        self.msg = ('Would remove %s (%s).' % (name, self.current.id), 'Removed %s (%s).' % (name, self.current.id))

    def _plan_present(self, plan):
        spec = self.spec
        current = self.current = self.registry.get(spec.name)
        entry_path = self.registry.entry_path(spec.name)
        if current is None:
            if spec.imported:
                self._plan_import(plan, entry_path, None)
            else:
                self._plan_generate(plan, entry_path, None)
            return
        if spec.imported:
            key = self._current_key(current)
            if not spec.force:
                self._refuse_damaged(current, key)
            if key is not None and key.same_key(spec.public_key):
                self._plan_keep(plan, entry_path, current)
            elif not spec.force:
                raise Conflict('key pair %s already exists with another public key (%s); set force: true to '
                               'replace it (the id %s stays)' % (spec.name, current.fingerprint, current.id),
                               name=spec.name, id=current.id)
            else:
                self._plan_import(plan, entry_path, current)
            return
        if spec.force:
            self._plan_generate(plan, entry_path, current)
            return
        self._refuse_damaged(current, self._current_key(current))
        if current.type != spec.key_type or current.size != spec.size:
            raise Conflict('key pair %s already exists as a %s %s key, not %s %d; set force: true to generate a '
                           'new key (the id %s stays)' % (spec.name, current.type, current.size, spec.key_type,
                                                          spec.size, current.id),
                           name=spec.name, id=current.id)
        self._plan_keep(plan, entry_path, current)
        if spec.private_key_path is not None and not self._private_key_exists():
            plan.warn('private_key_path %s does not exist, and the private key of key pair %s is not stored '
                      'anywhere, so it cannot be written again; set force: true to generate a new key'
                      % (spec.private_key_path, spec.name))

    @staticmethod
    def _current_key(entry):
        try:
            return PublicKey.from_line(entry.public_key)
        except InvalidInput:
            return None

    @staticmethod
    def stored_key_problem(entry, key):
        """Why the stored public key of ``entry`` (``key``: it parsed, else
        None) cannot be trusted, or None: unreadable, or not the key the
        entry's own fingerprint, type and size describe (a damaged or edited
        entry is never taken for an up-to-date key pair)."""
        if key is None:
            return 'its public key cannot be read'
        if entry.fingerprint is not None and key.fingerprint_sha256 != entry.fingerprint:
            return 'its public key has fingerprint %s, not the recorded %s' % (
                key.fingerprint_sha256, entry.fingerprint)
        if key.family != entry.type or key.size != entry.size:
            return 'its public key is a %s %s key, not the recorded %s %s' % (
                key.family, key.size, entry.type, entry.size)
        return None

    def _refuse_damaged(self, current, key):
        """An entry whose public key cannot be trusted fails the task (without
        ``force``): it is never reported up to date nor silently replaced."""
        problem = self.stored_key_problem(current, key)
        if problem is not None:
            raise Conflict('registry entry %s of key pair %s is damaged: %s; set force: true to replace it with a '
                           'new key (the id %s stays), or restore the entry'
                           % (self.registry.entry_path(current.name), current.name, problem, current.id),
                           name=current.name, id=current.id)

    def _plan_keep(self, plan, entry_path, current):
        """The key stays; only a new comment is written (in place, same key)."""
        spec = self.spec
        key = self._current_key(current)
        if current.comment == spec.comment or key is None:
            self.entry = current
            self.msg = ('Key pair %s (%s) is up to date.' % (spec.name, current.id),) * 2
            return
        self.entry = current.copy(comment=spec.comment, public_key=key.to_line(spec.comment))
        plan.add('update comment of', entry_path, lambda: self.registry.save(self.entry),
                 'key pair %s' % spec.name)
        self.msg = tuple('%s the comment of key pair %s (%s).' % (verb, spec.name, current.id)
                         for verb in ('Would update', 'Updated'))

    def _new_entry(self, current, key, source):
        spec = self.spec
        return Entry(
            id=current.id if current is not None else None,
            name=spec.name,
            public_key=key.to_line(spec.comment) if key is not None else None,
            fingerprint=key.fingerprint_sha256 if key is not None else None,
            type=spec.key_type,
            size=spec.size,
            comment=spec.comment,
            source=source,
            generated_by=current_user(),
            generated_at=None,  # when it is stored
        )

    def _plan_import(self, plan, entry_path, current):
        spec = self.spec
        self.entry = self._new_entry(current, spec.public_key, 'imported')
        verb = 'replace' if current is not None else 'import'
        plan.add(verb, entry_path, self._store, 'key pair %s, %s %d' % (spec.name, spec.key_type, spec.size))
        self._set_create_msg('import' if current is None else 'replace the key of',
                             'imported' if current is None else 'replaced')

    def _plan_generate(self, plan, entry_path, current):
        spec = self.spec
        self._select_generator()  # fail early (and in check mode) when no backend can make the key
        self.entry = self._new_entry(current, None, 'generated')
        plan.add('regenerate' if current is not None else 'generate', 'key pair %s' % spec.name, self._generate,
                 '%s %d' % (spec.key_type, spec.size))
        if spec.private_key_path is not None:
            plan.add('write private key', spec.private_key_path, self._write_private,
                     '%04o, owner %s' % (PRIVATE_KEY_MODE, spec.owner.name))
        plan.add('update' if current is not None else 'create', entry_path, self._store,
                 'registry entry of %s' % spec.name)
        self._set_create_msg('generate' if current is None else 'regenerate',
                             'generated' if current is None else 'regenerated')

    def _set_create_msg(self, verb, past):
        spec = self.spec
        would = 'Would %s key pair %s (%s %d).' % (verb, spec.name, spec.key_type, spec.size)
        if self.entry.id is None:
            would += ' Its id is not known yet: it is assigned when the key pair is created.'
        self.msg = (would, 'Key pair %s %s (%s %d).' % (spec.name, past, spec.key_type, spec.size))

    # ---------------------------------------------------------------- apply
    def _ensure_registry(self):
        """Create the registry (0700) or set its mode: taking the lock does
        both (already done when the session holds it)."""
        with self.registry.locked():
            pass

    def apply(self, plan):
        done, skipped = plan.run_actions()
        warnings = []
        if self.generated and self.spec.private_key_path is None and not self.spec.task_no_log:
            warnings.append(PRIVATE_KEY_WARNING % self.spec.name)
        after = None
        if self.spec.state == 'present' and self.entry is not None:
            # The entry as written: its id is known now.
            after = _diff_view(public_view(self.entry))
        return Outcome(done=done, after=after, warnings=warnings, skipped=skipped)

    def _generate(self):
        spec = self.spec
        private_bytes, key = self._select_generator().generate(spec.key_type, spec.size, None, spec.comment,
                                                               spec.private_key_format)
        self._private_bytes = private_bytes
        self._key = PublicKey.from_blob(key.key_type, key.blob, spec.comment)
        self.entry = self.entry.copy(public_key=self._key.to_line(), fingerprint=self._key.fingerprint_sha256,
                                     size=self._key.size, generated_at=utc_now())
        self.generated = True

    def _private_tree(self):
        """(Tree, parts, name) of private_key_path: its directory is reached by
        the trust walk and must be root's or the owner's."""
        spec = self.spec
        base, parts, name = split_under(None, spec.private_key_path)
        return Tree(base, uid=spec.owner.uid, gid=spec.owner.gid), parts, name

    def _private_key_exists(self):
        tree, parts, name = self._private_tree()
        try:
            return tree.read(parts, name).exists
        except UnsafePath:
            return True  # something is there; writing refuses it with the reason

    def _write_private(self):
        tree, parts, name = self._private_tree()
        tree.write(parts, name, self._private_bytes, PRIVATE_KEY_MODE)

    def _store(self):
        if self.entry.generated_at is None:
            self.entry = self.entry.copy(generated_at=utc_now())
        if self.entry.id is None:
            self.entry = self.registry.create(self.entry)
        else:
            self.entry = self.registry.save(self.entry)

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        if applied and self.generated and spec.private_key_path is None:
            self.private_key = self._private_bytes.decode('ascii')
        self._private_bytes = None
        msg = self.msg[1] if applied else self.msg[0]
        if applied and spec.state == 'present' and self.entry is not None and self.entry.id \
                and self.entry.id not in msg:
            msg = '%s Its id is %s.' % (msg, self.entry.id)
        result = {
            'registry': self.registry.path,
            'state': spec.state,
            'actions': plan.describe(),
            'keypair': public_view(self.entry if spec.state == 'present' else self.current),
            'msg': msg,
        }
        if spec.private_key_path is not None and spec.state == 'present':
            result['private_key_path'] = spec.private_key_path
        if self.private_key is not None:
            result['private_key'] = self.private_key
        return result


class KeypairInfo(Operation):
    """The ``keypair_info`` lookup: all entries, or the one of ``name`` or ``key_id``."""

    def __init__(self, registry=DEFAULT_REGISTRY, name=None, key_id=None):
        if name is not None and key_id is not None:
            raise InvalidInput('name and id are mutually exclusive')
        self.name = validate_name(name) if name is not None else None
        self.key_id = validate_id(key_id) if key_id is not None else None
        self.registry = Registry(registry)
        self.keypairs = []
        self.msg = ''

    def plan(self):
        plan = Plan(self.registry.path)
        warnings = []
        if not self.registry.exists():
            self.msg = 'The registry %s does not exist: there are no key pairs.' % self.registry.path
            if self.name is not None or self.key_id is not None:
                self.msg = 'No key pair %s: the registry %s does not exist.' % (
                    self._what(), self.registry.path)
            return plan
        if self.name is not None:
            found = self.registry.get(self.name)
            self.keypairs = [found] if found is not None else []
        elif self.key_id is not None:
            found = self.registry.find_id(self.key_id, warnings)
            self.keypairs = [found] if found is not None else []
        else:
            self.keypairs = self.registry.entries(warnings)
        for text in warnings:
            plan.warn(text)
        if self.name is None and self.key_id is None:
            self.msg = '%d key pair%s in %s.' % (len(self.keypairs), '' if len(self.keypairs) == 1 else 's',
                                                 self.registry.path)
        elif self.keypairs:
            self.msg = 'Found key pair %s.' % self._what()
        else:
            self.msg = 'No key pair %s in %s.' % (self._what(), self.registry.path)
        return plan

    def _what(self):
        return 'named %s' % self.name if self.name is not None else 'with id %s' % self.key_id

    def result(self, plan, applied):
        return {
            'registry': self.registry.path,
            'keypairs': [public_view(entry) for entry in self.keypairs],
            'msg': self.msg,
        }
