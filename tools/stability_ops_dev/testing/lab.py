"""A one-host lab of one release for the end-to-end tests (scripts/lab.sh underneath)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from stability_ops_dev.paths import REPO_ROOT


def run(args: list[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=timeout, check=False)


class Lab:
    """One lab host (web1) of one release, reached the way ``connection`` says (docker or ssh)."""

    # A lab's name starts with this (the connection's name when empty): each test area removes only its own labs.
    prefix = ""
    exec_timeout = 120

    def __init__(self, distro: str, tmp: Path, connection: str = "docker") -> None:
        self.distro = distro
        # A name of its own per run: two runs of the suite at once must not remove each other's lab.
        self.name = f"{self.prefix or connection}-{distro}-{uuid.uuid4().hex[:6]}"
        self.container = f"{self.name}-web1"
        self.tmp = tmp
        self.runs = 0
        self.env = {
            **os.environ,
            # The controller under test: the ansible of the interpreter running pytest.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "STABILITY_OPS_LAB_NAME": self.name,
            "STABILITY_OPS_LAB_DISTRO": distro,
            "STABILITY_OPS_LAB_CONNECTION": connection,
            "ANSIBLE_NOCOLOR": "1",
        }
        self.inventory = ""

    def up(self) -> None:
        up = run(["bash", "scripts/lab.sh", "up", "1"], self.env)
        assert up.returncode == 0, up.stdout + up.stderr
        secrets = run(["bash", "scripts/lab_secrets.sh", "--json"], self.env)
        assert secrets.returncode == 0, secrets.stderr
        self.env.update(json.loads(secrets.stdout))
        self.inventory = run(["bash", "scripts/lab.sh", "inventory"], self.env).stdout.strip()

    def down(self) -> None:
        run(["bash", "scripts/lab.sh", "down"], self.env)

    def _fresh_connections(self) -> dict[str, str]:
        """A control path directory of its own: no SSH master of an earlier run is reused."""
        self.runs += 1
        return {**self.env, "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.tmp / f"cp{self.runs}")}

    def ansible(self, *args: str) -> subprocess.CompletedProcess:
        return run(["ansible", "-i", self.inventory, "web1", *args], self._fresh_connections(), timeout=180)

    def deploy(self, label: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        """production_deploy.yml in one batch; its result and its Deployment Health Summary."""
        summary = self.tmp / f"{label}.json"
        result = run(
            ["ansible-playbook", "-i", self.inventory, "playbooks/production_deploy.yml",
             "-e", '{"stability_ops_serial": "100%"}', *extra],
            {**self._fresh_connections(), "STABILITY_OPS_SUMMARY_PATH": str(summary)},
        )
        assert summary.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
        return result, json.loads(summary.read_text(encoding="utf-8"))

    def converge_then_change_nothing(self) -> dict:
        """production_deploy.yml twice: the first run converges healthy, the second changes nothing.

        Returns web1's entry of the second run's Deployment Health Summary.
        """
        first, summary = self.deploy("first")
        assert first.returncode == 0, first.stdout[-5000:]
        assert summary["status"] == "healthy", summary["reason"]
        assert summary["hosts"]["web1"]["counts"]["changed"] > 0

        second, summary = self.deploy("second")
        assert second.returncode == 0, second.stdout[-5000:]
        assert summary["status"] == "healthy", summary["reason"]
        host = summary["hosts"]["web1"]
        assert host["counts"]["changed"] == 0, second.stdout[-5000:]
        assert host["counts"]["failed"] == host["counts"]["unreachable"] == 0
        return host

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        return run(["docker", "exec", self.container, *command], self.env, timeout=self.exec_timeout)

    def ssh_common_args(self) -> str:
        inventory = yaml.safe_load(Path(self.inventory).read_text())
        return inventory["all"]["children"]["production"]["vars"]["ansible_ssh_common_args"]
