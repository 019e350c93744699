# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the reliability suite: run the real modules as subprocesses.

``run_module``: the module file run by the Python of this test run with an
``ANSIBLE_MODULE_ARGS`` file (what Ansible does on a managed node, minus the
transport), optionally under ``_faults.py`` (SIGKILL at a write point).
``run_playbook``: ``ansible-playbook`` with the collection on
``ANSIBLE_COLLECTIONS_PATH``, for ``-vvv`` / ``--diff`` output capture.
``make_user``: real accounts (``useradd -m``), removed afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAULTS = os.path.join(HERE, '_faults.py')
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)


def _collections_path():
    """A directory with ansible_collections/keysmith/accounts -> this checkout."""
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ['ansible_collections', 'keysmith'] and parts[-1] == 'accounts':
        return os.sep.join(parts[:-3])
    base = os.path.join(tempfile.gettempdir(), 'keysmith-reliability-%s'
                        % hashlib.sha256(ROOT.encode()).hexdigest()[:12])
    link = os.path.join(base, 'ansible_collections', 'keysmith', 'accounts')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(ROOT, link)
        except FileExistsError:
            pass
    return base


COLLECTIONS = _collections_path()


def module_path(name):
    return os.path.join(COLLECTIONS, 'ansible_collections', 'keysmith', 'accounts', 'plugins', 'modules',
                        name + '.py')


def module_env(extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = COLLECTIONS + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.pop('KEYSMITH_FAULT', None)
    env.update(extra or {})
    return env


class ModuleRun:
    def __init__(self, proc, args):
        self.rc = proc.returncode
        self.stdout = proc.stdout.decode('utf-8', 'replace')
        self.stderr = proc.stderr.decode('utf-8', 'replace')
        self.args = args
        self.result = None
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith('{'):
                try:
                    self.result = json.loads(line)
                except ValueError:
                    pass

    @property
    def killed(self):
        return self.rc == -9

    def __repr__(self):
        return 'ModuleRun(rc=%r, result=%r, stderr=%r)' % (self.rc, self.result, self.stderr[-2000:])


def _args_file(tmpdir, args, check=False, diff=False):
    payload = dict(args)
    payload['_ansible_check_mode'] = check
    payload['_ansible_diff'] = diff
    payload['_ansible_tmpdir'] = tmpdir
    payload['_ansible_remote_tmp'] = tmpdir
    payload['_ansible_keep_remote_files'] = False
    path = os.path.join(tmpdir, 'args-%s.json' % uuid.uuid4().hex)
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': payload}, handle)
    return path


# Directories start_module made for runs the test itself waits for (races):
# removed after the test (they hold the module's arguments, passphrases too).
_STARTED_TMPDIRS = []


@pytest.fixture(autouse=True)
def _remove_started_tmpdirs():
    yield
    while _STARTED_TMPDIRS:
        shutil.rmtree(_STARTED_TMPDIRS.pop(), ignore_errors=True)


def start_module(name, args, fault=None, check=False, diff=False, tmpdir=None):
    """Popen of one module run (stdout/stderr piped)."""
    if tmpdir is None:
        tmpdir = tempfile.mkdtemp(prefix='keysmith-rel-')
        _STARTED_TMPDIRS.append(tmpdir)
    argfile = _args_file(tmpdir, args, check, diff)
    env = module_env({'KEYSMITH_FAULT': fault} if fault else None)
    cmd = [PYTHON, FAULTS, module_path(name), argfile]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmpdir)


def run_module(name, args, fault=None, check=False, diff=False, timeout=120):
    tmpdir = tempfile.mkdtemp(prefix='keysmith-rel-')
    try:
        proc = start_module(name, args, fault, check, diff, tmpdir)
        out, err = proc.communicate(timeout=timeout)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    proc.stdout, proc.stderr = out, err
    return ModuleRun(proc, args)


class Completed:
    def __init__(self, rc, output):
        self.rc = rc
        self.output = output


