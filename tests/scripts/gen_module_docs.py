# Copyright: keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/modules/<module>.md from the modules' own documentation.

    python tests/scripts/gen_module_docs.py --collections-path DIR [--check] [--out docs/modules]

DIR holds ansible_collections/keysmith/accounts (the installed tarball, so doc
fragments are merged as users see them).  The options, return values and examples
come from ``ansible-doc --json``; the seed API each module follows and a "try it"
playbook (run by ``tests/scripts/release.sh``, rootless, under ``docs_home``) are
written here.  ``--check`` compares instead of writing and fails when a page is
out of date (run ``make docs`` to regenerate).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS = 'keysmith.accounts'

SEEDS = {
    'ssh_genkey': 'cPanel API 2 `SSH::genkey` (`bits`, `name`, `pass`, `type`; returns `reason`, warnings and a result). '
                  'Also cPanel\'s `SSH::importkey` (`private_key`, `public_key`).',
    'ssh_authkey': 'WHM API 1 `authorizesshkey` (`user`, `file` or `text`, `authorize`, `options`; returns `file` and `authorized`).',
    'ssh_key_info': 'cPanel API 2 `SSH::listkeys` and `SSH::fetchkey`.',
    'ssl_genkey': 'The key half of cPanel\'s SSL tools: keys live in `~/ssl/keys/HOST.key` as cPanel keeps them '
                  '(UAPI `SSL::generate_key`).',
    'ssl_gencsr': 'cPanel API 2 `SSL::gencsr` (`city`, `company`, `companydivision`, `country`, `email`, `host`, `state` (here `province`), '
                  '`password`; returns `output` "Certificate Signing Request generated!").',
    'ssl_csr_info': 'cPanel\'s `listcsrs` and `listkeys`.',
    'keypair': 'Tencent Cloud `CreateKeyPair` (`keyName` -> `keyId`, `keyName`, `pubkey`, `secretkey`; the private key is '
               'not retained) and the CFEngine SSH keys API (`POST` generate a 4096-bit RSA key, `DELETE` by id).',
    'keypair_info': 'The CFEngine SSH keys API\'s `GET` list (`id`, `public_key`, `generated_by`, `generated_at`) and `GET` one by id.',
    'authorized_keys_info': 'The discovery ("inventory only") mode of commercial SSH key managers, and '
                            '`find /home -name authorized_keys | ssh-keygen -lf`, done the way sshd reads the files.',
    'access_report': 'The key inventory reports of commercial SSH key managers.',
    'provision': 'No single seed call: it runs what `ssh_genkey`, `ssh_authkey`, `ssl_genkey` and `ssl_gencsr` do for many '
                 'accounts in one module call per host.',
    'sshd_trust': 'The manual steps of the SSH CA guides of Vault and step-ca (`TrustedUserCAKeys`, `HostCertificate`, '
                  '`RevokedKeys` in sshd_config, then a restart), checked with `sshd -t` before anything is installed.',
    'ssh_principals': 'The `AuthorizedPrincipalsFile` step of the same guides (`echo dev-team > /etc/ssh/auth_principals/deploy`).',
    'ssh_known_hosts_ca': 'The `@cert-authority` line written by hand (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).',
    'ssh_cert': '`ssh-keygen -s` (`-I` key id, `-n` principals, `-V` validity, `-O` options, `-z` serial, `-U` a CA key '
                'in ssh-agent, `-D` a PKCS#11 token) and the `openssh_cert` module of community.crypto, for many keys '
                'per call.',
    'ssh_krl': '`ssh-keygen -k` (the KRL specification of `ssh-keygen(1)`: `serial:`, `id:`, `hash:`, `key:` lines), '
               'compared by content so an unchanged list changes nothing.',
}

_PLAY = '''- name: Try {fqcn}
  hosts: localhost
  connection: local
  gather_facts: {facts}
  vars:
    docs_home: /tmp/keysmith-docs   # everything is written below this directory
  tasks:
{tasks}'''

