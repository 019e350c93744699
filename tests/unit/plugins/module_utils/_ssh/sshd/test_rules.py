# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The port of sshd's authorized_keys rules (tests/parity checks them against sshd itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import calendar
import struct

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import rules as sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    WantedKey,
    apply_edits,
    parse_key_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput


def _string(data):
    if not isinstance(data, bytes):
        data = data.encode('latin-1')
    return struct.pack('>I', len(data)) + data


def _fields(blob):
    out = []
    pos = 0
    while pos < len(blob):
        length = struct.unpack('>I', blob[pos:pos + 4])[0]
        out.append(blob[pos + 4:pos + 4 + length])
        pos += 4 + length
    return out


def _b64(data):
    return base64.b64encode(data).decode('ascii')


# --------------------------------------------------------------------------- base64

@pytest.mark.parametrize('text, expected', [
    ('AAAA', b'\0\0\0'),
    ('AA\vAA', b'\0\0\0'),
    ('AA\r\nAA\f', b'\0\0\0'),
    ('AAA=', b'\0\0'),
    ('AA==', b'\0'),
    ('AA=\v=', b'\0'),
    ('AA== \t', b'\0'),
    ('AAAA\0garbage', b'\0\0\0'),
    ('', b''),
])
def test_b64_pton_accepts(text, expected):
    assert sshd_rules.b64_pton(text) == expected


@pytest.mark.parametrize('text', [
    'AAA',        # no padding: a partial byte
    'AA=',        # one of two pads
    'AAAA=',      # a pad on a byte boundary
    'A===',
    'AAB=',       # unused bits not zero
    'AB==',
    'AA==AA',     # data after the padding
    'AA-_',       # url-safe alphabet
    'AA\u00e9A',
])
def test_b64_pton_refuses(text):
    assert sshd_rules.b64_pton(text) is None


# --------------------------------------------------------------------------- key blobs

def test_same_rsa_key_encoded_otherwise_is_the_same_key(keyset):
    line = keyset.lines['ssh-rsa']
    blob = base64.b64decode(line.split()[1])
    name, e, n = _fields(blob)
    reference = sshd_rules.read_key(line)[0]
    for variant in (_string('ssh-rsa') + _string(b'\0\0' + e) + _string(n),
                    _string('rsa-sha2-256') + _string(e) + _string(n),
                    _string('RSA') + _string(e) + _string(n),
                    _string('ssh-rsa\0') + _string(e) + _string(n)):
        found = sshd_rules.read_key('ssh-rsa %s c' % _b64(variant))
        assert found is not None
        assert found[0].material == reference.material
        assert found[0].blob == blob
    for alias in ('rsa-sha2-256', 'rsa-sha2-512'):
        assert sshd_rules.read_key('%s %s' % (alias, line.split()[1]))[0].material == reference.material
    # the short names are read inside a blob only, not as the type of a line
    assert sshd_rules.read_key('RSA %s' % line.split()[1]) is None


def test_rsa_limits(keyset):
    name, e, n = _fields(base64.b64decode(keyset.lines['ssh-rsa'].split()[1]))
    small = (1 << 1022) | 1
    small_bytes = small.to_bytes(128, 'big')
    assert sshd_rules.read_key('ssh-rsa %s' % _b64(_string('ssh-rsa') + _string(e) + _string(small_bytes))) is None
    negative = n.lstrip(b'\0')
    assert sshd_rules.read_key('ssh-rsa %s' % _b64(_string('ssh-rsa') + _string(e) + _string(negative))) is None


def test_ecdsa_point_checks(keyset):
    line = keyset.lines['ecdsa-sha2-nistp256']
    name, curve, point = _fields(base64.b64decode(line.split()[1]))
    assert sshd_rules.read_key(line) is not None
    x, y = point[1:33], point[33:]
    off_curve = b'\4' + x + y[:-1] + bytes([y[-1] ^ 1])
    compressed = bytes([2 + (y[-1] & 1)]) + x
    for bad in (off_curve, compressed):
        assert sshd_rules.read_key('%s %s' % (name.decode(), _b64(_string(name) + _string(curve) + _string(bad)))) is None
    # the type on the line must name the curve of the blob
    assert sshd_rules.read_key('ecdsa-sha2-nistp384 %s' % line.split()[1]) is None


def test_blob_of_the_wrong_type_or_with_trailing_data(keyset):
    line = keyset.lines['ssh-ed25519']
    blob = base64.b64decode(line.split()[1])
    assert sshd_rules.read_key('ssh-rsa %s' % line.split()[1]) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(blob + b'\0')) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(blob[:-1])) is None
    assert sshd_rules.read_key('ssh-ed25519 %s' % _b64(_string('ssh-ed\0' + 'x') + _fields(blob)[1])) is None


@pytest.mark.parametrize('cert_type', ['ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com',
                                       'ecdsa-sha2-nistp256-cert-v01@openssh.com'])
