# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plans, and running a plan-based operation inside an AnsibleModule.

Every module follows one flow: resolve the task into a spec, read the current
state, compute a *plan* (a list of actions, nothing written), then apply it
unless in check mode. Check mode and ``--diff`` are rendered from the plan, so
they show exactly what a real run does. Errors are typed exceptions raised
deep down and turned into ``fail_json`` here, in one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import grp
import os
import pwd
import re
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError, PartialFailure
from ansible_collections.keysmith.accounts.plugins.module_utils._text import escape_text, escaped_warning, valid_text


# A private key pasted where a public key belongs (PEM, OpenSSH or PuTTY).
_PRIVATE_KEY_MARK = re.compile(r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:')


def private_key_values(value):
    """Every string in ``value`` (nested lists and dicts too) that holds a private key."""
    if isinstance(value, str):
        return [value] if _PRIVATE_KEY_MARK.search(value) else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        found = []
        for item in value:
            found.extend(private_key_values(item))
        return found
    return []


def all_validation_errors(msg, validation_result):
    """AnsibleModule fails on the first argument error it found (``msg``):
    append the others, so that every bad item is named in one run."""
    errors = getattr(validation_result, 'errors', None)
    messages = []
    for text in getattr(errors, 'messages', None) or []:
        if text not in messages:
            messages.append(text)
    if len(messages) < 2 or not msg.endswith(messages[0]):
        return msg
    return '%s; and %d more: %s' % (msg, len(messages) - 1, '; '.join(messages[1:]))


class KeysmithModule(AnsibleModule):
    """AnsibleModule for results that describe keys, not files.

    AnsibleModule adds ``stat`` data of any ``path`` in a result, overwriting
    ``size`` (a key's bits) with the file's byte count and ``state`` with
    ``file``; these modules report their own, exact fields instead.

    A private key given in an option meant for public data (``ssh_authkey``'s
    ``key``, ``ssh_genkey``'s ``public_key``, ...) is refused later; it is added
    to ``no_log_values`` before anything is logged or returned, so the log, the
    result's ``invocation`` (``-vvv``, AWX job events) and messages show
    ``********`` instead.
    """

    def __init__(self, *args, **kwargs):
        self._validating_arguments = True
        super(KeysmithModule, self).__init__(*args, **kwargs)
        self._validating_arguments = False

    def fail_json(self, msg, **kwargs):
        if getattr(self, '_validating_arguments', False):
            msg = all_validation_errors(msg, getattr(self, 'validation_result', None))
        super(KeysmithModule, self).fail_json(msg=msg, **kwargs)

    def add_path_info(self, kwargs):
        return kwargs

    def _mask_private_keys(self):
        for value in private_key_values(getattr(self, 'params', None) or {}):
            # The value, its escaped form (the log shows lists and dicts with
            # repr()) and each line of the key body, wherever it turns up.
            self.no_log_values.add(value)
            self.no_log_values.add(repr(value)[1:-1])
            # The armor lines too: not secret, but the older ansible-core (2.16)
            # masks a list's log text one value at a time, in no set order, so a
            # body line masked first leaves the armor of the whole value behind.
            self.no_log_values.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)

    def _log_invocation(self):
        self._mask_private_keys()
        super(KeysmithModule, self)._log_invocation()

    def warn(self, warning):
        # a warning may name a file whose name is not UTF-8
        super(KeysmithModule, self).warn(escape_text(warning)[0] if isinstance(warning, str) else warning)

    def _return_formatted(self, kwargs):
        # Also reached for argument validation errors, before _log_invocation.
        self._mask_private_keys()
        escaped = []
        kwargs = valid_text(kwargs, escaped)
        if escaped:
            self.warn(escaped_warning(escaped))
        super(KeysmithModule, self)._return_formatted(kwargs)


