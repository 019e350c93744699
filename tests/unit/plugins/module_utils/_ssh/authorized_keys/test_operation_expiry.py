# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_authkey's rotation edits: expire_at (expiry-time on the old key's lines) and remove_expired."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd import sshd_rules
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.model import (
    AuthorizedKeys,
    WantedKey,
    apply_edits,
    line_expired,
    parse_key_text,
)

PAST = '20200101Z'
FUTURE = '20991231235959Z'
NOW = calendar.timegm((2026, 6, 1, 12, 0, 0, 0, 0, 0))


def wanted(line):
    key, options = parse_key_text(line, 'test key')
    return WantedKey(key, options, None, 'test key')


def home(tmp_path):
    return tmp_path / 'home'


def akfile(tmp_path):
    return home(tmp_path) / '.ssh' / 'authorized_keys'


def write(tmp_path, text):
    akfile(tmp_path).parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    akfile(tmp_path).write_text(text)
    akfile(tmp_path).chmod(0o600)


def run(tmp_path, check_mode=False, **options):
    account = Account.resolve(None, str(home(tmp_path)), check_mode=check_mode)
    operation = SshAuthKey(AuthKeySpec(account, **options))
    plan = operation.plan()
    if plan.changed and not check_mode:
        plan.apply()
    return plan, operation.result(plan, plan.changed and not check_mode)


# --------------------------------------------------------------------------- apply_edits

def test_expire_at_adds_expiry_and_keeps_options_comment_and_other_lines(keyset):
    old, other = keyset.lines['ssh-ed25519'], keyset.lines['ecdsa-sha2-nistp256']
    data = '# team\nfrom="10.0.0.0/8",no-pty %s\n%s\n' % (old, other)
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [wanted(old)], 'present', expire_at='20260601130000Z', now=NOW)
    assert [(c.action, c.as_dict()['options']) for c in result.changes] == [
        ('updated', 'from="10.0.0.0/8",no-pty,expiry-time="20260601130000Z"')]
    assert model.render().decode() == (
        '# team\nfrom="10.0.0.0/8",no-pty,expiry-time="20260601130000Z" %s\n%s\n' % (old, other))
    # sshd reads the line as expiring then
    line = AuthorizedKeys.parse(model.render()).key_lines()[0]
    assert line.sshd_line.options.valid_before == calendar.timegm((2026, 6, 1, 13, 0, 0, 0, 0, 0))
    assert line.comment == old.split(' ', 2)[2]


def test_expire_at_rerun_never_moves_the_deadline_later(keyset):
    old = keyset.lines['ssh-ed25519']
    model = AuthorizedKeys.parse(('%s\n' % old).encode())
    apply_edits(model, [wanted(old)], 'present', expire_at='20260601130000Z', now=NOW)
    data = model.render()
    again = AuthorizedKeys.parse(data)
    result = apply_edits(again, [wanted(old)], 'present', expire_at='20260608130000Z', now=NOW + 3600)
    assert [c.action for c in result.changes] == ['unchanged']
    assert again.render() == data
    # an earlier deadline (the grace ended early on purpose) is brought forward
    result = apply_edits(again, [wanted(old)], 'present', expire_at='20260601120500Z', now=NOW)
    assert [c.action for c in result.changes] == ['updated']
    assert again.render().decode() == 'expiry-time="20260601120500Z" %s\n' % old


def test_expire_at_every_copy_and_no_key_added(keyset):
    old, absent = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    data = '%s\nrestrict %s\n' % (old, old)
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [wanted(old), wanted(absent)], 'present', expire_at=FUTURE, now=NOW)
    # sshd tries every line of a key: each one must expire; the missing key is not authorized
    assert [(c.action, c.options is None) for c in result.changes] == [('updated', False), ('unchanged', True)]
    assert result.duplicates[0]['action'] == 'kept'
    assert model.render().decode() == 'expiry-time="%s" %s\nrestrict,expiry-time="%s" %s\n' % (
        FUTURE, old, FUTURE, old)


