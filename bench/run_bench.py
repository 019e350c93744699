# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: keysmith.accounts against the way it is done today, side by side.

Run with the project venv, as root (it creates and removes the system users
kbench001..): ``.venv/bin/python bench/run_bench.py [--accounts N] [--reruns N]``.

Every case is a whole process (``ansible-playbook``, ``ansible`` or a module run
directly), timed with ``time.perf_counter`` around ``subprocess.run``. The
machine may be shared: the ratios are the figures, absolute times are noisy.
Results: ``bench/results.json`` (committed summary) and ``bench/output/``
(logs, profiles, scratch; git-ignored). See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import pwd
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet_cases  # noqa: E402  (bench/fleet_cases.py: the fleet-scale cases of issue 18)
import audit_case  # noqa: E402  (bench/audit_case.py: authorized_keys_info at scale, issue 26)
import cert_case  # noqa: E402  (bench/cert_case.py: certificates and KRLs, issue 30)
import usage_case  # noqa: E402  (bench/usage_case.py: key usage from a 1 GiB auth log, issue 31)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
OUT = os.path.join(BENCH, 'output')
PLAYBOOKS = os.path.join(BENCH, 'playbooks')
RESULTS = os.path.join(BENCH, 'results.json')
PLOT = os.path.join(ROOT, 'docs', 'benchmark-fleet.svg')
VPY = os.path.join(ROOT, '.venv', 'bin', 'python')
VBIN = os.path.dirname(VPY)
ANSIBLE_VERSION = '12.3.0'          # the `ansible` package on PyPI that ships the comparison collections
COMPARISON = ('community/crypto', 'ansible/posix')
USER_PREFIX = 'kbench'
MODULES = 'ansible_collections.keysmith.accounts.plugins.modules'
# Profile lines name files of the placed collection; shown relative to it.
PLACED_PREFIX = os.path.join(tempfile.gettempdir(), 'keysmith-bench-%s' % hashlib.sha256(ROOT.encode()).hexdigest()[:12],
                             'ansible_collections', 'keysmith', 'accounts') + '/'

TARGETS = {
    'fleet_first': 40.0,     # (b) at least 40x faster than (a) on the first run (issue 18; was 10x)
    'fleet_rerun': 80.0,     # ... and 80x on the unchanged rerun (issue 18; was 20x)
    'create_first': 30.0,    # with user creation on both sides
    'ssh_first': 20.0,       # 10 hosts over SSH, first run
    'ssh_rerun': 20.0,       # ... and rerun
    'scale_5000_vs_100': 55.0,  # 5,000 accounts cost at most 55x 100 accounts (linear)
    'scale_rerun_rss_mib': 300.0,  # a 5,000-account rerun within a few hundred MiB
    'authkey_seconds': 0.5,  # ssh_authkey on 10,000 lines, module time
    'audit_5000_seconds': 10.0,   # authorized_keys_info on 5,000 accounts sharing keys: whole task (issue 26)
    'audit_5000_rss_mib': 400.0,  # ... within a few hundred MiB, module and ansible-playbook
    'certs_first': 20.0,     # ssh_cert in one call at least 20x faster than an openssh_cert loop (issue 30)
    'krl_seconds': 1.0,      # a 10,000-entry KRL built, and a key checked against it, each under 1 s
}


# --------------------------------------------------------------------------- helpers

def log(msg):
    print('==> [%s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def median(values):
    return statistics.median(values) if values else None


def place_collection():
    """ansible_collections/keysmith/accounts -> this checkout, outside the repo."""
    base = PLACED_PREFIX.split('/ansible_collections/')[0]
    ns = os.path.join(base, 'ansible_collections', 'keysmith')
    os.makedirs(ns, exist_ok=True)
    link = os.path.join(ns, 'accounts')
    if os.path.islink(link) and os.readlink(link) == ROOT:
        return base
    tmp = link + '.new'
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(ROOT, tmp)
    os.replace(tmp, link)
    return base


def install_comparison():
    """community.crypto and ansible.posix from the `ansible` wheel into bench/output/collections (cached)."""
    dest = os.path.join(OUT, 'collections')
    manifests = [os.path.join(dest, 'ansible_collections', c, 'MANIFEST.json') for c in COMPARISON]
    if not all(os.path.exists(m) for m in manifests):
        dl = os.path.join(OUT, 'dl')
        wheel = os.path.join(dl, 'ansible-%s-py3-none-any.whl' % ANSIBLE_VERSION)
        if not os.path.exists(wheel):
            log('downloading ansible==%s (only for community.crypto and ansible.posix)' % ANSIBLE_VERSION)
            subprocess.run([VPY, '-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check',
                            'ansible==%s' % ANSIBLE_VERSION, '-d', dl], check=True)
        log('extracting %s from %s' % (', '.join(c.replace('/', '.') for c in COMPARISON), os.path.basename(wheel)))
        shutil.rmtree(dest, ignore_errors=True)
        prefixes = tuple('ansible_collections/%s/' % c for c in COMPARISON)
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith(prefixes):
                    archive.extract(name, dest)
    versions = {}
    for collection, manifest in zip(COMPARISON, manifests):
        with open(manifest) as handle:
            versions[collection.replace('/', '.')] = json.load(handle)['collection_info']['version']
    return dest, versions


def tool_version(cmd):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def machine_info():
    code = ('import ansible, cryptography, sys; '
            'print(ansible.__version__); print(cryptography.__version__); print(sys.version.split()[0])')
    proc = subprocess.run([VPY, '-c', code], capture_output=True, text=True, check=True)
    core, crypto, pyver = proc.stdout.split()
    return {
        'nproc': os.cpu_count(),
        'platform': platform.platform(),
        'python': pyver,
        'ansible_core': core,
        'cryptography': crypto,
        'openssh': tool_version(['ssh', '-V']),
        'openssl': tool_version(['openssl', 'version']),
        'loadavg_start': [round(x, 2) for x in os.getloadavg()],
    }


def ed25519_line(comment):
    """A valid ed25519 public key line from a random 32-byte blob (no key generation)."""
    blob = struct.pack('>I', 11) + b'ssh-ed25519' + struct.pack('>I', 32) + os.urandom(32)
    return 'ssh-ed25519 %s %s' % (base64.b64encode(blob).decode('ascii'), comment)


# --------------------------------------------------------------------------- runner

class Runner:
    def __init__(self, env):
        self.env = env
        self.logdir = os.path.join(OUT, 'logs')
        os.makedirs(self.logdir, exist_ok=True)
        self.count = 0

    def timed(self, name, cmd, env=None, check=True, cwd=None):
        """Run ``cmd`` once; (seconds, CompletedProcess). Output goes to bench/output/logs."""
        self.count += 1
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env or self.env, capture_output=True, text=True, cwd=cwd or OUT, check=False)
        elapsed = time.perf_counter() - start
        path = os.path.join(self.logdir, '%03d-%s.log' % (self.count, name))
        with open(path, 'w') as handle:
            handle.write('$ %s\n# %.3f s, rc=%d\n\n%s\n--- stderr ---\n%s' % (
                ' '.join(cmd), elapsed, proc.returncode, proc.stdout, proc.stderr))
        if check and proc.returncode != 0:
            raise RuntimeError('%s failed (rc=%d), see %s:\n%s%s' % (
                name, proc.returncode, path, proc.stdout[-3000:], proc.stderr[-3000:]))
        return elapsed, proc


