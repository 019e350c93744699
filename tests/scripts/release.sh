#!/usr/bin/env bash
# Release checks of keysmith.accounts: what a new user of the built tarball meets.
# Run by `tests/scripts/run-tests.sh release` (`make release`, part of `make test`,
# after `build`):
#
#   tests/scripts/release.sh TARBALL
#
#   1. meta/execution-environment.yml loads (ansible-builder v3 schema) and the
#      files it names (requirements.txt, bindep.txt) are in the tarball
#   2. the tarball installs with `ansible-galaxy collection install -p EMPTY_DIR`
#   3. `ansible-doc -l keysmith.accounts` lists exactly the modules of plugins/modules/,
#      and `ansible-doc` renders each module and each role (rc 0, output, no warning)
#   4. every playbook of playbooks/ passes --syntax-check by its collection name
#   5. `ansible-lint --profile production roles/ playbooks/` (config: .ansible-lint)
#   6. relative links of README.md and docs/**/*.md point to existing files
#   7. docs/modules/*.md are up to date with the modules' documentation
#      (tests/scripts/gen_module_docs.py --check; RELEASE_WRITE_DOCS=1 rewrites them)
#   8. the quick start (docs/quickstart.md) runs as written: check mode, run, rerun changed=0
#   9. every "try it" playbook of docs/ (after <!-- runnable-example -->) runs
#  10. tests/awx/run_awx_job.py: job-template playbook through ansible-runner, as AWX
#  11. `antsibull-docs lint-collection-docs --plugin-docs` on the installed collection
#      (the ecosystem's own documentation linter: markup, O()/M() references; ~10 s)
#
# Environment: VENV (default .venv of the checkout); RELEASE_SKIP="lint awx ..." skips
# checks by name (ee doc syntax lint links docgen quickstart examples awx antsibull);
# RELEASE_ONLY="docgen" runs only those (after the install).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
VPY="$VENV/bin/python"
TARBALL="${1:?usage: $0 TARBALL}"
[ -f "$TARBALL" ] || { echo "release: no tarball $TARBALL (run the build step)" >&2; exit 1; }
export PATH="$VENV/bin:$PATH" ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keysmith-release.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
INSTALL="$WORK/collections"
declare -a SUMMARY=()
FAILED=0

say() { printf '\n--> release: %s\n' "$*"; }
ok() { SUMMARY+=("ok    $*"); printf 'ok: %s\n' "$*"; }
bad() { SUMMARY+=("FAIL  $*"); printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }
skipped() { case " ${RELEASE_SKIP:-} " in *" $1 "*) SUMMARY+=("skip  $1 (RELEASE_SKIP)"); return 0 ;; esac; return 1; }
timer() { date +%s; }

# ------------------------------------------------------------------ 1. execution environment
check_ee() {
    say "meta/execution-environment.yml (ansible-builder v3)"
    local out
    if out="$("$VPY" - "$TARBALL" <<'EOF'
import sys, tarfile, yaml
with open('meta/execution-environment.yml') as f:
    ee = yaml.safe_load(f)
errors = []
if not isinstance(ee, dict) or ee.get('version') != 3:
    errors.append('version must be 3')
deps = (ee or {}).get('dependencies') or {}
names = set(tarfile.open(sys.argv[1]).getnames())
for kind in ('python', 'system'):
    path = deps.get(kind)
    if not isinstance(path, str):
        errors.append('dependencies.%s must name a file' % kind)
    elif path not in names:
        errors.append('dependencies.%s: %s is not in the tarball (build_ignore?)' % (kind, path))
if 'meta/execution-environment.yml' not in names:
    errors.append('meta/execution-environment.yml is not in the tarball')
print('; '.join(errors) if errors else 'python=%s system=%s' % (deps['python'], deps['system']))
sys.exit(1 if errors else 0)
EOF
)"; then ok "execution environment: $out, both in the tarball"; else bad "execution environment: $out"; fi
}

