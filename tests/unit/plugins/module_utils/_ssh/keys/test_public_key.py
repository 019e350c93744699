# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PublicKey against the real ssh-keygen (keys are generated at test time)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import (
    PublicKey,
    fingerprint_md5,
    fingerprint_sha256,
    randomart,
)

try:
    from hypothesis import given, settings, strategies as st
    HAS_HYPOTHESIS = True
except ImportError:  # pragma: no cover
    HAS_HYPOTHESIS = False

SSH_KEYGEN = shutil.which('ssh-keygen')
needs_ssh_keygen = pytest.mark.skipif(not SSH_KEYGEN, reason='ssh-keygen not installed')


def _keygen(*args):
    return subprocess.run([SSH_KEYGEN] + list(args), check=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()


def _dsa_supported(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('dsa') / 'k')
    return subprocess.run([SSH_KEYGEN, '-q', '-t', 'dsa', '-N', '', '-f', path],
                          stdin=subprocess.DEVNULL, capture_output=True, check=False).returncode == 0


# (type, bits, label) ; several keys per type to exercise the randomart walk.
KEY_SPECS = [('ed25519', None, 'ED25519')] * 4 + [
    ('rsa', 1024, 'RSA'), ('rsa', 2048, 'RSA'), ('rsa', 3072, 'RSA'), ('rsa', 4096, 'RSA'),
    ('ecdsa', 256, 'ECDSA'), ('ecdsa', 384, 'ECDSA'), ('ecdsa', 521, 'ECDSA'), ('ecdsa', 256, 'ECDSA'),
    ('dsa', 1024, 'DSA'),
]


@pytest.fixture(scope='module')
def keyfiles(tmp_path_factory):
    """Public key files made by ssh-keygen plus certificates of some of them."""
    if not SSH_KEYGEN:
        pytest.skip('ssh-keygen not installed')
    base = tmp_path_factory.mktemp('keys')
    files = []
    dsa_ok = _dsa_supported(tmp_path_factory)
    for index, (key_type, bits, label) in enumerate(KEY_SPECS):
        if key_type == 'dsa' and not dsa_ok:
            continue
        path = str(base / ('k%d' % index))
        args = ['-q', '-t', key_type, '-N', '', '-C', 'user%d@host with space' % index, '-f', path]
        if bits:
            args += ['-b', str(bits)]
        _keygen(*args)
        files.append((path + '.pub', key_type, bits or 256, label))
    ca = str(base / 'ca')
    _keygen('-q', '-t', 'ed25519', '-N', '', '-f', ca)
    for path, key_type, bits, label in list(files):
        if key_type in ('ed25519', 'rsa', 'ecdsa', 'dsa') and bits in (256, 1024, 384, 2048):
            _keygen('-q', '-s', ca, '-I', 'id', '-n', 'user', path)
            cert = path[:-len('.pub')] + '-cert.pub'
            files.append((cert, key_type, bits, label + '-CERT'))
    return files


@needs_ssh_keygen
def test_against_ssh_keygen(keyfiles):
    assert len(keyfiles) > 15
    for path, key_type, bits, label in keyfiles:
        with open(path) as handle:
            line = handle.read()
        key = PublicKey.from_line(line)
        assert key.family == key_type
        assert key.size == bits
        assert key.type_label == label
        assert key.is_certificate == label.endswith('-CERT')
        assert key.comment == line.split(None, 2)[2].strip()
        assert key.to_line() == line.strip()
        out = _keygen('-lv', '-E', 'sha256', '-f', path).splitlines()
        head = out[0].split()
        assert head[0] == str(bits)
        assert head[1] == key.fingerprint_sha256
        assert head[-1] == '(%s)' % label
        assert '\n'.join(out[1:]) == key.randomart(), path
        out = _keygen('-lv', '-E', 'md5', '-f', path).splitlines()
        assert out[0].split()[1] == 'MD5:' + key.fingerprint_md5
        assert key.fingerprint('md5') == 'MD5:' + key.fingerprint_md5
        assert '\n'.join(out[1:]) == key.randomart('md5'), path


@needs_ssh_keygen
def test_certificate_fields(keyfiles):
    certs = [entry for entry in keyfiles if entry[3].endswith('-CERT')]
    assert certs
    for path, key_type, bits, label in certs:
        with open(path) as handle:
            cert = PublicKey.from_line(handle.read())
        with open(path.replace('-cert.pub', '.pub')) as handle:
            plain = PublicKey.from_line(handle.read())
        assert cert.key_type == plain.key_type.replace('@openssh.com', '') + '-cert-v01@openssh.com' \
            or cert.key_type == plain.key_type + '-cert-v01@openssh.com'
        assert cert.plain_key_type == plain.key_type
        assert cert.plain_blob == plain.blob
        assert cert.fingerprint_sha256 == plain.fingerprint_sha256
        assert not cert.same_key(plain)


def _s(data):
    if not isinstance(data, bytes):
        data = data.encode()
    return struct.pack('>I', len(data)) + data


def _line(key_type, blob, comment='c'):
    return '%s %s %s' % (key_type, base64.b64encode(blob).decode(), comment)


def _p256_point(tmp_path):
    # ssh-keygen checks that the point is on the curve: take one of a real key.
    path = str(tmp_path / 'p256')
    _keygen('-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', path)
    with open(path + '.pub') as handle:
        blob = base64.b64decode(handle.read().split()[1])
    point = blob[4 + 19 + 4 + 8 + 4:]
    assert len(point) == 65 and point[:1] == b'\x04'
    return point


def _sk_blobs(point):
    ed = _s('sk-ssh-ed25519@openssh.com') + _s(os.urandom(32)) + _s('ssh:')
    ec = _s('sk-ecdsa-sha2-nistp256@openssh.com') + _s('nistp256') + _s(point) + _s('ssh:test')
    return [('sk-ssh-ed25519@openssh.com', ed, 'sk-ed25519', 'ED25519-SK'),
            ('sk-ecdsa-sha2-nistp256@openssh.com', ec, 'sk-ecdsa', 'ECDSA-SK')]


@needs_ssh_keygen
@pytest.mark.parametrize('index', [0, 1])
def test_security_key_types(tmp_path, index):
    key_type, blob, family, label = _sk_blobs(_p256_point(tmp_path))[index]
    line = _line(key_type, blob, 'sk key')
    key = PublicKey.from_line(line)
    assert (key.family, key.size, key.type_label) == (family, 256, label)
    assert not key.is_certificate
    assert key.fingerprint_sha256 == fingerprint_sha256(blob)
    path = tmp_path / 'sk.pub'
    path.write_text(line + '\n')
    out = _keygen('-lv', '-E', 'sha256', '-f', str(path)).splitlines()
    assert out[0].split()[:2] == ['256', key.fingerprint_sha256]
    assert '\n'.join(out[1:]) == key.randomart()
    # A certificate of the security key, signed by a CA made here.
    ca = str(tmp_path / 'ca')
    _keygen('-q', '-t', 'ed25519', '-N', '', '-f', ca)
    _keygen('-q', '-s', ca, '-I', 'id', '-n', 'user', str(path))
    cert_path = tmp_path / 'sk-cert.pub'
    cert = PublicKey.from_line(cert_path.read_text())
    assert cert.is_certificate and cert.family == family and cert.size == 256
    assert cert.type_label == label + '-CERT'
    out = _keygen('-lv', '-E', 'sha256', '-f', str(cert_path)).splitlines()
    assert out[0].split()[1] == key.fingerprint_sha256
    assert '\n'.join(out[1:]) == cert.randomart()


ED_BLOB = _s('ssh-ed25519') + _s(b'\x02' * 32)


def test_unknown_type_refused():
    # sshd and ssh-keygen -l read no key of a type they do not know: neither does the model
    blob = _s('ssh-future@example.com') + _s(b'whatever') + b'\x00\x01'
    with pytest.raises(InvalidInput, match='ssh-future@examp... is not a key type sshd accepts'):
        PublicKey.from_line(_line('ssh-future@example.com', blob))
    with pytest.raises(InvalidInput, match='unknown key type inside the key data'):
        PublicKey.from_blob('ssh-future@example.com', blob)


def test_blob_of_another_type_refused():
    # the type a blob is given under must be the blob's own (a name sshd reads for it)
    with pytest.raises(InvalidInput, match='the key data is of type ssh-ed25519'):
        PublicKey.from_blob('ssh-rsa', ED_BLOB)
    with pytest.raises(InvalidInput, match='the key data is of type ssh-ed25519'):
        PublicKey.from_blob('ssh-ed25519-cert-v01@openssh.com', ED_BLOB)
    assert PublicKey.from_blob('ssh-ed25519', ED_BLOB).key_type == 'ssh-ed25519'


def test_module_functions_and_comparison():
    blob = _s('ssh-ed25519') + _s(b'\x01' * 32)
    a = PublicKey.from_blob('ssh-ed25519', blob, 'a')
    b = PublicKey.from_line(_line('ssh-ed25519', blob, 'b  two words '))
    assert b.comment == 'b  two words'
    assert a.same_key(b) and a != b
    assert a == PublicKey.from_line(a.to_line())
    assert a.to_line(comment='') == 'ssh-ed25519 ' + base64.b64encode(blob).decode()
    assert a.fingerprint_md5 == fingerprint_md5(blob)
    assert len(a.fingerprint_md5.split(':')) == 16
    assert a.randomart() == randomart(blob, 'ED25519', 256)
    art = a.randomart().splitlines()
    assert art[0] == '+--[ED25519 256]--+' and art[-1] == '+----[SHA256]-----+'
    assert len(art) == 11 and all(len(row) == 19 for row in art)
    assert 'S' in ''.join(art) and 'E' in ''.join(art[1:-1])
    assert len({a, PublicKey.from_line(a.to_line())}) == 1


def test_randomart_title_rules():
    blob = b'x'
    assert randomart(blob, 'RSA', 4096).splitlines()[0] == '+---[RSA 4096]----+'
    assert randomart(blob, 'ECDSA', 256).splitlines()[0] == '+---[ECDSA 256]---+'
    assert randomart(blob, 'DSA', 1024).splitlines()[0] == '+---[DSA 1024]----+'
    # Too long for "[type size]": falls back to "[type]", truncated to 16 characters.
    assert randomart(blob, 'ED25519-CERT', 256).splitlines()[0] == '+-[ED25519-CERT]--+'
    assert randomart(blob, 'ED25519-SK-CERT', 256).splitlines()[0] == '+[ED25519-SK-CERT-+'
    assert randomart(blob, 'ED25519', 256, digest='md5').splitlines()[-1] == '+------[MD5]------+'


@pytest.mark.parametrize('line, fragment', [
    ('', 'empty'),
    ('   \n', 'empty'),
    ('ssh-ed25519', 'type base64'),
    ('ssh-ed25519 AAAA!!!!', 'base64'),
    ('ssh-ed25519 ' + base64.b64encode(ED_BLOB).decode()[:-2], 'base64'),
    ('ssh-rsa ' + base64.b64encode(ED_BLOB).decode(), 'of type ssh-ed25519, not ssh-rsa'),
    ('ssh-ed25519 ' + base64.b64encode(ED_BLOB[:-5]).decode(), 'truncated'),
    ('ssh-ed25519 ' + base64.b64encode(ED_BLOB + b'junk').decode(), 'trailing data'),
    ('ssh-ed25519 ' + base64.b64encode(_s('ssh-ed25519') + _s(b'\x02' * 31)).decode(), '31 bytes'),
    ('ecdsa-sha2-nistp256 ' + base64.b64encode(
        _s('ecdsa-sha2-nistp256') + _s('nistp384') + _s(b'\x04' * 65)).decode(), 'curve'),
    ('ssh-ed25519 ' + base64.b64encode(b'\x00\x00').decode(), 'truncated'),
    ('ssh-ed25519 AAAA\nssh-ed25519 AAAA', 'single line'),
    ('ssh-ed25519-cert-v01@openssh.com ' + base64.b64encode(
        _s('ssh-ed25519-cert-v01@openssh.com') + _s(b'n' * 32) + _s(b'\x02' * 32)).decode(), 'truncated'),
])
def test_invalid_lines(line, fragment):
    with pytest.raises(InvalidInput) as info:
        PublicKey.from_line(line)
    message = info.value.msg
    assert fragment in message
    parts = line.split()
    if len(parts) > 1 and len(parts[1]) > 20:
        assert parts[1] not in message
        assert parts[1][:21] not in message


def test_long_key_never_echoed():
    blob = _s('ssh-rsa') + _s(b'\x01\x00\x01') + _s(b'\x00' + os.urandom(512)) + b'trailing'
    b64 = base64.b64encode(blob).decode()
    with pytest.raises(InvalidInput) as info:
        PublicKey.from_line('ssh-rsa %s comment' % b64)
    assert b64[:21] not in str(info.value)
    assert len(str(info.value)) < 200


if HAS_HYPOTHESIS:
    @settings(max_examples=300, deadline=None)
    @given(st.one_of(
        st.text(),
        st.binary(),
        st.builds(lambda t, b, c: '%s %s %s' % (t, base64.b64encode(b).decode(), c),
                  st.sampled_from(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'x', 'sk-ssh-ed25519@openssh.com',
                                   'ssh-rsa-cert-v01@openssh.com']),
                  st.binary(max_size=200), st.text(max_size=10)),
        st.builds(lambda t, tail: '%s %s' % (t, base64.b64encode(_s(t) + tail).decode()),
                  st.sampled_from(['ssh-ed25519', 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp521',
                                   'sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-ed25519-cert-v01@openssh.com']),
                  st.binary(max_size=300)),
    ))
    def test_from_line_only_raises_invalid_input(text):
        try:
            key = PublicKey.from_line(text)
        except InvalidInput:
            return
        assert key.fingerprint_sha256.startswith('SHA256:')
        assert key.randomart()
        assert PublicKey.from_line(key.to_line()).same_key(key)
