# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_cert with the CA key in an ssh-agent (``ca_agent``): a real ssh-agent
started here (ssh-add the CA key), many certificates over one connection,
each read back by ``ssh-keygen -L``; both backends; idempotence and check
mode; a key not in the agent, an agent that refuses (confirm-constrained
key), an unreachable agent and unsafe sockets fail clearly and write nothing;
stand-in agents that answer wrongly are caught before anything is written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidInput,
    KeysmithError,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import connect_trusted_socket
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs import agent as agent_mod
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.certificate import Certificate
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.operation import SshCert
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.certs.spec import CaSpec, CertRequest, merged_items
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.wire import ssh_string
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules as rules
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

NOW = 1800000000
BACKENDS = ('cryptography', 'ssh-keygen')
NOBODY = 65534


def keygen(path, key_type='ed25519', comment=''):
    args = ['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', comment, '-f', str(path)]
    if key_type == 'rsa':
        args[4:4] = ['-b', '2048']
    subprocess.run(args, check=True)
    with open(str(path) + '.pub') as handle:
        return handle.read().strip()


class Agent:
    """A real ``ssh-agent -D`` on a socket in a short private directory."""

    def __init__(self, directory, env=None, preexec=None):
        self.dir = directory
        self.sock = os.path.join(directory, 'agent.sock')
        environ = dict(os.environ, **(env or {}))
        environ.pop('SSH_AUTH_SOCK', None)
        self.proc = subprocess.Popen(['ssh-agent', '-D', '-a', self.sock], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=environ, preexec_fn=preexec)
        for dummy in range(100):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)
        assert os.path.exists(self.sock), 'ssh-agent did not start'

    def add(self, key_path, *flags):
        subprocess.run(['ssh-add', '-q'] + list(flags) + [str(key_path)], check=True, capture_output=True,
                       env=dict(os.environ, SSH_AUTH_SOCK=self.sock))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


@pytest.fixture(scope='module')
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp('agentkeys')
    for ca_type in ('ed25519', 'rsa', 'ecdsa'):
        keygen(directory / ('ca_' + ca_type), ca_type)
    keygen(directory / 'other_ca', 'ed25519')
    users = [keygen(directory / ('user%d' % index), 'ed25519' if index % 2 else 'rsa', 'user%d@example.com' % index)
             for index in range(12)]
    return directory, users


@pytest.fixture
def agent_dir():
    directory = tempfile.mkdtemp(prefix='kc3ag')
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def agent(keys, agent_dir):
    running = Agent(agent_dir)
    for ca_type in ('ed25519', 'rsa', 'ecdsa'):
        running.add(keys[0] / ('ca_' + ca_type))
    yield running
    running.stop()


@pytest.fixture
def out(tmp_path):
    (tmp_path / 'out').mkdir()
    return tmp_path / 'out'


def params_for(keys, out, count=1, **options):
    directory, users = keys
    items = [dict(public_key=users[index], path=str(out / ('u%d-cert.pub' % index)), key_id='user%d' % index,
                  principals=['user%d' % index]) for index in range(count)]
    params = dict(state=None, type=None, public_key=None, public_key_path=None, path=None, owner=None, group=None,
                  mode=None, principals=None, key_id=None, valid_from='always', valid_to='forever', renew_before=None,
                  serial=None, critical_options=None, extensions=None, certificates=items)
    params.update(options)
    return params


def sign(keys, out, socket_path, ca='ed25519', backend='cryptography', count=1, check=False, now=NOW,
         public_key=None, **options):
    if public_key is None:
        public_key = str(keys[0] / ('ca_%s.pub' % ca))
    ca_spec = CaSpec(None, None, None, backend, public_key=public_key, agent=True, agent_socket=socket_path)
    items = merged_items(params_for(keys, out, count, **options))
    requests = [CertRequest(item, index) for index, item in enumerate(items)]
    return run_op(SshCert(ca_spec, requests, now=now), check_mode=check)


def keygen_list(path):
    return subprocess.run(['ssh-keygen', '-L', '-f', str(path)], capture_output=True, text=True, check=True).stdout


