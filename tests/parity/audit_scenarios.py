# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scenarios of the audit's differential test (issue 26, classes 1-8).

Each scenario is a function of a :class:`audit_oracle.Scene`: it makes accounts,
files and ``sshd_config`` lines, and says which logins to try (every key line
written with ``s.key`` / ``s.ca`` is tried for its account, from every client
address of ``s.clients``). What sshd answers is the truth; nothing here says
what the answer should be.

Dates are relative to the start of the run (``NOW``), never random.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import time

NOW = time.time()
DAY = 86400

RULES = '1-rules'
CERT = '2-cert-authority'
SETTINGS = '3-sshd-settings'
MATCH = '4-match-clients'
PATHS = '5-paths'
PERMS = '6-permissions'
BLIND = '7-not-audited'
STATE = '8-account-state'

SCENARIOS = []


class Scenario:
    def __init__(self, name, cls, build):
        self.name = name
        self.cls = cls
        self.build = build


def scenario(name, cls):
    def register(build):
        SCENARIOS.append(Scenario(name, cls, build))
        return build
    return register


def utc(offset, fmt='%Y%m%d%H%M'):
    return time.strftime(fmt, time.gmtime(NOW + offset))


def local(offset, fmt='%Y%m%d%H%M'):
    return time.strftime(fmt, time.localtime(NOW + offset))


def two_clients(s):
    s.clients = [('127.0.0.1', None), ('127.0.0.2', None)]


def plain_file(s, user, lines):
    return s.authorized_keys(user, lines)


# ------------------------------------------------------------------ 1: rules of a line

@scenario('rules_from', RULES)
def rules_from(s):
    two_clients(s)
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'from="127.0.0.1"'),
                          s.key(a, 'ed2', 'from="127.0.0.2"'),
                          s.key(a, 'ed3', 'from="!127.0.0.2,127.0.0.*"'),
                          s.key(a, 'ecdsa', 'from="127.0.0.0/8"')])
    b = s.user('b')
    s.authorized_keys(b, [s.key(b, 'ed1', 'from="10.0.0.1/8"'),
                          s.key(b, 'ed2', 'from="127.0.0.1,"'),
                          s.key(b, 'ed3', 'from=""'),
                          s.key(b, 'ecdsa', 'from="127.0.0.1/33"')])
    c = s.user('c')  # UseDNS no: host name patterns meet the address only
    s.authorized_keys(c, [s.key(c, 'ed1', 'from="localhost"'),
                          s.key(c, 'ed2', 'from="127.0.0.?"'),
                          s.key(c, 'ed3', 'from="*.example.com,127.0.0.2"')])


@scenario('rules_expiry_utc', RULES)
def rules_expiry_utc(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'expiry-time="%sZ"' % utc(-2 * DAY)),
                          s.key(a, 'ed2', 'expiry-time="%sZ"' % utc(2 * DAY)),
                          s.key(a, 'ed3', 'expiry-time="%sUTC"' % utc(-2 * DAY)),
                          s.key(a, 'ecdsa', 'expiry-time="%sUTC"' % utc(2 * DAY)),
                          s.key(a, 'rsa2048', 'expiry-time="%sz"' % utc(-2 * DAY))])
    b = s.user('b')
    s.authorized_keys(b, [s.key(b, 'ed1', 'expiry-time="%s"' % utc(-2 * DAY, '%Y%m%d')),
                          s.key(b, 'ed2', 'expiry-time="%sZ"' % utc(3 * DAY, '%Y%m%d%H%M%S')),
                          s.key(b, 'ed3', 'expiry-time="%sz"' % utc(2 * DAY)),
                          s.key(b, 'ecdsa', 'expiry-time="2026-13-01"')])


@scenario('rules_expiry_local', RULES)
def rules_expiry_local(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'expiry-time="%s"' % local(-2 * 3600)),
                          s.key(a, 'ed2', 'expiry-time="%s"' % local(2 * 3600)),
                          s.key(a, 'ed3', 'expiry-time="%s"' % local(-600, '%Y%m%d%H%M%S')),
                          s.key(a, 'ecdsa', 'expiry-time="%s"' % local(DAY, '%Y%m%d'))])


