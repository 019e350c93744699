# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh_authkey operation: plan, apply, check mode, locking."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import multiprocessing
import os
import stat
import threading

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._account import Account
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import (
    InvalidInput,
    KeysmithError,
    NotFound,
    UnsafePath,
)
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.authorized_keys.operation import (
    AuthKeySpec,
    SshAuthKey,
    resolve_state,
)
from ansible_collections.keysmith.accounts.tests.unit.plugins.module_utils.operation_runner import run_op


def home(tmp_path):
    return tmp_path / 'home'


def akfile(tmp_path):
    return home(tmp_path) / '.ssh' / 'authorized_keys'


def run(tmp_path, check_mode=False, user=None, **options):
    """Plan and (unless check mode) apply, by run_operation."""
    account = Account.resolve(user, str(home(tmp_path)), check_mode=check_mode)
    return run_op(SshAuthKey(AuthKeySpec(account, **options)), check_mode)


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def actions(result):
    return [(k['type'], k['action']) for k in result['keys']]


def test_add_creates_dir_and_file(keyset, tmp_path):
    line = keyset.lines['ssh-ed25519']
    plan, result = run(tmp_path, key=line)
    assert plan.changed
    assert plan.describe() == ['create directory %s (0700)' % akfile(tmp_path).parent,
                               'create %s (add 1 key)' % akfile(tmp_path)]
    assert akfile(tmp_path).read_text() == line + '\n'
    assert mode_of(akfile(tmp_path)) == 0o600
    assert mode_of(akfile(tmp_path).parent) == 0o700
    assert result['authorized'] is True
    assert result['file'] is None
    assert result['path'] == str(akfile(tmp_path))
    assert result['keys'] == [{'fingerprint': keyset_fp(line), 'type': 'ssh-ed25519',
                               'comment': line.split()[2], 'options': '', 'action': 'added'}]
    assert plan.before is None and plan.after == line + '\n'
    plan, result = run(tmp_path, key=line)
    assert not plan.changed
    assert actions(result) == [('ssh-ed25519', 'unchanged')]


def keyset_fp(line):
    from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
    return PublicKey.from_line(line).fingerprint_sha256


def test_many_keys_list_and_multiline(keyset, tmp_path):
    lines = [keyset.lines[t] for t in ('ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp384',
                                       'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com')]
    text = '# team keys\n\n' + '\n'.join(lines[:3]) + '\n'
    plan, result = run(tmp_path, key=[text, lines[3], lines[4]])
    assert [k['action'] for k in result['keys']] == ['added'] * 5
    assert akfile(tmp_path).read_text() == '\n'.join(lines) + '\n'
    plan, result = run(tmp_path, key=[text, lines[3], lines[4]])
    assert not plan.changed


def test_options_update_in_place_and_keep_other_lines(keyset, tmp_path):
    a, b = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    akfile(tmp_path).parent.mkdir(parents=True, mode=0o700)
    original = '# top\n%s\n  # middle\n%s\nnot a key\n' % (a, b)
    akfile(tmp_path).write_text(original)
    os.chmod(str(akfile(tmp_path)), 0o600)
    plan, result = run(tmp_path, key=a, options='from="10.0.0.0/8", no-pty')
    assert actions(result) == [('ssh-ed25519', 'updated')]
    assert plan.describe() == ['update %s (update 1 key)' % akfile(tmp_path)]
    assert akfile(tmp_path).read_text() == original.replace(a, 'from="10.0.0.0/8",no-pty ' + a)
    assert result['keys'][0]['options'] == 'from="10.0.0.0/8",no-pty'
    # the same options, written another way: unchanged
    plan, result = run(tmp_path, key=a, options='FROM="10.0.0.0/8",No-Pty')
    assert not plan.changed
    # options in the key text are used when the options option is omitted
    plan, result = run(tmp_path, key='no-pty,from="10.0.0.0/8" ' + a)
    assert actions(result) == [('ssh-ed25519', 'updated')]
    assert 'no-pty,from="10.0.0.0/8" ' + a in akfile(tmp_path).read_text()
    # no options: removed again
    plan, result = run(tmp_path, key=a)
    assert akfile(tmp_path).read_text() == original


