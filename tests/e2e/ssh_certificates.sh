#!/usr/bin/env bash
# End-to-end test of certificate trust against real sshds (sshd_trust,
# ssh_principals, ssh_known_hosts_ca; certificates signed with ssh-keygen -s,
# the KRL built with ssh-keygen -k).
#
# Two private sshds on 127.0.0.1 (own configs including their own
# sshd_config.d/*.conf in a temporary directory, never /etc/ssh): A (port
# KCB_PORT, default the first free one of KCB_PORTS=24410-24449) gets the trust
# drop-in and a host certificate, B (KCB_PORT + 1, or the next free one) has no
# host certificate. tests/e2e/playbooks/ssh_certificates.yml
# predicts everything in check mode, applies it (A reloaded by SIGHUP through
# its pid file), re-runs it (nothing changes) and sees a drop-in sshd rejects
# refused and not installed. Then, with ssh:
#   - a user certificate with an allowed principal logs in; one with another
#     principal does not; one not yet valid or expired does not;
#   - a serial revoked in the KRL is refused, another serial still logs in;
#   - with StrictHostKeyChecking yes and only the @cert-authority line, ssh
#     connects to A (host certificate) and refuses B (none);
#   - a host certificate of another key than A's HostKey, or an expired one,
#     is refused by sshd_trust (sshd -t itself accepts the first).
# Runs as root; everything is removed on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck disable=SC2034  # read by lib.sh
ROOT="$(cd "$HERE/../.." && pwd -P)"
PLAYBOOK="$HERE/playbooks/ssh_certificates.yml"
ACCOUNT="${KCB_ACCOUNT:-kcbe2e}"
START=$SECONDS

