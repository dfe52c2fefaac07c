"""The Deployment Health Summary document (plugin_utils/health_summary.py) and its schema."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import health_summary as hs

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "health_summary.schema.json"
SECRET = "hunter2-s3cr3t"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _check(name, status):
    return {"name": name, "category": "disk", "status": status, "observed": "x", "expected": "y", "message": name}


def _builder(**options):
    builder = hs.SummaryBuilder(**{"max_failed_tasks": 3, "message_max_length": 80, **options})
    builder.playbooks.append("site.yml")
    builder.versions = {"ansible_core": "2.19.14", "collection": "0.1.0"}
    return builder


def _play(builder, hosts, key="p1", name="Deploy", batch=None, pattern="all"):
    targets = [(host, hs.is_controller(host)) for host in hosts]
    builder.start_play(key, name, pattern, targets, hosts if batch is None else batch)


def _healthy(builder, host):
    builder.record_ok(host, changed=False)
    builder.record_health(host, {"status": "ok", "checks": [_check("disk:/", "ok")]})


# -- the format checker really checks


def test_the_format_checker_rejects_a_bad_date_time(validator):
    document = _builder().build("finished")
    validator.validate(document)
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-12-01 10:00:00"):
        broken = copy.deepcopy(document)
        broken["run"]["started_at"] = bad
        with pytest.raises(jsonschema.ValidationError, match="date-time"):
            validator.validate(broken)


# -- statuses


def test_healthy_run_with_the_controller_apart(validator):
    builder = _builder()
    _play(builder, ["localhost"], key="pre", name="Preflight", pattern="localhost")
    builder.record_ok("localhost", changed=False)
    _play(builder, ["web1"])
    builder.host_started("web1", "Install", None)
    builder.record_ok("web1", changed=True, task="Install", role="stability.ops.app")
    builder.record_skipped("web1")
    builder.record_health("web1", {"status": "ok", "checks": [_check("disk:/", "ok")]})
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "healthy"
    assert document["reason"] == "all 1 host(s) ran without failures and their health checks are ok"
    assert list(document["hosts"]) == ["web1"]
    assert list(document["controller"]) == ["localhost"]
    assert document["controller"]["localhost"]["status"] == "healthy"
    assert document["hosts"]["web1"]["counts"] == {
        "ok": 1, "changed": 1, "failed": 0, "unreachable": 0, "skipped": 1, "rescued": 0, "ignored": 0}
    assert document["hosts"]["web1"]["changed_tasks"] == [{"task": "Install", "role": "stability.ops.app"}]
    assert document["hosts"]["web1"]["duration_seconds"] >= 0
    assert document["totals"]["hosts"] == 1
    assert document["totals"]["controller_hosts"] == 1
    assert document["totals"]["ok"] == 1  # the fleet's only
    assert document["totals"]["statuses"]["healthy"] == 1
    assert document["totals"]["checks"] == {"ok": 1, "warn": 0, "fail": 0}
    assert [(p["name"], p["status"], p["hosts"]) for p in document["plays"]] == [
        ("Preflight", "completed", 1), ("Deploy", "completed", 1)]
    assert document["meta"]["counts_source"] == "callback"
    assert document["run"]["ending"] == "finished"


def test_warnings_make_the_run_degraded(validator):
    builder = _builder()
    builder.record_ok("web1", changed=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("log_files_old", "warn")]})
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "degraded"
    assert document["hosts"]["web1"]["health"]["status"] == "warn"
    assert document["reason"] == "health check warnings on web1: log_files_old"


def test_no_health_check_makes_the_run_unverified(validator):
    builder = _builder()
    _play(builder, ["web1", "web2"])
    _healthy(builder, "web1")
    builder.record_ok("web2", changed=False)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "unverified"
    assert document["reason"] == "no health check ran on 1 host(s): web2"
    assert document["hosts"]["web2"]["note"] == "no health check ran on this host"
    assert document["hosts"]["web1"]["status"] == "healthy"


@pytest.mark.parametrize(("task_failed", "status"), [(False, "unverified"), (True, "failed")],
                         ids=["not-gated-in-check-mode", "fail_in_check_mode"])
def test_check_mode_failing_checks_are_not_a_failure_unless_ansible_failed_the_host(validator, task_failed, status):
    """A fresh host in --check: the checks see it before the deploy; ansible exits 0, so the summary is not
    failed either. With fail_in_check_mode the task fails and so does the summary."""
    builder = _builder()
    builder.check_mode = True
    _play(builder, ["web1"])
    builder.record_health("web1", {"status": "fail", "checks": [_check("unit:chrony.service", "fail")]})
    if task_failed:
        builder.record_failed("web1", "Gather health facts", "stability.ops.health_check", {"msg": "1 check"},
                              no_log=False)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == status
    assert document["hosts"]["web1"]["status"] == status
    if not task_failed:
        assert document["reason"] == ("check mode: health checks fail on the hosts as they were before the deploy "
                                      "on 1 host(s): web1")


def test_failures_unreachable_and_failed_checks_make_the_run_failed(validator):
    builder = _builder()
    builder.record_failed("web1", "Install app", "stability.ops.app", {"msg": "No package\n  matching  'app'"},
                          no_log=False, action="ansible.builtin.apt")
    builder.record_unreachable("db1", "Gathering Facts", {"msg": "connection refused"}, no_log=False)
    builder.record_health("web2", {"status": "fail", "checks": [_check("disk:/", "fail")]})
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["hosts"]["web1"]["failed_tasks"] == [{
        "task": "Install app", "role": "stability.ops.app", "action": "ansible.builtin.apt",
        "message": "No package matching 'app'", "no_log": False, "rc": None, "stdout_tail": None,
        "stderr_tail": None, "item": None, "original_failure": None}]
    assert document["hosts"]["db1"]["unreachable_message"] == "Gathering Facts: connection refused"
    assert [h["status"] for h in document["hosts"].values()] == ["failed"] * 3
    assert document["reason"] == ("db1 unreachable; web1: 1 failed task(s), first 'Install app'; "
                                  "web2: health check(s) failed: disk:/")


def test_a_failed_controller_fails_the_run_and_the_fleet_it_never_reached_is_not_run(validator):
    """The preflight fails on localhost (any_errors_fatal): the fleet plays never start."""
    builder = _builder()
    builder.expect_play("pre", "Preflight", "localhost", [("localhost", True)])
    builder.expect_play("core", "Core", "production", [("web1", False), ("web2", False)])
    _play(builder, ["localhost"], key="pre", name="Preflight", pattern="localhost")
    builder.record_failed("localhost", "Assert the secrets", None, {"msg": "plaintext secret"}, no_log=False)
    builder.stop_batch()
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["controller"]["localhost"]["status"] == "failed"
    assert {name: host["status"] for name, host in document["hosts"].items()} == {"web1": "not_run", "web2": "not_run"}
    assert document["hosts"]["web1"]["note"] == "not reached by play(s): 'Core'"
    assert [(p["name"], p["status"]) for p in document["plays"]] == [("Preflight", "stopped"), ("Core", "not_run")]
    assert document["reason"] == ("localhost: 1 failed task(s), first 'Assert the secrets'; "
                                  "2 host(s) not run (a play that targeted them never reached them): web1, web2")


@pytest.mark.parametrize("then", ["next-play", "end-of-run"])
def test_any_errors_fatal_aborts_the_hosts_that_did_not_fail(validator, then):
    builder = _builder()
    _play(builder, ["web1", "web2", "web3"])
    builder.start_task("Step", None)
    for host in ("web1", "web2", "web3"):
        builder.host_started(host, "Step", None)
    builder.record_failed("web1", "Step", None, {"msg": "boom"}, no_log=False, fatal=True)
    builder.record_ok("web2", changed=False)
    builder.record_ok("web3", changed=False)
    if then == "next-play":  # no task of the play started after the fatal failure
        builder.start_play("p2", "Later", "all", [], [])
    document = builder.build("finished")
    validator.validate(document)
    statuses = {name: (host["status"], host["note"]) for name, host in document["hosts"].items()}
    why = "play 'Deploy' stopped after 'Step' failed with any_errors_fatal (or run_once)"
    assert statuses == {"web1": ("failed", None), "web2": ("aborted", why), "web3": ("aborted", why)}
    assert document["plays"][0]["status"] == "stopped"
    assert document["status"] == "failed"
    assert "2 host(s) aborted (the play stopped before they finished it): web2, web3" in document["reason"]


def test_a_fatal_failure_that_a_rescue_handles_aborts_nobody(validator):
    builder = _builder()
    _play(builder, ["web1", "web2"])
    builder.record_failed("web1", "Step", None, {"msg": "boom"}, no_log=False, fatal=True, rescued=True)
    builder.start_task("Rescue", None)  # the play went on
    for host in ("web1", "web2"):
        _healthy(builder, host)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "healthy"


def test_max_fail_percentage_leaves_the_later_batches_not_run(validator):
    builder = _builder()
    _play(builder, ["web1", "web2", "web3"], batch=["web1"])  # serial: 1, the canary
    builder.record_failed("web1", "Step", None, {"msg": "boom"}, no_log=False)
    builder.stop_batch()
    document = builder.build("finished")
    validator.validate(document)
    assert {name: host["status"] for name, host in document["hosts"].items()} == {
        "web1": "failed", "web2": "not_run", "web3": "not_run"}
    assert document["totals"]["statuses"]["not_run"] == 2


def test_serial_batches_that_all_ran_complete_the_play(validator):
    builder = _builder()
    for batch in (["web1"], ["web2", "web3"]):
        _play(builder, ["web1", "web2", "web3"], batch=batch)
        for host in batch:
            _healthy(builder, host)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "healthy"
    assert document["plays"] == [{**document["plays"][0], "status": "completed", "hosts": 3}]


def test_a_play_that_matched_no_host_fails_the_run(validator):
    builder = _builder()
    _play(builder, ["web1"])
    _healthy(builder, "web1")
    builder.start_play("p2", "Web", "webservers_typo", [], [])
    builder.play_matched_no_host(0)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["reason"] == "play 'Web' matched no host (hosts: webservers_typo)"
    assert document["plays"][1]["status"] == "no_hosts"


def test_a_play_left_without_hosts_by_the_limit_is_not_a_failure(validator):
    builder = _builder()
    builder.start_play("pre", "Preflight", "localhost", [], [])
    builder.play_matched_no_host(1)  # localhost exists, --limit web1 leaves it out
    _play(builder, ["web1"])
    _healthy(builder, "web1")
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "healthy"
    assert document["plays"][0]["status"] == "limited"


@pytest.mark.parametrize("plays", [[], [("localhost", True)]], ids=["no-play-ran", "controller-only"])
def test_no_fleet_host_is_an_empty_run(validator, plays):
    builder = _builder()
    if plays:
        _play(builder, ["localhost"], pattern="localhost")
        builder.record_ok("localhost", changed=False)
    document = builder.build("finished")
    validator.validate(document)
    assert document["status"] == "empty"
    assert document["hosts"] == {}
    assert document["reason"].startswith("no fleet host was targeted")


def test_the_placeholder_says_running_and_lists_the_hosts_ahead(validator):
    builder = _builder(run_id="ci-42")
    builder.expect_play("core", "Core", "production", [("web1", False)])
    document = builder.build(None)
    validator.validate(document)
    assert document["status"] == "running"
    assert document["run"]["id"] == "ci-42"
    assert document["run"]["ended_at"] is None
    assert document["run"]["ending"] is None
    assert document["reason"].startswith("the run has not finished")
    assert document["hosts"]["web1"]["status"] == "not_run"
    assert document["plays"][0]["status"] == "not_run"


def test_the_minimal_placeholder_of_a_wrapper_is_valid_and_a_final_document_must_be_complete(validator):
    minimal = {"schema_version": "2.0", "status": "running", "reason": "not written yet",
               "run": {"id": "ci-42", "started_at": "2026-12-01T10:00:00Z"}}
    validator.validate(minimal)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(dict(minimal, status="healthy"))


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_interrupts_the_run_naming_the_tasks_and_hosts_in_flight(validator, signal_name):
    builder = _builder()
    builder.expect_play("p1", "Deploy", "all", [("web1", False), ("web2", False), ("web3", False)])
    builder.expect_play("p2", "Health", "all", [("web1", False), ("web2", False), ("web3", False)])
    _play(builder, ["web1", "web2", "web3"], batch=["web1", "web2"])
    builder.start_task("Wait", "stability.ops.app")
    builder.host_started("web1", "Wait", "stability.ops.app")
    builder.host_started("web2", "Wait", "stability.ops.app")
    builder.record_ok("web2", changed=False)
    document = builder.build("signal", signal_name, hook_seconds=0.0123456789, hook_calls=7)
    validator.validate(document)
    assert document["status"] == "interrupted"
    assert document["reason"] == f"interrupted by {signal_name} during task 'Wait' on web1"
    assert document["run"]["interrupted"] is True
    assert document["run"]["signal"] == signal_name
    assert document["run"]["in_flight"] == [{"host": "web1", "task": "Wait", "role": "stability.ops.app"}]
    assert document["run"]["in_flight_total"] == 1
    hosts = {name: (host["status"], host["note"]) for name, host in document["hosts"].items()}
    assert hosts["web1"] == ("aborted", f"the run stopped ({signal_name}) during task 'Wait'")
    assert hosts["web2"] == ("aborted", f"the run stopped ({signal_name}) during task 'Wait'")
    assert hosts["web3"] == ("not_run", "not reached by play(s): 'Deploy', 'Health'")
    assert [p["status"] for p in document["plays"]] == ["running", "not_run"]
    assert document["meta"]["callback_hook_seconds"] == 0.012346
    assert document["meta"]["callback_hook_calls"] == 7


def test_an_error_exit_without_stats_is_a_failed_run(validator):
    builder = _builder()
    _play(builder, ["web1"])
    builder.host_started("web1", "Template the hosts", None)
    document = builder.build("error")
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["reason"] == ("ansible-playbook stopped with an error before the end of the run (see its output) "
                                  "during task 'Template the hosts' on web1")
    assert document["run"]["interrupted"] is False


# -- failed tasks: messages a person can act on


RC_219 = {"changed": True, "stdout": "out1", "stderr": "err1\nerr2", "rc": 3, "msg": "non-zero return code",
          "exception": hs.NO_TRACEBACK, "_ansible_no_log": False}
RC_221 = {"changed": True, "exception": hs.NO_TRACEBACK, "msg": "The command exited with a non-zero return code.",
          "rc": 3, "stdout": "out1", "stderr": "err1\nerr2"}
FAILED_WHEN_219 = {"changed": True, "stdout": "hi", "stderr": "", "rc": 0, "msg": "", "failed_when_result": True,
                   "exception": hs.NO_TRACEBACK, "_ansible_no_log": False}
FAILED_WHEN_221 = {"changed": True, "exception": hs.NO_TRACEBACK, "rc": 0, "failed_when_result": True,
                   "msg": "Task failed: Action failed: A 'failed_when' expression evaluated to 'True'.",
                   "stdout": "hi", "stderr": ""}
LOOP_219 = {"msg": "One or more items failed", "changed": True, "results": [
    {"rc": 0, "failed": False, "item": {"n": 1}, "_ansible_item_label": "n=1", "stdout": ""},
    {"rc": 1, "failed": True, "msg": "non-zero return code", "stderr": "not less", "item": {"n": 2},
     "_ansible_item_label": "n=2", "exception": hs.NO_TRACEBACK},
    {"rc": 1, "failed": True, "msg": "non-zero return code", "item": {"n": 3}, "_ansible_item_label": "n=3"}]}
LOOP_221 = {"msg": "One or more items failed", "changed": True, "results": [
    {"rc": 0, "msg": "", "item": {"n": 1}, "_ansible_item_label": "n=1", "ansible_loop_var": "item"},
    {"rc": 1, "exception": hs.NO_TRACEBACK, "msg": "The command exited with a non-zero return code.",
     "stderr": "not less", "item": {"n": 2}, "_ansible_item_label": "n=2", "ansible_loop_var": "item"},
    {"rc": 1, "exception": hs.NO_TRACEBACK, "msg": "The command exited with a non-zero return code.",
     "item": {"n": 3}, "_ansible_item_label": "n=3", "ansible_loop_var": "item"}]}
LOOP_NO_LABEL = {"msg": "One or more items failed", "results": [
    {"skipped": True, "item": "a", "_ansible_item_label": "a"},
    {"exception": hs.NO_TRACEBACK, "msg": "bad b", "item": {"name": "b"}, "ansible_loop_var": "item"}]}


FAILED_WHEN_EXPECTED = {"message": "failed_when matched: 'hi' in result.stdout (rc 0)",
                        "rc": 0, "stdout_tail": "hi", "stderr_tail": None, "item": None}


@pytest.mark.parametrize(("result", "failed_when", "expected"), [
    (RC_219, (), {"message": "non-zero return code (rc 3): err2", "rc": 3, "stdout_tail": "out1",
                  "stderr_tail": "err1\nerr2", "item": None}),
    (RC_221, (), {"message": "The command exited with a non-zero return code (rc 3): err2", "rc": 3,
                  "stdout_tail": "out1", "stderr_tail": "err1\nerr2", "item": None}),
    (FAILED_WHEN_219, ["'hi' in result.stdout"], FAILED_WHEN_EXPECTED),
    (FAILED_WHEN_221, ["'hi' in result.stdout"], FAILED_WHEN_EXPECTED),
    (LOOP_219, (), {"message": "2 of 3 item(s) failed, first n=2: non-zero return code (rc 1): not less", "rc": 1,
                    "stdout_tail": None, "stderr_tail": "not less", "item": "n=2"}),
    (LOOP_221, (), {"message": "2 of 3 item(s) failed, first n=2: The command exited with a non-zero return code "
                               "(rc 1): not less", "rc": 1, "stdout_tail": None, "stderr_tail": "not less",
                    "item": "n=2"}),
    (LOOP_NO_LABEL, (), {"message": '1 of 2 item(s) failed, first {"name": "b"}: bad b', "rc": None,
                         "stdout_tail": None, "stderr_tail": None, "item": '{"name": "b"}'}),
    ({"msg": "", "exception": hs.NO_TRACEBACK}, (), {"message": "failed", "rc": None, "stdout_tail": None,
                                                     "stderr_tail": None, "item": None}),
    ({"exception": "Traceback\n  ...\nKeyError: 'a'\n"}, (), {"message": "KeyError: 'a'", "rc": None,
                                                              "stdout_tail": None, "stderr_tail": None, "item": None}),
], ids=["rc-2.19", "rc-2.21", "failed_when-2.19", "failed_when-2.21", "loop-2.19", "loop-2.21", "loop-no-label",
        "traceback-unavailable", "exception"])
def test_failure_entries_name_what_failed(result, failed_when, expected):
    entry = hs.failure_entry("Run it", "stability.ops.app", "ansible.builtin.command", result, no_log=False,
                             failed_when=failed_when)
    assert {key: entry[key] for key in expected} == expected
    assert hs.NO_TRACEBACK not in json.dumps(entry)


def test_a_loop_item_under_no_log_hides_the_whole_task():
    result = {"msg": "One or more items failed", "results": [
        {"failed": True, "censored": "hidden", "_ansible_no_log": True}]}
    entry = hs.failure_entry("Loop", None, "ansible.builtin.command", result, no_log=False)
    assert entry["no_log"] is True
    assert entry["message"] is entry["item"] is entry["rc"] is None


def test_output_tails_are_bounded_and_free_of_control_characters():
    stdout = "\x1b[31mred\x1b[0m\x00 line\n" + "x" * 1000 + "\nlast \x07line"
    entry = hs.failure_entry("T", None, "command", {"rc": 1, "msg": "non-zero return code", "stdout": stdout},
                             no_log=False, tail_limit=50)
    assert len(entry["stdout_tail"]) == 50
    assert entry["stdout_tail"].startswith("...")
    assert entry["stdout_tail"].endswith("\nlast line")
    assert entry["message"] == "non-zero return code (rc 1): last line"
    assert hs.tail("\x1b[31mred\x1b[0m\x00 ok\n", 100) == "red ok"
    assert hs.tail("", 100) is None
    assert hs.tail("text", 0) is None


def test_messages_are_short_and_fall_back_to_stderr_and_exception():
    assert hs.short_message({"msg": "x" * 100}, 10) == "xxxxxxx..."
    assert hs.short_message({"stderr": "boom\nline two\n"}, 50) == "line two"
    assert hs.short_message({"exception": "Traceback\n  ...\nKeyError: 'a'\n"}, 50) == "KeyError: 'a'"
    assert hs.short_message({"exception": hs.NO_TRACEBACK}, 50) == ""
    assert hs.short_message({}, 50) == ""


def test_no_log_failure_keeps_only_the_task_names(validator):
    builder = _builder()
    builder.record_failed("web1", "Write the secret", "stability.ops.app", {"msg": SECRET, "rc": 3, "stderr": SECRET},
                          no_log=True, action="ansible.builtin.shell")
    builder.record_unreachable("web2", "Connect", {"msg": SECRET}, no_log=True)
    document = builder.build("finished")
    validator.validate(document)
    assert SECRET not in json.dumps(document)
    assert SECRET not in hs.render_junit(document)
    assert SECRET not in hs.render_table(document)
    assert document["hosts"]["web1"]["failed_tasks"][0] == {
        "task": "Write the secret", "role": "stability.ops.app", "action": "ansible.builtin.shell", "no_log": True,
        "message": None, "rc": None, "stdout_tail": None, "stderr_tail": None, "item": None, "original_failure": None}


@pytest.mark.parametrize("field", ["message", "rc", "stderr_tail", "stdout_tail", "item"])
def test_the_schema_rejects_any_result_data_under_no_log(validator, field):
    builder = _builder()
    builder.record_failed("web1", "t", None, {}, no_log=True)
    document = builder.build("finished")
    document["hosts"]["web1"]["failed_tasks"][0][field] = 1 if field == "rc" else "leak"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


def test_a_failed_rescue_keeps_the_failure_it_rescued(validator):
    builder = _builder()
    builder.record_failed("web1", "Deploy the app", "stability.ops.app", {"msg": "port 80 in use", "rc": 1},
                          no_log=False, rescued=True, action="ansible.builtin.command")
    builder.record_failed("web1", "Roll back", "stability.ops.app", {"msg": "no previous release"}, no_log=False,
                          in_rescue=True, action="ansible.builtin.command")
    document = builder.build("finished")
    validator.validate(document)
    failed = document["hosts"]["web1"]["failed_tasks"]
    assert [task["task"] for task in failed] == ["Roll back"]
    assert failed[0]["original_failure"]["task"] == "Deploy the app"
    assert failed[0]["original_failure"]["message"] == "port 80 in use"
    assert document["hosts"]["web1"]["counts"]["rescued"] == 1


def test_ignored_and_rescued_failures_are_counted_not_listed(validator):
    builder = _builder()
    _play(builder, ["web1"])
    builder.record_failed("web1", "Probe", None, {"msg": "nope"}, no_log=False, ignored=True)
    builder.record_failed("web1", "Try", None, {"msg": "nope"}, no_log=False, rescued=True)
    builder.record_health("web1", {"status": "ok", "checks": [_check("disk:/", "ok")]})
    document = builder.build("finished")
    validator.validate(document)
    assert document["hosts"]["web1"]["counts"]["ignored"] == 1
    assert document["hosts"]["web1"]["counts"]["rescued"] == 1
    assert document["hosts"]["web1"]["failed_tasks"] == []
    assert document["status"] == "healthy"


# -- bounded memory


def test_failed_and_changed_tasks_are_bounded_and_memory_stays_flat():
    builder = _builder(max_changed_tasks=5)
    _play(builder, ["web1"])
    tracemalloc.start()
    for index in range(200):
        builder.host_started("web1", f"task {index}", None)
        builder.record_failed("web1", f"task {index}", None, {"msg": "m" * 1000, "stderr": "e" * 5000, "rc": 1},
                              no_log=False)
        builder.record_ok("web1", changed=True, task=f"task {index}")
    first = tracemalloc.get_traced_memory()[0]
    for index in range(20000):
        builder.host_started("web1", f"task {index}", None)
        builder.record_failed("web1", f"task {index}", None, {"msg": "m" * 1000, "stderr": "e" * 5000, "rc": 1},
                              no_log=False)
        builder.record_ok("web1", changed=True, task=f"task {index}")
    grown = tracemalloc.get_traced_memory()[0] - first
    tracemalloc.stop()
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 20000 tasks"
    document = builder.build("finished")
    host = document["hosts"]["web1"]
    assert len(host["failed_tasks"]) == 3
    assert host["failed_tasks_total"] == 20200
    assert len(host["changed_tasks"]) == 5
    assert host["counts"]["changed"] == 20200
    assert max(len(task["stderr_tail"]) for task in host["failed_tasks"]) <= 500


def test_stats_counts_and_set_stats_data_win(validator):
    builder = _builder()
    builder.record_failed("web1", "Rescued task", None, {"msg": "x"}, no_log=False)
    summaries = {"web1": {"ok": 4, "failures": 0, "unreachable": 0, "changed": 1, "skipped": 0, "rescued": 1,
                          "ignored": 0}}
    custom = {"_run": {hs.HEALTH_STATS_KEY: {"web1": {"status": "warn", "checks": [_check("a", "warn")]}}},
              "web2": {hs.HEALTH_STATS_KEY: {"status": "ok", "checks": [_check("b", "ok")]}},
              "web3": {"unrelated": 1}}
    builder.apply_stats(summaries, custom)
    document = builder.build("finished")
    validator.validate(document)
    assert document["hosts"]["web1"]["counts"]["rescued"] == 1
    assert document["hosts"]["web1"]["counts"]["failed"] == 0
    assert document["hosts"]["web1"]["status"] == "degraded"  # the rescue is not a failure
    assert document["hosts"]["web2"]["health"]["status"] == "ok"
    assert "web3" not in document["hosts"]
    assert document["meta"]["counts_source"] == "stats"


# -- run metadata


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                   check=True, capture_output=True)


def test_git_state_of_the_playbook_repository(tmp_path):
    repo = tmp_path / "repo"
    (repo / "playbooks").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "playbooks" / "site.yml").write_text("---\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    state = hs.git_state(str(repo / "playbooks"))
    assert state is not None
    assert len(state["commit"]) == 40 and state["dirty"] is False
    assert state["root"] == str(repo.resolve())
    (repo / "playbooks" / "site.yml").write_text("--- # changed\n")
    assert hs.git_state(str(repo / "playbooks"))["dirty"] is True


@pytest.mark.parametrize("case", ["not-a-repository", "disabled", "missing-directory", "no-git"])
def test_git_state_never_fails(tmp_path, monkeypatch, case):
    directory, timeout = str(tmp_path), 2.0
    if case == "disabled":
        timeout = 0
    elif case == "missing-directory":
        directory = str(tmp_path / "nowhere")
    elif case == "no-git":
        monkeypatch.setenv("PATH", str(tmp_path))
    assert hs.git_state(directory, timeout) is None


def test_run_metadata_from_the_command_line(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all: {}\n")
    cliargs = {"subset": "web1,web2", "tags": ("core", "health"), "skip_tags": (), "check": True, "diff": True,
               "inventory": (str(inventory), "db1,")}
    metadata = hs.run_metadata(cliargs, str(tmp_path), git_timeout=0, extra_vars={"awx_user_name": "alice"})
    assert metadata["limit"] == "web1,web2"
    assert metadata["tags"] == ["core", "health"]
    assert metadata["check_mode"] is True and metadata["diff_mode"] is True
    assert metadata["inventory_sources"] == [str(inventory), "db1,"]
    assert metadata["awx_user"] == "alice"
    assert metadata["git"] == {"playbook": None, "inventory": None}
    assert metadata["user"] and metadata["controller_host"]


# -- table and JUnit


def test_table_lists_hosts_the_controller_and_non_ok_checks():
    builder = _builder()
    _play(builder, ["web1", "web2", "localhost"])
    builder.record_ok("web1", changed=False)
    builder.record_ok("localhost", changed=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("disk:/srv", "fail")]})
    builder.stop_batch()
    table = hs.render_table(builder.build("finished"))
    lines = table.splitlines()
    assert lines[1].split() == ["host", "status", "ok", "changed", "failed", "unreach", "skipped", "rescued",
                                "checks", "ok/warn/fail", "adoption", "open/all"]
    assert lines[2].split() == ["web1", "failed", "1", "0", "0", "0", "0", "0", "1/0/1", "-"]
    assert lines[3].split()[:2] == ["web2", "aborted"]
    assert lines[4].split()[:3] == ["localhost", "(controller)", "aborted"]
    assert "FAIL web1 disk:/srv: disk:/srv" in table
    assert "ABORTED web2: play 'Deploy' stopped before this host finished it (max_fail_percentage)" in table
    assert lines[-1].startswith("status: failed - ")


@pytest.fixture
def junit_of(junit_check):
    def parse(document):
        root, problems = junit_check(hs.render_junit(document))
        assert problems == [], problems
        return root

    return parse


def _cases(root):
    return {(case.attrib["classname"], case.attrib["name"]): case for case in root.iter("testcase")}


def test_junit_of_a_healthy_run_has_a_case_for_every_host_and_check(junit_of):
    builder = _builder()
    _play(builder, ["web1", "web2"])
    _healthy(builder, "web1")
    _healthy(builder, "web2")
    root = junit_of(builder.build("finished"))
    assert root.attrib["failures"] == "0"
    assert {suite.attrib["name"] for suite in root} == {"run", "web1", "web2"}
    assert all(len(suite) > 0 for suite in root)
    assert set(_cases(root)) == {("run", "run finished"), ("run", "fleet hosts targeted"), ("run", "play: Deploy"),
                                 ("web1", "deploy"), ("web1", "health: disk:/"), ("web2", "deploy"),
                                 ("web2", "health: disk:/")}


def test_junit_failures_are_escaped_free_of_control_characters_and_never_leak_no_log(junit_of):
    builder = _builder(message_max_length=300)
    _play(builder, ["web1", "db1"])
    builder.record_failed("web1", "Install <app> & \x1b[31mmore\x1b[0m",
                          None, {"msg": 'bad "quote" & <tag>\x00\x01\x08\x0b\x0c\x1b[0m\x7f\x85 ]]> end', "rc": 2,
                                 "stderr": "\x02boom\x03"}, no_log=False)
    builder.record_failed("web1", "Secret", None, {"msg": SECRET}, no_log=True)
    builder.record_unreachable("db1", "Connect", {"msg": "refused\x1b"}, no_log=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("logs", "warn"), _check("x", "fail")]})
    root = junit_of(builder.build("finished"))
    assert SECRET not in hs.render_junit(builder.build("finished"))
    cases = _cases(root)
    failure = cases[("web1", "task: Install <app> & more")].find("failure")
    assert failure.attrib["message"] == 'bad "quote" & <tag> ]]> end'
    assert "rc 2" in failure.text and "stderr: boom" in failure.text
    assert cases[("web1", "task: Secret")].find("failure").attrib["message"] == "(output hidden by no_log)"
    assert cases[("db1", "deploy")].find("failure").attrib["message"] == "Connect: refused"
    assert cases[("web1", "health: logs")].find("system-out").text.startswith("WARN ")
    assert cases[("web1", "health: x")].find("failure") is not None
    assert root.attrib["failures"] == str(sum(1 for case in root.iter("testcase") if case.find("failure") is not None))


@pytest.mark.parametrize("ending", ["running", "signal", "empty", "aborted", "no_hosts", "error"])
def test_junit_is_never_green_for_a_run_that_did_not_finish_healthy(junit_of, ending):
    builder = _builder()
    if ending == "empty":
        document = builder.build("finished")
    elif ending == "no_hosts":
        builder.start_play("p1", "Web", "webservers_typo", [], [])
        builder.play_matched_no_host(0)
        document = builder.build("finished")
    else:
        _play(builder, ["web1", "web2"])
        builder.host_started("web1", "Wait", None)
        builder.record_failed("web2", "Step", None, {"msg": "boom"}, no_log=False)
        if ending == "aborted":
            builder.stop_batch()
        document = builder.build({"running": None, "aborted": "finished"}.get(ending, ending), "SIGTERM")
    root = junit_of(document)
    assert int(root.attrib["failures"]) >= 1, hs.render_junit(document)
    assert int(root.attrib["tests"]) >= 1


def test_junit_in_check_mode_skips_the_checks_ansible_did_not_gate(junit_of):
    builder = _builder()
    builder.check_mode = True
    _play(builder, ["web1"])
    builder.record_health("web1", {"status": "fail", "checks": [_check("unit:chrony.service", "fail")]})
    root = junit_of(builder.build("finished"))
    case = _cases(root)[("web1", "health: unit:chrony.service")]
    assert case.find("failure") is None
    assert case.find("skipped").attrib["message"].startswith("check mode")


def test_xml_text_removes_what_xml_forbids():
    assert hs.xml_text("a\x00b\x1fc\ud800d\ufffee\tf\ng") == "abcde\tf\ng"


# -- files and signals


def test_write_atomic_replaces_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "deep" / "dir" / "summary.json"
    hs.write_atomic(str(target), "one")
    hs.write_atomic(str(target), "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["summary.json"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_write_atomic_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    target.write_text("old")

    def refuse(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(hs.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        hs.write_atomic(str(target), "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_dump_indent():
    assert hs.dump({"a": 1}, 0) == '{"a": 1}\n'
    assert hs.dump({"a": 1}, 2) == '{\n  "a": 1\n}\n'


@pytest.fixture
def restore_signals():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_signal_chain_runs_first_then_hands_the_signal_to_the_previous_handler(restore_signals):
    seen = []
    signal.signal(signal.SIGHUP, lambda signum, _frame: seen.append(("previous", signum)))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    chain = hs.SignalChain(lambda signum: seen.append(("chain", signum)), names=("SIGHUP", "SIGTERM"))
    assert chain.install() == ["SIGHUP"]  # an ignored signal stays ignored
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    os.kill(os.getpid(), signal.SIGHUP)
    assert seen == [("chain", signal.SIGHUP), ("previous", signal.SIGHUP)]
    chain.uninstall()
    os.kill(os.getpid(), signal.SIGHUP)
    assert seen[-1] == ("previous", signal.SIGHUP) and len(seen) == 3


def test_signal_chain_does_not_run_in_another_process(restore_signals):
    """An ansible worker is a fork of the process that installed the chain: there the signal goes straight on."""
    seen = []
    signal.signal(signal.SIGHUP, lambda signum, _frame: seen.append(("previous", signum)))
    chain = hs.SignalChain(lambda signum: seen.append(("chain", signum)), names=("SIGHUP",))
    chain.install()
    chain.pid = os.getpid() + 1  # as seen from a forked child: not the installing process
    os.kill(os.getpid(), signal.SIGHUP)
    chain.uninstall()
    assert seen == [("previous", signal.SIGHUP)]


@pytest.mark.parametrize("name", ["SIGHUP", "SIGTERM"])
def test_signal_chain_dies_of_a_default_signal_after_running(tmp_path, name):
    """With the default action before (SIGHUP in ansible-playbook), the process still dies of the signal."""
    marker = tmp_path / "written"
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        import conftest  # tests/conftest.py: the working copy as the collection
        from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import SignalChain
        SignalChain(lambda signum: open({str(marker)!r}, "w").write(signal.Signals(signum).name)).install()
        os.kill(os.getpid(), signal.{name})
        print("still alive")
    """)
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             cwd=Path(__file__).parent, check=False)
    assert process.returncode == -getattr(signal, name), process.stderr
    assert "still alive" not in process.stdout
    assert marker.read_text() == name


def test_the_documented_example_is_valid(validator):
    text = (SCHEMA_PATH.parents[1] / "health-summary.md").read_text()
    example = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    document = json.loads(example)
    validator.validate(document)
    assert document["status"] == "failed"
