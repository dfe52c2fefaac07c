#!/usr/bin/env bash
# Release check: build the collection tarball, prove nothing that must stay
# private or dev-only is in it, install it offline into an empty collections
# path and load every plugin's and role's documentation from there.
#
#   scripts/release_check.sh [SOURCE_DIR]
#
# SOURCE_DIR defaults to the repository root (it must hold galaxy.yml).
# STABILITY_OPS_RELEASE_DIR keeps the results (tarball, members.txt, the
# installed collection, ansible-doc output) in that directory; otherwise a
# temporary directory is used and removed.
#
# Exactly the commands a user runs (see docs/releasing.md):
#   ansible-galaxy collection build --force --output-path DIR SOURCE_DIR
#   ansible-galaxy collection install --offline DIR/stability-ops-X.Y.Z.tar.gz -p COLLECTIONS
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

SOURCE="$(cd "${1:-$STABILITY_OPS_ROOT}" && pwd)"
[[ -f "$SOURCE/galaxy.yml" ]] || die "$SOURCE has no galaxy.yml"
if [[ -n "${STABILITY_OPS_RELEASE_DIR:-}" ]]; then
    OUT="$STABILITY_OPS_RELEASE_DIR"
    rm -rf "$OUT"
    mkdir -p "$OUT"
else
    OUT="$(mktemp -d "${TMPDIR:-/tmp}/stability-ops-release.XXXXXX")"
    trap 'rm -rf "$OUT"' EXIT
fi
# Only the installed copy may be found: no repository ansible.cfg (it puts the
# working copy on the collections path), no inherited collections path.
# ansible also reads ./ansible.cfg, hence the cd.
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
cd "$OUT"
export ANSIBLE_HOME="$OUT/ansible-home"

failures=0
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

