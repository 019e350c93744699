# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An SSH key pair in an account's ``~/.ssh``: spec, plan, apply.

Shared by the ``ssh_genkey`` module and the bulk ``provision`` module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    KeyLoadError,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree, split_under
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import PublicKey

# cPanel's SSH::genkey refuses these names; the *2 variants are read by sshd
# and ssh as well, so a key must not overwrite them either.
RESERVED_NAMES = frozenset([
    'config', 'known_hosts', 'authorized_keys', 'environment', 'rc', 'identity',
    'authorized_keys2', 'known_hosts2', 'known_hosts.old',
])
KEY_TYPES = ('rsa', 'ecdsa', 'ed25519', 'dsa')
REGENERATE_CHOICES = ('never', 'fail', 'partial_idempotence', 'full_idempotence', 'always')
PRIVATE_KEY_FORMATS = ('auto', 'openssh', 'pkcs1', 'pkcs8')
ECDSA_SIZES = (256, 384, 521)
RSA_MIN_BITS = 1024
RSA_WARN_BITS = 2048
RSA_MAX_BITS = 16384
PASSPHRASE_MIN_LENGTH = 4
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
SSH_DIR_MODE = 0o700

EMPTY_PASSPHRASE_WARNING = (
    'SECURITY RISK: The passphrase is empty. This is allowed but STRONGLY discouraged. '
    'Please consider deleting the generated key pair and creating a new one with a strong passphrase.')


def validate_key_name(name):
    """The rules of cPanel's ``name``: a plain file name in ``~/.ssh``."""
    if name is None or name == '':
        raise InvalidInput('name must not be empty')
    for bad, why in (('\0', 'a NUL byte'), ('\n', 'a newline'), ('\r', 'a carriage return'),
                     ('/', 'a slash')):
        if bad in name:
            raise InvalidInput('name %r is not allowed: it contains %s' % (name, why))
    if name.startswith('..') or name == '.':
        raise InvalidInput('name %r is not allowed: it must not start with ".."' % name)
    if name.startswith('-'):
        raise InvalidInput('name %r is not allowed: it must not start with "-"' % name)
    if name in RESERVED_NAMES:
        raise InvalidInput('name %r is reserved: it is not allowed to use the names %s'
                           % (name, ', '.join(sorted(RESERVED_NAMES))))
    return name


def resolve_bits(key_type, bits):
    """The key size for ``key_type``; returns (bits, warnings)."""
    warnings = []
    if key_type == 'rsa':
        if bits is None:
            bits = 4096
        if bits < RSA_MIN_BITS:
            raise InvalidInput('bits must be a positive integer of %d or more for rsa keys, got %d'
                               % (RSA_MIN_BITS, bits))
        if bits > RSA_MAX_BITS:
            raise InvalidInput('bits must be at most %d for rsa keys, got %d' % (RSA_MAX_BITS, bits))
        if bits < RSA_WARN_BITS:
            warnings.append('rsa keys of %d bits are weak; use %d bits or more' % (bits, RSA_WARN_BITS))
    elif key_type == 'ecdsa':
        if bits is None:
            bits = 256
        if bits not in ECDSA_SIZES:
            raise InvalidInput('bits must be one of %s for ecdsa keys, got %d'
                               % (', '.join(str(s) for s in ECDSA_SIZES), bits))
    elif key_type == 'ed25519':
        if bits not in (None, 256):
            raise InvalidInput('ed25519 keys have a fixed size of 256 bits, got bits=%d' % bits)
        bits = 256
    elif key_type == 'dsa':
        if bits not in (None, 1024):
            raise InvalidInput('dsa keys are 1024 bits, got bits=%d' % bits)
        bits = 1024
    else:
        raise InvalidInput('type must be one of %s, got %r' % (', '.join(KEY_TYPES), key_type))
    return bits, warnings


