"""health_check: a failed check prints one short line, and the retention policy has one source, core_journald.

The health_facts action plugin fails the task with :func:`failure_lines` (the rescue prints it again as the failed
task's message); the details stay in the result and the Deployment Health Summary. The policy variables of
health_check's defaults read core_journald's variables, or core_journald's defaults/main.yml when they are not
defined: rendered here with Ansible's own templar, with and without core_journald in the play.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.stability.ops.plugins.module_utils import health_checks as hc

REPO_ROOT = Path(__file__).resolve().parents[3]
ROLES = REPO_ROOT / "roles"


def _check(name: str, status: str, message: str) -> dict:
    return {"name": name, "category": "disk", "status": status, "observed": "x", "expected": "y", "message": message}


def test_one_short_line_per_failed_check_with_host_name_and_reason():
    failed = [_check("disk:/data", "fail", "/data (ext4) is 95.0% full"),
              _check("unit:nginx.service", "warn", "nginx.service is failed (failed) since boot, 3 restarts")]
    assert hc.failure_lines(failed, "warn", "web1").splitlines() == [
        "2 health check(s) at or above 'warn':",
        "  FAIL web1 disk:/data: /data (ext4) is 95.0% full",
        "  WARN web1 unit:nginx.service: nginx.service is failed (failed) since boot, 3 restarts",
        "Details of every check: the Deployment Health Summary.",
    ]


def test_a_long_reason_is_cut_and_kept_on_one_line():
    paths = ", ".join(f"/var/log/app/file{n}.log" for n in range(20))
    failed = [_check("log_files_old", "warn", f"20 old log file(s) under /var/log:\n{paths}")]
    line = hc.failure_lines(failed, "warn", "web1").splitlines()[1]
    assert line.endswith("...")
    assert len(line) <= len("  WARN web1 log_files_old: ") + hc.REASON_MAX_LENGTH


def test_the_message_collapses_to_what_the_summary_and_the_role_gate_expect():
    """The summary keeps a failed task's message on one line (whitespace collapsed): it still starts with the count."""
    failed = [_check("disk:/", "warn", "/ (ext4) is 85.0% full")]
    collapsed = " ".join(hc.failure_lines(failed, "warn", "web1").split())
    assert collapsed.startswith("1 health check(s) at or above 'warn': WARN web1 disk:/: ")


@pytest.mark.parametrize(("message", "expected"), [("short", "short"), ("a\n  b\tc", "a b c"), (None, ""),
                                                   ("x" * 150, "x" * 97 + "...")],
                         ids=["short", "whitespace", "none", "cut"])
def test_short_reason(message, expected):
    assert hc.short_reason(message) == expected


def test_the_action_plugin_fails_with_the_short_lines():
    source = (REPO_ROOT / "plugins/action/health_facts.py").read_text()
    assert "msg=failure_lines(failed, options[\"fail_on\"], host)" in source


# health_check variable -> (core_journald variable, suffix)
POLICY = {
    "health_check_journald_max_use": ("core_journald_system_max_use", ""),
    "health_check_journald_max_retention": ("core_journald_max_retention_sec", ""),
    "health_check_log_max_age": ("core_journald_logrotate_maxage", "d"),
    "health_check_log_max_size": ("core_journald_logrotate_maxsize", ""),
}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _render(extra: dict) -> dict:
    variables = {**_load(ROLES / "health_check/defaults/main.yml"), **_load(ROLES / "health_check/vars/main.yml"),
                 **extra}
    # As ansible loads role files: their strings are trusted templates.
    variables = {name: trust_as_template(value) if isinstance(value, str) else value
                 for name, value in variables.items()}
    templar = Templar(loader=DataLoader(), variables=variables)
    return {name: templar.template(variables[name]) for name in POLICY}


def test_the_policy_references_core_journald_and_holds_no_number():
    defaults = _load(ROLES / "health_check/defaults/main.yml")
    journald = _load(ROLES / "core_journald/defaults/main.yml")
    for name, (source, suffix) in POLICY.items():
        assert defaults[name] == (f"{{{{ {source} | default(__health_check_core_journald.{source}) }}}}{suffix}")
        assert source in journald


def test_without_core_journald_in_the_play_the_policy_is_core_journalds_defaults():
    journald = _load(ROLES / "core_journald/defaults/main.yml")
    assert _render({}) == {name: f"{journald[source]}{suffix}" for name, (source, suffix) in POLICY.items()}


def test_core_journalds_variables_win_where_they_are_defined():
    values = {"core_journald_system_max_use": "1G", "core_journald_max_retention_sec": "2weeks",
              "core_journald_logrotate_maxage": 7, "core_journald_logrotate_maxsize": ""}
    assert _render(values) == {"health_check_journald_max_use": "1G", "health_check_journald_max_retention": "2weeks",
                               "health_check_log_max_age": "7d", "health_check_log_max_size": ""}


def test_the_argument_spec_documents_the_same_defaults():
    options = _load(ROLES / "health_check/meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _load(ROLES / "health_check/defaults/main.yml")
    for name in POLICY:
        assert options[name]["default"] == defaults[name]
