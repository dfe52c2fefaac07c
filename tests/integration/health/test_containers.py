"""health_facts and health_check against this machine's own dockerd (local connection).

Plain containers of the test image with no network: one running, one exited,
one whose HEALTHCHECK always fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import LOCALHOST_INVENTORY, ansible_env

IMAGE = "stability-ops-test:latest"

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("health-containers")]


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def containers(docker_names):
    names = {role: docker_names(role) for role in ("running", "exited", "unhealthy")}
    _docker("run", "-d", "--network", "none", "--name", names["running"], IMAGE, "sleep", "infinity")
    _docker("run", "-d", "--network", "none", "--name", names["exited"], IMAGE, "sh", "-c", "exit 3")
    _docker("run", "-d", "--network", "none", "--name", names["unhealthy"], "--health-cmd", "false",
            "--health-interval", "1s", "--health-retries", "1", IMAGE, "sleep", "infinity")
    deadline = time.monotonic() + 30
    while _docker("inspect", "-f", "{{.State.Health.Status}}", names["unhealthy"]) != "unhealthy":
        assert time.monotonic() < deadline, "the HEALTHCHECK never turned unhealthy"
        time.sleep(0.5)
    return names


def _module(tmp_path, args: dict) -> dict:
    """Run the module once with the local connection; return its result."""
    env = ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    env.pop("ANSIBLE_CALLBACKS_ENABLED")
    process = subprocess.run(
        ["ansible", "localhost", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", "stability.ops.health_facts", "-a", json.dumps(args)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
        env=env,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return json.loads(process.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.parametrize("docker_socket", ["/var/run/docker.sock", "/nonexistent.sock"], ids=["socket", "cli"])
def test_module_reports_running_exited_and_unhealthy(tmp_path, containers, docker_socket):
    result = _module(tmp_path, {"collect": ["containers"], "docker_socket": docker_socket})
    docker = result["health_facts"]["containers"]["docker"]
    assert docker["present"] is True
    assert docker["source"] == ("socket" if docker_socket.startswith("/var") else "cli")
    assert docker["error"] is None
    found = {c["name"]: c for c in docker["containers"]}
    running, exited, unhealthy = (found[containers[r]] for r in ("running", "exited", "unhealthy"))
    assert (running["state"], running["running"], running["health"]) == ("running", True, None)
    assert (exited["state"], exited["running"], exited["exit_code"]) == ("exited", False, 3)
    assert (unhealthy["state"], unhealthy["health"]) == ("running", "unhealthy")
    assert {c["image"] for c in (running, exited, unhealthy)} == {IMAGE}
    assert running["restart_count"] == 0
    # podman is not installed here: reported as absent, not as an error.
    assert result["health_facts"]["containers"]["podman"] == {
        "present": False, "source": None, "error": None, "containers": []}
    assert "health_checks" not in result


def test_role_checks_containers_and_the_summary_reports_them(playbook_runner, containers, summary_validator):
    playbook = f"""\
- name: Container health
  hosts: all
  gather_facts: false
  roles:
    - role: stability.ops.health_check
      vars:
        health_check_collect: [containers]
        health_check_containers_running: [{containers["running"]}, {containers["exited"]}]
        health_check_containers_healthy: [{containers["unhealthy"]}]
"""
    run = playbook_runner(playbook, LOCALHOST_INVENTORY)
    assert run.process.returncode == 2, run.output
    document = run.summary
    summary_validator.validate(document)
    checks = {c["name"]: c for c in document["controller"]["localhost"]["health"]["checks"]}
    assert checks[f"container:{containers['running']}"]["status"] == "ok"
    assert checks[f"container:{containers['exited']}"] | {"message": ""} == {
        "name": f"container:{containers['exited']}", "category": "containers", "status": "fail",
        "observed": "exited (exit code 3)", "expected": "running", "message": ""}
    assert checks[f"container:{containers['unhealthy']}"]["observed"] == "running (unhealthy)"
    assert checks[f"container:{containers['unhealthy']}"]["status"] == "fail"
    assert document["status"] == "failed"
    failed = document["controller"]["localhost"]["failed_tasks"]
    assert [(t["task"], t["role"]) for t in failed] == [
        ("Fail the host on its health check", "stability.ops.health_check")]
    assert f"container:{containers['exited']}" in failed[0]["message"]
