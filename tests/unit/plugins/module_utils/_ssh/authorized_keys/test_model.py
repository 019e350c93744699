# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sshd-compatible authorized_keys parser and the lossless file model."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    KeyOption,
    ParsedLine,
    WantedKey,
    advance_past_options,
    apply_edits,
    options_identity,
    parse_key_text,
    parse_options,
    render_options,
    validate_option_values,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

ALL_TYPES = [
    'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-ed25519',
    'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ssh-ed25519@openssh.com',
    'ssh-rsa-cert-v01@openssh.com', 'ssh-dss-cert-v01@openssh.com',
    'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
    'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'ssh-ed25519-cert-v01@openssh.com',
    'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com',
]


def key_line(keyset, key_type):
    if key_type not in keyset.lines:
        pytest.skip('ssh-keygen cannot make %s keys here' % key_type)
    return keyset.lines[key_type]


def parse_one(text):
    return ParsedLine(text[:-1] if text.endswith('\n') else text)


# --------------------------------------------------------------------------- key types

@pytest.mark.parametrize('key_type', ALL_TYPES)
@pytest.mark.parametrize('form', ['plain', 'no comment', 'options', 'indented', 'tabs', 'crlf',
                                  'comment with spaces', 'quoted spaces'])
def test_every_key_type_in_every_form(keyset, key_type, form):
    line = key_line(keyset, key_type)
    key_type_text, b64, comment = line.split(' ', 2)
    expected_comment = comment
    expected_options = []
    if form == 'no comment':
        text, expected_comment = '%s %s' % (key_type_text, b64), ''
    elif form == 'options':
        text = 'restrict,from="10.0.0.0/8,192.168.1.*",command="echo \\"hi, there\\"" ' + line
        expected_options = [('restrict', None), ('from', '10.0.0.0/8,192.168.1.*'),
                            ('command', 'echo "hi, there"')]
    elif form == 'indented':
        text = '  \t ' + line
    elif form == 'tabs':
        text = '%s\t%s\t\t%s' % (key_type_text, b64, comment)
    elif form == 'crlf':
        text = line + '\r'
    elif form == 'comment with spaces':
        text, expected_comment = line + ' and more  words', comment + ' and more  words'
    elif form == 'quoted spaces':
        text = 'environment="A=b c",no-pty ' + line
        expected_options = [('environment', 'A=b c'), ('no-pty', None)]
    else:
        text = line
    parsed = parse_one(text + '\n')
    assert parsed.kind == 'key', parsed
    assert parsed.key.key_type == key_type
    assert parsed.key.blob == base64.b64decode(b64)
    assert parsed.comment == expected_comment
    assert options_identity(parsed.options) == tuple(expected_options)
    assert parsed.options_error is None


def test_fingerprints_agree_with_ssh_keygen(keyset, tmp_path, keygen_fingerprints):
    """ssh-keygen -l reads authorized_keys lines (options included) like sshd does."""
    lines = []
    for index, key_type in enumerate(sorted(keyset.lines)):
        line = keyset.lines[key_type]
        if index % 3 == 1:
            line = 'no-pty,command="a \\" b, c" ' + line
        elif index % 3 == 2:
            line = '  cert-authority,principals="alice,bob" ' + line
        lines.append(line)
    lines[3:3] = ['# a comment', '', 'not a key at all', 'ssh-ed25519 AAAA broken']
    path = tmp_path / 'authorized_keys'
    path.write_text('\n'.join(lines) + '\n')
    model = AuthorizedKeys.parse(path.read_bytes())
    ours = [line.key.fingerprint_sha256 for line in model.key_lines()]
    assert ours == keygen_fingerprints(path)
    assert len(ours) == len(keyset.lines)


@pytest.mark.parametrize('alias, wire', [('rsa-sha2-256', 'ssh-rsa'), ('rsa-sha2-512', 'ssh-rsa')])
def test_signature_names_are_the_same_key(keyset, alias, wire):
    line = keyset.lines[wire]
    aliased = parse_one(alias + line[len(wire):])
    plain = parse_one(line)
    assert aliased.kind == 'key'
    assert aliased.identity == plain.identity
    cert = keyset.lines['ssh-rsa-cert-v01@openssh.com']
    aliased_cert = parse_one(alias + '-cert-v01@openssh.com' + cert[len('ssh-rsa-cert-v01@openssh.com'):])
    assert aliased_cert.identity == parse_one(cert).identity


