# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Provision many accounts in one module call, with the single modules' code.

Each item of an account becomes the same operation object its own module
uses (``SshKeyPair``, ``SshAuthKey``, ...). This module only loops: it plans
every item of every account, then applies the plans. It has no key, file or
CSR logic of its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures
import os
import traceback

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    KeysmithError,
    NotFound,
    PartialFailure,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._fs import MISSING, Locks
from ansible_collections.keysmith.accounts.plugins.module_utils._module import (
    Operation,
    Outcome,
    Plan,
    plan_generates,
    require_prerequisites,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.key_reference import (
    PendingKey,
    check_key_name,
    key_label,
    private_key_path,
    read_public_key,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import AuthKeySpec, SshAuthKey
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.trust.principals import principal_items
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.operation import SshKeyPair
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey.spec import KeyPairSpec
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.gencsr import (
    CertificateSigningRequest,
    CsrSpec,
    validate_csr_state,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.genkey import TlsKey, TlsKeySpec
from ansible_collections.keysmith.accounts.plugins.module_utils._users import UserCreation, UserSpec


def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class KeysAhead:
    """Computes the new keys of many operations' plans ahead, in worker threads.

    Each operation that will make a key (``Operation.key_generation``) gets
    the future of that computation in ``ahead``; its ``apply`` takes the key
    from it (``generated_ahead``), so files are still written by the applying
    thread, in plan order. Key generation releases the GIL (OpenSSL, bcrypt,
    ssh-keygen processes), so on N CPUs N keys are made at once. Nothing is
    started for fewer than two keys or on one CPU. On exit the computations not
    started yet are cancelled (an atomic run that failed) and the running ones
    awaited."""

    def __init__(self, planned, workers=None):
        """``planned``: (operation, its plan) pairs, in the order they are applied."""
        self.jobs = []
        for operation, plan in planned:
            try:
                compute = operation.key_generation(plan)
            except KeysmithError:
                continue  # (no backend, ...) raised again by its apply, where it fails its own account
            if compute is not None:
                self.jobs.append((operation, compute))
        self.workers = min(len(self.jobs), workers or usable_cpus())
        self.executor = None
        self.futures = []

    def __enter__(self):
        if self.workers >= 2:
            self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers)
            for operation, compute in self.jobs:
                operation.ahead = self.executor.submit(compute)
                self.futures.append(operation.ahead)
        return self

    def __exit__(self, *exc_info):
        if self.executor is not None:
            for future in self.futures:
                future.cancel()
            for operation, dummy in self.jobs:
                operation.ahead = None
            self.executor.shutdown(wait=True)
        return False


class ItemError(KeysmithError):
    """An error found while building an item, with the item's name."""

    def __init__(self, where, error):
        super(ItemError, self).__init__(error.msg, **error.details)
        self.where = where


class ItemErrors(KeysmithError):
    """Every bad item of an account (``ItemError`` each), found in one pass."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ItemErrors, self).__init__('; '.join('%s: %s' % (error.where, error.msg) for error in self.errors))


def collect(problems, where, build):
    """``build()``, or None with its error (naming the item ``where``) added to ``problems``."""
    try:
        return build()
    except ItemErrors as exc:
        problems.extend(exc.errors)
    except ItemError as exc:
        problems.append(exc)
    except KeysmithError as exc:
        problems.append(ItemError(where, exc))
    return None


def named(where, build):
    """Run ``build()``; an error it raises names the item ``where``."""
    try:
        return build()
    except ItemError:
        raise
    except KeysmithError as exc:
        raise ItemError(where, exc)


class Item:
    """One operation of an account, with the words that name it in messages."""

    def __init__(self, kind, name, operation):
        self.kind = kind
        self.name = name
        self.operation = operation
        self.plan = None
        self.late = False        # applied after every account's other items (a key another account makes)
        self.outcome = None      # the Outcome of applying its plan
        self.done = []           # the actions done, also when it failed half-way

    def make_plan(self, applying=True):
        """Plan the item; when the run applies, a missing prerequisite fails it."""
        plan = self.operation.plan()
        require_prerequisites(plan, applying)
        self.plan = plan
        return plan

    def label(self):
        return self.name


def ssh_key_items(account, entries, defaults):
    items, problems = [], []
    for index, entry in enumerate(entries or []):
        where = 'ssh_keys[%d] (%s)' % (index, entry.get('name') or entry.get('path'))
        spec = collect(problems, where, lambda entry=entry: KeyPairSpec(
            account,
            name=entry.get('name'),
            path=entry.get('path'),
            key_type=entry.get('type'),
            bits=entry.get('size'),
            passphrase=entry.get('passphrase'),
            comment=entry.get('comment'),
            state=entry.get('state') or 'present',
            regenerate=entry.get('regenerate') or 'partial_idempotence',
            private_key_format=entry.get('private_key_format') or 'auto',
            backend=defaults['backend'],
            follow=defaults['follow'],
            private_key=entry.get('private_key'),
            public_key=entry.get('public_key'),
            ppk=bool(entry.get('ppk')),
        ))
        if spec is not None:
            items.append(Item('ssh_key', where, SshKeyPair(spec)))
    if problems:
        raise ItemErrors(problems)
    return items


def file_attrs_of(entries):
    """The ``owner``/``group``/``mode`` of the account's one ``authorized_keys``
    file, from its items: the items that give one must give the same."""
    attrs = {}
    for index, entry in enumerate(entries or []):
        for name in ('owner', 'group', 'mode'):
            value = entry.get(name)
            if value is None or value == '':
                continue
            if name in attrs and str(attrs[name][1]) != str(value):
                raise InvalidInput('authorized_keys[%d] gives %s %s, authorized_keys[%d] %s: the items share one '
                                   'file, give the same %s (or give it once)'
                                   % (attrs[name][0], name, attrs[name][1], index, value, name))
            attrs.setdefault(name, (index, value))
    return dict((name, value[1]) for name, value in attrs.items())


def authorized_key_items(account, entries, exclusive, defaults):
    """One ``authorized_keys`` operation for the keys to keep, one for those to
    revoke: the same code as ``ssh_authkey`` with a list of keys.

    Each item is read by ``ssh_authkey``'s own spec, so its ``options`` and
    ``comment`` apply to every key of its ``key`` (which may hold several
    lines), and a newline in ``options`` is an error, as in ``ssh_authkey``."""
    present, absent, pending, warnings, problems = [], [], [], [], []
    attrs = collect(problems, 'authorized_keys', lambda: file_attrs_of(entries)) or {}
    for index, entry in enumerate(entries or []):
        where = 'authorized_keys[%d]' % index
        state = entry.get('state') or 'present'
        item_spec = collect(problems, where, lambda entry=entry, where=where, state=state: authorized_key_item(
            account, entry, where, state, defaults))
        if item_spec is None:
            continue
        for wanted in item_spec.wanted:
            wanted.source = '%s %s' % (where, wanted.source)
        warnings.extend('%s: %s' % (where, text) for text in item_spec.warnings)
        (absent if state == 'absent' else present).extend(item_spec.wanted)
        pending.extend(item_spec.pending)
    if problems:
        raise ItemErrors(problems)
    items = []
    if present or pending or exclusive:
        spec = named('authorized_keys', lambda: AuthKeySpec(
            account, wanted=present, state='present', exclusive=exclusive, follow=defaults['follow'],
            pending=pending, **attrs))
        spec.warnings[:0] = warnings
        count = len(spec.wanted) + len(pending)
        item = Item('authorized_keys', 'authorized_keys (%d key%s%s)' % (
            count, '' if count == 1 else 's', ', exclusive' if exclusive else ''),
            SshAuthKey(spec, locks=defaults.get('locks')))
        # a key another account's items make: applied after every account's own items
        item.late = any(key.account != account.name for key in pending)
        items.append(item)
    if absent and not exclusive:
        spec = named('authorized_keys', lambda: AuthKeySpec(
            account, wanted=absent, state='absent', follow=defaults['follow'], **attrs))
        items.append(Item('authorized_keys', 'authorized_keys (revoke %d key%s)' % (
            len(spec.wanted), '' if len(spec.wanted) == 1 else 's'),
            SshAuthKey(spec, locks=defaults.get('locks'))))
    return items


def authorized_key_item(account, entry, where, state, defaults):
    """The ``AuthKeySpec`` of one item: its ``key`` text, or the key named by
    ``account`` and ``key_name`` (read now, or still to be made by this call)."""
    if entry.get('account') is None:
        if entry.get('key') is None:
            raise InvalidInput('key (a public key line) or account and key_name is required')
        return AuthKeySpec(account, key=entry['key'], state=state, options=entry.get('options'),
                           comment=entry.get('comment'), follow=defaults['follow'])
    if entry.get('key') is not None:
        raise InvalidInput('key and account are mutually exclusive: give a key\'s text or the key of an account')
    if entry.get('key_name') is None:
        raise InvalidInput('account needs key_name, the name of its key in ~/.ssh (id_ed25519)')
    owner, key_name = entry['account'], check_key_name(entry['key_name'])
    label = key_label(owner, key_name)
    references = defaults.get('references')
    if references is None:
        raise InvalidInput('%s: a key of an account can only be named in provision' % label)
    key, pending = references.reference(owner, key_name)
    if key is not None:
        spec = AuthKeySpec(account, key=key.to_line(), state=state, options=entry.get('options'),
                           comment=entry.get('comment'), follow=defaults['follow'])
        for wanted in spec.wanted:
            wanted.source = '(%s)' % label
        return spec
    # options and comment checked as for a key's text; the key itself comes when applying
    spec = AuthKeySpec(account, wanted=[], state=state, options=entry.get('options'), comment=entry.get('comment'),
                       follow=defaults['follow'])
    if state != 'present':
        raise InvalidInput('%s is generated by this call and authorized nowhere yet: there is nothing to revoke '
                           '(state=absent); revoke the old key by its text' % label)
    spec.pending = [PendingKey(owner, label, pending, spec.options, spec.comment, '%s (%s)' % (where, label))]
    return spec


def ssl_items(account, entries, defaults):
    """Per host: the TLS key (``ssl_genkey``), then the CSR (``ssl_gencsr``)."""
    items, problems = [], []
    for index, entry in enumerate(entries or []):
        where = 'ssl[%d] (%s)' % (index, entry.get('host'))
        specs = collect(problems, where, lambda entry=entry, where=where: ssl_specs(account, entry, where, defaults))
        if specs is None:
            continue
        key_spec, csr_spec = specs
        key = TlsKey(key_spec)
        items.append(Item('ssl_key', where + ' key', key))
        items.append(Item('ssl_csr', where + ' csr', CertificateSigningRequest(csr_spec,
                                                                               key_source=key)))
    if problems:
        raise ItemErrors(problems)
    return items


def ssl_specs(account, entry, where, defaults):
    """(TlsKeySpec, CsrSpec) of one ``ssl`` item; ``ItemErrors`` with the
    problems of both (a bad key size and a bad country are both named)."""
    problems = []
    # ssl_gencsr's reading of state first: a province given as state is named as such
    collect(problems, where, lambda: validate_csr_state(entry.get('state') or 'present'))
    if problems:
        raise ItemErrors(problems)
    key_spec = collect(problems, where, lambda: TlsKeySpec(
        account, host=entry.get('host'), key_type=entry.get('type') or 'rsa', size=entry.get('size'),
        passphrase=entry.get('key_passphrase'), regenerate=entry.get('regenerate') or 'partial_idempotence',
        state=entry.get('state') or 'present', follow=defaults['follow']))
    csr_spec = collect(problems, where, lambda: CsrSpec(
        account, entry.get('host'), city=entry.get('city'), company=entry.get('company'),
        country=entry.get('country'), province=entry.get('province'),
        companydivision=entry.get('companydivision') or '', email=entry.get('email') or '',
        password=entry.get('password') or '', subject_alt_names=entry.get('subject_alt_names'),
        digest=entry.get('digest') or 'sha256', key_passphrase=entry.get('key_passphrase'),
        follow=defaults['follow'], state=entry.get('state') or 'present'))
    if problems:
        # the same message twice (the host checked by both) is said once
        unique = []
        for problem in problems:
            if all(problem.msg != seen.msg for seen in unique):
                unique.append(problem)
        raise ItemErrors(unique)
    return key_spec, csr_spec


# Item kinds in the order they are applied within an account; each builder
# turns the account's entries into operations.
# The key pairs come first (KEY_ITEMS): an authorized_keys item of any
# account may name a key they make (planned after every account's key pairs).
def key_items(account, entry, defaults):
    return ssh_key_items(account, entry.get('ssh_keys'), defaults)


def other_items(account, entry, defaults):
    """The authorized_keys and ssl items; ``ItemErrors`` with the problems of all of them."""
    items, problems = [], []

    def authorized_keys():
        return authorized_key_items(account, entry.get('authorized_keys'),
                                    bool(entry.get('authorized_keys_exclusive')), defaults)

    def principals():
        return [Item('principals', name, operation) for name, operation in principal_items(
            account, entry.get('principals'), entry.get('principals_file'), bool(entry.get('principals_exclusive')),
            locks=defaults.get('locks'))]

    for where, build in (('authorized_keys', authorized_keys),
                         ('ssl', lambda: ssl_items(account, entry.get('ssl'), defaults)),
                         ('principals', principals)):
        items.extend(collect(problems, where, build) or [])
    if problems:
        raise ItemErrors(problems)
    return items


def build_items(account, entry, defaults):
    """Every item of an account, in order; ``ItemErrors`` naming every bad one."""
    problems = []
    items = collect(problems, 'ssh_keys', lambda: key_items(account, entry, defaults)) or []
    items.extend(collect(problems, 'authorized_keys', lambda: other_items(account, entry, defaults)) or [])
    if problems:
        raise ItemErrors(problems)
    return items


class AccountRun:
    """The items of one account, their plans and how the account fared."""

    def __init__(self, entry):
        self.entry = entry
        self.name = entry.get('name')
        self.items = []
        self.error = None
        self.applied = False
        # create: the user is missing and this call creates it; the other items
        # are planned for the predicted account and planned again once it exists.
        self.creating = False
        self.lock_keys = []      # the locks taken ahead for it (released after its items)
        self.account = None      # its Account once resolved
        self.problems = []       # ItemErrors of its items (every bad item, reported together)

    @property
    def changed(self):
        return any(item.plan is not None and item.plan.changed for item in self.items)

    @property
    def done_anything(self):
        return any(item.done for item in self.items)

    def fail(self, item, exc):
        where = 'account %s' % self.name
        if isinstance(exc, ItemErrors) and len(exc.errors) == 1:
            exc = exc.errors[0]
        if isinstance(exc, ItemErrors):
            where += ' (%d problems)' % len(exc.errors)
        elif isinstance(exc, ItemError):
            where += ', %s' % exc.where
        elif item is not None:
            where += ', %s' % item.label()
        self.error = KeysmithError('%s: %s' % (where, exc.msg), **exc.details)
        return self.error

    def fail_unexpected(self, item, exc):
        """A bug in one account's operation fails that account only, with the traceback."""
        return self.fail(item, KeysmithError('unexpected %s: %s' % (type(exc).__name__, exc),
                                             exception=traceback.format_exc()))

    def lock_requests(self, late=None):
        """(item, Tree, parts) of every flock applying its plans takes (``late``:
        of its late items only, or of the others; None: all)."""
        for item in self.items:
            if late is not None and item.late != late:
                continue
            if item.plan is not None and item.plan.changed:
                for tree, parts in item.operation.lock_requests(item.plan):
                    yield item, tree, parts


class ProvisionPlan(Plan):
    """The plans of all accounts; applying it applies account by account."""

    def __init__(self, provision):
        super(ProvisionPlan, self).__init__()
        self.provision = provision

    def apply(self):
        return self.provision.apply(self).done

    def diff(self, outcome=None):
        """One diff per changed item (Ansible renders a list of diffs in
        order), each with what applying its plan learnt."""
        outcomes = outcome.items if isinstance(outcome, ProvisionOutcome) else {}
        diffs = []
        for run in self.provision.runs:
            for item in run.items:
                if item.plan is None or not item.plan.changed:
                    continue
                diff = item.plan.diff(outcomes.get(id(item)))
                diff['before_header'] = diff['after_header'] = '%s: %s' % (run.name, diff['before_header'])
                diffs.append(diff)
        return diffs


class ProvisionOutcome(Outcome):
    """The outcome of every item applied, by ``id()`` of the item."""

    def __init__(self, done, items, skipped=None):
        super(ProvisionOutcome, self).__init__(done=done, skipped=skipped)
        self.items = items

    @property
    def changed(self):
        return bool(self.done)


class Provision(Operation):
    """``provision``'s operation: plan every account, then apply.

    ``atomic``: any error while planning fails the task before anything is
    written; then every flock the plans need is taken before anything is
    written (one that cannot be had fails the task, naming the account, and
    nothing is written); an error while applying stops the run and the failure
    says exactly what was already done (``changed``). Otherwise an account with
    a bad item is reported (account and item named) and the other accounts are
    still provisioned; the task fails at the end, listing every failed account.

    ``lock_timeout``: one wait for the whole call (``Locks``): accounts whose
    locks are free are done first, the others retried until that one deadline.
    An unexpected error in one account's operation fails that account (with
    the traceback in its ``exception``), not the others.
    """

    def __init__(self, accounts, atomic=False, backend='auto', follow=False, report='full',
                 lock_timeout=None):
        if not isinstance(accounts, list):
            raise InvalidInput('accounts must be a list')
        names, problems = set(), []
        for index, entry in enumerate(accounts):
            name = entry.get('name') if isinstance(entry, dict) else None
            if not name:
                problems.append('accounts[%d]: name is required' % index)
            elif name in names:
                problems.append('account %s is listed twice in accounts; merge its items' % name)
            names.add(name)
        if problems:
            raise InvalidInput('; '.join(problems))
        self.runs = [AccountRun(entry) for entry in accounts]
        self.run_named = dict((run.name, run) for run in self.runs)
        self.atomic = atomic
        self.locks = Locks(lock_timeout)
        self.stopped = None      # atomic: the account whose failure stopped the run
        # references: an authorized_keys item naming a key of an account (self.reference)
        self.defaults = {'backend': backend, 'follow': follow, 'locks': self.locks, 'references': self}
        # check mode is the run's: the runner tells it when it opens the session
        self.check_mode = False
        if report not in REPORTS:
            raise InvalidInput('report must be one of %s, got %r' % (', '.join(REPORTS), report))
        self.report = report

    def session(self, applying=True):
        self.check_mode = not applying
        return super(Provision, self).session(applying)

    def plan(self):
        """Every account's key pairs first, then every account's other items
        (which may name a key another account makes); every bad item of every
        account is found before anything is written, and atomic fails with
        all of them in one message."""
        plan = ProvisionPlan(self)
        for run in self.runs:
            self._plan_account(run)
        for run in self.runs:
            self._plan_other_items(run)
        failed = [run for run in self.runs if run.error is not None]
        if failed and self.atomic:
            raise KeysmithError('%s (atomic: nothing was written)' % '; '.join(run.error.msg for run in failed),
                                **(failed[0].error.details if len(failed) == 1 else {}))
        for run in self.runs:
            if run.error is not None:
                continue
            missing_user = 'user %s does not exist yet' % run.name
            for item in run.items:
                if item.plan is None:
                    continue
                for text in item.plan.warnings:
                    if run.creating and text.startswith(missing_user):
                        continue  # this call creates it
                    plan.warn('account %s, %s: %s' % (run.name, item.label(), text))
                plan.merge_grouped(item.plan)
                plan.deprecations.extend(item.plan.deprecations)
                plan.actions.extend(item.plan.actions)
        return plan

    def _user_item(self, run):
        """The user creation item of an account with ``create``, planned; else None."""
        entry = run.entry
        if not entry.get('create'):
            return None
        spec = named('user', lambda: UserSpec(
            run.name, home=entry.get('home'), uid=entry.get('uid'), group=entry.get('group'),
            groups=entry.get('groups'), shell=entry.get('shell'), comment=entry.get('comment'),
            system=entry.get('system'), password=entry.get('password')))
        item = Item('user', 'user', UserCreation(spec, locks=self.locks))
        item.make_plan(not self.check_mode)
        run.creating = item.plan.changed
        return item

    def _plan_account(self, run):
        """The user item and the key pairs of ``run``, planned (its other
        items: ``_plan_other_items``, once every account's key pairs are)."""
        item = None
        try:
            user_item = item = self._user_item(run)
            run.account = Account.resolve(run.name, run.entry.get('home'),
                                          check_mode=self.check_mode or run.creating)
            run.items = [user_item] if user_item is not None else []
            try:
                run.items.extend(key_items(run.account, run.entry, self.defaults))
            except ItemErrors as exc:
                run.problems.extend(exc.errors)
                return
            for item in run.items:
                if item is not user_item:
                    item.make_plan(not self.check_mode)
        except KeysmithError as exc:
            run.fail(item, exc)
        except Exception as exc:  # pylint: disable=broad-except
            run.fail_unexpected(item, exc)

    def _plan_other_items(self, run):
        """``run``'s authorized_keys and ssl items, checked (every bad item of
        the account named together) and planned."""
        if run.error is not None or run.account is None:
            return
        item = None
        try:
            try:
                items = other_items(run.account, run.entry, self.defaults)
            except ItemErrors as exc:
                run.problems.extend(exc.errors)
            if run.problems:
                run.fail(None, ItemErrors(run.problems))
                return
            run.items.extend(items)
            for item in items:
                item.make_plan(not self.check_mode)
        except KeysmithError as exc:
            run.fail(item, exc)
        except Exception as exc:  # pylint: disable=broad-except
            run.fail_unexpected(item, exc)

    # ------------------------------------------------ keys named by an item
    def _producer(self, run, key_name):
        """The ssh_keys item of ``run`` that makes ``~/.ssh/KEY_NAME``, or None."""
        path = os.path.normpath(private_key_path(run.account, key_name))
        for item in run.items:
            if item.kind == 'ssh_key' and os.path.normpath(item.operation.spec.path) == path:
                return item
        return None

    def reference(self, owner, key_name):
        """(PublicKey, None) of the key ``key_name`` of account ``owner`` as
        it is or as this call leaves it, or (None, resolve) for a key this
        call makes: ``resolve()`` returns it once made. The key pairs of every
        account are planned when this is asked."""
        label = key_label(owner, key_name)
        run = self.run_named.get(owner)
        if run is None:
            # an account this call does not manage: its key as it is
            return read_public_key(Account.resolve(owner, check_mode=self.check_mode), key_name), None
        if run.error is not None or run.account is None or run.problems:
            raise KeysmithError('%s: account %s failed (see its error)' % (label, owner))
        producer = self._producer(run, key_name)
        if producer is None:
            if run.creating:
                raise NotFound('%s: user %s is created by this call and no ssh_keys item of it makes %s'
                               % (label, owner, key_name))
            return read_public_key(run.account, key_name), None
        if producer.operation.spec.state == 'absent':
            raise InvalidInput('%s is removed by %s of account %s in this call' % (label, producer.name, owner))
        if producer.operation.key is None or plan_generates(producer.plan):
            return None, lambda: self._made_key(owner, key_name)
        return producer.operation.key, None

    def _made_key(self, owner, key_name):
        """Applying: the key ``key_name`` of ``owner`` this call has made."""
        run = self.run_named[owner]
        producer = self._producer(run, key_name) if run.account is not None else None
        if producer is None or producer.outcome is None or producer.operation.key is None:
            raise KeysmithError('%s was not generated: account %s %s' % (
                key_label(owner, key_name), owner, 'failed' if run.error is not None else 'was not applied'))
        return producer.operation.key

    def _plan_created_account(self, run):
        """Plan the items again for the user this call has just created."""
        account = run.account = Account.resolve(run.name, run.entry.get('home'))
        items = build_items(account, run.entry, self.defaults)
        for item in items:
            item.make_plan(not self.check_mode)
        for predicted, item in zip(run.items[1:], items):
            # the same entry, so the same key: the one computed ahead for the
            # predicted plan is this plan's (if this plan makes a key at all)
            future = getattr(predicted.operation, 'ahead', None)
            if future is not None and predicted.kind == item.kind and plan_generates(item.plan):
                item.operation.ahead, predicted.operation.ahead = future, None
        run.items = run.items[:1] + items

    def apply(self, plan):
        """Apply each account's plans; stop an account at its first error.

        The new keys of every plan are computed ahead on the host's CPUs
        (``KeysAhead``; key generation is nearly all of a first run's time)
        while the plans are applied one after the other. The users to create
        come first: each account's other items are then planned again for its
        new user, and take over the keys computed for the predicted plan.

        Locks: an account is applied once every flock its plans need is taken
        (without waiting); an account whose lock another process holds is
        passed over and tried again after the others, until the call's one
        lock deadline (``Locks``). Atomic: all the locks first, then apply."""
        outcomes = {}
        runs = [run for run in self.runs if run.error is None and run.changed]
        try:
            with KeysAhead((item.operation, item.plan) for run in runs
                           for item in run.items if item.plan is not None):
                if not self.atomic or self._lock_all(runs):
                    for run in runs:
                        if run.creating and self.stopped is None:
                            self._apply_items(run, run.items[:1], outcomes)
                    self._apply_runs(runs, outcomes)
        finally:
            self.locks.release()
        items = [item for run in self.runs for item in run.items]
        outcome = ProvisionOutcome([text for item in items for text in item.done], outcomes,
                                   [text for item in items if item.outcome is not None
                                    for text in item.outcome.skipped])
        outcome.warnings = ['account %s, %s: %s' % (run.name, item.label(), text)
                            for run in self.runs for item in run.items if item.outcome is not None
                            for text in item.outcome.warnings]
        return outcome

    def _take_locks(self, run, requests):
        """Take the locks of ``requests`` (of ``run``) without waiting: the
        (item, path) of those another process holds ([] when all are held
        now; a directory still to be made is locked when it is written)."""
        busy = []
        for item, tree, parts in requests:
            try:
                key = tree.lock_ahead(parts, self.locks)
            except KeysmithError as exc:
                run.fail(item, exc)
                return []
            if key is None:
                busy.append((item, tree, parts))
            elif key is not MISSING:
                run.lock_keys.append(key)
        return busy

    def _lock_all(self, runs):
        """Atomic: every lock of every account before anything is written,
        retried until the one deadline. False (nothing written, the accounts
        whose locks are held failed) when some cannot be had."""
        wanted = dict((id(run), list(run.lock_requests())) for run in runs)
        while True:
            for run in runs:
                if run.error is None and wanted[id(run)]:
                    wanted[id(run)] = self._take_locks(run, wanted[id(run)])
            failed = [run for run in runs if run.error is not None]
            waiting = [run for run in runs if wanted[id(run)] and run.error is None]
            if failed or not waiting or self.locks.expired():
                break
            self.locks.pause()
        if not failed:
            for run in waiting:
                item, tree, parts = wanted[id(run)][0]
                run.fail(item, self.locks.timed_out(tree.path(parts)))
            failed = waiting
        if failed:
            self.stopped = failed[0]
            return False
        return True

    def _apply_runs(self, runs, outcomes):
        """Every account's items, then the late ones (an authorized_keys item
        naming a key another account makes: made by then, wherever that
        account is in the list)."""
        self._apply_pass(runs, outcomes, late=False)
        late = [run for run in runs if run.error is None and any(item.late for item in run.items)]
        if late and self.stopped is None:
            self._apply_pass(late, outcomes, late=True)

    def _apply_pass(self, runs, outcomes, late):
        pending = [run for run in runs if run.error is None]
        while pending:
            deferred = []
            for run in pending:
                if self.stopped is not None or run.error is not None:
                    continue
                if not self.atomic:
                    busy = self._take_locks(run, list(run.lock_requests(late)))
                    if busy:
                        self.locks.release(run.lock_keys)
                        run.lock_keys = []
                        deferred.append((run, busy[0]))
                        continue
                    if run.error is not None:
                        continue
                try:
                    self._apply_items(run, [item for item in (run.items[1:] if run.creating else run.items)
                                            if item.late == late], outcomes)
                finally:
                    if not self.atomic:
                        self.locks.release(run.lock_keys)
                        run.lock_keys = []
                run.applied = run.error is None
            if not deferred:
                return
            if self.locks.expired():
                for run, (item, tree, parts) in deferred:
                    run.fail(item, self.locks.timed_out(tree.path(parts)))
                return
            self.locks.pause()
            pending = [run for run, dummy in deferred]

    def _apply_items(self, run, items, outcomes):
        for item in items:
            try:
                item.outcome = outcomes[id(item)] = item.operation.apply(item.plan)
                item.done = item.outcome.done
                if item.kind == 'user' and run.creating:
                    # the user exists now: its items are planned for it
                    item = None
                    self._plan_created_account(run)
            except KeysmithError as exc:
                if item is not None:
                    item.done = exc.details.get('done', [])
                run.fail(item, exc)
            except Exception as exc:  # pylint: disable=broad-except
                run.fail_unexpected(item, exc)
            if run.error is not None:
                if self.atomic:
                    self.stopped = run
                return

    def result(self, plan, applied):
        accounts = []
        for run in self.runs:
            # In a real run an account changed when something was done for it.
            changed = run.done_anything if applied else run.changed and run.error is None
            entry = {'name': run.name, 'changed': changed, 'items': []}
            if run.error is not None:
                entry['failed'] = True
                entry['msg'] = run.error.msg
                if run.error.details.get('exception'):
                    entry['exception'] = run.error.details['exception']
            elif applied and self.stopped is not None and run.changed and not run.applied:
                entry['msg'] = 'not applied: the atomic run stopped at account %s' % self.stopped.name
            for item in run.items:
                if item.plan is None:
                    continue
                item_result = item.operation.result(item.plan, applied and run.applied)
                item_changed = item.plan.changed
                if applied:
                    item_changed = (item.plan.changed and item.outcome.changed if item.outcome is not None
                                    else bool(item.done))
                    if item.outcome is not None and item_result.get('actions') == item.plan.describe():
                        item_result['actions'] = item.outcome.actions(item_result['actions'])
                item_result.update({'kind': item.kind, 'item': item.name, 'changed': item_changed})
                entry['items'].append(item_result)
            accounts.append(entry)
        result = {'accounts': accounts, 'actions': plan.describe()}
        failed = [run for run in self.runs if run.error is not None]
        if self.report == 'summary':
            summarize(result)
        if failed:
            changed = any(run.done_anything for run in self.runs) if applied else None
            raise PartialFailure(self._failure_msg(failed, applied), result, changed=changed)
        return result

    def _failure_msg(self, failed, applied):
        errors = '; '.join(run.error.msg for run in failed)
        if not self.atomic:
            return '%d of %d accounts failed: %s' % (len(failed), len(self.runs), errors)
        done = ['account %s (%s)' % (run.name, ', '.join(text for item in run.items for text in item.done))
                for run in self.runs if run.done_anything]
        if not applied or not done:
            return 'atomic: %s (nothing was written)' % errors
        left = [run.name for run in self.runs if run.changed and not run.applied and run.error is None]
        return 'atomic: %s; changed before the failure: %s%s' % (
            errors, '; '.join(done), '; not applied: %s' % ', '.join(left) if left else '')


REPORTS = ('full', 'summary')


def summarize(result):
    """``report: summary``: counts, and only the accounts and items that changed or failed.

    For thousands of accounts, where a full result (every item of every account)
    is too large for a callback or an AWX job event; a rerun that changes
    nothing is then a few hundred bytes."""
    accounts = result['accounts']
    result['counts'] = {
        'accounts': len(accounts),
        'changed': sum(1 for entry in accounts if entry['changed']),
        'failed': sum(1 for entry in accounts if entry.get('failed')),
        'items': sum(len(entry['items']) for entry in accounts),
        'changed_items': sum(1 for entry in accounts for item in entry['items'] if item['changed']),
    }
    result['counts']['unchanged'] = result['counts']['accounts'] - result['counts']['changed'] - sum(
        1 for entry in accounts if entry.get('failed') and not entry['changed'])
    kept = []
    for entry in accounts:
        if entry['changed'] or entry.get('failed'):
            entry['items'] = [item for item in entry['items'] if item['changed']]
            kept.append(entry)
    result['accounts'] = kept
