# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``usage`` case of `make bench` (issue 31): key usage from a 1 GiB auth log.

A synthetic ``auth.log`` of a busy host (traditional syslog format, a year's
worth of lines: 5,000 accounts with 2 keys each logging in from 2,000
addresses, every public key login with its session lines, plus cron sessions
and password scanners; about 6 % of the lines are ``Accepted publickey``) is
read by the collection's reader (``_ssh/usage``: streamed, one table keyed by
(user, fingerprint)) and joined to 5,000 audited accounts of 4 key lines each
(20,000 key lines), in one process: wall time and peak RSS (``wait4``). The
same with ``since`` set to the last 7 days (the file is bisected: only its
tail is read). Against what a user does today: ``grep -F | awk`` counting
logins and the last time per (user, fingerprint).

The ``usage_accounts`` case (:func:`accounts_bench`): 5,000 real accounts
(``bulk_users``: one locked write of /etc/passwd and friends, not 5,000
``useradd``) with 4 key lines each and a log of their logins; the
``authorized_keys_info`` module process with and without ``usage`` against
the shell pipeline a user would write today (``PIPELINE``). Every process's
wall time, CPU time (user + system) and peak RSS.

Standalone: ``.venv/bin/python bench/usage_case.py [--gib 1.0]`` prints the
figures (``--accounts-prefix PREFIX [--accounts N]`` for the accounts case);
``run_bench.py --only usage,usage_accounts --merge --user-prefix PREFIX``
records them in results.json.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import random
import subprocess
import sys
import tempfile
import time

READER = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import collect
path, since, accounts_count = sys.argv[2], sys.argv[3] or None, int(sys.argv[4])
fingerprints = json.load(open(sys.argv[5]))
start = time.perf_counter()
spec = collect.UsageSpec(paths=[path], sources=['files'], since=since, now=time.time())
accounts = [{'user': 'u%05d' % index, 'keys': [{'fingerprint': fp} for fp in fingerprints[index]]}
            for index in range(accounts_count)]
section = collect.attach(accounts, spec)
used = sum(1 for account in accounts for key in account['keys'] if key['uses'])
print(json.dumps({'seconds': time.perf_counter() - start, 'logins': section['logins'], 'keys_used': used,
                  'bytes_read': sum(item['bytes_read'] for item in section['sources']),
                  'complete': section['complete']}))
