# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the security_auditd role: the kernel probe, the syscall check and the audit status.

Documentation: one sidecar file per filter (``auditd_kernel_state.yml`` ...), as ansible.builtin does for the
filters of its ``core.py``; ``ansible-doc -t filter stability.ops.<name>`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

_ENABLED = re.compile(r"(?m)^enabled (\d)")
_WHITESPACE = re.compile(r"\s+")

REASON_NOT_INSTALLED = "auditctl is not installed yet (check mode)"
REASON_REFUSED = (
    "the kernel audit subsystem cannot be controlled here (auditctl -s failed with rc {rc}: {output}); "
    "containers lack CAP_AUDIT_CONTROL and the initial PID namespace that audit control requires"
)
REASON_IMMUTABLE = "the loaded rules are immutable (enabled 2): the changed rules take effect after the next reboot"


def auditd_kernel_state(probe: Mapping[str, Any]) -> dict[str, Any]:
    """What the registered result of ``auditctl -s`` (run with ``failed_when: false``) says about the kernel.

    ``{available, enabled, immutable, reason}``: rules can be loaded when auditctl ran and answered (rc 0);
    ``enabled`` is the kernel's ``enabled`` flag as text (``''`` when unknown), ``2`` meaning immutable rules.
    """
    output = f"{probe.get('stdout', '')} {probe.get('stderr', '')}"
    match = _ENABLED.search(output)
    enabled = match.group(1) if match else ""
    rc = probe.get("rc")
    missing = rc is None or "No such file" in str(probe.get("msg", ""))
    if missing:
        reason = REASON_NOT_INSTALLED
    elif rc == 0:
        reason = ""
    else:
        reason = REASON_REFUSED.format(rc=rc, output=_WHITESPACE.sub(" ", output.strip()))
    return {"available": not missing and rc == 0, "enabled": enabled, "immutable": enabled == "2", "reason": reason}


def syscall_table(lines: Sequence[str]) -> set[str]:
    """The syscall names of an ``ausyscall <arch> --dump``: a header line, then ``<number>TAB<name>`` per line."""
    return {line.split("\t")[-1] for line in lines[1:]}


def auditd_unknown_syscalls(tables: Sequence[Mapping[str, Any]], *syscalls: Mapping[str, Sequence[str]]) -> list[str]:
    """``"<arch> <name>"`` for every wanted syscall the host's table of that architecture lacks.

    ``tables`` are the loop results of ``ausyscall <arch> --dump`` (``item`` the architecture); each further
    argument maps an architecture to the syscall names of one rule group (``{}`` for a group that is off).
    """
    unknown = []
    for table in tables:
        arch = table.get("item")
        if arch is None or "stdout_lines" not in table:
            raise AnsibleFilterError(f"auditd_unknown_syscalls: not a loop result of ausyscall --dump: {table!r}")
        known = syscall_table(table["stdout_lines"])
        wanted = []
        for group in syscalls:
            for name in (group or {}).get(arch, []):
                if name not in wanted:
                    wanted.append(name)
        unknown.extend(f"{arch} {name}" for name in wanted if name not in known)
    return unknown


def auditd_rules_stale(counts: Mapping[str, Any] | None, compiled: Mapping[str, Any] | None = None) -> bool:
    """Whether the kernel needs the compiled rules loaded again.

    True when augenrules just compiled them (``compiled`` changed) or when the rule counts of the compiled file and
    of the kernel differ (``counts``: the two-line stdout of the counting task). A skipped count compares nothing.
    """
    if (compiled or {}).get("changed"):
        return True
    lines = (counts or {}).get("stdout_lines") or []
    if not lines:
        return False
    if len(lines) != 2:
        raise AnsibleFilterError(f"auditd_rules_stale: expected two rule counts (file, kernel), got {lines!r}")
    return lines[0] != lines[1]


def auditd_status(
    kernel: Mapping[str, Any],
    counts: Mapping[str, Any] | None = None,
    compiled: Mapping[str, Any] | None = None,
    rules_file: str = "",
    compiled_rules: str = "",
) -> dict[str, Any]:
    """The role's ``security_auditd_status`` fact from the kernel probe (:func:`auditd_kernel_state`) and the rule
    loading (``counts`` and ``compiled`` as for :func:`auditd_rules_stale`)."""
    stale = bool(kernel["available"]) and auditd_rules_stale(counts, compiled)
    stuck = bool(kernel["immutable"]) and stale
    if not kernel["available"]:
        reason = kernel["reason"]
    else:
        reason = REASON_IMMUTABLE if stuck else ""
    return {
        "available": bool(kernel["available"]),
        "loaded": bool(kernel["available"]) and not stuck,
        "enabled": kernel["enabled"],
        "rules_file": rules_file,
        "compiled_rules": compiled_rules,
        "reason": reason,
    }


class FilterModule:
    """security_auditd's filters."""

    def filters(self):
        return {
            "auditd_kernel_state": auditd_kernel_state,
            "auditd_unknown_syscalls": auditd_unknown_syscalls,
            "auditd_rules_stale": auditd_rules_stale,
            "auditd_status": auditd_status,
        }
