# Copyright: keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute every documented example: the modules' EXAMPLES and the docs' YAML snippets.

Used by ``tests/scripts/run-tests.sh examples`` (``make examples``, part of ``make test``)::

    python tests/examples/run_examples.py --collections-path DIR [--only NAME] [--keep]

Sources, in this order: ``plugins/modules/*.py`` (EXAMPLES), then the YAML blocks
(```yaml) of ``README.md``, ``docs/**/*.md``, ``roles/*/README.md`` and
``playbooks/README.md`` (``DOC_GLOBS``, so new modules, roles and guides are picked
up without a change here; ``EXCLUDED_DOCS`` says why docs/awx.md is not, and of the
generated docs/modules pages only the "try it" playbook runs, ``TRY_IT_ONLY``).  A block that is a list of tasks runs
as a play on localhost; a block that is a list of plays runs as written (its
``hosts`` groups are inventory groups holding localhost); a vars file of
``VARS_FILES`` runs as the collection playbook it is for; any other block is not an
example and is listed as such.

One play (or the document's plays) per document, tasks in document order; all
documents in one playbook, run with ``--check --diff`` and with ``--diff``; both
must succeed.  What the examples need is made at test time and stated below:

* **accounts**: each name of ``ACCOUNTS`` used in an example (``user: alice``, an
  item ``name: alice``, ``/home/alice/...``) is renamed to ``<prefix><c|n><NN><name>``
  (``ksexn03alice``, NN the document's number: each document has its own accounts)
  in every string value of the document - whole words only, keys are never renamed
  - and that throwaway account is created before the runs and removed (with its
  home) after.  An account name that is not in ``ACCOUNTS`` is an
  error: real accounts are never touched.
* **paths** outside the throwaway homes (``/srv/...``, ``/root/...``, ``/tmp/...``)
  are moved below a temporary directory (``PATH_PREFIXES``); the ``keypair``
  registry is set there with ``module_defaults``.
* **files** read with ``lookup('ansible.builtin.file', ...)`` and **variables**
  (vault passphrases, keys) are generated: real keys from ``ssh-keygen``.
* **audits**: ``authorized_keys_info`` (``module_defaults``) and the ``access_report``
  role (``access_report_users``) audit the throwaway accounts only.
* **key rotations**: for a ``key_rotation`` role example, the current key
  (``key_rotation_key_name`` of ``key_rotation_user``) is made with ``ssh-keygen``
  and its fingerprint replaces the example's ``key_rotation_old_fingerprint`` (what
  the controller recorded): ``rotation_keys``.
* **hosts**: other hosts an example names (``delegate_to: git.example.com``, the
  group ``registry``) are inventory aliases of localhost.

Check mode and the real run use their own accounts (``<prefix>c..``, ``<prefix>n..``)
and directories and run at once; every file of the check-mode accounts and
directories is compared before and after: check mode must write nothing (except
``CHECK_MODE_WRITES``, each with its reason).  Examples that cannot run here are
listed in ``NOT_RUNNABLE`` with the reason.
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
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Account names the examples use; each becomes PREFIX + name, a throwaway account.
ACCOUNTS = ('alice', 'bob', 'deploy', 'backup', 'ci', 'ops', 'shop', 'app')
# Absolute paths outside the accounts' homes: moved below the temporary directory.
PATH_PREFIXES = ('/srv/', '/root/', '/tmp/')
# Task-list documents; a module's EXAMPLES is "plugins/modules/NAME.py".
DOC_GLOBS = ('README.md', 'docs/**/*.md', 'roles/*/README.md', 'playbooks/README.md')
# Documents whose YAML blocks do not run here (path prefix -> why).
EXCLUDED_DOCS = {
    'docs/guides/certificates.md': 'configures the hosts\' sshd, /etc/ssh and a CA host; tests/e2e/ssh_certificates.sh '
                                   'runs the same steps against private sshds',
    'docs/awx.md': 'AWX project and execution environment files; its job-template playbook runs '
                   'through ansible-runner in tests/awx/run_awx_job.py (the release step)',
}
# (document, task or play name) -> why it cannot run here.  Keep this tiny.
NOT_RUNNABLE = {
    # tests/e2e/ssh_certificates.sh runs sshd_trust, ssh_principals and ssh_known_hosts_ca against private sshds
    ('plugins/modules/sshd_trust.py', 'Trust the user CA, enforce the KRL, serve a host certificate'):
        'writes the host\'s /etc/ssh and reloads its sshd',
    ('plugins/modules/sshd_trust.py', 'A test sshd started with -f, reloaded through its pid file'):
        'needs a running sshd of its own',
    ('plugins/modules/ssh_principals.py',
     'Certificates for the dev team log in as the account (AuthorizedPrincipalsFile /etc/ssh/auth_principals/%u)'):
        'writes the host\'s /etc/ssh',
    ('plugins/modules/ssh_known_hosts_ca.py', 'Every host of the fleet is verified by its host certificate'):
        'writes the host\'s /etc/ssh/ssh_known_hosts',
    # tests/unit/plugins/module_utils/_ssh/certs/test_agent_signing.py and tests/e2e/ssh_cert_login.sh start one
    ('plugins/modules/ssh_cert.py',
     'Sign with the CA key an ssh-agent holds on the CA host (the private key never on disk)'):
        'needs an ssh-agent holding the CA key on the CA host',
}
# What check mode may write (as the path an example names -> why); anything else it writes fails.
CHECK_MODE_WRITES = {
    '/srv/reports/': 'the access_report role writes its report on the controller in --check too '
                     '(check_mode: false: the report is the point of a dry run)',
}
# Options whose value is an account name (checked after renaming).
ACCOUNT_OPTIONS = ('user', 'owner', 'group', 'become_user', 'key_rotation_user', 'account')
ACCOUNT_LISTS = ('accounts', 'account_users', 'ssh_account_users', 'ssl_account_users')
PASSPHRASE = 'examples-passphrase-%d' % os.getpid()


def read(path):
    with open(path) as handle:
        return handle.read()


def module_examples(path):
    """The EXAMPLES string of a module, without importing it."""
    tree = ast.parse(read(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'EXAMPLES':
            return ast.literal_eval(node.value)
    raise SystemExit('%s has no EXAMPLES' % path)


# Vars files in the docs (a YAML mapping) and the collection playbook they are for: they run
# as that playbook with these vars, on localhost.
VARS_FILES = {
    'playbooks/README.md': 'keysmith.accounts.provision_accounts',
}
# Documents of which only the "try it" playbook (after <!-- runnable-example -->) runs here.
TRY_IT_ONLY = {
    'docs/modules/': 'generated pages: their EXAMPLES section is the module\'s, run from plugins/modules/',
}


def doc_blocks(path):
    text = read(path)
    if os.path.relpath(path, ROOT).startswith(tuple(TRY_IT_ONLY)):
        return re.findall(r'<!-- runnable-example -->\s*```yaml\n(.*?)^```', text, re.S | re.M)
    return re.findall(r'^```yaml\n(.*?)^```', text, re.S | re.M)


def documents():
    """[(name, [yaml text, ...])] in the order they run."""
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))):
        if os.path.basename(path) != '__init__.py':
            docs.append((os.path.relpath(path, ROOT), [module_examples(path)]))
    for pattern in DOC_GLOBS:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            if os.path.relpath(path, ROOT).startswith(tuple(EXCLUDED_DOCS)):
                continue
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
        # not the first label of a host name (ci.example.com is a host, not the account ci);
        # deploy.pub and {{ deploy.public_key }} are renamed
        self.words = re.compile(r'(?<![\w.-])(%s)(?![\w-]|\.example\.)' % '|'.join(ACCOUNTS))
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


def account_names(data, prefix):
    """The throwaway accounts an example uses as accounts (options, account items, homes);
    a renamed word elsewhere (a key comment, bob@laptop) needs no account."""
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ACCOUNT_OPTIONS and isinstance(value, str) and value.startswith(prefix):
                found.add(value)
            if key in ACCOUNT_LISTS and isinstance(value, list):
                found |= set(item['name'] for item in value if isinstance(item, dict)
                             and str(item.get('name', '')).startswith(prefix))
            found |= account_names(value, prefix)
    elif isinstance(data, list):
        for item in data:
            found |= account_names(item, prefix)
    elif isinstance(data, str):
        found |= set(re.findall(r'/home/(%s\w+)' % re.escape(prefix), data))
    return found


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


def delegated_hosts(data):
    """Host names given as ``delegate_to`` or as a ``*_host`` variable."""
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if (key == 'delegate_to' or key.endswith('_host')) and isinstance(value, str) \
                    and re.match(r'^[a-z0-9-]+(\.[a-z0-9-]+)+$', value):
                found.add(value)
            found |= delegated_hosts(value)
    elif isinstance(data, list):
        for item in data:
            found |= delegated_hosts(item)
    return found


def is_play(item):
    return isinstance(item, dict) and ('hosts' in item or 'import_playbook' in item
                                       or 'ansible.builtin.import_playbook' in item)


def plays_of(doc, blocks, renamer, module_defaults, skipped):
    """The plays of one document, in order; [] when it holds no example."""
    plays = []
    for index, text in enumerate(blocks):
        data = yaml.safe_load(text)
        if isinstance(data, dict) and doc in VARS_FILES:
            data = [{'name': 'block %d, vars for %s' % (index + 1, VARS_FILES[doc]),
                     'ansible.builtin.import_playbook': VARS_FILES[doc],
                     'vars': dict(data, target_hosts='localhost')}]
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
                if 'hosts' in play:
                    play.setdefault('module_defaults', {}).update(module_defaults)
            plays.extend(kept)
        else:
            plays.append({'name': '%s block %d' % (doc, index + 1), 'hosts': 'localhost', 'gather_facts': False,
                          'module_defaults': module_defaults, 'tasks': kept})
    return plays


def rotation_keys(plays, scratch):
    """The current keys the key_rotation examples rotate: made now (the controller's record),
    their fingerprints put into the examples; [(user, key name, private key path)] to
    install once the accounts exist (``install_rotation_keys``)."""
    made = []
    for play in plays:
        for role in play.get('roles') or []:
            if not isinstance(role, dict) or not str(role.get('role', '')).endswith('key_rotation'):
                continue
            role_vars = role.get('vars') or {}
            user, name = role_vars.get('key_rotation_user'), role_vars.get('key_rotation_key_name')
            if not user or not name:
                continue
            keydir = os.path.join(scratch, 'rotation-keys', user)
            os.makedirs(keydir, exist_ok=True)
            path = os.path.join(keydir, name)
            if not os.path.exists(path):
                make_key(path, '%s@examples' % user)
            role_vars['key_rotation_old_fingerprint'] = run(['ssh-keygen', '-lf', path + '.pub']).split()[1]
            made.append((user, name, path))
    return made


def install_rotation_keys(keys):
    """Put each made current key into its account's ~/.ssh, owned by the account."""
    for user, name, path in keys:
        entry = pwd.getpwnam(user)
        ssh = os.path.join(entry.pw_dir, '.ssh')
        if not os.path.isdir(ssh):
            os.mkdir(ssh, 0o700)
            os.chown(ssh, entry.pw_uid, entry.pw_gid)
        for suffix, mode in (('', 0o600), ('.pub', 0o644)):
            dest = os.path.join(ssh, name + suffix)
            shutil.copyfile(path + suffix, dest)
            os.chown(dest, entry.pw_uid, entry.pw_gid)
            os.chmod(dest, mode)


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
    return read(path), read(path + '.pub').strip()


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


def create_accounts(names, created):
    """Create the accounts; each is added to created at once (so a failure removes it too)."""
    for name in names:
        if known(name):
            raise SystemExit('account %s exists already: remove it (userdel -r %s) or use another --prefix'
                             % (name, name))
        # password '*': sshd refuses accounts with a locked one; no ~/.ssh: a fresh account has none
        run(['useradd', '-m', '-p', '*', '-s', '/bin/bash', name])
        created.append(name)


def known(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def remove_accounts(names):
    for name in names:
        subprocess.run(['userdel', '-r', '-f', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        subprocess.run(['groupdel', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def prepare(mode, args, variables):
    """The playbook, inventory and fixture files of one mode, in its own directory
    and with its own accounts (<prefix><c|n><NN><name>), so both modes can run at once."""
    base = os.path.join(args.scratch, mode)
    playdir = os.path.join(base, 'playbook')
    os.makedirs(playdir)
    registry = os.path.join(base, 'registry')
    module_defaults = {'keysmith.accounts.keypair': {'registry': registry},
                       'keysmith.accounts.keypair_info': {'registry': registry}}
    plays, skipped, ran, accounts, renamed, keys = [], [], [], set(), set(), []
    for number, (doc, blocks) in enumerate(documents()):
        if args.only and not any(part in doc for part in args.only):
            continue
        # each document has its own accounts: what one leaves behind cannot break another
        renamer = Renamer('%s%s%02d' % (args.prefix, mode[0], number), base)
        doc_plays = plays_of(doc, blocks, renamer, module_defaults, skipped)
        keys.extend(rotation_keys(doc_plays, base))
        accounts |= account_names(doc_plays, renamer.prefix)
        renamed |= renamer.used
        if doc_plays:
            ran.append(doc)
        plays.extend(doc_plays)
    # the access audits look at the throwaway accounts only (not at every account of the host:
    # that is slow and none of the test's business); the plays share this dict
    module_defaults['keysmith.accounts.authorized_keys_info'] = {'users': sorted(accounts)}
    playbook = os.path.join(playdir, 'examples.yml')
    with open(playbook, 'w') as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, width=1000)
    groups = sorted(host_groups(plays) | {'registry'})
    inventory = os.path.join(base, 'inventory')
    with open(inventory, 'w') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % args.python)
        # hosts the examples delegate to (delegate_to, a role's *_host variable) are this host too
        for host in sorted(delegated_hosts(plays) | {'git.example.com'}):
            handle.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (host, args.python))
        for group in groups:
            handle.write('[%s]\nlocalhost\n' % group)
    os.makedirs(os.path.join(base, 'keys'))
    files = fixture_files(json.dumps(plays), playdir, os.path.join(base, 'keys'))
    for prefix in PATH_PREFIXES:
        os.makedirs(os.path.join(base, prefix.strip('/')), exist_ok=True)
    print('examples, %s mode: %d documents, %d plays; accounts %s; files %s; groups %s'
          % (mode, len(ran), len(plays), ', '.join(sorted(accounts)), ', '.join(files) or '-', ', '.join(groups)))
    for line in skipped:
        print('  not runnable here: %s' % line)
    cmd = ['ansible-playbook', '-i', inventory, '-e', '@' + variables,
           '-e', 'docs_home=%s' % os.path.join(base, 'docs-home'),
           '-e', 'keys_home=%s' % os.path.join(base, 'keys-home'),
           '-e', json.dumps({'access_report_users': sorted(accounts)}), playbook, '--diff']
    if mode == 'check':
        cmd.append('--check')
    return {'mode': mode, 'dir': base, 'playdir': playdir, 'cmd': cmd, 'accounts': sorted(accounts),
            'renamed': sorted(renamed),
            'documents': ran, 'rotation_keys': keys}


def snapshot(paths):
    """Every file and directory below paths, with its metadata: check mode must change none."""
    state = {}
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            for path in ([top] if dirpath == top else []) + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                info = os.lstat(path)
                state[path] = (info.st_mode, info.st_uid, info.st_gid, info.st_size, info.st_mtime_ns)
    return state


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
    args.scratch = tempfile.mkdtemp(prefix='%s-examples-' % args.prefix, dir='/tmp')
    os.chmod(args.scratch, 0o755)
    keydir = os.path.join(args.scratch, 'keys')
    os.makedirs(keydir)
    variables = os.path.join(args.scratch, 'vars.yml')
    with open(variables, 'w') as handle:
        yaml.safe_dump(example_vars(keydir), handle)
    runs = [prepare(mode, args, variables) for mode in ('check', 'normal')]
    failures = []
    created = []
    try:
        for run_ in runs:
            create_accounts(run_['accounts'], created)
            install_rotation_keys(run_['rotation_keys'])
        check = runs[0]
        watched = [check['dir']] + [pwd.getpwnam(name).pw_dir for name in check['accounts']]
        before = snapshot(watched)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.abspath(args.collections_path),
                   ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_PIPELINING='1',
                   # facts are gathered once per run, not once per play that asks for them
                   ANSIBLE_GATHERING='smart')
        env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
        # check mode and the real run have their own accounts and directories: they run at
        # once (the snapshot below proves that check mode wrote nothing)
        for run_ in runs:
            run_['log'] = os.path.join(args.scratch, '%s.log' % run_['mode'])
            # ANSIBLE_LOG_PATH: the same output with a time stamp per line (where the time goes)
            env['ANSIBLE_LOG_PATH'] = os.path.join(args.scratch, '%s-timed.log' % run_['mode'])
            run_['began'] = time.time()
            with open(run_['log'], 'w') as log:   # the child keeps its own descriptor
                run_['proc'] = subprocess.Popen(run_['cmd'], cwd=run_['playdir'], env=dict(env),  # pylint: disable=consider-using-with
                                                stdout=log, stderr=subprocess.STDOUT)
        for run_ in runs:
            rc = run_['proc'].wait()
            output = read(run_['log'])
            recap = [line for line in output.splitlines() if re.match(r'^\S+\s+: ok=', line)]
            summary = '; '.join(' '.join(line.split()) for line in recap)
            print('examples: %s mode: rc %d in %.1f s; %s' % (run_['mode'], rc, time.time() - run_['began'], summary))
            if rc != 0:
                print(output[-6000:])
                failures.append('%s mode failed (rc %d), log %s' % (run_['mode'], rc, run_['log']))
        after = snapshot(watched)
        allowed = tuple(Renamer('', check['dir']).text(path) for path in CHECK_MODE_WRITES)
        changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path)
                         and not (path + '/').startswith(allowed)
                         and not any(path + '/' == prefix[:len(path) + 1] for prefix in allowed))
        print('examples: check mode left %d files of its accounts and directories unchanged%s'
              % (len(before), (', but changed: ' + ', '.join(changed[:20])) if changed else ''))
        if changed:
            failures.append('check mode wrote %d files (listed above)' % len(changed))
    finally:
        # and those an example made itself (the account role's account_create)
        made_by_examples = [name for run_ in runs for name in run_['renamed'] if name not in created and known(name)]
        remove_accounts(sorted(set(created) | set(made_by_examples)))
        if args.keep or failures:
            print('temporary directory kept: %s' % args.scratch)
        else:
            shutil.rmtree(args.scratch, ignore_errors=True)
    if failures:
        print('examples: FAILED: %s' % '; '.join(failures))
        return 1
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print('examples: every example of %d documents ran in check mode and for real (%.1f s, %.1f s CPU)'
          % (len(runs[0]['documents']), time.time() - start, usage.ru_utime + usage.ru_stime))
    return 0


if __name__ == '__main__':
    sys.exit(main())
