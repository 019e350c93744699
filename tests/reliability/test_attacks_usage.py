# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks of a hostile account owner on the usage evidence, the key map and the
report (issue 31's new code).

Root runs ``authorized_keys_info`` (``usage``, ``private_keys``) and
``access_report`` for accounts ``ka6*`` whose owners (simulated by the test, as
root) plant links and FIFOs among the logs, put logs in directories they can
write, write lines that look like sshd's into a syslog file (what ``logger``
lets any account do: only lines with sshd's own tag count, see below),
compress a bomb, and fill ``~/.ssh`` with a FIFO named ``id_ed25519``, a
2 GiB sparse ``id_rsa``, a hard-linked key and a decoy ``.pub``. Each run is
bounded (time, peak RSS); a root-only secret never shows; an audit that could
not read everything never says ``unused``.

Known limit (docs/security.md): a syslog *file* cannot tell sshd's line from
``logger -t 'sshd[1]' 'Accepted publickey for ...'`` of an account: such a
forged line counts as a use (it can make a key look used, never unused). The
journal source counts only entries journald itself stamps with ``_UID=0``.

Before the fix of this round the key map listed no problem for a ``~/.ssh``
whose private keys it had skipped, and named a private key by the ``.pub``
beside it (a decoy ``.pub`` hid an unencrypted key).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from test_attacks import bounded, made_accounts, mkdir_as, run, write_as
from test_attacks_certs import SECRET, no_secret, ssh_dir


@pytest.fixture
def accounts():
    yield from made_accounts('ka6')


@pytest.fixture
def logdir():
    """A root-owned 0755 log directory on a root-only path."""
    path = tempfile.mkdtemp(prefix='ka6-log-', dir='/home')
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def key(tmp_path_factory):
    directory = tmp_path_factory.mktemp('ka6usage')
    path = str(directory / 'k')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ka6', '-f', path], check=True)
    with open(path + '.pub') as handle:
        line = handle.read().strip()
    fingerprint = subprocess.check_output(['ssh-keygen', '-l', '-E', 'sha256', '-f', path + '.pub']).split()[1]
    return {'line': line, 'fingerprint': fingerprint.decode(), 'private': path}


def stamp(offset=0):
    return time.strftime('%b %e %H:%M:%S', time.gmtime(time.time() - offset)).encode()


def accepted(user, fingerprint, tag=b'sshd[4242]:', offset=60, address=b'198.51.100.7'):
    """A line as rsyslog writes it (``Mmm dd HH:MM:SS host TAG message``)."""
    return b'%s ka6host %s Accepted publickey for %s from %s port 50000 ssh2: ED25519 %s\n' % (
        stamp(offset), tag, user.encode(), address, fingerprint.encode())


def authorize(user, key):
    ssh = ssh_dir(user)
    write_as(os.path.join(ssh, 'authorized_keys'), (key['line'] + '\n').encode(), user, 0o600)


def audit(user, paths, **usage):
    usage.update(sources=['files'], paths=paths)
    usage.setdefault('since', '30d')
    result = bounded(run('authorized_keys_info', {'users': [user.pw_name], 'usage': usage}, timeout=60))
    assert not result.failed, result
    no_secret(result)
    return result, result.result['accounts'][0]['keys'][0], result.result['usage']


# --------------------------------------------------------------------------- logs

def test_rotated_copies_that_are_a_link_and_a_fifo(accounts, logdir, key):
    """auth.log.1 a link to a root-only file holding a login line, auth.log.2 a FIFO
    (a reader would block): neither is read, no hang, and the audit says it could not
    see everything (unused is never asserted)."""
    user = accounts.make()
    authorize(user, key)
    with open(os.path.join(logdir, 'auth.log'), 'wb') as handle:
        handle.write(stamp(30) + b' ka6host CRON[1]: nothing\n')
    secret_dir = tempfile.mkdtemp(prefix='ka6-secret-', dir='/home')
    try:
        secret = os.path.join(secret_dir, 'secret.log')
        with open(secret, 'wb') as handle:
            handle.write(accepted(user.pw_name, key['fingerprint']) + SECRET.encode() + b'\n')
        os.chmod(secret, 0o600)
        os.symlink(secret, os.path.join(logdir, 'auth.log.1'))
        os.mkfifo(os.path.join(logdir, 'auth.log.2'))
        result, row, usage = audit(user, [os.path.join(logdir, 'auth.log')])
    finally:
        shutil.rmtree(secret_dir, ignore_errors=True)
    status = dict((source['path'], (source['status'], source['reason'])) for source in usage['sources'])
    assert status[os.path.join(logdir, 'auth.log.1')] == ('not read', 'a symbolic link: not followed')
    assert status[os.path.join(logdir, 'auth.log.2')] == ('not read', 'not a regular file')
    assert usage['complete'] is False and usage['keys_unused'] is None
    assert row['uses'] == 0 and row['unused'] is None, row


@pytest.mark.parametrize('place', ['account_dir', 'group_writable', 'account_link'])
def test_log_an_account_can_write(accounts, logdir, key, place):
    """A usage path in the account's directory, in a directory its group can write,
    or behind a link it planted: the forged login in it is never counted."""
    user = accounts.make()
    authorize(user, key)
    forged = accepted(user.pw_name, key['fingerprint'])
    if place == 'account_dir':
        directory = mkdir_as(os.path.join(user.pw_dir, 'logs'), user, 0o755)
    elif place == 'group_writable':
        directory = os.path.join(logdir, 'shared')
        os.mkdir(directory)
        os.chown(directory, 0, user.pw_gid)
        os.chmod(directory, 0o775)
    else:
        target = mkdir_as(os.path.join(user.pw_dir, 'logs'), user, 0o755)
        write_as(os.path.join(target, 'auth.log'), forged, user, 0o644)
        directory = os.path.join(user.pw_dir, 'link')
        os.symlink(target, directory)
        os.lchown(directory, user.pw_uid, user.pw_gid)
    path = os.path.join(directory, 'auth.log')
    if not os.path.exists(path):
        with open(path, 'wb') as handle:
            handle.write(forged)
    result, row, usage = audit(user, [path])
    assert row['uses'] == 0 and row['last_used'] is None and row['unused'] is None, row
    assert usage['complete'] is False, usage


def test_gzip_bomb_is_bounded(accounts, logdir, key):
    """A rotated auth.log.1.gz of 1 GiB of zeros (1 MiB compressed): the read stops at
    max_bytes, bounded in memory and time, and the audit says the logs were cut."""
    user = accounts.make()
    authorize(user, key)
    with open(os.path.join(logdir, 'auth.log'), 'wb') as handle:
        handle.write(accepted(user.pw_name, key['fingerprint']))
    zeros = b'\0' * (1024 * 1024)
    with gzip.open(os.path.join(logdir, 'auth.log.1.gz'), 'wb', compresslevel=1) as handle:
        for dummy in range(1024):
            handle.write(zeros)
    result, row, usage = audit(user, [os.path.join(logdir, 'auth.log')], max_bytes=64 * 1024 * 1024)
    bomb = [source for source in usage['sources'] if source['path'].endswith('.gz')][0]
    assert bomb['bytes_read'] <= 64 * 1024 * 1024 and bomb['cut'], bomb
    assert usage['complete'] is False and row['uses'] == 1 and row['unused'] is False, (usage, row)
    assert result.seconds < 10, result


def test_logged_lines_with_huge_fields_cost_no_memory(accounts, logdir, key):
    """An account floods the syslog file with login lines of 8 KiB user names and
    addresses (rsyslog's message limit), 240 MiB in all: not sshd's, not kept (before:
    root's memory grew with the log, 441 MiB for 340 MiB); the real login counts."""
    user = accounts.make()
    authorize(user, key)
    head = stamp(100) + b' ka6host sshd[1]: Accepted publickey for '
    with open(os.path.join(logdir, 'auth.log'), 'wb') as handle:
        for index in range(30000):
            name = (b'%08d' % index) * 500
            handle.write(head + name + b' from ' + b'1' * 3000 + b' port 1 ssh2: ED25519 SHA256:' + b'A' * 43 + b'\n')
        handle.write(accepted(user.pw_name, key['fingerprint'], offset=50))
    result, row, usage = audit(user, [os.path.join(logdir, 'auth.log')])
    assert row['uses'] == 1 and usage['logins'] == 1, (row, usage)
    assert result.rss_kib < 128 * 1024, result


def test_lines_an_account_can_log(accounts, logdir, key):
    """What ``logger`` (any account) gets into a syslog file: a login message under its
    own tag, sshd's tag inside another message, a message with an escaped newline
    (rsyslog writes #012), a line with a forged time far in the future. None of them
    counts; the one real line does (a line with sshd's own tag is the known limit)."""
    user = accounts.make()
    authorize(user, key)
    fingerprint = key['fingerprint']
    lines = [
        accepted(user.pw_name, fingerprint, tag=b'ka6tool[7]:'),
        accepted(user.pw_name, fingerprint, tag=b'logger: x sshd[1]:'),
        accepted(user.pw_name, fingerprint, tag=b'sshdx[1]:'),
        stamp(50) + b' ka6host ka6[9]: text#012' + accepted(user.pw_name, fingerprint).rstrip(b'\n') + b'\n',
        b'Xyz 99 99:99:99 ka6host sshd[1]: Accepted publickey for %s from 203.0.113.9 port 1 ssh2: ED25519 %s\n'
        % (user.pw_name.encode(), fingerprint.encode()),
        accepted(user.pw_name, fingerprint, address=b'192.0.2.44', offset=10),
    ]
    with open(os.path.join(logdir, 'auth.log'), 'wb') as handle:
        handle.write(b''.join(lines))
    result, row, usage = audit(user, [os.path.join(logdir, 'auth.log')])
    assert row['uses'] == 1 and row['used_from'] == ['192.0.2.44'], row
    assert usage['complete'] is True


def test_logged_address_reaches_the_report_escaped(accounts, logdir, key):
    """An account can log a login line (the known limit above) whose address, a word
    without blanks, is markup or a spreadsheet formula: the report's HTML shows it as
    text and the CSV cell cannot start a formula."""
    user = accounts.make()
    authorize(user, key)
    html_address = b'<svg/onload=alert(1)>'
    csv_address = b'=HYPERLINK("//ka6.example")'
    with open(os.path.join(logdir, 'auth.log'), 'wb') as handle:
        handle.write(accepted(user.pw_name, key['fingerprint'], address=html_address, offset=20))
        handle.write(accepted(user.pw_name, key['fingerprint'], address=csv_address, offset=10))
    result, row, usage = audit(user, [os.path.join(logdir, 'auth.log')])
    assert sorted(row['used_from']) == sorted([html_address.decode(), csv_address.decode()]), row
    dest = tempfile.mkdtemp(prefix='ka6-report-', dir='/home')
    try:
        report = bounded(run('access_report', {'results': {'ka6host': result.result}, 'dest': dest,
                                               'generated_at': '2026-12-07T00:00:00Z'}))
        assert not report.failed, report
        with open(os.path.join(dest, 'access_report.html')) as handle:
            page = handle.read()
        assert '<svg/onload' not in page and '&lt;svg/onload=alert(1)&gt;' in page
        with open(os.path.join(dest, 'access_report.csv')) as handle:
            cells = [cell for line in handle for cell in line.split(',')]
        assert not any(cell.lstrip('"').startswith('=') for cell in cells), [c for c in cells if 'HYPER' in c]
    finally:
        shutil.rmtree(dest, ignore_errors=True)


# --------------------------------------------------------------------------- private keys (the key map)

def test_private_keys_fifo_sparse_hard_link_and_decoy_pub(accounts, rootdir_keys):
    """~/.ssh holds a FIFO named id_ed25519 (no hang), a 2 GiB sparse id_rsa and a
    hard link of an unencrypted key (skipped: the listing says so), and an unencrypted
    key whose .pub names another key (the key map names it by its own public key)."""
    user = accounts.make()
    ssh = ssh_dir(user)
    os.mkfifo(os.path.join(ssh, 'id_ed25519'))
    with open(os.path.join(ssh, 'id_rsa'), 'wb') as handle:
        handle.truncate(2 * 1024 ** 3)
    shutil.copy(rootdir_keys['plain'], os.path.join(ssh, 'id_ecdsa'))
    os.link(os.path.join(ssh, 'id_ecdsa'), os.path.join(ssh, 'backup'))
    shutil.copy(rootdir_keys['plain'], os.path.join(ssh, 'id_work'))
    shutil.copy(rootdir_keys['decoy'] + '.pub', os.path.join(ssh, 'id_work.pub'))
    for name in os.listdir(ssh):
        os.lchown(os.path.join(ssh, name), user.pw_uid, user.pw_gid)
    os.chmod(os.path.join(ssh, 'id_work'), 0o600)
    result = bounded(run('authorized_keys_info', {'users': [user.pw_name], 'private_keys': True}, timeout=30))
    assert not result.failed, result
    account = result.result['accounts'][0]
    listed = dict((item['path'], item) for item in account['private_keys'])
    work = listed[os.path.join(ssh, 'id_work')]
    assert work['fingerprint'] == rootdir_keys['plain_fingerprint'] and work['encrypted'] is False, work
    problem = account['private_keys_problem'] or ''
    assert 'id_rsa' in problem and 'larger than' in problem, problem
    assert 'hard links' in problem, problem
    assert 'PRIVATE KEY' not in json.dumps(result.result)


def test_private_key_of_huge_numbers(accounts):
    """~/.ssh/id_rsa: an unencrypted PEM "RSA key" of 60,000-bit numbers (90 KiB).
    OpenSSL checks such a key when it is loaded (a primality test of p and q): before,
    one file kept the audit busy for minutes (over 2 min measured); now it is refused
    before loading and the listing says which key it could not identify."""
    import base64
    import math
    import random

    def length(size):
        if size < 128:
            return bytes([size])
        raw = size.to_bytes((size.bit_length() + 7) // 8, 'big')
        return bytes([0x80 | len(raw)]) + raw

    def integer(value):
        raw = value.to_bytes(value.bit_length() // 8 + 1, 'big')
        return b'\x02' + length(len(raw)) + raw

    def rough(bits):
        # no small prime factor: OpenSSL's trial division does not reject it, Miller-Rabin runs
        small = 1
        for number in range(3, 20000, 2):
            if all(number % factor for factor in range(3, int(number ** 0.5) + 1, 2)):
                small *= number
        while True:
            value = random.getrandbits(bits) | (1 << (bits - 1)) | 1
            if math.gcd(value, small) == 1:
                return value
    bits = 60000
    p, q = rough(bits), rough(bits)
    d = random.getrandbits(2 * bits) | 1
    # consistent enough for the loader to reach OpenSSL's check (d mod p-1, d mod q-1, qinv < p)
    body = b''.join(integer(value) for value in (0, p * q, 65537, d, p, q, d % (p - 1), d % (q - 1),
                                                 random.getrandbits(bits - 1)))
    der = b'\x30' + length(len(body)) + body
    user = accounts.make()
    ssh = ssh_dir(user)
    write_as(os.path.join(ssh, 'id_rsa'), b'-----BEGIN RSA PRIVATE KEY-----\n' + base64.encodebytes(der)
             + b'-----END RSA PRIVATE KEY-----\n', user, 0o600)
    result = bounded(run('authorized_keys_info', {'users': [user.pw_name], 'private_keys': True}, timeout=60))
    assert not result.failed and result.seconds < 10, result
    account = result.result['accounts'][0]
    assert 'id_rsa: which key it holds is unknown' in (account['private_keys_problem'] or ''), account


@pytest.fixture(scope='module')
def rootdir_keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp('ka6priv')
    out = {}
    for name in ('plain', 'decoy'):
        path = str(directory / name)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path], check=True)
        out[name] = path
    out['plain_fingerprint'] = subprocess.check_output(
        ['ssh-keygen', '-l', '-E', 'sha256', '-f', out['plain'] + '.pub']).split()[1].decode()
    return out


# --------------------------------------------------------------------------- access_report

def test_report_into_an_account_directory(accounts):
    """access_report's dest in an account's directory, and a name that climbs out."""
    user = accounts.make()
    dest = mkdir_as(os.path.join(user.pw_dir, 'reports'), user, 0o755)
    result = bounded(run('access_report', {'results': {}, 'dest': dest}))
    assert result.failed and 'owned by uid %d' % user.pw_uid in result.msg, result
    assert os.listdir(dest) == []
    root_dest = tempfile.mkdtemp(prefix='ka6-report-', dir='/home')
    try:
        result = bounded(run('access_report', {'results': {}, 'dest': root_dest, 'name': '../ka6-escape'}))
        assert result.failed and 'plain file name' in result.msg, result
        assert not os.path.exists('/home/ka6-escape.html')
    finally:
        shutil.rmtree(root_dest, ignore_errors=True)
