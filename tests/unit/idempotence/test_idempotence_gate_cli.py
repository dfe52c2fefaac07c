"""scripts/verify_idempotence.sh: scenario x distro discovery, usage errors, missing images (no container started)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
GATE = REPO_ROOT / "scripts" / "verify_idempotence.sh"
FIXTURES = "tests/fixtures/idempotence/molecule"


def _gate(*args, env=None):
    return subprocess.run(
        ["bash", str(GATE), *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=60, env=env
    )


def _lib(expression):
    return subprocess.run(
        ["bash", "-c", f"source scripts/lib.sh && {expression}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()


def _scenarios(directory):
    return sorted(path.parent.name for path in (REPO_ROOT / directory).glob("*/molecule.yml"))


def test_default_selection_is_every_core_and_security_scenario_on_every_distro(distros):
    proc = _gate("--list")
    assert proc.returncode == 0, proc.stderr
    expected = [name for name in _scenarios("extensions/molecule") if name.startswith(("core_", "security_"))]
    assert "core_time" in expected
    assert distros == ["debian12", "debian13"]
    assert proc.stdout.split() == [f"{name}@{distro}" for name in expected for distro in distros]


def test_scenario_dir_selects_all_its_scenarios_and_roles_narrow_it():
    assert _gate("--scenario-dir", FIXTURES, "--list").stdout.split() == [
        "idempotence_clean@debian12",
        "idempotence_clean@debian13",
        "idempotence_dirty@debian12",
        "idempotence_dirty@debian13",
    ]
    proc = _gate("--scenario-dir", FIXTURES, "--role", "idempotence_dirty", "--list")
    assert proc.stdout.split() == ["idempotence_dirty@debian12", "idempotence_dirty@debian13"]
    proc = _gate("--role", "health_check", "--list")
    assert proc.stdout.split() == ["health_check@debian12", "health_check@debian13"]


@pytest.mark.parametrize(
    ("args", "pairs"),
    [
        (["--distro", "debian12"], ["core_time@debian12"]),
        (["--distro", "debian13,debian12"], ["core_time@debian13", "core_time@debian12"]),
        (["--distro", "debian13", "--distro", "debian13"], ["core_time@debian13"]),
        (
            ["--role", "core_time,core_sysctl,core_time", "--distro", "debian13"],
            ["core_time@debian13", "core_sysctl@debian13"],
        ),
    ],
    ids=["one", "comma-list-in-order", "repeated-once", "roles-once"],
)
def test_distro_option_narrows_the_pairs(args, pairs):
    proc = _gate("--role", "core_time", *args, "--list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == pairs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "--jobs must be a positive integer, got '0'"),
        (["--jobs"], "--jobs needs a value"),
        (["--timeout", "soon"], "--timeout must be a positive integer"),
        (["--role", "core_nope"], "no scenario for role 'core_nope' in extensions/molecule"),
        (["--distro", "debian11"], "unknown distribution 'debian11' (known: debian12 debian13)"),
        (["--distro", "debian12,ubuntu24"], "unknown distribution 'ubuntu24' (known: debian12 debian13)"),
        (["--distro"], "--distro needs a value"),
        (["--scenario-dir", "tests/nowhere"], "no such scenario directory: tests/nowhere"),
        (
            ["--scenario-dir", FIXTURES, "--update-baseline"],
            "--check-baseline/--update-baseline with --scenario-dir need an explicit --baseline FILE",
        ),
        (["--frobnicate"], "unknown argument: --frobnicate"),
    ],
    ids=[
        "jobs-zero",
        "jobs-missing",
        "timeout",
        "unknown-role",
        "unknown-distro",
        "unknown-distro-in-list",
        "distro-missing",
        "missing-dir",
        "fixture-baseline",
        "unknown-arg",
    ],
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


@pytest.fixture
def docker_with_images(tmp_path):
    """PATH with a `docker` that answers and knows only the images whose ref contains one of the given words."""

    def _env(*known):
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        patterns = "|".join(f"*{word}*" for word in known) or "__none__"
        script = bindir / "docker"
        script.write_text(
            "#!/bin/sh\n"
            'case "$1" in version) exit 0 ;; esac\n'
            f'[ "$1 $2" = "image inspect" ] && case "$3" in {patterns}) exit 0 ;; esac\n'
            "exit 1\n"
        )
        script.chmod(0o755)
        return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}

    return _env


@pytest.mark.parametrize(
    ("known", "args", "missing"),
    [
        (["debian12-"], [], ["debian13"]),
        ([], [], ["debian12", "debian13"]),
        ([], ["--distro", "debian12"], ["debian12"]),
    ],
    ids=["debian13-missing", "both-missing", "only-the-selected"],
)
def test_a_missing_image_fails_before_any_run_naming_the_build_command(
    tmp_path, docker_with_images, known, args, missing
):
    report_dir = tmp_path / "reports"
    proc = _gate("--role", "core_time", *args, "--report-dir", str(report_dir), env=docker_with_images(*known))
    assert proc.returncode == 1, proc.stderr
    for distro in missing:
        ref = _lib(f"image_ref {distro}")
        assert ref.startswith(f"stability-ops-test:{distro}-")
        line = f"ERROR: test image {ref} for {distro} not found (run scripts/build_test_image.sh {distro})"
        assert line in proc.stderr.splitlines()
    assert proc.stderr.count("ERROR: test image") == len(missing)
    assert not report_dir.exists(), "nothing runs when an image is missing"