@pytest.mark.parametrize('text, kind', [
    ('', 'blank'),
    ('   \t', 'blank'),
    ('\r', 'blank'),
    ('# comment', 'comment'),
    ('   # indented comment ssh-ed25519 AAAA', 'comment'),
    ('garbage', 'invalid'),
    ('RSA AAAAB3NzaC1yc2E', 'invalid'),
    ('ssh-ed25519', 'invalid'),
    ('ssh-ed25519 ', 'invalid'),
    ('ssh-ed25519 !!notbase64!!', 'invalid'),
    ('ssh-foo@example.com AAAAFnNzaC1mb29AZXhhbXBsZS5jb20=', 'invalid'),
])
def test_non_key_lines(text, kind):
    assert parse_one(text).kind == kind


def test_blob_of_another_type_is_not_a_key(keyset):
    b64 = keyset.lines['ssh-ed25519'].split()[1]
    assert parse_one('ssh-rsa %s c' % b64).kind == 'invalid'
    assert parse_one('ecdsa-sha2-nistp384 %s' % keyset.lines['ecdsa-sha2-nistp256'].split()[1]).kind == 'invalid'


def test_unterminated_quote_is_invalid(keyset):
    assert parse_one('command="oops %s' % keyset.lines['ssh-ed25519']).kind == 'invalid'


def test_bad_options_still_identify_the_key(keyset):
    parsed = parse_one('frobnicate,no-pty ' + keyset.lines['ssh-ed25519'])
    assert parsed.kind == 'key'
    assert parsed.options is None
    assert 'unknown key option' in parsed.options_error


def test_space_after_comma_is_not_an_option_for_sshd(keyset):
    # sshd stops the options at the space: "no-pty," is the options, "from=..." is
    # not a key type, so the line holds no key sshd would use.
    parsed = parse_one('no-pty, from="1.2.3.4" ' + keyset.lines['ssh-ed25519'])
    assert parsed.kind == 'invalid'


# --------------------------------------------------------------------------- options

@pytest.mark.parametrize('text, expected', [
    ('no-pty', [('no-pty', None)]),
    ('restrict,pty', [('restrict', None), ('pty', None)]),
    ('cert-authority', [('cert-authority', None)]),
    ('no-touch-required,verify-required', [('no-touch-required', None), ('verify-required', None)]),
    ('NO-X11-Forwarding,no-agent-forwarding,no-port-forwarding,no-user-rc,x11-forwarding',
     [('no-x11-forwarding', None), ('no-agent-forwarding', None), ('no-port-forwarding', None),
      ('no-user-rc', None), ('x11-forwarding', None)]),
    ('from="10.0.0.0/8,!10.1.0.0/16"', [('from', '10.0.0.0/8,!10.1.0.0/16')]),
    ('command="echo a, b c"', [('command', 'echo a, b c')]),
    ('command="echo \\"quoted\\""', [('command', 'echo "quoted"')]),
    ('command="a\\b"', [('command', 'a\\b')]),
    ('environment="A=b c",environment="PATH=/x:/y"', [('environment', 'A=b c'), ('environment', 'PATH=/x:/y')]),
    ('permitopen="localhost:22",permitopen="[::1]:*"', [('permitopen', 'localhost:22'), ('permitopen', '[::1]:*')]),
    ('permitlisten="8080",permitlisten="localhost:1"', [('permitlisten', '8080'), ('permitlisten', 'localhost:1')]),
    # sshd skips empty elements and takes TCP service names as ports
    ('no-pty,,no-pty', [('no-pty', None), ('no-pty', None)]),
    (',pty', [('pty', None)]),
    # as sshd reads them in a line (followed by the blank before the key)
    ('no-pty,', [('no-pty', None)]),
    ('no-pty,,', [('no-pty', None)]),
    (',,,', []),
    ('permitopen="host:http"', [('permitopen', 'host:http')]),
    ('touch-required,no-verify-required', [('touch-required', None), ('no-verify-required', None)]),
    ('principals="alice,bob"', [('principals', 'alice,bob')]),
    ('expiry-time="20301231",expiry-time="203012312359Z"',
     [('expiry-time', '20301231'), ('expiry-time', '203012312359Z')]),
    ('tunnel="0"', [('tunnel', '0')]),
    ('Command="x"', [('command', 'x')]),
])
def test_option_forms(text, expected):
    options = parse_options(text)
    assert list(options_identity(options)) == expected
    # rendering gives text sshd reads back the same way
    assert options_identity(parse_options(render_options(options))) == options_identity(options)


