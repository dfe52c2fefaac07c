"""antsibull-changelog: fragments lint, and a release dry run in a scratch copy renders them."""

from __future__ import annotations

import re
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


def test_the_shipped_changelog_is_rendered_from_changelog_yaml():
    """CHANGELOG.md (shipped in the tarball) is what antsibull-changelog renders from changelogs/changelog.yaml."""
    releases = yaml.safe_load((REPO_ROOT / "changelogs/changelog.yaml").read_text())["releases"]
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    assert version in releases, f"galaxy.yml's {version} has not been released with antsibull-changelog"
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    for released in releases:
        assert f"v{released}".replace(".", "\\.") in changelog
    generate = run("antsibull-changelog", "generate", "--output", "/dev/stdout")
    assert generate.returncode == 0, generate.stdout + generate.stderr


def test_release_dry_run_renders_every_fragment(tmp_path):
    """docs/releasing.md's dry run of the next release: a scratch copy, never the working tree."""
    copy = tmp_path / "ansible_collections" / "stability" / "ops"
    shutil.copytree(
        REPO_ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", ".cache", ".collections", "collections", ".tox", "tests", "*.pyc", "__pycache__"
        ),
    )
    released = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    major, minor, patch = (int(part) for part in released.split("."))
    version = f"{major}.{minor}.{patch + 1}"
    # The unreleased fragments, and one of the test's own so that the release is never empty.
    (copy / "changelogs/fragments/dry-run.yml").write_text("bugfixes:\n  - dry_run - an entry of the test.\n")
    fragments = {path.name: path.read_text() for path in sorted((copy / "changelogs/fragments").glob("*.y*ml"))}
    result = run("antsibull-changelog", "release", "--version", version, "--date", "2026-01-01", cwd=copy)
    assert result.returncode == 0, result.stdout + result.stderr
    changelog = (copy / "CHANGELOG.md").read_text()
    for shown in (version, released):
        assert f"v{shown}".replace(".", "\\.") in changelog
    for name, text in fragments.items():
        for section, entries in (yaml.safe_load(text) or {}).items():
            # antsibull-changelog leaves trivial entries out of the changelog by design.
            if section == "trivial":
                continue
            for entry in entries if isinstance(entries, list) else []:
                # The Markdown writer curls apostrophes, so only the part before one is compared.
                first_word = re.split("['\u2019]", entry.split()[0])[0]
                assert first_word.replace("_", "\\_").replace(".", "\\.") in changelog, name
    assert not list((copy / "changelogs/fragments").glob("*.yml"))
