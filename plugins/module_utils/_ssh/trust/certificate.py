# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The public fields of an OpenSSH certificate (PROTOCOL.certkeys) that the
trust checks need: type, serial, key id, principals, validity, signing CA."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import (
    PublicKey,
    _read_key_fields,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, WireError

CERT_TYPES = {1: 'user', 2: 'host'}


def certificate_fields(key):
    """{type, serial, key_id, principals, valid_after, valid_before,
    signature_key (a PublicKey)} of certificate ``key`` (a PublicKey), or None
    when it is not a certificate one can read."""
    if not key.is_certificate:
        return None
    reader = Reader(key.blob)
    try:
        reader.string('key type')
        reader.string('nonce')
        _read_key_fields(reader, key.plain_key_type)
        serial = reader.uint64('serial')
        cert_type = reader.uint32('certificate type')
        key_id = reader.text('key id')
        principals_blob = reader.string('principals')
        valid_after = reader.uint64('valid after')
        valid_before = reader.uint64('valid before')
        reader.string('critical options')
        reader.string('extensions')
        reader.string('reserved')
        ca_blob = reader.string('signature key')
        principals = []
        inner = Reader(principals_blob)
        while inner.remaining():
            principals.append(inner.text('principal'))
        ca_type = Reader(ca_blob).text('key type')
        signature_key = PublicKey.from_blob(ca_type, ca_blob)
    except (WireError, ValueError, KeysmithError):
        return None
    return {'type': CERT_TYPES.get(cert_type, str(cert_type)), 'serial': serial, 'key_id': key_id,
            'principals': principals, 'valid_after': valid_after, 'valid_before': valid_before,
            'signature_key': signature_key}
