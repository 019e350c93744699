# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One reader of key text (issue 28): the same texts fed to every module's way of
reading a key - ssh_authkey's key, ssh_genkey's public_key, keypair's public_key,
ssh_key_info's .pub files, provision's items, the audit's keys - are accepted or
refused alike, with the same explanation, the same key (sshd's key material)
and the fingerprint the real ``ssh-keygen -l`` prints.

Before: ``rsa-sha2-512 AAAA...`` was a key for ssh_authkey and "of type ssh-rsa,
not rsa-sha2-512" for ssh_genkey and keypair, and ``same_key`` compared bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import pwd
import struct
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import managed_fingerprints
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import (
    AuthKeySpec,
    SshAuthKey,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import KeypairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import (
    PublicKey,
    key_text_error,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

ME = pwd.getpwuid(os.geteuid()).pw_name


def _string(data):
    if not isinstance(data, bytes):
        data = data.encode('ascii')
    return struct.pack('>I', len(data)) + data


def _b64(line):
    return line.split()[1]


def _padded(line):
    """The RSA key of ``line`` with zero bytes before its exponent (sshd reads the same key)."""
    blob = base64.b64decode(_b64(line))
    return _string('ssh-rsa') + _string(b'\x00\x00' + blob[15:18]) + blob[18:]


_SMALL_RSA = _string('ssh-rsa') + _string(b'\x01\x00\x01') + _string(b'\x00' + b'\xc3' * 120)

# (name, what sshd reads: 'key', 'certificate', 'options' or 'refused', the text from the keyset's lines)
CASES = [
    ('ssh-rsa', 'key', lambda k: k['ssh-rsa']),
    ('rsa-sha2-512 name', 'key', lambda k: 'rsa-sha2-512 %s named' % _b64(k['ssh-rsa'])),
    ('rsa-sha2-256 name', 'key', lambda k: 'rsa-sha2-256 %s' % _b64(k['ssh-rsa'])),
    ('zero-padded numbers', 'key', lambda k: 'ssh-rsa %s padded' % base64.b64encode(_padded(k['ssh-rsa'])).decode()),
    ('ed25519', 'key', lambda k: k['ssh-ed25519']),
    ('ecdsa', 'key', lambda k: k['ecdsa-sha2-nistp384']),
    ('sk-ed25519', 'key', lambda k: k['sk-ssh-ed25519@openssh.com']),
    ('ed25519 certificate', 'certificate', lambda k: k['ssh-ed25519-cert-v01@openssh.com']),
    ('rsa certificate, rsa-sha2-512 name', 'certificate',
     lambda k: 'rsa-sha2-512-cert-v01@openssh.com %s' % _b64(k['ssh-rsa-cert-v01@openssh.com'])),
    ('options before the key', 'options', lambda k: 'no-pty ' + k['ssh-ed25519']),
    ('junk', 'refused', lambda k: 'hello'),
    ('junk words', 'refused', lambda k: 'hello world again'),
    ('wrong type name', 'refused', lambda k: 'ssh-ed25519 %s' % _b64(k['ssh-rsa'])),
    ('plain name for a certificate', 'refused', lambda k: 'ssh-rsa %s' % _b64(k['ssh-rsa-cert-v01@openssh.com'])),
    ('curve of another name', 'refused', lambda k: 'ecdsa-sha2-nistp256 %s' % _b64(k['ecdsa-sha2-nistp384'])),
    ('short type name', 'refused', lambda k: 'RSA %s' % _b64(k['ssh-rsa'])),
    ('unknown type', 'refused', lambda k: 'ssh-future@example.com %s' % _b64(k['ssh-ed25519'])),
    ('bad base64', 'refused', lambda k: 'ssh-ed25519 AAAA!!!!'),
    ('truncated', 'refused', lambda k: 'ssh-ed25519 %s' % _b64(k['ssh-ed25519'])[:40]),
    ('trailing data', 'refused', lambda k: 'ssh-ed25519 %s' % base64.b64encode(
        base64.b64decode(_b64(k['ssh-ed25519'])) + b'junk').decode()),
    ('rsa below 1024 bits', 'refused', lambda k: 'ssh-rsa %s' % base64.b64encode(_SMALL_RSA).decode()),
    ('bad options', 'bad options', lambda k: 'frobnicate ' + k['ssh-ed25519']),
]


def _ssh_keygen_reads(tmp_path, text):
    """Whether the real ``ssh-keygen -l`` reads a key on the line (it reads
    authorized_keys lines, options too), and its fingerprint."""
    path = tmp_path / 'oracle.pub'
    path.write_text(text + '\n')
    out = subprocess.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    if out.returncode != 0:
        return None
    return out.stdout.decode().split()[1]


# ------------------------------------------------------------- every module's reader

def _authkey(tmp_path, text):
    account = Account.resolve(None, str(tmp_path / 'authkey'))
    dummy, result = run_op(SshAuthKey(AuthKeySpec(account, key=text)))
    return result['keys'][0]['fingerprint']


def _genkey(tmp_path, text):
    spec = KeyPairSpec(Account.resolve(None, str(tmp_path / 'genkey')), name='id_given', public_key=text)
    return spec.import_key.fingerprint_sha256


def _keypair(tmp_path, text):
    return KeypairSpec(name='given', public_key=text).public_key.fingerprint_sha256


def _key_info(tmp_path, text):
    home = tmp_path / 'info'
    (home / '.ssh').mkdir(parents=True)
    (home / '.ssh' / 'id_given.pub').write_text(text + '\n')
    operation = SshKeyInfo(KeyInfoSpec(Account.resolve(None, str(home))))
    plan = operation.plan()
    result = operation.result(plan, False)
    if not result['keys']:
        warnings = [w for w in plan.all_warnings() if 'id_given.pub' in w]
        raise InvalidInput(' '.join(warnings))
    return result['keys'][0]['fingerprint']


def _provision_authkey(tmp_path, text):
    dummy, result = run_op(Provision([{'name': ME, 'home': str(tmp_path / 'prov-ak'),
                                       'authorized_keys': [{'key': text}]}], atomic=True))
    item = result['accounts'][0]['items'][0]
    return item['keys'][0]['fingerprint']


def _provision_genkey(tmp_path, text):
    home = tmp_path / 'prov-gk'
    run_op(Provision([{'name': ME, 'home': str(home), 'ssh_keys': [{'name': 'id_given', 'public_key': text}]}],
                     atomic=True))
    return PublicKey.from_line((home / '.ssh' / 'id_given.pub').read_text()).fingerprint_sha256


def _audit(tmp_path, text):
    return sorted(fp for fp in managed_fingerprints([text]) if fp.startswith('SHA256:'))[0]


READERS = {
    'ssh_authkey key': _authkey,
    'ssh_genkey public_key': _genkey,
    'keypair public_key': _keypair,
    'ssh_key_info .pub': _key_info,
    'provision authorized_keys': _provision_authkey,
    'provision ssh_keys public_key': _provision_genkey,
    'authorized_keys_info managed_keys': _audit,
}
# Keys a module does not take: the registry holds no security keys.
NOT_TAKEN = {('sk-ed25519', 'keypair public_key'): 'the registry takes rsa, ecdsa, ed25519 keys'}
# What a module does with a line sshd reads but that is no plain public key:
# a certificate is never a key to authorize, install or register (ssh_key_info
# reports it), options belong to authorized_keys lines only.
POLICY = {
    'certificate': {'ssh_key_info .pub': 'key', None: 'certificate'},
    # ssh-keygen -l reads a key after options it does not check; sshd refuses them
    'bad options': {None: 'bad key options: unknown key option frobnicate'},
    'options': {'ssh_authkey key': 'key', 'provision authorized_keys': 'key', 'authorized_keys_info managed_keys': 'key',
                None: 'options before the key'},
}


def _read(reader, tmp_path, text):
    try:
        return 'key', reader(tmp_path, text)
    except KeysmithError as exc:
        return 'refused', exc.msg


@pytest.mark.parametrize('name, verdict, make', CASES, ids=[case[0] for case in CASES])
def test_every_module_reads_key_text_alike(keyset, tmp_path, name, verdict, make):
    text = make(keyset.lines)
    oracle = _ssh_keygen_reads(tmp_path, text)
    # the real ssh-keygen -l reads what sshd's reader reads (a line of authorized_keys)
    assert (oracle is not None) == (sshd_rules.line_error(text) is None), name
    explanation = key_text_error(text)
    if verdict == 'key':
        assert explanation is None
        reference = PublicKey.from_line(text)
        assert reference.fingerprint_sha256 == oracle
        assert reference.same_key(PublicKey.from_line(keyset.lines['ssh-rsa'])) == (reference.family == 'rsa')
    elif verdict == 'refused':
        assert oracle is None and explanation
        # never the key data: at most a short prefix of it
        data = text.split()[1:2]
        assert all(len(word) <= 16 or word[:17] not in explanation for word in data)
    for module, reader in sorted(READERS.items()):
        outcome, detail = _read(reader, tmp_path / module.replace(' ', '_'), text)
        expected = verdict
        if verdict in POLICY:
            expected = POLICY[verdict].get(module, 'refused')
        if (name, module) in NOT_TAKEN:
            assert outcome == 'refused' and NOT_TAKEN[name, module] in detail, (module, detail)
        elif expected == 'key':
            assert outcome == 'key', (module, detail)
            assert detail == oracle, module
        else:
            assert outcome == 'refused', (module, detail)
            if verdict == 'refused' or verdict == 'bad options':
                # the same explanation, from the one reader
                assert explanation in detail, (module, detail)
            if verdict in POLICY:
                assert POLICY[verdict][None] in detail, (module, detail)


def test_rsa_sha2_names_are_the_ssh_rsa_key(keyset):
    """sshd and ssh-keygen read ``rsa-sha2-512``/``rsa-sha2-256`` as names of an
    ``ssh-rsa`` key: every module gets the ``ssh-rsa`` key, the same key."""
    line = keyset.lines['ssh-rsa']
    plain = PublicKey.from_line(line)
    for name in ('rsa-sha2-512', 'rsa-sha2-256'):
        key = PublicKey.from_line('%s %s c' % (name, _b64(line)))
        assert key.key_type == 'ssh-rsa' and key.to_line() == 'ssh-rsa %s c' % _b64(line)
        assert key.same_key(plain) and key.family == 'rsa'
        assert KeypairSpec(name='k', public_key=key.to_line()).public_key.same_key(plain)


def test_same_key_compares_key_material(keyset):
    line = keyset.lines['ssh-rsa']
    blob = base64.b64decode(_b64(line))
    key = PublicKey.from_blob('ssh-rsa', _padded(line))
    # the key as sshd holds it: the same key, written as sshd writes it
    assert key.same_key(PublicKey.from_line(line)) and key.blob == blob
    assert len({key, PublicKey.from_blob('ssh-rsa', blob)}) == 1
    cert = PublicKey.from_line(keyset.lines['ssh-rsa-cert-v01@openssh.com'])
    assert not cert.same_key(PublicKey.from_line(line))
