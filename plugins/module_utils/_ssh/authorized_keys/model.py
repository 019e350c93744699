# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``authorized_keys`` files, read the way sshd reads them, edited losslessly.

Line grammar (OpenSSH ``auth2-pubkeyfile.c``, ``sshkey.c``, ``auth-options.c``):

* leading spaces and tabs are skipped; an empty line or one whose first
  character is then ``#`` is a comment;
* sshd first tries to read ``keytype base64 [comment]`` at the start of the
  line; when that fails the line starts with options: sshd skips to the first
  space or tab that is outside double quotes (``\\"`` inside quotes is an
  escaped quote), skips the white space and reads the key there. A line where
  neither works is ignored by sshd, and kept here as an *invalid* line;
* the options are ``name`` or ``name="value"`` separated by commas, with no
  white space outside quotes. Names are matched case-insensitively. Inside the
  quotes only ``\\"`` is an escape (a backslash before any other character is
  kept), so a value cannot end with a backslash;
* the key type must be one sshd knows (``sshd_rules.KEY_NAMES``, with the
  signature names ``rsa-sha2-256``/``rsa-sha2-512`` and the ``webauthn-sk-ecdsa``
  name that sshd reads as the same key types) and the type inside the decoded
  base64 blob must match it. Every module reads key text so (one reader:
  :mod:`sshd_rules`, and :func:`sshd_rules.line_error` says why a line is no key).

The file model (:class:`AuthorizedKeys`) keeps every line's original bytes,
including its end of line (``\\n``, ``\\r\\n`` or none for a last line without
a newline), so lines that are not edited are written back byte for byte.

Each line is read by :mod:`sshd_rules`, a port of OpenSSH 9.2 sshd's rules
(checked against a real sshd by ``tests/parity``). Identity of a key is its
key material, as sshd's ``sshkey_equal`` compares keys: a line written with the
``rsa-sha2-256`` alias, with zero-padded numbers or with white space inside the
base64 data holds the same key as the plain ``ssh-rsa`` line. Options are
compared semantically: the ordered list of (lower-cased name, unquoted value).
Order is kept significant because sshd gives it meaning (``restrict,pty``
is not ``pty,restrict``; the first ``environment`` of a name wins).

Editing rules (:func:`apply_edits`), the same in check mode and in a real run.
A line's identity is (key material, is a ``cert-authority`` line): a
``cert-authority`` line lets in certificates signed by the key, a plain line
the key itself - two different authorizations. A task whose options contain
``cert-authority`` manages only the ``cert-authority`` lines of its key, a task
without it only the plain lines; the other kind is never changed. "Holding the
key" below means holding it with the same identity; duplicates are counted
within one identity.

* ``present``: the first line holding the key is the managed one; when its
  options or comment differ it is rewritten in place (same position, same end
  of line). Later lines with the same key are *removed*: sshd tries every
  matching line, so a later copy without the ``from=`` of the first would still
  let the key in. A key not in the file is appended.
* ``absent``: every line holding the key is removed.
* ``exclusive`` (with ``present``): every key line whose identity is not given
  is removed too (a ``cert-authority`` line of a key given without
  ``cert-authority`` is removed, and the other way round). Comments, blank lines and invalid lines always stay.
* ``remove_expired``: first, every key line whose ``expiry-time`` has passed
  (sshd refuses it) is removed, whatever key it holds.
* ``expire_at`` (with ``present``, for key rotation): instead of authorizing
  the given keys, every line holding one gets ``expiry-time="<expire_at>"``,
  its other options and comment kept. A line whose own expiry is at or before
  ``expire_at`` is left as it is, so a re-run never moves the deadline later;
  a given key that is not in the file is not added.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import struct
import time

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import (
    PublicKey,
    key_text_error,
)

# Flag options sshd accepts; the negatable ones also with a "no-" prefix.
NEGATABLE_FLAGS = sshd_rules.NEGATABLE_FLAGS
PLAIN_FLAGS = sshd_rules.RESTRICT_FLAGS
VALUE_OPTIONS = sshd_rules.VALUE_OPTIONS
# sshd refuses a second clause of these.
SINGLE_OPTIONS = sshd_rules.SINGLE_OPTIONS


_SPACE = ' \t'
_PREFIX_CHARS = 16


def _short(text):
    text = text or ''
    return text if len(text) <= _PREFIX_CHARS else text[:_PREFIX_CHARS] + '...'


# ---------------------------------------------------------------------------
# Options

