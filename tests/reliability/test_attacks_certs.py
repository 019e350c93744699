# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks of a hostile account owner on the certificate modules (issues 30 and 31's new code).

Root runs the real modules (subprocesses) for accounts ``ka6*`` whose owners
(simulated by the test, as root) plant links and hard links to root-only
files, FIFOs, sparse files and files of millions of one-letter lines where
``ssh_cert``, ``ssh_krl``, ``sshd_trust``, ``ssh_principals``,
``ssh_known_hosts_ca`` and the audit's certificate access read or write.
Each run is bounded (time, peak RSS by ``wait4``); a root-only secret never
shows in any output; root's files keep content, owner, mode and link count.

Before the fixes of this file's commit: ``ssh_known_hosts_ca`` on a 64 MiB
known_hosts of one-letter lines took 2.8 GiB and 60 s, ``ssh_principals``
and ``authorized_keys_info`` on such a principals file more than 3 GiB and
100 s (killed), ``ssh_cert`` read a root file its ACL denied the account (hard-linked
into its ~/.ssh) and quoted it, and ``sshd_trust`` installed ``RevokedKeys`` naming a KRL the
account could rewrite (lifting every revocation of the host).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import snapshot
from test_attacks import FIG, Racer, bounded, made_accounts, mkdir_as, root_owned_dir, run, write_as

SECRET = 'KA6ROOTONLYSECRET'
# the file an account fills with one-letter lines: the read limit's size
BIG = 64 * 1024 * 1024 - 2


@pytest.fixture
def accounts():
    yield from made_accounts('ka6')


@pytest.fixture
def rootdir():
    """A root-owned 0755 directory on the homes' file system (hard links reach it),
    with a root-only secret."""
    def secret(path):
        with open(os.path.join(path, 'secret'), 'w') as handle:
            handle.write('ssh-ed25519 %s\n' % SECRET)
        os.chmod(os.path.join(path, 'secret'), 0o600)
    yield from root_owned_dir('ka6-root-', secret)


@pytest.fixture(scope='module')
def ca():
    """A CA key pair, a user key pair and a certificate of the user key (files)."""
    directory = tempfile.mkdtemp(prefix='ka6-ca-')
    os.chmod(directory, 0o755)
    try:
        for name in ('ca', 'user'):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ka6-' + name, '-f',
                            os.path.join(directory, name)], check=True)
        subprocess.run(['ssh-keygen', '-q', '-s', os.path.join(directory, 'ca'), '-I', 'ka6', '-n', 'ka6',
                        os.path.join(directory, 'user.pub')], check=True, stderr=subprocess.DEVNULL)
        out = {'dir': directory, 'key': os.path.join(directory, 'ca')}
        for name, file_name in (('ca_pub', 'ca.pub'), ('user_pub', 'user.pub'), ('cert', 'user-cert.pub')):
            with open(os.path.join(directory, file_name)) as handle:
                out[name] = handle.read().strip()
        yield out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def ssh_dir(user):
    return mkdir_as(os.path.join(user.pw_dir, '.ssh'), user, 0o700)


def fill(path, user, size=BIG):
    """A file of ``size`` bytes of one-letter lines, the account's."""
    line = b'a\n' * (1024 * 1024)
    with open(path, 'wb') as handle:
        left = size
        while left > 0:
            handle.write(line[:min(left, len(line))])
            left -= len(line)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, 0o644)


def no_secret(result):
    text = json.dumps(result.result) + result.stdout + result.stderr
    assert SECRET not in text, result
    assert 'Traceback' not in text, result


def cert_args(ca, **item):
    base = {'key_id': 'ka6', 'principals': ['ka6']}
    base.update(item)
    return {'ca_key': ca['key'], 'certificates': [base]}


# --------------------------------------------------------------------------- ssh_cert

def test_cert_public_key_path_hard_linked_to_a_root_only_file(accounts, rootdir, ca):
    """ssh_cert reads the key to certify from ~/.ssh/id.pub: a hard link to a root-only file."""
    user = accounts.make()
    ssh = ssh_dir(user)
    os.link(os.path.join(rootdir, 'secret'), os.path.join(ssh, 'id.pub'))
    for check in (True, False):
        result = bounded(run('ssh_cert', cert_args(ca, public_key_path=os.path.join(ssh, 'id.pub'),
                                                   path=os.path.join(rootdir, 'id-cert.pub')), check=check))
        assert result.failed and 'cannot read it' in result.msg, result
        no_secret(result)
    assert not os.path.exists(os.path.join(rootdir, 'id-cert.pub'))


