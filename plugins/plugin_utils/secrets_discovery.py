# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which files ansible-core loads for a run: the discovery half of the secrets preflight.

The rules that judge a file live in ``secrets_preflight``; this module only answers
"what would ansible read?", the way ansible-core 2.19 reads it:

* inventory sources as the inventory manager walks them (host lists load no file,
  directories are walked with the inventory ignore rules, scripts and plugin
  configurations produce hosts we cannot see: they are reported as unscanned);
* ``group_vars``/``host_vars`` next to every inventory source and every playbook,
  found as the ``host_group_vars`` vars plugin finds them (``DataLoader.find_vars_files``:
  no extension or ``.yml``/``.yaml``/``.json``, directories recursed, hidden and backup
  entries skipped, symlinks followed);
* ``vars_files``, ``include_vars`` and roles' ``vars``/``defaults`` reached statically from
  the playbooks of the run, relative paths resolved as ``DataLoader.path_dwim_relative_stack``
  does; templated paths are reported as unscanned, by name.

Nothing here reads a value into a message: only paths, host and group names.
It imports no ansible runtime, so unit tests build trees in a tmp directory.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# ansible-core's C.YAML_FILENAME_EXTENSIONS default (host_group_vars' _valid_extensions).
VARS_EXTENSIONS = (".yml", ".yaml", ".json")
# C.INVENTORY_IGNORE_EXTS default: REJECT_EXTS + .orig, .cfg, .retry.
INVENTORY_IGNORE_EXTS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg",
                         ".retry")
# inventory/manager.py IGNORED_ALWAYS.
INVENTORY_IGNORE_NAMES = ("host_vars", "group_vars", "vars_plugins")
VARS_DIRS = ("group_vars", "host_vars")
INCLUDE_VARS = frozenset({"include_vars", "ansible.builtin.include_vars", "ansible.legacy.include_vars"})
IMPORT_PLAYBOOK = ("import_playbook", "ansible.builtin.import_playbook", "ansible.legacy.import_playbook")
TASK_INCLUDES = frozenset({"import_tasks", "include_tasks", "ansible.builtin.import_tasks",
                           "ansible.builtin.include_tasks", "ansible.legacy.import_tasks",
                           "ansible.legacy.include_tasks"})
ROLE_INCLUDES = frozenset({"import_role", "include_role", "ansible.builtin.import_role",
                           "ansible.builtin.include_role", "ansible.legacy.import_role",
                           "ansible.legacy.include_role"})
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")
FQCN = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*\.[A-Za-z_][\w.]*$")
TEMPLATE = re.compile(r"{{|{%")
# Bounds: nothing a user writes comes near them; a hostile tree must not stall the run.
MAX_PLAYBOOK_BYTES = 4 * 1024 * 1024
MAX_INCLUDE_DEPTH = 32
MAX_TREE_FILES = 20000
# Directories of the tree walk that hold tools, not the user's data (a virtualenv is
# recognised by its pyvenv.cfg, whatever its name).
TREE_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".tox", ".nox", ".mypy_cache",
                            ".pytest_cache", ".ruff_cache"})


@dataclass(frozen=True)
class Candidate:
    """A file ansible loads, and why (``origin`` names the inventory or playbook that loads it)."""

    path: str
    origin: str


@dataclass(frozen=True)
class Unscanned:
    """A source ansible reads whose content the preflight cannot see."""

    source: str
    reason: str

    def as_dict(self) -> dict:
        return {"source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class InventoryVars:
    """Variables parsed out of an inventory file that is not YAML (INI host/group vars, TOML)."""

    path: str
    origin: str
    data: dict


@dataclass(frozen=True)
class Finding:
    """A problem of the layout itself (loop, link out of the tree, missing explicit path)."""

    path: str
    rule: str
    detail: str


@dataclass
class Plan:
    files: list[Candidate] = field(default_factory=list)
    inventory_vars: list[InventoryVars] = field(default_factory=list)
    unscanned: list[Unscanned] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tree_roots: list[str] = field(default_factory=list)
    # Key-material scan: every file of these (inventory and playbook directories) ...
    scan_roots: list[str] = field(default_factory=list)
    # ... and of the repository, git-ignored files left out when it is a git work tree.
    repository_root: str | None = None
    _seen: set = field(default_factory=set, repr=False)

    def add_file(self, path: str | Path, origin: str) -> None:
        key = os.path.abspath(path)
        if key not in self._seen:
            self._seen.add(key)
            self.files.append(Candidate(key, origin))

    def add_unscanned(self, source: str, reason: str) -> None:
        item = Unscanned(str(source), reason)
        if item not in self.unscanned:
            self.unscanned.append(item)

    def add_finding(self, path: str | Path, rule: str, detail: str) -> None:
        item = Finding(str(path), rule, detail)
        if item not in self.findings:
            self.findings.append(item)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.files]


