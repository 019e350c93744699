# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal syslog daemon for the e2e tests: receives syslog(3) datagrams on a
unix socket (``/dev/log`` inside a private mount namespace) and appends them to a
file as rsyslog's traditional file format does (``Dec  6 23:35:17 HOST sshd[123]: msg``).

glibc's syslog(3) sends ``<PRI>Mmm dd HH:MM:SS TAG[PID]: MESSAGE``: the time and the
tag are sshd's own; the host name is added here, as rsyslog adds it.

    syslog_sink.py SOCKET LOGFILE HOSTNAME
"""

import os
import re
import signal
import socket
import sys

_PRI = re.compile(rb'^<\d{1,3}>')


def main():
    path, logfile, hostname = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    with open(logfile, 'ab', buffering=0) as out:
        while True:
            data = sock.recv(65536).rstrip(b'\n')
            data = _PRI.sub(b'', data)
            # "Mmm dd HH:MM:SS " (16 bytes) then the tag: insert the host name between them
            out.write(data[:16] + hostname + b' ' + data[16:] + b'\n')


if __name__ == '__main__':
    main()
