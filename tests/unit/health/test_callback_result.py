"""callback_result(): what the health_summary callback reads from a task result, on ansible-core 2.19 and 2.21.

ansible-core 2.19's CallbackTaskResult still carries the private ``_return_data``; 2.21's has none (the
callback failed on every hook there). Both have the public ``result``, ``task`` and ``is_changed()``.
"""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.executor import task_result
from ansible.inventory.host import Host
from ansible.playbook.task import Task
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import callback_result, failure_entry

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
# The public attributes of each version's CallbackTaskResult that a callback may touch; 2.19 also has the
# private _return_data (here deliberately different from `result`, so reading it would show).
SHAPES = {
    "ansible-core 2.19": ["host", "task", "result", "is_changed", "_return_data"],
    "ansible-core 2.21": ["host", "task", "result", "is_changed"],
}
CASES = [
    ({"changed": False, "msg": "boom"}, None, False),
    ({"changed": False, "msg": "boom"}, True, True),
    ({"changed": False, "censored": CENSORED}, None, True),
    ({"changed": False, "_ansible_no_log": True, "censored": CENSORED}, False, True),
]
CASE_IDS = ["plain", "task-no_log", "censored-result", "module-no_log"]


def _shaped(attributes, data, task_no_log):
    """A result with exactly the attributes of one ansible-core version: any other access raises."""
    result = mock.NonCallableMock(spec_set=attributes)
    result.result = data
    result.task = mock.NonCallableMock(spec_set=["no_log", "action"], no_log=task_no_log, action="ansible.builtin.fail")
    if "_return_data" in attributes:
        result._return_data = {"private": "never read"}
    return result


@pytest.mark.parametrize("attributes", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize(("data", "task_no_log", "no_log"), CASES, ids=CASE_IDS)
def test_both_result_shapes(attributes, data, task_no_log, no_log):
    assert callback_result(_shaped(attributes, data, task_no_log)) == (data, no_log)


@pytest.fixture
def real_result():
    """A CallbackTaskResult of the ansible-core that runs the tests, built the way its strategy builds one."""

    def build(data, no_log):
        task = Task.load({"name": "probe", "action": "ansible.builtin.command", "args": {"cmd": "true"},
                          "no_log": no_log})
        host = Host("web1")
        if hasattr(task_result, "_RawTaskResult"):  # ansible-core 2.19
            return task_result._RawTaskResult(host, task, dict(data), {}).as_callback_task_result()
        from ansible._internal._task import UnifiedTaskResult  # ansible-core 2.21: tests only, never in plugins

        return task_result.CallbackTaskResult(host, task, UnifiedTaskResult.from_action_result_dict(dict(data)))

    return build


@pytest.mark.parametrize(("no_log", "message"), [(False, "boom"), (True, None)], ids=["plain", "no_log"])
def test_the_installed_ansible_core(real_result, no_log, message):
    result = real_result({"changed": True, "failed": True, "msg": "boom"}, no_log)
    data, seen_no_log = callback_result(result)
    assert seen_no_log is no_log
    assert data.get("msg") == message
    assert result.is_changed() is True
    assert ("censored" in data) is no_log, ANSIBLE_CORE_VERSION


FAILED_COMMAND = {"changed": True, "failed": True, "msg": "non-zero return code", "rc": 3, "stdout": "out1",
                  "stderr": "err1\nerr2", "exception": "(traceback unavailable)"}


@pytest.mark.parametrize(("no_log", "expected"), [
    (False, {"message": "non-zero return code (rc 3): err2", "rc": 3, "stdout_tail": "out1",
             "stderr_tail": "err1\nerr2", "no_log": False}),
    (True, {"message": None, "rc": None, "stdout_tail": None, "stderr_tail": None, "no_log": True}),
], ids=["plain", "no_log"])
def test_a_failure_entry_from_the_installed_ansible_core(real_result, no_log, expected):
    """What the callback lists for a failed command, from the result object this ansible-core builds."""
    result = real_result(FAILED_COMMAND, no_log)
    data, seen_no_log = callback_result(result)
    entry = failure_entry("probe", None, result.task.action, {} if seen_no_log else data, seen_no_log)
    assert {key: entry[key] for key in expected} == expected, ANSIBLE_CORE_VERSION
    assert entry["action"] == "ansible.builtin.command"
