#!/usr/bin/env bash
# End-to-end test of keysmith.accounts.ssh_authkey against a real sshd.
#
# Starts a private sshd on a free 127.0.0.1 port (own config, host key and pid
# file in a temporary directory), creates a test account, and with
# tests/e2e/playbooks/ssh_authkey_login.yml makes a key with ssh_genkey and
# authorizes it with ssh_authkey. Then:
#   - `ssh -i key` logs in; after state=absent the login is refused;
#   - from="127.0.0.1" lets the key in, from="10.9.9.9" does not;
#   - a later duplicate line without from= lets the key in, until ssh_authkey
#     (which removes later copies of the keys it manages) runs again;
#   - command="echo forced" makes any remote command print "forced".
# Runs as root (the harness runs it after the integration tests, with the venv
# on PATH and ANSIBLE_COLLECTIONS_PATH set). Everything is cleaned up on exit.
# SSH_AUTHKEY_E2E_ACCOUNT names the account, SSH_AUTHKEY_E2E_PORTS (FIRST-LAST) the
# ports sshd may use (default: any free one); set-up shared with the others: lib.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
PLAYBOOK="$HERE/playbooks/ssh_authkey_login.yml"
ACCOUNT="${SSH_AUTHKEY_E2E_ACCOUNT:-ksak_e2e}"

log() { printf '[ssh_authkey e2e] %s\n' "$*"; }
fail() { printf '[ssh_authkey e2e] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
E2E_INSTALL_SSHD=1 e2e_init "${TMPDIR:-/tmp}" ksak-e2e 0700
e2e_collection ssh_authkey
export ANSIBLE_LOCALHOST_WARNING=0

# ------------------------------------------------------------------ sshd
# SSH_AUTHKEY_E2E_PORTS=FIRST-LAST: the port range (default: any free port)
e2e_free_ports 1 "${SSH_AUTHKEY_E2E_PORTS:-0}"
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
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PermitRootLogin no
AllowUsers $ACCOUNT
UseDNS no
X11Forwarding no
LogLevel VERBOSE
CONF
# -D: stay in the foreground as our child, so the cleanup can kill and reap it.
e2e_sshd "$WORK/sshd_config" "$WORK/sshd.log"
e2e_wait_ports "$PORT"
e2e_wait_pidfile "$WORK/sshd.pid"
log "sshd (pid $E2E_SSHD_PID) listening on 127.0.0.1:$PORT"

# ------------------------------------------------------------------ account
e2e_user "$ACCOUNT"

KEY="$WORK/id_e2e"

authorize() {  # authorize STATE [OPTIONS]
    local state="$1" options="${2:-}"
    log "ssh_authkey state=$state options=${options:-(none)}"
    "${PLAYBOOK_CMD[@]}" -i localhost, "$PLAYBOOK" \
        -e "ansible_python_interpreter=$PYTHON" \
        -e "key_path=$KEY" -e "account=$ACCOUNT" -e "key_state=$state" \
        -e "{\"key_options\": $("$PYTHON" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$options")}" \
        > "$WORK/play.log" 2>&1 || { cat "$WORK/play.log" >&2; fail "playbook failed"; }
}

try_ssh() {  # try_ssh COMMAND...: output of the remote command; exit status of ssh
    ssh -F /dev/null -i "$KEY" -p "$PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
        -o LogLevel=ERROR "$ACCOUNT@127.0.0.1" "$@"
}

expect_login() {
    local out
    out="$(try_ssh "$@" 2>"$WORK/ssh.err")" || { cat "$WORK/ssh.err" >&2; fail "login refused but expected to work ($1)"; }
    printf '%s' "$out"
}

expect_refused() {
    if try_ssh true >/dev/null 2>"$WORK/ssh.err"; then fail "login worked but expected to be refused ($1)"; fi
    grep -q 'Permission denied' "$WORK/ssh.err" || { cat "$WORK/ssh.err" >&2; fail "unexpected ssh error ($1)"; }
}

# 1. the key exists (state=absent generates it and authorizes nothing): refused
authorize absent
expect_refused "key not authorized yet"
log "ok: a key that is not authorized is refused"
authorize present
expect_login true >/dev/null
log "ok: authorized key logs in"

# 2. revoked: refused
authorize absent
expect_refused "revoked key"
log "ok: revoked key is refused"

# 3. from= options
authorize present 'from="127.0.0.1"'
expect_login true >/dev/null
log 'ok: from="127.0.0.1" logs in'
authorize present 'from="10.9.9.9"'
expect_refused 'from="10.9.9.9"'
log 'ok: from="10.9.9.9" is refused'

# 4. a later duplicate line without from= would let the key in (sshd tries every
#    matching line); ssh_authkey removes later copies of the keys it manages
install -m 0600 -o "$ACCOUNT" -g "$(id -gn "$ACCOUNT")" /dev/null "$WORK/dup"
{ cat "/home/$ACCOUNT/.ssh/authorized_keys"; cat "$KEY.pub"; } > "$WORK/dup"
cat "$WORK/dup" > "/home/$ACCOUNT/.ssh/authorized_keys"
expect_login true >/dev/null
log "ok: a duplicate line without from= lets the key in"
authorize present 'from="10.9.9.9"'
expect_refused 'from="10.9.9.9" after duplicate removal'
[ "$(grep -c . "/home/$ACCOUNT/.ssh/authorized_keys")" -eq 1 ] || fail "the duplicate line was not removed"
log "ok: ssh_authkey removed the duplicate and the key is refused again"

# 5. command= option
authorize present 'command="echo forced"'
out="$(expect_login anything at all)"
[ "$out" = "forced" ] || fail "command= did not force the command (got: $out)"
log 'ok: command="echo forced" forces the command'

# 6. the authorized_keys file sshd reads is 0600 and the account's
perm="$(stat -c '%a %U' "/home/$ACCOUNT/.ssh/authorized_keys")"
[ "$perm" = "600 $ACCOUNT" ] || fail "authorized_keys is $perm"
perm="$(stat -c '%a %U' "/home/$ACCOUNT/.ssh")"
[ "$perm" = "700 $ACCOUNT" ] || fail "/home/$ACCOUNT/.ssh is $perm"

log "all checks passed"
