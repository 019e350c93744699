# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``addrmatch.c``: addresses and networks in ``from=`` and ``Match Address``
(``addr_pton_cidr``, ``addr_match_list``), and ``match.c``'s
``match_host_and_ip`` that combines them with host name patterns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import re
import socket

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _bytes
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.match import (
    match_pattern,
    match_pattern_list,
)


# Addresses and from= verdicts already read, by text (an audit asks about the
# same from= lists for every client context); bounded, emptied when full.
_CACHE_MAX = 16384
_CACHED_LIST_CHARS = 4096
_ADDRESSES = {}
_VERDICTS = {}


def _addr_pton(text):
    """addrmatch.c addr_pton: (family, address int, scope) or None."""
    try:
        return _ADDRESSES[text]
    except (KeyError, TypeError):
        pass
    found = _addr_pton_uncached(text)
    if isinstance(text, str):
        if len(_ADDRESSES) >= _CACHE_MAX:
            _ADDRESSES.clear()
        _ADDRESSES[text] = found
    return found


# a dotted quad of plain decimal parts (no leading zero: inet_aton reads 010 as octal)
_PLAIN_QUAD = re.compile(r'(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\Z')


def _addr_pton_uncached(text):
    if not text or '\0' in text:
        return None
    quad = _PLAIN_QUAD.match(text)
    if quad is not None:
        parts = [int(part) for part in quad.groups()]
        if max(parts) <= 255:
            # what getaddrinfo answers for it, without asking it (the audit reads
            # from= lists of thousands of networks)
            return socket.AF_INET, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3], 0
    try:
        infos = socket.getaddrinfo(text, None, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        return None
    if not infos:
        return None
    family, dummy, dummy, dummy, sockaddr = infos[0]
    packed = socket.inet_pton(family, sockaddr[0].split('%', 1)[0])
    scope = sockaddr[3] if family == socket.AF_INET6 else 0
    return family, int(binascii.hexlify(packed), 16), scope


def _bits(family):
    return 32 if family == socket.AF_INET else 128


def _addr_pton_cidr(text):
    """addrmatch.c addr_pton_cidr: ((family, int, scope), masklen), -1 (not an
    address) or -2 (inconsistent mask)."""
    key = ('cidr', text)
    try:
        return _ADDRESSES[key]
    except KeyError:
        pass
    found = _addr_pton_cidr_uncached(text)
    if len(_ADDRESSES) >= _CACHE_MAX:
        _ADDRESSES.clear()
    _ADDRESSES[key] = found
    return found


def _addr_pton_cidr_uncached(text):
    raw = _bytes(text)
    if len(raw) >= 64:
        return -1
    masklen = None
    if '/' in text:
        text, mask = text.split('/', 1)
        match = re.match(r'[0-9]+\Z', mask)
        if not mask or not mask[:1].isdigit() or match is None or int(mask) > 128:
            return -1
        masklen = int(mask)
    addr = _addr_pton(text)
    if addr is None:
        return -1
    bits = _bits(addr[0])
    if masklen is None:
        masklen = bits
    if masklen > bits:
        return -2
    if addr[1] & ((1 << (bits - masklen)) - 1):
        return -2
    return addr, masklen


def address_in_cidr(text):
    """An address (text, as ``inet_ntop`` writes it) that the address or network
    ``text`` covers, read as sshd reads a ``from=``/``Match Address`` element
    (``addr_pton_cidr``: ``127.1``, ``2130706433`` and ``0x7f.0.0.1`` are
    127.0.0.1); None when sshd does not read it as one."""
    parsed = _addr_pton_cidr(text)
    if not isinstance(parsed, tuple):
        return None
    (family, number, dummy), masklen = parsed
    bits = _bits(family)
    if masklen < bits - 1:
        number |= 1  # a host inside the network, not the network address itself
    packed = binascii.unhexlify('%0*x' % (bits // 4, number))
    return socket.inet_ntop(family, packed)


def addr_match_list(addr, patterns):
    """addrmatch.c addr_match_list: 1 match, 0 none, -1 negated match, -2 invalid."""
    try_addr = _addr_pton(addr) if addr is not None else None
    if addr is not None and try_addr is None:
        return 0
    ret = 0
    for element in patterns.split(','):
        negated = element.startswith('!')
        if negated:
            element = element[1:]
        if element == '':
            return -2
        parsed = _addr_pton_cidr(element)
        if parsed == -2:
            return -2
        if parsed == -1:
            found = addr is not None and match_pattern(addr, element)
        else:
            (family, number, scope), masklen = parsed
            bits = _bits(family)
            found = (try_addr is not None and try_addr[0] == family and try_addr[2] == scope
                     and (try_addr[1] >> (bits - masklen)) == (number >> (bits - masklen)))
        if found:
            if negated:
                return -1
            ret = 1
    return ret


def match_host_and_ip(host, ipaddr, patterns):
    """match.c match_host_and_ip: 1 allowed, 0 not, -1 invalid patterns."""
    # an audit asks about the same from= list for every client context, and
    # many lines share one list: answered once (short lists: the cache holds them)
    key = ('from', host, ipaddr, patterns)
    if len(patterns) <= _CACHED_LIST_CHARS:
        try:
            return _VERDICTS[key]
        except KeyError:
            pass
    found = _match_host_and_ip(host, ipaddr, patterns)
    if len(patterns) <= _CACHED_LIST_CHARS:
        if len(_VERDICTS) >= _CACHE_MAX:
            _VERDICTS.clear()
        _VERDICTS[key] = found
    return found


def _match_host_and_ip(host, ipaddr, patterns):
    mip = addr_match_list(ipaddr, patterns)
    if mip == -2:
        return -1
    if host is None or ipaddr is None or mip == -1:
        return 0
    mhost = match_pattern_list(host.lower(), patterns)
    if mhost == -1:
        return 0
    if mhost == 0 and mip == 0:
        return 0
    return 1


def from_is_invalid(patterns):
    """Whether some element of a ``from=`` list makes sshd call it invalid criteria
    (an empty element or a network whose mask does not fit the address)."""
    for element in patterns.split(','):
        if element.startswith('!'):
            element = element[1:]
        if element == '' or _addr_pton_cidr(element) == -2:
            return True
    return False