log() { printf '[ssh_certificates e2e] %s\n' "$*"; }
fail() { printf '[ssh_certificates e2e] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
# Below /run, not /tmp: sshd checks every directory above a principals file
# (StrictModes), and a world-writable /tmp fails that check.
# shellcheck disable=SC2034  # read by lib.sh
E2E_LOG_LINES=30
e2e_init /run kcb-certs-e2e 0755
e2e_collection sshd_trust
export ANSIBLE_LOCALHOST_WARNING=0
if [ -n "${KCB_PORT:-}" ]; then
    PORT="$KCB_PORT"
    PORT_B=$((PORT + 1))
else
    e2e_free_ports 2 "${KCB_PORTS:-24410-24449}"
    PORT="${E2E_PORTS[0]}"
    PORT_B="${E2E_PORTS[1]}"
fi

# ------------------------------------------------------------------ keys, CAs, account
kg() { ssh-keygen -q -N '' -t ed25519 "$@"; }
kg -C user-ca -f "$WORK/user_ca"
kg -C host-ca -f "$WORK/host_ca"
kg -C host-a -f "$WORK/host_key"
kg -C host-b -f "$WORK/host_key_b"
kg -C e2e-user -f "$WORK/id_user"
ssh-keygen -q -s "$WORK/host_ca" -h -I host-a -n 127.0.0.1 -V -5m:+1h "$WORK/host_key.pub"
# refused by sshd_trust (the playbook): a host certificate of a key that is not A's HostKey (sshd -t
# accepts it and sshd only logs "No matching private key for certificate"), and an expired one of A's key
ssh-keygen -q -s "$WORK/host_ca" -h -I host-b -n 127.0.0.1 -V -5m:+1h "$WORK/host_key_b.pub"
cp "$WORK/host_key.pub" "$WORK/host_key_old.pub"
ssh-keygen -q -s "$WORK/host_ca" -h -I host-a-old -n 127.0.0.1 -V -2h:-1h "$WORK/host_key_old.pub"
ssh-keygen -q -k -f "$WORK/revoked.krl"      # an empty KRL: sshd refuses every key without a readable one

e2e_user "$ACCOUNT"

# ------------------------------------------------------------------ sshd A and B
start_sshd() {  # start_sshd NAME PORT HOSTKEY
    local name="$1" port="$2" hostkey="$3"
    mkdir -p "$WORK/$name.d"
    cat > "$WORK/$name" <<CONF
Include $WORK/$name.d/*.conf
Port $port
ListenAddress 127.0.0.1
HostKey $hostkey
PidFile $WORK/$name.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
StrictModes yes
PermitRootLogin no
AllowUsers $ACCOUNT
UseDNS no
LogLevel VERBOSE
CONF
    e2e_sshd "$WORK/$name" "$WORK/$name.log"
}
# the drop-in directory the playbook names is A's sshd_config.d
start_sshd sshd_config "$PORT" "$WORK/host_key"
start_sshd sshd_b "$PORT_B" "$WORK/host_key_b"
e2e_wait_ports "$PORT" "$PORT_B"
log "sshd A on $PORT, sshd B on $PORT_B ($((SECONDS - START)) s)"

# ------------------------------------------------------------------ the modules
"${PLAYBOOK_CMD[@]}" -i localhost, "$PLAYBOOK" -e "ansible_python_interpreter=$PYTHON" \
    -e "work=$WORK" -e "account=$ACCOUNT" -e "port=$PORT" \
    > "$WORK/play.log" 2>&1 || { cat "$WORK/play.log" >&2; fail "playbook failed"; }
grep -q 'failed=0' "$WORK/play.log" || { cat "$WORK/play.log" >&2; fail "playbook reported failures"; }
log "ok: check mode predicted the drop-in, principals and known_hosts line; applied; re-run unchanged;" \
    "a drop-in sshd rejects was refused and not installed ($((SECONDS - START)) s)"
e2e_wait_ports "$PORT"
# what the playbook's refusal guards against: sshd -t accepts a host certificate of another key
sed "s|^Include .*|HostCertificate $WORK/host_key_b-cert.pub|" "$WORK/sshd_config" > "$WORK/mismatch_config"
"$SSHD" -t -f "$WORK/mismatch_config" 2> "$WORK/mismatch.err" \
    || fail "sshd -t rejected a mismatched host certificate (sshd_trust's check would be redundant)"
grep -q 'No matching private key for certificate' "$WORK/mismatch.err" \
    || fail "sshd -t did not log the mismatched host certificate: $(cat "$WORK/mismatch.err")"
log "ok: a host certificate of another key passes sshd -t (only a log line); sshd_trust refused it"

# ------------------------------------------------------------------ user certificates
sign() {  # sign NAME PRINCIPALS VALIDITY SERIAL
    cp "$WORK/id_user" "$WORK/$1"; cp "$WORK/id_user.pub" "$WORK/$1.pub"
    ssh-keygen -q -s "$WORK/user_ca" -I "$1" -n "$2" -V "$3" -z "$4" "$WORK/$1.pub"
}
sign ok dev-team -5m:+1h 10
sign admin "$ACCOUNT-admin" -5m:+1h 11
sign stranger other-team -5m:+1h 12
sign future dev-team +1h:+2h 13
sign expired dev-team -2h:-1h 14
sign doomed dev-team -5m:+1h 66

try_cert() {  # try_cert NAME: log in to A with the certificate NAME
    ssh -F /dev/null -i "$WORK/$1" -o CertificateFile="$WORK/$1-cert.pub" -p "$PORT" -o BatchMode=yes \
        -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
        -o LogLevel=ERROR "$ACCOUNT@127.0.0.1" true 2>"$WORK/ssh.err"
}
expect_login() { try_cert "$1" || { cat "$WORK/ssh.err" >&2; fail "certificate $1 refused, expected to log in"; }; }
expect_refused() {
    if try_cert "$1"; then fail "certificate $1 logged in, expected to be refused"; fi
    grep -q 'Permission denied' "$WORK/ssh.err" || { cat "$WORK/ssh.err" >&2; fail "unexpected ssh error ($1)"; }
}
# the plain key alone is not authorized anywhere (AuthorizedKeysFile none)
if ssh -F /dev/null -i "$WORK/id_user" -p "$PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$ACCOUNT@127.0.0.1" true \
        2>/dev/null; then
    fail "the plain key logged in without a certificate"
fi
expect_login ok
expect_login admin
log "ok: certificates with the principals dev-team and $ACCOUNT-admin log in"
expect_refused stranger
log "ok: a certificate whose principal is not in the principals file is refused"
expect_refused future
expect_refused expired
log "ok: a certificate not yet valid and an expired one are refused"

# ------------------------------------------------------------------ revocation
expect_login doomed
printf 'serial: 66\n' > "$WORK/krl.spec"
ssh-keygen -q -k -u -s "$WORK/user_ca.pub" -f "$WORK/revoked.krl" "$WORK/krl.spec"
ssh-keygen -Q -f "$WORK/revoked.krl" "$WORK/doomed-cert.pub" >/dev/null 2>&1 \
    && fail "ssh-keygen -Q does not see serial 66 revoked"
expect_refused doomed
expect_login ok
log "ok: serial 66 revoked in the KRL is refused, serial 10 still logs in"

# ------------------------------------------------------------------ host certificates
try_host() {  # try_host PORT: connect with StrictHostKeyChecking yes and only the @cert-authority line
    ssh -F /dev/null -i "$WORK/ok" -o CertificateFile="$WORK/ok-cert.pub" -p "$1" -o BatchMode=yes \
        -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" \
        -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 "$ACCOUNT@127.0.0.1" true 2>"$WORK/ssh.err"
}
[ "$(grep -c . "$WORK/known_hosts")" -eq 1 ] || fail "known_hosts should hold only the @cert-authority line"
try_host "$PORT" || { cat "$WORK/ssh.err" >&2; fail "host A (host certificate) was not verified"; }
log "ok: StrictHostKeyChecking yes + @cert-authority: host A with a host certificate is verified"
if try_host "$PORT_B"; then fail "host B (no host certificate) was accepted"; fi
grep -q 'Host key verification failed' "$WORK/ssh.err" || { cat "$WORK/ssh.err" >&2; fail "host B: unexpected error"; }
log "ok: host B without a host certificate is refused (Host key verification failed)"

log "all checks passed in $((SECONDS - START)) s"