# ------------------------------------------------------------------ 2. install
check_install() {
    say "ansible-galaxy collection install -p $INSTALL $(basename "$TARBALL")"
    mkdir -p "$INSTALL"
    # only the empty directory is a collections path: a copy installed elsewhere
    # (~/.ansible/collections) must neither satisfy nor shadow the install
    if ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-galaxy collection install -p "$INSTALL" "$TARBALL" \
        && [ -f "$INSTALL/ansible_collections/keysmith/accounts/MANIFEST.json" ]; then
        ok "tarball installs into an empty collections path"
    else
        bad "tarball does not install into an empty collections path"
        return 1
    fi
}

# ------------------------------------------------------------------ 3. ansible-doc
check_doc() {
    say "ansible-doc -l keysmith.accounts and each plugin / role"
    local want got m err n=0 roles=0
    want="$(find plugins/modules -maxdepth 1 -name '*.py' ! -name '__init__.py' -printf '%f\n' | sed 's/\.py$//' | sort)"
    got="$(ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-doc -l -j keysmith.accounts \
        | "$VPY" -c 'import json, sys; print("\n".join(sorted(k.rsplit(".", 1)[1] for k in json.load(sys.stdin))))')"
    if [ "$want" = "$got" ]; then
        ok "ansible-doc -l lists the $(echo "$want" | wc -l) modules of plugins/modules/"
    else
        bad "ansible-doc -l differs from plugins/modules/ (< files, > listed): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
    fi
    for m in $want; do
        err="$WORK/doc-$m.err"
        if ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-doc "keysmith.accounts.$m" >"$WORK/doc-$m.out" 2>"$err" \
            && [ -s "$WORK/doc-$m.out" ] && ! grep -qE '\[(WARNING|ERROR)\]' "$err" \
            && ! grep -q 'UNKNOWN' "$WORK/doc-$m.out"; then
            n=$((n + 1))
        else
            bad "ansible-doc keysmith.accounts.$m does not render cleanly: $(head -c 400 "$err") $(grep -m1 UNKNOWN "$WORK/doc-$m.out")"
        fi
    done
    if [ "$n" -eq "$(echo "$want" | wc -l)" ]; then ok "ansible-doc renders all $n modules"; fi
    for m in $(find roles -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort); do
        [ -f "roles/$m/meta/argument_specs.yml" ] || { bad "role $m has no meta/argument_specs.yml"; continue; }
        if ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-doc -t role "keysmith.accounts.$m" >"$WORK/role-$m.out" 2>"$WORK/role-$m.err" \
            && [ -s "$WORK/role-$m.out" ] && ! grep -qE '\[(WARNING|ERROR)\]' "$WORK/role-$m.err"; then
            roles=$((roles + 1))
        else
            bad "ansible-doc -t role keysmith.accounts.$m does not render: $(head -c 400 "$WORK/role-$m.err")"
        fi
    done
    ok "ansible-doc -t role renders $roles roles"
    return 0
}

