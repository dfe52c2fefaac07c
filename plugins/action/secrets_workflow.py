# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/secrets_workflow.py.
import traceback

from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import (
    secrets_redaction,
    secrets_workflows,
    sops_files,
    vault_files,
)


class ActionModule(ActionBase):
    """Run one secrets workflow (placeholders, Vault to SOPS migration, key rotation) on the controller.

    The options are validated here, the work is done by plugin_utils/secrets_workflows.py. Relative paths are
    relative to the current working directory of ansible-playbook (the user's repository), never to the
    playbook's directory. The result names files and keys, never a value: every message built from text the
    collection does not control (sops, YAML, exceptions) goes through plugin_utils/secrets_redaction.py.
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
            result.update(failed=True, changed=False, msg=f"{operation} refused: {exc}")
            return result
        except sops_files.SopsError as exc:
            result.update(failed=True, changed=False,
                          msg=f"{operation} failed: SopsError: {secrets_redaction.redact_sops_stderr(str(exc))}")
            return result
        except vault_files.VaultFormatError as exc:
            result.update(failed=True, changed=False, msg=f"{operation} failed: VaultFormatError: {exc.detail}")
            return result
        except OSError as exc:  # strerror and file name only: never the data being written
            result.update(failed=True, changed=False,
                          msg=f"{operation} failed: {type(exc).__name__}: {exc.strerror or 'error'}"
                              f"{f': {exc.filename}' if exc.filename else ''}")
            return result
        except Exception as exc:  # never crash, never echo an exception's text (it may quote data)
            result.update(failed=True, changed=False,
                          msg=f"{operation} could not run: {secrets_redaction.safe_exception(exc)}",
                          exception=value_free_traceback(exc))
            return result
        result.update(report)
        result["operation"] = operation
        return result

    def _vault_secrets(self):
        """The run's vault secrets (--vault-id, --vault-password-file, ansible.cfg), as the loader holds them."""
        return list(getattr(getattr(self._loader, "_vault", None), "secrets", None) or [])


def value_free_traceback(exc: BaseException) -> str:
    """Where an unexpected exception came from (files, lines, functions, its type), without its message or
    source lines, which may quote a decrypted value; shown by ansible-playbook -vvv."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}' for frame in frames]
    return "Traceback (most recent call last, messages removed):\n" + "\n".join(lines) + f"\n{type(exc).__name__}\n"
