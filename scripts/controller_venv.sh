#!/usr/bin/env bash
# The second controller of the test matrix: ansible-core 2.21 (ansible 14.x)
# in its own pinned virtualenv, .venv-2.21, beside the ansible-core 2.19 one
# (.venv, scripts/setup.sh). ansible-core 2.20+ needs Python 3.12+ on the
# controller; the first one found is used:
#   1. STABILITY_OPS_PYTHON_2_21, when set (a path or a command name)
#   2. python3.13, python3.12 on PATH
#   3. pyenv prefix 3.13.0, 3.12.1 (pyenv on PATH, in $PYENV_ROOT or ~/.pyenv)
#   4. any 3.12+ under the pyenv root's versions/, newest first
#
#   scripts/controller_venv.sh           create or update .venv-2.21 (a no-op when up to date)
#   scripts/controller_venv.sh --python  print the Python it would use
#   source scripts/controller_venv.sh    only define the variables and functions
#
# Exit status: 0 done, 3 no Python 3.12+ on this machine (said on stderr; the
# caller decides: set-up goes on, the test stage reports the leg as not run),
# 1 on any other failure.
# The venv is rebuilt only when the pinned requirements or the Python change.

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTROLLER_2_21_VENV="${STABILITY_OPS_VENV_2_21:-$STABILITY_OPS_ROOT/.venv-2.21}"
CONTROLLER_2_21_REQUIREMENTS="$STABILITY_OPS_ROOT/requirements/controller-2.21.txt"
CONTROLLER_2_21_CONSTRAINTS="$STABILITY_OPS_ROOT/requirements/constraints-controller-2.21.txt"
# The one line the test summary prints when the leg cannot run.
# shellcheck disable=SC2034  # read by scripts/test.sh
CONTROLLER_2_21_MISSING="ansible-core 2.21 leg did not run: no Python 3.12+ found"

# True when $1 runs and is Python 3.12 or later (a pyenv shim of a version
# that is not selected fails here, as it should).
_python_3_12_plus() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

# Print the path of the first Python 3.12+ found; fail when there is none.
controller_2_21_python() {
    local candidate pyenv root="" version
    local candidates=()
    [[ -n "${STABILITY_OPS_PYTHON_2_21:-}" ]] && candidates+=("$STABILITY_OPS_PYTHON_2_21")
    candidates+=(python3.13 python3.12)
    pyenv="$(command -v pyenv || true)"
    for candidate in "${PYENV_ROOT:-}/bin/pyenv" "$HOME/.pyenv/bin/pyenv"; do
        [[ -z "$pyenv" && -x "$candidate" ]] && pyenv="$candidate"
    done
    if [[ -n "$pyenv" ]]; then
        root="$("$pyenv" root 2>/dev/null || true)"
        for version in 3.13.0 3.12.1; do
            candidate="$("$pyenv" prefix "$version" 2>/dev/null)" && candidates+=("$candidate/bin/python3")
        done
    fi
    root="${root:-${PYENV_ROOT:-$HOME/.pyenv}}"
    if [[ -d "$root/versions" ]]; then
        while IFS= read -r version; do
            candidates+=("$root/versions/$version/bin/python3")
        done < <(find "$root/versions" -mindepth 1 -maxdepth 1 -name '3.*' -printf '%f\n' | sort -rV)
    fi
    for candidate in "${candidates[@]}"; do
        [[ "$candidate" == */* ]] || candidate="$(command -v "$candidate" || true)"
        if [[ -z "$candidate" ]] || ! _python_3_12_plus "$candidate"; then continue; fi
        # The interpreter itself, not a pyenv shim that may select another one later.
        "$candidate" -c 'import sys; print(sys.executable)'
        return 0
    done
    return 1
}

ensure_controller_2_21_venv() {
    local python stamp req_hash
    python="$(controller_2_21_python)" || {
        printf 'WARNING: %s (ansible-core 2.21 needs one: install python3.12+ or pyenv 3.13.0)\n' \
            "$CONTROLLER_2_21_MISSING" >&2
        return 3
    }
    # The Python's full version is part of the stamp: another interpreter rebuilds the venv.
    req_hash="$({ cat "$CONTROLLER_2_21_REQUIREMENTS" "$CONTROLLER_2_21_CONSTRAINTS" "$STABILITY_OPS_ROOT/tools/pyproject.toml"
        "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)"
    stamp="$CONTROLLER_2_21_VENV/.requirements-$req_hash"
    [[ -f "$stamp" ]] && return 0
    log "creating the ansible-core 2.21 virtualenv in $CONTROLLER_2_21_VENV with $python"
    # A venv of another interpreter is made anew; new pins install on top, as in setup.sh.
    [[ "$("$CONTROLLER_2_21_VENV/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null)" == \
        "$("$python" -c 'import sys; print(sys.version)')" ]] || rm -rf "$CONTROLLER_2_21_VENV"
    [[ -x "$CONTROLLER_2_21_VENV/bin/python" ]] || "$python" -m venv "$CONTROLLER_2_21_VENV" || return 1
    "$CONTROLLER_2_21_VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$CONTROLLER_2_21_REQUIREMENTS" -c "$CONTROLLER_2_21_CONSTRAINTS" || return 1
    # The dev tooling the tests import (tools/, as in setup.sh).
    "$CONTROLLER_2_21_VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$STABILITY_OPS_ROOT/tools" ||
        return 1
    rm -f "$CONTROLLER_2_21_VENV"/.requirements-*
    touch "$stamp"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        --python) controller_2_21_python || { echo "$CONTROLLER_2_21_MISSING" >&2; exit 3; } ;;
        "") ensure_controller_2_21_venv ;;
        *) die "usage: $0 [--python]" ;;
    esac
fi
