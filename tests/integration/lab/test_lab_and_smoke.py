"""The lab and the check-mode smoke test (stability.ops.smoke_test), on real systemd containers.

The smoke test runs twice through the dev wrapper (scripts/smoke_test_production.sh, the working copy as the
collection) and twice the way users run it: from a repository of their own, the collection installed from its
release tarball, ``ansible-playbook -i INVENTORY stability.ops.smoke_test --check --diff``. One of those installed
copies carries a defect, a task that writes to the host whatever the check mode, and the smoke test must fail
naming what it changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
# A name of its own per run (two runs of the suite at once must not remove each other's lab);
# STABILITY_OPS_TEST_LAB_PREFIX lets a shared machine tell its labs apart.
LAB_NAME = f"{os.environ.get('STABILITY_OPS_TEST_LAB_PREFIX', 'pytest-smoke')}-{uuid.uuid4().hex[:6]}"
# What the defect writes: an existing file changed, a new one created.
DEFECT_TASK = """
- name: Defect under test | write to the host whatever the check mode
  ansible.builtin.command:
    argv: [sh, -c, "echo smoke-test-defect >> /etc/motd && touch /etc/smoke-test-defect.conf"]
  changed_when: false
  check_mode: false
"""

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("lab-smoke")]


LAB_ENV: dict[str, str] = {}


def run(*args: str, env: dict | None = None, check: bool = False, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, check=check,
        env={**os.environ, "STABILITY_OPS_LAB_NAME": LAB_NAME, "ANSIBLE_NOCOLOR": "1", **LAB_ENV, **(env or {})},
    )


@pytest.fixture(scope="module")
def lab():
    up = run("bash", "scripts/lab.sh", "up", "1")
    try:
        assert up.returncode == 0, up.stderr
        # The lab's group_vars need its age key (SOPS secrets) and admin key.
        secrets = run("bash", "scripts/lab_secrets.sh", "--json", check=True)
        LAB_ENV.update(json.loads(secrets.stdout))
        yield Path(run("bash", "scripts/lab.sh", "inventory").stdout.strip())
    finally:
        run("bash", "scripts/lab.sh", "down")
        LAB_ENV.clear()


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    """The collection's release tarball, built from the working copy."""
    dist = tmp_path_factory.mktemp("dist")
    run("ansible-galaxy", "collection", "build", "--output-path", str(dist), str(REPO_ROOT), check=True)
    return next(dist.glob("stability-ops-*.tar.gz"))


class UserRepo:
    """A user's infrastructure repository: their ansible.cfg and the collection installed under collections/."""

    def __init__(self, tmp: Path, tarball: Path, defect: bool = False) -> None:
        self.root, self.ansible_home = tmp / "infra", tmp / "ansible-home"
        self.collection = self.root / "collections/ansible_collections/stability/ops"
        self.collection.mkdir(parents=True)
        with tarfile.open(tarball) as archive:
            archive.extractall(self.collection, filter="data")
        if defect:
            with (self.collection / "roles/core_time/tasks/main.yml").open("a", encoding="utf-8") as tasks:
                tasks.write(DEFECT_TASK)
        (self.root / "ansible.cfg").write_text(
            "[defaults]\ncollections_path = collections\n"
            "vars_plugins_enabled = ansible.builtin.host_group_vars, community.sops.sops\n"
            "[connection]\npipelining = true\n")

    def files(self) -> dict[str, tuple[int, int]]:
        return {str(path.relative_to(self.root)): (path.stat().st_size, path.stat().st_mtime_ns)
                for path in self.root.rglob("*")}

    def smoke_test(self, inventory: Path, *extra: str) -> subprocess.CompletedProcess:
        # Only this repository's ansible.cfg and collections: nothing of the development checkout.
        env = {"ANSIBLE_CONFIG": str(self.root / "ansible.cfg"), "ANSIBLE_HOME": str(self.ansible_home),
               "ANSIBLE_COLLECTIONS_PATH": str(self.root / "collections")}
        return run("ansible-playbook", "-i", str(inventory), "stability.ops.smoke_test", *extra, env=env, cwd=self.root)


def test_lab_inventory_groups_hosts_under_production(lab: Path):
    result = run("ansible-inventory", "-i", str(lab), "--list", check=True)
    inventory = json.loads(result.stdout)
    assert inventory["production"]["children"] == ["web", "db"] or set(inventory["production"]["children"]) == {
        "web", "db"}
    assert inventory["web"]["hosts"] == ["web1"]
    assert inventory["_meta"]["hostvars"]["web1"]["ansible_host"] == f"{LAB_NAME}-web1"


