#!/usr/bin/env bash
# End-to-end test of key rotation with a grace period (playbooks/key_rotation.yml,
# role key_rotation), then of the cleanup of unmanaged keys (playbooks/access_cleanup.yml),
# against a real sshd on 127.0.0.1.
#
# A deploy account owns the current key (made here with ssh-keygen), authorized on
# two target accounts (one line with from= options, one plain; an unrelated key
# beside it must survive). Runs, each followed by real ssh logins:
#   1. --check --diff: nothing changes on disk, the plan shows the expiry-time edit;
#      then the deploy account's owner attacks (issue 27): another account's public key
#      written into the old key's .pub, and the old key's files moved away - each run
#      fails, names the recorded fingerprint and changes nothing;
#   2. the rotation: successor generated and authorized, old lines expire in an
#      hour - before the grace ends both keys log in;
#   3. again: nothing changes (the deadline is not pushed later), and the status message
#      shows the deadline in force (the first run's) and ends without a space;
#   4. the grace ended early (key_rotation_expire_at in the past): the old lines
#      are still there, with a passed expiry-time, and sshd refuses the old key;
#   5. the cleanup run (--diff): expired lines removed, old key files retired, only
#      the new key of the rotation is left;
#   6. again: the old key is gone, the run fails (a missing old key is no proof it
#      was retired) and changes nothing.
# Then the cleanup, with the managed keys of each account (the new key only):
#   7. --check --diff: nothing changes, the diff shows the unrelated key's removal and
#      the report flags it as unmanaged;
#   8. the cleanup: the unrelated key is gone (and no longer logs in), the report says
#      0 unmanaged.
# Runs as root; everything is removed on exit. ROTATION_E2E_PREFIX names the accounts,
# ROTATION_E2E_PORTS (FIRST-LAST) the ports sshd may use. About 40 s (6 s per playbook run).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PREFIX="${ROTATION_E2E_PREFIX:-ks19r}"
DEPLOY="${PREFIX}_deploy"
APPS=("${PREFIX}_app1" "${PREFIX}_app2")
USERS=("$DEPLOY" "${APPS[@]}")
OLD=id_ed25519_2025
NEW=id_ed25519_2026

