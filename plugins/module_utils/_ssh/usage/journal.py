# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd's records in the systemd journal, streamed from ``journalctl -o json``.

The query asks for entries of ``sshd`` (and ``sshd-session``, OpenSSH 9.8+)
running as root (``_COMM``, ``_UID``: fields journald sets, not the sender,
so an account cannot forge a login with ``logger -t sshd``), since ``since``,
and with ``--grep`` when journalctl has pattern matching (``+PCRE2``). The
output is read line by line as it comes (never whole).

``directory`` (the ``usage.journal_directory`` option) is handed to
``journalctl --directory``: a persistent journal of a container, a copied
``/var/log/journal``. journalctl opens the files there (and in its
machine-id subdirectories) itself, so the directory is read only when it
passes the rule of the log files' directories (``logfiles.open_log_dir``:
reached by the trust walk, changeable by root and system groups only; its
subdirectories too, and no symbolic link in it): a journal an account can
write is refused, as its syslog file would be.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import subprocess

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import KeysmithError
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.usage import logfiles, records

JOURNAL_DIRS = ('/run/log/journal', '/var/log/journal')
_MAX_ENTRY = 256 * 1024


def journal_present(journal_dirs=JOURNAL_DIRS):
    """Whether this host keeps a journal: a ``*.journal`` file in a journal
    directory (``/var/log/journal/<machine-id>/``) or directly in it."""
    for directory in journal_dirs:
        for name in _fs_audit.list_dir(directory):
            if name.endswith('.journal') or name.endswith('.journal~'):
                return True
            sub = os.path.join(directory, name)
            if any(entry.endswith('.journal') for entry in _fs_audit.list_dir(sub)):
                return True
    return False


def directory_problem(directory):
    """None when journalctl may read the journal in ``directory``, else why not
    (see the module doc: the rule of the log files' directories)."""
    try:
        fd = logfiles.open_log_dir(directory)
    except (KeysmithError, OSError) as exc:
        return getattr(exc, 'msg', None) or str(exc)
    if fd is None:
        return '%s does not exist' % directory
    try:
        # descriptor-relative, no-follow: the directory was reached by the trust walk (logfiles.open_log_dir)
        for name in os.listdir(fd):
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                return '%s/%s is a symbolic link (journalctl would follow it)' % (directory, name)
            if stat.S_ISDIR(mode):
                sub = logfiles.open_log_dir(os.path.join(directory, name))
                if sub is not None:
                    os.close(sub)
    except KeysmithError as exc:
        return exc.msg
    except OSError as exc:
        return 'cannot list %s: %s' % (directory, exc.strerror)
    finally:
        os.close(fd)
    return None


class JournalRead:
    def __init__(self, command):
        self.command = command
        self.status = 'read'
        self.reason = None
        self.bytes = 0
        self.logins = 0
        self.cut = False
        self.earliest = None
        self.directory = None

    def as_dict(self):
        return {'source': 'journal', 'path': self.directory, 'status': self.status, 'reason': self.reason,
                'bytes_read': self.bytes, 'logins': self.logins, 'from_offset': 0, 'cut': self.cut,
                'command': ' '.join(self.command),
                'earliest': records.iso(self.earliest) if self.earliest is not None else None}


def _has_grep(journalctl):
    try:
        process = subprocess.Popen([journalctl, '--version'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   close_fds=True)
        out, dummy = process.communicate()
    except OSError:
        return False
    return b'+PCRE2' in out


def journal_command(journalctl, since, grep, directory=None):
    command = [journalctl, '--no-pager', '--quiet', '--output=json', '--output-fields=MESSAGE,_UID,_COMM']
    if directory is not None:
        command.append('--directory=%s' % directory)
    if since is not None:
        command.append('--since=@%d' % int(since))
    if grep:
        command.append('--grep=Accepted publickey for ')
    command.extend(['_COMM=sshd', '_UID=0', '+', '_COMM=sshd-session', '_UID=0'])
    return command


def oldest_entry(journalctl, directory=None):
    """The time of the journal's oldest entry (how far back it reaches), or None:
    the first line of ``journalctl -o json`` (oldest first), then the process is ended."""
    command = [journalctl, '--no-pager', '--quiet', '--output=json', '--output-fields=_UID']
    if directory is not None:
        command.append('--directory=%s' % directory)
    try:
        process = subprocess.Popen(command,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
                                   env=dict(os.environ, LC_ALL='C', SYSTEMD_PAGER=''))
    except OSError:
        return None
    try:
        line = process.stdout.readline(_MAX_ENTRY)
    finally:
        process.kill()
        process.stdout.close()
        process.wait()
    try:
        return int(json.loads(line.decode('utf-8', 'replace'))['__REALTIME_TIMESTAMP']) // 1000000
    except (ValueError, KeyError, TypeError):
        return None


def read_journal(journalctl, since, budget, on_login, directory=None):
    """Stream sshd's entries: a JournalRead; ``on_login(Login)`` for each login.
    ``directory``: the journal files there (``journalctl --directory``) instead of the host's."""
    command = journal_command(journalctl, since, _has_grep(journalctl), directory)
    result = JournalRead(command)
    if directory is not None:
        result.directory = directory
        problem = directory_problem(directory)
        if problem is not None:
            result.status, result.reason, result.cut = 'not read', problem, True
            return result
    result.earliest = oldest_entry(journalctl, directory)
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
                                   env=dict(os.environ, LC_ALL='C', SYSTEMD_PAGER='', SYSTEMD_COLORS='0'))
    except OSError as exc:
        result.status, result.reason = 'not read', 'cannot run %s: %s' % (journalctl, exc.strerror)
        return result
    try:
        while True:
            line = process.stdout.readline(_MAX_ENTRY)
            if not line:
                break
            result.bytes += len(line)
            if not line.endswith(b'\n'):
                # an entry longer than any login record: skip the rest of it
                while line and not line.endswith(b'\n'):
                    line = process.stdout.readline(_MAX_ENTRY)
                    result.bytes += len(line)
                continue
            login = records.parse_journal_entry(line.decode('utf-8', 'replace'))
            if login is not None and (since is None or login.time >= since):
                result.logins += 1
                on_login(login)
            if result.bytes >= budget:
                result.cut = True
                break
    finally:
        if result.cut:
            process.kill()
        process.stdout.close()
        error = process.stderr.read(4096)
        process.stderr.close()
        code = process.wait()
    if code != 0 and not result.cut:
        text = error.decode('utf-8', 'replace').strip()
        result.status = 'not read' if not result.logins else 'read'
        result.reason = 'journalctl exited with %d%s' % (code, ': ' + text if text else '')
        result.cut = True
    return result
