# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/secrets_workflow.py.
import traceback

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_workflows, sops_files, vault_files


class ActionModule(ActionBase):
    """Run one secrets workflow (placeholders, Vault to SOPS migration, key rotation) on the controller.

    The options are validated here, the work is done by plugin_utils/secrets_workflows.py. Relative paths are
    relative to the current working directory of ansible-playbook (the user's repository), never to the
    playbook's directory. The result names files and keys, never a value.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming every invalid or missing option, in check mode too.
        _validation, args = self.validate_argument_spec(argument_spec=secrets_workflows.argument_spec(),
                                                        required_if=secrets_workflows.required_if())
        operation = args["operation"]
        try:
            report = secrets_workflows.run(args, vault_secrets=self._vault_secrets(), check=self._task.check_mode)
        except secrets_workflows.WorkflowError as exc:
            result.update(failed=True, changed=False, msg=f"{operation} refused: {to_text(exc)}")
            return result
        except (sops_files.SopsError, vault_files.VaultFormatError, AnsibleError, OSError) as exc:
            result.update(failed=True, changed=False,
                          msg=f"{operation} failed: {type(exc).__name__}: {to_text(exc)}")
            return result
        except Exception as exc:  # never crash: report as a failed result
            result.update(failed=True, changed=False,
                          msg=f"{operation} could not run: {type(exc).__name__}: {to_text(exc)}",
                          exception=traceback.format_exc())
            return result
        result.update(report)
        result["operation"] = operation
        return result

    def _vault_secrets(self):
        """The run's vault secrets (--vault-id, --vault-password-file, ansible.cfg), as the loader holds them."""
        return list(getattr(getattr(self._loader, "_vault", None), "secrets", None) or [])