log() { printf '[cleanup+rotation e2e] %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() { printf '[cleanup+rotation e2e] FAIL: %s\n' "$*" >&2; exit 1; }

T0=$EPOCHREALTIME

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
E2E_LOG_LINES=20
e2e_init /tmp "${PREFIX}-rotation-e2e" 0755

# ------------------------------------------------------------------ collection
e2e_collection roles/key_rotation
# A controller that is not in UTC: the deadline must still be now + grace, in UTC.
export TZ="${ROTATION_E2E_TZ:-Asia/Tokyo}"
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_PIPELINING=1

# ------------------------------------------------------------------ accounts and keys
for user in "${USERS[@]}"; do e2e_user "$user" ssh; done
DEPLOY_SSH="/home/$DEPLOY/.ssh"
runuser -u "$DEPLOY" -- ssh-keygen -q -t ed25519 -N '' -C "deploy-2025" -f "$DEPLOY_SSH/$OLD"
ssh-keygen -q -t ed25519 -N '' -C "unrelated" -f "$WORK/unrelated"
OLD_PUB="$(cat "$DEPLOY_SSH/$OLD.pub")"
# What the controller recorded when the key was made: the rotation trusts this, not the account's files.
OLD_FP="$(ssh-keygen -lf "$DEPLOY_SSH/$OLD.pub" | awk '{print $2}')"
OLD_B64="$(awk '{print $2}' <<< "$OLD_PUB")"
put() {  # put USER TEXT
    printf '%s\n' "$2" > "/home/$1/.ssh/authorized_keys"
    chown "$1:$1" "/home/$1/.ssh/authorized_keys"; chmod 0600 "/home/$1/.ssh/authorized_keys"
}
put "${APPS[0]}" "from=\"127.0.0.1\",no-pty $OLD_PUB"$'\n'"$(cat "$WORK/unrelated.pub")"
put "${APPS[1]}" "$OLD_PUB"

# ------------------------------------------------------------------ sshd
ssh-keygen -q -t ed25519 -N '' -C rotation-host -f "$WORK/ssh_host_ed25519_key"
e2e_free_ports 1 "${ROTATION_E2E_PORTS:-23400-23499}"
PORT="${E2E_PORTS[0]}"
cat > "$WORK/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd.pid
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
UseDNS no
MaxStartups 50
CONF
e2e_sshd "$WORK/sshd_config" "$WORK/sshd.log"
e2e_wait_ports "$PORT"
log "sshd on 127.0.0.1:$PORT"

# login USER KEYFILE: 0 when sshd lets the key in
login() {
    ssh -p "$PORT" -i "$2" -o IdentitiesOnly=yes -o BatchMode=yes -o PasswordAuthentication=no \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 \
        "$1@127.0.0.1" true </dev/null >/dev/null 2>&1
}
expect_login() {  # expect_login yes|no KEYNAME USER...
    local want="$1" key="$2" user
    shift 2
    for user in "$@"; do
        if login "$user" "$DEPLOY_SSH/$key"; then
            [ "$want" = yes ] || fail "$key logged in as $user but sshd should refuse it"
        else
            [ "$want" = no ] || fail "$key did not log in as $user"
        fi
    done
}

# ------------------------------------------------------------------ the playbook
# Two inventory hosts (both this machine, one target account each): the key pair is
# handled once (run_once, delegated) and the old key is retired only when no host
# reports a target that still holds it.
cat > "$WORK/inventory.yml" <<INV
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: $PYTHON
  hosts:
    rotation-a:
      key_rotation_targets: [{user: ${APPS[0]}, options: 'from="127.0.0.1"'}]
    rotation-b:
      key_rotation_targets: [{user: ${APPS[1]}}]
INV
cat > "$WORK/rotation.yml" <<VARS
key_rotation_user: $DEPLOY
key_rotation_key_name: $OLD
key_rotation_new_key_name: $NEW
key_rotation_key_host: rotation-a
key_rotation_comment: deploy-2026
key_rotation_become: false
key_rotation_grace: 3600
key_rotation_old_fingerprint: "$OLD_FP"
VARS
RUN=0
PLAYBOOK=key_rotation
VARS="$WORK/rotation.yml"
play() {  # play [ansible-playbook args...]: output in $WORK/play.log
    RUN=$((RUN + 1))
    local start=$EPOCHREALTIME
    "${PLAYBOOK_CMD[@]}" -i "$WORK/inventory.yml" -e "@$VARS" "$@" \
        "$ROOT/playbooks/$PLAYBOOK.yml" > "$WORK/play.log" 2>&1 \
        || { cat "$WORK/play.log" >&2; fail "run $RUN ($*) failed"; }
    log "run $RUN $PLAYBOOK ${*:-}: $(elapsed "$start") s"
}
play_fails() {  # play_fails MESSAGE [ansible-playbook args...]: the run must fail, saying MESSAGE
    RUN=$((RUN + 1))
    local start=$EPOCHREALTIME want="$1"
    shift
    if "${PLAYBOOK_CMD[@]}" -i "$WORK/inventory.yml" -e "@$VARS" "$@" \
            "$ROOT/playbooks/$PLAYBOOK.yml" > "$WORK/play.log" 2>&1; then
        cat "$WORK/play.log" >&2; fail "run $RUN ($*) succeeded, it should fail with: $want"
    fi
    grep -qF -- "$want" "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "run $RUN does not say: $want"; }
    log "run $RUN $PLAYBOOK ${*:-} failed as it should: $(elapsed "$start") s"
}
recap_changed() {  # the sum of changed= over the hosts of the recap
    sed -n 's/^rotation-[ab] *:.*changed=\([0-9]*\).*/\1/p' "$WORK/play.log" | awk '{ n += $1 } END { print n + 0 }'
}
state() { cat "/home/${APPS[0]}/.ssh/authorized_keys" "/home/${APPS[1]}/.ssh/authorized_keys"; ls "$DEPLOY_SSH"; }
ak() { cat "/home/$1/.ssh/authorized_keys"; }

# 1. preview
before="$(state)"
play --check --diff
[ "$(state)" = "$before" ] || fail "--check changed files"
grep -q "+from=\"127.0.0.1\",no-pty,expiry-time=\"[0-9]\{14\}Z\" $OLD_PUB" "$WORK/play.log" \
    || { cat "$WORK/play.log" >&2; fail "--check --diff does not show the expiry-time edit"; }
[ "$(grep -c "check mode: $NEW does not exist yet" "$WORK/play.log")" = 2 ] || fail "--check does not say the successor is made by a real run"

# 1b. the owner writes another account's public key into the old key's .pub: rotation must not
#     expire (and later remove) that innocent key, nor call the real old key retired
cp -p "$DEPLOY_SSH/$OLD.pub" "$WORK/old.pub.saved"
cp "$WORK/unrelated.pub" "$DEPLOY_SSH/$OLD.pub"
chown "$DEPLOY:$DEPLOY" "$DEPLOY_SSH/$OLD.pub"
before="$(state)"
play_fails "not $OLD_FP (key_rotation_old_fingerprint)"
[ "$(state)" = "$before" ] || fail "a swapped .pub changed the targets"
cp -p "$WORK/old.pub.saved" "$DEPLOY_SSH/$OLD.pub"
# 1c. the owner moves the old key's files away: not "retired", an error, nothing changes
mkdir "$WORK/moved"
mv "$DEPLOY_SSH/$OLD" "$DEPLOY_SSH/$OLD.pub" "$WORK/moved/"
before="$(state)"
play_fails "$OLD of $DEPLOY does not exist"
[ "$(state)" = "$before" ] || fail "moving the old key away changed the targets"
mv "$WORK/moved/$OLD" "$WORK/moved/$OLD.pub" "$DEPLOY_SSH/"

# 2. the rotation: both keys log in during the grace
play
if [ ! -f "$DEPLOY_SSH/$NEW" ] || [ ! -f "$DEPLOY_SSH/$NEW.pub" ]; then fail "successor key not generated"; fi
NEW_PUB="$(cat "$DEPLOY_SSH/$NEW.pub")"
for user in "${APPS[@]}"; do
    ak "$user" | grep -qF "$NEW_PUB" || fail "successor not authorized on $user"
    ak "$user" | grep -q "expiry-time=\"[0-9]\{14\}Z\" $OLD_PUB\$" || fail "old key of $user has no expiry-time"
done
ak "${APPS[0]}" | grep -q "^from=\"127.0.0.1\",no-pty,expiry-time=\"[0-9]\{14\}Z\" " || fail "old key's options not kept"
ak "${APPS[0]}" | grep -qF "$(cat "$WORK/unrelated.pub")" || fail "unrelated key touched"
ak "${APPS[0]}" | grep -qF "from=\"127.0.0.1\" $NEW_PUB" || fail "successor's options not written"
expiry="$(ak "${APPS[1]}" | sed -n 's/^expiry-time="\([0-9]*\)Z".*/\1/p')"
now="$(date -u +%Y%m%d%H%M%S)"
if [ "$expiry" -le "$now" ] || [ "$expiry" -gt "$(date -u -d '+3601 seconds' +%Y%m%d%H%M%S)" ]; then
    fail "expiry $expiry is not now + grace ($now)"
fi
expect_login yes "$OLD" "${APPS[@]}"
expect_login yes "$NEW" "${APPS[@]}"

# 3. again: no change, the deadline stays
after="$(state)"
play
[ "$(recap_changed)" = 0 ] || { cat "$WORK/play.log" >&2; fail "second run changed something"; }
[ "$(state)" = "$after" ] || fail "second run moved the deadline"
# its status message names the deadline in force (the first run's, read from the lines), not this
# run's now + grace, and no status message ends with a space
grep -qF "still on target accounts here, refused by sshd after its expiry-time ${expiry}Z (set by the run" \
    "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "the status message does not show the deadline in force"; }
! grep -qE '"msg": ".* "$' "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "a status message ends with a space"; }

# 4. the grace ends (here: at once, on purpose): sshd itself refuses the old key
play -e key_rotation_expire_at=20200101000000Z
for user in "${APPS[@]}"; do
    ak "$user" | grep -q "expiry-time=\"20200101000000Z\" $OLD_PUB\$" || fail "old key of $user not brought forward"
done
[ -f "$DEPLOY_SSH/$OLD" ] || fail "old key retired before its lines were removed"
refused_before="$(grep -c 'Refused by key options' "$WORK/sshd.log" || true)"
expect_login no "$OLD" "${APPS[@]}"
expect_login yes "$NEW" "${APPS[@]}"
# sshd read the line and refused it for its options (the expiry), for both accounts
[ "$(grep -c 'Refused by key options' "$WORK/sshd.log")" -ge $((refused_before + 2)) ] \
    || fail "sshd did not log the refusal by key options"

# 5. the cleanup run: only the new key of the rotation is left
play --diff
if ! grep -q "^-.*expiry-time=\"20200101000000Z\" $OLD_PUB\$" "$WORK/play.log" \
        || ! grep -q "^+++ after: $DEPLOY_SSH/$OLD\$" "$WORK/play.log"; then
    cat "$WORK/play.log" >&2; fail "the cleanup run's diff does not show the removal and the retirement"
fi
for user in "${APPS[@]}"; do
    ! ak "$user" | grep -q "$OLD_B64" || fail "old key still on $user"
    [ "$(ak "$user" | grep -cF "$NEW_PUB")" = 1 ] || fail "successor not on $user"
done
[ "$(ak "${APPS[1]}")" = "$NEW_PUB" ] || fail "${APPS[1]} holds more than the new key"
[ "$(ak "${APPS[0]}" | wc -l)" = 2 ] || fail "${APPS[0]} should hold the new and the unrelated key"
if [ -e "$DEPLOY_SSH/$OLD" ] || [ -e "$DEPLOY_SSH/$OLD.pub" ]; then fail "old key files not retired"; fi
grep -qE '"msg": ".*: successor .* retired by this run"$' "$WORK/play.log" \
    || { cat "$WORK/play.log" >&2; fail "the status message does not say (without a trailing space) that the key was retired"; }
expect_login yes "$NEW" "${APPS[@]}"
login "${APPS[0]}" "$WORK/unrelated" || fail "unrelated key no longer logs in"

# 6. again: the old key is gone - an error (the next rotation names the successor), nothing changes
after="$(state)"
play_fails "the rotation is done"
[ "$(state)" = "$after" ] || fail "run after the cleanup changed files"
log "rotation ok in $(elapsed "$T0") s"

# ------------------------------------------------------------------ cleanup of unmanaged keys
UNRELATED_PUB="$(cat "$WORK/unrelated.pub")"
PLAYBOOK=access_cleanup
VARS="$WORK/managed.yml"
cat > "$VARS" <<VARS
access_cleanup_become: false
access_report_become: false
access_report_sshd_config: $WORK/sshd_config
access_report_dest: $WORK/report
access_report_formats: [json]
access_report_generated_at: e2e
access_cleanup_accounts:
  - user: ${APPS[0]}
    managed_keys: ['from="127.0.0.1" $NEW_PUB']
  - user: ${APPS[1]}
    managed_keys: ['$NEW_PUB']
VARS
report() {  # report EXPECTED_UNMANAGED: check the JSON report of the run
    "$PYTHON" - "$WORK/report/access_report.json" "$1" "${APPS[0]}" "$UNRELATED_PUB" <<'PY'
import json, sys
from ansible_collections.keysmith.accounts.plugins.module_utils._ssh.keys.public_key import PublicKey
report = json.load(open(sys.argv[1]))
want, app1, unrelated = int(sys.argv[2]), sys.argv[3], sys.argv[4]
unmanaged = [(k['user'], k['fingerprint']) for k in report['keys'] if k['managed'] is False]
expected = [(app1, PublicKey.from_line(unrelated).fingerprint_sha256)] if want else []
if report['summary']['unmanaged'] != want or unmanaged != expected:
    sys.exit('report: unmanaged %s, expected %s' % (unmanaged, expected))
if report['summary']['accounts'] != 2 or report['summary']['keys'] != 2 + want:
    sys.exit('report: %s' % report['summary'])
PY
}

# 7. preview: the diff and the report of the current state
before="$(state)"
play --check --diff --limit rotation-a
[ "$(state)" = "$before" ] || fail "cleanup --check changed files"
grep -qxF -- "-$UNRELATED_PUB" "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "the preview does not show the removal"; }
PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH%%:*}" report 1 || fail "the preview report does not flag the unmanaged key"
login "${APPS[0]}" "$WORK/unrelated" || fail "the preview removed the unrelated key"

# 8. the cleanup
play --limit rotation-a
[ "$(ak "${APPS[0]}")" = "from=\"127.0.0.1\" $NEW_PUB" ] || fail "${APPS[0]} should hold only the managed key"
backups=("/home/${APPS[0]}/.ssh/authorized_keys."*~)
[ -f "${backups[0]}" ] || fail "no backup of the cleaned file"
PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH%%:*}" report 0 || fail "the report after the cleanup still has unmanaged keys"
! login "${APPS[0]}" "$WORK/unrelated" || fail "the unmanaged key still logs in"
expect_login yes "$NEW" "${APPS[@]}"
log "ok in $(elapsed "$T0") s"
