# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the compliance_report role: a scanner's report read back into one result per scanner and profile.

The result has the same keys for every scanner (Lynis today, OpenSCAP later): ``scanner``, ``version``,
``profile``, ``status`` (``ok``, ``unavailable``, ``failed``), ``message``, ``score``, ``tests``
(``performed``, ``passed``), ``warnings`` and ``suggestions`` (``{id, text}`` each). It holds test ids, counts
and the scanner's own test descriptions only: never the report's details (paths, user names, addresses).

Documentation: the sidecar file ``lynis_report.yml``; ``ansible-doc -t filter stability.ops.lynis_report``.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import one_line

SCANNER_LYNIS = "lynis"
PROFILE_DEFAULT = "default"
# A Lynis test id (AUTH-9230) or the pseudo test LYNIS (the release is old).
_TEST_ID = re.compile(r"^[A-Z][A-Z0-9]{1,9}(?:-[0-9A-Z]{1,8})?$")
TEXT_MAX_LENGTH = 200


def _finding(value: str) -> dict[str, str] | None:
    """``{id, text}`` of a ``warning[]``/``suggestion[]`` value ``ID|text|details|solution|``; the details and the
    solution (which may name paths and users) are dropped. A value without a test id is left out."""
    fields = value.split("|")
    test_id = fields[0].strip()
    if not _TEST_ID.match(test_id):
        return None
    return {"id": test_id, "text": one_line(fields[1], TEXT_MAX_LENGTH) if len(fields) > 1 else ""}


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def lynis_report(report: Any, profile: str = PROFILE_DEFAULT) -> dict[str, Any]:
    """The result of one ``lynis audit system --report-file`` report (the text of the ``.dat`` file).

    ``status`` is ``ok`` when the report holds a hardening index, else ``failed`` with the reason in ``message``
    (an interrupted scan writes no index). ``tests.passed`` counts the executed tests that raised neither a warning
    nor a suggestion.
    """
    if not isinstance(report, str):
        raise AnsibleFilterError(f"lynis_report: the report must be the text of the .dat file, not {type(report)}")
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {"warning": [], "suggestion": []}
    for line in report.splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.endswith("[]"):
            if key[:-2] in lists:
                lists[key[:-2]].append(value)
        else:
            scalars[key] = value
    warnings = [found for found in map(_finding, lists["warning"]) if found]
    suggestions = [found for found in map(_finding, lists["suggestion"]) if found]
    executed = [test for test in scalars.get("tests_executed", "").split("|") if _TEST_ID.match(test)]
    flagged = {finding["id"] for finding in warnings + suggestions}
    score = _int(scalars.get("hardening_index"))
    performed = _int(scalars.get("lynis_tests_done"))
    version = scalars.get("lynis_version", "").strip() or None
    message = "" if score is not None else "the Lynis report holds no hardening index (the scan did not finish)"
    return {
        "scanner": SCANNER_LYNIS,
        "version": version,
        "profile": profile or PROFILE_DEFAULT,
        "status": "ok" if score is not None else "failed",
        "message": message,
        "score": score,
        "tests": {
            "performed": performed if performed is not None else len(executed),
            "passed": len([test for test in executed if test not in flagged]),
        },
        "warnings": warnings,
        "suggestions": suggestions,
    }


def compliance_unavailable(scanner: str, message: str, profile: str = PROFILE_DEFAULT,
                           status: str = "unavailable") -> dict[str, Any]:
    """The result for a scanner that gave no report: the same keys as a report's, no score. ``status`` is
    ``unavailable`` (not installed) or ``failed`` (it ran and failed before writing its report)."""
    if status not in ("unavailable", "failed"):
        raise AnsibleFilterError(f"compliance_unavailable: status must be unavailable or failed, not {status!r}")
    return {
        "scanner": scanner,
        "version": None,
        "profile": profile or PROFILE_DEFAULT,
        "status": status,
        "message": one_line(message, TEXT_MAX_LENGTH),
        "score": None,
        "tests": {"performed": 0, "passed": 0},
        "warnings": [],
        "suggestions": [],
    }


class FilterModule:
    """compliance_report's filters."""

    def filters(self):
        return {
            "lynis_report": lynis_report,
            "compliance_unavailable": compliance_unavailable,
        }
