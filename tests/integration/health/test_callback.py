"""The summary callback on real ansible-playbook runs (local connection, no containers).

Every produced document is validated against docs/schemas/health_summary.schema.json with format checking, and
every run starts over a stale healthy summary of another run (conftest.seed_stale) that it must replace. How each
ending is reported (signals, parse errors, aborted and empty runs, the gate recipe): test_endings.py.
"""

from __future__ import annotations

import json
import subprocess
import uuid

from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from conftest import (
    FLEET_INVENTORY,
    HEALTH_TASK,
    REPO_ROOT,
    STALE_ID,
    UNREACHABLE_HOST,
    _host,
    ansible_env,
    seed_stale,
)
from stability_ops_dev.testing.junit import junit_problems

PLAY = """\
- name: Summary test
  hosts: all
  gather_facts: false
  tasks:
{tasks}
"""


def _play(tasks: str) -> str:
    return PLAY.format(tasks="\n".join("    " + line if line else "" for line in tasks.strip().splitlines()))


def _valid(run, summary_validator) -> dict:
    document = run.summary
    summary_validator.validate(document)
    assert document["run"]["id"] == run.run_id != STALE_ID
    return document


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
"""), FLEET_INVENTORY, STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 2, run.output
    document = _valid(run, summary_validator)
    assert secret not in run.summary_path.read_text()
    assert secret not in (run.summary_path.parent / "summary.xml").read_text()
    host = document["hosts"]["web1"]
    assert host["counts"] | {"ok": 0} == {"ok": 0, "changed": 0, "failed": 1, "unreachable": 0, "skipped": 0,
                                          "rescued": 1, "ignored": 1}
    assert host["failed_tasks"] == [{
        "task": "Write the secret", "role": None, "action": "ansible.builtin.shell", "no_log": True, "message": None,
        "rc": None, "stdout_tail": None, "stderr_tail": None, "item": None, "original_failure": None}]
    assert document["status"] == "failed"
    assert document["reason"] == "web1: 1 failed task(s), first 'Write the secret'"
    assert document["run"]["playbook"] == "playbook.yml"
    assert document["run"]["check_mode"] is False
    assert document["run"]["ending"] == "finished"
    assert document["meta"]["counts_source"] == "stats"
    assert document["meta"]["callback_hook_calls"] > 0
    # The run's controller is the test's own (the 2.19 or the 2.21 leg), and no hook failed on it.
    assert document["run"]["ansible_version"] == ANSIBLE_CORE_VERSION
    assert document["meta"]["errors"] == []
    assert "DEPLOYMENT HEALTH SUMMARY" in run.process.stderr
    assert "DEPLOYMENT HEALTH SUMMARY" not in run.process.stdout


def test_failure_entries_say_what_failed(playbook_runner, summary_validator):
    """rc and stderr of a command, the failed_when condition, the failing loop item, the root cause of a failed
    rescue: on the result shapes of the controller that runs the test (2.19 and 2.21 differ)."""
    hosts = "all:\n  hosts:\n" + "".join(_host(name) for name in ("cmd", "cond", "loop", "rescue", "ctrl"))
    run = playbook_runner("""\
- name: Failures
  hosts: all
  gather_facts: false
  tasks:
    - name: A command that fails
      ansible.builtin.shell: "echo progress; echo 'E: disk quota exceeded' >&2; exit 3"
      when: inventory_hostname == 'cmd'
    - name: A condition that fails
      ansible.builtin.command: echo ready
      register: probe
      changed_when: false
      failed_when: "'ready' in probe.stdout"
      when: inventory_hostname == 'cond'
    - name: A loop with one failing item
      ansible.builtin.command: "test {{ item.n }} -lt 2"
      changed_when: false
      loop: [{n: 1}, {n: 2}]
      loop_control:
        label: "n={{ item.n }}"
      when: inventory_hostname == 'loop'
    - name: Deploy with a rollback
      when: inventory_hostname == 'rescue'
      block:
        - name: Deploy the release
          ansible.builtin.fail:
            msg: port 8080 already in use
      rescue:
        - name: Roll back
          ansible.builtin.fail:
            msg: no previous release to roll back to
    - name: Control characters
      ansible.builtin.fail:
        msg: "bad \\u001b[31mred\\u001b[0m \\u0007bell <&> end"
      when: inventory_hostname == 'ctrl'
