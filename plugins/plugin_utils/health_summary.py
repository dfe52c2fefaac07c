# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Deployment Health Summary: accumulate a run, render JSON, a table and JUnit.

Controller-only code behind the ``stability.ops.health_summary`` callback. It
keeps counts and a bounded list of failed tasks per host (memory does not grow
with the number of tasks), never a whole task result, and never a message of a
task under ``no_log``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import typing as t
import uuid
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

SCHEMA_VERSION = "1.0"
# The set_stats key the health_check role publishes, {host: {status, checks}}.
HEALTH_STATS_KEY = "stability_ops_health"
COUNT_KEYS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
STATUS_RANK = {"ok": 0, "warn": 1, "fail": 2}
_WHITESPACE = re.compile(r"\s+")


def health_of(result: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``{status, checks}`` of a health_facts result with evaluated checks: what the summary keeps per host."""
    return {"status": result.get("health_status"), "checks": result["health_checks"]}


def callback_result(result: t.Any) -> tuple[t.Mapping[str, t.Any], bool]:
    """``(data, no_log)`` of the task result a callback hook receives, read through its public API only.

    ``result.result`` is the callback's copy of the return data (already censored under ``no_log``) in
    ansible-core 2.19 and later; 2.21's ``CallbackTaskResult`` no longer has the private ``_return_data`` of 2.19.
    ``no_log`` is true for a task under ``no_log`` and for a result that ansible censored.
    """
    data = result.result
    return data, bool(result.task.no_log is True or data.get("_ansible_no_log") or "censored" in data)


def health_stats(host: str, result: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The set_stats payload of one host's health_facts result with evaluated checks, as
    ``ansible.builtin.set_stats`` returns it (``per_host: false``, ``aggregate: true``): ansible merges every
    host's under the run-wide ``_run`` stats."""
    return {"data": {HEALTH_STATS_KEY: {host: health_of(result)}}, "per_host": False, "aggregate": True}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def short_message(result: t.Mapping[str, t.Any], limit: int) -> str:
    """One line from a task result: msg, else stderr, else the exception's last line."""
    for key in ("msg", "stderr", "reason"):
        value = result.get(key)
        if value:
            break
    else:
        exception = result.get("exception") or ""
        value = exception.strip().splitlines()[-1] if exception.strip() else ""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


class _Host:
    __slots__ = ("counts", "failed_tasks", "failed_tasks_total", "health", "unreachable")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.failed_tasks: list[dict[str, t.Any]] = []
        self.failed_tasks_total = 0
        self.health: dict[str, t.Any] | None = None
        self.unreachable: str | None = None


class SummaryBuilder:
    """Accumulates one run. Every ``record_*`` call is O(1) in time and memory."""

    def __init__(self, max_failed_tasks: int = 20, message_max_length: int = 300) -> None:
        self.max_failed_tasks = max_failed_tasks
        self.message_max_length = message_max_length
        self.run_id = os.environ.get("STABILITY_OPS_RUN_ID") or str(uuid.uuid4())
        self.started = time.time()
        self.playbooks: list[str] = []
        self.check_mode = False
        self.versions: dict[str, str | None] = {}
        self.hosts: dict[str, _Host] = {}
        self.counts_source = "callback"
        self.errors: list[str] = []

    def _host(self, name: str) -> _Host:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = _Host()
        return host

    # -- events
    def record_ok(self, host: str, changed: bool) -> None:
        counts = self._host(host).counts
        counts["ok"] += 1
        if changed:
            counts["changed"] += 1

    def record_skipped(self, host: str) -> None:
        self._host(host).counts["skipped"] += 1

    def record_failed(self, host: str, task: str, role: str | None, result: t.Mapping[str, t.Any],
                      no_log: bool, ignored: bool = False, rescued: bool = False) -> None:
        record = self._host(host)
        if ignored or rescued:  # counted, not listed: the run went on
            record.counts["ignored" if ignored else "rescued"] += 1
            return
        record.counts["failed"] += 1
        record.failed_tasks_total += 1
        if len(record.failed_tasks) < self.max_failed_tasks:
            entry: dict[str, t.Any] = {"task": task, "role": role}
            # Under no_log only the name is kept: not even the censored text.
            entry["message"] = None if no_log else short_message(result, self.message_max_length)
            entry["no_log"] = no_log
            record.failed_tasks.append(entry)

    def record_unreachable(self, host: str, task: str, result: t.Mapping[str, t.Any], no_log: bool) -> None:
        record = self._host(host)
        record.counts["unreachable"] += 1
        record.unreachable = f"{task}: " + ("(no_log)" if no_log else short_message(result, self.message_max_length))

    def record_health(self, host: str, health: t.Mapping[str, t.Any]) -> None:
        checks = [dict(check) for check in health.get("checks") or []]
        status = health.get("status") or _worst(c.get("status", "ok") for c in checks)
        self._host(host).health = {"status": status, "checks": checks}

    def apply_stats(self, summaries: t.Mapping[str, t.Mapping[str, int]], custom: t.Mapping[str, t.Any]) -> None:
        """Take ansible's own counts (authoritative, they know about rescues) and set_stats data."""
        for name, summary in summaries.items():
            counts = self._host(name).counts
            counts.update({
                "ok": summary.get("ok", 0),
                "changed": summary.get("changed", 0),
                "failed": summary.get("failures", 0),
                "unreachable": summary.get("unreachable", 0),
                "skipped": summary.get("skipped", 0),
                "rescued": summary.get("rescued", 0),
                "ignored": summary.get("ignored", 0),
            })
        self.counts_source = "stats"
        for scope, data in (custom or {}).items():
            if not isinstance(data, dict) or not isinstance(data.get(HEALTH_STATS_KEY), dict):
                continue
            published = data[HEALTH_STATS_KEY]
            if scope != "_run":  # per_host: true publishes {status, checks} under the host itself
                published = {scope: published}
            for name, health in published.items():
                if isinstance(health, dict):
                    self.record_health(name, health)

    # -- the document
    def build(self, interrupted: bool = False, hook_seconds: float = 0.0, hook_calls: int = 0) -> dict[str, t.Any]:
        ended = time.time()
        hosts = {name: self._host_document(record) for name, record in sorted(self.hosts.items())}
        status, reason = overall_status(hosts, interrupted)
        totals: dict[str, t.Any] = {key: sum(h["counts"][key] for h in hosts.values()) for key in COUNT_KEYS}
        totals["hosts"] = len(hosts)
        totals["checks"] = {
            level: sum(1 for h in hosts.values() for c in (h["health"] or {}).get("checks", [])
                       if c.get("status") == level)
            for level in STATUS_RANK
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "status": status,
            "reason": reason,
            "run": {
                "id": self.run_id,
                "playbook": ", ".join(self.playbooks) or None,
                "started_at": _iso(self.started),
                "ended_at": _iso(ended),
                "duration_seconds": round(ended - self.started, 3),
                "check_mode": self.check_mode,
                "interrupted": interrupted,
                "ansible_version": self.versions.get("ansible_core"),
                "collection_version": self.versions.get("collection"),
            },
            "totals": totals,
            "hosts": hosts,
            "meta": {
                "generator": "stability.ops.health_summary",
                "counts_source": self.counts_source,
                "callback_hook_seconds": round(hook_seconds, 6),
                "callback_hook_calls": hook_calls,
                "errors": list(self.errors[:20]),
            },
        }

    @staticmethod
    def _host_document(record: _Host) -> dict[str, t.Any]:
        counts = dict(record.counts)
        health = record.health
        if counts["failed"] or counts["unreachable"] or (health and health["status"] == "fail"):
            status = "failed"
        elif health and health["status"] == "warn":
            status = "degraded"
        else:
            status = "healthy"
        return {
            "status": status,
            "counts": counts,
            "failed_tasks": list(record.failed_tasks),
            "failed_tasks_total": record.failed_tasks_total,
            "unreachable_message": record.unreachable,
            "health": health,
        }


def _worst(statuses: t.Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 0), default="ok")


