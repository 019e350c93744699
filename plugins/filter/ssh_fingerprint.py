# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh_fingerprint`` filter: the SHA256 fingerprint of a public key line
(options allowed), read by the same reader as every module (``parse_key_text``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import parse_key_text


def ssh_fingerprint(line):
    """``SHA256:...`` of ``[options] type base64 [comment]``."""
    if not isinstance(line, str):
        raise AnsibleFilterError('ssh_fingerprint expects a public key line, got %s' % type(line).__name__)
    try:
        key, dummy = parse_key_text(line, 'ssh_fingerprint input')
    except InvalidInput as exc:
        raise AnsibleFilterError(exc.msg)
    return key.fingerprint_sha256


class FilterModule(object):
    def filters(self):
        return {'ssh_fingerprint': ssh_fingerprint}
