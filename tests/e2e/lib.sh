# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the scripts that source this file)
# Shared set-up of the end-to-end scripts (tests/e2e/*.sh), sourced after each script
# has defined its log() and fail():
#
#   HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
#   . "$HERE/lib.sh"
#   e2e_init /run kca-cert-e2e 0755        # root + sshd checked, $WORK made, cleanup trap set
#   e2e_collection ssh_cert                # ANSIBLE_COLLECTIONS_PATH, $PYTHON, PLAYBOOK_CMD
#   e2e_user kca_e2e                       # an account (removed on exit)
#   e2e_free_ports 2 24350-24399           # E2E_PORTS=(p1 p2), free on 127.0.0.1
#   e2e_sshd "$WORK/sshd_config" "$WORK/sshd.log"   # sshd -t, then sshd -D in the background
#   e2e_wait_ports "${E2E_PORTS[@]}"       # fails when nothing listens after 5 s
#   e2e_wait_pidfile "$WORK/sshd.pid"       # and its pid file is written
#
# On exit (also on INT/TERM) the cleanup runs the script's e2e_before_cleanup (when it
# defines one; $E2E_RC is the exit status), stops every sshd started here and every
# process of E2E_PIDS/E2E_PIDFILES, removes the accounts, shows the tail of the logs of
# E2E_LOGS when the script failed, and removes $WORK.
#
# Scripts run side by side (run-tests.sh e2e, E2E_JOBS): each one uses its own accounts
# (a prefix of its own) and its own port range, and probes that ports are free.

SSHD="${SSHD:-/usr/sbin/sshd}"
E2E_PIDS=()
E2E_PIDFILES=()
E2E_USERS=()
E2E_LOGS=()
E2E_PORTS=()
E2E_LOG_LINES="${E2E_LOG_LINES:-40}"
WORK=""

e2e_cleanup() {
    local rc=$? pid pidfile user f
    set +e
    E2E_RC=$rc
    if declare -F e2e_before_cleanup >/dev/null; then e2e_before_cleanup; fi
    for pidfile in "${E2E_PIDFILES[@]}"; do
        [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for user in "${E2E_USERS[@]}"; do
        if id "$user" >/dev/null 2>&1; then userdel -r "$user" >/dev/null 2>&1; fi
    done
    if [ "$rc" -ne 0 ]; then
        for f in "${E2E_LOGS[@]}"; do
            [ -f "$f" ] && { printf -- '--- %s ---\n' "$f" >&2; tail -n "$E2E_LOG_LINES" "$f" >&2; }
        done
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}

e2e_init() {  # e2e_init PARENT NAME MODE: root and sshd checked, WORK=PARENT/NAME.XXXXXX, cleanup trap
    [ "$(id -u)" -eq 0 ] || fail "must run as root (it creates accounts and starts sshd)"
    if [ ! -x "$SSHD" ] && [ -n "${E2E_INSTALL_SSHD:-}" ]; then
        log "installing openssh-server"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
    fi
    [ -x "$SSHD" ] || fail "$SSHD is missing"
    WORK="$(mktemp -d "$1/$2.XXXXXX")"
    chmod "$3" "$WORK"
    trap e2e_cleanup EXIT INT TERM
    mkdir -p /run/sshd && chmod 0755 /run/sshd
}

e2e_collection() {  # e2e_collection MODULE|roles/NAME: the collection, the node's Python, ansible-playbook
    # The harness points ANSIBLE_COLLECTIONS_PATH at its placed copy; when run by hand (or the
    # copy lacks MODULE) this checkout is used through a symlink.
    local probe="plugins/modules/$1.py"
    case "$1" in roles/*) probe="$1" ;; esac
    if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ] \
            || [ ! -e "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keysmith/accounts/$probe" ]; then
        mkdir -p "$WORK/collections/ansible_collections/keysmith"
        ln -s "$ROOT" "$WORK/collections/ansible_collections/keysmith/accounts"
        export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
    fi
    # The managed node's interpreter: the harness's choice, else python3 on PATH (the venv's
    # when the harness runs us), else the checkout's venv.
    PYTHON="${ANSIBLE_PYTHON_INTERPRETER:-$(command -v python3)}"
    if [ -z "${ANSIBLE_PYTHON_INTERPRETER:-}" ] && [ -x "$ROOT/.venv/bin/python" ] \
            && ! "$PYTHON" -c 'import ansible' >/dev/null 2>&1; then
        PYTHON="$ROOT/.venv/bin/python"
    fi
    PLAYBOOK_CMD=(ansible-playbook)
    command -v ansible-playbook >/dev/null 2>&1 || PLAYBOOK_CMD=("$ROOT/.venv/bin/ansible-playbook")
    export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
}

e2e_user() {  # e2e_user NAME [ssh]: a fresh account (locked password, "*" so sshd lets keys in), removed on exit
    local user="$1"
    if id "$user" >/dev/null 2>&1; then userdel -r "$user" >/dev/null 2>&1 || true; fi
    E2E_USERS+=("$user")
    useradd -m -s /bin/sh "$user"
    usermod -p '*' "$user"     # sshd refuses a locked ("!") account even for keys
    if [ "${2:-}" = ssh ]; then install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"; fi
}

e2e_free_ports() {  # e2e_free_ports N FIRST-LAST: E2E_PORTS=(N ports of the range free on 127.0.0.1); 0: any
    local want="$1" range="$2"
    read -r -a E2E_PORTS <<< "$("${PYTHON:-python3}" - "$want" "$range" <<'PY'
import socket, sys
want = int(sys.argv[1])
if sys.argv[2] == '0':
    candidates = [0] * want
else:
    low, high = map(int, sys.argv[2].split('-'))
    candidates = range(low, high + 1)
found = []
for port in candidates:
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
        found.append(s.getsockname()[1])
    except OSError:
        pass
    finally:
        s.close()
    if len(found) == want:
        break
print(' '.join(map(str, found)))
PY
)"
    [ ${#E2E_PORTS[@]} -eq "$want" ] || fail "no $want free ports in $range"
}

e2e_sshd() {  # e2e_sshd CONFIG [LOG]: check the config, start sshd -D on it (stopped on exit)
    "$SSHD" -t -f "$1"
    if [ -n "${2:-}" ]; then
        E2E_LOGS+=("$2")
        "$SSHD" -D -f "$1" -E "$2" &
    else
        "$SSHD" -D -f "$1" &
    fi
    E2E_PIDS+=($!)
    E2E_SSHD_PID=$!
}

e2e_wait_ports() {  # e2e_wait_ports PORT...: each one accepts connections on 127.0.0.1 within 5 s
    local port
    for port in "$@"; do
        for _ in $(seq 1 50); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue 2
            sleep 0.1
        done
        fail "nothing listens on 127.0.0.1:$port"
    done
}

e2e_wait_pidfile() {  # e2e_wait_pidfile FILE: sshd wrote its pid file within 5 s (it does so after listening)
    for _ in $(seq 1 50); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "sshd did not start (no pid in $1)"
}