@pytest.mark.parametrize('text, message', [
    ('frobnicate', 'unknown key option'),
    ('no-restrict', 'unknown key option'),
    ('no-pty="x"', 'does not take a value'),
    ('command=ls', 'missing start quote'),
    ('command', 'needs a value'),
    ('command="ls', 'missing end quote'),
    ('command="a",command="b"', 'multiple "command"'),
    ('from="a",from="b"', 'multiple "from"'),
    ('principals="a",principals="b"', 'multiple "principals"'),
    ('no-pty, no-agent-forwarding', 'white space'),
    ('environment="A b=c"', 'environment'),
    ('environment="novalue"', 'environment'),
    ('expiry-time="tomorrow"', 'expiry-time'),
    ('tunnel="tun0"', 'tunnel'),
    ('permitopen="localhost"', 'permitopen'),
    ('permitlisten="localhost:0"', 'permitlisten'),
    ('environment="=x"', 'environment'),
    ('tunnel="\u0661"', 'tunnel'),
    ('permitlisten="99999"', 'permitlisten'),
    ('no-pty\nrestrict', 'single line'),
])
def test_bad_options(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_options(text)


@pytest.mark.parametrize('text, message', [
    ('from=""', 'invalid criterion'),
    ('from="10.0.0.1/8"', 'invalid criterion'),
    ('from="a,,b"', 'invalid criterion'),
    ('principals="alice"', 'only allowed with cert-authority'),
    ('expiry-time="20010101"', 'in the past'),
    ('cert-authority,principals=""', 'names no principal'),
    ('cert-authority,principals=",alice"', 'names no principal'),
])
def test_options_sshd_always_refuses(text, message):
    # sshd parses these, then refuses every login through the line
    options = parse_options(text)
    with pytest.raises(InvalidInput, match=message):
        validate_option_values(options)


def test_principals_with_cert_authority_is_fine():
    validate_option_values(parse_options('cert-authority,principals="alice"'))


def test_lenient_options_drop_spaces_after_commas():
    options = parse_options('  no-pty ,  from="1.2.3.4, 5.6.7.8",\trestrict ', lenient=True)
    assert render_options(options) == 'no-pty,from="1.2.3.4, 5.6.7.8",restrict'


def test_semantic_option_comparison():
    a = parse_options('No-Pty,command="echo \\"x\\""')
    b = parse_options('no-pty,COMMAND="echo \\"x\\""')
    assert options_identity(a) == options_identity(b)
    assert options_identity(parse_options('restrict,pty')) != options_identity(parse_options('pty,restrict'))


def test_value_ending_with_backslash_cannot_be_written():
    with pytest.raises(InvalidInput, match='backslash'):
        validate_option_values([KeyOption('command', 'echo \\')])


@pytest.mark.parametrize('text, end', [
    ('no-pty ssh-rsa', 6),
    ('command="a b" ssh-rsa', 13),
    ('command="a \\" b" x', 16),
    ('a\tb', 1),
    ('command="never closed', None),
])
def test_advance_past_options(text, end):
    assert advance_past_options(text) == end


_VALUE_CHARS = st.characters(blacklist_characters='\n\r\0', blacklist_categories=('Cs',))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['command', 'from', 'environment', 'principals']),
                          st.text(_VALUE_CHARS, min_size=1, max_size=30)), max_size=4))
