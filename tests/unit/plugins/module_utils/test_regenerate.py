# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``regenerate`` policy, every choice against every state of an existing key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._constants import REGENERATE_CHOICES
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import Conflict, KeyLoadError
from ansible_collections.keysmith.accounts.plugins.module_utils._module import Plan
from ansible_collections.keysmith.accounts.plugins.module_utils._regenerate import replacement_reason


def unreadable():
    raise KeyLoadError('broken key')


def compared(drift, passphrase_added):
    return lambda: (list(drift), passphrase_added)


SAME = compared([], False)
OTHER_SIZE = compared(['size is 2048, not 4096'], False)
PASSPHRASE_ADDED = compared(['it is not protected by a passphrase'], True)
PASSPHRASE_AND_SIZE = compared(['size is 2048, not 4096', 'it is not protected by a passphrase'], True)

CONFLICT = 'conflict'
KEEP = None
# regenerate -> what happens to (same key, other size, passphrase added, passphrase added and other size, unreadable)
EXPECTED = {
    'never': (KEEP, KEEP, KEEP, KEEP, CONFLICT),
    'fail': (KEEP, CONFLICT, CONFLICT, CONFLICT, CONFLICT),
    'partial_idempotence': (KEEP, 'size is 2048, not 4096', CONFLICT,
                            'size is 2048, not 4096; it is not protected by a passphrase', CONFLICT),
    'full_idempotence': (KEEP, 'size is 2048, not 4096', 'it is not protected by a passphrase',
                         'size is 2048, not 4096; it is not protected by a passphrase',
                         'the existing key cannot be read: broken key'),
    'always': ('regenerate is always',) * 5,
}


def decide(regenerate, compare, importing=False, exists=True):
    plan = Plan('/k')
    try:
        reason = replacement_reason(plan, '/k', regenerate, exists, compare, importing=importing)
    except Conflict as exc:
        return CONFLICT, exc.msg, plan.warnings
    return reason, None, plan.warnings


@pytest.mark.parametrize('regenerate', REGENERATE_CHOICES)
def test_policy_table(regenerate):
    got = tuple(decide(regenerate, compare)[0]
                for compare in (SAME, OTHER_SIZE, PASSPHRASE_ADDED, PASSPHRASE_AND_SIZE, unreadable))
    assert got == EXPECTED[regenerate]
    assert decide(regenerate, unreadable, exists=False)[0] == 'missing'


def test_never_warns_and_the_conflicts_say_what_to_do():
    reason, dummy, warnings = decide('never', OTHER_SIZE)
    assert reason is None and warnings == [
        '/k does not match the task (size is 2048, not 4096) but regenerate is never: keeping it']
    assert 'Set regenerate to partial_idempotence or full_idempotence' in decide('fail', OTHER_SIZE)[1]
    assert 'set regenerate: full_idempotence to replace it with a new, protected key' in \
        decide('partial_idempotence', PASSPHRASE_ADDED)[1]
    assert decide('partial_idempotence', unreadable)[1] == (
        '/k cannot be read: broken key. It is left untouched; set regenerate: full_idempotence to replace it '
        'with a new key')


def test_an_imported_key_is_the_same_on_every_run():
    """``always`` acts as ``full_idempotence`` for an imported key."""
    assert decide('always', SAME, importing=True)[0] is None
    assert decide('always', OTHER_SIZE, importing=True)[0] == 'size is 2048, not 4096'
    assert decide('always', unreadable, importing=True)[0] == 'the existing key cannot be read: broken key'
    assert decide('full_idempotence', unreadable, importing=True)[0] == 'the existing key cannot be read: broken key'
    assert decide('partial_idempotence', unreadable, importing=True)[0] == CONFLICT
