# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/adoption_guard.py.
import traceback

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import adoption

ARGUMENT_SPEC = {
    "role": {"type": "str", "required": True},
    "findings": {"type": "list", "elements": "dict", "default": []},
    "defer": {"type": "bool", "default": False},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        pending = (task_vars.get("ansible_facts") or {}).get(adoption.PENDING_FACT)
        if pending is None:
            pending = task_vars.get(adoption.PENDING_FACT)
        try:
            verdict = adoption.evaluate(
                host=str(task_vars.get("inventory_hostname", "this host")),
                role=args["role"],
                findings=args["findings"],
                pending=pending,
                defer=args["defer"],
            )
        except adoption.FindingError as exc:
            result.update(failed=True, msg=f"adoption_guard: invalid arguments: {to_text(exc)}")
            return result
        except Exception as exc:  # never crash: report as a failed result
            result.update(failed=True, msg=f"adoption_guard could not run: {type(exc).__name__}: {to_text(exc)}",
                          exception=traceback.format_exc())
            return result
        result.update(verdict)
        return result
