"""Helpers of the style-gate unit tests: mini repositories in tmp_path, checked
by the real scripts/enforce_style_guide.sh (bash, ripgrep, Python)."""

from __future__ import annotations

import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "enforce_style_guide.sh"
# Written as a placeholder so that this test code carries no ignore comment.
IGNORE = "@IGNORE@"
LINE = re.compile(r"^(?P<path>\S+):(?P<line>\d+) (?P<rule>[\w-]+) (?P<rest>.*)$")


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
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True, check=False, timeout=60
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


class MiniRepo:
    """A throw-away repository laid out like the collection."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n").replace(IGNORE, "# style-" + "ignore:"))
        return target

    def check(self, *args: str) -> Result:
        return run_gate(self.root, *args)


@pytest.fixture
def repo(tmp_path: Path) -> MiniRepo:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "galaxy.yml").write_text("namespace: example\nname: mini\nversion: 1.0.0\n")
    return MiniRepo(root)
