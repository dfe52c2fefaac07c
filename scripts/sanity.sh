#!/usr/bin/env bash
# ansible-test sanity, offline, on the collection in its
# ansible_collections/stability/ops layout: every test ansible-test knows.
#
#   scripts/sanity.sh                    all sanity tests on the working tree
#   scripts/sanity.sh --head             on the last commit instead (git archive HEAD)
#   scripts/sanity.sh --test pep8 ...    extra arguments go to ansible-test sanity
#
# Eight sanity tests (ansible-doc, import, pep8, pylint, runtime-metadata,
# validate-modules, yamllint, action-plugin-docs) build their own virtualenvs
# and download a get-pip script from a server that does not answer here. This
# script makes them work offline, once per machine and controller, all under
# .cache/sanity/py<X.Y>-core<X.Y>/ (one tree per Python and ansible-core, so the
# 2.19 and 2.21 controllers of the test matrix never share a wheelhouse or a
# virtualenv; see /work/shared/ENVIRONMENT.md, "ansible-test sanity offline"):
#   wheels/   a wheelhouse with pip and every sanity requirement (the only
#             network access: PyPI, and only when the requirement files change)
#   home/     a throwaway HOME for ansible-test (it strips PIP_* variables, so
#             pip is configured through $HOME/.config/pip/pip.conf: no index,
#             find-links = the wheelhouse), holding the get-pip stand-in and
#             the cached sanity virtualenvs
# The collection is copied to a temporary ansible_collections/stability/ops
# tree outside the repository (inside it, ansible-test would ask git for the
# file list and find .cache ignored), removed on exit.
# A second run reuses the wheelhouse and the virtualenvs (about 10 s of set-up).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

SOURCE="worktree"
if [[ "${1:-}" == --head ]]; then SOURCE="head"; shift; fi

PYTHON_VERSION="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
CORE_VERSION="$(python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')"
SANITY_CACHE="$STABILITY_OPS_CACHE/sanity/py$PYTHON_VERSION-core$CORE_VERSION"
WHEELS="$SANITY_CACHE/wheels"
SANITY_HOME="$SANITY_CACHE/home"
TREE="$(mktemp -d "${TMPDIR:-/tmp}/stability-ops-sanity.XXXXXX")"
trap 'rm -rf "$TREE"' EXIT
COLLECTION_DIR="$TREE/ansible_collections/stability/ops"

ANSIBLE_TEST_DATA="$(python -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data"))')"
ANSIBLE_TEST_PKG="$(dirname "$ANSIBLE_TEST_DATA")"
# The pip version ansible-test bootstraps into its virtualenvs.
PIP_VERSION="$(grep -oP "^\s*pip='\K[0-9.]+" "$ANSIBLE_TEST_PKG/_internal/python_requirements.py")"
[[ -n "$PIP_VERSION" ]] || die "cannot find the pip version ansible-test bootstraps"

# 1. The wheelhouse, rebuilt only when ansible-test's requirement files change.
build_wheelhouse() {
    local stamp requirements=()
    mapfile -t requirements < <(ls "$ANSIBLE_TEST_DATA"/requirements/sanity.*.txt)
    stamp="$(cat "${requirements[@]}" | sha256sum | cut -c1-16)-pip$PIP_VERSION-py$PYTHON_VERSION"
    [[ -f "$WHEELS/.stamp-$stamp" ]] && return 0
    log "sanity: downloading the wheelhouse (once per machine) into $WHEELS"
    rm -rf "$WHEELS"
    mkdir -p "$WHEELS"
    local args=() req
    for req in "${requirements[@]}"; do args+=(-r "$req"); done
    # pip wheel rather than pip download: a requirement published only as an
    # sdist is built here, once, so the offline installs never need setuptools.
    python -m pip wheel -qq --disable-pip-version-check --wheel-dir "$WHEELS" \
        "pip==$PIP_VERSION" "${args[@]}" || die "could not fill the wheelhouse from PyPI"
    touch "$WHEELS/.stamp-$stamp"
}

# 2. The throwaway HOME: pip.conf and the get-pip stand-in.
prepare_home() {
    mkdir -p "$SANITY_HOME/.config/pip" "$SANITY_HOME/.ansible/test/cache"
    cat >"$SANITY_HOME/.config/pip/pip.conf" <<EOF
# Written by scripts/sanity.sh: ansible-test's virtualenvs install offline.
[global]
no-index = true
find-links = $WHEELS
disable-pip-version-check = true
EOF
    # ansible-test runs "python get_pip_X_Y.py <pip options> pip==X.Y [--no-setuptools] [--no-wheel]"
    # in a virtualenv without pip. The stand-in runs pip from its wheel (pip
    # supports running from a wheel on sys.path) and installs from the wheelhouse.
    cat >"$SANITY_HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py" <<EOF
"""Offline stand-in for get-pip.py, written by scripts/sanity.sh."""
import glob
import sys

WHEELS = "$WHEELS"
wheel = glob.glob(WHEELS + "/pip-$PIP_VERSION-*.whl")
if not wheel:
    sys.exit("get-pip stand-in: no pip $PIP_VERSION wheel in " + WHEELS)
sys.path.insert(0, wheel[0])
from pip._internal.cli.main import main  # noqa: E402

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", WHEELS, *args]))
EOF
}

# 3. A fresh copy of the collection: what git would ship (tracked files plus
# untracked ones that are not ignored), or the last commit with --head.
copy_collection() {
    mkdir -p "$COLLECTION_DIR"
    cd "$STABILITY_OPS_ROOT"
    if [[ "$SOURCE" == head ]]; then
        git archive --format=tar HEAD | tar -x -C "$COLLECTION_DIR"
    else
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' path; do
                [[ -e "$path" || -L "$path" ]] && printf '%s\0' "$path"
            done |
            tar --null --no-recursion -T - -c | tar -x -C "$COLLECTION_DIR"
    fi
}

# The shellcheck sanity test is silently skipped without the program.
ensure_shellcheck() {
    command -v shellcheck >/dev/null && return 0
    [[ $EUID -eq 0 ]] || die "the shellcheck sanity test needs shellcheck: apt-get install shellcheck"
    log "sanity: installing shellcheck"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; } ||
        die "could not install shellcheck"
}

ensure_shellcheck
build_wheelhouse
prepare_home
copy_collection

cd "$COLLECTION_DIR"
log "sanity: ansible-test sanity --local --python $PYTHON_VERSION in $COLLECTION_DIR"
# The repository's ansible.cfg would put the working copy (.collections) on
# the collections path; ansible-test must see only the copy it is testing.
env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH HOME="$SANITY_HOME" \
    ansible-test sanity --local --python "$PYTHON_VERSION" --color no "$@"
