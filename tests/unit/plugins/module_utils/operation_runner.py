# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run an operation through the real ``run_operation``, with a stand-in for
AnsibleModule, so the unit tests exercise the one flow the modules use
instead of copies of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._module import run_operation


class ModuleExit(Exception):
    """exit_json or fail_json was called: ``result`` is what the task returns."""

    def __init__(self, result):
        super(ModuleExit, self).__init__(result.get('msg', 'exit'))
        self.result = result


class FakeModule:
    """What run_operation uses of AnsibleModule. ``fail_json`` re-raises the
    typed error run_operation caught, so tests can expect ``Conflict`` etc."""

    def __init__(self, check_mode=False, diff=True):
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.deprecations = []

    def warn(self, text):
        self.warnings.append(text)

    def deprecate(self, text, version=None, collection_name=None):
        self.deprecations.append((text, version, collection_name))

    def exit_json(self, **result):
        raise ModuleExit(dict(result, warnings=list(self.warnings)))

    def fail_json(self, msg, **result):
        handled = sys.exc_info()[1]
        if isinstance(handled, KeysmithError):
            raise handled
        raise ModuleExit(dict(result, msg=msg, failed=True, warnings=list(self.warnings)))


def run_op(operation, check_mode=False, diff=True):
    """(plan, result) of ``operation`` run by ``run_operation``; ``result`` is
    what the task returns (with ``changed``, ``diff`` and ``warnings``)."""
    module = FakeModule(check_mode=check_mode, diff=diff)
    plans = []
    planner = operation.plan

    def plan():
        plans.append(planner())
        return plans[-1]

    operation.plan = plan
    try:
        run_operation(module, lambda dummy: operation)
    except ModuleExit as exc:
        return (plans[0] if plans else None), exc.result
    finally:
        del operation.plan
    raise AssertionError('run_operation returned without exit_json or fail_json')