""", hosts, STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 2, run.output
    document = _valid(run, summary_validator)
    first = {name: host["failed_tasks"][0] for name, host in document["hosts"].items()}
    assert {key: first["cmd"][key] for key in ("task", "action", "rc", "stdout_tail", "stderr_tail")} == {
        "task": "A command that fails", "action": "ansible.builtin.shell", "rc": 3, "stdout_tail": "progress",
        "stderr_tail": "E: disk quota exceeded"}
    assert first["cmd"]["message"].endswith("(rc 3): E: disk quota exceeded")
    assert first["cond"]["message"] == "failed_when matched: 'ready' in probe.stdout (rc 0)"
    assert (first["loop"]["item"], first["loop"]["rc"]) == ("n=2", 1)
    assert first["loop"]["message"].startswith("1 of 2 item(s) failed, first n=2: ")
    assert first["rescue"]["task"] == "Roll back"
    assert first["rescue"]["message"] == "no previous release to roll back to"
    assert first["rescue"]["original_failure"]["task"] == "Deploy the release"
    assert first["rescue"]["original_failure"]["message"] == "port 8080 already in use"
    assert first["ctrl"]["message"] == "bad red bell <&> end"
    assert "(traceback unavailable)" not in run.summary_path.read_text()
    root, problems = junit_problems((run.summary_path.parent / "summary.xml").read_text())
    assert problems == []
    failure = root.find("testsuite[@name='ctrl']/testcase[@name='task: Control characters']/failure")
    assert failure.attrib["message"] == "bad red bell <&> end"


def test_failure_message_is_short_and_on_one_line(playbook_runner, summary_validator):
    run = playbook_runner(_play("""
- name: Break
  ansible.builtin.fail:
    msg: "{{ 'word ' * 200 }}\\nsecond line"
"""), FLEET_INVENTORY, STABILITY_OPS_SUMMARY_MESSAGE_MAX_LENGTH="50")
    document = _valid(run, summary_validator)
    message = document["hosts"]["web1"]["failed_tasks"][0]["message"]
    assert message == ("word " * 10)[:47] + "..."


def test_unreachable_host(playbook_runner, summary_validator):
    run = playbook_runner(_play(HEALTH_TASK + """
- name: Reach the host
  ansible.builtin.ping:
"""), FLEET_INVENTORY + UNREACHABLE_HOST)
    assert run.returncode == 4, run.output
    document = _valid(run, summary_validator)
    assert document["hosts"]["ghost"]["counts"]["unreachable"] == 1
    assert document["hosts"]["ghost"]["unreachable_message"].startswith("Check the health of the host: ")
    assert document["hosts"]["ghost"]["status"] == "failed"
    assert document["hosts"]["web1"]["status"] == "healthy"
    assert document["status"] == "failed"
    assert document["reason"] == "ghost unreachable"


def test_a_healthy_run_with_the_controller_apart_and_its_metadata(tmp_path, summary_validator):
    """The controller (the preflight on localhost) is listed apart; user, --limit, --tags, inventory and the git
    commit of the playbook's repository are recorded; changed tasks and durations per host."""
    repo = tmp_path / "deploy-repo"
    repo.mkdir()
    (repo / "inventory.yml").write_text("all:\n  hosts:\n" + _host("web1") + _host("web2"))
    (repo / "playbook.yml").write_text(f"""\
- name: Preflight
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Controller check
      ansible.builtin.ping:
- name: Deploy
  hosts: all
  gather_facts: false
  tasks:
    - name: Change something
      ansible.builtin.command: "true"
      tags: [deploy]
{chr(10).join("    " + line for line in HEALTH_TASK.splitlines())}
      tags: [deploy]
""")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "deploy"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    summary = tmp_path / "reports" / "summary.json"
    seed_stale(summary)
    process = subprocess.run(
        ["ansible-playbook", "-i", "inventory.yml", "playbook.yml", "--limit", "web1,localhost", "--tags",
         "deploy,always", "--diff"], cwd=repo, capture_output=True, text=True, check=False, timeout=120,
        env=ansible_env(tmp_path, STABILITY_OPS_SUMMARY_PATH=str(summary), STABILITY_OPS_RUN_ID="meta-1"))
    assert process.returncode == 0, process.stdout + process.stderr
    document = json.loads(summary.read_text())
    summary_validator.validate(document)
    assert (document["status"], document["run"]["id"]) == ("healthy", "meta-1")
    assert list(document["hosts"]) == ["web1"]  # web2 is outside --limit
    assert list(document["controller"]) == ["localhost"]
    assert document["totals"]["hosts"] == 1 and document["totals"]["controller_hosts"] == 1
    run = document["run"]
    assert run["limit"] == "web1,localhost"
    assert sorted(run["tags"]) == ["always", "deploy"]
    assert run["diff_mode"] is True
    assert run["inventory_sources"] == [str(repo / "inventory.yml")]
    assert run["git"]["playbook"] == {"commit": commit, "dirty": False, "root": str(repo.resolve())}
    assert run["git"]["inventory"] == run["git"]["playbook"]
    assert run["user"] and run["controller_host"]
    web1 = document["hosts"]["web1"]
    assert web1["changed_tasks"] == [{"task": "Change something", "role": None}]
    assert web1["duration_seconds"] > 0 and web1["started_at"]
    assert [(play["name"], play["status"], play["hosts"]) for play in document["plays"]] == [
        ("Preflight", "completed", 1), ("Deploy", "completed", 1)]
    assert all(play["duration_seconds"] > 0 for play in document["plays"])