@dataclass
class Run:
    """What ansible-core knows about the run (the action plugin gathers it)."""

    inventory_sources: list[str] = field(default_factory=list)
    playbooks: list[str] = field(default_factory=list)
    # Host and group names of the inventory: top-level group_vars/host_vars entries are
    # loaded by entity name (``host_vars/db1.example.com`` has no vars extension).
    entities: Iterable[str] | None = None
    extra_paths: list[str] = field(default_factory=list)
    base_dir: str | None = None
    roles_path: list[str] = field(default_factory=list)
    resolve_playbook: Callable[[str], str | None] | None = None
    resolve_role: Callable[[str], str | None] | None = None
    repository_root: str | None = None
    vars_extensions: tuple[str, ...] = VARS_EXTENSIONS
    inventory_ignore_exts: tuple[str, ...] = INVENTORY_IGNORE_EXTS


# --------------------------------------------------------------------------- host_group_vars


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.endswith("~")


def walk_vars_dir(directory: str | Path, plan: Plan, origin: str, extensions: Iterable[str] = VARS_EXTENSIONS,
                  _stack: tuple[str, ...] = ()) -> None:
    """``DataLoader._get_dir_vars_files``: sorted, hidden/backup skipped, a directory recursed
    only when it has no extension, a file kept when it has no extension or a vars one.
    ``os.path.isdir`` follows symlinks as ansible does; a directory already on the stack
    is a loop (ansible would recurse until the path is too long)."""
    real = os.path.realpath(directory)
    if real in _stack:
        plan.add_finding(directory, "symlink-loop", "symlinked directory loops back to one of its parents")
        return
    _check_link_in_tree(directory, plan)
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        plan.add_unscanned(str(directory), f"directory cannot be listed ({exc.strerror or type(exc).__name__})")
        return
    for name in names:
        if _hidden(name):
            continue
        full = os.path.join(directory, name)
        ext = os.path.splitext(name)[1]
        if os.path.isdir(full):
            if not ext:
                walk_vars_dir(full, plan, origin, extensions, (*_stack, real))
        elif not ext or ext in extensions:
            # As _get_dir_vars_files: every other entry is loaded, also a symlink loop, a dangling
            # link or a FIFO (ansible fails on them): the rules report what it is.
            if os.path.isfile(full):
                _check_link_in_tree(full, plan)
            plan.add_file(full, origin)


def _check_link_in_tree(path: str | Path, plan: Plan) -> None:
    if not os.path.islink(path) or not plan.tree_roots:
        return
    real = os.path.realpath(path)
    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in plan.tree_roots):
        plan.add_finding(path, "symlink-outside-tree", "symlink resolves outside the repository/inventory tree")


def host_group_vars(basedir: str | Path, plan: Plan, origin: str, entities: Iterable[str] | None = None,
                    extensions: Iterable[str] = VARS_EXTENSIONS) -> None:
    """Every file the ``host_group_vars`` plugin can load under ``basedir``.

    ansible looks up ``<subdir>/<entity>`` then ``<entity>.yml``/``.yaml``/``.json``, first hit
    wins, a directory is recursed. We read every such entry, not only the first hit or the
    entities of today's inventory (a host added tomorrow loads the file too), and the
    entity names add files whose name only looks like an extension (``db1.example.com``).
    """
    extensions = tuple(extensions)
    names = set(entities) if entities is not None else None
    real_base = os.path.realpath(basedir)
    for subdir in VARS_DIRS:
        directory = os.path.join(real_base, subdir)
        if not os.path.isdir(directory):
            if os.path.exists(directory):
                plan.add_unscanned(directory, f"{subdir} is not a directory: ansible skips it")
            continue
        where = f"{origin} {subdir}"
        for name in sorted(os.listdir(directory)):
            if name.startswith("."):
                continue
            full = os.path.join(directory, name)
            stem, ext = os.path.splitext(name)
            entity_file = names is None or name in names or (ext in extensions and stem in names)
            if os.path.isdir(full):
                walk_vars_dir(full, plan, where, extensions, (os.path.realpath(directory),))
            elif os.path.isfile(full) and not name.endswith("~") and (
                    not ext or ext in extensions or entity_file):
                _check_link_in_tree(full, plan)
                plan.add_file(full, where)
            elif os.path.islink(full) and not os.path.exists(full):
                plan.add_finding(full, "symlink-broken", "symlink points at nothing: ansible skips it")


