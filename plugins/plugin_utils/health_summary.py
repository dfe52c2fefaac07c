# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Deployment Health Summary: accumulate a run, render JSON, a table and JUnit.

Controller-only code behind the ``stability.ops.health_summary`` callback. It
keeps counts, bounded lists of failed and changed tasks per host and the hosts
each play targeted (memory does not grow with the number of tasks), never a
whole task result, and never anything of a task result under ``no_log``.

The document has one status for the run, from ``running`` (the placeholder
written when the run starts) to the ending: ``healthy``, ``degraded``,
``unverified``, ``empty``, ``failed`` or ``interrupted`` (docs/health-summary.md).
"""

from __future__ import annotations

import collections.abc as c
import getpass
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import typing as t
import uuid
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

SCHEMA_VERSION = "2.0"
GENERATOR = "stability.ops.health_summary"
# The set_stats key the health_check role publishes, {host: {status, checks}}.
HEALTH_STATS_KEY = "stability_ops_health"
COUNT_KEYS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
STATUS_RANK = {"ok": 0, "warn": 1, "fail": 2}
RUN_STATUSES = ("running", "healthy", "degraded", "unverified", "empty", "failed", "interrupted")
HOST_STATUSES = ("healthy", "degraded", "unverified", "not_run", "aborted", "failed")
PLAY_STATUSES = ("completed", "running", "stopped", "not_run", "no_hosts", "limited")
ENDINGS = ("finished", "signal", "error")
# Hosts that are the controller itself (ansible's C.LOCALHOST): shown apart from the fleet.
CONTROLLER_NAMES = frozenset(("localhost", "127.0.0.1", "::1"))
# What ansible puts under "exception" when there is no traceback: never a message.
NO_TRACEBACK = "(traceback unavailable)"
# A message that says nothing more than the return code does (2.19 and 2.21 wording).
GENERIC_MESSAGE = re.compile(r"^(?:non-zero return code|the command exited with a non-zero return code\.?"
                             r"|module failure.*|)$", re.IGNORECASE)
# What the stability.ops.adoption_guard action reports under "adoption": a finding's kinds.
ADOPTION_KINDS = ("close", "drop", "lockout", "unmanaged", "override", "unfetchable")
MAX_ADOPTION = 50
# The fact the compliance_report role publishes: a list of results, one per scanner and profile.
COMPLIANCE_FACT = "compliance_report_results"
COMPLIANCE_STATUSES = ("ok", "unavailable", "failed")
MAX_COMPLIANCE_REPORTS = 20
MAX_COMPLIANCE_FAILING = 50
_TEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_PLAYS = 100
MAX_LISTED = 20
MAX_REASONS = 10
_WHITESPACE = re.compile(r"\s+")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Control characters (tab and newline stay in output tails), DEL, C1 controls, lone surrogates and the
# two non-characters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")


# --------------------------------------------------------------------------- task results


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


def adoption_findings(adoption: t.Any) -> list[dict[str, t.Any]]:
    """The findings of an ``adoption_guard`` result's ``adoption`` (``{role, findings, unaccepted}``), each with its
    role (the finding's own under role ``all``), bounded and on one line. A malformed finding is left out."""
    if not isinstance(adoption, c.Mapping) or not isinstance(adoption.get("findings"), list):
        return []
    default_role = adoption.get("role")
    found = []
    for finding in adoption["findings"]:
        if not isinstance(finding, c.Mapping):
            continue
        role = finding.get("role") if default_role == "all" or "role" in finding else default_role
        kind, item = finding.get("kind"), finding.get("item")
        if not isinstance(role, str) or not role or kind not in ADOPTION_KINDS or item in (None, ""):
            continue
        accept_with = finding.get("accept_with")
        found.append({
            "role": one_line(role, 100),
            "item": one_line(item, 200),
            "kind": kind,
            "detail": one_line(finding.get("detail") or "", 300),
            "accept_with": one_line(accept_with, 100) if isinstance(accept_with, str) and accept_with else None,
            "accepted": finding.get("accepted") is True,
        })
    return found


def _count(value: t.Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def compliance_report(result: t.Any) -> dict[str, t.Any] | None:
    """One scanner's result as the summary keeps it: scanner, version, profile, status, message, score (the
    hardening index), counts and the failing test ids with the scanner's description, bounded. Only ids, counts and
    descriptions: anything else a result may hold (details, paths, users) is left out. A malformed result is
    ``None``."""
    if not isinstance(result, c.Mapping):
        return None
    scanner, status = result.get("scanner"), result.get("status")
    if not isinstance(scanner, str) or not scanner.strip() or status not in COMPLIANCE_STATUSES:
        return None
    failing = []
    for kind, key in (("warning", "warnings"), ("suggestion", "suggestions")):
        findings = result.get(key)
        for finding in findings if isinstance(findings, list) else ():
            test_id = finding.get("id") if isinstance(finding, c.Mapping) else None
            if isinstance(test_id, str) and _TEST_ID.match(test_id):
                failing.append({"id": test_id, "kind": kind, "text": one_line(finding.get("text") or "", 200)})
    counts = {kind + "s": sum(1 for f in failing if f["kind"] == kind) for kind in ("warning", "suggestion")}
    tests = result.get("tests") if isinstance(result.get("tests"), c.Mapping) else {}
    score = result.get("score")
    version, profile = result.get("version"), result.get("profile")
    return {
        "scanner": one_line(scanner, 50),
        "version": one_line(version, 50) if isinstance(version, str) and version else None,
        "profile": one_line(profile, 200) if isinstance(profile, str) and profile else "default",
        "status": status,
        "message": one_line(result.get("message") or "", 300),
        "score": score if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 100 else None,
        "counts": {"passed": _count(tests.get("passed")), "total": _count(tests.get("performed")), **counts},
        "failing": failing[:MAX_COMPLIANCE_FAILING],
        "failing_total": len(failing),
    }


def clean_text(value: t.Any) -> str:
    """Text without terminal escape sequences and control characters (tab and newline kept)."""
    return _CONTROL.sub("", _ANSI.sub("", value if isinstance(value, str) else str(value)))


def one_line(value: t.Any, limit: int) -> str:
    """``value`` as one clean line of at most ``limit`` characters (``...`` marks a cut)."""
    text = _WHITESPACE.sub(" ", clean_text(value)).strip()
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def tail(value: t.Any, limit: int) -> str | None:
    """The last ``limit`` characters of a command output, clean; ``None`` when there is none."""
    if value is None or value == "" or limit <= 0:
        return None
    text = clean_text(value).rstrip()
    if not text:
        return None
    return text if len(text) <= limit else "..." + text[-max(limit - 3, 0):]


def _last_line(value: t.Any) -> str:
    lines = [line for line in clean_text(value or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def short_message(result: t.Mapping[str, t.Any], limit: int) -> str:
    """One line from a task result: msg, else stderr's last line, else the reason or the exception's last line."""
    for key in ("msg", "stderr", "reason"):
        value = result.get(key)
        if value:
            return one_line(_last_line(value) if key == "stderr" else value, limit)
    exception = str(result.get("exception") or "").strip()
    if exception and exception != NO_TRACEBACK:
        return one_line(exception.splitlines()[-1], limit)
    return ""


def _rc(value: t.Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _item_failed(item: t.Mapping[str, t.Any]) -> bool:
    """Whether one loop item result failed. 2.19 marks it ``failed``; 2.21's callback copy has no ``failed`` key,
    a failed item carries the ``exception`` (or ``failed_when_result``) instead."""
    if "failed" in item:
        return item["failed"] is True
    if "failed_when_result" in item:
        return bool(item["failed_when_result"])
    return "exception" in item and not item.get("skipped")


def item_label(item: t.Mapping[str, t.Any], limit: int = 120) -> str | None:
    """The label ansible shows for a loop item (``loop_control.label`` or the item itself)."""
    label = item.get("_ansible_item_label", item.get(item.get("ansible_loop_var") or "item"))
    if label is None:
        return None
    if not isinstance(label, str):
        label = json.dumps(label, sort_keys=True, default=str)
    return one_line(label, limit)


def describe_failure(result: t.Mapping[str, t.Any], limit: int, failed_when: c.Sequence[t.Any] = ()) -> str:
    """The message of a failed result a person can act on: the condition of a ``failed_when``, the return code
    and the last line of stderr for a bare ``non-zero return code``; never ``(traceback unavailable)``."""
    rc = _rc(result.get("rc"))
    if result.get("failed_when_result") and failed_when:
        message = "failed_when matched: " + " and ".join(str(cond) for cond in failed_when)
        if rc is not None:
            message += f" (rc {rc})"
        return one_line(message, limit)
    msg = one_line(result.get("msg") or "", limit * 4)
    if msg and not GENERIC_MESSAGE.match(msg):
        return one_line(msg, limit)
    # A bare "non-zero return code" (or no msg at all): say what the command said.
    detail = _last_line(result.get("stderr")) or _last_line(result.get("stdout"))
    if not msg and not detail:
        fallback = short_message(result, limit)
        return fallback or ("failed" + (f" (rc {rc})" if rc is not None else ""))
    message = msg.rstrip(".") or "failed"
    if rc is not None and f"rc {rc}" not in message:
        message += f" (rc {rc})"
    if detail:
        message += f": {detail}"
    return one_line(message, limit)


def failure_entry(task: str, role: str | None, action: str | None, result: t.Mapping[str, t.Any], no_log: bool,
                  message_limit: int = 300, tail_limit: int = 500,
                  failed_when: c.Sequence[t.Any] = ()) -> dict[str, t.Any]:
    """One failed task as the summary lists it: task, role, action, message, rc, the tails of stdout and stderr
    and the failing loop item's label. Under ``no_log`` only the task's own names (never its result)."""
    entry: dict[str, t.Any] = {"task": task, "role": role, "action": action, "no_log": no_log, "message": None,
                               "rc": None, "stdout_tail": None, "stderr_tail": None, "item": None}
    if no_log:
        return entry
    source: t.Mapping[str, t.Any] = result
    prefix = ""
    items = result.get("results")
    if isinstance(items, list):
        failing = [item for item in items if isinstance(item, c.Mapping) and _item_failed(item)]
        if failing:
            source = failing[0]
            if source.get("_ansible_no_log") or "censored" in source:  # an item under no_log hides the task
                return dict(entry, no_log=True)
            entry["item"] = item_label(source)
            prefix = f"{len(failing)} of {len(items)} item(s) failed, first {entry['item']}: "
    entry["rc"] = _rc(source.get("rc"))
    entry["stdout_tail"] = tail(source.get("stdout"), tail_limit)
    entry["stderr_tail"] = tail(source.get("stderr"), tail_limit)
    message = describe_failure(source, message_limit, failed_when)
    if not message and source is not result:
        message = describe_failure(result, message_limit, failed_when)
    entry["message"] = one_line(prefix + message, message_limit)
    return entry


# --------------------------------------------------------------------------- run metadata


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def git_state(directory: str | None, timeout: float = 2.0) -> dict[str, t.Any] | None:
    """``{commit, dirty, root}`` of the git repository holding ``directory``; ``None`` when there is none, git is
    missing, or it takes longer than ``timeout`` seconds. Never raises, never writes (no optional locks)."""
    if not directory or timeout <= 0 or not os.path.isdir(directory):
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True, env=env,
                                  stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return done.stdout if done.returncode == 0 else None

    found = git("rev-parse", "--show-toplevel", "HEAD")
    lines = (found or "").split("\n")
    if len(lines) < 2 or not _HEX.match(lines[1].strip()):
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": lines[1].strip(), "dirty": None if status is None else bool(status.strip()),
            "root": lines[0].strip()[:300]}


def _bounded_list(values: t.Any, limit: int = 50, length: int = 300) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [one_line(value, length) for value in list(values or ())[:limit]]


def run_metadata(cliargs: t.Mapping[str, t.Any], playbook_dir: str | None, git_timeout: float = 2.0,
                 extra_vars: t.Mapping[str, t.Any] | None = None) -> dict[str, t.Any]:
    """Who ran what, where and how: user, controller, --limit, --tags, modes, inventory sources and the git
    commits of the playbook's and the inventory's repositories. Every value is bounded; nothing raises."""
    try:
        user: str | None = getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        user = None
    extra_vars = extra_vars or {}
    awx_user = extra_vars.get("awx_user_name") or extra_vars.get("tower_user_name")
    sources = _bounded_list(cliargs.get("inventory"), 20)
    playbook_git = git_state(playbook_dir, git_timeout)
    inventory_git = None
    for source in sources:
        path = os.path.abspath(source)
        if os.path.exists(path):
            directory = path if os.path.isdir(path) else os.path.dirname(path)
            inventory_git = git_state(directory, git_timeout)
            break
    limit = cliargs.get("subset")
    return {
        "user": one_line(user, 100) if user else None,
        "awx_user": one_line(awx_user, 100) if isinstance(awx_user, str) and awx_user else None,
        "controller_host": one_line(socket.gethostname(), 255) or None,
        "limit": one_line(limit, 300) if limit else None,
        "tags": _bounded_list(cliargs.get("tags")),
        "skip_tags": _bounded_list(cliargs.get("skip_tags")),
        "check_mode": bool(cliargs.get("check", False)),
        "diff_mode": bool(cliargs.get("diff", False)),
        "inventory_sources": sources,
        "git": {"playbook": playbook_git, "inventory": inventory_git},
    }


def is_controller(name: str, implicit: bool = False) -> bool:
    """Whether a host is the controller itself: the implicit localhost or a localhost name."""
    return implicit or name in CONTROLLER_NAMES


# --------------------------------------------------------------------------- accumulation


class _Host:
    __slots__ = ("aborted", "adoption", "adoption_total", "adoption_unlisted", "changed_tasks", "compliance",
                 "controller", "counts", "failed_tasks", "failed_tasks_total", "first_seen", "health", "last_rescued",
                 "last_seen",
                 "unreachable")

    def __init__(self, controller: bool = False) -> None:
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.failed_tasks: list[dict[str, t.Any]] = []
        self.failed_tasks_total = 0
        self.changed_tasks: list[dict[str, t.Any]] = []
        self.health: dict[str, t.Any] | None = None
        self.unreachable: str | None = None
        self.controller = controller
        self.first_seen: float | None = None
        self.last_seen: float | None = None
        self.aborted: str | None = None
        self.last_rescued: dict[str, t.Any] | None = None
        # (role, item) -> the latest finding of an adoption guard, at most MAX_ADOPTION of them.
        self.adoption: dict[tuple[str, str], dict[str, t.Any]] = {}
        self.adoption_total = 0
        self.adoption_unlisted: set[tuple[str, str]] = set()
        # (scanner, profile) -> the latest compliance result, at most MAX_COMPLIANCE_REPORTS of them.
        self.compliance: dict[tuple[str, str], dict[str, t.Any]] = {}


class _Play:
    __slots__ = ("ended", "hosts", "key", "name", "pattern", "reached", "started", "status")

    def __init__(self, key: t.Any, name: str, pattern: str, hosts: list[str] | None) -> None:
        self.key = key
        self.name = name
        self.pattern = pattern
        self.hosts = hosts  # None: not known before the play starts (a templated pattern)
        self.reached: set[str] = set()
        self.started: float | None = None
        self.ended: float | None = None
        self.status: str | None = None  # no_hosts, limited or stopped once known


class SummaryBuilder:
    """Accumulates one run. Every per-task ``record_*`` call is O(1) in time and memory."""

    def __init__(self, max_failed_tasks: int = 20, message_max_length: int = 300, output_tail_length: int = 500,
                 max_changed_tasks: int = 20, run_id: str | None = None) -> None:
        self.max_failed_tasks = max_failed_tasks
        self.message_max_length = message_max_length
        self.output_tail_length = output_tail_length
        self.max_changed_tasks = max_changed_tasks
        self.run_id = run_id or str(uuid.uuid4())
        self.started = time.time()
        self.playbooks: list[str] = []
        self.check_mode = False
        self.metadata: dict[str, t.Any] = {}
        self.versions: dict[str, str | None] = {}
        self.hosts: dict[str, _Host] = {}
        self.plays: list[_Play] = []
        self.play: _Play | None = None
        self.batch: list[str] = []
        self.task: tuple[str, str | None] | None = None
        self.in_flight: dict[str, tuple[str, str | None]] = {}
        # The task that failed with any_errors_fatal (or run_once) in the current batch: unless another task
        # starts after it (a rescue took over), ansible stops the batch there.
        self.fatal: str | None = None
        self.counts_source = "callback"
        self.errors: list[str] = []

    def _host(self, name: str) -> _Host:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = _Host(is_controller(name))
        return host

    def _seen(self, name: str) -> _Host:
        host = self._host(name)
        host.last_seen = time.time()
        self.in_flight.pop(name, None)
        return host

    # -- plays
    def _find_play(self, key: t.Any) -> _Play | None:
        for play in reversed(self.plays):
            if play.key == key:
                return play
        return None

    def _target(self, hosts: c.Iterable[tuple[str, bool]]) -> list[str]:
        names = []
        for name, controller in hosts:
            record = self._host(name)
            record.controller = record.controller or controller
            names.append(name)
        return names

    def expect_play(self, key: t.Any, name: str, pattern: str, hosts: c.Iterable[tuple[str, bool]] | None) -> None:
        """A play of the playbook, known before it starts, with the ``(host, controller)`` pairs it targets."""
        if self._find_play(key) is None and len(self.plays) < MAX_PLAYS:
            self.plays.append(_Play(key, name, pattern, None if hosts is None else self._target(hosts)))

    def start_play(self, key: t.Any, name: str, pattern: str, hosts: c.Iterable[tuple[str, bool]],
                   batch: c.Iterable[str]) -> None:
        """A play starts on a batch of its hosts (every batch of a ``serial`` play calls this)."""
        play = self._find_play(key)
        if play is None:
            play = _Play(key, name, pattern, None)
            if len(self.plays) < MAX_PLAYS:
                self.plays.append(play)
        now = time.time()
        self._close_batch()
        if self.play is not None and self.play is not play:
            self.play.ended = self.play.ended or now
        play.hosts = self._target(hosts)
        play.started = play.started or now
        play.ended = None
        self.play = play
        self.batch = list(batch)
        play.reached.update(self.batch)
        self.task = None

    def play_matched_no_host(self, matched_without_limit: int) -> None:
        """The started play has no host: none in the inventory (``no_hosts``) or none within --limit."""
        if self.play is not None:
            self.play.status = "limited" if matched_without_limit else "no_hosts"
            self.play.ended = time.time()

    def stop_batch(self, why: str | None = None) -> None:
        """ansible stopped the play for the current batch (max_fail_percentage, any_errors_fatal, all failed)."""
        play = self.play
        if play is None:
            return
        play.status = "stopped"
        why = why or f"play '{play.name}' stopped before this host finished it (max_fail_percentage)"
        for name, aborted in self._aborted_in_batch(why).items():
            self.hosts[name].aborted = aborted
        self.fatal = None

    def _aborted_in_batch(self, why: str) -> dict[str, str]:
        """The hosts of the current batch that did not fail, with ``why`` they did not finish the play."""
        aborted = {}
        for name in self.batch:
            record = self._host(name)
            if not (record.counts["failed"] or record.counts["unreachable"] or record.aborted):
                aborted[name] = why
        return aborted

    def _fatal_note(self) -> str | None:
        if self.fatal is None or self.play is None:
            return None
        return f"play '{self.play.name}' stopped after '{self.fatal}' failed with any_errors_fatal (or run_once)"

    def _close_batch(self) -> None:
        """The batch is over: a fatal failure that no later task followed stopped it."""
        note = self._fatal_note()
        if note is not None:
            self.stop_batch(note)

    def start_task(self, task: str, role: str | None) -> None:
        self.task = (task, role)
        self.fatal = None  # the batch went on after a fatal failure: a rescue handled it

    def host_started(self, host: str, task: str, role: str | None) -> None:
        record = self._host(host)
        if record.first_seen is None:
            record.first_seen = time.time()
        self.in_flight[host] = (task, role)

    # -- task results
    def record_ok(self, host: str, changed: bool, task: str | None = None, role: str | None = None) -> None:
        record = self._seen(host)
        counts = record.counts
        counts["ok"] += 1
        if changed:
            counts["changed"] += 1
            if task is not None and len(record.changed_tasks) < self.max_changed_tasks:
                record.changed_tasks.append({"task": task, "role": role})

    def record_skipped(self, host: str) -> None:
        self._seen(host).counts["skipped"] += 1

    def record_failed(self, host: str, task: str, role: str | None, result: t.Mapping[str, t.Any],
                      no_log: bool, ignored: bool = False, rescued: bool = False, action: str | None = None,
                      in_rescue: bool = False, failed_when: c.Sequence[t.Any] = (), fatal: bool = False) -> None:
        record = self._seen(host)
        if ignored:  # counted, not listed: the run went on
            record.counts["ignored"] += 1
            return
        if fatal:
            self.fatal = task
        entry = failure_entry(task, role, action, result, no_log, self.message_max_length,
                              self.output_tail_length, failed_when)
        if rescued:  # counted, not listed; kept as the cause should the rescue fail too (the root cause stays)
            record.counts["rescued"] += 1
            if not (in_rescue and record.last_rescued):
                record.last_rescued = entry
            return
        record.counts["failed"] += 1
        record.failed_tasks_total += 1
        if len(record.failed_tasks) < self.max_failed_tasks:
            entry["original_failure"] = record.last_rescued if in_rescue else None
            record.failed_tasks.append(entry)

    def record_unreachable(self, host: str, task: str, result: t.Mapping[str, t.Any], no_log: bool,
                           fatal: bool = False) -> None:
        record = self._seen(host)
        if fatal:
            self.fatal = task
        record.counts["unreachable"] += 1
        record.unreachable = f"{task}: " + ("(no_log)" if no_log else short_message(result, self.message_max_length))

    def record_adoption(self, host: str, adoption: t.Mapping[str, t.Any], failed: bool) -> None:
        """The findings of an adoption guard on ``host`` (``failed``: the guard failed the task). A later finding of
        the same role and item replaces the earlier one; past MAX_ADOPTION listed ones, only the count of distinct
        ones grows (exact up to 20 times that many)."""
        record = self._host(host)
        for finding in adoption_findings(adoption):
            key = (finding["role"], finding["item"])
            if key in record.adoption_unlisted:
                continue
            if key not in record.adoption:
                record.adoption_total += 1
                if len(record.adoption) >= MAX_ADOPTION:  # counted once, by key (a bounded set), not listed
                    if len(record.adoption_unlisted) < MAX_ADOPTION * 20:
                        record.adoption_unlisted.add(key)
                    continue
            record.adoption[key] = dict(finding, guard_failed=failed and not finding["accepted"])

    def record_compliance(self, host: str, results: t.Any) -> None:
        """The compliance results the compliance_report role published on ``host`` (a list, one per scanner and
        profile). A later result of the same scanner and profile replaces the earlier one; a malformed one is left
        out."""
        record = self._host(host)
        for result in results if isinstance(results, list) else ():
            report = compliance_report(result)
            if report is None:
                continue
            key = (report["scanner"], report["profile"])
            if key in record.compliance or len(record.compliance) < MAX_COMPLIANCE_REPORTS:
                record.compliance[key] = report

    def record_health(self, host: str, health: t.Mapping[str, t.Any]) -> None:
        checks = [dict(check) for check in health.get("checks") or []]
        status = health.get("status") or _worst(check.get("status", "ok") for check in checks)
        self._host(host).health = {"status": status, "checks": checks}

    def apply_stats(self, summaries: t.Mapping[str, t.Mapping[str, int]], custom: t.Mapping[str, t.Any]) -> None:
        """Take ansible's own counts (authoritative, they know about rescues) and set_stats data."""
        for name, summary in summaries.items():
            self._host(name).counts.update({
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
    def build(self, ending: str | None = None, signal_name: str | None = None, hook_seconds: float = 0.0,
              hook_calls: int = 0) -> dict[str, t.Any]:
        """The document: ``ending`` None is the placeholder (``running``); ``finished`` (the end-of-run stats),
        ``signal`` (SIGINT, SIGTERM, SIGHUP) or ``error`` (ansible-playbook stopped without its stats)."""
        now = time.time()
        stopped_early = ending in ("signal", "error")
        missed = self._missed_plays()
        hosts: dict[str, dict[str, t.Any]] = {}
        controller: dict[str, dict[str, t.Any]] = {}
        batch = set(self.batch) if stopped_early and self.play is not None and self.play.status is None else set()
        fatal_note = self._fatal_note() if ending is not None else None
        fatal = self._aborted_in_batch(fatal_note) if fatal_note else {}
        for name in sorted(self.hosts):
            record = self.hosts[name]
            aborted = record.aborted or fatal.get(name)
            if aborted is None and name in batch:
                task = self.in_flight.get(name) or self.task
                what = f"task '{task[0]}'" if task else f"play '{self.play.name}'"  # type: ignore[union-attr]
                aborted = f"the run stopped ({signal_name or 'an error'}) during {what}"
            document = _host_document(record, self.check_mode, aborted, missed.get(name), now)
            (controller if record.controller else hosts)[name] = document
        plays = [self._play_document(play, ending, now, stopped=bool(fatal_note) and play is self.play)
                 for play in self.plays]
        in_flight = [{"host": host, "task": task, "role": role}
                     for host, (task, role) in sorted(self.in_flight.items())] if stopped_early else []
        status, reason = overall_status(hosts, controller, plays, ending, signal_name, in_flight, self.check_mode)
        totals: dict[str, t.Any] = {key: sum(h["counts"][key] for h in hosts.values()) for key in COUNT_KEYS}
        totals["hosts"] = len(hosts)
        totals["controller_hosts"] = len(controller)
        totals["statuses"] = {level: sum(1 for h in hosts.values() if h["status"] == level) for level in HOST_STATUSES}
        totals["adoption"] = {
            "findings": sum(h["adoption_total"] for h in hosts.values()),
            "unaccepted": sum(1 for h in hosts.values() for f in h["adoption"] if not f["accepted"]),
        }
        totals["checks"] = {
            level: sum(1 for h in hosts.values() for check in (h["health"] or {}).get("checks", [])
                       if check.get("status") == level)
            for level in STATUS_RANK
        }
        ended = now if ending is not None else None
        run = {
            "id": self.run_id,
            "playbook": ", ".join(self.playbooks) or None,
            "started_at": _iso(self.started),
            "ended_at": _iso(ended),
            "duration_seconds": None if ended is None else round(ended - self.started, 3),
            "ending": ending,
            "signal": signal_name,
            "interrupted": ending == "signal",
            "in_flight": in_flight[:MAX_LISTED],
            "in_flight_total": len(in_flight),
            "check_mode": self.check_mode,
            **{key: value for key, value in self.metadata.items() if key != "check_mode"},
            "ansible_version": self.versions.get("ansible_core"),
            "collection_version": self.versions.get("collection"),
        }
        for key, default in (("user", None), ("awx_user", None), ("controller_host", None), ("limit", None),
                             ("tags", []), ("skip_tags", []), ("diff_mode", False), ("inventory_sources", []),
                             ("git", {"playbook": None, "inventory": None})):
            run.setdefault(key, default)
        document: dict[str, t.Any] = {
            "schema_version": SCHEMA_VERSION,
            "status": status,
            "reason": reason,
            "run": run,
            "totals": totals,
            "plays": plays,
            "hosts": hosts,
            "controller": controller,
        }
        compliance = {name: list(record.compliance.values()) for name, record in sorted(self.hosts.items())
                      if record.compliance}
        if compliance:  # optional: only a run that published compliance results has the section
            document["compliance"] = compliance
        document["meta"] = {
            "generator": GENERATOR,
            "counts_source": self.counts_source,
            "callback_hook_seconds": round(hook_seconds, 6),
            "callback_hook_calls": hook_calls,
            "errors": list(self.errors[:20]),
        }
        return document

    def _missed_plays(self) -> dict[str, list[str]]:
        """Host -> the plays that targeted it but never reached it (a later batch, a play never started)."""
        missed: dict[str, list[str]] = {}
        for play in self.plays:
            for name in play.hosts or ():
                if name not in play.reached:
                    missed.setdefault(name, []).append(play.name)
        return missed

    def _play_document(self, play: _Play, ending: str | None, now: float, stopped: bool = False) -> dict[str, t.Any]:
        if play.started is None:
            status = "not_run"
        elif play.status is not None:
            status = play.status
        elif stopped:
            status = "stopped"
        elif play is self.play and ending != "finished":
            status = "running"
        elif play.hosts and any(name not in play.reached for name in play.hosts):
            status = "stopped"
        else:
            status = "completed"
        ended = play.ended or (now if play.started is not None and (play is self.play and ending) else None)
        return {
            "name": play.name,
            "hosts_pattern": play.pattern,
            "status": status,
            "hosts": None if play.hosts is None else len(play.hosts),
            "started_at": _iso(play.started),
            "duration_seconds": round(ended - play.started, 3) if play.started is not None and ended else None,
        }


def _host_document(record: _Host, check_mode: bool, aborted: str | None, missed: list[str] | None,
                   now: float) -> dict[str, t.Any]:
    counts = dict(record.counts)
    health = record.health
    failing_checks = bool(health and health["status"] == "fail")
    note = None
    if counts["failed"] or counts["unreachable"] or (failing_checks and not check_mode):
        status = "failed"
    elif aborted:
        status, note = "aborted", aborted
    elif missed:
        status = "not_run"
        note = "not reached by play(s): " + ", ".join(f"'{name}'" for name in missed[:5]) + (
            f" and {len(missed) - 5} more" if len(missed) > 5 else "")
    elif failing_checks:  # check mode: the checks saw the host before the deploy, ansible did not fail it
        status = "unverified"
        note = "check mode: health checks fail on the host as it was before the deploy (not gated in check mode)"
    elif health and health["status"] == "warn":
        status = "degraded"
    elif health is None and not record.controller:
        status = "unverified"
        note = "no health check ran on this host"
    else:
        status = "healthy"
    started = record.first_seen
    ended = record.last_seen if status != "aborted" else now
    return {
        "status": status,
        "note": note,
        "counts": counts,
        "failed_tasks": list(record.failed_tasks),
        "failed_tasks_total": record.failed_tasks_total,
        "changed_tasks": list(record.changed_tasks),
        "unreachable_message": record.unreachable,
        "health": health,
        "adoption": list(record.adoption.values()),
        "adoption_total": record.adoption_total,
        "started_at": _iso(started),
        "duration_seconds": round(max(ended - started, 0.0), 3) if started is not None and ended else None,
    }


def _worst(statuses: t.Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 0), default="ok")


def _names(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _joined(reasons: list[str]) -> str:
    more = len(reasons) - MAX_REASONS
    return "; ".join(reasons[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")


def overall_status(hosts: t.Mapping[str, t.Mapping[str, t.Any]], controller: t.Mapping[str, t.Mapping[str, t.Any]],
                   plays: c.Sequence[t.Mapping[str, t.Any]], ending: str | None, signal_name: str | None,
                   in_flight: c.Sequence[t.Mapping[str, t.Any]], check_mode: bool) -> tuple[str, str]:
    """The run's status and the reason a person reads first.

    ``running`` (no ending yet) > ``interrupted`` (a signal) > ``failed`` > ``empty`` > ``unverified`` >
    ``degraded`` > ``healthy``.
    """
    if ending is None:
        return "running", ("the run has not finished: a document still 'running' after ansible-playbook exited "
                           "means it was killed (SIGKILL) or crashed before it could write the end of the run")
    reasons: list[str] = []
    if ending in ("signal", "error"):
        tasks: dict[str, list[str]] = {}
        for entry in in_flight:
            tasks.setdefault(entry["task"], []).append(entry["host"])
        during = "; ".join(f"during task '{task}' on {_names(names)}" for task, names in list(tasks.items())[:3])
        if ending == "signal":
            reasons.append(f"interrupted by {signal_name or 'a signal'}" + (f" {during}" if during else ""))
        else:
            reasons.append("ansible-playbook stopped with an error before the end of the run (see its output)"
                           + (f" {during}" if during else ""))
    everyone = {**controller, **hosts}
    for name, host in everyone.items():
        counts = host["counts"]
        if counts["unreachable"]:
            reasons.append(f"{name} unreachable")
        if counts["failed"]:
            first = host["failed_tasks"][0]["task"] if host["failed_tasks"] else "a task"
            reasons.append(f"{name}: {counts['failed']} failed task(s), first '{first}'")
        failing = [c["name"] for c in (host["health"] or {}).get("checks", []) if c.get("status") == "fail"]
        if failing and not check_mode:
            reasons.append(f"{name}: health check(s) failed: {', '.join(failing[:5])}")
    for play in plays:
        if play["status"] == "no_hosts":
            reasons.append(f"play '{play['name']}' matched no host (hosts: {play['hosts_pattern']})")
    if ending == "finished":
        for level, what in (("aborted", "aborted (the play stopped before they finished it)"),
                            ("not_run", "not run (a play that targeted them never reached them)")):
            names = [name for name, host in everyone.items() if host["status"] == level]
            if names:
                reasons.append(f"{len(names)} host(s) {what}: {_names(names)}")
    if ending == "signal":
        return "interrupted", _joined(reasons)
    if reasons:
        return "failed", _joined(reasons)
    if not hosts:
        return "empty", ("no fleet host was targeted: every play matched only the controller, no host or none "
                         "within --limit")
    unverified = [name for name, host in hosts.items() if host["status"] == "unverified"]
    if unverified:
        why = ("check mode: health checks fail on the hosts as they were before the deploy" if check_mode and any(
            (hosts[name]["health"] or {}).get("status") == "fail" for name in unverified)
            else "no health check ran")
        return "unverified", f"{why} on {len(unverified)} host(s): {_names(unverified)}"
    warned = [
        f"{name}: {', '.join(c['name'] for c in host['health']['checks'] if c.get('status') == 'warn')}"
        for name, host in hosts.items() if host["status"] == "degraded"
    ]
    if warned:
        return "degraded", "health check warnings on " + "; ".join(warned[:MAX_REASONS])
    return "healthy", f"all {len(hosts)} host(s) ran without failures and their health checks are ok"


# --------------------------------------------------------------------------- rendering


def render_table(document: t.Mapping[str, t.Any]) -> str:
    """A compact table for people, printed at the end of the run (controller hosts marked)."""
    header = ("host", "status", "ok", "changed", "failed", "unreach", "skipped", "rescued", "checks ok/warn/fail",
              "adoption open/all")
    rows = [header]
    every = [(name, host, False) for name, host in document["hosts"].items()]
    every += [(name, host, True) for name, host in document.get("controller", {}).items()]
    for name, host, on_controller in every:
        counts = host["counts"]
        checks = (host["health"] or {}).get("checks", [])
        tally = "/".join(str(sum(1 for c in checks if c.get("status") == level)) for level in STATUS_RANK)
        rows.append((name + (" (controller)" if on_controller else ""), host["status"],
                     *(str(counts[k]) for k in ("ok", "changed", "failed", "unreachable", "skipped", "rescued")),
                     tally if checks else "-", _adoption_tally(host)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["DEPLOYMENT HEALTH SUMMARY " + "*" * 40]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    for name, host, _on_controller in every:
        for check in (host["health"] or {}).get("checks", []):
            if check.get("status") != "ok":
                lines.append(f"  {check['status'].upper():4} {name} {check['name']}: {check.get('message', '')}")
        for finding in host.get("adoption", []):
            if not finding["accepted"]:
                lines.append(f"  ADOPT {name} {finding['role']} {finding_text(finding)}")
        if host.get("note") and host["status"] in ("aborted", "not_run"):
            lines.append(f"  {host['status'].upper()} {name}: {host['note']}")
    for name, reports in document.get("compliance", {}).items():
        for report in reports:
            lines.append(f"  COMPLIANCE {name} {compliance_text(report)}")
    lines.append(f"status: {document['status']} - {document['reason']}")
    return "\n".join(lines)


def compliance_text(report: t.Mapping[str, t.Any]) -> str:
    """A compliance result for people: scanner, profile, status, then the score and counts or the reason."""
    head = f"{report['scanner']} ({report['profile']}): {report['status']}"
    if report["status"] != "ok":
        return f"{head}: {report['message']}" if report["message"] else head
    counts = report["counts"]
    return (f"{head}, score {report['score']}, {counts['passed']}/{counts['total']} tests passed, "
            f"{counts['warnings']} warning(s), {counts['suggestions']} suggestion(s)")


def finding_text(finding: t.Mapping[str, t.Any]) -> str:
    """An adoption finding for people: kind, item, detail and the variable that accepts it."""
    accept = f" (accept with {finding['accept_with']})" if finding["accept_with"] else ""
    return f"{finding['kind']} {finding['item']}: {finding['detail']}{accept}"


def _adoption_tally(host: t.Mapping[str, t.Any]) -> str:
    findings = host.get("adoption") or []
    if not findings:
        return "-"
    return f"{sum(1 for f in findings if not f['accepted'])}/{host.get('adoption_total', len(findings))}"


def xml_text(value: t.Any) -> str:
    """Text XML 1.0 can hold: characters it forbids (and C1 controls) removed."""
    return _XML_ILLEGAL.sub("", _ANSI.sub("", value if isinstance(value, str) else str(value)))


class _Case:
    __slots__ = ("classname", "detail", "name", "outcome", "seconds")

    def __init__(self, classname: str, name: str, outcome: str = "pass", detail: str = "",
                 seconds: float | None = None) -> None:
        self.classname, self.name, self.outcome, self.detail, self.seconds = classname, name, outcome, detail, seconds

    def xml(self) -> str:
        classname, name = quoteattr(xml_text(self.classname)), quoteattr(xml_text(self.name))
        opening = f'    <testcase classname={classname} name={name} time="{self.seconds or 0:.3f}"'
        detail = xml_text(self.detail)
        if self.outcome == "fail":  # the message is the first line, the text all of it
            message = quoteattr(one_line(detail.split("\n", 1)[0], 1000) or "failed")
            return f"{opening}>\n      <failure message={message}>{escape(detail)}</failure>\n    </testcase>\n"
        if self.outcome == "skip":
            return f"{opening}>\n      <skipped message={quoteattr(one_line(detail, 1000))}/>\n    </testcase>\n"
        if self.outcome == "warn":
            return f"{opening}>\n      <system-out>{escape('WARN ' + detail)}</system-out>\n    </testcase>\n"
        return f"{opening}/>\n"


def _suite(name: str, cases: list[_Case], seconds: float | None) -> tuple[str, int, int, int]:
    failures = sum(1 for case in cases if case.outcome == "fail")
    skipped = sum(1 for case in cases if case.outcome == "skip")
    text = (f"  <testsuite name={quoteattr(xml_text(name))} tests=\"{len(cases)}\" failures=\"{failures}\" "
            f"errors=\"0\" skipped=\"{skipped}\" time=\"{seconds or 0:.3f}\">\n"
            + "".join(case.xml() for case in cases) + "  </testsuite>\n")
    return text, len(cases), failures, skipped


def _run_cases(document: t.Mapping[str, t.Any]) -> list[_Case]:
    run, status = document["run"], document["status"]
    finished = status not in ("running", "interrupted") and run.get("ending") == "finished"
    cases = [_Case("run", "run finished", "pass" if finished else "fail",
                   "" if finished else f"status {status}: {document['reason']} (run id {run['id']})",
                   run.get("duration_seconds"))]
    if status != "running":
        empty = status == "empty"
        cases.append(_Case("run", "fleet hosts targeted", "fail" if empty else "pass",
                           document["reason"] if empty else ""))
    for play in document.get("plays", []):
        outcome = {"no_hosts": "fail", "stopped": "fail", "running": "fail", "not_run": "skip",
                   "limited": "skip"}.get(play["status"], "pass")
        detail = {"no_hosts": f"the play matched no host (hosts: {play['hosts_pattern']})",
                  "stopped": "the play stopped before every host it targeted finished it",
                  "running": "the run stopped during this play",
                  "not_run": "the run ended before this play started",
                  "limited": "--limit left no host of this play"}.get(play["status"], "")
        cases.append(_Case("run", f"play: {play['name']}", outcome, detail, play.get("duration_seconds")))
    return cases


def _host_cases(name: str, host: t.Mapping[str, t.Any], check_mode: bool, controller: bool) -> list[_Case]:
    status = host["status"]
    deploy_failed = status in ("failed", "aborted", "not_run")
    detail = host.get("note") or (f"{host['counts']['failed']} failed task(s)" if host["counts"]["failed"] else "")
    if host["counts"]["unreachable"]:
        detail = host["unreachable_message"] or "unreachable"
    cases = [_Case(name, "deploy", "fail" if deploy_failed else "pass", detail if deploy_failed else "",
                   host.get("duration_seconds"))]
    for task in host["failed_tasks"]:
        message = task["message"] or ("(output hidden by no_log)" if task["no_log"] else "(no message)")
        extra = [f"rc {task['rc']}" if task.get("rc") is not None else "", f"item {task['item']}" if task.get("item")
                 else "", f"stderr: {task['stderr_tail']}" if task.get("stderr_tail") else ""]
        original = task.get("original_failure")
        if original:
            extra.append(f"original failure '{original['task']}': {original['message'] or '(no_log)'}")
        cases.append(_Case(name, f"task: {task['task']}", "fail", "\n".join([message, *filter(None, extra)])))
    for finding in host.get("adoption", []):
        if finding["accepted"]:
            continue
        cases.append(_Case(name, f"adoption: {finding['role']} {finding['item']}",
                           "fail" if finding["guard_failed"] else "warn", finding_text(finding)))
    checks = (host["health"] or {}).get("checks", [])
    for check in checks:
        detail = f"observed {check.get('observed')!s}, expected {check.get('expected')!s}: {check.get('message')}"
        outcome = {"fail": "fail", "warn": "warn"}.get(check.get("status", "ok"), "pass")
        if outcome == "fail" and check_mode and not host["counts"]["failed"]:
            outcome, detail = "skip", f"check mode, host as it was before the deploy: {detail}"
        cases.append(_Case(name, f"health: {check['name']}", outcome, detail))
    if not checks and not controller:
        cases.append(_Case(name, "health checks", "skip", "no health check ran on this host"))
    return cases


def _compliance_cases(name: str, reports: c.Iterable[t.Mapping[str, t.Any]]) -> list[_Case]:
    """A case per compliance result: passed when the scanner ran, skipped when it is not installed, a warning when
    it failed (a compliance report never fails the deploy)."""
    outcomes = {"ok": "pass", "unavailable": "skip", "failed": "warn"}
    return [_Case(name, f"compliance: {report['scanner']} {report['profile']}", outcomes[report["status"]],
                  "" if report["status"] == "ok" else compliance_text(report)) for report in reports]


def render_junit(document: t.Mapping[str, t.Any]) -> str:
    """JUnit XML GitLab and Jenkins accept: a ``run`` suite (run finished, fleet targeted, a case per play), then a
    suite per host (deploy, each failed task, each health check). Never an empty or a green interrupted report."""
    check_mode = bool(document["run"].get("check_mode"))
    suites = [_suite("run", _run_cases(document), document["run"].get("duration_seconds"))]
    for name, host in document.get("controller", {}).items():
        suites.append(_suite(f"{name} (controller)", _host_cases(name, host, check_mode, True),
                             host.get("duration_seconds")))
    compliance = document.get("compliance", {})
    for name, host in document["hosts"].items():
        cases = _host_cases(name, host, check_mode, False) + _compliance_cases(name, compliance.get(name, ()))
        suites.append(_suite(name, cases, host.get("duration_seconds")))
    tests = sum(suite[1] for suite in suites)
    failures = sum(suite[2] for suite in suites)
    skipped = sum(suite[3] for suite in suites)
    seconds = document["run"].get("duration_seconds") or 0
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="deployment health summary" tests="{tests}" failures="{failures}" errors="0" '
            f'skipped="{skipped}" time="{seconds:.3f}">\n' + "".join(suite[0] for suite in suites) + "</testsuites>\n")


# --------------------------------------------------------------------------- files and signals


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


class SignalChain:
    """Run ``on_signal(signum)`` when the process that installed it receives a signal, then hand the signal on
    exactly as before: to the previous Python handler (ansible's own for SIGINT and SIGTERM, which stops its
    workers and exits with its exit code), or, where the previous action was the default (SIGHUP), stop the
    worker processes as ansible does for SIGTERM and die of the signal with the default action.

    A signal ignored before (``nohup``) stays ignored. In a forked child (an ansible worker inherits the
    handlers) ``on_signal`` never runs: the signal goes straight on.
    """

    def __init__(self, on_signal: c.Callable[[int], None],
                 names: c.Sequence[str] = ("SIGINT", "SIGTERM", "SIGHUP")) -> None:
        self._on_signal = on_signal
        self._names = names
        self._previous: dict[int, t.Any] = {}
        self.pid: int | None = None

    @property
    def installed(self) -> list[str]:
        return [signal.Signals(signum).name for signum in self._previous]

    def install(self) -> list[str]:
        """Install the handlers (main thread only); returns the names of the signals now handled."""
        if self._previous or threading.current_thread() is not threading.main_thread():
            return self.installed
        self.pid = os.getpid()
        for name in self._names:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN or previous is None:  # ignored, or set outside Python: leave it
                continue
            self._previous[signum] = previous
            signal.signal(signum, self._handle)
        return self.installed

    def uninstall(self) -> None:
        """Put back the previous handlers where this chain's handler is still the current one."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._handle:
                signal.signal(signum, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: t.Any) -> t.Any:
        previous = self._previous.get(signum, signal.SIG_DFL)
        main = os.getpid() == self.pid
        if main:
            try:
                self._on_signal(signum)
            except Exception as exc:  # the signal goes on whatever happens; no display lock in a handler
                os.write(2, f"[WARNING]: signal handler: {type(exc).__name__}: {exc}\n".encode())
        if callable(previous):
            return previous(signum, frame)
        if main:
            for child in multiprocessing.active_children():
                try:
                    os.kill(child.pid, signal.SIGTERM)  # an ansible worker then stops its own process group
                except (OSError, TypeError):
                    pass
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return None