def test_check_mode_run_without_health_checks_is_unverified(playbook_runner, summary_validator):
    run = playbook_runner(_play("""
- name: Would change
  ansible.builtin.command: /bin/true
"""), FLEET_INVENTORY, "--check")
    assert run.returncode == 0, run.output
    document = _valid(run, summary_validator)
    assert document["run"]["check_mode"] is True
    assert document["status"] == "unverified"
    assert document["reason"] == "no health check ran on 1 host(s): web1"
    assert document["hosts"]["web1"]["counts"]["skipped"] == 1


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
run_id = ini-run
""")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    (workdir / "inventory.yml").write_text(FLEET_INVENTORY)
    (workdir / "playbook.yml").write_text(_play("""
- name: Break
  ansible.builtin.fail:
    msg: broken <on purpose>
"""))
    summary = config.parent / "reports" / "summary.json"
    seed_stale(summary, config.parent / "reports" / "summary.xml")
    env = ansible_env(tmp_path, ANSIBLE_CONFIG=str(config))
    for name in ("STABILITY_OPS_SUMMARY_PATH", "ANSIBLE_CALLBACKS_ENABLED", "STABILITY_OPS_RUN_ID"):
        env.pop(name, None)
    process = subprocess.run(["ansible-playbook", "-i", "inventory.yml", "playbook.yml"], cwd=workdir, env=env,
                             capture_output=True, text=True, check=False, timeout=120)
    assert process.returncode == 2, process.stdout + process.stderr
    # A relative path in ansible.cfg is relative to the directory of that ansible.cfg.
    text = summary.read_text()
    assert text.count("\n") == 1  # indent = 0: one line
    document = json.loads(text)
    summary_validator.validate(document)
    assert document["run"]["id"] == "ini-run"
    assert "DEPLOYMENT HEALTH SUMMARY" not in process.stdout + process.stderr
    root, problems = junit_problems((config.parent / "reports" / "summary.xml").read_text())
    assert problems == []
    assert root.find("testsuite[@name='web1']/testcase[@name='task: Break']/failure").attrib["message"] == (
        "broken <on purpose>")
    assert int(root.attrib["failures"]) >= 1


def test_an_unwritable_path_is_a_warning_not_a_failed_run(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    (tmp_path / "inventory.yml").write_text(FLEET_INVENTORY)
    (tmp_path / "playbook.yml").write_text(_play("""
- name: Reach the host
  ansible.builtin.ping:
"""))
    env = ansible_env(tmp_path, STABILITY_OPS_SUMMARY_PATH=str(blocked / "summary.json"))
    process = subprocess.run(["ansible-playbook", "-i", "inventory.yml", "playbook.yml"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False, timeout=120)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    # The placeholder at the start and the document at the end: warnings, the run goes on.
    assert "stability.ops.health_summary: v2_playbook_on_start:" in output
    assert "stability.ops.health_summary: v2_playbook_on_stats:" in output
    assert blocked.read_text() == "not a directory"


def test_health_facts_publishes_set_stats_data_without_a_set_stats_task(playbook_runner, summary_validator):
    # Two hosts on the local connection: ansible merges each host's ansible_stats under the run-wide "_run".
    inventory = FLEET_INVENTORY + _host("second")
    run = playbook_runner(_play(HEALTH_TASK + """  register: health
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
    assert run.returncode == 0, run.output
    published = json.loads(run.process.stdout)["global_custom_stats"]["stability_ops_health"]
    assert set(published) == {"web1", "second"}
    for host in ("web1", "second"):
        results = json.loads((run.summary_path.parent / f"results-{host}.json").read_text())
        # Exactly the module's evaluation, under the host's name, once per host.
        assert published[host] == {"status": results["health"]["health_status"],
                                   "checks": results["health"]["health_checks"]}
        assert published[host]["checks"] and all(c["category"] == "disk" for c in published[host]["checks"])
        assert "ansible_stats" not in results["quiet"]
        assert results["refused"]["failed"] is True
        assert "publish_stats needs checks" in results["refused"]["msg"]
    document = _valid(run, summary_validator)
    assert document["hosts"]["second"]["health"]["checks"] == published["second"]["checks"]
    assert document["meta"]["errors"] == []
    assert document["status"] == "healthy"


def test_in_awx_the_run_id_is_the_job_id(playbook_runner, summary_validator):
    """AWX passes awx_job_id and awx_user_name as extra variables; without STABILITY_OPS_RUN_ID the job id is the
    run id a workflow or the launching CI job compares."""
    run = playbook_runner(_play(HEALTH_TASK), FLEET_INVENTORY, "-e", '{"awx_job_id": 4711, "awx_user_name": "alice"}',
                          STABILITY_OPS_RUN_ID="")
    assert run.returncode == 0, run.output
    document = run.summary
    summary_validator.validate(document)
    observed = (document["run"]["id"], document["run"]["awx_user"], document["status"])
    assert observed == ("awx-4711", "alice", "healthy")
