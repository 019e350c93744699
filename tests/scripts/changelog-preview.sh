#!/usr/bin/env bash
# Changelog preview of keysmith.accounts, run by `tests/scripts/run-tests.sh changelog`
# after `antsibull-changelog lint`:
#
#   tests/scripts/changelog-preview.sh [OUTPUT_DIR]
#
# antsibull-changelog writes CHANGELOG.md only for released versions ("Cannot create
# changelog when not at least one release has been added"), and a release consumes the
# fragments.  So the release of the version in galaxy.yml is made in a scratch copy
# (ansible_collections/keysmith/accounts with galaxy.yml, changelogs/, plugins/, meta/),
# never in the checkout, and checked:
#   - `antsibull-changelog release` succeeds and consumes every fragment;
#   - changelogs/changelog.yaml of the copy holds every entry of every fragment;
#   - the generated CHANGELOG.md lists every module of plugins/modules/ as a new module
#     (for a first release) and has no Ansible markup (C(), O(), V(): fragments are
#     RST, write ``literal``) left in it.
# The preview is left in OUTPUT_DIR (default tests/output/changelog/CHANGELOG.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
OUT="${1:-$ROOT/tests/output/changelog}"
export PATH="$VENV/bin:$PATH"

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/keysmith-changelog.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
COPY="$SCRATCH/ansible_collections/keysmith/accounts"
mkdir -p "$COPY"
cp -a galaxy.yml changelogs plugins meta README.md "$COPY/"
find "$COPY" -name __pycache__ -type d -prune -exec rm -rf {} +

VERSION="$("$VENV/bin/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
RELEASED="$("$VENV/bin/python" -c 'import yaml, sys; print(" ".join((yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") or {}))')"
case " $RELEASED " in
    *" $VERSION "*) echo "changelog preview: $VERSION is already released (changelogs/changelog.yaml); nothing to preview"; exit 0 ;;
esac

echo "changelog preview: antsibull-changelog release --version $VERSION (in a scratch copy)"
(cd "$COPY" && ANSIBLE_COLLECTIONS_PATH="$SCRATCH" antsibull-changelog release --version "$VERSION")

"$VENV/bin/python" - "$ROOT" "$COPY" "$VERSION" <<'EOF'
import glob, os, re, sys
import yaml

root, copy, version = sys.argv[1:4]
errors = []
fragments = sorted(glob.glob(os.path.join(root, 'changelogs', 'fragments', '*.y*ml')))
left = [os.path.basename(p) for p in glob.glob(os.path.join(copy, 'changelogs', 'fragments', '*.y*ml'))]
if left:
    errors.append('fragments not consumed by the release: %s' % ', '.join(sorted(left)))

changes = yaml.safe_load(open(os.path.join(copy, 'changelogs', 'changelog.yaml')))['releases'][version].get('changes', {})
released = set()
for section, entries in changes.items():
    for entry in entries if isinstance(entries, list) else [entries]:
        released.add(' '.join(str(entry).split()))
config = yaml.safe_load(open(os.path.join(root, 'changelogs', 'config.yaml')))
trivial = config.get('trivial_section_name', 'trivial')
wanted = 0
for path in fragments:
    data = yaml.safe_load(open(path)) or {}
    for section, entries in data.items():
        if section == trivial:  # not in the release notes, by design
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            wanted += 1
            if ' '.join(str(entry).split()) not in released:
                errors.append('%s: entry of %s missing from the release: %.60s...'
                              % (os.path.basename(path), section, entry))
            if re.search(r'\b[CIOVMPEL]\([^)]*\)', str(entry)):
                errors.append('%s: Ansible markup such as C(...) or O(...) is not rendered in the changelog, '
                              'use ``literal``: %.60s...' % (os.path.basename(path), entry))

md = open(os.path.join(copy, 'CHANGELOG.md')).read()
modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(root, 'plugins', 'modules', '*.py'))
                 if not p.endswith('__init__.py'))
plain = md.replace('\\', '')
for module in modules:
    if 'keysmith.accounts.%s - ' % module not in plain:
        errors.append('CHANGELOG.md does not list module %s' % module)
if errors:
    print('changelog preview: FAILED\n  - ' + '\n  - '.join(errors))
    sys.exit(1)
print('changelog preview: %d fragments, %d entries, %d new modules in CHANGELOG.md of %s'
      % (len(fragments), wanted, len(modules), version))
EOF

mkdir -p "$OUT"
cp "$COPY/CHANGELOG.md" "$OUT/CHANGELOG.md"
echo "changelog preview: $OUT/CHANGELOG.md"
