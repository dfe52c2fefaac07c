"""scripts/verify_idempotence.sh: scenario discovery and usage errors (no container started)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
GATE = REPO_ROOT / "scripts" / "verify_idempotence.sh"
FIXTURES = "tests/fixtures/idempotence/molecule"


def _gate(*args):
    return subprocess.run(
        ["bash", str(GATE), *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=60
    )


def _scenarios(directory):
    return sorted(path.parent.name for path in (REPO_ROOT / directory).glob("*/molecule.yml"))


def test_default_selection_is_every_core_and_security_scenario():
    proc = _gate("--list")
    assert proc.returncode == 0, proc.stderr
    expected = [name for name in _scenarios("extensions/molecule") if name.startswith(("core_", "security_"))]
    assert "core_time" in expected
    assert proc.stdout.split() == expected


def test_scenario_dir_selects_all_its_scenarios_and_roles_narrow_it():
    assert _gate("--scenario-dir", FIXTURES, "--list").stdout.split() == ["idempotence_clean", "idempotence_dirty"]
    proc = _gate("--scenario-dir", FIXTURES, "--role", "idempotence_dirty", "--list")
    assert proc.stdout.split() == ["idempotence_dirty"]
    assert _gate("--role", "core_time,core_time", "--list").stdout.split() == ["core_time", "core_time"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "--jobs must be a positive integer, got '0'"),
        (["--jobs"], "--jobs needs a value"),
        (["--timeout", "soon"], "--timeout must be a positive integer"),
        (["--role", "core_nope"], "no scenario for role 'core_nope' in extensions/molecule"),
        (["--scenario-dir", "tests/nowhere"], "no such scenario directory: tests/nowhere"),
        (
            ["--scenario-dir", FIXTURES, "--update-baseline"],
            "--check-baseline/--update-baseline with --scenario-dir need an explicit --baseline FILE",
        ),
        (["--frobnicate"], "unknown argument: --frobnicate"),
    ],
    ids=["jobs-zero", "jobs-missing", "timeout", "unknown-role", "missing-dir", "fixture-baseline", "unknown-arg"],
)
def test_usage_errors_exit_2(args, message):
    proc = _gate(*args)
    assert proc.returncode == 2
    assert f"ERROR: {message}" in proc.stderr
    assert "Usage: scripts/verify_idempotence.sh" in proc.stderr


def test_help_exits_0():
    proc = _gate("--help")
    assert proc.returncode == 0
    assert "--update-baseline" in proc.stdout
