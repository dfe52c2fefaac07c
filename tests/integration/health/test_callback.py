"""The summary callback on real ansible-playbook runs (local connection, no containers).

Every produced document is validated against docs/schemas/health_summary.schema.json.
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
from pathlib import Path

from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from conftest import LOCALHOST_INVENTORY, REPO_ROOT, ansible_env

PLAY = """\
- name: Summary test
  hosts: all
  gather_facts: false
  tasks:
{tasks}
"""


def _play(tasks: str) -> str:
    return PLAY.format(tasks="\n".join("    " + line if line else "" for line in tasks.strip().splitlines()))


def test_failed_run_lists_failures_but_never_a_no_log_secret(playbook_runner, summary_validator):
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    run = playbook_runner(_play(f"""
- name: Reach the host
  ansible.builtin.ping:
- name: Tolerated failure
  ansible.builtin.command: /bin/false
  changed_when: false
  ignore_errors: true
- name: Guarded block
  block:
    - name: Fail inside the block
      ansible.builtin.fail:
        msg: rescued failure
  rescue:
    - name: Rescue
      ansible.builtin.debug:
        msg: rescued
- name: Write the secret
  ansible.builtin.shell: "echo {secret} >&2; echo {secret}; exit 3"
  changed_when: false
  no_log: true
"""), LOCALHOST_INVENTORY)
    assert run.process.returncode == 2, run.output
    document = run.summary
    summary_validator.validate(document)
    assert secret not in run.summary_path.read_text()
    host = document["hosts"]["localhost"]
    assert host["counts"] | {"ok": 0} == {"ok": 0, "changed": 0, "failed": 1, "unreachable": 0, "skipped": 0,
                                          "rescued": 1, "ignored": 1}
    assert host["failed_tasks"] == [{"task": "Write the secret", "role": None, "message": None, "no_log": True}]
    assert document["status"] == "failed"
    assert document["reason"] == "localhost: 1 failed task(s), first 'Write the secret'"
    assert document["run"]["playbook"] == "playbook.yml"
    assert document["run"]["check_mode"] is False
    assert document["meta"]["counts_source"] == "stats"
    assert document["meta"]["callback_hook_calls"] > 0
    # The run's controller is the test's own (the 2.19 or the 2.21 leg), and no hook failed on it.
    assert document["run"]["ansible_version"] == ANSIBLE_CORE_VERSION
    assert document["meta"]["errors"] == []
    assert "DEPLOYMENT HEALTH SUMMARY" in run.process.stderr
    assert "DEPLOYMENT HEALTH SUMMARY" not in run.process.stdout


def test_failure_message_is_short_and_on_one_line(playbook_runner, summary_validator):
    run = playbook_runner(_play("""
- name: Break
  ansible.builtin.fail:
    msg: "{{ 'word ' * 200 }}\\nsecond line"
"""), LOCALHOST_INVENTORY, STABILITY_OPS_SUMMARY_MESSAGE_MAX_LENGTH="50")
    document = run.summary
    summary_validator.validate(document)
    message = document["hosts"]["localhost"]["failed_tasks"][0]["message"]
    assert message == ("word " * 10)[:47] + "..."


def test_unreachable_host(playbook_runner, summary_validator):
    # Loopback only: nothing listens on port 1, so the connection is refused at once.
    inventory = LOCALHOST_INVENTORY + """\
    ghost:
      ansible_connection: ssh
      ansible_host: 127.0.0.1
      ansible_port: 1
      ansible_user: nobody
"""
    run = playbook_runner(_play("""
- name: Reach the host
  ansible.builtin.ping:
"""), inventory)
    assert run.process.returncode == 4, run.output
    document = run.summary
    summary_validator.validate(document)
    assert document["hosts"]["ghost"]["counts"]["unreachable"] == 1
    assert document["hosts"]["ghost"]["unreachable_message"].startswith("Reach the host: ")
    assert document["hosts"]["localhost"]["status"] == "healthy"
    assert document["status"] == "failed"
    assert document["reason"] == "ghost unreachable"


def test_check_mode_run(playbook_runner, summary_validator):
    run = playbook_runner(_play("""
- name: Would change
  ansible.builtin.command: /bin/true
"""), LOCALHOST_INVENTORY, "--check")
    assert run.process.returncode == 0, run.output
    document = run.summary
    summary_validator.validate(document)
    assert document["run"]["check_mode"] is True
    assert document["status"] == "healthy"
    assert document["hosts"]["localhost"]["counts"]["skipped"] == 1


def test_sigint_still_writes_an_interrupted_summary(tmp_path, summary_validator):
    (tmp_path / "inventory.yml").write_text(LOCALHOST_INVENTORY)
    (tmp_path / "playbook.yml").write_text(_play("""
- name: Reach the host
  ansible.builtin.ping:
- name: Wait for the interrupt
  ansible.builtin.command: sleep 30
  changed_when: false
