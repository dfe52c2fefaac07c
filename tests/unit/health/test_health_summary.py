"""The Deployment Health Summary document (plugin_utils/health_summary.py) and its schema."""

from __future__ import annotations

import json
import os
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import health_summary as hs

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "health_summary.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _check(name, status):
    return {"name": name, "category": "disk", "status": status, "observed": "x", "expected": "y", "message": name}


def _builder():
    builder = hs.SummaryBuilder(max_failed_tasks=3, message_max_length=40)
    builder.playbooks.append("site.yml")
    builder.versions = {"ansible_core": "2.19.14", "collection": "0.1.0"}
    return builder


def test_healthy_run(validator):
    builder = _builder()
    builder.record_ok("web1", changed=True)
    builder.record_skipped("web1")
    builder.record_health("web1", {"status": "ok", "checks": [_check("disk:/", "ok")]})
    document = builder.build()
    validator.validate(document)
    assert document["status"] == "healthy"
    assert document["hosts"]["web1"]["counts"] | {} == {
        "ok": 1, "changed": 1, "failed": 0, "unreachable": 0, "skipped": 1, "rescued": 0, "ignored": 0}
    assert document["totals"]["checks"] == {"ok": 1, "warn": 0, "fail": 0}
    assert document["meta"]["counts_source"] == "callback"


def test_warnings_make_the_run_degraded(validator):
    builder = _builder()
    builder.record_ok("web1", changed=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("log_files_old", "warn")]})
    document = builder.build()
    validator.validate(document)
    assert document["status"] == "degraded"
    assert document["hosts"]["web1"]["health"]["status"] == "warn"
    assert document["reason"] == "health check warnings on web1: log_files_old"


def test_failures_unreachable_and_failed_checks_make_the_run_failed(validator):
    builder = _builder()
    builder.record_failed("web1", "Install app", "stability.ops.app", {"msg": "No package\n  matching  'app'"},
                          no_log=False)
    builder.record_unreachable("db1", "Gathering Facts", {"msg": "connection refused"}, no_log=False)
    builder.record_health("web2", {"status": "fail", "checks": [_check("disk:/", "fail")]})
    document = builder.build()
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["hosts"]["web1"]["failed_tasks"] == [
        {"task": "Install app", "role": "stability.ops.app", "message": "No package matching 'app'", "no_log": False}]
    assert document["hosts"]["db1"]["unreachable_message"] == "Gathering Facts: connection refused"
    assert [h["status"] for h in document["hosts"].values()] == ["failed"] * 3
    assert document["reason"] == ("db1 unreachable; web1: 1 failed task(s), first 'Install app'; "
                                  "web2: health check(s) failed: disk:/")


def test_no_log_failure_keeps_only_the_name(validator):
    builder = _builder()
    builder.record_failed("web1", "Write the secret", None, {"msg": "hunter2 leaked"}, no_log=True)
    builder.record_unreachable("web2", "Connect", {"msg": "hunter2"}, no_log=True)
    document = builder.build()
    validator.validate(document)
    assert "hunter2" not in json.dumps(document)
    assert document["hosts"]["web1"]["failed_tasks"][0]["message"] is None


def test_ignored_failures_are_counted_not_listed():
    builder = _builder()
    builder.record_failed("web1", "Probe", None, {"msg": "nope"}, no_log=False, ignored=True)
    document = builder.build()
    assert document["hosts"]["web1"]["counts"]["ignored"] == 1
    assert document["hosts"]["web1"]["failed_tasks"] == []
    assert document["status"] == "healthy"


def test_messages_are_short_and_fall_back_to_stderr_and_exception():
    assert hs.short_message({"msg": "x" * 100}, 10) == "xxxxxxx..."
    assert hs.short_message({"stderr": "boom\nline two"}, 50) == "boom line two"
    assert hs.short_message({"exception": "Traceback\n  ...\nKeyError: 'a'\n"}, 50) == "KeyError: 'a'"
    assert hs.short_message({}, 50) == ""


def test_failed_tasks_are_bounded_and_memory_stays_flat():
    builder = _builder()
    tracemalloc.start()
    for index in range(200):
        builder.record_failed("web1", f"task {index}", None, {"msg": "m" * 1000}, no_log=False)
        builder.record_ok("web1", changed=True)
    first = tracemalloc.get_traced_memory()[0]
    for index in range(20000):
        builder.record_failed("web1", f"task {index}", None, {"msg": "m" * 1000}, no_log=False)
        builder.record_ok("web1", changed=True)
    grown = tracemalloc.get_traced_memory()[0] - first
    tracemalloc.stop()
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 20000 tasks"
    document = builder.build()
    assert len(document["hosts"]["web1"]["failed_tasks"]) == 3
    assert document["hosts"]["web1"]["failed_tasks_total"] == 20200