class Action:
    """One step of a plan: what it does (public words) and how."""

    def __init__(self, kind, path, run, detail=None):
        self.kind = kind
        self.path = path
        self.detail = detail
        self._run = run

    def describe(self):
        text = '%s %s' % (self.kind, self.path)
        if self.detail:
            text += ' (%s)' % self.detail
        return text

    def run(self):
        return self._run()


class Done:
    """What an action's run returns when it did not do what the plan said:
    it is reported as ``<action>: <note>``; ``changed`` False when nothing
    was done here (another run did it between the plan and now)."""

    def __init__(self, note, changed):
        self.note = note
        self.changed = changed


def _dir_outcome(planned, did):
    """The report of a ``Plan.ensure_dir`` action from what ``Tree.ensure_dir``
    did (``did``): exact when another run made or fixed the directory first."""
    if did == planned or did not in ('created', 'repaired', None):
        return None
    if did is None:
        return Done('already %s by another run' % ('created' if planned == 'created' else 'done'), False)
    if planned == 'created':
        return Done('created by another run, mode and owner set here', True)
    return Done('created again (it was removed since the plan)', True)


class Plan:
    """What an operation will change. ``before``/``after`` are public views
    (never private key material) used for ``--diff``."""

    def __init__(self, path=None):
        self.path = path
        self.actions = []
        self.warnings = []
        # {text: (what, [items])}: one warning per text, naming every item (warn_grouped)
        self.grouped_warnings = {}
        self.deprecations = []
        self.before = None
        self.after = None
        # (path, before, after) of mode/owner repairs, shown in --diff
        self.attr_changes = []
        # NotFound errors of files the task needs and does not find (missing_prerequisite):
        # the runner fails a real run with the first, a check mode run assumes them
        self.missing = []

    @property
    def changed(self):
        return bool(self.actions)

    def add(self, kind, path, run, detail=None):
        action = Action(kind, path, run, detail)
        self.actions.append(action)
        return action

    def add_attrs(self, path, run, current, mode, uid=None, gid=None):
        """A mode and owner repair of ``path`` (``current``: its FileState or
        DirState). ``--diff`` shows mode, owner and group before and after, as
        ansible.builtin.file does; ``uid``/``gid`` None means unchanged."""
        after_uid = current.uid if uid is None else uid
        after_gid = current.gid if gid is None else gid
        self.attr_changes.append((path, attrs_view(current.mode, current.uid, current.gid),
                                  attrs_view(mode, after_uid, after_gid)))
        return self.add('set mode and owner of', path, run, '%04o' % mode)

    def ensure_dir(self, state, run, mode, uid=None, gid=None):
        """The directory ``state`` (a DirState) with ``mode``, owned by ``uid``:
        'create directory' when missing, a mode and owner repair when its mode
        or owner differs (``run`` does either), nothing when it is right."""
        if not state.exists:
            return self.add('create directory', state.path, lambda: _dir_outcome('created', run()), '%04o' % mode)
        if state.mode != mode or (uid is not None and state.uid != uid):
            return self.add_attrs(state.path, lambda: _dir_outcome('repaired', run()), state, mode, uid, gid)
        return None

    def ensure_attrs(self, path, state, run, mode, uid=None, gid=None):
        """A mode and owner repair of the existing file ``state`` when its
        mode, owner or group differs (None: not checked)."""
        if state.attrs_differ(mode, uid, gid):
            return self.add_attrs(path, run, state, mode, uid, gid)
        return None

    def warn_missing_user(self, account, assumed=''):
        """Check mode for an account that does not exist yet, said the same
        way by every operation (``assumed``: what else check mode assumes)."""
        self.warn('user %s does not exist yet; check mode assumes an earlier task creates it%s'
                  % (account.name, ' and %s' % assumed if assumed else ''))

    def warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)

    def warn_grouped(self, text, item, what):
        """A warning said once however many items it is about: ``text`` then
        ``(<what>: item, item, ...)``; a plan of many operations (provision)
        merges its items' groups with ``merge_grouped``."""
        items = self.grouped_warnings.setdefault(text, (what, []))[1]
        if item not in items:
            items.append(item)

    def merge_grouped(self, other):
        for text, (what, items) in other.grouped_warnings.items():
            for item in items:
                self.warn_grouped(text, item, what)

    def all_warnings(self):
        """The warnings, each group as one."""
        return self.warnings + ['%s (%s: %s)' % (text, what, ', '.join(items))
                                for text, (what, items) in self.grouped_warnings.items()]

    def deprecate(self, text, version, collection_name='keysmith.accounts'):
        self.deprecations.append((text, version))

    def describe(self):
        return [action.describe() for action in self.actions]

    def apply(self):
        """Run the actions in order; returns the words of those done."""
        return self.run_actions()[0]

    def run_actions(self):
        """Run the actions in order: (the words of those done, the words of
        those found done by another run). A failure, expected or not, names
        what was already done, so nothing half-done goes unreported. The plan
        itself is left as it was planned."""
        done, skipped = [], []
        for action in self.actions:
            try:
                report = action.run()
            except KeysmithError as exc:
                raise _after_partial(done, exc.msg, exc.details)
            except (OSError, IOError) as exc:
                msg = '%s failed: %s' % (action.describe(), os.strerror(exc.errno) if exc.errno else exc)
                raise _after_partial(done, msg, {})
            except Exception as exc:  # pylint: disable=broad-except
                # A bug: still fail cleanly, with what was done and the traceback.
                msg = '%s failed: unexpected %s: %s' % (action.describe(), type(exc).__name__, exc)
                raise _after_partial(done, msg, {'exception': traceback.format_exc()})
            if isinstance(report, Done):
                (done if report.changed else skipped).append('%s: %s' % (action.describe(), report.note))
                continue
            done.append(action.describe())
        return done, skipped

    def diff(self, outcome=None):
        """``--diff`` of the plan; ``outcome.after`` (what only applying could
        tell, such as a new key's fingerprint) replaces the planned ``after``."""
        planned_after = self.after if outcome is None or outcome.after is None else outcome.after
        before, after = render_state(self.before), render_state(planned_after)
        for path, attrs_before, attrs_after in self.attr_changes:
            before += render_state(dict(('%s of %s' % (key, path), value) for key, value in attrs_before.items()))
            after += render_state(dict(('%s of %s' % (key, path), value) for key, value in attrs_after.items()))
        return {
            'before_header': self.path or '',
            'after_header': self.path or '',
            'before': before,
            'after': after,
        }


