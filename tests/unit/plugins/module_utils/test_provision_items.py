# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""provision's items take the single modules' options (picked from the same spec
pieces), and do with them what the single modules do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import subprocess

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils import _specs
from ansible_collections.keysmith.accounts.plugins.module_utils._provision import Provision
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys import operation as authkey_code
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.genkey import spec as genkey_code
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair import operation as keypair_code
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keypair import registry as keypair_registry
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import csr as csr_code
from ansible_collections.keysmith.accounts.plugins.module_utils._tls import keys as tls_keys_code
from ansible_collections.keysmith.accounts.plugins.modules import provision
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op

ME = pwd.getpwuid(os.geteuid()).pw_name


def keygen(tmp_path, name):
    path = str(tmp_path / name)
    subprocess.check_call(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path],
                          stdin=subprocess.DEVNULL)
    with open(path) as private, open(path + '.pub') as public:
        return private.read(), public.read().strip()


def run(entries, check_mode=False):
    """Plan and (unless check mode) apply, by run_operation."""
    return run_op(Provision(entries, atomic=True), check_mode)


def authorized_keys(home):
    with open(os.path.join(home, '.ssh', 'authorized_keys')) as handle:
        return handle.read().splitlines()


# ---------------------------------------------------------------- the specs

@pytest.mark.parametrize('item, piece', [
    ('ssh_keys', _specs.SSH_GENKEY_OPTIONS),
    ('authorized_keys', _specs.SSH_AUTHKEY_OPTIONS),
    ('ssl', _specs.SSL_GENCSR_OPTIONS),
])
def test_item_options_are_the_modules_options(item, piece):
    options = provision.ACCOUNT_ITEM_OPTIONS[item]['options']
    for name, spec in options.items():
        if name in piece:
            # only required may differ: an item needs its key
            mine = dict((k, v) for k, v in spec.items() if k != 'required')
            theirs = dict((k, v) for k, v in piece[name].items() if k != 'required')
            assert mine == theirs, name
    required = set(name for name, spec in options.items() if spec.get('required'))
    assert required == {'ssh_keys': set(), 'authorized_keys': set(), 'ssl': {'host'}}[item]


@pytest.mark.parametrize('item, module_spec, extra', [
    ('ssh_keys', _specs.SSH_GENKEY, {}),
    ('authorized_keys', _specs.SSH_AUTHKEY, _specs.KEY_REFERENCE.constraints()),
    ('ssl', _specs.SSL_GENCSR, {}),
])
def test_item_constraints_are_the_modules_constraints(item, module_spec, extra):
    """An item keeps every constraint of its module among the options it
    picked (ssh_keys: name|path once came by hand), and adds only its own."""
    spec = provision.ACCOUNT_ITEM_OPTIONS[item]
    names = set(spec['options'])
    for kind in _specs.CONSTRAINTS:
        theirs = [tuple(entry) for entry in (getattr(module_spec, kind) if kind != 'required_by' else [])
                  if set(entry[:1] + tuple(entry[2]) if kind == 'required_if' else entry) <= names]
        mine = [tuple(entry) for entry in spec.get(kind, [])]
        assert sorted(mine, key=repr) == sorted(theirs + [tuple(e) for e in extra.get(kind, [])], key=repr), kind
    if item == 'ssh_keys':
        assert spec['mutually_exclusive'] == [('name', 'path')] and spec['required_one_of'] == [('name', 'path')]