def test_cert_public_key_path_hard_linked_to_a_file_its_acl_denies(accounts, rootdir, ca):
    """A root file 0644 whose ACL denies the account (``setfacl -m u:ACCOUNT:---``),
    hard-linked into its ~/.ssh: the account cannot read it, so root must not read it
    for the account (before: read, and its first words quoted in the error)."""
    user = accounts.make()
    ssh = ssh_dir(user)
    denied = os.path.join(rootdir, 'denied')
    with open(denied, 'w') as handle:
        handle.write('ssh-ed25519 %s\n' % SECRET)
    os.chmod(denied, 0o644)
    subprocess.run(['setfacl', '-m', 'u:%s:---' % user.pw_name, denied], check=True)
    os.link(denied, os.path.join(ssh, 'id.pub'))
    result = bounded(run('ssh_cert', cert_args(ca, public_key_path=os.path.join(ssh, 'id.pub'),
                                               path=os.path.join(rootdir, 'id-cert.pub'))))
    assert result.failed and 'cannot read it' in result.msg, result
    no_secret(result)


@pytest.mark.parametrize('kind', ['fifo', 'sparse', 'symlink'])
def test_cert_public_key_path_fifo_sparse_or_link(accounts, rootdir, ca, kind):
    """A FIFO (would block a reader), a 2 GiB sparse file, a link to the secret."""
    user = accounts.make()
    ssh = ssh_dir(user)
    path = os.path.join(ssh, 'id.pub')
    if kind == 'fifo':
        os.mkfifo(path)
    elif kind == 'sparse':
        with open(path, 'wb') as handle:
            handle.truncate(2 * 1024 ** 3)
    else:
        os.symlink(os.path.join(rootdir, 'secret'), path)
    os.lchown(path, user.pw_uid, user.pw_gid)
    result = bounded(run('ssh_cert', cert_args(ca, public_key_path=path, path=os.path.join(rootdir, 'c-cert.pub')),
                         timeout=30))
    assert result.failed, result
    assert {'fifo': 'not a regular file', 'sparse': 'larger than', 'symlink': 'symbolic link'}[kind] in result.msg
    no_secret(result)


@pytest.mark.parametrize('trap', ['ssh_dir_link', 'cert_symlink', 'cert_hard_link'])
def test_cert_written_into_an_account_ssh_dir_trap(accounts, rootdir, ca, trap):
    """The certificate goes to ~/.ssh/id-cert.pub with owner: the account; ~/.ssh is a link
    to a root directory, the certificate a link or a hard link to a root file (a valid
    certificate, so an unchanged one would only have its owner and mode set)."""
    user = accounts.make()
    target = os.path.join(rootdir, 'target')
    os.mkdir(target, 0o755)
    root_cert = os.path.join(target, 'id-cert.pub')
    with open(root_cert, 'w') as handle:
        handle.write(ca['cert'] + '\n')
    os.chmod(root_cert, 0o600)
    ssh = os.path.join(user.pw_dir, '.ssh')
    if trap == 'ssh_dir_link':
        os.symlink(target, ssh)
        os.lchown(ssh, user.pw_uid, user.pw_gid)
    else:
        ssh_dir(user)
        if trap == 'cert_symlink':
            os.symlink(root_cert, os.path.join(ssh, 'id-cert.pub'))
        else:
            os.link(root_cert, os.path.join(ssh, 'id-cert.pub'))
    before = snapshot(rootdir)
    for check in (True, False):
        result = bounded(run('ssh_cert', cert_args(ca, public_key=ca['user_pub'], path=os.path.join(ssh, 'id-cert.pub'),
                                                   owner=user.pw_name, mode='0644'), check=check))
        assert result.failed, result
        assert ('symbolic link' in result.msg) or ('hard links' in result.msg), result
        no_secret(result)
    assert snapshot(rootdir) == before


def test_cert_raced_ssh_dir_swapped_with_a_link(accounts, rootdir, ca):
    """While ssh_cert writes ~/.ssh/id-cert.pub (owner: the account), the account swaps
    ~/.ssh with a link to a root directory in a tight loop (renameat2 RENAME_EXCHANGE):
    root's directory is never written or chowned; what is written is in the account's
    real directory, the account's."""
    user = accounts.make()
    target = os.path.join(rootdir, 'target')
    os.mkdir(target, 0o755)
    with open(os.path.join(target, 'id-cert.pub'), 'w') as handle:
        handle.write('root file\n')
    real = ssh_dir(user)
    alt = os.path.join(user.pw_dir, 'alt')
    os.symlink(target, alt)
    os.lchown(alt, user.pw_uid, user.pw_gid)
    before = snapshot(rootdir)
    outcomes = set()
    with Racer(real, alt) as racer:
        for index in range(8):
            result = bounded(run('ssh_cert', cert_args(ca, public_key=ca['user_pub'], key_id='ka6-%d' % index,
                                                       path=os.path.join(real, 'id-cert.pub'), owner=user.pw_name,
                                                       mode='0644')))
            no_secret(result)
            outcomes.add('failed' if result.failed else 'written')
            FIG['raced_runs'] += 1
    assert racer.swaps > 0
    assert snapshot(rootdir) == before
    for directory in (real, alt):
        if os.path.isdir(directory) and not os.path.islink(directory):
            for name in os.listdir(directory):
                st = os.lstat(os.path.join(directory, name))
                assert st.st_uid == user.pw_uid, (name, st)


