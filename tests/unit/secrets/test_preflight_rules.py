"""Good inputs pass (so the corpus cannot pass by failing everything), and the
small rules behave as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
from ansible_collections.stability.ops.plugins.plugin_utils import sops_files, vault_files
from stability_ops_dev.paths import REPO_ROOT
from stability_ops_dev.testing import secrets as lib
from stability_ops_dev.testing.secrets import GV, inline_vault, write


@pytest.mark.parametrize(
    ("name", "secret"),
    [("db_password", True), ("apiToken", True), ("aws_secret_access_key", True), ("private_key", True),
     ("password", True), ("backup_passphrase", True), ("password_min_length", False), ("token_ttl", False),
     ("ssh_authorized_key", False), ("public_key", False), ("tls_key_path", False),
     ("ssh_host_key_algorithms", False), ("region", False)],
)
def test_secret_key_names(name, secret):
    assert sp.is_secret_key(name) is secret


def test_secret_key_overrides():
    assert sp.is_secret_key("core_ssh_host_key", ignore=__import__("re").compile("^core_ssh_host_key$")) is False
    assert sp.is_secret_key("license_blob", extra=__import__("re").compile("license")) is True


GOOD_PLAIN = """\
---
region: eu-west
password_min_length: 14
ssh_authorized_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB example
db_password: "{{ vault_db_password }}"
empty_token: ""
use_password: true
"""


def test_good_files_pass_with_decryption(material, tmp_path):
    root = tmp_path
    (root / ".sops.yaml").write_text(lib.sops_config_text(material.key.public))
    write(root, GV / "main.yml", GOOD_PLAIN)
    write(root, GV / "inline.yml", inline_vault(material.vault12))
    write(root, GV / "vault.yml", material.vault12)
    write(root, GV / "legacy.yml", material.vault11)
    write(root, GV / "secrets.sops.yml", material.sops_text)
    write(root, GV / "comments-only.yml", "# nothing yet\n")
    write(root, GV / "README.md", f"password: {lib.SECRET}\n")  # not a vars file: ignored like Ansible does
    opts = sp.Options(paths=["inv/group_vars"], base_dir=str(root), tree_roots=[str(root)],
                      repository_root=str(root), decrypt=True, vault_secrets=material.vault_secrets,
                      age_key_file=str(material.key.path), sops_binary=lib.SOPS)
    result = sp.run(opts)
    assert result["failed"] is False, result["msg"]
    kinds = {Path(f["path"]).name: f["kind"] for f in result["files"]}
    assert kinds == {"main.yml": "plain", "inline.yml": "plain", "vault.yml": "vault", "legacy.yml": "vault",
                     "secrets.sops.yml": "sops", "comments-only.yml": "plain"}
    assert all(f["decrypted"] for f in result["files"] if f["kind"] in ("vault", "sops"))
    assert result["summary"]["checked"] == 6


def test_all_offending_files_are_listed_in_one_message(material, tmp_path):
    write(tmp_path, GV / "a.yml", f"db_password: {lib.SECRET}\n")
    write(tmp_path, GV / "b.yml", "")
    write(tmp_path, "inv/secrets.yml", "x: 1\n")
    result = sp.run(sp.Options(paths=["inv/group_vars", "inv/secrets*.yml"], base_dir=str(tmp_path),
                               tree_roots=[str(tmp_path)], repository_root=str(tmp_path)))
    assert result["summary"]["offending"] == 3
    for expected in ("inv/group_vars/all/a.yml: [plaintext-secret]", "inv/group_vars/all/b.yml: [empty-file]",
                     "inv/secrets.yml: [secrets-file-not-encrypted]"):
        assert expected in result["msg"]
    assert lib.SECRET not in json.dumps(result)


def test_default_paths_skip_missing_ones(tmp_path):
    paths = sp.default_paths([str(tmp_path)])
    result = sp.run(sp.Options(paths=paths, explicit_paths=False, tree_roots=[str(tmp_path)]))
    assert result["failed"] is False and result["summary"]["checked"] == 0


def test_inventory_dirs_from_sources(tmp_path):
    (tmp_path / "hosts.yml").write_text("all: {}\n")
    assert sp.inventory_dirs_from_sources([str(tmp_path / "hosts.yml"), str(tmp_path), "nope,"]) == [str(tmp_path)]


def test_vault_envelope_fields(material):
    assert vault_files.parse_envelope(material.vault12) == vault_files.VaultEnvelope("1.2", "AES256", "lab")
    assert vault_files.parse_envelope(material.vault11).vault_id is None
    assert vault_files.decrypt(material.vault12, material.vault_secrets).startswith(b"db_password:")


def test_creation_rule_match_is_relative_to_config(tmp_path):
    config = tmp_path / ".sops.yaml"
    config.write_text("creation_rules:\n  - path_regex: ^prod/.*\n    age: [a, b]\n  - age: c\n")
    rules = sops_files.load_rules(config)
    assert sops_files.match_rule(config, rules, tmp_path / "prod" / "x.sops.yml").age == ["a", "b"]
    assert sops_files.match_rule(config, rules, tmp_path / "lab" / "prod" / "x.sops.yml").age == ["c"]
    assert sops_files.find_config(tmp_path / "prod" / "deep") == config.resolve()


# --------------------------------------------------------------------------- heuristic, rules, sops selectors

@pytest.mark.parametrize("name", [
    "ldap_bind_pw", "db_password2", "DBPassword", "password_postgres", "secret_key_base", "PGPASSWORD",
    "mysql_root_pwd", "smtp_passwd", "redis_pass", "admin_pin", "awsSecretAccessKey", "oauth_client_secret",
    "ansible_become_pass", "ansible_ssh_pass", "api_key", "private_key", "secrets", "wifi_psk", "totp_seed"])
def test_heuristic_positives(name):
    assert sp.is_secret_key(name) is True


@pytest.mark.parametrize("name", [
    "ssh_public_key", "host_fingerprint", "gpg_key_fingerprint", "key_file", "tls_key_file", "key_name", "keyboard",
    "keyboard_layout", "password_min_length", "token_ttl", "secret_name", "passport_number", "salt_master",
    "ssh_host_key_algorithms", "primary_key", "sort_key", "region", "password_hash_algorithm", "token_url",
    "/etc/security/opasswd", "/etc/ssh/ssh_host_ed25519_key", "~/.ssh/id_ed25519"])
def test_heuristic_false_positives(name):
    assert sp.is_secret_key(name) is False


def test_check_data_applies_vars_rules_to_parsed_inventory_variables(tmp_path):
    checker = sp.Checker(sp.Options(base_dir=str(tmp_path)))
    result = sp.FileResult(path="inv/hosts.ini")
    data = {"ansible_become_pass": lib.SECRET, "ansible_host": "10.0.0.1", "backup": f"s3://u:{lib.SECRET}@h/b"}
    checker.check_data(tmp_path / "hosts.ini", data, result, origin="host web1")
    assert sorted(v.rule for v in result.violations) == ["connection-password", "url-credentials"]
    assert all("(host web1)" in v.detail for v in result.violations)
    assert lib.SECRET not in json.dumps(result.as_dict())


def test_scan_key_material_reads_large_files_head_middle_and_tail(material, tmp_path):
    checker = sp.Checker(sp.Options(base_dir=str(tmp_path)))
    key = material.key.private_text
    for name, content in [("head.bin", key + "x" * (5 << 20)), ("middle", "x" * (3 << 20) + key + "y" * (3 << 20)),
                          ("tail.key", "x" * (5 << 20) + key),
                          ("escaped.json", "".join(f"\\u{ord(ch):04x}" for ch in key))]:
        (tmp_path / name).write_text(content)
        found = checker.scan_key_material(tmp_path / name)
        assert found is not None and [v.rule for v in found.violations] == ["age-private-key"], name
    (tmp_path / "clean.txt").write_text("nothing\n")
    assert checker.scan_key_material(tmp_path / "clean.txt") is None


@pytest.mark.parametrize(("flags", "plain", "clear"), [
    (["--encrypted-regex", "^(data|stringData)$"], "data:\n  cert: x\nregion: eu\ndb_password: y\n",
     {"region", "db_password"}),
    (["--unencrypted-regex", "^db_"], "db_password: x\nregion: eu\nnested:\n  db_token: y\n",
     {"db_password", "nested.db_token"}),
    (["--encrypted-suffix", "_secret"], "app_secret: x\nregion: eu\nlist_secret:\n  - a\n", {"region"}),
    (["--unencrypted-suffix", "_clear"], "note_clear: x\ndb_password: y\nmeta_clear:\n  token: z\n",
     {"note_clear", "meta_clear.token"}),
    ([], "db_password: x\nnote_unencrypted: y\n", {"note_unencrypted"}),
], ids=["encrypted-regex", "unencrypted-regex", "encrypted-suffix", "unencrypted-suffix", "default-suffix"])
def test_sops_encrypts_matches_real_sops(material, flags, plain, clear):
    """Our reading of the selectors gives exactly the leaves real sops leaves in clear."""
    proc = __import__("subprocess").run(
        [lib.SOPS, "--encrypt", "--age", material.key.public, *flags, "--input-type", "yaml", "--output-type", "yaml",
         "/dev/stdin"], input=plain.encode(), capture_output=True, check=True)
    data = sp.load_vars_text(proc.stdout.decode())
    selectors = sops_files.metadata_selectors(data["sops"])
    body = {k: v for k, v in data.items() if k != "sops"}
    actual = {".".join(keys) for keys, _parts, value in sops_files._leaves(body) if not str(value).startswith("ENC[")}
    assert actual == clear
    predicted = {".".join(keys) for keys, _parts, _value in sops_files._leaves(sp.load_vars_text(plain))
                 if not sops_files.sops_encrypts(list(keys), selectors)}
    assert predicted == clear


def test_keys_left_in_clear_by_a_creation_rule(tmp_path):
    config = tmp_path / ".sops.yaml"
    config.write_text("creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    age: a\n"
                      "    pgp: 'ab cd'\n    key_groups:\n      - kms:\n          - arn: arn:1\n")
    rule = sops_files.load_rules(config)[0]
    data = {"region": "eu", "data": {"x": 1}, "db_password": "y", "api_tokens": {lib.SECRET: "ci"}}
    assert sops_files.keys_left_in_clear(rule, data, sp.is_secret_key) == ["db_password", "api_tokens.<redacted key>"]
    assert rule.recipients() == {("age", "a"), ("pgp", "ABCD"), ("kms", "arn:1")}


def test_every_rule_is_documented_in_the_secrets_guide():
    guide = (REPO_ROOT / "docs/secrets.md").read_text(encoding="utf-8")
    assert [rule for rule in sp.RULES if f"`{rule}`" not in guide] == []
