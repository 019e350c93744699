# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resources and the report under hostile account files (issue 27, "Medium").

Root runs the real modules (subprocesses, peak RSS and CPU seconds from
``wait4``) for accounts ``kh7*`` whose owners fill ``authorized_keys`` with
64 MiB of empty lines, 100,000 copies of one key, certificates signed by an
RSA CA with an exponent as long as its modulus, link it to ``/proc/self/mem``
or a FIFO, and write bytes that are not UTF-8 and spreadsheet formulas into
comments and options. Each test failed before the fix (one by running out of
its memory limit: a module run used 1.2 GiB per 4 MiB of empty lines).

Figures (peak RSS, CPU seconds per module run; audit / ssh_authkey exclusive):
64 MiB of empty lines 168 MiB 8 s / 226 MiB 5.5 s (before: 1.2 GiB per 4 MiB,
~18 GiB extrapolated); 64 MiB of '#' lines 168 / 226 MiB; 64 MiB of invalid
lines 168 MiB 13.6 s / 226 MiB 3.6 s; 100,000 copies of one key line 351 MiB
11.5 s / 284 MiB 1.9 s (before 363 / 284 MiB); 4 MiB of certificates of a
costly RSA CA 1.5 s CPU (before 10.6 s).

Files of many valid key lines (issue 27, the module alone: see ``run``; 64 MiB files; audit /
ssh_authkey exclusive / present / absent): 755,000 distinct ed25519 keys 164 MiB 10.5 s / 303 MiB
11.6 s / 299 MiB 11.5 s / 258 MiB 11.2 s (before, measured at 8 MiB: audit 496 MiB 25 s, exclusive
215 MiB, present 175 MiB for 95,000 lines; ~3.7 / ~1.4 / ~1.1 GiB at 64 MiB); 780,000 copies of one
key line 164 MiB 2.2 s / 206 MiB 2.1 s / 252 MiB 2.2 s (before: the audit over 1.2 GiB after 100 s
of CPU and still growing, ssh_authkey 780-850 MiB 13 s); 79,000 cert-authority lines with a from=
of 40 networks and 200-byte commands 165 MiB 9.8 s / 181 MiB 6.5 s / 178 MiB 6.6 s (before: ~7 ms
of CPU per judged line, 10.9 s for 1,500 lines). The audit judges and lists the first 10,000 key
lines of a file (``max_keys``), counts the others and says the account is incomplete.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import csv
import io
import json
import os
import pwd
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import PYTHON, _args_file, module_env, module_path

MIB = 1024 * 1024
# Every module run on any file under the 64 MiB read cap (measured at 64 MiB: see the module docstring);
# before the compact key lines and the audit's max_keys, 100,000 copies of one key line took 477 MiB and
# 32 MiB of distinct keys several GiB in the audit
RSS_BOUND_MIB = 300


def rss_bound(size):
    """The bound for a file of ``size`` bytes: a small multiple of the file (it is read, and
    rewritten) over the module's own ~50 MiB, never more than RSS_BOUND_MIB (64 + 4 x 64 MiB ~ 300)."""
    return min(RSS_BOUND_MIB, 64 + 4 * size / MIB)


# a guard, not the measure: a run that would take gigabytes stops here
ADDRESS_SPACE_LIMIT = 3 * 1024 * MIB


class Run:
    def __init__(self, rc, stdout, stderr, seconds, rss_kib, cpu):
        self.rc = rc
        self.raw_stdout = stdout
        self.stdout = stdout.decode('utf-8', 'replace')
        self.stderr = stderr.decode('utf-8', 'replace')
        self.seconds = seconds
        self.rss_mib = rss_kib / 1024.0
        self.cpu = cpu
        self.result = {}
        for line in self.stdout.splitlines():
            if line.strip().startswith('{'):
                try:
                    self.result = json.loads(line)
                except ValueError:
                    pass

    @property
    def failed(self):
        return bool(self.result.get('failed')) or self.rc != 0

    def __repr__(self):
        result = json.dumps(self.result)[:1500]
        return 'Run(rc=%r, %.1fs, cpu %.1fs, %.1f MiB, result=%s, stderr=%r)' % (
            self.rc, self.seconds, self.cpu, self.rss_mib, result, self.stderr[-1000:])