class KeyOption:
    """One option: ``name`` as written, ``value`` (unquoted) or None for a flag."""

    __slots__ = ('name', 'value')

    def __init__(self, name, value=None):
        self.name = name
        self.value = value

    @property
    def identity(self):
        return (self.name.lower(), self.value)

    def render(self):
        if self.value is None:
            return self.name
        return '%s="%s"' % (self.name, self.value.replace('"', '\\"'))

    def __eq__(self, other):
        return isinstance(other, KeyOption) and self.identity == other.identity

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.identity)

    def __repr__(self):
        return 'KeyOption(%r)' % self.render()


def options_identity(options):
    """What options are compared by: ordered (lower-cased name, value) pairs."""
    return tuple(option.identity for option in options or ())


def render_options(options):
    """``a,b="c d"`` (empty string for no options)."""
    return ','.join(option.render() for option in options or ())


advance_past_options = sshd_rules.advance_past_options


def _strip_blanks_around_commas(text):
    """For options given by a task: drop blanks around the whole string and next
    to commas (outside double quotes)."""
    out = []
    quoted = False
    index = 0
    text = text.strip(' \t')
    while index < len(text):
        char = text[index]
        if char == '\\' and index + 1 < len(text) and text[index + 1] == '"':
            out.append(text[index:index + 2])
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char in _SPACE:
            after = index
            while after < len(text) and text[after] in _SPACE:
                after += 1
            if (out and out[-1] == ',') or (after < len(text) and text[after] == ','):
                index = after
                continue
        out.append(char)
        index += 1
    return ''.join(out)


def _to_key_options(opts):
    return [KeyOption(name, value) for name, value in opts.items]


def parse_options(text, lenient=False):
    """Parse an options string as ``sshauthopt_parse`` does; a list of :class:`KeyOption`.

    The one reader of options, for a file line's options and for options
    given by a task alike: the text is read by :func:`sshd_rules.parse_options`
    as the options of a line, followed by the blank before the key.
    Raises ``InvalidInput`` where sshd would refuse the line ("bad key
    options"): unknown option, flag with a value, value without quotes,
    missing end quote, a second ``command``/``from``/``principals``, a bad
    ``environment``/``expiry-time``/``tunnel``/``permitopen``/``permitlisten``,
    too many ``environment``/``permitopen``/``permitlisten``. Empty elements
    (``a,,b``) and a trailing comma (``no-pty,``) are skipped as sshd skips them.

    ``lenient`` (for options given in a task): white space around the whole
    string and next to commas is dropped instead of being an error.
    """
    if text is None:
        return []
    # a line ends at a newline and sshd reads it up to a NUL; a CR is an
    # ordinary character to sshd (inside quotes part of the value)
    if '\n' in text or '\0' in text:
        raise InvalidInput('options must be a single line')
    if lenient:
        text = _strip_blanks_around_commas(text)
    if text == '':
        return []
    if text[0] in _SPACE:
        raise InvalidInput('white space between options (sshd ends the options there)')
    try:
        opts = sshd_rules.parse_options(text, end_is_blank=True)
    except sshd_rules.OptionsError as exc:
        raise InvalidInput(exc.reason)
    if opts.end < len(text):
        raise InvalidInput('white space between options (sshd ends the options there)')
    return _to_key_options(opts)


def validate_option_values(options):
    """Reject values that cannot be written so that sshd reads them back, and
    options sshd would parse but then refuse every login with."""
    for option in options:
        if option.value is None:
            continue
        if option.value.endswith('\\'):
            raise InvalidInput('option %s: a value cannot end with a backslash (sshd reads \\" as a quote)'
                               % option.name)
        # a CR inside the quotes is read by sshd as part of the value
        if '\n' in option.value or '\0' in option.value:
            raise InvalidInput('option %s: the value must be a single line' % option.name)
    if not options:
        return
    try:
        opts = sshd_rules.parse_options(render_options(options), end_is_blank=True)
    except sshd_rules.OptionsError as exc:
        raise InvalidInput('bad key options: %s' % exc.reason)
    reason = sshd_rules.refusal(opts, plain_key=False)
    if reason is not None:
        raise InvalidInput('sshd (%s) would refuse every login with these options: %s'
                           % (sshd_rules.SSHD_VERSION, reason))


# ---------------------------------------------------------------------------
# Keys on a line

def key_identity(key):
    """What "the same key" means for sshd (``sshkey_equal``): the public numbers of
    the key, whatever the type name written or the encoding of the numbers
    (:attr:`PublicKey.material`)."""
    return key.material