# ------------------------------------------------------------------ 4. playbooks by name
check_syntax() {
    say "ansible-playbook --syntax-check keysmith.accounts.<playbook>"
    local p name n=0
    for p in playbooks/*.yml; do
        name="$(basename "$p" .yml)"
        if (cd "$WORK" && ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-playbook -i "localhost," --syntax-check \
                "keysmith.accounts.$name" >"$WORK/syntax-$name.log" 2>&1); then
            n=$((n + 1))
        else
            bad "ansible-playbook --syntax-check keysmith.accounts.$name: $(tail -c 400 "$WORK/syntax-$name.log")"
        fi
    done
    ok "$n playbooks pass --syntax-check from the installed collection"
    return 0
}

# ------------------------------------------------------------------ 5. ansible-lint
check_lint() {
    say "ansible-lint --profile production roles/ playbooks/"
    if ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-lint --offline --nocolor --profile production roles/ playbooks/; then
        ok "ansible-lint production profile passes on roles/ and playbooks/"
    else
        bad "ansible-lint production profile reports violations (listed above)"
    fi
}

# ------------------------------------------------------------------ 6. links
check_links() {
    say "relative links in README.md and docs/"
    local out
    if out="$("$VPY" - <<'EOF'
import glob, os, re, sys
files = ['README.md'] + sorted(glob.glob('docs/**/*.md', recursive=True))
link = re.compile(r'\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
bad, count = [], 0
for path in files:
    with open(path) as f:
        text = re.sub(r'```.*?```', '', f.read(), flags=re.S)
    for target in link.findall(text):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target) or target.startswith('#'):
            continue
        count += 1
        dest = os.path.normpath(os.path.join(os.path.dirname(path), target.split('#')[0]))
        if not os.path.exists(dest):
            bad.append('%s -> %s' % (path, target))
if not os.path.isdir('docs'):
    bad.append('docs/ does not exist')
print(('broken: ' + ', '.join(bad)) if bad else '%d relative links in %d files' % (count, len(files)))
sys.exit(1 if bad else 0)
EOF
)"; then ok "docs links: $out resolve"; else bad "docs links: $out"; fi
}

# ------------------------------------------------------------------ 7. generated module pages
check_docgen() {
    say "docs/modules/*.md against the modules' documentation"
    local -a mode=(--check)
    [ "${RELEASE_WRITE_DOCS:-0}" = 1 ] && mode=()
    if "$VPY" tests/scripts/gen_module_docs.py --collections-path "$INSTALL" "${mode[@]}"; then
        ok "docs/modules/ matches the modules' documentation"
    else
        bad "docs/modules/ is out of date: make docs"
    fi
}