@scenario('rules_principals_plain', RULES)
def rules_principals_plain(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'principals="%s"' % a),
                          s.key(a, 'ed2', 'no-pty,principals="x"'),
                          s.key(a, 'ed3')])


@scenario('rules_cert_as_plain_line', RULES)
def rules_cert_as_plain_line(s):
    a = s.user('a')
    s.probe(a, 'certkey')
    s.probe(a, ('cert', 'ca_ed', a))
    s.authorized_keys(a, [s.keys.cert_line('ca_ed', a), s.key(a, 'ed1')])


@scenario('rules_options', RULES)
def rules_options(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'restrict'),
                          s.key(a, 'ed2', 'command="/bin/true",no-pty'),
                          s.key(a, 'ed3', 'no-pty,'),
                          s.key(a, 'ecdsa', 'environment="A=B"'),
                          s.key(a, 'rsa2048', 'no-such-option')])
    b = s.user('b')
    s.authorized_keys(b, [s.key(b, 'ed1', 'command="unterminated'),
                          s.key(b, 'ed2', 'restrict,pty,permitopen="127.0.0.1:80"'),
                          s.key(b, 'ed3', 'tunnel="x"'),
                          s.key(b, 'ecdsa', 'permitlisten="127.0.0.1:0"')])


@scenario('rules_same_key_twice', RULES)
def rules_same_key_twice(s):
    two_clients(s)
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'from="127.0.0.2"'), s.key(a, 'ed1'),
                          s.key(a, 'ed2', 'expiry-time="%sZ"' % utc(-DAY)),
                          s.key(a, 'ed2', 'expiry-time="%sZ"' % utc(DAY)),
                          s.key(a, 'ed3', 'from="10.0.0.1/8"'), s.key(a, 'ed3', 'from="127.0.0.2"')])


@scenario('rules_key_types', RULES)
def rules_key_types(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, name) for name in ('ed1', 'ecdsa', 'rsa1024', 'rsa2048')])


# ------------------------------------------------------------------ 2: cert-authority

@scenario('ca_principals', CERT)
def ca_principals(s):
    a = s.user('a')
    s.authorized_keys(a, [s.ca(a, 'ca_ed')])
    b = s.user('b')
    s.authorized_keys(b, [s.ca(b, 'ca_ed', 'principals="p1,p2"', principal='p2'),
                          s.ca(b, 'ca_rsa', 'principals="p3"')])
    c = s.user('c')
    s.authorized_keys(c, [s.ca(c, 'ca_ed', 'principals=""'), s.key(c, 'ed1')])
    d = s.user('d')
    s.authorized_keys(d, [s.ca(d, 'ca_rsa', 'principals="nobody-else"')])


@scenario('ca_algorithms_cert_types_only', CERT)
def ca_algorithms_cert_types_only(s):
    s.config += ['PubkeyAcceptedAlgorithms ssh-ed25519,ssh-ed25519-cert-v01@openssh.com']
    a = s.user('a')
    s.authorized_keys(a, [s.ca(a, 'ca_rsa'), s.key(a, 'rsa2048'), s.key(a, 'ed1')])


@scenario('ca_algorithms_no_cert_types', CERT)
def ca_algorithms_no_cert_types(s):
    s.config += ['PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256']
    a = s.user('a')
    s.authorized_keys(a, [s.ca(a, 'ca_ed'), s.key(a, 'ed1')])
    b = s.user('b')
    s.authorized_keys(b, [s.ca(b, 'ca_rsa')])


@scenario('ca_from_expiry', CERT)
def ca_from_expiry(s):
    two_clients(s)
    a = s.user('a')
    s.authorized_keys(a, [s.ca(a, 'ca_ed', 'from="127.0.0.2"')])
    b = s.user('b')
    s.authorized_keys(b, [s.ca(b, 'ca_ed', 'expiry-time="%sZ"' % utc(-DAY)),
                          s.ca(b, 'ca_rsa', 'expiry-time="%sZ"' % utc(DAY))])