def recap_changed(output):
    """changed=N of the localhost line of a PLAY RECAP."""
    for line in output.splitlines():
        if line.startswith('localhost') and 'changed=' in line:
            return int(line.split('changed=')[1].split()[0])
    return None


# --------------------------------------------------------------------------- users

def bench_users(count):
    return ['%s%03d' % (USER_PREFIX, i) for i in range(1, count + 1)]


def existing_bench_users():
    return sorted(entry.pw_name for entry in pwd.getpwall()
                  if entry.pw_name.startswith(USER_PREFIX) and entry.pw_name[len(USER_PREFIX):].isdigit())


def create_users(names):
    for name in names:
        subprocess.run(['useradd', '-m', '-s', '/bin/bash'] + fleet_cases.NO_SUBORDINATE_IDS + [name], check=True)


def delete_users(names):
    for name in names:
        subprocess.run(['userdel', '-r', name], capture_output=True, check=False)


def clean_homes(accounts):
    for account in accounts:
        for sub in ('.ssh', 'ssl'):
            shutil.rmtree(os.path.join(account['home'], sub), ignore_errors=True)


def check_fleet(accounts, with_tls):
    """Every account has what the task asked for (so both sides really did the work)."""
    problems = []
    for account in accounts:
        home = account['home']
        wanted = [os.path.join(home, '.ssh', 'id_ed25519'), os.path.join(home, '.ssh', 'id_ed25519.pub')]
        if with_tls:
            wanted += [os.path.join(home, 'ssl', 'keys', account['host'] + '.key'),
                       os.path.join(home, 'ssl', 'csrs', account['host'] + '.csr')]
        problems += ['missing %s' % path for path in wanted if not os.path.exists(path)]
        try:
            with open(os.path.join(home, '.ssh', 'authorized_keys')) as handle:
                keys = [line for line in handle if line.strip() and not line.startswith('#')]
            if len(keys) != 3:
                problems.append('%s: %d authorized keys' % (account['name'], len(keys)))
        except OSError as exc:
            problems.append(str(exc))
    return problems


# --------------------------------------------------------------------------- detection

def detect_b(runner):
    """How (b) runs: the account role with ssl items, or a documented fallback."""
    role = os.path.exists(os.path.join(ROOT, 'roles', 'account', 'tasks', 'main.yml'))
    proc = subprocess.run([os.path.join(VBIN, 'ansible-doc'), '-j', 'keysmith.accounts.provision'],
                          env=runner.env, capture_output=True, text=True, cwd=OUT, check=False)
    provision_ssl = False
    if proc.returncode == 0:
        doc = json.loads(proc.stdout)['keysmith.accounts.provision']['doc']
        provision_ssl = 'ssl' in doc['options']['accounts'].get('suboptions', {})
    role_ssl = False
    gate = os.path.join(ROOT, 'roles', 'ssl_account', 'vars', 'main.yml')
    if role and os.path.exists(gate):
        import yaml  # ansible-core's dependency
        with open(gate) as handle:
            role_ssl = bool((yaml.safe_load(handle) or {}).get('__ssl_account_ssl_supported', True))
    elif role:
        role_ssl = True
    if role and provision_ssl and role_ssl:
        return {'playbook': 'fleet_role.yml', 'with_tls': True, 'full': True,
                'label': 'account role (ssh key, 3 authorized keys, TLS key + CSR)'}
    if provision_ssl:
        return {'playbook': 'fleet_provision.yml', 'with_tls': True, 'full': True,
                'label': 'provision module directly (the account role %s)' % (
                    'is missing' if not role else 'does not pass ssl items yet')}
    why = 'keysmith.accounts.provision does not take ssl items yet'
    if role:
        return {'playbook': 'fleet_role.yml', 'with_tls': False, 'full': False, 'why': why,
                'label': 'account role WITHOUT TLS (%s)' % why}
    return {'playbook': 'fleet_provision.yml', 'with_tls': False, 'full': False, 'why': why + '; no account role',
            'label': 'provision module directly WITHOUT TLS (%s; no account role)' % why}


# --------------------------------------------------------------------------- fleet

