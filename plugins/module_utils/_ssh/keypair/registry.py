# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key pair registry: a directory of public key entries on the target.

Layout: one JSON file per entry, ``<registry>/<name>.json`` (mode ``0600``),
in a directory of mode ``0700`` owned by the user running the module. An entry
holds public data only (id, name, public key, fingerprint, type, size,
comment, source, generated_by, generated_at); writing anything that looks like
private key material is refused.

Concurrency: every change happens under an exclusive ``flock`` on the registry
directory (``Tree.locked([])``), so the name and id uniqueness checks and the
write are one step; files are replaced atomically (temporary file, fsync,
rename), so readers without the lock always see a whole entry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import json
import os
import pwd
import re
import stat

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    Conflict,
    InvalidInput,
    KeysmithError,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree, open_trusted_dir

DEFAULT_REGISTRY = '/var/lib/keysmith/keypairs'
REGISTRY_MODE = 0o700
ENTRY_MODE = 0o600
ENTRY_SUFFIX = '.json'
NAME_MAX_LENGTH = 25
ID_PREFIX = 'skey-'
ID_LENGTH = 8
ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
ENTRY_FORMAT = 1

_NAME_RE = re.compile(r'\A[A-Za-z0-9_]{1,%d}\Z' % NAME_MAX_LENGTH)
_ID_RE = re.compile(r'\A%s[a-z0-9]{%d}\Z' % (re.escape(ID_PREFIX), ID_LENGTH))
_ENTRY_FILE_RE = re.compile(r'\A([A-Za-z0-9_]{1,%d})%s\Z' % (NAME_MAX_LENGTH, re.escape(ENTRY_SUFFIX)))
_NAME_CHARS = re.compile(r'[A-Za-z0-9_]')

# The public fields of an entry, in the order they are shown.
ENTRY_FIELDS = ('id', 'name', 'public_key', 'fingerprint', 'type', 'size', 'comment', 'source',
                'generated_by', 'generated_at')

# Text that only private key material contains; an entry with it is never written.
_PRIVATE_MARKERS = ('PRIVATE KEY', 'openssh-key-v1', 'b3BlbnNzaC1rZXktdjE')


def validate_name(name):
    """Tencent's keyName rule: letters, digits and ``_`` only, 1 to 25 characters."""
    if not isinstance(name, str) or name == '':
        raise InvalidInput('name must not be empty: use 1 to %d letters, digits or "_"' % NAME_MAX_LENGTH)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput('name %r is %d characters long; at most %d are allowed'
                           % (name, len(name), NAME_MAX_LENGTH))
    if not _NAME_RE.match(name):
        bad = []
        for char in name:
            if not _NAME_CHARS.match(char) and char not in bad:
                bad.append(char)
        raise InvalidInput('name %r is not allowed: only letters, digits and "_" may be used (found %s)'
                           % (name, ', '.join(repr(c) for c in bad)))
    return name


def validate_id(key_id):
    if not isinstance(key_id, str) or not _ID_RE.match(key_id):
        raise InvalidInput('id %r is not a key pair id: an id is "%s" followed by %d lowercase letters or digits'
                           % (key_id, ID_PREFIX, ID_LENGTH))
    return key_id


def new_id(urandom=os.urandom):
    """``skey-`` and 8 characters of [a-z0-9], uniformly from ``os.urandom``."""
    chars = []
    limit = 256 - 256 % len(ID_ALPHABET)  # reject the bias of the last partial round
    while len(chars) < ID_LENGTH:
        for byte in bytearray(urandom(ID_LENGTH * 2)):
            if byte < limit:
                chars.append(ID_ALPHABET[byte % len(ID_ALPHABET)])
                if len(chars) == ID_LENGTH:
                    break
    return ID_PREFIX + ''.join(chars)


