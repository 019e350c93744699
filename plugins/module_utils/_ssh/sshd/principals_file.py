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


def principal_lines(text):
    """[(principal, options text or None)] of a file's text, in order."""
    found = []
    for line in text.splitlines():
        item = line_principal(line)
        if item is not None:
            found.append(item)
    return found
