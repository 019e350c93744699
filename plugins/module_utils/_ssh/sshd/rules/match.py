# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``match.c``: ``match_pattern``, ``match_pattern_list`` and the names ``match_list``
compares (``principals=``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _bytes, _text


# Patterns already compiled, by text (an audit asks about the same from= lists
# for every client context); bounded, emptied when full.
_CACHE_MAX = 16384
_PATTERNS = {}


def match_pattern(string, pattern):
    """match.c match_pattern: ``*`` and ``?`` wildcards, the whole string."""
    if '*' not in pattern and '?' not in pattern:
        return string == pattern
    regex = _PATTERNS.get(pattern)
    if regex is None:
        regex = re.compile('(?s)' + ''.join('.*' if c == '*' else '.' if c == '?' else re.escape(c)
                                            for c in pattern) + r'\Z')
        if len(_PATTERNS) >= _CACHE_MAX:
            _PATTERNS.clear()
        _PATTERNS[pattern] = regex
    return regex.match(string) is not None


def match_pattern_list(string, patterns, dolower=True):
    """match.c match_pattern_list (``dolower``: lower-casing the patterns): 1, 0 or -1 (negated)."""
    got_positive = 0
    raw = _bytes(patterns)
    index = 0
    while index < len(raw):
        negated = raw[index:index + 1] == b'!'
        if negated:
            index += 1
        end = raw.find(b',', index)
        if end == -1:
            end = len(raw)
        sub = raw[index:end]
        if len(sub) >= 1023:
            return 0
        index = end + 1 if end < len(raw) else end
        if match_pattern(string, _text(sub.lower() if dolower else sub)):
            if negated:
                return -1
            got_positive = 1
    return got_positive


MAX_PROP = 40  # match.c: the names of a list match_list compares


def principal_names(value):
    """The names of a ``principals=`` list that sshd compares (match.c ``match_list``):
    the names before the first empty one, at most ``MAX_PROP``."""
    names = []
    for name in value.split(','):
        if name == '' or len(names) >= MAX_PROP:
            break
        names.append(name)
    return names
