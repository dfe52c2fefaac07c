# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/health_facts.py.
from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import health_stats


class ActionModule(ActionBase):
    """Run the health_facts module on the host; with publish_stats, attach its results as set_stats data.

    Ansible's strategy publishes the ``ansible_stats`` of any successful task result, the key set_stats
    returns: the health check then costs one task per host instead of two (bench/, docs/performance.md).
    """

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        publish = boolean(self._task.args.get("publish_stats", False), strict=False)
        if publish and not self._task.args.get("checks"):
            raise AnsibleActionFail("health_facts: publish_stats needs checks, there is nothing to publish without")
        result.update(self._execute_module(module_name="stability.ops.health_facts", module_args=self._task.args,
                                           task_vars=task_vars))
        if publish and not result.get("failed"):
            stats = health_stats(task_vars["inventory_hostname"], result)
            if stats:
                result["ansible_stats"] = stats
        return result