def is_cert_authority(options):
    """Whether options (:class:`KeyOption` list) make a ``cert-authority`` line."""
    return any(option.name.lower() == 'cert-authority' for option in options or ())


def public_key_of(found, comment):
    """A :class:`PublicKey` (canonical type and encoding) for an :class:`sshd_rules.SshdKey`."""
    return PublicKey.from_sshd(found, comment)


# The parse of a line's text, by text (kind, key, options_text, options,
# options_error, sshd_line): a file of many copies of one line is read once.
# Bounded: a file of distinct lines empties it now and then.
_PARSED = {}
_PARSED_MAX = 1024
# (lines up to this length: the cache outlives a file and holds at most ~8 MiB)
_PARSED_MAX_CHARS = 8192


def _parse_fields(raw):
    line = sshd_rules.Line(raw)
    if line.kind != 'key':
        return line.kind, None, '', [], None, None
    key = public_key_of(line.key, line.comment)
    if line.options is None:
        options = None
    else:
        options = _to_key_options(line.options)
    return 'key', key, line.options_text, options, line.options_error, line


def _line_summary(raw):
    """(identity digest, expiry) of a key line, ``()`` for any other line: what
    :class:`KeyLineRef` keeps, read by sshd's rules alone (as :class:`ParsedLine`
    reads the identity and expiry, without building the key and option objects)."""
    line = sshd_rules.Line(raw)
    if line.kind != 'key':
        return ()
    expiry = line.options.valid_before if line.options is not None else 0
    return identity_digest((line.key.material, line.cert_authority)), expiry


def identity_digest(identity):
    """A 16-byte stand-in (BLAKE2b) for a line's identity (key material,
    cert-authority): what a file of hundreds of thousands of key lines keeps per
    line instead of the key itself."""
    material, cert_authority = identity
    digest = hashlib.blake2b(digest_size=16)
    digest.update(b'\x01' if cert_authority else b'\x00')
    for part in material:
        if not isinstance(part, bytes):
            part = str(part).encode('utf-8', 'surrogateescape')
        digest.update(struct.pack('>I', len(part)))
        digest.update(part)
    return digest.digest()


class ParsedLine:
    """One line of the file.

    ``kind``: ``blank``, ``comment``, ``key`` or ``invalid``. ``raw`` is the
    text without its end of line (decoded with ``surrogateescape``, so any byte
    survives), ``eol`` the end of line (``\\n`` or ``''``). For a key line:
    ``key`` (PublicKey, with the comment), ``options_text`` as written,
    ``options`` (list of KeyOption, or None when sshd would refuse them) and
    ``options_error``.
    """

    # a file of 64 MiB holds hundreds of thousands of key lines: no __dict__ each
    __slots__ = ('raw', 'eol', 'number', 'kind', 'key', 'options_text', 'options', 'options_error',
                 'sshd_line')

    def __init__(self, raw, eol='\n', number=0):
        self.raw = raw
        self.eol = eol
        self.number = number
        self.kind = 'invalid'
        self.key = None
        self.options_text = ''
        self.options = []
        self.options_error = None
        self.sshd_line = None
        self._parse()

    def _parse(self):
        # The same text is read once (a file of many copies of one line); the
        # objects are shared and never changed (an edit makes a new line).
        cached = _PARSED.get(self.raw)
        if cached is None:
            cached = _parse_fields(self.raw)
            if len(self.raw) <= _PARSED_MAX_CHARS:
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[self.raw] = cached
        self.kind, self.key, self.options_text, self.options, self.options_error, self.sshd_line = cached

    @property
    def refusal(self):
        """Why sshd refuses every login the line is meant for (its key, or the
        certificates its key signed on a cert-authority line), or None."""
        if self.sshd_line is None:
            return None
        return sshd_rules.line_refusal(self.sshd_line)

    @property
    def digest(self):
        """:func:`identity_digest` of the line's identity (None for no key line)."""
        identity = self.identity
        return identity_digest(identity) if identity is not None else None

    def parsed(self):
        return self

    @property
    def cert_authority(self):
        """A ``cert-authority`` line (it authorizes certificates signed by the key)."""
        return self.sshd_line is not None and self.sshd_line.cert_authority

    @property
    def identity(self):
        """(key material, cert-authority): what a task manages a line by."""
        if self.key is None:
            return None
        return (key_identity(self.key), self.cert_authority)

    @property
    def comment(self):
        return self.key.comment if self.key is not None else None

    def matches(self, options, comment):
        """The line already says ``options`` and ``comment`` (semantically)."""
        if self.kind != 'key' or self.options is None:
            return False
        return (options_identity(self.options) == options_identity(options)
                and (self.key.comment or '') == (comment or ''))

    def __repr__(self):
        return 'ParsedLine(%d, %s, %r)' % (self.number, self.kind, _short(self.raw))


