"""Every command/shell task runs the command its source says.

In YAML, `` #`` after a space starts a comment, so a ``# noqa`` written in the
middle of a free-form command cuts it there: ``systemctl reset-failed  # noqa:
command-instead-of-module {{ unit }}`` runs ``systemctl reset-failed`` and
resets every failed unit of the host (issue 20). These checks read each task
twice, as YAML parses it and as it is written, over every role's tasks and
handlers and every molecule playbook:

- the text after a command on its line is nothing or a ``# noqa`` comment
  naming only rule ids;
- every Jinja expression written in the command's source is still in the
  parsed command;
- no parsed command carries ``noqa`` (a quoted one is passed to the program);
- a ``systemctl`` verb that acts on units names at least one unit.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted(
    [
        *REPO_ROOT.glob("roles/*/tasks/*.yml"),
        *REPO_ROOT.glob("roles/*/handlers/*.yml"),
        *REPO_ROOT.glob("extensions/molecule/*/*.yml"),
    ]
)
COMMAND_MODULES = {
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in ("command", "shell", "raw")
}
# The text a command may be followed by on its line: nothing, or a noqa
# comment that names rule ids only (ansible-lint's syntax).
RULE_ID = r"[A-Za-z0-9_\[\]-]+"
ALLOWED_REMAINDER = re.compile(rf"^\s*(#\s*noqa(:?\s+{RULE_ID}([\s,]+{RULE_ID})*)?\s*)?$")
JINJA = re.compile(r"{{.*?}}")
# systemctl verbs that act on the units named after them; without a unit some
# act on every unit (reset-failed) and the others fail.
SYSTEMCTL_UNIT_VERBS = {
    "start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "try-reload-or-restart",
    "enable", "disable", "reenable", "mask", "unmask", "reset-failed", "kill", "clean", "freeze", "thaw",
    "is-active", "is-failed", "is-enabled", "cat", "edit", "revert",
}


@dataclass
class Command:
    """One command/shell/raw task: where it is, its parsed argv or script, its source text."""

    where: str
    task: str
    parsed: list[str]
    source: str
    remainders: list[str]


def _scalars(node: yaml.Node) -> list[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        return [node]
    if isinstance(node, yaml.SequenceNode):
        return [s for item in node.value for s in _scalars(item)]
    return []


def _command_nodes(module_value: yaml.Node) -> list[yaml.Node]:
    """The nodes that hold the command: the free-form string, or cmd/argv/_raw_params."""
    if isinstance(module_value, yaml.ScalarNode):
        return [module_value]
    if isinstance(module_value, yaml.MappingNode):
        return [value for key, value in module_value.value if key.value in ("cmd", "argv", "_raw_params")]
    return []


def _ends(node: yaml.Node) -> list[yaml.Mark]:
    """Where a command node ends on its line, for the nodes a comment can follow."""
    if isinstance(node, yaml.ScalarNode):
        # Plain scalars end where a comment begins; quoted and block ones cannot be cut.
        return [node.end_mark] if node.style is None else []
    if isinstance(node, yaml.SequenceNode):
        if node.flow_style:
            return [node.end_mark]
        return [mark for item in node.value for mark in _ends(item)]
    return []


def _get(mapping: yaml.MappingNode, name: str) -> yaml.Node | None:
    return next((value for key, value in mapping.value if key.value == name), None)


TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")


def _tasks(node: yaml.Node):
    """Every task of a tasks file or playbook, blocks included."""
    if not isinstance(node, yaml.SequenceNode):
        return
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        keys = {key.value for key, _value in item.value}
        if keys & {"hosts", "import_playbook", "ansible.builtin.import_playbook"}:
            for section in TASK_LISTS:
                yield from _tasks(_get(item, section))
        elif keys & set(BLOCK_LISTS):
            for section in BLOCK_LISTS:
                yield from _tasks(_get(item, section))
        else:
            yield item


def find_commands(text: str, where: str) -> list[Command]:
    """Every command task in a YAML document, read as parsed and as written."""
    lines = text.splitlines()
    commands = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        for task in _tasks(document):
            for key, value in task.value:
                if key.value not in COMMAND_MODULES:
                    continue
                nodes = _command_nodes(value)
                scalars = [s for node in nodes for s in _scalars(node)]
                if not scalars:
                    continue
                first = key.start_mark.line
                last = max(node.end_mark.line - (node.end_mark.column == 0) for node in nodes)
                commands.append(Command(
                    where=f"{where}:{first + 1}",
                    task=next((v.value for k, v in task.value if k.value == "name"), "<unnamed>"),
                    parsed=[str(s.value) for s in scalars],
                    source="\n".join(lines[first:last + 1]),
                    remainders=[lines[m.line][m.column:] for n in nodes for m in _ends(n) if m.line < len(lines)],
                ))
    return commands


def _systemctl_problems(argv: list[str]) -> list[str]:
    problems = []
    for i, word in enumerate(argv):
        if word.rsplit("/", 1)[-1] != "systemctl":
            continue
        rest = argv[i + 1:]
        words = [w for w in rest if not w.startswith("-")]
        if words and words[0] in SYSTEMCTL_UNIT_VERBS:
            after = words[1:]
            # Stop at the end of this command in a shell line.
            for j, w in enumerate(after):
                if w in (";", "&&", "||", "|"):
                    after = after[:j]
                    break
            if not after:
                problems.append(f"`systemctl {words[0]}` names no unit")
    return problems


def _argvs(command: Command) -> list[list[str]]:
    """The parsed command as argument vectors: argv as given, each line of a script split."""
    if len(command.parsed) > 1 or "argv:" in command.source:
        return [command.parsed]
    argvs = []
    for line in command.parsed[0].splitlines():
        try:
            argvs.append(shlex.split(line, comments=True))
        except ValueError:
            argvs.append(line.split())
    return argvs


def problems_of(command: Command) -> list[str]:
    """What is wrong with one command task; empty when it runs what it says."""
    problems = []
    for remainder in command.remainders:
        if not ALLOWED_REMAINDER.match(remainder):
            problems.append(
                f"text after the command on its line is a comment that swallowed part of it: {remainder.strip()!r}"
                " (put `# noqa: <rule>` at the very end of the line, or use argv)"
            )
    parsed = "\n".join(command.parsed)
    for expression in JINJA.findall(command.source):
        if expression not in parsed:
            problems.append(f"{expression} is written in the task but not in the command YAML parses: {parsed!r}")
    if "noqa" in parsed:
        problems.append(f"the parsed command itself contains noqa: {parsed!r}")
    for argv in _argvs(command):
        problems.extend(_systemctl_problems(argv))
    return problems


COMMANDS = [c for path in SOURCES for c in find_commands(path.read_text(), str(path.relative_to(REPO_ROOT)))]


def test_the_sources_hold_command_tasks():
    assert len(COMMANDS) > 20, [str(p) for p in SOURCES]


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {c.task}" for c in COMMANDS])
def test_command_task_runs_what_its_source_says(command: Command):
    assert problems_of(command) == [], command.source


# The checker itself, on the bug of issue 20 and its fixes.
CASES = {
    "noqa-mid-line": (
        """
