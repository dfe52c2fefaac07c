"""The compliance section of the Deployment Health Summary: what the compliance_report role publishes per host
(scanner, profile, status, score, counts, failing test ids), bounded, in the document, the table and JUnit."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from ansible_collections.stability.ops.plugins.callback.health_summary import CallbackModule
from ansible_collections.stability.ops.plugins.filter.compliance import compliance_unavailable, lynis_report
from ansible_collections.stability.ops.plugins.plugin_utils import health_summary as hs

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "docs" / "schemas" / "health_summary.schema.json"
LYNIS = lynis_report((ROOT / "tests" / "fixtures" / "compliance" / "lynis-report-debian12.dat").read_text())
MISSING = compliance_unavailable("lynis", "lynis not installed")


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()),
                                           format_checker=jsonschema.FormatChecker())


def _built(reports, host="web1"):
    builder = hs.SummaryBuilder()
    builder.start_play("p1", "Compliance report", "all", [(name, False) for name in reports], list(reports))
    for name, results in reports.items():
        builder.record_ok(name, False)
        builder.record_compliance(name, results)
    return builder.build("finished")


def test_a_lynis_report_gives_the_score_the_counts_and_the_failing_ids(validator):
    document = _built({"web1": [LYNIS]})
    validator.validate(document)
    (report,) = document["compliance"]["web1"]
    assert {key: report[key] for key in ("scanner", "version", "profile", "status", "message", "score")} == {
        "scanner": "lynis", "version": "3.0.8", "profile": "default", "status": "ok", "message": "", "score": 67}
    assert report["counts"] == {"passed": LYNIS["tests"]["passed"], "total": 237, "warnings": 2, "suggestions": 32}
    assert report["failing_total"] == 34
    assert report["failing"][:2] == [
        {"id": "LOGG-2138", "kind": "warning",
         "text": "klogd is not running, which could lead to missing kernel messages in log files"},
        {"id": "FINT-4315", "kind": "warning",
         "text": "No AIDE configuration file was found, needed for AIDE functionality"},
    ]
    assert {"id": "AUTH-9230", "kind": "suggestion",
            "text": "Configure password hashing rounds in /etc/login.defs"} in report["failing"]


def test_without_compliance_results_the_section_is_absent(validator):
    document = _built({"web1": []})
    validator.validate(document)
    assert "compliance" not in document


def test_a_scanner_that_is_not_installed_is_unavailable_with_no_score(validator):
    document = _built({"web1": [LYNIS], "web2": [MISSING]})
    validator.validate(document)
    assert document["compliance"]["web2"] == [{
        "scanner": "lynis", "version": None, "profile": "default", "status": "unavailable",
        "message": "lynis not installed", "score": None,
        "counts": {"passed": 0, "total": 0, "warnings": 0, "suggestions": 0}, "failing": [], "failing_total": 0}]
    assert document["status"] != "failed"


def test_the_failing_list_is_bounded_and_the_total_stays_exact(validator):
    many = dict(LYNIS, suggestions=[{"id": f"TEST-{n:04d}", "text": f"suggestion {n}"} for n in range(120)])
    (report,) = _built({"web1": [many]})["compliance"]["web1"]
    assert len(report["failing"]) == hs.MAX_COMPLIANCE_FAILING
    assert report["failing_total"] == 122
    assert report["counts"]["suggestions"] == 120


def test_the_latest_result_of_a_scanner_and_profile_wins_and_another_profile_is_kept(validator):
    builder = hs.SummaryBuilder()
    builder.record_compliance("web1", [MISSING])
    builder.record_compliance("web1", [LYNIS, dict(LYNIS, profile="custom", score=90)])
    document = builder.build("finished")
    validator.validate(document)
    assert [(r["profile"], r["status"], r["score"]) for r in document["compliance"]["web1"]] == [
        ("default", "ok", 67), ("custom", "ok", 90)]


@pytest.mark.parametrize(
    "result",
    [
        "not a mapping",
        {"scanner": "lynis", "status": "great"},
        {"status": "ok"},
        {"scanner": "", "status": "ok"},
    ],
    ids=["not-a-mapping", "unknown-status", "no-scanner", "empty-scanner"],
)
def test_malformed_results_are_left_out(validator, result):
    builder = hs.SummaryBuilder()
    builder.record_compliance("web1", [result])
    builder.record_compliance("web1", "not a list")
    assert "compliance" not in builder.build("finished")


def test_only_ids_counts_and_descriptions_reach_the_summary(validator):
    noisy = dict(LYNIS, hostname="web1.example.org", details=["/home/alice"], score=250,
                 warnings=[{"id": "AUTH-9230", "text": "x\x1b[31m\nred", "details": "/home/alice/.ssh"},
                           {"id": "not an id!", "text": "dropped"}, "nonsense"])
    (report,) = _built({"web1": [noisy]})["compliance"]["web1"]
    text = json.dumps(report)
    assert "alice" not in text and "example.org" not in text and "dropped" not in text
    assert report["failing"][0] == {"id": "AUTH-9230", "kind": "warning", "text": "x red"}
    assert report["score"] is None  # out of range


def test_the_table_and_junit_show_each_result(validator, junit_check):
    document = _built({"web1": [LYNIS], "web2": [MISSING]})
    table = hs.render_table(document)
    assert "COMPLIANCE web1 lynis (default): ok, score 67, " in table
    assert "COMPLIANCE web2 lynis (default): unavailable: lynis not installed" in table
    junit = hs.render_junit(document)
    _root, problems = junit_check(junit)
    assert problems == []
    assert 'name="compliance: lynis default" time="0.000"/>' in junit
    assert '<skipped message="lynis (default): unavailable: lynis not installed"/>' in junit


def _result(action, data, no_log=False):
    return SimpleNamespace(task=SimpleNamespace(action=action, no_log=no_log),
                           host=SimpleNamespace(get_name=lambda: "web1"), result=data)


@pytest.mark.parametrize(
    ("action", "data", "no_log", "recorded"),
    [
        ("ansible.builtin.set_fact", {"ansible_facts": {hs.COMPLIANCE_FACT: [LYNIS]}}, False, True),
        ("set_fact", {"ansible_facts": {hs.COMPLIANCE_FACT: [LYNIS]}}, False, True),
        ("ansible.builtin.set_fact", {"ansible_facts": {hs.COMPLIANCE_FACT: [LYNIS]}}, True, False),
        ("ansible.builtin.set_fact", {"ansible_facts": {"other": 1}}, False, False),
        ("ansible.builtin.debug", {"ansible_facts": {hs.COMPLIANCE_FACT: [LYNIS]}}, False, False),
    ],
    ids=["set-fact", "short-name", "no-log", "another-fact", "another-action"],
)
def test_the_callback_records_the_published_fact_of_a_set_fact_task(action, data, no_log, recorded):
    callback = CallbackModule()
    callback._record_compliance(_result(action, data, no_log))
    assert bool(callback._builder.hosts.get("web1") and callback._builder.hosts["web1"].compliance) is recorded
