"""The idempotence gate on real molecule runs of the fixture roles: one gate run, two scenarios on every release.

Proves, on each release of STABILITY_OPS_DISTROS: the gate fails on the non-idempotent fixture naming the task and
showing its diff (never the no_log task's), `molecule test` itself fails at its idempotence step on it, and the clean
fixture passes; each (scenario, distro) pair runs in its own container on its own image and leaves none behind.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO_ROOT / "docs" / "audit" / "idempotence-report.schema.json").read_text(encoding="utf-8"))
FIXTURES = "tests/fixtures/idempotence/molecule"
SCENARIOS = ("idempotence_clean", "idempotence_dirty")
# STABILITY_OPS_DISTROS of scripts/lib.sh; test_the_run_covers_every_release_of_lib_sh keeps the two in step.
DISTROS = ("debian12", "debian13")
OS_VERSION_ID = {"debian12": "12", "debian13": "13"}
SECRETS = ("fixture-token-clean-7f3a9c", "fixture-token-dirty-7f3a9c")
GROWN = "+ENV_PATH\tPATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games:/opt/stability/bin:/opt/stability/bin"

# One gate run shared by all tests of this module: keep them on one xdist worker (test.sh uses --dist loadfile).
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("idempotence_gate")]


def _container(scenario, distro):
    return f"molecule-{scenario}-{distro}"


def _containers():
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    ours = {_container(s, d) for s in SCENARIOS for d in DISTROS}
    return sorted(name for name in names if name in ours)


def _lib(expression):
    return subprocess.run(
        ["bash", "-c", f"source scripts/lib.sh && {expression}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("idempotence-gate")
    try:
        proc = subprocess.run(
            [
                "bash",
                "scripts/verify_idempotence.sh",
                "--scenario-dir",
                FIXTURES,
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
            timeout=1800,
        )
        yield proc, report_dir
    finally:
        # Only the fixture pairs' own containers, by exact name.
        for name in _containers():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False, timeout=120)


def _load(report_dir, *parts):
    return json.loads(report_dir.joinpath(*parts).read_text(encoding="utf-8"))


def test_the_run_covers_every_release_of_lib_sh(gate_run):
    proc, report_dir = gate_run
    assert tuple(_lib('printf "%s\\n" "${STABILITY_OPS_DISTROS[@]}"')) == DISTROS
    summary = _load(report_dir, "summary.json")
    assert (summary["distros"], summary["distro_selection"]) == (list(DISTROS), "default")
    assert [(role["role"], role["distro"]) for role in summary["roles"]] == [(s, d) for s in SCENARIOS for d in DISTROS]
    for distro in DISTROS:
        image = summary["images"][distro]
        assert image["ref"] == _lib(f"image_ref {distro}")[0]
        assert image["id"].startswith("sha256:")
        assert image["os_version_id"] == OS_VERSION_ID[distro]
        assert f"{distro}: image {image['ref']}" in proc.stderr


@pytest.mark.parametrize("distro", DISTROS)
def test_gate_fails_on_the_dirty_fixture_naming_task_and_diff(gate_run, distro):
    proc, report_dir = gate_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"idempotence_dirty  {distro}  FAIL    idempotence" in out
    assert f"idempotence_dirty@{distro}: FAILED at step idempotence" in out
    container = _container("idempotence_dirty", distro)
    assert f"changed on second run: idempotence_dirty: Add the tools directory to the login PATH ({container})" in out
    token = f"changed on second run: idempotence_dirty: Write the API token file ({container})"
    assert f"{token}\n    (no_log: diff hidden)" in out
    assert GROWN in [line.strip() for line in out.splitlines()]

    report = _load(report_dir, "idempotence_dirty", distro, "report.json")
    assert (report["passed"], report["failed_step"], report["second_run_changed"]) == (False, "idempotence", 2)
    assert (report["distro"], report["image"]["os_version_id"]) == (distro, OS_VERSION_ID[distro])


@pytest.mark.parametrize("distro", DISTROS)
def test_molecule_test_itself_fails_at_its_idempotence_step(gate_run, distro):
    report_dir = gate_run[1]
    log = report_dir.joinpath("idempotence_dirty", distro, "molecule.log").read_text(encoding="utf-8")
    assert "Idempotence test failed because of the following tasks:" in log
    assert "An error occurred during the test sequence action: 'idempotence'" in log
    assert _load(report_dir, "idempotence_dirty", distro, "report.json")["molecule_rc"] != 0


@pytest.mark.parametrize("distro", DISTROS)
def test_gate_passes_the_clean_fixture_with_zero_second_run_changes(gate_run, distro):
    proc, report_dir = gate_run
    report = _load(report_dir, "idempotence_clean", distro, "report.json")
    assert report["passed"] is True, report["failure"]
    assert report["molecule_rc"] == 0
    assert (report["check_mode_changed"], report["first_run_changed"], report["second_run_changed"]) == (2, 2, 0)
    assert report["steps"] == ["destroy", "create", "prepare", "check", "converge", "idempotence", "verify", "destroy"]
    assert f"idempotence_clean  {distro}  PASS" in proc.stdout
    # Every run of the pair reached its own container, on its own image.
    log = report_dir.joinpath("idempotence_clean", distro, "molecule.log").read_text(encoding="utf-8")
    assert _container("idempotence_clean", distro) in log
    other = next(d for d in DISTROS if d != distro)
    assert _container("idempotence_clean", other) not in log


def test_reports_follow_the_schema_and_name_the_run(gate_run):
    report_dir = gate_run[1]
    summary = _load(report_dir, "summary.json")
    documents = [summary] + [_load(report_dir, s, d, "report.json") for s in SCENARIOS for d in DISTROS]
    for document in documents:
        jsonschema.validate(document, SCHEMA)
    assert summary["passed"] is False
    assert summary["versions"]["collection"]


def test_no_secret_anywhere_and_no_container_left(gate_run):
    report_dir = gate_run[1]
    for path in report_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in SECRETS:
                assert secret not in text, f"{secret} leaked into {path.relative_to(report_dir)}"
    assert _containers() == []
