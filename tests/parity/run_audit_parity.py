# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Differential test: the audit (authorized_keys_info) against a real sshd.

For every scenario of ``audit_scenarios`` (issue 26, classes 1-8): accounts,
files and an ``sshd_config`` are made, one ``sshd -D`` runs on it (``sshd -t``
first) and every key (or, for a ``cert-authority`` line, a certificate signed by
that CA for the right principal) is tried for its account from each client
address of the scenario (loopback only). sshd's answer is the truth. The audit
runs in process on the same configuration (``AuthorizedKeysInfo``; as the
scenario's unprivileged account for the ``not audited`` class) and its verdict
for the key is compared:

* the entries of ``accounts[].keys`` with the key's fingerprint (for a
  certificate: the ``cert_authority`` entries of its CA); when an entry has a
  ``clients`` list, its element for the login's client address, else
  ``accepted``; the key is accepted when one entry accepts it;
* a key in a file the account cannot read (sshd opens it as the account) must
  not be listed at all: listing it shows what the account itself cannot see;
* a key sshd accepts that the audit does not list is a disagreement, and so is
  an account it lets in that the audit calls not audited - except in the
  ``not audited`` class, where the audit must say, for the account, that it
  could not see (or get the key right).

Prints one line per disagreement, per-class counts and ``audit agree N/M``;
exits 1 on any disagreement or scenario error. Root only.

    python run_audit_parity.py [--list] [--scenario NAME ...] [--jobs N]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import concurrent.futures
import inspect
import json
import os
import pwd
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import (  # noqa: E402
    AccessSpec,
    AuthorizedKeysInfo,
)

import audit_oracle  # noqa: E402
import audit_scenarios  # noqa: E402

LOGIN_JOBS = 4
HIDDEN = 'listed from a file the account cannot read'


def accepts_clients():
    return 'clients' in inspect.signature(AccessSpec.__init__).parameters


def client_dicts(scene, with_ports):
    out = []
    for addr, port_index in scene.clients:
        client = {'addr': addr}
        if with_ports and port_index is not None:
            client.update(laddr='127.0.0.1', lport=scene.ports_taken[port_index])
        out.append(client)
    return out


def run_audit(scene, users):
    """The audit's result for ``users`` on the scene's configuration, as root or as ``scene.audit_as``."""
    notes = []
    kwargs = dict(users=users, sshd_config=scene.config_path, sshd_path='/usr/sbin/sshd')

    def audit(extra):
        spec = AccessSpec(**dict(kwargs, **extra))
        operation = AuthorizedKeysInfo(spec, audit_oracle.run_command)
        plan = operation.plan()
        return operation.result(plan, False)

    def attempt():
        if not accepts_clients():
            return audit({})
        has_ports = any(port is not None for dummy, port in scene.clients)
        try:
            return audit({'clients': client_dicts(scene, has_ports)})
        except (KeysmithError, TypeError, ValueError) as exc:
            if not has_ports:
                raise
            notes.append('clients with laddr/lport refused (%s): addr only' % getattr(exc, 'msg', exc))
            return audit({'clients': client_dicts(scene, False)})

    if scene.audit_as is None:
        return attempt(), notes
    return as_account(scene.audit_as, attempt), notes


def as_account(user, function):
    """Run ``function`` in a child process with ``user``'s uid/gid (no threads run here: see main)."""
    entry = pwd.getpwnam(user)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.chdir('/')
            try:
                payload = {'result': function()}
            except KeysmithError as exc:
                payload = {'error': 'KeysmithError: %s' % exc.msg}
            except Exception:
                payload = {'error': traceback.format_exc()}
            data = json.dumps(payload, default=str).encode('utf-8')
            with os.fdopen(write_fd, 'wb') as handle:
                handle.write(data)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, 'rb') as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    payload = json.loads(data.decode('utf-8')) if data else {'error': 'the audit child died'}
    if 'error' in payload:
        raise RuntimeError('audit as %s: %s' % (user, payload['error']))
    return payload['result']


# ---------------------------------------------------------------------------- verdicts

def cannot_see(account):
    """The audit's own words that it could not (fully) read the account, or None."""
    if account is None:
        return None
    for name in ('not_audited', 'incomplete', 'unreadable', 'audit_incomplete'):
        if account.get(name):
            return '%s: %s' % (name, account[name])
    if account.get('audited') is False:
        return 'audited: false'
    for name, value in account.items():
        if isinstance(value, str) and ('not audited' in value.lower() or 'incomplete' in value.lower()):
            return '%s: %s' % (name, value)
    return None