def utc_now():
    """UTC ISO 8601 to the second, ``2024-05-01T12:00:00Z``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def current_user():
    """Who makes an entry: the user the module runs as.

    When it runs as root through sudo (Ansible ``become`` with the sudo
    method), the account that called sudo (``SUDO_USER``), which is the remote
    user of the connection.
    """
    euid = os.geteuid()
    if euid == 0:
        sudo_user = os.environ.get('SUDO_USER')
        if sudo_user:
            try:
                return pwd.getpwnam(sudo_user).pw_name
            except KeyError:
                pass
    try:
        return pwd.getpwuid(euid).pw_name
    except KeyError:
        return str(euid)


def contains_private_material(text):
    return any(marker in text for marker in _PRIVATE_MARKERS)


class Entry:
    """One registry entry: public data only."""

    def __init__(self, **fields):
        unknown = set(fields) - set(ENTRY_FIELDS)
        if unknown:
            raise InvalidInput('unknown entry fields: %s' % ', '.join(sorted(unknown)))
        for field in ENTRY_FIELDS:
            setattr(self, field, fields.get(field))

    def to_dict(self):
        return dict((field, getattr(self, field)) for field in ENTRY_FIELDS)

    def copy(self, **changes):
        fields = self.to_dict()
        fields.update(changes)
        return Entry(**fields)

    def serialize(self):
        data = self.to_dict()
        data['format'] = ENTRY_FORMAT
        text = json.dumps(data, indent=2, sort_keys=True) + '\n'
        if contains_private_material(text):
            # Defence in depth: the registry never holds private keys.
            raise KeysmithError('refusing to store entry %s: it contains private key material' % self.name)
        return text.encode('utf-8')

    @classmethod
    def parse(cls, data, path):
        try:
            raw = json.loads(data.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeysmithError('registry entry %s is not valid JSON: %s' % (path, exc), path=path)
        if not isinstance(raw, dict) or not isinstance(raw.get('name'), str) \
                or not isinstance(raw.get('id'), str) or not isinstance(raw.get('public_key'), str):
            raise KeysmithError('registry entry %s is not a key pair entry' % path, path=path)
        return cls(**dict((field, raw.get(field)) for field in ENTRY_FIELDS))

    def __eq__(self, other):
        return isinstance(other, Entry) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return 'Entry(%s %s %s)' % (self.id, self.name, self.fingerprint)


class Registry:
    """The registry directory at ``path``.

    ``hold()`` takes the exclusive lock (creating the directory, mode 0700,
    when missing) and keeps it until ``release()``; the changing methods take
    it themselves when it is not held. Reads need no lock.
    """

    def __init__(self, path=DEFAULT_REGISTRY):
        if not isinstance(path, str) or not os.path.isabs(path):
            raise InvalidInput('registry must be an absolute path, got %r' % (path,))
        if '\n' in path or '\0' in path:
            raise InvalidInput('registry must not contain a newline or NUL byte')
        self.path = os.path.normpath(path)
        self.tree = Tree(self.path, create_base=True)
        self._stack = None
        self._fd = None
        self.found_mode = None  # the mode hold() found (None: it created the directory)

    # ------------------------------------------------------------ directory
    def _check_path(self):
        """The registry's stat, or None when it does not exist.

        The directory is reached by the trust walk (``open_trusted_dir``: no
        symlink an account could plant, no-follow opens relative to each
        parent) and checked on the descriptor, so a rename-exchange with a
        symlink between the check and the use changes nothing.
        """
        fd = self._open()
        if fd is None:
            return None
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def _open(self):
        try:
            fd = open_trusted_dir(self.path, final_link=False)
        except UnsafePath as exc:
            raise UnsafePath('registry %s cannot be used safely: %s' % (self.path, exc.msg), path=self.path)
        if fd is None:
            return None
        st = os.fstat(fd)
        if st.st_uid not in (0, os.geteuid()):
            os.close(fd)
            raise UnsafePath('registry %s is owned by uid %d, not by the user running the module or root; '
                             'refusing to use it' % (self.path, st.st_uid), path=self.path)
        return fd

    def exists(self):
        return self._check_path() is not None

    def mode(self):
        """The directory's permission bits, or None when it does not exist."""
        st = self._check_path()
        return None if st is None else stat.S_IMODE(st.st_mode)

    @property
    def held(self):
        return self._fd is not None

    def hold(self):
        """Take the exclusive lock until ``release()``; creates the directory
        (0700) when missing. Returns True when it was created."""
        if self._fd is not None:
            return False
        # Tree creates it when missing (through the trust walk; another run
        # creating it at the same time is fine): created is True only when
        # this run's mkdir made it, never for the loser of that race.
        self._check_path()  # the registry's own checks first (not a symbolic link, its owner)
        made = len(self.tree.made)
        stack = contextlib.ExitStack()
        try:
            fd = stack.enter_context(self.tree.locked([]))
            created = self.path in self.tree.made[made:]
            # the mode as found under the lock, before this run sets it
            self.found_mode = None if created else stat.S_IMODE(os.fstat(fd).st_mode)
            os.fchmod(fd, REGISTRY_MODE)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        self._fd = fd
        return created

    def release(self):
        stack, self._stack, self._fd = self._stack, None, None
        if stack is not None:
            stack.close()

    @contextlib.contextmanager
    def locked(self):
        """The lock, held for the block (re-entrant within this object)."""
        if self._fd is not None:
            yield self._fd
            return
        self.hold()
        try:
            yield self._fd
        finally:
            self.release()

    @contextlib.contextmanager
    def _reading(self):
        """A directory fd to read from (the held one, else a fresh one); None when missing."""
        if self._fd is not None:
            yield self._fd
            return
        fd = self._open()
        if fd is None:
            yield None
            return
        try:
            yield fd
        finally:
            os.close(fd)

    # --------------------------------------------------------------- reading
    @staticmethod
    def file_name(name):
        return name + ENTRY_SUFFIX

    def entry_path(self, name):
        return os.path.join(self.path, self.file_name(name))

    def _load(self, fd, name):
        state = self.tree.read_in(fd, [], self.file_name(name))
        if not state.exists:
            return None
        entry = Entry.parse(state.data, state.path)
        if entry.name != name:
            raise KeysmithError('registry entry %s names key pair %r, not %r' % (state.path, entry.name, name),
                                path=state.path)
        return entry

    def get(self, name):
        """The entry called ``name``, or None."""
        validate_name(name)
        with self._reading() as fd:
            if fd is None:
                return None
            return self._load(fd, name)

    def entries(self, warnings=None):
        """All entries, sorted by name. An unreadable entry is skipped with a
        text in ``warnings`` (a list) when given, else it is an error."""
        with self._reading() as fd:
            if fd is None:
                return []
            names = sorted(match.group(1) for match in (_ENTRY_FILE_RE.match(n) for n in os.listdir(fd)) if match)
            found = []
            for name in names:
                try:
                    entry = self._load(fd, name)
                except KeysmithError as exc:
                    if warnings is None:
                        raise
                    warnings.append('skipped a registry entry: %s' % exc.msg)
                    continue
                if entry is not None:
                    found.append(entry)
            return found

    def find_id(self, key_id, warnings=None):
        """The entry with id ``key_id``, or None."""
        validate_id(key_id)
        for entry in self.entries(warnings):
            if entry.id == key_id:
                return entry
        return None

    # --------------------------------------------------------------- writing
    def _unique_id(self, taken, urandom=os.urandom):
        for dummy in range(1000):
            candidate = new_id(urandom)
            if candidate not in taken:
                return candidate
        raise KeysmithError('could not find a free key pair id in %s' % self.path)

    def save(self, entry):
        """Write ``entry`` (a new one or a new version of an existing one)
        under the lock. Refuses an id that another name already uses."""
        validate_name(entry.name)
        validate_id(entry.id)
        data = entry.serialize()
        with self.locked() as fd:
            for other in self.entries():
                if other.id == entry.id and other.name != entry.name:
                    raise Conflict('id %s is already used by key pair %s' % (entry.id, other.name))
            self.tree.write([], self.file_name(entry.name), data, ENTRY_MODE, dir_fd=fd)
        return entry

    def create(self, entry, urandom=os.urandom):
        """Add a new entry under the lock: the name must be free; the id is
        assigned here (unique in the registry). Returns the stored entry."""
        validate_name(entry.name)
        with self.locked() as fd:
            existing = self.entries()
            if any(other.name == entry.name for other in existing):
                raise Conflict('key pair %s already exists in %s' % (entry.name, self.path), name=entry.name)
            stored = entry.copy(id=self._unique_id(set(other.id for other in existing), urandom))
            self.tree.write([], self.file_name(stored.name), stored.serialize(), ENTRY_MODE, dir_fd=fd)
        return stored

    def delete(self, name):
        """Remove the entry called ``name``; returns it, or None when missing."""
        validate_name(name)
        if not self.held and not self.exists():
            return None
        with self.locked() as fd:
            entry = self._load(fd, name)
            if entry is None:
                return None
            try:
                os.unlink(self.file_name(name), dir_fd=fd)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise KeysmithError('cannot remove %s: %s' % (self.entry_path(name), exc.strerror))
            os.fsync(fd)
        return entry
