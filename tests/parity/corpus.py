# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lines the parity suite shows sshd: a curated list and a seeded generator.

A case is (name, file bytes, login key name). The keys are made at run time
(:class:`Keys`); lines are built from their public lines, so no key is kept
in the project. Every class of the issue has cases here: base64 forms, key
blobs (same key encoded otherwise, invalid keys, other types), certificates,
every option and its edge forms, and options sshd parses but always refuses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import struct
import time

from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings, strategies as st

from oracle import make_key

LOGIN_KEYS = (
    ('ed', 'ed25519', None),
    ('rsa', 'rsa', 2048),
    ('rsa1k', 'rsa', 1024),
    ('p256', 'ecdsa', 256),
    ('p384', 'ecdsa', 384),
    ('p521', 'ecdsa', 521),
)


def ssh_string(data):
    if not isinstance(data, bytes):
        data = data.encode('latin-1')
    return struct.pack('>I', len(data)) + data


def fields(blob):
    out = []
    pos = 0
    while pos < len(blob):
        length = struct.unpack('>I', blob[pos:pos + 4])[0]
        out.append(blob[pos + 4:pos + 4 + length])
        pos += 4 + length
    return out


def b64(data):
    return base64.b64encode(data).decode('ascii')


CERT_PRINCIPAL = 'pr1'
# The login key whose certificate (signed by 'ca', next to its private key, so
# ssh offers it first) logs in through cert-authority lines.
CERT_LOGIN = 'cu'


class Keys:
    """The login keys (and a few others) of one run, made with ssh-keygen.

    ``users``: the accounts a login may run as; the certificate of
    :data:`CERT_LOGIN` names each of them and :data:`CERT_PRINCIPAL`.
    """

    def __init__(self, directory, users=()):
        self.dir = directory
        self.private = {}
        self.line = {}
        for name, key_type, bits in LOGIN_KEYS:
            self.private[name], self.line[name] = make_key(directory, name, key_type, bits)
        self.private['other'], self.line['other'] = make_key(directory, 'other', 'ed25519')
        self.private['ca'], self.line['ca'] = make_key(directory, 'ca', 'ed25519')
        cert_base = os.path.join(directory, 'ed')
        result = os.system('ssh-keygen -q -s %s -I id -n %s %s.pub' % (
            self.private['ca'], 'k14', cert_base))
        if result != 0:
            raise RuntimeError('ssh-keygen -s failed')
        with open(cert_base + '-cert.pub') as handle:
            self.line['ed-cert'] = handle.read().strip()
        self.private[CERT_LOGIN], self.line[CERT_LOGIN] = make_key(directory, CERT_LOGIN, 'ed25519')
        self.cert_principals = [CERT_PRINCIPAL] + list(users)
        result = os.system('ssh-keygen -q -s %s -I cert-login -n %s -V -1h:+1d %s.pub' % (
            self.private['ca'], ','.join(self.cert_principals), self.private[CERT_LOGIN]))
        if result != 0:
            raise RuntimeError('ssh-keygen -s failed')
        with open(self.private[CERT_LOGIN] + '-cert.pub') as handle:
            self.line[CERT_LOGIN + '-cert'] = handle.read().strip()

    def type_of(self, name):
        return self.line[name].split()[0]

    def b64_of(self, name):
        return self.line[name].split()[1]

    def blob_of(self, name):
        return base64.b64decode(self.b64_of(name))

    def plain(self, name, comment='c'):
        return '%s %s %s' % (self.type_of(name), self.b64_of(name), comment)


def _case(cases, name, line, key='ed'):
    data = line if isinstance(line, bytes) else line.encode('utf-8', 'surrogateescape')
    if not data.endswith(b'\n'):
        data += b'\n'
    cases.append((name, data, key))