# ------------------------------------------------------------- real agent

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('ca', ('ed25519', 'rsa', 'ecdsa'))
def test_many_certificates_signed_by_the_agent(keys, out, agent, backend, ca):
    """12 certificates through one agent connection: each read by ssh-keygen -L
    (signed by the CA, an RSA CA with rsa-sha2-512) and by the sshd port; a
    re-run signs nothing."""
    count = 12 if backend == 'cryptography' else 3
    dummy, result = sign(keys, out, agent.sock, ca, backend, count=count, valid_to='+52w')
    assert result['changed'] and len(result['certificates']) == count
    ca_fp = subprocess.run(['ssh-keygen', '-l', '-f', str(keys[0] / ('ca_%s.pub' % ca))], capture_output=True,
                           text=True, check=True).stdout.split()[1]
    for index in range(count):
        path = out / ('u%d-cert.pub' % index)
        shown = keygen_list(path)
        assert 'Key ID: "user%d"' % index in shown
        assert 'Signing CA: ' in shown and ca_fp in shown
        if ca == 'rsa':
            assert '(using rsa-sha2-512)' in shown
        cert = Certificate.from_line(path.read_text().strip())
        rules.key_from_blob(cert.blob())
    assert result['ca_fingerprint'] == ca_fp
    dummy, again = sign(keys, out, agent.sock, ca, backend, count=count, valid_to='+52w', now=NOW + 60)
    assert not again['changed'] and again['actions'] == []


def test_rsa_sha2_256_asked_is_what_the_agent_signs(keys, out, agent):
    ca_spec = CaSpec(None, None, 'rsa-sha2-256', 'auto', public_key=str(keys[0] / 'ca_rsa.pub'), agent=True,
                     agent_socket=agent.sock)
    requests = [CertRequest(item, 0) for item in merged_items(params_for(keys, out))]
    dummy, result = run_op(SshCert(ca_spec, requests, now=NOW))
    assert result['certificates'][0]['signature_algorithm'] == 'rsa-sha2-256'
    assert '(using rsa-sha2-256)' in keygen_list(out / 'u0-cert.pub')


def test_public_key_as_text_and_socket_from_environment(keys, out, agent, monkeypatch):
    monkeypatch.setenv('SSH_AUTH_SOCK', agent.sock)
    text = (keys[0] / 'ca_ed25519.pub').read_text()
    dummy, result = sign(keys, out, None, public_key=text)
    assert result['changed']
    assert 'Key ID: "user0"' in keygen_list(out / 'u0-cert.pub')


def test_check_mode_writes_nothing_and_predicts(keys, out, agent):
    dummy, check = sign(keys, out, agent.sock, count=3, check=True)
    assert check['changed'] and os.listdir(str(out)) == []
    assert [item['action'] for item in check['certificates']] == ['sign'] * 3
    dummy, real = sign(keys, out, agent.sock, count=3)
    assert [item['action'] for item in real['certificates']] == ['sign'] * 3
    dummy, check = sign(keys, out, agent.sock, count=3, check=True)
    assert not check['changed']


def test_a_certificate_of_the_file_ca_is_kept_when_the_agent_holds_that_key(keys, out, agent):
    """Same CA key in a file or in the agent: the certificate on disk is the same CA's, nothing is signed again."""
    ca_spec = CaSpec(str(keys[0] / 'ca_ed25519'), None, None, 'cryptography')
    requests = [CertRequest(item, 0) for item in merged_items(params_for(keys, out))]
    run_op(SshCert(ca_spec, requests, now=NOW))
    dummy, result = sign(keys, out, agent.sock)
    assert not result['changed']


@pytest.mark.parametrize('backend', BACKENDS)
def test_key_not_in_agent_fails_clearly_and_writes_nothing(keys, out, agent, backend):
    with pytest.raises(NotFound, match='is not in the ssh-agent at .*, which holds 3 keys'):
        sign(keys, out, agent.sock, public_key=str(keys[0] / 'other_ca.pub'), backend=backend, count=2)
    with pytest.raises(NotFound, match='is not in the ssh-agent'):
        sign(keys, out, agent.sock, public_key=str(keys[0] / 'other_ca.pub'), check=True)
    assert os.listdir(str(out)) == []


