"""The health_check role as production_deploy.yml runs it (import_role, rolespec_validate: false) on real
ansible-playbook runs, local connection: one task per healthy host, the fail_on gate in the health_facts action
plugin, the failed host's results still published, and a wrong variable refused on the controller."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
from conftest import FLEET_INVENTORY, LOCALHOST_INVENTORY

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


def test_the_failed_gate_keeps_the_fatal_line_short_and_the_summary_has_the_whole_failure(playbook_runner,
                                                                                          summary_validator):
    run = playbook_runner(PLAYBOOK, LOCALHOST_INVENTORY + STRICT_HOST)
    assert run.process.returncode == 2, run.output
    fatal = [line for line in run.output.splitlines() if line.startswith("fatal: [strict]")]
    # The gate's own failure, then the rescue's: each the short message, no fact and no check of the host.
    assert len(fatal) == 2, run.output
    assert all(len(line) < 2000 and "health_facts" not in line and "observed" not in line for line in fatal), fatal
    document = run.summary
    summary_validator.validate(document)
    strict = document["hosts"]["strict"]
    failed = strict["failed_tasks"][0]
    original = failed["original_failure"]
    assert (original["task"], original["no_log"]) == ("Gather health facts and evaluate them against the thresholds",
                                                      False)
    assert original["message"] == failed["message"]
    warned = [check["name"] for check in strict["health"]["checks"] if check["status"] == "warn"]
    assert warned and original["message"].startswith(f"{len(warned)} health check(s) at or above 'warn': ")
    # The rescue's run without the gate reported every check of the host, the ok ones too.
    assert strict["health"]["status"] == "warn"
    assert all(f"WARN strict {name}: " in original["message"] for name in warned)
    assert any(check["status"] == "ok" for check in strict["health"]["checks"])


def _units_active(run) -> dict[str, str]:
    """What the systemd check says of the units that must be active (this machine runs no systemd)."""
    return {name: next(check["message"] for check in host["health"]["checks"] if check["name"] == "systemd")
            .split("not checked: ", 1)[1] for name, host in run.summary["hosts"].items()}


def test_by_default_the_units_the_collection_manages_must_be_active(playbook_runner):
    """ssh, chrony and nftables, by the names of the roles' vars files, and auditd only where security_auditd
    found that it can run (its fact security_auditd_status)."""
    if Path("/run/systemd/system").is_dir():
        pytest.skip("the systemd check names the units it could not check only where systemd does not run")
    hosts = ""
    for name, status in (("audited", "{available: true}"), ("container", "{available: false}"), ("plain", None)):
        hosts += (f"    {name}:\n      ansible_connection: local\n      ansible_python_interpreter: {sys.executable}\n"
                  + (f"      security_auditd_status: {status}\n" if status else ""))
    run = playbook_runner(PLAYBOOK.replace("[disk]", "[systemd]"), "all:\n  hosts:\n" + hosts,
                          "-e", "health_check_fail_on=never")
    assert run.process.returncode == 0, run.output
    managed = "ssh, chrony, nftables"
    assert _units_active(run) == {"audited": f"{managed}, auditd", "container": managed, "plain": managed}


def test_an_interrupted_run_keeps_the_health_results_of_the_role(start_playbook, summary_validator):
    """The role's results reach the summary from its task's own result: a run stopped after it still has them."""
    playbook = PLAYBOOK + ("    - name: Wait for the signal\n      ansible.builtin.command: sleep 60\n"
                           "      changed_when: false\n")
    started = start_playbook(playbook, FLEET_INVENTORY)
    started.wait_for("TASK [Wait for the signal]")
    run = started.signal_until_it_stops(signal.SIGTERM)
    document = run.summary
    summary_validator.validate(document)
    assert (document["status"], document["run"]["id"]) == ("interrupted", started.run_id)
    web1 = document["hosts"]["web1"]
    assert web1["status"] == "aborted"
    assert web1["health"]["status"] == "ok" and web1["health"]["checks"]