def entry_verdict(entry, addr, port):
    clients = entry.get('clients')
    if isinstance(clients, list) and clients:
        for item in clients:
            client = item.get('client') or {}
            if client.get('addr') != addr:
                continue
            lport = client.get('lport', client.get('port'))
            if port is not None and lport is not None and int(lport) != port:
                continue
            return bool(item.get('accepted')), list(item.get('refused_reasons') or [])
        return bool(entry.get('accepted')), list(entry.get('refused_reasons') or []) + [
            '(no clients entry for %s)' % addr]
    return bool(entry.get('accepted')), list(entry.get('refused_reasons') or [])


def certificate_verdict(account, probe, addr, port, keys):
    """A TrustedUserCAKeys login (``('trusted', ca, principal)``): the account's
    ``certificates`` view for the client (its ``clients`` element when listed):
    accepted when it can log in, the CA is among its authorities and the
    principal among its principals; None when it says it did not audit."""
    view = account.get('certificates') or {}
    for item in view.get('clients') or []:
        client = item.get('client') or {}
        lport = client.get('lport')
        if client.get('addr') == addr and (port is None or lport is None or int(lport) == port):
            view = item
            break
    else:
        if view.get('clients'):
            return None, ['(no certificates clients entry for %s)' % addr]
    dummy, ca, principal = probe
    if view.get('principals') is None or view.get('can_log_in') is None:
        return None, ['certificates not audited: %s' % view.get('reason')]
    reasons = []
    if not view.get('can_log_in'):
        reasons.append('cannot log in: %s' % view.get('reason'))
    if keys.fingerprint[ca] not in (view.get('authorities') or []):
        reasons.append('CA not trusted (TrustedUserCAKeys %s)' % view.get('trusted_user_ca_keys'))
    if principal not in view.get('principals'):
        reasons.append('principal %s not in %s' % (principal, view.get('principals')))
    return not reasons, reasons


def audit_verdict(account, probe, addr, port, keys):
    """(accepted or None when the key is not listed, reasons)."""
    if account is None:
        return None, ['account not in the result']
    if isinstance(probe, tuple) and probe[0] == 'trusted':
        return certificate_verdict(account, probe, addr, port, keys)
    if isinstance(probe, tuple):
        fingerprint, want_ca = keys.fingerprint[probe[1]], True
    else:
        fingerprint, want_ca = keys.fingerprint[probe], False
    entries = [entry for entry in account.get('keys') or []
               if entry.get('fingerprint') == fingerprint and bool(entry.get('cert_authority')) == want_ca]
    if not entries:
        return None, ['not listed (%d keys listed)' % len(account.get('keys') or [])]
    accepted, reasons = False, []
    for entry in entries:
        ok, why = entry_verdict(entry, addr, port)
        accepted = accepted or ok
        reasons += ['line %s: %s' % (entry.get('line'), reason) for reason in why]
    return accepted, ([] if accepted else reasons)


# ---------------------------------------------------------------------------- one scenario

class Outcome:
    def __init__(self, index, scenario):
        self.index = index
        self.scenario = scenario
        self.scene = None
        self.truth = []      # (Login, addr, port_index, port, sshd accepted)
        self.pairs = []      # (Login, addr, port, sshd, audit, reasons, agree)
        self.error = None
        self.notes = []
        self.cleanup_problems = []


def build_and_login(outcome, base_dir, keys, prefix, ports, stop):
    """Phase 1 (in parallel): build the scenario, start sshd, log in, stop sshd."""
    scene = audit_oracle.Scene(base_dir, keys, prefix, outcome.index, ports)
    outcome.scene = scene
    if stop.is_set():
        raise RuntimeError('interrupted')
    outcome.scenario.build(scene)
    scene.start()
    scene.ports_taken = list(scene.ports)
    work = []
    for item in scene.probes:
        for addr, port_index in scene.clients:
            port = scene.ports[port_index] if port_index is not None else None
            work.append((item, addr, port_index, port))
    try:
        with concurrent.futures.ThreadPoolExecutor(LOGIN_JOBS) as pool:
            answers = list(pool.map(lambda job: scene.login(job[0], job[1], job[3]), work))
    finally:
        scene.close_sshd()
    log = scene.log(tail=None)
    outcome.truth = [job + (answer,) for job, answer in zip(work, answers)]
    # sshd's own log must say the same as the clients
    for (item, addr, dummy, port), answer in zip(work, answers):
        if answer and 'Accepted publickey for %s from %s ' % (item.user, addr) not in log:
            raise RuntimeError('the client of %s as %s from %s says authenticated, sshd logged no '
                               '"Accepted publickey"' % (item.label(), item.user, addr))
    accepted = set((item.user, addr) for (item, addr, dummy, port), answer in zip(work, answers) if answer)
    for line in log.splitlines():
        found = re.search(r'Accepted publickey for (\S+) from (\S+) ', line)
        if found and (found.group(1), found.group(2)) not in accepted:
            raise RuntimeError('sshd logged "%s" for no login the clients saw accepted' % line.strip())


