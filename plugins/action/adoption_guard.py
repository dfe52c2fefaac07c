# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/adoption_guard.py.
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.stability.ops.plugins.plugin_utils import adoption
from ansible_collections.stability.ops.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "role": {"type": "str", "required": True},
    "findings": {"type": "list", "elements": "dict", "default": []},
    "defer": {"type": "bool", "default": False},
}


class ActionModule(ControllerAction):
    NAME = "adoption_guard"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        pending = (task_vars.get("ansible_facts") or {}).get(adoption.PENDING_FACT)
        if pending is None:
            pending = task_vars.get(adoption.PENDING_FACT)
        try:
            return adoption.evaluate(
                host=str(task_vars.get("inventory_hostname", "this host")),
                role=args["role"],
                findings=args["findings"],
                pending=pending,
                defer=args["defer"],
            )
        except adoption.FindingError as exc:
            return {"failed": True, "msg": f"adoption_guard: invalid arguments: {to_text(exc)}"}
