# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``auth-options.c``: ``sshauthopt_parse``, the options of an ``authorized_keys``
line (and ``misc.c``'s ``hpdelim2`` for ``permitopen``/``permitlisten``, which
fails here with the option's error)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _BLANK, _bytes
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.misc import (
    a2port,
    a2tun,
    parse_absolute_time,
    valid_env_name,
)


MAX_ENV = 1024
MAX_PERMITS = 4096
NI_MAXHOST = 1025


class OptionsError(Exception):
    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason
        self.partial = None


RESTRICT_FLAGS = ('restrict', 'cert-authority')
NEGATABLE_FLAGS = ('port-forwarding', 'agent-forwarding', 'x11-forwarding', 'touch-required',
                   'verify-required', 'pty', 'user-rc')
VALUE_OPTIONS = ('command', 'principals', 'from', 'expiry-time', 'environment',
                 'permitopen', 'permitlisten', 'tunnel')
SINGLE_OPTIONS = ('command', 'principals', 'from')
_NAME_RE = re.compile(r'[A-Za-z0-9_-]*')


def is_flag(lname):
    if lname in RESTRICT_FLAGS or lname in NEGATABLE_FLAGS:
        return True
    return lname.startswith('no-') and lname[3:] in NEGATABLE_FLAGS


# inside quotes up to the closing quote; an escaped quote \" is part of the run
_QUOTED_RUN = re.compile(r'(?:\\"|[^"])*')


def _dequote(text, pos):
    """opt_dequote: (value, position after the closing quote)."""
    if pos >= len(text) or text[pos] != '"':
        raise OptionsError('missing start quote')
    # a run of escaped quotes and other characters (sshd's loop, a run at a time)
    end = _QUOTED_RUN.match(text, pos + 1).end()
    if end >= len(text):
        raise OptionsError('missing end quote')
    return text[pos + 1:end].replace('\\"', '"'), end + 1


class Options:
    """Options of one line as sshd parsed them: ``items`` (name as written, value or None)."""

    __slots__ = ('items', 'cert_authority', 'principals', 'from_patterns', 'valid_before', 'env_names',
                 'permits', 'end')

    def __init__(self):
        self.items = []
        self.cert_authority = False
        self.principals = None
        self.from_patterns = None
        self.valid_before = 0
        self.env_names = []
        self.permits = {'permitopen': 0, 'permitlisten': 0}
        self.end = 0


def parse_options(text, end_is_blank=True):
    """``sshauthopt_parse`` on options ``text`` (the part before the key).

    ``end_is_blank``: the text is followed by the blank before the key (a file
    line), so a trailing comma is allowed as sshd allows it there. Raises
    :class:`OptionsError` with sshd's reason; its ``partial`` holds the options
    read before the error (whether a refused line was meant as ``cert-authority``).
    """
    opts = Options()
    try:
        return _parse_options_into(opts, text, end_is_blank)
    except OptionsError as exc:
        exc.partial = opts
        raise


def _parse_options_into(opts, text, end_is_blank):
    pos = 0
    length = len(text)
    while pos < length and text[pos] not in _BLANK:
        name = _NAME_RE.match(text, pos).group(0)
        lname = name.lower()
        after = pos + len(name)
        if name == '':
            pass  # an empty element: sshd steps over the comma
        elif after < length and text[after] == '=' and lname in VALUE_OPTIONS:
            if lname in SINGLE_OPTIONS and _has(opts, lname):
                raise OptionsError('multiple "%s" clauses' % lname)
            if lname == 'environment' and len(opts.env_names) > MAX_ENV:
                raise OptionsError('too many environment strings')
            if lname in ('permitopen', 'permitlisten') and opts.permits[lname] > MAX_PERMITS:
                raise OptionsError('too many permission directives')
            value, after = _dequote(text, after + 1)
            try:
                _take_value(opts, lname, value)
            except OptionsError as exc:
                raise OptionsError('%s: %s' % (lname, exc.reason))
            opts.items.append((name, value))
        elif (after >= length or text[after] != '=') and is_flag(lname):
            if lname == 'cert-authority':
                opts.cert_authority = True
            opts.items.append((name, None))
        elif is_flag(lname):
            raise OptionsError('unknown key option (%s does not take a value)' % name)
        elif lname in VALUE_OPTIONS:
            raise OptionsError('unknown key option (%s needs a value: %s="...")' % (name, name))
        else:
            raise OptionsError('unknown key option %s' % _short(name or text[pos:]))
        pos = after
        if pos >= length or text[pos] in _BLANK:
            break
        if text[pos] != ',':
            raise OptionsError('unknown key option at %s' % _short(text[pos:]))
        pos += 1
        if pos >= length and not end_is_blank:
            raise OptionsError('unexpected end of options after a comma')
    opts.end = pos
    return opts


def _short(text):
    return text if len(text) <= 16 else text[:16] + '...'


def _has(opts, lname):
    return any(name.lower() == lname for name, dummy in opts.items)


def _take_value(opts, lname, value):
    if lname == 'principals':
        opts.principals = value
    elif lname == 'from':
        opts.from_patterns = value
    elif lname == 'expiry-time':
        valid_before = parse_absolute_time(value)
        if not valid_before:
            raise OptionsError('invalid expires time')
        if opts.valid_before == 0 or valid_before < opts.valid_before:
            opts.valid_before = valid_before
    elif lname == 'environment':
        raw = _bytes(value)
        if b'=' not in raw:
            raise OptionsError('invalid environment string')
        env_name = raw.split(b'=', 1)[0]
        if not valid_env_name(env_name):
            raise OptionsError('invalid environment string')
        if env_name not in opts.env_names:
            opts.env_names.append(env_name)
    elif lname in ('permitopen', 'permitlisten'):
        check_permit(value, lname == 'permitlisten')
        opts.permits[lname] += 1
    elif lname == 'tunnel':
        if a2tun(value) is None:
            raise OptionsError('invalid tun device')


def hpdelim2(text):
    """misc.c hpdelim2: (host, rest after the ':' or '/', or None when there is none);
    raises OptionsError for a bad ``[...]`` host."""
    if text.startswith('['):
        close = text.find(']')
        if close == -1:
            raise OptionsError('invalid permission hostname')
        end = close + 1
    else:
        match = re.search('[:/]', text)
        end = match.start() if match else len(text)
    if end >= len(text):
        return text, None
    if text[end] not in ':/':
        raise OptionsError('invalid permission hostname')
    return text[:end], text[end + 1:]


def check_permit(value, allow_bare_port):
    """auth-options.c handle_permit: ``host:port`` (``port`` a number 1..65535, a
    service name or ``*``); permitlisten also takes a bare port."""
    if allow_bare_port and ':' not in value:
        value = '*:' + value
    host, port = hpdelim2(value)
    if len(_bytes(host)) >= NI_MAXHOST:
        raise OptionsError('invalid permission hostname')
    if port is None or (port != '*' and (a2port(port) or 0) <= 0):
        raise OptionsError('invalid permission port')
