# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Documentation (for ansible-doc) lives in plugins/modules/preflight_secrets.py.
# Thin: it gathers what ansible-core knows about the run (inventory sources, the
# playbooks on the command line, vault password files, config) and hands it to
# plugin_utils/secrets_discovery.py, which decides what ansible loads.
import os

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_discovery, secrets_preflight
from ansible_collections.stability.ops.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "paths": {"type": "list", "elements": "path"},
    "discover": {"type": "bool", "default": True},
    "decrypt": {"type": "bool", "default": False},
    "sops_config": {"type": "path"},
    "age_key_file": {"type": "path"},
    "sops_binary": {"type": "path"},
    "repository_root": {"type": "path"},
    "scan_tree": {"type": "bool", "default": True, "aliases": ["scan_tracked_files"]},
    "secret_key_regex": {"type": "str"},
    "secret_key_ignore_regex": {"type": "str"},
}


class ActionModule(ControllerAction):
    NAME = "preflight_secrets"
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars):
        run = self._run_facts(args, task_vars)
        plan = secrets_discovery.discover(run)
        report = secrets_discovery.check(plan, self._options(args, run, plan))
        return {**report, "changed": False}

    def _run_facts(self, args, task_vars):
        from ansible import constants as C
        from ansible import context

        cli = context.CLIARGS
        sources = task_vars.get("ansible_inventory_sources") or list(cli.get("inventory") or [])
        if isinstance(sources, str):
            sources = [sources]
        resolved = [(a, _playbook_path(a)) for a in cli.get("args") or ()]
        playbooks = [p for _a, p in resolved if p]
        groups = task_vars.get("groups") or {}
        entities = set(groups) | {host for hosts in groups.values() for host in hosts or ()}
        # The loader's basedir is the collection's playbooks/ while an imported collection play
        # runs: relative paths resolve against the run's own playbook, as its plays see them,
        # or the working directory when the run's playbook is itself a collection's (by FQCN).
        own = [p for a, p in resolved if p and not _collection_playbook(a)]
        base_dir = os.path.dirname(own[0]) if own else os.getcwd()
        inventory_dirs = secrets_discovery.inventory_basedirs(str(s) for s in sources)
        repository_root = args["repository_root"]
        if repository_root is None:
            repository_root = _repository_root(inventory_dirs[0] if inventory_dirs else None, base_dir)
        return secrets_discovery.Run(
            # discover=false: only the explicit paths (and the hygiene checks).
            inventory_sources=[to_text(s) for s in sources] if args["discover"] else [],
            playbooks=playbooks if args["discover"] else [],
            entities=entities,
            extra_paths=args["paths"] or [],
            base_dir=base_dir,
            roles_path=[os.path.expanduser(p) for p in C.DEFAULT_ROLES_PATH or []],
            resolve_playbook=_collection_playbook,
            # Roles of installed collections are not read: they ship no secrets of the user's,
            # the user cannot change them, and their own tests check them.
            resolve_role=None,
            repository_root=repository_root,
            vars_extensions=tuple(C.YAML_FILENAME_EXTENSIONS),
            inventory_ignore_exts=tuple(C.INVENTORY_IGNORE_EXTS),
        )

    def _options(self, args, run, plan):
        vault_secrets = list(getattr(getattr(self._loader, "_vault", None), "secrets", None) or [])
        return secrets_preflight.Options(
            base_dir=run.base_dir,
            tree_roots=plan.tree_roots,
            repository_root=run.repository_root,
            sops_config=args["sops_config"],
            decrypt=args["decrypt"],
            vault_secrets=vault_secrets,
            vault_password_files=_vault_password_files(),
            age_key_file=args["age_key_file"] or os.environ.get("SOPS_AGE_KEY_FILE"),
            sops_binary=args["sops_binary"],
            scan_tracked_files=args["scan_tree"],
            secret_key_regex=args["secret_key_regex"],
            secret_key_ignore_regex=args["secret_key_ignore_regex"],
        )


def _repository_root(inventory_dir, playbook_dir):
    """The git top level of the inventory (or the playbook); without git, the playbook directory
    when the inventory lives under it (a user's repository), else the inventory directory."""
    for anchor in (inventory_dir, playbook_dir):
        if anchor and (top := secrets_preflight.git_toplevel(anchor)):
            return top
    if inventory_dir and playbook_dir and (inventory_dir + os.sep).startswith(playbook_dir.rstrip(os.sep) + os.sep):
        return playbook_dir
    return inventory_dir or playbook_dir


def _playbook_path(arg):
    """A command-line playbook as ansible-playbook resolves it (a path, or a collection FQCN)."""
    resolved = _collection_playbook(arg)
    if resolved:
        return resolved
    return os.path.abspath(os.path.expanduser(arg)) if os.path.isfile(os.path.expanduser(arg)) else None


def _collection_playbook(name):
    from ansible.utils.collection_loader._collection_finder import _get_collection_playbook_path

    found = _get_collection_playbook_path(name)
    return to_text(found[1]) if found else None


def _vault_password_files():
    """Password files of this run: the command line's and the configured ones (permission check)."""
    from ansible import constants as C
    from ansible import context

    return secrets_discovery.vault_password_files(
        cli_files=context.CLIARGS.get("vault_password_files") or (),
        cli_ids=context.CLIARGS.get("vault_ids") or (),
        config_file=C.DEFAULT_VAULT_PASSWORD_FILE,
        config_ids=C.DEFAULT_VAULT_IDENTITY_LIST or ())
