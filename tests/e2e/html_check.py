# -*- coding: utf-8 -*-
# Copyright (c) keysmith.accounts contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open the access report's HTML page in headless chromium and check it.

A tiny Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (fd 3:
commands to the browser, fd 4: its answers, messages separated by NUL), so no
websocket library or browser driver is needed. Checks, against the report's
JSON:
  - the page loads with no console error, no uncaught exception, no error log entry;
  - every host and every key fingerprint of the report is in the page;
  - typing a fingerprint into the search box leaves exactly that key's rows,
    typing text that matches nothing leaves none, clearing it shows all again;
  - the evidence sections: one row per policy violation and per private key of
    the key map, one edge of the key-map graph per (private key, account) pair,
    the "last used" cell of every key used, and the search filters the key map.

Usage: html_check.py REPORT.html REPORT.json [--chromium PATH]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--remote-debugging-pipe']


class Browser:
    def __init__(self, chromium, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def plumb():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen([chromium] + FLAGS + ['--user-data-dir=' + profile, 'about:blank'],
                                     preexec_fn=plumb, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b''
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b'\0' not in self._buffer:
            left = deadline - time.time()
            if left <= 0:
                raise RuntimeError('chromium did not answer in time')
            ready, dummy, dummy2 = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError('chromium closed the debugging pipe (exit status %s)' % self.proc.poll())
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b'\0', 1)
        return json.loads(message.decode('utf-8'))

    def call(self, method, params=None, session=None, timeout=20):
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self._to_browser, json.dumps(message).encode('utf-8') + b'\0')
        deadline = time.time() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get('id') == self._next_id:
                if 'error' in reply:
                    raise RuntimeError('%s failed: %s' % (method, reply['error']))
                return reply.get('result', {})
            self.events.append(reply)

    def wait_event(self, method, timeout=20):
        deadline = time.time() + timeout
        while True:
            for event in self.events:
                if event.get('method') == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.call('Browser.close', timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def errors_in(events):
    found = []
    for event in events:
        method, params = event.get('method'), event.get('params', {})
        if method == 'Runtime.exceptionThrown':
            found.append('exception: %s' % params.get('exceptionDetails', {}).get('text'))
        elif method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert'):
            found.append('console.%s: %s' % (params['type'], [a.get('value') for a in params.get('args', [])]))
        elif method == 'Log.entryAdded' and params.get('entry', {}).get('level') == 'error':
            found.append('log: %s' % params['entry'].get('text'))
    return found


def check_evidence(report, evaluate, type_search):
    """The usage, policy and key-map parts of the page against the report."""
    problems = []

    def rows(table_id):
        return evaluate("Array.prototype.map.call(document.querySelectorAll('#%s tbody tr'), function (r) {"
                        " return r.style.display === 'none' ? null : r.innerText; })" % table_id)

    violations = (report.get('policy') or {}).get('violations') or []
    shown = rows('policy-violations')
    if len(shown) != len(violations):
        problems.append('%d policy violation rows, the report has %d' % (len(shown), len(violations)))
    for item in violations:
        if not any(item['rule'] in row and item['host'] in row for row in shown):
            problems.append('violation %s of %s on %s is not in the table' % (item['rule'], item['user'], item['host']))
    key_map = report.get('key_map') or {}
    private = key_map.get('private_keys') or []
    shown = rows('key-map')
    if len(shown) != len(private):
        problems.append('%d key-map rows, the report has %d private keys' % (len(shown), len(private)))
    if private:
        edges = evaluate("document.querySelectorAll('#key-map-graph line.edge').length")
        if edges != len(key_map.get('edges') or []):
            problems.append('the key-map graph draws %s edges, the report has %d' % (edges, len(key_map['edges'])))
        wanted = private[0]['path']
        evaluate("var b = document.getElementById('search'); b.value = ''; 0")
        shown = type_search(wanted)
        left = [row for row in rows('key-map') if row is not None]
        expected = [entry for entry in private if wanted in entry['path']]
        if len(left) != len(expected):
            problems.append('search %s leaves %d key-map rows, expected %d' % (wanted, len(left), len(expected)))
        type_search('')
    used = [row for row in report['keys'] if row.get('uses')]
    if used:
        cells = evaluate("Array.prototype.map.call(document.querySelectorAll('#keys tbody tr'), function (r) {"
                         " return [r.getAttribute('data-fingerprint'), r.cells[r.cells.length - 1].innerText]; })")
        for row in used:
            if not any(fp == row['fingerprint'] and row['last_used'] in cell for fp, cell in cells):
                problems.append('last use %s of %s is not shown' % (row['last_used'], row['fingerprint']))
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('html')
    parser.add_argument('json')
    parser.add_argument('--chromium', default=shutil.which('chromium') or 'chromium')
    args = parser.parse_args()
    with open(args.json) as handle:
        report = json.load(handle)
    hosts = [host['host'] for host in report['hosts']]
    fingerprints = sorted(set(row['fingerprint'] for row in report['keys']))
    assert hosts and fingerprints, 'the report is empty'

    profile = tempfile.mkdtemp(prefix='access-report-chromium.')
    browser = Browser(args.chromium, profile)
    problems = []
    try:
        target = browser.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = browser.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Runtime.enable', 'Log.enable', 'Page.enable'):
            browser.call(domain, session=session)
        browser.call('Page.navigate', {'url': 'file://' + os.path.abspath(args.html)}, session=session)
        browser.wait_event('Page.loadEventFired')

        def evaluate(expression):
            result = browser.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True},
                                  session=session)
            if 'exceptionDetails' in result:
                raise RuntimeError('page script failed: %s' % result['exceptionDetails'])
            return result['result'].get('value')

        def type_search(text):
            evaluate("var b = document.getElementById('search'); b.focus(); b.select(); 0")
            if text:
                browser.call('Input.insertText', {'text': text}, session=session)
            else:
                browser.call('Input.dispatchKeyEvent', {'type': 'keyDown', 'key': 'Backspace', 'code': 'Backspace',
                                                        'windowsVirtualKeyCode': 8}, session=session)
                browser.call('Input.dispatchKeyEvent', {'type': 'keyUp', 'key': 'Backspace', 'code': 'Backspace',
                                                        'windowsVirtualKeyCode': 8}, session=session)
            return evaluate("""(function () {
                function visible(id) {
                  return Array.prototype.filter.call(document.querySelectorAll('#' + id + ' tbody tr'),
                    function (r) { return r.style.display !== 'none'; })
                    .map(function (r) { return r.getAttribute('data-fingerprint'); });
                }
                return {value: document.getElementById('search').value, keys: visible('keys'),
                        index: visible('index')};
            })()""")

        text = evaluate('document.body.innerText')
        for host in hosts:
            if host not in text:
                problems.append('host %s is not on the page' % host)
        page_fps = evaluate("Array.prototype.map.call(document.querySelectorAll('#keys tbody tr'),"
                            " function (r) { return r.getAttribute('data-fingerprint'); })")
        if sorted(page_fps) != sorted(row['fingerprint'] for row in report['keys']):
            problems.append('the key table rows differ from the report keys')
        for fingerprint in fingerprints:
            if fingerprint not in text:
                problems.append('fingerprint %s is not on the page' % fingerprint)

        wanted = fingerprints[0]
        shown = type_search(wanted)
        expected = [row['fingerprint'] for row in report['keys'] if row['fingerprint'] == wanted]
        if shown['value'] != wanted or shown['keys'] != expected or shown['index'] != [wanted]:
            problems.append('search %s shows %d key rows and %d index rows, expected %d and 1'
                            % (wanted, len(shown['keys']), len(shown['index']), len(expected)))
        shown = type_search('no-such-thing-zz9')
        if shown['keys'] or shown['index']:
            problems.append('a search matching nothing still shows %d key rows and %d index rows'
                            % (len(shown['keys']), len(shown['index'])))
        shown = type_search('')
        if len(shown['keys']) != len(report['keys']) or len(shown['index']) != len(fingerprints):
            problems.append('clearing the search shows %d of %d rows' % (len(shown['keys']), len(report['keys'])))
        problems.extend(check_evidence(report, evaluate, type_search))
        problems.extend(errors_in(browser.events))
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    if problems:
        for problem in problems:
            print('html_check: FAIL: %s' % problem, file=sys.stderr)
        return 1
    print('html_check: ok: %d hosts, %d key rows, %d fingerprints, search filters, %d policy violations, '
          '%d private keys mapped, no console errors'
          % (len(hosts), len(report['keys']), len(fingerprints), len((report.get('policy') or {}).get('violations') or []),
             len((report.get('key_map') or {}).get('private_keys') or [])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
