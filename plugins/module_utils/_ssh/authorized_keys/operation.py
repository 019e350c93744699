# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Authorize (or revoke) public keys in an account's ``authorized_keys``: spec, plan, apply.

The operation of the ``ssh_authkey`` module. The plan is computed from an
unlocked read; the real run takes an flock on the file's directory, reads the
file again, applies the same edits to what it finds (so two runs adding
different keys at the same time both land) and writes atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import DirState, account_tree, read_named_file
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    WantedKey,
    apply_edits,
    iter_key_lines,
    parse_key_text,
    options_identity,
    parse_options,
    validate_option_values,
)

DEFAULT_PATH = '~/.ssh/authorized_keys'
FILE_MODE = 0o600
# A new file outside the home (a central AuthorizedKeysFile) is root's and
# readable by all: sshd reads it with the account's rights.
CENTRAL_FILE_MODE = 0o644
SSH_DIR_MODE = 0o700
# --diff shows files up to this size (ansible's own file modules stop far earlier)
MAX_DIFF_BYTES = 4 * 1024 * 1024
# a file with hundreds of thousands of keys on several lines warns of the first ones
MAX_DUPLICATE_WARNINGS = 20
MAX_WARNED_LINES = 20
STATES = ('present', 'absent')


def resolve_state(state, authorize):
    """``state`` and the seed API's ``authorize`` say the same thing; either may be given."""
    if authorize is not None:
        from_authorize = 'present' if authorize else 'absent'
        if state is not None and state != from_authorize:
            raise InvalidInput('state=%s contradicts authorize=%s; give only one of them'
                               % (state, 'true' if authorize else 'false'))
        return from_authorize
    if state is None:
        return 'present'
    if state not in STATES:
        raise InvalidInput('state must be present or absent, got %r' % (state,))
    return state


def resolve_path(account, path):
    if path is None or path == '':
        path = DEFAULT_PATH
    if '\n' in path or '\0' in path:
        raise InvalidInput('path must not contain a newline or NUL byte')
    in_home = path == '~' or path.startswith('~/')
    if in_home:
        path = os.path.join(account.home, path[2:])
    elif not os.path.isabs(path):
        raise InvalidInput('path must be absolute or start with ~/ (the account\'s home), got %r' % path)
    path = os.path.normpath(path)
    if in_home and not path.startswith(os.path.normpath(account.home).rstrip('/') + '/'):
        # ~/../.. would name a file outside the home while reading as one in it.
        raise InvalidInput('path %r leaves the home of %s; give an absolute path for a file elsewhere'
                           % (path, account.name))
    if path.endswith('/') or os.path.basename(path) in ('', '.', '..'):
        raise InvalidInput('path %r does not name a file' % path)
    return path


def resolve_file_attrs(owner=None, group=None, mode=None):
    """(uid, gid, mode) of the task's ``owner``, ``group`` and ``mode`` (None each when not given).

    ``owner``/``group``: a name or a number; ``mode``: octal, as a string
    (V(0644)) or a number, of permission bits only, never writable by group or
    others (sshd refuses such a file under StrictModes).
    """
    uid = gid = None
    if owner is not None and str(owner) != '':
        text = str(owner)
        try:
            uid = int(text) if text.isdigit() else pwd.getpwnam(text).pw_uid
        except KeyError:
            raise InvalidInput('owner %r is not a user of this host' % text)
    if group is not None and str(group) != '':
        text = str(group)
        try:
            gid = int(text) if text.isdigit() else grp.getgrnam(text).gr_gid
        except KeyError:
            raise InvalidInput('group %r is not a group of this host' % text)
    if mode is not None and str(mode) != '':
        if isinstance(mode, int) and not isinstance(mode, bool):
            # YAML reads 0644 as the number 420; Ansible's file modules take it as it is.
            value = mode
        else:
            text = str(mode).strip()
            try:
                value = int(text, 8)
            except ValueError:
                raise InvalidInput('mode must be octal permission bits such as 0644, got %r' % (mode,))
        if value < 0 or value > 0o777:
            raise InvalidInput('mode must be permission bits (0 to 0777), got %04o' % value)
        if value & 0o022:
            raise InvalidInput('mode %04o lets the group or others write the file; sshd (StrictModes) refuses '
                               'such a file' % value)
        mode = value
    else:
        mode = None
    return uid, gid, mode


