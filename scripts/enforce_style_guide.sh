#!/usr/bin/env bash
# Style-guide gate for the stability.ops collection: ripgrep rules over YAML,
# Jinja and Python plus repository hygiene. The rule table is in
# scripts/style_guide/rules.py and documented in docs/style-guide.md.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/enforce_style_guide.sh [--root DIR] [--list-rules] [PATH ...]

Checks every file of the repository (git ls-files -co --exclude-standard;
.venv/, .cache/ and .collections/ are never scanned) against the style guide
and prints one line per violation:

    path:line RULE-ID message (fix: hint)

Options:
  --root DIR      repository to check (default: this script's repository)
  --list-rules    print the rule table (id, message, fix hint; tab separated)
  PATH ...        check only these files or directories (relative to the root)
  -h, --help      show this help

Ignoring:
  .styleignore    one "GLOB [RULE-ID ...]" per line; without ids the files are
                  not checked at all
  a comment "style-ignore: RULE-ID[, RULE-ID]"
                  on the offending line, or alone on the line above it
  Unknown rule ids and ignore comments that suppress nothing are violations.

Exit status:
  0  no violations
  1  violations found (listed on stdout)
  2  usage or configuration error (bad option, rg/git missing, rg error)

Requires: bash, ripgrep (Debian package ripgrep) with PCRE2, python3 >= 3.11.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
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

command -v rg >/dev/null || { echo "ERROR: ripgrep (rg) is required: apt-get install ripgrep" >&2; exit 2; }
rg --pcre2-version >/dev/null 2>&1 || { echo "ERROR: this rg has no PCRE2 support" >&2; exit 2; }
python="${STABILITY_OPS_VENV:-$here/../.venv}/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)" || { echo "ERROR: python3 is required" >&2; exit 2; }

cd "$root" 2>/dev/null || { echo "ERROR: --root $root is not a directory" >&2; exit 2; }
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m style_guide --root "$root" "${args[@]}"