"""))
    process = subprocess.Popen(
        ["ansible-playbook", "-i", "inventory.yml", "playbook.yml"], cwd=tmp_path, env=ansible_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("TASK [Wait for the interrupt]"):
                break
        # A Ctrl-C that lands while ansible is still forking the worker can be lost;
        # like a person, press it again until the run stops.
        rest = ""
        for _attempt in range(5):
            time.sleep(1)
            os.kill(process.pid, signal.SIGINT)
            try:
                rest, _stderr = process.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode != 0, output
    document = json.loads((tmp_path / "summary.json").read_text())
    summary_validator.validate(document)
    assert document["status"] == "failed"
    assert document["run"]["interrupted"] is True
    assert document["reason"] == "the run was interrupted before it finished"
    assert document["meta"]["counts_source"] == "callback"
    assert document["hosts"]["localhost"]["counts"]["ok"] == 1


def test_ini_options_relative_path_and_junit(tmp_path, summary_validator):
    config = tmp_path / "cfg" / "ansible.cfg"
    config.parent.mkdir()
    config.write_text(f"""\
[defaults]
collections_path = {REPO_ROOT / ".collections"}
callbacks_enabled = stability.ops.health_summary
[callback_health_summary]
output_path = reports/summary.json
junit_path = reports/summary.xml
indent = 0
print_table = false
""")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    (workdir / "inventory.yml").write_text(LOCALHOST_INVENTORY)
    (workdir / "playbook.yml").write_text(_play("""
- name: Break
  ansible.builtin.fail:
    msg: broken <on purpose>
"""))
    env = ansible_env(tmp_path, ANSIBLE_CONFIG=str(config))
    for name in ("STABILITY_OPS_SUMMARY_PATH", "ANSIBLE_CALLBACKS_ENABLED"):
        env.pop(name)
    process = subprocess.run(["ansible-playbook", "-i", "inventory.yml", "playbook.yml"], cwd=workdir, env=env,
                             capture_output=True, text=True, check=False, timeout=120)
    assert process.returncode == 2, process.stdout + process.stderr
    # A relative path in ansible.cfg is relative to the directory of that ansible.cfg.
    summary = config.parent / "reports" / "summary.json"
    text = summary.read_text()
    assert text.count("\n") == 1  # indent = 0: one line
    summary_validator.validate(json.loads(text))
    assert "DEPLOYMENT HEALTH SUMMARY" not in process.stdout + process.stderr
    junit = ET.parse(config.parent / "reports" / "summary.xml").getroot()  # noqa: S314 - our own output
    assert junit.attrib["failures"] == "1"
    assert junit.find("testsuite/testcase/failure").attrib["message"] == "broken <on purpose>"


def test_an_unwritable_path_is_a_warning_not_a_failed_run(playbook_runner):
    run = playbook_runner(_play("""
- name: Reach the host
  ansible.builtin.ping:
"""), LOCALHOST_INVENTORY, STABILITY_OPS_SUMMARY_PATH="/dev/null/summary.json")
    assert run.process.returncode == 0, run.output
    assert "stability.ops.health_summary: v2_playbook_on_stats:" in run.output
    assert not Path("/dev/null/summary.json").exists()


def test_health_facts_publishes_set_stats_data_without_a_set_stats_task(playbook_runner, summary_validator):
    # Two hosts on the local connection: ansible merges each host's ansible_stats under the run-wide "_run".
    inventory = LOCALHOST_INVENTORY + "    second:\n      ansible_connection: local\n" \
                                      f"      ansible_python_interpreter: {sys.executable}\n"
    run = playbook_runner(_play("""
- name: Evaluate and publish
  stability.ops.health_facts:
    collect: [disk]
    checks:
      disk_warn_percent: 100
      disk_fail_percent: 100
      inode_warn_percent: 100
      inode_fail_percent: 100
    publish_stats: true
  register: health
- name: Evaluate without publishing
  stability.ops.health_facts:
    collect: [disk]
    checks: {}
  register: quiet
- name: Publishing without checks is refused
  stability.ops.health_facts:
    collect: [disk]
    publish_stats: true
  register: refused
  ignore_errors: true
- name: Keep what the tasks returned
  ansible.builtin.copy:
    content: "{{ {'health': health, 'quiet': quiet, 'refused': refused} | to_json }}"
    dest: "{{ playbook_dir }}/results-{{ inventory_hostname }}.json"
    mode: "0600"
  delegate_to: localhost
"""), inventory, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="true")
    assert run.process.returncode == 0, run.output
    published = json.loads(run.process.stdout)["global_custom_stats"]["stability_ops_health"]
    assert set(published) == {"localhost", "second"}
    for host in ("localhost", "second"):
        results = json.loads((run.summary_path.parent / f"results-{host}.json").read_text())
        # Exactly the module's evaluation, under the host's name, once per host.
        assert published[host] == {"status": results["health"]["health_status"],
                                   "checks": results["health"]["health_checks"]}
        assert published[host]["checks"] and all(c["category"] == "disk" for c in published[host]["checks"])
        assert "ansible_stats" not in results["quiet"]
        assert results["refused"]["failed"] is True
        assert "publish_stats needs checks" in results["refused"]["msg"]
    document = run.summary
    summary_validator.validate(document)
    assert document["hosts"]["second"]["health"]["checks"] == published["second"]["checks"]
    assert document["meta"]["errors"] == []
