"""``ansible-playbook stability.ops.style_guide`` as a user runs it: in their own repository.

The collection is built and installed from its tarball (what users get) into
the temporary repository's ``collections/``, next to a vendored collection
with violations of its own. The run has no inventory and no repository
ansible.cfg (an empty one outside both trees), and its cwd is the user's
repository. Nothing may be written to the repository or the collection.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
CLEAN = "- name: Ping\n  ansible.builtin.ping:\n"
BAD = "- name: Ping\n  ansible.builtin.ping:\n  become: yes\n"
VIOLATION = (
    "roles/web/tasks/main.yml:3 truthy YAML 1.1 truthy value (yes/no/on/off/True/False)"
    " (fix: write the boolean as lowercase true or false)"
)


def user_env(home: Path) -> dict[str, str]:
    """The environment of a user: no ANSIBLE_* setting of this repository's dev set-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    config = home / "ansible.cfg"
    config.write_text("")
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_HOME=str(home / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
    )
    # Bytecode writing stays on: a .pyc in the collection would be a write too.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The collection as users install it: built to a tarball, then installed."""
    work = tmp_path_factory.mktemp("galaxy")
    env = user_env(work)
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(REPO_ROOT)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (tarball,) = work.glob("stability-ops-*.tar.gz")
    subprocess.run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "--no-deps",
            "-p",
            str(work / "c"),
            tarball,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    collection = work / "c" / "ansible_collections" / "stability" / "ops"
    assert (collection / "playbooks" / "style_guide.yml").is_file()
    return collection


@pytest.fixture
def user_repo(tmp_path, installed) -> Path:
    """A user's repository (not a git work tree) with the collection vendored in collections/."""
    repo = tmp_path / "infra"
    files = {
        "roles/web/tasks/main.yml": BAD,
        "roles/web/tasks/clean.yml": CLEAN,
        # Someone else's code: never checked, though it breaks several rules.
        "collections/ansible_collections/x/y/roles/v/tasks/main.yml": "- ping:\n  become: yes\n",
        "collections/ansible_collections/x/y/roles/v/files/empty.txt": "",
    }
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    shutil.copytree(installed, repo / "collections" / "ansible_collections" / "stability" / "ops", symlinks=True)
    return repo


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every path below ``root`` with its mode and content hash."""
    state = {}
    for path in sorted(root.rglob("*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state[str(path.relative_to(root))] = (path.lstat().st_mode, digest)
    return state


def assert_nothing_written(repo: Path, before: dict[str, tuple[int, str]]) -> None:
    """Nothing changed below ``repo``, except ansible-core's bytecode cache of the plugin it loaded.

    ansible-core's plugin loader imports an action plugin with the standard
    source loader, which caches its bytecode next to it (for every collection's
    plugins); the style guide itself writes nothing.
    """
    after = snapshot(repo)
    plugins = "collections/ansible_collections/stability/ops/plugins/"
    cache = {path for path in after.keys() - before.keys() if "__pycache__" in Path(path).parts}
    assert {k: v for k, v in after.items() if k not in cache} == before
    assert all(path.startswith(plugins) and not path.endswith(".py") for path in cache), cache


def run_playbook(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    home = repo.parent / "home"
    home.mkdir(exist_ok=True)
    env = user_env(home)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(repo / "collections")
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "stability.ops.style_guide", *args],
        cwd=cwd or repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def failed_result(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("fatal: [localhost]: FAILED! => "))
    return json.loads(line.partition(" => ")[2])


def test_violations_fail_the_run(user_repo):
    before = snapshot(user_repo)
    proc = run_playbook(user_repo)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    result = failed_result(output)
    assert result["msg"] == (
        "1 style violation(s) in 2 checked file(s); see docs/style-guide.md of the stability.ops collection:\n"
        + VIOLATION
    )
    assert result["violations"] == [
        {
            "path": "roles/web/tasks/main.yml",
            "line": 3,
            "rule": "truthy",
            "message": "YAML 1.1 truthy value (yes/no/on/off/True/False)",
            "detail": "",
            "fix": "write the boolean as lowercase true or false",
        }
    ]
    assert (result["files"], result["root"]) == (2, str(user_repo))
    assert VIOLATION in output
    assert "localhost                  : ok=0    changed=0    unreachable=0    failed=1" in output
    assert_nothing_written(user_repo, before)


def test_clean_paths_pass_in_check_mode_from_elsewhere(user_repo, tmp_path):
    before = snapshot(user_repo)
    proc = run_playbook(
        user_repo,
        "--check",
        "-e",
        f"stability_ops_style_guide_root={user_repo}",
        "-e",
        "stability_ops_style_guide_paths=roles/web/tasks/clean.yml",
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "ok: [localhost]" in output
    assert "localhost                  : ok=1    changed=0    unreachable=0    failed=0" in output
    assert_nothing_written(user_repo, before)


def test_rules_limit_the_run(user_repo):
    proc = run_playbook(user_repo, "-e", '{"stability_ops_style_guide_rules": ["fqcn", "name-missing"]}')
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unknown_rule_is_refused(user_repo):
    proc = run_playbook(user_repo, "-e", "stability_ops_style_guide_rules=truthy,no-such-rule")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert failed_result(output)["msg"].startswith(
        "style_guide could not run: unknown rule id(s): no-such-rule (known: fqcn, truthy, "
    )
    assert "exception" not in failed_result(output)
