# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host certificates against sshd's host keys, checked before ``sshd_trust``
installs a ``HostCertificate`` line.

sshd 9.2 (sshd.c ``main``) loads each ``HostKey`` (the private key; its
public half from the key file itself, else from the ``.pub`` beside it, and
the private key's own when the two differ), then for each ``HostCertificate``
looks for the host key whose public half equals the certificate's key: none
found, it logs "No matching private key for certificate" and serves the host
without the certificate, and a client that checks host certificates refuses
it. sshd does not check the validity period nor - beyond the type - anything
else at start-up: an expired or not yet valid certificate is offered and
refused by every client.

The host keys are the ones ``sshd -T`` of the candidate configuration prints
(``candidate.CheckedConfig.host_keys``); each is read through ``_fs`` (root's
file) and its public half by the one key reader (OpenSSH format always, PEM
through the backends). A host key this cannot read is named in the error, so
a refusal never hides why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeyLoadError,
    KeysmithError,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import epoch_now, utc_text
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backend_base import KeyBackend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.backends import select_backend
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey

# a host key file is a few KiB; anything larger is not one sshd loads
_MAX_HOST_KEY_BYTES = 1024 * 1024


def _public_of_private(data):
    """The public half of private key ``data`` (sshd loads host keys without a
    passphrase), or None when the one key reader cannot read it."""
    try:
        if KeyBackend.private_format(data) == 'openssh':
            return KeyBackend.openssh_public_key(data)
        return select_backend('auto', private_bytes=data).load_private(data, None)
    except (KeyLoadError, BackendUnavailable, InvalidInput):
        return None


def _public_file(path):
    data = _fs.read_named_file(path, _MAX_HOST_KEY_BYTES)
    if data is None:
        return None
    lines = data.decode('utf-8', 'replace').strip().splitlines()
    try:
        return PublicKey.from_line(lines[0]) if lines else None
    except InvalidInput:
        return None


def host_public_key(path):
    """(PublicKey or None, why not) of sshd's ``HostKey`` ``path``: the private
    key's public half (sshd uses it), else the ``.pub`` beside it."""
    try:
        data = _fs.read_named_file(path, _MAX_HOST_KEY_BYTES)
    except KeysmithError as exc:
        return None, '%s cannot be read: %s' % (path, exc.msg)
    if data is None:
        return None, '%s does not exist (sshd cannot load it)' % path
    key = _public_of_private(data)
    data = None
    if key is None:
        try:
            key = _public_file(path + '.pub')
        except KeysmithError:
            key = None
    if key is None:
        return None, '%s: its public key cannot be read (nor %s.pub)' % (path, path)
    return key, None


def check_host_certificate(path, fields, host_keys, now=None):
    """``InvalidInput`` when the host certificate at ``path`` (its
    ``certificate_fields``) is not valid now, or certifies a key that is none
    of ``host_keys`` (the ``HostKey`` paths sshd loads; None: not known, the
    key is not compared)."""
    now = epoch_now() if now is None else now
    if fields['valid_after'] > now:
        raise InvalidInput('host certificate %s is not valid yet (valid from %s): clients refuse the host until '
                           'then, so it is not installed' % (path, utc_text(fields['valid_after'])), path=path)
    if fields['valid_before'] <= now:
        raise InvalidInput('host certificate %s expired at %s: clients refuse the host with it, so it is not '
                           'installed (sign a new one)' % (path, utc_text(fields['valid_before'])), path=path)
    if host_keys is None:
        return None
    problems = []
    for host_key in host_keys:
        key, problem = host_public_key(host_key)
        if key is not None and key.same_key(fields['key']):
            return host_key
        if problem:
            problems.append(problem)
    raise InvalidInput('host certificate %s certifies the key %s, which is none of sshd\'s host keys (HostKey %s)%s: '
                       'sshd would ignore the certificate ("No matching private key for certificate"), so it is '
                       'not installed' % (path, fields['key'].fingerprint_sha256, ', '.join(host_keys) or 'none',
                                          '; ' + '; '.join(problems) if problems else ''), path=path)
