# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_cert's validation of a certificate request: principals, serial, critical options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CertRequest


def request(**options):
    base = dict(path='/tmp/kmv-cert.pub', public_key='ssh-ed25519 AAAA', key_id='id', principals=['alice'])
    base.update(options)
    return CertRequest(base)


def test_principals_are_names_without_commas():
    assert request(principals=['alice', 'bob', 'alice']).principals == ['alice', 'bob']
    assert request(principals=[]).principals == []
    for bad in (['alice,root'], [''], ['a\nb']):
        with pytest.raises(InvalidInput, match='without commas'):
            request(principals=bad)


def test_serial_is_a_uint64():
    assert request(serial=0).serial == 0
    assert request(serial=2 ** 64 - 1).serial == 2 ** 64 - 1
    assert request(serial='random').serial is None
    for bad in (2 ** 64, -1):
        with pytest.raises(InvalidInput, match='2\\^64-1'):
            request(serial=bad)


def test_source_address_is_what_sshd_reads():
    options = request(critical_options={'source-address': ['10.0.0.0/8', '::1']}).critical_options
    assert options == {'source-address': '10.0.0.0/8,::1'}
    for bad in ('10.0.0.0/33', 'example.com', '10.0.0.1 ', '*'):
        with pytest.raises(InvalidInput, match='source-address'):
            request(critical_options={'source-address': bad})


def test_unknown_critical_options_are_refused():
    assert request(critical_options={'verify-required': True, 'x@example.com': 'v'}).critical_options == {
        'verify-required': None, 'x@example.com': 'v'}
    with pytest.raises(InvalidInput, match='unknown critical option'):
        request(critical_options={'no-pty': 'yes'})
    with pytest.raises(InvalidInput, match='no critical options'):
        request(type='host', critical_options={'force-command': '/bin/true'})