def overall_status(hosts: t.Mapping[str, t.Mapping[str, t.Any]], interrupted: bool) -> tuple[str, str]:
    """``failed`` > ``degraded`` > ``healthy``, with the reason a person reads first."""
    reasons: list[str] = []
    if interrupted:
        reasons.append("the run was interrupted before it finished")
    for name, host in hosts.items():
        counts = host["counts"]
        if counts["unreachable"]:
            reasons.append(f"{name} unreachable")
        if counts["failed"]:
            first = host["failed_tasks"][0]["task"] if host["failed_tasks"] else "a task"
            reasons.append(f"{name}: {counts['failed']} failed task(s), first '{first}'")
        failing = [c["name"] for c in (host["health"] or {}).get("checks", []) if c.get("status") == "fail"]
        if failing:
            reasons.append(f"{name}: health check(s) failed: {', '.join(failing[:5])}")
    if reasons:
        return "failed", "; ".join(reasons[:10]) + (f"; and {len(reasons) - 10} more" if len(reasons) > 10 else "")
    warned = [
        f"{name}: {', '.join(c['name'] for c in host['health']['checks'] if c.get('status') == 'warn')}"
        for name, host in hosts.items() if host["status"] == "degraded"
    ]
    if warned:
        return "degraded", "health check warnings on " + "; ".join(warned[:10])
    if not hosts:
        return "healthy", "no host ran a task"
    checked = sum(1 for host in hosts.values() if host["health"])
    return "healthy", f"all {len(hosts)} host(s) ran without failures; {checked} with health checks, all ok"


