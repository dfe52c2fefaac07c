# shellcheck shell=bash
# Shared settings for the project's shell scripts. Source it; do not run it.
# Every path is derived from the repository root so that a fresh clone works
# wherever it is checked out.

STABILITY_OPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STABILITY_OPS_ROOT
# Scratch space for the venv's caches, the image rootfs, the lab and reports.
export STABILITY_OPS_CACHE="${STABILITY_OPS_CACHE:-$STABILITY_OPS_ROOT/.cache}"
export STABILITY_OPS_VENV="${STABILITY_OPS_VENV:-$STABILITY_OPS_ROOT/.venv}"
export STABILITY_OPS_IMAGE_REPO="stability-ops-test"

# Keep ansible and molecule away from ~/.ansible: molecule's prerun would
# otherwise install the collection there.
export ANSIBLE_HOME="${ANSIBLE_HOME:-$STABILITY_OPS_CACHE/ansible-home}"
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$STABILITY_OPS_CACHE/xdg}"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$STABILITY_OPS_ROOT/ansible.cfg}"
export PATH="$STABILITY_OPS_VENV/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Managed-host releases the suite tests, each with its own systemd test image.
# STABILITY_OPS_DISTRO picks one for the lab and single molecule runs; the
# idempotence gate runs every one of them.
# shellcheck disable=SC2034  # read by the scripts that source this file
STABILITY_OPS_DISTROS=(debian12 debian13)
export STABILITY_OPS_DISTRO="${STABILITY_OPS_DISTRO:-debian13}"

# The Debian suite a distribution id is built from.
distro_suite() {
    case "$1" in
        debian12) echo bookworm ;;
        debian13) echo trixie ;;
        *) die "unknown distribution '$1' (known: ${STABILITY_OPS_DISTROS[*]})" ;;
    esac
}

# The packages of the image of distribution $1: the common list and the
# release's own additions, comments and blank lines left out.
image_packages() {
    local files=("$STABILITY_OPS_ROOT/tests/image/packages.txt")
    [[ -f "$STABILITY_OPS_ROOT/tests/image/packages-$1.txt" ]] &&
        files+=("$STABILITY_OPS_ROOT/tests/image/packages-$1.txt")
    grep -hv -E '^\s*(#|$)' "${files[@]}"
}

# The image tag is the distribution and a content hash of what goes into the
# image: its package list and the script that builds it. A change to either
# rebuilds the image.
image_tag() {
    local distro="${1:-$STABILITY_OPS_DISTRO}"
    distro_suite "$distro" >/dev/null
    printf '%s-%s' "$distro" \
        "$({ image_packages "$distro"; cat "$STABILITY_OPS_ROOT/scripts/build_test_image.sh"; } | sha256sum | cut -c1-12)"
}
image_ref() { printf '%s:%s' "$STABILITY_OPS_IMAGE_REPO" "$(image_tag "${1:-$STABILITY_OPS_DISTRO}")"; }

# `docker version` asks the daemon for little; bounded so a wedged daemon
# fails the check instead of hanging the caller.
docker_running() { timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Ansible finds collections only in an ansible_collections/<ns>/<name> tree;
# link the repository there so playbooks run against the working copy.
ensure_collection_link() {
    local dir="$STABILITY_OPS_ROOT/.collections/ansible_collections/stability"
    mkdir -p "$dir"
    [[ -L "$dir/ops" ]] || ln -sfn ../../.. "$dir/ops"
}

# Before ansible-playbook runs: replace the Deployment Health Summary at $1
# (and the JUnit report at STABILITY_OPS_SUMMARY_JUNIT_PATH, when set) with a
# placeholder, status "running", and export STABILITY_OPS_SUMMARY_PATH and
# STABILITY_OPS_RUN_ID (generated when unset) for the callback. A run that
# stops before ansible loads callbacks (syntax error, missing role, undefined
# variable in an import, --limit matching nothing) or is killed leaves this
# placeholder, never the previous run's "healthy". docs/health-summary.md.
health_summary_placeholder() {
    local path="${1:?usage: health_summary_placeholder SUMMARY_PATH}"
    STABILITY_OPS_RUN_ID="${STABILITY_OPS_RUN_ID:-$(python3 -c 'import uuid; print(uuid.uuid4())')}"
    export STABILITY_OPS_RUN_ID STABILITY_OPS_SUMMARY_PATH="$path"
    python3 - "$path" "${STABILITY_OPS_SUMMARY_JUNIT_PATH:-}" <<'PY'
import json, os, sys, tempfile, time
from xml.sax.saxutils import quoteattr
run_id, started = os.environ["STABILITY_OPS_RUN_ID"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
reason = ("ansible-playbook has not written its summary: still running after it exited means it stopped before "
          "loading callbacks (a syntax error, a missing role, an undefined variable in an import, a --limit "
          "matching nothing: see its output) or was killed")
documents = [(sys.argv[1], json.dumps({"schema_version": "2.0", "status": "running", "reason": reason,
                                       "run": {"id": run_id, "started_at": started}}, indent=2) + "\n")]
if sys.argv[2]:
    case = (f'<testcase classname="run" name="run finished" time="0.000"><failure message={quoteattr(reason)}/>'
            "</testcase>")
    documents.append((sys.argv[2], '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="deployment health '
                      'summary" tests="1" failures="1" errors="0" time="0.000"><testsuite name="run" tests="1" '
                      f'failures="1" errors="0" skipped="0" time="0.000">{case}</testsuite></testsuites>\n'))
for path, text in documents:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".health_summary.", suffix=".tmp", dir=directory)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)
PY
}

# Flags that let systemd run as PID 1 in a container on this kind of host
# (--privileged fails here: the host lacks CAP_SYS_RESOURCE). No network.
# shellcheck disable=SC2034  # not unused: read by the scripts that source this file (lab.sh, tests)
SYSTEMD_CONTAINER_FLAGS=(
    --cap-add SYS_ADMIN --cap-add NET_ADMIN
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
    --tmpfs /run --tmpfs /run/lock --network none
)

# Wait until systemd in container $1 has finished booting.
# STABILITY_OPS_BOOT_TIMEOUT (seconds, default 180): a loaded 2-core machine
# booting several containers at once needs more than a quiet one.
systemd_booted() {
    local name="$1" state=""
    for _ in $(seq "${STABILITY_OPS_BOOT_TIMEOUT:-180}"); do
        state="$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)"
        [[ "$state" == running || "$state" == degraded ]] && return 0
        # A container that stopped will not boot any more: say so at once.
        [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" == true ]] || {
            echo "container $name is not running" >&2
            return 1
        }
        sleep 1
    done
    echo "systemd in $name did not finish booting (state: ${state:-unknown})" >&2
    return 1
}

wait_for_systemd() { systemd_booted "$1" || die "systemd in $1 did not boot"; }
