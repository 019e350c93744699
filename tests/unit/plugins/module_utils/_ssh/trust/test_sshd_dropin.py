# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd_trust against the real sshd -t/-T (no sshd is started): a drop-in sshd
rejects is never installed, check mode and --diff predict the real run, a
second run changes nothing and reloads nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust import candidate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.sshd_dropin import SshdTrust, TrustSpec
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

SSHD = '/usr/sbin/sshd'


def run_command(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def keygen(path, *extra):
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(path)] + list(extra), check=True)
    return path.with_name(path.name + '.pub').read_text().strip()


@pytest.fixture
def etc(tmp_path):
    """A private sshd configuration: main config including conf.d/*.conf, a host key, a CA."""
    root = tmp_path / 'etc'
    (root / 'conf.d').mkdir(parents=True)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(root), 0o755)
    keygen(root / 'host_key')
    (root / 'sshd_config').write_text('Include %s/conf.d/*.conf\nHostKey %s/host_key\nPort 24449\n'
                                      'ListenAddress 127.0.0.1\nPidFile %s/sshd.pid\n' % (root, root, root))
    (root / 'conf.d' / '10-other.conf').write_text('LoginGraceTime 30\n')
    ca = keygen(tmp_path / 'user_ca', '-C', 'user-ca')
    return {'root': root, 'ca': ca, 'tmp': tmp_path}


def trust(etc, **options):
    options.setdefault('path', str(etc['root'] / 'conf.d' / '50-trust.conf'))
    options.setdefault('sshd_config', str(etc['root'] / 'sshd_config'))
    if options.get('trusted_user_ca_keys'):
        options.setdefault('trusted_user_ca_keys_file', str(etc['root'] / 'user_ca_keys.pub'))
    options.setdefault('reload', 'none')
    options.setdefault('sshd_path', SSHD)
    return SshdTrust(TrustSpec(**options), run_command)


def sshd_t_values(etc):
    code, out, err = run_command([SSHD, '-T', '-f', str(etc['root'] / 'sshd_config')])
    assert code == 0, err
    return out


def test_check_mode_predicts_and_second_run_is_unchanged(etc):
    dropin = etc['root'] / 'conf.d' / '50-trust.conf'
    options = dict(trusted_user_ca_keys=[etc['ca']], authorized_principals_file='/etc/ssh/auth_principals/%u')
    plan, checked = run_op(trust(etc, **options), check_mode=True)
    assert checked['changed'] and not dropin.exists()
    assert not (etc['root'] / 'user_ca_keys.pub').exists()
    assert 'TrustedUserCAKeys %s' % (etc['root'] / 'user_ca_keys.pub') in checked['diff']['after']
    assert etc['ca'].split()[1] in checked['diff']['after']
    plan, done = run_op(trust(etc, **options))
    assert done['changed'] and done['actions'] == checked['actions']
    assert done['diff'] == checked['diff']
    st = os.stat(str(dropin))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o644)
    values = sshd_t_values(etc)
    assert 'trustedusercakeys %s' % (etc['root'] / 'user_ca_keys.pub') in values
    assert 'authorizedprincipalsfile /etc/ssh/auth_principals/%u' in values
    assert 'logingracetime 30' in values   # the other drop-in is still read
    assert etc['ca'].split()[1] in (etc['root'] / 'user_ca_keys.pub').read_text()
    plan, again = run_op(trust(etc, **options))
    assert not again['changed'] and again['actions'] == [] and not again['reloaded']


def test_a_drop_in_sshd_rejects_is_never_installed(etc):
    dropin = etc['root'] / 'conf.d' / '50-trust.conf'
    good = dict(trusted_user_ca_keys=[etc['ca']])
    run_op(trust(etc, **good))
    before = dropin.read_text()
    for check_mode in (True, False):
        with pytest.raises(InvalidInput) as caught:
            run_op(trust(etc, settings={'MaxAuthTries': 'lots'}, **good), check_mode=check_mode)
        assert 'sshd rejects' in caught.value.msg and 'MaxAuthTries' in caught.value.msg
        assert str(dropin) in caught.value.msg   # sshd's words name the real path, not the scratch copy
        assert dropin.read_text() == before
    with pytest.raises(InvalidInput):
        run_op(trust(etc, settings={'NoSuchKeyword': 'yes'}, **good))
    assert dropin.read_text() == before
    assert sorted(os.listdir(str(dropin.parent))) == ['10-other.conf', '50-trust.conf']


