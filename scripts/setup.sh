#!/usr/bin/env bash
# One idempotent set-up path for a fresh Debian bookworm machine (as root):
# system packages, the pinned Python virtualenv, a running dockerd with no
# bridge, and the systemd test image. Every step is skipped when already done.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# The shellcheck package makes ansible-test's shellcheck sanity test run instead of skip.
APT_PACKAGES=(docker.io debootstrap age ripgrep git shellcheck openssh-client)

mkdir -p "$STABILITY_OPS_CACHE" "$ANSIBLE_HOME" "$XDG_CACHE_HOME"
ensure_collection_link

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    [[ $EUID -eq 0 ]] || die "run as root to install: ${missing[*]}"
    log "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The venv is rebuilt only when the pinned requirements change.
req_hash="$(cat "$STABILITY_OPS_ROOT/requirements/dev.txt" \
    "$STABILITY_OPS_ROOT/requirements/constraints.txt" "$STABILITY_OPS_ROOT/tools/pyproject.toml" |
    sha256sum | cut -c1-16)"
stamp="$STABILITY_OPS_VENV/.requirements-$req_hash"
if [[ ! -f "$stamp" ]]; then
    log "creating the Python virtualenv in $STABILITY_OPS_VENV"
    [[ -x "$STABILITY_OPS_VENV/bin/python" ]] || python3 -m venv "$STABILITY_OPS_VENV"
    "$STABILITY_OPS_VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$STABILITY_OPS_ROOT/requirements/dev.txt" \
        -c "$STABILITY_OPS_ROOT/requirements/constraints.txt"
    # The development tooling (tools/, never shipped): console entry points
    # and the test helpers, importable without any sys.path manipulation.
    "$STABILITY_OPS_VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$STABILITY_OPS_ROOT/tools"
    rm -f "$STABILITY_OPS_VENV"/.requirements-*
    touch "$stamp"
fi
# The second controller of the test matrix, ansible-core 2.21 (.venv-2.21).
# Status 3: this machine has no Python 3.12+ (said on stderr); set-up goes on.
"$STABILITY_OPS_ROOT/scripts/controller_venv.sh" || (($? == 3))

# Every systemd container takes several inotify instances of the same (root)
# user; with the kernel's default of 128, a dozen containers exhaust them and
# new ones hang while booting (and can wedge dockerd). Raise the limit only
# when it is lower than what the lab and parallel molecule runs need.
for setting in fs.inotify.max_user_instances=1024 fs.inotify.max_user_watches=524288; do
    key="${setting%%=*}" wanted="${setting#*=}"
    current="$(sysctl -n "$key" 2>/dev/null || echo 0)"
    if ((current < wanted)); then
        log "raising $key from $current to $wanted for systemd containers"
        sysctl -q -w "$setting" || die "cannot raise $key (run as root)"
    fi
done

if ! docker_running; then
    log "starting dockerd (no bridge, no iptables)"
    setsid dockerd --bridge=none --iptables=false \
        >"$STABILITY_OPS_CACHE/dockerd.log" 2>&1 </dev/null &
    echo $! >"$STABILITY_OPS_CACHE/dockerd.pid"
    for _ in $(seq 60); do docker_running && break; sleep 1; done
    docker_running || { tail -n 20 "$STABILITY_OPS_CACHE/dockerd.log" >&2; die "dockerd did not start"; }
fi

"$STABILITY_OPS_ROOT/scripts/build_test_image.sh"
log "set-up complete"
