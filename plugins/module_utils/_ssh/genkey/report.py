# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What SshKeyPair (genkey.py) shows: the diff's view of a pair and the
``reason`` text in ssh-keygen's own words (as cPanel's SSH::genkey)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey


def parse_public(public):
    """The key in a .pub file state, or None when missing or unreadable."""
    if public is None or not public.exists:
        return None
    try:
        return PublicKey.from_line(public.data.decode('utf-8', 'replace').strip())
    except InvalidInput:
        return None


def key_view(key):
    return {
        'type': key.family,
        'size': key.size,
        'comment': key.comment,
        'fingerprint': key.fingerprint_sha256,
        'public_key': key.to_line(),
    }


def public_view(public):
    """What the diff shows of the current pair: public data only."""
    key = parse_public(public)
    if key is not None:
        return key_view(key)
    if public is not None and public.exists:
        return {'public_key': '(unreadable public key file)'}
    return {'public_key': '(no public key file)'}


def reason_text(spec, key, event, applied):
    """``event``: generated, installed (a public key alone), imported,
    public_kept (a public key alone, up to date) or kept."""
    if event == 'generated':
        head = [
            'Generating public/private %s key pair.' % spec.key_type,
            'Your identification has been saved in %s' % spec.path,
            'Your public key has been saved in %s' % spec.public_path,
        ]
    elif event == 'installed':
        head = ['%s the %s public key in %s.' % ('Installed' if applied else 'Would install', key.family,
                                                 spec.public_path)]
    elif event == 'imported':
        head = ['%s the %s key pair in %s.' % ('Imported' if applied else 'Would import', key.family, spec.path)]
    elif event == 'public_kept':
        head = ['The %s public key in %s is up to date.' % (key.family, spec.public_path)]
    else:
        head = ['The %s key pair in %s is up to date.' % (key.family, spec.path)]
    return '\n'.join(head + [
        'The key fingerprint is:',
        '%s %s' % (key.fingerprint_sha256, key.comment),
        "The key's randomart image is:",
        key.randomart(),
    ])