# --------------------------------------------------------------------------- inventory sources


def is_host_list(source: str) -> bool:
    """``vars/plugins.py``: a source with a comma that is not a path is a host list."""
    return "," in source and not os.path.exists(source)


def inventory_basedirs(sources: Iterable[str]) -> list[str]:
    """Where ansible looks for inventory group_vars/host_vars: the source directory, or the
    directory of the source file (``get_vars_from_inventory_sources``)."""
    result = []
    for source in sources:
        if not source or is_host_list(source) or not os.path.exists(source):
            continue
        result.append(source if os.path.isdir(source) else os.path.dirname(source))
    return list(dict.fromkeys(os.path.realpath(d) for d in result))


def add_inventory_source(source: str, plan: Plan, ignore_exts: Iterable[str] = INVENTORY_IGNORE_EXTS,
                         _stack: tuple[str, ...] = ()) -> None:
    if is_host_list(source):
        plan.add_unscanned(source, "host list: it names hosts only and loads no file; their variables come from "
                                   "playbook-adjacent group_vars/host_vars and -e")
        return
    if not os.path.exists(source):
        plan.add_unscanned(source, "inventory source does not exist: ansible loads nothing from it")
        return
    if os.path.isdir(source):
        real = os.path.realpath(source)
        if real in _stack:
            plan.add_finding(source, "symlink-loop", "symlinked inventory directory loops back to one of its parents")
            return
        ignore_exts = tuple(ignore_exts)
        for name in sorted(os.listdir(source)):
            if name.startswith(".") or name in INVENTORY_IGNORE_NAMES or name.endswith(ignore_exts):
                continue
            add_inventory_source(os.path.join(source, name), plan, ignore_exts, (*_stack, real))
        return
    inventory_file(source, plan)


_PLUGIN_KEY = re.compile(r"^plugin\s*:\s*['\"]?([\w.]+)", re.M)


def inventory_file(path: str, plan: Plan) -> None:
    """Which inventory plugin takes the file, in ansible's default order
    (host_list, script, auto, yaml, ini, toml), and what we can read of it."""
    origin = f"inventory {path}"
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1]
    if os.access(path, os.X_OK):
        plan.add_unscanned(path, "inventory script: the hosts and variables it prints are not read "
                                 "(keep secrets out of its output or check them with secrets_paths)")
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(MAX_PLAYBOOK_BYTES + 1)
    except OSError as exc:
        plan.add_unscanned(path, f"inventory source cannot be read ({exc.strerror or type(exc).__name__})")
        return
    text = head.decode("utf-8", errors="replace")
    if text.lstrip().startswith("$ANSIBLE_VAULT;"):
        plan.add_file(path, origin)  # a vaulted inventory: the rules check the envelope
        return
    if ext in (".yml", ".yaml") and (match := _PLUGIN_KEY.search(text)):
        # auto plugin: a configuration; its own keys are checked, the hosts it returns are not.
        plan.add_file(path, f"{origin} (plugin configuration)")
        plan.add_unscanned(path, f"inventory plugin {match.group(1)}: the hosts and variables it returns are "
                                 "not read")
        return
    if ext == ".toml":
        _toml_inventory(path, head, plan, origin)
        return
    if (not ext or ext in VARS_EXTENSIONS) and _yaml_mapping(text):
        plan.add_file(path, origin)  # YAML/JSON inventory: a vars-like tree, checked as a whole
        return
    _ini_inventory(path, text, plan, origin)


def _yaml_mapping(text: str) -> bool:
    """Whether the yaml inventory plugin would take the text (a mapping at the top).
    ``compose`` builds the node graph only: aliases are not expanded."""
    try:
        node = yaml.compose(text, Loader=_AnyTagLoader)
    except yaml.YAMLError:
        return False
    return isinstance(node, yaml.MappingNode)


def _toml_inventory(path: str, raw: bytes, plan: Plan, origin: str) -> None:
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        plan.add_unscanned(path, f"TOML inventory does not parse ({type(exc).__name__})")
        return
    plan.inventory_vars.append(InventoryVars(os.path.abspath(path), f"{origin} (toml)", data))


