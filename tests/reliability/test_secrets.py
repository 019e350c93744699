# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret in any output (issue 10).

One playbook runs every module with ``-vvv --diff``: check mode on an empty
tree, a real run (creates everything), a second real run (idempotent, reads
everything back), check mode again, and a real run that regenerates. The
passphrases / CSR password are random strings made here. The whole output of
every run, the registered results (written to a JSON file by the play) and
every file of the key pair registry are scanned for:

* each passphrase and the CSR password;
* ``PRIVATE KEY`` and the base64 body lines of every private key file made.

The one documented exception: ``keypair``'s ``private_key`` return value, in
the run that creates that key pair without ``private_key_path`` - that task's
section of that run's output and its registered result may hold it, nothing
else may.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import uuid

from conftest import module_path, run_playbook

OPTIONAL = ['ssl_genkey', 'ssl_gencsr', 'ssl_csr_info', 'keypair', 'keypair_info']
EXCEPTION_TASK = 'keypair returns its private key once'

PLAY = r'''
- hosts: localhost
  gather_facts: false
  vars:
    d: "{{ workdir }}"
  tasks:
    - name: ssh_genkey with a passphrase
      keysmith.accounts.ssh_genkey:
        home: "{{ d }}/home"
        name: id_ed25519
        type: ed25519
        passphrase: "{{ pass_ssh }}"
        regenerate: "{{ regen }}"
      register: r_ssh_genkey

    - name: ssh_genkey rsa in pkcs8 with a passphrase
      keysmith.accounts.ssh_genkey:
        home: "{{ d }}/home"
        name: id_rsa
        type: rsa
        bits: 2048
        private_key_format: pkcs8
        pass: "{{ pass_ssh }}"
        regenerate: "{{ regen }}"
      register: r_ssh_genkey_rsa

    - name: ssh_authkey
      keysmith.accounts.ssh_authkey:
        home: "{{ d }}/home"
        key: "{{ pubkey }}"
        backup: true
      register: r_ssh_authkey

    - name: provision with a passphrase
      keysmith.accounts.provision:
        accounts:
          - name: root
            home: "{{ d }}/prov"
            ssh_keys:
              - name: id_ecdsa
                type: ecdsa
                passphrase: "{{ pass_prov }}"
                regenerate: "{{ regen }}"
            authorized_keys:
              - key: "{{ pubkey }}"
      register: r_provision
{optional}
    - name: Save the results
      ansible.builtin.copy:
        dest: "{{ d }}/results-{{ run_name }}.json"
        content: "{{ results | to_nice_json }}"
      vars:
        results:
          ssh_genkey: "{{ r_ssh_genkey }}"
          ssh_genkey_rsa: "{{ r_ssh_genkey_rsa }}"
          ssh_authkey: "{{ r_ssh_authkey }}"
          provision: "{{ r_provision }}"
{optional_results}
'''

