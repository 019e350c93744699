# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The account checks of OpenSSH 9.2's allowed_user (issue 26 class 8)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit import account_state
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.audit.accounts import AccountEntry
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import (
    SshdSettings,
    parse_sshd_t,
    settings_from_values,
)

DAY = 86400
TODAY = 20000          # days since the epoch
NOW = TODAY * DAY + 3600


def states(tmp_path, shadow, nsswitch='shadow: files\n', pam=None):
    (tmp_path / 'shadow').write_text(shadow)
    (tmp_path / 'nsswitch.conf').write_text(nsswitch)
    pam_dir = tmp_path / 'pam.d'
    pam_dir.mkdir(exist_ok=True)
    for name, text in (pam or {}).items():
        (pam_dir / name).write_text(text)
    return account_state.AccountStates(NOW, str(tmp_path / 'shadow'), str(tmp_path / 'nsswitch.conf'),
                                       pam_dir=str(pam_dir))


def user(name, shell='/bin/sh', password='x'):
    return AccountEntry(name, 5000, 5000, '/home/' + name, shell, [], password)


def no_pam(**kwargs):
    return SshdSettings(use_pam=False, **kwargs)


SHADOW = '\n'.join([
    'ok:$6$hash:19000:0:99999:7:::',
    'star:*:19000:0:99999:7:::',
    'empty::19000:0:99999:7:::',
    'locked:!$6$hash:19000:0:99999:7:::',
    'bang:!:19000:0:99999:7:::',
    'exp0:*:19000:0:99999:7::0:',
    'exp1:*:19000:0:99999:7::1:',
    'yesterday:*:19000:0:99999:7::%d:' % (TODAY - 1),
    'today:*:19000:0:99999:7::%d:' % TODAY,
    'pwold:*:100:0:30:7:::',
    'pwforced:*:0:0:99999:7:::',
    'ok:!second-entry-ignored:19000:0:99999:7:::',
    'bad:*:notanumber:0:99999:7::1:',
    'short:!',
    '',
])


@pytest.mark.parametrize('name, locked, expired, reasons', [
    ('ok', False, False, []),
    ('star', False, False, []),        # "*" is no lock on Linux (LOCKED_PASSWD_PREFIX "!" only)
    ('empty', False, False, []),
    ('locked', True, False, ['account is locked (password field starts with "!")']),
    ('bang', True, False, ['account is locked (password field starts with "!")']),
    ('exp0', False, True, ['account expired on 1970-01-01']),
    ('exp1', False, True, ['account expired on 1970-01-02']),
    ('yesterday', False, True, ['account expired on 2024-10-03']),
    ('today', False, False, []),       # daysleft 0 is not < 0
    ('pwold', False, False, []),       # password expiry: password logins only
    ('pwforced', False, False, []),
    ('short', True, False, ['account is locked (password field starts with "!")']),  # 2-field line
])
def test_locked_and_expired_with_usepam_no(tmp_path, name, locked, expired, reasons):
    state, refused = states(tmp_path, SHADOW).state(user(name), no_pam())
    assert (state['locked'], state['expired'], refused) == (locked, expired, reasons)
    assert state['shell'] == '/bin/sh' and state['shell_ok'] is True


def test_password_expiry_is_information_only(tmp_path):
    db = states(tmp_path, SHADOW)
    for name in ('pwold', 'pwforced'):
        state, refused = db.state(user(name), no_pam())
        assert state['password_expired'] is True and refused == []
        assert 'password expired (sshd checks it for password logins only)' in state['notes']
    assert db.state(user('ok'), no_pam())[0]['password_expired'] is False


def test_first_entry_wins_and_unparsable_lines_are_skipped(tmp_path):
    db = states(tmp_path, SHADOW)
    assert db.state(user('ok'), no_pam())[0]['locked'] is False
    # "bad" has a non-number field: getspnam skips the line, sshd falls back to the passwd field
    state, refused = db.state(user('bad', password='!'), no_pam())
    assert state['locked'] is True and state['expired'] is False and refused


DEBIAN_PAM = {
    'sshd': '@include common-auth\naccount    required     pam_nologin.so\n@include common-account\n',
    'common-account': ('account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so \n'
                       'account\trequisite\t\t\tpam_deny.so\naccount\trequired\t\t\tpam_permit.so\n'),
}


