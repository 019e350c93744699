#!/usr/bin/env bash
# End-to-end test of the usage evidence, the key map and the policy (issue 31).
#
# Two sshd "hosts" (h1, h2) on 127.0.0.1, each in a private mount namespace whose
# /dev/log is a small syslog daemon (tests/e2e/syslog_sink.py) writing the host's
# auth.log as rsyslog does: the records are sshd's own syslog(3) messages. Real
# logins (plain keys, root, a certificate) go to h1; none to h2. Each host also has
# an older rotated log (auth.log.1, auth.log.2.gz) so that its records reach 200 days
# back. Then:
#   1. playbooks/access_report.yml with usage, private_keys and a policy: last use,
#      uses and addresses per key, unused keys, the key map (a private key without
#      passphrase in ~kus_b/.ssh opens root@h1; an orphan; keys whose private half is
#      on no audited host), the violations; the HTML page in headless chromium;
#   2. playbooks/access_cleanup.yml --check with access_cleanup_unused_days: shows the
#      stale key and the diff, changes nothing; then for real: the stale key is gone,
#      the used ones stay, and the report has no stale key left on h1.
# Runs as root; accounts kus_a, kus_b and ports 24450-24499 (KEY_USAGE_E2E_PREFIX,
# KEY_USAGE_E2E_PORTS); everything is removed on exit. About 30 s.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PREFIX="${KEY_USAGE_E2E_PREFIX:-kus}"
PORT_RANGE="${KEY_USAGE_E2E_PORTS:-24450-24499}"
A="${PREFIX}_a"
B="${PREFIX}_b"
HOSTS=(h1 h2)

