"""stability-ops-idempotence-report end to end on recorded runs: role reports, summary, baseline update and check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "stability_ops_dev.idempotence_report", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


DISTROS = ("debian12", "debian13")


def _scenario(run_dir, meta, name, runs, rc, distro="debian13"):
    pair_dir = run_dir / name / distro
    records = pair_dir / "records"
    records.mkdir(parents=True)
    for index, run in enumerate(runs):
        (records / f"{index:03d}.json").write_text(json.dumps(run))
    (pair_dir / "molecule.log").write_text("molecule output\n")
    return _cli(
        "role",
        "--scenario",
        name,
        "--distro",
        distro,
        "--scenario-dir",
        "extensions/molecule",
        "--records",
        records,
        "--log",
        pair_dir / "molecule.log",
        "--molecule-rc",
        rc,
        "--duration",
        "12.5",
        "--meta",
        meta,
        "--output",
        pair_dir / "report.json",
    )


def _summary(run_dir, meta, baseline, *flags, selection="explicit"):
    return _cli(
        "summary",
        "--run-dir",
        run_dir,
        "--meta",
        meta,
        "--run-id",
        "x-1",
        "--selection",
        selection,
        "--distro-selection",
        "default",
        "--jobs",
        "2",
        "--duration",
        "30",
        "--baseline",
        baseline,
        *flags,
    )


def _meta(path):
    images = [arg for distro in DISTROS for arg in ("--image", f"{distro}=stability-ops-test:{distro}-nothere")]
    proc = _cli("meta", *images, "--output", path)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(path.read_text())
    assert list(meta["images"]) == list(DISTROS)
    assert meta["images"]["debian12"] == {
        "ref": "stability-ops-test:debian12-nothere",
        "id": "unknown",
        "os_version_id": None,
    }
    return path


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
    meta = _meta(tmp_path / "meta.json")
    # meta.json is checked through the reports built from it, which are validated against the schema.
    baseline = tmp_path / "baseline.json"

    failing = tmp_path / "failing"
    proc = _scenario(failing, meta, "core_dirty", recorded("idempotence_dirty"), 1)
    assert proc.returncode == 1
    assert "core_dirty@debian13: FAILED at idempotence" in proc.stderr
    proc = _summary(failing, meta, baseline, "--update-baseline")
    assert proc.returncode == 1
    assert "core_dirty  debian13  FAIL    idempotence  2      2        2" in proc.stdout
    assert "core_dirty@debian13: FAILED at step idempotence" in proc.stdout
    assert "baseline NOT updated" in proc.stderr
    assert not baseline.exists()
    validate(json.loads((failing / "summary.json").read_text()))

    passing = tmp_path / "passing"
    for distro in DISTROS:
        proc = _scenario(passing, meta, "core_clean", _passing_runs(recorded("idempotence_dirty")), 0, distro)
        assert proc.returncode == 0, proc.stderr
        validate(json.loads((passing / "core_clean" / distro / "report.json").read_text()))
    proc = _summary(passing, meta, baseline, "--update-baseline")
    assert proc.returncode == 0, proc.stderr
    written = validate(json.loads(baseline.read_text()))
    assert sorted(written["roles"]["core_clean"]) == list(DISTROS)
    assert written["roles"]["core_clean"]["debian12"]["second_run_changed"] == 0
    assert _summary(passing, meta, baseline, "--check-baseline").returncode == 0

    written["roles"]["core_clean"]["debian13"]["first_run_changed"] = 99
    baseline.write_text(json.dumps(written))
    proc = _cli("compare", "--baseline", baseline, "--summary", passing / "summary.json")
    assert proc.returncode == 1
    assert "core_clean@debian13: first_run_changed baseline 99, run 2" in proc.stderr


def test_cli_check_fails_on_a_pair_missing_from_the_baseline(tmp_path, recorded, validate):
    meta = _meta(tmp_path / "meta.json")
    run = tmp_path / "run"
    for distro in DISTROS:
        proc = _scenario(run, meta, "core_clean", _passing_runs(recorded("idempotence_dirty")), 0, distro)
        assert proc.returncode == 0, proc.stderr
    baseline = tmp_path / "baseline.json"
    assert _summary(run, meta, baseline, "--update-baseline").returncode == 0
    written = json.loads(baseline.read_text())
    del written["roles"]["core_clean"]["debian13"]
    baseline.write_text(json.dumps(validate(written)))

    proc = _summary(run, meta, baseline, "--check-baseline")
    assert proc.returncode == 1
    assert "  not in the baseline (role@distro): core_clean@debian13" in proc.stderr.splitlines()

    assert _summary(run, meta, baseline, "--update-baseline").returncode == 0
    assert sorted(json.loads(baseline.read_text())["roles"]["core_clean"]) == list(DISTROS)
    assert _summary(run, meta, baseline, "--check-baseline").returncode == 0


def test_cli_meta_rejects_a_malformed_image(tmp_path):
    proc = _cli("meta", "--image", "stability-ops-test:latest", "--output", tmp_path / "meta.json")
    assert proc.returncode == 2
    assert "expected DISTRO=REF, got 'stability-ops-test:latest'" in proc.stderr
