#!/usr/bin/env bash
# End-to-end test of the usage evidence from the REAL systemd journal (issue 31).
#
# The real systemd-journald runs in a private mount namespace (no systemd PID 1 is
# needed): a tmpfs over /run/systemd, its runtime journal directory /run/log bound to
# $WORK/runlog (so the files are visible outside the namespace), and a private /dev
# whose /dev/log is journald's dev-log socket. A real sshd (UsePAM no) in the same
# namespace logs through syslog(3) into it. Then:
#   1. real logins with a key (twice) as the account <prefix>_a;
#   2. the account forges sshd's record for its other (unused) key three ways:
#      `logger -t sshd`, `systemd-cat -t sshd`, and a program named sshd run through
#      systemd-cat (its _COMM is "sshd", its _UID the account's); the forged entries are
#      in the journal (checked with journalctl SYSLOG_IDENTIFIER=sshd) but must not count;
#   3. authorized_keys_info with usage.journal_directory=$WORK/runlog/journal, read outside the
#      namespace by the real journalctl: the used key has 2 uses from 127.0.0.1, the
#      other key is unused (true: the journal was read in full);
#   4. authorized_keys_info inside the namespace with the host's default journal
#      (sources: [journal], no directory): the same figures;
#   5. a copy of the journal in a directory the account owns is refused (not read).
# Runs as root; account <prefix>_a and a port of JOURNAL_E2E_PORTS (JOURNAL_E2E_PREFIX,
# default kjr, 24550-24599); everything is removed on exit. About 15 s.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PREFIX="${JOURNAL_E2E_PREFIX:-kjr}"
PORT_RANGE="${JOURNAL_E2E_PORTS:-24550-24599}"
A="${PREFIX}_a"
SSHD=/usr/sbin/sshd
JOURNALD=/lib/systemd/systemd-journald

log() { printf '[journal_usage e2e] %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() { printf '[journal_usage e2e] FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it creates an account, starts journald and sshd)"
[ -x "$SSHD" ] || fail "$SSHD is missing (openssh-server)"
[ -x "$JOURNALD" ] || fail "$JOURNALD is missing (the systemd package; make deps installs it)"
for tool in journalctl systemd-cat logger unshare nsenter runuser; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done

WORK="$(mktemp -d "/run/${PREFIX}-journal-e2e.XXXXXX")"
chmod 0755 "$WORK"
begin=$EPOCHREALTIME
NS_PID=

cleanup() {
    local rc=$?
    set +e
    [ -s "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
    [ -s "$WORK/journald.pid" ] && kill "$(cat "$WORK/journald.pid")" 2>/dev/null
    [ -n "$NS_PID" ] && kill "$NS_PID" 2>/dev/null
    [ -n "$NS_PID" ] && wait "$NS_PID" 2>/dev/null
    if id "$A" >/dev/null 2>&1; then userdel -r "$A" >/dev/null 2>&1; fi
    if [ $rc -ne 0 ] && [ -d "$JDIR" ]; then
        printf -- '--- journal ---\n' >&2
        journalctl --directory="$JDIR" --no-pager -o short-iso 2>&1 | tail -n 40 >&2
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------------ collection and ansible
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ] \
        || [ ! -f "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keysmith/accounts/plugins/modules/authorized_keys_info.py" ]; then
    mkdir -p "$WORK/collections/ansible_collections/keysmith"
    ln -s "$ROOT" "$WORK/collections/ansible_collections/keysmith/accounts"
    export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
fi
PYTHON="${ANSIBLE_PYTHON_INTERPRETER:-$(command -v python3)}"
if [ -z "${ANSIBLE_PYTHON_INTERPRETER:-}" ] && [ -x "$ROOT/.venv/bin/python" ] \
        && ! "$PYTHON" -c 'import ansible' >/dev/null 2>&1; then
    PYTHON="$ROOT/.venv/bin/python"
fi
PLAYBOOK="$(command -v ansible-playbook || echo "$ROOT/.venv/bin/ansible-playbook")"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0

# ------------------------------------------------------------------ the account and its keys
if id "$A" >/dev/null 2>&1; then userdel -r "$A" >/dev/null 2>&1 || true; fi
useradd -m -s /bin/sh "$A"
usermod -p '*' "$A"
install -d -m 0755 "$WORK/keys" "$WORK/runlog" "$WORK/dev"
JDIR="$WORK/runlog/journal"   # journald's /run/log/journal: <machine-id>/system.journal
ssh-keygen -q -t ed25519 -N '' -C used -f "$WORK/used"
ssh-keygen -q -t ed25519 -N '' -C forged -f "$WORK/forged"
cat "$WORK/used.pub" "$WORK/forged.pub" > "$WORK/keys/$A"
chmod 0644 "$WORK/keys/$A"
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
FP_USED="$(fp "$WORK/used.pub")"
FP_FORGED="$(fp "$WORK/forged.pub")"
ssh-keygen -q -t ed25519 -N '' -C host -f "$WORK/ssh_host_ed25519_key"
mkdir -p /run/sshd && chmod 0755 /run/sshd
PORT="$("$PYTHON" - "$PORT_RANGE" <<'PY'
import socket, sys
low, high = map(int, sys.argv[1].split('-'))
for port in range(low, high + 1):
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
)"
[ -n "$PORT" ] || fail "no free port in $PORT_RANGE"
cat > "$WORK/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd.pid
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $WORK/keys/%u
StrictModes yes
UseDNS no
SyslogFacility AUTH
LogLevel INFO
CONF
"$SSHD" -t -f "$WORK/sshd_config"