@scenario('ca_and_plain_same_key', CERT)
def ca_and_plain_same_key(s):
    a = s.user('a')
    s.authorized_keys(a, [s.ca(a, 'ca_ed'), s.key(a, 'ca_ed')])
    b = s.user('b')
    s.probe(b, 'ca_ed')  # the CA key itself on a cert-authority line only
    s.authorized_keys(b, [s.ca(b, 'ca_ed')])


# ------------------------------------------------------------------ 3: sshd settings before any key

@scenario('settings_deny_users', SETTINGS)
def settings_deny_users(s):
    a = s.user('a')
    b = s.user('b')
    c = s.user('cx')
    s.config += ['DenyUsers %s %s%02dc?' % (a, s.prefix, s.index)]
    for user in (a, b, c):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_allow_users_host', SETTINGS)
def settings_allow_users_host(s):
    two_clients(s)
    a = s.user('a')
    b = s.user('b')
    c = s.user('c')
    d = s.user('d')
    s.config += ['AllowUsers %s@127.0.0.1 %s %s@127.0.0.2/31' % (a, b, d)]
    for user in (a, b, c, d):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_deny_groups', SETTINGS)
def settings_deny_groups(s):
    group = s.group('x')
    a = s.user('a', groups=[group])
    b = s.user('b')
    s.config += ['DenyGroups %s' % group]
    for user in (a, b):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_allow_groups', SETTINGS)
def settings_allow_groups(s):
    group = s.group('x')
    a = s.user('a', groups=[group])
    b = s.user('b')
    s.config += ['AllowGroups %s' % group]
    for user in (a, b):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_authentication_methods', SETTINGS)
def settings_authentication_methods(s):
    a = s.user('a')
    b = s.user('b')
    c = s.user('c')
    s.top += ['PasswordAuthentication yes']  # before the base's "no": sshd keeps the first value
    s.config += ['AuthenticationMethods publickey,password',
                 'Match User %s' % b, '    AuthenticationMethods password publickey',
                 'Match User %s' % c, '    AuthenticationMethods publickey']
    for user in (a, b, c):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_revoked_plain', SETTINGS)
def settings_revoked_plain(s):
    revoked = s.write(s.path('revoked_keys'), [s.keys.line['ed2'], s.keys.line['ca_rsa']], 0o644)
    s.config += ['RevokedKeys %s' % revoked]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1'), s.key(a, 'ed2'), s.ca(a, 'ca_rsa'), s.ca(a, 'ca_ed')])


@scenario('settings_revoked_krl', SETTINGS)
def settings_revoked_krl(s):
    krl = s.path('revoked.krl')
    result = subprocess.run(['ssh-keygen', '-q', '-k', '-f', krl, s.keys.private['ed3'] + '.pub',
                             s.keys.private['rsa2048'] + '.pub'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError('ssh-keygen -k: %s' % result.stderr.decode('utf-8', 'replace'))
    os.chmod(krl, 0o644)
    s.config += ['RevokedKeys %s' % krl]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1'), s.key(a, 'ed3'), s.key(a, 'rsa2048')])


@scenario('settings_pubkey_under_match', SETTINGS)
def settings_pubkey_under_match(s):
    group = s.group('p')
    a = s.user('a')
    b = s.user('b', groups=[group])
    c = s.user('c')
    s.config += ['Match User %s' % a, '    PubkeyAuthentication no',
                 'Match Group %s' % group, '    PubkeyAuthentication no']
    for user in (a, b, c):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_pubkey_off_global', SETTINGS)
def settings_pubkey_off_global(s):
    a = s.user('a')
    b = s.user('b')
    s.config += ['PubkeyAuthentication no', 'Match User %s' % b, '    PubkeyAuthentication yes']
    for user in (a, b):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('settings_algorithms', SETTINGS)
def settings_algorithms(s):
    s.config += ['PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-256']
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1'), s.key(a, 'ecdsa'), s.key(a, 'rsa2048')])
    b = s.user('b')
    s.config += ['Match User %s' % b, '    PubkeyAcceptedAlgorithms -ssh-ed25519']
    s.authorized_keys(b, [s.key(b, 'ed1'), s.key(b, 'rsa2048')])
    c = s.user('c')
    s.config += ['Match User %s' % c, '    PubkeyAcceptedAlgorithms ssh-rsa']  # SHA-1 signatures only
    s.authorized_keys(c, [s.key(c, 'rsa2048'), s.key(c, 'ed1')])


@scenario('settings_required_rsa_size', SETTINGS)
def settings_required_rsa_size(s):
    s.config += ['RequiredRSASize 2048']
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'rsa1024'), s.key(a, 'rsa2048'), s.key(a, 'ed1')])