def test_comment_overrides(keyset, tmp_path):
    a, b = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    run(tmp_path, key=[a, b], comment='managed by ansible')
    body = akfile(tmp_path).read_text().splitlines()
    assert [line.split(' ', 2)[2] for line in body] == ['managed by ansible'] * 2
    plan, result = run(tmp_path, key=[a, b])
    assert [k['action'] for k in result['keys']] == ['updated', 'updated']
    assert akfile(tmp_path).read_text() == '%s\n%s\n' % (a, b)


def test_remove_and_authorize_false(keyset, tmp_path):
    a, b = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    run(tmp_path, key=[a, b])
    plan, result = run(tmp_path, key=a, authorize=False)
    assert actions(result) == [('ssh-ed25519', 'removed')]
    assert result['authorized'] is False and result['state'] == 'absent'
    assert akfile(tmp_path).read_text() == b + '\n'
    plan, result = run(tmp_path, key=a, state='absent')
    assert not plan.changed and actions(result) == [('ssh-ed25519', 'unchanged')]


def test_absent_without_file_creates_nothing(keyset, tmp_path):
    home(tmp_path).mkdir()
    plan, result = run(tmp_path, key=keyset.lines['ssh-ed25519'], state='absent')
    assert not plan.changed
    assert not akfile(tmp_path).parent.exists()


def test_exclusive(keyset, tmp_path):
    a, b, c = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa'], keyset.lines['ecdsa-sha2-nistp256']
    akfile(tmp_path).parent.mkdir(parents=True, mode=0o700)
    akfile(tmp_path).write_text('# keep me\n%s\n%s\n%s\n%s\n' % (a, b, c, b))
    plan, result = run(tmp_path, key=[c], exclusive=True)
    assert sorted(actions(result)) == sorted([('ecdsa-sha2-nistp256', 'unchanged'),
                                              ('ssh-ed25519', 'removed'), ('ssh-rsa', 'removed')])
    assert akfile(tmp_path).read_text() == '# keep me\n%s\n' % c
    plan, result = run(tmp_path, key=[], exclusive=True)
    assert akfile(tmp_path).read_text() == '# keep me\n'


def test_duplicates_reported_and_handled(keyset, tmp_path):
    a, b = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    akfile(tmp_path).parent.mkdir(parents=True, mode=0o700)
    akfile(tmp_path).write_text('from="10.9.9.9" %s\n%s\n%s\n%s\n%s\n' % (a, b, a, b, a))
    plan, result = run(tmp_path, key=a, options='from="10.9.9.9"')
    assert actions(result) == [('ssh-ed25519', 'updated')]
    assert [(d['type'], d['lines'], d['action']) for d in result['duplicates']] == [
        ('ssh-ed25519', [1, 3, 5], 'removed duplicates'), ('ssh-rsa', [2, 4], 'kept')]
    assert len(plan.warnings) == 2 and 'lines 1, 3, 5' in plan.warnings[0]
    assert akfile(tmp_path).read_text() == 'from="10.9.9.9" %s\n%s\n%s\n' % (a, b, b)


@pytest.mark.parametrize('options', [
    dict(options='from="10.0.0.1"'),
    dict(state='absent'),
    dict(exclusive=True),
    dict(comment='x'),
])
def test_check_mode_reports_what_a_real_run_does(keyset, tmp_path, options):
    a, b, c = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa'], keyset.lines['ecdsa-sha2-nistp256']
    akfile(tmp_path).parent.mkdir(parents=True, mode=0o755)
    original = '%s\n%s\n# c\n%s\n' % (a, b, a)
    akfile(tmp_path).write_text(original)
    check_plan, check_result = run(tmp_path, check_mode=True, key=[a, c], **options)
    assert akfile(tmp_path).read_text() == original
    assert mode_of(akfile(tmp_path).parent) == 0o755
    plan, result = run(tmp_path, key=[a, c], **options)
    assert check_plan.describe() == plan.describe()
    assert check_result == result
    assert check_plan.after == akfile(tmp_path).read_text()
    assert check_plan.before == original


def test_check_mode_for_missing_user(keyset, tmp_path):
    plan, result = run(tmp_path, check_mode=True, user='ks-no-such-user-4242',
                       key=keyset.lines['ssh-ed25519'])
    assert plan.changed
    assert any('does not exist yet' in w for w in plan.warnings)
    assert [k['action'] for k in result['keys']] == ['added']
    with pytest.raises(NotFound):
        run(tmp_path, user='ks-no-such-user-4242', key=keyset.lines['ssh-ed25519'])