def test_usepam_yes_the_account_stack_decides(tmp_path):
    # pam_unix's account check refuses an expired account; a lock ("!") is its password check: a key logs in
    db = states(tmp_path, SHADOW, pam=DEBIAN_PAM)
    assert db.pam_account == ['pam_nologin.so', 'pam_unix.so', 'pam_deny.so', 'pam_permit.so']
    state, refused = db.state(user('locked'), SshdSettings(use_pam=True))
    assert (state['locked'], state['expired'], refused) == (None, False, [])
    state, refused = db.state(user('exp1'), SshdSettings(use_pam=True))
    assert state['expired'] is True and refused == ['account expired on 1970-01-02 (PAM: pam_unix in the '
                                                    'account stack of sshd)']
    # without pam_unix in the stack (or no PAM file), PAM is not second-guessed
    db = states(tmp_path / 'other', SHADOW, pam={'sshd': 'account required pam_permit.so\n'}) \
        if (tmp_path / 'other').mkdir() is None else None
    for name in ('locked', 'exp0'):
        state, refused = db.state(user(name), SshdSettings(use_pam=True))
        assert (state['locked'], state['expired'], refused) == (None, None, [])
        assert 'decides on expired accounts' in state['notes'][0]


def test_not_in_shadow(tmp_path):
    db = states(tmp_path, SHADOW)
    state, refused = db.state(user('nobody-here', password='!'), no_pam())
    assert state['locked'] is True and state['expired'] is False and refused  # getspnam NULL: the passwd field
    assert db.state(user('nobody-here', password='x'), no_pam())[1] == []
    # another shadow source could know the account: not judged, said so
    db = states(tmp_path, SHADOW, 'passwd: files\nshadow:   files systemd # dynamic users\n')
    state, refused = db.state(user('nobody-here', password='!'), no_pam())
    assert (state['locked'], state['expired'], refused) == (None, None, [])
    assert 'nsswitch has shadow sources systemd' in state['notes'][0]
    assert db.state(user('locked'), no_pam())[0]['locked'] is True


def test_unreadable_shadow_is_said(tmp_path):
    db = account_state.AccountStates(NOW, str(tmp_path / 'missing'), str(tmp_path / 'missing-too'))
    state, refused = db.state(user('locked', password='!'), no_pam())
    assert (state['locked'], state['expired'], refused) == (None, None, [])
    assert state['notes'] == ['%s cannot be read: locked and expired not judged' % (tmp_path / 'missing')]


def test_shell_checks(tmp_path):
    db = states(tmp_path, SHADOW)
    plain = tmp_path / 'plain'
    plain.write_text('#!/bin/sh\n')
    os.chmod(str(plain), 0o644)
    exec_other = tmp_path / 'exec-other'
    exec_other.write_text('#!/bin/sh\n')
    os.chmod(str(exec_other), 0o601)
    link = tmp_path / 'link'
    os.symlink('/bin/sh', str(link))
    cases = [
        ('/nonexistent', False, ['shell /nonexistent does not exist']),
        (str(plain), False, ['shell %s is not executable' % plain]),
        (str(tmp_path), False, ['shell %s is not executable' % tmp_path]),   # a directory
        (str(exec_other), True, []),      # any execute bit will do
        (str(link), True, []),            # stat follows the link
        ('', True, []),                   # empty: /bin/sh
    ]
    for shell, ok, reasons in cases:
        state, refused = db.state(user('ok', shell=shell), no_pam())
        assert (state['shell_ok'], refused) == (ok, reasons), shell
    assert db.state(user('ok', shell=''), no_pam())[0]['shell'] == '/bin/sh'
    # every refusal at once, as separate reasons
    state, refused = db.state(user('locked', shell='/nonexistent'), no_pam())
    assert refused == ['account is locked (password field starts with "!")', 'shell /nonexistent does not exist']


def test_chroot_directory_turns_the_shell_check_off(tmp_path):
    db = states(tmp_path, SHADOW)
    state, refused = db.state(user('ok', shell='/nonexistent'), no_pam(chroot_directory='/srv/jail'))
    assert (state['shell_ok'], refused) == (None, [])
    assert 'ChrootDirectory /srv/jail: sshd does not check the shell' in state['notes']
    # and "none" (any case) is no chroot
    settings = settings_from_values(parse_sshd_t('usepam no\nchrootdirectory NONE\n'), 'sshd -T')
    assert settings.chroot_directory is None and settings.use_pam is False
    assert db.state(user('ok', shell='/nonexistent'), settings)[1] == ['shell /nonexistent does not exist']
    settings = settings_from_values(parse_sshd_t('usepam yes\nchrootdirectory /srv/%u\n'), 'sshd -T')
    assert settings.chroot_directory == '/srv/%u' and settings.use_pam is True


def test_nologin_is_information_not_refusal(tmp_path):
    db = states(tmp_path, SHADOW)
    for shell in ('/usr/sbin/nologin', '/bin/false'):
        if not os.path.exists(shell):
            continue
        state, refused = db.state(user('ok', shell=shell), no_pam())
        assert refused == [] and state['shell_ok'] is True and state['no_shell'] is True
        assert any(note.startswith('no shell: %s' % os.path.basename(shell)) for note in state['notes'])
    state, refused = db.state(user('ok', shell='/nonexistent/nologin'), no_pam())
    assert state['no_shell'] is False and refused == ['shell /nonexistent/nologin does not exist']
