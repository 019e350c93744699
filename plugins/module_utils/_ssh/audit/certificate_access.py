# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who can log in with a certificate: the audit's view of sshd's
certificate trust (sshd 9.2 auth2-pubkey.c ``user_cert_trusted_ca``).

Per account, from the settings sshd applies to it (``sshd -T``):

* ``TrustedUserCAKeys``: the CA keys, read as sshd reads the file as root
  (``sshkey_in_file``: comments and blank lines skipped, a line it cannot read
  ends the search, so a CA after it is not trusted);
* ``RevokedKeys``: a revoked CA key opens nothing (``auth_key_is_revoked`` of
  the signature key), asked with ``ssh-keygen -Q`` for a KRL
  (``sshd.revoked``). Certificates themselves (serials, key ids) are not on
  the host: which are revoked is the KRL's own content, not an account's;
* the principals: ``AuthorizedPrincipalsFile`` read as the account with
  sshd's StrictModes checks (a ``#`` ends a line; the principal is the
  line's last word); without one, a certificate must name the account;
  ``AuthorizedPrincipalsCommand`` runs a program the audit does not run:
  its principals are *not audited*, never "none".

The audit's CA rows (``authorities``) say which accounts each CA opens and
with which principals; ``cert-authority`` lines of ``authorized_keys`` (already
judged as keys) are added as rows of their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import principals_file
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.revoked import KRL_MAGIC
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import expand_tokens
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.strict_modes import secure_path_problem

_MAX_CA_BYTES = 1024 * 1024

# principals listed per account (an account's own file could hold millions: the audit lists these and says so)
MAX_PRINCIPALS = 10000


def _setting(values, name):
    value = (values or {}).get(name)
    if not value or value.lower() == 'none':
        return None
    return value


def read_ca_file(path):
    """([(key line ``type base64``, PublicKey)], problem or None) as sshd reads ``path``."""
    info, data, truncated = _fs_audit.read_for_audit(path, _MAX_CA_BYTES)
    if data is None or (info is not None and not info.is_file):
        return [], 'TrustedUserCAKeys %s cannot be read: sshd trusts no CA' % path
    keys = []
    for number, raw in enumerate(data.split(b'\n'), 1):
        text = raw.decode('utf-8', 'replace').lstrip(' \t')
        if text in ('', '\r') or text.startswith('#'):
            continue
        found = sshd_rules.read_key(text)
        if found is None:
            return keys, ('TrustedUserCAKeys %s line %d cannot be read: sshd stops there, the CA keys after it are '
                          'not trusted' % (path, number))
        words = text.split()
        try:
            key = PublicKey.from_line(' '.join(words[:3]))
        except InvalidInput:
            key = PublicKey.from_line(' '.join(words[:2]))
        keys.append(('%s %s' % (key.key_type, key.base64), key))
    if truncated:
        return keys, 'TrustedUserCAKeys %s is larger than %d bytes: read in part' % (path, _MAX_CA_BYTES)
    return keys, None


def krl_listing(text):
    """What ``ssh-keygen -Q -l -f KRL`` lists (krl.c ``krl_dump``): version,
    generation time, revoked keys (by hash or key) and per CA key (SHA256
    fingerprint, ``*`` for any CA) the revoked certificate serials and key ids."""
    listing = {'version': None, 'generated_at': None, 'keys': [], 'certificates': {}}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('# KRL version '):
            listing['version'] = line[len('# KRL version '):]
        elif line.startswith('# Generated at '):
            listing['generated_at'] = line[len('# Generated at '):]
        elif line.startswith('# CA key '):
            words = line.split()
            current = listing['certificates'].setdefault(words[-1], {'serials': [], 'key_ids': []})
        elif line.startswith('# Wildcard CA'):
            current = listing['certificates'].setdefault('*', {'serials': [], 'key_ids': []})
        elif line.startswith('hash: ') or line.startswith('key: '):
            listing['keys'].append(line.split(None, 1)[1].split(' #', 1)[0].strip())
        elif line.startswith('# hash SHA1:'):
            listing['keys'].append(line[len('# hash '):].strip())
        elif current is not None and line.startswith('serial: '):
            current['serials'].append(line[len('serial: '):])
        elif current is not None and line.startswith('id: '):
            current['key_ids'].append(line[len('id: '):])
    return listing


