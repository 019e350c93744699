# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The lock of the trust files an account's sshd or ssh reads (ssh_principals, ssh_known_hosts_ca).
    DOCUMENTATION = r'''
options:
  lock_timeout:
    description:
      - Seconds to wait for the C(flock) on the directory of a file below the account's home (the lock
        M(keysmith.accounts.ssh_authkey) takes on C(~/.ssh)), held by another run or by the account itself. When it
        is not released in time the task fails with an error naming the lock. A root-owned file outside the homes
        is written under the C(flock) on its directory too (two runs at once both keep their lines).
    type: int
    default: 60
'''
