# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PuTTY (``.ppk``) file next to a key pair: planned export and removal
for SshKeyPair (genkey.py). The format itself is ppk.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeyLoadError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys import ppk as ppk_format
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_cryptography import CryptographyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import PPK_MODE
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.openssh_private import openssh_public_key


class PpkCompanion:
    """``<path>.ppk`` of one pair: ``spec`` is the pair's KeyPairSpec,
    ``tree``/``parts``/``name`` where the private key is."""

    def __init__(self, spec, tree, parts, name):
        self.spec = spec
        self.tree = tree
        self.parts = parts
        self.name = name + ppk_format.PPK_SUFFIX
        self.private_name = name

    def key_object(self, private_bytes):
        """The ``cryptography`` key object of the pair's private key."""
        return CryptographyBackend().load_key_object(private_bytes, self.spec.passphrase)

    def plan_export(self, plan, private, ppk, comment, new_key):
        """Export when the file is missing or does not hold the key as asked
        (another key, comment or protection, or it does not open with the
        passphrase); a correct file is kept (an encrypted one has a random
        salt, so it is verified, never compared byte for byte)."""
        spec = self.spec
        if ppk is None or not ppk.exists or new_key:
            detail = 'PuTTY format 3%s' % (', protected by the passphrase' if spec.passphrase else '')
            plan.add('export', spec.ppk_path, self.exporter(comment), detail)
            return
        why = ppk_format.check_ppk(ppk.data, self.key_object(private.data), comment, spec.passphrase)
        if why is not None:
            plan.add('export', spec.ppk_path, self.exporter(comment), 'PuTTY format 3, %s' % why)
        else:
            plan.ensure_attrs(spec.ppk_path, ppk, lambda: self.tree.set_attrs(self.parts, self.name, PPK_MODE),
                              PPK_MODE, self.tree.uid, self.tree.gid)

    def plan_removal(self, plan, private, known, ppk):
        """The .ppk goes with the pair when it holds the pair's key (``known``,
        the key of the .pub, or no pair is left to tell); a .ppk of another key,
        or no PuTTY file, stays."""
        blob = ppk_format.public_blob_of(ppk.data)
        if blob is None:
            plan.warn('%s is not a PuTTY key file; it is left in place' % ppk.path)
            return
        if known is None and private is not None and private.exists:
            try:
                known = openssh_public_key(private.data)
            except KeyLoadError:
                known = None
        if known is not None and known.blob != blob:
            plan.warn('%s holds another key than %s; it is left in place' % (ppk.path, self.spec.path))
            return
        plan.add('remove', ppk.path, lambda: self.tree.remove(self.parts, self.name))

    def exporter(self, comment):
        def export():
            # Read the private key as it is now (generated, imported or kept).
            current = self.tree.read(self.parts, self.private_name)
            data = ppk_format.export_key(self.key_object(current.data), comment, self.spec.passphrase)
            self.tree.write(self.parts, self.name, data, PPK_MODE)
        return export
