# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificate signing requests: build, load, describe and compare.

Two CSRs are "the same" when their subject (attributes in order), their
subjectAltNames (in order), their public key, their signature digest and their
challengePassword are equal and the existing one's signature is valid.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeyLoadError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.crypto import backend_kwargs as _backend_kwargs
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.keys import (
    describe,
    fingerprint,
    public_der,
    require_cryptography,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import format_san

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
except ImportError:  # pragma: no cover - exercised by sanity's import test
    pass
else:
    try:
        from cryptography.x509.oid import AttributeOID
        CHALLENGE_PASSWORD_OID = AttributeOID.CHALLENGE_PASSWORD
    except ImportError:  # cryptography < 35
        CHALLENGE_PASSWORD_OID = x509.ObjectIdentifier('1.2.840.113549.1.9.7')

DIGESTS = ('sha256', 'sha384', 'sha512')

# The subject, in the order openssl and cPanel write it: (option, short name, OID dotted string).
SUBJECT_FIELDS = (
    ('country', 'C', '2.5.4.6'),
    ('province', 'ST', '2.5.4.8'),
    ('city', 'L', '2.5.4.7'),
    ('company', 'O', '2.5.4.10'),
    ('companydivision', 'OU', '2.5.4.11'),
    ('host', 'CN', '2.5.4.3'),
    ('email', 'emailAddress', '1.2.840.113549.1.9.1'),
)
_SHORT_NAMES = dict((oid, short) for _option, short, oid in SUBJECT_FIELDS)


def subject_tuples(fields):
    """The wanted subject as an ordered list of (short name, value); empty optional fields are left out."""
    return [(short, fields[option]) for option, short, _oid in SUBJECT_FIELDS if fields.get(option)]


def subject_string(tuples):
    """``C = US, ST = Texas, ...``: as ``openssl req -text`` prints the subject."""
    return ', '.join('%s = %s' % item for item in tuples)


def _hash(digest):
    return {'sha256': hashes.SHA256, 'sha384': hashes.SHA384, 'sha512': hashes.SHA512}[digest]()


def effective_digest(key, digest):
    """ed25519 signs without a separate digest: None."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if digest not in DIGESTS:
        raise InvalidInput('digest must be one of %s, got %r' % (', '.join(DIGESTS), digest))
    return digest


def _general_name(item):
    kind, value = item
    if kind == 'DNS':
        return x509.DNSName(value)
    if kind == 'IP':
        return x509.IPAddress(ipaddress.ip_address(value))
    return x509.RFC822Name(value)


def build(key, fields, sans, digest, password):
    """A signed CSR (PEM bytes). ``fields``: option name -> value; ``sans``: (kind, value) list."""
    require_cryptography()
    oids = dict((option, x509.ObjectIdentifier(oid)) for option, _short, oid in SUBJECT_FIELDS)
    name = x509.Name([x509.NameAttribute(oids[option], fields[option])
                      for option, _short, _oid in SUBJECT_FIELDS if fields.get(option)])
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(item) for item in sans]),
                                    critical=False)
    if password:
        builder = builder.add_attribute(CHALLENGE_PASSWORD_OID, password.encode('utf-8'))
    algorithm = _hash(digest) if digest else None
    try:
        csr = builder.sign(key, algorithm, **_backend_kwargs())
    except ValueError as exc:
        raise InvalidInput('cannot build the CSR: %s' % exc)
    return csr.public_bytes(serialization.Encoding.PEM)


class CsrInfo:
    """What an existing CSR says (public data only)."""

    def __init__(self, csr, pem):
        self.csr = csr
        self.pem = pem
        self.subject = [(_SHORT_NAMES.get(attr.oid.dotted_string, attr.oid.dotted_string), attr.value)
                        for attr in csr.subject]
        try:
            ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            self.sans = [_san_item(name) for name in ext.value]
        except x509.ExtensionNotFound:
            self.sans = []
        algorithm = csr.signature_hash_algorithm
        self.digest = algorithm.name if algorithm is not None else None
        self.public_key = csr.public_key()
        self.public_der = public_der(self.public_key)
        self.key_type, self.key_size = describe(self.public_key)
        self.fingerprint = fingerprint(self.public_key)
        self.signature_valid = bool(csr.is_signature_valid)
        self.password = _challenge_password(csr)

    @property
    def has_password(self):
        return self.password is not None

    def same_as(self, subject, sans, public_der_bytes, digest, password):
        """Whether this CSR is what the task asks for; returns the list of differences."""
        differences = []
        if not self.signature_valid:
            differences.append('its signature is not valid')
        if self.subject != subject:
            differences.append('subject')
        if self.sans != sans:
            differences.append('subjectAltName')
        if self.public_der != public_der_bytes:
            differences.append('key')
        if self.digest != digest:
            differences.append('digest')
        if (self.password or '') != (password or ''):
            differences.append('challengePassword')
        return differences

    def view(self):
        """The public view for --diff and results."""
        return {
            'subject': subject_string(self.subject),
            'subject_alt_names': [format_san(item) for item in self.sans],
            'digest': self.digest,
            'key_fingerprint': self.fingerprint,
            'challenge_password': '(set)' if self.has_password else None,
        }


def _san_item(name):
    if isinstance(name, x509.DNSName):
        return ('DNS', name.value.lower())
    if isinstance(name, x509.IPAddress):
        return ('IP', str(name.value))
    if isinstance(name, x509.RFC822Name):
        return ('email', name.value)
    return (type(name).__name__, str(getattr(name, 'value', name)))


def _challenge_password(csr):
    try:
        holder = getattr(csr, 'attributes', None)
        if holder is not None:
            value = holder.get_attribute_for_oid(CHALLENGE_PASSWORD_OID).value
        else:  # cryptography < 36
            value = csr.get_attribute_for_oid(CHALLENGE_PASSWORD_OID)
    except x509.AttributeNotFound:
        return None
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def load(data, path='the CSR'):
    """Parse a PEM CSR; KeyLoadError when it is not one."""
    require_cryptography()
    try:
        csr = x509.load_pem_x509_csr(data, **_backend_kwargs())
        return CsrInfo(csr, data.decode('ascii', 'replace'))
    except Exception as exc:
        raise KeyLoadError('%s is not a PEM certificate signing request this module can read (%s)'
                           % (path, str(exc).split('\n', 1)[0][:200]))
