"""Command line of the style gate: ``python -m stability_ops_dev.style_guide [--root DIR] [--list-rules] [PATH ...]``.

``scripts/enforce_style_guide.sh`` runs it. The rules and the engine are the
collection's own (``plugins/plugin_utils/style_guide_*.py``, the code behind
``stability.ops.style_guide``), imported from the working copy through
ansible-core's collection loader and ``.collections`` (no ``sys.path`` change).

Exit status: 0 no violations, 1 violations (one line each on stdout),
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from stability_ops_dev.paths import COLLECTIONS_DIR


def load_engine() -> ModuleType:
    """The collection's style guide engine, from the working copy."""
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    # Under pytest, tests/conftest.py has installed a finder for the working copy already.
    if AnsibleCollectionConfig.collection_finder is None:
        _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR)], scan_sys_paths=False)._install()
    from ansible_collections.stability.ops.plugins.plugin_utils import style_guide_engine

    return style_guide_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enforce_style_guide.sh", add_help=False)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--list-rules", action="store_true")
    parser.add_argument("paths", nargs="*")
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    try:
        engine = load_engine()
    except ImportError as exc:
        print(
            f"ERROR: cannot import the collection from {COLLECTIONS_DIR}: {exc} (run scripts/setup.sh)", file=sys.stderr
        )
        return 2
    if args.list_rules:
        from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_rules import RULES

        for rule in RULES:
            print(f"{rule.id}\t{rule.message}\t{rule.fix}")
        return 0
    root = args.root.resolve()
    if not root.is_dir():
        print(f"ERROR: --root {args.root} is not a directory", file=sys.stderr)
        return 2
    try:
        report = engine.check(root, args.paths)
    except engine.ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    for finding in report.findings:
        print(finding.render())
    if report.findings:
        print(f"{len(report.findings)} style violation(s); see docs/style-guide.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