def _curated_keys(cases, keys):
    for name, dummy, dummy in LOGIN_KEYS:
        t, b = keys.type_of(name), keys.b64_of(name)
        _case(cases, 'plain %s' % name, '%s %s' % (t, b), name)
        _case(cases, 'comment %s' % name, '%s %s user@host' % (t, b), name)
        _case(cases, 'tabs %s' % name, '\t%s\t%s\tc' % (t, b), name)
        _case(cases, 'crlf %s' % name, '%s %s c\r' % (t, b), name)
        _case(cases, 'crlf no comment %s' % name, '%s %s\r' % (t, b), name)
        _case(cases, 'other key for %s' % name, keys.plain('other'), name)
        _case(cases, 'vt in base64 %s' % name, '%s %s\v%s c' % (t, b[:20], b[20:]), name)
        _case(cases, 'ff in base64 %s' % name, '%s %s\f%s c' % (t, b[:7], b[7:]), name)
        _case(cases, 'cr in base64 %s' % name, '%s %s\r%s c' % (t, b[:30], b[30:]), name)
        _case(cases, 'nul after key %s' % name, '%s %s\0garbage' % (t, b), name)
        _case(cases, 'nul in base64 %s' % name, '%s %s\0%s' % (t, b[:12], b[12:]), name)
        _case(cases, 'truncated base64 %s' % name, '%s %s c' % (t, b[:-4]), name)
        _case(cases, 'url-safe base64 %s' % name, '%s %s c' % (t, b.replace('+', '-').replace('/', '_')), name)
        _case(cases, 'lower type %s' % name, '%s %s c' % (t.upper(), b), name)
        _case(cases, 'missing base64 %s' % name, '%s' % t, name)
        _case(cases, 'comment line %s' % name, '#%s %s c' % (t, b), name)
        _case(cases, 'indented comment line %s' % name, '  # %s %s c' % (t, b), name)
        _case(cases, 'leading spaces %s' % name, '    %s %s c' % (t, b), name)
        _case(cases, 'extra =%s' % name, '%s %s= c' % (t, b), name)
        stripped = b.rstrip('=')
        if stripped != b:
            _case(cases, 'no padding %s' % name, '%s %s c' % (t, stripped), name)
            _case(cases, 'space before padding %s' % name, '%s %s %s c' % (t, stripped, b[len(stripped):]), name)
            _case(cases, 'vt before padding %s' % name, '%s %s\v%s c' % (t, stripped, b[len(stripped):]), name)
            _case(cases, 'data after padding %s' % name, '%s %sAA c' % (t, b), name)
            if b.endswith('=='):
                _case(cases, 'vt between padding %s' % name, '%s %s=\v= c' % (t, stripped), name)
                _case(cases, 'one of two pads %s' % name, '%s %s= c' % (t, stripped), name)
            alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
            last = alphabet.index(stripped[-1])
            dirty = stripped[:-1] + alphabet[last | 1] + b[len(stripped):]
            if dirty != b:
                _case(cases, 'non-zero trailing bits %s' % name, '%s %s c' % (t, dirty), name)
        # blob re-encodings of the same key
        blob = keys.blob_of(name)
        parts = fields(blob)
        tname = parts[0].decode()
        _case(cases, 'trailing data in blob %s' % name, '%s %s c' % (t, b64(blob + b'\0')), name)
        _case(cases, 'truncated blob %s' % name, '%s %s c' % (t, b64(blob[:-1])), name)
        _case(cases, 'inner type nul %s' % name, '%s %s c' % (t, b64(ssh_string(tname + '\0') + blob[4 + len(tname):])), name)
        _case(cases, 'inner type nul inside %s' % name, '%s %s c' % (t, b64(ssh_string(tname[:3] + '\0' + tname[3:]) + blob[4 + len(tname):])), name)
        _case(cases, 'inner type upper %s' % name, '%s %s c' % (t, b64(ssh_string(tname.upper()) + blob[4 + len(tname):])), name)
        short = {'ssh-ed25519': 'ED25519', 'ssh-rsa': 'RSA'}.get(tname, 'ECDSA')
        for variant in (short, short.lower()):
            _case(cases, 'inner short type %s %s' % (variant, name),
                  '%s %s c' % (t, b64(ssh_string(variant) + blob[4 + len(tname):])), name)
        if tname == 'ssh-rsa':
            e, n = parts[1], parts[2]
            for alias in ('rsa-sha2-256', 'rsa-sha2-512', 'RSA', 'rsa', 'ssh-dss'):
                _case(cases, 'type %s for %s' % (alias, name), '%s %s c' % (alias, b), name)
            _case(cases, 'inner type rsa-sha2-256 %s' % name,
                  '%s %s c' % (t, b64(ssh_string('rsa-sha2-256') + ssh_string(e) + ssh_string(n))), name)
            _case(cases, 'zero-padded e %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(b'\0\0' + e) + ssh_string(n))), name)
            _case(cases, 'extra zero n %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(e) + ssh_string(b'\0' + n))), name)
            _case(cases, 'negative n %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(e) + ssh_string(n.lstrip(b'\0')))), name)
            _case(cases, 'swapped e n %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(n) + ssh_string(e))), name)
            _case(cases, 'type ssh-ed25519 for rsa blob %s' % name, 'ssh-ed25519 %s c' % b, name)
        elif tname.startswith('ecdsa'):
            curve, point = parts[1], parts[2]
            size = (len(point) - 1) // 2
            x, y = point[1:1 + size], point[1 + size:]
            compressed = bytes([2 + (y[-1] & 1)]) + x
            _case(cases, 'compressed point %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(curve) + ssh_string(compressed))), name)
            bad_y = bytearray(y)
            bad_y[-1] ^= 1
            _case(cases, 'point off curve %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(curve) + ssh_string(b'\4' + x + bytes(bad_y)))), name)
            _case(cases, 'curve name mismatch %s' % name,
                  '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(b'nistp999') + ssh_string(point))), name)
            for other in ('ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ECDSA', 'ecdsa',
                          'sk-ecdsa-sha2-nistp256@openssh.com', 'webauthn-sk-ecdsa-sha2-nistp256@openssh.com'):
                if other != t:
                    _case(cases, 'type %s for %s' % (other, name), '%s %s c' % (other, b), name)
        else:
            pk = parts[1]
            for variant in (pk[:-1], pk + b'\0'):
                _case(cases, 'ed25519 %d bytes' % len(variant),
                      '%s %s c' % (t, b64(ssh_string(tname) + ssh_string(variant))), name)
            for other in ('ED25519', 'ed25519', 'sk-ssh-ed25519@openssh.com', 'ssh-rsa'):
                _case(cases, 'type %s for %s' % (other, name), '%s %s c' % (other, b), name)
    # certificates and cert-authority
    cert = keys.line['ed-cert']
    _case(cases, 'certificate line', cert)
    _case(cases, 'certificate with cert-authority', 'cert-authority ' + cert)
    _case(cases, 'cert-authority on the key', 'cert-authority ' + keys.plain('ed'))
    _case(cases, 'cert-authority CA', 'cert-authority ' + keys.line['ca'])
    _case(cases, 'cert-authority and principals', 'cert-authority,principals="k14" ' + keys.plain('ed'))
    _case(cases, 'certificate type with plain blob', '%s %s c' % (cert.split()[0], keys.b64_of('ed')))
    _case(cases, 'plain type with certificate blob', 'ssh-ed25519 %s c' % cert.split()[1])
    cert_blob = bytearray(base64.b64decode(cert.split()[1]))
    cert_blob[-1] ^= 1
    _case(cases, 'certificate with a bad signature', '%s %s c' % (cert.split()[0], b64(bytes(cert_blob))))
    _case(cases, 'certificate with a bad signature and cert-authority',
          'cert-authority %s %s c' % (cert.split()[0], b64(bytes(cert_blob))))
    # two lines
    _case(cases, 'other then key', keys.plain('other') + '\n' + keys.plain('ed'))
    _case(cases, 'bad then key', 'frobnicate ' + keys.plain('ed') + '\n' + keys.plain('ed'))
    _case(cases, 'crlf file', (keys.plain('other') + '\r\n' + keys.plain('ed') + '\r\n'))
    _case(cases, 'nul starts line', '\0' + keys.plain('ed'))
    _case(cases, 'nul in type', 'ssh-ed\0' + keys.plain('ed')[6:])
    _case(cases, 'non-utf8 comment', keys.plain('ed').encode() + b' \xff\xfe')
    _case(cases, 'non-utf8 command', b'command="\xff" ' + keys.plain('ed').encode())


GOOD_OPTIONS = [
    'restrict', 'RESTRICT', 'restrict,pty', 'pty,restrict', 'no-pty', 'NO-PTY', 'No-Pty', 'pty',
    'port-forwarding', 'no-port-forwarding', 'agent-forwarding', 'no-agent-forwarding',
    'x11-forwarding', 'no-x11-forwarding', 'NO-X11-FORWARDING', 'user-rc', 'no-user-rc',
    'touch-required', 'no-touch-required', 'verify-required', 'no-verify-required', 'VERIFY-REQUIRED',
    'No-Touch-Required', ',pty', 'pty,,no-pty', ',,,', 'pty,', 'pty,,',
    'command="true"', 'command="echo \\"hi\\""', 'command="a b  c"', 'COMMAND="true"', 'command=""',
    'command="x\\y"', 'command="#"', 'command="a,b"',
    'environment="A=b"', 'environment="_=x"', 'environment="1A=x"', 'environment="A="',
    'environment="A=1",environment="A=2"', 'environment="a=b c"',
    'from="127.0.0.1"', 'from="127.0.0.0/8"', 'from="127.0.0.*"', 'from="127.0.0.?"', 'from="*"',
    'from="10.0.0.1,127.0.0.1"', 'from="127.1"', 'from="2130706433"', 'from="0x7f.0.0.1"',
    'from="127.0.0.1/32"', 'from="127.0.0.0/08"', 'from="!10.0.0.1,127.0.0.1"', 'from="127.*,!10.*"',
    'from="::1,127.0.0.1"', 'from="127.0.0.1/33"', 'FROM="127.0.0.1"', 'from="1*"',
    'expiry-time="20991231"', 'expiry-time="209912312359"', 'expiry-time="20991231235959"',
    'expiry-time="20991231Z"', 'expiry-time="20991231z"', 'expiry-time="209912312359Z"',
    'expiry-time="20991231UTC"', 'expiry-time="20991231utc"', 'expiry-time="20990230"',
    'expiry-time="20991231235960"', 'expiry-time="20991231235961"', 'expiry-time="209912 1"',
    'expiry-time="2099 231"', 'expiry-time="99991231"', 'expiry-time="20991231",expiry-time="20981231"',
    'permitopen="host:22"', 'permitopen="host:*"', 'permitopen="*:*"', 'permitopen="host:65535"',
    'permitopen="host:ssh"', 'permitopen="[::1]:22"', 'permitopen=":22"', 'permitopen="host/22"',
    'permitopen="host:+22"', 'permitopen="host: 22"', 'permitopen="host:022"', 'permitopen="[::1]/22"',
    'permitlisten="22"', 'permitlisten="*"', 'permitlisten="localhost:22"', 'permitlisten="ssh"',
    'permitlisten="[::1]:8080"', 'permitlisten="0.0.0.0:http"',
    'tunnel="0"', 'tunnel="any"', 'tunnel="ANY"', 'tunnel="5"', 'tunnel="+5"', 'tunnel=" 5"',
    'tunnel="2147483645"', 'tunnel="007"', 'tunnel="-0"',
    'principals="a"',
]
BAD_OPTIONS = [
    'frobnicate', 'no-restrict', 'no-cert-authority', 'pty="x"', 'command', 'ptyx', 'no-no-pty',
    'permit-pty', 'command=true', 'command="a",command="b"', 'command="unterminated',
    'command="x"pty', 'pty"', 'restrict=', 'environment="=x"', 'environment="A"', 'environment="A-B=c"',
    'environment="\u00c9=x"', 'environment="A B=c"', 'from="a",from="b"', 'principals="a",principals="b"',
    'from="127.0.0.1/8"', 'from=""', 'from="127.0.0.1,"', 'from=",127.0.0.1"', 'from="127.0.0.1,,x"',
    'from="10.0.0.0/8"', 'from="!127.0.0.1"', 'from="localhost"', 'from="127.0.0.1,!127.0.0.1"',
    'from="!127.0.0.1,,"', 'from="::1"', 'from="127.0.0.1/"', 'from="127.0.0.0/ 8"',
    'expiry-time="20010101"', 'expiry-time="2099123"', 'expiry-time="209913010"', 'expiry-time="20991232"',
    'expiry-time="20991231245959"', 'expiry-time="20991231235962"', 'expiry-time="19700101Z"',
    'expiry-time="19700101000001Z"', 'expiry-time="00000000"', 'expiry-time="20991231Zx"',
    'expiry-time="20991231GMT"', 'expiry-time="Z"', 'expiry-time=""', 'expiry-time="20991231",expiry-time="20010101"',
    'expiry-time="tomorrow"', 'expiry-time="2099-12-31"', 'expiry-time="20991231 "',
    'permitopen="host:0"', 'permitopen="host:65536"', 'permitopen="host:nosuchservice"',
    'permitopen="[::1]22"', 'permitopen="::1:22"', 'permitopen="host"', 'permitopen="[::1]"',
    'permitopen="host:-1"', 'permitopen=""', 'permitopen="[::1"',
    'permitlisten="0"', 'permitlisten="host/22"', 'permitlisten="65536"', 'permitlisten="localhost:0"',
    'tunnel="-1"', 'tunnel="2147483646"', 'tunnel="tun0"', 'tunnel="\u0663"', 'tunnel=""', 'tunnel="0x5"',
    'tunnel="5 "', 'tunnel="any "', 'principals="a,b"', 'cert-authority',
]


def _curated_options(cases, keys):
    for index, opts in enumerate(GOOD_OPTIONS + BAD_OPTIONS):
        key = LOGIN_KEYS[index % len(LOGIN_KEYS)][0]
        _case(cases, 'options %s' % opts, '%s %s' % (opts, keys.plain(key)), key)
    line = keys.plain('ed')
    _case(cases, 'options then tab', 'no-pty\t' + line)
    _case(cases, 'options then two spaces', 'no-pty  ' + line)
    _case(cases, 'comma space', 'no-pty, ' + line)
    _case(cases, 'comma space option', 'no-pty, from="127.0.0.1" ' + line)
    _case(cases, 'space inside quotes', 'command="a b" ' + line)
    _case(cases, 'escaped quote at end', 'command="a\\"" ' + line)
    _case(cases, 'backslash before end quote', 'command="a\\\\" ' + line)
    _case(cases, 'tab in value', 'command="a\tb" ' + line)
    _case(cases, 'cr in value', 'command="a\rb" ' + line)
    for count, ok in ((1025, True), (1026, False)):
        opts = ','.join('environment="V%d=x"' % n for n in range(count))
        _case(cases, '%d environment names' % count, '%s %s' % (opts, line))
    _case(cases, '2000 repeated environment', '%s %s' % (','.join(['environment="V=x"'] * 2000), line))
    for name in ('permitopen', 'permitlisten'):
        for count in (4097, 4098):
            opts = ','.join('%s="h:%d"' % (name, 1 + n % 60000) for n in range(count))
            _case(cases, '%d %s' % (count, name), '%s %s' % (opts, line))
    _case(cases, 'long from element', 'from="%s,127.0.0.1" %s' % ('a' * 1100, line))
    _case(cases, 'long from pattern', 'from="127.0.0.1,%s" %s' % ('*' * 70, line))


def _local(epoch):
    return time.strftime('%Y%m%d%H%M', time.localtime(epoch))


def _utc(epoch):
    return time.strftime('%Y%m%d%H%M', time.gmtime(epoch))


def _curated_rules(cases, keys):
    """Issue 26 classes 1 and 2: what the audit re-derived and got wrong."""
    line = keys.plain('ed')
    now = time.time()
    # expiry-time near now: UTC suffixes in any case, and local time as sshd's
    # mktime reads it (run_parity puts both sides in a zone with summer time now)
    for label, offset in (('past', -1800), ('future', 1800)):
        for suffix in ('Z', 'z', 'UTC', 'utc', 'Utc'):
            _case(cases, 'expiry %s %s' % (suffix, label),
                  'expiry-time="%s%s" %s' % (_utc(now + offset), suffix, line))
        _case(cases, 'expiry local %s' % label, 'expiry-time="%s" %s' % (_local(now + offset), line))
        _case(cases, 'expiry local %s plus an hour' % label,
              'expiry-time="%s" %s' % (_local(now + offset + 3600), line))
        _case(cases, 'expiry local %s minus an hour' % label,
              'expiry-time="%s" %s' % (_local(now + offset - 3600), line))
    for opts in ('from="10.0.0.1/8"', 'from="127.0.0.1,"', 'from=",127.0.0.1"', 'from="127.0.0.1,,10.0.0.1"',
                 'from="!,127.0.0.1"', 'from="127.0.0.1/24"', 'from="127.0.0.0/24"', 'from="::1/64,127.0.0.1"',
                 'principals="k14"', 'principals=""', 'no-pty,', 'no-pty,,', 'restrict,pty,', ',',
                 'cert-authority,principals=""', 'cert-authority,principals="x"'):
        _case(cases, 'rules %s' % opts, '%s %s' % (opts, line))
    # certificate logins through cert-authority lines (the login key's certificate)
    ca = keys.line['ca']
    login = CERT_LOGIN
    for opts in ('cert-authority', 'CERT-AUTHORITY', 'cert-authority,principals="%s"' % CERT_PRINCIPAL,
                 'cert-authority,principals=""', 'cert-authority,principals=",%s"' % CERT_PRINCIPAL,
                 'cert-authority,principals="%s,,x"' % CERT_PRINCIPAL, 'cert-authority,principals="x,%s"' % CERT_PRINCIPAL,
                 'cert-authority,principals="nobody"', 'principals="%s"' % CERT_PRINCIPAL,
                 'cert-authority,from="127.0.0.1"', 'cert-authority,from="10.0.0.1/8"',
                 'cert-authority,from="10.0.0.0/8"', 'cert-authority,expiry-time="%sZ"' % _utc(now - 1800),
                 'cert-authority,expiry-time="%sZ"' % _utc(now + 1800), 'cert-authority,no-pty,',
                 'cert-authority,frobnicate', 'restrict,cert-authority,command="true"'):
        _case(cases, 'ca %s' % opts, '%s %s' % (opts, ca), login)
    _case(cases, 'ca plain line', ca, login)
    _case(cases, 'ca plain and cert-authority lines', '%s\ncert-authority %s' % (ca, ca), login)
    _case(cases, 'ca cert-authority then plain', 'cert-authority %s\n%s' % (ca, ca), login)
    _case(cases, 'ca other CA', 'cert-authority ' + keys.line['other'], login)
    _case(cases, 'ca certificate line', keys.line[login + '-cert'], login)
    _case(cases, 'ca certificate as cert-authority', 'cert-authority ' + keys.line[login + '-cert'], login)
    _case(cases, 'ca twice', 'cert-authority,principals="nobody" %s\ncert-authority %s' % (ca, ca), login)


def curated(keys):
    cases = []
    _curated_keys(cases, keys)
    _curated_options(cases, keys)
    _curated_rules(cases, keys)
    return cases


# ---------------------------------------------------------------------------
# The generator: random compositions of the same building blocks

def _option_atom():
    return st.sampled_from(GOOD_OPTIONS + BAD_OPTIONS)


def _line_strategy(keys):
    names = [name for name, dummy, dummy in LOGIN_KEYS]

    @st.composite
    def build(draw):
        key = draw(st.sampled_from(names))
        t, b = keys.type_of(key), keys.b64_of(key)
        atoms = draw(st.lists(_option_atom(), max_size=4))
        joiner = draw(st.sampled_from([',', ',', ',', ',,', ', ']))
        options = joiner.join(atoms)
        if draw(st.booleans()):
            cut = draw(st.integers(0, len(b)))
            space = draw(st.sampled_from(['\v', '\f', '\r', ' ', '\t', '=', '', '\0']))
            b = b[:cut] + space + b[cut:]
        type_name = draw(st.sampled_from([t, t, t, t.upper(), 'ssh-rsa', 'rsa-sha2-512', 'ssh-ed25519']))
        comment = draw(st.sampled_from(['', 'c', 'user@host', ' two  words ', '\r', '#x', 'ssh-ed25519 x']))
        lead = draw(st.sampled_from(['', '', ' ', '\t', '  \t']))
        sep = draw(st.sampled_from([' ', ' ', '\t', '  ']))
        body = '%s%s%s' % (type_name, sep, b) + ((' ' + comment) if comment else '')
        line = lead + (options + ' ' + body if options else body)
        return 'generated', line, key
    return build()


def generated(keys, count, seed):
    """``count`` cases drawn by hypothesis with a fixed seed (same cases every run)."""
    found = []
    strategy = _line_strategy(keys)

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(strategy)
    def collect(case):
        found.append(case)

    collect()
    out = []
    for name, line, key in found[:count]:
        _case(out, '%s %d' % (name, len(out)), line, key)
    return out
