# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzzing of the authorized_keys parser and writer (issue 10).

Whole files of mixed lines are generated: valid key lines of several types
(with and without options, comments, CRLF, tabs, leading white space),
comments, blank lines, lines sshd would ignore (unterminated quotes, bad
options, truncated or foreign base64, unknown types), random bytes and
non-UTF-8 bytes. For each file a random task (keys present / absent /
exclusive, with or without options and comments) is applied and:

* nothing raises other than ``InvalidInput`` for the task's own keys (never);
* parse + render is the identity;
* every line the task does not manage is in the output, byte for byte and in
  the same order (only a missing final newline may be added before an
  appended key);
* the managed keys end as asked (once, with the asked options and comment, or
  gone), and a second run changes nothing.

The same is then done through the real ``ssh_authkey`` operation (plan +
locked apply on a real file) for a share of the examples.

Reproducible: ``derandomize=True`` (the examples are derived from the test
itself, not from a random seed) and no example database.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    ParsedLine,
    WantedKey,
    apply_edits,
    options_identity,
    parse_key_text,
    parse_options,
)

# 10,000 whole files for the pure parser/writer (the figure); the
# operation-level run writes real files and takes a share of that.
FUZZ_EXAMPLES = int(os.environ.get('KEYSMITH_FUZZ_EXAMPLES', '10000'))
FUZZ_OPERATION_EXAMPLES = int(os.environ.get('KEYSMITH_FUZZ_OPERATION_EXAMPLES', '1500'))


def _openssh_line(private, comment):
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH)
    return '%s %s' % (public.decode('ascii'), comment)


def _key_pool():
    keys = [_openssh_line(ed25519.Ed25519PrivateKey.generate(), 'ed%d@fuzz' % i) for i in range(4)]
    keys.append(_openssh_line(ec.generate_private_key(ec.SECP256R1()), 'p256@fuzz'))
    keys.append(_openssh_line(ec.generate_private_key(ec.SECP384R1()), 'p384@fuzz'))
    keys.append(_openssh_line(rsa.generate_private_key(65537, 1024), 'rsa@fuzz'))
    return keys


POOL = _key_pool()

# --------------------------------------------------------------------------- lines
# A catalogue of lines is built once (deterministically); each example is then
# made from one hypothesis byte string: its first bytes choose the task, the
# rest choose lines of the catalogue, ends of line and raw byte lines. One
# cheap draw per example keeps 10,000 whole files fast while hypothesis still
# explores and shrinks the byte string.

_TEXT_CHARS = ('abcXYZ019 _-.,=@"\\\'\t#' + u'\u00e9\u00fc\u4e2d\U0001f511')
_WS = ['', ' ', '  ', '\t', ' \t ']
_OPTIONS = [
    '', 'no-pty', 'restrict', 'restrict,pty', 'from="10.0.0.1,192.168.*"', 'command="/bin/true"',
    'environment="A=b c"', 'expiry-time="20301231"', 'permitopen="host:22"', 'NO-PTY,From="::1"',
    'command="echo \\"hi\\""', 'principals="alice,bob"', 'tunnel="0"',
    # refused by sshd (bad options): the key is still recognised
    'bogus', 'no-pty=yes', 'from=unquoted', 'command="a",command="b"', 'expiry-time="soon"',
]


def _text(rng, size=20):
    return ''.join(rng.choice(_TEXT_CHARS) for _i in range(rng.randint(0, size)))


def _valid_key_line(rng):
    key_type, blob, comment = rng.choice(POOL).split(' ', 2)
    if key_type == 'ssh-rsa':
        key_type = rng.choice(['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512'])
    comment = rng.choice([comment, '', _text(rng)])
    text = key_type + rng.choice([' ', '\t', '  ']) + blob
    if comment:
        text += ' ' + comment
    options = rng.choice(_OPTIONS)
    if options:
        text = options + rng.choice([' ', '\t']) + text
    return rng.choice(_WS) + text + rng.choice(['', '', ' ', '\t', '\r'])


