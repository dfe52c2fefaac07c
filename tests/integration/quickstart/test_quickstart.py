"""docs/quickstart.md end to end, as a user follows it in their own repository.

The release tarball is built from this working copy and installed offline into
``<tmp>/infra/collections``; the example repository is copied out of the
installed collection (so the tarball must carry it, dotfiles included). A
throwaway age key becomes the recipient of ``.sops.yaml``, real ``sops``
creates the secrets file holding a canary value, and the example inventory's
hosts become lab hosts (``scripts/lab.sh``, SSH lab: a real SSH login as the
admin through a ``docker exec`` ProxyCommand, become through sudo). Then, with
no ANSIBLE_CONFIG (cwd: the user's repository, ANSIBLE_HOME in tmp), the
commands of the quickstart: the one-time ``--tags core_users`` run as root, the
idempotence gate (its first run is the first deploy, which must end healthy;
its second must change nothing), the smoke test, the style guide and
ansible-lint. Nothing may be written inside the installed collection, and the
canary may appear in no output and no file of the user's repository.

One lab host (in both ``web`` and ``db``) keeps the test within its time
budget: every deploy of a second host adds about 20 s on two cores (three
deploys here, one of them in check mode). LAB_HOSTS = 2 runs the same test on
two hosts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = REPO_ROOT / "docs" / "examples" / "infra"
LAB_HOSTS = 1
SECRETS_FILE = "inventories/production/group_vars/all/secrets.sops.yml"
MAIN_VARS = "inventories/production/group_vars/all/main.yml"
# Both batches at once: the default rollout (a canary host, then 25 %) would deploy the hosts one by one.
ALL_AT_ONCE = ["-e", '{"stability_ops_serial": "100%"}']


class UserRepo:
    """The user's repository and everything the test ran in it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "infra"
        self.installed = self.root / "collections" / "ansible_collections" / "stability" / "ops"
        self.key_dir = tmp / "keys"
        self.age_key = self.key_dir / "age-key.txt"
        self.canary = f"qs-canary-{secrets.token_hex(12)}"
        self.lab = f"qa-quickstart-{uuid.uuid4().hex[:6]}"
        self.hosts = ["web1", "db1"][:LAB_HOSTS]
        self.outputs: dict[str, str] = {}
        self.before: dict[str, tuple[int, int]] = {}
        self.durations: dict[str, float] = {}
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        # A user's shell: none of the development settings (ANSIBLE_CONFIG, collections path, lab variables).
        clean = {key: value for key, value in os.environ.items()
                 if not key.startswith(("ANSIBLE_", "STABILITY_OPS_", "SOPS_", "MOLECULE_"))}
        self.env = {
            **clean,
            "PATH": path,
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp / "cp"),
            "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
            "ANSIBLE_NOCOLOR": "1",
            "SOPS_AGE_KEY_FILE": str(self.age_key),
        }
        # scripts/lab.sh runs in the development tree, its inventories go to tmp.
        self.lab_env = {
            **os.environ,
            "PATH": path,
            "STABILITY_OPS_LAB_NAME": self.lab,
            "STABILITY_OPS_LAB_CONNECTION": "ssh",
            "STABILITY_OPS_LAB_INVENTORY": str(tmp / "lab" / "hosts.yml"),
        }

    def run(self, label: str, args: list[str], *, cwd: Path | None = None, stdin: str | None = None,
            env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
        start = time.monotonic()
        result = subprocess.run(args, cwd=cwd or self.root, env=env or self.env, input=stdin, capture_output=True,
                                text=True, timeout=timeout, check=False)
        self.durations[label] = round(time.monotonic() - start, 1)
        self.outputs[label] = result.stdout + result.stderr
        return result

    def ok(self, label: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        result = self.run(label, args, **kwargs)
        tail = f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, f"{label} (rc {result.returncode}):\n{tail}"
        return result

    def playbook(self, label: str, *args: str) -> subprocess.CompletedProcess:
        return self.ok(label, ["ansible-playbook", *args])

    def summary(self, path: str = "reports/health_summary.json") -> dict:
        return json.loads((self.root / path).read_text(encoding="utf-8"))

    def replace_once(self, relative: str, old: str, new: str) -> None:
        """A user's edit of the example: the text the quickstart names must be there exactly once."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{relative}: expected {old!r} once"
        path.write_text(text.replace(old, new), encoding="utf-8")


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mtime and size: a write, a new or a removed file changes it."""
    listing = {".": (root.stat().st_mtime_ns, 0)}
    for path in root.rglob("*"):
        stat = path.lstat()
        listing[str(path.relative_to(root))] = (stat.st_mtime_ns, stat.st_size if path.is_file() else 0)
    return listing


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _build_and_install(repo: UserRepo) -> None:
    """Quickstart step 2: the tarball into collections/, installed offline, the example copied out of it."""
    dist = repo.tmp / "dist"
    repo.ok("build", ["ansible-galaxy", "collection", "build", "--force", "--output-path", str(dist), str(REPO_ROOT)],
            cwd=repo.tmp)
    (tarball,) = dist.glob("stability-ops-*.tar.gz")
    (repo.root / "collections").mkdir(parents=True)
    shutil.copy(tarball, repo.root / "collections")
    repo.ok("git init", ["git", "init", "-q", "."])
    repo.ok("install", ["ansible-galaxy", "collection", "install", "--offline", f"collections/{tarball.name}",
                        "-p", "collections"])
    shutil.copytree(repo.installed / "docs" / "examples" / "infra", repo.root, dirs_exist_ok=True)
    requirements = yaml.safe_load((repo.root / "collections" / "requirements.yml").read_text())
    assert requirements["collections"][0] == {"name": f"collections/{tarball.name}", "type": "file"}
    repo.ok("install -r", ["ansible-galaxy", "collection", "install", "--offline", "-r",
                           "collections/requirements.yml", "-p", "collections"])


def _secrets(repo: UserRepo) -> None:
    """Quickstart steps 3-5: the age key outside the repository, its recipient, the secrets file through sops."""
    repo.key_dir.mkdir(mode=0o700)
    repo.ok("age-keygen", ["age-keygen", "-o", str(repo.age_key)])
    assert repo.age_key.stat().st_mode & 0o077 == 0
    recipient = repo.ok("age-keygen -y", ["age-keygen", "-y", str(repo.age_key)]).stdout.strip()
    repo.replace_once(".sops.yaml", "age1-replace-with-your-recipient", recipient)
    # The plaintext goes to sops on stdin only; the file holds what sops writes.
    encrypted = repo.ok("sops encrypt", ["sops", "encrypt", "--filename-override", SECRETS_FILE],
                        stdin=f"infra_canary_api_token: {repo.canary}\n").stdout
    (repo.root / SECRETS_FILE).write_text(encrypted, encoding="utf-8")
    if (repo.installed / "playbooks" / "add_placeholders.yml").is_file():
        repo.playbook("add_placeholders", "stability.ops.add_placeholders",
                      "-e", "stability_ops_secrets_spec=required_secrets.yml")
    status = repo.ok("sops filestatus", ["sops", "filestatus", SECRETS_FILE]).stdout
    assert json.loads(status) == {"encrypted": True}


def _lab_inventory(repo: UserRepo) -> None:
    """Quickstart step 6 on lab hosts: hosts.yml names them, main.yml gets the admin's key and the container setting."""
    repo.ok("lab up", ["bash", "scripts/lab.sh", "up", str(LAB_HOSTS)], cwd=REPO_ROOT, env=repo.lab_env, timeout=400)
    lab_inventory = yaml.safe_load((repo.tmp / "lab" / "hosts.ssh.yml").read_text())
    ssh_vars = lab_inventory["all"]["children"]["production"]["vars"]
    connection = {key: ssh_vars[key] for key in
                  ("ansible_ssh_private_key_file", "ansible_host_key_checking", "ansible_ssh_common_args")}
    containers = [f"{repo.lab}-web{n}" for n in range(1, LAB_HOSTS + 1)]

    hosts_file = repo.root / "inventories" / "production" / "hosts.yml"
    inventory = yaml.safe_load(hosts_file.read_text())
    production = inventory["production"]
    assert production["vars"]["ansible_user"] == "deploy"
    web1 = {"ansible_host": containers[0]}
    production["children"]["web"]["hosts"] = {"web1": web1}
    production["children"]["db"]["hosts"] = {"db1": {"ansible_host": containers[1]}} if LAB_HOSTS > 1 else {"web1": {}}
    production["vars"].update(connection)
    hosts_file.write_text("---\n" + yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")

    public_key = Path(ssh_vars["ansible_ssh_private_key_file"] + ".pub").read_text().strip()
    repo.replace_once(MAIN_VARS, "ssh-ed25519 REPLACE-WITH-YOUR-PUBLIC-KEY deploy@example.com", public_key)
    # The lab hosts are containers: the quickstart's "uncomment it only for" case.
    repo.replace_once(MAIN_VARS, "# core_time_chrony_control_clock: false", "core_time_chrony_control_clock: false")
    # Lab only: chrony follows the loopback, the containers have no network anyway.
    lab_vars = repo.root / "inventories" / "production" / "group_vars" / "production" / "lab.yml"
    lab_vars.parent.mkdir()
    lab_vars.write_text("---\ncore_time_ntp_servers: [127.0.0.1]\ncore_time_ntp_pools: []\n", encoding="utf-8")
    # The hosts come with root reachable by the user's key (as a provider's image does).
    for container in containers:
        repo.ok(f"root key {container}", ["docker", "exec", "-i", container, "sh", "-c",
                                          "install -d -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys"],
                stdin=public_key + "\n", cwd=REPO_ROOT)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> UserRepo:
    repo = UserRepo(tmp_path_factory.mktemp("quickstart"))
    try:
        _build_and_install(repo)
        repo.before = _listing(repo.installed)
        _secrets(repo)
        _lab_inventory(repo)
        yield repo
    finally:
        subprocess.run(["bash", "scripts/lab.sh", "down"], cwd=REPO_ROOT, env=repo.lab_env, capture_output=True,
                       timeout=300, check=False)
        print("quickstart durations (s):", json.dumps(repo.durations))


def test_the_tarball_carries_the_example_repository(repo: UserRepo):
    shipped = _files(repo.installed / "docs" / "examples" / "infra")
    assert shipped == _files(EXAMPLE)
    assert {".sops.yaml", ".ansible-lint", ".gitignore", "ansible.cfg", "ci/gates.yml"} <= set(shipped)


def test_the_admin_is_created_once_as_root(repo: UserRepo):
    # Quickstart step 7: the admin once as root (only the users role) before any deploy as the admin.
    repo.playbook("bootstrap", "-i", "inventories/production", "stability.ops.production_deploy",
                  "--tags", "core_users", "-e", "ansible_user=root", *ALL_AT_ONCE)
    # The summary and its JUnit file where the example's ansible.cfg puts them.
    summary = repo.summary()
    assert (repo.root / "reports" / "health_summary.xml").is_file()
    assert summary["run"]["tags"] == ["core_users"]
    assert all(summary["hosts"][name]["counts"]["changed"] > 0 for name in repo.hosts)


def test_the_idempotence_gate_refuses_check_mode(repo: UserRepo):
    result = repo.run("gate --check", ["ansible-playbook", "-i", "inventories/production",
                                       "stability.ops.idempotence_gate", "--check"])
    assert result.returncode == 2
    assert "stability.ops.idempotence_gate does not run with --check" in result.stdout + result.stderr


def test_the_deploy_converges_healthy_and_the_idempotence_gate_passes(repo: UserRepo):
    """Quickstart steps 7 and 9. The gate's first run is the first deploy (`stability.ops.production_deploy`
    against the same inventory from the user's repository); a separate deploy before it would only add a
    third full run (about 90 s) to the test."""
    args = json.dumps({"stability_ops_idempotence_gate_args": ALL_AT_ONCE})
    result = repo.playbook("gate", "-i", "inventories/production", "stability.ops.idempotence_gate", "-e", args)
    report = repo.root / ".stability-ops" / "idempotence-gate"
    assert {path.name for path in report.iterdir()} == {
        "first.json", "first.xml", "first.log", "second.json", "second.xml", "second.log", "verdict.json"}

    deploy = repo.summary(".stability-ops/idempotence-gate/first.json")
    assert deploy["status"] == "healthy", deploy["reason"]
    assert deploy["run"]["inventory_sources"] == [str(repo.root / "inventories" / "production")]
    for name in repo.hosts:
        host = deploy["hosts"][name]
        assert host["status"] == "healthy", name
        assert host["counts"]["changed"] > 0, name
        assert {check["status"] for check in host["health"]["checks"]} == {"ok"}, name

    assert "Idempotence gate passed: the second run changed nothing on" in result.stdout
    verdict = json.loads((report / "verdict.json").read_text())
    assert verdict["passed"] is True
    assert verdict["changed"] == 0
    second = repo.summary(".stability-ops/idempotence-gate/second.json")
    assert second["run"]["check_mode"] is False
    assert second["run"]["id"] == verdict["run_id"] != deploy["run"]["id"]
    assert set(repo.hosts) == set(second["hosts"])
    assert all(host["counts"]["changed"] == 0 for host in second["hosts"].values())


def test_the_smoke_test_passes(repo: UserRepo):
    if not (repo.installed / "playbooks" / "smoke_test.yml").is_file():
        pytest.skip("stability.ops.smoke_test is not in this collection yet")
    repo.playbook("smoke test", "-i", "inventories/production", "stability.ops.smoke_test", "--check", "--diff",
                  "-e", "stability_ops_smoke_test_report=reports/smoke_test.json", *ALL_AT_ONCE)
    assert json.loads((repo.root / "reports" / "smoke_test.json").read_text())["status"] == "passed"


def test_the_style_guide_passes(repo: UserRepo):
    if not (repo.installed / "playbooks" / "style_guide.yml").is_file():
        pytest.skip("stability.ops.style_guide is not in this collection yet")
    repo.playbook("style guide", "stability.ops.style_guide")


def test_ansible_lint_passes_on_the_user_repository(repo: UserRepo):
    result = repo.ok("ansible-lint", ["ansible-lint"])
    assert "Profile 'production' was required, and it passed." in result.stdout + result.stderr


def test_nothing_was_written_into_the_installed_collection(repo: UserRepo):
    after = _listing(repo.installed)
    changed = sorted(path for path in set(repo.before) | set(after) if repo.before.get(path) != after.get(path))
    assert changed == []


def test_the_canary_secret_is_in_no_output_and_no_file(repo: UserRepo):
    assert repo.outputs, "no command ran"
    leaked_outputs = [label for label, text in repo.outputs.items() if repo.canary in text]
    assert leaked_outputs == []
    needle = repo.canary.encode()
    scanned = [p for p in repo.root.rglob("*") if p.is_file()] + [
        p for p in (repo.tmp / "ansible-home").rglob("*") if p.is_file()]
    assert repo.root / SECRETS_FILE in scanned
    leaked_files = [str(p) for p in scanned if needle in p.read_bytes()]
    assert leaked_files == []
    # The secrets file is SOPS ciphertext, every value encrypted.
    secrets_file = yaml.safe_load((repo.root / SECRETS_FILE).read_text())
    values = {key: value for key, value in secrets_file.items() if key != "sops"}
    assert "infra_canary_api_token" in values
    assert all(re.fullmatch(r"ENC\[AES256_GCM,.*\]", value) for value in values.values())