# ------------------------------------------------------------------ 8. quick start
check_quickstart() {
    say "docs/quickstart.md: the first playbook, as written"
    local pb="$WORK/quickstart/first_keys.yml" log="$WORK/quickstart.log" home="$WORK/quickstart-home"
    mkdir -p "$WORK/quickstart"
    # the YAML block after the <!-- quickstart-playbook --> marker
    "$VPY" - "$pb" <<'EOF'
import re, sys
text = open('docs/quickstart.md').read()
m = re.search(r'<!-- quickstart-playbook -->\s*```yaml\n(.*?)```', text, re.S)
if not m:
    sys.exit('docs/quickstart.md has no ```yaml block after <!-- quickstart-playbook -->')
open(sys.argv[1], 'w').write(m.group(1))
EOF
    # the three commands of section 3, as written (run where the playbook is), plus the scratch home
    local -a cmds=()
    mapfile -t cmds < <(sed -n 's/^\(ansible-playbook [^#]*first_keys\.yml[^#]*\)\(#.*\)\{0,1\}$/\1/p' docs/quickstart.md)
    [ ${#cmds[@]} -eq 3 ] || bad "docs/quickstart.md: expected 3 ansible-playbook commands for first_keys.yml, found ${#cmds[@]}"
    run_qs() { (cd "$WORK/quickstart" && PATH="$(dirname "$VPY"):$PATH" ANSIBLE_COLLECTIONS_PATH="$INSTALL" \
                 bash -c "$1 -e keys_home=$home"); }
    if run_qs "${cmds[0]}" >"$log" 2>&1 \
        && [ ! -e "$home/alice/.ssh/id_ed25519" ] \
        && run_qs "${cmds[1]}" >>"$log" 2>&1 \
        && [ -s "$home/alice/.ssh/id_ed25519.pub" ] \
        && run_qs "${cmds[2]}" >"$log.2" 2>&1 \
        && grep -qE 'changed=0 .*failed=0' "$log.2" \
        && ! grep -h '\[WARNING\]' "$log" "$log.2"; then
        ok "quick start commands as written: check mode writes nothing, the run makes the key, a rerun changes nothing, no warning"
    else
        cat "$log" "$log.2" 2>/dev/null | tail -40
        bad "quick start playbook of docs/quickstart.md does not run as written"
    fi
}

# ------------------------------------------------------------------ 9. runnable examples
check_examples() {
    say "the \"try it\" playbooks of docs/ (<!-- runnable-example -->)"
    local n=0 f name
    mkdir -p "$WORK/examples"
    "$VPY" - "$WORK/examples" <<'EOF'
import glob, os, re, sys
for path in sorted(glob.glob('docs/**/*.md', recursive=True)):
    blocks = re.findall(r'<!-- runnable-example -->\s*```yaml\n(.*?)```', open(path).read(), re.S)
    for i, block in enumerate(blocks):
        name = path[len('docs/'):-3].replace('/', '_') + ('_%d' % i if i else '')
        open(os.path.join(sys.argv[1], name + '.yml'), 'w').write(block)
EOF
    # the examples are independent (each has its own docs_home): run them side by side
    for f in "$WORK"/examples/*.yml; do
        [ -e "$f" ] || continue
        name="$(basename "$f" .yml)"
        ( cd "$WORK/examples" && rc=0 && ANSIBLE_COLLECTIONS_PATH="$INSTALL" ansible-playbook -i "localhost," -c local \
              -e "ansible_python_interpreter=$VPY" -e "docs_home=$WORK/docs-home/$name" --diff "$f" \
              >"$WORK/examples/$name.log" 2>&1 || rc=$?; echo "$rc" >"$WORK/examples/$name.rc" ) &
    done
    wait
    for f in "$WORK"/examples/*.yml; do
        [ -e "$f" ] || continue
        name="$(basename "$f" .yml)"
        if [ "$(cat "$WORK/examples/$name.rc" 2>/dev/null)" = 0 ]; then
            n=$((n + 1))
        else
            tail -25 "$WORK/examples/$name.log"
            bad "docs example $name fails (log above)"
        fi
    done
    ok "$n runnable examples of docs/ run"
    return 0
}

# ------------------------------------------------------------------ 10. AWX
check_awx() {
    say "tests/awx/run_awx_job.py: playbooks/awx_ssh_key.yml through ansible-runner"
    if "$VPY" tests/awx/run_awx_job.py --collections-path "$INSTALL" --python "$VPY"; then
        ok "AWX-style ansible-runner jobs (check, valid, rerun changed=0, bad extra var) behave"
    else
        bad "AWX-style ansible-runner jobs (see above)"
    fi
}

# ------------------------------------------------------------------ 11. antsibull-docs lint
check_antsibull() {
    say "antsibull-docs lint-collection-docs --plugin-docs (installed collection)"
    if ! command -v antsibull-docs >/dev/null; then
        bad "antsibull-docs is not installed (requirements-test.txt; make venv)"
        return 0
    fi
    if (cd "$INSTALL/ansible_collections/keysmith/accounts" && ANSIBLE_COLLECTIONS_PATH="$INSTALL" \
            antsibull-docs lint-collection-docs --plugin-docs .); then
        ok "antsibull-docs lint-collection-docs --plugin-docs passes"
    else
        bad "antsibull-docs lint-collection-docs reports problems (listed above)"
    fi
}

run_check() {  # run_check NAME: run check_NAME unless skipped; a crash is a failure
    skipped "$1" && return 0
    "check_$1" || bad "$1: check did not complete"
}

start=$(timer)
[ -n "${RELEASE_ONLY:-}" ] || run_check ee
if check_install; then
    for c in ${RELEASE_ONLY:-doc syntax lint links docgen quickstart examples awx antsibull}; do run_check "$c"; done
fi
printf '\n==> release checks (%ss)\n' "$(( $(timer) - start ))"
printf '    %s\n' "${SUMMARY[@]}"
if [ "$FAILED" -ne 0 ]; then
    echo "release: FAILED ($(printf '%s\n' "${SUMMARY[@]}" | grep -c '^FAIL') of ${#SUMMARY[@]} checks)"
    exit 1
fi
echo "release: all ${#SUMMARY[@]} checks passed"
