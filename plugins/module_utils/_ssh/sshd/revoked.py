# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``RevokedKeys`` as sshd 9.2 applies it (auth.c ``auth_key_is_revoked``,
authfile.c ``sshkey_check_revoked``).

sshd (as root) reads the file for every key it is offered: a KRL (magic
``SSHKRL\\n\\0``) is asked with ``ssh-keygen -Q`` (the same ``ssh_krl_check_key``,
many keys in one run); anything else is a flat list of public keys
(``sshkey_in_file``: comments and blank lines skipped, an RSA key below 1024
bits skipped, any other line sshd cannot read is an error). Every error
(file missing or unreadable, a bad line) makes sshd refuse the key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs, _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules

KRL_MAGIC = b'SSHKRL\n\0'
_BATCH = 256


def _plain_blob(key_line):
    found = sshd_rules.read_key(key_line)
    return found[0].plain_blob if found else None


def _small_rsa(text):
    """sshkey_read's SSH_ERR_KEY_LENGTH: an RSA key below the minimum (skipped)."""
    words = text.split(None, 2)
    if len(words) < 2 or words[0] not in ('ssh-rsa', 'ssh-rsa-cert-v01@openssh.com'):
        return False
    blob = sshd_rules.b64_pton(words[1])
    if blob is None:
        return False
    try:
        sshd_rules.key_from_blob(blob)
    except sshd_rules.BlobError as exc:
        return 'RSA modulus shorter' in str(exc)
    return False


def check_plain_list(data, key_lines):
    """{key line: None (not revoked) or a reason} for a flat list ``data``."""
    wanted = dict((line, _plain_blob(line)) for line in key_lines)
    results = dict((line, None) for line in key_lines)
    pending = set(line for line in key_lines)
    for number, raw in enumerate(data.split(b'\n'), 1):
        if not pending:
            break
        text = raw.decode('utf-8', 'replace').lstrip(' \t')
        if text in ('', '\r') or text.startswith('#'):
            continue
        found = sshd_rules.read_key(text)
        if found is None:
            if _small_rsa(text):
                continue
            for line in pending:
                results[line] = 'RevokedKeys line %d cannot be read: sshd refuses the key' % number
            pending = set()
            break
        for line in list(pending):
            if wanted[line] is not None and wanted[line] == found[0].plain_blob:
                results[line] = 'revoked by RevokedKeys'
                pending.discard(line)
    return results


class RevokedKeys:
    """Answers "is this key revoked" for the RevokedKeys files of an audit."""

    def __init__(self, run_command, keygen_path, warnings):
        self.run_command = run_command
        self.keygen_path = keygen_path
        self.warnings = warnings
        self.runs = 0

    def check(self, path, key_lines):
        """{key line (``type base64``): None or why sshd refuses it} for RevokedKeys ``path``."""
        key_lines = sorted(set(key_lines))
        info, data, truncated = _fs_audit.read_for_audit(path)
        if data is None or (info is not None and not info.is_file):
            reason = 'RevokedKeys %s cannot be read: sshd refuses every key' % path
            return dict((line, reason) for line in key_lines)
        if data.startswith(KRL_MAGIC):
            return self._check_krl(path, key_lines)
        if truncated:
            self.warnings.append('RevokedKeys %s is larger than the read limit: keys not found in its start '
                                 'are reported as not revoked' % path)
        results = check_plain_list(data, key_lines)
        return dict((line, (reason if reason is None or reason.startswith('RevokedKeys line')
                            else '%s %s' % (reason, path))) for line, reason in results.items())

    def _check_krl(self, path, key_lines):
        results = {}
        if not self.keygen_path:
            self.warnings.append('RevokedKeys %s is a KRL and ssh-keygen is not found: revocation not checked'
                                 % path)
            return dict((line, None) for line in key_lines)
        for start in range(0, len(key_lines), _BATCH):
            batch = key_lines[start:start + _BATCH]
            with _fs.scratch_files([(line + '\n').encode('ascii') for line in batch]) as paths:
                self.runs += 1
                rc, out, err = self.run_command([self.keygen_path, '-Q', '-f', path] + paths)
                answers = {}
                for text in out.splitlines():
                    name, sep, verdict = text.rpartition(': ')
                    if sep:
                        # "PATH (COMMENT): ok": the comment of a key file without one is its path
                        answers[name.split(' (', 1)[0]] = verdict.strip()
                for line, scratch in zip(batch, paths):
                    verdict = answers.get(scratch)
                    if verdict == 'REVOKED':
                        results[line] = 'revoked by RevokedKeys %s' % path
                    elif verdict == 'ok':
                        results[line] = None
                    else:
                        # ssh-keygen could not load the KRL: neither can sshd, which refuses the key
                        results[line] = 'RevokedKeys %s cannot be used (%s): sshd refuses every key' % (
                            path, ((err or '').strip().splitlines() or ['ssh-keygen -Q exit %d' % rc])[-1])
        return results
