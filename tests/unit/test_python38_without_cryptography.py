# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules on the oldest target Python (3.8, or the oldest the installed
ansible-core supports: 3.9 from 2.20 on) without ``cryptography``: the
ssh-keygen backend end to end, as a host without the library runs it.

Each module runs as Ansible runs it on a target (``python3.8 module.py
args.json``), with ``-S`` so that no site-packages (and no cryptography) are
seen: only ansible's module_utils and this collection are on the path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import pwd
import shutil
import subprocess

import pytest

import ansible
from ansible_collections.keysmith.accounts.plugins import modules as modules_package


def oldest_target():
    """(3, 8), or the oldest target Python the installed ansible-core accepts when newer."""
    from ansible.module_utils import basic
    minimum = getattr(basic, '_PY_MIN', None)
    return max((3, 8), tuple(minimum)) if isinstance(minimum, tuple) else (3, 8)


def _python38():
    version = '%d.%d' % oldest_target()
    found = sorted(glob.glob('/root/.pyenv/versions/%s.*/bin/python%s' % (version, version)))
    override = os.environ.get('KEYSMITH_PYTHON38') if version == '3.8' else None
    for candidate in [override] + found + [shutil.which('python' + version)]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


PYTHON38 = _python38()
pytestmark = pytest.mark.skipif(PYTHON38 is None or not shutil.which('ssh-keygen'),
                                reason='needs python3.8 and ssh-keygen')


