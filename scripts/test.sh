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

STAGES="${STABILITY_OPS_STAGES:-lint pytest molecule sanity controller_2_21}"
declare -A RESULT=() DURATION=()

cleanup_containers() {
    local scenario distro name names
    local -A ours=()
    # Only containers this repository's tests create: labs carry a label,
    # molecule platforms are named molecule-<scenario>-<distro>, one per
    # scenario and release (molecule-<scenario>: leftovers of runs from
    # before the releases had a container each).
    # The main job's lab ("stability-lab") is left alone.
    names="$(docker ps -a --filter label=stability-ops.lab \
        --format '{{.ID}} {{.Label "stability-ops.lab"}}' 2>/dev/null | awk '$2 != "stability-lab" {print $1}')"
    for scenario in extensions/molecule/*/molecule.yml tests/fixtures/*/molecule/*/molecule.yml; do
        [[ -f "$scenario" ]] || continue
        scenario="$(basename "$(dirname "$scenario")")"
        ours["molecule-$scenario"]=1
        for distro in "${STABILITY_OPS_DISTROS[@]}"; do ours["molecule-$scenario-$distro"]=1; done
    done
    for name in $(docker ps -a --format '{{.Names}}' 2>/dev/null); do
        [[ -z "${ours[$name]:-}" ]] || names+=" $name"
    done
    # shellcheck disable=SC2086
    [[ -z "${names// /}" ]] || docker rm -f $names >/dev/null 2>&1 || true
}

stage_lint() {
    yamllint --strict . &&
        scripts/enforce_style_guide.sh &&
        ansible-lint &&
        ruff check . &&
        stability-ops-role-vars --check roles/*/ &&
        stability-ops-build-docs --check &&
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
    local rc=0
    # The idempotence gate runs every core_*/security_* molecule scenario on
    # every release of STABILITY_OPS_DISTROS (check, converge, idempotence,
    # verify) and compares each (role, release) pair with the committed audit
    # baseline; health_check has a scenario of its own, on every release too.
    # Both run even when the first fails: one failure does not hide another.
    scripts/verify_idempotence.sh --jobs 2 --check-baseline || rc=1
    scripts/verify_idempotence.sh --jobs 2 --role health_check || rc=1
    return "$rc"
}

stage_sanity() {
    # All 24 ansible-test sanity tests, offline (scripts/sanity.sh), asserted
    # by a test that also proves nothing was downloaded.
    python -m pytest tests/integration/ecosystem/test_sanity.py -p no:cacheprovider
}

# A stage may leave one line for the summary instead of its status (the 2.21
# leg on a machine without Python 3.12+).
declare -A STAGE_NOTE=()

# One part of the 2.21 leg, timed: controller_2_21_part NAME COMMAND...
controller_2_21_part() {
    local name="$1" start=$SECONDS rc=0
    shift
    log "controller_2_21: $name"
    "$@" || rc=$?
    log "controller_2_21: $name $( ((rc == 0)) && echo passed || echo FAILED) in $((SECONDS - start))s"
    return "$rc"
}

stage_controller_2_21() {
    # The controller-side suite again under the second controller of the
    # matrix, ansible-core 2.21 on Python 3.12+ (.venv-2.21 from
    # scripts/controller_venv.sh): ansible-lint, the pytest suite (unit and
    # integration, the same selection as stage_pytest) and ansible-test sanity.
    # Its venv is first on PATH (every test finds ansible-playbook, sops and
    # the ansible modules through its own interpreter's venv) and it has its own
    # ANSIBLE_HOME and caches: the two controllers never share one.
    # shellcheck source=scripts/controller_venv.sh
    source "$STABILITY_OPS_ROOT/scripts/controller_venv.sh"
    ensure_controller_2_21_venv || {
        (($? == 3)) && STAGE_NOTE[controller_2_21]="$CONTROLLER_2_21_MISSING"
        return 1
    }
    (
        export STABILITY_OPS_VENV="$CONTROLLER_2_21_VENV"
        export PATH="$CONTROLLER_2_21_VENV/bin:$PATH"
        export ANSIBLE_HOME="$STABILITY_OPS_CACHE/ansible-home-2.21" XDG_CACHE_HOME="$STABILITY_OPS_CACHE/xdg-2.21"
        # The end-to-end lab deploys (docker and SSH) ran on every release under
        # 2.19; this controller repeats them on the default release only.
        export STABILITY_OPS_TEST_DISTROS="$STABILITY_OPS_DISTRO"
        mkdir -p "$ANSIBLE_HOME" "$XDG_CACHE_HOME"
        python -c 'import ansible.release, sys; print("controller:", sys.executable,
                   "ansible-core", ansible.release.__version__, "Python", sys.version.split()[0])'
        rc=0
        controller_2_21_part ansible-lint ansible-lint || rc=1
        controller_2_21_part pytest stage_pytest || rc=1
        controller_2_21_part sanity stage_sanity || rc=1
        exit "$rc"
    )
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
    if [[ -n "${STAGE_NOTE[$stage]:-}" ]]; then
        printf '  %-16s %s\n' "$stage" "${STAGE_NOTE[$stage]}"
    else
        printf '  %-16s %-7s %5ss\n' "$stage" "${RESULT[$stage]}" "${DURATION[$stage]}"
    fi
    [[ "${RESULT[$stage]}" == passed ]] || failed=$((failed + 1))
done
total=$(wc -w <<<"$STAGES")
echo "test.sh result: $((total - failed)) of $total stages green"
((failed == 0))