def test_revoked_keys_must_exist_and_a_revoked_ca_is_named(etc):
    krl = etc['root'] / 'revoked.krl'
    options = dict(trusted_user_ca_keys=[etc['ca']], revoked_keys=str(krl))
    with pytest.raises(NotFound) as caught:
        run_op(trust(etc, **options))
    assert 'refuse every key' in caught.value.msg
    plan, checked = run_op(trust(etc, **options), check_mode=True)
    assert checked['changed'] and any('check mode assumes' in text for text in checked['warnings'])
    subprocess.run(['ssh-keygen', '-q', '-k', '-f', str(krl), str(etc['tmp'] / 'user_ca.pub')], check=True)
    plan, done = run_op(trust(etc, **options))
    assert done['changed'] and any('is revoked by RevokedKeys' in text for text in done['warnings'])
    assert 'revokedkeys %s' % krl in sshd_t_values(etc)
    krl.write_bytes(b'SSHKRL\n\0garbage')
    with pytest.raises(InvalidInput):
        run_op(trust(etc, **options))


def test_host_certificate_must_be_one(etc):
    host_ca = keygen(etc['tmp'] / 'host_ca')
    assert host_ca
    user_cert = etc['tmp'] / 'host_key-cert.pub'
    subprocess.run(['ssh-keygen', '-q', '-s', str(etc['tmp'] / 'host_ca'), '-I', 'x', '-n', 'alice',
                    str(etc['root'] / 'host_key.pub')], check=True)
    os.rename(str(etc['root'] / 'host_key-cert.pub'), str(user_cert))
    with pytest.raises(InvalidInput) as caught:
        run_op(trust(etc, host_certificates=[str(user_cert)]))
    assert 'not a host certificate' in caught.value.msg
    subprocess.run(['ssh-keygen', '-q', '-s', str(etc['tmp'] / 'host_ca'), '-h', '-I', 'h', '-n', '127.0.0.1',
                    str(etc['root'] / 'host_key.pub')], check=True)
    cert = etc['root'] / 'host_key-cert.pub'
    plan, done = run_op(trust(etc, host_certificates=[str(cert)]))
    assert done['changed'] and 'hostcertificate %s' % cert in sshd_t_values(etc)


def _host_cert(etc, key, *options):
    """A host certificate of public key file ``key`` signed by a new host CA, under conf.d's parent."""
    if not (etc['tmp'] / 'host_ca').exists():
        keygen(etc['tmp'] / 'host_ca')
    subprocess.run(['ssh-keygen', '-q', '-s', str(etc['tmp'] / 'host_ca'), '-h', '-I', 'h', '-n', '127.0.0.1']
                   + list(options) + [str(key)], check=True)
    return key.with_name(key.name[:-len('.pub')] + '-cert.pub')


def test_host_certificate_of_another_key_is_refused(etc):
    """sshd ignores a HostCertificate that matches none of its HostKeys (only a
    log line): refused before anything is installed, naming the host keys."""
    keygen(etc['root'] / 'other_key')
    cert = _host_cert(etc, etc['root'] / 'other_key.pub')
    dropin = etc['root'] / 'conf.d' / '50-trust.conf'
    for check_mode in (True, False):
        with pytest.raises(InvalidInput) as caught:
            run_op(trust(etc, host_certificates=[str(cert)]), check_mode=check_mode)
        assert 'none of sshd\'s host keys (HostKey %s/host_key)' % etc['root'] in caught.value.msg
        assert not dropin.exists()
    # the key sshd -T of the candidate lists (a HostKey the drop-in's own settings add counts)
    plan, done = run_op(trust(etc, host_certificates=[str(cert)],
                              settings={'HostKey': str(etc['root'] / 'other_key')}))
    assert done['changed'] and dropin.exists()


def test_host_key_read_from_the_private_key_without_a_pub(etc):
    """The public half of the private key (OpenSSH or PEM), as sshd reads it: no .pub needed."""
    cert = _host_cert(etc, etc['root'] / 'host_key.pub')
    os.unlink(str(etc['root'] / 'host_key.pub'))
    plan, done = run_op(trust(etc, host_certificates=[str(cert)]))
    assert done['changed']
    subprocess.run(['ssh-keygen', '-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f',
                    str(etc['root'] / 'rsa_key')], check=True)
    rsa_cert = _host_cert(etc, etc['root'] / 'rsa_key.pub')
    os.unlink(str(etc['root'] / 'rsa_key.pub'))
    plan, done = run_op(trust(etc, host_certificates=[str(cert), str(rsa_cert)],
                              settings={'HostKey': str(etc['root'] / 'rsa_key')}))
    assert done['changed']


def test_expired_or_not_yet_valid_host_certificate_is_refused(etc):
    for validity, words in (('-2d:-1d', 'expired at'), ('+1d:+2d', 'not valid yet')):
        cert = _host_cert(etc, etc['root'] / 'host_key.pub', '-V', validity)
        with pytest.raises(InvalidInput) as caught:
            run_op(trust(etc, host_certificates=[str(cert)]), check_mode=True)
        assert words in caught.value.msg and str(cert) in caught.value.msg
    assert not (etc['root'] / 'conf.d' / '50-trust.conf').exists()


