"""The examples of docs/health-summary.md come from a real run, never hand-edited JSON.

The run: a controller play (the preflight's place) and a deploy on two fleet hosts over the local connection, with
a changed task, an adoption guard (the test-only action plugin of test_adoption.py, which returns what
stability.ops.adoption_guard returns) and the health_check role, whose gate fails web1 (every disk is above a 0 %
warn threshold) and whose rescue keeps that failure as original_failure.

The test compares the documented JSON example with the run's document (same keys at every level, same statuses)
and the documented table with the run's (same rows and columns). To regenerate both from the run:

    STABILITY_OPS_UPDATE_DOCS=1 python -m pytest -p no:cacheprovider tests/integration/health/test_doc_examples.py

Only what differs from machine to machine is replaced (ids, times, user, host names, paths, commits), and only the
checks of the root file system are kept; everything else is as the callback wrote it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from conftest import REPO_ROOT
from test_adoption import GUARD, PORT

DOC = REPO_ROOT / "docs" / "health-summary.md"
# The example's hosts have one file system: every other mount of this machine is excluded.
MOUNTS = sorted({line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()} - {"/"})
HOST = ("      ansible_connection: local\n      ansible_python_interpreter: " + sys.executable + "\n"
        + "      health_check_disk_exclude: " + json.dumps(MOUNTS) + "\n")
INVENTORY = ("all:\n  children:\n    production:\n      hosts:\n        web1:\n"
             + HOST.replace("      ", "          ")
             + "          health_check_disk_warn_percent: 0\n          health_check_fail_on: warn\n"
             + "        web2:\n" + HOST.replace("      ", "          ")
             + "  hosts:\n    localhost:\n" + HOST)
ADOPTION = {"role": "all", "findings": [
    {**PORT, "role": "security_firewall",
     "detail": "8080/tcp is listening (python3) and not in security_firewall_allowed_tcp"},
    {"role": "security_sshd", "item": "deploy", "kind": "lockout", "accepted": True,
     "detail": "deploy has no key in core_users_admins and logs in with a password",
     "accept_with": "security_sshd_accept_lockout"}], "unaccepted": 1}
PLAYBOOK = f"""\
- name: Preflight assertions (controller only, no host is touched)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the controller
      ansible.builtin.ping:
- name: Deploy
  hosts: production
  gather_facts: false
  tasks:
    - name: Guard what adopting the host would change
      adoption_guard: {json.dumps({"adoption": ADOPTION})}
      when: inventory_hostname == 'web2'
    - name: Write the message of the day
      ansible.builtin.copy:
        content: "managed by stability.ops\\n"
        dest: "{{{{ playbook_dir }}}}/motd-{{{{ inventory_hostname }}}}"
        mode: "0644"
    - name: Check every host's health
      ansible.builtin.import_role:
        name: stability.ops.health_check
        rolespec_validate: false
      vars:
        health_check_collect: [disk]
"""
FIXED = {
    "id": "ci-8812-20261127T073614Z-4121", "playbook": "production_deploy.yml", "user": "deploy",
    "controller_host": "ci-runner-3", "inventory_sources": ["/builds/infra/inventories/production/hosts.yml"],
}
COMMIT = {"commit": "5c1f0e2b9a7d4c3e8f6a1b2c3d4e5f60718293a4", "dirty": False, "root": "/builds/infra"}
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _example(document: dict, tmp: str) -> dict:
    """The run's document with what differs between machines replaced, and only the root's checks."""
    run = document["run"]
    run.update(FIXED, git={"playbook": COMMIT, "inventory": COMMIT})
    text = json.dumps(document).replace(tmp, "/builds/infra")
    start = datetime.fromisoformat(run["started_at"])
    base = datetime(2026, 11, 27, 7, 36, 14, tzinfo=UTC)

    def moved(match: re.Match) -> str:  # every time as far from the start as in the run
        shifted = base + (datetime.fromisoformat(match.group(0)) - start)
        return shifted.isoformat(timespec="seconds").replace("+00:00", "Z")

    text = _STAMP.sub(moved, text)
    example = json.loads(text)
    for group in ("hosts", "controller"):
        for host in example[group].values():
            if host["health"]:
                host["health"]["checks"] = [c for c in host["health"]["checks"] if c["name"] in ("disk:/", "inode:/")]
    return example


def _blocks(text: str) -> tuple[str, str]:
    json_block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    table_block = text.split("```\nDEPLOYMENT HEALTH SUMMARY", 1)[1].split("\n```", 1)[0]
    return json_block, "DEPLOYMENT HEALTH SUMMARY" + table_block


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) if key != "status" else item for key, item in value.items()
                if key not in ("checks",)}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__ if value is not None else None


def test_the_documented_examples_are_those_of_a_real_run(playbook_runner, summary_validator, tmp_path):
    plugins = tmp_path / "action_plugins"
    plugins.mkdir()
    (plugins / "adoption_guard.py").write_text(GUARD)
    run = playbook_runner(PLAYBOOK, INVENTORY, ANSIBLE_ACTION_PLUGINS=str(plugins))
    assert run.returncode == 2, run.output
    example = _example(run.summary, str(tmp_path))
    summary_validator.validate(example)
    web1 = example["hosts"]["web1"]
    assert web1["failed_tasks"][0]["original_failure"]["message"], web1
    assert example["hosts"]["web2"]["adoption"]
    table = run.output[run.output.index("DEPLOYMENT HEALTH SUMMARY"):].split("\nhealth summary written", 1)[0]

    text = DOC.read_text()
    documented_json, documented_table = _blocks(text)
    if os.environ.get("STABILITY_OPS_UPDATE_DOCS"):
        text = text.replace(documented_json, json.dumps(example, indent=2)).replace(documented_table, table)
        DOC.write_text(text)
        documented_json, documented_table = _blocks(text)
    documented = json.loads(documented_json)
    summary_validator.validate(documented)
    assert _shape(documented) == _shape(example)
    assert [line.split()[:2] for line in documented_table.splitlines()[1:5]] == [
        line.split()[:2] for line in table.splitlines()[1:5]]
