# Copyright: keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute every documented example: the modules' EXAMPLES and the docs' YAML snippets.

Used by ``tests/scripts/run-tests.sh examples`` (``make examples``, part of ``make test``)::

    python tests/examples/run_examples.py --collections-path DIR [--only NAME] [--keep]

Sources, in this order: ``plugins/modules/*.py`` (EXAMPLES), then the YAML blocks
(```yaml) of ``docs/quickstart.md``, ``docs/migration.md``, ``docs/roles/*.md``,
``docs/guides/*.md`` and ``roles/*/README.md`` - globs, so new modules, roles and
guides are picked up without a change here.  A block that is a list of tasks runs
as a play on localhost; a block that is a list of plays runs as written (its
``hosts`` groups are inventory groups holding localhost); any other block (a vars
file, an execution environment) is not an example and is listed as such.

One playbook per document, tasks in document order; all documents in one
``ansible-playbook`` run, first with ``--check --diff``, then normally; both must
succeed.  What the examples need is made at test time and stated below:

* **accounts**: each name of ``ACCOUNTS`` used in an example (``user: alice``, an
  item ``name: alice``, ``/home/alice/...``) is renamed to ``<prefix><NN><name>``
  (``ksex03alice``, NN the document's number: each document has its own accounts)
  in every string value of the document - whole words only, keys are never renamed
  - and that throwaway account is created before the runs and removed (with its
  home) after.  An account name that is not in ``ACCOUNTS`` is an
  error: real accounts are never touched.
* **paths** outside the throwaway homes (``/srv/...``, ``/root/...``, ``/tmp/...``)
  are moved below a temporary directory (``PATH_PREFIXES``); the ``keypair``
  registry is set there with ``module_defaults``.
* **files** read with ``lookup('ansible.builtin.file', ...)`` and **variables**
  (vault passphrases, keys) are generated: real keys from ``ssh-keygen``.
* **hosts**: other hosts an example names (``delegate_to: git.example.com``, the
  group ``registry``) are inventory aliases of localhost.

Examples that cannot run here are listed in ``NOT_RUNNABLE`` with the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import ast
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Account names the examples use; each becomes PREFIX + name, a throwaway account.
ACCOUNTS = ('alice', 'bob', 'deploy', 'backup', 'ci', 'ops', 'shop')
# Absolute paths outside the accounts' homes: moved below the temporary directory.
PATH_PREFIXES = ('/srv/', '/root/', '/tmp/')
# Task-list documents; a module's EXAMPLES is "plugins/modules/NAME.py".
DOC_GLOBS = ('docs/quickstart.md', 'docs/migration.md', 'docs/roles/*.md', 'docs/guides/*.md',
             'roles/*/README.md')
# (document, task or play name) -> why it cannot run here.  Keep this tiny.
NOT_RUNNABLE = {
}
# Options whose value is an account name (checked after renaming).
ACCOUNT_OPTIONS = ('user', 'owner', 'group', 'become_user')
ACCOUNT_LISTS = ('accounts', 'account_users', 'ssh_account_users', 'ssl_account_users')
PASSPHRASE = 'examples-passphrase-%d' % os.getpid()


def module_examples(path):
    """The EXAMPLES string of a module, without importing it."""
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'EXAMPLES':
            return ast.literal_eval(node.value)
    raise SystemExit('%s has no EXAMPLES' % path)


def doc_blocks(path):
    return re.findall(r'^```yaml\n(.*?)^```', open(path).read(), re.S | re.M)


def documents():
    """[(name, [yaml text, ...])] in the order they run."""
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))):
        if os.path.basename(path) != '__init__.py':
            docs.append((os.path.relpath(path, ROOT), [module_examples(path)]))
    for pattern in DOC_GLOBS:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            blocks = doc_blocks(path)
            if blocks:
                docs.append((os.path.relpath(path, ROOT), blocks))
    return docs


class Renamer:
    """Account names and paths of the examples -> the throwaway ones."""

    def __init__(self, prefix, scratch):
        self.prefix = prefix
        self.scratch = scratch
        self.used = set()   # the throwaway account names
        self.words = re.compile(r'(?<![\w.-])(%s)(?![\w-])' % '|'.join(ACCOUNTS))
        self.paths = re.compile(r'(?<![\w/.~-])(%s)' % '|'.join(re.escape(p) for p in PATH_PREFIXES))

    def text(self, value):
        def account(match):
            self.used.add(self.prefix + match.group(1))
            return self.prefix + match.group(1)
        value = self.words.sub(account, value)
        return self.paths.sub(lambda m: os.path.join(self.scratch, m.group(1).strip('/')) + '/', value)

    def __call__(self, data):
        if isinstance(data, dict):
            return dict((key, self(value)) for key, value in data.items())
        if isinstance(data, list):
            return [self(value) for value in data]
        if isinstance(data, str):
            return self.text(data)
        return data


