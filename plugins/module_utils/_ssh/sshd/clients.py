# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client contexts an audit asks sshd about (``sshd -T -C``).

A context is what sshd knows of a connection before any key: the client's
address and host name, the local address and port it came in on. Either the
task names them (``clients``), or "any client": one context per pattern of the
``Match Address``/``Host``/``LocalAddress``/``LocalPort`` lines and the
``DenyUsers``/``AllowUsers`` host parts (an address matching it), plus one that
matches none (from 192.0.2.0/24, TEST-NET-1: only ever passed to ``sshd -T``,
never connected to).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.sshd_rules import address_in_cidr, match_host_and_ip

NONE_ADDR = '192.0.2.1'        # TEST-NET-1 (RFC 5737)
NONE_LADDR = '198.51.100.1'    # TEST-NET-2
MAX_CONTEXTS = 64


def _is_ip(text):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return True
        except (OSError, ValueError):
            continue
    return False


class ClientContext:
    """One client as sshd sees it: ``addr``, ``host`` (the addr with UseDNS no),
    ``laddr`` and ``lport`` (None: not given)."""

    def __init__(self, addr, host=None, laddr=None, lport=None):
        self.addr = addr
        self.host = host if host else addr
        self.laddr = laddr
        self.lport = lport

    def key(self):
        return (self.addr, self.host, self.laddr, self.lport)

    def __eq__(self, other):
        return isinstance(other, ClientContext) and self.key() == other.key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.key())

    def connection(self):
        """The ``-C`` argument of ``sshd -T`` without the user."""
        parts = ['host=%s' % self.host, 'addr=%s' % self.addr]
        if self.laddr:
            parts.append('laddr=%s' % self.laddr)
        if self.lport is not None:
            parts.append('lport=%d' % self.lport)
        return ','.join(parts)

    def as_dict(self):
        return {'addr': self.addr, 'host': self.host, 'laddr': self.laddr, 'lport': self.lport}

    def replace(self, **changes):
        values = self.as_dict()
        if 'addr' in changes and 'host' not in changes and self.host == self.addr:
            values['host'] = None  # the host follows the address (UseDNS no)
        values.update(changes)
        return ClientContext(**values)


def clients_from_option(items):
    """ClientContexts from the ``clients`` option (list of dicts)."""
    contexts = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InvalidInput('clients[%d] must be a dict with addr (and host, laddr, lport)' % index)
        unknown = sorted(set(item) - set(('addr', 'host', 'laddr', 'lport')))
        if unknown:
            raise InvalidInput('clients[%d]: unknown keys %s' % (index, ', '.join(unknown)))
        addr = item.get('addr')
        if not isinstance(addr, str) or not _is_ip(addr):
            raise InvalidInput('clients[%d].addr must be an IP address, got %r' % (index, addr))
        host = item.get('host')
        if host is not None and (not isinstance(host, str) or not re.match(r'^[A-Za-z0-9._:-]+$', host)):
            raise InvalidInput('clients[%d].host must be a host name or address, got %r' % (index, host))
        laddr = item.get('laddr')
        if laddr is not None and (not isinstance(laddr, str) or not _is_ip(laddr)):
            raise InvalidInput('clients[%d].laddr must be an IP address, got %r' % (index, laddr))
        lport = item.get('lport')
        if lport is not None:
            try:
                lport = int(lport)
            except (TypeError, ValueError):
                lport = -1
            if isinstance(item.get('lport'), bool) or not 0 < lport < 65536:
                raise InvalidInput('clients[%d].lport must be a port number, got %r' % (index, item.get('lport')))
        context = ClientContext(addr, host.lower() if host else None, laddr, lport)
        if context not in contexts:
            contexts.append(context)
    if not contexts:
        raise InvalidInput('clients must name at least one client')
    return contexts


# ---------------------------------------------------------------------------
# "any client": one address per pattern

def _ipv4_from_wildcard(pattern):
    """An IPv4 address a ``match_pattern`` pattern such as ``10.1.*`` or ``192.168.?.1`` matches."""
    parts = pattern.split('.')
    if len(parts) > 4 or not parts:
        return None
    out = []
    for part in parts:
        if part == '*' or part == '?':
            out.append('1')
        elif re.match(r'^[0-9]*[*?][0-9]*$', part):
            out.append(part.replace('*', '').replace('?', '1') or '1')
        elif re.match(r'^[0-9]{1,3}$', part):
            out.append(part)
        else:
            return None
    if parts[-1].endswith('*') and len(out) < 4:
        out.extend(['1'] * (4 - len(out)))
    candidate = '.'.join(out)
    try:
        socket.inet_pton(socket.AF_INET, candidate)
    except (OSError, ValueError):
        return None
    return candidate


