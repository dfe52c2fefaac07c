#!/usr/bin/env python
# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migrate an Ansible Vault secrets file (e.g. secrets.generated.yml) to SOPS with age.

Refuses to run unless the keys are verified first: the vault id decrypts the
source, .sops.yaml has a creation rule with valid age recipients for the
target, the local age key (SOPS_AGE_KEY_FILE, mode 0600) is one of them and a
canary encrypts and decrypts. Then it keeps a Vault backup, encrypts the
plaintext through sops' stdin, checks that the SOPS file decrypts to identical
values, and only then removes the Vault source (and the backup, unless
--keep-backup). On any mismatch nothing is lost and the backup stays.

  scripts/migrate_vault_to_sops.py --source inventories/prod/group_vars/all/secrets.generated.yml \\
      --vault-id prod@~/.config/stability-ops/prod.vault-pass
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parents[2] if ROOT.parent.parent.name == "ansible_collections" else ROOT / ".collections"))

from ansible_collections.stability.ops.plugins.plugin_utils import secrets_workflows as wf  # noqa: E402


def main_action(args) -> None:
    secrets = wf.vault_secrets_from_args(args)
    if not secrets:
        raise wf.WorkflowError("give --vault-id ID@FILE or --vault-password-file FILE")
    runner = wf.runner_from_args(args)
    if args.verify_only:
        target = args.target or wf.sops_target_path(args.source)
        config, recipients = wf.verify_keys(target, runner, args.sops_config)
        print(f"keys verified for {target}: {len(recipients)} age recipient(s) from {config}")
        return
    report = wf.migrate_vault_to_sops(args.source, args.target, secrets, runner, args.sops_config,
                                      keep_backup=args.keep_backup, force=args.force)
    for step in report.steps:
        print(f"- {step}")
    print(f"migrated {report.source} -> {report.target} ({report.keys} keys, values identical)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--source", type=Path, required=True, help="Vault-encrypted vars file")
    parser.add_argument("--target", type=Path,
                        help="SOPS file to write (default: NAME.sops.yml next to the source; may equal --source)")
    parser.add_argument("--keep-backup", action="store_true", help="keep SOURCE.vault-backup after verification")
    parser.add_argument("--force", action="store_true", help="overwrite an existing, different target")
    parser.add_argument("--verify-only", action="store_true", help="only verify the keys, change nothing")
    wf.add_common_arguments(parser)
    return wf.cli_run(main_action, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