# ------------------------------------------------------------------ journald + sshd in a private mount namespace
# the namespace lives as long as its first process (sleep): journald and sshd run in it
# and the later steps enter it with nsenter.
unshare -m --propagation private sh -c "
    set -e
    mount -t tmpfs -o mode=0755 kjrsystemd /run/systemd
    mkdir -p /run/systemd/journal
    mkdir -p /run/log
    mount --bind '$WORK/runlog' /run/log
    mount -t tmpfs -o mode=0755 kjrvarjournal /var/log/journal
    mount -t tmpfs -o mode=0755 kjrdev '$WORK/dev'
    for n in null zero random urandom tty; do touch '$WORK/dev/'\$n; mount --bind /dev/\$n '$WORK/dev/'\$n; done
    mkdir '$WORK/dev/shm'
    mount -t tmpfs -o mode=1777 kjrshm '$WORK/dev/shm'
    mount --bind '$WORK/dev' /dev
    '$JOURNALD' </dev/null >'$WORK/journald.log' 2>&1 &
    echo \$! > '$WORK/journald.pid'
    for _ in \$(seq 1 100); do [ -S /run/systemd/journal/dev-log ] && break; sleep 0.05; done
    [ -S /run/systemd/journal/dev-log ] || { echo journald did not start >&2; exit 1; }
    ln -s /run/systemd/journal/dev-log /dev/log
    '$SSHD' -D -f '$WORK/sshd_config' &
    exec sleep 600
