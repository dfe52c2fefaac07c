#!/usr/bin/env bash
# The idempotence gate: run each role's molecule scenario (`molecule test`:
# destroy, syntax, create, prepare, check, converge, idempotence, verify,
# destroy) with a callback that records every ansible run, and fail when the
# second converge reports any changed task. See docs/idempotence-gate.md.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STABILITY_OPS_ROOT"

DEFAULT_SCENARIO_DIR=extensions/molecule
DEFAULT_BASELINE=docs/audit/idempotence-baseline.json

usage() {
    cat <<'EOF'
Usage: scripts/verify_idempotence.sh [options]

Runs `molecule test` for each selected scenario, each in its own container,
records every ansible run and fails when the second converge changes anything.

Options:
  --role NAME          run only this role's scenario (repeatable, or a comma
                       separated list); default: every core_* and security_*
                       scenario of extensions/molecule, or every scenario of
                       --scenario-dir when that is given
  --scenario-dir DIR   where the scenarios are (DIR/<name>/molecule.yml);
                       default: extensions/molecule
  --jobs N             scenarios run in parallel (default: 2)
  --timeout SECONDS    per scenario limit for `molecule test` (default: 900)
  --report-dir DIR     where the reports go (default:
                       .cache/reports/idempotence/<UTC date>/<run id>/)
  --baseline FILE      baseline file (default: docs/audit/idempotence-baseline.json;
                       required with --scenario-dir for the two options below)
  --check-baseline     also fail when the run differs from the baseline
  --update-baseline    write the baseline from this run (only when all passed;
                       roles not run keep their entry)
  --list               print the selected scenarios and exit
  -h, --help           this help

Exit status: 0 all passed, 1 a role failed or the baseline differs, 2 usage error.
EOF
}

usage_error() {
    printf 'ERROR: %s\n\n' "$1" >&2
    usage >&2
    exit 2
}

roles=()
scenario_dir=""
max_jobs=2
timeout_s=900
report_dir=""
baseline=""
check_baseline=0
update_baseline=0
list_only=0

need_value() { [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --role) need_value "$@"; IFS=, read -ra more <<<"$2"; roles+=("${more[@]}"); shift 2 ;;
        --scenario-dir) need_value "$@"; scenario_dir="${2%/}"; shift 2 ;;
        --jobs) need_value "$@"; max_jobs="$2"; shift 2 ;;
        --timeout) need_value "$@"; timeout_s="$2"; shift 2 ;;
        --report-dir) need_value "$@"; report_dir="$2"; shift 2 ;;
        --baseline) need_value "$@"; baseline="$2"; shift 2 ;;
        --check-baseline) check_baseline=1; shift ;;
        --update-baseline) update_baseline=1; shift ;;
        --list) list_only=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

[[ "$max_jobs" =~ ^[1-9][0-9]*$ ]] || usage_error "--jobs must be a positive integer, got '$max_jobs'"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be a positive integer, got '$timeout_s'"
if [[ -n "$scenario_dir" && -z "$baseline" ]] && ((check_baseline || update_baseline)); then
    usage_error "--check-baseline/--update-baseline with --scenario-dir need an explicit --baseline FILE"
