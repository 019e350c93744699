# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the TLS tests: run an operation as run_operation does, and openssl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import stat
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils import operation_runner


@pytest.fixture
def account(tmp_path):
    return Account.resolve(None, str(tmp_path / 'home'))


def run_op(operation, check_mode=False):
    """Plan and (unless check mode) apply by run_operation; returns (plan, result)."""
    return operation_runner.run_op(operation, check_mode)


def snapshot(directory):
    """Every file below ``directory`` with its content and mode (None when missing)."""
    if not directory.exists():
        return None
    return dict((str(p.relative_to(directory)), (p.read_bytes() if p.is_file() else None,
                                                 stat.S_IMODE(p.stat().st_mode)))
                for p in sorted(directory.rglob('*')))


def openssl(*args):
    if not shutil.which('openssl'):
        pytest.skip('openssl is not installed')
    proc = subprocess.run(['openssl'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')


@pytest.fixture(name='run_op')
def run_op_fixture():
    return run_op


@pytest.fixture(name='snapshot')
def snapshot_fixture():
    return snapshot


@pytest.fixture(name='openssl')
def openssl_fixture():
    return openssl
