# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The account a task works for, and how files below its home are treated.
    DOCUMENTATION = r'''
options:
  user:
    description:
      - The system account whose files are managed.
      - Defaults to the user the module runs as.
      - Files and directories the module creates are owned by this user; writing
        for another user needs root (run the task with C(become)).
      - A user that does not exist is an error; in check mode the module reports
        what a real run would do instead, assuming an earlier task creates the user.
    type: str
  home:
    description:
      - Use this directory as the account's home instead of the one in the password database.
      - For non-standard layouts and rootless runs. Must be an absolute path.
      - When it does not exist it is created, mode V(0700), owned by O(user).
    type: path
  follow:
    description:
      - Follow symbolic links below the home directory (or below the parent of an explicit path).
      - By default a symlink, a hard-linked file, a non-regular file or a directory owned by
        another user (not the account, not root) is refused with an error and nothing is changed.
      - With V(true) a link is followed only to the account's own file or directory (owned by it and writable
        by it), or to a central, root-managed one (owned by root, writable by nobody else, on a path only root
        can change, through links only root can change). Anything else, such as a link the account planted to
        a root-only file, is refused before the target is read. What a link leads to keeps its owner and mode.
    type: bool
    default: false
'''

    BACKEND = r'''
options:
  backend:
    description:
      - How keys are generated and read.
      - V(cryptography) uses the Python C(cryptography) library on the target (fast).
      - V(ssh-keygen) runs the OpenSSH C(ssh-keygen) binary, for targets without C(cryptography).
        Passphrases are handed to it through C(SSH_ASKPASS), never on its command line.
      - V(auto) picks V(cryptography) when it is installed, else V(ssh-keygen).
    type: str
    default: auto
    choices: [auto, cryptography, ssh-keygen]
requirements:
  - Python C(cryptography) (backend V(cryptography)), or the OpenSSH C(ssh-keygen) binary (backend V(ssh-keygen)).
'''
