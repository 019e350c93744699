# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text as sshd's C code sees it: the UTF-8 (surrogateescape) bytes of the text, in the C locale.

The C code works on bytes with the C locale: lengths and character classes
in this port are those of the UTF-8 (surrogateescape) bytes of the text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# isspace() in the C locale.
C_SPACE = ' \t\n\v\f\r'
_BLANK = ' \t'


def _bytes(text):
    if isinstance(text, bytes):
        return text
    return text.encode('utf-8', 'surrogateescape')


def _text(data):
    return data.decode('utf-8', 'surrogateescape')