def validate_passphrase(passphrase):
    if passphrase and len(passphrase) < PASSPHRASE_MIN_LENGTH:
        # Never echo the passphrase itself.
        raise InvalidInput('passphrase must be %d characters or more (or empty for no passphrase)'
                           % PASSPHRASE_MIN_LENGTH)
    return passphrase or None


class KeyPairSpec:
    """The validated, typed form of the task's options."""

    def __init__(self, account, name=None, path=None, key_type='rsa', bits=None, passphrase=None,
                 comment=None, state='present', regenerate='partial_idempotence',
                 private_key_format='auto', backend='auto', follow=False):
        self.account = account
        if (name is None) == (path is None):
            raise InvalidInput('exactly one of name and path is required')
        if path is not None:
            if not os.path.isabs(path):
                raise InvalidInput('path must be an absolute path, got %r' % path)
            if '\n' in path or '\0' in path:
                raise InvalidInput('path must not contain a newline or NUL byte')
            self.path = os.path.normpath(path)
            self.managed_ssh_dir = False
        else:
            validate_key_name(name)
            self.path = os.path.join(account.home, '.ssh', name)
            self.managed_ssh_dir = True
        if key_type not in KEY_TYPES:
            raise InvalidInput('type must be one of %s, got %r' % (', '.join(KEY_TYPES), key_type))
        if regenerate not in REGENERATE_CHOICES:
            raise InvalidInput('regenerate must be one of %s' % ', '.join(REGENERATE_CHOICES))
        if private_key_format not in PRIVATE_KEY_FORMATS:
            raise InvalidInput('private_key_format must be one of %s' % ', '.join(PRIVATE_KEY_FORMATS))
        if private_key_format == 'pkcs1' and key_type == 'ed25519':
            raise InvalidInput('ed25519 keys cannot be written in the pkcs1 format; use openssh or pkcs8')
        if comment is not None and ('\n' in comment or '\r' in comment or '\0' in comment):
            raise InvalidInput('comment must be a single line')
        self.key_type = key_type
        self.bits, self.warnings = resolve_bits(key_type, bits)
        self.passphrase = validate_passphrase(passphrase)
        self.comment = comment
        self.state = state
        self.regenerate = regenerate
        self.private_key_format = private_key_format
        self.backend_name = backend
        self.follow = follow
        self.public_path = self.path + '.pub'

    def default_comment(self):
        return '%s@%s' % (self.account.name, socket.gethostname())


