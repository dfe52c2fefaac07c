#!/usr/bin/env bash
# Dev wrapper of the check-mode smoke test, against the lab by default.
#
#   scripts/smoke_test_production.sh [-i INVENTORY] [-- ANSIBLE-PLAYBOOK ARGS...]
#
# Runs the collection playbook users run from their repository
# (docs/smoke-test.md) with the working copy as the collection:
#   ansible-playbook -i INVENTORY stability.ops.smoke_test --check --diff
# It snapshots every production host, runs the production deploy in check
# mode (preflight included) and fails every host the check run changed.
# The playbook's output goes to stdout, then one verdict line.
# The inventory defaults to the lab's (scripts/lab.sh up).
#
# Exit codes: 0 passed; 1 the check run failed, a host was unreachable or a
# snapshot could not be taken; 2 usage error; 3 a host changed.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$STABILITY_OPS_ROOT" || exit 2

inventory="$(scripts/lab.sh inventory)"
while (($#)); do
    case "$1" in
        -i | --inventory) [[ $# -ge 2 ]] || { echo "$1 needs a path (see --help)" >&2; exit 2; }
            inventory="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -f "$inventory" ]] || { echo "inventory not found: $inventory (start the lab: scripts/lab.sh up)" >&2; exit 2; }
ensure_collection_link

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="$work/report.json"

# The report exists only when the playbook compared the snapshots.
ansible-playbook -i "$inventory" stability.ops.smoke_test --check --diff \
    -e "stability_ops_smoke_test_report=$report" "$@"
playbook_rc=$?
status="$([[ -f "$report" ]] && python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"])' "$report")"

if [[ "$status" == changed ]]; then
    echo "smoke test: FAILED, the check run changed a host (see the failed hosts above)"
    exit 3
fi
if ((playbook_rc != 0)) || [[ "$status" != passed ]]; then
    echo "smoke test: FAILED, the check run failed (ansible-playbook exit $playbook_rc)"
    exit 1
fi
echo "smoke test: passed, no host changed"
