#!/usr/bin/env bash
# Style-guide gate of this repository (development wrapper): ripgrep rules over
# YAML, Jinja and Python plus repository hygiene. The rules and the engine are
# the collection's own (plugins/plugin_utils/style_guide_*.py, the code behind
# the stability.ops.style_guide playbook that users run); this wrapper runs them
# through python -m stability_ops_dev.style_guide (tools/). docs/style-guide.md.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/enforce_style_guide.sh [--root DIR] [--list-rules] [PATH ...]

Checks every file of the repository (git ls-files -co --exclude-standard, or
every file outside git; .git/, .venv/, .cache/, .collections/ and vendored
ansible_collections/ trees are never scanned) against the style guide and
prints one line per violation:

    path:line RULE-ID message (fix: hint)

Options:
  --root DIR      repository to check (default: this script's repository)
  --list-rules    print the rule table (id, message, fix hint; tab separated)
  PATH ...        check only these files or directories (relative to the root)
  -h, --help      show this help

Ignoring:
  .styleignore    one "GLOB [RULE-ID ...]" per line; without ids the files are
                  not checked at all. "@enable RULE-ID ..." turns on opt-in rules
  a comment "style-ignore: RULE-ID[, RULE-ID]"
                  on the offending line, or alone on the line above it
  Unknown rule ids and ignore comments that suppress nothing are violations.

Exit status:
  0  no violations
  1  violations found (listed on stdout)
  2  usage or configuration error (bad option, rg/git missing, rg error)

Requires: bash, ripgrep (Debian package ripgrep) with PCRE2, git, and the dev
venv (scripts/setup.sh: ansible-core and the stability_ops_dev package).
Users of the installed collection run: ansible-playbook stability.ops.style_guide
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
root="$STABILITY_OPS_ROOT"
args=()
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --root)
            [[ $# -ge 2 ]] || { echo "ERROR: --root needs a directory" >&2; usage >&2; exit 2; }
            root="$2"; shift 2 ;;
        --root=*) root="${1#--root=}"; shift ;;
        --list-rules) args+=("$1"); shift ;;
        --) shift; args+=("$@"); break ;;
        -*) echo "ERROR: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

python="$STABILITY_OPS_VENV/bin/python"
[[ -x "$python" ]] || { echo "ERROR: no dev venv at $STABILITY_OPS_VENV: run scripts/setup.sh" >&2; exit 2; }
ensure_collection_link
# -P: the checked directory never shadows a module (nothing is prepended to sys.path).
exec "$python" -P -m stability_ops_dev.style_guide --root "$root" "${args[@]}"
