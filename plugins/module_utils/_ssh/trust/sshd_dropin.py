# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``sshd_trust`` operation: sshd's certificate trust as a drop-in.

The drop-in (``/etc/ssh/sshd_config.d/keysmith-trust.conf``) sets
``TrustedUserCAKeys`` (a CA key list this operation writes), ``RevokedKeys``,
``HostCertificate``, ``AuthorizedPrincipalsFile`` and any other keyword
given. Planning checks it the way sshd will read it (``candidate``:
``sshd -t`` of the configuration with the candidate in place), so a drop-in
sshd rejects is never installed; the files it names are checked too, where
sshd would fail at login rather than at ``sshd -t`` (a missing ``RevokedKeys``
file makes sshd refuse every key; a host certificate of no host key is
ignored). sshd is reloaded only when the drop-in changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, KeysmithError, NotFound, UnsafePath
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Plan, missing_prerequisite
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.revoked import KRL_MAGIC, RevokedKeys
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust import candidate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.central import CentralFile
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.certificate import certificate_fields
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.host_keys import check_host_certificate

DEFAULT_DROPIN = '/etc/ssh/sshd_config.d/keysmith-trust.conf'
DEFAULT_CA_KEYS = '/etc/ssh/keysmith_user_ca_keys.pub'
HEADER = '# Managed by keysmith.accounts.sshd_trust: changes made here are overwritten.\n'
RELOAD_METHODS = ('service', 'pid_file', 'command', 'none')
# The settings this operation writes itself (not accepted in ``settings``).
OWN_KEYWORDS = ('trustedusercakeys', 'revokedkeys', 'hostcertificate', 'authorizedprincipalsfile')


def ca_key_lines(keys):
    """The CA public keys as lines (comment kept), in order, each once;
    ``InvalidInput`` for a certificate or anything that is not a public key."""
    lines, seen = [], set()
    for number, text in enumerate(keys or [], 1):
        try:
            key = PublicKey.from_line(text)
        except InvalidInput as exc:
            raise InvalidInput('trusted_user_ca_keys[%d]: %s' % (number, exc.msg))
        if key.is_certificate:
            raise InvalidInput('trusted_user_ca_keys[%d] is a certificate, not a CA public key' % number)
        if key.blob in seen:
            continue
        seen.add(key.blob)
        lines.append(key.to_line())
    return lines


class TrustSpec:
    """The validated options of ``sshd_trust``."""

    def __init__(self, path=DEFAULT_DROPIN, state='present', trusted_user_ca_keys=None,
                 trusted_user_ca_keys_file=None, revoked_keys=None, host_certificates=None,
                 authorized_principals_file=None, settings=None, sshd_config=candidate.DEFAULT_SSHD_CONFIG,
                 sshd_path=None, reload='service', service_name=None, pid_file=None, reload_command=None):
        if state not in ('present', 'absent'):
            raise InvalidInput('state must be present or absent')
        if reload not in RELOAD_METHODS:
            raise InvalidInput('reload must be one of %s' % ', '.join(RELOAD_METHODS))
        for name, value in (('path', path), ('sshd_config', sshd_config)):
            if not value or not os.path.isabs(value):
                raise InvalidInput('%s must be an absolute path' % name)
        if not os.path.basename(path).endswith('.conf'):
            raise InvalidInput('path %s does not end in .conf: the Include of sshd_config.d/*.conf would not '
                               'read it' % path)
        self.path = os.path.normpath(path)
        self.state = state
        self.ca_lines = ca_key_lines(trusted_user_ca_keys)
        self.ca_keys_given = trusted_user_ca_keys is not None
        if trusted_user_ca_keys is not None and not self.ca_lines:
            raise InvalidInput('trusted_user_ca_keys is empty: omit it to leave TrustedUserCAKeys out')
        self.ca_file = trusted_user_ca_keys_file or (DEFAULT_CA_KEYS if self.ca_keys_given else None)
        for name, value in (('trusted_user_ca_keys_file', self.ca_file), ('revoked_keys', revoked_keys)):
            if value is not None and not os.path.isabs(value):
                raise InvalidInput('%s must be an absolute path' % name)
        self.revoked_keys = revoked_keys
        self.host_certificates = list(host_certificates or [])
        for value in self.host_certificates:
            if not os.path.isabs(value):
                raise InvalidInput('host_certificates: %s is not an absolute path' % value)
        self.authorized_principals_file = authorized_principals_file
        self.settings = []
        for keyword in sorted(settings or {}, key=str.lower):
            if not keyword.isalnum():
                raise InvalidInput('settings: %r is not an sshd_config keyword' % keyword)
            if keyword.lower() in OWN_KEYWORDS:
                raise InvalidInput('settings: set %s through its own option' % keyword)
            if keyword.lower() in ('include', 'match'):
                raise InvalidInput('settings: %s is not accepted in a drop-in written by this module' % keyword)
            value = settings[keyword]
            values = value if isinstance(value, list) else [value]
            if isinstance(value, bool):
                values = ['yes' if value else 'no']
            self.settings.append((keyword, [str(item) for item in values]))
        self.sshd_config = sshd_config
        self.sshd_path = sshd_path
        self.reload = reload
        self.service_name = service_name
        self.pid_file = pid_file
        self.reload_command = list(reload_command or [])
        if reload == 'pid_file' and not pid_file:
            raise InvalidInput('reload=pid_file needs pid_file')
        if reload == 'command' and not self.reload_command:
            raise InvalidInput('reload=command needs reload_command')
        self.dropin_text()  # InvalidInput now for a value no sshd_config line can hold

    def dropin_text(self):
        lines = [HEADER.rstrip('\n')]
        if self.ca_file:
            lines.append('TrustedUserCAKeys %s' % candidate.quote_word(self.ca_file))
        if self.revoked_keys:
            lines.append('RevokedKeys %s' % candidate.quote_word(self.revoked_keys))
        for path in self.host_certificates:
            lines.append('HostCertificate %s' % candidate.quote_word(path))
        if self.authorized_principals_file:
            lines.append('AuthorizedPrincipalsFile %s' % candidate.quote_word(self.authorized_principals_file))
        for keyword, values in self.settings:
            lines.append('%s %s' % (keyword, ' '.join(candidate.quote_word(value) for value in values)))
        return '\n'.join(lines) + '\n'

    def ca_file_text(self):
        return HEADER + ''.join(line + '\n' for line in self.ca_lines)


