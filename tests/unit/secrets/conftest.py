"""Session material for the secrets tests: age keys, a vault password, and one
good Vault and SOPS file produced by the real binaries (generated, never committed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import vault_files
from stability_ops_dev.testing import secrets as lib

PLAIN_SECRETS = f"db_password: {lib.SECRET}\napi_token: {lib.SECRET}-2\nservice_port: 8080\n"


@dataclass
class SecretsMaterial:
    key: lib.AgeKey
    other_key: lib.AgeKey
    password_file: Path
    vault_secrets: list
    vault11: str
    vault12: str
    sops_text: str
    sops_other_text: str


@pytest.fixture(scope="session")
def material(tmp_path_factory) -> SecretsMaterial:
    keys = tmp_path_factory.mktemp("secrets-keys")
    key = lib.make_age_key(keys, "one.txt")
    other = lib.make_age_key(keys, "two.txt")
    password_file = lib.write_password_file(keys)
    sops_plain = PLAIN_SECRETS + "description_unencrypted: lab database\n"
    return SecretsMaterial(
        key=key,
        other_key=other,
        password_file=password_file,
        vault_secrets=vault_files.secrets_from_files([f"lab@{password_file}"]),
        vault11=lib.vault_encrypt(PLAIN_SECRETS, password_file),
        vault12=lib.vault_encrypt(PLAIN_SECRETS, password_file, vault_id="lab"),
        sops_text=lib.sops_encrypt(sops_plain, key),
        sops_other_text=lib.sops_encrypt(sops_plain, other),
    )
