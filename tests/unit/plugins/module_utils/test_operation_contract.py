# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The operation contract, for every operation: ``plan()`` writes nothing (the
tree is the same before and after it, also inside the operation's session),
and neither ``apply`` nor ``result`` changes the plan afterwards (what only
applying learns comes back as an ``Outcome``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import grp
import inspect
import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs import operation as certs_operation
from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Operation, Outcome
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import authorized_keys_info as access
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import accounts
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.access_report import AccessReport
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.krl_operation import KrlSpec, SshKrl
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.operation import SshCert
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CaSpec, CertRequest
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.key_info import KeyInfoSpec, SshKeyInfo
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair.operation import Keypair, KeypairInfo, KeypairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.known_hosts import KnownHostsCA, KnownHostsCASpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.principals import AuthorizedPrincipals, PrincipalsSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.sshd_dropin import SshdTrust, TrustSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import CertificateSigningRequest, CsrSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.info import InfoSpec, SslInfo
from ansible_collections.keysmith.accounts.plugins.module_utils._users import UserCreation, UserSpec
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

SUBJECT = dict(city='Houston', company='Example', country='US', province='Texas')


@pytest.fixture
def world(tmp_path):
    """A home, a registry and a report directory below ``tree``; key material outside it."""
    tree = tmp_path / 'tree'
    tree.mkdir()
    material = tmp_path / 'material'
    material.mkdir()
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'given', '-f', str(material / 'id')],
                   check=True)
    made = {
        'tree': tree,
        'account': Account.resolve(None, str(tree / 'home')),
        'registry': str(tree / 'registry'),
        'public': (material / 'id.pub').read_text().strip(),
        'user': 'ks16c%d%s' % (os.getpid() % 100000, tmp_path.name[-4:].replace('_', '')),
    }
    yield made
    # what the user creation case made (user, its group and the group it asked for)
    try:
        pwd.getpwnam(made['user'])
        subprocess.call(['userdel', made['user']], stderr=subprocess.DEVNULL)
    except KeyError:
        pass
    for group in (made['user'], made['user'] + 'g'):
        try:
            grp.getgrnam(group)
            subprocess.call(['groupdel', group], stderr=subprocess.DEVNULL)
        except KeyError:
            pass


def genkey(w, **options):
    options.setdefault('name', 'id_test')
    options.setdefault('key_type', 'ed25519')
    return SshKeyPair(KeyPairSpec(w['account'], **options))


def tls_key(w, **options):
    options.setdefault('key_type', 'ecdsa')
    return TlsKey(TlsKeySpec(w['account'], host='www.example.com', **options))


def csr(w, **options):
    return CertificateSigningRequest(CsrSpec(w['account'], 'www.example.com', **dict(SUBJECT, **options)))


def authkey(w, **options):
    return SshAuthKey(AuthKeySpec(w['account'], key=w['public'], **options))


def keypair(w, **options):
    options.setdefault('key_type', 'ed25519')
    return Keypair(KeypairSpec(name='kp', registry=w['registry'], **options))


def provision(w, **options):
    return Provision([{'name': w['account'].name, 'home': w['account'].home,
                       'ssh_keys': [{'name': 'id_prov', 'type': 'ed25519', 'comment': 'prov'}],
                       'authorized_keys': [{'key': w['public'], 'options': 'no-pty'}],
                       'ssl': [dict(SUBJECT, host='www.example.com', type='ecdsa')]}], **options)


def ssh_cert(w, **options):
    """A certificate of the test key, signed by itself as the CA (outside the tree), written below the tree."""
    (w['tree'] / 'certs').mkdir(exist_ok=True)
    item = dict(path=str(w['tree'] / 'certs' / 'id-cert.pub'), public_key=w['public'], key_id='id',
                principals=['alice'], valid_to='+1d')
    item.update(options)
    return SshCert(CaSpec(str(w['tree'].parent / 'material' / 'id')), [CertRequest(item)])


def ssh_krl(w, **options):
    options.setdefault('keys', [w['public']])
    return SshKrl(KrlSpec(str(w['tree'] / 'revoked_keys'), **options))


def user_creation(w, monkeypatch):
    return UserCreation(UserSpec(w['user'], home=str(w['tree'] / 'newhome'), groups=[w['user'] + 'g'],
                                 shell='/bin/sh'))


def audit(w, monkeypatch):
    home = w['tree'] / 'home'
    monkeypatch.setattr(access, 'list_accounts', lambda spec, warnings: [
        accounts.AccountEntry('auditee', os.geteuid(), os.getegid(), str(home), '/bin/sh', [])])
    settings = ('port 22\nstrictmodes no\npubkeyauthentication yes\nauthorizedkeysfile .ssh/authorized_keys\n'
                'authorizedkeyscommand none\n')
    return access.AuthorizedKeysInfo(access.AccessSpec(sshd_config='/nonexistent/sshd_config',
                                                       sshd_path='/usr/sbin/sshd', sshd_flavor='openssh'),
                                     lambda argv: (0, settings, ''))


