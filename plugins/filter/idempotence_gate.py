# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
name: idempotence_gate
short_description: The idempotence gate's verdict on one run's Deployment Health Summary
version_added: 0.1.0
description:
  - Judges one run of the playbook C(stability.ops.production_deploy) from its exit status and the Deployment Health
    Summary the P(stability.ops.health_summary#callback) callback wrote for it (schema
    C(docs/schemas/health_summary.schema.json), versions C(2.0) and C(1.0)). The playbook
    C(stability.ops.idempotence_gate) uses it.
  - A run B(succeeded) when C(ansible-playbook) exited 0, the summary's C(status) is C(healthy) (every fleet host
    finished without a failure and its health checks are all C(ok); C(degraded), C(unverified), C(empty),
    C(failed), C(interrupted) and C(running) fail, as every gate on the summary does) and no host failed, was
    unreachable, aborted or not run.
  - With O(require_unchanged=true) (the second run of the gate) the run B(passes) only when it succeeded, was not a
    C(--check) run, reached at least one fleet host and no host (fleet or controller) has a changed task. With
    O(require_unchanged=false) (the first run) it passes when it succeeded; its changes are counted, not judged.
  - With O(run_id), a summary whose C(run.id) differs (the document of another run) never passes.
  - The message names every host with its changed count, and the changed tasks the summary records
    (C(changed_tasks), schema 2.0). It holds host names, counts, task and role names, the summary's C(reason) and
    paths, never a value of a task.
author:
  - Stability Ops maintainers (@stability-ops)
