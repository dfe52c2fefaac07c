"""The adoption section from a real ansible-playbook run: a test-only action plugin named adoption_guard, in this
test's own tmp dir (ANSIBLE_ACTION_PLUGINS), returns what stability.ops.adoption_guard returns; the callback
collects its findings per host, never those of a result under no_log."""

from __future__ import annotations

import json

from conftest import FLEET3_INVENTORY

# The task's args are the result's "adoption"; "fail" fails the task as the guard does for unaccepted findings.
GUARD = '''\
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        adoption = self._task.args["adoption"]
        result.update(changed=False, adoption=adoption)
        if self._task.args.get("fail") and adoption["unaccepted"]:
            result.update(failed=True, msg=f"{adoption['unaccepted']} unaccepted adoption finding(s)")
        return result
'''
PORT = {"item": "8080/tcp", "kind": "close", "detail": "listening, not allowed",
        "accept_with": "security_firewall_accept_closing", "accepted": False}
ROOT = {"role": "security_sshd", "item": "root", "kind": "lockout", "detail": "no key", "accept_with": None,
        "accepted": True}
SECRET = {"item": "hunter2-port", "kind": "drop", "detail": "secret", "accept_with": None, "accepted": False}


def _task(name, adoption, when, fail=False, no_log=False):
    args = json.dumps({"adoption": adoption, "fail": fail})
    return (f"    - name: {name}\n      adoption_guard: {args}\n      when: inventory_hostname == '{when}'\n"
            + ("      no_log: true\n" if no_log else ""))


def test_the_guards_findings_reach_the_document_table_and_junit(playbook_runner, summary_validator, tmp_path):
    plugins = tmp_path / "action_plugins"
    plugins.mkdir()
    (plugins / "adoption_guard.py").write_text(GUARD)
    playbook = ("- name: Adopt\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                + _task("Guard the firewall", {"role": "security_firewall", "findings": [PORT], "unaccepted": 1},
                        "web1", fail=True)
                + _task("Guard every role", {"role": "all", "findings": [{**PORT, "role": "security_firewall"},
                                                                         ROOT], "unaccepted": 1}, "web2")
                + _task("Guard again", {"role": "all", "findings": [{**PORT, "role": "security_firewall"}, ROOT],
                                        "unaccepted": 1}, "web2")
                + _task("Guard in secret", {"role": "security_firewall", "findings": [SECRET], "unaccepted": 1},
                        "web3", no_log=True))
    run = playbook_runner(playbook, FLEET3_INVENTORY, ANSIBLE_ACTION_PLUGINS=str(plugins),
                          STABILITY_OPS_SUMMARY_JUNIT_PATH="summary.xml")
    assert run.returncode == 2, run.output
    document = run.summary
    summary_validator.validate(document)
    hosts = document["hosts"]
    assert hosts["web1"]["adoption"] == [{**PORT, "role": "security_firewall", "guard_failed": True}]
    assert hosts["web1"]["status"] == "failed"
    # Reported twice, listed once per role and item; not failed: reported only.
    assert hosts["web2"]["adoption"] == [{**PORT, "role": "security_firewall", "guard_failed": False},
                                         {**ROOT, "guard_failed": False}]
    assert hosts["web2"]["adoption_total"] == 2
    assert hosts["web3"]["adoption"] == [] and hosts["web3"]["adoption_total"] == 0
    assert "hunter2" not in run.summary_path.read_text() + run.junit_path.read_text()
    assert document["totals"]["adoption"] == {"findings": 3, "unaccepted": 2}

    table = run.output[run.output.index("DEPLOYMENT HEALTH SUMMARY"):]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[2:5]}
    assert (rows["web1"][-1], rows["web2"][-1], rows["web3"][-1]) == ("1/1", "1/2", "-")

    cases = {(case.attrib["classname"], case.attrib["name"]): case for case in run.junit.iter("testcase")}
    failing = cases[("web1", "adoption: security_firewall 8080/tcp")].find("failure")
    assert failing is not None and "accept with security_firewall_accept_closing" in failing.text
    assert cases[("web2", "adoption: security_firewall 8080/tcp")].find("failure") is None
    assert ("web2", "adoption: security_sshd root") not in cases