def address_in(pattern):
    """An address the pattern-list element ``pattern`` (address, CIDR or wildcard)
    matches, or None (negated or not an address pattern)."""
    if pattern.startswith('!') or pattern in ('', '*'):
        return None
    found = address_in_cidr(pattern)
    if found is not None:
        return found
    if ':' not in pattern and ('*' in pattern or '?' in pattern):
        return _ipv4_from_wildcard(pattern)
    return None


def host_in(pattern):
    """A host name the element ``pattern`` matches (``*.example.com`` ->
    ``x.example.com``), or None."""
    if pattern.startswith('!') or pattern in ('', '*') or '/' in pattern:
        return None
    name = pattern.replace('*', 'x').replace('?', 'x').lower()
    if not re.match(r'^[a-z0-9._-]+$', name):
        return None
    return name


def _listening_ports(values):
    ports = []
    for item in (values.get('listenaddress') or '').split():
        match = re.match(r'^(?:\[.*\]|[^:]*):([0-9]+)$', item)
        if match and int(match.group(1)) not in ports:
            ports.append(int(match.group(1)))
    for item in (values.get('port') or '').split():
        if item.isdigit() and not ports:
            ports.append(int(item))
    return ports


def any_client_contexts(values, client_patterns, login, warnings):
    """The representative contexts for "any client": ``values`` are the global
    ``sshd -T`` values, ``client_patterns`` {criterion: [pattern lists]} from the
    Match lines, ``login`` the global LoginSettings (its user@host patterns)."""
    use_dns = login.use_dns
    ports = _listening_ports(values)
    has_lport = bool(client_patterns.get('localport'))
    has_laddr = bool(client_patterns.get('localaddress'))
    base = ClientContext(NONE_ADDR, None, NONE_LADDR if has_laddr else None,
                         (ports[0] if ports else 22) if has_lport else None)
    contexts = [base]
    not_derived = []

    def add(context):
        if context not in contexts:
            contexts.append(context)

    address_lists = list(client_patterns.get('address', []))
    for pattern in login.deny_users + login.allow_users:
        if '@' in pattern:
            address_lists.append(pattern.split('@', 1)[1])
    for patterns in address_lists:
        for element in patterns.split(','):
            addr = address_in(element)
            if addr is not None:
                add(base.replace(addr=addr))
            elif not element.startswith('!') and element not in ('*', '') and not use_dns:
                not_derived.append(element)
            elif use_dns and host_in(element):
                add(base.replace(host=host_in(element)))
    for patterns in client_patterns.get('host', []):
        for element in patterns.split(','):
            if use_dns:
                host = host_in(element)
                if host is not None:
                    add(base.replace(host=host))
            else:
                # With UseDNS no sshd matches the address text against Host patterns.
                addr = address_in(element)
                if addr is not None:
                    add(base.replace(addr=addr))
                elif not element.startswith('!') and element not in ('*', ''):
                    not_derived.append(element)
    for patterns in client_patterns.get('localaddress', []):
        for element in patterns.split(','):
            laddr = address_in(element)
            if laddr is not None:
                add(base.replace(laddr=laddr))
    for patterns in client_patterns.get('localport', []):
        for element in patterns.split(','):
            if element.isdigit():
                add(base.replace(lport=int(element)))
    if has_lport:
        for port in ports[1:]:
            add(base.replace(lport=port))
    if not_derived:
        warnings.append('no client context derived for the host pattern(s) %s: with UseDNS no sshd matches '
                        'them against the address text, which no address of this audit matches'
                        % ', '.join(sorted(set(not_derived))))
    if len(contexts) > MAX_CONTEXTS:
        warnings.append('%d client contexts derived from sshd_config; only the first %d are evaluated'
                        % (len(contexts), MAX_CONTEXTS))
        contexts = contexts[:MAX_CONTEXTS]
    return contexts


def context_for_from(base, patterns, use_dns):
    """A context (``base`` with another address or host) that the valid ``from=``
    list ``patterns`` allows, or None when no element names one."""
    for element in patterns.split(','):
        addr = address_in(element)
        candidate = None
        if addr is not None:
            candidate = base.replace(addr=addr)
        elif use_dns and host_in(element):
            candidate = base.replace(host=host_in(element))
        if candidate is not None and match_host_and_ip(candidate.host, candidate.addr, patterns) == 1:
            return candidate
    return None
