# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSSH key revocation lists (PROTOCOL.krl, krl.c of OpenSSH 9.2): parse,
build, compare by content and query. No file access.

A ``Krl`` is the revoked set: plain keys (their canonical blobs), SHA1 and
SHA256 key hashes, and per CA (its plain blob; ``b''`` for every CA) serial
ranges and key ids. Two KRLs revoking the same set are ``same_revocations``
whatever their version, generation time or encoding (ssh-keygen writes
serials as bitmaps, this module as lists and ranges): that is how ``ssh_krl``
stays idempotent. Rendering writes sections sshd 9.2 reads (no signature, no
extension sections), hashes and blobs in the order PROTOCOL.krl asks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import hashlib
import re
import struct

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import Reader, WireError, ssh_string

MAGIC = b'SSHKRL\n\0'
FORMAT_VERSION = 1
SECTION_CERTIFICATES = 1
SECTION_EXPLICIT_KEY = 2
SECTION_FINGERPRINT_SHA1 = 3
SECTION_SIGNATURE = 4
SECTION_FINGERPRINT_SHA256 = 5
SECTION_EXTENSION = 255
CERT_SERIAL_LIST = 0x20
CERT_SERIAL_RANGE = 0x21
CERT_SERIAL_BITMAP = 0x22
CERT_KEY_ID = 0x23
CERT_EXTENSION = 0x39
MAX_SERIAL = 0xFFFFFFFFFFFFFFFF
# A bitmap section's bits are walked one by one; sshd's own reader does the same.
_MAX_BITMAP_BITS = 1 << 24


def merge_ranges(ranges):
    """Sorted, non-overlapping, non-adjacent (lo, hi) ranges covering ``ranges``."""
    merged = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


class CaRevocations:
    """What one CA section revokes: serial ranges and key ids."""

    def __init__(self):
        self.ranges = []
        self.key_ids = set()
        self._starts = None

    def add_range(self, low, high):
        if low == 0 or low > high:
            raise InvalidInput('serial range %d-%d is not a range of serials from 1 (serial 0 is never revoked)'
                               % (low, high))
        self.ranges.append((low, high))
        self._starts = None

    def normalize(self):
        self.ranges = merge_ranges(self.ranges)
        self._starts = [low for low, dummy in self.ranges]

    def has_serial(self, serial):
        if self._starts is None:
            self.normalize()
        index = bisect.bisect_right(self._starts, serial) - 1
        return index >= 0 and self.ranges[index][1] >= serial

    def serial_count(self):
        return sum(high - low + 1 for low, high in merge_ranges(self.ranges))

    def canonical(self):
        return (tuple(merge_ranges(self.ranges)), frozenset(self.key_ids))