def test_rendered_values_read_back_the_same(pairs):
    options = []
    used = set()
    for name, value in pairs:
        if name in used and name != 'environment':
            continue
        if name == 'environment':
            value = 'V=' + value
        if value.endswith('\\'):
            value += 'x'
        used.add(name)
        options.append(KeyOption(name, value))
    rendered = render_options(options)
    assert advance_past_options(rendered) == len(rendered)
    assert options_identity(parse_options(rendered)) == options_identity(options)


# --------------------------------------------------------------------------- file model

@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_round_trip(data):
    assert AuthorizedKeys.parse(data).render() == data


def _reference_kinds(data):
    """(number, kind) of every line, read one by one as sshd reads them."""
    text = data.decode('utf-8', 'surrogateescape')
    pieces = text.split('\n')
    if pieces[-1] == '':
        pieces.pop()
    return [(number, ParsedLine(piece, '\n', number).kind) for number, piece in enumerate(pieces, 1)]


_LINE_PIECES = [b'', b' ', b'\t', b'#', b'\r', b'\x00', b'x', b'\xff', b'ssh-ed25519 ', b'no-pty ',
                b'command="a b" ', b'AAAA', b'\n', b'\n', b'\n']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINE_PIECES + ['KEY']), max_size=40))
def test_runs_of_lines_read_as_line_by_line(keyset, pieces):
    """The model's key lines and invalid lines are those of a line-by-line read."""
    key = keyset.lines['ssh-ed25519'].encode()
    data = b''.join(key if piece == 'KEY' else piece for piece in pieces)
    model = AuthorizedKeys.parse(data)
    assert model.render() == data
    reference = _reference_kinds(data)
    assert [(line.number, line.kind) for line in model.key_lines()] == [r for r in reference if r[1] == 'key']
    invalid = [number for number, kind in reference if kind == 'invalid']
    assert model.invalid_lines(1000) == (invalid, len(invalid))
    assert model.invalid_lines(2) == (invalid[:2], len(invalid))


def test_many_blank_lines_are_one_object():
    data = b'\n' * 100000 + b'# c\n' * 1000 + b'x\n'
    model = AuthorizedKeys.parse(data)
    assert len(model.lines) == 1 and model.render() == data
    assert model.invalid_lines(5) == ([101001], 1)


def _sample_file(keyset):
    return b''.join([
        b'# managed elsewhere\r\n',
        b'\n',
        keyset.lines['ssh-rsa'].encode() + b'\n',
        b'   \t# indented comment\n',
        b'this line \xff\xfe is not utf-8 and not a key\n',
        b'no-pty,from="10.0.0.1" ' + keyset.lines['ssh-ed25519'].encode() + b' extra  spaces\r\n',
        b'command="unterminated ' + keyset.lines['ecdsa-sha2-nistp256'].encode() + b'\n',
        keyset.lines['ecdsa-sha2-nistp384'].encode(),   # no final newline
    ])


def _wanted(line, options='', comment=None):
    if '-cert-v01@' in line.split()[0]:
        # a task cannot name a certificate; the file model still handles its lines
        key, line_options = PublicKey.from_line(line), []
    else:
        key, line_options = parse_key_text(line, 'test key')
    return WantedKey(key, parse_options(options) if options is not None else line_options, comment, 'test key')


def test_unmanaged_lines_survive_byte_for_byte(keyset):
    data = _sample_file(keyset)
    model = AuthorizedKeys.parse(data)
    assert model.render() == data
    # runs of lines without a key are kept as one piece each
    kinds = [line.kind for line in model.lines]
    assert kinds == ['lines', 'key', 'lines', 'key', 'lines', 'key']
    assert [line.number for line in model.key_lines()] == [3, 6, 8]
    assert model.invalid_lines(10) == ([5, 7], 2)
    assert model.invalid_lines(1) == ([5], 2)
    # update the ed25519 key's options in place, remove rsa, add a new key
    new_line = keyset.make()
    result = apply_edits(model, [_wanted(keyset.lines['ssh-ed25519'], 'restrict', comment='')], 'present')
    assert [c.action for c in result.changes] == ['updated']
    apply_edits(model, [_wanted(keyset.lines['ssh-rsa'])], 'absent')
    apply_edits(model, [_wanted(new_line)], 'present')
    out = model.render().split(b'\n')
    original = data.split(b'\n')
    assert out[0] == original[0] and out[1] == original[1]
    assert out[2:4] == original[3:5]                    # rsa line gone, the rest untouched
    assert out[4] == b'restrict ' + keyset.lines['ssh-ed25519'].rsplit(' ', 1)[0].encode() + b'\r'
    assert out[5] == original[6]
    assert out[6] == original[7]                        # the old last line got a newline...
    assert out[7] == new_line.encode() and out[8] == b''  # ...and the new key ends with one