_INI_SECTION = re.compile(r"^\[([^\]:\s]+)(?::(\w+))?\]\s*(?:[;#].*)?$")


def parse_ini_inventory(text: str) -> tuple[dict[str, dict], dict[str, dict], list[int]]:
    """Host and group variables of an INI inventory, as ansible's ini plugin reads them
    (``[group]`` host lines tokenised with shlex, ``[group:vars]`` ``key=value`` lines).
    Returns (host vars, group vars, numbers of lines that do not tokenise)."""
    hosts: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    bad: list[int] = []
    group, state = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if match := _INI_SECTION.match(line):
            group, state = match.group(1), match.group(2) or "hosts"
            continue
        if state == "vars":
            if "=" in line:
                key, value = (part.strip() for part in line.split("=", 1))
                groups.setdefault(group, {})[key] = value
            continue
        if state != "hosts":
            continue
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            bad.append(number)
            continue
        if not tokens:
            continue
        host_vars = hosts.setdefault(tokens[0], {})
        for token in tokens[1:]:
            if "=" in token:
                key, value = token.split("=", 1)
                host_vars[key] = value
    return ({h: v for h, v in hosts.items() if v}, {g: v for g, v in groups.items() if v}, bad)


def _ini_inventory(path: str, text: str, plan: Plan, origin: str) -> None:
    hosts, groups, bad = parse_ini_inventory(text)
    absolute = os.path.abspath(path)
    for host, data in hosts.items():
        plan.inventory_vars.append(InventoryVars(absolute, f"host {host}", data))
    for group, data in groups.items():
        plan.inventory_vars.append(InventoryVars(absolute, f"group {group} vars", data))
    if bad:
        plan.add_unscanned(path, f"INI inventory line(s) {', '.join(map(str, bad))} do not tokenise (unbalanced "
                                 "quotes): ansible fails on them too")


# --------------------------------------------------------------------------- playbooks


class _AnyTagLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading of playbooks: ansible's tags (``!vault``, ``!unsafe``) become plain data."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_AnyTagLoader.add_multi_constructor("!", _any_tag)


def _load_yaml_list(path: str, plan: Plan, what: str) -> list | None:
    try:
        size = os.path.getsize(path)
        if size > MAX_PLAYBOOK_BYTES:
            plan.add_unscanned(path, f"{what} is larger than {MAX_PLAYBOOK_BYTES} bytes: not parsed")
            return None
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_AnyTagLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        plan.add_unscanned(path, f"{what} cannot be parsed ({type(exc).__name__}): the files it loads are not "
                                 "known")
        return None
    return data if isinstance(data, list) else None