def test_argument_spec_pick_keeps_the_constraints_among_the_picked_options():
    spec = _specs.ArgumentSpec(dict(a=dict(type='str', aliases=['x']), b=dict(type='str'), c=dict(type='int')),
                               mutually_exclusive=[('a', 'b'), ('a', 'c')], required_one_of=[['a', 'b']],
                               required_if=[('c', 1, ('a', 'b'), True)], required_by={'b': 'a'})
    picked = spec.pick(['a', 'b'], rename={'a': 'z'}, b=dict(default='q'))
    assert picked.argument_spec == {'z': {'type': 'str'}, 'b': {'type': 'str', 'default': 'q'}}
    assert picked.constraints() == {'mutually_exclusive': [('z', 'b')], 'required_one_of': [('z', 'b')],
                                    'required_by': {'b': 'z'}}
    merged = _specs.module_spec(picked, _specs.ArgumentSpec(dict(d=dict(type='bool')), required_together=[('d', 'b')]))
    kwargs = merged.module_kwargs()
    assert set(kwargs['argument_spec']) == {'z', 'b', 'd'}
    assert kwargs['required_together'] == [('d', 'b')] and kwargs['mutually_exclusive'] == [('z', 'b')]
    kwargs['argument_spec']['z']['type'] = 'int'          # a copy: the pieces stay as they are
    assert picked.argument_spec['z']['type'] == 'str' and spec.argument_spec['a']['aliases'] == ['x']
    # the whole object, as the modules build their AnsibleModule from it
    assert spec.pick().constraints() == spec.constraints()


def test_ssh_authkey_options_come_from_the_spec_objects():
    """ssh_authkey's lock_timeout and expiry options are named pieces, not added by hand."""
    merged = _specs.module_spec(_specs.SSH_AUTHKEY, _specs.SSH_AUTHKEY_EXPIRY, _specs.LOCKING, _specs.ACCOUNT)
    assert {'lock_timeout', 'expire_at', 'remove_expired', 'user', 'key', 'file'} <= merged.names()
    assert merged.mutually_exclusive == [('key', 'file')]
    assert provision.PROVISION.argument_spec['lock_timeout'] == _specs.LOCKING.argument_spec['lock_timeout']


def test_ssl_key_options_are_ssl_genkeys_renamed():
    options = provision.ACCOUNT_ITEM_OPTIONS['ssl']['options']
    for mine, theirs in (('type', 'type'), ('size', 'size'), ('key_passphrase', 'passphrase'),
                         ('regenerate', 'regenerate')):
        expected = dict(_specs.SSL_GENKEY_OPTIONS[theirs])
        expected.pop('aliases', None)
        # type and size keep their former names in an ssl item (key_type, key_size) as aliases
        assert dict(options[mine], aliases=None) == dict(expected, aliases=None)


def test_pick_copies():
    picked = _specs.pick(_specs.SSH_GENKEY_OPTIONS, ['type'])
    picked['type']['choices'].append('nope')
    assert 'nope' not in _specs.SSH_GENKEY_OPTIONS['type']['choices']


def test_spelled_out_choices_are_the_codes():
    assert _specs.SSH_GENKEY_OPTIONS['type']['choices'] == list(genkey_code.KEY_TYPES)
    assert _specs.SSH_GENKEY_OPTIONS['private_key_format']['choices'] == list(genkey_code.PRIVATE_KEY_FORMATS)
    assert _specs.REGENERATE == list(genkey_code.REGENERATE_CHOICES)
    assert _specs.SSH_AUTHKEY_OPTIONS['path']['default'] == authkey_code.DEFAULT_PATH
    assert _specs.SSL_GENKEY_OPTIONS['type']['choices'] == list(tls_keys_code.TLS_KEY_TYPES)
    assert _specs.SSL_GENCSR_OPTIONS['digest']['choices'] == list(csr_code.DIGESTS)
    assert _specs.KEYPAIR_OPTIONS['type']['choices'] == list(keypair_code.KEYPAIR_TYPES)
    assert _specs.KEYPAIR_OPTIONS['private_key_format']['choices'] == list(keypair_code.KEYPAIR_PRIVATE_KEY_FORMATS)
    assert _specs.KEYPAIR_OPTIONS['registry']['default'] == keypair_registry.DEFAULT_REGISTRY
    assert _specs.KEYPAIR_INFO_OPTIONS['registry']['default'] == keypair_registry.DEFAULT_REGISTRY


# ---------------------------------------------------------------- authorized keys