def _text(state):
    if not state.exists:
        return None
    return state.data.decode('utf-8', 'replace')


class SshdTrust(Operation):
    """Plan and apply the trust drop-in (and its CA key list), reload sshd."""

    def __init__(self, spec, run_command):
        self.spec = spec
        self.run_command = run_command
        self.checked = None
        self.reload_words = None
        self.host_certificates = []   # (path, certificate_fields) of the host certificates read

    def plan(self):
        spec = self.spec
        plan = Plan(spec.path)
        dropin = CentralFile(spec.path)
        current = dropin.read()
        before, after = {}, {}
        before[spec.path] = _text(current)
        content = spec.dropin_text() if spec.state == 'present' else None
        after[spec.path] = content
        if spec.state == 'present' and spec.ca_keys_given:
            ca_file = CentralFile(spec.ca_file)
            ca_current = ca_file.read()
            before[spec.ca_file] = _text(ca_current)
            after[spec.ca_file] = spec.ca_file_text()
            ca_file.plan_write(plan, spec.ca_file_text().encode('utf-8'), ca_current, 'trusted user CA keys')
        elif spec.state == 'present' and spec.ca_file:
            self._require(plan, spec.ca_file, 'trusted_user_ca_keys_file')
        if spec.state == 'present':
            self._check_revoked_keys(plan)
            self._check_host_certificates(plan)
        config_changes = current.data != (content.encode('utf-8') if content is not None else None) \
            and (content is not None or current.exists)
        if config_changes or spec.state == 'present':
            # checked also when unchanged: the configuration around it may have changed
            try:
                self.checked = candidate.check_candidate(self.run_command, spec.sshd_path, spec.sshd_config,
                                                         spec.path, content)
            except NotFound as exc:
                if exc.details.get('path') != spec.sshd_config:
                    raise
                # check mode: an earlier task of the play may write sshd_config (a real run fails)
                missing_prerequisite(exc, plan)
            if spec.state == 'present' and self.checked is not None:
                self._check_in_force(plan)
                self._check_host_certificate_keys()
        if spec.state == 'present':
            dropin.plan_write(plan, content.encode('utf-8'), current, 'sshd drop-in, checked with sshd -t')
        else:
            dropin.plan_remove(plan, current, 'sshd drop-in')
        if config_changes:
            self._plan_reload(plan)
        plan.before, plan.after = _render(before), _render(after)
        return plan

    # -- checks ------------------------------------------------------------

    def _require(self, plan, path, what):
        if _fs.read_named_file(path) is None:
            missing_prerequisite(NotFound('%s %s does not exist' % (what, path), path=path),
                                 plan)
            return None
        return True

    def _check_revoked_keys(self, plan):
        path = self.spec.revoked_keys
        if not path:
            return
        data = _fs.read_named_file(path)
        if data is None:
            # sshd refuses every key when it cannot read RevokedKeys
            missing_prerequisite(NotFound('revoked_keys %s does not exist: sshd would refuse every key; create it '
                                          'first (ssh_krl, or an empty KRL)' % path, path=path), plan)
            return
        changer = _fs.others_can_change(path)
        if changer is not None:
            raise UnsafePath('revoked_keys: %s; whoever can change it can lift every revocation (keep it root\'s, '
                             'in directories only root can change)' % changer, path=path)
        if not data.startswith(KRL_MAGIC) or not self.spec.ca_lines:
            return
        key_lines = [' '.join(line.split()[:2]) for line in self.spec.ca_lines]
        verdicts = RevokedKeys(self.run_command, _keygen_path(self.spec.sshd_path), plan.warnings).check(path,
                                                                                                         key_lines)
        for line in key_lines:
            reason = verdicts.get(line)
            if reason and reason.startswith('revoked'):
                plan.warn('the CA key %s is %s: no certificate it signed logs in'
                          % (PublicKey.from_line(line).fingerprint_sha256, reason))
            elif reason:
                raise InvalidInput('revoked_keys: %s' % reason, path=path)

    def _check_host_certificates(self, plan):
        for path in self.spec.host_certificates:
            data = _fs.read_named_file(path)
            if data is None:
                missing_prerequisite(NotFound('host certificate %s does not exist' % path, path=path), plan)
                continue
            text = data.decode('utf-8', 'replace').strip()
            try:
                key = PublicKey.from_line(text.splitlines()[0] if text else '')
            except InvalidInput as exc:
                raise InvalidInput('host certificate %s: %s' % (path, exc.msg), path=path)
            fields = certificate_fields(key) if key.is_certificate else None
            if fields is None or fields['type'] != 'host':
                raise InvalidInput('%s is not a host certificate' % path, path=path)
            check_host_certificate(path, fields, None)
            self.host_certificates.append((path, fields))

    def _check_host_certificate_keys(self):
        """Each host certificate certifies one of the host keys sshd -T of the
        candidate lists (else sshd ignores it with a log line only)."""
        if self.checked is None or self.checked.host_keys is None:
            return
        for path, fields in self.host_certificates:
            check_host_certificate(path, fields, self.checked.host_keys)

    def _check_in_force(self, plan):
        """Warn where sshd -T shows another value than the drop-in's (a value
        set before the Include wins) or where sshd does not read the drop-in."""
        spec = self.spec
        if not self.checked.included:
            plan.warn('%s does not include %s: sshd will not read the drop-in (checked with it read first)'
                      % (spec.sshd_config, spec.path))
            return
        values = self.checked.values
        if not values:
            return
        wanted = [('trustedusercakeys', spec.ca_file), ('revokedkeys', spec.revoked_keys),
                  ('authorizedprincipalsfile', spec.authorized_principals_file)]
        for keyword, value in wanted:
            if value and values.get(keyword) != value:
                plan.warn('%s: sshd uses %s %s, not the drop-in\'s %s (a value set earlier in %s wins)'
                          % (spec.path, keyword, values.get(keyword), value, spec.sshd_config))

    # -- reload ------------------------------------------------------------

    def _plan_reload(self, plan):
        spec = self.spec
        if spec.reload == 'none':
            plan.warn('sshd is not reloaded (reload: none): it reads the changed drop-in when it restarts')
            return
        if spec.reload == 'pid_file':
            words = 'SIGHUP to the pid in %s' % spec.pid_file
            run = self._reload_pid_file
        else:
            command = spec.reload_command if spec.reload == 'command' else _service_command(spec.service_name)
            words = ' '.join(command)

            def run():
                self._run_reload(command)
        self.reload_words = words
        plan.add('reload', 'sshd', run, words)

    def _run_reload(self, command):
        rc, out, err = self.run_command(command)
        if rc != 0:
            raise KeysmithError('reloading sshd (%s) failed: %s' % (' '.join(command),
                                                                    (err or out or 'exit %d' % rc).strip()))

    def _reload_pid_file(self):
        data = _fs.read_named_file(self.spec.pid_file, limit=64)
        text = (data or b'').decode('ascii', 'replace').strip()
        if not text.isdigit():
            raise KeysmithError('pid_file %s holds no pid; sshd not reloaded' % self.spec.pid_file)
        pid = int(text)
        comm = _fs.read_named_file('/proc/%d/comm' % pid, limit=64)
        if comm is None or not comm.decode('ascii', 'replace').strip().startswith('sshd'):
            raise KeysmithError('pid %d of %s is not an sshd process; not signalled' % (pid, self.spec.pid_file))
        os.kill(pid, signal.SIGHUP)

    def result(self, plan, applied):
        spec = self.spec
        result = {'path': spec.path, 'state': spec.state, 'actions': plan.describe(),
                  'content': spec.dropin_text() if spec.state == 'present' else None,
                  'trusted_user_ca_keys_file': spec.ca_file if spec.state == 'present' else None,
                  'reloaded': any(action.kind == 'reload' for action in plan.actions),
                  'checked_with': self.checked.command if self.checked else None,
                  'included': self.checked.included if self.checked else None}
        return result


def _render(files):
    return dict((path, text if text is not None else '(absent)') for path, text in files.items())


def _keygen_path(sshd_path):
    from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable
    return find_executable('ssh-keygen') or os.path.join(os.path.dirname(sshd_path or '/usr/bin/x'), 'ssh-keygen')


def _service_command(service_name):
    from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable
    from ansible_collections.keysmith.accounts.plugins.module_utils._fs_audit import stat_path
    name = service_name
    if not name:
        debian = any(stat_path(path).exists for path in ('/lib/systemd/system/ssh.service', '/etc/init.d/ssh',
                                                         '/usr/lib/systemd/system/ssh.service'))
        name = 'ssh' if debian else 'sshd'
    systemctl = find_executable('systemctl')
    if systemctl and stat_path('/run/systemd/system').is_dir:
        return [systemctl, 'reload', name]
    return [find_executable('service') or 'service', name, 'reload']
