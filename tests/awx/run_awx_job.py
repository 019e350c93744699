# Copyright: keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a job-template playbook through ansible-runner the way AWX / AAP does.

Used by ``tests/scripts/run-tests.sh release``::

    python tests/awx/run_awx_job.py --collections-path DIR [--python PY] [--keep]

DIR holds ``ansible_collections/keysmith/accounts`` (the installed tarball).
For each job a private data directory is made as AWX makes one: ``project/``
with the playbook, ``inventory/hosts``, ``env/extravars`` (the survey answers,
JSON), ``env/envvars`` and ``env/settings``; then ``ansible-runner run PDD -p
PLAYBOOK --ident IDENT`` runs it and the artifacts are checked:

* the extra vars are the survey answers as AWX sends them: the survey of
  docs/awx.md (its ``survey_spec``), each unanswered question with its default,
  each answer checked against its question (required, choices, integer);
* a job of type *Check* with *Show Changes* (``env/cmdline``: ``--check --diff``,
  docs/awx.md step 5) is successful, reports the key it would make and writes
  nothing;
* a valid job (with *Show Changes*): ``status`` is ``successful``, ``rc`` is 0, the
  job events hold the ssh_genkey result (fingerprint and public key of the files
  on disk), a second job has ``changed=0`` in its host summary, and neither the
  private key nor the passphrase appears in any artifact (job events, stdout) or
  in ansible-runner's output, in any of these jobs;
* a job with a bad extra var fails in the validation task with its clear
  message, and no key is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLAYBOOK = 'awx_ssh_key.yml'
GENKEY_ACTIONS = ('keysmith.accounts.ssh_genkey', 'ssh_genkey')
FAILURES = []


def check(condition, message):
    """Record a failed expectation (and keep going, to report them all)."""
    print('  %s %s' % ('ok  ' if condition else 'FAIL', message))
    if not condition:
        FAILURES.append(message)
    return condition


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)


def project_playbook():
    """The project's playbook as docs/awx.md gives it (step 2): it imports the
    collection's playbook, so the job runs what the docs tell users to set up."""
    with open(os.path.join(ROOT, 'docs', 'awx.md')) as handle:
        text = handle.read()
    marker = '# playbooks/%s of your project' % PLAYBOOK
    start = text.index(marker)
    block = text[start:text.index('```', start)]
    lines = [line[3:] if line.startswith('   ') else line for line in block.splitlines()]
    return '\n'.join(lines) + '\n'


def survey_spec():
    """The survey of the job template as docs/awx.md gives it (after <!-- awx-survey-spec -->)."""
    with open(os.path.join(ROOT, 'docs', 'awx.md')) as handle:
        text = handle.read()
    start = text.index('<!-- awx-survey-spec -->')
    block = text[text.index('```json\n', start) + len('```json\n'):]
    return json.loads(block[:block.index('```')])


def survey_answers(answers):
    """The extra vars AWX sends for these answers: every question of the survey
    with its answer or its default (a question without either is left out), each
    answer checked as AWX checks it before it launches the job."""
    extravars = {}
    questions = survey_spec()['spec']
    unknown = set(answers) - set(q['variable'] for q in questions)
    if unknown:
        raise SystemExit('answers to questions the survey of docs/awx.md does not ask: %s' % sorted(unknown))
    for question in questions:
        name = question['variable']
        if name in answers:
            value = answers[name]
        elif 'default' in question:
            value = question['default']
        else:
            continue
        if question.get('required') and value in ('', None):
            raise SystemExit('survey question %s is required' % name)
        if question['type'] == 'multiplechoice' and value not in question['choices']:
            raise SystemExit('survey answer %s=%r is not one of %s' % (name, value, question['choices']))
        if question['type'] == 'integer' and not isinstance(value, int):
            raise SystemExit('survey answer %s=%r is not an integer' % (name, value))
        extravars[name] = value
    return extravars


def make_private_data_dir(base, ident, extravars, collections_path, python, cmdline=''):
    """Lay out a private data directory as AWX does for a job; cmdline holds
    what the job template adds (``--check`` for the Check job type, ``--diff``
    for Show Changes)."""
    pdd = os.path.join(base, ident)
    write(os.path.join(_mkdir(pdd, 'project'), PLAYBOOK), project_playbook())
    write(os.path.join(pdd, 'inventory', 'hosts'),
          'localhost ansible_connection=local ansible_python_interpreter=%s\n' % python)
    write(os.path.join(pdd, 'env', 'extravars'), json.dumps(extravars, indent=2) + '\n')
    write(os.path.join(pdd, 'env', 'envvars'), json.dumps({
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_FORCE_COLOR': 'False',
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
    }) + '\n')
    write(os.path.join(pdd, 'env', 'settings'), json.dumps({'job_timeout': 300, 'idle_timeout': 300}) + '\n')
    if cmdline:
        write(os.path.join(pdd, 'env', 'cmdline'), cmdline + '\n')
    return pdd


