# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How OpenSSH's sshd (9.2, Debian 12) reads one ``authorized_keys`` line.

A port of sshd's rules, one module per OpenSSH source file:

- ``auth2_pubkeyfile``: ``auth2-pubkeyfile.c`` (``auth_check_authkey_line``,
  ``auth_authorise_keyopts``): :class:`Line`, :func:`line_refusal`, :func:`refusal`;
- ``auth2_pubkey``: ``auth2-pubkey.c``'s settings (``PubkeyAcceptedAlgorithms``,
  ``CASignatureAlgorithms``, ``RequiredRSASize``): :func:`settings_refusals`;
- ``sshkey``: ``sshkey.c`` (``sshkey_read``, ``sshkey_from_blob``), with its
  type table in ``sshkey_types`` and certificate signatures in ``sshkey_verify``;
- ``sshbuf``: the blob reader; ``openbsd_base64``: ``b64_pton``;
- ``auth_options``: ``auth-options.c`` (``sshauthopt_parse``);
- ``misc``: ``misc.c`` (``parse_absolute_time``, ``a2tun``, ``a2port``,
  ``valid_env_name``) and ``strtonum``;
- ``match``/``addrmatch``: ``match.c``/``addrmatch.c`` (``from=``, patterns);
- ``c_text``: text as the C code sees it (bytes, the C locale).

``tests/parity`` checks them line by line against a real sshd. The package
``rules/`` is the one source of sshd's rules; this module names its API and
callers use the names below (the package's ``__init__.py`` stays empty).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.c_text import (
    C_SPACE,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.openbsd_base64 import (
    b64_pton,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshbuf import (
    BlobError,
    MAX_BIGNUM_BYTES,
    MAX_ECPOINT_BYTES,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_types import (
    DSA,
    ECDSA,
    ECDSA_SK,
    ED25519,
    ED25519_SK,
    KEY_NAMES,
    MIN_RSA_BITS,
    RSA,
    wire_name,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey_verify import (
    OPENSSL_RSA_MAX_PUBEXP_BITS,
    OPENSSL_RSA_SMALL_MODULUS_BITS,
    RSA_VERIFY_BUDGET,
    unchecked_signatures,
    verify_signature,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.sshkey import (
    advance_past_options,
    key_from_blob,
    normalize_comment,
    read_key,
    read_key_explained,
    short_text,
    SshdKey,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.misc import (
    a2port,
    a2tun,
    parse_absolute_time,
    strtonum,
    TUNID_ANY,
    TUNID_MAX,
    valid_env_name,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.auth_options import (
    check_permit,
    hpdelim2,
    is_flag,
    MAX_ENV,
    MAX_PERMITS,
    NEGATABLE_FLAGS,
    NI_MAXHOST,
    Options,
    OptionsError,
    parse_options,
    RESTRICT_FLAGS,
    SINGLE_OPTIONS,
    VALUE_OPTIONS,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.match import (
    match_pattern,
    match_pattern_list,
    MAX_PROP,
    principal_names,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.addrmatch import (
    addr_match_list,
    address_in_cidr,
    from_is_invalid,
    match_host_and_ip,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.auth2_pubkeyfile import (
    CERTIFICATE_LINE,
    from_is_client_dependent,
    Line,
    line_error,
    line_expiry,
    line_refusal,
    refusal,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.rules.auth2_pubkey import (
    algorithm_allowed,
    CERTIFICATE_ALGORITHMS,
    key_algorithms,
    settings_refusals,
    type_algorithms,
)

SSHD_VERSION = 'OpenSSH 9.2'

__all__ = (
    'a2port', 'a2tun', 'addr_match_list', 'address_in_cidr', 'advance_past_options', 'algorithm_allowed',
    'b64_pton', 'BlobError', 'C_SPACE', 'CERTIFICATE_ALGORITHMS', 'CERTIFICATE_LINE', 'check_permit', 'DSA',
    'ECDSA', 'ECDSA_SK', 'ED25519', 'ED25519_SK', 'from_is_client_dependent', 'from_is_invalid', 'hpdelim2',
    'is_flag', 'key_algorithms', 'key_from_blob', 'KEY_NAMES', 'Line', 'line_error', 'line_expiry', 'line_refusal',
    'match_host_and_ip', 'match_pattern', 'match_pattern_list', 'MAX_BIGNUM_BYTES', 'MAX_ECPOINT_BYTES',
    'MAX_ENV', 'MAX_PERMITS', 'MAX_PROP', 'MIN_RSA_BITS', 'NEGATABLE_FLAGS', 'NI_MAXHOST',
    'normalize_comment', 'OPENSSL_RSA_MAX_PUBEXP_BITS', 'OPENSSL_RSA_SMALL_MODULUS_BITS', 'Options',
    'OptionsError', 'parse_absolute_time', 'parse_options', 'principal_names', 'read_key', 'read_key_explained', 'refusal',
    'RESTRICT_FLAGS', 'RSA', 'RSA_VERIFY_BUDGET', 'settings_refusals', 'SINGLE_OPTIONS', 'SSHD_VERSION',
    'short_text', 'SshdKey', 'strtonum', 'TUNID_ANY', 'TUNID_MAX', 'type_algorithms', 'unchecked_signatures',
    'valid_env_name', 'VALUE_OPTIONS', 'verify_signature', 'wire_name',
)