# ------------------------------------------------------------------ 4: Match blocks and clients

@scenario('match_address_keys_file', MATCH)
def match_address_keys_file(s):
    two_clients(s)
    central = s.mkdir(s.path('central'))
    s.config += ['Match Address 127.0.0.2', '    AuthorizedKeysFile %s/%%u' % central]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])
    s.write(os.path.join(central, a), [s.key(a, 'ed2')], 0o644, a)


@scenario('match_address_pubkey_off', MATCH)
def match_address_pubkey_off(s):
    s.clients = [('127.0.0.1', None), ('127.0.0.3', None)]
    s.config += ['Match Address 127.0.0.3', '    PubkeyAuthentication no']
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1'), s.ca(a, 'ca_ed')])


@scenario('match_local_port', MATCH)
def match_local_port(s):
    s.port_count = 2
    s.clients = [('127.0.0.1', 0), ('127.0.0.1', 1)]
    central = s.mkdir(s.path('central'))
    s.config += ['Match LocalPort @PORT2@', '    AuthorizedKeysFile %s/%%u' % central]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])
    s.write(os.path.join(central, a), [s.key(a, 'ed2')], 0o644, a)


@scenario('match_host_deny', MATCH)
def match_host_deny(s):
    two_clients(s)
    a = s.user('a')
    b = s.user('b')
    s.config += ['Match Host 127.0.0.2', '    DenyUsers %s' % a]
    for user in (a, b):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('match_user_group_files', MATCH)
def match_user_group_files(s):
    group = s.group('m')
    central = s.mkdir(s.path('central'))
    a = s.user('a')
    b = s.user('b', groups=[group])
    c = s.user('c')
    s.config += ['Match User %s' % a, '    AuthorizedKeysFile .ssh/other_keys',
                 'Match Group %s' % group, '    AuthorizedKeysFile %s/%%u' % central]
    for user in (a, b, c):
        s.authorized_keys(user, [s.key(user, 'ed1')])
    s.authorized_keys(a, [s.key(a, 'ed2')], name='other_keys')
    s.write(os.path.join(central, b), [s.key(b, 'ed3')], 0o644, b)


@scenario('match_include', MATCH)
def match_include(s):
    confd = s.mkdir(s.path('sshd_config.d'))
    s.top += ['Include %s/*.conf' % confd]
    a = s.user('a')
    b = s.user('b')
    s.write(os.path.join(confd, '10-keys.conf'), ['AuthorizedKeysFile .ssh/included_keys'], 0o644)
    s.write(os.path.join(confd, '20-match.conf'), ['Match User %s' % b, '    PubkeyAuthentication no'], 0o644)
    for user in (a, b):
        s.authorized_keys(user, [s.key(user, 'ed1')])
        s.authorized_keys(user, [s.key(user, 'ed2')], name='included_keys')


@scenario('match_from_and_address', MATCH)
def match_from_and_address(s):
    s.clients = [('127.0.0.1', None), ('127.0.0.2', None), ('127.0.0.3', None)]
    s.config += ['Match Address 127.0.0.3', '    AuthorizedKeysFile .ssh/keys3']
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1', 'from="127.0.0.2"'), s.key(a, 'ed2', 'from="!127.0.0.1,*"')])
    s.authorized_keys(a, [s.key(a, 'ed3', 'from="127.0.0.3"')], name='keys3')


@scenario('match_address_trusted_ca', MATCH)
def match_address_trusted_ca(s):
    """A CA trusted (TrustedUserCAKeys) only from one address: the certificate
    audit judges every client context, not the first one only (issue 30)."""
    two_clients(s)
    a = s.user('a')
    cas = s.write(s.path('user_ca.pub'), [s.trusted_ca(a, 'ca_ed', a)], 0o644)
    s.config += ['Match Address 127.0.0.2', '    TrustedUserCAKeys %s' % cas]


