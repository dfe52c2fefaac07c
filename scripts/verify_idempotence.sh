#!/usr/bin/env bash
# The idempotence gate: run each role's molecule scenario (`molecule test`:
# destroy, syntax, create, prepare, check, converge, idempotence, verify,
# destroy) on every managed-host release, with a callback that records every
# ansible run, and fail when the second converge reports any changed task.
# A job is one (scenario, distro) pair. See docs/idempotence-gate.md.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STABILITY_OPS_ROOT"

DEFAULT_SCENARIO_DIR=extensions/molecule
DEFAULT_BASELINE=docs/audit/idempotence-baseline.json

usage() {
    cat <<'EOF'
Usage: scripts/verify_idempotence.sh [options]

Runs `molecule test` for each selected scenario on each selected release, each
(scenario, distro) pair in its own container molecule-<scenario>-<distro>,
records every ansible run and fails when the second converge changes anything.

Options:
  --role NAME          run only this role's scenario (repeatable, or a comma
                       separated list); default: every core_* and security_*
                       scenario of extensions/molecule, or every scenario of
                       --scenario-dir when that is given
  --distro NAME        run on this release only (repeatable, or a comma
                       separated list); default: every one of
                       STABILITY_OPS_DISTROS (scripts/lib.sh)
  --scenario-dir DIR   where the scenarios are (DIR/<name>/molecule.yml);
                       default: extensions/molecule
  --jobs N             (scenario, distro) pairs run in parallel (default: 2)
  --timeout SECONDS    per pair limit for `molecule test` (default: 900)
  --report-dir DIR     where the reports go (default:
                       .cache/reports/idempotence/<UTC date>/<run id>/)
  --baseline FILE      baseline file (default: docs/audit/idempotence-baseline.json;
                       required with --scenario-dir for the two options below)
  --check-baseline     also fail when the run differs from the baseline
  --update-baseline    write the baseline from this run (only when all passed;
                       pairs not run keep their entry)
  --list               print the selected pairs (<scenario>@<distro>) and exit
  -h, --help           this help

Each release runs on its own image, stability-ops-test:<distro>-<content hash>
(scripts/build_test_image.sh builds it).

Exit status: 0 all passed, 1 a role failed or the baseline differs (or docker
or an image is missing), 2 usage error.
EOF
}

usage_error() {
    printf 'ERROR: %s\n\n' "$1" >&2
    usage >&2
    exit 2
}

roles=()
distros=()
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
        --distro) need_value "$@"; IFS=, read -ra more <<<"$2"; distros+=("${more[@]}"); shift 2 ;;
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

# Each name once, in the order given: two jobs of one pair would share a container.
unique() {
    local -A seen=()
    local item
    for item in "$@"; do
        [[ -n "$item" && -z "${seen[$item]:-}" ]] || continue
        seen[$item]=1
        printf '%s\n' "$item"
    done
}

