# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the security_baseline role.

Documentation: one sidecar file per filter (``baseline_permissions_to_fix.yml``, ``baseline_sysctl_parameters.yml``),
as ansible.builtin does for the filters of its ``core.py``; ``ansible-doc -t filter stability.ops.<name>`` reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

DEFAULT_OWNER = "root"
DEFAULT_GROUP = "root"


def _wanted_mode(mode: Any) -> int | None:
    """The octal mode of an entry as a number; None when it is not octal (a symbolic mode never compares equal)."""
    if isinstance(mode, bool):
        return None
    if isinstance(mode, int):
        return mode
    if isinstance(mode, str):
        try:
            return int(mode, 8)
        except ValueError:
            return None
    return None


def parse_stat_lines(lines: Iterable[str]) -> dict[str, tuple[int, str, str]]:
    """``{path: (mode, owner, group)}`` from ``stat --format='%a %U %G %n'`` lines (paths may hold spaces)."""
    current = {}
    for line in lines:
        fields = line.split(" ", 3)
        if len(fields) != 4:
            raise AnsibleFilterError(f"baseline_permissions_to_fix: not a '%a %U %G %n' stat line: {line!r}")
        mode, owner, group, path = fields
        try:
            current[path] = (int(mode, 8), owner, group)
        except ValueError as exc:
            raise AnsibleFilterError(f"baseline_permissions_to_fix: not an octal mode in {line!r}") from exc
    return current


def baseline_permissions_to_fix(wanted: Sequence[Mapping[str, Any]], stat_lines: Iterable[str] | None) -> list:
    """The entries of ``wanted`` ({path, owner, group, mode}) whose path exists and differs in mode, owner or group.

    A path missing from ``stat_lines`` does not exist on the host and is skipped. The entries come back with owner
    and group filled in (root when not given), ready for the file module.
    """
    current = parse_stat_lines(stat_lines or [])
    fix = []
    for entry in wanted:
        if not isinstance(entry, Mapping) or "path" not in entry:
            raise AnsibleFilterError(f"baseline_permissions_to_fix: each entry needs a path, got {entry!r}")
        if entry["path"] not in current:
            continue
        entry = {"owner": DEFAULT_OWNER, "group": DEFAULT_GROUP, **entry}
        mode, owner, group = current[entry["path"]]
        if _wanted_mode(entry.get("mode")) != mode or entry["owner"] != owner or entry["group"] != group:
            fix.append(entry)
    return fix


def baseline_sysctl_parameters(parameters: Mapping[str, Any] | None, overwrite: Mapping[str, Any] | None) -> dict:
    """``parameters`` with the keys of ``overwrite`` set over them; a key set to None (YAML ``null``) is removed.

    The role's default dict stays whole when a user changes one key, as dev-sec's ``sysctl_overwrite`` does. The order
    of ``parameters`` is kept; new keys follow in the order of ``overwrite``.
    """
    for name, value in (("security_baseline_sysctl_parameters", parameters),
                        ("security_baseline_sysctl_overwrite", overwrite)):
        if value is not None and not isinstance(value, Mapping):
            raise AnsibleFilterError(f"baseline_sysctl_parameters: {name} must be a dict, got {type(value).__name__}")
    merged = dict(parameters or {})
    for key, value in (overwrite or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class FilterModule:
    """security_baseline's filters."""

    def filters(self):
        return {
            "baseline_permissions_to_fix": baseline_permissions_to_fix,
            "baseline_sysctl_parameters": baseline_sysctl_parameters,
        }
