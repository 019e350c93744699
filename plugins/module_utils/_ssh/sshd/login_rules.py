# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What sshd decides before it reads any key: a port of OpenSSH 9.2's
``allowed_user`` (auth.c: ``DenyUsers``, ``AllowUsers``, ``DenyGroups``,
``AllowGroups`` with ``match_user`` and ``ga_match``), of the check that
``publickey`` alone completes ``AuthenticationMethods`` (auth2.c
``auth2_methods_valid``/``list_starts_with``) and ``PubkeyAuthentication``.

The account state checks of ``allowed_user`` (locked password, shell) are not
here. Pure functions: no file access.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.sshd_rules import (
    match_host_and_ip,
    match_pattern,
)

# Keywords sshd accumulates over lines (sshd -T prints one line per element).
LIST_KEYWORDS = frozenset(('denyusers', 'allowusers', 'denygroups', 'allowgroups', 'port', 'listenaddress'))


class LoginSettings:
    """The settings of one (account, client) context that decide before any key."""

    def __init__(self, deny_users=(), allow_users=(), deny_groups=(), allow_groups=(),
                 authentication_methods='any', revoked_keys=None, use_dns=False):
        self.deny_users = list(deny_users)
        self.allow_users = list(allow_users)
        self.deny_groups = list(deny_groups)
        self.allow_groups = list(allow_groups)
        self.authentication_methods = authentication_methods
        self.revoked_keys = revoked_keys
        self.use_dns = use_dns

    def as_dict(self):
        return {
            'deny_users': list(self.deny_users),
            'allow_users': list(self.allow_users),
            'deny_groups': list(self.deny_groups),
            'allow_groups': list(self.allow_groups),
            'authentication_methods': self.authentication_methods,
            'revoked_keys': self.revoked_keys,
        }


def login_settings_from_values(values):
    """LoginSettings from a {lower-case keyword: argument string} mapping (sshd -T
    or sshd_config; list keywords joined by blanks)."""
    revoked = values.get('revokedkeys')
    methods = ' '.join((values.get('authenticationmethods') or 'any').split())
    return LoginSettings(
        deny_users=(values.get('denyusers') or '').split(),
        allow_users=(values.get('allowusers') or '').split(),
        deny_groups=(values.get('denygroups') or '').split(),
        allow_groups=(values.get('allowgroups') or '').split(),
        authentication_methods=methods,
        revoked_keys=None if not revoked or revoked.lower() == 'none' else revoked,
        use_dns=(values.get('usedns') or 'no').lower() == 'yes',
    )


def match_user(user, host, ipaddr, pattern):
    """match.c ``match_user``: 1 match, 0 none, -1 invalid host part."""
    if '@' not in pattern:
        return 1 if match_pattern(user, pattern) else 0
    user_part, host_part = pattern.split('@', 1)
    if not match_pattern(user, user_part):
        return 0
    return match_host_and_ip(host, ipaddr, host_part)


def ga_match(group_names, patterns):
    """groupaccess.c ``ga_match``: any group name matches any pattern (no negation)."""
    return any(match_pattern(name, pattern) for name in group_names for pattern in patterns)


def account_refusals(login, user, group_names, host, addr):
    """Why ``allowed_user`` refuses ``user`` (its primary and supplementary group
    names ``group_names``) from the client ``host``/``addr``, in sshd's order; []
    when it lets the user try."""
    for pattern in login.deny_users:
        found = match_user(user, host, addr, pattern)
        if found < 0:
            return ['invalid DenyUsers pattern %s: sshd ends the connection' % pattern]
        if found:
            return ['listed in DenyUsers (%s)' % pattern]
    if login.allow_users:
        results = [match_user(user, host, addr, pattern) for pattern in login.allow_users]
        if -1 in results and 1 not in results[:results.index(-1)]:
            bad = login.allow_users[results.index(-1)]
            return ['invalid AllowUsers pattern %s: sshd ends the connection' % bad]
        if 1 not in results:
            return ['not listed in AllowUsers']
    if login.deny_groups or login.allow_groups:
        if not group_names:
            return ['not in any group (DenyGroups/AllowGroups are set)']
        if login.deny_groups and ga_match(group_names, login.deny_groups):
            return ['a group is listed in DenyGroups']
        if login.allow_groups and not ga_match(group_names, login.allow_groups):
            return ["none of the account's groups is listed in AllowGroups"]
    return []


def methods_refusal(methods):
    """Why a login with one public key does not complete ``AuthenticationMethods``
    (``any``, or space-separated lists of comma-separated methods), or None.

    sshd offers a method only when it starts one of the lists, and a login
    completes when a list is used up: one key is enough only with a list that
    is ``publickey`` alone (``publickey,publickey`` needs two different keys).
    """
    if methods is None or methods.strip().lower() == 'any':
        return None
    lists = methods.split()
    if any(item == 'publickey' for item in lists):
        return None
    if any(item.split(',')[0] == 'publickey' for item in lists):
        return 'AuthenticationMethods %s - a key alone is not enough' % methods
    return 'AuthenticationMethods %s - no list starts with publickey' % methods


def login_refusals(settings, user, group_names, host, addr):
    """Every reason the context's settings refuse any key login of ``user``."""
    reasons = []
    if not settings.pubkey_authentication:
        reasons.append('PubkeyAuthentication no')
    reasons.extend(account_refusals(settings.login, user, group_names, host, addr))
    methods = methods_refusal(settings.login.authentication_methods)
    if methods:
        reasons.append(methods)
    return reasons