fi
baseline="${baseline:-$DEFAULT_BASELINE}"
selection=explicit
if [[ -z "$scenario_dir" ]]; then
    scenario_dir="$DEFAULT_SCENARIO_DIR"
    ((${#roles[@]})) || selection=default
fi
[[ -d "$scenario_dir" ]] || usage_error "no such scenario directory: $scenario_dir"

# Scenarios are discovered, never listed here: one directory with a
# molecule.yml per scenario, named like the role it tests.
available=()
for file in "$scenario_dir"/*/molecule.yml; do
    [[ -f "$file" ]] || continue
    available+=("$(basename "$(dirname "$file")")")
done
selected=()
if ((${#roles[@]})); then
    for role in "${roles[@]}"; do
        [[ -f "$scenario_dir/$role/molecule.yml" ]] ||
            usage_error "no scenario for role '$role' in $scenario_dir (available: ${available[*]:-none})"
        selected+=("$role")
    done
elif [[ "$selection" == default ]]; then
    for name in "${available[@]}"; do
        [[ "$name" == core_* || "$name" == security_* ]] && selected+=("$name")
    done
else
    selected=("${available[@]}")
fi
((${#selected[@]})) || usage_error "no scenario selected in $scenario_dir"

if ((list_only)); then
    printf '%s\n' "${selected[@]}"
    exit 0
fi

# `docker version`, not `docker info`: info can hang while dockerd is busy.
timeout 30 docker version >/dev/null 2>&1 || die "docker is not answering (scripts/setup.sh starts it)"
# One image for the whole run: the content-hash tag of the current package
# list when it is built, else :latest. Its id goes into every report.
if [[ -z "${STABILITY_OPS_TEST_IMAGE:-}" ]]; then
    STABILITY_OPS_TEST_IMAGE="$(image_ref)"
    timeout 60 docker image inspect "$STABILITY_OPS_TEST_IMAGE" >/dev/null 2>&1 ||
        STABILITY_OPS_TEST_IMAGE="$STABILITY_OPS_IMAGE_REPO:latest"
fi
export STABILITY_OPS_TEST_IMAGE
timeout 60 docker image inspect "$STABILITY_OPS_TEST_IMAGE" >/dev/null 2>&1 ||
    die "test image $STABILITY_OPS_TEST_IMAGE not found (run scripts/build_test_image.sh)"
ensure_collection_link

run_id="$(date -u +%H%M%SZ)-$$"
run_dir="${report_dir:-$STABILITY_OPS_CACHE/reports/idempotence/$(date -u +%F)/$run_id}"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
python3 scripts/idempotence_report.py meta --image "$STABILITY_OPS_TEST_IMAGE" --output "$run_dir/meta.json"

# molecule finds the scenarios of --scenario-dir through MOLECULE_GLOB; the
# project directory stays the repository root, so the shared base config and
# the collection path apply to fixtures too. The recorder callback is added
# to whatever callbacks the caller enabled.
export MOLECULE_GLOB="$scenario_dir/*/molecule.yml"
export ANSIBLE_CALLBACK_PLUGINS="${ANSIBLE_CALLBACK_PLUGINS:+$ANSIBLE_CALLBACK_PLUGINS:}$STABILITY_OPS_ROOT/scripts/callback_plugins"
export ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+$ANSIBLE_CALLBACKS_ENABLED,}idempotence_recorder"
export ANSIBLE_DIFF_ALWAYS=true ANSIBLE_NOCOLOR=true NO_COLOR=1 PY_COLORS=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

run_scenario() {
    local name="$1" dir="$run_dir/$1" start rc=0
    mkdir -p "$dir/records"
    start="$(now)"
    log "$name: molecule test (log: ${dir#"$STABILITY_OPS_ROOT"/}/molecule.log)"
    local attempt
    for attempt in 1 2; do
        rc=0
        # A fresh container every time: molecule's destroy is asynchronous and
        # its create keeps a same-named container that still exists.
        timeout 120 docker rm -f "molecule-$name" >/dev/null 2>&1 || true
        STABILITY_OPS_IDEMPOTENCE_RECORD_DIR="$dir/records" \
            timeout --kill-after=30 "$timeout_s" molecule test -s "$name" >"$dir/molecule.log" 2>&1 &
        echo $! >"$dir/pid"
        wait $! || rc=$?
        rm -f "$dir/pid"
        if ((rc == 124 || rc == 137)); then
            printf '\nidempotence gate: molecule test timed out after %ss; destroying\n' "$timeout_s" >>"$dir/molecule.log"
            molecule destroy -s "$name" >>"$dir/molecule.log" 2>&1 || true
        fi
        # docker's own transient exec failure (runc setns) says nothing about
        # the role: run the scenario once more, keeping the first log.
        if ((rc != 0 && attempt == 1)) && grep -q "OCI runtime exec failed" "$dir/molecule.log"; then
            log "$name: docker failed to exec into the container (transient runc error); running it again"
            mv "$dir/molecule.log" "$dir/molecule.attempt1.log"
            rm -rf "$dir/records" && mkdir -p "$dir/records"
            continue
        fi
        break
    done
    python3 scripts/idempotence_report.py role --scenario "$name" --scenario-dir "$scenario_dir" \
        --records "$dir/records" --log "$dir/molecule.log" --molecule-rc "$rc" \
        --duration "$(elapsed "$start" "$(now)")" --meta "$run_dir/meta.json" --output "$dir/report.json" || true
}

# Ctrl-C or TERM: stop the molecule runs this script started (by their pid)
# and remove their containers.
interrupted() {
    trap - INT TERM
    log "interrupted: stopping the running scenarios"
    local pidfile
    for pidfile in "$run_dir"/*/pid; do
        [[ -f "$pidfile" ]] || continue
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
        molecule destroy -s "$(basename "$(dirname "$pidfile")")" >/dev/null 2>&1 || true
    done
    exit 130
}
trap interrupted INT TERM

log "idempotence gate: ${#selected[@]} scenario(s) from $scenario_dir, $max_jobs in parallel, image $STABILITY_OPS_TEST_IMAGE"
started="$(now)"
for name in "${selected[@]}"; do
    while (($(jobs -rp | wc -l) >= max_jobs)); do wait -n || true; done
    run_scenario "$name" &
done
wait || true

summary_args=(--run-dir "$run_dir" --meta "$run_dir/meta.json" --run-id "$run_id" --selection "$selection"
    --jobs "$max_jobs" --duration "$(elapsed "$started" "$(now)")" --baseline "$baseline")
((check_baseline)) && summary_args+=(--check-baseline)
((update_baseline)) && summary_args+=(--update-baseline)
python3 scripts/idempotence_report.py summary "${summary_args[@]}"
