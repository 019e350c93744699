# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import CertificateSigningRequest, CsrSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.info import InfoSpec, SslInfo

SEED = dict(city='Houston', company='Example', country='US', province='Texas')


def setup_files(account, run_op):
    run_op(TlsKey(TlsKeySpec(account, host='a.example.com')))
    run_op(TlsKey(TlsKeySpec(account, host='b.example.com', key_type='ecdsa', size=384)))
    run_op(TlsKey(TlsKeySpec(account, host='c.example.com', passphrase='secret pass')))
    run_op(CertificateSigningRequest(CsrSpec(account, host='a.example.com', **SEED)))
    run_op(CertificateSigningRequest(CsrSpec(account, host='b.example.com', subject_alt_names=['x.example.com'],
                                             **SEED)))
    # a CSR whose key is gone
    run_op(TlsKey(TlsKeySpec(account, host='d.example.com', key_type='ed25519')))
    run_op(CertificateSigningRequest(CsrSpec(account, host='d.example.com', **SEED)))
    run_op(TlsKey(TlsKeySpec(account, host='d.example.com', state='absent')))
    ssl = os.path.join(account.home, 'ssl')
    with open(os.path.join(ssl, 'csrs', 'junk.csr'), 'w') as handle:
        handle.write('junk\n')
    with open(os.path.join(ssl, 'csrs', 'README'), 'w') as handle:
        handle.write('not listed\n')


def test_lists_keys_and_csrs(account, run_op, snapshot, tmp_path):
    setup_files(account, run_op)
    before = snapshot(tmp_path / 'home')
    plan, result = run_op(SslInfo(InfoSpec(account)))
    assert not plan.changed and snapshot(tmp_path / 'home') == before
    keys = dict((entry['host'], entry) for entry in result['keys'])
    csrs = dict((entry['host'], entry) for entry in result['csrs'])
    assert sorted(keys) == ['a.example.com', 'b.example.com', 'c.example.com']
    assert sorted(csrs) == ['a.example.com', 'b.example.com', 'd.example.com', 'junk']
    assert (keys['a.example.com']['type'], keys['a.example.com']['size']) == ('rsa', 2048)
    assert (keys['b.example.com']['type'], keys['b.example.com']['size']) == ('ecdsa', 384)
    assert keys['c.example.com']['encrypted'] and keys['c.example.com']['type'] is None
    assert keys['c.example.com']['error']
    assert keys['a.example.com']['csrs'] == [csrs['a.example.com']['path']]
    assert csrs['a.example.com']['matches_key'] and csrs['a.example.com']['key_path'] == keys['a.example.com']['path']
    assert csrs['b.example.com']['subject_alt_names'] == ['DNS:b.example.com', 'DNS:x.example.com']
    assert csrs['b.example.com']['subject']['CN'] == 'b.example.com'
    assert (csrs['b.example.com']['key_type'], csrs['b.example.com']['key_size']) == ('ecdsa', 384)
    assert csrs['d.example.com']['matches_key'] is False and csrs['d.example.com']['key_type'] == 'ed25519'
    assert csrs['junk']['error'] and csrs['junk']['matches_key'] is False
    assert 'PRIVATE KEY' not in repr(result)


def test_passphrase_and_host_filter(account, run_op):
    setup_files(account, run_op)
    _plan, result = run_op(SslInfo(InfoSpec(account, key_passphrase='secret pass', host='c.example.com')))
    assert [entry['host'] for entry in result['keys']] == ['c.example.com'] and result['csrs'] == []
    assert result['keys'][0]['type'] == 'rsa' and result['keys'][0]['error'] is None


def test_empty_account(account, run_op):
    _plan, result = run_op(SslInfo(InfoSpec(account)))
    assert result['keys'] == [] and result['csrs'] == []


def test_symlinked_csr_is_reported_not_followed(account, run_op, tmp_path):
    setup_files(account, run_op)
    outside = tmp_path / 'outside.csr'
    outside.write_text('secret\n')
    os.symlink(str(outside), os.path.join(account.home, 'ssl', 'csrs', 'link.csr'))
    _plan, result = run_op(SslInfo(InfoSpec(account)))
    entry = [item for item in result['csrs'] if item['host'] == 'link'][0]
    assert 'symbolic link' in entry['error'] and entry['csr'] is None