_NUMBER_BITS = 32
_NUMBER_MASK = (1 << _NUMBER_BITS) - 1


class KeyLineRef:
    """A key line of a file as read and not (yet) edited, kept as its place in
    the file's bytes, its line number, the :func:`identity_digest` of its
    identity and its ``expiry-time`` (what edits look at for every line): ~200
    bytes a line where a :class:`ParsedLine` costs ~1 KiB. Everything else
    (key, options, comment) is read again from the bytes when asked for
    (:meth:`parsed`)."""

    # start and number in one int (pos: start << 32 | number)
    __slots__ = ('data', 'pos', 'digest', 'valid_before', 'removed')
    kind = 'key'

    def __init__(self, data, start, number, digest, valid_before):
        self.data = data
        self.pos = (start << _NUMBER_BITS) | number
        self.digest = digest
        self.valid_before = valid_before
        self.removed = False

    @property
    def start(self):
        return self.pos >> _NUMBER_BITS

    @property
    def number(self):
        return self.pos & _NUMBER_MASK

    def end(self):
        """Offset of the line's end (its newline, or the end of the data)."""
        end = self.data.find(b'\n', self.start)
        return len(self.data) if end == -1 else end

    @property
    def raw(self):
        return self.data[self.start:self.end()].decode('utf-8', 'surrogateescape')

    @property
    def eol(self):
        return '\n' if self.data.find(b'\n', self.start) != -1 else ''

    def parsed(self):
        """The line as a :class:`ParsedLine` (read again; not kept)."""
        return ParsedLine(self.raw, self.eol, self.number)

    key = property(lambda self: self.parsed().key)
    options = property(lambda self: self.parsed().options)
    options_text = property(lambda self: self.parsed().options_text)
    options_error = property(lambda self: self.parsed().options_error)
    sshd_line = property(lambda self: self.parsed().sshd_line)
    refusal = property(lambda self: self.parsed().refusal)
    comment = property(lambda self: self.parsed().comment)
    cert_authority = property(lambda self: self.parsed().cert_authority)
    identity = property(lambda self: self.parsed().identity)

    def matches(self, options, comment):
        return self.parsed().matches(options, comment)

    def __repr__(self):
        return 'KeyLineRef(%d, %s)' % (self.number, _short(self.raw))


def format_line(key, options=None, comment=None):
    """``[options ]type base64[ comment]`` for ``key``."""
    if comment is None:
        comment = key.comment
    line = key.to_line(comment)
    opts = render_options(options)
    return '%s %s' % (opts, line) if opts else line


# ---------------------------------------------------------------------------
# Keys given by a task

class WantedKey:
    """A key a task names: the key, its options and comment, and where it came from."""

    def __init__(self, key, options, comment, source):
        self.key = key
        self.options = list(options or [])
        self.comment = comment if comment is not None else key.comment
        self.source = source

    @property
    def cert_authority(self):
        return is_cert_authority(self.options)

    @property
    def identity(self):
        """(key material, cert-authority), as :attr:`ParsedLine.identity`."""
        return (key_identity(self.key), self.cert_authority)

    @property
    def digest(self):
        return identity_digest(self.identity)

    def line(self):
        return format_line(self.key, self.options, self.comment)


def _looks_private(text):
    return 'PRIVATE KEY' in text or text.lstrip().startswith('PuTTY-User-Key-File')


def parse_key_text(text, source):
    """Parse one public key given by a task: ``[options] type base64 [comment]``,
    read as sshd reads such a line in ``authorized_keys``.

    Returns (PublicKey, options list). ``InvalidInput`` names ``source`` and
    says what is wrong; it shows only the type and a short prefix of the data.
    """
    if _looks_private(text):
        raise InvalidInput('%s looks like a private key; give the public key (the .pub file) instead' % source)
    if '\n' in text.rstrip('\r\n'):
        raise InvalidInput('%s must be a single line' % source)
    # sshd reads a line up to a NUL byte
    line = text.rstrip('\n').split('\0', 1)[0]
    parsed = sshd_rules.Line(line)
    if parsed.kind in ('blank', 'comment'):
        raise InvalidInput('%s is empty' % source)
    if parsed.kind != 'key':
        raise InvalidInput('%s: %s' % (source, key_text_error(line)))
    if parsed.options is None:
        raise InvalidInput('%s: %s' % (source, key_text_error(line)))
    if parsed.key.cert:
        raise InvalidInput('%s is a certificate (%s): sshd never accepts a certificate written in '
                           'authorized_keys, as a key or as a cert-authority; authorize the key that '
                           'signed it with options: cert-authority instead' % (source, parsed.type_name))
    key = public_key_of(parsed.key, parsed.comment)
    return key, _to_key_options(parsed.options)


