"""Helpers of the style-gate unit tests: mini repositories in tmp_path, checked
by the collection's engine (``plugins/plugin_utils/style_guide_engine.py``,
real ripgrep and git) in-process, or by the real scripts/enforce_style_guide.sh."""

from __future__ import annotations

import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import style_guide_engine as engine
from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_rules import OPT_IN

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "enforce_style_guide.sh"
# Written as a placeholder so that this test code carries no ignore comment.
IGNORE = "@IGNORE@"
LINE = re.compile(r"^(?P<path>\S+):(?P<line>\d+) (?P<rule>[\w-]+) (?P<rest>.*)$")
# What a collection's own source tree (like this repository) puts in .styleignore.
ENABLE_OPT_IN = f"@enable {' '.join(sorted(OPT_IN))}\n"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def findings(self) -> list[tuple[str, int, str]]:
        """(path, line, rule) of every reported violation, in report order."""
        found = []
        for line in self.stdout.splitlines():
            match = LINE.match(line)
            assert match, f"unexpected report line: {line!r}"
            found.append((match["path"], int(match["line"]), match["rule"]))
        return found


def run_gate(root: Path, *args: str) -> Result:
    """The real command line: scripts/enforce_style_guide.sh --root ROOT ARGS."""
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True, check=False, timeout=60
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_engine(root: Path, paths: list[str] | None = None, rules: list[str] | None = None) -> Result:
    """The engine in-process, reported as the command line does (exit 1 on any violation)."""
    try:
        report = engine.check(root, paths, rules)
    except engine.ConfigError as exc:
        return Result(2, "", f"ERROR: {exc}\n")
    stdout = "".join(finding.render() + "\n" for finding in report.findings)
    return Result(1 if report.findings else 0, stdout, "")


class MiniRepo:
    """A throw-away repository in tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n").replace(IGNORE, "# style-" + "ignore:"))
        return target

    def check(self, *paths: str, rules: list[str] | None = None) -> Result:
        return run_engine(self.root, list(paths), rules)

    def gate(self, *args: str) -> Result:
        return run_gate(self.root, *args)


@pytest.fixture
def repo(tmp_path: Path) -> MiniRepo:
    """Laid out like the collection's source tree: galaxy.yml, and the opt-in rules enabled."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "galaxy.yml").write_text("namespace: example\nname: mini\nversion: 1.0.0\n")
    (root / ".styleignore").write_text(ENABLE_OPT_IN)
    return MiniRepo(root)


@pytest.fixture
def user_repo(tmp_path: Path) -> MiniRepo:
    """A user's infrastructure repository: no galaxy.yml, no .styleignore."""
    root = tmp_path / "infra"
    root.mkdir()
    return MiniRepo(root)
