"""Every way a run ends, on real ansible-playbook processes: the summary tells the truth on each.

Signals (SIGINT, SIGTERM, SIGHUP while a task sleeps; SIGKILL leaves the placeholder) go to the PID of the
ansible-playbook process the test started. Every run writes to its own tmp_path over a stale healthy summary of
another run (conftest.seed_stale), every document is validated against the schema with format checking, and the
gate recipe of docs/health-summary.md is run as the doc prints it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import (
    FLEET3_INVENTORY,
    FLEET_INVENTORY,
    HEALTH_TASK,
    LOCALHOST_INVENTORY,
    REPO_ROOT,
    STALE_ID,
    STALE_SUMMARY,
    VENV_BIN,
    _host,
    ansible_env,
    seed_stale,
)
from stability_ops_dev.testing.junit import junit_problems

WAIT_TASK = "Wait for the signal"


def _indent(text: str, spaces: int = 4) -> str:
    return "\n".join(" " * spaces + line if line else "" for line in text.splitlines())


# Two plays: the first one canary host first (serial 1), so that web2 and web3 are in later batches.
SLEEPING = f"""\
- name: Deploy
  hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: Reach the host
      ansible.builtin.ping:
    - name: {WAIT_TASK}
      ansible.builtin.command: sleep 60
      changed_when: false