def test_missing_final_newline_kept_when_last_line_is_edited(keyset):
    line = keyset.lines['ssh-ed25519']
    model = AuthorizedKeys.parse(('# x\n' + line).encode())
    apply_edits(model, [_wanted(line, 'no-pty')], 'present')
    assert model.render() == ('# x\nno-pty ' + line).encode()


def test_present_twice_is_unchanged(keyset):
    model = AuthorizedKeys.parse(b'')
    wanted = [_wanted(keyset.lines['ssh-ed25519'], 'from="1.2.3.4",no-pty'), _wanted(keyset.lines['ssh-rsa'])]
    first = apply_edits(model, wanted, 'present')
    assert [c.action for c in first.changes] == ['added', 'added']
    data = model.render()
    again = AuthorizedKeys.parse(data)
    second = apply_edits(again, wanted, 'present')
    assert [c.action for c in second.changes] == ['unchanged', 'unchanged']
    assert again.render() == data


def test_same_options_written_differently_are_unchanged(keyset):
    line = keyset.lines['ssh-ed25519']
    key_type, b64, comment = line.split(' ', 2)
    data = ('NO-PTY,Command="echo \\"x\\""\t%s   %s  %s\n' % (key_type, b64, comment)).encode()
    model = AuthorizedKeys.parse(data)
    result = apply_edits(model, [_wanted(line, 'no-pty,command="echo \\"x\\""')], 'present')
    assert [c.action for c in result.changes] == ['unchanged']
    assert model.render() == data


def test_comment_change_updates_in_place(keyset):
    line = keyset.lines['ssh-ed25519']
    model = AuthorizedKeys.parse(('# a\n%s\n# b\n' % line).encode())
    result = apply_edits(model, [_wanted(line, comment='new comment')], 'present')
    assert [c.action for c in result.changes] == ['updated']
    assert model.render().decode().split('\n')[1].endswith(' new comment')


def test_duplicates_rule(keyset):
    ed, rsa, other = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa'], keyset.lines['ecdsa-sha2-nistp256']
    data = '\n'.join([ed, 'from="10.0.0.1" ' + ed, other, rsa, other, ed]) + '\n'
    # present: the first copy of a named key is managed, later copies go; others' copies stay
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [_wanted(ed, 'from="10.0.0.1"')], 'present')
    assert [c.action for c in result.changes] == ['updated']
    assert result.duplicates == [
        {'fingerprint': parse_one(ed).key.fingerprint_sha256, 'type': 'ssh-ed25519', 'lines': [1, 2, 6],
         'action': 'removed duplicates'},
        {'fingerprint': parse_one(other).key.fingerprint_sha256, 'type': 'ecdsa-sha2-nistp256',
         'lines': [3, 5], 'action': 'kept'},
    ]
    assert model.render().decode() == '\n'.join(['from="10.0.0.1" ' + ed, other, rsa, other]) + '\n'
    # absent removes every copy
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [_wanted(ed)], 'absent')
    assert [c.action for c in result.changes] == ['removed']
    assert model.render().decode() == '\n'.join([other, rsa, other]) + '\n'
    # exclusive keeps one line per named key and nothing else
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [_wanted(other)], 'present', exclusive=True)
    assert [(c.action, c.given) for c in result.changes] == [
        ('updated', True), ('removed', False), ('removed', False)]
    assert result.duplicates[0]['action'] == 'removed'
    assert model.render().decode() == other + '\n'


