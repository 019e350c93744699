# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The curated mutations of ``make mutants``: realistic bugs in the core.

Each is (file below plugins/module_utils, the exact text it changes (found
exactly once), what it becomes, the unit test files that should notice, and
what the bug would mean). Add one when a bug is found that the suite missed,
so it stays dead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

U = 'tests/unit/plugins/module_utils/'
FS = [U + 'test_fs.py', U + 'test_core.py', U + 'test_registry.py', U + '_ssh/test_authkey.py',
      U + '_ssh/test_key_info.py', U + 'test_attrs_diff.py']
CORE = [U + 'test_core.py', U + 'test_attrs_diff.py', U + 'test_operation_contract.py', U + 'test_provision.py',
        'tests/unit/plugins/modules']
AUTHKEYS = [U + '_ssh/test_authorized_keys.py', U + '_ssh/test_authkey.py']
GENKEY = [U + '_ssh/test_genkey.py', U + 'test_operation_contract.py', U + 'test_core.py']
KEYPAIR = [U + '_ssh/test_keypair.py', U + 'test_operation_contract.py', 'tests/unit/plugins/modules/test_keypair.py']
TLS = [U + '_tls/test_tls_genkey.py', U + '_tls/test_tls_gencsr.py', U + 'test_operation_contract.py',
       U + 'test_core.py']
PROVISION = [U + 'test_provision.py', U + 'test_provision_items.py', U + 'test_operation_contract.py']
BACKENDS = [U + '_ssh/test_ssh_keygen_backend.py', 'tests/unit/test_python38_without_cryptography.py']
ACCOUNT_STATE = [U + '_ssh/test_account_state.py', U + '_ssh/test_access.py']
REGENERATE = [U + 'test_regenerate.py', U + '_ssh/test_genkey.py', U + '_tls/test_tls_genkey.py']


def mutation(path, find, replace, tests, why):
    return {'file': path, 'find': find, 'replace': replace, 'tests': tests, 'why': why}