# --------------------------------------------------------------------------- ssh_krl

def test_krl_ca_path_and_path_in_an_account_directory(accounts, rootdir, ca):
    """ssh_krl's ca_path is a hard link to a root-only file; its path an account's directory."""
    user = accounts.make()
    ssh = ssh_dir(user)
    os.link(os.path.join(rootdir, 'secret'), os.path.join(ssh, 'ca.pub'))
    result = bounded(run('ssh_krl', {'path': os.path.join(rootdir, 'krl'), 'certificates': [
        {'ca_path': os.path.join(ssh, 'ca.pub'), 'serials': ['1']}]}))
    assert result.failed and 'cannot read it' in result.msg, result
    no_secret(result)
    result = bounded(run('ssh_krl', {'path': os.path.join(ssh, 'revoked'), 'keys': [ca['user_pub']]}))
    assert result.failed and 'owned by uid %d' % user.pw_uid in result.msg, result
    assert not os.path.exists(os.path.join(rootdir, 'krl'))
    assert not os.path.exists(os.path.join(ssh, 'revoked'))


# --------------------------------------------------------------------------- sshd_trust

def sshd_config(rootdir, ca):
    host_key = os.path.join(rootdir, 'host_key')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', host_key], check=True)
    path = os.path.join(rootdir, 'sshd_config')
    with open(path, 'w') as handle:
        handle.write('HostKey %s\nUsePAM no\n' % host_key)
    return path


@pytest.mark.parametrize('where', ['account_file', 'account_dir', 'account_link'])
def test_trust_revoked_keys_an_account_can_rewrite(accounts, rootdir, ca, where):
    """RevokedKeys naming a KRL the account can change (its file; root's file in its
    directory; a link it planted in a sticky directory to root's KRL): the account could
    lift every revocation of the host. Refused before anything is written."""
    user = accounts.make()
    config = sshd_config(rootdir, ca)
    home_krl = os.path.join(user.pw_dir, 'revoked.krl')
    subprocess.run(['ssh-keygen', '-q', '-k', '-f', home_krl], check=True)
    root_krl = os.path.join(rootdir, 'revoked.krl')
    shutil.copy(home_krl, root_krl)
    link_dir = None
    if where == 'account_file':
        os.chown(home_krl, user.pw_uid, user.pw_gid)
        krl = home_krl
    elif where == 'account_dir':
        krl = home_krl                      # root's file, in the account's home
    else:
        link_dir = tempfile.mkdtemp(prefix='ka6-sticky-', dir='/home')
        os.chmod(link_dir, 0o1777)
        krl = os.path.join(link_dir, 'revoked.krl')
        os.symlink(root_krl, krl)
        os.lchown(krl, user.pw_uid, user.pw_gid)
    dropin = os.path.join(rootdir, 'sshd_config.d', 'ka6.conf')
    try:
        for check in (True, False):
            result = bounded(run('sshd_trust', {'path': dropin, 'trusted_user_ca_keys': [ca['ca_pub']],
                                                'trusted_user_ca_keys_file': os.path.join(rootdir, 'ca_keys.pub'),
                                                'revoked_keys': krl, 'sshd_config': config, 'reload': 'none'},
                                 check=check))
            assert result.failed, result
            assert ('symbolic link' if where == 'account_link' else 'lift every revocation') in result.msg, result
        assert not os.path.exists(dropin)
        # root's own KRL in root's directory is what it is for
        result = bounded(run('sshd_trust', {'path': dropin, 'trusted_user_ca_keys': [ca['ca_pub']],
                                            'trusted_user_ca_keys_file': os.path.join(rootdir, 'ca_keys.pub'),
                                            'revoked_keys': root_krl, 'sshd_config': config, 'reload': 'none'}))
        assert not result.failed, result
        with open(dropin) as handle:
            assert 'RevokedKeys %s' % root_krl in handle.read()
    finally:
        if link_dir:
            shutil.rmtree(link_dir, ignore_errors=True)


# --------------------------------------------------------------------------- ssh_principals, ssh_known_hosts_ca

def test_principals_in_home_of_millions_of_lines(accounts):
    """An in-home principals file of 64 MiB of one-letter lines: refused, bounded
    (before: over 3 GiB and 100 s)."""
    user = accounts.make()
    ssh = ssh_dir(user)
    path = os.path.join(ssh, 'authorized_principals')
    fill(path, user)
    before = snapshot(ssh)
    for check in (True, False):
        result = bounded(run('ssh_principals', {'user': user.pw_name, 'principals': ['ka6'],
                                                'path': '%h/.ssh/authorized_principals'}, check=check, timeout=30))
        assert result.failed and 'larger than' in result.msg, result
    assert snapshot(ssh) == before