def iter_key_lines(text):
    """The lines of a multi-line key text that hold keys, as (line number, line).

    The text is split only at ``\\n``, as sshd splits a file; blank lines and
    ``#`` lines are skipped as sshd skips them.
    """
    for number, line in enumerate(text.split('\n'), 1):
        stripped = line.split('\0', 1)[0].lstrip(_SPACE)
        if not stripped.rstrip('\r') or stripped.startswith('#'):
            continue
        yield number, line


# ---------------------------------------------------------------------------
# The file

def _key_candidate_re():
    names = sorted(sshd_rules.KEY_NAMES, key=len, reverse=True)
    alternatives = b'|'.join(re.escape(name.encode('ascii')) for name in names)
    return re.compile(br'(?:^|[ \t])(?:' + alternatives + br')[ \t]', re.M)


# Every line sshd can read as a key holds a key type name that starts the line
# (after blanks) or follows a blank, and a blank after it: lines without one
# are never keys and are not parsed one by one.
_KEY_CANDIDATE = _key_candidate_re()
# A line sshd skips as a comment: blanks, then nothing, ``#``, a NUL (the line
# ends there) or a lone CR. Any other line of a run is an invalid line.
_NOT_SKIPPED = re.compile(br'^(?![ \t]*(?:#|\x00|\r?(?:\n|\x00|\Z)))', re.M)


class LineRun:
    """Consecutive lines that hold no key (blank, comment or invalid), kept as the
    file's bytes: one object for any number of lines, rewritten byte for byte.

    ``number`` is the line number of the first line; ``data`` ends with a
    newline unless it is the end of a file without one.
    """

    __slots__ = ('data', 'number')
    kind = 'lines'
    key = None
    sshd_line = None
    identity = None
    options = None
    comment = None

    def __init__(self, data, number):
        self.data = data
        self.number = number

    @property
    def raw(self):
        """The lines as text, without the last end of line."""
        data = self.data[:-1] if self.data.endswith(b'\n') else self.data
        return data.decode('utf-8', 'surrogateescape')

    @property
    def eol(self):
        return '\n' if self.data.endswith(b'\n') else ''

    @eol.setter
    def eol(self, value):
        if value and not self.data.endswith(b'\n'):
            self.data += value.encode('ascii')

    def invalid_lines(self, limit):
        """(the numbers of the first ``limit`` invalid lines, how many there are)."""
        numbers = []
        count = 0
        number, offset = self.number, 0
        for match in _NOT_SKIPPED.finditer(self.data):
            start = match.start()
            if start >= len(self.data):
                break
            count += 1
            if len(numbers) < limit:
                number += self.data.count(b'\n', offset, start)
                offset = start
                numbers.append(number)
        return numbers, count

    def __repr__(self):
        return 'LineRun(%d, %d bytes)' % (self.number, len(self.data))


def _digest_of(line):
    return line.digest


def _span_bytes(span, more):
    """The bytes of consecutive unedited key lines; a newline after the last when
    ``more`` lines follow (a file's last line may have none)."""
    data, start, end = span
    if more and data[end - 1:end] != b'\n':
        return data[start:end] + b'\n'
    # a view, not a copy: b''.join copies once
    return memoryview(data)[start:end]


