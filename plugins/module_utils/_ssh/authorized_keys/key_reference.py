# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key of an account, named by an ``authorized_keys`` item (``provision``:
``{account: bob, key_name: id_ed25519}``) instead of given as text.

The key is bob's ``~/.ssh/id_ed25519.pub`` as it is, or as the same call makes
it. A key still to be made is a :class:`PendingKey`: the plan names it ("key
id_ed25519 of bob, still to be generated"), and applying the plan asks for the
real key once it exists.

bob's files are bob's: the ``.pub`` is read through ``_fs`` (the trust walk to
bob's ``~/.ssh``, no symbolic link followed whatever ``follow`` says, no hard
link, no file owned by a third account, no fifo or device, at most
``MAX_PUB_BYTES``), must hold exactly one public key line and is never quoted in
a message: a hostile bob cannot make root read, or show, anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeysmithError, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import account_tree
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    WantedKey,
    iter_key_lines,
    parse_key_text,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import validate_key_name

# A .pub of the largest key ssh-keygen makes (rsa 16384) is under 3 KiB.
MAX_PUB_BYTES = 64 * 1024


def check_key_name(key_name):
    """``key_name``: a plain file name in ``~/.ssh``, without ``.pub``."""
    if not isinstance(key_name, str):
        raise InvalidInput('key_name must be a string, the name of a key in ~/.ssh (id_ed25519)')
    try:
        validate_key_name(key_name)
    except InvalidInput as exc:
        raise InvalidInput('key_name: %s' % exc.msg)
    if key_name.endswith('.pub'):
        raise InvalidInput('key_name %r: give the key\'s name without .pub (%s)' % (key_name, key_name[:-4]))
    return key_name


def key_label(account_name, key_name):
    return 'key %s of %s' % (key_name, account_name)


def private_key_path(account, key_name):
    return os.path.join(account.home, '.ssh', key_name)


def read_public_key(account, key_name):
    """The ``PublicKey`` of ``account``'s ``~/.ssh/KEY_NAME.pub`` (with its comment).

    ``NotFound`` when it does not exist; ``UnsafePath``/``NotRegularFile`` when
    it is a link, a hard link, another account's file, not a regular file or
    larger than ``MAX_PUB_BYTES``; ``InvalidInput`` when it is not one public
    key line (a TLS key's PEM, a private key, two keys) - its content is not shown.
    """
    label = key_label(account.name, key_name)
    path = private_key_path(account, key_name) + '.pub'
    if not account.exists:
        raise NotFound('%s: user %s does not exist, so %s does not either' % (label, account.name, path), path=path)
    # follow=False: a link in bob's ~/.ssh is never followed, whatever the task's follow says
    tree, parts, name = account_tree(account, path, follow=False)
    try:
        state = tree.read(parts, name, limit=MAX_PUB_BYTES)
    except KeysmithError as exc:
        raise type(exc)('%s: %s' % (label, exc.msg), **exc.details)
    if not state.exists:
        raise NotFound('%s: %s does not exist (and no ssh_keys item of %s makes it in this call)'
                       % (label, path, account.name), path=path)
    if b'\0' in state.data:
        raise InvalidInput('%s: %s is not a public key file (binary data; its content is not shown)' % (label, path),
                           path=path)
    text = state.data.decode('utf-8', 'replace')
    lines = list(iter_key_lines(text))
    if len(lines) != 1:
        raise InvalidInput('%s: %s holds %d key lines, not one public key (its content is not shown)'
                           % (label, path, len(lines)), path=path)
    try:
        key, options = parse_key_text(lines[0][1], path)
    except InvalidInput:
        # the parser quotes a prefix of the line: bob's file is not shown
        raise InvalidInput('%s: %s is not an OpenSSH public key line (its content is not shown)' % (label, path),
                           path=path)
    if options:
        raise InvalidInput('%s: %s holds key options, not a plain public key line (its content is not shown)'
                           % (label, path), path=path)
    return key


class PendingKey:
    """A key the same call makes, named by an item: known only once it is made.

    ``account``: whose key it is; ``resolve()`` returns its ``PublicKey`` when
    applying (``KeysmithError`` when it was not made); ``options``/``comment``
    are the item's (None: none given)."""

    def __init__(self, account, label, resolve, options, comment, source):
        self.account = account
        self.label = label
        self.resolve = resolve
        self.options = options
        self.comment = comment
        self.source = source

    def describe(self):
        return '%s, still to be generated' % self.label

    def wanted(self):
        key = self.resolve()
        return WantedKey(key, self.options or [], self.comment, self.source)
