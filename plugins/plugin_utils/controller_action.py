# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's controller-only action plugins (preflight_secrets, secrets_workflow, style_guide,
adoption_guard): no connection, no file transfer, check mode supported, the options validated by ansible-core
against the plugin's argument spec before anything runs, and never a crash.

An exception the plugin's ``act`` does not handle becomes a failed result that names its type and line only, with a
traceback of files, lines and functions: exception texts may quote what a secrets file holds, so none is shown.
"""

from __future__ import annotations

import traceback
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_redaction


class ControllerAction(ActionBase):
    """Subclasses set ``NAME`` and ``ARGUMENT_SPEC`` (or override ``validation``) and implement ``act``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    NAME = "action"
    ARGUMENT_SPEC: dict[str, Any] = {}

    def validation(self) -> dict[str, Any]:
        """Keyword arguments of ``validate_argument_spec``."""
        return {"argument_spec": self.ARGUMENT_SPEC}

    def failure_label(self, args: dict[str, Any]) -> str:
        """What the message of an unexpected failure names (the plugin, or the operation it ran)."""
        del args
        return self.NAME

    def act(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """The plugin's work on validated ``args``: the keys to add to the result."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming every invalid or missing option, in check mode too.
        _validation, args = self.validate_argument_spec(**self.validation())
        try:
            result.update(self.act(args, task_vars))
        except Exception as exc:  # never crash, never echo an exception's text (it may quote data)
            result.update(failed=True, changed=False,
                          msg=f"{self.failure_label(args)} could not run: {secrets_redaction.safe_exception(exc)}",
                          exception=value_free_traceback(exc))
        return result


def value_free_traceback(exc: BaseException) -> str:
    """Where an unexpected exception came from (files, lines, functions, its type), without its message or source
    lines; shown by ansible-playbook -vvv."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}' for frame in frames]
    return "Traceback (most recent call last, messages removed):\n" + "\n".join(lines) + f"\n{type(exc).__name__}\n"
