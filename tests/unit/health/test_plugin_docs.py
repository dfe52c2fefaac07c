"""DOCUMENTATION of the health plugins agrees with the code that reads the options
(validate-modules does this in ansible-test sanity; this runs offline in a second)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.stability.ops.plugins.module_utils.health_checks import CHECKS_ARGUMENT_SPEC, argument_spec
from ansible_collections.stability.ops.plugins.modules import health_facts

REPO_ROOT = Path(__file__).resolve().parents[3]


def _compare(documented: dict, spec: dict, where: str) -> None:
    assert set(documented) == set(spec), where
    for name, option in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == option.get("type", "str"), f"{where}.{name} type"
        assert doc.get("default") == option.get("default"), f"{where}.{name} default"
        assert doc.get("choices") == option.get("choices"), f"{where}.{name} choices"
        assert doc.get("elements") == option.get("elements"), f"{where}.{name} elements"
        assert doc.get("description"), f"{where}.{name} has no description"


def test_module_documentation_matches_its_argument_spec():
    documentation = yaml.safe_load(health_facts.DOCUMENTATION)
    spec = health_facts.argument_spec()
    checks = spec.pop("checks")
    documented = documentation["options"]
    documented_checks = documented.pop("checks")
    _compare(documented, spec, "options")
    _compare(documented_checks["suboptions"], checks["options"], "checks")
    assert checks["options"] is CHECKS_ARGUMENT_SPEC
    yaml.safe_load(health_facts.EXAMPLES)
    yaml.safe_load(health_facts.RETURN)


# Options the role sets itself, not from a variable: the gate's failed result is short, the rescue's run reports.
FIXED_BY_THE_ROLE = {"failed_result"}


def _passed_variables(args: dict, spec: dict):
    """(role variable, module option spec) for every option the role passes as '{{ health_check_x }}'."""
    for name, value in args.items():
        if isinstance(value, dict):
            yield from _passed_variables(value, spec[name]["options"])
        elif name in FIXED_BY_THE_ROLE:
            continue
        else:
            match = re.fullmatch(r"\{\{ (health_check_\w+) \}\}", value)
            assert match, f"{name}: {value!r} is not one role variable"
            yield match.group(1), spec[name]


def test_the_action_plugin_validates_every_role_variable_as_the_role_spec_does():
    """production_deploy.yml skips the role's argument-validation task (one task per host less): the health_facts
    action plugin validates the module options on the controller instead. That only holds if every role variable
    reaches an option of the same type, elements and choices."""
    tasks = yaml.safe_load((REPO_ROOT / "roles/health_check/tasks/main.yml").read_text())
    # The options of both runs are the block's module_defaults; the gate's task adds fail_on.
    module_args = {**tasks[0]["module_defaults"]["stability.ops.health_facts"],
                   **tasks[0]["block"][0]["stability.ops.health_facts"]}
    assert tasks[0]["rescue"][0]["stability.ops.health_facts"] == {"fail_on": "never"}
    passed = dict(_passed_variables(module_args, argument_spec()))
    role_spec = yaml.safe_load((REPO_ROOT / "roles/health_check/meta/argument_specs.yml").read_text())
    role_options = role_spec["argument_specs"]["main"]["options"]
    assert set(passed) == set(role_options)
    assert set(module_args["checks"]) == set(CHECKS_ARGUMENT_SPEC)
    for variable, option in passed.items():
        declared = role_options[variable]
        for key in ("type", "elements", "choices"):
            assert declared.get(key) == option.get(key), f"{variable}: {key}"


@pytest.mark.parametrize("name", ["output_path", "junit_path", "indent", "print_table", "max_failed_tasks",
                                  "message_max_length"])
def test_callback_options_have_env_ini_and_version(name):
    from ansible_collections.stability.ops.plugins.callback import health_summary

    option = yaml.safe_load(health_summary.DOCUMENTATION)["options"][name]
    assert option["type"]
    assert option["env"][0]["name"].startswith("STABILITY_OPS_SUMMARY_")
    assert option["ini"][0]["section"] == "callback_health_summary"
    assert option["version_added"] == "0.1.0"
