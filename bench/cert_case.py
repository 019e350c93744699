# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench cases of issue 30: user certificates signed by (a) a loop of
community.crypto ``openssh_cert`` and (b) one ``keysmith.accounts.ssh_cert``
call, first run and unchanged rerun; and a 10,000-entry KRL (``ssh_krl``)
built, kept on rerun and checked (ours and ``ssh-keygen -Q``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess


def _keys(directory, count, ed25519_line):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for index in range(count):
        path = os.path.join(directory, 'u%05d.pub' % index)
        with open(path, 'w') as handle:
            handle.write(ed25519_line('u%05d@bench' % index) + '\n')
        paths.append(path)
    return paths


def _vars(out, side, ca, keys, certs_dir, with_serial):
    os.makedirs(certs_dir, exist_ok=True)
    certs = []
    for index, key in enumerate(keys):
        item = {'public_key_path': key, 'path': os.path.join(certs_dir, 'u%05d-cert.pub' % index),
                'key_id': 'u%05d' % index, 'principals': ['u%05d' % index]}
        if with_serial:
            item['serial'] = index + 1
        certs.append(item)
    path = os.path.join(out, 'cert_vars_%s.json' % side)
    with open(path, 'w') as handle:
        json.dump({'bench_ca_key': ca, 'bench_certs': certs}, handle)
    return path


def cert_case(log, runner, playbooks, out, ed25519_line, loop_count, call_count):
    """(a) loop of openssh_cert over ``loop_count`` keys vs (b) ssh_cert with the
    same keys, then (b) alone with ``call_count`` keys; first run and rerun each."""
    work = os.path.join(out, 'certs')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ca = os.path.join(work, 'ca')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'bench-ca', '-f', ca], check=True)
    keys = _keys(os.path.join(work, 'keys'), max(loop_count, call_count), ed25519_line)
    result = {'loop_count': loop_count, 'call_count': call_count, 'ca': 'ed25519'}

    def play(name, playbook, varsfile):
        seconds, proc = runner.timed(name, ['ansible-playbook', os.path.join(playbooks, playbook),
                                            '-e', '@' + varsfile])
        changed = 'changed=1' in proc.stdout
        return seconds, changed

    a_vars = _vars(out, 'a', ca, keys[:loop_count], os.path.join(work, 'a'), True)
    b_vars = _vars(out, 'b', ca, keys[:loop_count], os.path.join(work, 'b'), False)
    for side, playbook, varsfile in (('a', 'cert_loop.yml', a_vars), ('b', 'cert_keysmith.yml', b_vars)):
        log('certificates (%s): %d user certificates, first run' % (side, loop_count))
        first, changed_first = play('cert-%s-first' % side, playbook, varsfile)
        log('certificates (%s): rerun' % side)
        rerun, changed_rerun = play('cert-%s-rerun' % side, playbook, varsfile)
        result[side] = {'first': round(first, 3), 'rerun': round(rerun, 3), 'first_changed': changed_first,
                        'rerun_changed': changed_rerun}
    signed = len([name for name in os.listdir(os.path.join(work, 'b')) if name.endswith('-cert.pub')])
    result['b']['certificates_written'] = signed
    if call_count != loop_count:
        big = _vars(out, 'b_big', ca, keys[:call_count], os.path.join(work, 'b_big'), False)
        log('certificates (b): %d user certificates in one call, first run' % call_count)
        first, dummy = play('cert-b-big-first', 'cert_keysmith.yml', big)
        rerun, changed = play('cert-b-big-rerun', 'cert_keysmith.yml', big)
        result['b_big'] = {'count': call_count, 'first': round(first, 3), 'rerun': round(rerun, 3),
                           'rerun_changed': changed}
    check = subprocess.run(['ssh-keygen', '-L', '-f', os.path.join(work, 'b', 'u00000-cert.pub')],
                           capture_output=True, text=True, check=False)
    result['ssh_keygen_reads_b'] = check.returncode == 0
    return result


def krl_case(log, vpy, place, out, entries=10000):
    """ssh_krl with ``entries`` revoked serials and as many key hashes, in-process
    (the operation) and through ssh-keygen -Q."""
    work = os.path.join(out, 'krl')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    code = r'''
import base64, hashlib, json, subprocess, sys, time
sys.path.insert(0, %(place)r)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl import Krl
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl_operation import KrlSpec, SshKrl
work, entries = %(work)r, %(entries)d
subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', work + '/ca'], check=True)
subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', work + '/user'], check=True)
subprocess.run(['ssh-keygen', '-q', '-s', work + '/ca', '-I', 'u', '-z', '1999', work + '/user.pub'], check=True)
ca = open(work + '/ca.pub').read()
hashes = ['SHA256:' + base64.b64encode(hashlib.sha256(b'%%d' %% n).digest()).decode().rstrip('=') for n in range(entries)]
serials = list(range(1, 2 * entries, 2))
def run():
    started = time.perf_counter()
    op = SshKrl(KrlSpec(work + '/krl', key_hashes=hashes, certificates=[{'ca': ca, 'serials': serials}]))
    plan = op.plan()
    if plan.changed:
        op.apply(plan)
    return time.perf_counter() - started, plan.changed
first, changed_first = run()
rerun, changed_rerun = run()
started = time.perf_counter()
q = subprocess.run(['ssh-keygen', '-Q', '-f', work + '/krl', work + '/user-cert.pub'], capture_output=True)
keygen = time.perf_counter() - started
started = time.perf_counter()
krl = Krl.parse(open(work + '/krl', 'rb').read())
cert = Certificate.from_line(open(work + '/user-cert.pub').read())
ours = krl.revoked(cert.key.blob, cert)
own = time.perf_counter() - started
print(json.dumps({'entries': 2 * entries, 'build_seconds': round(first, 3), 'rerun_seconds': round(rerun, 3),
                  'changed_first': changed_first, 'changed_rerun': changed_rerun,
                  'ssh_keygen_check_seconds': round(keygen, 3), 'ssh_keygen_says_revoked': q.returncode == 1,
                  'own_parse_and_check_seconds': round(own, 3), 'own_says_revoked': ours is not None,
                  'krl_bytes': len(open(work + '/krl', 'rb').read())}))
''' % {'place': place, 'work': work, 'entries': entries // 2}
    log('KRL: %d entries (serials and key hashes)' % entries)
    proc = subprocess.run([vpy, '-c', code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])