" > "$WORK/namespace.log" 2>&1 &
NS_PID=$!
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "sshd did not start: $(cat "$WORK/namespace.log")"
inns() { nsenter -t "$NS_PID" -m -- "$@"; }
ls "$JDIR"/*/system.journal >/dev/null 2>&1 || fail "journald wrote no journal file"
log "journald and sshd (127.0.0.1:$PORT) in a private mount namespace, journal in $JDIR"

# ------------------------------------------------------------------ real logins and forged records
for _ in 1 2; do
    ssh -p "$PORT" -i "$WORK/used" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$A@127.0.0.1" true || fail "login with the key failed"
done
FORGED="Accepted publickey for $A from 10.9.9.9 port 4242 ssh2: ED25519 $FP_FORGED"
install -m 0755 /bin/echo "$WORK/sshd"     # a program of the account's named sshd
inns runuser -u "$A" -- logger -t sshd -p auth.info "$FORGED"
inns runuser -u "$A" -- sh -c "echo '$FORGED' | systemd-cat -t sshd -p info"
inns runuser -u "$A" -- systemd-cat -t sshd "$WORK/sshd" "$FORGED"
count() { journalctl --directory="$JDIR" --no-pager -q -o cat "$@" | grep -c "Accepted publickey for $A" || true; }
for _ in $(seq 1 100); do [ "$(count)" -ge 5 ] && break; sleep 0.05; done
[ "$(count SYSLOG_IDENTIFIER=sshd)" -eq 5 ] || fail "the journal does not hold 2 logins + 3 forged records: $(count SYSLOG_IDENTIFIER=sshd)"
[ "$(count _COMM=sshd)" -eq 3 ] || fail "sshd and the account's program named sshd: $(count _COMM=sshd) entries"
log "journal: 2 logins by sshd, 3 records forged by $A (logger, systemd-cat, a program named sshd)"

# ------------------------------------------------------------------ the module
play() {  # play NAME USAGE-JSON...: one audit task per usage, results in NAME-1.json, NAME-2.json, ...
    local name="$1" n=0
    shift
    printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  vars: {ansible_python_interpreter: %s}\n  tasks:\n' \
        "$PYTHON" > "$WORK/$name.yml"
    for usage in "$@"; do
        n=$((n + 1))
        cat >> "$WORK/$name.yml" <<YML
    - keysmith.accounts.authorized_keys_info:
        users: [$A]
        sshd_config: $WORK/sshd_config
        usage: $usage
      register: audit
    - ansible.builtin.copy:
        content: "{{ audit | to_json }}"
        dest: $WORK/$name-$n.json
        mode: '0600'
YML
    done
}
check() {  # check NAME EXPECT(complete|refused)
    "$PYTHON" - "$WORK/$1.json" "$2" "$FP_USED" "$FP_FORGED" "$WORK" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
expect, fp_used, fp_forged, work = sys.argv[2:6]
def check(cond, what):
    if not cond:
        sys.exit('%s check failed: %s\n%s' % (sys.argv[1], what, json.dumps(result.get('usage'), indent=1)))
keys = dict((key['fingerprint'], key) for key in result['accounts'][0]['keys'])
usage = result['usage']
source = usage['sources'][0]
check(len(usage['sources']) == 1 and source['source'] == 'journal', 'one source, the journal')
if expect == 'refused':
    check(source['status'] == 'not read' and 'not a directory only root' in source['reason'], 'refused: %s' % source)
    check(not usage['complete'] and keys[fp_forged]['unused'] is None and keys[fp_used]['unused'] is None,
          'unknown, never unused')
    sys.exit(0)
check(source['status'] == 'read' and not source['cut'] and usage['complete'], 'read in full: %s' % source)
if expect == 'directory':
    check(source['path'] == work + '/runlog/journal' and ('--directory=%s/runlog/journal' % work) in source['command'],
          'read through --directory')
else:
    check(source['path'] is None and '--directory' not in source['command'], 'the default journal')
used, forged = keys[fp_used], keys[fp_forged]
check(used['uses'] == 2 and used['used_from'] == ['127.0.0.1'] and used['unused'] is False and used['last_used'],
      'the used key: %s' % used)
check(forged['uses'] == 0 and forged['unused'] is True and forged['used_from'] == [],
      'the forged records counted: %s' % forged)
check(usage['logins'] == 2 and usage['keys_used'] == 1 and usage['keys_unused'] == 1, 'totals')
check('journalctl' in source['command'] and '_UID=0' in source['command'], 'the query: %s' % source['command'])
check(usage['logs_reach_back_to'] is not None, 'how far the journal reaches')
PY
}
# a copy of the journal in a directory an account owns: refused, whatever it holds
install -d -m 0755 "$WORK/copied"
cp -r "$JDIR" "$WORK/copied/"
chown -R "$A:$A" "$WORK/copied/journal"
start=$EPOCHREALTIME
play outside "{sources: [journal], journal_directory: $JDIR, since: 1d}" \
    "{sources: [journal], journal_directory: $WORK/copied/journal}"
"$PLAYBOOK" -i localhost, "$WORK/outside.yml" > "$WORK/outside.log" 2>&1 \
    || { cat "$WORK/outside.log" >&2; fail "authorized_keys_info with journal_directory failed"; }
check outside-1 directory
log "journal_directory read by the real journalctl: 2 uses, forged records not counted"
check outside-2 refused
log "a journal directory owned by $A: not read ($(elapsed "$start") s)"

start=$EPOCHREALTIME
play inside "{sources: [journal]}"
inns env ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH" ANSIBLE_LOCAL_TEMP="$WORK/tmp" \
    ANSIBLE_REMOTE_TEMP="$WORK/tmp" "$PLAYBOOK" -i localhost, "$WORK/inside.yml" > "$WORK/inside.log" 2>&1 \
    || { cat "$WORK/inside.log" >&2; fail "authorized_keys_info on the namespace's journal failed"; }
check inside-1 default
log "the host's journal (inside the namespace, no directory): same figures ($(elapsed "$start") s)"
log "ok ($(elapsed "$begin") s)"