OPTIONAL_TASKS = {
    'ssl_genkey': r'''
    - name: ssl_genkey with a passphrase
      keysmith.accounts.ssl_genkey:
        home: "{{ d }}/home"
        host: www.example.com
        passphrase: "{{ pass_tls }}"
        size: 2048
        regenerate: "{{ regen }}"
      register: r_ssl_genkey
''',
    'ssl_gencsr': r'''
    - name: ssl_gencsr with a challenge password
      keysmith.accounts.ssl_gencsr:
        home: "{{ d }}/home"
        key_passphrase: "{{ pass_tls }}"
        host: www.example.com
        city: Houston
        company: Example Inc
        country: US
        province: Texas
        email: admin@example.com
        password: "{{ pass_csr }}"
      register: r_ssl_gencsr
''',
    'ssl_csr_info': r'''
    - name: ssl_csr_info
      keysmith.accounts.ssl_csr_info:
        home: "{{ d }}/home"
        host: www.example.com
        key_passphrase: "{{ pass_tls }}"
      register: r_ssl_csr_info
      ignore_errors: "{{ ansible_check_mode }}"
''',
    'keypair': r'''
    - name: keypair with a private_key_path
      keysmith.accounts.keypair:
        registry: "{{ d }}/registry"
        name: kp_file
        type: ed25519
        private_key_path: "{{ d }}/kp/kp_file"
      register: r_keypair

    - name: {exception}
      keysmith.accounts.keypair:
        registry: "{{ d }}/registry"
        name: kp_once
        type: ed25519
      register: r_keypair_once
'''.replace('{exception}', EXCEPTION_TASK),
    'keypair_info': r'''
    - name: keypair_info
      keysmith.accounts.keypair_info:
        registry: "{{ d }}/registry"
      register: r_keypair_info
''',
}
OPTIONAL_RESULTS = {
    'ssl_genkey': '          ssl_genkey: "{{ r_ssl_genkey }}"\n',
    'ssl_gencsr': '          ssl_gencsr: "{{ r_ssl_gencsr }}"\n',
    'ssl_csr_info': '          ssl_csr_info: "{{ r_ssl_csr_info }}"\n',
    'keypair': '          keypair: "{{ r_keypair }}"\n          keypair_once: "{{ r_keypair_once }}"\n',
    'keypair_info': '          keypair_info: "{{ r_keypair_info }}"\n',
}

RUNS = [
    # name, check mode, regenerate
    ('check-empty', True, 'partial_idempotence'),
    ('create', False, 'partial_idempotence'),
    ('again', False, 'partial_idempotence'),
    ('check-again', True, 'always'),
    ('regenerate', False, 'always'),
]


def _present_optional():
    return [name for name in OPTIONAL if os.path.exists(module_path(name))]


def _private_key_lines(root):
    """Base64 body lines of every private key file below ``root`` (PEM / OpenSSH), as
    a list of sets, one per file."""
    bodies = []
    publics = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith('results-'):
                continue
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as handle:
                data = handle.read()
            if b'PRIVATE KEY-----' in data:
                bodies.append(_body_lines(data.decode('ascii', 'replace')))
            elif name.endswith('.pub'):
                publics.append(data.decode('ascii', 'replace'))
    # An OpenSSH private key file carries its public key in the clear: a body
    # line that is also in a public key is public data.
    return [set(line for line in body if not any(line in text for text in publics)) for body in bodies]


def _secret_lines(sources):
    """The lines of exactly one source: a line two keys share is format header
    (``openssh-key-v1``, cipher, kdf), not key material."""
    counts = {}
    for lines in sources:
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
    return [set(line for line in lines if counts[line] == 1) for lines in sources]


def _body_lines(pem):
    return set(line.strip() for line in pem.splitlines() if _B64_LINE.match(line.strip()))


_B64_LINE = re.compile(r'^[A-Za-z0-9+/=]{24,}$')


def _sections(output):
    """{task name: text} of one playbook output (a task's header up to the next)."""
    out = {}
    parts = re.split(r'^(TASK \[[^\]]*\])', output, flags=re.M)
    out['<head>'] = parts[0]
    for index in range(1, len(parts), 2):
        name = parts[index][6:-1]
        out[name] = out.get(name, '') + parts[index] + parts[index + 1]
    return out


