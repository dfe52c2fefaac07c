#!/usr/bin/env bash
# The main job: set-up if needed, start the local lab of systemd containers,
# run the preflight assertions and playbooks/production_deploy.yml against it,
# and print the Deployment Health Summary.
#
#   scripts/main.sh            3 lab hosts (STABILITY_OPS_LAB_HOSTS to change)
#   scripts/main.sh --check    the same run in check mode (changes nothing)
#
# STABILITY_OPS_LAB_DISTRO=debian12 runs the lab on Debian 12 (default
# debian13); STABILITY_OPS_LAB_CONNECTION=ssh deploys over SSH as the lab's
# admin with sudo, after the one bootstrap run as root (scripts/lab.sh).
#
# The lab stays up afterwards for inspection; remove it with
# `scripts/lab.sh down`. Extra arguments go to ansible-playbook.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$STABILITY_OPS_ROOT"

"$STABILITY_OPS_ROOT/scripts/setup.sh"
ensure_collection_link
scripts/lab.sh up "${STABILITY_OPS_LAB_HOSTS:-3}"
inventory="$(scripts/lab.sh inventory)"
# The lab's secrets: an age key outside the repository, .sops.yaml and a
# SOPS-encrypted group_vars file; exports SOPS_AGE_KEY_FILE for the vars plugin.
eval "$(scripts/lab_secrets.sh)"
# Over SSH the admin must exist first: core_users once as root, as a user would.
[[ "${STABILITY_OPS_LAB_CONNECTION:-docker}" != ssh ]] || scripts/lab.sh bootstrap

reports="$STABILITY_OPS_CACHE/reports"
mkdir -p "$reports"
log_file="$reports/production_deploy.log"
summary="$reports/health_summary.json"
# The placeholder first (status running, this run's STABILITY_OPS_RUN_ID): a
# run that stops before ansible loads callbacks, or is killed, never leaves
# the previous run's summary behind.
health_summary_placeholder "$summary"
log "running playbooks/production_deploy.yml against the lab (log: $log_file, run id: $STABILITY_OPS_RUN_ID)"
set +e
# The lab is small: deploy it in one batch (a fleet keeps the default canary
# host first, then 25% batches).
ansible-playbook -i "$inventory" playbooks/production_deploy.yml \
    -e '{"stability_ops_serial": "100%"}' "$@" 2>&1 | tee "$log_file"
rc=${PIPESTATUS[0]}
set -e

python - "$summary" "$STABILITY_OPS_ROOT/docs/schemas/health_summary.schema.json" "$STABILITY_OPS_RUN_ID" "$rc" \
    <<'PY' || rc=1
import json, sys
import jsonschema
summary = json.load(open(sys.argv[1]))
jsonschema.validate(summary, json.load(open(sys.argv[2])), format_checker=jsonschema.FormatChecker())
status, reason = summary["status"], summary.get("reason", "")
if summary["run"]["id"] != sys.argv[3]:
    sys.exit(f"Deployment Health Summary: run id {summary['run']['id']!r} is not this run's ({sys.argv[3]!r})")
print(f"Deployment Health Summary: {status} ({reason}), valid against the schema")
if status in ("running", "interrupted"):
    sys.exit(f"ansible-playbook (rc {sys.argv[4]}) did not finish the run: {status}")
PY
log "health summary: $summary (how to read it: docs/health-summary.md)"
log "deploy log: $log_file"
log "lab inventory: $inventory (remove the lab with: scripts/lab.sh down)"
exit "$rc"
