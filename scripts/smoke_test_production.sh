#!/usr/bin/env bash
# Smoke test of the production entrypoint in check mode.
#
#   scripts/smoke_test_production.sh [-i INVENTORY] [-- ANSIBLE-PLAYBOOK ARGS...]
#
# 1. snapshots every host's managed state (file digests under /etc and home
#    directories, unit enablement and activity, packages, nftables ruleset);
# 2. runs playbooks/production_deploy.yml --check --diff (its preflight
#    included) and fails on any failed task or unreachable host;
# 3. snapshots again and fails if anything on a host changed.
# The inventory defaults to the lab's (scripts/lab.sh up).
#
# Exit codes: 0 passed; 1 the check run failed or a host was unreachable;
# 2 usage error or the snapshot could not be taken; 3 a host changed.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$STABILITY_OPS_ROOT" || exit 2

inventory="$(scripts/lab.sh inventory)"
while (($#)); do
    case "$1" in
        -i | --inventory) inventory="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -f "$inventory" ]] || { echo "inventory not found: $inventory (start the lab: scripts/lab.sh up)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python scripts/host_state.py snapshot -i "$inventory" -o "$work/before.json" || exit 2
log "check-mode run of playbooks/production_deploy.yml"
ansible-playbook -i "$inventory" playbooks/production_deploy.yml --check --diff "$@" >"$work/check.log" 2>&1
playbook_rc=$?
python scripts/host_state.py snapshot -i "$inventory" -o "$work/after.json" || exit 2
python scripts/host_state.py compare "$work/before.json" "$work/after.json" >"$work/changes.txt"
changed_rc=$?

echo "== smoke test report =="
echo "inventory: $inventory"
sed -n '/^PLAY RECAP/,$p' "$work/check.log"
if ((playbook_rc != 0)); then
    echo "check run: FAILED (ansible-playbook exit $playbook_rc); failed tasks:"
    grep -E '^(fatal|failed):|UNREACHABLE|ERROR' "$work/check.log" | head -n 40
    exit 1
fi
echo "check run: ok"
if ((changed_rc != 0)); then
    echo "host state: CHANGED by a check-mode run:"
    cat "$work/changes.txt"
    exit 3
fi
echo "host state: unchanged"
