"""The lab and the check-mode smoke test, on real systemd containers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
LAB_NAME = "pytest-smoke"

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("lab-smoke")]


LAB_ENV: dict[str, str] = {}


def run(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), cwd=REPO_ROOT, capture_output=True, text=True, check=check,
        env={**os.environ, "STABILITY_OPS_LAB_NAME": LAB_NAME, **LAB_ENV, **(env or {})},
    )


@pytest.fixture(scope="module")
def lab():
    up = run("bash", "scripts/lab.sh", "up", "1")
    try:
        assert up.returncode == 0, up.stderr
        # The lab's group_vars need its age key (SOPS secrets) and admin key.
        secrets = run("bash", "scripts/lab_secrets.sh", "--json", check=True)
        LAB_ENV.update(json.loads(secrets.stdout))
        yield Path(run("bash", "scripts/lab.sh", "inventory").stdout.strip())
    finally:
        run("bash", "scripts/lab.sh", "down")
        LAB_ENV.clear()


def test_lab_inventory_groups_hosts_under_production(lab: Path):
    result = run("ansible-inventory", "-i", str(lab), "--list", check=True)
    inventory = json.loads(result.stdout)
    assert inventory["production"]["children"] == ["web", "db"] or set(inventory["production"]["children"]) == {
        "web", "db"}
    assert inventory["web"]["hosts"] == ["web1"]
    assert inventory["_meta"]["hostvars"]["web1"]["ansible_host"] == f"{LAB_NAME}-web1"


def test_lab_hosts_run_systemd_and_have_no_network(lab: Path):
    container = f"{LAB_NAME}-web1"
    assert run("docker", "exec", container, "cat", "/proc/1/comm").stdout.strip() == "systemd"
    mode = run("docker", "inspect", "-f", "{{.HostConfig.NetworkMode}}", container).stdout.strip()
    assert mode == "none"


def test_smoke_test_passes_and_changes_nothing(lab: Path):
    result = run("bash", "scripts/smoke_test_production.sh", "-i", str(lab))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check run: ok" in result.stdout
    assert "host state: unchanged" in result.stdout


def test_smoke_test_fails_when_a_task_would_error(lab: Path):
    result = run("bash", "scripts/smoke_test_production.sh", "-i", str(lab), "--",
                 "-e", "core_time_timezone=Not/AZone")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "check run: FAILED" in result.stdout
    assert "fatal: [web1]" in result.stdout
    assert "Not/AZone" in result.stdout and "is not available" in result.stdout


def test_snapshot_comparison_catches_a_real_change(lab: Path, tmp_path: Path):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    run("python", "scripts/host_state.py", "snapshot", "-i", str(lab), "-o", str(before), check=True)
    run("docker", "exec", f"{LAB_NAME}-web1", "sh", "-c", "echo drift >> /etc/motd", check=True)
    run("python", "scripts/host_state.py", "snapshot", "-i", str(lab), "-o", str(after), check=True)
    result = run("python", "scripts/host_state.py", "compare", str(before), str(after))
    assert result.returncode == 1
    assert result.stdout.strip() == "web1: file /etc/motd: content changed"


def test_lab_secrets_exports_for_shells_what_it_prints_as_json(lab: Path):
    # scripts/main.sh evals the shell form; tests and bench/ read --json: both must name the same files.
    shell = run("bash", "-c", 'eval "$(bash scripts/lab_secrets.sh)" && '
                'printf "%s\\n%s\\n" "$SOPS_AGE_KEY_FILE" "$STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"', check=True)
    assert shell.stdout.splitlines() == [LAB_ENV["SOPS_AGE_KEY_FILE"], LAB_ENV["STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"]]
    assert Path(LAB_ENV["SOPS_AGE_KEY_FILE"]).read_text().startswith("# created:")
    assert Path(LAB_ENV["STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"]).read_text().startswith("ssh-ed25519 ")
