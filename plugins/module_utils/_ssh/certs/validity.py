# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificate validity as ``ssh-keygen -V`` reads it (ssh-keygen.c
``parse_cert_times``, misc.c ``convtime``/``parse_absolute_time``), and the
renewal rule.

A bound is *absolute* (``always``, ``forever``, ``YYYYMMDD[HHMM[SS]][Z]``,
``0x<hex seconds>``, a number of seconds since the epoch) or *relative* to
the time of signing (``+52w``, ``-1d``, ``+1h30m``). An absolute bound is part
of what was asked: the certificate on disk must carry exactly it. A relative
bound moves with the clock, so it is not compared as a number (an unchanged
task re-run must never re-sign): a certificate fits while it is valid now and
does not end later than the bound would put it now, give or take ``CLOCK_SLACK``
(``+52w`` after ``forever`` re-signs); ``renew_before`` re-signs when less than
that is left.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import FOREVER
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.sshd_rules import parse_absolute_time

_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_PIECE = re.compile(r'([0-9]+)([sSmMhHdDwW]?)')
_INT_MAX = 2 ** 31 - 1
# A certificate signed for a relative valid_to ends at (time of signing) +
# offset; a clock stepped back a little since must not make it "valid for
# longer than asked" (and re-signed on every run until the clock catches up).
CLOCK_SLACK = 600


def convtime(text):
    """misc.c ``convtime``: ``1h30m``, ``2d``, ``90`` -> seconds; None when invalid."""
    if not text:
        return None
    total, pos, seen_seconds = 0, 0, False
    while pos < len(text):
        match = _PIECE.match(text, pos)
        if match is None:
            return None
        unit = match.group(2).lower()
        if unit in ('', 's'):
            if seen_seconds:
                return None
            seen_seconds = True
        total += int(match.group(1)) * _UNITS[unit]
        pos = match.end()
        if not match.group(2) and pos < len(text):
            return None
    return total if total <= _INT_MAX else None


class Bound:
    """One validity bound: ``absolute`` seconds, or ``offset`` seconds from now."""

    def __init__(self, text, absolute=None, offset=None):
        self.text = text
        self.absolute = absolute
        self.offset = offset

    @property
    def relative(self):
        return self.absolute is None

    def at(self, now):
        if self.absolute is not None:
            return self.absolute
        return max(0, now + self.offset)


def parse_bound(value, option, end=False):
    """``valid_from`` (``end`` False) or ``valid_to`` as a ``Bound``."""
    if isinstance(value, bool):
        raise InvalidInput('%s must be a time, not %r' % (option, value))
    if isinstance(value, int):
        if value < 0 or value > FOREVER:
            raise InvalidInput('%s %d is out of range' % (option, value))
        return Bound(str(value), absolute=value)
    text = str(value).strip()
    if text[:1] in ('+', '-'):
        seconds = convtime(text[1:])
        if seconds is None:
            raise InvalidInput('%s %r is not a relative time such as +52w, -1d or +1h30m' % (option, text))
        sign = -1 if text[0] == '-' else 1
        return Bound(text, offset=sign * int(seconds))
    if text == ('forever' if end else 'always'):
        return Bound(text, absolute=FOREVER if end else 0)
    if text.lower().startswith('0x'):
        try:
            seconds = int(text[2:], 16)
        except ValueError:
            seconds = -1
        if not 0 <= seconds <= FOREVER or not text[2:]:
            raise InvalidInput('%s %r is not a hexadecimal number of seconds' % (option, text))
        return Bound(text, absolute=seconds)
    if text.isdigit() and len(text) not in (8, 12, 14):
        return parse_bound(int(text), option, end)
    seconds = parse_absolute_time(text)
    if not seconds:
        raise InvalidInput('%s %r is not a time: use %s, +/- a relative time (+52w, -5m), YYYYMMDD[HHMM[SS]] '
                           '(local time, Z for UTC), 0x<hex seconds> or seconds since the epoch'
                           % (option, text, 'forever' if end else 'always'))
    return Bound(text, absolute=seconds)


def parse_duration(value, option):
    """``renew_before``: ``4w``, ``+4w``, ``2d12h`` or a number of seconds."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidInput('%s must not be negative' % option)
        return value
    text = str(value).strip().lstrip('+')
    seconds = convtime(text)
    if seconds is None:
        raise InvalidInput('%s %r is not a duration such as 4w, 2d12h or 3600' % (option, value))
    return seconds


class Validity:
    """The validity a task asks for: ``valid_from``/``valid_to`` bounds and
    ``renew_before`` seconds (None: renew only once expired)."""

    def __init__(self, valid_from, valid_to, renew_before=None):
        self.valid_from = parse_bound(valid_from, 'valid_from')
        self.valid_to = parse_bound(valid_to, 'valid_to', end=True)
        self.renew_before = parse_duration(renew_before, 'renew_before')
        if self.renew_before is not None and self.valid_to.relative and self.renew_before >= self.valid_to.offset:
            # every new certificate would be due for renewal at once: each run would sign again
            raise InvalidInput('renew_before (%s) must be shorter than the validity valid_to %s gives'
                               % (renew_before, self.valid_to.text))
        if not self.valid_from.relative and not self.valid_to.relative \
                and self.valid_to.absolute <= self.valid_from.absolute:
            raise InvalidInput('valid_to (%s) is not after valid_from (%s)'
                               % (self.valid_to.text, self.valid_from.text))

    def window(self, now):
        """(valid after, valid before) of a certificate signed at ``now``."""
        after, before = self.valid_from.at(now), self.valid_to.at(now)
        if before <= after:
            raise InvalidInput('valid_to (%s) is not after valid_from (%s)'
                               % (self.valid_to.text, self.valid_from.text))
        return after, before

    def mismatch(self, cert, now):
        """Why the certificate ``cert`` does not have the asked validity at
        ``now``: a reason text, or None when it fits (a renewal's reason
        starts with ``renewal``)."""
        after, before = self.window(now)
        if self.valid_from.relative:
            if cert.valid_after > max(now, after):
                return 'it is not valid yet (valid_from %s)' % self.valid_from.text
        elif cert.valid_after != after:
            return 'valid_from differs'
        if not self.valid_to.relative:
            if cert.valid_before != before:
                return 'valid_to differs'
        else:
            if cert.valid_before <= now:
                return 'it has expired'
            if cert.valid_before > before + CLOCK_SLACK:
                return 'it is valid for longer than valid_to %s' % self.valid_to.text
        if self.renew_before is not None and cert.valid_before - now < self.renew_before:
            if before > cert.valid_before:
                return 'renewal: less than renew_before is left'
        return None