def test_exclusive_keeps_comments_and_invalid_lines(keyset):
    data = _sample_file(keyset)
    model = AuthorizedKeys.parse(data)
    apply_edits(model, [], 'present', exclusive=True)
    assert model.render() == (b'# managed elsewhere\r\n\n   \t# indented comment\n'
                              b'this line \xff\xfe is not utf-8 and not a key\n'
                              b'command="unterminated ' + keyset.lines['ecdsa-sha2-nistp256'].encode() + b'\n')


def test_certificate_and_its_key_are_different_keys(keyset):
    plain, cert = keyset.lines['ssh-ed25519'], keyset.lines['ssh-ed25519-cert-v01@openssh.com']
    model = AuthorizedKeys.parse((plain + '\n' + cert + '\n').encode())
    assert model.duplicates() == []
    apply_edits(model, [_wanted(cert)], 'absent')
    assert model.render() == (plain + '\n').encode()


# --------------------------------------------------------------------------- keys given by a task

@pytest.mark.parametrize('key_type', ALL_TYPES)
def test_task_keys_of_every_type(keyset, key_type):
    line = key_line(keyset, key_type)
    if key_type.endswith('-cert-v01@openssh.com'):
        # sshd never uses a certificate line for a login: a task naming one is an error
        with pytest.raises(InvalidInput, match='is a certificate'):
            parse_key_text(line, 'key #1')
        return
    key, options = parse_key_text(line, 'key #1')
    assert key.key_type == key_type and options == []
    key, options = parse_key_text('restrict,command="x y" ' + line, 'key #1')
    assert key.key_type == key_type and render_options(options) == 'restrict,command="x y"'


@pytest.mark.parametrize('text, message', [
    ('', 'is empty'),
    ('garbage', 'is not a public key'),
    ('ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQC', 'ssh-foo is not a key type sshd accepts'),
    ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', 'not valid base64'),
    ('frobnicate ssh-ed25519 AAAA', 'bad key options: unknown key option frobnicate'),
    ('command="x ssh-ed25519 AAAA', 'unterminated double quote'),
    ('no-pty sshfoo AAAA', 'sshfoo is not a key type'),
    ('-----BEGIN OPENSSH PRIVATE KEY-----', 'looks like a private key'),
])
def test_task_key_errors_name_the_key(text, message):
    with pytest.raises(InvalidInput, match=message) as info:
        parse_key_text(text, 'key #3')
    assert 'key #3' in info.value.msg


def test_task_key_error_shows_no_whole_key(keyset):
    b64 = keyset.lines['ssh-ed25519'].split()[1]
    with pytest.raises(InvalidInput, match='not ssh-rsa') as info:
        parse_key_text('ssh-rsa ' + b64, 'key #1')
    assert b64 not in info.value.msg
    assert b64[:16] in info.value.msg


def test_parsed_line_reprs_are_short(keyset):
    assert keyset.lines['ssh-rsa'].split()[1] not in repr(ParsedLine(keyset.lines['ssh-rsa']))


def test_public_key_from_parser_is_the_keys_module_key(keyset):
    line = keyset.lines['ssh-ed25519']
    assert parse_one(line).key.same_key(PublicKey.from_line(line))


def test_removed_key_with_non_utf8_comment_reports_text(keyset):
    line = keyset.lines['ssh-ed25519'].rsplit(' ', 1)[0].encode() + b' caf\xe9\n'
    model = AuthorizedKeys.parse(line)
    result = apply_edits(model, [], 'present', exclusive=True)
    assert result.changes[0].as_dict()['comment'] == 'caf\ufffd'
    assert model.render() == b''


# --------------------------------------------------------------------------- files of many key lines (issue 27)

def _ed25519(index):
    blob = b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + index.to_bytes(32, 'big')
    return 'ssh-ed25519 %s k%d' % (base64.b64encode(blob).decode(), index)


