"""The bad-input corpus: every case is a real file (real sops, age and
ansible-vault output, then damaged) that must fail with its expected rule, and
no output may contain a secret value."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
from stability_ops_dev.testing import secrets as lib
from stability_ops_dev.testing.secrets import GV, inline_vault, write


@dataclass
class Case:
    id: str
    rule: str
    build: Callable  # (material, root) -> path to check, relative to root
    decrypt: bool = False
    options: dict = field(default_factory=dict)


def vault_damaged(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def vault_tampered(text: str) -> str:
    """Change one ciphertext digit but keep the envelope well-formed: only the HMAC can tell."""
    header, *body = text.strip().splitlines()
    salt, hmac, ciphertext = bytes.fromhex("".join(body)).decode().split("\n")
    ciphertext = ("a" if ciphertext[0] != "a" else "b") + ciphertext[1:]
    outer = "\n".join([salt, hmac, ciphertext]).encode().hex()
    return header + "\n" + "\n".join(outer[i : i + 80] for i in range(0, len(outer), 80)) + "\n"


def sops_without(text: str, prefix: str) -> str:
    lines = text.splitlines()
    kept = [line for line in lines if not line.startswith(prefix)]
    assert len(kept) < len(lines), prefix
    return "\n".join(kept) + "\n"


def sops_without_age(text: str) -> str:
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith("    age:"):
            skipping = True
            continue
        if skipping and line.startswith("        "):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


def sops_tampered(text: str) -> str:
    """Change one byte of one encrypted value while keeping valid base64."""
    line = next(li for li in text.splitlines() if li.startswith("db_password: ENC["))
    data = line.split("data:", 1)[1].split(",", 1)[0]
    changed = ("A" if data[0] != "A" else "B") + data[1:]
    return text.replace(line, line.replace(f"data:{data},", f"data:{changed},"))


def git_repo_with(root: Path, rel: str, content: str) -> None:
    write(root, rel, content)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for cmd in (["init", "-q"], ["add", rel], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env, capture_output=True)


def symlink_out(m, root: Path) -> Path:
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "vars.yml").write_text("harmless: true\n")
    (root / GV).mkdir(parents=True)
    (root / GV / "linked.yml").symlink_to(outside / "vars.yml")
    return GV / "linked.yml"


def dangling_symlink(m, root: Path) -> Path:
    (root / GV).mkdir(parents=True)
    (root / GV / "gone.yml").symlink_to(root / GV / "deleted.yml")
    return GV / "gone.yml"


def key_world_readable(m, root: Path) -> Path:
    key = lib.make_age_key(root.parent / f"{root.name}-keys")
    key.path.chmod(0o644)
    return write(root, GV / "main.yml", "harmless: true\n"), {"age_key_file": str(key.path)}


def key_in_tree(m, root: Path) -> Path:
    key = lib.make_age_key(root / "inv")
    return write(root, GV / "main.yml", "harmless: true\n"), {"age_key_file": str(key.path)}


def committed_age_key(m, root: Path) -> Path:
    git_repo_with(root, "docs/notes.txt", f"old key:\n{m.key.private_text}\n")
    return write(root, GV / "main.yml", "harmless: true\n"), {"scan_tracked_files": True}


CASES = [
    # plaintext
    Case("plaintext-top-level", "plaintext-secret",
         lambda m, r: write(r, GV / "main.yml", f"db_password: {lib.SECRET}\n")),
    Case("plaintext-nested", "plaintext-secret",
         lambda m, r: write(r, GV / "main.yml", f"app:\n  settings:\n    apiToken: {lib.SECRET}\n")),
    Case("plaintext-list-under-secret-key", "plaintext-secret",
         lambda m, r: write(r, GV / "main.yml", f"api_keys:\n  - {lib.SECRET}\n")),
    Case("plaintext-integer-pin", "plaintext-secret",
         lambda m, r: write(r, GV / "main.yml", f"admin_pin: {lib.SECRET_INT}\n")),
    Case("plaintext-json", "plaintext-secret",
         lambda m, r: write(r, GV / "main.json", json.dumps({"smtp_password": lib.SECRET}))),
    Case("plaintext-host-vars", "plaintext-secret",
         lambda m, r: write(r, "inv/host_vars/web1.yml", f"root_passphrase: '{lib.SECRET}'\n")),
    Case("secrets-name-not-encrypted", "secrets-file-not-encrypted",
         lambda m, r: write(r, "inv/secrets.yml", "region: eu\n")),
    Case("sops-name-not-encrypted", "secrets-file-not-encrypted",
         lambda m, r: write(r, GV / "secrets.sops.yml", "region: eu\n")),
    # vault envelope
    Case("vault-truncated", "vault-body-invalid", lambda m, r: write(r, GV / "vault.yml", m.vault11[:-41])),
    Case("vault-non-hex", "vault-body-invalid",
         lambda m, r: write(r, GV / "vault.yml", m.vault11[:60] + "zz" + m.vault11[62:])),
    Case("vault-header-only", "vault-body-invalid",
         lambda m, r: write(r, GV / "vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n")),
    Case("vault-body-lines-dropped", "vault-body-invalid",
         lambda m, r: write(r, GV / "vault.yml", "\n".join(m.vault11.splitlines()[:3]) + "\n")),
    Case("vault-version-1.0", "vault-header-invalid",
         lambda m, r: write(r, GV / "vault.yml", vault_damaged(m.vault11, ";1.1;", ";1.0;"))),
    Case("vault-cipher-aes128", "vault-header-invalid",
         lambda m, r: write(r, GV / "vault.yml", vault_damaged(m.vault11, "AES256", "AES128"))),
    Case("vault-1.2-without-id", "vault-header-invalid",
         lambda m, r: write(r, GV / "vault.yml", vault_damaged(m.vault12, ";AES256;lab", ";AES256"))),
    Case("vault-magic-misspelled", "vault-header-invalid",
         lambda m, r: write(r, GV / "vault.yml", vault_damaged(m.vault11, "$ANSIBLE_VAULT", "$ANSIBLE_VALT"))),
    Case("vault-tampered-ciphertext", "vault-decrypt-failed",
         lambda m, r: write(r, GV / "vault.yml", vault_tampered(m.vault11)), decrypt=True),
    Case("vault-wrong-password", "vault-decrypt-failed",
         lambda m, r: write(r, GV / "vault.yml", lib.vault_encrypt("a: 1\n", lib.write_password_file(
             r.parent / f"{r.name}-pw", "another-password-123"))), decrypt=True),
    Case("inline-vault-truncated", "inline-vault-invalid",
         lambda m, r: write(r, GV / "main.yml", inline_vault(m.vault11[:-41]))),
    Case("inline-vault-tampered", "inline-vault-invalid",
         lambda m, r: write(r, GV / "main.yml", inline_vault(vault_tampered(m.vault11))), decrypt=True),
    # sops
    Case("sops-without-mac", "sops-mac-missing",
         lambda m, r: write(r, GV / "secrets.sops.yml", sops_without(m.sops_text, "    mac:"))),
    Case("sops-mac-not-enc", "sops-mac-invalid",
         lambda m, r: write(r, GV / "secrets.sops.yml",
                            sops_without(m.sops_text, "    mac:") + "    mac: deadbeef\n")),
    Case("sops-without-lastmodified", "sops-metadata-incomplete",
         lambda m, r: write(r, GV / "secrets.sops.yml", sops_without(m.sops_text, "    lastmodified:"))),
    Case("sops-without-version", "sops-metadata-incomplete",
         lambda m, r: write(r, GV / "secrets.sops.yml", sops_without(m.sops_text, "    version:"))),
    Case("sops-without-age-recipient", "sops-no-age-recipient",
         lambda m, r: write(r, GV / "secrets.sops.yml", sops_without_age(m.sops_text))),
    Case("sops-invalid-recipient", "sops-recipient-invalid",
         lambda m, r: write(r, GV / "secrets.sops.yml", m.sops_text.replace(m.key.public, "age1notakey"))),
    Case("sops-tampered-value", "sops-decrypt-failed",
         lambda m, r: write(r, GV / "secrets.sops.yml", sops_tampered(m.sops_text)), decrypt=True),
    Case("sops-recipient-not-in-config", "sops-recipient-mismatch",
         lambda m, r: write(r, GV / "secrets.sops.yml", m.sops_other_text)),
    Case("sops-plaintext-value-added", "sops-value-unencrypted",
         lambda m, r: write(r, GV / "secrets.sops.yml", f"extra_setting: {lib.SECRET}\n" + m.sops_text)),
    Case("sops-unencrypted-secret-key", "sops-secret-unencrypted",
         lambda m, r: write(r, GV / "secrets.sops.yml", f"db_password_unencrypted: {lib.SECRET}\n" + m.sops_text)),
    Case("sops-malformed-enc", "sops-value-malformed",
         lambda m, r: write(r, GV / "secrets.sops.yml",
                            f"other_token: ENC[AES256_GCM,data:{lib.SECRET}]\n" + m.sops_text)),
    Case("sops-no-creation-rule", "sops-no-creation-rule",
         lambda m, r: write(r, GV / "secrets.sops.yml", m.sops_text), options={"config": "only-prod/.*"}),
    Case("sops-config-missing", "sops-config-missing",
         lambda m, r: write(r, GV / "secrets.sops.yml", m.sops_text), options={"config": None}),
    Case("sops-config-invalid", "sops-config-invalid",
         lambda m, r: write(r, GV / "secrets.sops.yml", m.sops_text), options={"config_text": "creation_rules: 42\n"}),
    # file level
    Case("yaml-unclosed-flow", "yaml-invalid",
         lambda m, r: write(r, GV / "main.yml", f"x: [1, 2\npassword: {lib.SECRET}\n")),
    Case("yaml-bad-indent", "yaml-invalid", lambda m, r: write(r, GV / "main.yml", "a:\n  b: 1\n c: 2\n")),
    Case("yaml-duplicate-key", "yaml-invalid", lambda m, r: write(r, GV / "main.yml", "region: eu\nregion: us\n")),
    Case("vars-is-a-list", "vars-not-mapping", lambda m, r: write(r, GV / "main.yml", f"- {lib.SECRET}\n")),
    Case("empty-file", "empty-file", lambda m, r: write(r, GV / "main.yml", "")),
    Case("whitespace-only", "empty-file", lambda m, r: write(r, "inv/secrets.yml", "\n  \n")),
    Case("binary-nul", "binary-file", lambda m, r: write(r, GV / "main.yml", b"a: 1\x00\x01\x02")),
    Case("binary-latin1", "binary-file", lambda m, r: write(r, GV / "main.yml", "password: caf\xe9".encode("latin-1"))),
    Case("dangling-symlink", "unreadable", dangling_symlink),
    Case("symlink-out-of-tree", "symlink-outside-tree", symlink_out),
    Case("age-private-key-in-vars", "age-private-key",
         lambda m, r: write(r, GV / "main.yml", f"# backup of the key: {m.key.private_text}\nregion: eu\n")),
    Case("vault-password-in-vars", "vault-password-text",
         lambda m, r: write(r, GV / "main.yml", f"# vault pass is {lib.VAULT_PASSWORD}\nregion: eu\n")),
    Case("world-readable-key-file", "key-file-permissions", key_world_readable),
    Case("age-key-inside-inventory", "age-key-in-tree", key_in_tree),
    Case("committed-age-private-key", "age-private-key", committed_age_key),
    Case("missing-age-key-file", "key-file-missing",
         lambda m, r: (write(r, GV / "main.yml", "region: eu\n"), {"age_key_file": str(r / "nope.txt")}),
         decrypt=True),
    Case("explicit-path-missing", "path-not-found", lambda m, r: Path("inv/group_vars/nothing.yml")),
]


def run_case(case: Case, material, root: Path) -> dict:
    built = case.build(material, root)
    rel, extra = built if isinstance(built, tuple) else (built, {})
    config = case.options.get("config", r".*\.sops\.ya?ml$")
    if "config_text" in case.options:
        (root / ".sops.yaml").write_text(case.options["config_text"])
    elif config is not None:
        (root / ".sops.yaml").write_text(lib.sops_config_text(material.key.public, path_regex=config))
    opts = sp.Options(paths=[str(rel)], base_dir=str(root), tree_roots=[str(root)], repository_root=str(root),
                      decrypt=case.decrypt, vault_secrets=material.vault_secrets,
                      age_key_file=str(material.key.path), sops_binary=lib.SOPS, scan_tracked_files=False)
    for name, value in extra.items():
        setattr(opts, name, value)
    return sp.run(opts)


def assert_no_leak(result: dict, material) -> None:
    dumped = json.dumps(result)
    for value in (lib.SECRET, str(lib.SECRET_INT), lib.VAULT_PASSWORD, material.key.private_text,
                  material.other_key.private_text):
        assert value not in dumped


def test_corpus_is_large_and_covers_the_rules():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    uncovered = set(sp.RULES) - {c.rule for c in CASES}
    assert not uncovered, f"rules without a corpus case: {sorted(uncovered)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_with_its_rule(case: Case, material, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    result = run_case(case, material, root)
    assert result["failed"] is True
    assert case.rule in {v["rule"] for v in result["violations"]}, result["msg"]
    assert f"[{case.rule}]" in result["msg"]
    assert_no_leak(result, material)