def test_agent_not_reachable(keys, out, agent_dir):
    with pytest.raises(BackendUnavailable, match='not reachable: there is no socket'):
        sign(keys, out, os.path.join(agent_dir, 'none.sock'))
    # a stale socket nobody listens on
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.path.join(agent_dir, 'stale.sock'))
    stale.close()
    with pytest.raises(BackendUnavailable, match='not reachable: nothing listens'):
        sign(keys, out, os.path.join(agent_dir, 'stale.sock'))
    assert os.listdir(str(out)) == []


def test_no_socket_given_nor_in_environment(keys, monkeypatch):
    monkeypatch.delenv('SSH_AUTH_SOCK', raising=False)
    with pytest.raises(InvalidInput, match='SSH_AUTH_SOCK is not set'):
        CaSpec(None, public_key=str(keys[0] / 'ca_ed25519.pub'), agent=True)
    with pytest.raises(InvalidInput, match='absolute'):
        CaSpec(None, public_key=str(keys[0] / 'ca_ed25519.pub'), agent=True, agent_socket='agent.sock')


def test_ca_options_that_do_not_go_together(keys):
    pub = str(keys[0] / 'ca_ed25519.pub')
    with pytest.raises(InvalidInput, match='not ca_key'):
        CaSpec(str(keys[0] / 'ca_ed25519'), public_key=pub, agent=True, agent_socket='/run/a')
    with pytest.raises(InvalidInput, match='ca_key_passphrase'):
        CaSpec(None, 'secret', public_key=pub, agent=True, agent_socket='/run/a')
    with pytest.raises(InvalidInput, match='needs ca_public_key'):
        CaSpec(None, agent=True, agent_socket='/run/a')
    with pytest.raises(InvalidInput, match='set ca_agent: true'):
        CaSpec(None, public_key=pub)
    with pytest.raises(InvalidInput, match='with ca_agent: true only'):
        CaSpec(str(keys[0] / 'ca_ed25519'), agent_socket='/run/a')


@pytest.mark.parametrize('backend', BACKENDS)
def test_agent_refusing_to_sign_writes_nothing(keys, out, agent_dir, backend):
    """A key added with ssh-add -c: the agent asks for a confirmation nobody
    gives (its askpass fails) and refuses; the error says so, nothing is written."""
    refusing = Agent(agent_dir, env={'SSH_ASKPASS': '/bin/false', 'SSH_ASKPASS_REQUIRE': 'force',
                                     'DISPLAY': ':kc3'})
    try:
        refusing.add(keys[0] / 'ca_ed25519', '-c')
        with pytest.raises(KeysmithError, match='refused to sign|ssh-keygen failed'):
            sign(keys, out, refusing.sock, backend=backend, count=2)
    finally:
        refusing.stop()
    assert os.listdir(str(out)) == []


# ------------------------------------------------------------- socket trust

def test_socket_in_a_directory_others_can_write_is_refused(keys, out, agent):
    os.chmod(agent.dir, 0o777)
    try:
        with pytest.raises(UnsafePath, match='writable by other users'):
            sign(keys, out, agent.sock)
    finally:
        os.chmod(agent.dir, 0o700)
    # sticky (as /tmp): others cannot replace the socket
    os.chmod(agent.dir, 0o1777)
    try:
        assert sign(keys, out, agent.sock)[1]['changed']
    finally:
        os.chmod(agent.dir, 0o700)


def test_socket_owned_by_another_account_is_refused(keys, out, agent):
    os.chown(agent.sock, NOBODY, -1)
    with pytest.raises(UnsafePath, match='owned by uid %d' % NOBODY):
        sign(keys, out, agent.sock)
    assert os.listdir(str(out)) == []


def test_a_link_to_the_socket_is_refused(keys, out, agent):
    link = os.path.join(agent.dir, 'link.sock')
    os.symlink(agent.sock, link)
    with pytest.raises(UnsafePath, match='symbolic link'):
        sign(keys, out, link)
    with pytest.raises(UnsafePath, match='not a socket'):
        sign(keys, out, str(keys[0] / 'ca_ed25519.pub'))


