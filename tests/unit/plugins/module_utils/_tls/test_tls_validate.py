# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's rules (cPanel SSL::gencsr), one test per rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.keysmith.accounts.plugins.module_utils._errors import InvalidInput
from ansible_collections.keysmith.accounts.plugins.module_utils._tls.validate import (
    ISO3166_ALPHA2,
    host_file_stem,
    host_from_file_stem,
    parse_san,
    san_list,
    validate_country,
    validate_email,
    validate_host,
    validate_password,
    validate_province,
    validate_text,
)

ISO3166_TAB = '/usr/share/zoneinfo/iso3166.tab'


def test_country_list_has_the_249_assigned_codes():
    assert len(ISO3166_ALPHA2) == 249
    assert all(len(code) == 2 and code.isupper() for code in ISO3166_ALPHA2)


@pytest.mark.skipif(not os.path.exists(ISO3166_TAB), reason='tzdata iso3166.tab not installed')
def test_country_list_matches_tzdata():
    with open(ISO3166_TAB) as handle:
        codes = set(line.split('\t')[0] for line in handle if line.strip() and not line.startswith('#'))
    assert codes == set(ISO3166_ALPHA2)


@pytest.mark.parametrize('value, expected', [('US', 'US'), ('us', 'US'), (' De ', 'DE'), ('GB', 'GB'), ('AX', 'AX')])
def test_country_good(value, expected):
    assert validate_country(value) == expected


@pytest.mark.parametrize('value, message', [
    ('USA', 'exactly two letters'),
    ('DEU', 'exactly two letters'),
    ('United States', 'not the full name'),
    ('Germany', 'not the full name'),
    ('U', 'exactly two letters'),
    ('U1', 'exactly two letters'),
    ('', 'required'),
    (None, 'required'),
    ('ZZ', 'not an ISO 3166-1'),
    ('UK', 'use GB'),
])
def test_country_bad(value, message):
    with pytest.raises(InvalidInput, match=message):
        validate_country(value)


@pytest.mark.parametrize('value', ['Texas', 'New South Wales', 'Baden-Württemberg', 'Goa', 'Île-de-France'])
def test_province_full_names(value):
    assert validate_province(value) == value


@pytest.mark.parametrize('value', ['TX', 'tx', 'Tx', 'NSW', 'BW', 'N.Y.', 'T'])
def test_province_abbreviations_are_errors(value):
    with pytest.raises(InvalidInput, match='full name of the state or province.*not an abbreviation'):
        validate_province(value)


def test_province_required():
    with pytest.raises(InvalidInput, match='province is required'):
        validate_province('  ')


@pytest.mark.parametrize('value, expected', [
    ('example.com', 'example.com'),
    ('WWW.Example.COM', 'www.example.com'),
    ('a-b.c-d.example.co.uk', 'a-b.c-d.example.co.uk'),
    ('*.example.com', '*.example.com'),
    ('xn--bcher-kva.example', 'xn--bcher-kva.example'),
    ('example.com.', 'example.com'),
    ('1.example.com', '1.example.com'),
])
def test_host_good(value, expected):
    assert validate_host(value) == expected


@pytest.mark.parametrize('value, message', [
    ('localhost', 'valid domain or subdomain'),
    ('-bad.example.com', 'valid domain or subdomain'),
    ('bad-.example.com', 'valid domain or subdomain'),
    ('under_score.example.com', 'valid domain or subdomain'),
    ('sp ace.example.com', 'valid domain or subdomain'),
    ('a..example.com', 'valid domain or subdomain'),
    ('*.com', 'wildcard needs at least two labels'),
    ('www.*.example.com', 'valid domain or subdomain'),
    ('192.0.2.1', 'not an IP address'),
    ('2001:db8::1', 'not an IP address'),
    ('1.2.3.4.5', 'valid domain or subdomain'),
    ('', 'required'),
    ('x' * 64 + '.com', 'valid domain or subdomain'),
    ('a' * 60 + '.example.com', 'at most 64'),
])
def test_host_bad(value, message):
    with pytest.raises(InvalidInput, match=message):
        validate_host(value)


@pytest.mark.parametrize('value', ['', 'admin@example.com', 'first.last+tag@mail.example.org'])
def test_email_good(value):
    assert validate_email(value) == value


@pytest.mark.parametrize('value', ['admin', 'admin@', '@example.com', 'a b@example.com', 'admin@localhost',
                                   'a..b@example.com', 'admin@exa mple.com'])
def test_email_bad(value):
    with pytest.raises(InvalidInput, match='e-mail address'):
        validate_email(value)


def test_required_text_fields():
    with pytest.raises(InvalidInput, match='city is required'):
        validate_text('city', '', required=True)
    with pytest.raises(InvalidInput, match='company must be at most 64'):
        validate_text('company', 'x' * 65, required=True)
    with pytest.raises(InvalidInput, match='control characters'):
        validate_text('city', 'a\nb', required=True)
    assert validate_text('companydivision', None, required=False) == ''


def test_password_rules_never_echo_it():
    assert validate_password('') == ''
    assert validate_password('s3cret') == 's3cret'
    with pytest.raises(InvalidInput) as info:
        validate_password('x' * 256 + 'SECRETWORD')
    assert 'SECRETWORD' not in info.value.msg
    with pytest.raises(InvalidInput):
        validate_password('a\nb')


def test_sans():
    assert parse_san('www.example.com') == ('DNS', 'www.example.com')
    assert parse_san('dns:WWW.example.com') == ('DNS', 'www.example.com')
    assert parse_san('IP:192.0.2.1') == ('IP', '192.0.2.1')
    assert parse_san('IP:2001:DB8::1') == ('IP', '2001:db8::1')
    assert parse_san('email:a@example.com') == ('email', 'a@example.com')
    assert san_list('example.com', ['www.example.com', 'example.com', 'DNS:www.example.com']) == [
        ('DNS', 'example.com'), ('DNS', 'www.example.com')]
    for bad in ['IP:999.1.1.1', 'URI:http://x', 'bad_name.example.com', '', '192.0.2.1']:
        with pytest.raises(InvalidInput):
            parse_san(bad)


def test_file_stems():
    assert host_file_stem('www.example.com') == 'www.example.com'
    assert host_file_stem('*.example.com') == '_wildcard_.example.com'
    assert host_from_file_stem('_wildcard_.example.com') == '*.example.com'