def _after_partial(done, msg, details):
    if done:
        msg = '%s (already done before the failure: %s)' % (msg, '; '.join(done))
        details = dict(details, done=list(done))
    return KeysmithError(msg, **details)


class Outcome:
    """What applying a plan tells that planning could not: the actions done,
    the public state after them when only applying could know it (``after``:
    a new key's fingerprint, an id assigned by the registry; None keeps the
    planned one) and warnings about what was done. ``run_operation`` merges it
    into the diff and the warnings; the plan is never rewritten."""

    def __init__(self, done=None, after=None, warnings=None, skipped=None):
        self.done = list(done or [])
        self.after = after
        self.warnings = list(warnings or [])
        # actions another run had done between the plan and now (not changes of this run)
        self.skipped = list(skipped or [])

    @property
    def changed(self):
        """False only when every planned action was found done by another run."""
        return bool(self.done) or not self.skipped

    def actions(self, planned):
        """``planned`` (the plan's words) as they turned out: an action
        another run had done says so."""
        left = [text for text in self.done + self.skipped if ': ' in text]
        if not left:
            return planned
        out = []
        for text in planned:
            found = [other for other in left if other.startswith(text + ': ')]
            if found:
                left.remove(found[0])
                text = found[0]
            out.append(text)
        return out


