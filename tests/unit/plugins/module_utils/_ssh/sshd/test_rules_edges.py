# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Edges of the sshd rule port (rules.py) a mutation of one comparison would move:
expiry-time forms and the exact second, from= negation and families, principals,
pattern lists, RequiredRSASize and the certificate/CA checks. The values follow
OpenSSH 9.2 (tests/parity checks the port against sshd itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import calendar
import struct
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules

UTC_2030 = calendar.timegm((2030, 1, 1, 0, 0, 0, 0, 0, 0))


@pytest.fixture
def far_timezone(monkeypatch):
    """A local time five hours behind UTC, so that local and UTC readings differ."""
    monkeypatch.setenv('TZ', 'KMU+05')
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# --------------------------------------------------------------------------- expiry-time

@pytest.mark.parametrize('text', ['20300101Z', '20300101z', '20300101UTC', '20300101utc', '20300101Utc'])
@pytest.mark.usefixtures('far_timezone')
def test_expiry_time_utc_suffix_in_any_case(text):
    assert sshd_rules.parse_absolute_time(text) == UTC_2030


@pytest.mark.usefixtures('far_timezone')
def test_expiry_time_without_suffix_is_local_time():
    assert sshd_rules.parse_absolute_time('20300101') == UTC_2030 + 5 * 3600


@pytest.mark.parametrize('text', ['2030010112', '2030010112Z', '20301301', '20300001', '20300132Z', '20300100',
                                  '203001012400Z', '203001010060Z', '20300101000062Z', '2030010'])
def test_expiry_time_refused_forms(text):
    assert sshd_rules.parse_absolute_time(text) == 0
    with pytest.raises(sshd_rules.OptionsError, match='invalid expires time'):
        sshd_rules.parse_options('expiry-time="%s"' % text)


def test_expiry_time_is_exact_to_the_second():
    opts = sshd_rules.parse_options('expiry-time="20300101Z"')
    assert opts.valid_before == UTC_2030
    assert sshd_rules.refusal(opts, now=UTC_2030 - 3600) is None
    # sshd: refused when valid_before < now; the very second itself still logs in
    assert sshd_rules.refusal(opts, now=UTC_2030) is None
    assert sshd_rules.refusal(opts, now=UTC_2030 + 1) == 'expiry-time is in the past'


@pytest.mark.parametrize('text', ['expiry-time="20300101Z",expiry-time="20250101Z"',
                                  'expiry-time="20250101Z",expiry-time="20300101Z"'])
def test_the_earliest_expiry_time_holds(text):
    earliest = calendar.timegm((2025, 1, 1, 0, 0, 0, 0, 0, 0))
    assert sshd_rules.parse_options(text).valid_before == earliest


# --------------------------------------------------------------------------- refusal of a line

def test_cert_authority_line_never_lets_the_ca_key_itself_in():
    opts = sshd_rules.parse_options('cert-authority')
    assert 'cert-authority' in sshd_rules.refusal(opts, '127.0.0.1', plain_key=True)
    assert sshd_rules.refusal(opts, '127.0.0.1', plain_key=False) is None


def test_principals_only_with_cert_authority():
    assert sshd_rules.refusal(sshd_rules.parse_options('principals="alice"')) == \
        'principals= is only allowed with cert-authority'
    assert sshd_rules.refusal(sshd_rules.parse_options('cert-authority,principals="alice"'), plain_key=False) is None


def test_principal_names_stop_at_an_empty_name_and_at_forty():
    assert sshd_rules.principal_names('alice,,bob') == ['alice']
    names = ['p%d' % n for n in range(45)]
    assert sshd_rules.principal_names(','.join(names)) == names[:sshd_rules.MAX_PROP]
    assert sshd_rules.MAX_PROP == 40


@pytest.mark.parametrize('patterns, allowed', [
    ('127.0.0.1', True), ('127.0.0.0/8', True), ('*', True),
    ('127.0.0.1/8', False),          # invalid criterion: sshd refuses
    ('!127.0.0.0/8,*', False),       # a negated network denies its clients
    ('!10.0.0.0/8,*', True),
    ('::/0', False), ('0.0.0.0/0', True),  # an IPv6 network never holds an IPv4 client
    ('10.0.0.0/8', False),
])
def test_from_for_a_client(patterns, allowed):
    opts = sshd_rules.parse_options('from="%s"' % patterns)
    reason = sshd_rules.refusal(opts, remote_ip='127.0.0.1')
    assert (reason is None) == allowed, reason


def test_from_with_a_bad_mask_is_invalid_for_every_client():
    opts = sshd_rules.parse_options('from="127.0.0.1/8"')
    assert sshd_rules.refusal(opts) == 'from= holds an invalid criterion'
    assert sshd_rules.match_host_and_ip('127.0.0.1', '127.0.0.1', '127.0.0.1/8') == -1


def test_pattern_lists_negation_and_case():
    assert not sshd_rules.algorithm_allowed('ssh-rsa', '!ssh-rsa,*')
    assert sshd_rules.algorithm_allowed('ssh-ed25519', '!ssh-rsa,*')
    assert sshd_rules.algorithm_allowed('ssh-ed25519', ['ssh-rsa', 'ssh-ed*'])
    # PubkeyAcceptedAlgorithms names are compared as written (match_pattern_list(..., 0))
    assert not sshd_rules.algorithm_allowed('ssh-ed25519', 'SSH-ED25519')


@pytest.mark.parametrize('text', ['environment="MY_VAR=x"', 'environment="_=1"', 'tunnel="0"', 'permitopen="h:1"'])
def test_options_sshd_accepts(text):
    sshd_rules.parse_options(text)


@pytest.mark.parametrize('text', ['command="a",command="b"', 'from="a",from="b"', 'principals="a",principals="b"',
                                  'tunnel="-1"', 'permitopen="h:0"', 'permitlisten="0"', 'environment="MY-VAR=x"'])
def test_options_sshd_refuses(text):
    with pytest.raises(sshd_rules.OptionsError):
        sshd_rules.parse_options(text)


@pytest.mark.parametrize('raw, kind', [('', 'blank'), ('\r', 'blank'), ('  \t', 'blank'), ('# x', 'comment'),
                                       ('  #x', 'comment'), ('x', 'invalid')])
def test_blank_and_comment_lines(raw, kind):
    assert sshd_rules.Line(raw).kind == kind


# --------------------------------------------------------------------------- keys and certificates

def test_certificate_blob_under_the_plain_type_name_is_invalid(keyset):
    cert = keyset.lines['ssh-ed25519-cert-v01@openssh.com']
    assert sshd_rules.read_key(cert) is not None
    assert sshd_rules.read_key('ssh-ed25519 ' + cert.split()[1]) is None
    assert sshd_rules.Line('ssh-ed25519 ' + cert.split()[1]).kind == 'invalid'


def test_a_line_authorizes_its_own_key_only(keyset):
    ed = sshd_rules.Line(keyset.lines['ssh-ed25519'])
    other = sshd_rules.Line(keyset.lines['ecdsa-sha2-nistp256'])
    assert ed.authorizes(ed.key.material, '127.0.0.1')
    assert not ed.authorizes(other.key.material, '127.0.0.1')


def test_rsa_key_of_1024_bits_is_read(keyset):
    found = sshd_rules.read_key(keyset.lines['ssh-rsa'])
    assert found is not None and found[0].bits == 1024


def test_required_rsa_size_boundary(keyset):
    line = sshd_rules.Line(keyset.lines['ssh-rsa'])
    assert sshd_rules.settings_refusals(line, required_rsa_size=1024) == []
    assert sshd_rules.settings_refusals(line, required_rsa_size=1025) == [
        'RSA key of 1024 bits is below RequiredRSASize 1025']
    assert sshd_rules.settings_refusals(line, required_rsa_size=2048)


def _ca_material(keyset):
    ca_line = (keyset.directory / 'ca.pub').read_text().strip()
    return ca_line, sshd_rules.Line(ca_line).key.material


def test_certificate_through_a_cert_authority_line(keyset):
    ca_line, ca = _ca_material(keyset)
    other = sshd_rules.Line(keyset.lines['ssh-ed25519']).key.material
    line = sshd_rules.Line('cert-authority ' + ca_line)
    # without principals=: the user's name must be one of the certificate's principals
    assert line.authorizes_certificate(ca, ['alice'], 'alice', '127.0.0.1')
    assert not line.authorizes_certificate(ca, ['alice'], 'bob', '127.0.0.1')
    assert not line.authorizes_certificate(other, ['alice'], 'alice', '127.0.0.1')
    # with principals=: one of its names must be among the certificate's
    listed = sshd_rules.Line('cert-authority,principals="carol,dave" ' + ca_line)
    assert listed.authorizes_certificate(ca, ['dave'], 'alice', '127.0.0.1')
    assert not listed.authorizes_certificate(ca, ['alice'], 'alice', '127.0.0.1')
    # a plain line of the CA key authorizes no certificate
    assert not sshd_rules.Line(ca_line).authorizes_certificate(ca, ['alice'], 'alice', '127.0.0.1')


def test_key_data_is_decoded_canonically(keyset):
    blob = base64.b64decode(keyset.lines['ssh-ed25519'].split()[1])
    assert sshd_rules.b64_pton(base64.b64encode(blob)) == blob
    # 'AB==' leaves non-zero bits past the last byte: sshd's b64_pton refuses it
    assert sshd_rules.b64_pton('AB==') is None
    assert sshd_rules.b64_pton('AAB=') is None


def test_a_nul_inside_the_type_name_of_the_key_data(keyset):
    blob = base64.b64decode(keyset.lines['ssh-ed25519'].split()[1])
    name_length = struct.unpack('>I', blob[:4])[0]
    rest = blob[4 + name_length:]
    for name, readable in ((b'ssh-ed25519\0x', False), (b'ssh-ed25519\0', True), (b'ssh-ed25519', True)):
        data = struct.pack('>I', len(name)) + name + rest
        found = sshd_rules.read_key('ssh-ed25519 ' + base64.b64encode(data).decode('ascii'))
        assert (found is not None) == readable, name


def test_option_repetition_limits_are_sshds_numbers():
    """auth-options.c: at most 1024 environment= names and 4096 permitopen=/permitlisten= each."""
    env = ','.join('environment="V%d=x"' % n for n in range(1025))
    sshd_rules.parse_options(env)
    with pytest.raises(sshd_rules.OptionsError, match='too many environment'):
        sshd_rules.parse_options(env + ',environment="LAST=x"')
    permits = ','.join(['permitlisten="1"'] * 4097)
    sshd_rules.parse_options(permits)
    with pytest.raises(sshd_rules.OptionsError, match='too many permission'):
        sshd_rules.parse_options(permits + ',permitlisten="1"')
