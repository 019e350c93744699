# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SELinux default contexts of what the collection creates (this host has no
SELinux: a fake ``selinux`` binding records which file, open by descriptor,
gets which context, and when)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes.util
import errno
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _selinux
from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import Tree
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

SSH_HOME = 'unconfined_u:object_r:ssh_home_t:s0'
USER_HOME = 'unconfined_u:object_r:user_home_t:s0'
CUSTOM = 'system_u:object_r:custom_keys_t:s0'


class FakeSelinux:
    """The calls of the Python binding (python3-libselinux) that the code
    uses; contexts are kept per inode, as the file system keeps them."""

    def __init__(self, enabled=1, set_error=None):
        self.enabled = enabled
        self.set_error = set_error
        self.asked = []     # (path, file type) given to matchpathcon
        self.set = []       # (what the descriptor was at the call, file type, context)
        self.labels = {}    # (dev, ino) -> context

    def is_selinux_enabled(self):
        return self.enabled

    def matchpathcon(self, path, mode):
        self.asked.append((path, stat.S_IFMT(mode)))
        return [0, SSH_HOME if '/.ssh' in path else USER_HOME]

    def fgetfilecon_raw(self, fd):
        st = os.fstat(fd)
        return [0, self.labels.get((st.st_dev, st.st_ino), USER_HOME)]

    def fsetfilecon(self, fd, context):
        if self.set_error is not None:
            raise OSError(self.set_error, os.strerror(self.set_error))
        st = os.fstat(fd)
        # the name the open file has at the time of the call (a temporary file before its rename)
        self.set.append((os.readlink('/proc/self/fd/%d' % fd), stat.S_IFMT(st.st_mode), context))
        self.labels[(st.st_dev, st.st_ino)] = context
        return 0

    def label_of(self, path):
        st = os.lstat(path)
        return self.labels.get((st.st_dev, st.st_ino))


@pytest.fixture
def fake(monkeypatch):
    binding = FakeSelinux()
    monkeypatch.setitem(sys.modules, 'selinux', binding)
    monkeypatch.setattr(_selinux, '_LOADED', [])
    return binding


def public_key(tmp_path):
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'k', '-f', str(tmp_path / 'k')], check=True)
    return (tmp_path / 'k.pub').read_text().strip()


def test_a_new_ssh_dir_and_key_files_get_the_default_context_before_they_are_in_place(fake, tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    run_op(SshKeyPair(KeyPairSpec(Account.resolve(None, str(home)), name='id_ed25519', key_type='ed25519',
                                  passphrase='a passphrase')))
    ssh = str(home / '.ssh')
    private, public = os.path.join(ssh, 'id_ed25519'), os.path.join(ssh, 'id_ed25519.pub')
    assert (ssh, stat.S_IFDIR) in fake.asked
    assert (private, stat.S_IFREG) in fake.asked and (public, stat.S_IFREG) in fake.asked
    # the directory by its descriptor; each file while it is still the temporary file, then renamed
    assert fake.set[0] == (ssh, stat.S_IFDIR, SSH_HOME)
    files = fake.set[1:]
    assert len(files) == 2 and all(kind == stat.S_IFREG and context == SSH_HOME for dummy, kind, context in files)
    assert all(os.path.dirname(name) == ssh and os.path.basename(name).startswith('.id_ed25519')
               and name.endswith('.tmp') for name, dummy, dummy_context in files)
    assert [fake.label_of(path) for path in (ssh, private, public)] == [SSH_HOME] * 3
    assert fake.label_of(str(home)) is None   # the existing home is not relabelled


def test_a_replaced_file_keeps_its_context_a_new_one_gets_the_default(fake, tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    account = Account.resolve(None, str(home))
    key = public_key(tmp_path)
    run_op(SshAuthKey(AuthKeySpec(account, key=key)))
    path = str(home / '.ssh' / 'authorized_keys')
    assert fake.label_of(path) == SSH_HOME
    # an admin's own context (semanage fcontext) on the file: the rewrite keeps it, as atomic_move does
    st = os.lstat(path)
    fake.labels[(st.st_dev, st.st_ino)] = CUSTOM
    asked = len(fake.asked)
    run_op(SshAuthKey(AuthKeySpec(account, key=key, options='no-pty')))
    assert os.lstat(path).st_ino != st.st_ino and fake.label_of(path) == CUSTOM
    assert (path, stat.S_IFREG) not in fake.asked[asked:]


def test_directories_made_on_the_way_to_a_base_get_their_default_context(fake, tmp_path):
    tree = Tree(str(tmp_path / 'srv' / 'registry'), create_base=True)
    tree.write([], 'entry.json', b'{}', 0o600)
    assert fake.label_of(str(tmp_path / 'srv')) == USER_HOME
    assert fake.label_of(str(tmp_path / 'srv' / 'registry')) == USER_HOME
    assert fake.label_of(str(tmp_path / 'srv' / 'registry' / 'entry.json')) == USER_HOME
    assert fake.label_of(str(tmp_path)) is None


def test_nothing_happens_when_selinux_is_disabled(fake, tmp_path):
    fake.enabled = 0
    home = tmp_path / 'home'
    home.mkdir()
    run_op(SshAuthKey(AuthKeySpec(Account.resolve(None, str(home)), key=public_key(tmp_path))))
    assert (home / '.ssh' / 'authorized_keys').exists()
    assert fake.asked == [] and fake.set == []


def test_nothing_happens_without_a_binding(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'selinux', None)   # import selinux raises ImportError

    def no_library():
        raise ImportError('libselinux.so.1 is not installed')
    monkeypatch.setattr(_selinux, '_LibSelinux', no_library)
    monkeypatch.setattr(_selinux, '_LOADED', [])
    Tree(str(tmp_path / 'made'), create_base=True).write([], 'f', b'x', 0o600)
    assert _selinux.binding() is None and (tmp_path / 'made' / 'f').read_bytes() == b'x'


def test_a_file_system_without_labels_is_left_alone_other_errors_fail(fake, tmp_path):
    fake.set_error = errno.EOPNOTSUPP
    Tree(str(tmp_path / 'nfs'), create_base=True).write([], 'f', b'x', 0o600)
    assert (tmp_path / 'nfs' / 'f').read_bytes() == b'x'
    fake.set_error = errno.EACCES
    (tmp_path / 'denied').mkdir()
    with pytest.raises(KeysmithError, match='cannot set the SELinux context .* of .*/denied/f'):
        Tree(str(tmp_path / 'denied'), create_base=True).write([], 'f', b'x', 0o600)
    assert not (tmp_path / 'denied' / 'f').exists() and os.listdir(str(tmp_path / 'denied')) == []


def test_libselinux_by_ctypes_where_the_python_binding_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, 'selinux', None)
    monkeypatch.setattr(_selinux, '_LOADED', [])
    found = _selinux.binding()
    if ctypes.util.find_library('selinux') is None:
        assert found is None
        return
    # this host: libselinux installed, SELinux off
    assert isinstance(found, _selinux._LibSelinux) and found.is_selinux_enabled() == 0
    assert _selinux.enabled() is None and _selinux.default_context('/root/.ssh', stat.S_IFDIR) is None
    # the calls themselves, with the binding's conventions: no label here is an OSError, not a crash
    fd = os.open('/', os.O_RDONLY)
    try:
        with pytest.raises(OSError):
            found.fgetfilecon_raw(fd)
    finally:
        os.close(fd)