class Operation:
    """The contract of every operation (``run_operation`` drives it):

    0. The constructor takes the spec (and the call's shared state, such as
       ``Locks``), never the check mode: check mode is a property of the run.
       The plan is computed the same way in both; the runner decides whether
       to apply it (and fails a real run whose plan misses a prerequisite,
       see ``missing_prerequisite``).
    1. ``session(applying)``: a context held from before ``plan()`` until
       after ``result()`` (a lock, ...); by default nothing. ``applying`` is
       False in check mode (a session that would write to take its lock,
       such as the registry's, then takes none).
    2. ``plan()`` -> ``Plan``: reads the current state, writes nothing, takes
       no lock. The plan is final: nothing changes it afterwards.
    3. ``apply(plan)`` -> ``Outcome``: runs the plan's actions (only when
       applying); ``after_apply()`` tells what only applying learnt.
    4. ``result(plan, applied)`` -> dict of public return values; it reads the
       plan and the operation's own state, and changes neither the plan nor
       the files. It raises ``PartialFailure`` (with that dict) when part of
       the work failed and the rest was done.
    """

    def session(self, applying=True):
        """``applying``: the runner applies the plan when it changes
        something (False: check mode, nothing is written whatever the plan)."""
        return _nothing_held()

    def plan(self):
        raise NotImplementedError

    def apply(self, plan):
        done, skipped = plan.run_actions()
        return Outcome(done=done, after=self.after_apply(), skipped=skipped)

    def after_apply(self):
        """The public state after ``apply`` when it differs from the planned
        ``after`` in what only applying can know; None otherwise."""
        return None

    def lock_requests(self, plan):
        """The flocks applying ``plan`` takes, as (``Tree``, dir parts) pairs,
        so that a caller applying many plans can take them ahead (``provision``:
        all of them before anything is written when atomic). [] by default."""
        return []

    def key_generation(self, plan):
        """The new key ``apply(plan)`` will make, as a callable that computes it
        without touching a file (so a caller applying many plans can run it
        ahead, in a worker thread: ``provision``); None when the plan makes no
        key. ``apply`` uses the result handed in ``ahead`` (see
        ``generated_ahead``), else computes it itself."""
        return None

    def result(self, plan, applied):
        raise NotImplementedError

    def file_result(self, plan, **fields):
        """What every operation on one of an account's files returns first:
        ``path``, ``user``, ``state`` and the planned ``actions``, then ``fields``."""
        spec = self.spec
        result = {'path': spec.path, 'user': spec.account.name, 'state': spec.state, 'actions': plan.describe()}
        result.update(fields)
        return result


def missing_prerequisite(error, plan=None):
    """A file or directory the task needs is missing: ``error`` (a
    ``NotFound``) names it. The plan records it, and says what a check mode
    run assumes; the plan is the same in both modes. The runner decides
    (``require_prerequisites``): a real run fails with it; a check mode run
    cannot see what an earlier task of the play makes, so its plan goes on, as
    it does for an account that does not exist yet. Without a plan (a check a
    session makes before writing, only when the plan is to be applied) the
    error is raised here."""
    if plan is None:
        raise error
    plan.missing.append(error)
    plan.warn('%s; check mode assumes an earlier task creates it (a real run fails without it)' % error.msg)


def require_prerequisites(plan, applying):
    """The runner's part of ``missing_prerequisite``: a plan that is to be
    applied (``applying``: not check mode) fails with its first missing
    prerequisite; check mode keeps the plan and its warnings."""
    if applying and plan.missing:
        raise plan.missing[0]


def plan_generates(plan):
    return any(action.kind in ('generate', 'regenerate') for action in plan.actions)


def generated_ahead(operation, compute):
    """``compute()``, or the value of the future a caller put in
    ``operation.ahead`` when it ran that same computation ahead (its
    exception, if it raised, is raised here, where ``compute()`` would have)."""
    future = getattr(operation, 'ahead', None)
    if future is None:
        return compute()
    operation.ahead = None
    return future.result()


