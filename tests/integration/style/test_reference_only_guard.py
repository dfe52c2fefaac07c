"""REFERENCE ONLY playbooks refuse the production group and accept other groups.

Real ansible-playbook runs against a temporary inventory of local hosts whose
Python interpreter does not exist: a module that ran on a host would fail with
a different error, so a clean refusal proves that no task touched a host.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
POINTER = "Production is deployed only by playbooks/production_deploy.yml"
REFERENCE_ONLY = sorted(
    str(p.relative_to(REPO_ROOT))
    for p in [REPO_ROOT / "playbooks" / "site.yml", *(REPO_ROOT / "playbooks" / "branch_templates").glob("*.yml")]
)
INVENTORY = """\
[production]
prod1
[staging]
stage1
[canary]
stage1
[all:vars]
ansible_connection=local
ansible_python_interpreter=/nonexistent/python3
"""


def run_playbook(tmp_path: Path, playbook: str, *args: str) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INVENTORY)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    }
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), playbook, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("playbook", REFERENCE_ONLY)
def test_production_group_is_refused_before_any_task(tmp_path, playbook):
    proc = run_playbook(tmp_path, playbook, "-e", "hotfix_role=stability.ops.core_time")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert f"REFERENCE ONLY playbook refused: prod1 is in the production group. {POINTER}" in output
    # The run stopped in the guard: one failed host, nothing ran anywhere else.
    assert "fatal: [prod1]: FAILED!" in output
    assert "prod1                      : ok=0    changed=0    unreachable=0    failed=1" in output
    assert "stage1" not in proc.stdout  # no task, no recap line
    # The health summary (stderr) may list it, only as a host the run never reached.
    assert all("not_run" in line or "not run" in line or "NOT_RUN" in line
               for line in proc.stderr.splitlines() if "stage1" in line), proc.stderr
    assert "/nonexistent/python3" not in output


def test_variables_cannot_talk_the_guard_out_of_it(tmp_path):
    proc = run_playbook(tmp_path, "playbooks/site.yml", "-e", '{"group_names": [], "groups": {}}')
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert POINTER in proc.stdout


@pytest.mark.parametrize(
    ("playbook", "skip"),
    [
        ("playbooks/site.yml", "--skip-tags=always"),
        ("playbooks/branch_templates/feature_canary.yml", "--start-at-task=Apply the roles changed by the branch"),
    ],
    ids=["skip-tags", "start-at-task"],
)
def test_skipping_the_guard_still_reaches_no_production_host(tmp_path, playbook, skip):
    proc = run_playbook(tmp_path, playbook, "--limit", "prod1", "-e", "feature_canary_hosts=all", skip)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "fatal" not in output
    assert "TASK [" not in output
    assert output.count("skipping: no hosts matched") >= 1


def test_non_production_group_is_allowed(tmp_path):
    # Only the guard and the roles' `always` tasks are selected: argument
    # validation (on the controller) and the release-facts probe, the first task
    # of core_time that reaches a host. Its failure on the nonexistent
    # interpreter proves the guard let the staging host through.
    proc = run_playbook(tmp_path, "playbooks/site.yml", "--limit", "staging", "--tags", "reference_only_guard")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert POINTER not in output
    assert "PLAY [Site (reference) | base operating system]" in output
    assert "TASK [stability.ops.core_time : Read the distribution facts]" in output
    assert "fatal: [stage1]: FAILED!" in output and "/nonexistent/python3" in output
    assert "stage1                     : ok=1    changed=0    unreachable=0    failed=1" in output
