"""core_sysctl's warning and failure messages, rendered from the role's own tasks with Ansible's templar.

The filter stability.ops.sysctl_unapplied_report builds the lines (tests/unit/filters/test_sysctl_report.py); this
checks the wiring in tasks/main.yml: the warning is the list of lines, the failure joins them with real newlines
(a Jinja '\\n' inside a folded YAML scalar stays a backslash and an n).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[3] / "roles" / "core_sysctl"
UNAPPLIED = [
    {"name": "kernel.msgmax", "wanted": "16384", "effective": "8192", "problem": "read_only_mount",
     "reason": "/proc/sys is mounted read-only here (container): applied at the next boot of a host"},
    {"name": "net.ipv4.nope", "wanted": "1", "effective": None, "problem": "unknown", "reason": "unknown parameter"},
]


def _task(name: str) -> dict:
    tasks = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    block = next(task for task in tasks if task.get("name") == "Apply the parameters to the running kernel")
    return next(task for task in block["block"] if task["name"] == name)


def _render(template: str):
    variables = {**yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()),
                 "core_sysctl_unapplied": UNAPPLIED, "__core_sysctl_dropin": "/etc/sysctl.d/90-stability-ops.conf"}
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(template))


def test_the_warning_is_a_headline_and_one_line_per_problem():
    lines = _render(_task("Warn about parameters that cannot be applied here")["ansible.builtin.debug"]["msg"])
    assert lines == [
        "WARNING: core_sysctl could not apply 2 parameter(s) of /etc/sysctl.d/90-stability-ops.conf here "
        "(wanted and effective values: core_sysctl_unapplied):",
        "- net.ipv4.nope: no such parameter here (kernel module not loaded?): correct or drop in "
        "core_sysctl_parameters",
        "- kernel.msgmax: /proc/sys is mounted read-only here (container): the drop-in applies at the next boot of a "
        "host; core_sysctl_apply_enabled: false skips applying on such hosts",
    ]


def test_the_failure_joins_the_same_lines_with_newlines():
    message = _render(_task("Fail when parameters cannot be applied and that is not allowed")["ansible.builtin.fail"]
                      ["msg"])
    lines = message.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("core_sysctl: core_sysctl_fail_on_unapplied is true and 2 parameter(s) ")
    assert lines[1].startswith("- net.ipv4.nope: ") and lines[2].startswith("- kernel.msgmax: ")
    assert "\\n" not in message