log() { printf '[key_usage e2e] %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() { printf '[key_usage e2e] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
command -v unshare >/dev/null || fail "unshare is missing (util-linux)"
CHROMIUM="$(command -v chromium || true)"
[ -n "$CHROMIUM" ] || fail "chromium is missing (make deps installs it)"

E2E_LOG_LINES=20
e2e_init /run "${PREFIX}-usage-e2e" 0755
begin=$EPOCHREALTIME
e2e_before_cleanup() {
    if [ -n "${KEY_USAGE_E2E_KEEP:-}" ]; then cp -r "$WORK"/*.log "$WORK"/*.yml "$WORK/report" "$KEY_USAGE_E2E_KEEP/"; fi
}

# ------------------------------------------------------------------ collection and ansible
e2e_collection access_report

# ------------------------------------------------------------------ accounts and keys
for user in "$A" "$B"; do e2e_user "$user" ssh; done
HOLD="/home/$B/.ssh"
ssh-keygen -q -t ed25519 -N '' -C b-to-a -f "$HOLD/id_ed25519"           # opens kus_a on h1 and h2
ssh-keygen -q -t ed25519 -N '' -C b-to-root -f "$HOLD/id_root"           # opens root on h1, no passphrase
ssh-keygen -q -t ed25519 -N 'secret words' -C b-enc -f "$HOLD/id_enc"    # opens nothing: an orphan
chown "$B:$B" "$HOLD"/id_*
ssh-keygen -q -t ed25519 -N '' -C elsewhere -f "$WORK/unused"            # private half on no audited host
ssh-keygen -q -t ed25519 -N '' -C ca -f "$WORK/ca"
ssh-keygen -q -t ed25519 -N '' -C cert-user -f "$WORK/certuser"
ssh-keygen -q -s "$WORK/ca" -I e2e-key-id -n "$A" -z 7 -V -5m:+1h "$WORK/certuser.pub"
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
FP_A="$(fp "$HOLD/id_ed25519.pub")"; FP_ROOT="$(fp "$HOLD/id_root.pub")"
FP_UNUSED="$(fp "$WORK/unused.pub")"; FP_CA="$(fp "$WORK/ca.pub")"

ssh-keygen -q -t ed25519 -N '' -C host -f "$WORK/ssh_host_ed25519_key"
e2e_free_ports 2 "$PORT_RANGE"
PORTS=("${E2E_PORTS[@]}")

# ------------------------------------------------------------------ hosts: sshd + syslog in a namespace each
old_time() { date -u -d "@$(( $(date +%s) - $1 * 86400 ))" "$2"; }
for i in 0 1; do
    h="${HOSTS[$i]}"
    install -d -m 0755 "$WORK/$h" "$WORK/$h/keys" "$WORK/$h/log" "$WORK/$h/dev"
    # kus_a: the key of kus_b on both hosts; on h1 also a key nobody uses and the CA
    {
        cat "$HOLD/id_ed25519.pub"
        if [ "$h" = h1 ]; then cat "$WORK/unused.pub"; printf 'cert-authority %s\n' "$(cat "$WORK/ca.pub")"; fi
    } > "$WORK/$h/keys/$A"
    if [ "$h" = h1 ]; then cat "$HOLD/id_root.pub" > "$WORK/$h/keys/root"; fi
    chmod 0644 "$WORK/$h/keys/"*
    cat > "$WORK/$h/sshd_config" <<CONF
Port ${PORTS[$i]}
ListenAddress 127.0.0.1
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/$h/sshd.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $WORK/$h/keys/%u
TrustedUserCAKeys none
StrictModes yes
UseDNS no
SyslogFacility AUTH
LogLevel INFO
CONF
    "$SSHD" -t -f "$WORK/$h/sshd_config"
    E2E_PIDFILES+=("$WORK/$h/sshd.pid" "$WORK/$h/sink.pid")
    E2E_LOGS+=("$WORK/$h/log/auth.log")
    # an older rotated log: the records reach 200 days back
    if [ "$h" = h1 ]; then
        printf '%s %s sshd[42]: Server listening on 0.0.0.0 port 22.\n' "$(old_time 200 '+%b %e %H:%M:%S')" "$h" \
            > "$WORK/$h/log/auth.log.1"
        touch -d "@$(( $(date +%s) - 199 * 86400 ))" "$WORK/$h/log/auth.log.1"
    else
        printf '%s %s sshd[42]: Server listening on 0.0.0.0 port 22.\n' "$(old_time 200 '+%Y-%m-%dT%H:%M:%S.000000+00:00')" "$h" \
            | gzip > "$WORK/$h/log/auth.log.2.gz"
    fi
    # sshd logs through syslog(3) to /dev/log: in this namespace, the sink's socket
    unshare -m --propagation private sh -c "
        set -e
        mount -t tmpfs -o mode=0755 kusdev '$WORK/$h/dev'
        for n in null zero random urandom; do touch '$WORK/$h/dev/'\$n; mount --bind /dev/\$n '$WORK/$h/dev/'\$n; done
        mount --bind '$WORK/$h/dev' /dev
        '$PYTHON' '$HERE/syslog_sink.py' /dev/log '$WORK/$h/log/auth.log' '$h' &
        echo \$! > '$WORK/$h/sink.pid'
        for _ in \$(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
        exec '$SSHD' -D -f '$WORK/$h/sshd_config'
    " &
    E2E_PIDS+=($!)
done
e2e_wait_ports "${PORTS[@]}"
log "sshd h1, h2 on 127.0.0.1:${PORTS[*]}, logging through syslog"

# ------------------------------------------------------------------ real logins
login() {  # login PORT USER KEY
    ssh -p "$1" -i "$3" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$2@127.0.0.1" true || fail "login $2 with $3 failed"
}
login "${PORTS[0]}" "$A" "$HOLD/id_ed25519"
login "${PORTS[0]}" "$A" "$HOLD/id_ed25519"
login "${PORTS[0]}" root "$HOLD/id_root"
login "${PORTS[0]}" "$A" "$WORK/certuser"
for _ in $(seq 1 50); do [ "$(grep -c 'Accepted publickey' "$WORK/h1/log/auth.log")" -ge 4 ] && break; sleep 0.1; done
grep -q "Accepted publickey for $A from 127.0.0.1 port [0-9]* ssh2: ED25519-CERT .* ID e2e-key-id (serial 7) CA ED25519 $FP_CA" \
    "$WORK/h1/log/auth.log" || fail "sshd did not log the certificate login"

# ------------------------------------------------------------------ the report
POLICY='{"root_requires_from": true, "root_requires_restriction": true, "max_unused_days": 90, "forbid_unencrypted_root_keys": true}'
{
    echo "fleet:"
    echo "  vars:"
    echo "    ansible_connection: local"
    echo "    ansible_python_interpreter: $PYTHON"
    echo "    access_report_become: false"
    echo "    access_report_dest: $WORK/report"
    echo "    access_report_generated_at: e2e"
    echo "    access_report_users: [root, $A, $B]"
    echo "    access_report_policy: $POLICY"
    echo "  hosts:"
    for h in "${HOSTS[@]}"; do
        echo "    $h:"
        echo "      access_report_sshd_config: $WORK/$h/sshd_config"
        echo "      access_report_usage: {since: '2020-01-01', sources: [files], paths: [$WORK/$h/log/auth.log]}"
        [ "$h" = h1 ] && echo "      access_report_private_keys: true"
    done
} > "$WORK/inventory.yml"
start=$EPOCHREALTIME
"${PLAYBOOK_CMD[@]}" -i "$WORK/inventory.yml" "$ROOT/playbooks/access_report.yml" > "$WORK/play.log" 2>&1 \
    || { cat "$WORK/play.log" >&2; fail "access_report playbook failed"; }
log "access_report playbook: $(elapsed "$start") s"
grep -q "forbid_unencrypted_root_keys - private key without passphrase opens root@h1" "$WORK/play.log" \
    || { cat "$WORK/play.log" >&2; fail "the play does not show the policy violations"; }

"$PYTHON" - "$WORK/report/access_report.json" "$WORK/report/access_report.csv" "$A" "$B" "$FP_A" "$FP_ROOT" \
    "$FP_UNUSED" "$FP_CA" <<'PY'
import calendar, csv, json, sys, time
report = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
a, b, fp_a, fp_root, fp_unused, fp_ca = sys.argv[3:9]
def check(cond, what):
    if not cond:
        sys.exit('report check failed: %s' % what)
keys = dict(((r['host'], r['user'], r['fingerprint']), r) for r in report['keys'])
used = keys[('h1', a, fp_a)]
check(used['uses'] == 2 and used['used_from'] == ['127.0.0.1'] and used['last_used'] and used['unused'] is False,
      'kus_b key on kus_a@h1: %s' % used)
check(keys[('h1', 'root', fp_root)]['uses'] == 1, 'root login counted')
ca = keys[('h1', a, fp_ca)]
check(ca['uses'] == 1 and ca['used_key_ids'] == ['e2e-key-id'], 'certificate login on the CA line: %s' % ca)
check(keys[('h1', a, fp_unused)]['unused'] is True and keys[('h1', a, fp_unused)]['uses'] == 0, 'unused key on h1')
check(keys[('h2', a, fp_a)]['unused'] is True, 'no login on h2')
for host in ('h1', 'h2'):
    usage = report['usage'][host]
    check(usage['complete'] and len(usage['sources']) == 2, '%s read both logs: %s' % (host, usage))
    # the rotated copy is 200 days old: the window (since 2020-01-01) starts where the logs start
    reach = calendar.timegm(time.strptime(usage['logs_reach_back_to'] or '1970-01-01T00:00:00Z', '%Y-%m-%dT%H:%M:%SZ'))
    check(usage['window_start'] == usage['logs_reach_back_to'] and 199 < (time.time() - reach) / 86400 < 202,
          '%s: the logs reach back to %s' % (host, usage['logs_reach_back_to']))
check(report['usage']['h2']['logins'] == 0 and report['usage']['h1']['logins'] == 4, 'logins per host')
# key map
entries = dict((e['path'], e) for e in report['key_map']['private_keys'])
root_key = entries['/home/%s/.ssh/id_root' % b]
check(root_key['opens'] == ['root@h1'] and root_key['flags'] == ['unencrypted reaches root'], 'id_root: %s' % root_key)
check(sorted(entries['/home/%s/.ssh/id_ed25519' % b]['opens']) == ['%s@h1' % a, '%s@h2' % a], 'id_ed25519 opens')
check(entries['/home/%s/.ssh/id_enc' % b]['flags'] == ['orphan'] and entries['/home/%s/.ssh/id_enc' % b]['encrypted'],
      'id_enc orphan')
without = [item['fingerprint'] for item in report['key_map']['authorized_without_private']]
check(without == [fp_unused], 'authorized without private half: %s' % without)
# policy
rules = sorted((v['host'], v['user'], v['rule']) for v in report['policy']['violations'])
check(('h1', 'root', 'root_requires_from') in rules and ('h1', 'root', 'root_requires_restriction') in rules,
      'root rules: %s' % rules)
check(('h1', b, 'forbid_unencrypted_root_keys') in rules, 'unencrypted root key: %s' % rules)
check(report['stale_keys'] == {'h1': {a: [fp_unused]}, 'h2': {a: [fp_a]}}, 'stale keys: %s' % report['stale_keys'])
stale_rows = [r for r in rows if r['record'] == 'key' and 'max_unused_days' in r['violations']]
check(len(stale_rows) == 2, 'csv violations column')
print('report ok: %d logins, %d violations, %d private keys mapped' % (
    report['usage']['h1']['logins'], len(report['policy']['violations']), len(entries)))
PY
"$PYTHON" "$HERE/html_check.py" --chromium "$CHROMIUM" "$WORK/report/access_report.html" "$WORK/report/access_report.json"

# ------------------------------------------------------------------ stale keys feed access_cleanup
UNUSED_PUB="$(cat "$WORK/unused.pub")"
cat > "$WORK/cleanup.yml" <<VARS
access_cleanup_unused_days: 90
access_cleanup_usage: {sources: [files], paths: [$WORK/h1/log/auth.log]}
access_cleanup_become: false
access_cleanup_accounts:
  - user: $A
    path: $WORK/h1/keys/$A
    managed_keys:
      - "$(cat "$HOLD/id_ed25519.pub")"
      - "$UNUSED_PUB"
      - "cert-authority $(cat "$WORK/ca.pub")"
VARS
before="$(sha256sum < "$WORK/h1/keys/$A")"
rm -rf "$WORK/report"
"${PLAYBOOK_CMD[@]}" --check --diff -i "$WORK/inventory.yml" -e target_hosts=h1 -e "@$WORK/cleanup.yml" \
    "$ROOT/playbooks/access_cleanup.yml" > "$WORK/cleanup_check.log" 2>&1 \
    || { cat "$WORK/cleanup_check.log" >&2; fail "access_cleanup --check failed"; }
grep -q "stale (no login for 90 days, removed by this cleanup): $A: $FP_UNUSED" "$WORK/cleanup_check.log" \
    || { cat "$WORK/cleanup_check.log" >&2; fail "--check does not show the stale key"; }
grep -q "^-$UNUSED_PUB" "$WORK/cleanup_check.log" || { cat "$WORK/cleanup_check.log" >&2; fail "--diff lacks the removal"; }
grep -q "$A $FP_UNUSED: max_unused_days - no login since" "$WORK/cleanup_check.log" \
    || fail "--check does not show the violations"
[ "$(sha256sum < "$WORK/h1/keys/$A")" = "$before" ] || fail "--check changed the file"
"${PLAYBOOK_CMD[@]}" -i "$WORK/inventory.yml" -e target_hosts=h1 -e "@$WORK/cleanup.yml" \
    "$ROOT/playbooks/access_cleanup.yml" > "$WORK/cleanup.log" 2>&1 \
    || { cat "$WORK/cleanup.log" >&2; fail "access_cleanup failed"; }
grep -qF "$UNUSED_PUB" "$WORK/h1/keys/$A" && fail "the stale key is still authorized"
grep -qF "$(cat "$HOLD/id_ed25519.pub")" "$WORK/h1/keys/$A" || fail "the used key was removed"
grep -qF "cert-authority" "$WORK/h1/keys/$A" || fail "the CA line was removed"
"$PYTHON" - "$WORK/report/access_report.json" "$A" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
if report['stale_keys'].get('h1', {}).get(sys.argv[2]):
    sys.exit('after the cleanup h1 still has stale keys: %s' % report['stale_keys'])
# judged by the lists the cleanup enforced: the dropped stale key is not "managed but missing"
if report['managed_missing']:
    sys.exit('after the cleanup: managed keys missing %s' % report['managed_missing'])
PY
log "ok ($(elapsed "$begin") s)"
