"""3. Preflight throughput: generated inventories of mixed Vault, SOPS and plain
vars files checked by the secrets preflight rules (called as the action plugin
calls them) against one `sops filestatus` call per file.

SOPS files come from a few templates encrypted by the real sops binary, then
copied under new names (encrypting thousands with sops would take minutes);
Vault files from a few templates encrypted with ansible-core's VaultLib. The
per-file sops baseline runs on an evenly spread sample and is extrapolated
linearly to the full count; both sides are measured in the same run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from .common import REPO_ROOT, BenchError, Deadline, ansible_env, log, run_timed, summary

SOPS_TEMPLATES = 3
VAULT_TEMPLATES = 5
VAULT_PASSWORD = "bench-vault-password"  # noqa: S105 -- a throwaway password for generated benchmark files


def _preflight_module():
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(REPO_ROOT / ".collections")])._install()
    from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight, vault_files

    return secrets_preflight, vault_files


def _sops() -> str:
    return shutil.which("sops", path=os.path.dirname(sys.executable)) or shutil.which("sops") or "sops"


class Tree:
    """A throwaway repository-like tree: inventory/.sops.yaml and group_vars/gNNNN/{secrets.sops,vault,main}.yml."""

    def __init__(self, root: Path) -> None:
        self.root = root / "repository"
        self.inventory = self.root / "inventory"
        # The key lives outside the tree, as the preflight demands (age-key-in-tree).
        self.key_file = root / "keys" / "age-key.txt"
        self.templates: dict[str, list[bytes]] = {"sops": [], "vault": [], "plain": []}
        self.vault_secrets: list = []

    def prepare_templates(self, vault_files) -> None:
        from ansible.parsing.vault import VaultSecret

        self.key_file.parent.mkdir(parents=True)
        subprocess.run(["age-keygen", "-o", str(self.key_file)], capture_output=True, check=True)
        self.key_file.chmod(0o600)
        recipient = subprocess.run(["age-keygen", "-y", str(self.key_file)], capture_output=True, text=True,
                                   check=True).stdout.strip()
        self.inventory.mkdir(parents=True)
        (self.inventory / ".sops.yaml").write_text(
            f"creation_rules:\n  - path_regex: group_vars/.*\\.sops\\.ya?ml$\n    age: {recipient}\n")
        env = {**os.environ, "SOPS_AGE_KEY_FILE": str(self.key_file)}
        for index in range(SOPS_TEMPLATES):
            target = self.inventory / "group_vars" / f"template{index}" / "secrets.sops.yml"
            target.parent.mkdir(parents=True)
            target.write_text(f"app_{index}_db_password: generated-{index}-x7Qk\napp_{index}_api_token: tok-{index}\n"
                              f"app_{index}_port: {8000 + index}\n")
            subprocess.run([_sops(), "--config", str(self.inventory / ".sops.yaml"), "--encrypt", "--in-place",
                            str(target)], env=env, capture_output=True, check=True, timeout=60)
            self.templates["sops"].append(target.read_bytes())
            shutil.rmtree(target.parent)
        self.vault_secrets = [("default", VaultSecret(VAULT_PASSWORD.encode()))]
        for index in range(VAULT_TEMPLATES):
            plaintext = f"vault_app_{index}_password: v-{index}-secret\n".encode()
            self.templates["vault"].append(vault_files.encrypt(plaintext, self.vault_secrets).encode())
        inline = vault_files.encrypt(b"inline-secret-value", self.vault_secrets)
        inline_block = "\n".join("    " + line for line in inline.splitlines())
        self.templates["plain"] = [
            b"app_port: 8080\napp_users:\n  - alice\n  - bob\napp_settings:\n  retries: 3\n  timeout: 30\n",
            f"app_db_host: db.example.internal\napp_db_password: !vault |\n{inline_block}\n".encode(),
            b"app_features: {search: true, audit: false}\napp_db_password: \"{{ vault_app_0_password }}\"\n",
        ]

    def populate(self, count: int) -> Path:
        """`count` files, a third of each kind, in group directories of three."""
        directory = self.root / f"files-{count}"
        group_vars = directory / "group_vars"
        group_vars.mkdir(parents=True)
        shutil.copy(self.inventory / ".sops.yaml", directory / ".sops.yaml")
        names = ("secrets.sops.yml", "vault.yml", "main.yml")
        kinds = ("sops", "vault", "plain")
        for index in range(count):
            group = group_vars / f"g{index // 3:05d}"
            if index % 3 == 0:
                group.mkdir()
            kind = kinds[index % 3]
            templates = self.templates[kind]
            (group / names[index % 3]).write_bytes(templates[(index // 3) % len(templates)])
        return directory


def _check(secrets_preflight, directory: Path, tree: Tree, decrypt: bool = False, paths: list[str] | None = None):
    """The rules as the action plugin calls them when `paths` is omitted: the inventory's default paths."""
    opts = secrets_preflight.Options(
        paths=paths or secrets_preflight.default_paths([str(directory)]), base_dir=str(directory),
        tree_roots=[str(tree.root), str(directory)], repository_root=str(tree.root), decrypt=decrypt,
        vault_secrets=tree.vault_secrets, age_key_file=str(tree.key_file), scan_tracked_files=False,
        explicit_paths=paths is not None)
    start = time.perf_counter()
    report = secrets_preflight.run(opts)
    return time.perf_counter() - start, report


def _sops_filestatus(files: list[Path], tree: Tree, deadline: Deadline) -> float:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(tree.key_file)}
    start = time.perf_counter()
    for path in files:
        # Vault and plain files are not SOPS documents: sops says so (exit code 0 or not); the cost is the call.
        subprocess.run([_sops(), "filestatus", str(path)], env=env, capture_output=True, check=False,
                       timeout=deadline.left(30))
    return time.perf_counter() - start