def _mkdir(*parts):
    path = os.path.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


def run_job(pdd, ident):
    """ansible-runner run PDD -p PLAYBOOK --ident IDENT; return (rc, output, artifacts dir)."""
    runner = os.path.join(os.path.dirname(sys.executable), 'ansible-runner')
    if not os.path.exists(runner):
        runner = shutil.which('ansible-runner') or 'ansible-runner'
    env = dict(os.environ)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    # the collection must come from the installed tarball only (env/envvars)
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    env.pop('ANSIBLE_COLLECTIONS_PATHS', None)
    cmd = [runner, 'run', pdd, '-p', PLAYBOOK, '--ident', ident]
    print('$ %s' % ' '.join(cmd))
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    return proc.returncode, proc.stdout, os.path.join(pdd, 'artifacts', ident)


def read(path, default=''):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def load_events(artifacts):
    events = []
    folder = os.path.join(artifacts, 'job_events')
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith('.json'):
            with open(os.path.join(folder, name)) as handle:
                events.append(json.load(handle))
    events.sort(key=lambda event: event.get('counter', 0))
    return events


def all_artifact_text(artifacts):
    chunks = []
    for dirpath, dummy, filenames in os.walk(artifacts):
        for name in filenames:
            chunks.append(read(os.path.join(dirpath, name)))
    return '\n'.join(chunks)


def genkey_results(events):
    return [event['event_data']['res'] for event in events
            if event.get('event') == 'runner_on_ok'
            and event.get('event_data', {}).get('task_action') in GENKEY_ACTIONS]


def host_summary(events):
    """The PLAY RECAP of the job (the playbook_on_stats event): {'changed': {host: n}, ...}."""
    stats = [event['event_data'] for event in events if event.get('event') == 'playbook_on_stats']
    return stats[-1] if stats else {}


def private_key_lines(path):
    """The base64 body lines of a PEM/OpenSSH private key file."""
    return [line.strip() for line in read(path).splitlines()
            if line.strip() and not line.startswith('-----') and len(line.strip()) >= 16]


def good_job(base, collections_path, python):
    home = os.path.join(base, 'home', 'awx')
    passphrase = 'awx-' + secrets.token_hex(12)
    # the other questions keep the survey's defaults (key_user: the connecting user)
    extravars = survey_answers({
        'target_hosts': 'localhost',
        'key_name': 'id_awx',
        'key_passphrase': passphrase,
        'key_comment': 'awx@keysmith-test',
        'key_home': home,
    })
    key_path = os.path.join(home, '.ssh', 'id_awx')

    print('\n== AWX-style job of type Check, with Show Changes (--check --diff)')
    pdd = make_private_data_dir(base, 'job-check', extravars, collections_path, python, '--check --diff')
    rc, output, artifacts = run_job(pdd, 'job-check')
    check(rc == 0 and read(os.path.join(artifacts, 'status')).strip() == 'successful',
          'the check job is successful (rc %s)' % rc)
    results = genkey_results(load_events(artifacts))
    check(len(results) == 1 and results[0].get('changed') is True,
          'the check job reports the key it would generate')
    check(not os.path.exists(key_path), 'the check job wrote no key')
    check('+++ after: %s' % key_path in read(os.path.join(artifacts, 'stdout')),
          'the check job shows the changes (the diff of %s)' % key_path)
    check(passphrase not in all_artifact_text(artifacts) + output, 'the passphrase is not in the check job')

    print('\n== AWX-style job with valid survey answers, with Show Changes (--diff)')
    pdd = make_private_data_dir(base, 'job-ok', extravars, collections_path, python, '--diff')
    rc, output, artifacts = run_job(pdd, 'job-ok')
    check(rc == 0, 'ansible-runner exit code is 0 (got %s)' % rc)
    check(read(os.path.join(artifacts, 'status')).strip() == 'successful',
          'artifacts/job-ok/status is successful (got %r)' % read(os.path.join(artifacts, 'status')).strip())
    check(read(os.path.join(artifacts, 'rc')).strip() == '0',
          'artifacts/job-ok/rc is 0 (got %r)' % read(os.path.join(artifacts, 'rc')).strip())
    events = load_events(artifacts)
    check(len(events) > 0, 'job events were written (%d)' % len(events))
    results = genkey_results(events)
    pub = read(key_path + '.pub').strip()
    if check(len(results) == 1, 'the job events hold one ssh_genkey result (got %d)' % len(results)):
        res = results[0]
        check(res.get('changed') is True, 'the first job changed something')
        check(res.get('path') == key_path, 'result path is %s (got %s)' % (key_path, res.get('path')))
        check(bool(pub) and res.get('public_key') == pub, 'result public_key is the content of id_awx.pub')
        check(str(res.get('fingerprint', '')).startswith('SHA256:'), 'result has a SHA256 fingerprint')
    check(os.path.isfile(key_path), 'the private key exists at %s' % key_path)

    secret_lines = private_key_lines(key_path)
    check(len(secret_lines) > 0, 'the private key file has a body to look for')
    text = all_artifact_text(artifacts) + '\n' + output
    # control: the scan sees what the job did show (the public key)
    check(bool(pub) and pub.split()[1] in text, 'the public key is in the job events (the scan works)')
    leaked = [line for line in secret_lines if line in text]
    check(not leaked, 'no private key line in the job events, stdout or runner output')
    check(passphrase not in text, 'the passphrase is not in the job events, stdout or runner output')

    print('\n== The same job again (idempotence)')
    rc, output, artifacts = run_job(pdd, 'job-again')
    check(rc == 0 and read(os.path.join(artifacts, 'status')).strip() == 'successful',
          'the second job is successful (rc %s)' % rc)
    events = load_events(artifacts)
    results = genkey_results(events)
    check(len(results) == 1 and results[0].get('changed') is False, 'the second job changes nothing')
    summary = host_summary(events)
    check(bool(summary.get('ok')) and not any(summary.get('changed', {}).values()),
          'the second job\'s host summary has changed=0 (got %s)' % summary.get('changed'))
    text = all_artifact_text(artifacts) + '\n' + output
    check(passphrase not in text and not [line for line in secret_lines if line in text],
          'no secret in the second job either')


