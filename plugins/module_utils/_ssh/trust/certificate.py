# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The public fields of an OpenSSH certificate (PROTOCOL.certkeys) that the
trust checks need: type, serial, key id, principals, validity, signing CA.
Read by the certificate model of ``_ssh/certs`` (one reader of certificates)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, WireError


def certificate_fields(key):
    """{type, serial, key_id, principals, valid_after, valid_before,
    signature_key (a PublicKey), key (the certified key, a PublicKey)} of
    certificate ``key`` (a PublicKey), or None when it is not a certificate one
    can read."""
    if not key.is_certificate:
        return None
    try:
        cert = Certificate.from_blob(key.blob)
        ca_type = Reader(cert.ca_blob).text('key type')
        signature_key = PublicKey.from_blob(ca_type, cert.ca_blob)
    except (WireError, ValueError, KeysmithError):
        return None
    return {'type': cert.cert_type, 'serial': cert.serial, 'key_id': cert.key_id,
            'principals': list(cert.principals), 'valid_after': cert.valid_after,
            'valid_before': cert.valid_before, 'signature_key': signature_key, 'key': cert.key}