def _key_texts(key):
    """The ``key`` option as a list of strings (a string, or a list of strings)."""
    if key is None:
        return []
    if isinstance(key, (list, tuple)):
        items = list(key)
    else:
        items = [key]
    out = []
    for index, item in enumerate(items, 1):
        if isinstance(item, bytes):
            item = item.decode('utf-8', 'replace')
        if not isinstance(item, str):
            raise InvalidInput('key item %d must be a string (a public key line), got %s'
                               % (index, type(item).__name__))
        out.append(item)
    return out


class AuthKeySpec:
    """The validated, typed form of the task's options."""

    def __init__(self, account, key=None, key_file=None, path=None, state=None, authorize=None,
                 options=None, comment=None, exclusive=False, manage_dir=True, follow=False,
                 backup=False, wanted=None, expire_at=None, remove_expired=False,
                 owner=None, group=None, mode=None, pending=None):
        # wanted: WantedKeys already read by other specs (provision's items,
        # each with its own options and comment), instead of key or file.
        # pending: keys the same call makes (key_reference.PendingKey), known
        # only when applying; authorized then (state=present only).
        self.account = account
        self.pending = list(pending or [])
        if wanted is None and (key is None) == (key_file is None):
            raise InvalidInput('exactly one of key (alias text) and file is required')
        self.state = resolve_state(state, authorize)
        if exclusive and self.state != 'present':
            raise InvalidInput('exclusive only applies with state=present (authorize=true)')
        self.exclusive = bool(exclusive)
        if self.pending and self.state != 'present':
            raise InvalidInput('%s can only be authorized (state=present): it is authorized nowhere yet'
                               % self.pending[0].describe())
        self.expire_at, self.expire_seconds = self._expiry(expire_at, options, comment)
        self.remove_expired = bool(remove_expired)
        self.path = resolve_path(account, path)
        if key_file is not None:
            if not os.path.isabs(key_file) or '\n' in key_file or '\0' in key_file:
                raise InvalidInput('file must be the absolute path of a public key file, got %r' % key_file)
            key_file = os.path.normpath(key_file)
        self.key_file = key_file
        if comment is not None and ('\n' in comment or '\r' in comment or '\0' in comment):
            raise InvalidInput('comment must be a single line')
        self.comment = comment
        if options is not None:
            try:
                self.options = parse_options(options, lenient=True)
                validate_option_values(self.options)
            except InvalidInput as exc:
                raise InvalidInput('options: %s' % exc.msg)
        else:
            self.options = None
        self.manage_dir = manage_dir
        self.follow = follow
        self.file_attrs = resolve_file_attrs(owner, group, mode)
        self.backup = backup
        self.warnings = []
        self.wanted = []
        if wanted is not None:
            self.wanted = self._dedupe(list(wanted))
        if key is not None:
            texts = _key_texts(key)
            self.wanted = self.wanted_from_texts(texts, 'key')
            if not self.wanted and not self.exclusive:
                raise InvalidInput('key holds no public key (only blank or # lines); an empty key '
                                   'is only allowed with exclusive: true, to remove every key')

    def _expiry(self, expire_at, options, comment):
        """(``expire_at`` as given, seconds since the epoch) or (None, None)."""
        if expire_at is None:
            return None, None
        if self.state != 'present' or self.exclusive:
            raise InvalidInput('expire_at only applies with state=present and without exclusive')
        if options is not None or comment is not None:
            raise InvalidInput('expire_at keeps the options and comment of each line; options and comment '
                               'cannot be given with it')
        text = str(expire_at).strip()
        seconds = sshd_rules.parse_absolute_time(text) if '"' not in text else 0
        if not seconds:
            raise InvalidInput('expire_at must be a time as sshd reads expiry-time: YYYYMMDD[HHMM[SS]], '
                               'followed by Z for UTC (local time otherwise), got %r' % (expire_at,))
        return text, seconds

    def wanted_from_texts(self, texts, what):
        """Parse key texts (each may hold several lines) into :class:`WantedKey`s.

        ``what`` names the source in messages (``key`` or the file path).
        """
        wanted = []
        count = 0
        for text_index, text in enumerate(texts, 1):
            lines = list(iter_key_lines(text))
            for line_number, line in lines:
                count += 1
                if what == 'key':
                    source = 'key #%d' % count
                    if len(lines) > 1 or line_number != 1:
                        if len(texts) > 1:
                            source += ' (item %d, line %d)' % (text_index, line_number)
                        else:
                            source += ' (line %d)' % line_number
                else:
                    source = '%s line %d' % (what, line_number)
                try:
                    key, line_options = parse_key_text(line, source)
                    options = self.options if self.options is not None else line_options
                    try:
                        validate_option_values(options)
                    except InvalidInput as exc:
                        raise InvalidInput('%s: %s' % (source, exc.msg))
                except InvalidInput as exc:
                    exc.line_number = line_number  # for a caller that must not quote the line
                    raise
                comment = self.comment if self.comment is not None else key.comment
                wanted.append(WantedKey(key, options, comment, source))
        return self._dedupe(wanted)

    def _dedupe(self, wanted):
        out = []
        seen = {}
        for item in wanted:
            previous = seen.get(item.identity)
            if previous is None:
                seen[item.identity] = item
                out.append(item)
                continue
            if (options_identity(previous.options) != options_identity(item.options)
                    or previous.comment != item.comment):
                raise InvalidInput('%s and %s are the same key (%s) with different options or comments; '
                                   'give each key once' % (previous.source, item.source,
                                                           item.key.fingerprint_sha256))
            self.warnings.append('%s repeats %s (%s); it is used once'
                                 % (item.source, previous.source, item.key.fingerprint_sha256))
        return out


