"""stability.ops.lynis_report and compliance_unavailable: a scanner's report read back into the compliance result.

The fixture is a real report of ``lynis audit system --quick`` on a bare Debian 12 test container, trimmed to the
keys the filter reads and a few it must ignore (no host name, address or host id).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.compliance import compliance_unavailable, lynis_report

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "compliance" / "lynis-report-debian12.dat"
KEYS = {"scanner", "version", "profile", "status", "message", "score", "tests", "warnings", "suggestions"}


@pytest.fixture(scope="module")
def report():
    return lynis_report(FIXTURE.read_text())


def test_a_real_report_gives_the_version_the_hardening_index_and_the_test_counts(report):
    assert set(report) == KEYS
    assert (report["scanner"], report["version"], report["profile"]) == ("lynis", "3.0.8", "default")
    assert (report["status"], report["message"], report["score"]) == ("ok", "", 67)
    assert report["tests"]["performed"] == 237
    assert 0 < report["tests"]["passed"] < report["tests"]["performed"]


def test_warnings_and_suggestions_are_test_ids_with_their_text_in_report_order(report):
    assert report["warnings"] == [
        {"id": "LOGG-2138", "text": "klogd is not running, which could lead to missing kernel messages in log files"},
        {"id": "FINT-4315", "text": "No AIDE configuration file was found, needed for AIDE functionality"},
    ]
    ids = [finding["id"] for finding in report["suggestions"]]
    assert len(ids) == 32
    assert ids[:3] == ["LYNIS", "DEB-0810", "DEB-0880"]
    assert {"AUTH-9230", "NETW-3200", "BANN-7126", "KRNL-6000"} <= set(ids)
    assert {"id": "AUTH-9230", "text": "Configure password hashing rounds in /etc/login.defs"} in report["suggestions"]


def test_the_details_and_the_solution_of_an_entry_never_reach_the_result(report):
    boot = next(finding for finding in report["suggestions"] if finding["id"] == "BOOT-5264")
    assert boot == {"id": "BOOT-5264", "text": "Consider hardening system services"}
    assert "systemd-analyze" not in str(report)
    assert "rkhunter" not in str(report)


def test_passed_counts_the_executed_tests_that_raised_nothing():
    text = ("lynis_version=3.0.9\nhardening_index=80\nlynis_tests_done=4\n"
            "tests_executed=AUTH-9230|AUTH-9286|SSH-7408|NETW-3200|\n"
            "suggestion[]=AUTH-9286|Configure minimum password age|-|-|\n"
            "suggestion[]=AUTH-9286|Configure maximum password age|-|-|\n"
            "warning[]=NETW-3200|Protocol dccp|-|-|\n")
    result = lynis_report(text, "custom")
    assert result["tests"] == {"performed": 4, "passed": 2}
    assert result["profile"] == "custom"
    assert [finding["text"] for finding in result["suggestions"]] == ["Configure minimum password age",
                                                                      "Configure maximum password age"]


NO_INDEX = "the Lynis report holds no hardening index (the scan did not finish)"


@pytest.mark.parametrize("text", ["", "lynis_version=3.0.8\nhardening_index=\n"], ids=["empty", "no-index"])
def test_a_report_without_a_hardening_index_is_failed(text):
    result = lynis_report(text)
    assert (result["status"], result["message"], result["score"]) == ("failed", NO_INDEX, None)


def test_lines_without_a_test_id_other_keys_and_long_texts_are_handled():
    text = ("hostname=web1\nnetwork_ipv4_address[]=192.0.2.10\nreal_user[]=alice,1000\n"
            "suggestion[]=not an id|text|-|-|\n"
            f"suggestion[]=FILE-6310|{'x ' * 300}|-|-|\nhardening_index=50\n")
    result = lynis_report(text)
    assert [finding["id"] for finding in result["suggestions"]] == ["FILE-6310"]
    assert len(result["suggestions"][0]["text"]) == 200
    assert result["suggestions"][0]["text"].endswith("...")
    assert "web1" not in str(result) and "192.0.2.10" not in str(result) and "alice" not in str(result)


def test_anything_but_the_report_text_is_an_error():
    with pytest.raises(AnsibleFilterError, match=r"must be the text of the \.dat file"):
        lynis_report({"content": "base64"})


def test_a_scanner_that_gave_no_report_has_the_same_keys_and_no_score():
    result = compliance_unavailable("lynis", "lynis not installed")
    assert set(result) == KEYS
    assert result == {"scanner": "lynis", "version": None, "profile": "default", "status": "unavailable",
                      "message": "lynis not installed", "score": None, "tests": {"performed": 0, "passed": 0},
                      "warnings": [], "suggestions": []}
    assert compliance_unavailable("lynis", "rc 1", status="failed")["status"] == "failed"
    with pytest.raises(AnsibleFilterError, match="unavailable or failed"):
        compliance_unavailable("lynis", "x", status="ok")