def test_options_and_comment_apply_to_every_key_of_an_item(tmp_path):
    _private, one = keygen(tmp_path, 'one')
    _private, two = keygen(tmp_path, 'two')
    home = str(tmp_path / 'home')
    run([{'name': ME, 'home': home, 'authorized_keys': [
        {'key': one + '\n' + two, 'options': 'no-pty,from="10.0.0.0/8"', 'comment': 'team'}]}])
    lines = authorized_keys(home)
    assert len(lines) == 2
    for line, key in zip(lines, (one, two)):
        assert line == 'no-pty,from="10.0.0.0/8" %s team' % ' '.join(key.split()[:2])


def test_a_list_of_keys_and_items_with_their_own_options(tmp_path):
    _private, one = keygen(tmp_path, 'one')
    _private, two = keygen(tmp_path, 'two')
    home = str(tmp_path / 'home')
    run([{'name': ME, 'home': home, 'authorized_keys': [
        {'key': [one], 'options': 'no-pty'}, {'key': two, 'comment': 'second'}]}])
    assert authorized_keys(home) == ['no-pty ' + one, ' '.join(two.split()[:2]) + ' second']
    plan, _result = run([{'name': ME, 'home': home, 'authorized_keys': [
        {'key': [one], 'options': 'no-pty'}, {'key': two, 'comment': 'second'}]}])
    assert not plan.changed


def test_a_newline_in_options_is_an_error_not_a_line(tmp_path):
    _private, one = keygen(tmp_path, 'one')
    _private, other = keygen(tmp_path, 'other')
    home = str(tmp_path / 'home')
    with pytest.raises(Exception, match=r'authorized_keys\[0\].*options.*single line'):
        run([{'name': ME, 'home': home, 'authorized_keys': [{'key': one, 'options': 'no-pty\n' + other}]}])
    assert not os.path.exists(os.path.join(home, '.ssh'))


def test_the_same_key_with_other_options_in_two_items_is_named(tmp_path):
    _private, one = keygen(tmp_path, 'one')
    with pytest.raises(Exception, match=r'authorized_keys\[0\] key #1 and authorized_keys\[1\] key #1'):
        run([{'name': ME, 'home': str(tmp_path / 'home'), 'authorized_keys': [
            {'key': one, 'options': 'no-pty'}, {'key': one}]}])


def test_revoke_by_item_state(tmp_path):
    _private, one = keygen(tmp_path, 'one')
    _private, two = keygen(tmp_path, 'two')
    home = str(tmp_path / 'home')
    run([{'name': ME, 'home': home, 'authorized_keys': [{'key': one}, {'key': two}]}])
    run([{'name': ME, 'home': home, 'authorized_keys': [{'key': two, 'state': 'absent'}]}])
    assert authorized_keys(home) == [one]


# ---------------------------------------------------------------- ssh keys: import and ppk

def test_key_import_and_ppk(tmp_path):
    private, public = keygen(tmp_path, 'imported')
    home = str(tmp_path / 'home')
    _plan, result = run([{'name': ME, 'home': home, 'ssh_keys': [
        {'name': 'id_imported', 'private_key': private, 'ppk': True}]}])
    item = result['accounts'][0]['items'][0]
    assert item['public_key'].split()[:2] == public.split()[:2]
    assert os.path.exists(os.path.join(home, '.ssh', 'id_imported.ppk'))
    assert private not in repr(result)
    plan, _result = run([{'name': ME, 'home': home, 'ssh_keys': [
        {'name': 'id_imported', 'private_key': private, 'ppk': True}]}])
    assert not plan.changed


def test_public_key_alone(tmp_path):
    _private, public = keygen(tmp_path, 'token')
    home = str(tmp_path / 'home')
    run([{'name': ME, 'home': home, 'ssh_keys': [{'name': 'token', 'public_key': public}]}])
    with open(os.path.join(home, '.ssh', 'token.pub')) as handle:
        assert handle.read().strip() == public
    assert not os.path.exists(os.path.join(home, '.ssh', 'token'))
