"""The idempotence gate on real molecule runs of the fixture roles (one gate run, two scenarios in parallel).

Proves: the gate fails on the non-idempotent fixture naming the task and showing its diff (never the
no_log task's), `molecule test` itself fails at its idempotence step on it, and the clean fixture passes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO_ROOT / "docs" / "audit" / "idempotence-report.schema.json").read_text(encoding="utf-8"))
SCENARIOS = ("idempotence_clean", "idempotence_dirty")
SECRETS = ("fixture-token-clean-7f3a9c", "fixture-token-dirty-7f3a9c")
GROWN = "+ENV_PATH\tPATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games:/opt/stability/bin:/opt/stability/bin"

# One gate run shared by all tests of this module: keep them on one xdist worker (test.sh uses --dist loadgroup).
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("idempotence_gate")]


def _containers():
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    return sorted(name for name in names if name in {f"molecule-{s}" for s in SCENARIOS})


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("idempotence-gate")
    try:
        proc = subprocess.run(
            [
                "bash",
                "scripts/verify_idempotence.sh",
                "--scenario-dir",
                "tests/fixtures/idempotence/molecule",
                "--jobs",
                "2",
                "--timeout",
                "600",
                "--report-dir",
                str(report_dir),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        yield proc, report_dir
    finally:
        # Only the fixture scenarios' own containers, by exact name.
        for name in _containers():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False, timeout=120)


def _load(report_dir, *parts):
    return json.loads(report_dir.joinpath(*parts).read_text(encoding="utf-8"))


def test_gate_fails_on_the_dirty_fixture_naming_task_and_diff(gate_run):
    proc, report_dir = gate_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "idempotence_dirty  FAIL    idempotence" in out
    assert (
        "changed on second run: idempotence_dirty: Add the tools directory to the login PATH "
        "(molecule-idempotence_dirty)" in out
    )
    assert GROWN in [line.strip() for line in out.splitlines()]
    assert (
        "changed on second run: idempotence_dirty: Write the API token file (molecule-idempotence_dirty)\n"
        "    (no_log: diff hidden)" in out
    )

    report = _load(report_dir, "idempotence_dirty", "report.json")
    assert (report["passed"], report["failed_step"], report["second_run_changed"]) == (False, "idempotence", 2)


def test_molecule_test_itself_fails_at_its_idempotence_step(gate_run):
    report_dir = gate_run[1]
    log = report_dir.joinpath("idempotence_dirty", "molecule.log").read_text(encoding="utf-8")
    assert "Idempotence test failed because of the following tasks:" in log
    assert "An error occurred during the test sequence action: 'idempotence'" in log
    assert _load(report_dir, "idempotence_dirty", "report.json")["molecule_rc"] != 0


def test_gate_passes_the_clean_fixture_with_zero_second_run_changes(gate_run):
    proc, report_dir = gate_run
    report = _load(report_dir, "idempotence_clean", "report.json")
    assert report["passed"] is True, report["failure"]
    assert report["molecule_rc"] == 0
    assert (report["check_mode_changed"], report["first_run_changed"], report["second_run_changed"]) == (2, 2, 0)
    assert report["steps"] == ["destroy", "create", "prepare", "check", "converge", "idempotence", "verify", "destroy"]
    assert "idempotence_clean  PASS" in proc.stdout


def test_reports_follow_the_schema_and_name_the_run(gate_run):
    report_dir = gate_run[1]
    summary = _load(report_dir, "summary.json")
    documents = [summary] + [_load(report_dir, s, "report.json") for s in SCENARIOS]
    for document in documents:
        jsonschema.validate(document, SCHEMA)
    assert [role["role"] for role in summary["roles"]] == list(SCENARIOS)
    assert summary["passed"] is False
    assert summary["image"]["id"].startswith("sha256:")
    assert summary["versions"]["collection"]


def test_no_secret_anywhere_and_no_container_left(gate_run):
    report_dir = gate_run[1]
    for path in report_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in SECRETS:
                assert secret not in text, f"{secret} leaked into {path.relative_to(report_dir)}"
    assert _containers() == []