- name: Health
  hosts: all
  gather_facts: false
  tasks:
{_indent(HEALTH_TASK)}
"""
HEALTHY = f"""\
- name: Deploy
  hosts: all
  gather_facts: false
  tasks:
{_indent(HEALTH_TASK)}
"""
# What a signal does to ansible-playbook without this callback, and must still do with it.
EXIT_STATUS = {
    # ansible's "User interrupted execution" (99); a second SIGINT after the first one dies of the signal.
    signal.SIGINT: (99, -signal.SIGINT),
    signal.SIGTERM: (-signal.SIGTERM,),  # ansible re-raises it with the default action
    signal.SIGHUP: (-signal.SIGHUP,),  # ansible does not handle it: the default action
}


def _valid(document: dict, validator, run_id: str) -> dict:
    validator.validate(document)
    assert document["run"]["id"] == run_id != STALE_ID
    return document


def _processes_of_run(run_id: str) -> list[int]:
    """PIDs of the processes a test's run started (they carry its STABILITY_OPS_RUN_ID in their environment)."""
    marker = f"STABILITY_OPS_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _left_behind(run_id: str, wait: float = 10) -> list[int]:
    deadline = time.monotonic() + wait
    while (pids := _processes_of_run(run_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def _kill_left_behind(run_id: str) -> None:
    for pid in _processes_of_run(run_id):  # only this test's run: it set this run id
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _failing_cases(root) -> dict[str, str]:
    return {f"{case.attrib['classname']}/{case.attrib['name']}": case.find("failure").attrib["message"]
            for case in root.iter("testcase") if case.find("failure") is not None}


# -- signals


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_during_a_task_writes_the_interrupted_summary(start_playbook, summary_validator, signum):
    started = start_playbook(SLEEPING, FLEET3_INVENTORY)
    started.wait_for(f"TASK [{WAIT_TASK}]")
    run = started.signal_until_it_stops(signum)
    name = signal.Signals(signum).name
    assert run.returncode in EXIT_STATUS[signum], run.output
    document = _valid(run.summary, summary_validator, started.run_id)
    assert document["status"] == "interrupted"
    assert document["reason"] == f"interrupted by {name} during task '{WAIT_TASK}' on web1"
    assert (document["run"]["ending"], document["run"]["signal"], document["run"]["interrupted"]) == (
        "signal", name, True)
    assert document["run"]["in_flight"] == [{"host": "web1", "task": WAIT_TASK, "role": None}]
    assert {host: (entry["status"], entry["note"]) for host, entry in document["hosts"].items()} == {
        "web1": ("aborted", f"the run stopped ({name}) during task '{WAIT_TASK}'"),
        "web2": ("not_run", "not reached by play(s): 'Deploy', 'Health'"),
        "web3": ("not_run", "not reached by play(s): 'Deploy', 'Health'"),
    }
    plays = [(play["name"], play["status"]) for play in document["plays"]]
    assert plays == [("Deploy", "running"), ("Health", "not_run")]
    assert document["hosts"]["web1"]["counts"]["ok"] == 1
    assert document["meta"]["counts_source"] == "callback"
    failing = _failing_cases(run.junit)
    assert failing["run/run finished"].startswith(f"status interrupted: interrupted by {name}")
    assert failing["web1/deploy"] == f"the run stopped ({name}) during task '{WAIT_TASK}'"
    # The workers are stopped too: nothing of the run keeps running on the hosts.
    assert _left_behind(started.run_id) == []


def test_sigkill_leaves_the_running_placeholder_never_healthy(start_playbook, summary_validator):
    started = start_playbook(SLEEPING, FLEET_INVENTORY)
    try:
        started.wait_for(f"TASK [{WAIT_TASK}]")
        run = started.signal_until_it_stops(signal.SIGKILL)
    finally:
        _kill_left_behind(started.run_id)  # a killed ansible-playbook leaves its worker behind
    assert run.returncode == -signal.SIGKILL
    document = _valid(run.summary, summary_validator, started.run_id)
    assert document["status"] == "running"
    assert document["run"]["started_at"] and document["run"]["ended_at"] is None
    assert document["reason"].startswith("the run has not finished")
    assert document["hosts"]["web1"]["status"] == "not_run"
    assert _failing_cases(run.junit)["run/run finished"].startswith("status running")


# -- errors


PARSE_ERRORS = {
    "syntax-error": ("- name: Broken\n  hosts: all\n  tasks:\n    - name: x\n      ansible.builtin.ping:\n"
                     "     bad: [\n", ()),
    "missing-role": ("- name: Roles\n  hosts: all\n  gather_facts: false\n  roles:\n    - role: no_such_role\n", ()),
    "undefined-variable-in-import_playbook": ('- name: Import\n  ansible.builtin.import_playbook: "{{ nope }}.yml"\n',
                                              ()),
    "undefined-variable-in-import_tasks": ("- name: Import\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                                           '    - name: Import\n      ansible.builtin.import_tasks: "{{ nope }}.yml"\n',
                                           ()),
    "limit-matching-nothing": (HEALTHY, ("--limit", "no_such_host")),
}


@pytest.mark.parametrize("case", list(PARSE_ERRORS))
def test_an_error_before_ansible_loads_callbacks_needs_the_wrapper_placeholder(tmp_path, summary_validator, case):
    """ansible-playbook stops before it loads any callback: nothing can replace yesterday's summary but the
    wrapper's placeholder (scripts/lib.sh health_summary_placeholder, as scripts/main.sh runs it)."""
    playbook, args = PARSE_ERRORS[case]
    (tmp_path / "playbook.yml").write_text(playbook)
    (tmp_path / "inventory.yml").write_text(FLEET_INVENTORY)
    summary = tmp_path / "summary.json"
    seed_stale(summary)
    env = ansible_env(tmp_path, STABILITY_OPS_RUN_ID="without-wrapper")
    bare = subprocess.run(["ansible-playbook", "-i", "inventory.yml", "playbook.yml", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert bare.returncode != 0
    assert json.loads(summary.read_text()) == STALE_SUMMARY  # no callback ran: the stale file is all there is

    wrapped = subprocess.run(
        ["bash", "-c", 'source scripts/lib.sh && health_summary_placeholder "$1" && shift && '
                       'cd "$1" && shift && ansible-playbook "$@"; echo "run id: $STABILITY_OPS_RUN_ID"',
         "wrapper", str(summary), str(tmp_path), "-i", "inventory.yml", "playbook.yml", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**ansible_env(tmp_path), "STABILITY_OPS_VENV": str(VENV_BIN.parent), "STABILITY_OPS_RUN_ID": "",
             "STABILITY_OPS_SUMMARY_JUNIT_PATH": str(tmp_path / "summary.xml")})
    run_id = wrapped.stdout.rsplit("run id: ", 1)[1].strip()
    document = _valid(json.loads(summary.read_text()), summary_validator, run_id)
    assert document["status"] == "running"
    assert "stopped before loading callbacks" in document["reason"]
    root, problems = junit_problems((tmp_path / "summary.xml").read_text())
    assert problems == []
    assert list(_failing_cases(root)) == ["run/run finished"]


def test_an_error_after_the_callback_loaded_is_a_failed_summary(playbook_runner, summary_validator):
    run = playbook_runner('- name: Templated hosts\n  hosts: "{{ nope }}"\n  gather_facts: false\n  tasks:\n'
                          "    - name: Reach\n      ansible.builtin.ping:\n", FLEET_INVENTORY)
    assert run.returncode != 0, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    assert (document["status"], document["run"]["ending"]) == ("failed", "error")
    assert document["reason"] == "ansible-playbook stopped with an error before the end of the run (see its output)"


# -- hosts a play targeted but never reached, and plays without hosts


def test_any_errors_fatal_aborts_the_other_hosts(playbook_runner, summary_validator):
    run = playbook_runner(f"""\
- name: Deploy
  hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: Fail on web1
      ansible.builtin.fail:
        msg: web1 is broken
      when: inventory_hostname == 'web1'
    - name: Never reached
      ansible.builtin.ping:
{_indent(HEALTH_TASK)}
""", FLEET3_INVENTORY, STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 2, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    why = "play 'Deploy' stopped after 'Fail on web1' failed with any_errors_fatal (or run_once)"
    assert {host: (entry["status"], entry["note"]) for host, entry in document["hosts"].items()} == {
        "web1": ("failed", None), "web2": ("aborted", why), "web3": ("aborted", why)}
    assert document["status"] == "failed"
    assert document["reason"] == ("web1: 1 failed task(s), first 'Fail on web1'; "
                                  "2 host(s) aborted (the play stopped before they finished it): web2, web3")
    assert document["plays"][0]["status"] == "stopped"
    assert _failing_cases(run.junit)["web2/deploy"] == why


def test_max_fail_percentage_aborts_the_batch_and_never_runs_the_later_ones(playbook_runner, summary_validator):
    run = playbook_runner(f"""\
- name: Rollout
  hosts: all
  gather_facts: false
  serial: 2
  max_fail_percentage: 0
  tasks:
    - name: Fail on web1
      ansible.builtin.fail:
        msg: web1 is broken
      when: inventory_hostname == 'web1'
{_indent(HEALTH_TASK)}
- name: Afterwards
  hosts: all
  gather_facts: false
  tasks:
    - name: Never reached
      ansible.builtin.ping:
""", FLEET3_INVENTORY)
    assert run.returncode == 2, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    statuses = {host: entry["status"] for host, entry in document["hosts"].items()}
    assert statuses == {"web1": "failed", "web2": "aborted", "web3": "not_run"}
    assert document["hosts"]["web3"]["note"] == "not reached by play(s): 'Rollout', 'Afterwards'"
    plays = [(play["name"], play["status"]) for play in document["plays"]]
    assert plays == [("Rollout", "stopped"), ("Afterwards", "not_run")]
    assert document["status"] == "failed"
    assert "1 host(s) not run (a play that targeted them never reached them): web3" in document["reason"]


def test_a_play_that_matched_no_host_fails_the_run(playbook_runner, summary_validator):
    run = playbook_runner(HEALTHY + """\
- name: Web servers
  hosts: webservers_typo
  gather_facts: false
  tasks:
    - name: Never reached
      ansible.builtin.ping:
""", FLEET_INVENTORY, STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 0, run.output  # ansible only warns
    document = _valid(run.summary, summary_validator, run.run_id)
    assert document["status"] == "failed"
    assert document["reason"] == "play 'Web servers' matched no host (hosts: webservers_typo)"
    assert document["plays"][1] | {"started_at": None, "duration_seconds": None} == {
        "name": "Web servers", "hosts_pattern": "webservers_typo", "status": "no_hosts", "hosts": 0,
        "started_at": None, "duration_seconds": None}
    assert document["hosts"]["web1"]["status"] == "healthy"
    assert _failing_cases(run.junit)["run/play: Web servers"] == "the play matched no host (hosts: webservers_typo)"


def test_hosts_added_at_run_time_are_covered_and_nothing_is_resolved_early(playbook_runner, summary_validator):
    """A play on a group that add_host creates during the run: the callback resolves its hosts when it starts, not
    ahead (where the group does not exist yet and ansible would warn that the pattern matches nothing)."""
    run = playbook_runner(f"""\
- name: Discover
  hosts: web1
  gather_facts: false
  tasks:
    - name: Add the new host
      ansible.builtin.add_host:
        name: web9
        groups: [discovered]
        ansible_connection: local
        ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
      changed_when: false
{_indent(HEALTH_TASK)}
- name: Deploy the discovered hosts
  hosts: discovered
  gather_facts: false
  tasks:
{_indent(HEALTH_TASK)}
""", FLEET_INVENTORY)
    assert run.returncode == 0, run.output
    assert "Could not match supplied host pattern" not in run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    statuses = {host: entry["status"] for host, entry in document["hosts"].items()}
    assert statuses == {"web1": "healthy", "web9": "healthy"}
    assert [(play["name"], play["status"], play["hosts"]) for play in document["plays"]] == [
        ("Discover", "completed", 1), ("Deploy the discovered hosts", "completed", 1)]
    assert document["status"] == "healthy"


def test_a_run_on_the_controller_only_is_empty(playbook_runner, summary_validator):
    run = playbook_runner("""\
- name: Preflight
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Controller check
      ansible.builtin.ping:
""", LOCALHOST_INVENTORY, STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 0, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    assert document["status"] == "empty"
    assert document["hosts"] == {}
    assert document["controller"]["localhost"]["status"] == "healthy"
    assert document["totals"]["hosts"] == 0
    assert "run/fleet hosts targeted" in _failing_cases(run.junit)


def test_a_run_without_health_checks_is_unverified_and_the_implicit_localhost_is_the_controller(
        playbook_runner, summary_validator):
    run = playbook_runner("""\
- name: Security
  hosts: all
  gather_facts: false
  tasks:
    - name: Harden
      ansible.builtin.command: "true"
- name: On the controller
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Controller step
      ansible.builtin.ping:
""", FLEET_INVENTORY)
    assert run.returncode == 0, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    assert document["status"] == "unverified"
    assert document["reason"] == "no health check ran on 1 host(s): web1"
    assert list(document["controller"]) == ["localhost"]  # implicit: not in the inventory
    assert list(document["hosts"]) == ["web1"]


def test_check_mode_on_a_fresh_host_is_not_failed_while_ansible_exits_0(playbook_runner, summary_validator):
    """The checks of a --check run see the host before the deploy (on a fresh host: the units the deploy installs
    are missing). health_facts reports them without failing the task, ansible exits 0: the summary says
    unverified, not failed. Here a disk threshold every host exceeds stands for the missing units."""
    run = playbook_runner("""\
- name: Health
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the health of the host
      stability.ops.health_facts:
        collect: [disk]
        checks:
          disk_warn_percent: 0
          disk_fail_percent: 0
        publish_stats: true
        fail_on: fail
""", FLEET_INVENTORY, "--check")
    assert run.returncode == 0, run.output
    document = _valid(run.summary, summary_validator, run.run_id)
    host = document["hosts"]["web1"]
    assert host["health"]["status"] == "fail"  # still reported
    assert (host["status"], host["counts"]["failed"]) == ("unverified", 0)
    assert document["status"] == "unverified"
    assert document["reason"].startswith("check mode: health checks fail on the hosts as they were before the deploy")


# -- the gate recipe of docs/health-summary.md


def _recipe() -> str:
    text = (REPO_ROOT / "docs" / "health-summary.md").read_text()
    return text.split("<!-- gate-recipe -->", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0] + "\n"


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


GATE_CASES = {
    "healthy": (HEALTHY, FLEET_INVENTORY, ()),
    "killed": (SLEEPING, FLEET_INVENTORY, ()),
    "parse-failed": (PARSE_ERRORS["syntax-error"][0], FLEET_INVENTORY, ()),
    "limit-matching-nothing": (HEALTHY, FLEET_INVENTORY, ("--limit", "no_such_host")),
    "empty": (HEALTHY.replace("hosts: all", "hosts: localhost"), LOCALHOST_INVENTORY, ()),
    "aborted": (HEALTHY.replace("  tasks:\n", "  any_errors_fatal: true\n  tasks:\n    - name: Fail on web1\n"
                                "      ansible.builtin.fail:\n      when: inventory_hostname == 'web1'\n"),
                FLEET_INVENTORY + _host("web2"), ()),
    "unverified": (HEALTHY.replace(_indent(HEALTH_TASK), "    - name: Reach\n      ansible.builtin.ping:"),
                   FLEET_INVENTORY, ()),
}


@pytest.mark.skipif(shutil.which("jq") is None, reason="the gate recipe uses jq (Debian package jq)")
@pytest.mark.parametrize("case", list(GATE_CASES))
def test_the_documented_gate_recipe_passes_only_a_finished_healthy_run(tmp_path, summary_validator, case):
    playbook, inventory, args = GATE_CASES[case]
    (tmp_path / "gate.sh").write_text(_recipe())
    (tmp_path / "playbook.yml").write_text(playbook)
    (tmp_path / "inventory.yml").write_text(inventory)
    summary = tmp_path / "reports" / "health_summary.json"
    seed_stale(summary)  # yesterday's healthy run: the gate must not pass on it
    env = ansible_env(tmp_path)
    for name in ("STABILITY_OPS_SUMMARY_PATH", "STABILITY_OPS_RUN_ID", "STABILITY_OPS_SUMMARY_JUNIT_PATH"):
        env.pop(name, None)  # the recipe sets them
    process = subprocess.Popen(["bash", "gate.sh", "-i", "inventory.yml", "playbook.yml", *args], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run_id = None
    try:
        if case == "killed":
            for line in process.stdout:
                if line.startswith(f"TASK [{WAIT_TASK}]"):
                    break
            time.sleep(1)
            run_id = json.loads(summary.read_text())["run"]["id"]
            (ansible_playbook,) = _children(process.pid)  # the ansible-playbook the recipe started
            os.kill(ansible_playbook, signal.SIGKILL)
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if run_id:
            _kill_left_behind(run_id)
    document = json.loads(summary.read_text())
    summary_validator.validate(document)
    assert document["run"]["id"] != STALE_ID
    if case == "healthy":
        assert process.returncode == 0, output
        assert document["status"] == "healthy"
    else:
        assert process.returncode != 0, output
        assert document["status"] == {"killed": "running", "parse-failed": "running",
                                      "limit-matching-nothing": "running", "empty": "empty", "aborted": "failed",
                                      "unverified": "unverified"}[case]
    junit = tmp_path / "reports" / "health_summary.xml"
    if junit.exists():
        root, problems = junit_problems(junit.read_text())
        assert problems == []
        if case == "unverified":  # nothing failed: the health checks that never ran are skipped test cases
            assert (root.attrib["failures"], int(root.attrib["skipped"]) > 0) == ("0", True)
        else:
            assert (root.attrib["failures"] == "0") is (case == "healthy")
