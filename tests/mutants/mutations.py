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
RULES = [U + '_ssh/test_audit_line_rules.py', U + '_ssh/test_authkey_cert_authority.py',
         U + '_ssh/test_authorized_keys.py']
BACKENDS = [U + '_ssh/test_ssh_keygen_backend.py', 'tests/unit/test_python38_without_cryptography.py']
FOLLOW = FS + [U + 'test_fs_follow.py']
RESOURCES = [U + '_ssh/test_resource_rules.py']
REGENERATE = [U + 'test_regenerate.py', U + '_ssh/test_genkey.py', U + '_tls/test_tls_genkey.py']
AUDIT_FILES = [U + 'test_fs_audit.py', U + '_ssh/test_audit_files.py', U + '_ssh/test_access.py']
AUDIT_SETTINGS = [U + '_ssh/test_audit_settings.py', U + '_ssh/test_access.py']


def mutation(path, find, replace, tests, why):
    return {'file': path, 'find': find, 'replace': replace, 'tests': tests, 'why': why}


MUTATIONS = [
    # ------------------------------------------------------------ _fs.py
    # follow: true and central files (issue 27)
    mutation('_fs.py', 'links.append(lst.st_uid == 0 and holder is not None and _root_only(holder))',
             'links.append(True)', FOLLOW,
             'a link the account planted (~/.ssh/authorized_keys -> /etc/shadow) is followed to a root-only file'),
    mutation('_fs.py', '    return st.st_uid == 0 and not st.st_mode & 0o022\n', '    return st.st_uid == 0\n', FOLLOW,
             'a group-writable root directory counts as root-managed: follow reaches what others can swap'),
    mutation('_fs.py', 'return uid is not None and uid != 0 and st.st_uid == uid and (st.st_mode & need) == need',
             'return uid is not None and uid != 0 and (st.st_mode & need) == need', FOLLOW,
             'any file with user rw bits (root\'s /etc/shadow) counts as the account\'s own'),
    mutation('_fs.py', '        if kind is not None:\n            if current is not None:\n                return current\n',
             '        if kind is not None:\n            pass\n', FOLLOW,
             'a followed target is given to the account'),
    mutation('_fs.py', '        if self.keep_attrs:\n', '        if False:\n', FOLLOW,
             'a central authorized_keys outside the home is given to the account'),
    mutation('_fs.py', '            if self.followed_kind(self.path(parts)) is not None:\n                return  #',
             '            if False:\n                return  #', FOLLOW,
             'ensure_dir chowns a followed directory (~/.ssh -> /etc) to the account'),
    mutation('_fs.py', '                    self._chown(child, path)\n', '', FS,
             'directories created on the way (~/ssl) stay root-owned'),
    mutation('_fs.py', '                self._give(fd, path, attrs)\n                os.fsync(fd)\n',
             '                self._give(fd, path, attrs)\n', FS,
             'atomic write renames data that was never synced (empty file after a crash)'),
    mutation('_fs.py', '            raise\n        os.fsync(dir_fd)\n        return path\n',
             '            raise\n        return path\n', FS, 'the rename itself is not made durable'),
    mutation('_fs.py', 'if st.st_nlink > 1 and not self.follow:', 'if st.st_nlink > 2 and not self.follow:', FS,
             'a file hard-linked once (to /etc/shadow) is read and written'),
    mutation('_fs.py', "        if stat.S_ISLNK(lst.st_mode) and not self.follow:\n            raise UnsafePath("
             "'%s is a symbolic link; refusing to follow it '\n                             '(set follow: true if "
             "this is intended)' % path, path=path)\n        if stat.S_ISLNK(lst.st_mode):\n            return self._open_followed",
             "        if stat.S_ISLNK(lst.st_mode):\n            return self._open_followed", FS,
             'a symbolic link file is followed without follow: true'),
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
    mutation('_fs.py', '                self._give(fd, path, self.attrs_for(path, (st.st_uid, st.st_gid, '
             'stat.S_IMODE(st.st_mode)), mode))\n            finally:',
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
    mutation('_module.py', '    for text in plan.all_warnings() + (outcome.warnings if outcome is not None else []):\n',
             '    for text in plan.all_warnings():\n', CORE + [U + '_ssh/test_keypair.py'],
             'the warning to set no_log on a returned private key is lost'),
    mutation('_module.py', '        module.fail_json(msg=_with_become_hint(exc.msg), **exc.details)\n',
             '        module.fail_json(msg=_with_become_hint(exc.msg))\n', CORE, 'failures lose their details (path, done)'),
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
    mutation('_ssh/authorized_keys.py', "    if '\\n' in text or '\\0' in text:\n        raise InvalidInput('options must",
             "    if '\\0' in text:\n        raise InvalidInput('options must", AUTHKEYS,
             'options with a newline inject a second line'),
    mutation('_ssh/authorized_keys.py', '        if run_start < length:\n', '        if False:\n', AUTHKEYS,
             'the lines after the last key line are dropped'),
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
    # ------------------------------------------------------------ the audit's reads (issue 26, classes 5-7)
    mutation('_fs_audit.py', '            os.setegid(gid)\n            os.seteuid(uid)\n',
             '            os.setegid(gid)\n', AUDIT_FILES,
             'the audit reads authorized_keys as root: a root-only file behind a link is reported with its keys'),
    mutation('_fs_audit.py', '            os.setgroups(groups)\n            os.setegid(gid)\n',
             '            os.setegid(gid)\n', AUDIT_FILES,
             'the audit reads with root\'s supplementary groups instead of the account\'s'),
    mutation('_fs_audit.py', "    if err in (errno.ENOENT, errno.ENOTDIR):\n        return AccountRead(path, 'missing'",
             "    if err:\n        return AccountRead(path, 'missing'", AUDIT_FILES,
             'a file the account cannot open (EACCES) is reported as missing'),
    mutation('_fs_audit.py', "        if uid == os.geteuid() or err in (errno.ENOENT, errno.ENOTDIR):",
             "        if True:", AUDIT_FILES,
             'without root, another account\'s file is judged with the module\'s own rights'),
    mutation('_fs_audit.py', "    if not stat.S_ISREG(before.st_mode):\n        # Never opened",
             "    if False:\n        # Never opened", AUDIT_FILES, 'the audit opens FIFOs and devices'),
    mutation('_fs_audit.py', '        if total > max_bytes:\n            chunk = chunk[:len(chunk) - (total - max_bytes)]\n',
             '', AUDIT_FILES, 'the read cap is not enforced'),
    mutation('_ssh/audit/authorized_keys_info.py', "        if stopped is not None:\n            report['reason'] = stopped\n",
             '', AUDIT_FILES, 'keys after an unknown AuthorizedKeysFile token are accepted (sshd stops there)'),
    mutation('_ssh/audit/authorized_keys_info.py',
             "        return ('not audited' if unaudited and not read_any else 'incomplete'), reasons",
             "        return 'audited', reasons", AUDIT_FILES,
             'an account the audit could not read is reported as audited (0 keys)'),
    mutation('_ssh/audit/authorized_keys_info.py', "            elif item['truncated']:",
             "            elif False:", AUDIT_FILES, 'a file cut at the read cap leaves its account "audited"'),
    mutation('_ssh/audit/authorized_keys_info.py',
             "            if account['status'] == 'audited' and not account['keys']),",
             "            if not account['keys']),", AUDIT_FILES, 'a not audited account is counted as having no keys'),
    mutation('_ssh/audit/authorized_keys_info.py', "            data = data[:data.rfind(b'\\n') + 1]\n", '', AUDIT_FILES,
             'the line cut at the read cap is judged as if complete'),
    mutation('_ssh/sshd/settings.py', '    words = readings[0] if readings else text.split()\n',
             '    words = text.split()\n', AUDIT_FILES, 'a quoted AuthorizedKeysFile entry with a space is split in two'),
    mutation('_ssh/sshd/settings.py', "            elif quote is None and char in '\"\\'':\n                quote = char\n",
             '', AUDIT_FILES, 'quotes in sshd_config are kept as part of the word'),
    mutation('_ssh/sshd/settings.py', '        path = \'%s/%s\' % (account.home, path)\n    return path\n',
             '        path = \'%s/%s\' % (account.home, path)\n    return os.path.normpath(path)\n', AUDIT_FILES,
             '".." after a symlinked directory is normalised away instead of resolved by the kernel'),
    mutation('_ssh/authorized_keys.py', '        return (key_identity(self.key), self.cert_authority)\n\n    @property\n'
             '    def comment', '        return (key_identity(self.key), False)\n\n    @property\n    def comment',
             RULES, 'state: present of a CA key rewrites its cert-authority line into a plain line'),
    mutation('_ssh/sshd_rules.py', '    if opts.principals is not None and not principal_names(opts.principals):',
             '    if False:', RULES, 'cert-authority,principals="" (no certificate gets in) is reported accepted'),
    mutation('_ssh/sshd_rules.py', '    if line.key.cert:\n        return CERTIFICATE_LINE\n', '', RULES,
             'a certificate written as a line is reported accepted'),
    mutation('_ssh/sshd_rules.py', "    if line.options is not None and line.options.cert_authority:\n        if accepted",
             "    if False:\n        if accepted", RULES,
             'a cert-authority line is judged by the CA key type and RequiredRSASize'),
    # ------------------------------------------------------------ the audit: settings before any key, clients
    mutation('_ssh/sshd/login_rules.py', "            return ['listed in DenyUsers (%s)' % pattern]\n", '',
             AUDIT_SETTINGS, 'an account in DenyUsers is reported as able to log in'),
    mutation('_ssh/sshd/login_rules.py', "user_part, host_part = pattern.split('@', 1)\n    if not match_pattern(",
             "user_part, host_part = pattern.split('@', 1)\n    if True or not match_pattern(", AUDIT_SETTINGS,
             'a user@host pattern of another user denies or allows this one'),
    mutation('_ssh/sshd/login_rules.py', "    if any(item == 'publickey' for item in lists):",
             "    if any('publickey' in item.split(',') for item in lists):", AUDIT_SETTINGS,
             'AuthenticationMethods publickey,password: a key alone is reported as enough'),
    mutation('_ssh/sshd/revoked.py', "            pending = set()\n            break\n", "            continue\n",
             AUDIT_SETTINGS, 'a RevokedKeys line sshd cannot read is skipped (sshd refuses every key then)'),
    mutation('_ssh/sshd/revoked.py', "                        answers[name.split(' (', 1)[0]] = verdict.strip()",
             "                        answers[name] = verdict.strip()", AUDIT_SETTINGS,
             'ssh-keygen -Q answers are not matched to their keys'),
    mutation('_ssh/sshd/settings.py', "        if self.by_client and client is not None:\n            key = (key, client.key())\n",
             '', AUDIT_SETTINGS, 'the settings of the first client are used for every client (Match Address)'),
    mutation('_ssh/audit/client_verdicts.py', "            return ['not in an AuthorizedKeysFile sshd reads for this client'], False\n",
             "            return [], False\n", AUDIT_SETTINGS,
             'a key in a file only some clients use is accepted for every client'),
    mutation('_ssh/audit/client_verdicts.py', "            if answer == 0:\n", "            if False:\n", AUDIT_SETTINGS,
             'from= is not evaluated for the client'),
    # ------------------------------------------------------------ resources and the report (issue 27)
    mutation('_ssh/sshd_rules.py', "            if _VERIFY['spent'] + cost > RSA_VERIFY_BUDGET:\n",
             '            if False:\n', RESOURCES, 'certificates of a costly RSA CA cost root seconds each, unbounded'),
    mutation('_ssh/sshd_rules.py', '    found = _BLOB_CACHE.get(blob)\n', '    found = None\n', RESOURCES,
             '100,000 copies of one certificate line are verified 100,000 times'),
    mutation('_fs_audit.py', '        except OSError as exc:\n            return False, exc.errno or errno.EIO\n',
             '        except ValueError as exc:\n            return False, exc.errno or errno.EIO\n',
             RESOURCES, 'a link to /proc/self/mem fails the audit of every account'),
    mutation('_ssh/audit/access_report.py', '    if text.startswith(FORMULA_STARTS):\n',
             "    if text.startswith('='):\n", RESOURCES, 'a comment starting with + or @ is a formula in the CSV'),
    mutation('_text.py', '        if changed:\n            escaped.append(where)\n', '', RESOURCES,
             'bytes that are not UTF-8 are escaped without saying so'),
    mutation('_ssh/authorized_keys.py', "(?![ \\t]*(?:#|\\x00|", "(?![ \\t]*(?:\\x00|", AUTHKEYS,
             'comment lines are reported as invalid lines'),
]
