# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/preflight_secrets.py.
import os
import traceback

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight

ARGUMENT_SPEC = {
    "paths": {"type": "list", "elements": "path"},
    "decrypt": {"type": "bool", "default": False},
    "sops_config": {"type": "path"},
    "age_key_file": {"type": "path"},
    "sops_binary": {"type": "path"},
    "repository_root": {"type": "path"},
    "scan_tracked_files": {"type": "bool", "default": True},
    "secret_key_regex": {"type": "str"},
    "secret_key_ignore_regex": {"type": "str"},
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
        try:
            opts = self._options(args, task_vars)
            report = secrets_preflight.run(opts)
        except Exception as exc:  # never crash: report as a failed result
            result.update(failed=True, msg=f"preflight_secrets could not run: {type(exc).__name__}: {to_text(exc)}",
                          exception=traceback.format_exc())
            return result
        result.update(report)
        result["changed"] = False
        return result

    def _options(self, args, task_vars):
        base_dir = self._loader.get_basedir()
        inventory_dirs = secrets_preflight.inventory_dirs_from_sources(task_vars.get("ansible_inventory_sources"))
        explicit = args["paths"] is not None
        paths = args["paths"] if explicit else secrets_preflight.default_paths(inventory_dirs)
        repository_root = args["repository_root"]
        if repository_root is None and inventory_dirs:
            repository_root = secrets_preflight.git_toplevel(inventory_dirs[0]) or inventory_dirs[0]
        vault_secrets = list(getattr(getattr(self._loader, "_vault", None), "secrets", None) or [])
        return secrets_preflight.Options(
            paths=paths,
            base_dir=base_dir,
            tree_roots=[r for r in [repository_root, *inventory_dirs] if r],
            repository_root=repository_root,
            sops_config=args["sops_config"],
            decrypt=args["decrypt"],
            vault_secrets=vault_secrets,
            vault_password_files=_vault_password_files(),
            age_key_file=args["age_key_file"] or os.environ.get("SOPS_AGE_KEY_FILE"),
            sops_binary=args["sops_binary"],
            scan_tracked_files=args["scan_tracked_files"],
            secret_key_regex=args["secret_key_regex"],
            secret_key_ignore_regex=args["secret_key_ignore_regex"],
            explicit_paths=explicit,
        )


def _vault_password_files():
    """Password files named in the configuration (for the permission check)."""
    from ansible import constants as C

    files = []
    if C.DEFAULT_VAULT_PASSWORD_FILE:
        files.append(C.DEFAULT_VAULT_PASSWORD_FILE)
    for identity in C.DEFAULT_VAULT_IDENTITY_LIST or []:
        files.append(identity.partition("@")[2] or identity)
    return [os.path.expanduser(f) for f in files]