# The module is started by a small launcher process that forks it, sets the limit, execs it and
# reports the module's own wait4 figures: ru_maxrss counts the memory of the process a child was
# forked (or vforked) from until its exec, so a module started straight from the test counted the
# test process with its fixtures (hundreds of MiB) instead of the module.
_LAUNCHER = """
import json, os, resource, sys
limit, report = int(sys.argv[1]), sys.argv[2]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(sys.executable, [sys.executable] + sys.argv[3:])
dummy, status, usage = os.wait4(pid, 0)
with open(report, 'w') as handle:
    json.dump({'status': status, 'maxrss': usage.ru_maxrss, 'cpu': usage.ru_utime + usage.ru_stime}, handle)
"""


def run(name, args, timeout=300, check=False, diff=False):
    """The module in a subprocess; its peak RSS and CPU seconds from wait4 (in the launcher)."""
    tmpdir = tempfile.mkdtemp(prefix='kh7-run-')
    try:
        argfile = _args_file(tmpdir, args, check, diff)
        report = os.path.join(tmpdir, 'usage.json')
        out = open(os.path.join(tmpdir, 'out'), 'w+b')
        err = open(os.path.join(tmpdir, 'err'), 'w+b')
        began = time.monotonic()
        proc = subprocess.Popen([PYTHON, '-c', _LAUNCHER, str(ADDRESS_SPACE_LIMIT), report, module_path(name), argfile],
                                stdout=out, stderr=err, env=module_env(), cwd=tmpdir, start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds = time.monotonic() - began
        usage = {'status': -signal.SIGKILL, 'maxrss': 0, 'cpu': 0.0}
        if os.path.exists(report):
            with open(report) as handle:
                usage = json.load(handle)
        status = usage['status']
        if status < 0:
            returncode = status
        else:
            returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        out.seek(0)
        err.seek(0)
        result = Run(returncode, out.read(), err.read(), seconds, usage['maxrss'], usage['cpu'])
        out.close()
        err.close()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    assert seconds < timeout, 'module ran longer than %s s: %r' % (timeout, result)
    return result


class Accounts:
    def __init__(self):
        self.names = []

    def make(self):
        name = 'kh7%s' % uuid.uuid4().hex[:8]
        subprocess.run(['useradd', '-m', '-s', '/bin/sh', name], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.names.append(name)
        return pwd.getpwnam(name)

    def cleanup(self):
        for name in reversed(self.names):
            try:
                home = pwd.getpwnam(name).pw_dir
            except KeyError:
                continue
            for dirpath, dirnames, filenames in os.walk(home, topdown=True, followlinks=False):
                for entry in dirnames + filenames:
                    path = os.path.join(dirpath, entry)
                    if os.path.islink(path):
                        os.unlink(path)
            proc = None
            for dummy in range(40):
                proc = subprocess.run(['userdel', '-r', name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      check=False)
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    break
                time.sleep(0.25)
            else:
                raise AssertionError('could not remove %s: %s' % (name, proc.stderr.decode(errors='replace')))


@pytest.fixture
def accounts():
    if os.geteuid() != 0:
        pytest.fail('the resource attacks run as root (useradd, chown)')
    made = Accounts()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture(scope='module')
def key_line():
    directory = tempfile.mkdtemp(prefix='kh7-keys-')
    try:
        path = os.path.join(directory, 'k')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kh7', '-f', path], check=True)
        with open(path + '.pub') as handle:
            yield handle.read().strip()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def ssh_dir(user):
    path = os.path.join(user.pw_dir, '.ssh')
    if not os.path.isdir(path):
        os.mkdir(path, 0o700)
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


def write_keys(user, data, name='authorized_keys'):
    path = os.path.join(ssh_dir(user), name)
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, 0o600)
    return path


def audit(users, **extra):
    args = dict(users=[user.pw_name for user in users], **extra)
    return run('authorized_keys_info', args)


def warnings_of(result):
    """The warning texts (ansible-core 2.19 returns them as events)."""
    texts = []
    for item in result.result.get('warnings') or []:
        texts.append(item['event']['msg'] if isinstance(item, dict) else item)
    return texts


def account_of(result, user):
    return [account for account in result.result['accounts'] if account['user'] == user.pw_name][0]


# --------------------------------------------------------------------------- 1. memory of parsing

MEMORY_CASES = [
    ('64 MiB of empty lines', lambda key: b'\n' * (64 * MIB)),
    ('16 MiB of invalid lines', lambda key: b'x\n' * (8 * MIB)),
    ('100,000 copies of one key line', lambda key: (key + '\n').encode() * 100000),
]


@pytest.mark.parametrize('case', [case[0] for case in MEMORY_CASES])
def test_parsing_memory_is_bounded(accounts, key_line, case):
    """Item 1: the audit and ssh_authkey exclusive stay within a few hundred MiB whatever the file holds."""
    make = dict(MEMORY_CASES)[case]
    victim = accounts.make()
    data = make(key_line)
    write_keys(victim, data)
    result = audit([victim])
    assert not result.failed, result
    assert result.rss_mib < RSS_BOUND_MIB, result
    account = account_of(result, victim)
    keys = 100000 if 'key line' in case else 0
    assert account['files'][0]['keys'] == keys
    if keys:
        # the first max_keys lines are judged and listed, the others counted: the account says so
        assert len(account['keys']) == 10000 and account['files'][0]['keys_not_listed'] == 90000
        assert account['status'] == 'incomplete', account['status_reasons']
        assert result.result['summary']['keys_not_listed'] == 90000
    if 'invalid' in case:
        assert account['files'][0]['invalid_line_count'] == 8 * MIB
        assert account['files'][0]['invalid_lines'][:3] == [1, 2, 3]
        assert len(account['files'][0]['invalid_lines']) <= 1000
    path = write_keys(victim, data)
    changed = run('ssh_authkey', {'user': victim.pw_name, 'key': key_line, 'exclusive': True})
    assert not changed.failed, changed
    assert changed.rss_mib < RSS_BOUND_MIB, changed
    with open(path, 'rb') as handle:
        written = handle.read()
    if keys:
        assert written == (key_line + '\n').encode()
    else:
        assert written == data + (key_line + '\n').encode()


def _ed25519_lines(size, prefix=b''):
    """Distinct valid ed25519 key lines (random public keys in the wire format), ``size`` bytes in all."""
    head = _string(b'ssh-ed25519') + struct.pack('>I', 32)
    lines = []
    total = 0
    index = 0
    while True:
        line = b'%sssh-ed25519 %s kh7-%d\n' % (prefix, base64.b64encode(head + os.urandom(32)), index)
        if total + len(line) > size:
            return b''.join(lines), index
        lines.append(line)
        total += len(line)
        index += 1


@pytest.fixture(scope='module')
def distinct_keys():
    """16 MiB of distinct valid keys (~190,000 lines; 64 MiB hold ~750,000: figures in the docstring)."""
    return _ed25519_lines(16 * MIB)


@pytest.mark.parametrize('mode', ['audit', 'present', 'absent', 'exclusive'])
def test_many_distinct_keys_memory_is_bounded(accounts, key_line, distinct_keys, mode):
    """Issue 27: hundreds of thousands of distinct valid keys in one file (the audit took ~3 KiB and
    ssh_authkey ~1 KiB per key line: several GiB / ~850 MiB at 64 MiB; 570 / 260 MiB for these 16 MiB,
    over rss_bound: 128 MiB). The audit judges and lists the
    first max_keys lines and counts the others (the account is incomplete); ssh_authkey edits the whole
    file exactly and lists the first 1000 keys it removes without being told, counting the others."""
    data, count = distinct_keys
    victim = accounts.make()
    path = write_keys(victim, data)
    if mode == 'audit':
        result = audit([victim])
        assert not result.failed, result
        account = account_of(result, victim)
        report = account['files'][0]
        assert (report['keys'], report['keys_not_listed']) == (count, count - 10000), report
        assert len(account['keys']) == 10000 and account['keys'][-1]['line'] == 10000
        assert all(key['accepted'] for key in account['keys'])
        assert account['status'] == 'incomplete' and 'max_keys' in account['status_reasons'][0], account
        assert result.result['summary']['keys_not_listed'] == count - 10000
        assert 'not judged' in result.result['msg']
    else:
        lines = data.splitlines(True)
        args = {'user': victim.pw_name, 'key': key_line}
        if mode == 'absent':
            args = {'user': victim.pw_name, 'key': lines[4242].decode().strip(), 'state': 'absent'}
        if mode == 'exclusive':
            args['exclusive'] = True
        result = run('ssh_authkey', args)
        assert not result.failed, result
        assert result.result['changed'], result
        with open(path, 'rb') as handle:
            written = handle.read()
        if mode == 'present':
            assert written == data + (key_line + '\n').encode()
            assert [key['action'] for key in result.result['keys']] == ['added']
        elif mode == 'absent':
            assert written == b''.join(lines[:4242] + lines[4243:])
            assert [key['action'] for key in result.result['keys']] == ['removed']
        else:
            assert written == (key_line + '\n').encode()
            assert len(result.result['keys']) == 1001
            assert result.result['keys_not_listed'] == count - 1000
    assert result.rss_mib < rss_bound(len(data)), result


def test_cert_authority_lines_with_long_options_are_bounded(accounts, key_line):
    """Issue 27: distinct cert-authority lines with long option strings: the audit judges each line's
    options, principals= and a from= of 40 networks for every client context (~7 ms of CPU a line
    before: a compiled pattern and a getaddrinfo per element and context, a Python loop per character
    of the options; 70 s for the 10,000 judged here)."""
    pattern = b','.join(b'10.%d.0.0/16' % number for number in range(40))
    prefix = b'cert-authority,principals="a,b",from="' + pattern + b'",command="' + b'x' * 200 + b'" '
    data, count = _ed25519_lines(12 * MIB, prefix)
    victim = accounts.make()
    path = write_keys(victim, data)
    result = audit([victim])
    assert not result.failed, result
    account = account_of(result, victim)
    assert (account['files'][0]['keys'], account['files'][0]['keys_not_listed']) == (count, count - 10000)
    assert all(key['cert_authority'] and key['client_dependent'] for key in account['keys'])
    assert result.rss_mib < RSS_BOUND_MIB, result
    assert result.cpu < 30.0, result
    changed = run('ssh_authkey', {'user': victim.pw_name, 'key': key_line, 'exclusive': True})
    assert not changed.failed, changed
    assert changed.rss_mib < rss_bound(len(data)), changed
    assert changed.cpu < 30.0, changed
    with open(path, 'rb') as handle:
        assert handle.read() == (key_line + '\n').encode()


# --------------------------------------------------------------------------- 2. costly certificate signatures

def _string(data):
    return struct.pack('>I', len(data)) + data


def _mpint(number):
    raw = number.to_bytes((number.bit_length() + 8) // 8, 'big')
    return _string(raw)


def _costly_ca_cert_lines(count):
    """Certificate lines signed (badly) by a 3072-bit RSA CA whose exponent is as long as its modulus."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    modulus = rsa.generate_private_key(65537, 3072).public_key().public_numbers().n
    exponent = (modulus >> 2) | 1
    ca = _string(b'ssh-rsa') + _mpint(exponent) + _mpint(modulus)
    lines = []
    for index in range(count):
        body = (_string(b'ssh-ed25519-cert-v01@openssh.com') + _string(os.urandom(32)) + _string(os.urandom(32))
                + struct.pack('>QI', index, 1) + _string(b'kh7') + _string(b'') + struct.pack('>QQ', 0, 2 ** 64 - 1)
                + _string(b'') + _string(b'') + _string(b'') + _string(ca))
        blob = body + _string(_string(b'rsa-sha2-512') + _string(os.urandom(384)))
        lines.append(b'ssh-ed25519-cert-v01@openssh.com ' + base64.b64encode(blob) + b' kh7-cert\n')
    return b''.join(lines)


def test_costly_ca_certificates_bounded(accounts, key_line):
    """Item 2: 4 MiB of certificate lines of an RSA CA with a 3072-bit exponent (~10 s of checks before)."""
    victim = accounts.make()
    data = _costly_ca_cert_lines(2400)
    assert len(data) > 4 * MIB
    write_keys(victim, data)
    result = audit([victim])
    assert not result.failed, result
    assert result.cpu < 6.0, result
    assert any('without checking their signatures' in text for text in warnings_of(result)), result
    write_keys(victim, data)
    changed = run('ssh_authkey', {'user': victim.pw_name, 'key': key_line, 'exclusive': True}, check=True)
    assert not changed.failed, changed
    assert changed.cpu < 6.0, changed


# --------------------------------------------------------------------------- 3. the report is linear

def test_access_report_linear_in_copies_of_one_key(tmp_path):
    """Item 3: 40,000 lines of one key in the report (quadratic before: ~45 s)."""
    keys = [{'file': '/home/kh7/.ssh/authorized_keys', 'line': number, 'fingerprint': 'SHA256:' + 'A' * 43,
             'type': 'ed25519', 'key_type': 'ssh-ed25519', 'bits': 256, 'comment': 'c', 'options': '',
             'accepted': True, 'refused_reasons': [], 'weak': False, 'weak_reasons': [], 'expired': False,
             'managed': None, 'also_on': [], 'expiry_time': None} for number in range(1, 40001)]
    # and once on a second account: each row's "also on" named the other accounts by walking every
    # line of the key (40,000 x 40,001 steps; issue 27 round 4)
    other = dict(keys[0], file='/home/kh7b/.ssh/authorized_keys', line=1)
    results = {'host1': {'accounts': [{'user': 'kh7', 'uid': 1000, 'files': [], 'keys': keys},
                                      {'user': 'kh7b', 'uid': 1001, 'files': [], 'keys': [other]}],
                         'summary': {'accounts': 2, 'keys': len(keys) + 1}}}
    result = run('access_report', {'results': results, 'dest': str(tmp_path), 'generated_at': 'now'})
    assert not result.failed, result
    assert result.cpu < 20.0, result
    assert result.result['summary']['keys'] == 40001
    with open(os.path.join(str(tmp_path), 'access_report.html')) as handle:
        assert 'also on: host1: kh7b' in handle.read()


# --------------------------------------------------------------------------- 4. files that cannot be read

def test_unreadable_files_do_not_blind_the_audit(accounts, key_line):
    """Item 4: links to /proc/self/mem, /proc/self/pagemap, /dev/zero and a FIFO: the others are still audited."""
    traps = {}
    for target in ('/proc/self/mem', '/proc/self/pagemap', '/dev/zero', 'fifo'):
        user = accounts.make()
        ssh = ssh_dir(user)
        path = os.path.join(ssh, 'authorized_keys')
        if target == 'fifo':
            os.mkfifo(path)
            os.chown(path, user.pw_uid, user.pw_gid)
        else:
            os.symlink(target, path)
        traps[target] = user
    honest = accounts.make()
    write_keys(honest, (key_line + '\n').encode())
    result = audit(list(traps.values()) + [honest])
    assert not result.failed, result
    assert result.seconds < 60, result
    assert account_of(result, honest)['files'][0]['keys'] == 1
    for target, user in traps.items():
        report = account_of(result, user)['files'][0]
        assert not report['used'] and report['reason'], (target, report)
    mem = account_of(result, traps['/proc/self/mem'])['files'][0]
    assert mem['keys'] == 0


# --------------------------------------------------------------------------- 5. and 6. text of the report

FORMULAS = ('=HYPERLINK("http://kh7.invalid/","x")', '+1+2', '-2+3', '@SUM(A1)', '\tkh7', '\rkh7')


def _hostile_text_files(victim, key_line):
    kind, blob = key_line.split()[:2]
    lines = [('%s %s caf' % (kind, blob)).encode() + b'\xe9 \xff\n',
             b'command="echo \xff" ' + ('%s %s plain' % (kind, blob)).encode() + b'\n']
    for formula in FORMULAS[:3]:
        lines.append(('%s %s %s\n' % (kind, blob, formula)).encode())
    lines.append(('%s %s %s\n' % (kind, blob, FORMULAS[3])).encode())
    # options text that starts a formula: sshd refuses the options, the line is still a key line
    lines.append(('=1+2 %s %s opt\n' % (kind, blob)).encode())
    lines.append(('@x %s %s opt\n' % (kind, blob)).encode())
    write_keys(victim, b''.join(lines))
    # a file name that is not UTF-8 where ssh_key_info looks
    ssh = ssh_dir(victim)
    name = os.path.join(ssh.encode(), b'id_caf\xe9.pub')
    with open(name, 'wb') as handle:
        handle.write(key_line.encode() + b'\n')
    os.chown(name, victim.pw_uid, victim.pw_gid)


def _no_lone_surrogates(value):
    if isinstance(value, str):
        value.encode('utf-8')
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_lone_surrogates(key)
            _no_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_lone_surrogates(item)


def test_results_are_valid_text_and_csv_cells_are_not_formulas(accounts, key_line, tmp_path):
    """Items 5 and 6: bytes that are not UTF-8 in comments, options and file names; comments and
    options that a spreadsheet reads as formulas."""
    victim = accounts.make()
    _hostile_text_files(victim, key_line)
    result = audit([victim])
    assert not result.failed, result
    result.raw_stdout.decode('utf-8')
    assert '\\udc' not in result.stdout, result
    _no_lone_surrogates(result.result)
    comments = [key['comment'] for key in account_of(result, victim)['keys']]
    assert 'caf\\xe9 \\xff' in comments, comments
    assert any('not valid UTF-8' in text for text in warnings_of(result)), result

    for module, args in (('ssh_key_info', {'user': victim.pw_name}),
                         ('ssh_authkey', {'user': victim.pw_name, 'key': key_line, 'state': 'absent'})):
        other = run(module, args, check=True, diff=True)
        assert not other.failed, other
        other.raw_stdout.decode('utf-8')
        assert '\\udc' not in other.stdout, other
        _no_lone_surrogates(other.result)

    host = dict((name, value) for name, value in result.result.items()
                if name not in ('warnings', 'deprecations', 'invocation'))
    report = run('access_report', {'results': {'kh7host': host}, 'dest': str(tmp_path),
                                   'generated_at': 'now'})
    assert not report.failed, report
    with open(os.path.join(str(tmp_path), 'access_report.csv'), 'rb') as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode('utf-8'))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, rows
    for cell in cells:
        assert not cell.startswith(('=', '+', '-', '@', '\t', '\r')), cell
    found = set(cell for row in rows[1:] for cell in row)
    for formula in FORMULAS[:4] + ('=1+2', '@x'):
        assert "'" + formula in found, (formula, rows)