def test_certificate_signature_is_verified(keyset, cert_type):
    line = keyset.lines[cert_type]
    assert sshd_rules.read_key(line) is not None
    blob = bytearray(base64.b64decode(line.split()[1]))
    blob[-1] ^= 1
    tampered = sshd_rules.read_key('%s %s' % (cert_type, _b64(bytes(blob))))
    # sshd refuses a certificate whose signature does not verify; without
    # cryptography the module cannot check it and reads the line
    assert (tampered is None) == sshd_rules.HAS_CRYPTOGRAPHY


def test_certificate_line_is_read_but_never_authorizes(keyset):
    cert = keyset.lines['ssh-ed25519-cert-v01@openssh.com']
    line = sshd_rules.Line(cert)
    assert line.kind == 'key' and line.key.cert
    assert not line.authorizes(line.key.material, '127.0.0.1')


# --------------------------------------------------------------------------- options

@pytest.mark.parametrize('text', [
    'pty', ',pty', 'pty,,no-pty', 'pty,', 'NO-TOUCH-REQUIRED', 'touch-required', 'no-verify-required',
    'verify-required', 'Restrict', 'environment="_1=x"', 'permitopen=":22"', 'permitopen="h/22"',
    'permitopen="[::1]:*"', 'permitopen="h:ssh"', 'permitlisten="22"', 'permitlisten="*"',
    'tunnel="+5"', 'tunnel=" 7"', 'tunnel="ANY"', 'expiry-time="20991231UTC"', 'expiry-time="209912 1"',
    'expiry-time="20991231235960"', 'from=""', 'principals="x"',
])
def test_options_sshd_parses(text):
    sshd_rules.parse_options(text)


@pytest.mark.parametrize('text', [
    'ptyx', 'no-no-pty', 'restrict=""', 'pty="x"', 'command', 'command="a",command="b"',
    'environment="=x"', 'environment="A"', 'environment="\u00c9=x"',
    'permitopen="h:0"', 'permitopen="h"', 'permitopen="[::1]22"', 'permitopen="::1:22"',
    'permitlisten="0"', 'permitlisten="h/22"', 'tunnel="-1"', 'tunnel="2147483646"', 'tunnel="\u0663"',
    'tunnel=""', 'expiry-time="2099123"', 'expiry-time="20991232"', 'expiry-time="20991231235962"',
    'expiry-time="19700101Z"', 'expiry-time="20991231GMT"',
])
def test_options_sshd_refuses(text):
    with pytest.raises(sshd_rules.OptionsError):
        sshd_rules.parse_options(text)


def test_repeated_option_limits():
    env = ','.join('environment="V%d=x"' % n for n in range(sshd_rules.MAX_ENV + 1))
    sshd_rules.parse_options(env)
    with pytest.raises(sshd_rules.OptionsError, match='too many environment'):
        sshd_rules.parse_options(env + ',environment="LAST=x"')
    sshd_rules.parse_options(','.join(['environment="SAME=x"'] * 3000))
    permits = ','.join(['permitopen="h:1"'] * (sshd_rules.MAX_PERMITS + 1))
    sshd_rules.parse_options(permits)
    with pytest.raises(sshd_rules.OptionsError, match='too many permission'):
        sshd_rules.parse_options(permits + ',permitopen="h:1"')


def test_expiry_time_forms():
    utc = calendar.timegm((2099, 12, 31, 23, 59, 0, 0, 0, 0))
    assert sshd_rules.parse_absolute_time('209912312359Z') == utc
    assert sshd_rules.parse_absolute_time('209912312359utc') == utc
    # a day past the month's end is normalised like mktime does
    assert sshd_rules.parse_absolute_time('20990230Z') == calendar.timegm((2099, 3, 2, 0, 0, 0, 0, 0, 0))


@pytest.mark.parametrize('patterns, expected', [
    ('127.0.0.1', 1), ('127.0.0.0/8', 1), ('127.*', 1), ('127.1', 1), ('2130706433', 1),
    ('10.0.0.1,127.0.0.1', 1), ('!10.0.0.1,127.0.0.1', 1), ('::1,127.0.0.1', 1),
    ('10.0.0.0/8', 0), ('localhost', 0), ('!127.0.0.1', 0), ('127.0.0.1,!127.0.0.1', 0), ('::1', 0),
    ('127.0.0.1/8', -1), ('', -1), ('127.0.0.1,', -1), ('127.0.0.1/33', -1),
])
def test_from_matching(patterns, expected):
    assert sshd_rules.match_host_and_ip('127.0.0.1', '127.0.0.1', patterns) == expected


# --------------------------------------------------------------------------- the module's side

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


@pytest.mark.parametrize('element, address', [
    ('127.1', '127.0.0.1'), ('2130706433', '127.0.0.1'), ('0x7f.0.0.1', '127.0.0.1'),
    ('10.0.0.0/8', '10.0.0.1'), ('192.0.2.7/32', '192.0.2.7'), ('fe80::/64', 'fe80::1'),
    ('10.0.0.1/8', None), ('*', None), ('host.example.com', None),
])
def test_address_in_cidr_reads_elements_as_sshd(element, address):
    # an address the element covers, read as sshd's addr_pton_cidr reads it (inet_aton forms too)
    assert sshd_rules.address_in_cidr(element) == address
    if address is not None:
        assert sshd_rules.addr_match_list(address, element) == 1