TRY = {
    'ssh_cert': '''    - name: A CA key (here made with ssh_genkey; keep a real one offline or on a CA host)
      keysmith.accounts.ssh_genkey:
        home: "{{ docs_home }}/ca"
        name: user_ca
        type: ed25519
      register: ca

    - name: Sign a user certificate for alice, valid 8 hours, renewed in its last hour
      keysmith.accounts.ssh_cert:
        ca_key: "{{ docs_home }}/ca/.ssh/user_ca"
        public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ alice@laptop
        path: "{{ docs_home }}/ca/alice-cert.pub"
        key_id: alice@example.com
        principals: [alice]
        valid_from: -5m
        valid_to: +8h
        renew_before: 1h
      register: cert

    - name: Show what was signed (run it again - nothing is signed)
      ansible.builtin.debug:
        msg: "{{ cert.action }}: serial {{ cert.serial }}, {{ cert.valid_from }} to {{ cert.valid_to }}"
''',
    'ssh_krl': '''    - name: A directory for the KRL
      ansible.builtin.file:
        path: "{{ docs_home }}"
        state: directory
        mode: "0755"

    - name: Revoke a key and a certificate serial range
      keysmith.accounts.ssh_krl:
        path: "{{ docs_home }}/revoked_keys"
        keys:
          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ stolen@laptop
        certificates:
          - ca: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ ca
            serials: [100-199]
      register: krl

    - name: Show what it revokes (run it again - the file is kept)
      ansible.builtin.debug:
        msg: "{{ krl.msg }}"
''',
    'sshd_trust': '''    - name: A directory of our own for the sshd configuration (never /etc/ssh)
      ansible.builtin.file:
        path: "{{ docs_home }}/sshd/sshd_config.d"
        state: directory
        mode: "0755"

    - name: A host key for it
      ansible.builtin.command:
        cmd: ssh-keygen -q -t ed25519 -N "" -f "{{ docs_home }}/sshd/host_key"
        creates: "{{ docs_home }}/sshd/host_key"

    - name: Its main configuration, including the drop-in directory
      ansible.builtin.copy:
        dest: "{{ docs_home }}/sshd/sshd_config"
        content: "Include {{ docs_home }}/sshd/sshd_config.d/*.conf\\nHostKey {{ docs_home }}/sshd/host_key\\n"
        mode: "0644"

    - name: Trust a user CA (checked with sshd -t first; no sshd runs here, so no reload)
      keysmith.accounts.sshd_trust:
        path: "{{ docs_home }}/sshd/sshd_config.d/50-trust.conf"
        sshd_config: "{{ docs_home }}/sshd/sshd_config"
        trusted_user_ca_keys:
          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ user-ca
        trusted_user_ca_keys_file: "{{ docs_home }}/sshd/user_ca_keys.pub"
        authorized_principals_file: /etc/ssh/auth_principals/%u
        reload: none
      register: trust

    - name: Show the drop-in
      ansible.builtin.debug:
        msg: "{{ trust.content | default('') }}"
''',
    'ssh_principals': '''    - name: A directory for the principals files
      ansible.builtin.file:
        path: "{{ docs_home }}/principals"
        state: directory
        mode: "0755"

    - name: Certificates naming dev-team may log in as the account we run as
      keysmith.accounts.ssh_principals:
        user: "{{ lookup('ansible.builtin.env', 'USER') | default('root', true) }}"
        path: "{{ docs_home }}/principals/%u"
        principals: [dev-team]
        exclusive: true
      register: principals

    - name: Show the file and its principals
      ansible.builtin.debug:
        msg: "{{ principals.path }}: {{ principals.principals }}"
''',
    'ssh_known_hosts_ca': '''    - name: A directory for the known_hosts file
      ansible.builtin.file:
        path: "{{ docs_home }}"
        state: directory
        mode: "0755"

    - name: Hosts of example.com are verified by their host certificates
      keysmith.accounts.ssh_known_hosts_ca:
        path: "{{ docs_home }}/known_hosts"
        hosts: ["*.example.com"]
        key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ host-ca
      register: known_hosts

    - name: Show the line
      ansible.builtin.debug:
        msg: "{{ known_hosts.line }}"
''',
    'authorized_keys_info': '''    - name: A directory for the keys
      ansible.builtin.file:
        path: "{{ docs_home }}/keys"
        state: directory
        mode: "0755"

    - name: A key file where our own sshd_config says keys are
      ansible.builtin.copy:
        dest: "{{ docs_home }}/keys/{{ lookup('ansible.builtin.env', 'USER') | default('root', true) }}"
        content: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ bob@laptop\\n"
        mode: "0600"

    - name: The sshd configuration to evaluate
      ansible.builtin.copy:
        dest: "{{ docs_home }}/sshd_config"
        content: "AuthorizedKeysFile {{ docs_home }}/keys/%u .ssh/authorized_keys\\n"
        mode: "0600"

    - name: Audit the account we run as
      keysmith.accounts.authorized_keys_info:
        users: ["{{ lookup('ansible.builtin.env', 'USER') | default('root', true) }}"]
        sshd_config: "{{ docs_home }}/sshd_config"
      register: access

    - name: Show each file and whether sshd would use it (a file below /tmp, writable by all, is not)
      ansible.builtin.debug:
        msg: "{{ access.accounts[0].files | items2dict(key_name='path', value_name='reason') }}"
''',
    'access_report': '''    - name: Audit the account we run as
      keysmith.accounts.authorized_keys_info:
        users: ["{{ lookup('ansible.builtin.env', 'USER') | default('root', true) }}"]
      register: access

    - name: Write the report (JSON, CSV, HTML) as if this host were a fleet of one
      keysmith.accounts.access_report:
        results: {localhost: "{{ access }}"}
        dest: "{{ docs_home }}/report"
      register: report

    - name: Show where the HTML page is
      ansible.builtin.debug:
        msg: "{{ report.paths.html }}: {{ report.msg }}"
''',
    'ssh_genkey': '''    - name: An ed25519 key pair in a home of our own (no root needed)
      keysmith.accounts.ssh_genkey:
        home: "{{ docs_home }}/alice"
        name: id_ed25519
        type: ed25519
        passphrase: correct horse battery staple
        comment: alice@example.com
      register: key

    - name: Show its fingerprint and randomart
      ansible.builtin.debug:
        msg: "{{ key.fingerprint | default('(check mode: no key yet)') }}\\n{{ key.randomart | default('') }}"
''',
    'ssh_authkey': '''    - name: Authorize a public key, with options
      keysmith.accounts.ssh_authkey:
        home: "{{ docs_home }}/alice"
        key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ bob@laptop
        options: from="10.0.0.0/8",no-pty
      register: auth

    - name: Show the result (WHM's authorized and the file)
      ansible.builtin.debug:
        msg: "authorized={{ auth.authorized }} in {{ auth.path }}"
''',
    'ssh_key_info': '''    - name: A key to list
      keysmith.accounts.ssh_genkey:
        home: "{{ docs_home }}/alice"
        name: id_ed25519
        type: ed25519

    - name: List the keys of the account
      keysmith.accounts.ssh_key_info:
        home: "{{ docs_home }}/alice"
      register: info

    - name: Show name and fingerprint of each key
      ansible.builtin.debug:
        msg: "{{ info['keys'] | items2dict(key_name='name', value_name='fingerprint') }}"
''',
    'ssl_genkey': '''    - name: An ECDSA P-256 key for www.example.com in ~/ssl/keys
      keysmith.accounts.ssl_genkey:
        home: "{{ docs_home }}/alice"
        host: www.example.com
        type: ecdsa
        size: 256
      register: tls_key

    - name: Show where it is and its fingerprint
      ansible.builtin.debug:
        msg: "{{ tls_key.path }} {{ tls_key.fingerprint | default('(check mode: no key yet)') }}"
''',
    'ssl_gencsr': '''    - name: The host's key first
      keysmith.accounts.ssl_genkey:
        home: "{{ docs_home }}/alice"
        host: www.example.com

    - name: The cPanel gencsr call, as a task
      keysmith.accounts.ssl_gencsr:
        home: "{{ docs_home }}/alice"
        host: www.example.com
        subject_alt_names: [example.com]
        city: Houston
        company: Example, Inc.
        country: US
        province: Texas   # cPanel's "state"
        email: admin@example.com
      register: csr

    - name: Show the CSR to send to the certificate authority
      ansible.builtin.debug:
        msg: "{{ csr.output }}\\n{{ csr.csr | default('(check mode: the CSR is not generated)') }}"
''',
    'ssl_csr_info': '''    - name: A key and a CSR to list
      keysmith.accounts.ssl_genkey:
        home: "{{ docs_home }}/alice"
        host: shop.example.com

    - name: Its CSR
      keysmith.accounts.ssl_gencsr:
        home: "{{ docs_home }}/alice"
        host: shop.example.com
        city: Berlin
        company: Beispiel GmbH
        country: DE
        province: Berlin

    - name: List the keys and CSRs of the account
      keysmith.accounts.ssl_csr_info:
        home: "{{ docs_home }}/alice"
      register: ssl

    - name: Show each CSR and whether it matches a key
      ansible.builtin.debug:
        msg: "{{ ssl.csrs | items2dict(key_name='path', value_name='matches_key') }}"
''',
    'keypair': '''    - name: A directory for the private key (private_key_path's directory must exist)
      ansible.builtin.file:
        path: "{{ docs_home }}"
        state: directory
        mode: "0700"

    - name: Create a key pair in a registry of our own; the private key goes to a file
      keysmith.accounts.keypair:
        registry: "{{ docs_home }}/registry"
        name: deploy_key
        type: ed25519
        private_key_path: "{{ docs_home }}/deploy_key"
      register: deploy

    - name: Show its id and public key (the registry never holds the private key)
      ansible.builtin.debug:
        msg: "{{ deploy.keypair.id }} {{ deploy.keypair.public_key }}"
''',
    'keypair_info': '''    - name: A directory for the private key
      ansible.builtin.file:
        path: "{{ docs_home }}"
        state: directory
        mode: "0700"

    - name: A key pair to list
      keysmith.accounts.keypair:
        registry: "{{ docs_home }}/registry"
        name: backup_job
        type: ed25519
        private_key_path: "{{ docs_home }}/backup_job"

    - name: List the registry
      keysmith.accounts.keypair_info:
        registry: "{{ docs_home }}/registry"
      register: registry

    - name: Show names and ids
      ansible.builtin.debug:
        msg: "{{ registry.keypairs | items2dict(key_name='name', value_name='id') }}"
''',
    'provision': '''    - name: Keys and authorized keys of the account we run as, in one call
      keysmith.accounts.provision:
        accounts:
          - name: "{{ ansible_facts.user_id }}"
            home: "{{ docs_home }}/me"
            ssh_keys:
              - {name: id_ed25519, type: ed25519, comment: me@example.com}
            authorized_keys:
              - key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ bob@laptop
                options: no-pty
        atomic: true
      register: provisioned

    - name: Show what was done
      ansible.builtin.debug:
        var: provisioned.actions
''',
}


