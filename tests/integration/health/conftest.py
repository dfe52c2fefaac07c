"""Helpers of the health integration tests: real ansible-playbook runs with the
summary callback enabled through the environment and a temporary output path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = REPO_ROOT / "docs" / "schemas" / "health_summary.schema.json"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Run:
    process: subprocess.CompletedProcess
    summary_path: Path

    @property
    def output(self) -> str:
        return self.process.stdout + self.process.stderr

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_path.read_text())


def ansible_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": os.environ.get("ANSIBLE_HOME", str(REPO_ROOT / ".cache" / "ansible-home")),
        "ANSIBLE_CALLBACKS_ENABLED": "stability.ops.health_summary",
        "ANSIBLE_NOCOLOR": "1",
        "STABILITY_OPS_SUMMARY_PATH": str(tmp_path / "summary.json"),
    }
    env.update(extra)
    return env


@pytest.fixture
def playbook_runner(tmp_path: Path):
    """Write a playbook and an inventory to tmp_path and run ansible-playbook on them."""

    def run(playbook: str, inventory: str, *args: str, timeout: int = 120, **env: str) -> Run:
        (tmp_path / "playbook.yml").write_text(playbook)
        (tmp_path / "inventory.yml").write_text(inventory)
        process = subprocess.run(
            ["ansible-playbook", "-i", "inventory.yml", "playbook.yml", *args],
            cwd=tmp_path, env=ansible_env(tmp_path, **env), capture_output=True, text=True, timeout=timeout,
            check=False,
        )
        return Run(process, tmp_path / "summary.json")

    return run


@pytest.fixture(scope="session")
def summary_validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def docker_names(request):
    """Unique container names, every one removed at the end (also on failure)."""
    names: list[str] = []

    def new(role: str) -> str:
        name = f"pytest-health-{uuid.uuid4().hex[:8]}-{role}"
        names.append(name)
        return name

    def remove() -> None:
        if names:
            subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)

    request.addfinalizer(remove)
    return new


LOCALHOST_INVENTORY = f"""\
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: {sys.executable}
"""