def _malformed_line(rng):
    key = rng.choice(POOL)
    key_type, blob, comment = key.split(' ', 2)
    kind = rng.randint(0, 9)
    if kind == 0:       # truncated base64
        return '%s %s %s' % (key_type, blob[:rng.randint(0, len(blob) - 1)], comment)
    if kind == 1:       # base64 of another key type
        return '%s %s' % (rng.choice(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256']),
                          rng.choice(POOL).split(' ')[1])
    if kind == 2:       # unknown type
        return 'ssh-foo %s %s' % (blob, comment)
    if kind == 3:       # unterminated quote in the options
        return 'command="echo hi %s' % key
    if kind == 4:       # type without data
        return key_type
    if kind == 5:       # not base64
        return '%s %s' % (key_type, _text(rng))
    if kind == 6:       # options only
        return rng.choice(_OPTIONS) or 'no-pty'
    if kind == 7:       # corrupted base64 character
        pos = rng.randint(0, len(blob) - 1)
        return '%s %s!%s' % (key_type, blob[:pos], blob[pos + 1:])
    if kind == 8:       # a key in a comment
        return rng.choice(_WS) + '#' + key
    return _text(rng)


def _catalogue_line(rng):
    kind = rng.randint(0, 9)
    if kind <= 3:
        text = _valid_key_line(rng)
    elif kind <= 5:
        text = _malformed_line(rng)
    elif kind == 6:
        text = rng.choice(_WS) + '#' + _text(rng)
    elif kind == 7:
        text = rng.choice(_WS)
    elif kind == 8:
        return bytes(rng.randint(0, 255) for _i in range(rng.randint(0, 40))).replace(b'\n', b'')
    else:       # not UTF-8 around a key
        return b'\xff\xfe ' + rng.choice(POOL).encode() + b' \xc3('
    return text.encode('utf-8')


CATALOGUE = [_catalogue_line(random.Random(index)) for index in range(4096)]
_TASK_OPTIONS = [None, '', 'no-pty', 'restrict,from="10.1.1.1"', 'command="x \\"y\\""']
_TASK_COMMENTS = [None, '', 'new comment', u'\u00fc\u00f1\u00ed']


def build_example(raw):
    """(file bytes, (state, exclusive, [(key, options, comment)])) from hypothesis' bytes."""
    raw = bytearray(raw)
    head, body = raw[:6], raw[6:]
    head += bytearray(6 - len(head))
    state = 'absent' if head[0] % 3 == 2 else 'present'
    exclusive = state == 'present' and head[0] % 15 == 0
    count = head[1] % 4
    if count == 0 and not exclusive:
        count = 1
    keys = [POOL[(head[2] + 3 * index) % len(POOL)] for index in range(count)]
    items = [(key, _TASK_OPTIONS[(head[3] + index) % len(_TASK_OPTIONS)],
              _TASK_COMMENTS[(head[4] + index) % len(_TASK_COMMENTS)]) for index, key in enumerate(keys)]
    out = []
    pos = 0
    while pos + 2 <= len(body):
        pick = body[pos] << 8 | body[pos + 1]
        pos += 2
        if pick & 0x8000 and pick & 0x7 == 0 and pos < len(body):
            # a raw line taken from the bytes themselves
            size = min(body[pos] % 32, len(body) - pos - 1)
            line = bytes(body[pos + 1:pos + 1 + size]).replace(b'\n', b'')
            pos += 1 + size
        else:
            line = CATALOGUE[pick % len(CATALOGUE)]
        out.append(line + (b'\r\n' if pick & 0x4000 and pick & 0x30 == 0 else b'\n'))
    data = b''.join(out)
    if data and head[5] & 1:
        data = data.rstrip(b'\n')     # the last line without a newline
    return data, (state, exclusive, items)


examples = st.binary(min_size=12, max_size=72).map(build_example)


# --------------------------------------------------------------------------- checks

def _wanted(items):
    wanted = []
    for key, options, comment in items:
        parsed, line_options = parse_key_text(key, 'task key')
        opts = parse_options(options, lenient=True) if options is not None else line_options
        wanted.append(WantedKey(parsed, opts, comment, 'task key'))
    return wanted


def _each_line(line):
    """(raw, eol) of each line of a model line (a run of lines without a key holds many)."""
    if line.kind != 'lines':
        return [(line.raw, line.eol)]
    text = line.data.decode('utf-8', 'surrogateescape')
    pieces = text.split('\n')
    out = [(piece, '\n') for piece in pieces[:-1]]
    if pieces[-1] != '':
        out.append((pieces[-1], ''))
    return out


def _unmanaged(lines, identities, exclusive):
    """(raw, eol) of the lines a task with these keys does not manage."""
    return [each for line in lines
            if not (line.kind == 'key' and (exclusive or line.identity in identities))
            for each in _each_line(line)]


def _same_lines(before, after):
    """``after`` is ``before``, except that a line that had no end of line may have gained one."""
    assert len(before) == len(after)
    for (raw_b, eol_b), (raw_a, eol_a) in zip(before, after):
        assert raw_a == raw_b
        assert eol_a == eol_b or (eol_b == '' and eol_a == '\n')


def check_output(before_lines, new, wanted, state, exclusive):
    """``before_lines``: the lines of the file before the edit (ParsedLine objects)."""
    identities = set(w.identity for w in wanted)
    model = AuthorizedKeys.parse(new)
    assert model.render() == new
    _same_lines(_unmanaged(before_lines, identities, exclusive),
                _unmanaged(model.lines, identities, exclusive))
    for item in wanted:
        lines = model.find(item.identity)
        if state == 'absent':
            assert lines == []
        else:
            assert len(lines) == 1
            assert options_identity(lines[0].options) == options_identity(item.options)
            assert (lines[0].key.comment or '') == (item.comment or '')
    if exclusive:
        assert set(line.identity for line in model.key_lines()) == identities
    # Idempotent: a second run on what was written changes nothing.
    again = apply_edits(model, wanted, state, exclusive)
    assert not again.changed
    assert model.render() == new


class ParsedLineCopy:
    """What the checks need of a line, copied before ``apply_edits`` changes the model
    (appending after a last line without a newline gives that line one)."""

    __slots__ = ('raw', 'eol', 'kind', 'identity', 'data')

    def __init__(self, line):
        self.raw, self.eol, self.kind, self.identity = line.raw, line.eol, line.kind, line.identity
        self.data = getattr(line, 'data', None)


_STATS = {'examples': 0, 'seconds': 0.0, 'changed': 0, 'kinds': {}}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(example=examples)
def fuzz_parser_and_writer(example):
    start = time.time()
    data, (state, exclusive, items) = example
    model = AuthorizedKeys.parse(data)
    assert model.render() == data
    before_lines = [ParsedLineCopy(line) for line in model.lines]
    for line in model.lines:
        kinds = [line.kind] if line.kind == 'key' else [ParsedLine(raw).kind for raw, dummy in _each_line(line)]
        for kind in kinds:
            _STATS['kinds'][kind] = _STATS['kinds'].get(kind, 0) + 1
    wanted = _wanted(items)
    result = apply_edits(model, wanted, state, exclusive)
    new = model.render()
    if result.changed:
        _STATS['changed'] += 1
    else:
        assert new == data
    check_output(before_lines, new, wanted, state, exclusive)
    _STATS['examples'] += 1
    _STATS['seconds'] += time.time() - start


def test_fuzz_parser_and_writer():
    """The fuzzing itself, then its figures: every generated file was checked, and the
    files held every kind of line."""
    fuzz_parser_and_writer()  # pylint: disable=no-value-for-parameter
    assert _STATS['examples'] >= FUZZ_EXAMPLES
    print('\nauthorized_keys fuzz: %d files, %d changed by the task, lines by kind %r'
          % (_STATS['examples'], _STATS['changed'], sorted(_STATS['kinds'].items())))
    assert _STATS['kinds'].get('key') and _STATS['kinds'].get('invalid') and _STATS['kinds'].get('comment')


@pytest.fixture(scope='module')
def fuzz_home(tmp_path_factory):
    return tmp_path_factory.mktemp('fuzzhome')


@settings(max_examples=FUZZ_OPERATION_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(example=examples, backup=st.booleans())
def test_fuzz_operation_on_real_files(fuzz_home, example, backup):
    """The ssh_authkey operation (plan, flock, re-read, atomic write) on the generated file."""
    data, (state, exclusive, items) = example
    home = str(fuzz_home)
    ssh_dir = os.path.join(home, '.ssh')
    for name in os.listdir(home):
        path = os.path.join(home, name)
        if os.path.isdir(path):
            for inner in os.listdir(path):
                os.unlink(os.path.join(path, inner))
        else:
            os.unlink(path)
    if not os.path.isdir(ssh_dir):
        os.mkdir(ssh_dir, 0o700)
    target = os.path.join(ssh_dir, 'authorized_keys')
    with open(target, 'wb') as handle:
        handle.write(data)
    os.chmod(target, 0o600)
    account = Account.resolve(None, home)
    texts = [key for key, _o, _c in items]
    # The module takes one options/comment for all keys: use the first item's.
    first_options = items[0][1] if items else None
    first_comment = items[0][2] if items else None
    spec = AuthKeySpec(account, key=texts, state=state, exclusive=exclusive,
                       options=first_options, comment=first_comment, backup=backup)
    operation = SshAuthKey(spec)
    plan = operation.plan()
    if plan.changed:
        plan.apply()
    with open(target, 'rb') as handle:
        new = handle.read()
    wanted = spec.wanted
    check_output(AuthorizedKeys.parse(data).lines, new, wanted, state, exclusive)
    # Check mode's prediction is what the real run wrote.
    if plan.after is not None and plan.changed:
        assert plan.after == new.decode('utf-8', 'replace')
    leftovers = [n for n in os.listdir(ssh_dir) if n.endswith('.tmp')]
    assert leftovers == []
    if backup and plan.changed and data:
        backups = [n for n in os.listdir(ssh_dir) if n.endswith('~')]
        assert len(backups) == 1
        with open(os.path.join(ssh_dir, backups[0]), 'rb') as handle:
            assert handle.read() == data


def test_fuzz_rejects_nothing_it_generates():
    """Every task key of the pool is accepted (a sanity check of the generator)."""
    for key in POOL:
        parse_key_text(key, 'pool')
    with pytest.raises(InvalidInput):
        parse_key_text('ssh-ed25519', 'pool')
