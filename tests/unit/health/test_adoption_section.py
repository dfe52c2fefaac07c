"""The adoption section of the Deployment Health Summary: what stability.ops.adoption_guard reports per host
(what a role would close, drop, lock out or override on a host it adopts), bounded, deduplicated by role and item,
in the document, the table and JUnit."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import health_summary as hs

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "health_summary.schema.json"
PORT = {"item": "8080/tcp", "kind": "close", "detail": "listening (python3), not in security_firewall_allowed_tcp",
        "accept_with": "security_firewall_accept_closing", "accepted": False}


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()),
                                           format_checker=jsonschema.FormatChecker())


def _built(*reports, host="web1"):
    builder = hs.SummaryBuilder()
    builder.start_play("p1", "Adopt", "all", [(host, False)], [host])
    for adoption, failed in reports:
        builder.record_adoption(host, adoption, failed)
    if any(failed for _adoption, failed in reports):
        builder.record_failed(host, "Guard", "stability.ops.security_firewall", {"msg": "1 unaccepted"}, no_log=False)
    return builder.build("finished")


def test_one_role_findings_carry_the_role_and_count_in_the_totals(validator):
    document = _built(({"role": "security_firewall", "findings": [PORT], "unaccepted": 1}, True))
    validator.validate(document)
    assert document["hosts"]["web1"]["adoption"] == [{**PORT, "role": "security_firewall", "guard_failed": True}]
    assert document["hosts"]["web1"]["adoption_total"] == 1
    assert document["totals"]["adoption"] == {"findings": 1, "unaccepted": 1}


def test_role_all_takes_each_findings_own_role_and_drops_malformed_ones(validator):
    findings = [
        {**PORT, "role": "security_firewall"},
        {"role": "security_sshd", "item": "root", "kind": "lockout", "detail": "no key", "accept_with": None,
         "accepted": True},
        {"role": "security_sshd", "item": "x", "kind": "explode", "detail": "unknown kind"},
        {"item": "no role", "kind": "drop"},
        "not a mapping",
    ]
    document = _built(({"role": "all", "findings": findings, "unaccepted": 1}, False))
    validator.validate(document)
    listed = document["hosts"]["web1"]["adoption"]
    assert [(f["role"], f["item"], f["accepted"], f["guard_failed"]) for f in listed] == [
        ("security_firewall", "8080/tcp", False, False), ("security_sshd", "root", True, False)]


def test_findings_are_deduplicated_by_role_and_item_the_latest_wins_and_the_list_is_bounded(validator):
    first = {"role": "security_firewall", "findings": [PORT]}
    accepted = {"role": "security_firewall", "findings": [{**PORT, "accepted": True}]}
    many = {"role": "core_users", "findings": [
        {"item": f"user{index}", "kind": "unmanaged", "detail": "", "accepted": False}
        for index in range(hs.MAX_ADOPTION + 10)]}
    document = _built((first, True), (accepted, False), (many, False), (many, False))
    validator.validate(document)
    host = document["hosts"]["web1"]
    assert len(host["adoption"]) == hs.MAX_ADOPTION
    assert host["adoption_total"] == 1 + hs.MAX_ADOPTION + 10
    assert host["adoption"][0] == {**PORT, "role": "security_firewall", "accepted": True, "guard_failed": False}


def test_long_and_control_characters_are_bounded_on_one_line(validator):
    noisy = {**PORT, "item": "8080/tcp\x1b[31m\n" + "x" * 500, "detail": "a\nb\x00" + "y" * 1000}
    document = _built(({"role": "security_firewall", "findings": [noisy]}, True))
    validator.validate(document)
    finding = document["hosts"]["web1"]["adoption"][0]
    assert len(finding["item"]) <= 200 and len(finding["detail"]) <= 300
    assert "\n" not in finding["item"] + finding["detail"] and "\x00" not in finding["detail"]


def test_the_table_counts_them_and_names_the_unaccepted(validator):
    document = _built(({"role": "all", "findings": [
        {**PORT, "role": "security_firewall"},
        {"role": "security_sshd", "item": "root", "kind": "lockout", "detail": "no key", "accepted": True}]}, True))
    table = hs.render_table(document)
    lines = table.splitlines()
    assert lines[1].split()[-2:] == ["adoption", "open/all"]
    assert lines[2].split()[-1] == "1/2"
    assert ("  ADOPT web1 security_firewall close 8080/tcp: listening (python3), not in security_firewall_allowed_tcp"
            " (accept with security_firewall_accept_closing)") in lines
    assert "root" not in table


@pytest.mark.parametrize("failed, outcome", [(True, "failure"), (False, "system-out")], ids=["guard-failed", "report"])
def test_junit_has_a_failing_case_per_unaccepted_finding_when_the_guard_failed(junit_check, failed, outcome):
    document = _built(({"role": "all", "findings": [
        {**PORT, "role": "security_firewall"},
        {**PORT, "role": "security_firewall", "item": "9090/tcp"},
        {"role": "security_sshd", "item": "root", "kind": "lockout", "detail": "no key", "accepted": True}]}, failed))
    root, problems = junit_check(hs.render_junit(document))
    assert problems == [], problems
    cases = {case.attrib["name"]: case for case in root.iter("testcase") if case.attrib["classname"] == "web1"}
    adoption = sorted(name for name in cases if name.startswith("adoption: "))
    assert adoption == ["adoption: security_firewall 8080/tcp", "adoption: security_firewall 9090/tcp"]
    for name in adoption:
        assert cases[name].find(outcome) is not None
    if failed:
        assert cases[adoption[0]].find("failure").attrib["message"] == (
            "close 8080/tcp: listening (python3), not in security_firewall_allowed_tcp"
            " (accept with security_firewall_accept_closing)")