@contextlib.contextmanager
def _nothing_held():
    yield


def attrs_view(mode, uid, gid):
    """Mode, owner and group as ansible.builtin.file's diff shows them."""
    return {'mode': '%04o' % mode if mode is not None else None, 'owner': _name_of(pwd.getpwuid, uid),
            'group': _name_of(grp.getgrgid, gid)}


def _name_of(lookup, number):
    if number is None:
        return None
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def render_state(state):
    """A stable text form of a public state for ``--diff``."""
    if state is None:
        return ''
    if isinstance(state, str):
        return state
    lines = []
    for key in sorted(state):
        value = state[key]
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            lines.append('%s:' % key)
            lines.extend('  - %s' % item for item in value)
        elif isinstance(value, str) and '\n' in value:
            lines.append('%s: |' % key)
            lines.extend('  %s' % line for line in value.splitlines())
        else:
            lines.append('%s: %s' % (key, value))
    return '\n'.join(lines) + '\n'


def run_operation(module, build):
    """Build an operation from the module's params, plan, apply, exit.

    ``build(module)`` returns an ``Operation`` (see its contract). The plan is
    final once planned: check mode stops there, a real run applies it, and the
    ``Outcome`` of applying is merged into the diff and the warnings here.
    """
    plan = outcome = partial = None
    warned = []
    applying = not module.check_mode
    try:
        operation = build(module)
        with operation.session(applying):
            planned = operation.plan()
            require_prerequisites(planned, applying)
            plan = planned
            if plan.changed and applying:
                outcome = operation.apply(plan)
            result = operation.result(plan, outcome is not None)
    except PartialFailure as exc:
        # An operation that carried on past a failure (provision without
        # atomic) fails the task at the end, with its full result.
        partial = exc
    except KeysmithError as exc:
        _emit_warnings(module, plan, outcome, warned)
        # A failure after part of the plan was applied: changed, with what was done.
        details = dict(exc.details)
        if details.get('done'):
            details['changed'] = True
        module.fail_json(msg=_with_become_hint(exc.msg), **details)
    except EnvironmentError as exc:
        # Unexpected I/O errors still fail cleanly, naming the file.
        _emit_warnings(module, plan, outcome, warned)
        where = getattr(exc, 'filename', None)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        module.fail_json(msg=_with_become_hint('%s%s' % ('%s: ' % where if where else '', reason)),
                         errno=errno.errorcode.get(exc.errno, exc.errno))
    _emit_warnings(module, plan, outcome, warned)
    if partial is not None:
        changed = plan.changed if partial.changed is None else partial.changed
        module.fail_json(msg=partial.msg, **dict(partial.result, changed=changed))
    result['changed'] = plan.changed if outcome is None else outcome.changed
    if outcome is not None and result.get('actions') == plan.describe():
        result['actions'] = outcome.actions(result['actions'])
    if module._diff:
        result['diff'] = plan.diff(outcome)
    module.exit_json(**result)


BECOME_HINT = ' (the task runs as uid %d, not root: run it with become: true)'
_DENIED = (os.strerror(errno.EACCES), os.strerror(errno.EPERM))


def _with_become_hint(msg):
    """``msg``, and when a permission was refused to a task not running as
    root, what to do about it: most such failures are a missing ``become``."""
    euid = os.geteuid()
    if euid == 0 or not any(text in (msg or '') for text in _DENIED):
        return msg
    return msg + BECOME_HINT % euid


def _emit_warnings(module, plan, outcome, warned):
    """The plan's warnings and deprecations, then the outcome's; emitted once
    (``warned`` remembers it), even if called again on the way out."""
    if plan is None or warned:
        return
    warned.append(True)
    for text in plan.all_warnings() + (outcome.warnings if outcome is not None else []):
        module.warn(text)
    for text, version in plan.deprecations:
        module.deprecate(text, version=version, collection_name='keysmith.accounts')
