# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The public keys written in the documentation are real keys, not made-up base64.

A made-up ssh-ed25519 key parses (any 32 bytes do), but only about half of all
32-byte strings are points of the Ed25519 curve; a key that ssh-keygen (or a
hardware token) generated always is one. So every literal ed25519 and
sk-ssh-ed25519 key of the modules' documentation (EXAMPLES, RETURN samples), the
docs, the role READMEs and the playbooks' README must decode to a curve point,
and every literal SHA256 fingerprint there must be the fingerprint of one of
those keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import glob
import os
import re
import struct

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey, fingerprint_sha256

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC_FILES = sorted(
    [os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))]
    + [os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'docs', '**', '*.md'), recursive=True)]
    + [os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'roles', '*', 'README.md'))]
    + ['README.md', 'playbooks/README.md', 'tests/scripts/gen_module_docs.py'])
KEY = re.compile(r'\b((?:ssh-ed25519|sk-ssh-ed25519@openssh\.com|ssh-rsa|ecdsa-sha2-nistp\d+) AAAA[A-Za-z0-9+/]+=*)')
FINGERPRINT = re.compile(r'\bSHA256:[A-Za-z0-9+/]{43}\b')

# Ed25519 (RFC 8032 5.1.3): y < p and x^2 = (y^2 - 1) / (d y^2 + 1) has a root.
P = 2 ** 255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P


def on_ed25519_curve(point):
    y = int.from_bytes(point, 'little') & ((1 << 255) - 1)
    if y >= P:
        return False
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    return x2 == 0 or pow(x2, (P - 1) // 2, P) == 1


def ed25519_point(blob):
    """The 32-byte point of an ssh-ed25519 or sk-ssh-ed25519 key blob."""
    length = struct.unpack('>I', blob[:4])[0]
    rest = blob[4 + length:]
    length = struct.unpack('>I', rest[:4])[0]
    return rest[4:4 + length]


def literal_keys():
    found = []
    for path in DOC_FILES:
        with open(os.path.join(ROOT, path)) as handle:
            text = handle.read()
        found.extend((path, key) for key in KEY.findall(text))
    return found


def test_the_docs_have_keys_to_check():
    assert len(literal_keys()) >= 10


def test_the_curve_check_tells_real_keys_from_made_up_ones():
    generated = 'AAAAC3NzaC1lZDI1NTE5AAAAIKEwHT4N1Vnqv0X9JryrOZG6oFiFZlSRWeK7Mk4ndtHQ'
    # the placeholder the docs had before: parses, but is no point of the curve
    made_up = 'AAAAC3NzaC1lZDI1NTE5AAAAIB7Xzi0ZJ6bq0kT5b9Y3l2R8f4nDJx4bS3kY5o2rNvJ8'
    assert on_ed25519_curve(ed25519_point(base64.b64decode(generated)))
    assert not on_ed25519_curve(ed25519_point(base64.b64decode(made_up)))


@pytest.mark.parametrize('path,line', literal_keys())
def test_literal_keys_are_real_keys(path, line):
    key = PublicKey.from_line(line)   # well-formed, as sshd reads it
    blob = base64.b64decode(line.split()[1])
    if line.startswith(('ssh-ed25519 ', 'sk-ssh-ed25519@openssh.com ')):
        assert on_ed25519_curve(ed25519_point(blob)), \
            '%s: %s... is not an Ed25519 point: a made-up key, use one ssh-keygen generated' % (path, line[:40])
    assert key.blob == blob


def test_literal_fingerprints_are_fingerprints_of_the_documented_keys():
    known = set(fingerprint_sha256(base64.b64decode(line.split()[1])) for _path, line in literal_keys())
    for path in DOC_FILES:
        with open(os.path.join(ROOT, path)) as handle:
            for fingerprint in FINGERPRINT.findall(handle.read()):
                assert fingerprint in known, '%s: %s is the fingerprint of no key of the docs' % (path, fingerprint)