def test_value_hidden_by_the_main_config_and_not_included_warn(etc):
    main = etc['root'] / 'sshd_config'
    main.write_text('TrustedUserCAKeys /etc/ssh/other_ca.pub\n' + main.read_text())
    plan, done = run_op(trust(etc, trusted_user_ca_keys=[etc['ca']]), check_mode=True)
    assert any('a value set earlier' in text for text in done['warnings'])
    main.write_text('HostKey %s/host_key\n' % etc['root'])
    plan, done = run_op(trust(etc, trusted_user_ca_keys=[etc['ca']]), check_mode=True)
    assert done['included'] is False and any('does not include' in text for text in done['warnings'])


def test_absent_removes_and_reloads_through_the_command(etc):
    marker = etc['tmp'] / 'reloaded'
    options = dict(trusted_user_ca_keys=[etc['ca']], reload='command', reload_command=['touch', str(marker)])
    run_op(trust(etc, **options))
    assert marker.exists()
    marker.unlink()
    run_op(trust(etc, **options))
    assert not marker.exists()   # unchanged: no reload
    plan, done = run_op(trust(etc, state='absent', **options))
    assert done['changed'] and marker.exists() and not (etc['root'] / 'conf.d' / '50-trust.conf').exists()
    assert 'trustedusercakeys none' in sshd_t_values(etc)


def test_rewrite_includes_keeps_glob_order_and_dot_files():
    text, included = candidate.rewrite_includes('Port 1\ninclude /nonexistent.d/*.conf\n',
                                                '/nonexistent.d/50-x.conf', '/tmp/c')
    assert included and 'Include /tmp/c' in text
    text, included = candidate.rewrite_includes('Include /nonexistent.d/*.conf\n', '/nonexistent.d/.x.conf', '/c')
    assert not included
    text, included = candidate.rewrite_includes('Include conf.d/*.conf\n', '/etc/ssh/conf.d/a.conf', '/c')
    assert included


def test_a_drop_in_included_from_a_nested_include_is_checked_where_sshd_reads_it(etc):
    """sshd_config includes conf.d/*.conf; conf.d/20-nested.conf includes
    nested/*.conf, where the drop-in goes. sshd reads Include in place: a value
    conf.d/10-other.conf sets before it wins (warned), the drop-in is included
    (no "does not include" warning), and the candidate is what sshd -t reads."""
    root = etc['root']
    (root / 'nested').mkdir()
    (root / 'conf.d' / '10-other.conf').write_text('LoginGraceTime 30\nAuthorizedPrincipalsFile /early/%u\n')
    (root / 'conf.d' / '20-nested.conf').write_text('Include %s/nested/*.conf\n' % root)
    (root / 'nested' / '10-before.conf').write_text('MaxSessions 7\n')
    path = root / 'nested' / '50-trust.conf'
    options = dict(path=str(path), trusted_user_ca_keys=[etc['ca']], authorized_principals_file='/late/%u')
    plan, done = run_op(trust(etc, **options), check_mode=True)
    text = ' '.join(done['warnings'])
    assert 'does not include' not in text
    assert 'authorizedprincipalsfile /early/%u, not the drop-in\'s /late/%u' in text
    assert done['included'] is True
    # the candidate stands where the drop-in will: a keyword sshd rejects is named in its own file
    with pytest.raises(InvalidInput) as caught:
        run_op(trust(etc, settings={'MaxAuthTries': 'lots'}, **options), check_mode=True)
    assert str(path) in caught.value.msg and 'keysmith-' not in caught.value.msg
    plan, done = run_op(trust(etc, **options))
    assert 'trustedusercakeys %s' % (root / 'user_ca_keys.pub') in sshd_t_values(etc)


def test_bad_values_are_refused():
    with pytest.raises(InvalidInput):
        TrustSpec(path='/tmp/x.conf', authorized_principals_file='/a b"c')
    with pytest.raises(InvalidInput):
        TrustSpec(path='/tmp/x.txt')
    with pytest.raises(InvalidInput):
        TrustSpec(path='/tmp/x.conf', settings={'Include': '/etc/passwd'})
    with pytest.raises(InvalidInput):
        TrustSpec(path='/tmp/x.conf', trusted_user_ca_keys=['-----BEGIN OPENSSH PRIVATE KEY-----'])


def test_check_mode_assumes_a_missing_sshd_config_is_made_earlier(etc):
    main = etc['root'] / 'sshd_config'
    main.unlink()
    plan, checked = run_op(trust(etc, trusted_user_ca_keys=[etc['ca']]), check_mode=True)
    assert checked['changed'] and any('check mode assumes' in text for text in checked['warnings'])
    with pytest.raises(NotFound):
        run_op(trust(etc, trusted_user_ca_keys=[etc['ca']]))
    assert not (etc['root'] / 'conf.d' / '50-trust.conf').exists()
