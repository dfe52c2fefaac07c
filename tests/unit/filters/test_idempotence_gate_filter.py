"""The stability.ops.idempotence_gate filter: the gate's verdict on one run's Deployment Health Summary."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import idempotence_gate as plugin
from ansible_collections.stability.ops.plugins.filter.idempotence_gate import FilterModule, idempotence_gate

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO_ROOT / "docs/schemas/health_summary.schema.json").read_text())


def _host(changed: int = 0, failed: int = 0, unreachable: int = 0, status: str = "healthy", tasks=()) -> dict:
    return {
        "status": status,
        "note": None,
        "counts": {"ok": 40, "changed": changed, "failed": failed, "unreachable": unreachable, "skipped": 12,
                   "rescued": 0, "ignored": 0},
        "failed_tasks": [],
        "failed_tasks_total": failed,
        "changed_tasks": [{"task": task, "role": role} for role, task in tasks],
        "unreachable_message": None,
        "health": None,
        "started_at": "2026-12-01T10:00:01Z",
        "duration_seconds": 50.0,
    }


def _summary(hosts: dict, status: str = "healthy", reason: str = "all hosts healthy", check_mode: bool = False,
             controller: dict | None = None, run_id: str = "gate-1-second") -> dict:
    """A schema 2.0 document as the callback writes it (validated against the shipped schema)."""
    controller = {"localhost": _host()} if controller is None else controller
    keys = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
    totals = {key: sum(host["counts"][key] for host in hosts.values()) for key in keys}
    statuses = {key: 0 for key in ("healthy", "degraded", "unverified", "not_run", "aborted", "failed")}
    for host in hosts.values():
        statuses[host["status"]] += 1
    summary = {
        "schema_version": "2.0",
        "status": status,
        "reason": reason,
        "run": {"id": run_id, "playbook": "production_deploy.yml", "started_at": "2026-12-01T10:00:00Z",
                "ended_at": "2026-12-01T10:01:00Z", "duration_seconds": 60.0, "ending": "finished", "signal": None,
                "interrupted": False, "in_flight": [], "in_flight_total": 0, "check_mode": check_mode,
                "diff_mode": False, "user": "deployer", "awx_user": None, "controller_host": "ci-runner",
                "limit": None, "tags": [], "skip_tags": [], "inventory_sources": ["/srv/infra/inventories/production"],
                "git": {"playbook": None, "inventory": None}, "ansible_version": "2.19.14",
                "collection_version": "0.1.0"},
        "totals": {**totals, "hosts": len(hosts), "controller_hosts": len(controller), "statuses": statuses,
                   "checks": {"ok": 0, "warn": 0, "fail": 0}},
        "plays": [{"name": "Core | base operating system", "hosts_pattern": "production", "status": "completed",
                   "hosts": len(hosts), "started_at": "2026-12-01T10:00:01Z", "duration_seconds": 50.0}],
        "hosts": hosts,
        "controller": controller,
        "meta": {"generator": "stability.ops.health_summary", "counts_source": "stats", "callback_hook_seconds": 0.01,
                 "callback_hook_calls": 5, "errors": []},
    }
    jsonschema.validate(summary, SCHEMA)
    return summary


CLEAN = _summary({"web1": _host(), "db1": _host()})


@pytest.mark.parametrize("form", [json.dumps, lambda s: s], ids=["json-text", "mapping"])
def test_a_clean_second_run_passes_and_names_every_host(form):
    verdict = idempotence_gate(form(CLEAN), rc=0, run_id="gate-1-second", summary_path="/r/second.json",
                               log_path="/r/second.log")
    assert verdict["passed"] is True
    assert verdict["succeeded"] is True
    assert verdict["changed"] == 0
    assert verdict["status"] == "healthy"
    assert verdict["run_id"] == "gate-1-second"
    assert verdict["msg"] == ("Idempotence gate passed: the second run changed nothing on 2 host(s) (db1, web1) and "
                              "the controller, status healthy (summary: /r/second.json; log: /r/second.log).")
    assert verdict["hosts"]["web1"] == {"status": "healthy", "changed": 0, "failed": 0, "unreachable": 0,
                                        "changed_tasks": [], "controller": False}
    assert verdict["hosts"]["localhost"]["controller"] is True


@pytest.mark.parametrize(
    ("status", "host_status"),
    [("degraded", "degraded"), ("unverified", "unverified")],
    ids=["degraded", "unverified"],
)
def test_only_a_healthy_run_succeeds(status, host_status):
    # As every gate on the summary (docs/health-summary.md): a warning or a run without health checks does not pass.
    summary = _summary({"web1": _host(status=host_status)}, status=status, reason="web1: see the checks")
    verdict = idempotence_gate(summary, rc=0)
    assert verdict["passed"] is verdict["succeeded"] is False
    assert verdict["msg"].startswith(f"Idempotence gate FAILED: the second run did not succeed (rc 0, status {status}: "
                                     "web1: see the checks).")


def test_changes_on_the_second_run_fail_with_the_count_and_tasks_per_host():
    tasks = [("stability.ops.core_time", "Write chrony.conf"), (None, "Restart chrony")]
    summary = _summary({"web1": _host(changed=2, tasks=tasks), "db1": _host()})
    verdict = idempotence_gate(json.dumps(summary), rc=0, log_path="/r/second.log")
    assert verdict["passed"] is False
    assert verdict["succeeded"] is True
    assert verdict["changed"] == 2
    assert verdict["hosts"]["web1"]["changed_tasks"] == ["stability.ops.core_time: Write chrony.conf",
                                                         "Restart chrony"]
    assert verdict["msg"] == (
        "Idempotence gate FAILED: the second run changed 2 task(s) on 1 of 3 host(s); a second run must change nothing"
        " (log: /r/second.log). Per host: db1: 0 changed; web1: 2 changed (stability.ops.core_time: Write chrony.conf,"
        " Restart chrony); localhost (controller): 0 changed.")


def test_without_recorded_tasks_the_message_points_at_the_log():
    summary = _summary({"web1": _host(changed=1)})
    assert "(the changed tasks are the 'changed:' lines of the log)" in idempotence_gate(summary, rc=0)["msg"]


def test_a_change_on_the_controller_fails_too():
    summary = _summary({"web1": _host()}, controller={"localhost": _host(changed=1, tasks=[(None, "Write a file")])})
    verdict = idempotence_gate(summary, rc=0)
    assert verdict["passed"] is False
    assert verdict["msg"].endswith("Per host: web1: 0 changed; localhost (controller): 1 changed (Write a file).")


def test_long_task_lists_are_cut_and_counted():
    tasks = [(None, f"task {n}") for n in range(20)]
    verdict = idempotence_gate(_summary({"web1": _host(changed=35, tasks=tasks)}), rc=0)
    assert "web1: 35 changed (task 0, task 1, task 2, task 3, task 4, task 5, task 6, task 7, task 8, task 9 and 25 " \
           "more)" in verdict["msg"]


@pytest.mark.parametrize(
    ("summary", "rc", "expected"),
    [
        (CLEAN, 2, "did not succeed (rc 2, status healthy: all hosts healthy)"),
        (_summary({"web1": _host(failed=1, status="failed")}, status="failed", reason="web1: 1 failed task(s)"), 2,
         "did not succeed (rc 2, status failed: web1: 1 failed task(s))"),
        (_summary({"web1": _host(unreachable=1, status="failed")}, status="failed", reason="web1: unreachable"), 4,
         "did not succeed (rc 4, status failed: web1: unreachable)"),
        (_summary({"web1": _host(status="failed")}, status="failed", reason="web1: health check(s) failed"), 0,
         "did not succeed (rc 0, status failed: web1: health check(s) failed)"),
        (_summary({"web1": _host(status="not_run")}, status="failed", reason="web1: not run"), 0,
         "did not succeed (rc 0, status failed: web1: not run)"),
        (_summary({"web1": _host()}, status="interrupted", reason="interrupted by SIGTERM"), 0,
         "did not succeed (rc 0, status interrupted: interrupted by SIGTERM)"),
    ],
    ids=["rc-not-zero", "failed-task", "unreachable", "status-failed-rc-0", "host-not-run", "interrupted"],
)
def test_a_run_that_did_not_succeed_fails(summary, rc, expected):
    verdict = idempotence_gate(summary, rc=rc)
    assert verdict["passed"] is verdict["succeeded"] is False
    assert verdict["msg"].startswith(f"Idempotence gate FAILED: the second run {expected}. Per host: ")


def test_a_host_that_did_not_run_is_named():
    summary = _summary({"web1": _host(status="not_run")}, status="failed", reason="web1: not run")
    assert "Per host: web1: 0 changed, not_run;" in idempotence_gate(summary, rc=2)["msg"]


def test_an_unreachable_host_is_named_in_the_per_host_list():
    summary = _summary({"web1": _host(unreachable=1, status="failed")}, status="failed", reason="web1: unreachable",
                       controller={})
    assert idempotence_gate(summary, rc=4)["msg"].endswith("Per host: web1: 0 changed, 1 unreachable.")


def test_the_placeholder_of_a_run_that_never_finished_fails():
    placeholder = {"schema_version": "2.0", "status": "running", "reason": "the run has not ended",
                   "run": {"id": "gate-1-second", "started_at": "2026-12-01T10:00:00Z"}}
    jsonschema.validate(placeholder, SCHEMA)
    verdict = idempotence_gate(placeholder, rc=-9, run_id="gate-1-second")
    assert verdict["passed"] is False
    assert verdict["msg"].startswith("Idempotence gate FAILED: the second run did not succeed (rc -9, status running:")
    assert verdict["msg"].endswith("Per host: none.")


def test_a_summary_of_another_run_never_passes():
    verdict = idempotence_gate(CLEAN, rc=0, run_id="gate-2-second", summary_path="/r/second.json")
    assert verdict["passed"] is False
    assert verdict["msg"] == (
        "Idempotence gate FAILED: the Deployment Health Summary (summary: /r/second.json) belongs to another run "
        "(run.id 'gate-1-second', the second run was started as 'gate-2-second').")


def test_a_check_mode_run_proves_nothing():
    verdict = idempotence_gate(_summary({"web1": _host()}, check_mode=True), rc=0)
    assert verdict["passed"] is False
    assert "was a --check run" in verdict["msg"]


def test_a_run_that_reached_no_fleet_host_proves_nothing():
    verdict = idempotence_gate(_summary({}, status="empty", reason="no fleet host was targeted"), rc=0)
    assert verdict["passed"] is False
    assert verdict["msg"] == ("Idempotence gate FAILED: the second run did not succeed (rc 0, status empty: no fleet "
                              "host was targeted). Per host: localhost (controller): 0 changed.")
    # A healthy document without fleet hosts (schema 1.0 had no 'empty') proves nothing either.
    verdict = idempotence_gate(_summary({}), rc=0)
    assert "reached no host, so it proves nothing" in verdict["msg"]


def test_a_schema_1_0_summary_is_still_judged():
    legacy = {"schema_version": "1.0", "status": "healthy", "reason": "ok", "run": {"id": "r", "check_mode": False},
              "hosts": {"web1": {"status": "healthy", "counts": {"changed": 3}},
                        "localhost": {"status": "healthy", "counts": {}}}}
    verdict = idempotence_gate(legacy, rc=0)
    assert verdict["passed"] is False
    assert verdict["msg"].endswith("Per host: localhost: 0 changed; web1: 3 changed.")


@pytest.mark.parametrize("missing", [None, "", []], ids=["none", "empty-text", "empty-list"])
def test_no_summary_names_the_callback(missing):
    verdict = idempotence_gate(missing, rc=1, summary_path="/r/second.json", log_path="/r/second.log")
    assert verdict["passed"] is False
    assert verdict["status"] is None
    assert verdict["msg"] == (
        "Idempotence gate FAILED: the second run (ansible-playbook rc 1) wrote no Deployment Health Summary "
        "(summary: /r/second.json; log: /r/second.log). Enable the callback (callbacks_enabled = "
        "stability.ops.health_summary in ansible.cfg) and read the log for the error.")


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("{not json", "it is not JSON"),
        ("[1, 2]", "it is a list, not a JSON object"),
        ({**CLEAN, "schema_version": "3.0"}, "schema_version is '3.0', expected one of 2.0, 1.0"),
        ({"schema_version": "1.0"}, "it has no 'hosts' mapping"),
        ({**CLEAN, "controller": ["localhost"]}, "its 'controller' is not a mapping"),
    ],
    ids=["not-json", "not-object", "other-schema", "1.0-no-hosts", "bad-controller"],
)
def test_an_unusable_summary_fails_with_the_reason(summary, expected):
    verdict = idempotence_gate(summary, rc=0)
    assert verdict["passed"] is False
    prefix = "Idempotence gate FAILED: the second run's Deployment Health Summary is unusable: "
    assert verdict["msg"].startswith(prefix + expected)


def test_the_first_run_may_change_but_must_succeed():
    summary = _summary({"web1": _host(changed=30), "db1": _host(changed=28)}, run_id="gate-1-first")
    verdict = idempotence_gate(summary, rc=0, require_unchanged=False, run_id="gate-1-first", label="first run")
    assert verdict["passed"] is True
    assert verdict["msg"] == ("The first run succeeded (status healthy) with 58 change(s) on 2 of 3 host(s). "
                              "Per host: db1: 28 changed; web1: 30 changed; localhost (controller): 0 changed.")
    failed = idempotence_gate(summary, rc=2, require_unchanged=False, label="first run")
    assert failed["passed"] is False
    assert failed["msg"].startswith("Idempotence gate FAILED: the first run did not succeed (rc 2,")


@pytest.mark.parametrize(("rc", "expected"), [("0", 0), (3, 3)], ids=["text", "int"])
def test_rc_is_an_integer(rc, expected):
    assert idempotence_gate(CLEAN, rc=rc)["rc"] == expected


@pytest.mark.parametrize("rc", ["zero", None, True], ids=["word", "none", "bool"])
def test_a_bad_rc_is_a_filter_error(rc):
    with pytest.raises(AnsibleFilterError, match="rc must be an integer"):
        idempotence_gate(CLEAN, rc=rc)


def test_the_verdict_holds_no_value_of_the_summary_beyond_names_and_counts():
    canary = "s3cr3t-canary-value"
    host = _host(changed=1, failed=1, status="failed")
    host["failed_tasks"] = [{"task": "Write a file", "role": None, "action": "ansible.builtin.copy", "message": canary,
                             "no_log": False, "rc": 1, "stdout_tail": canary, "stderr_tail": canary, "item": None,
                             "original_failure": None}]
    verdict = idempotence_gate(_summary({"web1": host}, status="failed", reason="web1: 1 failed task(s)"), rc=2)
    assert canary not in json.dumps(verdict)


def test_the_filter_is_registered_and_documented():
    assert FilterModule().filters() == {"idempotence_gate": idempotence_gate}
    documentation = yaml.safe_load(plugin.DOCUMENTATION)
    assert documentation["name"] == "idempotence_gate"
    signature = inspect.signature(idempotence_gate).parameters
    assert set(documentation["options"]) == {"_input"} | set(signature) - {"summary"}
    for name, option in documentation["options"].items():
        if name != "_input":
            assert option.get("default") == (None if signature[name].default is inspect.Parameter.empty
                                             else signature[name].default), name
    assert yaml.safe_load(plugin.EXAMPLES)
    returned = yaml.safe_load(plugin.RETURN)["_value"]["contains"]
    assert set(returned) == set(idempotence_gate(CLEAN, rc=0))