def run_playbook(playbook_text, workdir, check=False, diff=True, verbosity=3, extra_env=None, timeout=600):
    """Run ``playbook_text`` on localhost; returns rc and stdout+stderr together."""
    path = os.path.join(str(workdir), 'play-%s.yml' % uuid.uuid4().hex[:8])
    with open(path, 'w') as handle:
        handle.write(playbook_text)
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', path]
    if verbosity:
        cmd.append('-' + 'v' * verbosity)
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    env = module_env({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_PYTHON_INTERPRETER': PYTHON,
        'ANSIBLE_LOCAL_TEMP': str(workdir) + '/ansible-local',
        'ANSIBLE_REMOTE_TMP': str(workdir) + '/ansible-remote',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    env.update(extra_env or {})
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout,
                          check=False)
    return Completed(proc.returncode, proc.stdout.decode('utf-8', 'replace'))


# --------------------------------------------------------------------------- accounts

def _need_root():
    if os.geteuid() != 0:
        pytest.skip('needs root (creates accounts with useradd)')


class Users:
    """Creates accounts ``ksrel<random>``; removes them (and their homes) at the end."""

    def __init__(self):
        self.names = []

    def make(self):
        name = 'ksr%s' % uuid.uuid4().hex[:8]
        subprocess.run(['useradd', '-m', '-s', '/bin/sh', name], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.names.append(name)
        return pwd.getpwnam(name)

    def cleanup(self):
        for name in self.names:
            try:
                home = pwd.getpwnam(name).pw_dir
            except KeyError:
                continue
            # Links pointing out of the home go first, so userdel -r never follows them.
            for dirpath, dirnames, filenames in os.walk(home, topdown=True, followlinks=False):
                for entry in dirnames + filenames:
                    path = os.path.join(dirpath, entry)
                    if os.path.islink(path):
                        os.unlink(path)
            subprocess.run(['userdel', '-r', name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@pytest.fixture
def users():
    _need_root()
    made = Users()
    try:
        yield made
    finally:
        made.cleanup()


def snapshot(*roots):
    """{path: (type, mode, uid, nlink, size, sha256, mtime_ns)} of everything below ``roots``
    (symlinks not followed)."""
    out = {}
    for root in roots:
        root = str(root)
        paths = [root]
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            paths.extend(os.path.join(dirpath, n) for n in dirnames + filenames)
        for path in paths:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, 'rb') as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            elif os.path.islink(path):
                digest = os.readlink(path)
            out[path] = (st.st_mode, st.st_uid, st.st_nlink, st.st_size, digest, st.st_mtime_ns)
    return out


# Account files useradd/userdel rewrite (and replace) whenever any process on
# the machine adds or removes a user: other tests, the benchmark. They are
# checked for what a module would write into them, not for being unchanged.
ACCOUNT_FILES = ('passwd', 'shadow', 'group')
# Names only this collection's modules create: keys, their temp files, backups.
MODULE_MADE_NAME = re.compile(r'(\.pub$|\.tmp$|~$|^authorized_keys|^id_|\.ppk$|\.csr$|\.key$)')


def etc_snapshot():
    """What a write through a hostile link into /etc would change (read only)."""
    out = {}
    for name in ACCOUNT_FILES:
        path = os.path.join('/etc', name)
        with open(path, 'rb') as handle:
            data = handle.read()
        out[path] = ('key material' if (b'ssh-' in data or b'PRIVATE KEY' in data or b'BEGIN ' in data)
                     else 'no key material')
    for name in ('hosts', 'ssh'):
        path = os.path.join('/etc', name)
        if os.path.isdir(path):
            out.update(snapshot(path))
        elif os.path.exists(path):
            st = os.stat(path)
            with open(path, 'rb') as handle:
                out[path] = (st.st_mode, st.st_uid, st.st_size, hashlib.sha256(handle.read()).hexdigest(),
                             st.st_mtime_ns)
    out['/etc (module-made names)'] = tuple(sorted(n for n in os.listdir('/etc') if MODULE_MADE_NAME.search(n)))
    return out
