# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Differential test: ssh_authkey's reading of authorized_keys against a real sshd.

For every case of the corpus (curated + seeded generator) the truth comes from
OpenSSH: a login with the case's key against one sshd on 127.0.0.1 (the file
holding the case's line) and ``ssh-keygen -l`` for which key a line holds. It
is compared with

* the parser's verdict (``sshd_rules.Line.authorizes`` on the file's lines),
* the keys the parser finds (fingerprints) against ``ssh-keygen -l``,
* the module's behaviour (``SshAuthKey``, in process): when sshd accepts the
  line, ``state: present`` with the line is ``unchanged``, ``state: absent``
  and ``exclusive: true`` leave no line that lets the key in; when sshd
  refuses it, ``state: present`` with the key changes the file so that it
  does; check mode predicts the real run's file.

The audit (``authorized_keys_info``, in process, on the sshd's own
configuration) is compared too: its per-key ``accepted`` for the login key
(a ``client_dependent`` key is judged for 127.0.0.1 by its ``from=``).

Certificate cases (login key ``corpus.CERT_LOGIN``: ssh offers its certificate,
signed by the corpus CA) are judged by ``Line.authorizes_certificate``, by the
audit's ``cert-authority`` entries and by cert-authority edits, checked with a
second round of real logins: ``state: present`` of the plain CA key keeps the
certificate logging in and adds the plain line beside the cert-authority line
(the CA key itself then logs in), ``state: absent`` of the plain CA key leaves
the certificate logging in, ``state: absent`` of the cert-authority line stops
it, and ``state: present`` of a cert-authority line lets a refused certificate in.

The run is in a time zone with summer time now (sshd inherits it), so local
``expiry-time`` values near now are read as sshd's ``mktime`` reads them.

