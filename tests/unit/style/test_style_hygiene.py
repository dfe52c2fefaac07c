"""Repository hygiene: layout allowlist, recursive copies, garbage and empty files."""

from __future__ import annotations

import subprocess

import pytest

CLEAN = "- name: Ping\n  ansible.builtin.ping:\n"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("notes.txt", ("notes.txt", "stray-path")),
        ("collections/x.yml", ("collections/", "stray-path")),
        ("roles/x/roles/x/tasks/main.yml", ("roles/x/roles/x/", "recursive-path")),
        ("playbooks/playbooks/site.yml", ("playbooks/playbooks/", "recursive-path")),
        ("tests/ansible_collections/stability/ops/galaxy.yml", ("tests/ansible_collections/", "recursive-path")),
        ("roles/x/tasks/main.yml.orig", ("roles/x/tasks/main.yml.orig", "garbage-file")),
        ("scripts/=2.0", ("scripts/=2.0", "garbage-file")),
        ("docs/.DS_Store", ("docs/.DS_Store", "garbage-file")),
    ],
    ids=[
        "stray-file",
        "stray-dir",
        "role-in-role",
        "dir-in-itself",
        "collection-copy",
        "orig",
        "shell-accident",
        "ds-store",
    ],
)
def test_bad_paths(repo, path, expected):
    repo.write(path, "content: 1\n")
    assert repo.check().findings == [(*expected[:1], 1, expected[1])]


def test_empty_files(repo):
    repo.write("roles/r/handlers/main.yml", "")
    repo.write("roles/r/tasks/main.yml", "---\n\n")
    repo.write("plugins/module_utils/__init__.py", "")
    repo.write("changelogs/fragments/.keep", "")
    assert repo.check().findings == [("roles/r/handlers/main.yml", 1, "empty-file")]


def test_layout_and_dotfiles_are_allowed(repo):
    for path in (
        "README.md",
        "tox.ini",
        ".yamllint",
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
        "bench/run.sh",
        "extensions/molecule/r/converge.yml",
        "roles/r/tasks/main.yml",
    ):
        repo.write(path, CLEAN if path.endswith("main.yml") else "a: 1\n")
    assert repo.check().findings == []


def test_scratch_directories_are_never_scanned(repo):
    for scratch in (".venv", ".cache", ".collections"):
        repo.write(f"{scratch}/lib/bad.yml", "x: yes\n")
    assert repo.check().findings == []


def test_git_ignored_files_are_not_scanned(repo):
    subprocess.run(["git", "init", "-q", str(repo.root)], check=True)
    repo.write(".gitignore", "scratch/\n")
    repo.write("scratch/bad.yml", "x: yes\n")
    repo.write("roles/r/tasks/untracked.yml", "- name: Ping\n  ansible.builtin.ping:\n  become: yes\n")
    assert repo.check().findings == [("roles/r/tasks/untracked.yml", 3, "truthy")]


def test_rules_only_run_where_enabled(repo):
    """A collection's source tree enables the layout rules; without @enable they are off."""
    repo.write("notes.txt", "a: 1\n")
    assert repo.check().findings == [("notes.txt", 1, "stray-path")]
    repo.write(".styleignore", "# no @enable line\n")
    assert repo.check().findings == []


def test_user_repository_layout_is_free(user_repo):
    """A user's repository has its own layout: no stray-path, no REFERENCE ONLY rules."""
    for path in ("site.yml", "playbooks/site.yml", "requirements.yml", "collections/requirements.yml", "notes.txt"):
        user_repo.write(path, CLEAN if path.endswith("site.yml") else "a: 1\n")
    user_repo.write("inventories/prod/hosts.yml", "all:\n  hosts:\n    web1:\n")
    assert user_repo.check().findings == []


@pytest.mark.parametrize(
    "vendored",
    ["collections/ansible_collections/x/y", "ansible_collections/x/y", "playbooks/collections/ansible_collections/x/y"],
    ids=["collections-dir", "top-level", "playbook-adjacent"],
)
def test_vendored_collections_are_not_checked(user_repo, vendored):
    user_repo.write(f"{vendored}/roles/v/tasks/main.yml", "- ping:\n  become: yes\n")
    user_repo.write(f"{vendored}/roles/v/files/empty.txt", "")
    user_repo.write("roles/r/tasks/main.yml", CLEAN)
    result = user_repo.check()
    assert (result.returncode, result.findings) == (0, [])


def test_vendored_collections_are_not_checked_in_git(user_repo):
    """Tracked vendored collections are someone else's code too."""
    subprocess.run(["git", "init", "-q", str(user_repo.root)], check=True)
    user_repo.write("collections/ansible_collections/x/y/roles/v/tasks/main.yml", "- ping:\n")
    user_repo.write("roles/r/tasks/main.yml", CLEAN + "  become: yes\n")
    subprocess.run(["git", "-C", str(user_repo.root), "add", "-A"], check=True)
    assert user_repo.check().findings == [("roles/r/tasks/main.yml", 3, "truthy")]


def test_general_hygiene_applies_to_user_repositories(user_repo):
    user_repo.write("roles/r/roles/r/tasks/main.yml", CLEAN)
    user_repo.write("roles/r/tasks/main.yml.orig", CLEAN)
    user_repo.write("roles/r/handlers/main.yml", "")
    assert user_repo.check().findings == [
        ("roles/r/handlers/main.yml", 1, "empty-file"),
        ("roles/r/roles/r/", 1, "recursive-path"),
        ("roles/r/tasks/main.yml.orig", 1, "garbage-file"),
    ]
