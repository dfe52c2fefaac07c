"""Release tarball: contents, offline install into an empty path, ansible-doc from there (scripts/release_check.sh)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile

import yaml
from conftest import REPO_ROOT, collection_content, run, tool_env


def test_tarball_is_named_after_galaxy_version_and_ships_every_plugin_and_role(release):
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = release / "dist" / f"stability-ops-{version}.tar.gz"
    assert tarball.is_file()
    members = set((release / "members.txt").read_text().split())
    for kind, fqcn in collection_content():
        name = fqcn.rsplit(".", 1)[1]
        if kind == "role":
            assert f"roles/{name}/meta/argument_specs.yml" in members
        elif kind in ("filter", "test"):
            # Several per file: documented in the file itself or in a <name>.yml sidecar beside it.
            assert any(re.fullmatch(rf"plugins/{kind}/(\w+\.py|{name}\.yml)", m) for m in members), (kind, fqcn)
        else:
            assert any(re.fullmatch(rf"plugins/\w+/{name}\.py", m) for m in members), (kind, fqcn)
    manifest = json.loads(tarfile.open(tarball).extractfile("MANIFEST.json").read())
    assert manifest["collection_info"]["version"] == version


def test_tarball_has_no_tests_caches_or_keys(release):
    members = (release / "members.txt").read_text().split()
    forbidden = re.compile(r"^tests/|(^|/)(\.cache|\.venv[^/]*|\.git|__pycache__|\.collections)(/|$)|\.agekey$|\.pyc$")
    assert [m for m in members if forbidden.search(m)] == []


def test_tarball_holds_only_the_product(release):
    """No development tooling: only the collection's own top-level entries, LICENSE and the rendered changelog."""
    members = (release / "members.txt").read_text().split()
    top_level = {m.split("/", 1)[0] for m in members}
    assert top_level <= {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.md",
                         "execution-environment.yml", "meta", "plugins", "roles", "playbooks", "docs",
                         "changelogs", "extensions"}, sorted(top_level)
    assert {"LICENSE", "CHANGELOG.md"} <= top_level
    dev_only = re.compile(r"^(tools|scripts|bench|inventories)/|^ansible\.cfg$|idempotence_recorder|"
                          r"plugin_utils/idempotence\.py$|^docs/audit/|\.png$")
    assert [m for m in members if dev_only.search(m)] == []


def test_offline_install_documents_every_plugin_and_role_from_the_installed_copy(release):
    installed = release / "collections" / "ansible_collections" / "stability" / "ops"
    assert (installed / "MANIFEST.json").is_file()
    targets = {tuple(line.split()) for line in (release / "doc-targets.txt").read_text().splitlines()}
    assert targets == collection_content()
    # The foundation issue's check, run like a user, from the installed path only.
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(release / "collections"))
    env.pop("ANSIBLE_CONFIG")
    result = run("ansible-doc", "-t", "role", "stability.ops.core_time", cwd=release, env=env)
    assert result.returncode == 0, result.stderr
    assert f"({installed})" in result.stdout
    assert "core_time_timezone" in result.stdout


def _copy_collection(tmp_path):
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    target = tmp_path / "ops"
    for name in filter(None, files):
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink() and not name.startswith("collections/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_release_check_fails_on_a_leaked_age_key_and_a_cache(tmp_path):
    source = _copy_collection(tmp_path)
    # A real-format age identity, generated now, in a file the build would ship.
    key = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
    (source / "docs" / "leak.md").write_text(key)
    (source / "roles" / "core_time" / "files").mkdir(parents=True, exist_ok=True)
    (source / "roles" / "core_time" / "files" / "deploy.agekey").write_text(key)
    (source / "plugins" / "modules" / "__pycache__").mkdir()
    (source / "plugins" / "modules" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (source / ".cache").mkdir(exist_ok=True)
    (source / ".cache" / "state").write_text("scratch")
    # Tooling at a new top-level path is not the product: the allowlist catches what build_ignore misses.
    (source / "devtools").mkdir()
    (source / "devtools" / "helper.py").write_text("print('dev only')\n")
    result = run("bash", REPO_ROOT / "scripts" / "release_check.sh", source)
    assert result.returncode == 1
    assert "dev-only or unexpected member in the tarball: devtools/helper.py" in result.stderr
    assert "age private key in the tarball: docs/leak.md" in result.stderr
    assert "unwanted member in the tarball: roles/core_time/files/deploy.agekey" in result.stderr
    # build_ignore in galaxy.yml keeps caches out: they never reach the check.
    assert "__pycache__" not in result.stderr and ".cache" not in result.stderr
    assert "AGE-SECRET-KEY-1" not in result.stdout + result.stderr
