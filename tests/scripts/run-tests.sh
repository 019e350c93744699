#!/usr/bin/env bash
# Test harness of keysmith.accounts.  Called by the Makefile (and so by .ci/run).
#
#   tests/scripts/run-tests.sh STEP [STEP ...]
#
# Steps:
#   venv         create/update .venv (Python 3.11+) from the requirement files
#   deps         system packages the tests need (openssh-server), root only
#   place        copy the checkout to <PLACE_ROOT>/ansible_collections/keysmith/accounts
#   changelog    antsibull-changelog lint, and a preview release in a scratch copy
#                (tests/scripts/changelog-preview.sh -> tests/output/changelog/CHANGELOG.md)
#   build        ansible-galaxy collection build into tests/output/build (metadata check)
#   release      tests/scripts/release.sh on the built tarball: installs into an empty path,
#                ansible-doc lists/renders every module and role, ansible-lint production,
#                docs links, the quick start, an AWX-style ansible-runner job (tests/awx/)
#   sanity       ansible-test sanity --venv (all tests, Pythons 3.8 .. 3.13 found)
#   units        pytest over tests/unit (from the placed copy, .venv Python 3.11), and beside it
#                ansible-test units --venv --python 3.8 (target-side tests on the oldest target)
#   parity       tests/parity: ssh_authkey's reading of authorized_keys against a real sshd
#                (one sshd on 127.0.0.1, throw-away accounts, a login per corpus line; root only)
#   integration  ansible-test integration --local --python 3.11 --allow-destructive
#   reliability  tests/reliability: SIGKILL at write points, concurrency, hostile homes
#                (real accounts, root only), secrets in -vvv/--diff output, parameter rules
#   examples     tests/examples/run_examples.py: every module's EXAMPLES and the docs' YAML blocks,
#                in check mode (must write nothing) and for real, side by side, against throw-away accounts
#                (root only; 33 documents, ~140 s CPU: 145 s wall at load 6 on 2 cores)
#   e2e          tests/e2e/*.sh (lib.sh is their shared set-up) and molecule scenarios, when
#                present; E2E_JOBS=2 of them at a time
#   demo         ansible-playbook playbooks/demo.yml twice (when present)
#   cores        ansible-test sanity, the unit tests and tests/smoke/all_modules.yml on the lowest and the
#                newest ansible-core of the supported range (CORE_VERSIONS="2.16 2.21"), own venvs
#   test         venv deps changelog build release sanity units cores parity integration reliability examples e2e demo,
#                fail fast; release then examples beside sanity, cores beside parity then integration
#   clean        remove .venv, tests/output, demo-output and the placed copy
#
# Environment knobs:
#   PYTHON=/path/python3.x    interpreter for .venv (default: python3.11 / python3 >= 3.11)
#   PLACE_ROOT=/dir           where ansible_collections/ is made (default: /tmp/keysmith-accounts-<hash>)
#   SANITY_ARGS="..."         extra args for ansible-test sanity (e.g. "--test pep8")
#   SANITY_PYTHONS="3.8 3.11" restrict the extra target Pythons put on PATH (default: all 3.8..3.13 found)
#   UNITS_ARGS="..."          extra args for pytest
#   UNITS_TARGET_PYTHONS="3.8" Pythons for the extra ansible-test units run ("" to skip)
#   INTEGRATION_ARGS="..."    extra args for ansible-test integration (e.g. a target name)
#   RELIABILITY_ARGS="..."    extra args for the reliability pytest run (e.g. "-k kill")
#   PARITY_ARGS="..."         extra args for tests/parity/run_parity.py (e.g. "--seed 7 --no-curated")
#   AUDIT_PARITY_ARGS="..."   extra args for tests/parity/run_audit_parity.py (e.g. "--scenario rules_from --verbose")
#   PARITY_USER_PREFIX=k14p   account names of the parity step (<prefix>00..07, the audit's <prefix>NNa..);
#                             PARITY_PORTS=22400-22499
#   EXAMPLES_USER_PREFIX=ks17e account names of the examples step (<prefix><NN><name>, NN: the document)
#   E2E_JOBS=2                end-to-end tests run side by side (1: one after the other)
#   DEMO_IDEMPOTENT=1         fail `demo` if the second run reports changed > 0
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.keysmith-requirements.sha256"
REQ_FILES=(requirements.txt requirements-test.txt tests/constraints.txt)
COLLECTION_SUBPATH="ansible_collections/keysmith/accounts"
if [ -z "${PLACE_ROOT:-}" ]; then
    PLACE_ROOT="${TMPDIR:-/tmp}/keysmith-accounts-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
fi
PLACED="$PLACE_ROOT/$COLLECTION_SUBPATH"
OUTPUT="$ROOT/tests/output"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 PIP_DISABLE_PIP_VERSION_CHECK=1
# ansible-test refuses to run without a UTF-8 locale.
export LC_ALL=C.UTF-8 LANG=C.UTF-8

declare -a TIMINGS=()

log() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

timed() {  # timed NAME CMD...: run, record wall time, fail with a clear message
    local name="$1"; shift
    local start end rc=0
    start=$(date +%s)
    # Run the step in a subshell with errexit active: in `cmd || rc=$?` bash would
    # silently ignore `set -e` inside the step's functions.
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    end=$(date +%s)
    TIMINGS+=("$(printf '%-12s %5ss  %s' "$name" "$((end - start))" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (rc=$rc)")")")
    if [ $rc -ne 0 ]; then
        print_timings
        print_counts
        die "step '$name' failed (exit code $rc); see the output above."
    fi
}