class AuthorizedKeys:
    """An ``authorized_keys`` file: :class:`ParsedLine` for each key line,
    :class:`LineRun` for the lines between them."""

    def __init__(self, lines=None):
        self.lines = lines or []

    @property
    def lines(self):
        if self._removed or self._replaced or self._flagged:
            # removals and replacements are applied at once: editing 100,000
            # lines one by one in a list is quadratic
            removed, replaced = self._removed, self._replaced
            out = []
            for line in self._lines:
                if id(line) in replaced:
                    if id(line) in removed or getattr(line, 'removed', False):
                        continue
                    line = replaced[id(line)][1]
                if id(line) in removed or getattr(line, 'removed', False):
                    continue
                out.append(line)
            self._lines = out
            self._removed = {}
            self._replaced = {}
            self._origin = {}
            self._flagged = False
        return self._lines

    @lines.setter
    def lines(self, value):
        self._lines = list(value)
        self._removed = {}      # id -> line (kept, so that no id is reused meanwhile)
        self._flagged = False   # a KeyLineRef was removed (its own flag: no dict entry per line)
        self._replaced = {}     # id -> (old line, new line)
        self._origin = {}       # id of a new line -> the line of the list it replaces

    @classmethod
    def parse(cls, data):
        """From the file's bytes (``b''`` or None for a missing file): :meth:`iter_lines` as a model."""
        return cls(cls.iter_lines(data))

    @staticmethod
    def iter_lines(data):
        """The file's lines, one at a time (a reader that needs no model keeps
        none): :class:`LineRun` and :class:`KeyLineRef`.

        Memory is a small multiple of the file's size whatever it holds: only
        lines that can be key lines are parsed one by one, each distinct text
        once, and a key line is kept as a :class:`KeyLineRef` (~200 bytes).
        """
        if not data:
            return
        if not isinstance(data, bytes):
            data = data.encode('utf-8', 'surrogateescape')
        seen = {}                           # line bytes -> (digest, expiry) of a key line, () otherwise
        length = len(data)
        run_start, run_number = 0, 1        # the run of lines without a key so far
        counted, number = 0, 1              # line ``number`` starts at or before offset ``counted``
        pos = 0
        while pos < length:
            match = _KEY_CANDIDATE.search(data, pos)
            if match is None:
                break
            start = data.rfind(b'\n', 0, match.start() + 1) + 1
            end = data.find(b'\n', match.end() - 1)
            if end == -1:
                end = length
            number += data.count(b'\n', counted, start)
            counted = start
            text = data[start:end]
            found = seen.get(text)
            if found is None:
                found = _line_summary(text.decode('utf-8', 'surrogateescape'))
                if len(seen) >= _PARSED_MAX:
                    seen.clear()
                seen[text] = found
            if found:
                if start > run_start:
                    yield LineRun(data[run_start:start], run_number)
                yield KeyLineRef(data, start, number, found[0], found[1])
                run_start, run_number = end + 1, number + 1
            pos = end + 1
        if run_start < length:
            yield LineRun(data[run_start:], run_number)

    def render(self):
        """The file's bytes: untouched lines exactly as read (consecutive key lines
        as read are one slice of the bytes read)."""
        out = []
        lines = self.lines
        last = len(lines) - 1
        span = None                 # [data, start, end] of consecutive KeyLineRefs
        for index, line in enumerate(lines):
            if isinstance(line, KeyLineRef):
                end = line.end()
                stop = end + 1 if end < len(line.data) else end
                if span is not None and span[0] is line.data and span[2] == line.start:
                    span[2] = stop
                    continue
                if span is not None:
                    out.append(_span_bytes(span, True))
                span = [line.data, line.start, stop]
                continue
            if span is not None:
                out.append(_span_bytes(span, True))
                span = None
            if line.kind == 'lines':
                chunk = line.data
                if index != last and not chunk.endswith(b'\n'):
                    chunk += b'\n'
                out.append(chunk)
                continue
            eol = line.eol
            if not eol and index != last:
                eol = '\n'
            out.append((line.raw + eol).encode('utf-8', 'surrogateescape'))
        if span is not None:
            out.append(_span_bytes(span, False))
        return b''.join(out)

    def text(self):
        """The content as text for a diff (undecodable bytes replaced)."""
        return self.render().decode('utf-8', 'replace')

    def invalid_lines(self, limit):
        """(the numbers of the first ``limit`` lines sshd cannot read, how many there are)."""
        numbers = []
        count = 0
        for line in self.lines:
            if line.kind == 'lines':
                found, more = line.invalid_lines(max(limit - len(numbers), 0))
                numbers.extend(found)
                count += more
        return numbers, count

    def key_lines(self):
        return [line for line in self.lines if line.kind == 'key']

    def find(self, identity):
        digest = identity_digest(identity)
        return [line for line in self.lines if line.kind == 'key' and line.digest == digest]

    def duplicates(self):
        """Keys on more than one line: list of (first line, [all lines]), in the
        order of their first lines."""
        keys = self.key_lines()
        # a stable sort by digest groups the lines of a key in file order (a dict
        # of every digest cost ~60 MiB for a file of 750,000 distinct keys)
        by_digest = sorted(keys, key=_digest_of)
        groups = []
        index = 0
        while index < len(by_digest):
            digest = by_digest[index].digest
            stop = index + 1
            while stop < len(by_digest) and by_digest[stop].digest == digest:
                stop += 1
            if stop - index > 1:
                groups.append(by_digest[index:stop])
            index = stop
        del by_digest
        if len(groups) > 1:
            place = dict((id(group[0]), None) for group in groups)
            for position, line in enumerate(keys):
                if id(line) in place:
                    place[id(line)] = position
            groups.sort(key=lambda group: place[id(group[0])])
        return [(group[0], group) for group in groups]

    # -- edits ---------------------------------------------------------------
    def replace(self, line, text):
        """Rewrite ``line`` in place (keeping a CRLF ending)."""
        if line.raw.endswith('\r'):
            text += '\r'
        new = ParsedLine(text, line.eol, line.number)
        old = self._origin.pop(id(line), line)     # replaced again before the list was rebuilt
        self._replaced[id(old)] = (old, new)
        self._origin[id(new)] = old
        return new

    def remove(self, line):
        if isinstance(line, KeyLineRef):
            line.removed = True
            self._flagged = True
        else:
            self._removed[id(line)] = line

    def append(self, text):
        if self.lines and not self.lines[-1].eol:
            if isinstance(self.lines[-1], KeyLineRef):
                self.lines[-1] = self.lines[-1].parsed()
            self.lines[-1].eol = '\n'
        new = ParsedLine(text, '\n', 0)
        self.lines.append(new)
        return new