def judge(outcome, keys):
    """Phase 2 (alone in the process): the audit, compared with sshd's answers."""
    scene = outcome.scene
    users = [user for user in scene.users if user != scene.audit_as]
    result, notes = run_audit(scene, users)
    outcome.notes += notes
    accounts = dict((account.get('user'), account) for account in result.get('accounts') or [])
    for item, addr, port_index, port, sshd in outcome.truth:
        account = accounts.get(item.user)
        audit, reasons = audit_verdict(account, item.probe, addr, port, keys)
        blind = cannot_see(account)
        if item.user in scene.blind_users:
            # the audit must get it right or say, for the account, that it could not see
            agree = (audit is not None and audit == sshd) or (blind is not None and audit is None) or \
                (not sshd and not audit)
        else:
            agree = (audit is not None and audit == sshd) or (audit is None and not sshd)
        if (item.user, item.probe) in scene.hidden and audit is not None:
            agree = False  # whatever the verdict: the audit shows what the account itself cannot read
            reasons = reasons + [HIDDEN]
        if blind:
            reasons = reasons + ['account: %s' % blind]
        client = addr if port_index is None else '%s->port%d' % (addr, port_index + 1)
        reasons = [reason.replace(scene.dir, '<scenario dir>') for reason in reasons]
        outcome.pairs.append((item, client, sshd, audit, reasons, agree))


def selfcheck():
    """The comparison rules on made-up results (no sshd): raise AssertionError when they drift."""
    class FakeKeys:
        fingerprint = {'k': 'SHA256:k', 'ca': 'SHA256:ca'}

    keys = FakeKeys()
    plain_refused = {'fingerprint': 'SHA256:k', 'line': 1, 'accepted': False, 'refused_reasons': ['x']}
    plain_ok = {'fingerprint': 'SHA256:k', 'line': 2, 'accepted': True, 'refused_reasons': []}
    ca_line = {'fingerprint': 'SHA256:ca', 'line': 3, 'accepted': True, 'refused_reasons': [], 'cert_authority': True}
    by_client = {'fingerprint': 'SHA256:k', 'line': 4, 'accepted': True, 'refused_reasons': [],
                 'clients': [{'client': {'addr': '127.0.0.1'}, 'accepted': False, 'refused_reasons': ['from']},
                             {'client': {'addr': '127.0.0.2'}, 'accepted': True, 'refused_reasons': []}]}
    assert audit_verdict({'keys': [plain_refused, plain_ok]}, 'k', '127.0.0.1', None, keys)[0] is True
    assert audit_verdict({'keys': [plain_refused]}, 'k', '127.0.0.1', None, keys) == (False, ['line 1: x'])
    assert audit_verdict({'keys': [ca_line]}, 'k', '127.0.0.1', None, keys)[0] is None
    assert audit_verdict({'keys': [ca_line]}, ('cert', 'ca', 'p'), '127.0.0.1', None, keys)[0] is True
    assert audit_verdict({'keys': [plain_ok]}, ('cert', 'ca', 'p'), '127.0.0.1', None, keys)[0] is None
    assert audit_verdict({'keys': [by_client]}, 'k', '127.0.0.1', None, keys) == (False, ['line 4: from'])
    assert audit_verdict({'keys': [by_client]}, 'k', '127.0.0.2', None, keys)[0] is True
    assert audit_verdict(None, 'k', '127.0.0.1', None, keys)[0] is None
    assert cannot_see({'user': 'x', 'not_audited': 'permission denied'})
    assert cannot_see({'user': 'x', 'keys': []}) is None


def verdict_text(value):
    return {True: 'accepts', False: 'refuses', None: 'does not list it'}[value]