def test_remove_expired_removes_only_passed_lines_of_any_key(keyset):
    old, other, kept = keyset.lines['ssh-ed25519'], keyset.lines['ecdsa-sha2-nistp256'], keyset.lines['ssh-rsa']
    data = '# c\nexpiry-time="%s" %s\nexpiry-time="%s" %s\nexpiry-time="%s" %s\n' % (
        PAST, old, PAST, other, FUTURE, kept)
    model = AuthorizedKeys.parse(data.encode())
    assert [line_expired(line, NOW) for line in model.key_lines()] == [True, True, False]
    result = apply_edits(model, [wanted(old)], 'present', expire_at=FUTURE, remove_expired=True, now=NOW)
    assert [(c.action, c.given, c.options is None) for c in result.changes] == [
        ('removed', True, True), ('removed', False, False)]
    assert model.render().decode() == '# c\nexpiry-time="%s" %s\n' % (FUTURE, kept)
    # the cleanup run again: nothing left to do
    again = AuthorizedKeys.parse(model.render())
    result = apply_edits(again, [wanted(old)], 'present', expire_at=FUTURE, remove_expired=True, now=NOW)
    assert [c.action for c in result.changes] == ['unchanged'] and again.render() == model.render()


def test_remove_expired_with_present_and_absent(keyset):
    key = keyset.lines['ssh-ed25519']
    data = 'expiry-time="%s" %s\n' % (PAST, key)
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [wanted(key)], 'absent', remove_expired=True, now=NOW)
    assert [c.action for c in result.changes] == ['removed'] and model.render() == b''
    model = AuthorizedKeys.parse(data.encode())
    result = apply_edits(model, [wanted(key)], 'present', remove_expired=True, now=NOW)
    assert [c.action for c in result.changes] == ['added'] and model.render().decode() == key + '\n'


def test_expiry_in_local_time_and_bad_options_are_read_as_sshd_reads_them(keyset):
    key = keyset.lines['ssh-ed25519']
    local = time.strftime('%Y%m%d%H%M', time.localtime(NOW - 120))
    model = AuthorizedKeys.parse(('expiry-time="%s" %s\nexpiry-time="bad" %s\n' % (local, key, key)).encode())
    first, bad = model.key_lines()
    assert line_expired(first, NOW) and not line_expired(bad, NOW)
    assert first.sshd_line.options.valid_before == sshd_rules.parse_absolute_time(local)
    # a line sshd refuses for its options is left alone (neither expired nor given an expiry)
    result = apply_edits(model, [wanted(key)], 'present', expire_at=FUTURE, remove_expired=True, now=NOW)
    assert model.render().decode() == 'expiry-time="bad" %s\n' % key
    assert [c.action for c in result.changes] == ['unchanged']


# --------------------------------------------------------------------------- the operation

def test_operation_plan_check_mode_and_idempotence(keyset, tmp_path):
    old, new = keyset.lines['ssh-ed25519'], keyset.lines['ecdsa-sha2-nistp256']
    write(tmp_path, 'no-pty %s\n%s\n' % (old, new))
    before = akfile(tmp_path).read_bytes()
    plan, result = run(tmp_path, check_mode=True, key=old, expire_at=FUTURE, remove_expired=True)
    assert plan.changed and akfile(tmp_path).read_bytes() == before
    assert plan.describe() == ['update %s (set expiry-time %s of 1 key)' % (akfile(tmp_path), FUTURE)]
    assert 'expiry-time="%s"' % FUTURE in plan.after
    assert result['expire_at'] == FUTURE
    plan, result = run(tmp_path, key=old, expire_at=FUTURE, remove_expired=True)
    assert akfile(tmp_path).read_text() == 'no-pty,expiry-time="%s" %s\n%s\n' % (FUTURE, old, new)
    assert result['keys'][0]['options'] == 'no-pty,expiry-time="%s"' % FUTURE
    plan, result = run(tmp_path, key=old, expire_at='21000101Z', remove_expired=True)
    assert not plan.changed
    assert [k['action'] for k in result['keys']] == ['unchanged']