@scenario('match_address_ca_principals_revoked', MATCH)
def match_address_ca_principals_revoked(s):
    """One CA file for all; from 127.0.0.2 another AuthorizedPrincipalsFile, from
    127.0.0.3 a RevokedKeys list that revokes the CA key itself."""
    s.clients = [('127.0.0.1', None), ('127.0.0.2', None), ('127.0.0.3', None)]
    a = s.user('a')
    cas = s.write(s.path('user_ca.pub'), [s.trusted_ca(a, 'ca_ed', a), s.trusted_ca(a, 'ca_ed', 'ops')], 0o644)
    principals = s.write(s.path('principals', a), ['ops'], 0o644)
    revoked = s.write(s.path('revoked_keys'), [s.keys.line['ca_ed']], 0o644)
    s.config += ['TrustedUserCAKeys %s' % cas,
                 'Match Address 127.0.0.2', '    AuthorizedPrincipalsFile %s/%%u' % os.path.dirname(principals),
                 'Match Address 127.0.0.3', '    RevokedKeys %s' % revoked]


# ------------------------------------------------------------------ 5: paths

@scenario('paths_quoted_space', PATHS)
def paths_quoted_space(s):
    spaced = s.mkdir(s.path('keys dir'))
    s.config += ['AuthorizedKeysFile "%s/%%u keys" .ssh/authorized_keys' % spaced]
    a = s.user('a')
    s.write(os.path.join(spaced, '%s keys' % a), [s.key(a, 'ed1')], 0o644, a)
    s.authorized_keys(a, [s.key(a, 'ed2')])
    # what splitting the quoted path on the space would read
    s.write(s.path('keys'), [s.key(a, 'ed3')], 0o644, a)


@scenario('paths_tokens', PATHS)
def paths_tokens(s):
    base = s.mkdir(s.path('t'))
    s.config += ['AuthorizedKeysFile %s/%%U/keys %%h/.ssh/k_%%u %s/100%%%%/%%u' % (base, base)]
    a = s.user('a')
    s.write(os.path.join(base, str(s.uid(a)), 'keys'), [s.key(a, 'ed1')], 0o644, a)
    s.authorized_keys(a, [s.key(a, 'ed2')], name='k_%s' % a)
    s.write(os.path.join(base, '100%', a), [s.key(a, 'ed3')], 0o644, a)
    s.authorized_keys(a, [s.key(a, 'ecdsa')])  # the default file is not configured here


@scenario('paths_unknown_token_first', PATHS)
def paths_unknown_token_first(s):
    s.config += ['AuthorizedKeysFile %s/%%x/keys .ssh/authorized_keys' % s.path('u')]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])


@scenario('paths_unknown_token_last', PATHS)
def paths_unknown_token_last(s):
    s.config += ['AuthorizedKeysFile .ssh/authorized_keys %s/%%x/keys .ssh/third' % s.path('u')]
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])
    s.authorized_keys(a, [s.key(a, 'ed2')], name='third')


@scenario('paths_dotdot_after_symlink', PATHS)
def paths_dotdot_after_symlink(s):
    s.config += ['AuthorizedKeysFile .ssh/link/../authorized_keys']
    real = s.mkdir(s.path('real'))
    s.mkdir(os.path.join(real, 'sub'))
    a = s.user('a')
    s.write(os.path.join(real, 'authorized_keys'), [s.key(a, 'ed1')], 0o644, a)
    s.authorized_keys(a, [s.key(a, 'ed2')])
    s.symlink(os.path.join(real, 'sub'), os.path.join(s.home(a), '.ssh', 'link'))