def md_text(text):
    """Ansible doc markup -> Markdown."""
    text = str(text)
    text = re.sub(r'L\(([^,]*),\s*([^)]*)\)', r'[\1](\2)', text)
    text = re.sub(r'U\(([^)]*)\)', r'<\1>', text)
    text = re.sub(r'B\(([^)]*)\)', r'**\1**', text)
    text = re.sub(r'I\(([^)]*)\)', r'*\1*', text)

    def module_link(match):
        name = match.group(1)
        if name.startswith(NS + '.'):
            return '[`%s`](%s.md)' % (name, name.rsplit('.', 1)[1])
        return '`%s`' % name
    text = re.sub(r'M\(([^)]*)\)', module_link, text)

    def literal(match):
        value = match.group(1).replace('`', '')
        if match.group(0)[0] in 'OR' and '#' in value:
            # O(fqcn#module:option): the option of another module
            plugin, option = value.split('#', 1)
            value = '%s` of `%s' % (option.split(':', 1)[-1], plugin)
        return '`%s`' % value
    text = re.sub(r'\b(?:RV|O|V|C|E|P)\(((?:[^()]|\([^()]*\))*)\)', literal, text)
    return text


def paragraphs(value):
    if value is None:
        return []
    return [md_text(p) for p in (value if isinstance(value, list) else [value])]


