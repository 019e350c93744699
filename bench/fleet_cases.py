# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet-scale cases of `make bench` (issue 18), used by bench/run_bench.py.

- ``create``: the fleet with user creation on both sides (a: ``ansible.builtin.user``
  loop + the community.crypto / ansible.posix loop; b: the ``account`` role with
  ``account_create``, one ``provision`` call per host).
- ``ssh``: N sshd instances on 127.0.0.1 ports as N hosts, over SSH, forks 10,
  pipelining on, both sides.
- ``scale``: the ``provision`` module process run directly on one host for 10 ..
  5,000 accounts: wall time, peak RSS of the module process, result size, first
  run and rerun, and a fitted per-account cost.
- ``plot_svg``: a hand-written SVG of the scale curve and of the side-by-side ratios.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import time


# --------------------------------------------------------------------------- users in bulk

# Bench users get no /etc/subuid, /etc/subgid ranges: useradd gives each user 65,536 of them by
# default, and the default space (100,000..600,100,000) holds 9,155 users, which a few 5,000-user
# runs use up ("Can't get unique subordinate UID range") when a run is killed before its cleanup.
NO_SUBORDINATE_IDS = ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0']


def create_users_bulk(names, home_base):
    """The users of ``names`` that are missing (``useradd``; ``newusers`` is not used: through
    PAM it rewrites /etc/shadow once per user, quadratic, holding the passwd lock for minutes
    at 5,000 users). Users left by an interrupted run are reused."""
    os.makedirs(home_base, exist_ok=True)
    existing = set(entry.pw_name for entry in pwd.getpwall())
    for name in names:
        if name not in existing:
            subprocess.run(['useradd', '-M', '-d', os.path.join(home_base, name), '-s', '/bin/sh', '-p', '*']
                           + NO_SUBORDINATE_IDS + [name],
                           check=True, capture_output=True)
    for entry in pwd.getpwall():
        if entry.pw_name in names:
            os.makedirs(entry.pw_dir, exist_ok=True)
            os.chown(entry.pw_dir, entry.pw_uid, entry.pw_gid)
            os.chmod(entry.pw_dir, 0o755)


def delete_users_bulk(names):
    for name in names:
        subprocess.run(['userdel', '-r', '-f', name], capture_output=True, check=False)
        subprocess.run(['groupdel', name], capture_output=True, check=False)


def users_with_prefix(prefix):
    return sorted(entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(prefix))


# --------------------------------------------------------------------------- module process measurement

