"""Helpers of the health integration tests: real ansible-playbook runs with the
summary callback enabled through the environment and a temporary output path.

Every run starts over a stale summary (status healthy, another run's id) and a
stale JUnit report, written where this run writes its own: a test that passes
has proven that the run replaced them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
from stability_ops_dev.testing.junit import junit_problems

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = REPO_ROOT / "docs" / "schemas" / "health_summary.schema.json"
# The ansible-playbook of the controller that runs the tests (the 2.19 or the 2.21 venv).
VENV_BIN = Path(sys.executable).parent
STALE_ID = "stale-run-of-yesterday"
STALE_SUMMARY = {
    "schema_version": "2.0", "status": "healthy", "reason": "a finished run of yesterday",
    "run": {"id": STALE_ID, "started_at": "2026-11-30T10:00:00Z"},
}
STALE_JUNIT = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="stale" tests="1" failures="0" errors="0" '
               'time="0"><testsuite name="stale" tests="1" failures="0" errors="0" time="0">'
               '<testcase classname="stale" name="stale" time="0"/></testsuite></testsuites>\n')


def seed_stale(summary_path: Path, junit_path: Path | None = None) -> None:
    """Yesterday's healthy summary (and green JUnit report) where this run writes its own."""
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps(STALE_SUMMARY))
    if junit_path is not None:
        junit_path.write_text(STALE_JUNIT)


@dataclass
class Run:
    process: subprocess.CompletedProcess | subprocess.Popen
    summary_path: Path
    junit_path: Path | None = None
    run_id: str = ""
    output_text: str = field(default="")

    @property
    def output(self) -> str:
        if isinstance(self.process, subprocess.Popen):
            return self.output_text
        return self.process.stdout + self.process.stderr

    @property
    def returncode(self) -> int:
        return self.process.returncode

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_path.read_text())

    @property
    def junit(self) -> ET.Element:
        root, problems = junit_problems(self.junit_path.read_text())
        assert problems == [], problems
        return root


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
    """Write a playbook and an inventory to tmp_path and run ansible-playbook on them, over a stale summary."""

    def run(playbook: str, inventory: str, *args: str, timeout: int = 120, **env: str) -> Run:
        (tmp_path / "playbook.yml").write_text(playbook)
        (tmp_path / "inventory.yml").write_text(inventory)
        run_id = env.pop("STABILITY_OPS_RUN_ID", f"test-{uuid.uuid4().hex[:12]}")
        # Relative paths are relative to the run's directory, tmp_path.
        summary_path = tmp_path / env.get("STABILITY_OPS_SUMMARY_PATH", "summary.json")
        junit = env.get("STABILITY_OPS_SUMMARY_JUNIT_PATH")
        junit_path = tmp_path / junit if junit else None
        seed_stale(summary_path, junit_path)
        process = subprocess.run(
            ["ansible-playbook", "-i", "inventory.yml", "playbook.yml", *args],
            cwd=tmp_path, env=ansible_env(tmp_path, STABILITY_OPS_RUN_ID=run_id, **env), capture_output=True,
            text=True, timeout=timeout, check=False,
        )
        return Run(process, summary_path, junit_path, run_id)

    return run


class Started:
    """An ansible-playbook process the test started, to signal while a task runs."""

    def __init__(self, tmp_path: Path, playbook: str, inventory: str, *args: str, **env: str) -> None:
        (tmp_path / "playbook.yml").write_text(playbook)
        (tmp_path / "inventory.yml").write_text(inventory)
        self.run_id = f"test-{uuid.uuid4().hex[:12]}"
        self.summary_path = tmp_path / "summary.json"
        self.junit_path = tmp_path / "summary.xml"
        seed_stale(self.summary_path, self.junit_path)
        self.process = subprocess.Popen(
            ["ansible-playbook", "-i", "inventory.yml", "playbook.yml", *args], cwd=tmp_path,
            env=ansible_env(tmp_path, STABILITY_OPS_RUN_ID=self.run_id,
                            STABILITY_OPS_SUMMARY_JUNIT_PATH=str(self.junit_path), **env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []

    def wait_for(self, text: str, timeout: float = 90) -> None:
        """Read the output until a line starts with ``text`` (a task banner)."""
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith(text):
                return
            assert time.monotonic() < deadline, "".join(self.lines)
        raise AssertionError(f"ansible-playbook ended before {text!r}:\n" + "".join(self.lines))

    def signal_until_it_stops(self, signum: int, attempts: int = 5, settle: float = 1.0) -> Run:
        """Send ``signum`` to the ansible-playbook process (its PID, nothing else) until it exits.

        A signal that lands while ansible is still forking the worker can be lost: like a person, send it again.
        """
        try:
            for _attempt in range(attempts):
                time.sleep(settle)
                if self.process.poll() is None:
                    os.kill(self.process.pid, signum)
                try:
                    rest, _stderr = self.process.communicate(timeout=10)
                    self.lines.append(rest)
                    break
                except subprocess.TimeoutExpired:
                    continue
        finally:
            self.kill()
        return Run(self.process, self.summary_path, self.junit_path, self.run_id, "".join(self.lines))

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process.stdout and not self.process.stdout.closed:
            self.lines.append(self.process.stdout.read())
            self.process.stdout.close()


@pytest.fixture
def start_playbook(tmp_path: Path):
    started: list[Started] = []

    def start(playbook: str, inventory: str, *args: str, **env: str) -> Started:
        started.append(Started(tmp_path, playbook, inventory, *args, **env))
        return started[-1]

    yield start
    for process in started:  # never leave a run behind, also when the test failed
        process.kill()


@pytest.fixture(scope="session")
def summary_validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    # Format checking is on only if date-time is really checked (rfc3339-validator installed).
    assert not validator.is_valid({**STALE_SUMMARY, "run": {"id": "x", "started_at": "yesterday"}})
    return validator


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


def _host(name: str) -> str:
    return (f"    {name}:\n      ansible_connection: local\n"
            f"      ansible_python_interpreter: {sys.executable}\n")


# The controller itself: listed under "controller" in the summary, not as a fleet host.
LOCALHOST_INVENTORY = "all:\n  hosts:\n" + _host("localhost")
# Fleet hosts reached over the local connection (loopback only, no container).
FLEET_INVENTORY = "all:\n  hosts:\n" + _host("web1")
FLEET3_INVENTORY = "all:\n  hosts:\n" + "".join(_host(f"web{index}") for index in (1, 2, 3))
# Nothing listens on port 1 of the loopback: the connection is refused at once.
UNREACHABLE_HOST = """\
    ghost:
      ansible_connection: ssh
      ansible_host: 127.0.0.1
      ansible_port: 1
      ansible_user: nobody
"""
# One health check that passes on any host: the disk checks with thresholds nothing reaches.
HEALTH_TASK = """\
- name: Check the health of the host
  stability.ops.health_facts:
    collect: [disk]
    checks:
      disk_warn_percent: 100
      disk_fail_percent: 100
      inode_warn_percent: 100
      inode_fail_percent: 100
    publish_stats: true
"""
