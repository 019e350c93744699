# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client contexts of the audit: what the clients option accepts (it reaches
``sshd -T -C``), the bounded set derived from Match lines, and the client a
from= list lets in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import types

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import clients


@pytest.mark.parametrize('item', [
    {'addr': '127.0.0.1,user=root'}, {'addr': 'localhost'}, {'addr': '127.0.0.1', 'host': 'a,user=root'},
    {'addr': '127.0.0.1', 'host': 'a b'}, {'addr': '127.0.0.1', 'lport': 0}, {'addr': '127.0.0.1', 'lport': 65536},
    {'addr': '127.0.0.1', 'lport': True}, {'addr': '127.0.0.1', 'laddr': 'x,y'}, {'addr': '127.0.0.1', 'user': 'x'},
])
def test_clients_option_refuses(item):
    with pytest.raises(InvalidInput):
        clients.clients_from_option([item])


def test_clients_option_accepts():
    items = [{'addr': '127.0.0.1', 'host': 'Gw.Example.com', 'lport': 65535}, {'addr': '::1', 'lport': 1},
             {'addr': '127.0.0.1', 'host': 'gw.example.com', 'lport': '65535'}]
    found = clients.clients_from_option(items)
    assert [context.connection() for context in found] == ['host=gw.example.com,addr=127.0.0.1,lport=65535',
                                                           'host=::1,addr=::1,lport=1']


def test_a_moved_client_takes_its_new_address_as_host():
    moved = clients.ClientContext('192.0.2.1').replace(addr='10.0.0.1')
    assert (moved.addr, moved.host) == ('10.0.0.1', '10.0.0.1')
    named = clients.ClientContext('192.0.2.1', 'gw').replace(addr='10.0.0.1')
    assert (named.addr, named.host) == ('10.0.0.1', 'gw')


def test_addresses_of_patterns():
    assert clients.address_in('10.0.0.0/8') == '10.0.0.1'
    assert clients.address_in('10.1.*') == '10.1.1.1'
    for pattern in ('!10.0.0.1', '!10.0.0.0/8', '*', ''):
        assert clients.address_in(pattern) is None


def _login(use_dns=False):
    return types.SimpleNamespace(use_dns=use_dns, deny_users=[], allow_users=[])


def test_contexts_from_match_lines_are_bounded():
    patterns = {'address': ['10.0.%d.1' % n for n in range(100)]}
    warnings = []
    contexts = clients.any_client_contexts({}, patterns, _login(), warnings)
    assert len(contexts) == clients.MAX_CONTEXTS
    assert warnings == ['101 client contexts derived from sshd_config; only the first 64 are evaluated']


def test_contexts_skip_negated_addresses():
    contexts = clients.any_client_contexts({}, {'address': ['!10.9.9.9,10.0.0.0/8']}, _login(), [])
    assert [context.addr for context in contexts] == [clients.NONE_ADDR, '10.0.0.1']


def test_the_client_a_from_list_lets_in():
    base = clients.ClientContext(clients.NONE_ADDR)
    assert clients.context_for_from(base, '10.0.0.0/8', False).addr == '10.0.0.1'
    # 10.0.0.1 is the address 10.0.0.0/8 suggests, and the list denies it
    assert clients.context_for_from(base, '!10.0.0.1,10.0.0.0/8', False) is None
    assert clients.context_for_from(base, '!10.0.0.1,10.0.0.0/8,192.168.0.0/16', False).addr == '192.168.0.1'


def test_with_match_localport_every_client_has_a_local_port():
    contexts = clients.any_client_contexts({'port': '22'}, {'localport': ['2222']}, _login(), [])
    assert [context.lport for context in contexts] == [22, 2222]
    contexts = clients.any_client_contexts({'port': '22'}, {}, _login(), [])
    assert [context.lport for context in contexts] == [None]
