#!/usr/bin/env python
# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Add the missing required secrets of an inventory with generated placeholders.

Reads a spec file (e.g. inventories/lab/required_secrets.yml), decrypts the
target in memory (SOPS through the real sops binary, or Ansible Vault), adds the
keys that are missing, never touches an existing value, keeps comments and order
(ruamel.yaml) and writes the result encrypted again. Plaintext never reaches the
disk. Idempotent: nothing is written when no key is missing. Only key names are
printed, never values.

  scripts/add_placeholders.py --spec inventories/lab/required_secrets.yml
  scripts/add_placeholders.py --spec SPEC --target group_vars/all/vault.yml --format vault --vault-id prod@FILE
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parents[2] if ROOT.parent.parent.name == "ansible_collections" else ROOT / ".collections"))

from ansible_collections.stability.ops.plugins.plugin_utils import secrets_workflows as wf  # noqa: E402


def main_action(args) -> None:
    spec_target, specs = wf.load_spec(args.spec)
    target = args.target or spec_target
    if target is None:
        raise wf.WorkflowError("no target: give --target or set 'target' in the spec")
    report = wf.add_placeholders(target, specs, args.format, wf.runner_from_args(args),
                                 wf.vault_secrets_from_args(args), check=args.check)
    verb = "would add" if args.check else "added"
    for name in report.added:
        print(f"{verb}: {name}")
    state = "written" if report.written else ("unchanged" if not report.added else "not written (check mode)")
    print(f"{report.target} ({report.fmt}): {len(report.added)} {verb}, {len(report.existing)} kept, {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--spec", type=Path, required=True, help="required secrets spec file")
    parser.add_argument("--target", type=Path, help="secrets file (default: the spec's 'target')")
    parser.add_argument("--format", choices=["sops", "vault"],
                        help="format of a new target (an existing file keeps its format; default sops)")
    parser.add_argument("--check", action="store_true", help="only report the keys that would be added")
    wf.add_common_arguments(parser)
    return wf.cli_run(main_action, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
