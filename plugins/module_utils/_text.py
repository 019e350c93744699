# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Results are valid text whatever the files hold.

Account files are read as bytes and decoded with ``surrogateescape`` (so a
lossless rewrite keeps every byte); file names come from ``os.listdir`` the
same way. A byte that is not UTF-8 then lives in a ``str`` as a lone
surrogate, which no JSON consumer accepts (ansible-core 2.19 refuses the whole
module response). Before a result leaves the module every such byte is shown
as ``\\xNN`` (backslash escape), and the result says where it did so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def escape_text(text):
    """``text`` with undecodable bytes (lone surrogates) as ``\\xNN``; (text, whether escaped)."""
    try:
        text.encode('utf-8')
        return text, False
    except UnicodeEncodeError:
        pass
    raw = text.encode('utf-8', 'surrogateescape') if _only_escapes(text) else None
    if raw is not None:
        return raw.decode('utf-8', 'backslashreplace'), True
    # a surrogate surrogateescape does not make: its code point, escaped
    return text.encode('utf-8', 'backslashreplace').decode('utf-8'), True


def _only_escapes(text):
    try:
        text.encode('utf-8', 'surrogateescape')
        return True
    except UnicodeEncodeError:
        return False


def valid_text(value, escaped, where='result'):
    """``value`` (nested dicts, lists, tuples, strings) with every string valid UTF-8.

    ``escaped`` (a list) gets the place of each string that was escaped. A
    container whose strings are all valid is returned as it is (no copy).
    """
    if where == 'result' and _all_valid(value):
        return value
    if isinstance(value, str):
        text, changed = escape_text(value)
        if changed:
            escaped.append(where)
        return text
    if isinstance(value, dict):
        out = None
        for key, item in value.items():
            name = valid_text(key, escaped, where) if isinstance(key, str) else key
            new = valid_text(item, escaped, '%s.%s' % (where, name)) if not _plain(item) else item
            if out is None and (new is not item or name is not key):
                out = {}
                for done_key, done_item in value.items():
                    if done_key is key:
                        break
                    out[done_key] = done_item
            if out is not None:
                out[name] = new
        return value if out is None else out
    if isinstance(value, (list, tuple)):
        out = None
        for index, item in enumerate(value):
            new = valid_text(item, escaped, '%s[%d]' % (where, index)) if not _plain(item) else item
            if out is None and new is not item:
                out = list(value[:index])
            if out is not None:
                out.append(new)
        if out is None:
            return value
        return tuple(out) if isinstance(value, tuple) else out
    return value


def _all_valid(value):
    """Every string in ``value`` is valid UTF-8 (one pass of the C JSON encoder: a
    result of 100,000 keys is not walked in Python when nothing needs escaping)."""
    try:
        json.dumps(value, ensure_ascii=False, default=repr).encode('utf-8')
        return True
    except (UnicodeEncodeError, TypeError, ValueError):
        return False


def _plain(value):
    """Nothing to escape in ``value`` (checked without building its place's name)."""
    if isinstance(value, str):
        try:
            value.encode('utf-8')
            return True
        except UnicodeEncodeError:
            return False
    return not isinstance(value, (dict, list, tuple))


def escaped_warning(escaped, limit=5):
    """The warning that says where undecodable bytes were escaped."""
    shown = ', '.join(place[len('result.'):] if place.startswith('result.') else place
                      for place in escaped[:limit])
    more = ' and %d more' % (len(escaped) - limit) if len(escaped) > limit else ''
    return ('text read from files is not valid UTF-8: its undecodable bytes are shown as \\xNN in %s%s'
            % (shown, more))