class Krl:
    """A key revocation list (see the module docstring)."""

    def __init__(self, comment=''):
        self.version = 0
        self.generated = 0
        self.comment = comment or ''
        self.keys = set()
        self.sha1 = set()
        self.sha256 = set()
        self.cas = {}

    def ca(self, ca_blob):
        found = self.cas.get(ca_blob)
        if found is None:
            found = self.cas[ca_blob] = CaRevocations()
        return found

    # --------------------------------------------------------------- compare
    def canonical(self):
        cas = dict((blob, rev.canonical()) for blob, rev in self.cas.items() if rev.ranges or rev.key_ids)
        return (frozenset(self.keys), frozenset(self.sha1), frozenset(self.sha256), cas)

    def same_revocations(self, other):
        return self.canonical() == other.canonical()

    def counts(self):
        return {
            'keys': len(self.keys),
            'sha1': len(self.sha1),
            'sha256': len(self.sha256),
            'serials': sum(rev.serial_count() for rev in self.cas.values()),
            'key_ids': sum(len(rev.key_ids) for rev in self.cas.values()),
            'cas': len([blob for blob, rev in self.cas.items() if blob and (rev.ranges or rev.key_ids)]),
        }

    # ----------------------------------------------------------------- query
    def revoked(self, plain_blob, cert=None):
        """Why sshd refuses a key (``plain_blob``: its canonical plain blob;
        ``cert``: its ``Certificate`` when it is one), or None (krl.c
        ``ssh_krl_check_key``: the key itself, then its certificate by the
        signing CA's and the any-CA section)."""
        if plain_blob in self.keys:
            return 'the key is revoked'
        if hashlib.sha256(plain_blob).digest() in self.sha256:
            return 'the key is revoked by its SHA256 hash'
        if hashlib.sha1(plain_blob).digest() in self.sha1:
            return 'the key is revoked by its SHA1 hash'
        if cert is None:
            return None
        for ca_blob in (cert.ca_blob, b''):
            rev = self.cas.get(ca_blob)
            if rev is None:
                continue
            if cert.key_id in rev.key_ids:
                return 'the certificate\'s key id %s is revoked' % cert.key_id
            if ca_blob and cert.serial and rev.has_serial(cert.serial):
                return 'the certificate\'s serial %d is revoked' % cert.serial
        return None

    # ----------------------------------------------------------------- parse
    @classmethod
    def parse(cls, data):
        """Read a KRL file; ``InvalidInput`` when sshd would not read it either."""
        if not data.startswith(MAGIC):
            raise InvalidInput('not a KRL (no SSHKRL magic)')
        try:
            return cls._parse(Reader(bytes(data)))
        except (WireError, ValueError) as exc:
            raise InvalidInput('damaged KRL: %s' % exc)

    @classmethod
    def _parse(cls, reader):
        reader.take(len(MAGIC))
        if reader.uint32('format version') != FORMAT_VERSION:
            raise WireError('unsupported KRL format version')
        krl = cls()
        krl.version = reader.uint64('KRL version')
        krl.generated = reader.uint64('generation date')
        reader.uint64('flags')
        reader.string('reserved')
        krl.comment = reader.string('comment').decode('utf-8', 'replace')
        while reader.remaining():
            kind = reader.take(1, 'section type')[0]
            body = reader.string('section')
            if kind == SECTION_SIGNATURE:
                reader.string('signature')
                raise WireError('a signed KRL (OpenSSH 9.4 and later refuse them)')
            section = Reader(body)
            if kind == SECTION_CERTIFICATES:
                krl._parse_certs(section)
            elif kind == SECTION_EXPLICIT_KEY:
                while section.remaining():
                    krl.keys.add(section.string('key'))
            elif kind in (SECTION_FINGERPRINT_SHA1, SECTION_FINGERPRINT_SHA256):
                size, target = (20, krl.sha1) if kind == SECTION_FINGERPRINT_SHA1 else (32, krl.sha256)
                while section.remaining():
                    digest = section.string('hash')
                    if len(digest) != size:
                        raise WireError('a hash of %d bytes' % len(digest))
                    target.add(digest)
            elif kind == SECTION_EXTENSION:
                section.string('extension name')
                if section.take(1, 'critical flag')[0]:
                    raise WireError('a critical extension section')
                section.string('extension')
            else:
                raise WireError('unknown section %d' % kind)
            if section.remaining():
                raise WireError('trailing data in a section')
        for rev in krl.cas.values():
            rev.normalize()
        return krl

    def _parse_certs(self, section):
        ca_blob = section.string('CA key')
        section.string('reserved')
        rev = self.ca(ca_blob)
        while section.remaining():
            kind = section.take(1, 'certificate section type')[0]
            sub = Reader(section.string('certificate section'))
            if kind == CERT_SERIAL_LIST:
                while sub.remaining():
                    serial = sub.uint64('serial')
                    rev.add_range(serial, serial)
            elif kind == CERT_SERIAL_RANGE:
                rev.add_range(sub.uint64('serial'), sub.uint64('serial'))
            elif kind == CERT_SERIAL_BITMAP:
                offset = sub.uint64('serial offset')
                bits = sub.mpint('bitmap')
                if bits.bit_length() > _MAX_BITMAP_BITS:
                    raise WireError('a serial bitmap of more than %d bits' % _MAX_BITMAP_BITS)
                # runs of set bits, lowest first (bit N is serial offset + N)
                for run in re.finditer('1+', bin(bits)[:1:-1]):
                    rev.add_range(offset + run.start(), offset + run.end() - 1)
            elif kind == CERT_KEY_ID:
                while sub.remaining():
                    rev.key_ids.add(sub.string('key id').decode('utf-8', 'surrogateescape'))
            elif kind == CERT_EXTENSION:
                sub.string('extension name')
                if sub.take(1, 'critical flag')[0]:
                    raise WireError('a critical certificate extension')
                sub.string('extension')
            else:
                raise WireError('unknown certificate section %d' % kind)
            if sub.remaining():
                raise WireError('trailing data in a certificate section')

    # ---------------------------------------------------------------- render
    def render(self, version, generated):
        """The KRL file's bytes (KRL version ``version``, generated at ``generated``)."""
        out = [MAGIC, struct.pack('>IQQQ', FORMAT_VERSION, version, generated, 0), ssh_string(b''),
               ssh_string(self.comment.encode('utf-8'))]
        for ca_blob in sorted(self.cas):
            rev = self.cas[ca_blob]
            ranges = merge_ranges(rev.ranges)
            if not ranges and not rev.key_ids:
                continue
            body = [ssh_string(ca_blob), ssh_string(b'')]
            singles = [low for low, high in ranges if low == high]
            if singles:
                body.append(bytes([CERT_SERIAL_LIST]) + ssh_string(b''.join(struct.pack('>Q', s) for s in singles)))
            for low, high in ranges:
                if low != high:
                    body.append(bytes([CERT_SERIAL_RANGE]) + ssh_string(struct.pack('>QQ', low, high)))
            if rev.key_ids:
                ids = b''.join(ssh_string(key_id.encode('utf-8', 'surrogateescape'))
                               for key_id in sorted(rev.key_ids))
                body.append(bytes([CERT_KEY_ID]) + ssh_string(ids))
            out.append(bytes([SECTION_CERTIFICATES]) + ssh_string(b''.join(body)))
        for kind, values in ((SECTION_EXPLICIT_KEY, self.keys), (SECTION_FINGERPRINT_SHA1, self.sha1),
                             (SECTION_FINGERPRINT_SHA256, self.sha256)):
            if values:
                out.append(bytes([kind]) + ssh_string(b''.join(ssh_string(value) for value in sorted(values))))
        return b''.join(out)