def test_stats_counts_and_set_stats_data_win(validator):
    builder = _builder()
    builder.record_failed("web1", "Rescued task", None, {"msg": "x"}, no_log=False)
    summaries = {"web1": {"ok": 4, "failures": 0, "unreachable": 0, "changed": 1, "skipped": 0, "rescued": 1,
                          "ignored": 0}}
    custom = {"_run": {hs.HEALTH_STATS_KEY: {"web1": {"status": "warn", "checks": [_check("a", "warn")]}}},
              "web2": {hs.HEALTH_STATS_KEY: {"status": "ok", "checks": [_check("b", "ok")]}},
              "web3": {"unrelated": 1}}
    builder.apply_stats(summaries, custom)
    document = builder.build()
    validator.validate(document)
    assert document["hosts"]["web1"]["counts"]["rescued"] == 1
    assert document["hosts"]["web1"]["counts"]["failed"] == 0
    assert document["hosts"]["web1"]["status"] == "degraded"  # the rescue is not a failure
    assert document["hosts"]["web2"]["health"]["status"] == "ok"
    assert "web3" not in document["hosts"]
    assert document["meta"]["counts_source"] == "stats"


def test_interrupted_run_is_failed(validator):
    builder = _builder()
    builder.record_ok("web1", changed=False)
    document = builder.build(interrupted=True, hook_seconds=0.0123456789, hook_calls=7)
    validator.validate(document)
    assert document["status"] == "failed"
    assert document["run"]["interrupted"] is True
    assert document["reason"].startswith("the run was interrupted")
    assert document["meta"]["callback_hook_seconds"] == 0.012346
    assert document["meta"]["callback_hook_calls"] == 7


def test_empty_run_is_valid(validator):
    document = hs.SummaryBuilder().build()
    validator.validate(document)
    assert document["reason"] == "no host ran a task"
    assert document["run"]["playbook"] is None


def test_the_schema_rejects_a_message_under_no_log(validator):
    builder = _builder()
    builder.record_failed("web1", "t", None, {}, no_log=True)
    document = builder.build()
    document["hosts"]["web1"]["failed_tasks"][0]["message"] = "leak"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


def test_table_lists_hosts_and_non_ok_checks():
    builder = _builder()
    builder.record_ok("web1", changed=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("disk:/srv", "fail")]})
    table = hs.render_table(builder.build())
    lines = table.splitlines()
    assert lines[1].split() == ["host", "status", "ok", "changed", "failed", "unreach", "skipped", "rescued",
                                "checks", "ok/warn/fail"]
    assert lines[2].split() == ["web1", "failed", "1", "0", "0", "0", "0", "0", "1/0/1"]
    assert "FAIL web1 disk:/srv: disk:/srv" in table
    assert lines[-1].startswith("status: failed - ")


def test_junit_xml():
    builder = _builder()
    builder.record_failed("web1", "Install <app>", None, {"msg": 'bad "quote" & more'}, no_log=False)
    builder.record_failed("web1", "Secret", None, {"msg": "hunter2"}, no_log=True)
    builder.record_unreachable("db1", "Connect", {"msg": "refused"}, no_log=False)
    builder.record_health("web1", {"checks": [_check("disk:/", "ok"), _check("logs", "warn"), _check("x", "fail")]})
    xml = hs.render_junit(builder.build())
    assert "hunter2" not in xml
    root = ET.fromstring(xml)  # noqa: S314 - our own output, not untrusted input
    assert root.attrib == {"name": "deployment health summary", "tests": "6", "failures": "4"}
    suites = {s.attrib["name"]: s for s in root}
    assert [c.attrib["name"] for c in suites["web1"]] == ["task: Install <app>", "task: Secret", "health: disk:/",
                                                          "health: logs", "health: x"]
    assert suites["web1"].find("testcase/failure").attrib["message"] == 'bad "quote" & more'
    assert suites["db1"].attrib["failures"] == "1"


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


def test_rescued_failures_are_counted_not_listed():
    builder = _builder()
    builder.record_failed("web1", "Try", None, {"msg": "nope"}, no_log=False, rescued=True)
    document = builder.build()
    assert document["hosts"]["web1"]["counts"]["rescued"] == 1
    assert document["hosts"]["web1"]["failed_tasks"] == []


def test_the_documented_example_is_valid(validator):
    text = (SCHEMA_PATH.parents[1] / "health-summary.md").read_text()
    example = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    document = json.loads(example)
    validator.validate(document)
    assert document["status"] == "failed"