@pytest.fixture
def target(tmp_path):
    """A module path with ansible's module_utils and this collection only."""
    path = tmp_path / 'path'
    path.mkdir()
    os.symlink(os.path.dirname(ansible.__file__), str(path / 'ansible'))
    collections_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        list(modules_package.__path__)[0]))))
    os.symlink(collections_root, str(path / 'ansible_collections'))

    def run(module, check_mode=False, **args):
        args.update(_ansible_check_mode=check_mode, _ansible_diff=True)
        args_file = tmp_path / 'args.json'
        args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'PYTHONPATH': str(path), 'HOME': str(tmp_path)}
        proc = subprocess.run([PYTHON38, '-S', os.path.join(list(modules_package.__path__)[0], module + '.py'),
                               str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              cwd=str(tmp_path), check=False, timeout=120)
        assert proc.stdout, proc.stderr.decode()
        return json.loads(proc.stdout.decode())
    return run


def fingerprint(path):
    out = subprocess.run(['ssh-keygen', '-l', '-f', path], stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().split()[1]


def test_the_interpreter_has_no_cryptography():
    proc = subprocess.run([PYTHON38, '-S', '-c', 'import sys; print(sys.version_info[:2]); import cryptography'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert proc.stdout.decode().strip() == str(oldest_target()) and b'No module named' in proc.stderr


def test_ssh_modules_on_python38_use_ssh_keygen(target, tmp_path):
    home = str(tmp_path / 'home')
    created = target('ssh_genkey', home=home, name='id_ed25519', type='ed25519', comment='py38')
    assert created['changed'] and not created.get('failed'), created
    assert created['fingerprint'] == fingerprint(home + '/.ssh/id_ed25519.pub') == created['diff']['after'].split(
        'fingerprint: ')[1].split('\n')[0]
    assert not target('ssh_genkey', home=home, name='id_ed25519', type='ed25519', comment='py38')['changed']
    protected = target('ssh_genkey', home=home, name='id_rsa', type='rsa', bits=2048, passphrase='py38 secret',
                       private_key_format='pkcs8')
    assert protected['changed'] and protected['size'] == 2048, protected
    assert open(home + '/.ssh/id_rsa').read().startswith('-----BEGIN ENCRYPTED PRIVATE KEY-----')
    assert 'py38 secret' not in json.dumps(protected)
    again = target('ssh_genkey', home=home, name='id_rsa', type='rsa', bits=2048, passphrase='py38 secret',
                   private_key_format='pkcs8')
    assert not again['changed'] and again['fingerprint'] == protected['fingerprint']
    listed = target('ssh_key_info', home=home)
    assert sorted(k['name'] for k in listed['keys']) == ['id_ed25519', 'id_rsa'], listed
    authorized = target('ssh_authkey', home=home, key=created['public_key'], options='no-pty')
    assert authorized['changed'], authorized
    with open(home + '/.ssh/authorized_keys') as stream:
        assert stream.read() == 'no-pty ' + created['public_key'] + '\n'


def test_keypair_and_provision_on_python38(target, tmp_path):
    registry = str(tmp_path / 'registry')
    made = target('keypair', name='py38', type='ed25519', registry=registry, private_key_format='openssh')
    assert made['changed'] and made['private_key'].startswith('-----BEGIN OPENSSH PRIVATE KEY-----'), made
    shown = target('keypair_info', name='py38', registry=registry)
    assert shown['keypairs'][0]['fingerprint'] == made['keypair']['fingerprint']
    provisioned = target('provision', accounts=[{
        'name': pwd.getpwuid(os.geteuid()).pw_name,
        'home': str(tmp_path / 'phome'),
        'ssh_keys': [{'name': 'id_ed25519', 'type': 'ed25519'}],
        'authorized_keys': [{'key': made['keypair']['public_key']}]}])
    assert provisioned['changed'] and not provisioned.get('failed'), provisioned
    assert os.path.exists(str(tmp_path / 'phome' / '.ssh' / 'id_ed25519'))


def test_tls_modules_say_they_need_cryptography(target, tmp_path):
    result = target('ssl_genkey', home=str(tmp_path / 'home'), host='www.example.com')
    assert result['failed'] and 'cryptography' in result['msg'], result


def test_certificates_and_krl_on_python38(target, tmp_path):
    """ssh_cert picks ssh-keygen without cryptography; a re-run signs nothing; ssh_krl needs no library."""
    for name in ('ca', 'user'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(tmp_path / name)], check=True)
    options = dict(ca_key=str(tmp_path / 'ca'), public_key_path=str(tmp_path / 'user.pub'),
                   path=str(tmp_path / 'user-cert.pub'), key_id='py38', principals=['py38'], valid_to='+1d',
                   renew_before='1h')
    signed = target('ssh_cert', **options)
    assert signed['changed'] and not signed.get('failed') and signed['principals'] == ['py38'], signed
    subprocess.run(['ssh-keygen', '-L', '-f', str(tmp_path / 'user-cert.pub')], check=True, stdout=subprocess.PIPE)
    assert not target('ssh_cert', **options)['changed']
    revoked = [{'ca_path': str(tmp_path / 'ca.pub'), 'serials': [signed['serial']]}]
    krl = dict(path=str(tmp_path / 'krl'), certificates=revoked)
    made = target('ssh_krl', **krl)
    assert made['changed'] and not made.get('failed'), made
    assert not target('ssh_krl', **krl)['changed']
    query = subprocess.run(['ssh-keygen', '-Q', '-f', str(tmp_path / 'krl'), str(tmp_path / 'user-cert.pub')],
                           stdout=subprocess.PIPE, check=False)
    assert query.returncode == 1


def test_certificates_signed_by_an_ssh_agent_on_python38(target, tmp_path):
    """ca_agent: the module's own agent client signs without any library (the
    certificate is built in Python, the agent signs it); the argument spec
    wants one of ca_key and ca_public_key."""
    import signal
    import tempfile
    import time
    for name, key_type in (('ca', 'rsa'), ('user', 'ed25519')):
        subprocess.run(['ssh-keygen', '-q', '-t', key_type, '-N', '', '-f', str(tmp_path / name)], check=True)
    directory = tempfile.mkdtemp(prefix='kc3py38')
    sock = os.path.join(directory, 'agent.sock')
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for dummy in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        subprocess.run(['ssh-add', '-q', str(tmp_path / 'ca')], check=True, env=dict(os.environ, SSH_AUTH_SOCK=sock))
        os.unlink(str(tmp_path / 'ca'))
        options = dict(ca_agent=True, ca_agent_socket=sock, ca_public_key=str(tmp_path / 'ca.pub'),
                       public_key_path=str(tmp_path / 'user.pub'), path=str(tmp_path / 'user-cert.pub'),
                       key_id='py38-agent', principals=['py38'], valid_to='+1d')
        signed = target('ssh_cert', **options)
        assert signed['changed'] and not signed.get('failed'), signed
        assert signed['signature_algorithm'] == 'rsa-sha2-512'
        shown = subprocess.run(['ssh-keygen', '-L', '-f', str(tmp_path / 'user-cert.pub')], check=True,
                               stdout=subprocess.PIPE).stdout.decode()
        assert 'Key ID: "py38-agent"' in shown and '(using rsa-sha2-512)' in shown
        assert not target('ssh_cert', **options)['changed']
        options.pop('ca_public_key')
        missing = target('ssh_cert', **options)
        assert missing['failed'] and 'ca_key, ca_public_key' in missing['msg'], missing
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(10)
        shutil.rmtree(directory, ignore_errors=True)