@scenario('paths_default_and_keys2', PATHS)
def paths_default_and_keys2(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')], name='authorized_keys2')
    b = s.user('b')
    s.config += ['Match User %s' % b, '    AuthorizedKeysFile .ssh/missing .ssh/second']
    s.authorized_keys(b, [s.key(b, 'ed2')], name='second')
    s.authorized_keys(b, [s.key(b, 'ed3')])
    c = s.user('c')
    s.config += ['Match User %s' % c, '    AuthorizedKeysFile none']
    s.authorized_keys(c, [s.key(c, 'ed1')])
    s.write(os.path.join(s.home(c), 'none'), [s.key(c, 'ed2')], 0o600, c)


# ------------------------------------------------------------------ 6: permissions as sshd opens them

@scenario('perms_strict_modes', PERMS)
def perms_strict_modes(s):
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])
    os.chmod(os.path.join(s.home(a), '.ssh'), 0o770)  # group-writable, the account's own group
    b = s.user('b')
    s.authorized_keys(b, [s.key(b, 'ed1')], mode=0o666)
    c = s.user('c')
    s.authorized_keys(c, [s.key(c, 'ed1')], owner=b)  # a foreign owner
    d = s.user('d')
    s.authorized_keys(d, [s.key(d, 'ed1')])
    os.chmod(s.home(d), 0o777)
    e = s.user('e')
    s.authorized_keys(e, [s.key(e, 'ed1')], mode=0o644, owner='root')
    s.chown(os.path.join(s.home(e), '.ssh'), 'root')
    os.chmod(os.path.join(s.home(e), '.ssh'), 0o755)


@scenario('perms_shared_group_writable', PERMS)
def perms_shared_group_writable(s):
    group = s.group('w')
    a = s.user('a', groups=[group])
    b = s.user('b', groups=[group])
    s.authorized_keys(a, [s.key(a, 'ed1')])
    s.chown(os.path.join(s.home(a), '.ssh'), a, group)
    os.chmod(os.path.join(s.home(a), '.ssh'), 0o770)
    s.authorized_keys(b, [s.key(b, 'ed1')], mode=0o660)
    s.chown(os.path.join(s.home(b), '.ssh', 'authorized_keys'), b, group)


@scenario('perms_strict_modes_off', PERMS)
def perms_strict_modes_off(s):
    s.config += ['StrictModes no']
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')], mode=0o666)
    b = s.user('b')
    s.authorized_keys(b, [s.hidden_key(b, 'ed1')], mode=0o000)
    c = s.user('c')
    s.authorized_keys(c, [s.hidden_key(c, 'ed1')])
    os.chmod(os.path.join(s.home(c), '.ssh'), 0o600)  # the account cannot search it


@scenario('perms_symlink_root_only', PERMS)
def perms_symlink_root_only(s):
    s.config += ['StrictModes no']
    a = s.user('a')
    target = s.write(s.path('root-only', 'keys_a'), [s.hidden_key(a, 'ed1')], 0o600, 'root')
    s.ssh_dir(a)
    s.symlink(target, os.path.join(s.home(a), '.ssh', 'authorized_keys'))
    b = s.user('b')
    hidden = s.mkdir(s.path('hidden'), 0o700)
    target = s.write(os.path.join(hidden, 'keys_b'), [s.hidden_key(b, 'ed1')], 0o644, b)
    s.ssh_dir(b)
    s.symlink(target, os.path.join(s.home(b), '.ssh', 'authorized_keys'))
    c = s.user('c')
    target = s.write(s.path('open', 'keys_c'), [s.key(c, 'ed1')], 0o644, c)
    s.ssh_dir(c)
    s.symlink(target, os.path.join(s.home(c), '.ssh', 'authorized_keys'))


@scenario('perms_symlink_strict', PERMS)
def perms_symlink_strict(s):
    a = s.user('a')
    target = s.write(s.path('open', 'keys_a'), [s.key(a, 'ed1')], 0o600, a)
    s.ssh_dir(a)
    s.symlink(target, os.path.join(s.home(a), '.ssh', 'authorized_keys'))
    b = s.user('b')
    shared = s.mkdir(s.path('writable'), 0o777)
    target = s.write(os.path.join(shared, 'keys_b'), [s.key(b, 'ed1')], 0o600, b)
    s.ssh_dir(b)
    s.symlink(target, os.path.join(s.home(b), '.ssh', 'authorized_keys'))