def bad_job(base, collections_path, python):
    print('\n== AWX-style job with a bad survey answer')
    home = os.path.join(base, 'home', 'bad')
    # not through the survey (AWX refuses a choice the survey does not offer): extra vars
    # given with the launch (prompt on launch, the API), which only the playbook checks
    extravars = {
        'key_name': 'id_bad',
        'key_type': 'dsa-512',
        'key_bits': 'big',
        'key_passphrase': 'bad-job-passphrase-%s' % secrets.token_hex(4),
        'key_home': home,
    }
    pdd = make_private_data_dir(base, 'job-bad', extravars, collections_path, python)
    rc, output, artifacts = run_job(pdd, 'job-bad')
    check(rc != 0, 'ansible-runner exit code is not 0 (got %s)' % rc)
    check(read(os.path.join(artifacts, 'status')).strip() == 'failed',
          'artifacts/job-bad/status is failed (got %r)' % read(os.path.join(artifacts, 'status')).strip())
    events = load_events(artifacts)
    failed = [event for event in events if event.get('event') == 'runner_on_failed']
    check(len(failed) == 1 and failed[0]['event_data'].get('task') == "Check the job's extra vars",
          'the validation task is the one that failed')
    stdout = read(os.path.join(artifacts, 'stdout'))
    check('Invalid job input: key_type must be one of rsa, ecdsa, ed25519, got "dsa-512"; '
          'key_bits must be a whole number or empty, got "big".' in stdout,
          'stdout names the bad answers (key_type, key_bits) and what they got')
    check('key_name must' not in stdout and 'key_home must' not in stdout,
          'stdout does not list the rules of the good answers')
    check(not genkey_results(events) and not os.path.exists(os.path.join(home, '.ssh', 'id_bad')),
          'ssh_genkey did not run and no key was written')
    check(extravars['key_passphrase'] not in all_artifact_text(artifacts) + output,
          'the passphrase is not in the artifacts')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections-path', required=True,
                        help='directory with ansible_collections/keysmith/accounts (the installed tarball)')
    parser.add_argument('--python', default=sys.executable, help='Python of the managed node (localhost)')
    parser.add_argument('--keep', action='store_true', help='keep the private data directories')
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.collections_path, 'ansible_collections', 'keysmith', 'accounts')):
        parser.error('%s has no ansible_collections/keysmith/accounts' % args.collections_path)
    base = tempfile.mkdtemp(prefix='keysmith-awx-')
    try:
        good_job(base, os.path.abspath(args.collections_path), args.python)
        bad_job(base, os.path.abspath(args.collections_path), args.python)
    finally:
        if args.keep or FAILURES:
            print('\nprivate data directories kept in %s' % base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    if FAILURES:
        print('\nawx: %d check(s) failed:\n  - %s' % (len(FAILURES), '\n  - '.join(FAILURES)))
        return 1
    print('\nawx: ansible-runner jobs as AWX runs them: all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