def render_table(document: t.Mapping[str, t.Any]) -> str:
    """A compact table for people, printed at the end of the run."""
    header = ("host", "status", "ok", "changed", "failed", "unreach", "skipped", "rescued", "checks ok/warn/fail")
    rows = [header]
    for name, host in document["hosts"].items():
        counts = host["counts"]
        checks = (host["health"] or {}).get("checks", [])
        tally = "/".join(str(sum(1 for c in checks if c.get("status") == level)) for level in STATUS_RANK)
        rows.append((name, host["status"], *(str(counts[k]) for k in
                     ("ok", "changed", "failed", "unreachable", "skipped", "rescued")), tally if checks else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["DEPLOYMENT HEALTH SUMMARY " + "*" * 40]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    for name, host in document["hosts"].items():
        for check in (host["health"] or {}).get("checks", []):
            if check.get("status") != "ok":
                lines.append(f"  {check['status'].upper():4} {name} {check['name']}: {check.get('message', '')}")
    lines.append(f"status: {document['status']} - {document['reason']}")
    return "\n".join(lines)


def render_junit(document: t.Mapping[str, t.Any]) -> str:
    """JUnit XML: a test suite per host, a test case per health check, failed task and reachability."""
    suites = []
    total_tests = total_failures = 0
    for name, host in document["hosts"].items():
        cases = []
        if host["counts"]["unreachable"]:
            cases.append(_case(name, "reachable", "fail", host["unreachable_message"] or "unreachable"))
        for task in host["failed_tasks"]:
            cases.append(_case(name, f"task: {task['task']}", "fail", task["message"] or "(output hidden by no_log)"))
        for check in (host["health"] or {}).get("checks", []):
            detail = f"observed {check.get('observed')!s}, expected {check.get('expected')!s}: {check.get('message')}"
            cases.append(_case(name, f"health: {check['name']}", check.get("status", "ok"), detail))
        failures = sum(1 for case in cases if "<failure" in case)
        total_tests += len(cases)
        total_failures += failures
        suites.append(f'  <testsuite name={quoteattr(name)} tests="{len(cases)}" failures="{failures}">\n'
                      + "".join(cases) + "  </testsuite>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="deployment health summary" tests="{total_tests}" failures="{total_failures}">\n'
            + "".join(suites) + "</testsuites>\n")


def _case(host: str, name: str, status: str, detail: str) -> str:
    opening = f"    <testcase classname={quoteattr(host)} name={quoteattr(name)}"
    if status == "fail":
        return f"{opening}>\n      <failure message={quoteattr(detail)}>{escape(detail)}</failure>\n    </testcase>\n"
    if status == "warn":
        return f"{opening}>\n      <system-out>{escape('WARN ' + detail)}</system-out>\n    </testcase>\n"
    return f"{opening}/>\n"


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".health_summary.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def dump(document: t.Mapping[str, t.Any], indent: int | None) -> str:
    return json.dumps(document, indent=indent or None, sort_keys=False, default=str) + "\n"