options:
  _input:
    description:
      - The run's summary, as JSON text (what C(lookup('ansible.builtin.file', path, errors='ignore')) returns), as
        the parsed mapping, or empty or V(null) when the run wrote none.
    type: raw
    required: true
  rc:
    description: Exit status of the C(ansible-playbook) run.
    type: int
    required: true
  require_unchanged:
    description: Fail the run when any host has a changed task (the gate's second run).
    type: bool
    default: true
  run_id:
    description: The C(STABILITY_OPS_RUN_ID) the run was started with; the summary's C(run.id) must equal it.
    type: str
  label:
    description: How the run is called in the message.
    type: str
    default: second run
  summary_path:
    description: Where the summary was expected, only quoted in the message.
    type: str
  log_path:
    description: Where the run's log is, only quoted in the message.
    type: str
"""

EXAMPLES = r"""
- name: Judge the second run of the deploy
  ansible.builtin.assert:
    that: __verdict.passed
    fail_msg: "{{ __verdict.msg }}"
    success_msg: "{{ __verdict.msg }}"
  vars:
    __verdict: >-
      {{ lookup('ansible.builtin.file', '/srv/infra/.stability-ops/idempotence-gate/second.json', errors='ignore')
         | stability.ops.idempotence_gate(rc=__second.rc, run_id='gate-20261201T100000Z-second') }}

# {"passed": false, "changed": 2, "msg": "Idempotence gate FAILED: the second run changed 2 task(s) on 1 of 3
#  host(s); a second run must change nothing. Per host: db1: 0 changed; web1: 2 changed
#  (stability.ops.core_time: Write chrony.conf, ...); localhost (controller): 0 changed.", ...}
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    passed:
      description: Whether the run passes the gate.
      type: bool
    succeeded:
      description: Whether the run succeeded (see the description).
      type: bool
    msg:
      description: One line for people (also when the run passed).
      type: str
    rc:
      description: The exit status the filter was given.
      type: int
    run_id:
      description: The summary's C(run.id), V(null) without a summary.
      type: str
    status:
      description: The summary's C(status), V(null) without a summary.
      type: str
    reason:
      description: The summary's C(reason), V(null) without a summary.
      type: str
    changed:
      description: Changed tasks summed over every host, the controller included.
      type: int
    hosts:
      description:
        - "Per host its C(status), C(changed), C(failed), C(unreachable) counts, C(changed_tasks) (strings
          C(role: task)) and C(controller) (true for the controller's own entry)."
      type: dict
"""

import json
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

SCHEMA_VERSIONS = ("2.0", "1.0")
# The one run status that passes a gate on the summary (docs/health-summary.md): degraded, unverified, empty,
# failed, interrupted and running (a run that never finished) do not.
SUCCESS_STATUS = "healthy"
UNSUCCESSFUL_HOST_STATUSES = frozenset(("failed", "aborted", "not_run"))
MAX_LISTED_TASKS = 10


class _InvalidSummary(ValueError):
    """The input is not a Deployment Health Summary this filter can judge."""


def _mapping(summary: Mapping, key: str) -> Mapping:
    value = summary.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _InvalidSummary(f"its '{key}' is not a mapping")
    return value


def _load(summary) -> dict | None:
    """The summary as a mapping, None when the run wrote none; _InvalidSummary when it is no summary."""
    if summary is None or (isinstance(summary, str | list) and not summary):
        return None
    if isinstance(summary, str):
        try:
            summary = json.loads(summary)
        except ValueError as exc:
            raise _InvalidSummary(f"it is not JSON ({exc})") from None
    if not isinstance(summary, Mapping):
        raise _InvalidSummary(f"it is a {type(summary).__name__}, not a JSON object")
    if summary.get("schema_version") not in SCHEMA_VERSIONS:
        raise _InvalidSummary(f"schema_version is {summary.get('schema_version')!r}, expected one of "
                              f"{', '.join(SCHEMA_VERSIONS)}")
    # Schema 1.0 always has hosts; a 2.0 placeholder (a run that never finished) has none yet.
    if summary["schema_version"] == "1.0" and not isinstance(summary.get("hosts"), Mapping):
        raise _InvalidSummary("it has no 'hosts' mapping")
    for key in ("hosts", "controller", "run"):
        _mapping(summary, key)
    return dict(summary)


def _count(counts: Mapping, key: str) -> int:
    value = counts.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _task_name(task) -> str:
    """A changed task as 'role: task' (a mapping with task/role) or as given (a string)."""
    if isinstance(task, Mapping):
        name = str(task.get("task") or "?")
        return f"{task['role']}: {name}" if task.get("role") else name
    return str(task)


def _host(entry, controller: bool) -> dict:
    entry = entry if isinstance(entry, Mapping) else {}
    counts = entry.get("counts") if isinstance(entry.get("counts"), Mapping) else {}
    tasks = entry.get("changed_tasks")
    return {
        "status": entry.get("status"),
        "changed": _count(counts, "changed"),
        "failed": _count(counts, "failed"),
        "unreachable": _count(counts, "unreachable"),
        "changed_tasks": [_task_name(task) for task in tasks] if isinstance(tasks, list) else [],
        "controller": controller,
    }


def _hosts(summary: Mapping) -> dict[str, dict]:
    """The fleet's hosts (sorted), then the controller's entries (schema 2.0 keeps them apart)."""
    fleet, controller = _mapping(summary, "hosts"), _mapping(summary, "controller")
    hosts = {name: _host(fleet[name], False) for name in sorted(fleet)}
    for name in sorted(controller):
        hosts.setdefault(name, _host(controller[name], True))
    return hosts


def _host_line(name: str, host: Mapping) -> str:
    line = f"{name}{' (controller)' if host['controller'] else ''}: {host['changed']} changed"
    tasks = host["changed_tasks"]
    if tasks:
        shown = tasks[:MAX_LISTED_TASKS]
        more = host["changed"] - len(shown)
        line += f" ({', '.join(shown)}{f' and {more} more' if more > 0 else ''})"
    for key in ("failed", "unreachable"):
        if host[key]:
            line += f", {host[key]} {key}"
    if host["status"] in UNSUCCESSFUL_HOST_STATUSES and not (host["failed"] or host["unreachable"]):
        line += f", {host['status']}"
    return line


def _where(summary_path: str | None, log_path: str | None) -> str:
    parts = [f"{what}: {path}" for what, path in (("summary", summary_path), ("log", log_path)) if path]
    return f" ({'; '.join(parts)})" if parts else ""


def _problem(verdict: dict, summary: Mapping, require_unchanged: bool) -> str | None:
    """Why the run does not pass, None when it does."""
    hosts = verdict["hosts"]
    fleet = [name for name, host in hosts.items() if not host["controller"]]
    if not verdict["succeeded"]:
        return f"did not succeed (rc {verdict['rc']}, status {verdict['status']}: {verdict['reason']})"
    if summary.get("run", {}).get("check_mode") is True:
        return "was a --check run, which proves nothing about a real second run: run the gate without --check"
    if not fleet:
        return "reached no host, so it proves nothing (an empty production group, or a --limit matching no host?)"
    if require_unchanged and verdict["changed"]:
        touched = sum(1 for host in hosts.values() if host["changed"])
        problem = f"changed {verdict['changed']} task(s) on {touched} of {len(hosts)} host(s); a second run must " \
                  "change nothing"
        if not any(host["changed_tasks"] for host in hosts.values()):
            problem += " (the changed tasks are the 'changed:' lines of the log)"
        return problem
    return None


def idempotence_gate(summary, rc, require_unchanged=True, run_id=None, label="second run", summary_path=None,
                     log_path=None):
    """The verdict of the idempotence gate on one run (see DOCUMENTATION)."""
    try:
        if isinstance(rc, bool):
            raise TypeError
        rc = int(rc)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"idempotence_gate: rc must be an integer, got {rc!r}") from None
    where = _where(summary_path, log_path)
    verdict = {"passed": False, "succeeded": False, "rc": rc, "run_id": None, "status": None, "reason": None,
               "changed": 0, "hosts": {}}
    try:
        loaded = _load(summary)
    except _InvalidSummary as exc:
        verdict["msg"] = f"Idempotence gate FAILED: the {label}'s Deployment Health Summary is unusable: {exc}{where}."
        return verdict
    if loaded is None:
        verdict["msg"] = (
            f"Idempotence gate FAILED: the {label} (ansible-playbook rc {rc}) wrote no Deployment Health Summary"
            f"{where}. Enable the callback (callbacks_enabled = stability.ops.health_summary in ansible.cfg) and "
            f"read the log for the error.")
        return verdict

    run = _mapping(loaded, "run")
    verdict["run_id"] = run.get("id")
    if run_id and run.get("id") != run_id:
        verdict["msg"] = (f"Idempotence gate FAILED: the Deployment Health Summary{where} belongs to another run "
                          f"(run.id {run.get('id')!r}, the {label} was started as {run_id!r}).")
        return verdict

    hosts = _hosts(loaded)
    broken = any(host["failed"] or host["unreachable"] or host["status"] in UNSUCCESSFUL_HOST_STATUSES
                 for host in hosts.values())
    verdict.update(status=loaded.get("status"), reason=loaded.get("reason"),
                   changed=sum(host["changed"] for host in hosts.values()), hosts=hosts)
    verdict["succeeded"] = rc == 0 and verdict["status"] == SUCCESS_STATUS and not broken
    per_host = "; ".join(_host_line(name, host) for name, host in hosts.items())

    problem = _problem(verdict, loaded, require_unchanged)
    if problem is not None:
        verdict["msg"] = f"Idempotence gate FAILED: the {label} {problem}{where}. Per host: {per_host or 'none'}."
        return verdict
    verdict["passed"] = True
    fleet = [name for name, host in hosts.items() if not host["controller"]]
    if require_unchanged:
        verdict["msg"] = (f"Idempotence gate passed: the {label} changed nothing on {len(fleet)} host(s) "
                          f"({', '.join(fleet)}) and the controller, status {verdict['status']}{where}.")
    else:
        touched = sum(1 for host in hosts.values() if host["changed"])
        verdict["msg"] = (f"The {label} succeeded (status {verdict['status']}) with {verdict['changed']} change(s) on "
                          f"{touched} of {len(hosts)} host(s){where}. Per host: {per_host}.")
    return verdict


class FilterModule:
    """The idempotence gate's verdict filter."""

    def filters(self):
        return {"idempotence_gate": idempotence_gate}