class SshKeyPair:
    """Plan and apply one key pair (``ssh_genkey``'s operation)."""

    def __init__(self, spec, check_mode=False):
        self.spec = spec
        self.check_mode = check_mode
        account = spec.account
        base, self.parts, self.name = split_under(account.home, spec.path)
        self.tree = Tree(base, uid=account.uid, gid=account.gid, follow=spec.follow,
                         create_base=account.home_overridden)
        self._generator = None
        self.key = None          # PublicKey of the pair once known
        self.comment = None      # the comment the pair ends with
        self.generated = False

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
        plan = Plan(spec.path)
        for text in spec.warnings:
            plan.warn(text)
        if spec.key_type == 'dsa' and spec.state == 'present':
            plan.deprecate('dsa keys are deprecated: OpenSSH disables them by default and removes them; '
                           'use type ed25519 or rsa', '2.0.0')
        if not spec.account.exists:
            plan.warn('user %s does not exist yet; check mode assumes an earlier task creates it'
                      % spec.account.name)
            private, public, ssh_dir = None, None, None
        else:
            private = self.tree.read(self.parts, self.name)
            public = self.tree.read(self.parts, self.name + '.pub')
            ssh_dir = self.tree.dir_state(self.parts) if spec.managed_ssh_dir else None
        if spec.state == 'absent':
            self._plan_absent(plan, private, public)
        else:
            self._plan_present(plan, private, public, ssh_dir)
        return plan

    def _plan_absent(self, plan, private, public):
        plan.before = self._public_view(public) if private is not None and private.exists else None
        for state in (private, public):
            if state is not None and state.exists:
                plan.add('remove', state.path, self._remover(state.path))
        plan.after = None

    def _remover(self, path):
        name = os.path.basename(path)
        return lambda: self.tree.remove(self.parts, name)

    def _plan_present(self, plan, private, public, ssh_dir):
        spec = self.spec
        if ssh_dir is not None:
            self._plan_ssh_dir(plan, ssh_dir)
        reason = self._regeneration_reason(plan, private)
        plan.before = self._public_view(public) if private is not None and private.exists else None
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
            if not spec.passphrase:
                plan.warn(EMPTY_PASSPHRASE_WARNING)
            return
        # The existing private key stays: fix its comment, restore the public
        # key and fix attributes. The comment inside an OpenSSH private key
        # (what ssh-keygen -y prints) is only rewritten when the task sets one.
        comment = self.comment = self._wanted_comment(public)
        if (spec.comment is not None and self.key.comment != spec.comment
                and self.loader(private.data).private_format(private.data) == 'openssh'):
            plan.add('update comment of', spec.path, self._private_comment_setter(spec.comment))
        wanted_line = self.key.to_line(comment) + '\n'
        if not public.exists or public.data.decode('utf-8', 'replace') != wanted_line:
            what = 'restore' if not public.exists or not self._pub_matches(public) else 'update comment of'
            plan.add(what, spec.public_path, self._writer(self.name + '.pub', wanted_line.encode('utf-8'),
                                                          PUBLIC_MODE))
        elif public.attrs_differ(PUBLIC_MODE, self.tree.uid, self.tree.gid):
            plan.add('set mode and owner of', spec.public_path, self._attr_setter(self.name + '.pub', PUBLIC_MODE),
                     '%04o' % PUBLIC_MODE)
        if private.attrs_differ(PRIVATE_MODE, self.tree.uid, self.tree.gid):
            plan.add('set mode and owner of', spec.path, self._attr_setter(self.name, PRIVATE_MODE),
                     '%04o' % PRIVATE_MODE)
        self.key = PublicKey.from_blob(self.key.key_type, self.key.blob, comment)
        plan.after = self._key_view(self.key)

    def _plan_ssh_dir(self, plan, ssh_dir):
        if not ssh_dir.exists:
            plan.add('create directory', ssh_dir.path, lambda: self.tree.ensure_dir(self.parts, SSH_DIR_MODE),
                     '%04o' % SSH_DIR_MODE)
        elif ssh_dir.mode != SSH_DIR_MODE or (self.tree.uid is not None and ssh_dir.uid != self.tree.uid):
            plan.add('set mode and owner of', ssh_dir.path,
                     lambda: self.tree.ensure_dir(self.parts, SSH_DIR_MODE), '%04o' % SSH_DIR_MODE)

    def _regeneration_reason(self, plan, private):
        """Why the pair must be (re)generated, or None to keep it.

        Sets ``self.key`` to the existing key when it is kept.
        """
        spec = self.spec
        if private is None or not private.exists:
            return 'missing'
        if spec.regenerate == 'always':
            return 'regenerate is always'
        try:
            loader = self.loader(private.data)
            encrypted = loader.is_encrypted(private.data)
            key = loader.load_private(private.data, spec.passphrase if encrypted else None)
        except KeyLoadError as exc:
            if spec.regenerate == 'full_idempotence':
                return 'the existing key cannot be read: %s' % exc.msg
            raise Conflict('%s cannot be read: %s. It is left untouched; set regenerate: full_idempotence '
                           'to replace it with a new key' % (spec.path, exc.msg), path=spec.path)
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
        if not drift:
            self.key = key
            return None
        summary = '; '.join(drift)
        if spec.regenerate == 'never':
            plan.warn('%s does not match the task (%s) but regenerate is never: keeping it' % (spec.path, summary))
            self.key = key
            return None
        if spec.regenerate == 'fail':
            raise Conflict('%s does not match the task: %s. Set regenerate to partial_idempotence or '
                           'full_idempotence to replace it' % (spec.path, summary), path=spec.path)
        if spec.regenerate == 'partial_idempotence' and bool(spec.passphrase) and not encrypted \
                and len(drift) == 1:
            # community.crypto's rule: partial idempotence does not replace a
            # readable key only because a passphrase was added to the task.
            raise Conflict('%s is not protected by a passphrase but the task gives one. It is left '
                           'untouched; set regenerate: full_idempotence to replace it with a new, '
                           'protected key' % spec.path, path=spec.path)
        return summary

    @staticmethod
    def _parse_public(public):
        """The key in a .pub file, or None when missing or unreadable."""
        if public is None or not public.exists:
            return None
        try:
            return PublicKey.from_line(public.data.decode('utf-8', 'replace').strip())
        except InvalidInput:
            return None

    def _pub_matches(self, public):
        current = self._parse_public(public)
        return current is not None and current.same_key(self.key)

    def _wanted_comment(self, public):
        """The task's comment; else the one already in use; else user@host."""
        if self.spec.comment is not None:
            return self.spec.comment
        current = self._parse_public(public)
        if current is not None and current.comment and (self.key is None or current.same_key(self.key)):
            return current.comment
        if self.key is not None and self.key.comment:
            return self.key.comment
        return self.spec.default_comment()

    # ---------------------------------------------------------------- views
    def _public_view(self, public):
        """What the diff shows of the current pair: public data only."""
        key = self._parse_public(public)
        if key is not None:
            return self._key_view(key)
        if public is not None and public.exists:
            return {'public_key': '(unreadable public key file)'}
        return {'public_key': '(no public key file)'}

    @staticmethod
    def _key_view(key):
        return {
            'type': key.family,
            'size': key.size,
            'comment': key.comment,
            'fingerprint': key.fingerprint_sha256,
            'public_key': key.to_line(),
        }

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

    def _generate(self):
        spec = self.spec
        private_bytes, key = self.generator.generate(spec.key_type, spec.bits, spec.passphrase,
                                                     self.comment, spec.private_key_format)
        self.key = PublicKey.from_blob(key.key_type, key.blob, self.comment)
        # Private key first: if the run dies between the two writes, the next
        # run sees a .pub that does not match and restores it.
        self.tree.write(self.parts, self.name, private_bytes, PRIVATE_MODE)
        self.tree.write(self.parts, self.name + '.pub', (self.key.to_line() + '\n').encode('utf-8'), PUBLIC_MODE)
        self.generated = True

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        result = {
            'path': spec.path,
            'public_key_path': spec.public_path,
            'user': spec.account.name,
            'state': spec.state,
            'actions': plan.describe(),
        }
        key = self.key if spec.state == 'present' else None
        if self.generated:
            # The plan could only announce a new key; the diff shows the real one.
            plan.after = self._key_view(key)
        if key is not None:
            result.update({
                'public_key': key.to_line(),
                'fingerprint': key.fingerprint_sha256,
                'fingerprint_md5': key.fingerprint_md5,
                'randomart': key.randomart(),
                'type': key.family,
                'size': key.size,
                'comment': key.comment,
                'reason': self._reason(key),
            })
        elif spec.state == 'present':
            result['reason'] = 'Would generate a public/private %s key pair in %s.' % (spec.key_type, spec.path)
        else:
            result['reason'] = ('Removed %s.' % ', '.join(a.path for a in plan.actions) if plan.actions
                                else 'No key pair at %s.' % spec.path)
        return result

    def _reason(self, key):
        """A text like cPanel's genkey ``reason`` (ssh-keygen's own words)."""
        spec = self.spec
        if self.generated:
            head = [
                'Generating public/private %s key pair.' % spec.key_type,
                'Your identification has been saved in %s' % spec.path,
                'Your public key has been saved in %s' % spec.public_path,
            ]
        else:
            head = ['The %s key pair in %s is up to date.' % (key.family, spec.path)]
        return '\n'.join(head + [
            'The key fingerprint is:',
            '%s %s' % (key.fingerprint_sha256, key.comment),
            "The key's randomart image is:",
            key.randomart(),
        ])
