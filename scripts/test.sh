#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up if needed, lint, pytest
# (unit + integration on real sops/age/vault/docker), the molecule idempotence
# gate for every role scenario, and the offline sanity/release checks.
#
#   scripts/test.sh              everything
#   STABILITY_OPS_STAGES="lint pytest" scripts/test.sh    only some stages
#
# Exit status: 0 when every stage passed, 1 otherwise. Containers started by
# the run are removed on exit, also on failure or Ctrl-C.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$STABILITY_OPS_ROOT" || exit 2

STAGES="${STABILITY_OPS_STAGES:-lint pytest molecule sanity}"
declare -A RESULT=() DURATION=()

cleanup_containers() {
    local scenario names
    # Only containers this repository's tests create: labs carry a label,
    # molecule platforms are named molecule-<scenario>.
    # The main job's lab ("stability-lab") is left alone.
    names="$(docker ps -a --filter label=stability-ops.lab \
        --format '{{.ID}} {{.Label "stability-ops.lab"}}' 2>/dev/null | awk '$2 != "stability-lab" {print $1}')"
    for scenario in extensions/molecule/*/molecule.yml tests/fixtures/*/molecule/*/molecule.yml; do
        [[ -f "$scenario" ]] || continue
        scenario="$(basename "$(dirname "$scenario")")"
        names+=" $(docker ps -aq --filter "name=^molecule-$scenario\$" 2>/dev/null)"
    done
    # shellcheck disable=SC2086
    [[ -z "${names// /}" ]] || docker rm -f $names >/dev/null 2>&1 || true
}

stage_lint() {
    yamllint --strict . &&
        scripts/enforce_style_guide.sh &&
        ansible-lint &&
        ruff check . &&
        python scripts/role_vars_table.py --check roles/*/ &&
        python scripts/build_docs.py --check &&
        antsibull-changelog lint
}

stage_pytest() {
    local rc
    # ansible-test sanity has a stage of its own.
    # A test is re-run once only when docker itself failed to exec into a
    # container (a transient runc error seen under load); any other failure
    # fails at once.
    # --dist loadfile: each module (and its lab or molecule fixture) stays on
    # one worker.
    python -m pytest tests/ -n 2 --dist loadfile -p no:cacheprovider \
        --ignore tests/integration/ecosystem/test_sanity.py \
        --reruns 1 --only-rerun "OCI runtime exec failed" --only-rerun "error executing setns process"
    rc=$?
    # pytest exits 5 when it collected no test: that is a failure here, a
    # suite that silently runs nothing must not pass.
    ((rc == 5)) && echo "pytest collected no tests" >&2
    return "$rc"
}

stage_molecule() {
    # The idempotence gate runs every core_*/security_* molecule scenario
    # (check, converge, idempotence, verify) and compares the result with the
    # committed audit baseline; health_check has a scenario of its own.
    scripts/verify_idempotence.sh --jobs 2 --check-baseline &&
        scripts/verify_idempotence.sh --role health_check
}

stage_sanity() {
    # All 24 ansible-test sanity tests, offline (scripts/sanity.sh), asserted
    # by a test that also proves nothing was downloaded.
    python -m pytest tests/integration/ecosystem/test_sanity.py -p no:cacheprovider
}

trap cleanup_containers EXIT
trap 'exit 130' INT TERM

"$STABILITY_OPS_ROOT/scripts/setup.sh" || die "set-up failed"
ensure_collection_link
# Leftovers of an interrupted earlier run would clash with fixed names.
cleanup_containers

for stage in $STAGES; do
    declare -F "stage_$stage" >/dev/null || die "unknown stage '$stage'"
    log "stage: $stage"
    start=$SECONDS
    if "stage_$stage"; then RESULT[$stage]=passed; else RESULT[$stage]=FAILED; fi
    DURATION[$stage]=$((SECONDS - start))
done

failed=0
log "summary"
for stage in $STAGES; do
    printf '  %-10s %-7s %5ss\n' "$stage" "${RESULT[$stage]}" "${DURATION[$stage]}"
    [[ "${RESULT[$stage]}" == passed ]] || failed=$((failed + 1))
done
total=$(wc -w <<<"$STAGES")
echo "test.sh result: $((total - failed)) of $total stages green"
((failed == 0))
