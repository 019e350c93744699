# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of cPanel's ``SSL::gencsr`` parameters, and the file layout of ``~/ssl``.

Values are checked before anything is read or written, so a bad input fails
with a message naming the rule and leaves no file behind.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput

# ISO 3166-1 alpha-2: the 249 officially assigned codes.
ISO3166_ALPHA2 = frozenset('''
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
'''.split())

# Codes people use that ISO 3166-1 does not assign: a hint instead of a bare "unknown".
COUNTRY_HINTS = {'UK': 'GB', 'EL': 'GR'}

# Upper bounds of X.520 / PKCS#9 (RFC 5280 appendix A) for the subject fields.
MAX_LENGTHS = {
    'host': 64,            # ub-common-name: the host is the CN
    'city': 128,           # ub-locality-name
    'province': 128,       # ub-state-name
    'company': 64,         # ub-organization-name
    'companydivision': 64,  # ub-organizational-unit-name
    'email': 128,          # ub-emailaddress-length
    'password': 255,       # PKCS#9 challengePassword
}

_LABEL = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')

WILDCARD_FILE_PREFIX = '_wildcard_.'


def validate_text(name, value, required):
    if value is None:
        value = ''
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    if required and not value:
        raise InvalidInput('%s is required and must not be empty' % name)
    if _CONTROL.search(value):
        raise InvalidInput('%s must not contain control characters (newline, tab, NUL ...)' % name)
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidInput('%s must be at most %d characters, got %d' % (name, limit, len(value)))
    return value


def validate_domain(value, what='host'):
    """A domain or subdomain (RFC 1123 labels, at least two, optional leading ``*.``).

    Returns it in lower case. IP addresses are refused.
    """
    if value is None or not str(value).strip():
        raise InvalidInput('%s is required: a valid domain or subdomain such as www.example.com' % what)
    name = str(value).strip().lower()
    if name.endswith('.'):
        name = name[:-1]
    rule = ('%s must be a valid domain or subdomain (letters, digits and hyphens in dot-separated labels '
            'of 1 to 63 characters, at least two labels, optionally starting with "*."), got %r'
            % (what, value))
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise InvalidInput('%s must be a domain name, not an IP address (%r)' % (what, value))
    if len(name) > 253:
        raise InvalidInput(rule)
    labels = name.split('.')
    if labels[0] == '*':
        labels = labels[1:]
        if len(labels) < 2:
            raise InvalidInput('%s: a wildcard needs at least two labels after "*." (like *.example.com), '
                               'got %r' % (what, value))
    if len(labels) < 2:
        raise InvalidInput(rule)
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidInput(rule)
    if labels[-1].isdigit():
        raise InvalidInput(rule)
    return name


def validate_host(value):
    host = validate_domain(value, 'host')
    if len(host) > MAX_LENGTHS['host']:
        raise InvalidInput('host is the certificate\'s common name (CN), which is at most %d characters; '
                           '%r has %d. Use a shorter host and put the long name in subject_alt_names'
                           % (MAX_LENGTHS['host'], host, len(host)))
    return host


def validate_country(value):
    """Exactly two letters, an ISO 3166-1 alpha-2 code; a full name is an error."""
    text = '' if value is None else str(value).strip()
    if not text:
        raise InvalidInput('country is required: the two-letter ISO 3166-1 code, for example US')
    if len(text) != 2 or not text.isalpha():
        if len(text) > 3 and re.match(r"^[A-Za-z .,'()-]+$", text):
            raise InvalidInput('country must be the two-letter ISO 3166-1 code (for example US or DE), '
                               'not the full name: got %r' % text)
        raise InvalidInput('country must be exactly two letters, an ISO 3166-1 alpha-2 code '
                           '(for example US or DE): got %r' % text)
    code = text.upper()
    if code in COUNTRY_HINTS:
        raise InvalidInput('country %r is not an ISO 3166-1 alpha-2 code; use %s'
                           % (text, COUNTRY_HINTS[code]))
    if code not in ISO3166_ALPHA2:
        raise InvalidInput('country %r is not an ISO 3166-1 alpha-2 code (two letters such as US, GB, DE)'
                           % text)
    return code


