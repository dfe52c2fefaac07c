"""playbooks/production_deploy.yml through ansible-runner (Python API and CLI) against a real lab.

Run as AWX runs it: a private data directory, the project checked out next
to it, env/envvars and env/extravars files (CLI), the health summary callback
enabled by environment and writing into the run's artifact directory.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import ansible_runner
import jsonschema
import pytest
from conftest import REPO_ROOT, VENV_BIN, run, tool_env

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("ecosystem-runner")]

LAB_NAME = "runner-test"
CALLBACK = REPO_ROOT / "plugins" / "callback" / "health_summary.py"
PLAYBOOK = "playbooks/production_deploy.yml"
SCHEMA = json.loads((REPO_ROOT / "docs" / "schemas" / "health_summary.schema.json").read_text())
# One lab host (web1): the small lab has no db host, so only these groups are required.
EXTRAVARS = {"stability_ops_serial": "100%", "preflight_assertions_required_groups": ["production", "web"]}


@dataclass
class Lab:
    inventory: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def lab():
    if not CALLBACK.exists():
        pytest.skip("the stability.ops.health_summary callback (plugins/callback/health_summary.py) is not there yet")
    env = tool_env(STABILITY_OPS_LAB_NAME=LAB_NAME)
    try:
        up = run("bash", "scripts/lab.sh", "up", "1", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        inventory = Path(run("bash", "scripts/lab.sh", "inventory", env=env).stdout.strip())
        # The lab's group_vars (next to the generated inventory) hold a
        # SOPS-encrypted file: the lab's age key, as AWX would inject it.
        secrets = run("bash", "scripts/lab_secrets.sh", "--json", env=env)
        assert secrets.returncode == 0, secrets.stderr
        exported = json.loads(secrets.stdout)
        yield Lab(
            inventory=inventory,
            env={
                # SOPS_AGE_KEY_FILE and the lab admin's public key file.
                **exported,
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
                "ANSIBLE_HOME": env["ANSIBLE_HOME"],
                "ANSIBLE_CALLBACKS_ENABLED": "stability.ops.health_summary",
            },
        )
    finally:
        run("bash", "scripts/lab.sh", "down", env=env)


def _stats_event(artifact_dir: Path) -> dict:
    events = [json.loads(p.read_text()) for p in (artifact_dir / "job_events").glob("*.json")]
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, f"{len(stats)} stats events among {len(events)} job events"
    return stats[0]["event_data"]


def _check_artifacts(artifact_dir: Path) -> dict:
    """The summary JSON is among the runner artifacts, valid, and covers exactly the run's hosts."""
    assert (artifact_dir / "rc").read_text().strip() == "0"
    assert (artifact_dir / "status").read_text().strip() == "successful"
    summary_path = artifact_dir / "health_summary.json"
    assert summary_path.is_file(), sorted(p.name for p in artifact_dir.iterdir())
    summary = json.loads(summary_path.read_text())
    jsonschema.validate(summary, SCHEMA)
    stats = _stats_event(artifact_dir)
    run_hosts = set(stats["processed"])
    assert "web1" in run_hosts
    # The preflight's localhost is the controller, shown apart from the fleet.
    assert set(summary["hosts"]) | set(summary.get("controller", {})) == run_hosts
    assert summary["hosts"]["web1"]["counts"]["failed"] == 0
    return stats


def _health_check_in_playbook() -> bool:
    """Whether production_deploy.yml (or a playbook it imports) runs the health_check role."""
    playbook = (REPO_ROOT / PLAYBOOK).read_text()
    imported = re.findall(r"import_playbook:\s*['\"]?([\w./-]+\.ya?ml)", playbook)
    texts = [playbook] + [
        (REPO_ROOT / "playbooks" / name).read_text() for name in imported if (REPO_ROOT / "playbooks" / name).is_file()
    ]
    return any(re.search(r"\bhealth_check\b", text) for text in texts)


def _api_run(lab: Lab, tmp_path: Path, ident: str, **kwargs) -> tuple[ansible_runner.Runner, Path]:
    """production_deploy.yml through ansible_runner.run(); the summary goes into the run's artifact dir."""
    private = tmp_path / "private"
    private.mkdir()
    artifact_dir = private / "artifacts" / ident
    result = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(REPO_ROOT),
        playbook=PLAYBOOK,
        inventory=str(lab.inventory),
        ident=ident,
        envvars={**lab.env, "STABILITY_OPS_SUMMARY_PATH": str(artifact_dir / "health_summary.json")},
        extravars=EXTRAVARS,
        quiet=True,
        **kwargs,
    )
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-4000:]
    return result, artifact_dir


def test_python_api_run_leaves_the_summary_among_the_artifacts(lab: Lab, tmp_path: Path):
    result, artifact_dir = _api_run(lab, tmp_path, "api")
    stats = _check_artifacts(artifact_dir)
    assert set(result.stats["processed"]) == set(stats["processed"])
    # set_stats data (health_check's stability_ops_health) reaches runner as artifact_data.
    if _health_check_in_playbook():
        health = stats["artifact_data"]["stability_ops_health"]
        assert "web1" in health and health["web1"]["status"] in ("ok", "warn", "fail")


def test_cli_run_with_awx_style_env_files(lab: Lab, tmp_path: Path):
    private = tmp_path / "private"
    artifact_dir = private / "artifacts" / "cli"
    (private / "env").mkdir(parents=True)
    envvars = {**lab.env, "STABILITY_OPS_SUMMARY_PATH": str(artifact_dir / "health_summary.json")}
    (private / "env" / "envvars").write_text(json.dumps(envvars))
    (private / "env" / "extravars").write_text(json.dumps(EXTRAVARS))
    result = run(
        "ansible-runner",
        "run",
        private,
        "-p",
        PLAYBOOK,
        "--project-dir",
        REPO_ROOT,
        "--inventory",
        lab.inventory,
        "--ident",
        "cli",
        env=tool_env(),
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    stats = _check_artifacts(artifact_dir)
    assert "web1" in (artifact_dir / "stdout").read_text()
    # The secret-bearing env file stays in the private data dir; nothing in the
    # artifacts carries the age key itself.
    key = Path(lab.env["SOPS_AGE_KEY_FILE"]).read_text()
    secret = next(line for line in key.splitlines() if line.startswith("AGE-SECRET-KEY-"))
    assert all(secret not in p.read_text(errors="replace") for p in artifact_dir.rglob("*") if p.is_file())
    assert stats["artifact_data"] is not None


def test_set_stats_reach_runner_as_artifact_data(lab: Lab, tmp_path: Path):
    if not _health_check_in_playbook():
        pytest.skip("production_deploy.yml does not run stability.ops.health_check yet: no set_stats data to check")
    # Only the health phase, on whatever state the lab is in: the checks may
    # fail (never fatal here), their results must reach runner all the same.
    _result, artifact_dir = _api_run(lab, tmp_path, "stats", cmdline="--tags health -e health_check_fail_on=never")
    stats = _stats_event(artifact_dir)
    assert set(stats["artifact_data"]["stability_ops_health"]) == {"web1"}
