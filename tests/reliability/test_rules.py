# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every parameter rule of the seed APIs, through the real modules (issue 10).

One test per rule: the module fails (rc 1, ``failed``) with a message that
names the rule, prints no traceback, and writes nothing (the home, the
registry and the directory of any path are compared before and after).
Modules that are not in the collection yet are skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from conftest import module_path, run_module, snapshot

PUB = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh5c2ZlbGxvd3NoaXBvZnRoZWtleXNtaXRoYWNjb3VudHM rules')
CSR = dict(host='www.example.com', city='Houston', company='Example Inc', country='US', province='Texas',
           email='admin@example.com')

# (id, module, args, expected message part); {d} is the test's directory
RULES = [
    # ssh_genkey: bits per type, passphrase length, name charset, path
    ('genkey-rsa-bits-low', 'ssh_genkey', dict(name='id_rsa', type='rsa', bits=512), 'size must be'),
    ('genkey-rsa-bits-high', 'ssh_genkey', dict(name='id_rsa', type='rsa', bits=32768), 'size must be at most'),
    ('genkey-ecdsa-bits', 'ssh_genkey', dict(name='id_ecdsa', type='ecdsa', bits=300), 'size must be one of'),
    ('genkey-ed25519-bits', 'ssh_genkey', dict(name='id_ed', type='ed25519', bits=512), 'fixed size of 256'),
    ('genkey-dsa-bits', 'ssh_genkey', dict(name='id_dsa', type='dsa', bits=2048), 'dsa keys are 1024 bits'),
    ('genkey-type', 'ssh_genkey', dict(name='id_x', type='rsa1'), 'type must be one of'),
    ('genkey-passphrase-short', 'ssh_genkey', dict(name='id_ed', type='ed25519', passphrase='abc'),
     'passphrase must be 4 characters or more'),
    ('genkey-name-empty', 'ssh_genkey', dict(name='', type='ed25519'), 'name must not be empty'),
    ('genkey-name-slash', 'ssh_genkey', dict(name='../evil', type='ed25519'), 'a slash'),
    ('genkey-name-dotdot', 'ssh_genkey', dict(name='..evil', type='ed25519'), 'must not start with ".."'),
    ('genkey-name-dash', 'ssh_genkey', dict(name='-evil', type='ed25519'), 'must not start with "-"'),
    ('genkey-name-newline', 'ssh_genkey', dict(name='a\nb', type='ed25519'), 'a newline'),
    ('genkey-name-reserved', 'ssh_genkey', dict(name='authorized_keys', type='ed25519'), 'is reserved'),
    ('genkey-path-relative', 'ssh_genkey', dict(path='keys/id_ed', type='ed25519'), 'must be an absolute path'),
    ('genkey-comment-newline', 'ssh_genkey', dict(name='id_ed', type='ed25519', comment='a\nb'),
     'comment must be a single line'),
    # ssh_authkey: file must be absolute, path, key text, options
    ('authkey-file-relative', 'ssh_authkey', dict(file='keys/id.pub'), 'file must be the absolute path'),
    ('authkey-path-relative', 'ssh_authkey', dict(key=PUB, path='keys/authorized_keys'), 'path must be absolute'),
    ('authkey-private-key', 'ssh_authkey', dict(key='-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n'),
     'looks like a private key'),
    ('authkey-not-a-key', 'ssh_authkey', dict(key='hello'), 'is not a public key'),
    ('authkey-bad-options', 'ssh_authkey', dict(key=PUB, options='bogus-option'), 'unknown key option'),
    ('authkey-exclusive-absent', 'ssh_authkey', dict(key=PUB, state='absent', exclusive=True),
     'exclusive only applies'),
    ('authkey-state-contradiction', 'ssh_authkey', dict(key=PUB, state='present', authorize=False), 'contradicts'),
    # ssl_genkey: size per type, passphrase length
    ('tls-rsa-size-low', 'ssl_genkey', dict(host='www.example.com', size=1024), 'size must be between'),
    ('tls-rsa-size-multiple', 'ssl_genkey', dict(host='www.example.com', size=2049), 'multiple of 8'),
    ('tls-ecdsa-size', 'ssl_genkey', dict(host='www.example.com', type='ecdsa', size=521), 'size must be 256'),
    ('tls-passphrase-short', 'ssl_genkey', dict(host='www.example.com', passphrase='abc'),
     'passphrase must be 4 characters or more'),
    ('tls-host-ip', 'ssl_genkey', dict(host='192.0.2.1'), 'not an IP address'),
    ('tls-path-relative', 'ssl_genkey', dict(path='tls/key.pem'), 'must be an absolute path'),
    # ssl_gencsr: country, state, host, email, password, required texts
    ('csr-country-long', 'ssl_gencsr', dict(CSR, country='USA'), 'country'),
    ('csr-country-unknown', 'ssl_gencsr', dict(CSR, country='XQ'), 'not an ISO 3166-1 alpha-2 code'),
    ('csr-country-uk', 'ssl_gencsr', dict(CSR, country='UK'), 'not an ISO 3166-1 alpha-2 code'),
    ('csr-state-abbrev', 'ssl_gencsr', dict(CSR, province='TX'), 'province must be the full name'),
    ('csr-host-bad', 'ssl_gencsr', dict(CSR, host='-bad-.example.com'), 'host'),
    ('csr-email-bad', 'ssl_gencsr', dict(CSR, email='not-an-email'), 'email must be an e-mail address'),
    ('csr-password-control', 'ssl_gencsr', dict(CSR, password='pass\nword'), 'password must not contain control'),
    ('csr-city-empty', 'ssl_gencsr', dict(CSR, city=''), 'city is required'),
    ('csr-san-bad', 'ssl_gencsr', dict(CSR, subject_alt_names=['IP:not-an-ip']), 'not a valid IP address'),
    # keypair: name charset and length, absolute paths
    ('keypair-name-long', 'keypair', dict(name='n' * 26, type='ed25519'), 'at most 25 are allowed'),
    ('keypair-name-charset', 'keypair', dict(name='bad-name', type='ed25519'), 'only letters, digits and "_"'),
    ('keypair-name-empty', 'keypair', dict(name='', type='ed25519'), 'name must not be empty'),
    ('keypair-private-path-relative', 'keypair', dict(name='kp', type='ed25519', private_key_path='kp/id'),
     'private_key_path must be an absolute path'),
    ('keypair-registry-relative', 'keypair', dict(name='kp', type='ed25519', registry='reg'),
     'registry must be an absolute path'),
    ('keypair-comment-newline', 'keypair', dict(name='kp', type='ed25519', comment='a\nb'),
     'comment must be a single line'),
    ('keypair-info-name-charset', 'keypair_info', dict(name='bad name'), 'only letters, digits and "_"'),
]


@pytest.mark.parametrize('module,args,message', [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(tmp_path, module, args, message):
    assert os.path.exists(module_path(module)), '%s is not in the collection' % module
    home = tmp_path / 'home'
    (home / '.ssh').mkdir(parents=True)
    args = dict(args)
    if module.startswith('keypair'):
        args.setdefault('registry', str(tmp_path / 'registry'))
    else:
        args['home'] = str(home)
    cwd_before = snapshot(str(tmp_path))
    run = run_module(module, args)
    assert run.rc == 1 and run.result and run.result.get('failed'), run
    assert message in run.result['msg'], run.result['msg']
    assert 'Traceback' not in run.stdout + run.stderr
    after = snapshot(str(tmp_path))
    assert after == cwd_before, 'something was written'
    print('\n%s: %s' % (module, run.result['msg']))
