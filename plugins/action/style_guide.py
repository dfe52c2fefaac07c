# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/style_guide.py.
import os
import traceback

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import style_guide_engine

ARGUMENT_SPEC = {
    "root": {"type": "path"},
    "paths": {"type": "list", "elements": "path"},
    "rules": {"type": "list", "elements": "str"},
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
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        root = os.path.abspath(args["root"] or os.getcwd())
        result.update(changed=False, root=root)
        try:
            report = style_guide_engine.check(root, args["paths"], args["rules"])
        except style_guide_engine.ConfigError as exc:
            result.update(failed=True, msg=f"style_guide could not run: {to_text(exc)}")
            return result
        except Exception as exc:  # never crash: report as a failed result
            result.update(
                failed=True,
                msg=f"style_guide could not run: {type(exc).__name__}: {to_text(exc)}",
                exception=traceback.format_exc(),
            )
            return result
        result.update(
            failed=bool(report.findings),
            msg=style_guide_engine.failure_message(report),
            violations=[finding.as_dict() for finding in report.findings],
            files=report.files,
            rules=sorted(report.rules),
        )
        return result