def cell(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def option_rows(options, prefix=''):
    rows = []
    for name in sorted(options, key=lambda n: (not options[n].get('required', False), n)):
        opt = options[name]
        label = '`%s%s`' % (prefix, name)
        if opt.get('aliases'):
            label += ' (%s)' % ', '.join('`%s`' % a for a in opt['aliases'])
        kind = opt.get('type', 'str')
        if opt.get('elements'):
            kind += ' of %s' % opt['elements']
        if opt.get('required'):
            default = '**required**'
        elif opt.get('default') not in (None, ''):
            default = '`%s`' % json.dumps(opt['default']).strip('"')
        else:
            default = ''
        choices = ', '.join('`%s`' % c for c in opt.get('choices') or [])
        desc = paragraphs(opt.get('description'))
        rows.append('| %s | %s | %s | %s | %s |' % (label, kind, default, choices, cell(desc[0] if desc else '')))
        if opt.get('suboptions'):
            rows.extend(option_rows(opt['suboptions'], '%s%s%s.' % (prefix, name, '[]' if kind.startswith('list') else '')))
    return rows


def return_rows(returns, prefix=''):
    rows = []
    for name in sorted(returns):
        ret = returns[name]
        desc = paragraphs(ret.get('description'))
        rows.append('| `%s%s` | %s | %s | %s |' % (prefix, name, ret.get('type', ''), cell(md_text(ret.get('returned', ''))),
                                                   cell(desc[0] if desc else '')))
        if ret.get('contains'):
            rows.extend(return_rows(ret['contains'], '%s%s%s.' % (prefix, name, '[]' if ret.get('type') == 'list' else '')))
    return rows


def page(module, data):
    doc = data['doc']
    fqcn = '%s.%s' % (NS, module)
    facts = 'true' if module == 'provision' else 'false'
    lines = [
        '<!-- Generated by tests/scripts/gen_module_docs.py from the module\'s documentation: edit that, not this file. -->',
        '# %s' % fqcn, '',
        md_text(doc.get('short_description', '')) + '.', '',
        '**Follows:** %s' % SEEDS.get(module, '-'), '',
        '## What it does', '',
    ]
    for para in paragraphs(doc.get('description')):
        lines += [para, '']
    if doc.get('requirements'):
        lines += ['**Requirements (on the managed host):** %s' % '; '.join(paragraphs(doc['requirements'])), '']
    attrs = doc.get('attributes') or {}
    if attrs:
        lines += ['| attribute | support | details |', '| --- | --- | --- |']
        for name in sorted(attrs):
            details = cell(' '.join(paragraphs(attrs[name].get('details'))))
            lines.append('| %s | %s | %s |' % (name, attrs[name].get('support', ''), details))
        lines.append('')
    lines += ['## Try it', '',
              'A complete playbook that runs as it is, without root, on the control node: '
              'every file goes below `docs_home`. `make release` runs it.', '',
              '<!-- runnable-example -->', '```yaml',
              _PLAY.format(fqcn=fqcn, facts=facts, tasks=TRY[module]).rstrip('\n'), '```', '',
              '```console', 'ansible-playbook try_%s.yml -e docs_home=/tmp/keysmith-docs --diff' % module, '```', '',
              '## Options', '',
              'The first paragraph of each option; `ansible-doc %s` has the full text.' % fqcn, '',
              '| option | type | default | choices | description |', '| --- | --- | --- | --- | --- |']
    lines += option_rows(doc.get('options') or {})
    lines += ['', '## Examples', '', 'From the module\'s `EXAMPLES` (they use real account names and need `become`).', '',
              '```yaml', (data.get('examples') or '').strip('\n'), '```', '',
              '## Return values', '',
              '| key | type | returned | description |', '| --- | --- | --- | --- |']
    lines += return_rows(data.get('return') or {})
    notes = paragraphs(doc.get('notes'))
    if notes:
        lines += ['', '## Notes', ''] + ['- %s' % n for n in notes]
    seealso = doc.get('seealso') or []
    if seealso:
        lines += ['', '## See also', '']
        for item in seealso:
            if item.get('module'):
                lines.append('- %s' % md_text('M(%s)' % item['module']))
            elif item.get('link'):
                lines.append('- [%s](%s)' % (item.get('name', item['link']), item['link']))
    lines += ['', 'Back to the [module list](README.md) - [migration table](../migration.md) - [quick start](../quickstart.md)', '']
    return '\n'.join(lines)


def index(modules, docs):
    lines = ['<!-- Generated by tests/scripts/gen_module_docs.py. -->', '# Modules', '',
             '| module | what it does | follows |', '| --- | --- | --- |']
    for module in modules:
        seed = SEEDS.get(module, '').split(' (')[0].split('.')[0]
        lines.append('| [`%s.%s`](%s.md) | %s | %s |' % (NS, module, module,
                                                         cell(md_text(docs[module]['doc']['short_description'])), cell(seed)))
    lines += ['', 'Every module supports check mode and `--diff`, and never returns a private key or passphrase '
              '(except `keypair`, once, when no `private_key_path` is given).', '',
              'Back to [the docs](../README.md).', '']
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--collections-path', required=True)
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs', 'modules'))
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                     if not p.endswith('__init__.py'))
    missing = [m for m in modules if m not in TRY]
    if missing:
        print('gen_module_docs: no "try it" playbook for %s: add one to TRY in %s' % (', '.join(missing), __file__))
        return 1
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path)
    ansible_doc = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    out = subprocess.run([ansible_doc, '--json'] + ['%s.%s' % (NS, m) for m in modules], env=env,
                         stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
    docs = {k.rsplit('.', 1)[1]: v for k, v in json.loads(out).items()}
    pages = {'%s.md' % m: page(m, docs[m]) for m in modules}
    pages['README.md'] = index(modules, docs)
    stale = []
    for name, text in sorted(pages.items()):
        path = os.path.join(args.out, name)
        current = open(path).read() if os.path.exists(path) else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            os.makedirs(args.out, exist_ok=True)
            with open(path, 'w') as handle:
                handle.write(text)
    if args.check and stale:
        print('gen_module_docs: out of date: %s (run `make docs`)' % ', '.join(stale))
        return 1
    print('gen_module_docs: %d pages %s' % (len(pages), 'up to date' if not stale else 'written: ' + ', '.join(stale)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
