#!/usr/bin/env bash
# End-to-end test of keysmith.accounts.ssh_cert and ssh_krl against a real sshd.
#
# A private sshd on 127.0.0.1 (port from 24350-24399) trusts a CA
# (TrustedUserCAKeys), reads no authorized_keys at all and refuses what the
# KRL written by ssh_krl revokes (RevokedKeys). With
# tests/e2e/playbooks/ssh_cert_login.yml ssh_cert signs certificates of one
# user key (both backends, and through an ssh-agent holding the CA key), then:
#   - a certificate naming the account as principal logs in (either backend, or
#     signed by the agent: ca_agent, no CA key file read);
#   - one with another principal, an expired one and one whose serial is in the
#     KRL are refused;
#   - force-command in the certificate forces the command;
#   - the playbook run again changes nothing (no certificate signed, KRL kept).
# Runs as root; everything is cleaned up on exit. SSH_CERT_E2E_ACCOUNT (or CERT_E2E_ACCOUNT) names the
# account, SSH_CERT_E2E_PORTS (or CERT_E2E_PORTS; FIRST-LAST) the ports sshd may use; set-up: lib.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PLAYBOOK="$HERE/playbooks/ssh_cert_login.yml"
ACCOUNT="${SSH_CERT_E2E_ACCOUNT:-${CERT_E2E_ACCOUNT:-kca_e2e}}"

log() { printf '[ssh_cert e2e] %s\n' "$*"; }
fail() { printf '[ssh_cert e2e] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
e2e_init "${TMPDIR:-/tmp}" kca-cert-e2e 0755   # sshd reads the CA key and the KRL here
e2e_collection ssh_cert
export ANSIBLE_LOCALHOST_WARNING=0

# ------------------------------------------------------------------ account, keys
e2e_user "$ACCOUNT"
ssh-keygen -q -t ed25519 -N '' -C kca-e2e-ca -f "$WORK/ca"
ssh-keygen -q -t ed25519 -N '' -C kca-e2e-user -f "$WORK/id_user"
# an ssh-agent of root holding the CA key (in a 0700 directory of root)
mkdir -m 0700 "$WORK/agent"
ssh-agent -D -a "$WORK/agent/agent.sock" >/dev/null 2>&1 &
E2E_PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$WORK/agent/agent.sock" ] && break; sleep 0.1; done
SSH_AUTH_SOCK="$WORK/agent/agent.sock" ssh-add -q "$WORK/ca" || fail "ssh-add of the CA key failed"

play() {
    "${PLAYBOOK_CMD[@]}" -i localhost, "$PLAYBOOK" -e "ansible_python_interpreter=$PYTHON" \
        -e "work=$WORK" -e "account=$ACCOUNT" -e "agent_socket=$WORK/agent/agent.sock" > "$WORK/play.log" 2>&1 \
        || { cat "$WORK/play.log" >&2; fail "playbook failed"; }
}
play
grep -q 'changed: True True True True' "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "first run changed nothing"; }

# ------------------------------------------------------------------ sshd
e2e_free_ports 1 "${SSH_CERT_E2E_PORTS:-${CERT_E2E_PORTS:-24351-24399}}"
PORT="${E2E_PORTS[0]}"
ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$WORK/ssh_host_ed25519_key"
cat > "$WORK/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh_host_ed25519_key
PidFile $WORK/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
TrustedUserCAKeys $WORK/ca.pub
RevokedKeys $WORK/revoked_keys
StrictModes yes
PermitRootLogin no
AllowUsers $ACCOUNT
UseDNS no
LogLevel VERBOSE
CONF
e2e_sshd "$WORK/sshd_config" "$WORK/sshd.log"
e2e_wait_ports "$PORT"
e2e_wait_pidfile "$WORK/sshd.pid"
log "sshd (pid $E2E_SSHD_PID) listening on 127.0.0.1:$PORT"

try_ssh() {  # try_ssh CERT COMMAND...
    local cert="$1"; shift
    ssh -F /dev/null -i "$WORK/id_user" -o CertificateFile="$WORK/$cert" -p "$PORT" -o BatchMode=yes \
        -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
        -o LogLevel=ERROR "$ACCOUNT@127.0.0.1" "$@"
}
expect_login() {  # expect_login CERT COMMAND...: prints the command's output
    local out
    out="$(try_ssh "$@" 2>"$WORK/ssh.err")" || { cat "$WORK/ssh.err" >&2; fail "login refused but expected to work ($1)"; }
    printf '%s' "$out"
}
expect_refused() {  # expect_refused CERT WHY (a word sshd logs for it)
    if try_ssh "$1" true >/dev/null 2>"$WORK/ssh.err"; then fail "login worked but expected to be refused ($1)"; fi
    grep -q 'Permission denied' "$WORK/ssh.err" || { cat "$WORK/ssh.err" >&2; fail "unexpected ssh error ($1)"; }
    grep -qi "$2" "$WORK/sshd.log" || fail "sshd did not log '$2' for $1"
}

[ "$(expect_login good-cert.pub echo in)" = "in" ] || fail "the right principal did not log in"
log "ok: a certificate with the account as principal logs in (cryptography backend)"
expect_login keygen-cert.pub true >/dev/null
expect_login sshkeygen-cert.pub true >/dev/null
log "ok: several principals, and a certificate signed by the ssh-keygen backend, log in"
[ "$(expect_login agent-cert.pub echo agent)" = "agent" ] || fail "the agent-signed certificate did not log in"
ssh-keygen -L -f "$WORK/agent-cert.pub" | grep -q 'Key ID: "by-agent"' || fail "ssh-keygen -L does not read the agent-signed certificate"
log "ok: a certificate signed by the CA key in an ssh-agent (ca_agent) logs in"
expect_refused wrong-cert.pub 'not in the list of principals\|name is not a listed principal'
log "ok: a certificate for another principal is refused"
expect_refused expired-cert.pub 'expired'
log "ok: an expired certificate is refused"
expect_refused revoked-cert.pub 'revoked'
log "ok: a certificate whose serial is in the KRL is refused"
[ "$(expect_login forced-cert.pub echo not forced)" = "forced" ] || fail "force-command was not applied"
log "ok: force-command in the certificate forces the command"

play
grep -q 'changed: False False False False' "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "the re-run changed something"; }
grep -q 'changed=0' "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "the re-run reported changes"; }
log "ok: the playbook run again signs nothing and keeps the KRL"
log "all checks passed"
