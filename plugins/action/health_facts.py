# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/health_facts.py.
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.module_utils.health_checks import (
    argument_spec,
    failing,
    failure_lines,
    short_failed_result,
)
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import health_stats


class ActionModule(ActionBase):
    """Validate the options on the controller, run the health_facts module on the host, then act on its checks:
    publish them as set_stats data (publish_stats) and fail the task where fail_on says so.

    Everything the health check does around the module happens here, in the same task: validation, publication
    and the gate cost nothing per host (bench/, docs/performance.md), and a wrong option fails before any
    connection to the host.
    """

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming every invalid option; returns the options with their defaults.
        _validation, options = self.validate_argument_spec(argument_spec())
        for option in ("publish_stats", "fail_on"):
            if options[option] not in (False, "never") and not options["checks"]:
                raise AnsibleActionFail(f"health_facts: {option} needs checks, there is nothing to evaluate without")

        result.update(self._execute_module(module_name="stability.ops.health_facts", module_args=self._task.args,
                                           task_vars=task_vars))
        if result.get("failed") or "health_checks" not in result:
            return result

        # Ansible publishes the ansible_stats of a successful result only. A result failed by the gate below keeps
        # them too, so that a rescue can publish them (the health_check role does).
        if options["publish_stats"]:
            result["ansible_stats"] = health_stats(task_vars["inventory_hostname"], result)
        # A check-mode run sees the host as it was before the deploy: report, do not fail, unless asked to.
        if not self._task.check_mode or options["fail_in_check_mode"]:
            failed = failing(result["health_checks"], options["fail_on"])
            if failed:
                # One short line per failing check; the whole checks stay in the result and the summary.
                host = task_vars["inventory_hostname"]
                result.update(failed=True, msg=failure_lines(failed, options["fail_on"], host))
                if options["failed_result"] == "short":
                    return short_failed_result(result, failed)
        return result