def _sample(files: list[Path], size: int) -> list[Path]:
    step = max(1, len(files) // size)
    return files[::step][:size]


def _playbook_run(directory: Path, tree: Tree, deadline: Deadline) -> float:
    playbook = tree.root / "preflight.yml"
    playbook.write_text(
        "- name: Bench | secrets preflight through the action plugin\n  hosts: localhost\n  connection: local\n"
        "  gather_facts: false\n  tasks:\n    - name: Check every file\n      stability.ops.preflight_secrets:\n"
        f"        paths: ['{directory}/group_vars']\n        decrypt: false\n        scan_tree: false\n"
        # The rules on the files given, as before discovery existed: what ansible itself loads is not the measure.
        "        discover: false\n")
    env = ansible_env(SOPS_AGE_KEY_FILE=str(tree.key_file))
    return run_timed(["ansible-playbook", "-i", "localhost,", str(playbook)], env=env, timeout=deadline.left(300),
                     what="preflight playbook").seconds


def run(counts: list[int], sample: int, reps: int, budget: float, playbook: bool = True) -> dict:
    deadline = Deadline(budget, "preflight")
    secrets_preflight, vault_files = _preflight_module()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-preflight-") as tmp:
        tree = Tree(Path(tmp))
        start = time.perf_counter()
        tree.prepare_templates(vault_files)
        log(f"preflight: {SOPS_TEMPLATES} SOPS and {VAULT_TEMPLATES} Vault templates in "
            f"{time.perf_counter() - start:.1f} s")
        for count in counts:
            directory = tree.populate(count)
            files = sorted(directory.glob("group_vars/*/*"))
            baseline_sample = _sample(files, min(sample, count))
            preflight_times, python_times, sops_times = [], [], []
            report = None
            for _rep in range(reps):
                seconds, report = _check(secrets_preflight, directory, tree)
                preflight_times.append(seconds)
                with yaml_parser(secrets_preflight, yaml.SafeLoader):
                    seconds, python_report = _check(secrets_preflight, directory, tree)
                python_times.append(seconds)
                sops_times.append(_sops_filestatus(baseline_sample, tree, deadline) / len(baseline_sample) * count)
            if report["failed"] or report["summary"]["checked"] != count:
                raise BenchError(f"the preflight did not pass the generated files: {report['msg'][:500]}")
            if python_report != report:
                raise BenchError("the pure-Python parser variant reported differently: not comparable")
            row = {"files": count, "by_kind": report["summary"]["by_kind"], "sample": len(baseline_sample),
                   "preflight": summary(preflight_times), "sops_filestatus_extrapolated": summary(sops_times)}
            row["speedup"] = round(statistics.median(sops_times) / statistics.median(preflight_times), 1)
            # Before the tuning: the same rules on PyYAML's pure-Python parser.
            row["loader"] = secrets_preflight._VarsLoader.__mro__[1].__name__
            row["pure_python_parser"] = summary(python_times)
            row["pure_python_speedup"] = round(statistics.median(sops_times) / statistics.median(python_times), 1)
            row["shipped_over_pure_python"] = round(
                statistics.median(preflight_times) / statistics.median(python_times), 3)
            row["preflight_microseconds_per_file"] = round(statistics.median(preflight_times) / count * 1e6, 1)
            row["sops_milliseconds_per_file"] = round(statistics.median(sops_times) / count * 1e3, 2)
            # decrypt: true (the preflight playbook's default) runs sops once per SOPS file: on the sample.
            decrypt_seconds, decrypt_report = _check(secrets_preflight, directory, tree, decrypt=True,
                                                     paths=[str(p) for p in baseline_sample])
            if decrypt_report["failed"]:
                raise BenchError(f"decrypt preflight failed on generated files: {decrypt_report['msg'][:500]}")
            row["decrypt_milliseconds_per_file"] = round(decrypt_seconds / len(baseline_sample) * 1e3, 2)
            if playbook and count == counts[-1]:
                row["playbook_seconds"] = round(_playbook_run(directory, tree, deadline), 3)
            rows.append(row)
            log(f"preflight, {count} files: {row['preflight']['median']:.2f} s vs sops filestatus "
                f"{row['sops_filestatus_extrapolated']['median']:.1f} s (extrapolated from {len(baseline_sample)}): "
                f"{row['speedup']}x")
            shutil.rmtree(directory)
    per_file = [row["preflight_microseconds_per_file"] for row in rows]
    # Linearity: the cost per file at the largest size over the cost per file at the smallest.
    return {"rows": rows, "reps": reps, "linearity": round(per_file[-1] / per_file[0], 3),
            "note": f"sops filestatus timed on an evenly spread sample of up to {sample} files per size and "
                    "extrapolated linearly (one process per file); the preflight is timed on every file."}


@contextlib.contextmanager
def yaml_parser(secrets_preflight, base):
    """Run the rules with the same vars loader (Ansible tags, duplicate keys) on another PyYAML parser:
    yaml.SafeLoader (pure Python, before) or yaml.CSafeLoader (libyaml, after). Only for this measurement."""

    class VarsLoader(base):
        yaml_constructors = dict(secrets_preflight._VarsLoader.yaml_constructors)

    original = secrets_preflight.load_vars_text
    secrets_preflight.load_vars_text = lambda text: yaml.load(text, Loader=VarsLoader)  # noqa: S506
    try:
        yield
    finally:
        secrets_preflight.load_vars_text = original
