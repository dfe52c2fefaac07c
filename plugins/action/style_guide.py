# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/style_guide.py.
import os

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.stability.ops.plugins.plugin_utils import style_guide_engine
from ansible_collections.stability.ops.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "root": {"type": "path"},
    "paths": {"type": "list", "elements": "path"},
    "rules": {"type": "list", "elements": "str"},
}


class ActionModule(ControllerAction):
    NAME = "style_guide"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        root = os.path.abspath(args["root"] or os.getcwd())
        try:
            report = style_guide_engine.check(root, args["paths"], args["rules"])
        except style_guide_engine.ConfigError as exc:
            return {"changed": False, "root": root, "failed": True, "msg": f"style_guide could not run: {to_text(exc)}"}
        return {
            "changed": False,
            "root": root,
            "failed": bool(report.findings),
            "msg": style_guide_engine.failure_message(report),
            "violations": [finding.as_dict() for finding in report.findings],
            "files": report.files,
            "rules": sorted(report.rules),
        }