def test_an_agent_run_by_another_account_is_refused(keys, out, agent_dir):
    """The socket looks right (root's, in root's 0700 directory), but the
    process listening is nobody's: SO_PEERCRED tells."""
    os.chmod(agent_dir, 0o733)

    def as_nobody():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    foreign = Agent(agent_dir, preexec=as_nobody)
    try:
        os.chmod(agent_dir, 0o700)
        os.chown(foreign.sock, 0, 0)
        with pytest.raises(UnsafePath, match='runs as uid %d' % NOBODY):
            sign(keys, out, foreign.sock)
    finally:
        foreign.stop()
    assert os.listdir(str(out)) == []


def test_a_long_socket_path_is_reached_through_the_directory(agent_dir):
    """A path longer than sun_path (108 bytes) is connected through /proc/self/fd."""
    deep = os.path.join(agent_dir, *(['d' * 50] * 3))
    os.makedirs(deep, 0o700)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = os.getcwd()
    os.chdir(deep)
    try:
        server.bind('s.sock')
    finally:
        os.chdir(cwd)
    server.listen(1)
    try:
        path = os.path.join(deep, 's.sock')
        assert len(path) > 108
        client = connect_trusted_socket(path, 5)
        client.close()
    finally:
        server.close()


# ------------------------------------------------------------- stand-in agents

class FakeAgent(threading.Thread):
    """An agent that holds ``blob`` and answers a signing request with ``answer(data)``."""

    def __init__(self, path, blob, answer):
        super(FakeAgent, self).__init__()
        self.daemon = True
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.blob = blob
        self.answer = answer

    def run(self):
        try:
            self._serve()
        except OSError:
            return      # the client (the module) closed the connection, as it does after a refusal

    def _serve(self):
        conn, dummy = self.server.accept()
        with conn:
            while True:
                head = conn.recv(4)
                if len(head) < 4:
                    return
                message = b''
                length = struct.unpack('>I', head)[0]
                while len(message) < length:
                    message += conn.recv(length - len(message))
                if message[0] == agent_mod.SSH_AGENTC_REQUEST_IDENTITIES:
                    body = (bytes([agent_mod.SSH_AGENT_IDENTITIES_ANSWER]) + struct.pack('>I', 1)
                            + ssh_string(self.blob) + ssh_string(b'ca'))
                    conn.sendall(struct.pack('>I', len(body)) + body)
                    continue
                blob_len = struct.unpack('>I', message[1:5])[0]
                data_len = struct.unpack('>I', message[5 + blob_len:9 + blob_len])[0]
                reply = self.answer(message[9 + blob_len:9 + blob_len + data_len])
                conn.sendall(reply)


def _pub_blob(path):
    import base64
    return base64.b64decode(path.read_text().split()[1])


def _sign_reply(signature):
    body = bytes([agent_mod.SSH_AGENT_SIGN_RESPONSE]) + ssh_string(signature)
    return struct.pack('>I', len(body)) + body


@pytest.mark.parametrize('answer, message', [
    (lambda data: _sign_reply(ssh_string(b'ssh-rsa') + ssh_string(b'\1' * 256)), 'signed with ssh-rsa, not rsa-sha2-512'),
    (lambda data: _sign_reply(ssh_string(b'rsa-sha2-512') + ssh_string(b'\1' * 256)), 'sshd would not accept'),
    (lambda data: _sign_reply(b'\0\0\0'), 'cannot be read'),
    (lambda data: struct.pack('>I', 10 ** 6) + b'\x0e', 'reply of 1000000 bytes'),
    (lambda data: struct.pack('>I', 1) + b'\x05', 'refused to sign'),
])
def test_wrong_answers_of_an_agent_write_nothing(keys, out, agent_dir, answer, message):
    path = os.path.join(agent_dir, 'fake.sock')
    fake = FakeAgent(path, _pub_blob(keys[0] / 'ca_rsa.pub'), answer)
    fake.start()
    try:
        with pytest.raises(KeysmithError, match=message):
            sign(keys, out, path, ca='rsa')
    finally:
        fake.server.close()
    assert os.listdir(str(out)) == []
