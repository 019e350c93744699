# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``regenerate`` policy (community.crypto's), written once for SSH key
pairs (generated or imported) and TLS keys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import Conflict, KeyLoadError


def replacement_reason(plan, path, regenerate, exists, compare, replacement='a new key', wanted='the task',
                       importing=False):
    """Why the key at ``path`` must be replaced, or None to keep it.

    ``compare()`` reads the existing key and returns ``(drift, passphrase_added)``:
    the differences from what is wanted (words) and whether the only reason
    to replace it may be a passphrase the task adds; it raises ``KeyLoadError``
    when the key cannot be read. ``regenerate``:

    - ``never`` keeps a differing key (with a warning), ``fail`` refuses it;
    - ``partial_idempotence`` replaces a differing key, but not a readable one
      only because the task adds a passphrase;
    - ``full_idempotence`` also replaces a key that cannot be read;
    - ``always`` replaces it on every run, except when ``importing`` (an
      imported key is the same on every run: it acts as ``full_idempotence``).

    ``replacement`` and ``wanted`` name the new key and what it must match in
    messages (``'the given key (SHA256:...)'``, ``'the given key'``).
    """
    if not exists:
        return 'missing'
    if regenerate == 'always' and not importing:
        return 'regenerate is always'
    try:
        drift, passphrase_added = compare()
    except KeyLoadError as exc:
        if regenerate == 'full_idempotence' or (importing and regenerate == 'always'):
            return 'the existing key cannot be read: %s' % exc.msg
        raise Conflict('%s cannot be read: %s. It is left untouched; set regenerate: full_idempotence '
                       'to replace it with %s' % (path, exc.msg, replacement), path=path)
    if not drift:
        return None
    summary = '; '.join(drift)
    if regenerate == 'never':
        plan.warn('%s does not match %s (%s) but regenerate is never: keeping it' % (path, wanted, summary))
        return None
    if regenerate == 'fail':
        raise Conflict('%s does not match %s: %s. Set regenerate to partial_idempotence or '
                       'full_idempotence to replace it' % (path, wanted, summary), path=path)
    if regenerate == 'partial_idempotence' and passphrase_added and len(drift) == 1:
        # community.crypto's rule: partial idempotence does not replace a
        # readable key only because a passphrase was added to the task.
        raise Conflict('%s is not protected by a passphrase but the task gives one. It is left '
                       'untouched; set regenerate: full_idempotence to replace it with a new, '
                       'protected key' % path, path=path)
    return summary