@dataclass
class _Walker:
    run: Run
    plan: Plan
    playbook_dirs: list[str] = field(default_factory=list)
    # Magic variables with one value for the whole run (inventory_dir with one inventory).
    static_vars: dict[str, str] = field(default_factory=dict)
    _visited: set = field(default_factory=set)

    @property
    def basedir(self) -> str:
        return self.run.base_dir or (self.playbook_dirs[0] if self.playbook_dirs else os.getcwd())

    def render(self, text: str, context: dict[str, str]) -> str | None:
        """Static paths only: ``playbook_dir``, ``role_path`` and (with one inventory directory)
        ``inventory_dir`` are known here; anything else templated is reported by name, never guessed."""
        if not TEMPLATE.search(text):
            return text

        known = {**self.static_vars, **context}

        def substitute(match: re.Match) -> str:
            return known.get(match.group(1), match.group(0))

        rendered = re.sub(r"{{\s*(\w+)\s*}}", substitute, text)
        return None if TEMPLATE.search(rendered) else rendered

    def find_needle(self, source: str, search: list[str], subdir: str = "vars",
                    role_dir: str | None = None) -> str | None:
        """``DataLoader.path_dwim_relative_stack`` for a static relative or absolute path."""
        source = os.path.expanduser(source)
        if os.path.isabs(source):
            return source if os.path.exists(source) else None
        candidates = []
        if role_dir:
            candidates += [os.path.join(role_dir, subdir, source), os.path.join(role_dir, "tasks", source)]
        for path in search:
            if source.split("/")[0] != subdir:
                candidates.append(os.path.join(path, subdir, source))
            candidates.append(os.path.join(path, source))
        candidates += [os.path.join(self.basedir, subdir, source), os.path.join(self.basedir, source)]
        return next((c for c in candidates if os.path.exists(c)), None)

    # playbooks ----------------------------------------------------------------

    def playbook(self, path: str, depth: int = 0) -> None:
        real = os.path.realpath(path)
        if real in self._visited or depth > MAX_INCLUDE_DEPTH:
            return
        self._visited.add(real)
        directory = os.path.dirname(os.path.abspath(path))
        self.playbook_dirs.append(directory)
        # Playbook-adjacent group_vars/host_vars (the vars plugins' play stage).
        host_group_vars(directory, self.plan, f"playbook {path}", self.run.entities, self.run.vars_extensions)
        entries = _load_yaml_list(path, self.plan, "playbook")
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            imported = next((entry[k] for k in IMPORT_PLAYBOOK if k in entry), None)
            if imported is not None:
                self.import_playbook(imported, path, directory, depth)
            else:
                self.play(entry, path, directory, depth)

    def import_playbook(self, name: Any, parent: str, directory: str, depth: int) -> None:
        where = f"import_playbook of {parent}"
        if not isinstance(name, str):
            return
        rendered = self.render(name, {"playbook_dir": directory})
        if rendered is None:
            self.plan.add_unscanned(name, f"templated {where}: its vars files are not known")
            return
        target = None
        if FQCN.match(rendered) and not os.path.exists(os.path.join(directory, rendered)):
            target = self.run.resolve_playbook(rendered) if self.run.resolve_playbook else None
        else:
            target = rendered if os.path.isabs(rendered) else os.path.join(directory, rendered)
        if target and os.path.isfile(target):
            self.playbook(target, depth + 1)
        else:
            self.plan.add_unscanned(rendered, f"{where} not found")

    def play(self, play: dict, path: str, directory: str, depth: int) -> None:
        context = {"playbook_dir": directory}
        vars_files = play.get("vars_files") or []
        for item in vars_files if isinstance(vars_files, list) else [vars_files]:
            self.vars_file(item, path, directory, context)
        for role in play.get("roles") or []:
            name = role.get("role") or role.get("name") if isinstance(role, dict) else role
            self.role(name, f"roles of {path}", directory, depth)
        for key in TASK_LISTS:
            self.tasks(play.get(key), path, [directory], None, depth)

    def vars_file(self, item: Any, path: str, directory: str, context: dict[str, str]) -> None:
        """One ``vars_files`` entry; a list is ansible's "first found" form."""
        options = item if isinstance(item, list) else [item]
        for option in options:
            if not isinstance(option, str):
                continue
            rendered = self.render(option, context)
            if rendered is None:
                self.plan.add_unscanned(option, f"templated vars_files entry of {path}: the file is not known")
                return  # ansible stops at the first found; what follows may not be loaded
            found = self.find_needle(rendered, [directory])
            if found:
                self.add_vars_path(found, f"vars_files of {path}")
                return
        if options:
            self.plan.add_unscanned(", ".join(str(o) for o in options),
                                    f"vars_files entry of {path} not found")

    def add_vars_path(self, found: str, origin: str) -> None:
        if os.path.isdir(found):
            # include_vars walks with os.walk(followlinks=True); a directory seen before is a loop.
            seen = {os.path.realpath(found)}
            for root, dirs, names in os.walk(found, followlinks=True):
                keep = []
                for name in sorted(d for d in dirs if not d.startswith(".")):
                    real = os.path.realpath(os.path.join(root, name))
                    if real in seen:
                        self.plan.add_finding(os.path.join(root, name), "symlink-loop",
                                              "symlinked directory loops back to one of its parents")
                    else:
                        seen.add(real)
                        keep.append(name)
                dirs[:] = keep
                for name in sorted(names):
                    if os.path.splitext(name)[1] in self.run.vars_extensions:
                        self.plan.add_file(os.path.join(root, name), origin)
        else:
            self.plan.add_file(found, origin)

    # tasks ----------------------------------------------------------------------

    def tasks(self, tasks: Any, path: str, search: list[str], role_dir: str | None, depth: int) -> None:
        if not isinstance(tasks, list) or depth > MAX_INCLUDE_DEPTH:
            return
        context = {"playbook_dir": self.playbook_dirs[0] if self.playbook_dirs else search[0]}
        if role_dir:
            context["role_path"] = role_dir
        for task in tasks:
            if not isinstance(task, dict):
                continue
            for key in BLOCK_LISTS:
                self.tasks(task.get(key), path, search, role_dir, depth)
            for action, args in task.items():
                if action in INCLUDE_VARS:
                    self.include_vars(args, task, path, search, role_dir, context)
                elif action in TASK_INCLUDES:
                    self.task_include(args, path, search, role_dir, context, depth)
                elif action in ROLE_INCLUDES:
                    name = args.get("name") if isinstance(args, dict) else args
                    self.role(name, f"{action} in {path}", search[-1], depth)

    def include_vars(self, args: Any, task: dict, path: str, search: list[str], role_dir: str | None,
                     context: dict[str, str]) -> None:
        where = f"include_vars in {path}"
        if isinstance(args, str):
            source, kind = args.strip(), "file"
            if re.match(r"^(file|dir|name|depth|files_matching|ignore_files|extensions)=", source):
                parsed = dict(token.split("=", 1) for token in args.split() if "=" in token)
                source, kind = (parsed.get("dir"), "dir") if "dir" in parsed else (parsed.get("file"), "file")
        elif isinstance(args, dict):
            kind = "dir" if "dir" in args else "file"
            source = args.get("dir") if kind == "dir" else args.get("file") or args.get("_raw_params")
        else:
            return
        if not isinstance(source, str) or not source:
            return
        rendered = self.render(source, context)
        if rendered is None:
            self.plan.add_unscanned(source, f"templated {where}: the file is not known")
            return
        found = self.find_needle(rendered, search, "vars", role_dir)
        if found:
            self.add_vars_path(found, where)
        else:
            self.plan.add_unscanned(rendered, f"{where} not found")

    def task_include(self, args: Any, path: str, search: list[str], role_dir: str | None,
                     context: dict[str, str], depth: int) -> None:
        source = args.get("file") or args.get("_raw_params") if isinstance(args, dict) else args
        if not isinstance(source, str) or not source:
            return
        rendered = self.render(source, context)
        if rendered is None:
            self.plan.add_unscanned(source, f"templated task include in {path}: its include_vars are not known")
            return
        found = self.find_needle(rendered, [os.path.dirname(path), *search], "tasks", role_dir)
        if found and os.path.isfile(found) and os.path.realpath(found) not in self._visited:
            self._visited.add(os.path.realpath(found))
            self.tasks(_load_yaml_list(found, self.plan, "task file"), found, search, role_dir, depth + 1)

    # roles ------------------------------------------------------------------------

    def role_dir(self, name: str, directory: str) -> str | None:
        if FQCN.match(name):
            return self.run.resolve_role(name) if self.run.resolve_role else None
        for base in [os.path.join(directory, "roles"), *self.run.roles_path, directory]:
            candidate = os.path.join(base, os.path.expanduser(name))
            if os.path.isdir(candidate):
                return candidate
        return None

    def role(self, name: Any, where: str, directory: str, depth: int) -> None:
        if not isinstance(name, str) or not name:
            return
        if TEMPLATE.search(name):
            self.plan.add_unscanned(name, f"templated role name in {where}: its vars files are not known")
            return
        role_dir = self.role_dir(name, directory)
        if role_dir is None:
            return  # ansible fails on a role it cannot find; nothing it loads is hidden from us
        real = os.path.realpath(role_dir)
        if real in self._visited:
            return
        self._visited.add(real)
        for subdir in ("defaults", "vars"):
            for found in _find_vars_files(os.path.join(role_dir, subdir), "main", self.run.vars_extensions):
                self.plan.add_file(found, f"role {name} {subdir}")
        for main in ("main.yml", "main.yaml", "main"):
            tasks = os.path.join(role_dir, "tasks", main)
            if os.path.isfile(tasks):
                self._visited.add(os.path.realpath(tasks))
                self.tasks(_load_yaml_list(tasks, self.plan, "task file"), tasks, [role_dir, directory], role_dir,
                           depth + 1)
                break


