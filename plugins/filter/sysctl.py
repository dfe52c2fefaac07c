# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""core_sysctl's report of the parameters it could not apply: one line per problem, naming what to act on.

The ``sysctl_state`` module returns the structured data (``unapplied``: name, wanted, effective, problem, reason);
this filter turns it into the few lines a person reads. The data itself stays in the fact ``core_sysctl_unapplied``.

Documentation: the sidecar file ``sysctl_unapplied_report.yml``;
``ansible-doc -t filter stability.ops.sysctl_unapplied_report``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.module_utils.sysctl_state import (
    PROBLEM_NOT_WRITABLE,
    PROBLEM_READ_ONLY_MOUNT,
    PROBLEM_UNKNOWN,
    PROBLEM_WRITE_ONLY,
)

# What each problem means and what to do about it, most actionable first. {variable} is the variable the parameters
# come from (core_sysctl_parameters, or the including role's own).
# A read-only /proc/sys parameter that a later sysctl.d file also overrides at boot: no "next boot" promise.
OVERRIDDEN = "overridden_at_boot"
ADVICE = {
    PROBLEM_UNKNOWN: "no such parameter here (kernel module not loaded?): correct or drop in {variable}",
    PROBLEM_WRITE_ONLY: "write-only trigger, never applied: drop from {variable}",
    PROBLEM_NOT_WRITABLE: (
        "not writable here (read-only parameter, or not namespaced in this container): "
        "drop from {variable} for such hosts"
    ),
    PROBLEM_READ_ONLY_MOUNT: (
        "/proc/sys is mounted read-only here (container): the drop-in applies at the next boot of a host; "
        "core_sysctl_apply_enabled: false skips applying on such hosts"
    ),
    OVERRIDDEN: (
        "/proc/sys is mounted read-only here and a sysctl.d file read after the drop-in sets another value at boot, "
        "so it is not applied at boot either: see core_sysctl_accept_overrides and core_sysctl_dropin_last"
    ),
}
NAMES_SHOWN = 5
DETAILS = "wanted and effective values: core_sysctl_unapplied"


def _names(names: Sequence[str], limit: int) -> str:
    if limit <= 0 or len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def sysctl_unapplied_report(
    unapplied: Sequence[Mapping[str, Any]],
    dropin: str,
    variable: str = "core_sysctl_parameters",
    failing: bool = False,
    limit: int = NAMES_SHOWN,
) -> list[str]:
    """A headline and one line per problem of ``unapplied`` (the sysctl_state module's list), grouped by problem.

    Each problem line names its parameters (at most ``limit``, then how many more) and what to act on. With
    ``failing`` the headline says the run fails (core_sysctl_fail_on_unapplied). Nothing unapplied, no lines.
    """
    groups: dict[str, list[str]] = {}
    for entry in unapplied:
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise AnsibleFilterError(f"sysctl_unapplied_report: not an unapplied entry of sysctl_state: {entry!r}")
        problem = entry.get("problem")
        if problem == PROBLEM_READ_ONLY_MOUNT and entry.get("overridden_by"):
            problem = OVERRIDDEN
        key = problem if problem in ADVICE else str(entry.get("reason") or "cannot be applied here")
        groups.setdefault(key, []).append(str(entry["name"]))
    if not groups:
        return []
    count = sum(len(names) for names in groups.values())
    if failing:
        headline = (f"core_sysctl: core_sysctl_fail_on_unapplied is true and {count} parameter(s) of {dropin} "
                    f"cannot be applied here ({DETAILS}):")
    else:
        headline = f"WARNING: core_sysctl could not apply {count} parameter(s) of {dropin} here ({DETAILS}):"
    order = [*(problem for problem in ADVICE if problem in groups), *(key for key in groups if key not in ADVICE)]
    lines = [headline]
    for key in order:
        advice = ADVICE[key].format(variable=variable) if key in ADVICE else key
        lines.append(f"- {_names(sorted(groups[key]), limit)}: {advice}")
    return lines


class FilterModule:
    """core_sysctl's filters."""

    def filters(self):
        return {"sysctl_unapplied_report": sysctl_unapplied_report}