distro_selection=explicit
if ((${#distros[@]})); then
    for distro in "${distros[@]}"; do
        [[ " ${STABILITY_OPS_DISTROS[*]} " == *" $distro "* ]] ||
            usage_error "unknown distribution '$distro' (known: ${STABILITY_OPS_DISTROS[*]})"
    done
    mapfile -t distros < <(unique "${distros[@]}")
else
    distros=("${STABILITY_OPS_DISTROS[@]}")
    distro_selection=default
fi

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
    mapfile -t roles < <(unique "${roles[@]}")
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

# The jobs: every selected scenario on every selected release.
pairs=()
for name in "${selected[@]}"; do
    for distro in "${distros[@]}"; do pairs+=("$name@$distro"); done
done

if ((list_only)); then
    printf '%s\n' "${pairs[@]}"
    exit 0
fi

# `docker version`, not `docker info`: info can hang while dockerd is busy.
timeout 30 docker version >/dev/null 2>&1 || die "docker is not answering (scripts/setup.sh starts it)"
# One image per release for the whole run: the content-hash tag of its
# current package list, never an older build. Its id goes into every report.
declare -A image_of=()
missing=()
for distro in "${distros[@]}"; do
    image_of[$distro]="$(image_ref "$distro")"
    timeout 60 docker image inspect "${image_of[$distro]}" >/dev/null 2>&1 || missing+=("$distro")
done
for distro in "${missing[@]}"; do
    printf 'ERROR: test image %s for %s not found (run scripts/build_test_image.sh %s)\n' \
        "${image_of[$distro]}" "$distro" "$distro" >&2
done
((${#missing[@]} == 0)) || exit 1
[[ -z "${STABILITY_OPS_TEST_IMAGE:-}" ]] ||
    log "STABILITY_OPS_TEST_IMAGE is ignored: the gate sets each release's own image"
ensure_collection_link

run_id="$(date -u +%H%M%SZ)-$$"
run_dir="${report_dir:-$STABILITY_OPS_CACHE/reports/idempotence/$(date -u +%F)/$run_id}"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
image_args=()
for distro in "${distros[@]}"; do image_args+=(--image "$distro=${image_of[$distro]}"); done
stability-ops-idempotence-report meta "${image_args[@]}" --output "$run_dir/meta.json"

# molecule finds the scenarios of --scenario-dir through MOLECULE_GLOB; the
# project directory stays the repository root, so the shared base config and
# the collection path apply to fixtures too. The recorder callback is added
# to whatever callbacks the caller enabled.
export MOLECULE_GLOB="$scenario_dir/*/molecule.yml"
export ANSIBLE_CALLBACK_PLUGINS="${ANSIBLE_CALLBACK_PLUGINS:+$ANSIBLE_CALLBACK_PLUGINS:}$STABILITY_OPS_ROOT/tools/stability_ops_dev/callback_plugins"
export ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+$ANSIBLE_CALLBACKS_ENABLED,}idempotence_recorder"
export ANSIBLE_DIFF_ALWAYS=true ANSIBLE_NOCOLOR=true NO_COLOR=1 PY_COLORS=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# What makes a molecule run one pair's: the release picks the container name
# (molecule-<scenario>-<distro>, base config) and the image; the pair has its
# own molecule state directory, so one scenario runs on two releases at once.
# `env` execs the command, so $! of a backgrounded run is molecule's timeout.
pair_env() {
    PAIR_ENV=(env "STABILITY_OPS_DISTRO=$2" "STABILITY_OPS_TEST_IMAGE=${image_of[$2]}"
        "MOLECULE_EPHEMERAL_DIRECTORY=$STABILITY_OPS_CACHE/molecule/$1-$2")
}

run_pair() {
    local name="$1" distro="$2" dir="$run_dir/$1/$2" start rc=0 attempt
    pair_env "$name" "$distro"
    mkdir -p "$dir/records"
    start="$(now)"
    log "$name@$distro: molecule test (log: ${dir#"$STABILITY_OPS_ROOT"/}/molecule.log)"
    for attempt in 1 2; do
        rc=0
        # A fresh container every time: molecule's destroy is asynchronous and
        # its create keeps a same-named container that still exists.
        timeout 120 docker rm -f "molecule-$name-$distro" >/dev/null 2>&1 || true
        "${PAIR_ENV[@]}" STABILITY_OPS_IDEMPOTENCE_RECORD_DIR="$dir/records" \
            timeout --kill-after=30 "$timeout_s" molecule test -s "$name" >"$dir/molecule.log" 2>&1 &
        echo $! >"$dir/pid"
        wait $! || rc=$?
        rm -f "$dir/pid"
        if ((rc == 124 || rc == 137)); then
            printf '\nidempotence gate: molecule test timed out after %ss; destroying\n' "$timeout_s" >>"$dir/molecule.log"
            "${PAIR_ENV[@]}" molecule destroy -s "$name" >>"$dir/molecule.log" 2>&1 || true
        fi
        # docker's own transient exec failure (runc setns) says nothing about
        # the role: run the pair once more, keeping the first log.
        if ((rc != 0 && attempt == 1)) && grep -q "OCI runtime exec failed" "$dir/molecule.log"; then
            log "$name@$distro: docker failed to exec into the container (transient runc error); running it again"
            mv "$dir/molecule.log" "$dir/molecule.attempt1.log"
            rm -rf "$dir/records" && mkdir -p "$dir/records"
            continue
        fi
        break
    done
    stability-ops-idempotence-report role --scenario "$name" --distro "$distro" --scenario-dir "$scenario_dir" \
        --records "$dir/records" --log "$dir/molecule.log" --molecule-rc "$rc" \
        --duration "$(elapsed "$start" "$(now)")" --meta "$run_dir/meta.json" --output "$dir/report.json" || true
}

# Ctrl-C or TERM: stop the jobs this script started and the molecule runs in
# them (each by its pid), then remove their containers.
interrupted() {
    trap - INT TERM
    log "interrupted: stopping the running pairs"
    local pid pidfile name distro
    # The jobs first, so that none reacts to its molecule run ending (retry, report).
    for pid in $(jobs -p); do kill -TERM "$pid" 2>/dev/null || true; done
    for pidfile in "$run_dir"/*/*/pid; do
        [[ -f "$pidfile" ]] || continue
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    for pidfile in "$run_dir"/*/*/pid; do
        [[ -f "$pidfile" ]] || continue
        # <run dir>/<scenario>/<distro>/pid
        distro="$(basename "$(dirname "$pidfile")")"
        name="$(basename "$(dirname "$(dirname "$pidfile")")")"
        pair_env "$name" "$distro"
        "${PAIR_ENV[@]}" molecule destroy -s "$name" >/dev/null 2>&1 || true
        rm -f "$pidfile"
    done
    exit 130
}
trap interrupted INT TERM

log "idempotence gate: ${#pairs[@]} pair(s) (${#selected[@]} scenario(s) from $scenario_dir on ${distros[*]}), $max_jobs in parallel"
for distro in "${distros[@]}"; do log "  $distro: image ${image_of[$distro]}"; done
started="$(now)"
for pair in "${pairs[@]}"; do
    while (($(jobs -rp | wc -l) >= max_jobs)); do wait -n || true; done
    run_pair "${pair%@*}" "${pair#*@}" &
done
wait || true

summary_args=(--run-dir "$run_dir" --meta "$run_dir/meta.json" --run-id "$run_id" --selection "$selection"
    --distro-selection "$distro_selection" --jobs "$max_jobs" --duration "$(elapsed "$started" "$(now)")" --baseline "$baseline")
((check_baseline)) && summary_args+=(--check-baseline)
((update_baseline)) && summary_args+=(--update-baseline)
stability-ops-idempotence-report summary "${summary_args[@]}"
