# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``auth2-pubkeyfile.c``: one ``authorized_keys`` line as sshd reads it
(``auth_check_authkey_line``) and what refuses a login through it
(``auth_authorise_keyopts``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.addrmatch import (
    from_is_invalid,
    match_host_and_ip,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.auth_options import (
    Options,
    OptionsError,
    is_flag,
    parse_options,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import _BLANK
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.match import principal_names
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.misc import parse_absolute_time
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey import (
    advance_past_options,
    read_key,
    read_key_explained,
    short_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_types import KEY_NAMES


def refusal(opts, remote_ip=None, now=None, plain_key=True):
    """Why sshd refuses a login through a line with these options (auth_authorise_keyopts),
    or None.

    ``plain_key``: the login is with the key itself (not a certificate it
    signed), which a ``cert-authority`` line never allows. Without
    ``remote_ip`` only what refuses every client is checked; ``from=`` is then
    refused only when it is invalid.
    """
    if opts.cert_authority and plain_key:
        return 'cert-authority: the line authorizes certificates signed by the key, not the key'
    if now is None:
        now = time.time()
    if opts.valid_before and opts.valid_before < now:
        return 'expiry-time is in the past'
    if opts.principals is not None and not opts.cert_authority:
        return 'principals= is only allowed with cert-authority'
    if opts.principals is not None and not principal_names(opts.principals):
        return ('principals= names no principal (sshd reads the list up to its first empty name): '
                'no certificate matches')
    if opts.from_patterns is not None:
        if remote_ip is None:
            if from_is_invalid(opts.from_patterns):
                return 'from= holds an invalid criterion'
        elif match_host_and_ip(remote_ip, remote_ip, opts.from_patterns) != 1:
            return 'from= does not allow %s' % remote_ip
    return None


CERTIFICATE_LINE = ('a certificate written in authorized_keys authorizes nothing: sshd compares it neither '
                    'with a login key nor with the CA key of a certificate')


def line_refusal(line, remote_ip=None, now=None):
    """Why sshd refuses every login a key line (:class:`Line`) is meant for, or None.

    A plain line is meant for its key, a ``cert-authority`` line for the
    certificates its key signed (``auth_check_authkey_line``): bad options, a
    certificate written as the line's key (its type never equals a login key's
    nor a CA key's), and :func:`refusal`'s reasons.
    """
    if line.kind != 'key':
        return 'not a key line'
    if line.options is None:
        return 'bad key options: %s' % line.options_error
    if line.key.cert:
        return CERTIFICATE_LINE
    return refusal(line.options, remote_ip, now, plain_key=not line.options.cert_authority)


def line_expiry(line):
    """(seconds since the epoch, the ``expiry-time`` value giving it) of a key line:
    the earliest, as sshd keeps it; (0, None) when there is none."""
    if line.kind != 'key' or line.options is None or not line.options.valid_before:
        return 0, None
    for name, value in line.options.items:
        if name.lower() == 'expiry-time' and parse_absolute_time(value) == line.options.valid_before:
            return line.options.valid_before, value
    return line.options.valid_before, None


def from_is_client_dependent(opts):
    """A valid ``from=``: whether sshd lets a login in depends on the client's address."""
    return opts is not None and opts.from_patterns is not None and not from_is_invalid(opts.from_patterns)


class Line:
    """One line as sshd reads it (``auth_check_authkey_line`` without the login key).

    ``kind``: blank, comment, key or invalid. For a key line: ``key``
    (:class:`SshdKey`), ``type_name`` as written, ``comment``, ``options_text``,
    ``options`` (:class:`Options`, None when sshd refuses them) and ``options_error``.
    """

    __slots__ = ('kind', 'key', 'type_name', 'comment', 'options_text', 'options', 'options_error', 'cert_authority')

    def __init__(self, raw):
        text = raw.split('\0', 1)[0]
        self.kind = 'invalid'
        self.key = None
        self.type_name = None
        self.comment = ''
        self.options_text = ''
        # shared by every line without options (never changed once made)
        self.options = _NO_OPTIONS
        self.options_error = None
        # a cert-authority line authorizes certificates, a plain line its key:
        # two kinds of line (also when sshd refuses the options after the flag)
        self.cert_authority = False
        text = text.lstrip(_BLANK)
        if text == '' or text == '\r' or text.startswith('#'):
            self.kind = 'comment' if text.startswith('#') else 'blank'
            return
        found = read_key(text)
        if found is None:
            end = advance_past_options(text)
            if end is None:
                return
            found = read_key(_skip_blank_text(text[end:]))
            if found is None:
                return
            self.options_text = text[:end]
            try:
                self.options = parse_options(self.options_text)
                self.cert_authority = self.options.cert_authority
            except OptionsError as exc:
                self.options = None
                self.options_error = exc.reason
                self.cert_authority = exc.partial is not None and exc.partial.cert_authority
        self.kind = 'key'
        self.key, self.type_name, self.comment = found

    def authorizes_certificate(self, ca_material, principals, user, remote_ip, now=None):
        """Whether sshd lets a certificate signed by the CA key with ``ca_material``
        and naming ``principals`` log in as ``user`` from ``remote_ip`` through this
        line (``auth_check_authkey_line``: a cert-authority line, its options, then
        its ``principals=`` list or else the user's name among the certificate's
        principals). The certificate's own validity and options are not judged."""
        if self.kind != 'key' or self.options is None or self.key.cert or not self.options.cert_authority:
            return False
        if self.key.material != ca_material:
            return False
        if refusal(self.options, remote_ip, now, plain_key=False) is not None:
            return False
        if self.options.principals is not None:
            names = principal_names(self.options.principals)
            return any(principal in names for principal in principals)
        return user in principals

    def authorizes(self, material, remote_ip, now=None):
        """Whether sshd lets the plain key with ``material`` log in from ``remote_ip``."""
        if self.kind != 'key' or self.options is None or self.key.cert:
            return False
        if self.key.material != material:
            return False
        return refusal(self.options, remote_ip, now) is None


_NO_OPTIONS = Options()


def _skip_blank_text(text):
    return text.lstrip(_BLANK)


def line_error(text):
    """Why sshd reads no key on the line ``text`` (``auth_check_authkey_line``:
    ``sshkey_read`` at the start of the line, else after the options), or None
    when it reads one (its options may still be refused: :attr:`Line.options_error`).

    The one explanation of key text for every module: a line that starts with
    a key type name is explained by its key (``sshkey_read``'s reason), any
    other by its options and the key after them. Shows at most a short prefix
    of a word of the text, never the key data.
    """
    text = _skip_blank_text(text.split('\0', 1)[0])
    if text.rstrip('\r') == '' or text.startswith('#'):
        return 'an empty line or a comment holds no key'
    found, reason = read_key_explained(text)
    if found is not None:
        return None
    end = advance_past_options(text)
    candidate = None
    if end is not None:
        candidate = _skip_blank_text(text[end:])
        found, after_reason = read_key_explained(candidate)
        if found is not None:
            return None
    # neither read: say what is wrong
    text = text.rstrip('\r')
    first = _first_word(text)
    if first in KEY_NAMES:
        return reason
    if end is None:
        return 'unterminated double quote in the key options'
    candidate = candidate.rstrip('\r')
    if not candidate or (_first_word(candidate) not in KEY_NAMES and not _looks_like_options(first)):
        if len(first) == len(text):
            return reason
        return '%s is not a key type sshd accepts' % short_text(first)
    try:
        parse_options(text[:end])
    except OptionsError as exc:
        return 'bad key options: %s' % exc.reason
    return after_reason


def _first_word(text):
    return text.split(' ', 1)[0].split('\t', 1)[0]


def _looks_like_options(word):
    return '=' in word or ',' in word or '"' in word or is_flag(word.lower())