class KeyChange:
    """What happened to one key: ``action`` is added, updated, removed or unchanged."""

    def __init__(self, key, action, comment=None, options=None, given=True):
        self.key = key
        self.action = action
        self.comment = comment if comment is not None else key.comment
        self.options = options
        self.given = given

    def as_dict(self):
        # A comment read from the file may hold bytes that are not UTF-8.
        comment = self.comment.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
        return {
            'fingerprint': self.key.fingerprint_sha256,
            'type': self.key.key_type,
            'comment': comment,
            'options': render_options(self.options) if self.options is not None else None,
            'action': self.action,
        }


# A result lists at most this many keys a task did not name (removed by
# ``exclusive`` or ``remove_expired``) and this many keys on several lines;
# the others are counted (``keys_not_listed``, ``duplicates_not_listed``), and a
# duplicate lists its first line numbers (then ``line_count`` says how many).
MAX_LISTED_CHANGES = 1000
MAX_LISTED_DUPLICATES = 1000
MAX_DUPLICATE_LINES = 100


class EditResult:
    def __init__(self):
        self.changes = []
        self.duplicates = []   # dicts: fingerprint, type, lines, line_count, action
        self.unlisted = {}     # action -> keys not named by the task and not in ``changes``
        self.duplicates_not_listed = 0
        self._listed_unnamed = 0

    @property
    def changed(self):
        return any(change.action != 'unchanged' for change in self.changes) or bool(self.unlisted)

    @property
    def changes_not_listed(self):
        return sum(self.unlisted.values())

    def add_unnamed(self, line, action):
        """A change to a key the task did not name: listed while under the bound, else counted."""
        if self._listed_unnamed < MAX_LISTED_CHANGES:
            self._listed_unnamed += 1
            parsed = line.parsed()
            self.changes.append(KeyChange(parsed.key, action, parsed.key.comment, parsed.options, given=False))
        else:
            self.unlisted[action] = self.unlisted.get(action, 0) + 1

    def counts(self):
        counts = dict(self.unlisted)
        for change in self.changes:
            if change.action != 'unchanged':
                counts[change.action] = counts.get(change.action, 0) + 1
        return counts


def line_expiry(line):
    """When sshd starts refusing ``line`` (its earliest ``expiry-time``, seconds since
    the epoch), or 0 when it has none (or options sshd refuses anyway)."""
    if isinstance(line, KeyLineRef):
        return line.valid_before
    if line.kind != 'key' or line.sshd_line is None or line.sshd_line.options is None:
        return 0
    return line.sshd_line.options.valid_before


def line_expired(line, now):
    """sshd (``auth_authorise_keyopts``) refuses the line because its expiry-time has passed."""
    expiry = line_expiry(line)
    return bool(expiry) and expiry < now


def _remove_expired(model, now):
    """Remove every key line whose expiry-time has passed; the removed lines, in order."""
    removed = [line for line in model.key_lines() if line_expired(line, now)]
    for line in removed:
        model.remove(line)
    return removed