def _find_vars_files(directory: str, name: str, extensions: Iterable[str]) -> list[str]:
    """``DataLoader.find_vars_files``: ``name`` (a file or a directory) then ``name.<ext>``; first hit wins."""
    base = os.path.join(directory, name)
    for ext in ("", *extensions):
        full = base + ext
        if os.path.isdir(full):
            plan = Plan()
            walk_vars_dir(full, plan, "", extensions)
            return plan.paths
        if os.path.isfile(full):
            return [full]
    return []


# --------------------------------------------------------------------------- explicit paths


def explicit_paths(paths: Iterable[str], bases: list[str], plan: Plan,
                   extensions: Iterable[str] = VARS_EXTENSIONS) -> None:
    """``secrets_paths`` given by the user: files, directories and globs. A relative path
    resolves against the playbook directory of the run, then each inventory directory
    (never the installed collection)."""
    for raw in paths:
        expanded = os.path.expanduser(str(raw))
        candidates = [expanded] if os.path.isabs(expanded) else [os.path.join(b, expanded) for b in bases]
        matches: list[str] = []
        for candidate in candidates:
            matches = sorted(glob.glob(candidate)) if glob.has_magic(candidate) else (
                [candidate] if os.path.lexists(candidate) else [])
            if matches:
                break
        if not matches:
            if not glob.has_magic(expanded):
                plan.add_finding(raw, "path-not-found",
                                 f"path does not exist (relative paths resolve against {', '.join(bases) or '.'})")
            else:
                plan.add_unscanned(str(raw), "glob matches no file")
            continue
        for match in matches:
            if os.path.isdir(match):
                walk_vars_dir(match, plan, "secrets_paths", extensions)
            else:
                plan.add_file(match, "secrets_paths")