timed_beside() {  # timed_beside BG[+BG...] FG [FG...]: the BG steps one after the other in the background while the FG steps run one after the other, all timed
    # For steps that share nothing (files, users, ports) and use about one
    # core each, so on 2 cores the pair takes the time of the longer one. The BG
    # steps' output is shown after the FG steps', in one piece.
    local bgs="$1" start end rc=0 f b t failed_bg=''
    shift
    local fg="$*"
    local -a bg_steps=()
    IFS=+ read -r -a bg_steps <<< "$bgs"
    BESIDE_OUT="$(mktemp "${TMPDIR:-/tmp}/keysmith-${bgs//+/-}.XXXXXX")"
    local times="$BESIDE_OUT.times"
    start=$(date +%s)
    set +e
    (set -e
     for b in "${bg_steps[@]}"; do
         t=$(date +%s)
         echo "$b" > "$times.current"
         "step_$b"
         echo "$b $(( $(date +%s) - t ))" >> "$times"
     done) >"$BESIDE_OUT" 2>&1 &
    BESIDE_PID=$!
    set -e
    # A failing FG stops the run (timed dies): on_exit ends BG and its processes.
    for f in "$@"; do timed "$f" "step_$f"; done
    wait "$BESIDE_PID" || rc=$?
    BESIDE_PID=''
    end=$(date +%s)
    log "${bgs//+/, } (ran beside $fg): its output"
    cat "$BESIDE_OUT"
    if [ ${#bg_steps[@]} -eq 1 ]; then
        # one step: its time is the pair's (it waited for nothing)
        TIMINGS+=("$(printf '%-12s %5ss  %s' "$bgs" "$((end - start))" "$([ $rc -eq 0 ] && echo "ok (beside $fg)" || echo "FAILED (rc=$rc)")")")
    else
        while read -r b t; do
            TIMINGS+=("$(printf '%-12s %5ss  %s' "$b" "$t" "ok (beside $fg)")")
        done < <(cat "$times" 2>/dev/null)
        if [ $rc -ne 0 ]; then
            failed_bg="$(cat "$times.current" 2>/dev/null)"
            TIMINGS+=("$(printf '%-12s %5ss  %s' "$failed_bg" '?' "FAILED (rc=$rc)")")
        fi
    fi
    rm -f "$BESIDE_OUT" "$times" "$times.current"
    BESIDE_OUT=''
    if [ $rc -ne 0 ]; then
        print_timings
        print_counts
        die "step '${failed_bg:-$bgs}' failed (exit code $rc); see its output above."
    fi
}

print_timings() {
    [ ${#TIMINGS[@]} -gt 0 ] || return 0
    printf '\n==> Harness summary (wall time per step)\n'
    printf '    %s\n' "${TIMINGS[@]}"
}

# --------------------------------------------------------------------------- venv
find_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return 0; fi
    local cand
    for cand in python3.11 /root/.pyenv/versions/3.11*/bin/python3.11 /usr/local/bin/python3.11 /usr/bin/python3.11 python3; do
        if "$cand" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' >/dev/null 2>&1; then
            command -v "$cand" 2>/dev/null || echo "$cand"
            return 0
        fi
    done
    return 1
}

req_hash() { cat "${REQ_FILES[@]}" tests/unit/requirements.txt 2>/dev/null | sha256sum | cut -d' ' -f1; }

step_venv() {
    local want
    want="$(req_hash)"
    if [ -x "$VPY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        log "venv: $VENV is up to date ($("$VPY" --version))"
        return 0
    fi
    local py
    py="$(find_python)" || die "no Python >= 3.11 with venv/ensurepip found (set PYTHON=/path/to/python3.11)"
    log "venv: creating $VENV with $py ($("$py" --version 2>&1))"
    if [ ! -x "$VPY" ] || ! "$VPY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null; then
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi
    "$VPY" -m pip install --quiet --upgrade pip
    "$VPY" -m pip install --quiet -r requirements-test.txt
    echo "$want" > "$STAMP"
    "$VPY" -m pip --version
    "$VENV/bin/ansible" --version | sed -n 1p
}

need_venv() { if [ ! -x "$VPY" ] || [ ! -f "$STAMP" ]; then step_venv; fi; }

# --------------------------------------------------------------------------- deps
step_deps() {
    # openssh-server: sshd for the modules' validation / integration targets.
    # and the shellcheck program: ansible-test's "shellcheck" sanity test is skipped (with a warning) without it.
    # putty-tools: puttygen checks the .ppk files ssh_genkey exports (tests skip without it).
    # chromium: tests/e2e/access_report.sh opens the access report's HTML page in it.
    # acl: setfacl, for the ACL scenarios of tests/parity/run_audit_parity.py.
    # softhsm2: a PKCS#11 token for ssh_cert's ca_pkcs11_provider (tests/unit/.../certs/test_pkcs11_signing.py).
    # systemd: systemd-journald and journalctl, for tests/e2e/journal_usage.sh (the real journal).
    local missing=()
    command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
    command -v puttygen >/dev/null 2>&1 || missing+=(putty-tools)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v setfacl >/dev/null 2>&1 || missing+=(acl)
    command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
    { [ -x /lib/systemd/systemd-journald ] && command -v journalctl >/dev/null 2>&1; } || missing+=(systemd)
    if [ ${#missing[@]} -eq 0 ]; then
        log "deps: openssh-server, shellcheck, putty-tools, chromium, acl, softhsm2 and systemd present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        log "deps: WARNING missing ${missing[*]} and cannot install (not root / no apt-get)"
        return 0
    fi
    log "deps: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Do not let package scripts start services inside a container / CI sandbox.
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1
    fi
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
    if [ $made_policy -eq 1 ]; then rm -f "$policy"; fi
    [ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed (rc=$rc)"
    [ -x /usr/sbin/sshd ] || die "openssh-server installed but /usr/sbin/sshd missing"
}

# --------------------------------------------------------------------------- place
# ansible-test needs the collection at .../ansible_collections/<ns>/<name> and resolves
# real paths, so a symlink does not work: we copy.  The copy lives outside the git
# checkout (ansible-test would otherwise list files with git from /work/main/.git).
step_place() {
    # make test places the checkout once, before steps run side by side: a step
    # beside another must not re-copy the tree the other one is reading
    # (without rsync the copy removes and re-extracts every file)
    if [ "${RUNTESTS_PLACED_ONCE:-}" = "$PLACED" ] && [ -d "$PLACED/plugins" ]; then
        return 0
    fi
    mkdir -p "$PLACED"
    local -a excludes=(--exclude=/.venv --exclude=/.venv-demo --exclude='/.venv-core*' --exclude=/.git --exclude=/tests/output --exclude=/demo-output
                       --exclude=/bench/output --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache
                       --exclude=.hypothesis --exclude='/*.tar.gz')
    if command -v rsync >/dev/null 2>&1; then
        # keep tests/output of the placed copy (ansible-test caches venvs/results there)
        rsync -a --delete --exclude=/tests/output "${excludes[@]}" "$ROOT/" "$PLACED/"
    else
        # no rsync: fresh copy with tar (same exclusions, anchored at ./), keeping
        # tests/output of the placed copy (ansible-test keeps its venvs there)
        find "$PLACED" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
        if [ -d "$PLACED/tests" ]; then
            find "$PLACED/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
        fi
        tar -C "$ROOT" --exclude=./.venv --exclude=./.venv-demo --exclude='./.venv-core*' --exclude=./.git --exclude=./tests/output --exclude=./demo-output \
            --exclude=./bench/output --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache \
            --exclude=.hypothesis --exclude='./*.tar.gz' -cf - . | tar -C "$PLACED" -xf -
    fi
    log "place: collection copied to $PLACED"
}

# Copy ansible-test results back so they can be looked at in the checkout.
collect_output() {
    [ -d "$PLACED/tests/output" ] || return 0
    mkdir -p "$OUTPUT"
    local d
    for d in bot junit data reports coverage; do
        [ -d "$PLACED/tests/output/$d" ] || continue
        mkdir -p "$OUTPUT/$d"
        cp -a "$PLACED/tests/output/$d/." "$OUTPUT/$d/" 2>/dev/null || true
    done
}

# ansible-test --venv bootstraps pip with get-pip.py downloaded from the internet,
# which is not reachable here.  This stand-in (at the cache path ansible-test checks
# first, see ansible_test/_util/target/setup/requirements.py: bootstrap()) installs pip
# with ensurepip and then runs `pip install` with the arguments it is given
# (e.g. `--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel`).
write_get_pip() {
    local pip_version
    pip_version="$("$VPY" - <<'EOF'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py'
m = re.search(r"default_packages = dict\(\s*pip='([^']+)'", src.read_text())
print(m.group(1) if m else '')
EOF
)"
    [ -n "$pip_version" ] || die "cannot find the pip version ansible-test bootstraps (ansible-test source changed?)"
    local cache="$HOME/.ansible/test/cache"
    local target="$cache/get_pip_${pip_version//./_}.py"
    mkdir -p "$cache"
    cat > "$target.tmp" <<'EOF'
"""Offline stand-in for get-pip.py, written by keysmith.accounts tests/scripts/run-tests.sh.

Bootstraps pip into the running interpreter's environment with ensurepip, then runs
``pip install`` with the command-line arguments (as get-pip.py does).
"""
import os
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
    saved = dict(os.environ)
    try:
        import ensurepip
        # ensurepip changes os.environ (PIP_CONFIG_FILE etc.): keep and restore it.
        ensurepip.bootstrap(upgrade=True, default_pip=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if args:
        sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))


if __name__ == '__main__':
    main()
EOF
    if ! cmp -s "$target.tmp" "$target" 2>/dev/null; then mv "$target.tmp" "$target"; else rm -f "$target.tmp"; fi
}

# Put the pyenv (or system) interpreters 3.8 .. 3.13 on PATH as pythonX.Y so that
# ansible-test's compile/import sanity tests run on every target Python we claim
# (tests/config.yml: python_requires >= 3.8).  pyenv *shims* are not usable for this
# (a shim for a version that is not active exits with an error), so real binaries
# are linked into a private bin directory that goes first on PATH.
setup_pythons() {
    local bindir="$PLACE_ROOT/bin" v p found=()
    rm -rf "$bindir"; mkdir -p "$bindir"
    local versions="${SANITY_PYTHONS:-3.8 3.9 3.10 3.11 3.12 3.13}" vv
    vv="$(venv_pyver)"
    for v in $versions; do
        p=""
        if [ "$v" = "$vv" ]; then p="$VPY"; else
            local c
            for c in /root/.pyenv/versions/"$v".*/bin/python"$v" /usr/local/bin/python"$v" /usr/bin/python"$v"; do
                if [ -x "$c" ] && "$c" -c 'import venv, ensurepip' >/dev/null 2>&1; then p="$c"; fi
            done
        fi
        if [ -n "$p" ]; then ln -sf "$p" "$bindir/python$v"; found+=("$v"); fi
    done
    # Hide pyenv shims for versions we did not find: link a failing stub is worse than
    # nothing, so instead drop the shims dir from PATH for ansible-test.
    local newpath="" IFS=:
    for p in $PATH; do
        case "$p" in */.pyenv/shims) continue ;; esac
        newpath="${newpath:+$newpath:}$p"
    done
    unset IFS
    export PATH="$bindir:$VENV/bin:$newpath"
    log "pythons for ansible-test: ${found[*]}"
}

venv_pyver() { "$VPY" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

ansible_test() { (cd "$PLACED" && "$VENV/bin/ansible-test" "$@" --color no); }

# --------------------------------------------------------------------------- counts
# Per-suite "passed failed skipped" counts, printed at the end of `make test`.
# Kept in a file because every step runs in a subshell.
COUNTS_FILE="$(mktemp "${TMPDIR:-/tmp}/keysmith-counts.XXXXXX")"
BESIDE_PID='' BESIDE_OUT=''

kill_tree() {  # kill_tree PID: the process and all its descendants
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}

on_exit() {
    if [ -n "$BESIDE_PID" ]; then kill_tree "$BESIDE_PID"; fi
    rm -f "$COUNTS_FILE" ${BESIDE_OUT:+"$BESIDE_OUT" "$BESIDE_OUT.times" "$BESIDE_OUT.times.current"}
}
trap on_exit EXIT
record_counts() {  # record_counts SUITE PASSED FAILED SKIPPED
    echo "$1 $2 $3 $4" >> "$COUNTS_FILE"
    printf '%s: %s passed, %s failed, %s skipped\n' "$1" "$2" "$3" "$4"
}

junit_summary() {  # junit_summary SUITE DIR GLOB
    local counts
    counts="$("$VPY" - "$2" "$3" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(os.path.join(sys.argv[1], sys.argv[2])):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        failed += 1
        continue
    for case in root.iter('testcase'):
        tags = {child.tag for child in case}
        if tags & {'failure', 'error'}:
            failed += 1
        elif 'skipped' in tags:
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped)
EOF
)" || counts="0 0 0"
    # shellcheck disable=SC2086
    record_counts "$1" $counts
}

print_counts() {
    [ -s "$COUNTS_FILE" ] || return 0
    local suite line p f s tp=0 tf=0 ts=0
    printf '\n==> Results per suite\n'
    while read -r suite; do
        line="$(grep "^$suite " "$COUNTS_FILE" | tail -1)" || continue
        read -r _ p f s <<<"$line"
        printf '    %-12s %s passed, %s failed, %s skipped\n' "$suite" "$p" "$f" "$s"
        tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + s))
    done < <(cut -d' ' -f1 "$COUNTS_FILE" | awk '!seen[$0]++')
    printf 'total: %s passed, %s failed, %s skipped\n' "$tp" "$tf" "$ts"
}

# --------------------------------------------------------------------------- steps
step_changelog() {
    need_venv
    log "changelog: antsibull-changelog lint"
    "$VENV/bin/antsibull-changelog" lint
    echo "changelog lint: ok"
    # release of the galaxy.yml version in a scratch copy: CHANGELOG.md can be generated
    VENV="$VENV" bash "$ROOT/tests/scripts/changelog-preview.sh" "$OUTPUT/changelog"
}

step_build() {
    need_venv
    log "build: ansible-galaxy collection build (checks galaxy.yml and build_ignore)"
    rm -rf "$OUTPUT/build"; mkdir -p "$OUTPUT/build"
    "$VENV/bin/ansible-galaxy" collection build --force --output-path "$OUTPUT/build" "$ROOT"
    local tarball
    tarball="$(ls "$OUTPUT"/build/keysmith-accounts-*.tar.gz)"
    # the artifact must not carry local state
    if tar -tzf "$tarball" | grep -E '(^|/)(\.venv[^/]*|\.git|tests/output|demo-output|__pycache__)(/|$)'; then
        die "build: $tarball contains files that build_ignore should exclude (listed above)"
    fi
    echo "build: $tarball ($(tar -tzf "$tarball" | wc -l) entries)"
}

step_sanity() {
    need_venv; step_deps; step_place; write_get_pip; setup_pythons
    log "sanity: ansible-test sanity --venv (all tests) ${SANITY_ARGS:-}"
    rm -rf "$PLACED/tests/output/bot" "$PLACED/tests/output/junit"
    local rc=0
    # shellcheck disable=SC2086
    ansible_test sanity --venv --junit ${SANITY_ARGS:-} || rc=$?
    collect_output
    junit_summary sanity "$PLACED/tests/output/junit" 'ansible-test-sanity-*.xml'
    # A crashing sanity test (FATAL) stops ansible-test without a junit file for it.
    if [ $rc -ne 0 ] && tail -1 "$COUNTS_FILE" | grep -q '^sanity [0-9]* 0 '; then
        read -r _ p _ s <<<"$(tail -1 "$COUNTS_FILE")"
        record_counts sanity "$p" 1 "$s"
    fi
    return $rc
}

step_units() {
    need_venv; step_place
    if ! find "$PLACED/tests/unit" -name 'test_*.py' -print -quit 2>/dev/null | grep -q .; then
        log "units: no tests/unit/**/test_*.py: skipped"
        return 0
    fi
    local jobs=() rc=0 trc=0 target_out target_pid
    rm -f "$OUTPUT/junit/units.xml"
    "$VPY" -c 'import xdist' 2>/dev/null && jobs=(-n auto)
    # The target-side tests on the oldest Python run beside the pytest run: each one leaves
    # part of the 2 cores idle (its workers' collection, the slowest files at the end), and
    # the tests name their accounts and files per process (pid, tmp_path). Their output
    # follows pytest's, in one piece.
    target_out="$(mktemp "${TMPDIR:-/tmp}/keysmith-units-target.XXXXXX")"
    units_target >"$target_out" 2>&1 &
    target_pid=$!
    log "units: pytest tests/unit (collection on PYTHONPATH=$PLACE_ROOT), the target-side tests beside it"
    mkdir -p "$OUTPUT/junit"
    # shellcheck disable=SC2086
    (cd "$PLACED" && PYTHONPATH="$PLACE_ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
        "$VPY" -m pytest -p no:cacheprovider --import-mode=importlib -r a "${jobs[@]}" \
        --junitxml="$OUTPUT/junit/units.xml" tests/unit ${UNITS_ARGS:-}) || rc=$?
    junit_summary units "$OUTPUT/junit" 'units.xml'
    wait "$target_pid" || trc=$?
    log "units: the target-side tests (ran beside pytest): their output"
    cat "$target_out"
    rm -f "$target_out"
    [ $rc -eq 0 ] || return $rc
    return $trc
}

units_target() {  # the target-side unit tests on UNITS_TARGET_PYTHONS (default 3.8); its rc
    # Module code runs on managed nodes with Python >= 3.8: run the target-side unit
    # tests (tests/unit/plugins/{modules,module_utils}) on the oldest one too, with
    # ansible-test (ansible-core 2.19 itself cannot be installed on 3.8; ansible-test
    # puts its own copy on the path; on a Python the controller does not support it runs
    # only those).  ~120 s on 2 cores.  UNITS_TARGET_PYTHONS="" skips.
    local v rc=0
    for v in ${UNITS_TARGET_PYTHONS-3.8}; do
        write_get_pip; SANITY_PYTHONS="$v $(venv_pyver)" setup_pythons
        if [ ! -e "$PLACE_ROOT/bin/python$v" ]; then
            log "units: WARNING python$v not found: target-side unit tests on $v skipped"
            continue
        fi
        log "units: ansible-test units --venv --python $v (target-side tests)"
        rm -f "$PLACED"/tests/output/junit/python"$v"-*-units.xml
        ansible_test units --venv --python "$v" || rc=$?
        junit_summary "units-py$v" "$PLACED/tests/output/junit" "python$v-*-units.xml"
        [ $rc -eq 0 ] || return $rc
    done
    return $rc
}

step_parity() {
    need_venv; step_deps; step_place
    [ "$(id -u)" -eq 0 ] || die "parity: needs root (it creates accounts and runs sshd)"
    log "parity: tests/parity/run_parity.py (sshd against the parser, ~90 s) ${PARITY_ARGS:-}"
    local rc=0 out
    out="$(mktemp "${TMPDIR:-/tmp}/keysmith-parity.XXXXXX")"
    # shellcheck disable=SC2086
    (cd "$PLACED/tests/parity" && PYTHONPATH="$PLACE_ROOT" PYTHONDONTWRITEBYTECODE=1 \
        timeout 1200 "$VPY" run_parity.py ${PARITY_ARGS:-}) 2>&1 | tee "$out" || rc=$?
    local agree
    agree="$(sed -n 's/^agree \([0-9]*\)\/\([0-9]*\)$/\1 \2/p' "$out" | tail -1)"
    if [ -n "$agree" ]; then
        read -r a m <<<"$agree"
        record_counts parity "$a" "$((m - a))" 0
    else
        record_counts parity 0 1 0
        [ $rc -ne 0 ] || rc=1
    fi
    # The audit (authorized_keys_info) against sshd: accounts, files, sshd_config variants, logins
    # from loopback addresses (tests/parity/run_audit_parity.py, ~60 s); its own "audit agree" line.
    log "parity: tests/parity/run_audit_parity.py (sshd against the audit, ~60 s) ${AUDIT_PARITY_ARGS:-}"
    local arc=0
    # shellcheck disable=SC2086
    (cd "$PLACED/tests/parity" && PYTHONPATH="$PLACE_ROOT" PYTHONDONTWRITEBYTECODE=1 \
        timeout 1200 "$VPY" run_audit_parity.py ${AUDIT_PARITY_ARGS:-}) 2>&1 | tee "$out" || arc=$?
    agree="$(sed -n 's/^audit agree \([0-9]*\)\/\([0-9]*\)$/\1 \2/p' "$out" | tail -1)"
    rm -f "$out"
    if [ -n "$agree" ]; then
        read -r a m <<<"$agree"
        record_counts audit-parity "$a" "$((m - a))" 0
    else
        record_counts audit-parity 0 1 0
        [ $arc -ne 0 ] || arc=1
    fi
    [ $arc -eq 0 ] || rc=$arc
    return $rc
}

step_integration() {
    need_venv; step_deps; step_place
    local targets
    targets=$(find "$PLACED/tests/integration/targets" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
    if [ "$targets" -eq 0 ]; then
        log "integration: no tests/integration/targets/*: skipped"
        return 0
    fi
    local pyver
    pyver="$(venv_pyver)"
    log "integration: ansible-test integration --local --python $pyver --allow-destructive ($targets targets) ${INTEGRATION_ARGS:-}"
    # --local runs on this host with the running interpreter (.venv/bin/python), so the
    # modules see the venv's cryptography; ansible-test's inventory sets
    # ansible_python_interpreter to that same interpreter.
    local rc=0
    # shellcheck disable=SC2086
    PATH="$VENV/bin:$PATH" ansible_test integration --local --python "$pyver" --allow-destructive ${INTEGRATION_ARGS:-} || rc=$?
    collect_output
    if [ $rc -eq 0 ]; then
        record_counts integration "$targets" 0 0
    else
        record_counts integration 0 1 0
    fi
    return $rc
}

step_reliability() {
    need_venv; step_deps; step_place
    local jobs=() rc=0
    "$VPY" -c 'import xdist' 2>/dev/null && jobs=(-n 2 --dist loadfile)
    log "reliability: pytest tests/reliability (collection at $PLACED)"
    mkdir -p "$OUTPUT/junit"
    rm -f "$OUTPUT/junit/reliability.xml"
    # --dist loadfile: the hostile-home tests (useradd/userdel change /etc, which they
    # compare) stay in one worker. Bounded: a hung module run fails its test (timeouts in the suite), the whole
    # step is killed after 15 minutes.
    # shellcheck disable=SC2086
    (cd "$PLACED/tests/reliability" && PATH="$VENV/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 \
        timeout 900 "$VPY" -m pytest -r fEs "${jobs[@]}" --junitxml="$OUTPUT/junit/reliability.xml" \
        ${RELIABILITY_ARGS:-}) || rc=$?
    junit_summary reliability "$OUTPUT/junit" 'reliability.xml'
    return $rc
}

step_examples() {
    need_venv; step_deps; step_place
    [ "$(id -u)" -eq 0 ] || die "examples: needs root (it creates throw-away accounts)"
    log "examples: tests/examples/run_examples.py (every documented example, check mode and real)"
    local rc=0
    PATH="$VENV/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 "$VPY" "$ROOT/tests/examples/run_examples.py" \
        --collections-path "$PLACE_ROOT" --python "$VPY" --prefix "${EXAMPLES_USER_PREFIX:-ks17e}" || rc=$?
    if [ $rc -eq 0 ]; then record_counts examples 1 0 0; else record_counts examples 0 1 0; fi
    return $rc
}

e2e_job() {  # e2e_job KIND ARG: one end-to-end test (script PATH, or molecule SCENARIO)
    case "$1" in
        script) PATH="$VENV/bin:$PATH" bash "$2" ;;
        # Molecule (25+) finds a collection's scenarios in extensions/molecule/ when it
        # runs from the collection root (galaxy.yml, no molecule/ there): run it from the
        # checkout; the roles and modules come from the placed copy (ANSIBLE_COLLECTIONS_PATH).
        molecule) cd "$ROOT" && PATH="$VENV/bin:$PATH" molecule test -s "$2" ;;
    esac
}

run_e2e_jobs() {  # run_e2e_jobs KIND:ARG...: E2E_JOBS at a time; 1 when one of them failed
    # The end-to-end tests share nothing (each has its own accounts, port range and work
    # directory: tests/e2e/lib.sh, the molecule fleet's ksfleet<N>_ accounts and ports from
    # 22201) and spend much of their time waiting for sshd, ssh logins and ansible's forks,
    # so E2E_JOBS of them (default 2) run side by side, in the order given; each one's
    # output is shown in one piece when it ends.
    local max="${E2E_JOBS:-2}" job pid='' failed=0 n=0 out
    local -A job_of=() out_of=() start_of=()
    # wait -n -p (which job ended) needs bash 5.1: older ones run the jobs one at a time
    if [ "${BASH_VERSINFO[0]}${BASH_VERSINFO[1]}" -lt 51 ]; then max=1; fi
    finish_one() {
        local done_pid='' rc=0
        if [ "$max" -eq 1 ]; then
            done_pid=$pid
            wait "$pid" || rc=$?
        else
            wait -n -p done_pid || rc=$?
        fi
        log "e2e: ${job_of[$done_pid]} ($(( $(date +%s) - start_of[$done_pid] )) s, $([ $rc -eq 0 ] && echo ok || echo "FAILED rc=$rc")): its output"
        cat "${out_of[$done_pid]}"
        rm -f "${out_of[$done_pid]}"
        [ $rc -eq 0 ] || failed=1
    }
    for job in "$@"; do
        while [ $n -ge "$max" ]; do finish_one; n=$((n - 1)); done
        log "e2e: ${job%%:*} ${job#*:} started"
        out="$(mktemp "${TMPDIR:-/tmp}/keysmith-e2e.XXXXXX")"
        # stdin of its own: ssh sets O_NONBLOCK on its stdin while it runs, and an
        # ansible-playbook of another job sharing that file would refuse to start
        (set -e; e2e_job "${job%%:*}" "${job#*:}") </dev/null >"$out" 2>&1 &
        pid=$!
        job_of[$pid]="${job%%:*} ${job#*:}"; out_of[$pid]="$out"; start_of[$pid]=$(date +%s)
        n=$((n + 1))
    done
    while [ $n -gt 0 ]; do finish_one; n=$((n - 1)); done
    return $failed
}

step_e2e() {
    need_venv
    local f s
    local -a jobs=()
    shopt -s nullglob
    # molecule's scenarios first (the longest), then the scripts, the biggest first
    for s in extensions/molecule/*/molecule.yml molecule/*/molecule.yml; do
        jobs+=("molecule:$(basename "$(dirname "$s")")")
    done
    while read -r f; do jobs+=("script:$f"); done < <(for f in tests/e2e/*.sh; do
        [ "$f" = tests/e2e/lib.sh ] || printf '%s %s\n' "$(stat -c %s "$f")" "$f"
    done | sort -rn | cut -d' ' -f2-)
    shopt -u nullglob
    if [ ${#jobs[@]} -eq 0 ]; then
        log "e2e: no tests/e2e/*.sh nor molecule scenarios: skipped"
        return 0
    fi
    step_deps; step_place
    # Everything runs against the placed copy with the venv's Python as the
    # managed node's interpreter (it has cryptography/bcrypt).
    export ANSIBLE_COLLECTIONS_PATH="$PLACE_ROOT" ANSIBLE_PYTHON_INTERPRETER="$VPY"
    if ! run_e2e_jobs "${jobs[@]}"; then
        record_counts e2e 0 1 0
        return 1
    fi
    record_counts e2e "${#jobs[@]}" 0 0
}

# The demo needs what a user of the collection needs, nothing of the test tooling:
# ansible-core and requirements.txt (the test venv when it is already there).
demo_venv() {
    if [ "${DEMO_OWN_VENV:-0}" != 1 ] && [ -x "$VPY" ] && [ -f "$STAMP" ]; then echo "$VENV"; return 0; fi
    local demo="$ROOT/.venv-demo" want py
    want="$(cat requirements.txt tests/constraints.txt | sha256sum | cut -d' ' -f1)"
    if [ -x "$demo/bin/python" ] && [ "$(cat "$demo/.stamp" 2>/dev/null)" = "$want" ]; then echo "$demo"; return 0; fi
    py="$(find_python)" || die "the demo needs Python >= 3.11 (ansible-core's controller) with venv: set PYTHON=/path/to/python3.11"
    log "demo: creating $demo (ansible-core and requirements.txt only) with $py" >&2
    rm -rf "$demo"
    "$py" -m venv "$demo"
    "$demo/bin/python" -m pip install --quiet -c tests/constraints.txt -r requirements.txt ansible-core >&2
    echo "$want" > "$demo/.stamp"
    echo "$demo"
}

step_demo() {
    if [ ! -f playbooks/demo.yml ]; then
        log "demo: playbooks/demo.yml does not exist yet: skipped"
        return 0
    fi
    local venv
    venv="$(demo_venv)"
    step_place
    mkdir -p "$ROOT/demo-output"
    local run out changed
    for run in 1 2; do
        log "demo: ansible-playbook playbooks/demo.yml (run $run of 2)"
        out="$ROOT/demo-output/run$run.log"
        set +e
        PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PLACE_ROOT" \
            ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python" ansible-playbook -i localhost, -c local playbooks/demo.yml 2>&1 | tee "$out"
        local rc=${PIPESTATUS[0]}
        set -e
        [ "$rc" -eq 0 ] || die "demo run $run failed (rc=$rc), log: $out"
    done
    # what a newcomer reads: no warning, the randomart as a picture (lines), not an escaped string
    ! grep -h '\[WARNING\]' "$ROOT/demo-output/run1.log" "$ROOT/demo-output/run2.log" \
        || die "demo: ansible-playbook warns (above)"
    grep -q '^        "+---\[' "$ROOT/demo-output/run1.log" || die "demo: the randomart is not printed as lines"
    changed=$(sed -n '/PLAY RECAP/,$p' "$ROOT/demo-output/run2.log" | grep -o 'changed=[0-9]*' | cut -d= -f2 | awk '{s+=$1} END {print s+0}')
    log "demo: second run changed=$changed"
    record_counts demo 2 0 0
    if [ "${DEMO_IDEMPOTENT:-0}" = 1 ] && [ "$changed" != 0 ]; then
        die "demo: second run is not idempotent (changed=$changed)"
    fi
}

step_release() {
    need_venv
    local -a tarballs=("$OUTPUT"/build/keysmith-accounts-*.tar.gz)
    if [ ! -f "${tarballs[0]}" ]; then step_build; tarballs=("$OUTPUT"/build/keysmith-accounts-*.tar.gz); fi
    log "release: checks on ${tarballs[0]} (tests/scripts/release.sh)"
    VENV="$VENV" bash "$ROOT/tests/scripts/release.sh" "${tarballs[0]}"
}

step_clean() {
    log "clean"
    rm -rf "$VENV" "$ROOT/.venv-demo" "$ROOT"/.venv-core* "$OUTPUT" "$ROOT/demo-output" "$PLACE_ROOT" "$PLACE_ROOT"-core*
    find "$ROOT" -path "$ROOT/.git" -prune -o -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
}

# --------------------------------------------------------------------------- cores
# meta/runtime.yml claims ansible-core >= 2.16; .venv pins one version (tests/constraints.txt).
# The lowest and the newest of the range get their own venv (.venv-core<X.Y>, ansible-core X.Y.*
# and the runtime and unit test requirements) and run: ansible-test sanity on their controller
# Python (tests/sanity/ignore-2.21.txt: two rules new in 2.21 that need an API change, see its
# issue), the unit tests that reach ansible-core, and tests/smoke/all_modules.yml (--check, run,
# rerun changed=0, no warning or deprecation anywhere).
CORE_VERSIONS="${CORE_VERSIONS-2.16 2.21}"

core_python() {  # the controller Python of an ansible-core X.Y (2.16-2.17: 3.10-3.12; 2.18+: 3.11+, 2.20+: 3.12+)
    local want c
    case "$1" in 2.16|2.17|2.18|2.19) want=3.11 ;; *) want=3.12 ;; esac
    for c in /root/.pyenv/versions/"$want".*/bin/python"$want" /usr/local/bin/python"$want" /usr/bin/python"$want"; do
        if [ -x "$c" ] && "$c" -c 'import venv, ensurepip' >/dev/null 2>&1; then echo "$c"; return 0; fi
    done
    return 1
}

core_venv() {  # core_venv X.Y: the path of its venv, made or brought up to date
    local ver="$1" venv="$ROOT/.venv-core$1" py want
    # the runtime libraries at the versions the README calls quiet (tests/constraints.txt: with
    # cryptography 51, ansible-core 2.19+ prints a DSA deprecation on every command)
    local quiet="$ROOT/tests/output/cores-constraints.txt"
    mkdir -p "$ROOT/tests/output"
    grep -E '^(cryptography|bcrypt)==' tests/constraints.txt > "$quiet"
    want="$(printf 'ansible-core==%s.*\n' "$ver" | cat - requirements.txt tests/unit/requirements.txt "$quiet" | sha256sum | cut -c1-64)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then echo "$venv"; return 0; fi
    py="$(core_python "$ver")" || die "cores: no Python for ansible-core $ver's controller"
    log "cores: creating $venv (ansible-core $ver.*) with $py" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet -c "$quiet" "ansible-core==$ver.*" -r requirements.txt \
        -r tests/unit/requirements.txt pytest pytest-xdist >&2
    echo "$want" > "$venv/.stamp"
    echo "$venv"
}

step_cores() {
    need_venv; step_deps
    local ver
    for ver in $CORE_VERSIONS; do
        local venv
        venv="$(core_venv "$ver")"
        # Its own placed copy: ansible-test keeps version-specific state in tests/output.
        # shellcheck disable=SC2030  # (this subshell's PLACED is its own on purpose)
        ( VENV="$venv"; VPY="$venv/bin/python"; PLACE_ROOT="$PLACE_ROOT-core$ver"
          PLACED="$PLACE_ROOT/$COLLECTION_SUBPATH"
          local pyv rc=0 log_dir run
          pyv="$(venv_pyver)"
          log "cores: ansible-core $("$VENV/bin/ansible" --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p') on Python $pyv"
          step_place; write_get_pip; SANITY_PYTHONS="$pyv" setup_pythons
          rm -rf "$PLACED/tests/output/junit"
          ansible_test sanity --venv --python "$pyv" --junit || rc=$?
          junit_summary "sanity-core$ver" "$PLACED/tests/output/junit" 'ansible-test-sanity-*.xml'
          [ $rc -eq 0 ] || die "cores: ansible-test sanity of ansible-core $ver failed"
          # The unit tests that reach ansible-core (AnsibleModule, the modules' documentation and
          # argument specs, module runs); the rest is the collection's own logic, run by "units".
          (cd "$PLACED" && PYTHONPATH="$PLACE_ROOT" PYTHONDONTWRITEBYTECODE=1 "$VPY" -m pytest -p no:cacheprovider \
              --import-mode=importlib -q -n auto --junitxml="$OUTPUT/junit/units-core$ver.xml" \
              tests/unit/test_*.py tests/unit/plugins/modules tests/unit/plugins/module_utils/test_core.py \
              tests/unit/plugins/module_utils/test_core_robustness.py \
              tests/unit/plugins/module_utils/test_operation_contract.py) || rc=$?
          junit_summary "units-core$ver" "$OUTPUT/junit" "units-core$ver.xml"
          [ $rc -eq 0 ] || die "cores: unit tests on ansible-core $ver failed"
          log_dir="$(mktemp -d "${TMPDIR:-/tmp}/keysmith-smoke.XXXXXX")"
          for run in --check run rerun; do
              local -a mode=()
              [ "$run" = --check ] && mode=(--check)
              (cd "$log_dir" && ANSIBLE_COLLECTIONS_PATH="$PLACE_ROOT" ANSIBLE_NOCOLOR=1 \
                  "$VENV/bin/ansible-playbook" -i localhost, "$PLACED/tests/smoke/all_modules.yml" \
                  -e "smoke_dir=$log_dir/work" "${mode[@]}" >"$log_dir/$run.log" 2>&1) \
                  || { cat "$log_dir/$run.log"; die "cores: smoke playbook ($run) failed on ansible-core $ver"; }
          done
          # ansible's warnings and Python's (a library's DeprecationWarning printed on every command)
          if grep -h -E '\[(WARNING|DEPRECATION WARNING)\]|[A-Za-z]Warning: ' "$log_dir"/*.log; then
              die "cores: ansible-core $ver warns (above)"
          fi
          grep -qE 'changed=0 .*failed=0' "$log_dir/rerun.log" || { cat "$log_dir/rerun.log"; die "cores: smoke rerun changed"; }
          rm -rf "$log_dir"
          record_counts "smoke-core$ver" 3 0 0
        ) || return 1
    done
}

step_test() {
    : > "$COUNTS_FILE"
    timed venv step_venv
    timed deps step_deps
    timed changelog step_changelog
    timed build step_build
    # The release checks (a temporary directory of their own), then the documented examples (throw-away
    # accounts <prefix>NN..., directories of their own; the placed copy read only), beside sanity (~160 s,
    # about one core; the release checks ~105 s, the examples ~70 s).
    timed place step_place
    # shellcheck disable=SC2031  # (cores' subshell has a PLACED of its own; this is the main one)
    export RUNTESTS_PLACED_ONCE="$PLACED"
    timed_beside release+examples sanity
    timed units step_units
    # The other ansible-cores (their own venvs and placed copies) beside the sshd differential tests
    # and then the integration targets (accounts and sshd of their own; cores takes ~270 s, parity ~90 s,
    # integration ~200 s, each mostly one core); the venvs are made first (parity copies the checkout,
    # which must not change meanwhile).
    local ver
    for ver in $CORE_VERSIONS; do core_venv "$ver" >/dev/null; done
    timed_beside cores parity integration
    timed reliability step_reliability
    timed e2e step_e2e
    # In the full run a second demo run that changes anything is a failure, and the
    # demo runs in its own venv (ansible-core and requirements.txt only), as a newcomer's.
    DEMO_IDEMPOTENT="${DEMO_IDEMPOTENT:-1}" DEMO_OWN_VENV=1 timed demo step_demo
    print_timings
    log "make test: all steps passed"
    print_counts
}

[ $# -gt 0 ] || set -- test
for step in "$@"; do
    case "$step" in
        venv|deps|place|changelog|build|release|sanity|units|cores|parity|integration|reliability|examples|e2e|demo|clean|test) ;;
        *) die "unknown step '$step' (see the header of $0)" ;;
    esac
    if [ "$step" = test ] || [ "$step" = clean ]; then
        "step_$step"
    else
        timed "$step" "step_$step"
    fi
done
[ "$step" = test ] || [ "$step" = clean ] || print_timings
