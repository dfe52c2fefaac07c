"""The adoption guard's verdicts and complete messages (plugin_utils/adoption.py), and the
action plugin in a real ansible-playbook run on the controller."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_collections.stability.ops.plugins.modules import adoption_guard as doc_stub
from ansible_collections.stability.ops.plugins.plugin_utils import adoption

REPO_ROOT = Path(__file__).resolve().parents[3]


def finding(item="8080/tcp", kind="close", accepted=False, **extra):
    base = {
        "item": item,
        "kind": kind,
        "detail": f"python3 listens on 0.0.0.0:{item.split('/')[0]}",
        "accept_with": "security_firewall_accept_closing",
        "accepted": accepted,
    }
    base.update(extra)
    return base


def test_no_findings_passes():
    verdict = adoption.evaluate("web1", "security_firewall", [])
    assert verdict == {
        "changed": False,
        "adoption": {"role": "security_firewall", "findings": [], "unaccepted": 0},
        "msg": "security_firewall: no adoption finding",
    }


def test_unaccepted_fails_with_one_complete_message():
    findings = [
        finding("8080/tcp", carry_with="security_firewall_rules"),
        finding("123/udp", carry_with="security_firewall_rules"),
        {"item": "sftp-chroot", "kind": "drop", "detail": "Match Group sftponly would be dropped",
         "accept_with": "security_sshd_accept_dropped", "accepted": False, "carry_with": "security_sshd_match_blocks"},
        finding("9090/tcp", accepted=True),
    ]
    verdict = adoption.evaluate("web1", "security_firewall", findings)
    assert verdict["failed"] is True
    assert verdict["adoption"]["unaccepted"] == 3
    assert verdict["msg"] == (
        "Adoption guard (security_firewall) on web1: 3 finding(s) would be closed, dropped, locked out or left "
        "unmanaged by this run. Nothing on the host was changed.\n"
        "security_firewall:\n"
        "  - 8080/tcp (close): python3 listens on 0.0.0.0:8080\n"
        "  - 123/udp (close): python3 listens on 0.0.0.0:123\n"
        "  set security_firewall_accept_closing: [8080/tcp, 123/udp] in the host's group_vars to accept, "
        "or carry it with security_firewall_rules.\n"
        "security_firewall:\n"
        "  - sftp-chroot (drop): Match Group sftponly would be dropped\n"
        "  set security_sshd_accept_dropped: [sftp-chroot] in the host's group_vars to accept, "
        "or carry it with security_sshd_match_blocks.\n"
        "See docs/adoption.md (bringing an existing fleet under stability.ops)."
    )
    assert verdict["warnings"] == [
        "security_firewall: proceeding because security_firewall_accept_closing lists 9090/tcp "
        "(close: python3 listens on 0.0.0.0:9090)"
    ]


def test_all_accepted_passes_with_warnings():
    verdict = adoption.evaluate("web1", "security_firewall", [finding(accepted=True)])
    assert "failed" not in verdict
    assert verdict["msg"] == "security_firewall: 1 finding(s), all accepted"
    assert len(verdict["warnings"]) == 1


def test_defer_never_fails_and_merges_pending():
    pending = {"core_time": [{"item": "allow 10.0.0.0/8", "kind": "drop", "detail": "chrony allow line",
                              "accept_with": "core_time_accept_dropped", "accepted": False}]}
    verdict = adoption.evaluate("web1", "security_firewall", [finding()], pending=pending, defer=True)
    assert "failed" not in verdict
    merged = verdict["ansible_facts"]["stability_ops_adoption_pending"]
    assert list(merged) == ["core_time", "security_firewall"]
    assert merged["security_firewall"][0]["role"] == "security_firewall"
    assert merged["core_time"][0]["role"] == "core_time"
    assert verdict["adoption"]["unaccepted"] == 1
    # Run twice (a role's discovery included twice): replaced, not appended.
    again = adoption.evaluate("web1", "security_firewall", [finding()], pending=merged, defer=True)
    assert len(again["ansible_facts"]["stability_ops_adoption_pending"]["security_firewall"]) == 1


def test_all_fails_on_every_role_in_one_message():
    pending = adoption.merge_pending({}, "security_sshd", [
        {"item": "alice", "kind": "lockout", "detail": "login shell /bin/bash, 1 authorized key, not in sshusers",
         "accept_with": "security_sshd_accept_lockout", "accepted": False}])
    pending = adoption.merge_pending(pending, "security_firewall", [finding(), finding("123/udp", accepted=True)])
    verdict = adoption.evaluate("web1", "all", [], pending=pending)
    assert verdict["failed"] is True
    assert verdict["adoption"]["role"] == "all"
    roles = [f["role"] for f in verdict["adoption"]["findings"]]
    assert roles == ["security_sshd", "security_firewall", "security_firewall"]
    assert verdict["msg"] == (
        "Adoption guard (every role) on web1: 2 finding(s) would be closed, dropped, locked out or left "
        "unmanaged by this run. Nothing on the host was changed.\n"
        "security_sshd:\n"
        "  - alice (lockout): login shell /bin/bash, 1 authorized key, not in sshusers\n"
        "  set security_sshd_accept_lockout: [alice] in the host's group_vars to accept.\n"
        "security_firewall:\n"
        "  - 8080/tcp (close): python3 listens on 0.0.0.0:8080\n"
        "  set security_firewall_accept_closing: [8080/tcp] in the host's group_vars to accept.\n"
        "See docs/adoption.md (bringing an existing fleet under stability.ops)."
    )
    assert verdict["warnings"] == [
        "security_firewall: proceeding because security_firewall_accept_closing lists 123/udp "
        "(close: python3 listens on 0.0.0.0:123)"
    ]


def test_all_passing_resets_pending():
    pending = adoption.merge_pending({}, "security_firewall", [finding(accepted=True)])
    verdict = adoption.evaluate("web1", "all", [], pending=pending)
    assert "failed" not in verdict
    assert verdict["ansible_facts"] == {"stability_ops_adoption_pending": {}}
    assert verdict["checked_roles"] == ["security_firewall"]
    nothing = adoption.evaluate("web1", "all", [], pending=None)
    assert nothing["msg"] == "all: no adoption finding"
    assert nothing["checked_roles"] == []


def test_checked_roles_name_every_role_that_ran_even_without_findings_and_none_on_failure():
    pending = adoption.merge_pending({"core_users": []}, "security_sshd", [])
    assert adoption.evaluate("web1", "all", [], pending=pending)["checked_roles"] == ["core_users", "security_sshd"]
    failing = adoption.merge_pending(pending, "security_firewall", [finding()])
    assert "checked_roles" not in adoption.evaluate("web1", "all", [], pending=failing)
    # A single role's guard names no role: only the guard on every role's deferred findings does.
    assert "checked_roles" not in adoption.evaluate("web1", "security_firewall", [])


@pytest.mark.parametrize(
    ("role", "findings", "defer", "error"),
    [
        ("x", [{"item": "a", "kind": "oops", "detail": "d", "accept_with": "v"}], False, "kind 'oops'"),
        ("x", [{"item": "a", "kind": "drop", "detail": "d"}], False, "lacks accept_with"),
        ("x", [{"item": "a", "kind": "drop", "detail": "d", "accept_with": "v", "accepted": "yes"}], False,
         "accepted must be a bool"),
        ("x", ["8080/tcp"], False, "must be a dict"),
        ("all", [finding()], False, "give no findings"),
        ("all", [], True, "cannot be deferred"),
        ("", [], False, "role must not be empty"),
    ],
    ids=["kind", "missing-key", "accepted-type", "not-a-dict", "all-with-findings", "all-deferred", "no-role"],
)
def test_invalid_arguments(role, findings, defer, error):
    with pytest.raises(adoption.FindingError, match=error):
        adoption.evaluate("web1", role, findings, defer=defer)


def test_documentation_matches_argument_spec():
    from ansible_collections.stability.ops.plugins.action.adoption_guard import ARGUMENT_SPEC

    documented = yaml.safe_load(doc_stub.DOCUMENTATION)["options"]
    assert set(documented) == set(ARGUMENT_SPEC)
    for name, spec in ARGUMENT_SPEC.items():
        assert documented[name]["type"] == spec["type"]
        assert documented[name].get("default") == spec.get("default")
        assert documented[name].get("elements") == spec.get("elements")
    yaml.safe_load(doc_stub.EXAMPLES)
    yaml.safe_load(doc_stub.RETURN)


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: Defer the firewall findings
      stability.ops.adoption_guard:
        role: security_firewall
        findings: "{{ fw }}"
        defer: "{{ stability_ops_adoption_defer | default(false) }}"
    - name: Defer the sshd findings
      stability.ops.adoption_guard:
        role: security_sshd
        findings: []
        defer: true
    - name: Every role
      stability.ops.adoption_guard:
        role: all
"""


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_action_plugin_in_a_playbook(tmp_path, check):
    playbook = tmp_path / "guard.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"fw": [finding(), finding("9090/tcp", accepted=True)], "stability_ops_adoption_defer": True}
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               STABILITY_OPS_SUMMARY_PATH=str(tmp_path / "summary.json"))
    command = ["ansible-playbook", "-i", "localhost,", str(playbook), "-e", json.dumps(extra)]
    if check:
        command.append("--check")
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    deferred, sshd, every = (task["hosts"]["localhost"] for task in tasks)
    assert not deferred.get("failed")
    assert sshd["adoption"] == {"role": "security_sshd", "findings": [], "unaccepted": 0}
    assert deferred["adoption"]["unaccepted"] == 1
    assert every["failed"] is True
    assert every["adoption"]["unaccepted"] == 1
    assert every["msg"].splitlines()[1:4] == [
        "security_firewall:",
        "  - 8080/tcp (close): python3 listens on 0.0.0.0:8080",
        "  set security_firewall_accept_closing: [8080/tcp] in the host's group_vars to accept.",
    ]
    assert "proceeding because security_firewall_accept_closing lists 9090/tcp" in proc.stdout + proc.stderr
