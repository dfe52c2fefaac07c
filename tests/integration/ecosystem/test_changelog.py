"""antsibull-changelog: fragments lint, and a release dry run in a scratch copy renders them."""

from __future__ import annotations

import shutil

import yaml
from conftest import REPO_ROOT, run


def test_fragments_and_changelog_lint():
    lint = run("antsibull-changelog", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout.strip() == ""
    yaml_lint = run("antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml")
    assert yaml_lint.returncode == 0, yaml_lint.stdout + yaml_lint.stderr


def test_lint_rejects_a_bad_fragment(tmp_path):
    copy = tmp_path / "ops"
    shutil.copytree(REPO_ROOT / "changelogs", copy / "changelogs")
    shutil.copy(REPO_ROOT / "galaxy.yml", copy)
    (copy / "changelogs/fragments/bad.yml").write_text("new_stuff:\n  - not a section\n")
    lint = run("antsibull-changelog", "lint", cwd=copy)
    assert lint.returncode != 0 or "bad.yml" in lint.stdout
    assert "bad.yml" in lint.stdout + lint.stderr


def test_release_dry_run_renders_every_fragment(tmp_path):
    """docs/releasing.md's dry run: a scratch copy, never the working tree."""
    copy = tmp_path / "ansible_collections" / "stability" / "ops"
    shutil.copytree(
        REPO_ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", ".cache", ".collections", "collections", ".tox", "tests", "*.pyc", "__pycache__"
        ),
    )
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    fragments = sorted((REPO_ROOT / "changelogs/fragments").glob("*.y*ml"))
    result = run("antsibull-changelog", "release", "--version", version, "--date", "2026-01-01", cwd=copy)
    assert result.returncode == 0, result.stdout + result.stderr
    changelog = (copy / "CHANGELOG.md").read_text()
    assert f"v{version}".replace(".", "\\.") in changelog
    for fragment in fragments:
        for section, entries in (yaml.safe_load(fragment.read_text()) or {}).items():
            # antsibull-changelog leaves trivial entries out of the changelog by design.
            if section == "trivial":
                continue
            for entry in entries if isinstance(entries, list) else []:
                words = entry.split()[:2]
                assert words[0].replace("_", "\\_").replace(".", "\\.") in changelog, fragment.name
    assert not list((copy / "changelogs/fragments").glob("*.yml"))
    assert (REPO_ROOT / "changelogs/fragments").exists() and fragments
