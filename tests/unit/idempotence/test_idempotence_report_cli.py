"""scripts/idempotence_report.py end to end on recorded runs: role reports, summary, baseline update and check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI = REPO_ROOT / "scripts" / "idempotence_report.py"


def _cli(*args):
    return subprocess.run(
        [sys.executable, str(CLI), *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _scenario(run_dir, meta, name, runs, rc):
    records = run_dir / name / "records"
    records.mkdir(parents=True)
    for index, run in enumerate(runs):
        (records / f"{index:03d}.json").write_text(json.dumps(run))
    (run_dir / name / "molecule.log").write_text("molecule output\n")
    return _cli(
        "role",
        "--scenario",
        name,
        "--scenario-dir",
        "extensions/molecule",
        "--records",
        records,
        "--log",
        run_dir / name / "molecule.log",
        "--molecule-rc",
        rc,
        "--duration",
        "12.5",
        "--meta",
        meta,
        "--output",
        run_dir / name / "report.json",
    )


def _summary(run_dir, meta, baseline, *flags):
    return _cli(
        "summary",
        "--run-dir",
        run_dir,
        "--meta",
        meta,
        "--run-id",
        "x-1",
        "--selection",
        "explicit",
        "--jobs",
        "2",
        "--duration",
        "30",
        "--baseline",
        baseline,
        *flags,
    )


def _passing_runs(recorded_runs):
    """The recorded dirty run with its second converge made clean: a passing sequence."""
    runs = json.loads(json.dumps(recorded_runs))
    second = [run for run in runs if run["playbook"].endswith("converge.yml") and not run["check_mode"]][1]
    second["tasks"] = []
    for counts in second["stats"].values():
        counts["ok"] += counts["changed"]
        counts["changed"] = 0
    return runs


def test_cli_reports_fails_and_accepts_only_passed_runs(tmp_path, recorded, validate):
    meta = tmp_path / "meta.json"
    assert _cli("meta", "--image", "stability-ops-test:latest", "--output", meta).returncode == 0
    # meta.json is checked through the reports built from it, which are validated against the schema.
    baseline = tmp_path / "baseline.json"

    failing = tmp_path / "failing"
    proc = _scenario(failing, meta, "core_dirty", recorded("idempotence_dirty"), 1)
    assert proc.returncode == 1
    assert "core_dirty: FAILED at idempotence" in proc.stderr
    proc = _summary(failing, meta, baseline, "--update-baseline")
    assert proc.returncode == 1
    assert "core_dirty  FAIL    idempotence  2      2        2" in proc.stdout
    assert "baseline NOT updated" in proc.stderr
    assert not baseline.exists()
    validate(json.loads((failing / "summary.json").read_text()))

    passing = tmp_path / "passing"
    assert _scenario(passing, meta, "core_clean", _passing_runs(recorded("idempotence_dirty")), 0).returncode == 0
    proc = _summary(passing, meta, baseline, "--update-baseline")
    assert proc.returncode == 0, proc.stderr
    written = validate(json.loads(baseline.read_text()))
    assert written["roles"]["core_clean"]["second_run_changed"] == 0
    assert _summary(passing, meta, baseline, "--check-baseline").returncode == 0

    written["roles"]["core_clean"]["first_run_changed"] = 99
    baseline.write_text(json.dumps(written))
    proc = _cli("compare", "--baseline", baseline, "--summary", passing / "summary.json")
    assert proc.returncode == 1
    assert "core_clean: first_run_changed baseline 99, run 2" in proc.stderr