def trust_etc(w):
    """A private sshd configuration below the tree (made once): sshd_config including conf.d/*.conf."""
    etc = w['tree'] / 'etc'
    if not etc.exists():
        (etc / 'conf.d').mkdir(parents=True)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(etc / 'host_key')], check=True)
        (etc / 'sshd_config').write_text('Include %s/conf.d/*.conf\nHostKey %s/host_key\n' % (etc, etc))
    return etc


def _run_command(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def sshd_trust(w, **options):
    etc = trust_etc(w)
    options.setdefault('trusted_user_ca_keys', [w['public']])
    return SshdTrust(TrustSpec(path=str(etc / 'conf.d' / 'trust.conf'), sshd_config=str(etc / 'sshd_config'),
                               trusted_user_ca_keys_file=str(etc / 'ca_keys.pub'), sshd_path='/usr/sbin/sshd',
                               reload='none', **options), _run_command)


def principals(w, **options):
    trust_etc(w)
    options.setdefault('path', str(w['tree'] / 'etc' / 'principals' / '%u'))
    return AuthorizedPrincipals(PrincipalsSpec(w['account'], **options))


def known_hosts(w, **options):
    trust_etc(w)
    options.setdefault('path', str(w['tree'] / 'etc' / 'known_hosts'))
    return KnownHostsCA(KnownHostsCASpec(w['public'], **options))


# (name, what to run first, the operation under test); each is run fresh and,
# where it can change something, again on the state the first run left.
CASES = [
    ('ssh_genkey generate', [], lambda w, mp: genkey(w)),
    ('ssh_genkey with ppk', [], lambda w, mp: genkey(w, ppk=True, comment='c')),
    ('ssh_genkey regenerate', [genkey], lambda w, mp: genkey(w, key_type='ecdsa')),
    ('ssh_genkey comment', [genkey], lambda w, mp: genkey(w, comment='new comment')),
    ('ssh_genkey import public', [], lambda w, mp: genkey(w, key_type=None, public_key=w['public'])),
    ('ssh_genkey absent', [genkey], lambda w, mp: genkey(w, state='absent')),
    ('ssh_authkey present', [], lambda w, mp: authkey(w)),
    ('ssh_authkey absent', [authkey], lambda w, mp: authkey(w, state='absent')),
    ('ssh_key_info', [genkey], lambda w, mp: SshKeyInfo(KeyInfoSpec(w['account']))),
    ('ssl_genkey generate', [], lambda w, mp: tls_key(w)),
    ('ssl_genkey regenerate', [tls_key], lambda w, mp: tls_key(w, key_type='ed25519')),
    ('ssl_genkey absent', [tls_key], lambda w, mp: tls_key(w, state='absent')),
    ('ssl_gencsr generate', [tls_key], lambda w, mp: csr(w)),
    ('ssl_gencsr regenerate', [tls_key, csr], lambda w, mp: csr(w, city='Dallas')),
    ('ssl_gencsr absent', [tls_key, csr], lambda w, mp: csr(w, state='absent')),
    ('ssl_csr_info', [tls_key, csr], lambda w, mp: SslInfo(InfoSpec(w['account']))),
    ('keypair generate', [], lambda w, mp: keypair(w)),
    ('keypair import', [], lambda w, mp: keypair(w, key_type=None, public_key=w['public'])),
    ('keypair comment', [keypair], lambda w, mp: keypair(w, comment='new comment')),
    ('keypair regenerate', [keypair], lambda w, mp: keypair(w, force=True)),
    ('keypair absent', [keypair], lambda w, mp: Keypair(KeypairSpec(
        name='kp', state='absent', registry=w['registry']))),
    ('keypair_info', [keypair], lambda w, mp: KeypairInfo(registry=w['registry'])),
    ('provision', [], lambda w, mp: provision(w)),
    ('provision atomic', [], lambda w, mp: provision(w, atomic=True)),
    ('provision user creation', [], user_creation),
    ('authorized_keys_info', [authkey], audit),
    ('access_report', [], lambda w, mp: AccessReport({}, str(w['tree'] / 'report'), generated_at='fixed')),
    ('ssh_cert sign', [], lambda w, mp: ssh_cert(w)),
    ('ssh_cert re-sign', [ssh_cert], lambda w, mp: ssh_cert(w, principals=['alice', 'bob'])),
    ('ssh_cert absent', [ssh_cert], lambda w, mp: ssh_cert(w, state='absent')),
    ('ssh_krl create', [], lambda w, mp: ssh_krl(w)),
    ('ssh_krl update', [ssh_krl], lambda w, mp: ssh_krl(w, keys=[], key_hashes=['SHA256:' + 'A' * 43])),
    ('sshd_trust present', [], lambda w, mp: sshd_trust(w, authorized_principals_file='/etc/p/%u')),
    ('sshd_trust changed', [sshd_trust], lambda w, mp: sshd_trust(w, settings={'MaxAuthTries': 3})),
    ('sshd_trust absent', [sshd_trust], lambda w, mp: sshd_trust(w, state='absent')),
    ('ssh_principals central', [], lambda w, mp: principals(w, principals=['dev', 'ops'])),
    ('ssh_principals exclusive', [principals], lambda w, mp: principals(w, principals=['ops'], exclusive=True)),
    ('ssh_principals in home', [], lambda w, mp: principals(w, principals=['dev'], path='.ssh/principals')),
    ('ssh_principals absent', [lambda w: principals(w, principals=['dev'])],
     lambda w, mp: principals(w, state='absent')),
    ('ssh_known_hosts_ca system', [], lambda w, mp: known_hosts(w, hosts=['*.example.com'])),
    ('ssh_known_hosts_ca hosts', [lambda w: known_hosts(w, hosts=['a'])], lambda w, mp: known_hosts(w, hosts=['b'])),
    ('ssh_known_hosts_ca user', [], lambda w, mp: known_hosts(w, hosts=['h'], path='~/.ssh/known_hosts',
                                                              account=w['account'])),
    ('ssh_known_hosts_ca absent', [lambda w: known_hosts(w, hosts=['a'])],
     lambda w, mp: known_hosts(w, state='absent')),
]


def snapshot(top):
    """Every entry below ``top``: type, mode, owner and content."""
    found = {}
    for directory, dirs, files in os.walk(str(top)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            data = None
            if name in files and not os.path.islink(path):
                with open(path, 'rb') as stream:
                    data = stream.read()
            found[os.path.relpath(path, str(top))] = (st.st_mode, st.st_uid, st.st_gid, st.st_ino, data)
    return found


def plan_view(plan):
    """Everything a plan holds and shows, deep-copied."""
    view = {
        'path': plan.path,
        'actions': [(a.kind, a.path, a.detail, a._run) for a in plan.actions],
        'before': copy.deepcopy(plan.before),
        'after': copy.deepcopy(plan.after),
        'warnings': plan.all_warnings(),
        'deprecations': list(plan.deprecations),
        'attr_changes': copy.deepcopy(plan.attr_changes),
        'diff': plan.diff(),
        'vars': sorted(vars(plan)),
    }
    provision = getattr(plan, 'provision', None)
    if provision is not None:
        view['items'] = [plan_view(item.plan) for run in provision.runs for item in run.items]
    return view


@pytest.mark.parametrize('name, setup, build', CASES, ids=[case[0] for case in CASES])
def test_plan_writes_nothing_and_stays_as_planned(world, monkeypatch, name, setup, build):
    for make in setup:
        run_op(make(world))
    for attempt in ('first', 'again'):
        operation = build(world, monkeypatch)
        assert isinstance(operation, Operation)
        with operation.session():
            before = snapshot(world['tree'])
            plan = operation.plan()
            assert snapshot(world['tree']) == before, '%s: plan() wrote' % name
            planned = plan_view(plan)
            applied = plan.changed
            outcome = operation.apply(plan) if applied else None
            assert outcome is None or isinstance(outcome, Outcome)
            assert plan_view(plan) == planned, '%s: apply changed the plan' % name
            operation.result(plan, applied)
            assert plan_view(plan) == planned, '%s: result changed the plan' % name
        if not applied:
            break


def test_every_operation_is_covered(world, monkeypatch):
    """Every class that declares itself an Operation has a case above."""
    from ansible_collections.keysmith.accounts.plugins import module_utils as package
    declared = set()
    for root in package.__path__:
        for directory, dummy, files in os.walk(root):
            for file_name in files:
                if file_name.endswith('.py'):
                    with open(os.path.join(directory, file_name)) as stream:
                        declared.update(line.split('class ')[1].split('(')[0] for line in stream
                                        if line.startswith('class ') and '(Operation)' in line)
    covered = set(type(build(world, monkeypatch)).__name__ for dummy, dummy_setup, build in CASES)
    assert len(declared) >= 11 and declared == covered


def _shown(view):
    """A plan's view without the actions' callables (each operation has its own)."""
    view = dict(view, actions=[action[:3] for action in view['actions']])
    if 'items' in view:
        view['items'] = [_shown(item) for item in view['items']]
    return view


@pytest.mark.parametrize('name, setup, build', CASES, ids=[case[0] for case in CASES])
def test_check_mode_is_the_runs_not_the_operations(world, monkeypatch, name, setup, build):
    """No operation is told the check mode when it is made, and its plan is
    the same whether the run will apply it or not (the session is told)."""
    for make in setup:
        run_op(make(world))
    # a random serial is drawn while planning: the same one for both plans
    monkeypatch.setattr(certs_operation, '_random_serial', lambda: 4242)
    views = []
    for applying in (False, True):
        operation = build(world, monkeypatch)
        assert 'check_mode' not in inspect.signature(type(operation).__init__).parameters, name
        with operation.session(applying):
            views.append(_shown(plan_view(operation.plan())))
    assert views[0] == views[1], name
