# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/secrets_workflow.py.
from ansible_collections.stability.ops.plugins.plugin_utils import (
    secrets_redaction,
    secrets_workflows,
    sops_files,
    vault_files,
)
from ansible_collections.stability.ops.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    """Run one secrets workflow (placeholders, Vault to SOPS migration, key rotation) on the controller.

    The options are validated here, the work is done by plugin_utils/secrets_workflows.py. Relative paths are
    relative to the current working directory of ansible-playbook (the user's repository), never to the
    playbook's directory. The result names files and keys, never a value: every message built from text the
    collection does not control (sops, YAML, exceptions) goes through plugin_utils/secrets_redaction.py.
    """

    NAME = "secrets_workflow"

    def validation(self):
        return {"argument_spec": secrets_workflows.argument_spec(), "required_if": secrets_workflows.required_if()}

    def failure_label(self, args):
        return args["operation"]

    def act(self, args, task_vars):
        operation = args["operation"]
        try:
            report = secrets_workflows.run(args, vault_secrets=self._vault_secrets(), check=self._task.check_mode)
        except secrets_workflows.WorkflowError as exc:
            return {"failed": True, "changed": False, "msg": f"{operation} refused: {exc}"}
        except sops_files.SopsError as exc:
            return {"failed": True, "changed": False,
                    "msg": f"{operation} failed: SopsError: {secrets_redaction.redact_sops_stderr(str(exc))}"}
        except vault_files.VaultFormatError as exc:
            return {"failed": True, "changed": False, "msg": f"{operation} failed: VaultFormatError: {exc.detail}"}
        except OSError as exc:  # strerror and file name only: never the data being written
            return {"failed": True, "changed": False,
                    "msg": f"{operation} failed: {type(exc).__name__}: {exc.strerror or 'error'}"
                           f"{f': {exc.filename}' if exc.filename else ''}"}
        return {**report, "operation": operation}

    def _vault_secrets(self):
        """The run's vault secrets (--vault-id, --vault-password-file, ansible.cfg), as the loader holds them."""
        return list(getattr(getattr(self._loader, "_vault", None), "secrets", None) or [])