# ---------------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--list', action='store_true', help='list the scenarios and exit')
    parser.add_argument('--scenario', action='append', default=[], help='run only this scenario (repeatable)')
    parser.add_argument('--prefix', default=os.environ.get('PARITY_USER_PREFIX', 'k14p'))
    parser.add_argument('--ports', default=os.environ.get('PARITY_PORTS', '22400-22499'))
    parser.add_argument('--jobs', type=int, default=3, help='scenarios built and logged into at once')
    parser.add_argument('--verbose', action='store_true', help='print the agreeing pairs too')
    args = parser.parse_args(argv)
    everything = list(enumerate(audit_scenarios.SCENARIOS))
    if args.list:
        for index, item in everything:
            print('%-34s %s' % (item.name, item.cls))
        return 0
    selected = everything
    if args.scenario:
        names = set(name for value in args.scenario for name in value.split(','))
        unknown = names - set(item.name for dummy, item in everything)
        if unknown:
            print('unknown scenario(s): %s (see --list)' % ', '.join(sorted(unknown)), file=sys.stderr)
            return 2
        selected = [(index, item) for index, item in everything if item.name in names]
    selfcheck()
    if os.geteuid() != 0:
        print('audit parity: needs root (accounts and sshd)', file=sys.stderr)
        return 2
    first, last = (int(p) for p in args.ports.split('-'))
    start = time.time()
    phases = []
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        raise KeyboardInterrupt('signal %d' % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # outside /tmp: StrictModes walks up to / and /tmp is world-writable
    base_dir = tempfile.mkdtemp(prefix='%s-audit-parity.' % args.prefix, dir='/srv' if os.path.isdir('/srv') else '/var/lib')
    os.chmod(base_dir, 0o755)
    outcomes = [Outcome(index, item) for index, item in selected]
    cleanup_problems = []
    try:
        keys_dir = os.path.join(base_dir, 'keys')
        os.mkdir(keys_dir, 0o700)
        keys = audit_oracle.Keys(keys_dir)
        phases = [('keys', time.time())]
        # phase 1: scenarios in parallel (no audit runs meanwhile: the audit may switch ids)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = dict((pool.submit(build_and_login, outcome, base_dir, keys, args.prefix, (first, last), stop),
                            outcome) for outcome in outcomes)
            for future in concurrent.futures.as_completed(futures):
                outcome = futures[future]
                try:
                    future.result()
                except Exception as exc:
                    outcome.error = 'build/logins: %s' % exc
        phases.append(('scenarios and logins', time.time()))
        # phase 2: the audits, one at a time, in this thread only
        for outcome in outcomes:
            if outcome.error is None:
                try:
                    judge(outcome, keys)
                except Exception:
                    outcome.error = 'audit: %s' % traceback.format_exc().strip().splitlines()[-1]
                    if args.verbose:
                        traceback.print_exc()
        phases.append(('audits', time.time()))
        report(outcomes, args.verbose, start)
    finally:
        stop.set()
        for outcome in outcomes:
            if outcome.scene is not None:
                outcome.scene.close(cleanup_problems)
        shutil.rmtree(base_dir, ignore_errors=True)
    phases.append(('cleanup', time.time()))
    print('audit parity: %s' % ', '.join('%s %.0f s' % (name, end - begin) for (dummy, begin), (name, end)
                                         in zip([(None, start)] + phases[:-1], phases)))
    for problem in cleanup_problems:
        print('CLEANUP %s' % problem)
    failed = any(outcome.error for outcome in outcomes) or cleanup_problems or \
        any(not pair[5] for outcome in outcomes for pair in outcome.pairs)
    return 1 if failed else 0


def report(outcomes, verbose, start):
    by_class = {}
    agree = total = 0
    for outcome in outcomes:
        cls = outcome.scenario.cls
        counts = by_class.setdefault(cls, [0, 0, 0])
        if outcome.error:
            print('ERROR [%s] %s: %s' % (cls, outcome.scenario.name, outcome.error))
            counts[1] += 1
            counts[2] += 1
            total += 1
            continue
        for note in outcome.notes:
            print('NOTE  [%s] %s: %s' % (cls, outcome.scenario.name, note))
        for item, client, sshd, audit, reasons, ok in outcome.pairs:
            total += 1
            counts[1] += 1
            if ok:
                agree += 1
                counts[0] += 1
                if verbose:
                    print('ok    [%s] %s %s %s from %s: sshd %s' % (cls, outcome.scenario.name, item.user,
                                                                    item.label(), client, verdict_text(sshd)))
                continue
            audit_text = verdict_text(audit)
            if HIDDEN in reasons:
                audit_text = 'shows the key (and %s)' % audit_text
            print('DISAGREE [%s] %s %s key=%s client=%s: sshd %s, audit %s%s' % (
                cls, outcome.scenario.name, item.user, item.label(), client, verdict_text(sshd),
                audit_text, (' (%s)' % '; '.join(reasons)) if reasons else ''))
    print('audit parity: %d scenarios, %d (account, key, client) pairs, sshd accepted %d; %.0f s' % (
        len(outcomes), total, sum(1 for o in outcomes for pair in o.pairs if pair[2]), time.time() - start))
    for cls in sorted(by_class):
        ok, count, errors = by_class[cls]
        print('  class %-18s agree %d/%d%s' % (cls, ok, count, (' (%d scenario errors)' % errors) if errors else ''))
    print('audit agree %d/%d' % (agree, total))


if __name__ == '__main__':
    sys.exit(main())