# 1. Build.
log "release: ansible-galaxy collection build $SOURCE"
ansible-galaxy collection build --force --output-path "$OUT/dist" "$SOURCE" >"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log" >&2; die "ansible-galaxy collection build failed"; }
mapfile -t tarballs < <(ls "$OUT"/dist/stability-ops-*.tar.gz)
((${#tarballs[@]} == 1)) || die "expected one tarball in $OUT/dist, found ${#tarballs[*]}"
TARBALL="${tarballs[0]}"
version="$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$SOURCE/galaxy.yml")"
[[ "$(basename "$TARBALL")" == "stability-ops-$version.tar.gz" ]] ||
    fail "tarball $(basename "$TARBALL") does not carry the galaxy.yml version $version"

# 2. Members: nothing dev-only, cached or secret.
tar -tzf "$TARBALL" | sed 's|^\./||' | sort >"$OUT/members.txt"
log "release: $(wc -l <"$OUT/members.txt") members in $(basename "$TARBALL")"
FORBIDDEN_MEMBERS=(
    '^tests(/|$)'                         # unit/integration tests, fixtures, sanity output
    '(^|/)\.(cache|venv|tox|git|collections|pytest_cache|ruff_cache|mypy_cache)(/|$)'
    '(^|/)__pycache__(/|$)' '\.py[co]$'
    '\.agekey$' '(^|/)age-key[^/]*\.txt$' '(^|/)keys\.txt$' '\.age$'
    '(^|/)\.vault_pass' '(^|/)vault[-_]pass[^/]*$'
    '(^|/)inventories/lab/hosts[^/]*\.yml$'  # generated lab inventories
    '\.tar\.gz$' '(^|/)(bench/results|tests/output)(/|$)'
)
for pattern in "${FORBIDDEN_MEMBERS[@]}"; do
    while IFS= read -r member; do
        fail "unwanted member in the tarball: $member (matches $pattern)"
    done < <(grep -E "$pattern" "$OUT/members.txt" || true)
done
# Only the product ships: the top-level entries of a collection users install.
# Development tooling (tools/, scripts/, bench/, the dev ansible.cfg and lab
# inventories, CI and lint configuration) is dev-only; so is anything new at
# the top level until it is added here on purpose.
SHIPPED_TOP_LEVEL='^(MANIFEST\.json|FILES\.json|README\.md|LICENSE|CHANGELOG\.md|execution-environment\.yml|(meta|plugins|roles|playbooks|docs|changelogs|extensions)(/.*)?)$'
while IFS= read -r member; do
    fail "dev-only or unexpected member in the tarball: $member (the shipped top level is: $SHIPPED_TOP_LEVEL)"
done < <(grep -vE "$SHIPPED_TOP_LEVEL" "$OUT/members.txt" || true)
# Dev tooling that once lived inside the shipped directories.
for pattern in '(^|/)idempotence_recorder\.py$' '^plugins/plugin_utils/idempotence\.py$' '^docs/(audit/|performance\.png$)'; do
    while IFS= read -r member; do
        fail "dev tooling in the tarball: $member (matches $pattern)"
    done < <(grep -E "$pattern" "$OUT/members.txt" || true)
done
for required in MANIFEST.json FILES.json README.md LICENSE CHANGELOG.md meta/runtime.yml changelogs/changelog.yaml; do
    grep -qxF "$required" "$OUT/members.txt" || fail "the tarball lacks $required"
done

# 3. Content: no age private key, no vault password file content.
mkdir -p "$OUT/extracted"
tar -xzf "$TARBALL" -C "$OUT/extracted"
# An age identity is AGE-SECRET-KEY-1 followed by 58 bech32 characters.
while IFS= read -r leak; do
    fail "age private key in the tarball: ${leak#"$OUT/extracted/"}"
done < <(grep -rlE 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}' "$OUT/extracted" || true)

# 4. Offline install into an empty collections path.
COLLECTIONS="$OUT/collections"
log "release: ansible-galaxy collection install --offline into an empty path"
ansible-galaxy collection install --offline "$TARBALL" -p "$COLLECTIONS" >"$OUT/install.log" 2>&1 ||
    { cat "$OUT/install.log" >&2; die "offline install failed"; }
INSTALLED="$COLLECTIONS/ansible_collections/stability/ops"
[[ -f "$INSTALLED/MANIFEST.json" ]] || die "the install did not create $INSTALLED/MANIFEST.json"

# 5. ansible-doc from the installed copy: every plugin and every role, found
# from the tarball's content (not from a list in this script).
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
ansible-doc --metadata-dump --no-fail-on-errors stability.ops >"$OUT/metadata.json" ||
    die "ansible-doc --metadata-dump failed on the installed collection"
python - "$OUT/metadata.json" "$INSTALLED" "$OUT/members.txt" >"$OUT/doc-targets.txt" <<'EOF' || fail "ansible-doc does not cover the tarball's content"
import json, re, sys
from stability_ops_dev.content import documented_plugins
dump = json.load(open(sys.argv[1]))["all"]
installed, members = sys.argv[2], open(sys.argv[3]).read().split()
ok = True
expected = set()
for member in members:
    expected.update(documented_plugins(member, lambda: open(f"{installed}/{member}", encoding="utf-8").read()))
    m = re.fullmatch(r"roles/(\w+)/meta/argument_specs\.yml", member)
    if m:
        expected.add(("role", "stability.ops." + m[1]))
for kind, name in sorted(expected):
    entry = dump.get(kind, {}).get(name)
    if entry is None or "error" in entry:
        print(f"ansible-doc cannot load {kind} {name}: {(entry or {}).get('error', 'not found')}", file=sys.stderr)
        ok = False
        continue
    filename = (entry.get("doc") or {}).get("filename") or installed
    if not filename.startswith(installed):
        print(f"{kind} {name} was loaded from {filename}, not from the installed copy", file=sys.stderr)
        ok = False
    print(kind, name)
sys.exit(0 if ok and expected else 1)
EOF
# The text output users read, per type (several names in one call).
mapfile -t kinds < <(cut -d' ' -f1 "$OUT/doc-targets.txt" | sort -u)
for kind in "${kinds[@]}"; do
    mapfile -t names < <(awk -v k="$kind" '$1 == k {print $2}' "$OUT/doc-targets.txt")
    ansible-doc -t "$kind" "${names[@]}" >"$OUT/ansible-doc-$kind.txt" 2>&1 ||
        fail "ansible-doc -t $kind ${names[*]} failed: $(tail -n 3 "$OUT/ansible-doc-$kind.txt")"
done

if ((failures)); then
    die "release check: $failures problem(s) in $(basename "$TARBALL")"
fi
log "release check passed: $(basename "$TARBALL"), $(wc -l <"$OUT/doc-targets.txt") plugins and roles documented from the offline install"