def run_module_process(vpy, module, args, env, logpath):
    """Run ``python -m module ARGS.json``: (seconds, peak RSS in MiB of that process, stdout bytes, result)."""
    start = time.perf_counter()
    proc = subprocess.Popen([vpy, '-m', module, args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # read first (the result may be larger than a pipe), then reap with the process's own rusage
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(logpath, 'wb') as handle:
        handle.write(b'# %.3f s, rc=%d, maxrss %d KiB\n' % (elapsed, proc.returncode, usage.ru_maxrss))
        handle.write(stdout[-20000:] + b'\n--- stderr ---\n' + stderr[-20000:])
    try:
        result = json.loads(stdout)
    except ValueError:
        raise RuntimeError('module %s did not return JSON (rc=%d), see %s' % (module, proc.returncode, logpath))
    if result.get('failed'):
        raise RuntimeError('module %s failed: %s (see %s)' % (module, str(result.get('msg'))[:500], logpath))
    return elapsed, usage.ru_maxrss / 1024.0, len(stdout), result


def fit_line(points):
    """Least squares ``seconds = fixed + per_account * accounts``."""
    n = len(points)
    if n < 2:
        return None, None
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _y in points)
    if not sxx:
        return None, None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return mean_y - slope * mean_x, slope


def scale_accounts(names, client_keys, with_tls=False):
    accounts = []
    for name in names:
        entry = {'name': name, 'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}],
                 'authorized_keys': [{'key': key} for key in client_keys]}
        if with_tls:
            host = '%s.bench.example.com' % name
            entry['ssl'] = [{'host': host, 'country': 'US', 'province': 'California', 'city': 'San Francisco',
                             'company': 'Example Inc', 'subject_alt_names': ['www.' + host]}]
        accounts.append(entry)
    return accounts


def scale_curve(log, vpy, modules, place, env, out, sizes, prefix, client_keys, with_tls=False, summary=True):
    """provision on one host for each size: first run and rerun, module process only."""
    home_base = '/tmp/%s-scale-homes' % prefix
    names = ['%ss%05d' % (prefix, i) for i in range(1, max(sizes) + 1)]
    scratch = os.path.join(out, 'scratch', 'scale')
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    logs = os.path.join(out, 'logs')
    os.makedirs(logs, exist_ok=True)
    env = dict(env, PYTHONPATH=place)
    module = modules + '.provision'
    res = {'sizes': sizes, 'items_per_account': 'ed25519 key pair + 3 authorized keys' + (
        ' + TLS key + CSR' if with_tls else ''), 'runs': []}
    log('scale: creating the missing ones of %d users %s..' % (len(names), names[0]))
    start = time.perf_counter()
    try:
        create_users_bulk(names, home_base)
        res['users_created_seconds'] = round(time.perf_counter() - start, 1)
        for size in sizes:
            accounts = scale_accounts(names[:size], client_keys, with_tls)
            for name in names[:size]:
                for sub in ('.ssh', 'ssl'):
                    shutil.rmtree(os.path.join(home_base, name, sub), ignore_errors=True)
            row = {'accounts': size}
            modes = [('full', {})] + ([('summary', {'report': 'summary'})] if summary else [])
            for phase in ('first', 'rerun'):
                for mode, extra in modes:
                    if phase == 'first' and mode == 'summary':
                        continue
                    args = os.path.join(scratch, 'args_%d_%s_%s.json' % (size, phase, mode))
                    with open(args, 'w') as handle:
                        json.dump({'ANSIBLE_MODULE_ARGS': dict({'accounts': accounts}, **extra)}, handle)
                    seconds, rss, size_bytes, result = run_module_process(
                        vpy, module, args, env, os.path.join(logs, 'scale-%d-%s-%s.log' % (size, phase, mode)))
                    if phase == 'first' and not result.get('changed'):
                        raise RuntimeError('scale %d: the first run changed nothing' % size)
                    if phase == 'rerun' and result.get('changed'):
                        raise RuntimeError('scale %d: the rerun changed something' % size)
                    key = phase if mode == 'full' else '%s_%s' % (phase, mode)
                    # the module echoes its arguments (invocation); the result proper is the rest
                    proper = len(json.dumps(dict((k, v) for k, v in result.items() if k != 'invocation')))
                    row[key] = {'seconds': round(seconds, 3), 'peak_rss_mib': round(rss, 1),
                                'result_bytes': size_bytes, 'result_bytes_without_invocation': proper}
                    log('scale %5d accounts, %s (%s result): %.2f s, peak RSS %.0f MiB, result %.1f KiB '
                        '(%.1f KiB without the invocation)'
                        % (size, phase, mode, seconds, rss, size_bytes / 1024.0, proper / 1024.0))
            res['runs'].append(row)
    finally:
        log('scale: removing %d users' % len(names))
        delete_users_bulk(names)
        shutil.rmtree(home_base, ignore_errors=True)
    for phase in ('first', 'rerun'):
        points = [(row['accounts'], row[phase]['seconds']) for row in res['runs']]
        fixed, per_account = fit_line(points)
        res['fit_%s' % phase] = {'fixed_seconds': round(fixed, 3) if fixed is not None else None,
                                 'per_account_ms': round(per_account * 1000, 3) if per_account is not None else None}
        by_size = dict(points)
        if 100 in by_size and max(sizes) in by_size and max(sizes) != 100:
            res['ratio_%d_vs_100_%s' % (max(sizes), phase)] = round(by_size[max(sizes)] / by_size[100], 1)
    return res


# --------------------------------------------------------------------------- sshd hosts

SSHD_CONFIG = '''Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/host_ed25519
PidFile {dir}/sshd_{port}.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {dir}/authorized_keys_root .ssh/authorized_keys
StrictModes no
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
'''


class SshdHosts:
    """N sshd instances on 127.0.0.1 ports, root logging in with a client key: N "hosts"."""

    def __init__(self, base_dir, port_base, count):
        self.dir = base_dir
        self.ports = list(range(port_base, port_base + count))
        self.procs = []

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, mode=0o700)
        os.makedirs('/run/sshd', exist_ok=True)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(self.dir, 'host_ed25519')],
                       check=True)
        self.client_key = os.path.join(self.dir, 'client_ed25519')
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', self.client_key], check=True)
        shutil.copy(self.client_key + '.pub', os.path.join(self.dir, 'authorized_keys_root'))
        sshd = shutil.which('sshd') or '/usr/sbin/sshd'
        for port in self.ports:
            config = os.path.join(self.dir, 'sshd_%d.conf' % port)
            with open(config, 'w') as handle:
                handle.write(SSHD_CONFIG.format(port=port, dir=self.dir))
            self.procs.append(subprocess.Popen([sshd, '-D', '-e', '-f', config],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        for proc, port in zip(self.procs, self.ports):
            if proc.poll() is not None:
                raise RuntimeError('sshd on port %d did not start' % port)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def inventory(self, path, vpy, host_vars, group_vars):
        hosts = {}
        for index, port in enumerate(self.ports):
            name = 'h%02d' % (index + 1)
            hosts[name] = dict({
                'ansible_host': '127.0.0.1', 'ansible_port': port, 'ansible_user': 'root',
                'ansible_ssh_private_key_file': self.client_key,
                'ansible_ssh_common_args': '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no '
                                           '-o IdentitiesOnly=yes -o LogLevel=ERROR',
                'ansible_python_interpreter': vpy,
            }, **host_vars[index])
        with open(path, 'w') as handle:
            json.dump({'all': {'hosts': hosts, 'vars': group_vars}}, handle)
        return sorted(hosts)


def recap_changed_total(output):
    """Sum of changed=N over the hosts of a PLAY RECAP."""
    total, seen = 0, False
    for line in output.splitlines():
        if ' : ok=' in line and 'changed=' in line:
            total += int(line.split('changed=')[1].split()[0])
            seen = True
    return total if seen else None


# --------------------------------------------------------------------------- plot

def plot_svg(path, scale, ratios):
    """Left: the scale curve (seconds vs accounts, first run and rerun, log-log). Right: the ratios a/b."""
    import math
    width, height = 900, 360
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="sans-serif" font-size="12">' % (width, height, width, height),
             '<rect width="100%" height="100%" fill="white"/>']
    # -- scale curve
    left, top, w, h = 60, 40, 360, 260
    parts.append('<text x="%d" y="22" font-size="14">provision on one host: wall time vs accounts (log-log)</text>' % left)
    runs = (scale or {}).get('runs') or []
    points = dict((phase, [(row['accounts'], row[phase]['seconds']) for row in runs if phase in row])
                  for phase in ('first', 'rerun'))
    all_points = points['first'] + points['rerun']
    if all_points:
        xs = [math.log10(x) for x, _y in all_points]
        ys = [math.log10(max(y, 1e-3)) for _x, y in all_points]
        x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
        y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)

        def px(x):
            return left + (math.log10(x) - x0) / (x1 - x0) * w

        def py(y):
            return top + h - (math.log10(max(y, 1e-3)) - y0) / (y1 - y0) * h
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (left, top, w, h))
        for e in range(x0, x1 + 1):
            x = left + (e - x0) / (x1 - x0) * w
            parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top, x, top + h))
            parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, top + h + 16, '{:,}'.format(10 ** e)))
        for e in range(y0, y1 + 1):
            y = top + h - (e - y0) / (y1 - y0) * h
            parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + w, y))
            parts.append('<text x="%d" y="%.1f" text-anchor="end">%g s</text>' % (left - 4, y + 4, 10 ** e))
        parts.append('<text x="%d" y="%d" text-anchor="middle">accounts</text>' % (left + w / 2, top + h + 32))
        for phase, colour in (('first', '#d62728'), ('rerun', '#1f77b4')):
            pts = points[phase]
            if not pts:
                continue
            parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
                colour, ' '.join('%.1f,%.1f' % (px(x), py(y)) for x, y in pts)))
            for x, y in pts:
                parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %d accounts, %.2f s</title>'
                             '</circle>' % (px(x), py(y), colour, phase, x, y))
            fit = scale.get('fit_%s' % phase) or {}
            label = '%s run' % phase + (' (%.2f ms/account)' % fit['per_account_ms'] if fit.get('per_account_ms') else '')
            ly = top + 14 + (0 if phase == 'first' else 16)
            parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (
                left + 8, ly - 4, left + 28, ly - 4, colour))
            parts.append('<text x="%d" y="%d">%s</text>' % (left + 32, ly, label))
    else:
        parts.append('<text x="%d" y="%d">(scale curve not measured)</text>' % (left, top + 20))
    # -- ratios
    left2, w2 = 560, 300
    parts.append('<text x="%d" y="22" font-size="14">side by side: anchor time / keysmith time</text>' % (left2 - 40))
    if ratios:
        top_ratio = max(value for _label, value, _goal in ratios if value) or 1
        top_ratio = max(top_ratio, max(goal or 0 for _label, _value, goal in ratios))
        bar_h = min(28, 260 // max(len(ratios), 1) - 8)
        for index, (label, value, goal) in enumerate(ratios):
            y = top + index * (bar_h + 8 + 12)
            parts.append('<text x="%d" y="%d">%s</text>' % (left2 - 40, y + 10, label))
            bw = (value or 0) / top_ratio * w2
            parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#2ca02c"/>' % (left2 - 40, y + 14, bw, bar_h))
            value_text = ('%.1fx' % value) if value else 'n/a'
            parts.append('<text x="%.1f" y="%d">%s</text>' % (left2 - 36 + bw, y + 14 + bar_h - 4, value_text))
            if goal:
                gx = left2 - 40 + goal / top_ratio * w2
                parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-dasharray="3,2">'
                             '<title>goal %gx</title></line>' % (gx, y + 12, gx, y + 16 + bar_h, goal))
        parts.append('<text x="%d" y="%d" fill="#555">dashed line: the goal of issue 18</text>' % (left2 - 40, height - 10))
    parts.append('</svg>')
    with open(path, 'w') as handle:
        handle.write('\n'.join(parts) + '\n')
