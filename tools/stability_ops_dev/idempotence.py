# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The idempotence gate: record ansible runs, judge a molecule scenario, report it.

Controller-only code shared by the ``idempotence_recorder`` callback (which
records every ansible-playbook run of ``molecule test``), by
``stability_ops_dev.idempotence_report`` (which turns those records into the per-role
report, the run summary and the committed baseline) and by the unit tests.

Every scenario runs once per managed-host release (``debian12``,
``debian13``): the unit of a report, a summary line and a baseline entry is
the (role, distribution) pair, written ``role@distro`` in readable output.

Secrets: a result under ``no_log`` is already censored by ansible before a
callback sees it; :func:`task_entry` checks again and keeps only the task's
name, host, role and status for such a result, never its diff or message.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import typing as t

SCHEMA_VERSION = "2.0"
# Per-task diff and message text kept in a report, so a huge file diff cannot
# swamp the report; the full diff is in the scenario's molecule log.
DIFF_LIMIT = 4000
MESSAGE_LIMIT = 500
# The molecule steps that run ansible playbooks, as named in the test sequence.
CONVERGE_PLAYBOOK = "converge"
# Fields of a role that must match between a fresh run and the baseline.
STABLE_ROLE_FIELDS = ("passed", "check_mode_changed", "first_run_changed", "second_run_changed")
# The run metadata every report and summary carries (the image is per distribution).
META_KEYS = ("timestamp", "git_commit", "git_dirty", "versions")
COUNT_KEYS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# molecule 26 names the failed step in "An error occurred during the test
# sequence action: 'check'" and in "<scenario> ➜ check: Executed: Failed"
# ("[<scenario> > check] Executed: Failed" without colours).
_MOLECULE_FAILED_STEP = (
    re.compile(r"error occurred during the test sequence action: '(?P<step>[a-z_]+)'"),
    re.compile(r"(?:➜ |\[\S+ > )(?P<step>[a-z_]+)(?::|\]) Executed: Failed"),
)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{len(text) - limit} more characters, see the molecule log]"


def pair_id(role: str, distro: str) -> str:
    """The readable name of a (role, distribution) pair: ``core_time@debian13``."""
    return f"{role}@{distro}"


def os_release_value(text: str, key: str = "VERSION_ID") -> str | None:
    """A field of an os-release(5) file (``VERSION_ID="13"`` gives ``13``); None when absent."""
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name == key:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value
    return None


def _as_lines(value: t.Any) -> list[str]:
    """Diff sides are strings (file content) or dicts (file attributes)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{key}: {value[key]}\n" for key in sorted(value)]
    text = str(value)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def diff_text(diff: t.Any) -> str:
    """Render an ansible ``diff`` result (a dict or a list of dicts) as unified diff text."""
    if not diff:
        return ""
    parts = diff if isinstance(diff, list) else [diff]
    chunks: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("prepared"):
            chunks.append(str(part["prepared"]).rstrip("\n") + "\n")
            continue
        if "before" not in part and "after" not in part:
            continue
        lines = list(
            difflib.unified_diff(
                _as_lines(part.get("before")),
                _as_lines(part.get("after")),
                fromfile=str(part.get("before_header", "before")),
                tofile=str(part.get("after_header", "after")),
            )
        )
        chunks.append("".join(lines))
    return _truncate("".join(chunks).rstrip("\n"), DIFF_LIMIT)


def is_no_log(task_no_log: t.Any, result: t.Mapping[str, t.Any]) -> bool:
    """True when the task or its result asks for no_log, or ansible already censored it."""
    if task_no_log is True or result.get("_ansible_no_log") or "censored" in result:
        return True
    items = result.get("results")
    return isinstance(items, list) and any(
        isinstance(item, dict) and (item.get("_ansible_no_log") or "censored" in item) for item in items
    )


def short_message(result: t.Mapping[str, t.Any]) -> str:
    """One line of a failed result: msg, stderr or the exception's last line."""
    for key in ("msg", "stderr", "exception"):
        value = result.get(key)
        if value:
            text = str(value).strip().splitlines()
            return _truncate(text[-1] if key == "exception" else " ".join(text), MESSAGE_LIMIT)
    return ""