def read_key_file(path):
    """Bytes of a public key file named by the task (None when it does not exist).

    Read through the trust walk (``_fs.read_named_file``): no symbolic link an
    account planted is followed, and a file in an account's directory must be
    one that account can read.
    """
    try:
        return read_named_file(path)
    except UnsafePath as exc:
        raise InvalidInput('public key file: %s' % exc.msg, path=path)


class SshAuthKey(Operation):
    """Plan and apply the keys of one ``authorized_keys`` file (``ssh_authkey``'s operation)."""

    def __init__(self, spec, locks=None):
        self.spec = spec
        # the call's Locks (lock_timeout: one wait for the whole task); None: the default wait
        self.locks = locks
        account = spec.account
        self.tree, self.parts, self.name = account_tree(account, spec.path, spec.follow, keep_outside_home=True,
                                                        fixed_attrs=getattr(spec, 'file_attrs', None))
        # a new file: 0600 in the home, 0644 outside it (sshd reads it as the account)
        self.file_mode = CENTRAL_FILE_MODE if self.tree.keep_attrs else FILE_MODE
        # manage_dir only manages a directory below the home (~/.ssh); the
        # parent of a path elsewhere (/etc/ssh/authorized_keys) is the admin's.
        self.managed_dir = spec.manage_dir and bool(self.parts)
        self.wanted = list(spec.wanted)
        # keys this call makes (provision): named by the plan, authorized by the write
        self.pending = list(getattr(spec, 'pending', None) or [])
        self.pending_resolved = False
        self.keys_unknown = False     # check mode: the key file does not exist yet
        self.edits = None             # EditResult of the plan, then of the real run
        self.duplicates = []
        self.backup_file = None
        self.before = None
        self._planned = None          # (bytes read, edited model, edits) of the plan, for _write
        self._after_text = None       # the diff's after once pending keys are authorized
        # The moment that decides which lines have expired, the same for the plan and the write.
        self.now = time.time()

    # ---------------------------------------------------------------- plan
    def _load_key_file(self, plan):
        spec = self.spec
        data = read_key_file(spec.key_file)
        if data is None:
            missing_prerequisite(NotFound('public key file %s does not exist' % spec.key_file, path=spec.key_file),
                                 plan)
            self.keys_unknown = True
            return
        if b'\0' in data:
            raise InvalidInput('file %s is not a public key file (binary data)' % spec.key_file,
                               path=spec.key_file)
        text = data.decode('utf-8', 'replace')
        if 'PRIVATE KEY' in text:
            raise InvalidInput('file %s holds a private key; give the public key file (.pub)' % spec.key_file,
                               path=spec.key_file)
        try:
            self.wanted = spec.wanted_from_texts([text], 'file %s' % spec.key_file)
        except InvalidInput as exc:
            # The parser's message quotes the line; the file may hold what the
            # task's output must not show (another file's secrets).
            number = getattr(exc, 'line_number', None)
            raise InvalidInput('file %s%s is not a valid public key line (its content is not shown)'
                               % (spec.key_file, ' line %d' % number if number is not None else ''),
                               path=spec.key_file)
        if not self.wanted:
            raise InvalidInput('file %s holds no public key' % spec.key_file, path=spec.key_file)

    def _current(self, plan):
        """(FileState or None, DirState or None) of the account's file now."""
        spec = self.spec
        if not spec.account.exists:
            plan.warn_missing_user(spec.account)
            return None, None
        if not self.tree.base_exists() and not self.tree.create_base:
            raise NotFound('directory %s does not exist%s' % (
                self.tree.base, ' (the home of %s)' % spec.account.name if self.parts else ''),
                path=self.tree.base)
        dir_state = self.tree.dir_state(self.parts) if self.parts else None
        if dir_state is not None and not dir_state.exists and not self.managed_dir:
            raise NotFound('directory %s does not exist and manage_dir is false' % dir_state.path,
                           path=dir_state.path)
        return self.tree.read(self.parts, self.name), dir_state

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        if spec.key_file is not None:
            self._load_key_file(plan)
        for text in spec.warnings:
            plan.warn(text)
        if spec.expire_at is not None and spec.expire_seconds < self.now:
            plan.warn('expire_at %s has passed: sshd refuses the lines of these keys from now on'
                      % spec.expire_at)
        current, dir_state = self._current(plan)
        exists = current is not None and current.exists
        data = current.data if exists else b''
        self.before = data
        model = AuthorizedKeys.parse(data)
        if self.keys_unknown:
            self.edits = None
        else:
            self.edits = self._edit(model)
            self._planned = (data, model, self.edits)
            self._note_duplicates(plan, self.edits)
        writes = self.keys_unknown or self.edits.changed or bool(self.pending)
        if self.managed_dir and spec.state == 'present' and (exists or writes):
            # ~/.ssh is made (or fixed) for a file that is or will be there,
            # not for an exclusive task that leaves no file at all.
            self._plan_dir(plan, dir_state)
        if self.keys_unknown:
            plan.add('authorize keys of', spec.path, self._write, 'from %s' % spec.key_file)
        elif self.edits.changed or self.pending:
            plan.add('update' if exists else 'create', spec.path, self._write,
                     self._detail(self.edits, spec.expire_at, self.pending))
        elif exists:
            uid, gid, mode = self._wanted_attrs(current)
            plan.ensure_attrs(spec.path, current, lambda: self.tree.set_attrs(self.parts, self.name, self.file_mode),
                              mode, uid, gid)
        if exists and len(data) > MAX_DIFF_BYTES:
            # the diff of a huge file would be a copy of it, twice, in the
            # module's memory and in its response
            plan.before = '(%d bytes: larger than %d, not shown in --diff)\n' % (len(data), MAX_DIFF_BYTES)
            plan.after = plan.before
            if self.edits is not None and (self.edits.changed or self.pending):
                plan.after = '(%s; not shown in --diff)\n' % self._detail(self.edits, spec.expire_at, self.pending)
            return plan
        plan.before = data.decode('utf-8', 'replace') if exists else None
        if self.edits is not None and (exists or self.edits.changed or self.pending):
            plan.after = model.text() + ''.join('(+ %s)\n' % key.describe() for key in self.pending)
        else:
            plan.after = plan.before
        return plan

    def _edit(self, model):
        spec = self.spec
        return apply_edits(model, self.wanted, spec.state, spec.exclusive, expire_at=spec.expire_at,
                           remove_expired=spec.remove_expired, now=self.now)

    def _wanted_attrs(self, current):
        """(uid, gid, mode) the existing file ``current`` (a FileState) should have."""
        return self.tree.attrs_for(self.tree.path(self.parts, self.name), (current.uid, current.gid, current.mode),
                                   self.file_mode)

    def _plan_dir(self, plan, dir_state):
        if self.tree.followed_kind(self.tree.path(self.parts)) is not None:
            return  # a directory reached through a link (follow: true) keeps its owner and mode
        plan.ensure_dir(dir_state or DirState(self.tree.path(self.parts)),
                        lambda: self.tree.ensure_dir(self.parts, SSH_DIR_MODE), SSH_DIR_MODE,
                        self.tree.uid, self.tree.gid)

    @staticmethod
    def _detail(edits, expire_at=None, pending=()):
        counts = edits.counts()
        parts = []
        updated = 'set expiry-time %s of' % expire_at if expire_at is not None else 'update'
        for action, verb in (('added', 'add'), ('updated', updated), ('removed', 'remove')):
            if counts.get(action):
                parts.append('%s %d key%s' % (verb, counts[action], '' if counts[action] == 1 else 's'))
        parts.extend('add %s' % key.describe() for key in pending)
        return ', '.join(parts)

    def _resolve_pending(self):
        """Applying: the keys this call has made meanwhile join the wanted
        keys (``KeysmithError`` when one was not made)."""
        if not self.pending or self.pending_resolved:
            return
        resolved = [key.wanted() for key in self.pending]
        self.wanted = self.spec._dedupe(self.wanted + resolved)
        self.pending_resolved = True
        self._planned = None          # the plan's edits lack them

    def after_apply(self):
        # The plan could only name the keys still to be made; the diff shows them.
        if self.pending_resolved and self._after_text is not None:
            return self._after_text
        return None

    def _note_duplicates(self, plan, edits):
        self.duplicates = edits.duplicates
        for dup in edits.duplicates[:MAX_DUPLICATE_WARNINGS]:
            if dup['action'] == 'kept':
                what = 'left as they are (the task does not name this key)'
            elif dup['action'] == 'removed duplicates':
                what = 'the first line is managed and the later ones are removed'
            else:
                what = 'all of them are removed'
            shown = dup['lines'][:MAX_WARNED_LINES]
            count = dup.get('line_count', len(dup['lines']))
            more = count - len(shown)
            plan.warn('key %s (%s) is on %d lines of %s (lines %s%s): %s'
                      % (dup['fingerprint'], dup['type'], count, self.spec.path,
                         ', '.join(str(n) for n in shown), ' and %d more' % more if more else '', what))
        hidden = len(edits.duplicates) - MAX_DUPLICATE_WARNINGS + edits.duplicates_not_listed
        if hidden > 0:
            plan.warn('%d more keys are on several lines of %s (see duplicates%s)'
                      % (hidden, self.spec.path,
                         ' and duplicates_not_listed' if edits.duplicates_not_listed else ''))

    # ---------------------------------------------------------------- apply
    def _write(self):
        """Read again under the lock, apply the same edits, write atomically."""
        spec = self.spec
        if spec.key_file is not None and self.keys_unknown:
            # Only reached outside check mode if the file appeared meanwhile.
            self._load_key_file(Plan())
            self.keys_unknown = False
        self._resolve_pending()
        with self.tree.locked(self.parts, self.locks) as dir_fd:
            current = self.tree.read_in(dir_fd, self.parts, self.name)
            data = current.data if current.exists else b''
            planned, self._planned = self._planned, None
            if planned is not None and planned[0] == data:
                # The file is as the plan read it: the same edits on the same
                # bytes give the same model, so the plan's is reused (parsing a
                # large file twice was half the cost of a change); the bytes
                # read again are let go (a 64 MiB file is held once).
                data = planned[0]
                current.data = None
                model, self.edits = planned[1], planned[2]
            else:
                model = AuthorizedKeys.parse(data)
                self.edits = self._edit(model)
            self.duplicates = self.edits.duplicates
            new = model.render()
            if self.pending_resolved:
                self._after_text = (model.text() if len(new) <= MAX_DIFF_BYTES else
                                    '(%s; not shown in --diff)\n' % self._detail(self.edits, spec.expire_at))
            if current.exists and new == data:
                uid, gid, mode = self._wanted_attrs(current)
                if current.attrs_differ(mode, uid, gid):
                    self.tree.set_attrs(self.parts, self.name, self.file_mode)
                return
            if not current.exists and not self.edits.changed:
                return
            if spec.backup and current.exists:
                self.backup_file = self.tree.backup(self.parts, self.name, data, self.file_mode, dir_fd=dir_fd,
                                                    like=self._wanted_attrs(current))
            self.tree.write(self.parts, self.name, new, self.file_mode, dir_fd=dir_fd)

    def lock_requests(self, plan):
        """The write takes the flock on the file's directory."""
        if any(action.kind in ('update', 'create', 'authorize keys of') and action.path == self.spec.path
               for action in plan.actions):
            return [(self.tree, self.parts)]
        return []

    # ---------------------------------------------------------------- result
    def result(self, plan, applied):
        spec = self.spec
        result = self.file_result(
            plan,
            file=spec.key_file,
            authorized=spec.state == 'present',
            exclusive=spec.exclusive,
            duplicates=list(self.duplicates),
        )
        if self.edits is not None:
            result['keys'] = [change.as_dict() for change in self.edits.changes]
            if self.edits.changes_not_listed:
                # a file of hundreds of thousands of keys: the result lists the
                # first ones removed, the others are counted
                result['keys_not_listed'] = self.edits.changes_not_listed
            if self.edits.duplicates_not_listed:
                result['duplicates_not_listed'] = self.edits.duplicates_not_listed
        else:
            result['keys'] = []
        if spec.expire_at is not None:
            result['expire_at'] = spec.expire_at
        if self.backup_file:
            result['backup_file'] = self.backup_file
        return result