MUTATIONS = [
    # ------------------------------------------------------------ _fs.py
    mutation('_fs.py', '                    self._chown(child, path)\n', '', FS,
             'directories created on the way (~/ssl) stay root-owned'),
    mutation('_fs.py', '                os.fchmod(fd, mode)\n                os.fsync(fd)\n',
             '                os.fchmod(fd, mode)\n', FS,
             'atomic write renames data that was never synced (empty file after a crash)'),
    mutation('_fs.py', '            raise\n        os.fsync(dir_fd)\n        return path\n',
             '            raise\n        return path\n', FS, 'the rename itself is not made durable'),
    mutation('_fs.py', 'if st.st_nlink > 1 and not self.follow:', 'if st.st_nlink > 2 and not self.follow:', FS,
             'a file hard-linked once (to /etc/shadow) is read and written'),
    mutation('_fs.py', "        if stat.S_ISLNK(lst.st_mode) and not self.follow:\n            raise UnsafePath("
             "'%s is a symbolic link; refusing to follow it '\n                             '(set follow: true if "
             "this is intended)' % path, path=path)\n        if not stat.S_ISLNK",
             "        if not stat.S_ISLNK", FS, 'a symbolic link file is followed without follow: true'),
    mutation('_fs.py', 'if st.st_uid not in self.allowed_owners:',
             'if st.st_uid not in self.allowed_owners and fd is not None:', FS,
             'a file owned by another account is used'),
    mutation('_fs.py', 'return bool(st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and st.st_gid != 0))',
             'return bool(st.st_mode & stat.S_IWOTH)', FS,
             'a group-writable directory above the account is trusted'),
    mutation('_fs.py', 'if in_account_tree or lst.st_uid not in trusted_uids or _writable_by_others(st):',
             'if lst.st_uid not in trusted_uids or _writable_by_others(st):', FS,
             'a root-owned link inside an account\'s tree is followed'),
    mutation('_fs.py', '    if timeout is None:\n        timeout = DEFAULT_LOCK_TIMEOUT\n',
             '    timeout = DEFAULT_LOCK_TIMEOUT\n', FS, 'lock_timeout is ignored'),
    mutation('_fs.py', '        return bool(st.st_mode & stat.S_IRUSR)\n', '        return True\n', FS,
             'a file its owner cannot read is copied out by root'),
    mutation('_fs.py', '            self._chown(fd, self.path(parts))\n            os.fchmod(fd, mode)\n',
             '            self._chown(fd, self.path(parts))\n', FS,
             'an existing ~/.ssh of the wrong mode is not repaired'),
    mutation('_fs.py', '                self._chown(fd, path)\n                os.fchmod(fd, mode)\n            finally:',
             '                os.fchmod(fd, mode)\n            finally:', FS,
             'a mode and owner repair leaves the owner as it was'),
    mutation('_fs.py', '        if dir_st.st_uid not in (0, os.geteuid()):\n            controllers.add(dir_st.st_uid)\n',
             '', FS, 'a file named by path in an account\'s directory is read whatever the account may read'),
    mutation('_fs.py', '        if total > limit:\n', '        if total > limit * 2:\n', FS,
             'a file grown while read is read past the limit'),
    # ------------------------------------------------------------ _module.py
    mutation('_module.py', "        msg = '%s (already done before the failure: %s)' % (msg, '; '.join(done))\n",
             '', CORE, 'a failure half-way does not say what was already done'),
    mutation('_module.py', '            done.append(action.describe())\n', '', CORE,
             'Plan.apply forgets what it did'),
    mutation('_module.py', '            if plan.changed and not module.check_mode:\n',
             '            if plan.changed:\n', CORE, 'check mode writes'),
    mutation('_module.py', "    result['changed'] = plan.changed\n", "    result['changed'] = outcome is not None\n",
             CORE, 'check mode reports changed: false'),
    mutation('_module.py', 'planned_after = self.after if outcome is None or outcome.after is None else outcome.after',
             'planned_after = self.after', CORE, 'the diff shows "(new key)" instead of the new fingerprint'),
    mutation('_module.py', '        if text not in self.warnings:\n            self.warnings.append(text)\n',
             '        self.warnings.append(text)\n', CORE, 'a warning is repeated'),
    mutation('_module.py', '        value = list(value.values())\n', '        value = list(value.keys())\n',
             CORE, 'a private key given inside a list of dicts (provision) is not masked'),
    mutation('_module.py', 'if state.mode != mode or (uid is not None and state.uid != uid):',
             'if state.mode != mode:', CORE + [U + '_ssh/test_genkey.py'],
             'a ~/.ssh owned by root is not given back to the account'),
    mutation('_module.py', '        after_uid = current.uid if uid is None else uid\n',
             '        after_uid = current.uid\n', CORE, 'the diff of an owner repair shows no change'),
    mutation('_module.py', '        with operation.session():\n', '        with _nothing_held():\n',
             CORE + [U + '_ssh/test_keypair.py'], 'keypair plans and writes without the registry lock'),
    mutation('_module.py', '    for text in plan.warnings + (outcome.warnings if outcome is not None else []):\n',
             '    for text in plan.warnings:\n', CORE + [U + '_ssh/test_keypair.py'],
             'the warning to set no_log on a returned private key is lost'),
    mutation('_module.py', '        module.fail_json(msg=exc.msg, **exc.details)\n',
             '        module.fail_json(msg=exc.msg)\n', CORE, 'failures lose their details (path, done)'),
    mutation('_specs.py', "    passphrase=dict(type='str', no_log=True, aliases=['pass']),\n",
             "    passphrase=dict(type='str', no_log=False, aliases=['pass']),\n", [U + 'test_core.py'],
             'ssh_genkey\'s passphrase is logged (-vvv, AWX job events)'),
    mutation('_specs.py', "    password=dict(type='str', default='', no_log=True),\n",
             "    password=dict(type='str', default=''),\n", [U + 'test_core.py'],
             'a CSR challenge password is logged'),
    # ------------------------------------------------------------ _ssh/authorized_keys.py
    mutation('_ssh/authorized_keys.py', '        for line in lines[1:]:\n', '        for line in lines[2:]:\n',
             AUTHKEYS, 'a key on three lines keeps a duplicate'),
    mutation('_ssh/authorized_keys.py',
             "        return (options_identity(self.options) == options_identity(options)\n"
             "                and (self.key.comment or '') == (comment or ''))\n",
             "        return options_identity(self.options) == options_identity(options)\n",
             AUTHKEYS, 'a new comment is never written'),
    mutation('_ssh/authorized_keys.py', '            if line.identity not in wanted_ids:\n                model.remove(line)\n',
             '            if line.identity not in wanted_ids:\n                pass\n', AUTHKEYS,
             'exclusive reports keys as removed but keeps them'),
    mutation('_ssh/authorized_keys.py', "        if line.raw.endswith('\\r'):\n            text += '\\r'\n", '',
             AUTHKEYS, 'a rewritten line of a CRLF file loses its CR'),
    mutation('_ssh/authorized_keys.py', 'for i in order if len(groups[i]) > 1]', 'for i in order if len(groups[i]) > 2]',
             AUTHKEYS, 'a key on exactly two lines is not reported as a duplicate'),
    mutation('_ssh/authorized_keys.py', '            for line in lines:\n                model.remove(line)\n',
             '            for line in lines[:1]:\n                model.remove(line)\n', AUTHKEYS,
             'revoking a key left on two lines leaves one: the key still logs in'),
    mutation('_ssh/authorized_keys.py', "    if '\\n' in text or '\\r' in text or '\\0' in text:\n",
             "    if '\\0' in text:\n", AUTHKEYS, 'options with a newline inject a second line'),
    mutation('_ssh/authorized_keys.py', '        if pieces[-1] != \'\':\n', '        if False:\n', AUTHKEYS,
             'the last line of a file without a final newline is dropped'),
    # ------------------------------------------------------------ _ssh/backend_sshkeygen.py
    mutation('_ssh/backend_sshkeygen.py', "        if key_type != 'ed25519':\n            args += ['-b', str(size)]\n", '',
             BACKENDS, 'ssh-keygen makes keys of its default size, not the one asked for'),
    mutation('_ssh/backend_sshkeygen.py', "            args += ['-m', 'PKCS8']\n", "            args += ['-m', 'PEM']\n",
             BACKENDS, 'ssh-keygen writes PKCS#1 when PKCS#8 is asked for'),
    mutation('_ssh/backend_sshkeygen.py', "        check_kdf_cost(data)\n        with _PrivateDir() as work:\n            path = "
             "work.write('key', data, 0o600)\n            args = ['-y', '-f', path]\n",
             "        with _PrivateDir() as work:\n            path = work.write('key', data, 0o600)\n"
             "            args = ['-y', '-f', path]\n", BACKENDS,
             'ssh-keygen spends whatever KDF rounds a hostile key file asks for'),
    # ------------------------------------------------------------ operations
    mutation('_ssh/genkey.py', '        self.tree.write(self.parts, self.name, private_bytes, PRIVATE_MODE)\n',
             '        self.tree.write(self.parts, self.name, private_bytes, PUBLIC_MODE)\n', GENKEY,
             'a generated private key is world-readable'),
    mutation('_ssh/genkey.py', "                drift.append('size is %d, not %d' % (key.size, spec.bits))\n",
             '                pass\n', GENKEY, 'a key of another size is kept'),
    mutation('_ssh/genkey_ppk.py', '            data = ppk_format.export_key(self.key_object(current.data), comment, '
             'self.spec.passphrase)\n',
             '            data = ppk_format.export_key(self.key_object(current.data), comment, None)\n',
             GENKEY, 'the .ppk of a protected key is written unprotected'),
    mutation('_regenerate.py', "    if regenerate == 'partial_idempotence' and passphrase_added and len(drift) == 1:\n",
             "    if regenerate == 'partial_idempotence' and passphrase_added and len(drift) == 0:\n", REGENERATE,
             'partial_idempotence replaces a key only because a passphrase was added'),
    mutation('_regenerate.py', "        plan.warn('%s does not match %s (%s) but regenerate is never: keeping it' "
             "% (path, wanted, summary))\n        return None\n",
             "        return summary\n", REGENERATE, 'regenerate: never replaces a differing key'),
    mutation('_regenerate.py', "        if regenerate == 'full_idempotence' or (importing and regenerate == 'always'):\n",
             "        if regenerate == 'full_idempotence':\n", REGENERATE,
             'an unreadable key blocks an import with regenerate: always'),
    mutation('_ssh/keypair.py', 'if self.generated and self.spec.private_key_path is None and not '
             'self.spec.task_no_log:', 'if self.generated and self.spec.private_key_path is None:', KEYPAIR,
             'the no_log warning is given although the task has no_log'),
    mutation('_ssh/keypair.py', '                    created = self.registry.hold()\n',
             '                    created = False\n', KEYPAIR,
             'keypair runs without the registry lock'),
    mutation('_ssh/keypair.py', 'if current.type != spec.key_type or current.size != spec.size:',
             'if current.type != spec.key_type:', KEYPAIR, 'a key pair of another size is silently kept'),
    mutation('_tls/genkey.py', '        self.location.write(tls_keys.serialize(key, spec.passphrase), KEY_MODE)\n',
             '        self.location.write(tls_keys.serialize(key, spec.passphrase), 0o644)\n', TLS,
             'a TLS private key is world-readable'),
    mutation('_tls/gencsr.py', '        self.mode = CSR_MODE_WITH_PASSWORD if self.password else CSR_MODE\n',
             '        self.mode = CSR_MODE\n', TLS, 'a CSR with a challenge password is world-readable'),
    mutation('_provision.py', '                if self.atomic:\n                    raise error\n                return\n',
             '                return\n', PROVISION, 'atomic provision carries on after a failed account'),
    mutation('_provision.py', '            for run in runs:\n                if run.error is None:\n',
             '            for run in runs:\n                if any(other.error is not None for other in runs):\n'
             '                    break\n                if run.error is None:\n', PROVISION,
             'one failed account stops the others'),
    mutation('_tls/genkey.py', '            self.plans_new_key = True\n', '', PROVISION,
             'a CSR planned with the key its TLS key item replaces in the same run'),
    mutation('_ssh/authkey.py', '        self.managed_dir = spec.manage_dir and bool(self.parts)\n',
             '        self.managed_dir = bool(self.parts)\n', AUTHKEYS, 'manage_dir: false still creates ~/.ssh'),
    # ------------------------------------------------------------ audit: account state (allowed_user)
    mutation('_ssh/audit/account_state.py', "            expired = shadow.expire != -1 and shadow.expire - self.today < 0\n",
             "            expired = shadow.expire != -1 and shadow.expire - self.today <= 0\n", ACCOUNT_STATE,
             'an account expiring today is reported refused (sshd still lets it in)'),
    mutation('_ssh/audit/account_state.py', "            locked = bool(password) and password.startswith(LOCKED_PASSWD_PREFIX)\n",
             "            locked = bool(password) and password[:1] in '!*'\n", ACCOUNT_STATE,
             'a "*" password (no password, not locked on Linux) is reported locked'),
    mutation('_ssh/audit/account_state.py', "        if use_pam:\n            notes.append(",
             "        if False:\n            notes.append(", ACCOUNT_STATE,
             'with UsePAM yes the audit guesses PAM decides like sshd (a locked account is called refused)'),
    mutation('_ssh/audit/account_state.py', "            elif not info.is_file or not info.mode & 0o111:\n",
             "            elif not info.mode & 0o111:\n", ACCOUNT_STATE,
             'a directory as shell is reported usable'),
    mutation('_ssh/audit/account_state.py', "        if chroot is not None:\n            notes.append(",
             "        if False:\n            notes.append(", ACCOUNT_STATE,
             'with ChrootDirectory a missing shell is reported as a refusal'),
    mutation('_ssh/audit/account_state.py', "        shell = entry.shell or PATH_BSHELL\n",
             "        shell = entry.shell\n", ACCOUNT_STATE, 'an empty shell is not read as /bin/sh'),
    mutation('_ssh/audit/account_state.py', "            password = None\n            expired = None\n",
             "            password = getattr(entry, 'password', None)\n            expired = False\n",
             ACCOUNT_STATE, 'an account another shadow source may know is judged from /etc/passwd alone'),
    mutation('_ssh/audit/authorized_keys_info.py', "                key['accepted'] = False\n", '', ACCOUNT_STATE,
             'a key of a locked or expired account is reported accepted'),
]