# --------------------------------------------------------------------------- the run


def discover(run: Run) -> Plan:
    """Every file of the run that ansible loads, the sources we cannot read, and the layout findings."""
    sources = [os.path.abspath(os.path.expanduser(s)) if not is_host_list(s) else s
               for s in run.inventory_sources if s]
    inventory_dirs = inventory_basedirs(sources)
    playbooks = [os.path.abspath(p) for p in run.playbooks if p]
    roots = [run.repository_root, *inventory_dirs, *(os.path.dirname(p) for p in playbooks)]
    plan = Plan(tree_roots=list(dict.fromkeys(os.path.realpath(r) for r in roots if r)),
                scan_roots=list(dict.fromkeys([*inventory_dirs, *(os.path.dirname(p) for p in playbooks)])),
                repository_root=run.repository_root)
    for source in sources:
        add_inventory_source(source, plan, run.inventory_ignore_exts)
    for directory in inventory_dirs:
        host_group_vars(directory, plan, f"inventory {directory}", run.entities, run.vars_extensions)
    walker = _Walker(run, plan, static_vars={"inventory_dir": inventory_dirs[0]} if len(inventory_dirs) == 1 else {})
    for playbook in playbooks:
        if os.path.isfile(playbook):
            walker.playbook(playbook)
        else:
            plan.add_unscanned(playbook, "playbook not found: its vars files are not known")
    bases = [d for d in [run.base_dir or (os.path.dirname(playbooks[0]) if playbooks else None), *inventory_dirs]
             if d]
    explicit_paths(run.extra_paths, list(dict.fromkeys(bases)), plan, run.vars_extensions)
    return plan


def tree_files(roots: Iterable[str], limit: int = MAX_TREE_FILES, plan: Plan | None = None) -> list[str]:
    """Every regular file under the roots (git-tracked or not, any extension), for the
    key-material scan. Directory links are not followed (what they point at inside the tree
    is walked anyway; outside it is a finding); virtualenvs and tool caches are skipped; past
    ``limit`` files the walk stops and says so."""
    found: list[str] = []
    seen: set[str] = set()
    for root in roots:
        if not root or not os.path.isdir(root):
            continue
        for directory, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in TREE_SKIP_DIRS
                             and not os.path.isfile(os.path.join(directory, d, "pyvenv.cfg")))
            for name in sorted(names):
                full = os.path.abspath(os.path.join(directory, name))
                try:
                    regular = stat.S_ISREG(os.lstat(full).st_mode)
                except OSError:
                    continue
                if not regular or full in seen:
                    continue
                seen.add(full)
                found.append(full)
                if len(found) >= limit:
                    if plan is not None:
                        plan.add_unscanned(root, f"tree walk stopped after {limit} files: the rest is not scanned "
                                                 "for key material")
                    return found
    return found


def git_files(root: str) -> list[str] | None:
    """Tracked and untracked files of a git work tree, git-ignored ones left out (virtualenvs,
    caches, build output); None when ``root`` is not in a git work tree."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    names = [name.decode("utf-8", errors="surrogateescape") for name in out.stdout.split(b"\0") if name]
    return [os.path.abspath(os.path.join(root, name)) for name in names]


def scan_files(plan: Plan, limit: int = MAX_TREE_FILES) -> list[str]:
    """The files of the key-material scan: every file of the inventory and playbook directories
    (ignored by git or not: a ``keys.txt`` listed in .gitignore is the classic leak), and the
    repository's tracked and untracked files (every file when it is not a git work tree)."""
    files = tree_files(plan.scan_roots, limit, plan)
    if plan.repository_root:
        listed = git_files(plan.repository_root)
        files += listed[:limit] if listed is not None else tree_files([plan.repository_root], limit, plan)
        if listed is not None and len(listed) > limit:
            plan.add_unscanned(plan.repository_root, f"more than {limit} files: the rest is not scanned for key "
                                                     "material")
    return [f for f in dict.fromkeys(files) if os.path.isfile(f) and not os.path.islink(f)]


