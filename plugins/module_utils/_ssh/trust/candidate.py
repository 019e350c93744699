# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An sshd drop-in checked by sshd itself before it is put in place.

The candidate drop-in is written to a private temporary directory, and a
temporary copy of the main ``sshd_config`` is made in which every ``Include``
that matches the drop-in's path names the candidate instead (the other files
it matches stay, in sshd's order: glob order). ``sshd -t -f <copy>`` then
reads exactly what sshd will read once the drop-in is installed (an included
file that includes the drop-in, at any depth, is copied with its Include
rewritten the same way, so the candidate is read where sshd will read the
drop-in), and
``sshd -T -f <copy>`` says which values are in force (the first value of a
keyword wins: a value set in ``sshd_config`` before its ``Include`` hides the
drop-in's). Nothing of the real configuration is written while checking.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fnmatch
import os
import re

from ansible_collections.keysmith.accounts.plugins.module_utils import _fs, _fs_audit
from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput, NotFound
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.sshd.settings import (
    DEFAULT_SSHD_CONFIG,
    argv_split,
    parse_sshd_t,
)

# sshd resolves a relative Include against SSHDIR, whichever file it is in.
SSHDIR = os.path.dirname(DEFAULT_SSHD_CONFIG)
_INCLUDE = re.compile(r'^(\s*)include(?:\s*=\s*|\s+)(.*)$', re.IGNORECASE)
_WILDCARD = re.compile(r'[*?\[]')


def quote_word(value):
    """``value`` as one word of an sshd_config line (quoted when it holds a
    blank); ``InvalidInput`` for what no line can hold."""
    if not isinstance(value, str):
        value = str(value)
    if not value:
        raise InvalidInput('an sshd_config value must not be empty')
    if any(char in value for char in '"\'\\\n\r\0#') or not value.isprintable():
        raise InvalidInput('%r cannot be written as an sshd_config value (quotes, backslashes, "#", '
                           'line breaks and control characters are refused)' % value)
    return '"%s"' % value if (' ' in value or '\t' in value) else value


def _glob_matches(pattern, path):
    """Whether glob(3) ``pattern`` (absolute) would match the absolute ``path``:
    component by component, a wildcard never matching a leading dot."""
    pattern_parts = pattern.split('/')
    path_parts = path.split('/')
    if len(pattern_parts) != len(path_parts):
        return False
    for want, have in zip(pattern_parts, path_parts):
        if not _WILDCARD.search(want):
            if want != have:
                return False
            continue
        if have.startswith('.') and not want.startswith('.'):
            return False
        if not fnmatch.fnmatchcase(have, want):
            return False
    return True


def _expand(pattern):
    """The files glob(3) finds for absolute ``pattern`` (sorted as glob sorts);
    only the last component may hold wildcards (else ``InvalidInput``)."""
    directory, name = os.path.split(pattern)
    if _WILDCARD.search(directory):
        raise InvalidInput('Include %s: a wildcard in a directory name is not supported by the check of '
                           'the drop-in' % pattern)
    if not _WILDCARD.search(name):
        return [pattern] if _fs_audit.stat_path(pattern).exists else []
    return [os.path.join(directory, entry) for entry in _fs_audit.list_dir(directory)
            if _glob_matches(pattern, os.path.join(directory, entry))]


def _absolute(pattern):
    if pattern.startswith('/') or pattern.startswith('~'):
        return pattern
    return os.path.join(SSHDIR, pattern)


# sshd's READCONF_MAX_DEPTH: Include nested deeper is fatal for sshd (sshd -t says so)
MAX_INCLUDE_DEPTH = 16


def rewrite_includes(main_text, target, candidate, scratch=None, _depth=0):
    """(text of ``main_text`` with every Include of ``target`` naming
    ``candidate`` instead - ``candidate`` None: without it -, whether any
    Include matched ``target``).

    ``scratch`` (a callable: (bytes, the file copied) -> the path of a private
    copy holding the bytes):
    an included file that itself includes ``target`` (at any depth) is
    rewritten the same way into a copy, and the Include names the copy in its
    place - sshd reads an Include where it stands (the first value of most
    keywords wins), so the candidate is read exactly where the drop-in will
    be. Without ``scratch`` only ``main_text``'s own Includes are looked at."""
    out = []
    included = False
    for line in main_text.splitlines():
        match = _INCLUDE.match(line)
        if not match:
            out.append(line)
            continue
        words = argv_split(match.group(2))
        if words is None:
            out.append(line)  # sshd -t reports the bad quotes
            continue
        files = []
        touched = False
        for word in words:
            pattern = _absolute(word)
            found = [path for path in _expand(pattern) if path != target]
            if _glob_matches(pattern, target):
                touched = True
                found = sorted(found + [target])
            files.extend(found)
        if scratch is not None and _depth < MAX_INCLUDE_DEPTH:
            for index, path in enumerate(files):
                copy = _nested_copy(path, target, candidate, scratch, _depth) if path != target else None
                if copy is not None:
                    files[index] = copy
                    touched = True
        if not touched:
            out.append(line)
            continue
        included = True
        files = [candidate if path == target else path for path in files if path != target or candidate]
        if files:
            out.append('%sInclude %s' % (match.group(1), ' '.join(quote_word(path) for path in files)))
    return '\n'.join(out) + '\n', included


def _nested_copy(path, target, candidate, scratch, depth):
    """The path of a rewritten copy of the included file ``path`` when it
    includes ``target`` (at any depth), else None."""
    data = _fs_audit.read_config_file(path)
    if data is None:
        return None
    try:
        text, included = rewrite_includes(data.decode('utf-8', 'replace'), target, candidate, scratch, depth + 1)
    except InvalidInput:
        # an Include the check cannot expand (a wildcard in a directory): taken as not including the drop-in
        return None
    if not included:
        return None
    return scratch(text.encode('utf-8'), path)


class CheckedConfig:
    """What sshd said of the configuration with the candidate drop-in in place
    (``host_keys``: every ``HostKey`` of ``sshd -T``, in its order; None when
    ``sshd -T`` failed)."""

    def __init__(self, included, values, command, host_keys=None):
        self.included = included
        self.values = values
        self.command = command
        self.host_keys = host_keys


def sshd_t_list(text, keyword):
    """Every value of ``keyword`` (lower case) that ``sshd -T`` prints one line
    each (``hostkey``), the rest of the line as is (a path may hold blanks)."""
    found = []
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() == keyword:
            found.append(parts[1])
    return found


def check_candidate(run_command, sshd_path, main_config, target, content):
    """``sshd -t`` and ``sshd -T`` of ``main_config`` with ``content`` (None:
    the drop-in removed) at ``target``. ``InvalidInput`` with sshd's own words
    when sshd rejects it; a ``CheckedConfig`` otherwise."""
    if not sshd_path:
        raise NotFound('sshd is not found (set sshd_path): the drop-in cannot be checked, so it is not installed')
    main_data = _fs_audit.read_config_file(main_config)
    if main_data is None:
        raise NotFound('cannot read %s (set sshd_config): the drop-in cannot be checked' % main_config,
                       path=main_config)
    main_text = main_data.decode('utf-8', 'replace')
    with contextlib.ExitStack() as copies, _fs.scratch_files([(content or '').encode('utf-8')]) as (dropin_copy,):
        originals = {dropin_copy: target}   # copy -> the file it stands for (in sshd's words)

        def scratch(data, original):
            copy = copies.enter_context(_fs.scratch_files([data]))[0]
            originals[copy] = original
            return copy

        text, included = rewrite_includes(main_text, target, dropin_copy if content is not None else None, scratch)
        if not included and content is not None:
            # not read by sshd as configured: still check its words, read first
            text = 'Include %s\n%s' % (quote_word(dropin_copy), text)
        with _fs.scratch_files([text.encode('utf-8')]) as (main_copy,):
            originals[main_copy] = main_config
            rc, out, err = run_command([sshd_path, '-t', '-f', main_copy])
            if rc != 0:
                words = err or out or ''
                for copy in sorted(originals, key=len, reverse=True):
                    words = words.replace(copy, originals[copy])
                words = words.strip()
                raise InvalidInput('sshd rejects the configuration with this drop-in, so it is not installed: %s'
                                   % (words or 'sshd -t exit %d' % rc), path=target)
            rc, out, err = run_command([sshd_path, '-T', '-f', main_copy])
            values = parse_sshd_t(out) if rc == 0 else {}
            host_keys = sshd_t_list(out, 'hostkey') if rc == 0 else None
    return CheckedConfig(included, values, '%s -t -f %s' % (sshd_path, main_config), host_keys)
