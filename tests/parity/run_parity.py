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
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh import sshd_rules  # noqa: E402
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authkey import (  # noqa: E402
    AuthKeySpec,
    SshAuthKey,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import AuthorizedKeys  # noqa: E402

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
        predicted = SshAuthKey(AuthKeySpec(account, **options), check_mode=True).plan()
        account = Account.resolve(None, home)
        plan = SshAuthKey(AuthKeySpec(account, **options)).plan()
        if plan.changed:
            plan.apply()
        with open(path, 'rb') as handle:
            after = handle.read()
        same = (predicted.changed == plan.changed
                and (predicted.after or '') == after.decode('utf-8', 'replace'))
        return plan.changed, after, same


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
                if len(AuthorizedKeys.parse(data).find(holding[0].identity)) == 1:
                    if changed or after != data:
                        problems.append('present with the accepted line is not unchanged')
                elif not lines_authorizing(after, material):
                    # the key on several lines: the module keeps one, which must still work
                    problems.append('present with the accepted line leaves no line that lets the key in')
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
    first, last = (int(p) for p in args.ports.split('-'))
    sshd = oracle.Sshd(prefix=args.prefix, accounts=args.accounts, ports=(first, last))
    try:
        keys = corpus.Keys(sshd.dir)
        cases = [] if args.no_curated else corpus.curated(keys)
        curated_count = len(cases)
        if args.generated:
            cases += corpus.generated(keys, args.generated, args.seed)
        verdicts = sshd.verdicts([(data, keys.private[key]) for dummy, data, key in cases])
        runner = ModuleRunner(os.path.join(sshd.dir, 'module'))
        disagreements = []
        for case, accepted in zip(cases, verdicts):
            name, data, key = case
            problems = []
            material = material_of(keys.line[key])
            parsed = bool(lines_authorizing(data, material))
            if parsed != accepted:
                problems.append('sshd %s the login, the parser says it %s' % (
                    'accepts' if accepted else 'refuses', 'does' if parsed else 'does not'))
            fingerprints = oracle.keygen_fingerprint(sshd.dir, data)
            if fingerprints != parser_fingerprints(data):
                problems.append('ssh-keygen -l reads %s, the parser %s' % (fingerprints, parser_fingerprints(data)))
            problems += check_module(runner, case, accepted, keys)
            if problems:
                disagreements.append((case, accepted, problems))
            elif args.verbose:
                print('ok    %-50.50s sshd=%s' % (name, accepted))
        agree = len(cases) - len(disagreements)
        for (name, data, key), accepted, problems in disagreements:
            print('DISAGREE %s (key %s): %r' % (name, key, data[:300]))
            for problem in problems:
                print('    ' + problem)
        accepted_count = sum(1 for v in verdicts if v)
        print('parity: %d cases (%d curated, %d generated, seed %d), sshd accepted %d; %.0f s'
              % (len(cases), curated_count, len(cases) - curated_count, args.seed, accepted_count,
                 time.time() - start))
        print('agree %d/%d' % (agree, len(cases)))
        return 0 if not disagreements else 1
    finally:
        sshd.close()


if __name__ == '__main__':
    sys.exit(main())