def vault_password_files(cli_files: Iterable[str] = (), cli_ids: Iterable[str] = (),
                         config_file: str | None = None, config_ids: Iterable[str] = ()) -> list[str]:
    """Password files of the run: ``--vault-password-file``, ``--vault-id [label@]file`` and
    the configured ones; ``prompt`` is not a file."""
    files = [*cli_files]
    if config_file:
        files.append(config_file)
    for identity in [*cli_ids, *config_ids]:
        if not identity:
            continue
        source = identity.partition("@")[2] if "@" in identity else identity
        if source and source not in ("prompt", "prompt_ask_vault_pass"):
            files.append(source)
    return list(dict.fromkeys(os.path.abspath(os.path.expanduser(str(f))) for f in files if f))


# --------------------------------------------------------------------------- checking the plan


def check(plan: Plan, opts: Any) -> dict:
    """Run the preflight rules (``secrets_preflight``) on the plan: every file through
    ``run`` (which adds the key-file hygiene and the key-material scan of the trees),
    inventory variables through ``Checker.check_data``, layout findings as results; the
    unscanned sources are listed in the result and the message."""
    from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
    from ansible_collections.stability.ops.plugins.plugin_utils import sops_files

    opts.paths = plan.paths
    opts.explicit_paths = False
    # The key-material scan walks the trees here (virtualenvs skipped), tracked files included.
    scan_tree = bool(opts.scan_tracked_files)
    opts.scan_tracked_files, opts.key_scan_roots = False, []
    report = sp.run(opts)
    results = [sp.FileResult(path=f["path"], kind=f["kind"], decrypted=f.get("decrypted", False),
                             violations=[sops_files.Violation(v["rule"], v["detail"]) for v in f["violations"]])
               for f in report["files"]]
    checker = sp.Checker(opts)
    checked = report["summary"]["checked"]
    by_file: dict[str, Any] = {}
    for item in plan.inventory_vars:
        if item.path not in by_file:
            by_file[item.path] = sp.FileResult(path=checker.display(Path(item.path)), kind="inventory")
            checked += 1
        try:
            checker.check_data(Path(item.path), item.data, by_file[item.path], item.origin)
        except Exception as exc:  # a hostile inventory never aborts the run
            from ansible_collections.stability.ops.plugins.plugin_utils import secrets_redaction

            by_file[item.path].add("internal-error", secrets_redaction.safe_exception(exc, item.path))
    results += by_file.values()
    if scan_tree:
        checked_paths = set(plan.paths)
        for path in scan_files(plan):
            if path in checked_paths or not os.path.isfile(path) or os.path.islink(path):
                continue
            try:
                found = checker.scan_key_material(Path(path))
            except Exception as exc:  # a hostile file never aborts the run
                from ansible_collections.stability.ops.plugins.plugin_utils import secrets_redaction

                found = sp.FileResult(path=checker.display(Path(path)), kind="scanned")
                found.add("internal-error", secrets_redaction.safe_exception(exc, path))
            if found:
                results.append(found)
    unscanned = list(plan.unscanned)
    for finding in plan.findings:
        if finding.rule in sp.RULES:
            result = sp.FileResult(path=checker.display(Path(finding.path)), kind="layout")
            result.add(finding.rule, finding.detail)
            results.append(result)
        else:
            unscanned.append(Unscanned(checker.display(Path(finding.path)), finding.detail))
    final = sp.summarize(results, checked)
    final["unscanned"] = [u.as_dict() for u in unscanned]
    final["summary"]["unscanned"] = len(unscanned)
    final["msg"] = format_unscanned(final["msg"], unscanned, checked)
    return final


def format_unscanned(message: str, unscanned: list[Unscanned], checked: int) -> str:
    """The verdict, then the sources ansible reads that were not scanned (names and reasons only)."""
    lines = [message]
    if checked == 0:
        lines.append("No file that this run loads was found to check: see the sources below.")
    if unscanned:
        lines.append(f"Not scanned ({len(unscanned)}):")
        lines += [f"  - {u.source}: {u.reason}" for u in unscanned]
    return "\n".join(lines)
