# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Attributes every module of the collection shares (with
    # ansible.builtin.action_common_attributes, which describes them).
    DOCUMENTATION = r'''
options: {}
attributes:
  platform:
    platforms: posix
'''

    # The *_info modules: they only read, so check mode is the same run.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode returns the same data.
  diff_mode:
    support: N/A
    details: Nothing is changed.
'''
