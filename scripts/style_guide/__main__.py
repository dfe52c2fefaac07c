"""Command line: ``python -m style_guide [--root DIR] [--list-rules] [PATH ...]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from style_guide.engine import ConfigError, check
from style_guide.rules import RULES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enforce_style_guide.sh", add_help=False)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--list-rules", action="store_true")
    parser.add_argument("paths", nargs="*")
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    if args.list_rules:
        for rule in RULES:
            print(f"{rule.id}\t{rule.message}\t{rule.fix}")
        return 0
    root = args.root.resolve()
    if not root.is_dir():
        print(f"ERROR: --root {args.root} is not a directory", file=sys.stderr)
        return 2
    try:
        findings = check(root, args.paths)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding.render())
    if findings:
        print(f"{len(findings)} style violation(s); see docs/style-guide.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
