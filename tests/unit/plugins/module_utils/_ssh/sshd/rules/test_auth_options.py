# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's reading of a line's options (``sshauthopt_parse``; tests/parity checks it against sshd itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules


@pytest.mark.parametrize('text', [
    'pty', ',pty', 'pty,,no-pty', 'pty,', 'NO-TOUCH-REQUIRED', 'touch-required', 'no-verify-required',
    'verify-required', 'Restrict', 'environment="_1=x"', 'permitopen=":22"', 'permitopen="h/22"',
    'permitopen="[::1]:*"', 'permitopen="h:ssh"', 'permitlisten="22"', 'permitlisten="*"',
    'tunnel="+5"', 'tunnel=" 7"', 'tunnel="ANY"', 'expiry-time="20991231UTC"', 'expiry-time="209912 1"',
    'expiry-time="20991231235960"', 'from=""', 'principals="x"',
])
def test_options_sshd_parses(text):
    sshd_rules.parse_options(text)


@pytest.mark.parametrize('text', [
    'ptyx', 'no-no-pty', 'restrict=""', 'pty="x"', 'command', 'command="a",command="b"',
    'environment="=x"', 'environment="A"', 'environment="\u00c9=x"',
    'permitopen="h:0"', 'permitopen="h"', 'permitopen="[::1]22"', 'permitopen="::1:22"',
    'permitlisten="0"', 'permitlisten="h/22"', 'tunnel="-1"', 'tunnel="2147483646"', 'tunnel="\u0663"',
    'tunnel=""', 'expiry-time="2099123"', 'expiry-time="20991232"', 'expiry-time="20991231235962"',
    'expiry-time="19700101Z"', 'expiry-time="20991231GMT"',
])
def test_options_sshd_refuses(text):
    with pytest.raises(sshd_rules.OptionsError):
        sshd_rules.parse_options(text)


def test_repeated_option_limits():
    env = ','.join('environment="V%d=x"' % n for n in range(sshd_rules.MAX_ENV + 1))
    sshd_rules.parse_options(env)
    with pytest.raises(sshd_rules.OptionsError, match='too many environment'):
        sshd_rules.parse_options(env + ',environment="LAST=x"')
    sshd_rules.parse_options(','.join(['environment="SAME=x"'] * 3000))
    permits = ','.join(['permitopen="h:1"'] * (sshd_rules.MAX_PERMITS + 1))
    sshd_rules.parse_options(permits)
    with pytest.raises(sshd_rules.OptionsError, match='too many permission'):
        sshd_rules.parse_options(permits + ',permitopen="h:1"')