def task_entry(
    *,
    host: str,
    task: str,
    role: str | None,
    action: str,
    status: str,
    result: t.Mapping[str, t.Any],
    task_no_log: t.Any = False,
    handler: bool = False,
) -> dict[str, t.Any]:
    """The record of one changed, failed or unreachable task result; no value of a no_log task."""
    no_log = is_no_log(task_no_log, result)
    entry: dict[str, t.Any] = {
        "host": host,
        "role": role or "",
        "task": task,
        "action": action,
        "status": status,
        "handler": handler,
        "no_log": no_log,
    }
    if no_log:
        return entry
    diffs: list[t.Any] = []
    if result.get("diff"):
        diffs.append(result["diff"])
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("changed") and item.get("diff"):
            diffs.append(item["diff"])
    text = "\n".join(filter(None, (diff_text(d) for d in diffs)))
    if text:
        entry["diff"] = text
    if status in ("failed", "unreachable"):
        entry["msg"] = short_message(result)
    return entry


class RunRecorder:
    """Collects the record of one ansible-playbook run: meta, per-host counts, notable tasks."""

    def __init__(self, *, playbook: str, check_mode: bool, diff: bool, started: float, pid: int) -> None:
        self.record: dict[str, t.Any] = {
            "playbook": playbook,
            "check_mode": check_mode,
            "diff": diff,
            "started": started,
            "finished": None,
            "pid": pid,
            "stats": {},
            "tasks": [],
        }

    def add(self, entry: dict[str, t.Any]) -> None:
        self.record["tasks"].append(entry)

    def finish(self, stats: dict[str, dict[str, int]], finished: float) -> dict[str, t.Any]:
        self.record["stats"] = {host: {k: int(counts.get(k, 0)) for k in COUNT_KEYS} for host, counts in stats.items()}
        self.record["finished"] = finished
        return self.record

    def write(self, directory: str) -> str:
        """Write the record atomically as ``<start ns>-<pid>.json`` in ``directory``."""
        os.makedirs(directory, exist_ok=True)
        name = f"{int(self.record['started'] * 1e9):020d}-{self.record['pid']}.json"
        return write_json(os.path.join(directory, name), self.record)


def write_json(path: str, data: t.Any) -> str:
    """Write JSON atomically (temporary file in the same directory, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_runs(directory: str) -> list[dict[str, t.Any]]:
    """The run records of one scenario, oldest first."""
    if not os.path.isdir(directory):
        return []
    runs = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json") and not name.startswith("."):
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                runs.append(json.load(handle))
    return sorted(runs, key=lambda run: run["started"])


def _stem(playbook: str) -> str:
    return os.path.splitext(os.path.basename(playbook))[0]


def classify_steps(runs: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Name each recorded run after the molecule step that made it.

    The converge playbook runs three times in ``molecule test``: with
    ``--check`` (step ``check``), then the first run (``converge``), then the
    second run (``idempotence``). Other playbooks are named by their file
    (``create``, ``prepare``, ``verify``, ``destroy``).
    """
    steps = []
    converges = 0
    for run in runs:
        stem = _stem(run["playbook"])
        if stem == CONVERGE_PLAYBOOK and run.get("check_mode"):
            name = "check"
        elif stem == CONVERGE_PLAYBOOK:
            converges += 1
            name = "converge" if converges == 1 else "idempotence" if converges == 2 else f"converge_{converges}"
        else:
            name = stem
        totals = {key: sum(counts.get(key, 0) for counts in run["stats"].values()) for key in COUNT_KEYS}
        # The play recap is authoritative: a failure handled by a rescue block
        # is listed as a task result but is not a failure of the run. Only a
        # run without a recap falls back to counting the listed results.
        if not run["stats"]:
            for status in ("failed", "unreachable"):
                totals[status] = sum(1 for entry in run["tasks"] if entry["status"] == status)
        steps.append({"step": name, "run": run, "totals": totals})
    return steps


def molecule_failed_step(log_text: str) -> str | None:
    """The step molecule reports as failed in its log, for failures no run record shows (e.g. syntax)."""
    text = _ANSI.sub("", log_text)
    for pattern in _MOLECULE_FAILED_STEP:
        match = pattern.search(text)
        if match:
            return match.group("step")
    return None


def _task_label(entry: t.Mapping[str, t.Any]) -> str:
    role = entry.get("role") or "play"
    return f"{role}: {entry['task']} ({entry['host']})"