def test_lab_hosts_run_systemd_and_have_no_network(lab: Path):
    container = f"{LAB_NAME}-web1"
    assert run("docker", "exec", container, "cat", "/proc/1/comm").stdout.strip() == "systemd"
    mode = run("docker", "inspect", "-f", "{{.HostConfig.NetworkMode}}", container).stdout.strip()
    assert mode == "none"


def test_smoke_test_passes_and_changes_nothing(lab: Path):
    result = run("bash", "scripts/smoke_test_production.sh", "-i", str(lab))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "web1: unchanged by the check-mode run (" in result.stdout
    assert result.stdout.rstrip().endswith("smoke test: passed, no host changed")


def test_smoke_test_fails_when_a_task_would_error(lab: Path):
    result = run("bash", "scripts/smoke_test_production.sh", "-i", str(lab), "--",
                 "-e", "core_time_timezone=Not/AZone")
    assert result.returncode == 1, result.stdout[-5000:] + result.stderr[-3000:]
    assert "fatal: [web1]" in result.stdout
    assert "Not/AZone" in result.stdout and "is not available" in result.stdout
    assert result.stdout.rstrip().endswith("smoke test: FAILED, the check run failed (ansible-playbook exit 2)")


def test_smoke_test_refuses_to_run_without_check(lab: Path, tarball: Path, tmp_path: Path):
    repo = UserRepo(tmp_path, tarball)
    result = repo.smoke_test(lab, "-e", "stability_ops_smoke_test_report=smoke-test.json")
    assert result.returncode == 2, result.stdout[-5000:] + result.stderr[-3000:]
    refusal = ("stability.ops.smoke_test runs the production deploy in check mode only: run it with --check "
               "(ansible-playbook -i INVENTORY stability.ops.smoke_test --check --diff). Nothing was changed.")
    assert "fatal: [web1]: FAILED! => " in result.stdout and refusal in result.stdout
    # Not one task after the refusal: no preflight, no deploy, no report.
    assert "PLAY [Preflight" not in result.stdout and "PLAY [Core" not in result.stdout
    assert "web1 " in result.stdout and "ok=0    changed=0    unreachable=0    failed=1" in result.stdout
    assert not (repo.root / "smoke-test.json").exists()


def test_smoke_test_from_a_user_repository_fails_naming_what_the_check_run_changed(
        lab: Path, tarball: Path, tmp_path: Path):
    repo = UserRepo(tmp_path, tarball, defect=True)
    before = repo.files()
    result = repo.smoke_test(lab, "--check", "--diff", "-e", "stability_ops_smoke_test_report=smoke-test.json")
    assert result.returncode == 2, result.stdout[-5000:] + result.stderr[-3000:]
    # The whole check-mode deploy ran from the installed copy; only the defect changed the host.
    assert "PLAY [Health | post-deploy checks" in result.stdout
    changes = ["file /etc/motd: content changed", "file /etc/smoke-test-defect.conf: created"]
    assert (f"web1: the check-mode run CHANGED the host (2 difference(s)): {'; '.join(changes)}"
            in result.stdout), result.stdout[-5000:]
    # The report goes where the user said, relative to the current directory; nothing else is written.
    report = json.loads((repo.root / "smoke-test.json").read_text())
    assert report["status"] == "changed"
    assert report["hosts"]["web1"]["status"] == "changed" and report["hosts"]["web1"]["changes"] == changes
    assert report["hosts"]["web1"]["compared"]["files"] > 100
    after = repo.files()
    assert set(after) - set(before) == {"smoke-test.json"}
    assert {path: after[path] for path in before if path.startswith("collections/")} == {
        path: stamp for path, stamp in before.items() if path.startswith("collections/")}


def test_lab_secrets_exports_for_shells_what_it_prints_as_json(lab: Path):
    # scripts/main.sh evals the shell form; tests and bench/ read --json: both must name the same files.
    shell = run("bash", "-c", 'eval "$(bash scripts/lab_secrets.sh)" && '
                'printf "%s\\n%s\\n" "$SOPS_AGE_KEY_FILE" "$STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"', check=True)
    assert shell.stdout.splitlines() == [LAB_ENV["SOPS_AGE_KEY_FILE"], LAB_ENV["STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"]]
    assert Path(LAB_ENV["SOPS_AGE_KEY_FILE"]).read_text().startswith("# created:")
    assert Path(LAB_ENV["STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"]).read_text().startswith("ssh-ed25519 ")
