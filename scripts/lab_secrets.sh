#!/usr/bin/env bash
# Make the lab's secrets real, idempotently:
#   1. an age key outside the repository (generated at first run, mode 0600):
#      ${STABILITY_OPS_LAB_KEY_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/stability-ops/lab}/age-key.txt
#   2. inventories/lab/.sops.yaml from sops.yaml.template with that recipient
#   3. inventories/lab/group_vars/all/secrets.sops.yml, SOPS-encrypted, with the
#      keys of inventories/lab/required_secrets.yml (the collection playbook
#      stability.ops.add_placeholders, run from the repository root as a user runs it)
#   4. an SSH key pair for the lab's admin user (same directory), whose public
#      half core_users installs and security_sshd's lock-out guard looks for
# then check them with the secrets preflight rules.
#
# Prints the environment the playbooks need on stdout, so that
#   eval "$(scripts/lab_secrets.sh)"
# exports SOPS_AGE_KEY_FILE and STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE; with
# --json it prints them as one JSON object instead (for programs: tests, bench/).
# Logs go to stderr. The generated files are
# git-ignored; the key never enters the repository.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
    "") output=shell ;;
    --json) output=json ;;
    *) die "usage: scripts/lab_secrets.sh [--json]" ;;
esac

INVENTORY_DIR="$STABILITY_OPS_ROOT/inventories/lab"
KEY_DIR="${STABILITY_OPS_LAB_KEY_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/stability-ops/lab}"
KEY_FILE="$KEY_DIR/age-key.txt"
SOPS_CONFIG="$INVENTORY_DIR/.sops.yaml"
SECRETS_FILE="$INVENTORY_DIR/group_vars/all/secrets.sops.yml"

command -v age-keygen >/dev/null || die "age-keygen is missing: run scripts/setup.sh"
command -v sops >/dev/null || die "sops is missing: run scripts/setup.sh"
case "$(realpath -m "$KEY_DIR")/" in
    "$STABILITY_OPS_ROOT"/*) die "the age key directory must be outside the repository: $KEY_DIR" ;;
esac

umask 077
mkdir -p "$KEY_DIR"
chmod 0700 "$KEY_DIR"
if [[ ! -s "$KEY_FILE" ]]; then
    log "generating the lab age key in $KEY_DIR"
    age-keygen -o "$KEY_FILE" 2>/dev/null
fi
chmod 0600 "$KEY_FILE"
RECIPIENT="$(age-keygen -y "$KEY_FILE")"
ADMIN_KEY="$KEY_DIR/admin_ed25519"
if [[ ! -s "$ADMIN_KEY.pub" ]]; then
    log "generating the lab admin SSH key in $KEY_DIR"
    rm -f "$ADMIN_KEY"
    ssh-keygen -q -t ed25519 -N '' -C "stability-ops-lab-admin" -f "$ADMIN_KEY" >/dev/null
fi
export SOPS_AGE_KEY_FILE="$KEY_FILE"

wanted="$(sed "s/@AGE_RECIPIENTS@/$RECIPIENT/g" "$INVENTORY_DIR/sops.yaml.template")"
if [[ ! -f "$SOPS_CONFIG" ]] || [[ "$(cat "$SOPS_CONFIG")" != "$wanted" ]]; then
    log "writing $SOPS_CONFIG"
    printf '%s\n' "$wanted" >"$SOPS_CONFIG"
    chmod 0644 "$SOPS_CONFIG"
fi

# A lab secrets file from an older key cannot be read any more: it only holds
# generated lab values, so start it again rather than fail.
if [[ -f "$SECRETS_FILE" ]] && ! sops --config "$SOPS_CONFIG" --decrypt "$SECRETS_FILE" >/dev/null 2>&1; then
    log "the lab secrets file does not decrypt with the lab key: regenerating it"
    rm -f "$SECRETS_FILE"
fi
ensure_collection_link
# Relative paths of the playbook are relative to the working directory. Its run
# writes its own health summary, not over the one of the last deployment.
(cd "$STABILITY_OPS_ROOT" &&
    STABILITY_OPS_SUMMARY_PATH="$STABILITY_OPS_CACHE/reports/lab_secrets/health_summary.json" \
        ansible-playbook stability.ops.add_placeholders \
        -e stability_ops_secrets_spec=inventories/lab/required_secrets.yml \
        -e stability_ops_secrets_sops_config=inventories/lab/.sops.yaml) >&2 ||
    die "stability.ops.add_placeholders could not complete $SECRETS_FILE"
chmod 0644 "$SECRETS_FILE"

python3 - "$INVENTORY_DIR" "$KEY_FILE" >&2 <<'PY'
import sys
from pathlib import Path

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

root = Path(sys.argv[1]).resolve().parents[1]
# Import the working copy as the collection, through ansible's own collection loader.
_AnsibleCollectionFinder(paths=[str(root / ".collections")])._install()
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp

inventory = sys.argv[1]
report = sp.run(sp.Options(paths=sp.default_paths([inventory]), explicit_paths=False, base_dir=str(root),
                           tree_roots=[str(root), inventory], repository_root=str(root), decrypt=True,
                           age_key_file=sys.argv[2]))
print(report["msg"])
sys.exit(1 if report["failed"] else 0)
PY

if [[ "$output" == json ]]; then
    python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
        SOPS_AGE_KEY_FILE "$KEY_FILE" STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE "$ADMIN_KEY.pub"
else
    echo "export SOPS_AGE_KEY_FILE=$(printf '%q' "$KEY_FILE")"
    echo "export STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE=$(printf '%q' "$ADMIN_KEY.pub")"
fi