'''

AWK = ("LC_ALL=C grep -F 'Accepted publickey for' %s | LC_ALL=C awk '{k=$9\" \"$16; n[k]++; last[k]=$1\" \"$2\" \"$3}"
       " END{for (k in n) c++; print c}'")


def fingerprint(seed):
    return 'SHA256:' + base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip('=')


def make_log(path, size, accounts=5000, addresses=2000, seed=31, names=None, login_keys=None):
    """A synthetic auth.log of ``size`` bytes ending now; the fingerprints of every account.
    ``names``, ``login_keys``: the accounts' names and the fingerprints each logs in with
    (default ``u00000``.. with two keys each)."""
    rng = random.Random(seed)
    keys = login_keys or [[fingerprint('u%05d-%d' % (index, k)) for k in range(2)] for index in range(accounts)]
    names = names or ['u%05d' % index for index in range(accounts)]
    # two more key lines per account that never log in
    audited = [pair + [fingerprint('u%05d-unused-%d' % (index, k)) for k in range(2)] for index, pair in enumerate(keys)]
    ips = ['10.%d.%d.%d' % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)) for dummy in range(addresses)]
    now = int(time.time())
    # a block (a login and its session lines, a cron session, a scanner) is about 380 bytes on
    # average: the file spans about a year and ends about now
    step = 365 * 86400 * 380.0 / size
    clock = now - 365 * 86400
    written = 0
    pid = 1000
    with open(path, 'w') as out:
        buffer = []
        while written < size:
            clock += step
            stamp = time.strftime('%b %e %H:%M:%S', time.gmtime(clock))
            pid += 1
            kind = rng.random()
            if kind < 0.45:
                user = rng.randrange(accounts)
                ip = rng.choice(ips)
                port = rng.randrange(30000, 60000)
                block = (
                    '%s web1 sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 %s\n'
                    '%s web1 sshd[%d]: pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)\n'
                    '%s web1 systemd-logind[412]: New session %d of user %s.\n'
                    '%s web1 sshd[%d]: Received disconnect from %s port %d:11: disconnected by user\n'
                    '%s web1 sshd[%d]: Disconnected from user %s %s port %d\n'
                    '%s web1 sshd[%d]: pam_unix(sshd:session): session closed for user %s\n'
                    % (stamp, pid, names[user], ip, port, keys[user][rng.randrange(len(keys[user]))], stamp, pid,
                       names[user], 10000 + user, stamp, pid, names[user], stamp, pid, ip, port, stamp, pid,
                       names[user], ip, port, stamp, pid, names[user]))
            elif kind < 0.75:
                block = ('%s web1 CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n'
                         '%s web1 CRON[%d]: pam_unix(cron:session): session closed for user root\n'
                         % (stamp, pid, stamp, pid))
            else:
                ip = '203.0.113.%d' % rng.randrange(1, 255)
                block = ('%s web1 sshd[%d]: Invalid user admin from %s port %d\n'
                         '%s web1 sshd[%d]: Connection closed by invalid user admin %s port %d [preauth]\n'
                         '%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n'
                         % (stamp, pid, ip, 40000 + pid % 20000, stamp, pid, ip, 40000 + pid % 20000,
                            stamp, pid + 1, ip, 41000 + pid % 20000))
            buffer.append(block)
            written += len(block)
            if len(buffer) >= 4096:
                out.write(''.join(buffer))
                buffer = []
        out.write(''.join(buffer))
    os.utime(path, (clock, clock))
    return audited


def measured(cmd, env=None, cpu=None):
    """(seconds, peak RSS MiB of the process tree, stdout) of one process; ``cpu`` (a dict) gets its CPU
    seconds (user + system, of it and the children it waited for: on a loaded machine the fairer figure).

    The process is started by GNU ``time`` (a small process) and its figures are the ones ``time``
    reads with ``wait4``: a child forked by this (larger) Python process would start with this
    process's memory counted in its peak RSS (Linux carries the high-water mark over ``fork`` and
    ``exec``)."""
    report = tempfile.NamedTemporaryFile(prefix='usage-bench-', suffix='.time', delete=False)
    report.close()
    try:
        start = time.perf_counter()
        process = subprocess.Popen(['/usr/bin/time', '-o', report.name, '-f', '%M %U %S'] + list(cmd),
                                   stdout=subprocess.PIPE, env=env)
        out = process.stdout.read()
        status = process.wait()
        seconds = time.perf_counter() - start
        if status != 0:
            raise RuntimeError('%s failed (status %d)' % (cmd, status))
        with open(report.name) as handle:
            maxrss_kib, user, system = handle.read().split()[-3:]
    finally:
        os.unlink(report.name)
    if cpu is not None:
        cpu['cpu_seconds'] = round(float(user) + float(system), 2)
    return seconds, int(maxrss_kib) / 1024.0, out.decode()


def usage_bench(log, vpy, place_root, out_dir, gib=1.0, accounts=5000):
    """The figures of the case (see the module doc)."""
    work = os.path.join(out_dir, 'usage')
    os.makedirs(work, exist_ok=True)
    os.chmod(out_dir, 0o755)
    os.chmod(work, 0o755)
    path = os.path.join(work, 'auth.log')
    size = int(gib * 1024 ** 3)
    start = time.perf_counter()
    audited = make_log(path, size, accounts=accounts)
    log('usage: wrote %s (%.0f MiB) in %.0f s' % (path, os.path.getsize(path) / 1048576.0, time.perf_counter() - start))
    fps = os.path.join(work, 'fingerprints.json')
    with open(fps, 'w') as handle:
        json.dump(audited, handle)
    result = {'log_bytes': os.path.getsize(path), 'accounts': accounts, 'key_lines': accounts * 4,
              'lines_accepted_share': 'about 6 % of the lines'}
    # the file is read once beforehand so that every side finds it in the page cache alike
    subprocess.run(['cat', path], stdout=subprocess.DEVNULL, check=True)
    end = os.stat(path).st_mtime
    week = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(end - 7 * 86400))
    result['log_spans'] = [time.strftime('%Y-%m-%d', time.gmtime(end - 365 * 86400)),
                           time.strftime('%Y-%m-%d', time.gmtime(end))]
    for name, since in (('full', ''), ('since_7d', week)):
        cpu = {}
        seconds, rss, out = measured([vpy, '-c', READER, place_root, path, since, str(accounts), fps], cpu=cpu)
        figures = json.loads(out)
        figures.update(seconds_process=round(seconds, 2), peak_rss_mib=round(rss, 1),
                       seconds=round(figures['seconds'], 2), **cpu)
        result[name] = figures
        log('usage %s: %.1f s (%.1f s CPU), %.0f MiB, %d logins, %d of %d key lines used, %.0f MiB read' % (
            name, seconds, cpu['cpu_seconds'], rss, figures['logins'], figures['keys_used'], accounts * 4,
            figures['bytes_read'] / 1048576.0))
    cpu = {}
    seconds, rss, out = measured(['sh', '-c', AWK % path], cpu=cpu)
    result['grep_awk'] = dict({'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1), 'pairs': int(out.strip()),
                               'command': AWK % 'auth.log'}, **cpu)
    log('usage grep|awk: %.1f s (%.1f s CPU), %.0f MiB' % (seconds, cpu['cpu_seconds'], rss))
    os.unlink(path)
    return result


# What a user does today for the same question: the logins per (user, fingerprint) from the log, every
# account's key fingerprints (ssh-keygen -lf per authorized_keys file, found through /etc/passwd), joined.
# It reads one file (no rotated or gzipped copies), trusts every "Accepted publickey" line whoever wrote it,
# ignores certificate logins' CA lines and knows nothing of the lines sshd refuses.
PIPELINE = r"""set -e
cd "$WORK"
LC_ALL=C grep -F 'Accepted publickey for' "$LOG" \
  | LC_ALL=C awk '{k=$9" "$16; n[k]++; last[k]=$1" "$2" "$3} END{for (k in n) print k, n[k], last[k]}' > used.txt
while IFS=: read -r name pw uid gid gecos home shell; do
  case "$name" in "$PREFIX"*) ssh-keygen -lf "$home/.ssh/authorized_keys" | awk -v u="$name" '{print u, $2}';; esac
done < /etc/passwd > keys.txt
LC_ALL=C awk 'NR==FNR{k=$1" "$2; n[k]=$3; last[k]=$4" "$5" "$6; next}
  {k=$1" "$2; if (k in n) {u++; print k, n[k], last[k]} else print k, "unused"}
  END{print u > "used_count.txt"}' used.txt keys.txt > report.txt
cat used_count.txt
"""


def _ed25519(comment):
    blob = b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + os.urandom(32)
    line = 'ssh-ed25519 %s %s' % (base64.b64encode(blob).decode(), comment)
    return line, 'SHA256:' + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip('=')


def accounts_bench(log, vpy, modules, place_root, out_dir, prefix, accounts=5000, gib=0.25):
    """``authorized_keys_info`` with ``usage`` over ``accounts`` real accounts (3 team keys on every
    account, one key of its own; logins with all four) and an auth.log of ``gib`` GiB: the module
    process's time and peak memory, with and without usage, against the shell pipeline above."""
    import bulk_users
    work = os.path.join(out_dir, 'usage_accounts')
    os.makedirs(work, exist_ok=True)
    for path in (out_dir, work):
        os.chmod(path, 0o755)
    home_base = '/tmp/%s-usage-homes' % prefix
    names = ['%su%05d' % (prefix, index) for index in range(accounts)]
    team = [_ed25519('team%d@bench' % index) for index in range(3)]
    own = [_ed25519('own@%s' % name) for name in names]
    result = {'accounts': accounts, 'key_lines': accounts * 4,
              'keys': '3 team keys on every account + 1 own key; logins with all four'}
    start = time.perf_counter()
    try:
        bulk_users.add_users(names, home_base)
        for name, (line, dummy) in zip(names, own):
            entry = pwd.getpwnam(name)
            ssh = os.path.join(entry.pw_dir, '.ssh')
            os.makedirs(ssh, exist_ok=True)
            path = os.path.join(ssh, 'authorized_keys')
            with open(path, 'w') as handle:
                handle.write('\n'.join([item[0] for item in team] + [line]) + '\n')
            for item, mode in ((ssh, 0o700), (path, 0o600)):
                os.chown(item, entry.pw_uid, entry.pw_gid)
                os.chmod(item, mode)
        result['accounts_created_seconds'] = round(time.perf_counter() - start, 1)
        log('usage accounts: %d accounts with keys in %.0f s' % (accounts, result['accounts_created_seconds']))
        path = os.path.join(work, 'auth.log')
        make_log(path, int(gib * 1024 ** 3), accounts=accounts, names=names,
                 login_keys=[[item[1] for item in team] + [fp] for dummy, fp in own])
        result['log_bytes'] = os.path.getsize(path)
        subprocess.run(['cat', path], stdout=subprocess.DEVNULL, check=True)
        env = dict(os.environ, PYTHONPATH=place_root)
        for name, usage in (('module_usage', {'paths': [path], 'sources': ['files']}), ('module_no_usage', None)):
            args = os.path.join(work, 'args_%s.json' % name)
            module_args = {'users': names}
            if usage:
                module_args['usage'] = usage
            with open(args, 'w') as handle:
                json.dump({'ANSIBLE_MODULE_ARGS': module_args}, handle)
            cpu = {}
            seconds, rss, out = measured([vpy, '-m', modules + '.authorized_keys_info', args], env=env, cpu=cpu)
            got = json.loads(out)
            if got.get('failed'):
                raise RuntimeError('authorized_keys_info failed: %s' % str(got.get('msg'))[:500])
            figures = dict({'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1), 'result_bytes': len(out),
                            'keys': got['summary']['keys']}, **cpu)
            if usage:
                section = got['usage']
                figures.update(logins=section['logins'], keys_used=section['keys_used'],
                               keys_unused=section['keys_unused'], complete=section['complete'])
            result[name] = figures
            log('usage accounts %s: %.1f s (%.1f s CPU), %.0f MiB, %s' % (
                name, seconds, cpu['cpu_seconds'], rss, json.dumps(figures)))
        cpu = {}
        seconds, rss, out = measured(['sh', '-c', PIPELINE], cpu=cpu,
                                     env=dict(os.environ, WORK=work, LOG=path, PREFIX=prefix + 'u'))
        result['shell_pipeline'] = dict({'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1),
                                         'keys_used': int(out.strip() or 0), 'command': PIPELINE}, **cpu)
        log('usage accounts shell pipeline: %.1f s (%.1f s CPU), %.0f MiB, %s key lines used' % (
            seconds, cpu['cpu_seconds'], rss, out.strip()))
        os.unlink(path)
    finally:
        bulk_users.remove_users(prefix, names)
        import shutil
        shutil.rmtree(home_base, ignore_errors=True)
        result['total_seconds'] = round(time.perf_counter() - start, 1)
    return result


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--gib', type=float, default=1.0)
    parser.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'output'))
    parser.add_argument('--place-root', default=None, help='the directory holding ansible_collections/')
    parser.add_argument('--accounts-prefix', default=None,
                        help='run the 5,000 accounts case instead, its account names starting with this')
    parser.add_argument('--accounts', type=int, default=5000)
    opts = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    place_root = opts.place_root
    if place_root is None:
        place_root = os.path.join(opts.out, 'usage-collection')
        link = os.path.join(place_root, 'ansible_collections', 'keysmith')
        os.makedirs(link, exist_ok=True)
        if not os.path.exists(os.path.join(link, 'accounts')):
            os.symlink(root, os.path.join(link, 'accounts'))
    os.makedirs(opts.out, exist_ok=True)
    if opts.accounts_prefix:
        result = accounts_bench(lambda msg: print(msg, flush=True), sys.executable,
                                'ansible_collections.keysmith.accounts.plugins.modules', place_root, opts.out,
                                opts.accounts_prefix, accounts=opts.accounts, gib=opts.gib)
        print(json.dumps(result, indent=1))
        return
    result = usage_bench(lambda msg: print(msg, flush=True), sys.executable, place_root, opts.out, opts.gib)
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
