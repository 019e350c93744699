# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules that hold a hostile account owner off the certificate and usage code
(tests/reliability/test_attacks_certs.py and test_attacks_usage.py run the real
modules against real accounts; these are the unit-sized halves the mutations of
tests/mutants/mutations.py are checked with)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import key_map
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import principals_file
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.known_hosts import KnownHostsCA, KnownHostsCASpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.principals import (
    AuthorizedPrincipals,
    PrincipalsSpec,
)
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def test_principal_lines_are_bounded_and_split_at_newlines_only():
    found, more = principals_file.principal_lines_upto('a\n' * 50 + 'b\n', 10)
    assert [name for name, dummy in found] == ['a'] * 10 and more
    found, more = principals_file.principal_lines_upto('a\nb\n', 10)
    assert [name for name, dummy in found] == ['a', 'b'] and not more
    # sshd reads to a newline: a carriage return or vertical tab inside a line ends nothing
    assert [name for name, dummy in principals_file.principal_lines('nobody\rroot\nx\x0by\r\n')] \
        == ['nobody\rroot', 'x\x0by']


@pytest.fixture
def home(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    path = tmp_path / 'home'
    (path / '.ssh').mkdir(parents=True)
    return path


def test_in_home_principals_and_known_hosts_files_are_bounded(home, tmp_path):
    account = Account.resolve(None, str(home))
    big = b'a\n' * (1024 * 1024)             # 2 MiB of one-letter lines
    (home / '.ssh' / 'authorized_principals').write_bytes(big)
    with pytest.raises(UnsafePath, match='larger than'):
        run_op(AuthorizedPrincipals(PrincipalsSpec(account, principals=['dev'], path='%h/.ssh/authorized_principals')),
               check_mode=True)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(tmp_path / 'ca')], check=True)
    ca = (tmp_path / 'ca.pub').read_text().strip()
    (home / '.ssh' / 'known_hosts').write_bytes(big + b'a\n')
    with pytest.raises(UnsafePath, match='larger than'):
        run_op(KnownHostsCA(KnownHostsCASpec(ca, hosts=['h'], account=account)), check_mode=True)


def test_others_can_change(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    krl = tmp_path / 'krl'
    krl.write_bytes(b'x')
    os.chmod(str(krl), 0o644)
    assert _fs.others_can_change(str(krl)) is None
    os.chmod(str(krl), 0o664)
    assert 'mode 0664' in _fs.others_can_change(str(krl))
    os.chmod(str(krl), 0o644)
    os.chown(str(krl), 65534, 0)
    assert 'owned by uid 65534' in _fs.others_can_change(str(krl))
    os.chown(str(krl), 0, 0)
    os.chmod(str(tmp_path), 0o777)
    assert 'its directory' in _fs.others_can_change(str(krl))
    os.chmod(str(tmp_path), 0o1777)         # sticky: nobody else renames root's entry
    assert _fs.others_can_change(str(krl)) is None
    os.symlink(str(krl), str(tmp_path / 'link'))
    os.lchown(str(tmp_path / 'link'), 65534, 65534)
    assert 'symbolic link' in _fs.others_can_change(str(tmp_path / 'link'))
    os.chmod(str(tmp_path), 0o755)


def test_key_map_names_a_private_key_by_itself_and_says_what_it_skipped(tmp_path):
    ssh = tmp_path / 'home' / '.ssh'
    ssh.mkdir(parents=True)
    for name in ('id_ed25519', 'decoy'):
        subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(ssh / name)])
    # the account's .pub beside its private key names another key
    os.rename(str(ssh / 'decoy.pub'), str(ssh / 'id_ed25519.pub'))
    os.link(str(ssh / 'decoy'), str(ssh / 'id_rsa'))
    entry = pwd.getpwuid(os.geteuid())
    found, problem = key_map.private_keys_of(entry.pw_name, entry.pw_uid, str(tmp_path / 'home'))
    own = subprocess.check_output(['ssh-keygen', '-y', '-f', str(ssh / 'id_ed25519')]).decode()
    (tmp_path / 'own.pub').write_text(own)
    expected = subprocess.check_output(['ssh-keygen', '-l', '-E', 'sha256', '-f', str(tmp_path / 'own.pub')]).split()[1]
    by_path = dict((item['path'], item) for item in found)
    assert by_path[str(ssh / 'id_ed25519')]['fingerprint'] == expected.decode()
    assert problem and 'hard links' in problem, problem


def test_trust_refuses_revoked_keys_others_can_change(tmp_path):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.sshd_dropin import SshdTrust, TrustSpec

    def run_command(argv):
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              check=False)
        return proc.returncode, proc.stdout, proc.stderr

    os.chmod(str(tmp_path), 0o755)
    root = tmp_path / 'etc'
    (root / 'conf.d').mkdir(parents=True)
    os.chmod(str(root), 0o755)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(root / 'host_key')], check=True)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(tmp_path / 'ca')], check=True)
    (root / 'sshd_config').write_text('Include %s/conf.d/*.conf\nHostKey %s/host_key\n' % (root, root))
    krl = root / 'revoked.krl'
    subprocess.run(['ssh-keygen', '-q', '-k', '-f', str(krl)], check=True)
    os.chown(str(krl), 65534, 65534)

    def trust():
        return SshdTrust(TrustSpec(path=str(root / 'conf.d' / '50-trust.conf'), sshd_config=str(root / 'sshd_config'),
                                   trusted_user_ca_keys=[(tmp_path / 'ca.pub').read_text().strip()],
                                   trusted_user_ca_keys_file=str(root / 'ca_keys.pub'), revoked_keys=str(krl),
                                   reload='none', sshd_path='/usr/sbin/sshd'), run_command)

    with pytest.raises(UnsafePath, match='lift every revocation'):
        run_op(trust(), check_mode=True)
    os.chown(str(krl), 0, 0)
    plan, done = run_op(trust())
    assert done['changed'] and 'RevokedKeys %s' % krl in (root / 'conf.d' / '50-trust.conf').read_text()


