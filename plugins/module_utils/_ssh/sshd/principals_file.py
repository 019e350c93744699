# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An ``AuthorizedPrincipalsFile`` as sshd 9.2 reads it (auth2-pubkeyfile.c
``auth_process_principals``): leading blanks skipped, a ``#`` anywhere ends
the line, trailing blanks cut, and a line with an inner blank is
``<key options> <principal>`` (the principal is what follows the last blank).
The one reader of the format: ``ssh_principals`` edits with it and the audit
judges with it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def line_principal(line):
    """(principal, options text or None) of one line, or None for a line without one."""
    body = line.split('#', 1)[0].strip(' \t\r\n')
    if not body:
        return None
    cut = max(body.rfind(' '), body.rfind('\t'))
    if cut < 0:
        return body, None
    return body[cut + 1:], body[:cut].rstrip(' \t')


def _lines(text):
    """The lines of ``text`` one at a time, split at newlines only (sshd's
    getline: a carriage return or form feed does not end a line), never all at
    once (an account's 64 MiB of short lines would be tens of millions of strings)."""
    start = 0
    size = len(text)
    while start < size:
        end = text.find('\n', start)
        if end < 0:
            end = size
        yield text[start:end]
        start = end + 1


def principal_lines_upto(text, limit):
    """([(principal, options text or None)], more): at most ``limit`` of the
    file's principals in order; ``more`` is True when the file holds others."""
    found = []
    for line in _lines(text):
        item = line_principal(line)
        if item is not None:
            if limit is not None and len(found) >= limit:
                return found, True
            found.append(item)
    return found, False


def principal_lines(text):
    """[(principal, options text or None)] of a file's text, in order."""
    return principal_lines_upto(text, None)[0]
