# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The authorized_keys model reads every encoding of a key as sshd does (one key, however written)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    WantedKey,
    apply_edits,
    parse_key_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils._ssh.wire_blobs import (
    b64 as _b64,
    fields as _fields,
    ssh_string as _string,
)


def test_absent_finds_every_encoding_of_the_key(keyset):
    line = keyset.lines['ssh-rsa']
    name, e, n = _fields(base64.b64decode(line.split()[1]))
    variants = [
        'rsa-sha2-512 %s a' % line.split()[1],
        'ssh-rsa %s b' % _b64(_string('ssh-rsa') + _string(b'\0' + e) + _string(n)),
        'ssh-rsa %s\v%s c' % (line.split()[1][:10], line.split()[1][10:]),
        ',no-pty,, %s' % line,
    ]
    model = AuthorizedKeys.parse(('\n'.join(variants) + '\n').encode())
    assert [item.kind for item in model.lines] == ['key'] * 4
    key, options = parse_key_text(line, 'key')
    apply_edits(model, [WantedKey(key, [], None, 'key')], 'absent')
    assert model.render() == b''


def test_byte_identical_line_is_unchanged(keyset):
    line = 'no-pty,environment="A=b" %s  spaced  comment \t\r' % keyset.lines['ssh-ed25519'].rsplit(' ', 1)[0]
    model = AuthorizedKeys.parse((line + '\n').encode())
    key, options = parse_key_text(line, 'key')
    result = apply_edits(model, [WantedKey(key, options, None, 'key')], 'present')
    assert not result.changed
    assert model.render() == (line + '\n').encode()


def test_task_text_is_split_only_at_newlines(keyset):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import iter_key_lines
    text = 'command="a\vb\x85c" %s\n\n# x\n%s\r\n' % (keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa'])
    lines = list(iter_key_lines(text))
    assert [number for number, dummy in lines] == [1, 4]
    key, options = parse_key_text(lines[0][1], 'key')
    assert options[0].value == 'a\vb\x85c'


def test_certificate_task_key_is_an_error(keyset):
    with pytest.raises(InvalidInput, match='is a certificate'):
        parse_key_text(keyset.lines['ssh-rsa-cert-v01@openssh.com'], 'key #1')