def test_key_lines_as_read_are_kept_compact_and_render_byte_for_byte():
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import model as model_module
    text = '# head\n%s\n%s\r\n\n%s\nx y\n%s' % (_ed25519(1), _ed25519(2), _ed25519(1), 'no-pty ' + _ed25519(3))
    model = AuthorizedKeys.parse(text.encode())
    keys = model.key_lines()
    assert all(isinstance(line, model_module.KeyLineRef) for line in keys)
    assert [line.number for line in keys] == [2, 3, 5, 7]
    assert [line.eol for line in keys] == ['\n', '\n', '\n', '']
    assert keys[1].raw == _ed25519(2) + '\r'
    assert keys[3].options_text == 'no-pty' and keys[3].key.comment == 'k3'
    # the digest stands for the identity a full parse gives
    for line in keys:
        assert line.digest == parse_one(line.raw).digest
        assert line.identity == parse_one(line.raw).identity
    assert keys[0].digest == keys[2].digest != keys[1].digest
    assert model.render() == text.encode()
    assert [(first.number, [line.number for line in lines]) for first, lines in model.duplicates()] == [(2, [2, 5])]


def test_edits_of_key_lines_as_read():
    text = ''.join('%s\n' % _ed25519(index) for index in range(6))
    model = AuthorizedKeys.parse(text.encode())
    result = apply_edits(model, [_wanted(_ed25519(2), 'no-pty'), _wanted(_ed25519(4)), _wanted(_ed25519(9))],
                         'present', exclusive=True)
    assert [(c.action, c.given) for c in result.changes] == [
        ('updated', True), ('unchanged', True), ('added', True),
        ('removed', False), ('removed', False), ('removed', False), ('removed', False)]
    assert model.render().decode() == 'no-pty %s\n%s\n%s\n' % (_ed25519(2), _ed25519(4), _ed25519(9))
    # a line replaced and then removed, and a line replaced twice, before the list is rebuilt
    model = AuthorizedKeys.parse(text.encode())
    first, second = model.key_lines()[:2]
    new = model.replace(first, _ed25519(7))
    model.remove(new)
    again = model.replace(model.replace(second, _ed25519(8)), _ed25519(9))
    assert again.raw == _ed25519(9)
    assert model.render().decode() == ''.join('%s\n' % _ed25519(index) for index in (9, 2, 3, 4, 5))
    # a line removed between two kept ones
    model = AuthorizedKeys.parse(text.encode())
    apply_edits(model, [_wanted(_ed25519(3))], 'absent')
    assert model.render().decode() == ''.join('%s\n' % _ed25519(index) for index in (0, 1, 2, 4, 5))
    # a file whose last key line has no newline gets one before an appended line
    model = AuthorizedKeys.parse(_ed25519(1).encode())
    apply_edits(model, [_wanted(_ed25519(2))], 'present')
    assert model.render().decode() == '%s\n%s\n' % (_ed25519(1), _ed25519(2))


def test_results_of_huge_edits_are_bounded_and_say_so(monkeypatch):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import model as model_module
    monkeypatch.setattr(model_module, 'MAX_LISTED_CHANGES', 3)
    monkeypatch.setattr(model_module, 'MAX_LISTED_DUPLICATES', 2)
    monkeypatch.setattr(model_module, 'MAX_DUPLICATE_LINES', 4)
    lines = [_ed25519(index) for index in range(10)] + [_ed25519(0)] * 5 + [_ed25519(1), _ed25519(2)]
    model = AuthorizedKeys.parse(('\n'.join(lines) + '\n').encode())
    result = apply_edits(model, [_wanted(_ed25519(99))], 'present', exclusive=True)
    assert [c.action for c in result.changes] == ['added', 'removed', 'removed', 'removed']
    assert result.unlisted == {'removed': 7} and result.changes_not_listed == 7
    assert result.counts() == {'added': 1, 'removed': 10}
    assert result.duplicates[0]['lines'] == [1, 11, 12, 13] and result.duplicates[0]['line_count'] == 6
    assert 'line_count' not in result.duplicates[1] and result.duplicates[1]['lines'] == [2, 16]
    assert len(result.duplicates) == 2 and result.duplicates_not_listed == 1
    assert model.render().decode() == _ed25519(99) + '\n'