@pytest.mark.parametrize('module', ['ssh_principals', 'ssh_known_hosts_ca'])
def test_in_home_trust_file_linked_to_a_root_only_file(accounts, rootdir, ca, module):
    """~/.ssh/authorized_principals and ~/.ssh/known_hosts: a link and a hard link to a
    root-only file; the file is neither shown (diff) nor rewritten nor chowned."""
    user = accounts.make()
    ssh = ssh_dir(user)
    name = 'authorized_principals' if module == 'ssh_principals' else 'known_hosts'
    args = ({'user': user.pw_name, 'principals': ['ka6'], 'path': '%h/.ssh/authorized_principals'}
            if module == 'ssh_principals' else
            {'user': user.pw_name, 'key': ca['ca_pub'], 'hosts': ['*.example.com']})
    for link in (os.symlink, os.link):
        path = os.path.join(ssh, name)
        if os.path.lexists(path):
            os.unlink(path)
        link(os.path.join(rootdir, 'secret'), path)
        before = snapshot(rootdir)
        for check in (True, False):
            result = bounded(run(module, args, check=check))
            assert result.failed, result
            assert 'symbolic link' in result.msg or 'hard links' in result.msg, result
            no_secret(result)
        assert snapshot(rootdir) == before


def test_known_hosts_of_millions_of_lines(accounts, ca):
    """~/.ssh/known_hosts of 64 MiB of one-letter lines: refused, bounded (before: 2.8 GiB, 60 s);
    a known_hosts at the new limit (2 MiB of such lines) is still edited within bounds."""
    user = accounts.make()
    ssh = ssh_dir(user)
    path = os.path.join(ssh, 'known_hosts')
    fill(path, user)
    args = {'user': user.pw_name, 'key': ca['ca_pub'], 'hosts': ['*.example.com']}
    for check in (True, False):
        result = bounded(run('ssh_known_hosts_ca', args, check=check, timeout=30))
        assert result.failed and 'larger than' in result.msg, result
    fill(path, user, 2 * 1024 * 1024 - 2)
    result = bounded(run('ssh_known_hosts_ca', args, timeout=30))
    assert not result.failed and result.result['changed'], result
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data.endswith(b'@cert-authority *.example.com ' + ca['ca_pub'].encode() + b'\n')


def test_audit_principals_file_of_millions_of_lines(accounts, rootdir, ca):
    """The audit reads an account's AuthorizedPrincipalsFile of 64 MiB of one-letter
    lines: bounded, the first 10,000 listed and the rest said (before: over 2.8 GiB,
    killed at 100 s)."""
    user = accounts.make()
    ssh = ssh_dir(user)
    fill(os.path.join(ssh, 'authorized_principals'), user)
    ca_file = os.path.join(rootdir, 'ca.pub')
    with open(ca_file, 'w') as handle:
        handle.write(ca['ca_pub'] + '\n')
    config = sshd_config(rootdir, ca)
    with open(config, 'a') as handle:
        handle.write('TrustedUserCAKeys %s\nAuthorizedPrincipalsFile .ssh/authorized_principals\n' % ca_file)
    result = bounded(run('authorized_keys_info', {'users': [user.pw_name], 'sshd_config': config}, timeout=60))
    assert not result.failed, result
    view = result.result['accounts'][0]['certificates']
    assert len(view['principals']) == 10000, len(view['principals'])
    assert 'holds more than 10000 principals' in view['reason'], view['reason']


def test_audit_principals_split_as_sshd_splits(accounts, rootdir, ca):
    """A principals line ``nobody\\rroot`` is one principal for sshd (it reads lines to a
    newline): the audit must not list ``root`` (splitlines() did)."""
    user = accounts.make()
    ssh = ssh_dir(user)
    write_as(os.path.join(ssh, 'authorized_principals'), b'nobody\rroot\nka6\x0bx\n', user, 0o644)
    ca_file = os.path.join(rootdir, 'ca.pub')
    with open(ca_file, 'w') as handle:
        handle.write(ca['ca_pub'] + '\n')
    config = sshd_config(rootdir, ca)
    with open(config, 'a') as handle:
        handle.write('TrustedUserCAKeys %s\nAuthorizedPrincipalsFile .ssh/authorized_principals\n' % ca_file)
    result = bounded(run('authorized_keys_info', {'users': [user.pw_name], 'sshd_config': config}))
    principals = result.result['accounts'][0]['certificates']['principals']
    assert 'root' not in principals and 'ka6' not in principals, principals
    assert len(principals) == 2, principals
