# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_krl: the KRL model against ssh-keygen (-k builds, -Q checks), idempotence
by content, check mode, diff, and the 10,000-entry bound."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl import Krl
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl_operation import KrlSpec, SshKrl
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def keygen(path, key_type='ed25519'):
    subprocess.run(['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', path.name, '-f', str(path)], check=True)
    return (path.parent / (path.name + '.pub')).read_text().strip()


def certify(tmp_path, ca, key, serial, key_id):
    """ssh-keygen -s: a certificate of ``key`` (a path) by ``ca`` (a path)."""
    subprocess.run(['ssh-keygen', '-q', '-s', str(tmp_path / ca), '-I', key_id, '-n', 'u', '-z', str(serial),
                    str(tmp_path / (key + '.pub'))], check=True)
    return tmp_path / (key + '-cert.pub')


def revoked_by_keygen(krl, path):
    """``ssh-keygen -Q -f krl path``: True when the KRL revokes the key or certificate."""
    out = subprocess.run(['ssh-keygen', '-Q', '-f', str(krl), str(path)], capture_output=True, text=True, check=False)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode == 1


@pytest.fixture
def pki(tmp_path):
    made = {'dir': tmp_path}
    for name in ('ca', 'ca2', 'alice', 'bob', 'carol'):
        made[name] = keygen(tmp_path / name)
    return made


def krl_op(pki, now=1800000000, **options):
    return SshKrl(KrlSpec(str(pki['dir'] / 'krl'), **options), now=now)


def test_ssh_keygen_agrees_with_every_kind_of_entry(pki):
    tmp = pki['dir']
    alice_cert = certify(tmp, 'ca', 'alice', 7, 'alice-id')
    bob_hash = PublicKey.from_line(pki['bob']).fingerprint_sha256
    dummy, result = run_op(krl_op(pki, keys=[pki['carol']], key_hashes=[bob_hash],
                                  certificates=[{'ca': pki['ca'], 'serials': [7, '100-200']},
                                                {'key_ids': ['mallory']}]))
    assert result['changed'] and result['krl_version'] == 1
    krl = tmp / 'krl'
    assert revoked_by_keygen(krl, tmp / 'carol.pub')
    assert revoked_by_keygen(krl, tmp / 'bob.pub')
    assert not revoked_by_keygen(krl, tmp / 'alice.pub')
    assert revoked_by_keygen(krl, alice_cert)
    for serial, key_id, ca, revoked in ((8, 'x', 'ca', False), (150, 'x', 'ca', True), (201, 'x', 'ca', False),
                                        (7, 'x', 'ca2', False), (9, 'mallory', 'ca2', True)):
        cert = certify(tmp, ca, 'alice', serial, key_id)
        assert revoked_by_keygen(krl, cert) == revoked, (serial, key_id, ca)
        parsed = Certificate.from_line(cert.read_text())
        ours = Krl.parse(krl.read_bytes()).revoked(parsed.key.blob, parsed)
        assert (ours is not None) == revoked, (serial, key_id, ca, ours)


def test_rerun_and_reordered_list_change_nothing(pki):
    options = dict(keys=[pki['carol'], pki['bob']], certificates=[{'ca': pki['ca'], 'serials': ['1-5', 9]}])
    run_op(krl_op(pki, **options))
    before = (pki['dir'] / 'krl').read_bytes()
    reordered = dict(keys=[pki['bob'], pki['carol'] + ' other comment'],
                     certificates=[{'ca': pki['ca'] + ' renamed', 'serials': [9, 1, '2-4', 5]}])
    dummy, again = run_op(krl_op(pki, now=1900000000, **reordered))
    assert not again['changed'] and again['actions'] == []
    assert (pki['dir'] / 'krl').read_bytes() == before


def test_a_krl_ssh_keygen_wrote_is_read_by_content(pki):
    """ssh-keygen -k writes serials as bitmaps: the same revoked set is no change."""
    tmp = pki['dir']
    (tmp / 'spec').write_text('serial: 1-5\nserial: 7\nserial: 9\nid: bob\n')
    subprocess.run(['ssh-keygen', '-k', '-f', str(tmp / 'krl'), '-s', str(tmp / 'ca.pub'), str(tmp / 'spec')],
                   check=True, capture_output=True)
    wanted = [{'ca': pki['ca'], 'serials': ['1-5', 7, 9], 'key_ids': ['bob']}]
    dummy, result = run_op(krl_op(pki, certificates=wanted))
    assert not result['changed']
    version = Krl.parse((tmp / 'krl').read_bytes()).version
    more_wanted = [{'ca': pki['ca'], 'serials': ['1-5', 7, 9, 11], 'key_ids': ['bob']}]
    dummy, more = run_op(krl_op(pki, certificates=more_wanted))
    assert more['changed'] and more['krl_version'] == version + 1
    assert revoked_by_keygen(tmp / 'krl', certify(tmp, 'ca', 'alice', 11, 'a'))


