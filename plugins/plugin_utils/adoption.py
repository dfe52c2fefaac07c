# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Adoption findings of lived-in hosts: validation, merge of pending findings and
the guard's messages (the action plugin stability.ops.adoption_guard is a thin
wrapper around this module)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

KINDS = ("close", "drop", "lockout", "unmanaged", "override", "unfetchable")
REQUIRED_KEYS = ("item", "kind", "detail", "accept_with")
ALL_ROLES = "all"
PENDING_FACT = "stability_ops_adoption_pending"
NOTHING_CHANGED = "Nothing on the host was changed."


def finding(item: str, kind: str, detail: str, accept_with: str, accepted: Iterable[str] = (),
            carry_with: str | None = None) -> dict:
    """One finding of the shared schema (what a role's discovery filter returns); ``accepted`` when ``item`` is
    listed in ``accepted`` (the value of ``accept_with``)."""
    result = {"item": item, "kind": kind, "detail": detail, "accept_with": accept_with,
              "accepted": item in set(accepted or ())}
    if carry_with:
        result["carry_with"] = carry_with
    return result


class FindingError(ValueError):
    """A finding dict does not follow the shared adoption schema."""


def normalize_finding(finding: Any, role: str | None = None) -> dict:
    """Return a plain copy of one finding, validated; ``role`` is added when given."""
    if not isinstance(finding, Mapping):
        raise FindingError(f"a finding must be a dict, got {type(finding).__name__}")
    missing = [key for key in REQUIRED_KEYS if not finding.get(key)]
    if missing:
        raise FindingError(f"finding {dict(finding)!r} lacks {', '.join(missing)}")
    kind = str(finding["kind"])
    if kind not in KINDS:
        raise FindingError(f"finding {finding['item']!r} has kind {kind!r}, not one of {', '.join(KINDS)}")
    accepted = finding.get("accepted", False)
    if not isinstance(accepted, bool):
        raise FindingError(f"finding {finding['item']!r}: accepted must be a bool, got {accepted!r}")
    normalized = {
        "item": str(finding["item"]),
        "kind": kind,
        "detail": str(finding["detail"]),
        "accept_with": str(finding["accept_with"]),
        "accepted": accepted,
    }
    if finding.get("carry_with"):
        normalized["carry_with"] = str(finding["carry_with"])
    owner = role or finding.get("role")
    if owner:
        normalized["role"] = str(owner)
    return normalized


def normalize_findings(findings: Any, role: str | None = None) -> list[dict]:
    if findings is None:
        return []
    if not isinstance(findings, list | tuple):
        raise FindingError(f"findings must be a list, got {type(findings).__name__}")
    return [normalize_finding(finding, role) for finding in findings]


def merge_pending(pending: Any, role: str, findings: list[dict]) -> dict[str, list[dict]]:
    """The pending dict of a host with ``role``'s findings replacing any earlier ones
    (a role's discovery run twice in one play reports once)."""
    merged: dict[str, list[dict]] = {}
    for name, items in dict(pending or {}).items():
        merged[str(name)] = normalize_findings(items, str(name))
    merged[role] = normalize_findings(findings, role)
    return merged


def flatten_pending(pending: Any) -> list[dict]:
    """Every finding of every role, each with its ``role`` key, in role order."""
    return [finding for items in merge_pending(pending, "", []).values() for finding in items]


def _group(findings: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for finding in findings:
        groups.setdefault((finding.get("role", ""), finding["accept_with"]), []).append(finding)
    return groups


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def failure_message(host: str, role: str, findings: list[dict]) -> str:
    """One message for every unaccepted finding, grouped by role and by the variable
    that accepts it."""
    unaccepted = [finding for finding in findings if not finding["accepted"]]
    where = "every role" if role == ALL_ROLES else role
    lines = [
        f"Adoption guard ({where}) on {host}: {len(unaccepted)} finding(s) would be closed, dropped, "
        f"locked out or left unmanaged by this run. {NOTHING_CHANGED}"
    ]
    for (owner, variable), group in _group(unaccepted).items():
        lines.append(f"{owner or role}:")
        lines.extend(f"  - {finding['item']} ({finding['kind']}): {finding['detail']}" for finding in group)
        carry = sorted({finding["carry_with"] for finding in group if finding.get("carry_with")})
        items = _yaml_list([finding["item"] for finding in group])
        advice = f"  set {variable}: {items} in the host's group_vars to accept"
        if carry:
            advice += f", or carry it with {' or '.join(carry)}"
        lines.append(advice + ".")
    lines.append("See docs/adoption.md (bringing an existing fleet under stability.ops).")
    return "\n".join(lines)


def accepted_warnings(role: str, findings: list[dict]) -> list[str]:
    return [
        f"{finding.get('role') or role}: proceeding because {finding['accept_with']} lists {finding['item']} "
        f"({finding['kind']}: {finding['detail']})"
        for finding in findings
        if finding["accepted"]
    ]


def evaluate(host: str, role: str, findings: Any, pending: Any = None, defer: bool = False) -> dict:
    """The guard's result for one host: ``failed``/``msg``, ``warnings``, ``adoption`` and,
    with ``defer``, the merged pending findings as a fact."""
    if not role:
        raise FindingError("role must not be empty")
    if role == ALL_ROLES:
        if findings:
            raise FindingError("role 'all' reads the pending findings; give no findings with it")
        if defer:
            raise FindingError("role 'all' cannot be deferred: it is the guard that acts on the deferred findings")
        checked = flatten_pending(pending)
    else:
        checked = normalize_findings(findings, None)
    unaccepted = sum(1 for finding in checked if not finding["accepted"])
    result: dict[str, Any] = {
        "changed": False,
        "adoption": {"role": role, "findings": checked, "unaccepted": unaccepted},
    }
    warnings = accepted_warnings(role, checked)
    if warnings:
        result["warnings"] = warnings
    if defer:
        result["ansible_facts"] = {PENDING_FACT: merge_pending(pending, role, checked)}
        result["msg"] = f"{role}: {len(checked)} finding(s), {unaccepted} unaccepted, deferred to the adoption guard"
        return result
    if unaccepted:
        result["failed"] = True
        result["msg"] = failure_message(host, role, checked)
        return result
    if role == ALL_ROLES:
        # Consumed: a persistent fact cache must not replay these findings next run.
        result["ansible_facts"] = {PENDING_FACT: {}}
        # Registered (never a fact, so never cached past this run): the roles whose discovery ran and passed, which
        # need not run it again later in the same run.
        result["checked_roles"] = sorted(str(name) for name in dict(pending or {}))
    result["msg"] = (
        f"{role}: no adoption finding" if not checked else f"{role}: {len(checked)} finding(s), all accepted"
    )
    return result