def test_no_secret_anywhere(tmp_path):
    work = tmp_path / 'w'
    work.mkdir()
    (work / 'kp').mkdir(mode=0o700)
    key_dir = tmp_path / 'pub'
    key_dir.mkdir()
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'secrets', '-f', str(key_dir / 'k')],
                   check=True)
    pubkey = (key_dir / 'k.pub').read_text().strip()
    secrets = {
        'pass_ssh': 'Ssh-%s' % uuid.uuid4().hex,
        'pass_prov': 'Prov-%s' % uuid.uuid4().hex,
        'pass_tls': 'Tls-%s' % uuid.uuid4().hex,
        'pass_csr': 'Csr-%s' % uuid.uuid4().hex,
    }
    optional = _present_optional()
    play = PLAY.replace('{optional}', ''.join(OPTIONAL_TASKS[n] for n in optional)).replace(
        '{optional_results}', ''.join(OPTIONAL_RESULTS[n] for n in optional))
    outputs = {}
    private_sources = {}
    for run_name, check, regen in RUNS:
        extra = dict(secrets, workdir=str(work), pubkey=pubkey, run_name=run_name, regen=regen)
        varfile = tmp_path / ('vars-%s.json' % run_name)
        varfile.write_text(json.dumps(extra))
        text = play.replace('- hosts: localhost', '- hosts: localhost\n  vars_files: [%s]' % json.dumps(str(varfile)))
        run = run_playbook(text, tmp_path, check=check, diff=True, verbosity=3)
        assert run.rc == 0, run.output[-6000:]
        outputs[run_name] = run.output
        # Private keys made so far (kept across regenerations: old ones must not leak either).
        for lines in _private_key_lines(str(work)):
            private_sources[frozenset(lines)] = lines
        varfile.unlink()
    # the documented exception's key: allowed in its own task of the creating run only
    returned = ''
    created = work / 'results-create.json'
    if created.exists():
        returned = json.loads(created.read_text()).get('keypair_once', {}).get('private_key', '')
    sources = _secret_lines(list(private_sources.values()) + [_body_lines(returned)])
    private_bodies = set().union(*sources[:-1])
    returned_bodies = sources[-1]
    assert len(private_sources) >= 8 and len(private_bodies) > 20

    forbidden = dict(('passphrase %s' % k, v) for k, v in secrets.items())
    forbidden.update(('private key line %d' % i, line) for i, line in enumerate(sorted(private_bodies)))
    exception = dict(('returned private_key line %d' % i, line) for i, line in enumerate(sorted(returned_bodies)))
    exception['PRIVATE KEY marker'] = 'PRIVATE KEY'
    everything = dict(forbidden, **exception)
    for run_name, output in outputs.items():
        for task, text in _sections(output).items():
            # The documented exception: the creating run's keypair task, and the play's own
            # task that writes the registered results to a file.
            allowed = run_name == 'create' and task in (EXCEPTION_TASK, 'Save the results')
            for what, value in (forbidden if allowed else everything).items():
                assert value not in text, '%s found in the output of run %s, task %s' % (what, run_name, task)
    for run_name, check, _regen in RUNS:
        if check:
            continue
        results = json.loads((work / ('results-%s.json' % run_name)).read_text())
        once = results.pop('keypair_once', None)
        blob = json.dumps(results)
        for what, value in everything.items():
            assert value not in blob, '%s found in the results of run %s' % (what, run_name)
        if once is not None:
            if run_name == 'create':
                assert 'PRIVATE KEY' in once.get('private_key', ''), 'the documented private_key is missing'
                once.pop('private_key')
            blob = json.dumps(once)
            for what, value in everything.items():
                assert value not in blob, '%s found in keypair_once of run %s' % (what, run_name)
    registry = work / 'registry'
    if 'keypair' in optional:
        assert registry.is_dir()
        for dirpath, _dirs, files in os.walk(str(registry)):
            for name in files:
                with open(os.path.join(dirpath, name), 'rb') as handle:
                    data = handle.read().decode('utf-8', 'replace')
                for what, value in everything.items():
                    assert value not in data, '%s found in registry file %s' % (what, name)
    print('\nsecrets scan: modules %s; %d runs, %d bytes of output, %d forbidden strings, 0 found'
          % (', '.join(['ssh_genkey', 'ssh_authkey', 'provision'] + optional), len(RUNS),
             sum(len(o) for o in outputs.values()), len(everything)))
    missing = [n for n in OPTIONAL if n not in optional]
    assert not missing, 'modules not scanned (not in the collection): %s' % ', '.join(missing)