def test_check_mode_and_diff(pki):
    run_op(krl_op(pki, keys=[pki['carol']]))
    plan, check = run_op(krl_op(pki, keys=[pki['bob']]), check_mode=True)
    assert check['changed'] and check['krl_version'] == 2
    diff = check['diff']
    bob = PublicKey.from_line(pki['bob']).fingerprint_sha256
    carol = PublicKey.from_line(pki['carol']).fingerprint_sha256
    assert 'removed:\n  - key %s' % carol in diff['before'] and 'added:\n  - key %s' % bob in diff['after']
    assert revoked_by_keygen(pki['dir'] / 'krl', pki['dir'] / 'carol.pub')  # check mode wrote nothing
    dummy, real = run_op(krl_op(pki, keys=[pki['bob']]))
    assert real['actions'] == check['actions']
    assert not revoked_by_keygen(pki['dir'] / 'krl', pki['dir'] / 'carol.pub')


def test_comment_and_damaged_file(pki):
    run_op(krl_op(pki, keys=[pki['carol']]))
    dummy, result = run_op(krl_op(pki, keys=[pki['carol']], comment='fleet'))
    assert result['changed'] and 'comment' in result['actions'][0]
    (pki['dir'] / 'krl').write_bytes(b'SSHKRL\n\0garbage')
    dummy, result = run_op(krl_op(pki, keys=[pki['carol']], comment='fleet'))
    assert result['changed'] and 'no KRL sshd reads' in result['actions'][0]
    assert revoked_by_keygen(pki['dir'] / 'krl', pki['dir'] / 'carol.pub')


def test_serial_zero_is_never_revoked():
    """sshd ignores serial 0 (a CA that numbers no certificate); a KRL holding it is refused."""
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl import CaRevocations
    with pytest.raises(InvalidInput, match='serial 0'):
        CaRevocations().add_range(0, 3)


def test_bad_entries(pki):
    for options, match in (
            (dict(certificates=[{'serials': [1]}]), 'per CA'),
            (dict(certificates=[{'ca': pki['ca'], 'serials': [0]}]), 'serial 0'),
            (dict(certificates=[{'ca': pki['ca'], 'serials': ['9-3']}]), 'low to high'),
            (dict(key_hashes=['MD5:00']), 'SHA256'),
            (dict(keys=['ssh-ed25519 AAAA']), 'base64|truncated|invalid'),
    ):
        with pytest.raises(InvalidInput, match=match):
            krl_op(pki, **options)


def test_ten_thousand_entries(pki, tmp_path):
    """10,000 revoked serials and 10,000 key hashes: built, written and kept on
    the re-run; a key and a certificate checked against it by us and by
    ssh-keygen. (Its timings are the bench's: bench/cert_case.py, make bench.)"""
    hashes = ['SHA256:%s' % PublicKey.from_line(pki['alice']).fingerprint_sha256[7:]]
    import base64
    import hashlib
    hashes += ['SHA256:' + base64.b64encode(hashlib.sha256(b'%d' % n).digest()).decode().rstrip('=')
               for n in range(9999)]
    serials = list(range(1, 20001, 2))
    dummy, result = run_op(krl_op(pki, key_hashes=hashes, certificates=[{'ca': pki['ca'], 'serials': serials}]))
    assert result['revoked']['serials'] == 10000 and result['revoked']['sha256'] == 10000
    dummy, again = run_op(krl_op(pki, key_hashes=hashes, certificates=[{'ca': pki['ca'], 'serials': serials}]))
    assert not again['changed']
    krl = pki['dir'] / 'krl'
    assert revoked_by_keygen(krl, pki['dir'] / 'alice.pub')
    assert revoked_by_keygen(krl, certify(pki['dir'], 'ca', 'bob', 9999, 'b'))
    assert not revoked_by_keygen(krl, certify(pki['dir'], 'ca', 'bob', 10000, 'b'))
    parsed = Krl.parse(krl.read_bytes())
    cert = Certificate.from_line((pki['dir'] / 'bob-cert.pub').read_text())
    assert parsed.revoked(cert.key.blob, cert) is None
    assert os.path.getsize(str(krl)) < 512 * 1024