@scenario('perms_acl', PERMS)
def perms_acl(s):
    central = s.mkdir(s.path('acl'))
    s.config += ['AuthorizedKeysFile %s/%%u .ssh/authorized_keys' % central]
    a = s.user('a')
    path = s.write(os.path.join(central, a), [s.key(a, 'ed1')], 0o600, 'root')
    setfacl('-m', 'u:%s:r' % a, path)
    b = s.user('b')
    s.write(os.path.join(central, b), [s.hidden_key(b, 'ed1')], 0o600, 'root')
    c = s.user('c')
    s.authorized_keys(c, [s.hidden_key(c, 'ed2')])
    ssh_dir = os.path.join(s.home(c), '.ssh')
    s.chown(ssh_dir, 'root')
    os.chmod(ssh_dir, 0o755)
    setfacl('-m', 'u:%s:---' % c, ssh_dir)  # root's directory, every one may search it but the account
    d = s.user('d')
    s.authorized_keys(d, [s.key(d, 'ed2')])
    setfacl('-m', 'u:%s:---' % d, os.path.join(s.home(d), '.ssh'))  # the owner's own bits decide, not this


@scenario('perms_central_owners', PERMS)
def perms_central_owners(s):
    central = s.mkdir(s.path('central'))
    sticky = s.mkdir(s.path('sticky'), 0o1777)
    s.config += ['AuthorizedKeysFile %s/%%u %s/%%u' % (central, sticky)]
    a = s.user('a')
    s.write(os.path.join(central, a), [s.key(a, 'ed1')], 0o644, 'root')
    b = s.user('b')
    s.write(os.path.join(central, b), [s.key(b, 'ed1')], 0o644, a)  # a foreign owner
    c = s.user('c')
    s.write(os.path.join(sticky, c), [s.key(c, 'ed1')], 0o600, c)  # under a world-writable directory
    d = s.user('d')
    s.write(os.path.join(central, d), [s.key(d, 'ed1')], 0o640, 'root', d)  # root's, the account's group


def setfacl(*args):
    result = subprocess.run(['setfacl'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        raise RuntimeError('setfacl %s: %s' % (' '.join(args), result.stderr.decode('utf-8', 'replace')))


# ------------------------------------------------------------------ 7: what the audit cannot see

@scenario('blind_not_root', BLIND)
def blind_not_root(s):
    s.audit_as = s.user('z')
    a = s.user('a')
    s.authorized_keys(a, [s.key(a, 'ed1')])
    os.chmod(s.home(a), 0o700)
    s.blind_users.add(a)


@scenario('blind_past_read_cap', BLIND)
def blind_past_read_cap(s):
    a = s.user('a')
    path = s.authorized_keys(a, [s.key(a, 'ed2')])
    with open(path, 'r+b') as handle:
        handle.truncate(64 * 1024 * 1024 + 4096)  # a sparse hole: sshd reads on, a capped reader does not
        handle.seek(0, 2)
        handle.write(b'\n' + s.key(a, 'ed1').encode('ascii') + b'\n')
    s.blind_users.add(a)


# ------------------------------------------------------------------ 8: account state

@scenario('account_state', STATE)
def account_state(s):
    a = s.user('a')
    s.usermod('-L', a)
    b = s.user('b')
    s.usermod('-e', '1', b)
    c = s.user('c', shell='/nonexistent')
    d = s.user('d', shell='/usr/sbin/nologin')
    e = s.user('e')
    f = s.user('f')
    s.usermod('-e', time.strftime('%Y-%m-%d', time.gmtime(NOW + 30 * DAY)), f)
    for user in (a, b, c, d, e, f):
        s.authorized_keys(user, [s.key(user, 'ed1')])


@scenario('account_state_pam', STATE)
def account_state_pam(s):
    s.top += ['UsePAM yes']  # before the base's "no": PAM's account stack judges instead of sshd
    a = s.user('a')
    s.usermod('-L', a)
    b = s.user('b')
    s.usermod('-e', '1', b)
    c = s.user('c', shell='/nonexistent')
    d = s.user('d')
    for user in (a, b, c, d):
        s.authorized_keys(user, [s.key(user, 'ed1')])
