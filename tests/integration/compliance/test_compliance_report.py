"""The compliance report (playbooks/compliance_report.yml) on real systemd containers of the test image.

Two lab hosts of one release (scripts/lab.sh through the dev package's ``Lab``, no network): web1 has Lynis (the
test image ships it), web2 has it removed. One run of the playbook with the health_summary callback and the
install switch off: web1's summary holds a Lynis report with an integer hardening index and the suggestion ids,
web2's says ``unavailable`` (lynis not installed), and the run does not fail. The scan leaves nothing behind: no
Lynis report or log in /var/log, no scratch directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from stability_ops_dev.testing.lab import Lab, run

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = REPO_ROOT / "docs" / "schemas" / "health_summary.schema.json"
DISTRO = os.environ.get("STABILITY_OPS_COMPLIANCE_DISTRO", "debian12")
TEST_ID = re.compile(r"^[A-Z][A-Z0-9]+(-[0-9A-Z]+)?$")
HOSTS = ("web1", "web2")


class ComplianceLab(Lab):
    """A lab of two hosts (web1, web2), named ``compliance-<distro>-<random>``, reached over the docker
    connection; web2 without Lynis."""

    prefix = "compliance"

    def up(self) -> None:
        up = run(["bash", "scripts/lab.sh", "up", str(len(HOSTS))], self.env)
        assert up.returncode == 0, up.stdout + up.stderr
        removed = self.on("web2", "dpkg", "--purge", "lynis")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        # An inventory of its own: the lab's group_vars (secrets, the deploy's roles) have no part in a report.
        self.inventory = str(self.tmp / "inventory.yml")
        hosts = "".join(f"    {host}:\n      ansible_host: {self.name}-{host}\n" for host in HOSTS)
        Path(self.inventory).write_text(
            "all:\n  vars:\n    ansible_connection: community.docker.docker\n"
            "    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n" + hosts)

    def on(self, host: str, *command: str) -> subprocess.CompletedProcess:
        return run(["docker", "exec", f"{self.name}-{host}", *command], self.env, timeout=self.exec_timeout)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = ComplianceLab(DISTRO, tmp_path_factory.mktemp("compliance"))
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


@pytest.fixture(scope="module")
def report(lab):
    summary_path = lab.tmp / "summary.json"
    result = run(
        ["ansible-playbook", "-i", lab.inventory, "playbooks/compliance_report.yml",
         "-e", '{"compliance_report_install_scanners": false}'],
        {**lab.env, "ANSIBLE_CALLBACKS_ENABLED": "stability.ops.health_summary",
         "STABILITY_OPS_SUMMARY_PATH": str(summary_path)},
        timeout=900,
    )
    assert summary_path.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(summary_path.read_text(encoding="utf-8"))


def test_the_run_succeeds_and_the_summary_validates_against_the_schema(report):
    result, summary = report
    assert result.returncode == 0, result.stdout[-5000:]
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(summary)
    assert sorted(summary["compliance"]) == list(HOSTS)
    for host in HOSTS:
        counts = summary["hosts"][host]["counts"]
        assert counts["failed"] == counts["unreachable"] == counts["changed"] == 0, result.stdout[-5000:]


def test_a_host_with_lynis_reports_its_hardening_index_and_the_suggestion_ids(report):
    _result, summary = report
    (lynis,) = summary["compliance"]["web1"]
    assert (lynis["scanner"], lynis["profile"], lynis["status"], lynis["message"]) == ("lynis", "default", "ok", "")
    assert isinstance(lynis["score"], int) and 0 < lynis["score"] <= 100
    assert re.match(r"^\d+\.\d+\.\d+", lynis["version"])
    counts = lynis["counts"]
    assert 0 < counts["passed"] < counts["total"]
    suggestions = [finding["id"] for finding in lynis["failing"] if finding["kind"] == "suggestion"]
    assert suggestions and all(TEST_ID.match(test_id) for test_id in suggestions), suggestions
    assert counts["suggestions"] >= len(suggestions)
    assert lynis["failing_total"] == counts["warnings"] + counts["suggestions"]
    # A bare test image misses the password hashing rounds of login.defs (issue 17).
    assert "AUTH-9230" in suggestions


def test_a_host_without_lynis_is_unavailable_and_the_run_goes_on(report):
    _result, summary = report
    (lynis,) = summary["compliance"]["web2"]
    assert (lynis["scanner"], lynis["status"], lynis["score"]) == ("lynis", "unavailable", None)
    assert lynis["message"].startswith("lynis not installed"), lynis["message"]
    assert lynis["failing"] == [] and lynis["failing_total"] == 0


def test_the_scan_leaves_no_report_log_or_scratch_directory_behind(lab, report):
    # The scratch directory is made under TMPDIR: /tmp/user/0 with libpam-tmpdir (the test image has it).
    left = lab.on("web1", "sh", "-c", "ls -d /var/log/lynis*; find /tmp -name 'compliance_report.*'; true")
    assert left.stdout.strip() == ""