def fleet_vars(names, client_keys, with_tls, create=False):
    """``create``: the users do not exist yet (homes /home/NAME, made by the run)."""
    accounts, role_users = [], []
    for name in names:
        host = '%s.bench.example.com' % name
        home = os.path.join('/home', name) if create else pwd.getpwnam(name).pw_dir
        account = {'name': name, 'home': home, 'host': host, 'sans': ['www.' + host],
                   'country': 'US', 'province': 'California', 'city': 'San Francisco', 'company': 'Example Inc'}
        accounts.append(account)
        user = {'name': name,
                'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}],
                'authorized_keys': [{'key': key} for key in client_keys]}
        if with_tls:
            user['ssl'] = [{'host': host, 'country': 'US', 'province': 'California', 'city': 'San Francisco',
                            'company': 'Example Inc', 'subject_alt_names': ['www.' + host]}]
        if create:
            user['shell'] = '/bin/sh'
        role_users.append(user)
    return {'bench_accounts': accounts, 'bench_client_keys': client_keys, 'bench_role_users': role_users}


class FleetSide:
    """One side of the fleet comparison, on its own set of users."""

    def __init__(self, key, playbook, varsfile, accounts, with_tls, tags=None, extra=None, env=None):
        self.key = key
        self.accounts = accounts
        self.with_tls = with_tls
        self.env = env
        self.cmd = [os.path.join(VBIN, 'ansible-playbook'), os.path.join(PLAYBOOKS, playbook)]
        if varsfile:
            self.cmd += ['-e', '@' + varsfile]
        self.cmd += list(extra or [])
        if tags:
            self.cmd += ['--tags', tags]
        self.result = {'playbook': playbook, 'tags': tags, 'accounts': '%s..%s' % (accounts[0]['name'], accounts[-1]['name']),
                       'reruns': [], 'rerun_changed': [], 'loadavg_1min': []}

    def first(self, runner):
        clean_homes(self.accounts)
        log('%s: first run (%s, %d accounts)' % (self.key, ' '.join(self.cmd[1:]), len(self.accounts)))
        load = os.getloadavg()[0]
        elapsed, proc = runner.timed(self.key + '-first', self.cmd, env=self.env)
        self.result.update({'first': round(elapsed, 3), 'first_changed': fleet_cases.recap_changed_total(proc.stdout)})
        self.result['loadavg_1min'].append(round(load, 2))
        problems = check_fleet(self.accounts, self.with_tls)
        if problems:
            raise RuntimeError('%s: the first run did not provision everything: %s' % (self.key, '; '.join(problems[:5])))
        log('%s: first run %.1f s (load %.1f)' % (self.key, elapsed, load))

    def rerun(self, runner, index):
        load = os.getloadavg()[0]
        elapsed, proc = runner.timed('%s-rerun%d' % (self.key, index + 1), self.cmd, env=self.env)
        self.result['reruns'].append(round(elapsed, 3))
        self.result['rerun_changed'].append(fleet_cases.recap_changed_total(proc.stdout))
        self.result['loadavg_1min'].append(round(load, 2))
        log('%s: rerun %d %.1f s (changed=%s, load %.1f)' % (self.key, index + 1, elapsed, self.result['rerun_changed'][-1], load))

    def finish(self):
        self.result['rerun_median'] = round(median(self.result['reruns']), 3) if self.result['reruns'] else None
        if any(self.result['rerun_changed']):
            self.result['warning'] = 'a rerun reported changes: not idempotent'
        return self.result


def run_fleet(runner, sides, reruns):
    """Interleaved, so that a change of the machine's load hits every side alike:
    first runs a, b, ...; then rerun 1 of a, b, ...; and so on."""
    for side in sides:
        side.first(runner)
    for index in range(reruns):
        for side in sides:
            side.rerun(runner, index)
    return [side.finish() for side in sides]


def provision_inprocess(place, accounts_b, out_name=None):
    """plan()+apply() of provision for all accounts in-process: (seconds, top profile lines or None).

    With ``out_name`` under cProfile (where (b)'s module time goes; the profiler
    slows Python code down, so the seconds of a profiled run are not a figure).
    """
    sys.path.insert(0, place)
    try:
        from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
        profiler = cProfile.Profile() if out_name else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        operation = Provision(json.loads(json.dumps(accounts_b)))
        plan = operation.plan()
        if plan.changed:
            plan.apply()
        operation.result(plan, plan.changed)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
    finally:
        sys.path.remove(place)
    return round(elapsed, 3), save_profile(profiler, out_name) if profiler else None


def save_profile(profiler, out_name, lines=14):
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats('cumulative').print_stats(40)
    with open(os.path.join(OUT, out_name), 'w') as handle:
        handle.write(buf.getvalue())
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats('tottime').print_stats(lines)
    top = [line.rstrip().replace(PLACED_PREFIX, '').replace(ROOT + '/', '').replace(sys.prefix + '/', '')
           for line in buf.getvalue().splitlines() if line.strip() and line.lstrip()[:1].isdigit()]
    return top


# --------------------------------------------------------------------------- single module cost

def single_module(runner, place, repeats):
    scratch = os.path.join(OUT, 'scratch', 'single')
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    adhoc = os.path.join(VBIN, 'ansible')
    res = {}

    def series(name, make_cmd, count=repeats, env=None):
        times = []
        for index in range(count):
            elapsed, dummy = runner.timed('%s-%d' % (name, index + 1), make_cmd(index), env=env)
            times.append(round(elapsed, 3))
        res[name] = {'raw': times, 'median': round(median(times), 3)}
        log('%s: median %.2f s %s' % (name, res[name]['median'], times))

    series('ping', lambda i: [adhoc, 'localhost', '-m', 'ping'])
    series('ssh_genkey_ed25519_first', lambda i: [
        adhoc, 'localhost', '-m', 'keysmith.accounts.ssh_genkey',
        '-a', 'path=%s/ed25519_%d type=ed25519' % (scratch, i)])
    series('ssh_genkey_ed25519_unchanged', lambda i: [
        adhoc, 'localhost', '-m', 'keysmith.accounts.ssh_genkey', '-a', 'path=%s/ed25519_0 type=ed25519' % scratch])
    for backend in ('cryptography', 'ssh-keygen'):
        series('rsa4096_%s' % backend, lambda i, b=backend: [
            adhoc, 'localhost', '-m', 'keysmith.accounts.ssh_genkey',
            '-a', 'path=%s/rsa_%s_%d type=rsa bits=4096 backend=%s' % (scratch, b, i, b)])
    # The same RSA generation as a module process run directly (no controller): module time only.
    for backend in ('cryptography', 'ssh-keygen'):
        def direct(i, b=backend):
            args = os.path.join(scratch, 'args_rsa_%s_%d.json' % (b, i))
            with open(args, 'w') as handle:
                json.dump({'ANSIBLE_MODULE_ARGS': {'path': '%s/direct_rsa_%s_%d' % (scratch, b, i),
                                                   'type': 'rsa', 'bits': 4096, 'backend': b}}, handle)
            return [VPY, '-m', MODULES + '.ssh_genkey', args]
        series('rsa4096_%s_module' % backend, direct, env=dict(runner.env, PYTHONPATH=place))
    return res