def check_accounts(doc, data, prefix, where=''):
    """Every account an example names is a throwaway one."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ACCOUNT_OPTIONS and isinstance(value, str) and '{{' not in value \
                    and value != 'root' and not value.startswith(prefix):
                raise SystemExit('%s: %s: %s=%s is not a throwaway account: add %r to ACCOUNTS of %s'
                                 % (doc, where, key, value, value, __file__))
            if key in ACCOUNT_LISTS and isinstance(value, list):
                for item in value:
                    name = item.get('name', '') if isinstance(item, dict) else ''
                    if isinstance(name, str) and '{{' not in name and not name.startswith(prefix):
                        raise SystemExit('%s: %s: account %s is not a throwaway account: add %r to ACCOUNTS of %s'
                                         % (doc, where, name, name, __file__))
            check_accounts(doc, value, prefix, data.get('name', where) if isinstance(data.get('name'), str) else where)
    elif isinstance(data, list):
        for item in data:
            check_accounts(doc, item, prefix, where)


def is_play(item):
    return isinstance(item, dict) and ('hosts' in item or 'import_playbook' in item
                                       or 'ansible.builtin.import_playbook' in item)


def plays_of(doc, blocks, renamer, module_defaults, skipped):
    """The plays of one document, in order; [] when it holds no example."""
    plays = []
    for index, text in enumerate(blocks):
        data = yaml.safe_load(text)
        if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
            print('  %s block %d: not a playbook or task list, not an example' % (doc, index + 1))
            continue
        data = renamer(data)
        check_accounts(doc, data, renamer.prefix)
        kept = []
        for item in data:
            reason = NOT_RUNNABLE.get((doc, item.get('name')))
            if reason:
                skipped.append('%s: %s: %s' % (doc, item.get('name'), reason))
                continue
            kept.append(item)
        if not kept:
            continue
        if all(is_play(item) for item in kept):
            for play in kept:
                play['name'] = '%s: %s' % (doc, play.get('name', 'play'))
                play.setdefault('module_defaults', {}).update(module_defaults)
            plays.extend(kept)
        else:
            plays.append({'name': '%s block %d' % (doc, index + 1), 'hosts': 'localhost', 'gather_facts': False,
                          'module_defaults': module_defaults, 'tasks': kept})
    return plays


def host_groups(plays):
    groups = set()
    for play in plays:
        for pattern in re.split(r'[:,]', str(play.get('hosts', ''))):
            pattern = pattern.strip().lstrip('!&')
            if pattern and pattern not in ('localhost', 'all') and '{{' not in pattern:
                groups.add(pattern)
    return groups


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs).stdout


def make_key(path, comment, passphrase=''):
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', path])
    return open(path).read(), open(path + '.pub').read().strip()


def fixture_files(plays_text, playdir, keydir):
    """The files the examples read with the file lookup: generated public keys."""
    made = []
    for name in sorted(set(re.findall(r"lookup\('ansible\.builtin\.file', '([^']+)'\)", plays_text))):
        dest = os.path.join(playdir, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        stem = re.sub(r'\W', '_', name)
        if name.endswith('.pub'):
            dummy, public = make_key(os.path.join(keydir, stem), os.path.basename(name)[:-4] + '@examples')
            text = public + '\n'
        elif name.endswith('.txt'):
            dummy, public = make_key(os.path.join(keydir, stem), 'managed@examples')
            text = public + '\n'
        else:
            raise SystemExit('an example reads %s: say in fixture_files() of %s what it holds' % (name, __file__))
        with open(dest, 'w') as handle:
            handle.write(text)
        made.append(name)
    return made


def example_vars(keydir):
    """Values of the variables the examples take from a vault or the inventory."""
    private, dummy = make_key(os.path.join(keydir, 'vault_alice_private_key'), 'alice@examples', PASSPHRASE)
    team = [make_key(os.path.join(keydir, 'team%d' % i), 'team%d@examples' % i)[1] for i in (1, 2)]
    return {
        'vault_alice_passphrase': PASSPHRASE,
        'vault_alice_key_passphrase': PASSPHRASE,
        'vault_alice_private_key': private,
        'vault_deploy_passphrase': PASSPHRASE,
        'vault_csr_challenge': 'examples-challenge',
        'vault_shop_key_passphrase': PASSPHRASE,
        'team_public_keys': team,
    }


def create_accounts(names):
    created = []
    for name in names:
        try:
            pwd.getpwnam(name)
            raise SystemExit('account %s exists already: remove it (userdel -r %s) or use another --prefix'
                             % (name, name))
        except KeyError:
            pass
        run(['useradd', '-m', '-s', '/bin/bash', name])
        created.append(name)
        # sshd refuses accounts with a locked password; no ~/.ssh: a fresh account has none
        run(['usermod', '-p', '*', name])
    return created


def remove_accounts(names):
    for name in names:
        subprocess.run(['userdel', '-r', '-f', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        subprocess.run(['groupdel', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections-path', required=True,
                        help='directory with ansible_collections/keysmith/accounts (the placed copy)')
    parser.add_argument('--python', default=sys.executable, help='Python of the managed node (localhost)')
    parser.add_argument('--prefix', default=os.environ.get('EXAMPLES_USER_PREFIX', 'ksex'),
                        help='prefix of the throwaway account names (default ksex, or $EXAMPLES_USER_PREFIX)')
    parser.add_argument('--only', action='append', default=[], help='run only documents whose path contains this')
    parser.add_argument('--keep', action='store_true', help='keep the temporary directory')
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error('needs root: the examples run for throwaway accounts it creates')
    start = time.time()
    scratch = tempfile.mkdtemp(prefix='%s-examples-' % args.prefix, dir='/tmp')
    os.chmod(scratch, 0o755)
    playdir = os.path.join(scratch, 'playbook')
    keydir = os.path.join(scratch, 'keys')
    os.makedirs(playdir)
    os.makedirs(keydir)
    registry = os.path.join(scratch, 'registry')
    module_defaults = {'keysmith.accounts.keypair': {'registry': registry},
                       'keysmith.accounts.keypair_info': {'registry': registry}}
    plays, skipped, ran, accounts = [], [], [], set()
    for number, (doc, blocks) in enumerate(documents()):
        if args.only and not any(part in doc for part in args.only):
            continue
        # each document has its own accounts: what one leaves behind cannot break another
        renamer = Renamer('%s%02d' % (args.prefix, number), scratch)
        doc_plays = plays_of(doc, blocks, renamer, module_defaults, skipped)
        accounts |= renamer.used
        if doc_plays:
            ran.append(doc)
        plays.extend(doc_plays)
    playbook = os.path.join(playdir, 'examples.yml')
    text = yaml.safe_dump(plays, sort_keys=False, width=1000)
    with open(playbook, 'w') as handle:
        handle.write(text)
    groups = sorted(host_groups(plays) | {'registry'})
    with open(os.path.join(scratch, 'inventory'), 'w') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % args.python)
        # hosts the examples delegate to are this host too
        handle.write('git.example.com ansible_connection=local ansible_python_interpreter=%s\n' % args.python)
        for group in groups:
            handle.write('[%s]\nlocalhost\n' % group)
    with open(os.path.join(scratch, 'vars.yml'), 'w') as handle:
        yaml.safe_dump(example_vars(keydir), handle)
    files = fixture_files(json.dumps(plays), playdir, keydir)
    for prefix in PATH_PREFIXES:
        os.makedirs(os.path.join(scratch, prefix.strip('/')), exist_ok=True)
    accounts = sorted(accounts)
    print('examples: %d documents, %d plays; accounts %s; files %s; groups %s'
          % (len(ran), len(plays), ', '.join(accounts), ', '.join(files) or '-', ', '.join(groups)))
    for line in skipped:
        print('  not runnable here: %s' % line)
    failures = []
    created = []
    try:
        created = create_accounts(accounts)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.abspath(args.collections_path),
                   ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_PIPELINING='1')
        env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
        base = ['ansible-playbook', '-i', os.path.join(scratch, 'inventory'), '-e', '@' + os.path.join(scratch, 'vars.yml'),
                '-e', 'docs_home=%s' % os.path.join(scratch, 'docs-home'),
                '-e', 'keys_home=%s' % os.path.join(scratch, 'keys-home'), playbook]
        for mode, extra in (('check', ['--check', '--diff']), ('normal', ['--diff'])):
            began = time.time()
            # ANSIBLE_LOG_PATH: the same output with a time stamp per line (where the time goes)
            env['ANSIBLE_LOG_PATH'] = os.path.join(scratch, '%s-timed.log' % mode)
            proc = subprocess.run(base + extra, cwd=playdir, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, universal_newlines=True, check=False)
            log = os.path.join(scratch, '%s.log' % mode)
            with open(log, 'w') as handle:
                handle.write(proc.stdout)
            recap = [line for line in proc.stdout.splitlines() if re.match(r'^\S+\s+: ok=', line)]
            print('examples: %s mode: rc %d in %.1f s; %s' % (mode, proc.returncode, time.time() - began,
                                                               '; '.join(' '.join(r.split()) for r in recap)))
            if proc.returncode != 0:
                print(proc.stdout[-6000:])
                failures.append('%s mode failed (rc %d), log %s' % (mode, proc.returncode, log))
                break
    finally:
        remove_accounts(created)
        if args.keep or failures:
            print('temporary directory kept: %s' % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print('examples: FAILED: %s' % '; '.join(failures))
        return 1
    print('examples: every example of %d documents ran in check mode and normally (%.1f s)'
          % (len(ran), time.time() - start))
    return 0


if __name__ == '__main__':
    sys.exit(main())
