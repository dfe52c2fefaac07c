#!/usr/bin/env python
# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotate SOPS age keys: add or remove a recipient, rotate the data key, verify.

Every sub-command first checks that each SOPS file decrypts, edits .sops.yaml
(comments kept), re-encrypts with `sops updatekeys` and/or `sops rotate`, then
verifies that every file decrypts and its recipients equal .sops.yaml. On any
failure every file and .sops.yaml are restored. Removing a recipient always
rotates the data key too, since the removed key could read the old one.

  scripts/rotate_keys.py --sops-config inventories/prod/.sops.yaml add-recipient age1...
  scripts/rotate_keys.py --sops-config inventories/prod/.sops.yaml remove-recipient age1...
  scripts/rotate_keys.py --sops-config inventories/prod/.sops.yaml rotate-data-key
  scripts/rotate_keys.py --sops-config inventories/prod/.sops.yaml verify
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parents[2] if ROOT.parent.parent.name == "ansible_collections" else ROOT / ".collections"))

from ansible_collections.stability.ops.plugins.plugin_utils import secrets_workflows as wf  # noqa: E402


def main_action(args) -> None:
    if args.sops_config is None or not args.sops_config.is_file():
        raise wf.WorkflowError("give --sops-config PATH of an existing .sops.yaml")
    runner = wf.runner_from_args(args)
    files = wf.discover_sops_files(args.path or [args.sops_config.parent])
    if args.command == "verify":
        problems = wf.verify_files(files, runner, args.sops_config)
        if problems:
            raise wf.WorkflowError("verification failed:\n  " + "\n  ".join(problems))
        print(f"all {len(files)} SOPS file(s) decrypt and match {args.sops_config}")
        return
    report = wf.rotate(args.sops_config, files, runner,
                       add=[args.recipient] if args.command == "add-recipient" else [],
                       remove=[args.recipient] if args.command == "remove-recipient" else [],
                       rotate_data_key=args.command == "rotate-data-key")
    for step in report.steps:
        print(f"- {step}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    wf.add_common_arguments(parser)
    parser.add_argument("--path", type=Path, action="append",
                        help="file or directory holding SOPS files (default: the .sops.yaml directory)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("add-recipient", "remove-recipient"):
        sub = commands.add_parser(name, help=f"{name.split('-', maxsplit=1)[0]} an age recipient and re-encrypt")
        sub.add_argument("recipient", help="age public key (age1...)")
    commands.add_parser("rotate-data-key", help="generate a new data key for every file (sops rotate)")
    commands.add_parser("verify", help="check that every file decrypts and matches .sops.yaml")
    return wf.cli_run(main_action, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