# --------------------------------------------------------------------------- ssh_authkey on 10,000 lines

def authkey_large(runner, place, repeats, lines_count=10000):
    base = os.path.join(OUT, 'scratch', 'authkey')
    shutil.rmtree(base, ignore_errors=True)
    home = os.path.join(base, 'home')
    os.makedirs(os.path.join(home, '.ssh'), mode=0o700)
    path = os.path.join(home, '.ssh', 'authorized_keys')
    lines = [ed25519_line('user%05d@bench' % i) for i in range(lines_count)]
    content = ('\n'.join(lines) + '\n').encode()
    small = ('\n'.join(lines[:3]) + '\n').encode()

    def reset(data=content):
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chmod(path, 0o600)

    def args_file(name, key):
        args = os.path.join(base, name + '.json')
        with open(args, 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': {'home': home, 'key': key, 'state': 'present'}}, handle)
        return args

    env = dict(runner.env, PYTHONPATH=place)
    module = [VPY, '-m', MODULES + '.ssh_authkey']
    res = {'lines': lines_count}
    cases = (('unchanged', lines[lines_count // 2], False), ('add_one', None, True))
    for data, suffix, present in ((content, '', lines), (small, '_3_lines', lines[:3])):
        for name, dummy, changes in cases:
            times = []
            for index in range(repeats):
                reset(data)
                key = present[len(present) // 2] if not changes else ed25519_line('new%d@bench' % index)
                args = args_file('%s%s_%d' % (name, suffix, index), key)
                elapsed, proc = runner.timed('authkey-%s%s-%d' % (name, suffix, index + 1), module + [args], env=env)
                result = json.loads(proc.stdout)
                if bool(result.get('changed')) != changes:
                    raise RuntimeError('ssh_authkey %s%s: changed=%s' % (name, suffix, result.get('changed')))
                times.append(round(elapsed, 3))
            res['process_%s%s' % (name, suffix)] = {'raw': times, 'median': round(statistics.median(times), 3)}
            log('ssh_authkey %s%s (module process): median %.3f s %s' % (name, suffix, statistics.median(times), times))

    # In-process: the operation only (plan + apply), without interpreter start and imports.
    sys.path.insert(0, place)
    try:
        from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
        from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
        account = Account.resolve(None, home)

        def operate(key):
            operation = SshAuthKey(AuthKeySpec(account, key=key, state='present'))
            plan = operation.plan()
            if plan.changed:
                plan.apply()
            operation.result(plan, plan.changed)
            return plan.changed

        for name, key, changes in cases:
            times = []
            for index in range(repeats):
                reset()
                start = time.perf_counter()
                changed = operate(key or ed25519_line('inproc%d@bench' % index))
                times.append(round(time.perf_counter() - start, 4))
                assert changed == changes
            res['operation_%s' % name] = {'raw': times, 'median': round(median(times), 4)}
        profiles = {}
        for name, key, changes in cases:
            reset()
            profiler = cProfile.Profile()
            profiler.enable()
            operate(key or ed25519_line('profile@bench'))
            profiler.disable()
            profiles[name] = save_profile(profiler, 'profile_authkey_%s.txt' % name)
        res['profile_top_tottime'] = profiles
    finally:
        sys.path.remove(place)
    return res


# --------------------------------------------------------------------------- issue 18: user creation, SSH hosts

def create_case(runner, count, reruns, client_keys):
    """The fleet with user creation on both sides: (a) ansible.builtin.user loop + the loops,
    (b) the account role with account_create (one provision call)."""
    names = ['%sc%04d' % (USER_PREFIX, i) for i in range(1, 2 * count + 1)]
    delete_users([name for name in names if name in existing_users()])
    sides, all_accounts = [], []
    try:
        for key, playbook, chunk in (('a-user-loop', 'fleet_loop_create.yml', names[:count]),
                                     ('b-role-create', 'fleet_role.yml', names[count:])):
            data = fleet_vars(chunk, client_keys, True, create=True)
            data['bench_create'] = True
            varsfile = os.path.join(OUT, 'create_vars_%s.json' % key)
            with open(varsfile, 'w') as handle:
                json.dump(data, handle)
            all_accounts += data['bench_accounts']
            sides.append(FleetSide(key, playbook, varsfile, data['bench_accounts'], True))
        res = dict(zip(('a', 'b'), run_fleet(runner, sides, reruns)))
    finally:
        delete_users([name for name in names if name in existing_users()])
    res['accounts'] = count
    return res


def existing_users():
    return set(entry.pw_name for entry in pwd.getpwall())


def ssh_case(runner, hosts, count, reruns, client_keys, port_base):
    """N sshd on 127.0.0.1 ports as N hosts, over SSH, forks 10, pipelining on; each host
    its own accounts (the hosts share this machine's /etc/passwd)."""
    names = ['%sh%02d%04d' % (USER_PREFIX, h, i) for h in range(1, hosts + 1) for i in range(1, 2 * count + 1)]
    servers = fleet_cases.SshdHosts('/tmp/%s-sshd' % USER_PREFIX, port_base, hosts)
    res = {'hosts': hosts, 'accounts_per_host': count, 'forks': 10, 'pipelining': True,
           'ports': '%d..%d' % (port_base, port_base + hosts - 1)}
    home_base = '/tmp/%s-ssh-homes' % USER_PREFIX
    fleet_cases.delete_users_bulk(sorted(set(names) & existing_users()))
    try:
        log('ssh: creating %d users, starting %d sshd' % (len(names), hosts))
        fleet_cases.create_users_bulk(names, home_base)
        servers.start()
        env = dict(runner.env, ANSIBLE_FORKS='10', ANSIBLE_PIPELINING='True', ANSIBLE_SSH_PIPELINING='True')
        sides = []
        for side, offset, playbook in (('a', 0, 'fleet_loop.yml'), ('b', count, 'fleet_role.yml')):
            host_vars, accounts = [], []
            for h in range(1, hosts + 1):
                chunk = ['%sh%02d%04d' % (USER_PREFIX, h, i) for i in range(offset + 1, offset + count + 1)]
                data = fleet_vars(chunk, client_keys, True)
                host_vars.append({'bench_accounts': data['bench_accounts'], 'bench_role_users': data['bench_role_users']})
                accounts += data['bench_accounts']
            inventory = os.path.join(OUT, 'ssh_inventory_%s.json' % side)
            servers.inventory(inventory, VPY, host_vars, {'bench_client_keys': client_keys})
            sides.append(FleetSide('%s-ssh' % side, playbook, None, accounts, True, env=env,
                                   extra=['-i', inventory, '-e', 'bench_hosts=all', '-e', 'bench_connection=ssh']))
        res.update(dict(zip(('a', 'b'), run_fleet(runner, sides, reruns))))
    finally:
        servers.stop()
        fleet_cases.delete_users_bulk(sorted(set(names) & existing_users()))
        shutil.rmtree(home_base, ignore_errors=True)
    return res


# --------------------------------------------------------------------------- report

def ratio(a, b):
    return round(a / b, 1) if a and b else None


def build_table(results):
    rows = []
    fleet = results.get('fleet', {})
    mode = fleet.get('b_mode', {})
    a, b, a_ssh = fleet.get('a'), fleet.get('b'), fleet.get('a_ssh')
    for phase, key, target in (('first run', 'first', TARGETS['fleet_first']),
                               ('rerun (median)', 'rerun_median', TARGETS['fleet_rerun'])):
        if a and mode.get('full') and b:
            r = ratio(a[key], b[key])
            rows.append(['fleet %s, %d accounts: loop (a) vs %s (b)' % (phase, fleet['accounts'], mode['label']),
                         a[key], b[key], r, '>= %gx' % target, 'yes' if r and r >= target else 'NO'])
        elif a:
            rows.append(['fleet %s, %d accounts, FULL (ssh+authkeys+TLS): (b) not measurable: %s'
                         % (phase, fleet['accounts'], mode.get('why')), a[key], None, None, '>= %gx' % target, 'n/a'])
            if a_ssh and b:
                r = ratio(a_ssh[key], b[key])
                rows.append(['fleet %s, SSH PART ONLY (key pair + 3 authorized keys): loop --tags ssh vs %s'
                             % (phase, mode['label']), a_ssh[key], b[key], r, '(>= %gx)' % target,
                             'partial: %s' % ('yes' if r and r >= target else 'NO')])
    create_label = 'fleet with user creation, %s accounts: user loop + loop (a) vs account role with account_create (b)'
    for case, label, goals in (('create', create_label, ('create_first', 'create_first')),
                               ('ssh', 'over SSH, %s: loop (a) vs account role (b), forks 10, pipelining',
                                ('ssh_first', 'ssh_rerun'))):
        data = results.get(case)
        if not data or 'a' not in data:
            continue
        size = data.get('accounts') or '%d hosts x %d accounts' % (data['hosts'], data['accounts_per_host'])
        for (phase, key), goal in zip((('first run', 'first'), ('rerun (median)', 'rerun_median')), goals):
            if data['a'].get(key) is None:
                # a run stopped before this phase (data['note'] says why)
                rows.append([(label % size) + ', ' + phase, None, None, None, 'not measured', 'not measured'])
                continue
            r = ratio(data['a'][key], data['b'][key])
            target = TARGETS[goal] if not (case == 'create' and key == 'rerun_median') else None
            rows.append([(label % size) + ', ' + phase, data['a'][key], data['b'][key], r,
                         '>= %gx' % target if target else 'info',
                         ('yes' if r and r >= target else 'NO') if target else 'info'])
    scale = results.get('scale')
    if scale:
        for row in scale['runs']:
            for phase in ('first', 'rerun', 'rerun_summary'):
                if phase in row:
                    rows.append(['provision module process, %d accounts, %s: peak RSS %.0f MiB, result %.1f KiB '
                                 '(%.1f KiB without invocation)'
                                 % (row['accounts'], phase.replace('_', ' (') + (')' if '_' in phase else ''),
                                    row[phase]['peak_rss_mib'], row[phase]['result_bytes'] / 1024.0,
                                    row[phase]['result_bytes_without_invocation'] / 1024.0),
                                 None, row[phase]['seconds'], None, 'info', 'info'])
        top = max(scale['sizes'])
        for phase in ('first', 'rerun'):
            value = scale.get('ratio_%d_vs_100_%s' % (top, phase))
            fit = scale.get('fit_%s' % phase, {})
            goal = TARGETS['scale_5000_vs_100'] * top / 5000.0
            rows.append(['scale %s: %d accounts / 100 accounts (fit: %s ms/account + %s s)'
                         % (phase, top, fit.get('per_account_ms'), fit.get('fixed_seconds')), None, None, value,
                         '<= %gx' % goal, ('yes' if value and value <= goal else 'NO') if value else 'n/a'])
    single = results.get('single', {})
    if single:
        ping = single['ping']['median']
        for name, label in (('ssh_genkey_ed25519_unchanged', 'ssh_genkey ed25519 unchanged (a=ping floor, b=module)'),
                            ('ssh_genkey_ed25519_first', 'ssh_genkey ed25519 generate (a=ping floor, b=module)')):
            value = single[name]['median']
            rows.append([label, ping, value, ratio(value, ping) and round(value / ping, 2), 'b/a ~1', 'info'])
        for suffix, label in (('', 'ansible ad hoc'), ('_module', 'module process')):
            crypto, keygen = single['rsa4096_cryptography' + suffix]['median'], single['rsa4096_ssh-keygen' + suffix]['median']
            rows.append(['RSA-4096 generate, %s (a=ssh-keygen, b=cryptography)' % label, keygen, crypto,
                         round(keygen / crypto, 2), 'info', 'info'])
    for case in ('audit', 'audit_quiet'):
        if results.get(case):
            rows.extend(audit_rows(results[case], '' if case == 'audit' else ' [%s]' % case))
    rows.extend(cert_rows(results))
    auth = results.get('authkey')
    if auth:
        for name in ('unchanged', 'add_one'):
            proc = auth['process_%s' % name]['median']
            small = auth['process_%s_3_lines' % name]['median']
            op = auth['operation_%s' % name]['median']
            rows.append(['ssh_authkey %s, %d lines (a=module process on 3 lines, b=on %d lines; op only %.3f s)'
                         % (name, auth['lines'], auth['lines'], op), small, proc, None,
                         '< %.1f s' % TARGETS['authkey_seconds'],
                         'yes' if proc < TARGETS['authkey_seconds'] else ('op only: yes' if op < TARGETS['authkey_seconds'] else 'NO')])
    return rows


def cert_rows(results):
    rows = []
    certs = results.get('certs')
    if certs:
        for phase in ('first', 'rerun'):
            a, b = certs['a'][phase], certs['b'][phase]
            r = ratio(a, b)
            target = TARGETS['certs_first'] if phase == 'first' else None
            rows.append(['%d user certificates, %s: openssh_cert loop (a) vs ssh_cert in one call (b)%s'
                         % (certs['loop_count'], 'first run' if phase == 'first' else 'unchanged rerun',
                            '' if certs['b']['%s_changed' % phase] == (phase == 'first') else ' (b changed: %s!)'
                            % certs['b']['%s_changed' % phase]),
                         a, b, r, '>= %gx' % target if target else 'info',
                         ('yes' if r and r >= target else 'NO') if target else 'info'])
        big = certs.get('b_big')
        if big:
            for phase in ('first', 'rerun'):
                rows.append(['ssh_cert, %d user certificates in one call, %s (ansible-playbook)' % (big['count'], phase),
                             None, big[phase], None, 'info', 'info'])
    krl = results.get('krl')
    if krl:
        limit = TARGETS['krl_seconds']
        for key, label in (('build_seconds', 'built and written'), ('rerun_seconds', 'unchanged rerun'),
                           ('ssh_keygen_check_seconds', 'a certificate checked by ssh-keygen -Q'),
                           ('own_parse_and_check_seconds', 'parsed and a certificate checked (krl.py)')):
            rows.append(['ssh_krl, %d entries: %s' % (krl['entries'], label), None, krl[key], None,
                         '< %g s' % limit, 'yes' if krl[key] < limit else 'NO'])
    return rows


def audit_rows(audit, tag=''):
    rows = []
    for label, side in audit['sides'].items():
        for row in side['runs']:
            for kind in ('module', 'playbook'):
                data = row[kind]
                what = 'authorized_keys_info%s %s (%s), %d accounts sharing 3 keys, %s: peak RSS %.0f MiB%s' % (
                    tag, label, (side.get('commit') or '')[:9], row['accounts'],
                    'module process' if kind == 'module' else 'ansible-playbook (whole task)', data['peak_rss_mib'],
                    ', result %.1f MiB' % (data['result_bytes'] / 1048576.0) if 'result_bytes' in data else '')
                if data.get('note'):
                    what += ' - %s' % data['note']
                if row['accounts'] == 5000 and not data.get('note'):
                    met = data['seconds'] < TARGETS['audit_5000_seconds'] and \
                        data['peak_rss_mib'] < TARGETS['audit_5000_rss_mib']
                    rows.append([what, None, data['seconds'], None, '< %g s, < %g MiB' % (
                        TARGETS['audit_5000_seconds'], TARGETS['audit_5000_rss_mib']), 'yes' if met else 'NO'])
                else:
                    rows.append([what, None, data['seconds'], None, 'info', 'info'])
        for kind in ('module', 'playbook'):
            fit = side.get('fit_%s' % kind) or {}
            rows.append(['authorized_keys_info%s %s, %s: fit %s ms/account + %s s' % (
                tag, label, kind, fit.get('per_account_ms'), fit.get('fixed_seconds')), None, None, None, 'info', 'info'])
    return rows


def print_table(rows, results):
    def fmt(value):
        return '-' if value is None else ('%.3f' % value if isinstance(value, float) else str(value))
    header = ['case', '(a) s', '(b) s', 'a/b', 'target', 'met?']
    table = [header] + [[row[0], fmt(row[1]), fmt(row[2]), fmt(row[3]) + ('x' if row[3] else ''), row[4], row[5]]
                        for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print()
    print('keysmith.accounts benchmark (%s, nproc=%s, load %s -> %s): ratios are the figures; times are noisy'
          % (time.strftime('%Y-%m-%d %H:%M'), results['machine']['nproc'],
             results['machine']['loadavg_start'], results['machine'].get('loadavg_end')))
    for index, row in enumerate(table):
        print('  '.join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            print('  '.join('-' * w for w in widths))
    print()


# --------------------------------------------------------------------------- main

def main():
    global USER_PREFIX
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--accounts', type=int, default=100)
    parser.add_argument('--reruns', type=int, default=2, help='unchanged fleet reruns per side (median)')
    parser.add_argument('--repeats', type=int, default=5, help='runs of each single-module / authkey case')
    parser.add_argument('--only', default='fleet,create,ssh,scale,single,authkey,audit,certs',
                        help='comma list of: fleet, create, ssh, scale, single, authkey, audit, certs, usage, '
                             'usage_accounts')
    parser.add_argument('--cert-loop-count', type=int, default=1000,
                        help='certificates of the side-by-side case (the openssh_cert loop takes ~0.5 s each)')
    parser.add_argument('--cert-count', type=int, default=1000, help='certificates ssh_cert signs in one call')
    parser.add_argument('--usage-gib', type=float, default=1.0, help='size of the usage case\'s auth log')
    parser.add_argument('--usage-accounts-gib', type=float, default=0.25,
                        help='size of the auth log of the usage_accounts case (5,000 accounts)')
    parser.add_argument('--audit-sizes', default='250,1000,5000', help='accounts of the audit case')
    parser.add_argument('--audit-before-ref', default=None,
                        help='also measure the audit case with this git ref (the code before a change)')
    parser.add_argument('--audit-before-sizes', default='250,1000',
                        help='sizes for --audit-before-ref (the quadratic code does not finish 5,000)')
    parser.add_argument('--audit-timeout', type=int, default=600, help='seconds per audit process')
    parser.add_argument('--quick', action='store_true',
                        help='small sizes: 10 accounts, 1 rerun, 3 repeats, 3 hosts x 10 accounts, scale 10,100,1000, '
                             'audit 50,200')
    parser.add_argument('--user-prefix', default='kbench', help='prefix of the users the bench creates')
    parser.add_argument('--ssh-hosts', type=int, default=10)
    parser.add_argument('--ssh-accounts', type=int, default=50, help='accounts per host of the SSH case')
    parser.add_argument('--ssh-port-base', type=int, default=23200, help='first 127.0.0.1 port of the sshd hosts')
    parser.add_argument('--scale-sizes', default='10,100,1000,5000')
    parser.add_argument('--scale-tls', action='store_true', help='scale accounts also get a TLS key and a CSR')
    parser.add_argument('--plot', default=PLOT, help='where to write the SVG plot')
    parser.add_argument('--merge', action='store_true',
                        help='keep the cases of the existing results file that this run does not measure')
    parser.add_argument('--results', default=RESULTS, help='where to write the JSON results')
    opts = parser.parse_args()
    USER_PREFIX = opts.user_prefix
    if opts.quick:
        opts.accounts, opts.reruns, opts.repeats = min(opts.accounts, 10), min(opts.reruns, 1), min(opts.repeats, 3)
        opts.ssh_hosts, opts.ssh_accounts = min(opts.ssh_hosts, 3), min(opts.ssh_accounts, 10)
        opts.scale_sizes = '10,100,1000'
        opts.audit_sizes, opts.audit_before_sizes = '50,200', '50'
    only = set(opts.only.split(','))
    if os.geteuid() != 0 and 'fleet' in only:
        sys.exit('the fleet benchmark creates system users: run it as root (or --only single,authkey)')

    os.makedirs(OUT, exist_ok=True)
    shutil.rmtree(os.path.join(OUT, 'logs'), ignore_errors=True)
    place = place_collection()
    if only & set(('fleet', 'create', 'ssh', 'certs')):
        collections, comparison_versions = install_comparison()
    else:  # the other cases run keysmith.accounts alone: no download
        collections, comparison_versions = os.path.join(OUT, 'collections'), {}
    inventory = os.path.join(OUT, 'inventory.ini')
    with open(inventory, 'w') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % VPY)
    env = dict(os.environ)
    for name in list(env):
        if name.startswith('ANSIBLE_'):
            del env[name]
    env.update({
        'ANSIBLE_CONFIG': os.path.join(BENCH, 'ansible.cfg'),
        'ANSIBLE_INVENTORY': inventory,
        'ANSIBLE_COLLECTIONS_PATH': '%s:%s' % (place, collections),
        'ANSIBLE_LOCAL_TEMP': os.path.join(OUT, 'tmp', 'local'),
        'ANSIBLE_REMOTE_TMP': os.path.join(OUT, 'tmp', 'remote'),
        'ANSIBLE_NOCOLOR': '1',
        'LC_ALL': 'C.UTF-8', 'LANG': 'C.UTF-8',
        'PATH': VBIN + os.pathsep + env.get('PATH', ''),
    })
    runner = Runner(env)
    results = {'machine': machine_info(), 'comparison_collections': comparison_versions,
               'settings': {'forks': 'default (5)', 'pipelining': 'default (off)', 'gather_facts': False,
                            'connection': 'local', 'interpreter': VPY, 'strategy': 'linear (default)',
                            'config': 'bench/ansible.cfg'},
               'targets': TARGETS}
    if opts.merge and os.path.exists(opts.results):
        with open(opts.results) as handle:
            earlier = json.load(handle)
        for case in ('fleet', 'create', 'ssh', 'scale', 'single', 'authkey', 'audit', 'audit_quiet', 'certs', 'krl', 'usage',
                     'usage_accounts'):
            if case in earlier and case not in only:
                results[case] = earlier[case]
        if not comparison_versions and earlier.get('comparison_collections'):
            results['comparison_collections'] = earlier['comparison_collections']
    log('machine: %s' % json.dumps(results['machine']))

    users = []

    def on_signal(signum, frame):
        raise SystemExit('interrupted by signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        client_keys = [ed25519_line('client%d@bench' % i) for i in range(1, 4)]
        if 'scale' in only:
            results['scale'] = fleet_cases.scale_curve(
                log, VPY, MODULES, place, runner.env, OUT, [int(x) for x in opts.scale_sizes.split(',')],
                USER_PREFIX, client_keys, with_tls=opts.scale_tls)
            save(results, opts)
        if 'audit' in only:
            sides = [('after', place, subprocess.run(['git', '-C', ROOT, 'rev-parse', 'HEAD'], capture_output=True,
                                                     text=True, check=False).stdout.strip() or None)]
            if opts.audit_before_ref:
                before, commit = audit_case.export_ref(ROOT, opts.audit_before_ref,
                                                       os.path.join(OUT, 'before-collection'))
                sides.append(('before', before, commit))
            results['audit'] = audit_case.audit_curve(
                log, VPY, MODULES, sides, runner.env, OUT, [int(x) for x in opts.audit_sizes.split(',')],
                USER_PREFIX, client_keys, lambda name: ed25519_line('own@%s' % name), timeout=opts.audit_timeout,
                before_sizes=[int(x) for x in opts.audit_before_sizes.split(',')],
                on_measured=lambda res: save(dict(results, audit=res), opts))
            save(results, opts)
        if 'usage' in only:
            results['usage'] = usage_case.usage_bench(log, VPY, place, OUT, gib=opts.usage_gib)
            save(results, opts)
        if 'usage_accounts' in only:
            results['usage_accounts'] = usage_case.accounts_bench(log, VPY, MODULES, place, OUT, USER_PREFIX,
                                                                  gib=opts.usage_accounts_gib)
            save(results, opts)
        if 'fleet' in only:
            stale = existing_bench_users()
            if stale:
                log('removing %d leftover bench users from an earlier run' % len(stale))
                delete_users(stale)
            mode = detect_b(runner)
            log('(b): %s' % mode['label'])
            keys = ['a', 'b'] if mode['full'] else ['a', 'a_ssh', 'b']
            # Each side has its own users (kbench001.., kbench101.., ...), so the runs can alternate.
            users = bench_users(opts.accounts * len(keys))
            log('creating %d users %s..%s' % (len(users), users[0], users[-1]))
            create_users(users)
            client_keys = [ed25519_line('client%d@bench' % i) for i in range(1, 4)]
            fleet = {'accounts': opts.accounts, 'b_mode': mode, 'order': 'interleaved: first runs a, b; then rerun 1 of a, b; ...'}
            results['fleet'] = fleet
            sides, data_b = [], None
            for index, key in enumerate(keys):
                data = fleet_vars(users[index * opts.accounts:(index + 1) * opts.accounts], client_keys,
                                  mode['with_tls'] if key == 'b' else True)
                varsfile = os.path.join(OUT, 'fleet_vars_%s.json' % key)
                with open(varsfile, 'w') as handle:
                    json.dump(data, handle)
                if key == 'b':
                    data_b = data
                    sides.append(FleetSide('b-keysmith', mode['playbook'], varsfile, data['bench_accounts'], mode['with_tls']))
                elif key == 'a':
                    sides.append(FleetSide('a-loop', 'fleet_loop.yml', varsfile, data['bench_accounts'], True))
                else:
                    # (b) cannot do TLS yet: the loop's SSH part alone, for a like-for-like ratio.
                    sides.append(FleetSide('a-loop-ssh', 'fleet_loop.yml', varsfile, data['bench_accounts'], False, tags='ssh'))
            for key, result in zip(keys, run_fleet(runner, sides, opts.reruns)):
                fleet[key] = result
            accounts = data_b['bench_accounts']
            # Where (b)'s time goes: the provision operation in-process, without the controller.
            users_b = data_b['bench_role_users']
            clean_homes(accounts)
            first, dummy = provision_inprocess(place, users_b)
            rerun, dummy = provision_inprocess(place, users_b)
            dummy, top_rerun = provision_inprocess(place, users_b, 'profile_provision_rerun.txt')
            clean_homes(accounts)
            dummy, top_first = provision_inprocess(place, users_b, 'profile_provision_first.txt')
            fleet['b_operation'] = {'first_seconds': first, 'rerun_seconds': rerun,
                                    'profile_top_tottime_first': top_first, 'profile_top_tottime_rerun': top_rerun}
            log('provision in-process (no controller): first %.2f s, rerun %.2f s' % (first, rerun))
            save(results, opts)
        if 'create' in only:
            results['create'] = create_case(runner, opts.accounts, opts.reruns, client_keys)
            save(results, opts)
        if 'ssh' in only:
            results['ssh'] = ssh_case(runner, opts.ssh_hosts, opts.ssh_accounts, opts.reruns, client_keys,
                                      opts.ssh_port_base)
            save(results, opts)
        if 'single' in only:
            results['single'] = single_module(runner, place, opts.repeats)
        if 'authkey' in only:
            results['authkey'] = authkey_large(runner, place, opts.repeats)
        if 'certs' in only:
            results['krl'] = cert_case.krl_case(log, VPY, place, OUT)
            save(results, opts)
            results['certs'] = cert_case.cert_case(log, runner, PLAYBOOKS, OUT, ed25519_line, opts.cert_loop_count,
                                                   opts.cert_count)
            save(results, opts)
    finally:
        if users:
            log('removing the %d bench users' % len(users))
            delete_users(users)
    save(results, opts, final=True)


def save(results, opts, final=False):
    """Write results.json, the table and the plot; called after each case too, so an
    interrupted run keeps the cases it finished."""
    results['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
    rows = build_table(results)
    results['table'] = [dict(zip(['case', 'a_seconds', 'b_seconds', 'ratio_a_b', 'target', 'met'], row)) for row in rows]
    results['date'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    with open(opts.results, 'w') as handle:
        json.dump(results, handle, indent=2, sort_keys=False)
        handle.write('\n')
    if final:
        print_table(rows, results)
    ratios = []
    fleet = results.get('fleet', {})
    for name, data, goals in (('%s accounts' % fleet.get('accounts'), fleet, ('fleet_first', 'fleet_rerun')),
                              ('with user creation', results.get('create'), ('create_first', None)),
                              ('over SSH', results.get('ssh'), ('ssh_first', 'ssh_rerun'))):
        if data and data.get('a') and data.get('b'):
            for phase, key, goal in (('first', 'first', goals[0]), ('rerun', 'rerun_median', goals[1])):
                target = TARGETS[goal] if goal else None
                if data['a'].get(key) is not None:
                    ratios.append(('%s, %s' % (name, phase), ratio(data['a'][key], data['b'][key]), target))
    fleet_cases.plot_svg(opts.plot, results.get('scale'), ratios)
    if final:
        log('plot written to %s' % os.path.relpath(opts.plot, ROOT))
        log('results written to %s; logs and profiles in %s'
            % (os.path.relpath(opts.results, ROOT), os.path.relpath(OUT, ROOT)))


if __name__ == '__main__':
    main()