class CertificateAccess:
    """Collects each account's certificate access during the audit, and the CA rows."""

    def __init__(self, audit, warnings):
        self.audit = audit
        self.warnings = warnings
        self._ca_files = {}       # path -> (keys, problem)
        self._revoked = {}        # (revoked path, key line) -> reason or None
        self._rows = {}           # (source, fingerprint) -> row
        self._krls = {}           # RevokedKeys path -> krl_listing or {'error': why}
        self.accounts = []

    def _contexts(self):
        """The client contexts the key audit judges (``ClientVerdicts``), in its order."""
        return list(self.audit.verdicts.contexts) or [None]

    def _settings(self, entry, context):
        names = self.audit.group_names
        settings = self.audit.sshd.for_user(entry.name, [names.get(gid, str(gid)) for gid in entry.groups], context)
        return settings, getattr(settings, 'values', None)

    def _cas(self, path):
        if path not in self._ca_files:
            keys, problem = read_ca_file(path)
            self._ca_files[path] = (keys, problem)
            if problem:
                self.warnings.append(problem)
        return self._ca_files[path]

    def _revocation(self, revoked_path, key_line):
        if not revoked_path:
            return None
        wanted = (revoked_path, key_line)
        if wanted not in self._revoked:
            self._revoked.update(((revoked_path, line), reason) for line, reason in
                                 self.audit.verdicts.revoked.check(revoked_path, [key_line]).items())
        return self._revoked[wanted]

    def _principals(self, entry, values, settings, real_home):
        """(source, path, principals or None, status reason or None)."""
        if _setting(values, 'authorizedprincipalscommand'):
            return ('AuthorizedPrincipalsCommand', None, None,
                    'not audited: AuthorizedPrincipalsCommand %s decides the principals'
                    % values['authorizedprincipalscommand'])
        pattern = _setting(values, 'authorizedprincipalsfile')
        if pattern is None:
            return 'user name', None, [entry.name], None
        try:
            path = expand_tokens(pattern, entry)
        except InvalidInput as exc:
            return 'AuthorizedPrincipalsFile', None, [], 'AuthorizedPrincipalsFile %s: %s' % (pattern, exc.msg)
        got = self.audit.reader.read(path, entry.uid, entry.gid, entry.groups, entry.name)
        if got.status == 'not audited':
            return 'AuthorizedPrincipalsFile', path, None, 'not audited: %s' % got.reason
        if got.status == 'missing':
            return 'AuthorizedPrincipalsFile', path, [], '%s does not exist: no certificate logs in' % path
        if got.status != 'read':
            return 'AuthorizedPrincipalsFile', path, [], '%s cannot open %s (%s): no certificate logs in' % (
                entry.name, path, got.reason or got.status)
        if settings.strict_modes:
            user_groups = self.audit.user_groups
            rule = user_groups.single_member_rule(entry.uid) if user_groups else None
            problem = secure_path_problem(_fs_audit.real_path(path), got.info, real_home, entry.uid,
                                          _fs_audit.stat_path, rule)
            if problem:
                return 'AuthorizedPrincipalsFile', path, [], '%s: sshd does not use it (StrictModes)' % problem
        lines, more = principals_file.principal_lines_upto(got.data.decode('utf-8', 'replace'), MAX_PRINCIPALS)
        names = [name for name, dummy in lines]
        reason = None
        if got.truncated:
            reason = 'incomplete: %s cut at the read limit' % path
        elif more:
            reason = 'incomplete: %s holds more than %d principals, the first %d listed' % (
                path, MAX_PRINCIPALS, MAX_PRINCIPALS)
        return 'AuthorizedPrincipalsFile', path, names, reason

    def account(self, entry, account):
        """Add ``certificates`` to the audited ``account`` dict of ``entry``:
        judged for every client context the key audit judges (a ``Match``
        block may change TrustedUserCAKeys, AuthorizedPrincipalsFile or
        RevokedKeys per address), merged as key verdicts are: it can log in
        when some context lets a certificate in; ``clients`` lists each
        context's view when there are several."""
        contexts = self._contexts()
        refusals = [item.get('login_refused_reasons') or [] for item in account.get('clients') or []]
        views = []
        for index, context in enumerate(contexts):
            refused = refusals[index] if index < len(refusals) else account.get('login_refused_reasons')
            views.append(self._context_view(entry, account, context, refused, several=len(contexts) > 1))
        opening = [view for view in views if view['can_log_in']]
        # the top-level fields: the first context a certificate opens the account from, else the first
        view = dict(opening[0] if opening else views[0])
        view.pop('client', None)
        authorities = []
        for item in views:
            authorities.extend(fp for fp in item['authorities'] if fp not in authorities)
        view['authorities'] = authorities
        if opening:
            view.update(can_log_in=True, status='audited')
        elif any(item['can_log_in'] is None for item in views):
            unknown = next(item for item in views if item['can_log_in'] is None)
            view.update(can_log_in=None, status='not audited', reason=unknown['reason'])
        else:
            view['can_log_in'] = False
        if len(views) > 1:
            view['clients'] = views
        view['client_dependent'] = len(set(item['can_log_in'] for item in views)) > 1
        account['certificates'] = view
        return view

    def _context_view(self, entry, account, context, login_refused, several=False):
        """One client context's certificate access to the account (``several``:
        the CA rows name the contexts an account opens from)."""
        settings, values = self._settings(entry, context)
        view = {'trusted_user_ca_keys': None, 'authorities': [], 'principals_from': None, 'principals_file': None,
                'principals': [], 'status': 'audited', 'reason': None, 'can_log_in': False,
                'client': context.as_dict() if context is not None else None}
        if values is None:
            view.update(status='not audited', can_log_in=None,
                        reason='sshd -T gave no settings: certificate trust not audited')
            return view
        ca_path = _setting(values, 'trustedusercakeys')
        view['trusted_user_ca_keys'] = ca_path
        if not ca_path or not settings.pubkey_authentication:
            view['reason'] = ('PubkeyAuthentication no' if ca_path else 'no TrustedUserCAKeys')
            return view
        real_home = _fs_audit.real_path(entry.home) if _fs_audit.stat_path(entry.home).is_dir else None
        source, path, principals, reason = self._principals(entry, values, settings, real_home)
        view.update(principals_from=source, principals_file=path, principals=principals, reason=reason)
        keys, problem = self._cas(ca_path)
        revoked_path = settings.login.revoked_keys
        opened = []
        for key_line, key in keys:
            revoked = self._revocation(revoked_path, key_line)
            row = self._row('TrustedUserCAKeys %s' % ca_path, key, revoked)
            self._revoked_certificates(row, revoked_path)
            if revoked:
                continue
            opened.append(key.fingerprint_sha256)
            if login_refused:
                continue
            if principals is None or principals:
                self._row_account(row, entry.name, principals, source, view['client'] if several else None)
        view['authorities'] = opened
        if principals is None:
            view.update(status='not audited', can_log_in=None if opened and not login_refused else False)
        else:
            view['can_log_in'] = bool(opened and principals and not login_refused)
        if login_refused and opened:
            view['reason'] = '; '.join(text for text in (view['reason'], 'login refused: %s'
                                                         % ', '.join(login_refused)) if text)
        if problem and not keys:
            view['reason'] = '; '.join(text for text in (view['reason'], problem) if text)
        return view

    @staticmethod
    def _row_account(row, user, principals, source, client):
        """The account in a CA row, once per (account, principals): the client
        contexts it opens from are listed when there are several (``client``)."""
        for item in row['accounts']:
            if item['user'] == user and item['principals'] == principals and item['principals_from'] == source:
                if client is not None and client not in item.setdefault('clients', []):
                    item['clients'].append(client)
                return
        item = {'user': user, 'principals': principals, 'principals_from': source,
                'status': 'not audited' if principals is None else 'audited'}
        if client is not None:
            item['clients'] = [client]
        row['accounts'].append(item)

    def _row(self, source, key, revoked):
        identity = (source, key.fingerprint_sha256)
        row = self._rows.get(identity)
        if row is None:
            row = {'source': source, 'fingerprint': key.fingerprint_sha256, 'type': key.family, 'bits': key.size,
                   'comment': key.comment, 'revoked': revoked, 'accounts': []}
            self._rows[identity] = row
        return row

    def finish(self, accounts):
        """The ``cert-authority`` lines of authorized_keys sshd accepts, as rows too."""
        for account in accounts:
            for key in account.get('keys') or []:
                if not key.get('cert_authority') or not key.get('accepted'):
                    continue
                row = self._rows.setdefault(('authorized_keys', key['fingerprint']), {
                    'source': 'authorized_keys', 'fingerprint': key['fingerprint'], 'type': key['type'],
                    'bits': key['bits'], 'comment': key['comment'], 'revoked': None, 'accounts': []})
                principals = _principals_option(key.get('options') or '')
                row['accounts'].append({'user': account['user'], 'principals': principals or [account['user']],
                                        'principals_from': 'authorized_keys %s:%d' % (key['file'], key['line']),
                                        'status': 'audited'})

    def _krl(self, path):
        """The listing of the KRL at ``path`` (once per path); None for a plain key list."""
        if path not in self._krls:
            info, data, truncated = _fs_audit.read_for_audit(path, 8)
            if data is None or not data.startswith(KRL_MAGIC):
                self._krls[path] = None
            else:
                revoked = self.audit.verdicts.revoked
                if not revoked.keygen_path:
                    self._krls[path] = {'error': 'ssh-keygen not found: the KRL is not listed'}
                else:
                    code, out, err = self.audit.run_command([revoked.keygen_path, '-Q', '-l', '-f', path])
                    self._krls[path] = krl_listing(out) if code == 0 else {
                        'error': 'ssh-keygen -Q -l failed: %s' % ((err or out or '').strip() or 'exit %d' % code)}
        return self._krls[path]

    def _revoked_certificates(self, row, revoked_path):
        """The serials and key ids the KRL revokes for the row's CA (and for any CA)."""
        if 'revoked_serials' in row:
            return
        row['revoked_serials'], row['revoked_key_ids'], row['revocation_list'] = [], [], revoked_path
        listing = self._krl(revoked_path) if revoked_path else None
        if not listing or 'error' in listing:
            if listing:
                row['revocation_list_error'] = listing['error']
            return
        for fingerprint in (row['fingerprint'], '*'):
            found = listing['certificates'].get(fingerprint) or {}
            row['revoked_serials'].extend(found.get('serials') or [])
            row['revoked_key_ids'].extend(found.get('key_ids') or [])

    def revocation_lists(self):
        """{RevokedKeys path: its KRL listing (revoked keys counted)} for the result."""
        lists = {}
        for path, listing in sorted(self._krls.items()):
            if listing is None:
                continue
            if 'error' in listing:
                lists[path] = dict(listing)
                continue
            lists[path] = {'version': listing['version'], 'generated_at': listing['generated_at'],
                           'revoked_keys': len(listing['keys']), 'certificates': listing['certificates']}
        return lists

    def summary(self, accounts):
        views = [account.get('certificates') or {} for account in accounts]
        return {
            'certificate_authorities': len(self._rows),
            'accounts_open_to_certificates': sum(1 for view in views if view.get('can_log_in')),
            'accounts_certificates_not_audited': sum(1 for view in views if view.get('status') == 'not audited'),
        }

    def authorities(self):
        for row in self._rows.values():
            for name in ('revoked_serials', 'revoked_key_ids'):
                row.setdefault(name, [])
            row.setdefault('revocation_list', None)
        return sorted(self._rows.values(), key=lambda row: (row['source'], row['fingerprint']))


def _principals_option(options):
    """The names sshd compares of a line's ``principals=`` option (the rule
    port's reading), or None."""
    if not options:
        return None
    try:
        parsed = sshd_rules.parse_options(options, end_is_blank=False)
    except sshd_rules.OptionsError:
        return None
    if parsed.principals is None:
        return None
    return sshd_rules.principal_names(parsed.principals)