def test_bad_key_fails_and_leaves_the_file(keyset, tmp_path):
    a = keyset.lines['ssh-ed25519']
    run(tmp_path, key=a)
    before = akfile(tmp_path).read_bytes()
    b64 = keyset.lines['ssh-rsa'].split()[1]
    with pytest.raises(InvalidInput, match=r'key #2: .*not valid base64') as info:
        run(tmp_path, key=[keyset.lines['ssh-rsa'], 'ssh-rsa ' + b64[:-8] + '!!!!!!!!'])
    assert b64 not in info.value.msg
    assert akfile(tmp_path).read_bytes() == before


@pytest.mark.parametrize('options, message', [
    (dict(options='frobnicate'), 'options: unknown key option'),
    (dict(options='command="a\\"'), 'missing end quote'),
    (dict(state='present', authorize=False), 'contradicts'),
    (dict(state='absent', exclusive=True), 'exclusive only applies'),
    (dict(key=[]), 'only allowed with exclusive'),
    (dict(key=None), 'exactly one of key'),
    (dict(key_file='relative.pub', key=None), 'absolute path'),
    (dict(path='relative/authorized_keys'), 'absolute or start with ~/'),
    (dict(comment='a\nb'), 'single line'),
])
def test_bad_options(keyset, tmp_path, options, message):
    options.setdefault('key', keyset.lines['ssh-ed25519'])
    with pytest.raises(InvalidInput, match=message):
        run(tmp_path, **options)


def test_same_key_twice_in_the_task(keyset, tmp_path):
    a = keyset.lines['ssh-ed25519']
    plan, result = run(tmp_path, key=[a, a])
    assert len(result['keys']) == 1 and any('repeats' in w for w in plan.warnings)
    with pytest.raises(InvalidInput, match='different options'):
        run(tmp_path, key=[a, 'no-pty ' + a])


def test_resolve_state():
    assert resolve_state(None, None) == 'present'
    assert resolve_state(None, False) == 'absent'
    assert resolve_state('absent', False) == 'absent'