Prints ``agree N/M`` and exits 1 on any disagreement. Root only.

    python run_parity.py [--seed N] [--generated N] [--no-curated]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import (  # noqa: E402
    AuthKeySpec,
    SshAuthKey,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import AuthorizedKeys  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.authorized_keys_info import (  # noqa: E402
    AccessSpec,
    AuthorizedKeysInfo,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey  # noqa: E402

import corpus  # noqa: E402
import oracle  # noqa: E402

REMOTE_IP = '127.0.0.1'
DEFAULT_SEED = 20260914


def material_of(line):
    return sshd_rules.read_key(line)[0].material


def lines_authorizing(data, material):
    return [line for line in AuthorizedKeys.parse(data).lines
            if line.sshd_line is not None and line.sshd_line.authorizes(material, REMOTE_IP)]


def parser_fingerprints(data):
    out = []
    for line in AuthorizedKeys.parse(data).lines:
        if line.kind != 'key':
            continue
        text = line.raw.split('\0', 1)[0].lstrip(' \t')
        if text[:1].isdigit():
            continue  # ssh-keygen -l takes a leading number for an SSH1 key and skips the line
        if line.options_text and text[len(line.options_text) + 1:][:1] in (' ', '\t'):
            continue  # ssh-keygen -l steps over one blank after options, sshd over all of them
        out.append(line.key.fingerprint_sha256)
    return out


SUMMER_ZONES = ('Europe/Berlin', 'Australia/Sydney', 'America/Santiago')


def use_summer_time_zone():
    """Put this process (and the sshd it starts) in a zone with summer time now."""
    for zone in SUMMER_ZONES:
        os.environ['TZ'] = zone
        time.tzset()
        if time.localtime().tm_isdst > 0:
            return zone
    return os.environ['TZ']


def fingerprint(line):
    return PublicKey.from_line(line).fingerprint_sha256


def lines_authorizing_cert(data, keys, user):
    ca_material = material_of(keys.line['ca'])
    return [line for line in AuthorizedKeys.parse(data).lines
            if line.sshd_line is not None
            and line.sshd_line.authorizes_certificate(ca_material, keys.cert_principals, user, REMOTE_IP)]


def parser_verdict(data, key, keys, user):
    if key == corpus.CERT_LOGIN and lines_authorizing_cert(data, keys, user):
        return True
    return bool(lines_authorizing(data, material_of(keys.line[key])))


class AuditRunner:
    """authorized_keys_info on the sshd's own configuration, for one account's file."""

    def __init__(self, sshd):
        self.sshd = sshd
        self.user = sshd.users[0]
        self.path = os.path.join(sshd.keys_dir, self.user)
        self.cache = {}

    def run_command(self, argv):
        key = tuple(argv)
        if key not in self.cache:
            result = oracle.run(argv)
            self.cache[key] = (result.returncode, result.stdout.decode('utf-8', 'replace'),
                               result.stderr.decode('utf-8', 'replace'))
        return self.cache[key]

    def keys(self, data):
        with open(self.path, 'wb') as handle:
            handle.write(data)
        os.chmod(self.path, 0o644)
        operation = AuthorizedKeysInfo(AccessSpec(users=[self.user], sshd_config=self.sshd.config,
                                                  sshd_path='/usr/sbin/sshd'), self.run_command)
        plan = operation.plan()
        return operation.result(plan, False)['accounts'][0]['keys']

    def verdict(self, data, key, keys):
        """Whether the audit says the case's login gets in from 127.0.0.1."""
        lines = data.split(b'\n')
        if key == corpus.CERT_LOGIN:
            wanted, cert_authority = fingerprint(keys.line['ca']), True
        else:
            wanted, cert_authority = fingerprint(keys.line[key]), False
        for entry in self.keys(data):
            if entry['fingerprint'] != wanted or entry['cert_authority'] != cert_authority or not entry['accepted']:
                continue
            if entry['client_dependent'] and sshd_rules.match_host_and_ip(REMOTE_IP, REMOTE_IP, entry['from']) != 1:
                continue
            if cert_authority:
                # the audit says which certificates the line lets in: those naming
                # one of its principals= (or the account)
                opts = sshd_rules.Line(lines[entry['line'] - 1].decode('utf-8', 'surrogateescape')).options
                if opts.principals is not None:
                    names = sshd_rules.principal_names(opts.principals)
                    if not any(name in names for name in keys.cert_principals):
                        continue
            return True
        return False


class ModuleRunner:
    """ssh_authkey's operation on a scratch home, check mode then the real run."""

    def __init__(self, directory):
        self.dir = directory
        self.count = 0

    def run(self, data, **options):
        """(changed, file bytes after, check-mode prediction equals the real run)."""
        self.count += 1
        home = os.path.join(self.dir, 'm%d' % self.count)
        ssh_dir = os.path.join(home, '.ssh')
        os.makedirs(ssh_dir, mode=0o700)
        path = os.path.join(ssh_dir, 'authorized_keys')
        with open(path, 'wb') as handle:
            handle.write(data)
        os.chmod(path, 0o600)
        account = Account.resolve(None, home, check_mode=True)
        predicted = SshAuthKey(AuthKeySpec(account, **options)).plan()
        account = Account.resolve(None, home)
        plan = SshAuthKey(AuthKeySpec(account, **options)).plan()
        if plan.changed:
            plan.apply()
        with open(path, 'rb') as handle:
            after = handle.read()
        same = (predicted.changed == plan.changed
                and (predicted.after or '') == after.decode('utf-8', 'replace'))
        return plan.changed, after, same


def check_cert_module(runner, case, accepted, keys, user):
    """Cert-authority edits: (problems, logins to check: (label, file bytes, key, expected))."""
    name, data, key = case
    ca = keys.line['ca']
    ca_material = material_of(ca)
    problems = []
    logins = []
    try:
        if accepted:
            changed, after, same = runner.run(data, key=ca)
            if not same:
                problems.append('present of the plain CA key: check mode differs from the real run')
            if not lines_authorizing(after, ca_material):
                problems.append('present of the plain CA key leaves no plain line of it')
            logins.append(('present of the plain CA key: the certificate', after, key, True))
            logins.append(('present of the plain CA key: the CA key itself', after, 'ca', True))
            changed, after, same = runner.run(data, key=ca, state='absent')
            if not same:
                problems.append('absent of the plain CA key: check mode differs from the real run')
            logins.append(('absent of the plain CA key: the certificate', after, key, True))
            changed, after, same = runner.run(data, key='cert-authority ' + ca, state='absent')
            if lines_authorizing_cert(after, keys, user):
                problems.append('absent of the cert-authority line leaves a line that lets the certificate in')
            logins.append(('absent of the cert-authority line: the certificate', after, key, False))
        else:
            changed, after, same = runner.run(data, key='cert-authority ' + ca)
            if not lines_authorizing_cert(after, keys, user):
                problems.append('present of the cert-authority line leaves no line that lets the certificate in')
            if not same:
                problems.append('present of the cert-authority line: check mode differs from the real run')
            logins.append(('present of the cert-authority line: the certificate', after, key, True))
    except KeysmithError as exc:
        problems.append('module failed: %s' % exc.msg)
    return problems, logins


def check_module(runner, case, accepted, keys):
    """Disagreements of the module's behaviour with sshd's verdict (list of text)."""
    name, data, key = case
    material = material_of(keys.line[key])
    problems = []
    try:
        if accepted:
            holding = lines_authorizing(data, material)
            if holding:
                changed, after, same = runner.run(data, key=holding[0].raw)
                if not same:
                    problems.append('present: check mode differs from the real run')
                single = len(AuthorizedKeys.parse(data).find(holding[0].identity)) == 1
                if single:
                    if changed or after != data:
                        problems.append('present with the accepted line is not unchanged')
                elif not lines_authorizing(after, material):
                    # the key on several lines: the module keeps one, which must still work
                    problems.append('present with the accepted line leaves no line that lets the key in')
                if single and holding[0].options_text:
                    # the line's options given as the options parameter: read by the same rules
                    changed, after, same = runner.run(data, key=keys.line[key], options=holding[0].options_text,
                                                      comment=holding[0].key.comment or '')
                    if changed or after != data:
                        problems.append('present with the line\'s options as the options parameter is not unchanged')
            for label, options in (('absent', dict(key=keys.line[key], state='absent')),
                                   ('exclusive', dict(key=keys.line['other'], exclusive=True))):
                changed, after, same = runner.run(data, **options)
                if lines_authorizing(after, material):
                    problems.append('%s leaves a line that lets the key in' % label)
                if not same:
                    problems.append('%s: check mode differs from the real run' % label)
        else:
            changed, after, same = runner.run(data, key=keys.line[key])
            if not changed or not lines_authorizing(after, material):
                problems.append('present reports the key authorized but sshd refuses it')
            if not same:
                problems.append('present: check mode differs from the real run')
    except KeysmithError as exc:
        problems.append('module failed: %s' % exc.msg)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED)
    parser.add_argument('--generated', type=int, default=300)
    parser.add_argument('--no-curated', action='store_true')
    parser.add_argument('--prefix', default=os.environ.get('PARITY_USER_PREFIX', 'k14p'))
    parser.add_argument('--ports', default=os.environ.get('PARITY_PORTS', '22400-22499'))
    parser.add_argument('--accounts', type=int, default=8)
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print('parity: needs root (accounts and sshd)', file=sys.stderr)
        return 2
    start = time.time()
    zone = use_summer_time_zone()
    first, last = (int(p) for p in args.ports.split('-'))
    sshd = oracle.Sshd(prefix=args.prefix, accounts=args.accounts, ports=(first, last))
    try:
        keys = corpus.Keys(sshd.dir, sshd.users)
        cases = [] if args.no_curated else corpus.curated(keys)
        curated_count = len(cases)
        if args.generated:
            cases += corpus.generated(keys, args.generated, args.seed)
        verdicts = sshd.verdicts([(data, keys.private[key]) for dummy, data, key in cases])
        runner = ModuleRunner(os.path.join(sshd.dir, 'module'))
        auditor = AuditRunner(sshd)
        user = sshd.users[0]
        audit_agree = audit_total = cert_total = 0
        all_problems = []
        post_logins = []
        for index, (case, accepted) in enumerate(zip(cases, verdicts)):
            name, data, key = case
            problems = []
            parsed = parser_verdict(data, key, keys, user)
            if parsed != accepted:
                problems.append('sshd %s the login, the parser says it %s' % (
                    'accepts' if accepted else 'refuses', 'does' if parsed else 'does not'))
            fingerprints = oracle.keygen_fingerprint(sshd.dir, data)
            if fingerprints != parser_fingerprints(data):
                problems.append('ssh-keygen -l reads %s, the parser %s' % (fingerprints, parser_fingerprints(data)))
            audited = auditor.verdict(data, key, keys)
            audit_total += 1
            if audited != accepted:
                problems.append('sshd %s the login, the audit says it %s' % (
                    'accepts' if accepted else 'refuses', 'does' if audited else 'does not'))
            else:
                audit_agree += 1
            if key == corpus.CERT_LOGIN:
                cert_total += 1
                more, logins = check_cert_module(runner, case, accepted, keys, user)
                problems += more
                post_logins += [(index, login) for login in logins]
            else:
                problems += check_module(runner, case, accepted, keys)
            all_problems.append(problems)
        # the cert-authority edits, judged by a second round of real logins
        results = sshd.verdicts([(after, keys.private[login_key]) for dummy, (label, after, login_key, expected)
                                 in post_logins])
        for (index, (label, after, login_key, expected)), got in zip(post_logins, results):
            if got != expected:
                all_problems[index].append('%s %s (sshd), expected %s' % (
                    label, 'logs in' if got else 'does not log in', 'in' if expected else 'out'))
        disagreements = []
        for case, accepted, problems in zip(cases, verdicts, all_problems):
            if problems:
                disagreements.append((case, accepted, problems))
            elif args.verbose:
                print('ok    %-50.50s sshd=%s' % (case[0], accepted))
        agree = len(cases) - len(disagreements)
        for (name, data, key), accepted, problems in disagreements:
            print('DISAGREE %s (key %s): %r' % (name, key, data[:300]))
            for problem in problems:
                print('    ' + problem)
        accepted_count = sum(1 for v in verdicts if v)
        print('parity: %d cases (%d curated, %d generated, seed %d), sshd accepted %d; %.0f s'
              % (len(cases), curated_count, len(cases) - curated_count, args.seed, accepted_count,
                 time.time() - start))
        print('audit (authorized_keys_info accepted): agree %d/%d; certificate cases %d, edit logins %d; TZ %s'
              % (audit_agree, audit_total, cert_total, len(post_logins), zone))
        print('agree %d/%d' % (agree, len(cases)))
        return 0 if not disagreements else 1
    finally:
        sshd.close()


if __name__ == '__main__':
    sys.exit(main())
