#!/usr/bin/env bash
# End-to-end test of the fleet access report (playbooks/access_report.yml).
#
# Starts three sshd instances ("hosts" h1, h2, h3) on free 127.0.0.1 ports, each
# with its own sshd_config (h2 reads a central AuthorizedKeysFile, h3 also
# authorized_keys2), root logging in with a key made here. Creates test accounts
# with keys: a weak (RSA 1024) key, a key shared by several accounts, an
# expired line, a file sshd ignores because it is group-writable. Runs the
# playbook over ssh against the three hosts, checks the JSON and CSV, then
# opens the HTML page in headless chromium (tests/e2e/html_check.py): no
# console errors, every host and key present, the search box filters the table.
# Runs as root; everything is removed on exit. About 15 s. ACCESS_E2E_PREFIX names the
# accounts, ACCESS_E2E_PORTS (FIRST-LAST, default 22900-22999) the ports of the three sshd.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PREFIX="${ACCESS_E2E_PREFIX:-k19ae}"
USERS=("${PREFIX}_alice" "${PREFIX}_bob" "${PREFIX}_carol")
HOSTS=(h1 h2 h3)

log() { printf '[access_report e2e] %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() { printf '[access_report e2e] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
CHROMIUM="$(command -v chromium || true)"
[ -n "$CHROMIUM" ] || fail "chromium is missing (make deps installs it)"

# sshd's StrictModes refuses key files below a world-writable /tmp: the work
# directory (root's key file for the fleet is in it) lives below /run.
E2E_LOG_LINES=20
e2e_init /run "${PREFIX}-access-e2e" 0755
e2e_before_cleanup() {
    local sock
    for sock in "$WORK"/cp/*; do
        [ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit dummy >/dev/null 2>&1
    done
}

# ------------------------------------------------------------------ collection
e2e_collection access_report
export ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_SHOW_CUSTOM_STATS=1
# One ssh connection per host for the whole run, closed by cleanup.
mkdir -p "$WORK/cp"
export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=/dev/null \
-o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o LogLevel=ERROR"
export ANSIBLE_SSH_CONTROL_PATH_DIR="$WORK/cp" ANSIBLE_PIPELINING=1

# ------------------------------------------------------------------ keys and accounts
keygen() { ssh-keygen -q -t "$1" ${3:+-b "$3"} -N '' -C "$2" -f "$WORK/$2"; cat "$WORK/$2.pub"; }
ROOT_KEY_PUB="$(keygen ed25519 fleet_root)"
ALICE="$(keygen ed25519 alice_laptop)"
BOB_WEAK="$(keygen rsa bob_old_rsa 1024)"
SHARED="$(keygen ecdsa shared_deploy 256)"
CAROL="$(keygen ed25519 carol_ws)"
OLD="$(keygen ed25519 alice_expired)"

for user in "${USERS[@]}"; do e2e_user "$user" ssh; done
put() {  # put OWNER[:GROUP] FILE MODE TEXT
    printf '%s\n' "$4" > "$2"; chown "$1" "$2"; chmod "$3" "$2"
}
put "${USERS[0]}" "/home/${USERS[0]}/.ssh/authorized_keys" 0600 \
    "$ALICE"$'\n'"expiry-time=\"20200101Z\" $OLD"$'\n'"$SHARED"
put "${USERS[1]}" "/home/${USERS[1]}/.ssh/authorized_keys" 0600 "$BOB_WEAK"$'\n'"$SHARED"
# writable by the group root: every sshd ignores it (Debian's accepts a group of one, the account)
put "${USERS[2]}:root" "/home/${USERS[2]}/.ssh/authorized_keys" 0664 "$CAROL"
put "${USERS[2]}" "/home/${USERS[2]}/.ssh/authorized_keys2" 0600 "$SHARED"
install -d -m 0755 "$WORK/central" "$WORK/rootkeys"
printf '%s\n' "$ROOT_KEY_PUB" > "$WORK/rootkeys/root"
printf 'from="127.0.0.1" %s\n' "$CAROL" > "$WORK/central/${USERS[2]}"
chmod 0644 "$WORK/rootkeys/root" "$WORK/central/${USERS[2]}"

# ------------------------------------------------------------------ sshd fleet
ssh-keygen -q -t ed25519 -N '' -C fleet-host -f "$WORK/ssh_host_ed25519_key"
e2e_free_ports 3 "${ACCESS_E2E_PORTS:-22900-22999}"
PORTS=("${E2E_PORTS[@]}")
declare -A AKF=(
    [h1]=".ssh/authorized_keys $WORK/rootkeys/%u"
    [h2]="$WORK/central/%u .ssh/authorized_keys $WORK/rootkeys/%u"
    [h3]=".ssh/authorized_keys .ssh/authorized_keys2 $WORK/rootkeys/%u"
)
declare -A AUDIT=(
    [h1]="[\"${USERS[0]}\", \"${USERS[1]}\"]"
    [h2]="[\"${USERS[1]}\", \"${USERS[2]}\"]"
    [h3]="[\"${USERS[0]}\", \"${USERS[1]}\", \"${USERS[2]}\"]"
)
{
    echo "fleet:"
    echo "  vars:"
    echo "    ansible_user: root"
    echo "    ansible_host: 127.0.0.1"
    echo "    ansible_ssh_private_key_file: $WORK/fleet_root"
    echo "    ansible_python_interpreter: $PYTHON"
    echo "    access_report_become: false"
    echo "    access_report_dest: $WORK/report"
    echo "    access_report_generated_at: e2e"
    echo "  hosts:"
} > "$WORK/inventory.yml"
for i in 0 1 2; do
    h="${HOSTS[$i]}"
    cat > "$WORK/sshd_config_$h" <<CONF
Port ${PORTS[$i]}
ListenAddress 127.0.0.1
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd_$h.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile ${AKF[$h]}
StrictModes yes
UseDNS no
MaxStartups 50
CONF
    e2e_sshd "$WORK/sshd_config_$h" "$WORK/sshd_$h.log"
    {
        echo "    $h:"
        echo "      ansible_port: ${PORTS[$i]}"
        echo "      access_report_sshd_config: $WORK/sshd_config_$h"
        echo "      access_report_users: ${AUDIT[$h]}"
    } >> "$WORK/inventory.yml"
done
# h3 knows which keys are meant to exist: the others are unmanaged there.
MANAGED_FP="$(ssh-keygen -lf "$WORK/alice_laptop.pub" | awk '{print $2}')"
echo "      access_report_managed_keys: [\"$MANAGED_FP\", \"$SHARED\"]" >> "$WORK/inventory.yml"
e2e_wait_ports "${PORTS[@]}"
log "sshd fleet on 127.0.0.1:${PORTS[*]}"

# ------------------------------------------------------------------ the playbook
# --check first: the hosts are only read and the report is written all the same
# (it is what a preview before a cleanup is for).
start=$EPOCHREALTIME
"${PLAYBOOK_CMD[@]}" --check -i "$WORK/inventory.yml" "$ROOT/playbooks/access_report.yml" > "$WORK/play.log" 2>&1 \
    || { cat "$WORK/play.log" >&2; fail "playbook --check failed"; }
log "playbook --check: $(elapsed "$start") s"
[ -s "$WORK/report/access_report.html" ] || fail "no report after --check"
audit_lines="$(sed -n '/Audit who can log in/,/^$/p' "$WORK/play.log")"
if [ "$(grep -c '^ok: \[h[123]\]$' <<< "$audit_lines")" -ne 3 ]; then
    cat "$WORK/play.log" >&2; fail "--check: the audit did not run unchanged on the 3 hosts"
fi
rm -rf "$WORK/report"
start=$EPOCHREALTIME
"${PLAYBOOK_CMD[@]}" -i "$WORK/inventory.yml" "$ROOT/playbooks/access_report.yml" > "$WORK/play.log" 2>&1 \
    || { cat "$WORK/play.log" >&2; fail "playbook failed"; }
log "playbook: $(elapsed "$start") s"
for ext in json csv html; do [ -s "$WORK/report/access_report.$ext" ] || fail "access_report.$ext missing"; done
# What AWX shows as artifacts: the summary published with set_stats.
grep -A3 'CUSTOM STATS' "$WORK/play.log" | grep -q '"access_report".*"keys": 16' \
    || { cat "$WORK/play.log" >&2; fail "set_stats summary missing"; }

# ------------------------------------------------------------------ JSON and CSV
"$PYTHON" - "$WORK/report/access_report.json" "$WORK/report/access_report.csv" "$MANAGED_FP" "${USERS[@]}" <<'PY'
import csv, json, sys
report = json.load(open(sys.argv[1]))
rows = [row for row in csv.DictReader(open(sys.argv[2])) if row['record'] == 'key']
managed_fp, alice, bob, carol = sys.argv[3:7]
s = report['summary']
def check(cond, what):
    if not cond:
        sys.exit('report check failed: %s\nsummary: %s' % (what, s))
check(sorted(h['host'] for h in report['hosts']) == ['h1', 'h2', 'h3'], 'hosts')
check(not any(h['failed'] for h in report['hosts']), 'no host failed')
check(s['hosts'] == 3 and s['accounts'] == 7, 'hosts and accounts counted')
# h1: alice 3 + bob 2; h2: bob 2 + carol central 1 + carol ak 1 (ignored); h3: alice 3 + bob 2 + carol 1 + 1
check(s['keys'] == 16 and len(rows) == 16, 'key lines %d / csv %d' % (s['keys'], len(rows)))
check(s['weak'] == 3, 'RSA 1024 of bob is weak on every host')
check(s['expired'] == 2, 'alice expired line on h1 and h3')
check(s['ignored'] == 4, 'expired lines and carol group-writable file on h2 and h3')
check(s['files_ignored'] == 2, 'carol authorized_keys ignored on h2 and h3')
h3 = [r for r in report['keys'] if r['host'] == 'h3']
unmanaged = sorted((r['user'], r['line']) for r in h3 if r['managed'] is False)
check(unmanaged == sorted([(alice, 2), (bob, 1), (carol, 1)]), 'unmanaged on h3: %s' % unmanaged)
check(s['unmanaged'] == 3, 'unmanaged counted only where managed_keys is set')
central = [r for r in report['keys'] if r['host'] == 'h2' and r['user'] == carol and r['accepted']]
check(len(central) == 1 and central[0]['file'].endswith('/central/' + carol), 'central file on h2')
shared = [fp for fp, places in report['fingerprints'].items() if len(places) >= 6]
check(len(shared) == 1 and len(set(p['host'] for p in report['fingerprints'][shared[0]])) == 3, 'shared key index')
check(all(r['fingerprint'] in report['fingerprints'] for r in rows), 'csv fingerprints')
print('report ok: %s' % s)
PY

# ------------------------------------------------------------------ where the report goes, rerun, what is said
# At default verbosity the play says what the audit found and where the files are.
grep -q "16 keys.*$WORK/report/access_report.html" "$WORK/play.log" \
    || { cat "$WORK/play.log" >&2; fail "the play does not say what it found and where the report is"; }
# Run by name, without access_report_dest and without a fixed generation time, from
# a working directory: the report goes there (never into the installed collection),
# and a second run changes nothing.
mkdir -p "$WORK/cwd"
grep -v 'access_report_dest\|access_report_generated_at' "$WORK/inventory.yml" > "$WORK/inventory_cwd.yml"
for run in first second; do
    (cd "$WORK/cwd" && "${PLAYBOOK_CMD[@]}" -i "$WORK/inventory_cwd.yml" keysmith.accounts.access_report \
        > "$WORK/play_$run.log" 2>&1) || { cat "$WORK/play_$run.log" >&2; fail "playbook by name ($run run) failed"; }
done
[ -s "$WORK/cwd/access_report/access_report.html" ] || fail "run by name: the report is not in the working directory"
[ ! -e "$ROOT/playbooks/access_report" ] || fail "run by name: the report was written into the collection"
if grep -E '^[a-z0-9]+ +:.*changed=[1-9]' "$WORK/play_second.log"; then
    cat "$WORK/play_second.log" >&2; fail "a second report run with nothing new is changed"
fi
grep -q "$WORK/cwd/access_report/access_report.json" "$WORK/play_second.log" \
    || fail "the second run does not say where the report is"

# ------------------------------------------------------------------ the page, in a real browser
start=$EPOCHREALTIME
"$PYTHON" "$HERE/html_check.py" --chromium "$CHROMIUM" "$WORK/report/access_report.html" "$WORK/report/access_report.json"
log "chromium: $(elapsed "$start") s"
if [ -n "${ACCESS_E2E_KEEP:-}" ]; then cp -r "$WORK/report/." "$WORK/play.log" "$ACCESS_E2E_KEEP/"; fi
log "ok"
