"""Print or check the variables table of a role README from its argument spec.

    stability-ops-role-vars roles/core_time           # print the table
    stability-ops-role-vars --check roles/*            # fail if a README is stale
    stability-ops-role-vars --write roles/*            # rewrite the tables

The table in README.md sits between the markers
``<!-- BEGIN VARIABLES -->`` and ``<!-- END VARIABLES -->``; ``--write``
replaces it in place. meta/argument_specs.yml is the single source; its
Ansible markup (C(), O(), V(), ...) is rendered as Markdown by the same code
that writes docs/roles/ (build_docs.markup).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from stability_ops_dev.build_docs import cell, markup

BEGIN = "<!-- BEGIN VARIABLES -->"
END = "<!-- END VARIABLES -->"


def _default(spec: dict) -> str:
    if "default" not in spec:
        return "*required*" if spec.get("required") else ""
    return f"`{yaml.safe_dump(spec['default'], default_flow_style=True).strip().removesuffix('...').strip()}`"


def render_table(role_dir: Path) -> str:
    specs = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    lines = []
    for entry_point, spec in specs.items():
        if len(specs) > 1:
            lines.append(f"Entry point `{entry_point}`:\n")
        lines.append("| variable | type | default | description |")
        lines.append("| --- | --- | --- | --- |")
        for name, option in spec.get("options", {}).items():
            kind = option.get("type", "str")
            if kind == "list" and "elements" in option:
                kind = f"list of {option['elements']}"
            description = markup(option.get("description", ""), role_entrypoint=entry_point)
            lines.append(f"| `{name}` | {kind} | {cell(_default(option))} | {cell(description)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def replace_table(readme: str, table: str) -> str:
    try:
        head, rest = readme.split(BEGIN, 1)
        _old_table, tail = rest.split(END, 1)
    except ValueError as exc:
        raise SystemExit(f"README has no {BEGIN} ... {END} block") from exc
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when a README table differs from the spec")
    mode.add_argument("--write", action="store_true", help="rewrite the README tables in place")
    parser.add_argument("roles", nargs="+", type=Path)
    args = parser.parse_args()
    stale = []
    for role_dir in args.roles:
        table = render_table(role_dir)
        readme_path = role_dir / "README.md"
        if not (args.check or args.write):
            sys.stdout.write(table)
            continue
        readme = readme_path.read_text() if readme_path.exists() else ""
        expected = replace_table(readme, table) if BEGIN in readme else None
        if args.write and expected is not None:
            readme_path.write_text(expected)
        elif expected is None or expected != readme:
            stale.append(str(readme_path))
    for path in stale:
        print(f"{path}: variables table missing or stale; run stability-ops-role-vars --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
