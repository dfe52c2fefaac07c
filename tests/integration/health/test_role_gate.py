"""The health_check role as production_deploy.yml runs it (import_role, rolespec_validate: false) on real
ansible-playbook runs, local connection: one task per healthy host, the fail_on gate in the health_facts action
plugin, the failed host's results still published, and a wrong variable refused on the controller."""

from __future__ import annotations

import json
import sys

from conftest import LOCALHOST_INVENTORY

PLAYBOOK = """\
- name: Health as production_deploy.yml runs it
  hosts: all
  gather_facts: false
  tasks:
    - name: Check every host's health
      ansible.builtin.import_role:
        name: stability.ops.health_check
        rolespec_validate: false
      vars:
        health_check_collect: [disk]
"""
# "strict" fails on any disk warning: every host has a mount above 0 %.
STRICT_HOST = ("    strict:\n      ansible_connection: local\n"
               f"      ansible_python_interpreter: {sys.executable}\n"
               "      health_check_disk_warn_percent: 0\n      health_check_fail_on: warn\n")


def test_one_task_per_healthy_host_and_the_failed_host_is_still_published(playbook_runner, summary_validator):
    run = playbook_runner(PLAYBOOK, LOCALHOST_INVENTORY + STRICT_HOST, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                          ANSIBLE_SHOW_CUSTOM_STATS="true")
    assert run.process.returncode == 2, run.output
    output = json.loads(run.process.stdout)
    assert (output["stats"]["localhost"]["ok"], output["stats"]["localhost"]["skipped"]) == (1, 0)
    assert (output["stats"]["strict"]["failures"], output["stats"]["strict"]["rescued"]) == (1, 1)

    published = output["global_custom_stats"]["stability_ops_health"]
    assert published["localhost"]["status"] == "ok"
    assert published["strict"]["status"] == "warn"
    warned = [check["name"] for check in published["strict"]["checks"] if check["status"] == "warn"]
    assert warned and all(name.startswith("disk:") for name in warned)

    document = run.summary
    summary_validator.validate(document)
    strict = document["hosts"]["strict"]
    assert strict["health"]["checks"] == published["strict"]["checks"]
    assert [(t["task"], t["role"]) for t in strict["failed_tasks"]] == [
        ("Fail the host on its health check", "stability.ops.health_check")]
    assert strict["failed_tasks"][0]["message"].startswith(f"{len(warned)} health check(s) at or above 'warn': ")
    assert document["controller"]["localhost"]["status"] == "healthy"


def test_check_mode_reports_the_failing_host_without_failing_it(playbook_runner, summary_validator):
    run = playbook_runner(PLAYBOOK, LOCALHOST_INVENTORY + STRICT_HOST, "--check")
    assert run.process.returncode == 0, run.output
    document = run.summary
    summary_validator.validate(document)
    assert document["hosts"]["strict"]["counts"]["failed"] == 0
    assert document["hosts"]["strict"]["health"]["status"] == "warn"

    enforced = playbook_runner(PLAYBOOK, LOCALHOST_INVENTORY + STRICT_HOST, "--check",
                               "-e", "health_check_fail_in_check_mode=true")
    assert enforced.process.returncode == 2, enforced.output
    assert enforced.summary["hosts"]["strict"]["counts"]["failed"] == 1


def test_a_wrong_variable_is_refused_on_the_controller_before_the_host_is_reached(playbook_runner):
    # A host whose python does not exist: any module run on it fails with "not found".
    inventory = ("all:\n  hosts:\n    nowhere:\n      ansible_connection: local\n"
                 "      ansible_python_interpreter: /nonexistent/bin/python3\n")
    reached = playbook_runner(PLAYBOOK, inventory)
    assert reached.process.returncode == 2, reached.output
    assert "/nonexistent/bin/python3" in reached.summary["hosts"]["nowhere"]["failed_tasks"][0]["message"]

    for variable, value, expected in [
        ("health_check_fail_on", "sometimes", "value of fail_on must be one of: fail, warn, never, got: sometimes"),
        ("health_check_disk_warn_percent", "lots", "argument 'disk_warn_percent' is of type str found in 'checks'"),
        ("health_check_collect", ["disk", "network"], "value of collect must be one or more of"),
    ]:
        refused = playbook_runner(PLAYBOOK, inventory, "-e", json.dumps({variable: value}))
        assert refused.process.returncode == 2, refused.output
        message = refused.summary["hosts"]["nowhere"]["failed_tasks"][0]["message"]
        assert expected in message
        assert "/nonexistent" not in message