def _expire_lines(model, lines, expire_at, expire_seconds):
    """Give ``lines`` ``expiry-time="expire_at"`` unless they expire at or before it.

    The line's other options and its comment are kept. Returns (lines now, changed).
    """
    out = []
    changed = False
    for line in lines:
        expiry = line_expiry(line)
        parsed = line.parsed()
        if parsed.options is None or (expiry and expiry <= expire_seconds):
            # bad options: sshd refuses the line already; an earlier expiry stays
            out.append(line)
            continue
        options = [option for option in parsed.options if option.name.lower() != 'expiry-time']
        options.append(KeyOption('expiry-time', expire_at))
        out.append(model.replace(line, format_line(parsed.key, options, parsed.key.comment)))
        changed = True
    return out, changed


def apply_edits(model, wanted, state='present', exclusive=False, expire_at=None, remove_expired=False,
                now=None):
    """Edit ``model`` so the ``wanted`` keys are present (or absent, or expiring).

    See the module docstring for the rules. ``now`` (seconds since the epoch,
    default the current time) decides which lines ``remove_expired`` removes.
    Returns an :class:`EditResult`; calling it again on a fresh read of the
    file with the same ``now`` gives the same edits, which is what the locked
    re-read in a real run relies on.
    """
    result = EditResult()
    # lines are compared by identity_digest (a line as read keeps only that)
    wanted_ids = set(w.digest for w in wanted)
    expired = []
    if remove_expired:
        expired = _remove_expired(model, time.time() if now is None else now)
    expired_ids = set(line.digest for line in expired)
    expire_seconds = sshd_rules.parse_absolute_time(expire_at) if expire_at is not None else None
    # keys on several lines: only these can be met twice below (a set of every
    # removed key's digest cost ~40 MiB for 750,000 distinct keys)
    several = set()
    for first, lines in model.duplicates():
        several.add(first.digest)
        if expire_at is not None:
            action = 'kept'
        elif state == 'absent' and first.digest in wanted_ids:
            action = 'removed'
        elif first.digest in wanted_ids or exclusive:
            action = 'removed duplicates' if first.digest in wanted_ids else 'removed'
        else:
            action = 'kept'
        if len(result.duplicates) >= MAX_LISTED_DUPLICATES:
            result.duplicates_not_listed += 1
            continue
        key = first.key
        entry = {
            'fingerprint': key.fingerprint_sha256,
            'type': key.key_type,
            'lines': [line.number for line in lines[:MAX_DUPLICATE_LINES]],
            'action': action,
        }
        if len(lines) > MAX_DUPLICATE_LINES:
            # the first line numbers only; how many lines hold the key
            entry['line_count'] = len(lines)
        result.duplicates.append(entry)
    for item in wanted:
        lines = model.find(item.identity)
        if expire_at is not None:
            if not lines:
                # options None: the key is not (or no longer) in the file
                action = 'removed' if item.digest in expired_ids else 'unchanged'
                result.changes.append(KeyChange(item.key, action, item.comment))
                continue
            lines, changed = _expire_lines(model, lines, expire_at, expire_seconds)
            first = lines[0].parsed()
            result.changes.append(KeyChange(first.key, 'updated' if changed else 'unchanged',
                                            first.key.comment, first.options))
            continue
        if state == 'absent':
            for line in lines:
                model.remove(line)
            comment = lines[0].key.comment if lines else item.comment
            gone = bool(lines) or item.digest in expired_ids
            result.changes.append(KeyChange(item.key, 'removed' if gone else 'unchanged', comment))
            continue
        if not lines:
            model.append(item.line())
            result.changes.append(KeyChange(item.key, 'added', item.comment, item.options))
            continue
        action = 'unchanged'
        first = lines[0]
        if not first.matches(item.options, item.comment):
            model.replace(first, item.line())
            action = 'updated'
        for line in lines[1:]:
            model.remove(line)
            action = 'updated'
        result.changes.append(KeyChange(item.key, action, item.comment, item.options))
    reported = set()
    for line in expired:
        if line.digest not in wanted_ids and line.digest not in reported:
            reported.add(line.digest)
            result.add_unnamed(line, 'removed')
    if exclusive and state == 'present':
        for line in model.key_lines():
            if line.digest not in wanted_ids:
                model.remove(line)
                if line.digest not in several:
                    if line.digest not in reported:
                        result.add_unnamed(line, 'removed')
                elif line.digest not in reported:
                    reported.add(line.digest)
                    result.add_unnamed(line, 'removed')
    return result