- name: Clear the failed state
  ansible.builtin.command: systemctl reset-failed  # noqa: command-instead-of-module {{ unit }}
  changed_when: true
""",
        ["comment that swallowed", "{{ unit }} is written", "`systemctl reset-failed` names no unit"],
    ),
    "noqa-at-end": (
        """
- name: List failed units
  ansible.builtin.command: systemctl list-units --state=failed --plain  # noqa: command-instead-of-module
  changed_when: false
""",
        [],
    ),
    "templated-unit-kept": (
        """
- name: Clear the failed state
  ansible.builtin.command: systemctl reset-failed {{ unit }}  # noqa: command-instead-of-module
  changed_when: true
""",
        [],
    ),
    "argv": (
        """
- name: Clear the failed state
  ansible.builtin.command:
    argv: [systemctl, reset-failed, "{{ item }}.service"]
  changed_when: true
""",
        [],
    ),
    "quoted-noqa": (
        """
- name: Clear the failed state
  ansible.builtin.command: "systemctl reset-failed # noqa: command-instead-of-module"
  changed_when: true
""",
        ["contains noqa", "`systemctl reset-failed` names no unit"],
    ),
    "bare-reset-in-script": (
        """
- name: Reset
  ansible.builtin.shell: |
    set -e
    systemctl daemon-reload && systemctl reset-failed
  changed_when: true
""",
        ["`systemctl reset-failed` names no unit"],
    ),
    "other-comment": (
        """
- name: Restart
  ansible.builtin.command:
    cmd: systemctl restart  # the unit {{ unit }}
  changed_when: true
""",
        ["comment that swallowed", "{{ unit }} is written", "`systemctl restart` names no unit"],
    ),
    "in-block": (
        """
- name: Outer
  block:
    - name: Inner
      ansible.builtin.command: systemctl reset-failed  # noqa: command-instead-of-module {{ unit }}
      changed_when: true
""",
        ["comment that swallowed"],
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_the_checker_finds_truncated_commands(text: str, expected: list[str]):
    (command,) = find_commands(text, "case.yml")
    problems = problems_of(command)
    assert len(problems) >= len(expected)
    for fragment in expected:
        assert any(fragment in p for p in problems), problems
    if not expected:
        assert problems == []
