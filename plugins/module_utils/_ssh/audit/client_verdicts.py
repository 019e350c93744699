# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An account's verdicts per client context, for ``authorized_keys_info``.

For every client context (the ``clients`` option, or the contexts derived from
sshd_config for "any client") sshd's settings are asked (``SshdReader.for_user``,
cached), the context's ``AuthorizedKeysFile`` entries are read (once per path and
way of judging), and each key gets a verdict per context: the line's own
verdict (``AuthorizedKeysInfo._key``), what refuses the account before any key
(``login_rules``: PubkeyAuthentication, DenyUsers, AllowUsers, DenyGroups,
AllowGroups, AuthenticationMethods), ``from=`` for the context's address and
``RevokedKeys`` (one batch per file, after all accounts). A key is accepted when
it is accepted for at least one context.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._executables import find_executable
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.clients import (
    any_client_contexts,
    context_for_from,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.login_rules import login_refusals
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.revoked import RevokedKeys
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import expand_tokens
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.sshd_rules import match_host_and_ip

MAX_FROM_CONTEXTS = 32


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class _View:
    """One (account, client context): its settings, files and login refusals."""

    def __init__(self, context, settings, paths, login):
        self.context = context
        self.settings = settings
        self.paths = paths      # [(path, variant key)]
        self.login = login      # reasons that refuse every key
        self.account_state = None
        self._client = None

    def client_view(self):
        """The context as a dict, one object shared by every key judged for it."""
        if self._client is None:
            self._client = self.context.as_dict()
        return self._client


class ClientVerdicts:
    def __init__(self, audit, warnings):
        self.audit = audit
        self.sshd = audit.sshd
        self.warnings = warnings
        self._warned = set(warnings)
        self.any_client = audit.spec.clients is None
        self.use_dns = self.sshd.global_settings.login.use_dns
        self.contexts = self._contexts()
        self.revoked = RevokedKeys(audit.run_command, find_executable('ssh-keygen'), warnings)
        self._info = {}          # id(key dict) -> (key line, from patterns)
        self._pending = []       # (account dict, [(identity, [(view, key dict or None)])])
        self._from_contexts = set()
        self._from_capped = False

    # ------------------------------------------------------------ contexts
    def _warn(self, text):
        if text not in self._warned:
            self._warned.add(text)
            self.warnings.append(text)

    def _contexts(self):
        criteria = self.sshd.criteria
        if self.any_client:
            return any_client_contexts(self.sshd.global_values, self.sshd.client_patterns,
                                       self.sshd.global_settings.login, self.warnings)
        contexts = []
        for context in self.audit.spec.clients:
            if not self.use_dns and context.host != context.addr:
                self._warn('client %s: host %s ignored, sshd (UseDNS no) uses the address as the host name'
                           % (context.addr, context.host))
                context = context.replace(host=context.addr)
            if 'localaddress' in criteria and not context.laddr:
                self._warn('client %s has no laddr: Match LocalAddress blocks are taken as not matching it'
                           % context.addr)
            if 'localport' in criteria and context.lport is None:
                self._warn('client %s has no lport: Match LocalPort blocks are taken as not matching it'
                           % context.addr)
            if context not in contexts:
                contexts.append(context)
        return contexts

    # ------------------------------------------------------------ one account
    def judged(self, key, line):
        """Remember what a key dict's per-client verdicts need of its line."""
        sshd_line = getattr(line, 'sshd_line', None)
        options = getattr(sshd_line, 'options', None)
        patterns = getattr(options, 'from_patterns', None)
        self._info[id(key)] = ('%s %s' % (line.key.key_type, line.key.base64), patterns)
        return key

    def _view(self, state, context, record=True):
        """``record``: the context's files go into the account's ``files`` (not for
        a context only one key's from= asks about: its other files are not listed)."""
        views = state['views']
        if context in views:
            return views[context]
        entry = state['entry']
        settings = self.sshd.for_user(entry.name, state['match_groups'], context)
        paths = []
        # sshd's percent_expand is fatal on an unknown token: the search ends
        # there (the connection is closed), later entries never count.
        stopped = None
        for pattern in settings.authorized_keys_file:
            try:
                path = expand_tokens(pattern, entry)
            except InvalidInput as exc:
                if stopped is None:
                    stopped = ('sshd stops at AuthorizedKeysFile entry %s (%s) and closes the connection: '
                               'this entry and later ones are not searched, and a client that offers a key not '
                               'found in the earlier entries is disconnected' % (pattern, exc.msg))
                    self._warn('%s: %s' % (entry.name, stopped))
                if record and ('token', pattern) not in state['file_index']:
                    state['file_index'][('token', pattern)] = True
                    state['files'].append(self.audit._blank_report(None, pattern, reason=stopped))
                continue
            if any(known == path for known, dummy in paths):
                continue
            variant = (path, settings.file_key(), stopped is not None)
            if variant not in state['variants']:
                report, keys = self.audit._file(entry, path, pattern, settings, state['real_home'], stopped)
                state['variants'][variant] = dict(((key['file'], key['line']), key) for key in keys)
                if record and path not in state['file_index']:
                    state['file_index'][path] = report
                    state['files'].append(report)
            paths.append((path, variant))
        # allowed_user: the account's own state (locked, expired, shell) refuses
        # like DenyUsers does, before any key is read
        account_state, refused = self.audit.account_states.state(entry, settings)
        login = list(login_refusals(settings, entry.name, state['login_groups'], context.host, context.addr))
        login.extend(reason for reason in refused if reason not in login)
        view = _View(context, settings, paths, login)
        view.account_state = account_state
        views[context] = view
        return view

    def account(self, entry):
        audit = self.audit
        names = audit.group_names
        state = {
            'entry': entry,
            'match_groups': [names.get(gid, str(gid)) for gid in entry.groups],
            # ga_init: getgrouplist's gids that have a name
            'login_groups': [names[gid] for gid in sorted(entry.groups) if gid in names],
            'real_home': _fs_audit.real_path(entry.home) if _fs_audit.stat_path(entry.home).is_dir else None,
            'views': {}, 'variants': {}, 'file_index': {}, 'files': [],
        }
        views = [self._view(state, context) for context in self.contexts]
        identities = []
        seen = set()
        for view in views:
            for path, variant in view.paths:
                for identity in state['variants'][variant]:
                    if identity not in seen:
                        seen.add(identity)
                        identities.append(identity)
        keys = []
        for identity in identities:
            found = [(view, self._key_in(state, view, identity)) for view in views]
            found = self._from_views(state, identity, found)
            keys.append((identity, found))
        login_sets = [view.login for view in views]
        refused_everywhere = all(login_sets)
        status, status_reasons = audit._status(state['files'])
        account = {
            'user': entry.name,
            'uid': entry.uid,
            'home': entry.home,
            'shell': entry.shell,
            'sshd': views[0].settings.as_dict(),
            'status': status,
            'status_reasons': status_reasons,
            'account_state': views[0].account_state,
            'files': state['files'],
            'keys': [],
            'login_refused_reasons': _unique(r for reasons in login_sets for r in reasons) if refused_everywhere
            else [],
            'clients': [{'client': view.context.as_dict(), 'login_refused_reasons': list(view.login)}
                        for view in views],
        }
        self._pending.append((account, keys))
        return account

    def _key_in(self, state, view, identity):
        for path, variant in view.paths:
            if path == identity[0]:
                return state['variants'][variant].get(identity)
        return None

    def _from_views(self, state, identity, found):
        """For "any client": a key whose valid from= allows none of the contexts is
        also judged for a client its from= allows (so "accepted" means some client
        can log in with it)."""
        if not self.any_client:
            return found
        key = next(item for dummy, item in found if item is not None)
        patterns = self._info[id(key)][1]
        if patterns is None:
            return found
        answers = [match_host_and_ip(view.context.host, view.context.addr, patterns) for view, dummy in found]
        if -1 in answers or 1 in answers:
            return found
        context = context_for_from(self.contexts[0], patterns, self.use_dns)
        if context is None:
            return found
        if context not in self._from_contexts and len(self._from_contexts) >= MAX_FROM_CONTEXTS:
            if not self._from_capped:
                self._from_capped = True
                self._warn('more than %d distinct from= networks: keys with other from= lists are judged only '
                           'for the derived client contexts' % MAX_FROM_CONTEXTS)
            return found
        self._from_contexts.add(context)
        view = self._view(state, context, record=False)
        return found + [(view, self._key_in(state, view, identity))]

    # ------------------------------------------------------------ all accounts
    def finish(self):
        """RevokedKeys for every key (one batch per file), then every key's verdict."""
        wanted = {}
        for dummy, keys in self._pending:
            for dummy2, found in keys:
                for view, key in found:
                    revoked = view.settings.login.revoked_keys
                    if key is not None and revoked and view.settings.pubkey_authentication:
                        wanted.setdefault(revoked, set()).add(self._info[id(key)][0])
        answers = {}
        for path, lines in sorted(wanted.items()):
            answers[path] = self.revoked.check(path, lines)
        for account, keys in self._pending:
            account['keys'] = [self._merge(identity, found, answers) for identity, found in keys]
        self._pending = []
        self._info = {}

    def _verdict(self, view, key, answers):
        if key is None:
            return ['not in an AuthorizedKeysFile sshd reads for this client'], False
        reasons = list(key['refused_reasons']) + list(view.login)
        line, patterns = self._info[id(key)]
        if patterns is not None:
            answer = match_host_and_ip(view.context.host, view.context.addr, patterns)
            if answer == 0:
                reasons.append('from= does not allow %s' % view.context.addr)
            elif answer < 0 and not any('from=' in reason for reason in reasons):
                reasons.append('from= holds an invalid criterion')
        revoked_file = view.settings.login.revoked_keys
        revoked = False
        if revoked_file and revoked_file in answers:
            reason = answers[revoked_file].get(line)
            if reason:
                reasons.append(reason)
                revoked = reason.startswith('revoked by')
        return reasons, revoked

    def _merge(self, identity, found, answers):
        # the key dict itself becomes the result (no copy: a 100,000-line file has 100,000 of them);
        # every verdict is computed below before it changes
        base = next(key for dummy, key in found if key is not None)
        result = base
        clients = []
        revoked = False
        for view, key in found:
            reasons, is_revoked = self._verdict(view, key, answers)
            revoked = revoked or is_revoked
            clients.append({'client': view.client_view(), 'accepted': not reasons,
                            'refused_reasons': reasons})
        accepted = any(item['accepted'] for item in clients)
        result['accepted'] = accepted
        result['refused_reasons'] = [] if accepted else _unique(
            reason for item in clients for reason in item['refused_reasons'])
        result['revoked'] = revoked
        if len(clients) > 1:
            # one context: the key's own accepted/refused_reasons say it all (a list
            # per key line would cost a 100,000-line file hundreds of MiB)
            result['clients'] = clients
        # A valid from= makes the answer depend on the client even where the
        # contexts evaluated happen to agree ("any client" only: given clients are the question).
        result['client_dependent'] = (len(set(item['accepted'] for item in clients)) > 1
                                      or bool(self.any_client and base.get('client_dependent')))
        return result