def _public_task(entry: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    keys = ("role", "task", "host", "action", "handler", "no_log", "diff", "msg")
    return {key: entry[key] for key in keys if key in entry}


def role_report(
    *,
    scenario: str,
    distro: str,
    scenario_dir: str,
    runs: list[dict[str, t.Any]],
    molecule_rc: int,
    log_text: str,
    duration: float,
    meta: t.Mapping[str, t.Any],
    log_path: str = "",
) -> dict[str, t.Any]:
    """Judge one scenario on one distribution from its run records and molecule's exit code.

    ``meta`` is the run's metadata with the image of every distribution of the
    run under ``images``; the report keeps the one of ``distro``.
    """
    steps = classify_steps(runs)
    by_name: dict[str, dict[str, t.Any]] = {}
    for step in steps:
        by_name.setdefault(step["step"], step)

    def changed(name: str) -> int | None:
        return by_name[name]["totals"]["changed"] if name in by_name else None

    second = by_name.get("idempotence")
    second_tasks = [e for e in second["run"]["tasks"] if e["status"] == "changed"] if second else []
    failed_tasks = [
        {"step": step["step"], **_public_task(entry)}
        for step in steps
        for entry in step["run"]["tasks"]
        if entry["status"] in ("failed", "unreachable")
    ]

    failed_step, failure = None, ""
    for step in steps:
        if step["totals"]["failed"] or step["totals"]["unreachable"]:
            failed_step = step["step"]
            failure = f"{failed_step} failed: " + "; ".join(
                _task_label(e) + (f": {e['msg']}" if e.get("msg") else "")
                for e in step["run"]["tasks"]
                if e["status"] in ("failed", "unreachable")
            )
            break
        if step["step"] == "idempotence" and step["totals"]["changed"]:
            failed_step = "idempotence"
            failure = f"second run changed {step['totals']['changed']} task result(s): " + "; ".join(
                _task_label(e) for e in second_tasks
            )
            break
    if failed_step is None and molecule_rc != 0:
        failed_step = molecule_failed_step(log_text) or "molecule"
        failure = f"molecule test exited {molecule_rc} during step {failed_step}"
    if failed_step is None and second is None:
        failed_step = "idempotence"
        failure = "no second converge run was recorded (is idempotence in the test sequence?)"

    durations: dict[str, float] = {}
    for step in steps:
        run = step["run"]
        if run.get("finished") is not None:
            elapsed = run["finished"] - run["started"]
            durations[step["step"]] = round(durations.get(step["step"], 0.0) + elapsed, 2)
    return {
        "kind": "role_report",
        "schema_version": SCHEMA_VERSION,
        "role": scenario,
        "distro": distro,
        "scenario": scenario,
        "scenario_dir": scenario_dir,
        "passed": failed_step is None,
        "failed_step": failed_step,
        "failure": failure,
        "check_mode_changed": changed("check"),
        "first_run_changed": changed("converge"),
        "second_run_changed": changed("idempotence"),
        "second_run_changed_tasks": [_public_task(e) for e in second_tasks],
        "failed_tasks": failed_tasks,
        "steps": [step["step"] for step in steps],
        "durations_s": durations,
        "duration_s": round(duration, 2),
        "molecule_rc": molecule_rc,
        "log": log_path,
        **{key: meta[key] for key in META_KEYS},
        "image": dict(meta["images"][distro]),
    }


def _pair_key(entry: t.Mapping[str, t.Any]) -> tuple[str, str]:
    return (entry["role"], entry["distro"])


def run_summary(
    reports: list[dict[str, t.Any]],
    meta: t.Mapping[str, t.Any],
    *,
    run_id: str,
    selection: str,
    distro_selection: str,
    jobs: int,
    duration: float,
) -> dict[str, t.Any]:
    """One document for the whole run; one entry per (role, distro) pair with what an auditor compares.

    ``selection`` says whether the roles were the default set or chosen with
    ``--role``, ``distro_selection`` the same for the distributions; the
    distributions of the run are those of ``meta["images"]``, in run order.
    """
    fields = ("role", "distro", "passed", "failed_step", *STABLE_ROLE_FIELDS[1:], "duration_s")
    return {
        "kind": "run_summary",
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "selection": selection,
        "distro_selection": distro_selection,
        "distros": list(meta["images"]),
        "jobs": jobs,
        "passed": bool(reports) and all(r["passed"] for r in reports),
        "duration_s": round(duration, 2),
        "roles": [{key: report[key] for key in fields} for report in sorted(reports, key=_pair_key)],
        **{key: meta[key] for key in META_KEYS},
        "images": {distro: dict(image) for distro, image in meta["images"].items()},
    }


def render_table(summary: t.Mapping[str, t.Any]) -> str:
    """A fixed-width table of the run, one line per (role, distro) pair."""
    header = ("role", "distro", "result", "step", "check", "1st run", "2nd run", "time")
    rows = [header]
    for role in summary["roles"]:
        rows.append(
            (
                role["role"],
                role["distro"],
                "PASS" if role["passed"] else "FAIL",
                role["failed_step"] or "-",
                *("-" if role[key] is None else str(role[key]) for key in STABLE_ROLE_FIELDS[1:]),
                f"{role['duration_s']:.0f}s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_failures(reports: list[dict[str, t.Any]]) -> str:
    """What failed, per pair: the step, each second-run change with its diff, each failed task."""
    out: list[str] = []
    for report in sorted(reports, key=_pair_key):
        if report["passed"]:
            continue
        name = pair_id(report["role"], report["distro"])
        out.append(f"{name}: FAILED at step {report['failed_step']} (log: {report['log']})")
        for entry in report["second_run_changed_tasks"]:
            out.append(f"  changed on second run: {_task_label(entry)}")
            if entry.get("no_log"):
                out.append("    (no_log: diff hidden)")
            elif entry.get("diff"):
                out.extend(f"    {line}" for line in entry["diff"].splitlines())
            else:
                out.append("    (no diff reported by the module)")
        for entry in report["failed_tasks"]:
            out.append(
                f"  failed in {entry['step']}: {_task_label(entry)}" + (f": {entry['msg']}" if entry.get("msg") else "")
            )
        if not report["second_run_changed_tasks"] and not report["failed_tasks"]:
            out.append(f"  {report['failure']}")
    return "\n".join(out)


def update_baseline(baseline: t.Mapping[str, t.Any] | None, summary: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The baseline with the (role, distro) pairs of a passed run replaced; pairs not in the run are kept.

    The baseline holds ``roles: {role: {distro: entry}}``. Raises ValueError
    when the run did not pass: only an accepted run becomes the baseline.
    """
    if not summary["passed"]:
        raise ValueError("the run did not pass; the baseline only records accepted runs")
    roles = {role: dict(by_distro) for role, by_distro in (baseline or {}).get("roles", {}).items()}
    for role in summary["roles"]:
        image = summary["images"][role["distro"]]
        roles.setdefault(role["role"], {})[role["distro"]] = {
            **{key: role[key] for key in STABLE_ROLE_FIELDS},
            "last_passed": summary["timestamp"],
            "git_commit": summary["git_commit"],
            "duration_s": role["duration_s"],
            "ansible_core": summary["versions"]["ansible_core"],
            "molecule": summary["versions"]["molecule"],
            "image_id": image["id"],
            "os_version_id": image["os_version_id"],
        }
    return {
        "kind": "baseline",
        "schema_version": SCHEMA_VERSION,
        "collection_version": summary["versions"]["collection"],
        "updated": summary["timestamp"],
        "roles": {role: dict(sorted(by_distro.items())) for role, by_distro in sorted(roles.items())},
    }


def baseline_pairs(baseline: t.Mapping[str, t.Any]) -> dict[tuple[str, str], dict[str, t.Any]]:
    """The entries of a baseline by (role, distro)."""
    return {
        (role, distro): entry
        for role, by_distro in baseline.get("roles", {}).items()
        for distro, entry in by_distro.items()
    }


def _names(pairs: t.Iterable[tuple[str, str]]) -> str:
    return ", ".join(pair_id(*pair) for pair in sorted(pairs))


def compare_baseline(baseline: t.Mapping[str, t.Any], summary: t.Mapping[str, t.Any]) -> list[str]:
    """Differences between a fresh run and the committed baseline, as readable lines, pair by pair.

    Compared: the collection version, and for each (role, distro) pair its
    pass state and the change counts of the check, first and second runs.
    Durations, timestamps, commits and image ids are history, not compared.
    A pair of the run missing from the baseline is a difference. A baseline
    pair missing from the run is one only when the run covered the default
    roles (every core/security scenario) and that pair's distribution (every
    distribution, for a run over the default ones), so that ``--role X`` and
    ``--distro Y`` can be checked alone.
    """
    problems = []
    version = summary["versions"]["collection"]
    if baseline.get("collection_version") != version:
        problems.append(f"collection version: baseline {baseline.get('collection_version')}, run {version}")
    base = baseline_pairs(baseline)
    run = {_pair_key(role): role for role in summary["roles"]}
    missing = set(run) - set(base)
    if missing:
        problems.append(f"not in the baseline (role@distro): {_names(missing)}")
    if summary.get("selection") == "default":
        every_distro = summary.get("distro_selection") == "default"
        stale = {pair for pair in set(base) - set(run) if every_distro or pair[1] in summary.get("distros", ())}
        if stale:
            problems.append(f"in the baseline but not in this run (role@distro): {_names(stale)}")
    for pair in sorted(set(run) & set(base)):
        for key in STABLE_ROLE_FIELDS:
            if base[pair].get(key) != run[pair][key]:
                problems.append(f"{pair_id(*pair)}: {key} baseline {base[pair].get(key)}, run {run[pair][key]}")
    return problems