def test_audit_says_when_principals_are_not_all_listed(monkeypatch):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import certificate_access
    monkeypatch.setattr(certificate_access, 'MAX_PRINCIPALS', 3)

    class Got:
        status = 'read'
        truncated = False
        data = b'a\nb\nc\nd\n'
        info = None

    class Reader:
        def read(self, *args):
            return Got()

    class Audit:
        reader = Reader()

    class Entry:
        name, uid, gid, groups, home = 'ka6', 1, 1, [], '/nonexistent'

    class Settings:
        strict_modes = False

    access = certificate_access.CertificateAccess.__new__(certificate_access.CertificateAccess)
    access.audit = Audit()
    source, path, names, reason = access._principals(Entry(), {'authorizedprincipalsfile': '/p/%u'}, Settings(), None)
    assert names == ['a', 'b', 'c'] and 'more than 3 principals' in reason


def test_a_named_acl_entry_that_denies_is_honoured(tmp_path):
    """A root file 0644 whose ACL denies the account: hard-linked into the account's
    directory, root must not read it for the account (the mode bits alone say yes)."""
    path = tmp_path / 'acl'
    path.write_bytes(b'ssh-ed25519 secret\n')
    os.chmod(str(path), 0o644)
    fd = os.open(str(path), os.O_RDONLY)
    try:
        assert _fs._user_can_read(65534, os.fstat(fd), fd)
        subprocess.run(['setfacl', '-m', 'u:65534:---', str(path)], check=True)
        assert not _fs._user_can_read(65534, os.fstat(fd), fd)
        assert _fs._user_can_read(65533, os.fstat(fd), fd)
        subprocess.run(['setfacl', '-m', 'u:65534:r', str(path)], check=True)
        assert _fs._user_can_read(65534, os.fstat(fd), fd)
        subprocess.run(['setfacl', '-m', 'm::-', str(path)], check=True)   # the mask bounds named entries
        assert not _fs._user_can_read(65534, os.fstat(fd), fd)
    finally:
        os.close(fd)


def test_logged_fields_longer_than_sshd_writes_are_not_kept():
    """A line an account logs with a user name, address or key id longer than sshd
    writes is not sshd's: not counted, and not kept (it cost root its size in memory)."""
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import records
    years = records.YearGuess(2000000000)
    good = b'\nDec  6 23:35:17 h sshd[1]: Accepted publickey for bob from 192.0.2.1 port 2 ssh2: ED25519 SHA256:' \
           + b'A' * 43 + b'\n'
    for bad in (good.replace(b'bob', b'b' * 257), good.replace(b'192.0.2.1', b'1' * 65)):
        parser = records.SyslogParser(years)
        parser.feed(bad, len(bad) - 1)
        assert parser.logins == 0 and parser.tally == {}
    parser = records.SyslogParser(years)
    parser.feed(good, len(good) - 1)
    assert parser.logins == 1
    cert = good.replace(b'\n', b' ID ' + b'k' * 257 + b' (serial 1) CA ED25519 SHA256:' + b'B' * 43 + b'\n')
    cert = b'\n' + cert[1:]
    parser = records.SyslogParser(years)
    parser.feed(cert, len(cert) - 1)
    assert all(not entry[4] for entry in parser.tally.values()), parser.tally


def _pem_of_numbers(bits):
    """An unencrypted PKCS#1 RSA PEM whose numbers have ``bits`` bits (not a real key)."""
    import base64

    def length(size):
        if size < 128:
            return bytes([size])
        raw = size.to_bytes((size.bit_length() + 7) // 8, 'big')
        return bytes([0x80 | len(raw)]) + raw

    def integer(value):
        raw = value.to_bytes(value.bit_length() // 8 + 1, 'big')
        return b'\x02' + length(len(raw)) + raw
    big = (1 << (bits - 1)) | 1
    body = b''.join(integer(value) for value in (0, big * big, 65537, big, big, big, big, big, big))
    der = b'\x30' + length(len(body)) + body
    return b'-----BEGIN RSA PRIVATE KEY-----\n' + base64.encodebytes(der) + b'-----END RSA PRIVATE KEY-----\n'


def test_a_pem_key_of_huge_numbers_is_refused_before_loading():
    from ansible_collections.keysmith.accounts.plugins.module_utils import _kdf_limits
    from ansible_collections.keysmith.accounts.plugins.module_utils._errors import TooExpensive
    with pytest.raises(TooExpensive, match='bit number'):
        _kdf_limits.check_kdf_cost(_pem_of_numbers(20000))
    _kdf_limits.check_kdf_cost(_pem_of_numbers(8000))   # within RSA 16384: the loader judges it
    real = subprocess.run(['ssh-keygen', '-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', '/dev/stdout'],
                          input=b'y\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False).stdout
    if b'BEGIN RSA PRIVATE KEY' in real:
        _kdf_limits.check_kdf_cost(real)