def test_key_file(keyset, tmp_path):
    pub = tmp_path / 'several.pub'
    pub.write_text('%s\n\n# x\n%s\n' % (keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']))
    plan, result = run(tmp_path, key_file=str(pub), key=None)
    assert result['file'] == str(pub)
    assert [k['action'] for k in result['keys']] == ['added', 'added']
    with pytest.raises(NotFound, match='does not exist'):
        run(tmp_path, key_file=str(tmp_path / 'missing.pub'), key=None)
    plan, result = run(tmp_path, check_mode=True, key_file=str(tmp_path / 'missing.pub'), key=None)
    assert plan.changed and any('does not exist' in w for w in plan.warnings)
    bad = tmp_path / 'bad.pub'
    bad.write_text(keyset.lines['ssh-rsa'] + '\nssh-ed25519 AAAAbroken\n')
    with pytest.raises(InvalidInput, match='bad.pub line 2'):
        run(tmp_path, key_file=str(bad), key=None)
    private = tmp_path / 'id'
    private.write_text('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n'
                       '-----END OPENSSH PRIVATE KEY-----\n')
    with pytest.raises(InvalidInput, match='private key') as info:
        run(tmp_path, key_file=str(private), key=None)
    assert 'b3Bl' not in info.value.msg


def test_symlinks_refused_unless_follow(keyset, tmp_path):
    a = keyset.lines['ssh-ed25519']
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o700)
    (target / 'authorized_keys').write_text('# real\n')
    ssh = akfile(tmp_path).parent
    ssh.mkdir(parents=True, mode=0o700)
    akfile(tmp_path).symlink_to(target / 'authorized_keys')
    with pytest.raises(UnsafePath, match='symbolic link'):
        run(tmp_path, key=a)
    with pytest.raises(UnsafePath, match='symbolic link'):
        run(tmp_path, check_mode=True, key=a)
    assert (target / 'authorized_keys').read_text() == '# real\n'
    run(tmp_path, key=a, follow=True)
    assert (target / 'authorized_keys').read_text() == '# real\n%s\n' % a
    assert os.path.islink(str(akfile(tmp_path)))
    # a symlinked ~/.ssh
    akfile(tmp_path).unlink()
    ssh.rmdir()
    ssh.symlink_to(target)
    with pytest.raises(UnsafePath, match='symbolic link'):
        run(tmp_path, key=keyset.lines['ssh-rsa'])


def test_manage_dir_false(keyset, tmp_path):
    home(tmp_path).mkdir()
    with pytest.raises(NotFound, match='manage_dir is false'):
        run(tmp_path, key=keyset.lines['ssh-ed25519'], manage_dir=False)
    akfile(tmp_path).parent.mkdir(mode=0o755)
    run(tmp_path, key=keyset.lines['ssh-ed25519'], manage_dir=False)
    assert mode_of(akfile(tmp_path).parent) == 0o755
    assert mode_of(akfile(tmp_path)) == 0o600


def test_fixes_mode_without_rewriting(keyset, tmp_path):
    run(tmp_path, key=keyset.lines['ssh-ed25519'])
    os.chmod(str(akfile(tmp_path)), 0o644)
    os.chmod(str(akfile(tmp_path).parent), 0o755)
    plan, result = run(tmp_path, key=keyset.lines['ssh-ed25519'])
    assert plan.describe() == ['set mode and owner of %s (0700)' % akfile(tmp_path).parent,
                               'set mode and owner of %s (0600)' % akfile(tmp_path)]
    assert mode_of(akfile(tmp_path)) == 0o600 and mode_of(akfile(tmp_path).parent) == 0o700


def test_backup(keyset, tmp_path):
    run(tmp_path, key=keyset.lines['ssh-ed25519'])
    before = akfile(tmp_path).read_bytes()
    plan, result = run(tmp_path, key=keyset.lines['ssh-rsa'], backup=True)
    assert open(result['backup_file'], 'rb').read() == before
    assert mode_of(result['backup_file']) == 0o600
    plan, result = run(tmp_path, key=keyset.lines['ssh-rsa'], backup=True)
    assert 'backup_file' not in result


def test_custom_path_in_home(keyset, tmp_path):
    plan, result = run(tmp_path, key=keyset.lines['ssh-ed25519'], path='~/.ssh/authorized_keys2')
    assert result['path'] == str(home(tmp_path) / '.ssh' / 'authorized_keys2')
    assert (home(tmp_path) / '.ssh' / 'authorized_keys2').exists()


def test_diff_shows_the_file(keyset, tmp_path):
    a, b = keyset.lines['ssh-ed25519'], keyset.lines['ssh-rsa']
    run(tmp_path, key=a)
    plan, result = run(tmp_path, key=b)
    diff = plan.diff()
    assert diff['before'] == a + '\n' and diff['after'] == '%s\n%s\n' % (a, b)
    assert diff['before_header'] == str(akfile(tmp_path))


# --------------------------------------------------------------------------- concurrency

def _add_in_child(tmp, line, barrier_path):
    # wait until every child is ready, then plan and apply at the same time
    while not os.path.exists(barrier_path):
        pass
    try:
        account = Account.resolve(None, os.path.join(tmp, 'home'))
        operation = SshAuthKey(AuthKeySpec(account, key=line))
        plan = operation.plan()
        if plan.changed:
            plan.apply()
    except KeysmithError as exc:
        print(exc.msg)
        os._exit(1)
    os._exit(0)


def test_concurrent_processes_lose_no_key(keyset, tmp_path):
    home(tmp_path).mkdir()
    lines = [keyset.make('ed25519') for dummy in range(8)]
    barrier = str(tmp_path / 'go')
    ctx = multiprocessing.get_context('fork')
    children = [ctx.Process(target=_add_in_child, args=(str(tmp_path), line, barrier)) for line in lines]
    for child in children:
        child.start()
    open(barrier, 'w').close()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    body = akfile(tmp_path).read_text().splitlines()
    assert sorted(body) == sorted(lines)


def test_concurrent_threads_lose_no_key(keyset, tmp_path):
    home(tmp_path).mkdir()
    lines = [keyset.make('ed25519') for dummy in range(8)]
    start = threading.Barrier(len(lines))
    errors = []

    def add(line):
        try:
            account = Account.resolve(None, str(home(tmp_path)))
            operation = SshAuthKey(AuthKeySpec(account, key=line))
            start.wait()
            plan = operation.plan()
            if plan.changed:
                plan.apply()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(akfile(tmp_path).read_text().splitlines()) == sorted(lines)


def test_exclusive_with_no_keys_and_no_file_does_nothing(tmp_path):
    home(tmp_path).mkdir()
    plan, result = run(tmp_path, key=[], exclusive=True)
    assert not plan.changed and result['keys'] == []
    assert not akfile(tmp_path).parent.exists()