def validate_province(value):
    """The full name of the state or province; an abbreviation is an error."""
    text = validate_text('province', value, required=True)
    letters = text.replace('.', '')
    if len(letters) <= 2 or (len(letters) <= 3 and letters.isalpha() and letters.isupper()):
        raise InvalidInput('province must be the full name of the state or province (for example Texas), '
                           'not an abbreviation: got %r' % text)
    return text


def validate_email(value):
    text = validate_text('email', value, required=False)
    if not text:
        return ''
    local, sep, domain = text.rpartition('@')
    if not sep or not local or not _EMAIL_LOCAL.match(local) or local.startswith('.') \
            or local.endswith('.') or '..' in local:
        raise InvalidInput('email must be an e-mail address like admin@example.com, got %r' % text)
    try:
        validate_domain(domain, 'the domain of email')
    except InvalidInput:
        raise InvalidInput('email must be an e-mail address like admin@example.com, got %r' % text)
    return text


def validate_password(value):
    """challengePassword: optional, printable, at most 255 characters. Never echoed."""
    if value is None or value == '':
        return ''
    if _CONTROL.search(value):
        raise InvalidInput('password must not contain control characters')
    if len(value) > MAX_LENGTHS['password']:
        raise InvalidInput('password must be at most %d characters' % MAX_LENGTHS['password'])
    return value


def parse_san(entry):
    """One subjectAltName entry: ``example.com``, ``DNS:example.com``, ``IP:192.0.2.1``,
    ``email:a@example.com``. Returns a (kind, value) tuple, kind in DNS, IP, email."""
    text = '' if entry is None else str(entry).strip()
    if not text:
        raise InvalidInput('subject_alt_names must not contain empty entries')
    kind, sep, value = text.partition(':')
    upper = kind.strip().upper()
    if sep and upper in ('DNS', 'IP', 'EMAIL'):
        value = value.strip()
        if upper == 'DNS':
            return ('DNS', validate_domain(value, 'subject_alt_names entry %r' % text))
        if upper == 'IP':
            try:
                return ('IP', str(ipaddress.ip_address(value)))
            except ValueError:
                raise InvalidInput('subject_alt_names entry %r is not a valid IP address' % text)
        email = validate_email(value)
        if not email:
            raise InvalidInput('subject_alt_names entry %r has no e-mail address' % text)
        return ('email', email)
    if sep:
        raise InvalidInput('subject_alt_names entry %r: the prefix must be DNS:, IP: or email:' % text)
    return ('DNS', validate_domain(text, 'subject_alt_names entry %r' % text))


def san_list(host, entries):
    """The host first, then the extra entries, without duplicates."""
    result = [('DNS', host)]
    for entry in entries or []:
        item = parse_san(entry)
        if item not in result:
            result.append(item)
    return result


def format_san(item):
    return '%s:%s' % item


def host_file_stem(host):
    """The file name stem of a host in ``~/ssl/keys`` and ``~/ssl/csrs``.

    ``*.example.com`` becomes ``_wildcard_.example.com`` (as cPanel names
    wildcard files); a ``*`` in a file name is a shell trap.
    """
    if host.startswith('*.'):
        return WILDCARD_FILE_PREFIX + host[2:]
    return host


def host_from_file_stem(stem):
    if stem.startswith(WILDCARD_FILE_PREFIX):
        return '*.' + stem[len(WILDCARD_FILE_PREFIX):]
    return stem


def validate_path(path, what='path'):
    if not os.path.isabs(path):
        raise InvalidInput('%s must be an absolute path, got %r' % (what, path))
    if '\n' in path or '\0' in path:
        raise InvalidInput('%s must not contain a newline or NUL byte' % what)
    return os.path.normpath(path)
