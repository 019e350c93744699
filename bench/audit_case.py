# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``audit`` case of `make bench` (issue 26, "Speed and memory"), used by bench/run_bench.py.

``authorized_keys_info`` on one host for 250 .. 5,000 accounts that share keys:
every account's ``~/.ssh/authorized_keys`` holds the same 3 team keys and one
key of its own. Measured for the module process run directly and for
``ansible-playbook`` running the one task (whole task, controller included):
wall time, peak RSS (of the module process; of the largest process of the
playbook's tree, which ``wait4`` reports), and the size of the result.
Optionally the same for another git ref (``--audit-before-ref``: the code
before the change), exported with ``git archive``. Users: ``<prefix>a00001..``,
made with ``useradd`` without subordinate ids and removed at the end.
"""

from __future__ import annotations

import json
import os
import pwd
import resource
import shutil
import subprocess
import time

import fleet_cases

PLAYBOOK = '''- name: Audit the bench accounts
  hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: Who can log in with which key
      keysmith.accounts.authorized_keys_info:
        users: "{{ bench_audit_users }}"
      register: bench_audit
    - name: Counts (the result reached the controller)
      ansible.builtin.debug:
        msg: "{{ bench_audit.summary.keys }} keys, {{ bench_audit.summary.accepted }} accepted"
'''


def export_ref(root, ref, dest):
    """``git archive REF`` of the checkout as dest/ansible_collections/keysmith/accounts: the collection path."""
    commit = subprocess.run(['git', '-C', root, 'rev-parse', ref], check=True, capture_output=True,
                            text=True).stdout.strip()
    target = os.path.join(dest, 'ansible_collections', 'keysmith', 'accounts')
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(target)
    archive = subprocess.Popen(['git', '-C', root, 'archive', commit], stdout=subprocess.PIPE)
    subprocess.run(['tar', '-x', '-C', target], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError('git archive %s failed' % ref)
    return dest, commit


def _limit_memory(limit_mib):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit_mib * 1024 * 1024, limit_mib * 1024 * 1024))
    return apply


def timed_process(argv, env, logpath, timeout, limit_mib):
    """(seconds, peak RSS MiB of the process and its waited-for children, stdout bytes, rc, note)."""
    start = time.perf_counter()
    with open(logpath + '.stdout', 'wb') as out, open(logpath + '.stderr', 'wb') as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, preexec_fn=_limit_memory(limit_mib))
        deadline = start + timeout
        note = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                note = 'killed after %d s' % timeout
                break
            time.sleep(0.05)
    elapsed = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0 and note is None:
        note = 'exit status %d (memory limit %d MiB?), see %s' % (rc, limit_mib, logpath)
    return elapsed, usage.ru_maxrss / 1024.0, os.path.getsize(logpath + '.stdout'), rc, note


def prepare(names, home_base, team_keys, own_key):
    fleet_cases.create_users_bulk(names, home_base)
    for name in names:
        entry = pwd.getpwnam(name)
        ssh = os.path.join(entry.pw_dir, '.ssh')
        os.makedirs(ssh, exist_ok=True)
        path = os.path.join(ssh, 'authorized_keys')
        with open(path, 'w') as handle:
            handle.write('\n'.join(team_keys + [own_key(name)]) + '\n')
        for item, mode in ((ssh, 0o700), (path, 0o600)):
            os.chown(item, entry.pw_uid, entry.pw_gid)
            os.chmod(item, mode)


def audit_curve(log, vpy, modules, sides, env, out, sizes, prefix, team_keys, own_key, timeout=600,
                limit_mib=8192, before_sizes=None, on_measured=None):
    """``sides``: [(label, collections path, commit)]; the first is the code measured for every size,
    the others for ``before_sizes``. ``on_measured(res)`` is called before the users are removed
    (removing 5,000 users takes many minutes: the figures are saved first)."""
    home_base = '/tmp/%s-audit-homes' % prefix
    names = ['%sa%05d' % (prefix, i) for i in range(1, max(sizes) + 1)]
    scratch = os.path.join(out, 'scratch', 'audit')
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    logs = os.path.join(out, 'logs')
    os.makedirs(logs, exist_ok=True)
    playbook = os.path.join(scratch, 'audit.yml')
    with open(playbook, 'w') as handle:
        handle.write(PLAYBOOK)
    res = {'sizes': sizes, 'keys_per_account': '3 team keys (on every account) + 1 own key',
           'memory_limit_mib': limit_mib, 'timeout_seconds': timeout, 'sides': {}}
    log('audit: creating the missing ones of %d users %s..' % (len(names), names[0]))
    start = time.perf_counter()
    try:
        prepare(names, home_base, team_keys, own_key)
        res['users_created_seconds'] = round(time.perf_counter() - start, 1)
        for index, (label, place, commit) in enumerate(sides):
            runs = []
            res['sides'][label] = {'commit': commit, 'runs': runs}
            for size in (sizes if index == 0 or before_sizes is None else before_sizes):
                row = {'accounts': size}
                args = os.path.join(scratch, 'args_%s_%d.json' % (label, size))
                with open(args, 'w') as handle:
                    json.dump({'ANSIBLE_MODULE_ARGS': {'users': names[:size]}}, handle)
                varsfile = os.path.join(scratch, 'vars_%d.json' % size)
                with open(varsfile, 'w') as handle:
                    json.dump({'bench_audit_users': names[:size]}, handle)
                for kind, argv, side_env in (
                        ('module', [vpy, '-m', modules + '.authorized_keys_info', args], dict(env, PYTHONPATH=place)),
                        ('playbook', ['ansible-playbook', playbook, '-e', '@' + varsfile],
                         dict(env, ANSIBLE_COLLECTIONS_PATH=place))):
                    logpath = os.path.join(logs, 'audit-%s-%d-%s' % (label, size, kind))
                    seconds, rss, size_bytes, rc, note = timed_process(argv, side_env, logpath, timeout, limit_mib)
                    row[kind] = {'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1)}
                    if kind == 'module':
                        row[kind]['result_bytes'] = size_bytes
                        if rc == 0:
                            with open(logpath + '.stdout') as handle:
                                result = json.load(handle)
                            row[kind]['keys'] = result['summary']['keys']
                            if result['summary']['accounts'] != size:
                                raise RuntimeError('audit %s %d: %d accounts audited'
                                                   % (label, size, result['summary']['accounts']))
                    if note:
                        row[kind]['note'] = note
                    log('audit %-6s %5d accounts, %-8s: %.2f s, peak RSS %.0f MiB%s%s'
                        % (label, size, kind, seconds, rss,
                           ', result %.1f MiB' % (size_bytes / 1048576.0) if kind == 'module' else '',
                           ' (%s)' % note if note else ''))
                runs.append(row)
            for kind in ('module', 'playbook'):
                points = [(row['accounts'], row[kind]['seconds']) for row in runs if 'note' not in row[kind]]
                fixed, per_account = fleet_cases.fit_line(points)
                res['sides'][label]['fit_%s' % kind] = {
                    'fixed_seconds': round(fixed, 3) if fixed is not None else None,
                    'per_account_ms': round(per_account * 1000, 3) if per_account is not None else None}
        if on_measured is not None:
            on_measured(res)
    finally:
        log('audit: removing %d users' % len(names))
        fleet_cases.delete_users_bulk(names)
        shutil.rmtree(home_base, ignore_errors=True)
    return res
