"""Shared helpers for the ecosystem tests: the repository's own scripts, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stability_ops_dev.content import documented_plugins

REPO_ROOT = Path(__file__).resolve().parents[3]
# The venv of the controller that runs the tests (.venv, or .venv-2.21 in the ansible-core 2.21 leg).
VENV_BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """The environment scripts/lib.sh gives: the venv first on PATH, scratch space under .cache."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["STABILITY_OPS_VENV"] = str(VENV_BIN.parent)
    env.setdefault("ANSIBLE_HOME", str(REPO_ROOT / ".cache" / "ansible-home"))
    env.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
    env.update(extra)
    return env


def run(*args: str | Path, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None, timeout: int = 900):
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env or tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def collection_content(root: Path = REPO_ROOT) -> set[tuple[str, str]]:
    """(ansible-doc type, FQCN) of every plugin file and every role with an argument spec, found on disk."""
    content = set()
    for path in [*(root / "plugins").glob("*/*.py"), *(root / "plugins").glob("*/*.yml")]:
        content.update(documented_plugins(path.relative_to(root).as_posix(), path.read_text))
    for spec in (root / "roles").glob("*/meta/argument_specs.yml"):
        content.add(("role", f"stability.ops.{spec.parents[1].name}"))
    return content


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    """The output of scripts/release_check.sh on the working copy (tarball, members, offline install)."""
    out = tmp_path_factory.mktemp("release")
    result = run("bash", "scripts/release_check.sh", env=tool_env(STABILITY_OPS_RELEASE_DIR=str(out)))
    assert result.returncode == 0, result.stdout + result.stderr
    return out