def test_operation_past_expire_at_warns_then_cleanup_removes(keyset, tmp_path):
    old, new = keyset.lines['ssh-ed25519'], keyset.lines['ecdsa-sha2-nistp256']
    write(tmp_path, '%s\n%s\n' % (old, new))
    plan, result = run(tmp_path, key=old, expire_at=PAST, remove_expired=True)
    assert any('has passed' in text for text in plan.warnings)
    assert akfile(tmp_path).read_text() == 'expiry-time="%s" %s\n%s\n' % (PAST, old, new)
    plan, result = run(tmp_path, key=old, expire_at=PAST, remove_expired=True)
    assert plan.describe() == ['update %s (remove 1 key)' % akfile(tmp_path)]
    assert result['keys'][0]['action'] == 'removed' and result['keys'][0]['options'] is None
    assert akfile(tmp_path).read_text() == new + '\n'
    plan, result = run(tmp_path, key=old, expire_at=PAST, remove_expired=True)
    assert not plan.changed and result['keys'][0]['options'] is None


@pytest.mark.parametrize('options, message', [
    (dict(expire_at='tomorrow'), 'expire_at must be a time'),
    (dict(expire_at='20260101"Z'), 'expire_at must be a time'),
    (dict(expire_at=FUTURE, state='absent'), 'only applies with state=present'),
    (dict(expire_at=FUTURE, exclusive=True), 'only applies with state=present'),
    (dict(expire_at=FUTURE, options='no-pty'), 'cannot be given with it'),
    (dict(expire_at=FUTURE, comment='x'), 'cannot be given with it'),
])
def test_spec_refuses(keyset, tmp_path, options, message):
    account = Account.resolve(None, str(home(tmp_path)), check_mode=True)
    with pytest.raises(InvalidInput) as info:
        AuthKeySpec(account, key=keyset.lines['ssh-ed25519'], **options)
    assert message in info.value.msg


# --------------------------------------------------------------------------- properties

_OPTION_CHOICES = ['', 'no-pty ', 'from="10.0.0.0/8" ', 'expiry-time="%s" ' % PAST, 'expiry-time="%s" ' % FUTURE,
                   'restrict,expiry-time="20260601115959Z" ', 'expiry-time="20260601130000Z",no-pty ',
                   'expiry-time="bad" ', 'bogus-option ']


def _line_pool(keyset):
    keys = [keyset.lines['ssh-ed25519'], keyset.lines['ecdsa-sha2-nistp256'], keyset.lines['ssh-rsa']]
    return keys, ['# comment', '', 'not a key line'] + [option + key for key in keys for option in _OPTION_CHOICES]


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(picks=st.lists(st.integers(min_value=0, max_value=10 ** 6), max_size=10),
       wanted_index=st.integers(min_value=0, max_value=2), remove=st.booleans(),
       expire_at=st.sampled_from(['20260601120000Z', '20260601123000Z', FUTURE, PAST]))
def check_expiry_properties(keyset, picks, wanted_index, remove, expire_at):
    keys, pool = _line_pool(keyset)
    data = ''.join(pool[pick % len(pool)] + '\n' for pick in picks).encode()
    model = AuthorizedKeys.parse(data)
    before = list(model.lines)
    item = wanted(keys[wanted_index])
    apply_edits(model, [item], 'present', expire_at=expire_at, remove_expired=remove, now=NOW)
    deadline = sshd_rules.parse_absolute_time(expire_at)
    survivors = [line for line in before if not (remove and line_expired(line, NOW))]
    assert len(model.lines) == len(survivors)   # nothing added, only expired lines removed
    for old, new in zip(survivors, model.lines):
        if old.kind == 'key' and old.identity == item.identity and old.options is not None:
            # the key's line expires by the deadline; its other options are kept, in order
            assert 0 < new.sshd_line.options.valid_before <= deadline
            assert ([o.identity for o in new.options if o.name != 'expiry-time']
                    == [o.identity for o in old.options if o.name.lower() != 'expiry-time'])
            assert new.comment == old.comment
        else:
            assert (new.raw, new.eol) == (old.raw, old.eol)
    if remove and deadline < NOW:
        # a deadline already passed: the next (cleanup) run removes those lines
        apply_edits(model, [item], 'present', expire_at=expire_at, remove_expired=True, now=NOW)
        assert model.find(item.identity) == [line for line in model.find(item.identity) if line.options is None]
    # idempotent, and a later deadline changes nothing
    data = model.render()
    again = AuthorizedKeys.parse(data)
    result = apply_edits(again, [item], 'present', expire_at=FUTURE, remove_expired=remove, now=NOW)
    assert not result.changed and again.render() == data


def test_expiry_properties(keyset):
    check_expiry_properties(keyset)  # pylint: disable=no-value-for-parameter
