# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible Vault envelope checks and in-memory encrypt/decrypt (controller only).

The format checks read only the envelope (header and hex body); they never need
a password. Decryption and encryption use ansible-core's own ``VaultLib`` so the
result is exactly what ``ansible-vault`` and the playbook loader would produce.
Plaintext only ever lives in memory.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from ansible.parsing.vault import (
    AnsibleVaultError,
    VaultLib,
    VaultSecret,
    get_file_vault_secret,
)

VAULT_MAGIC = "$ANSIBLE_VAULT"
_HEX_LINE = re.compile(r"^[0-9a-fA-F]*$")
_VAULT_ID = re.compile(r"^[A-Za-z0-9_.@-]+$")
# The decoded body is "salt_hex\nhmac_hex\nciphertext_hex": a 32-byte salt, a
# SHA256 HMAC and AES-CTR ciphertext padded to whole 16-byte blocks (PKCS7).
_SALT_HEX_LEN = 64
_HMAC_HEX_LEN = 64
_BLOCK_HEX_LEN = 32


class VaultFormatError(ValueError):
    """The envelope is malformed. ``rule`` says which part."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class VaultEnvelope:
    version: str
    cipher: str
    vault_id: str | None


def looks_like_vault(text: str) -> bool:
    """True when the text claims to be a vault envelope (even a broken one)."""
    return text.lstrip("\ufeff \t\r\n").startswith("$ANSIBLE")


def parse_envelope(text: str) -> VaultEnvelope:
    """Validate a whole vault envelope and return its header fields.

    Raises VaultFormatError with rule ``vault-header-invalid`` or
    ``vault-body-invalid``. The message never contains body data.
    """
    lines = text.strip().splitlines()
    if not lines:
        raise VaultFormatError("vault-body-invalid", "vault envelope is empty")
    header = lines[0].strip().split(";")
    if header[0] != VAULT_MAGIC:
        raise VaultFormatError("vault-header-invalid", f"header must start with {VAULT_MAGIC!r}")
    if len(header) < 3:
        raise VaultFormatError("vault-header-invalid", "header has fewer than 3 fields")
    version, cipher = header[1].strip(), header[2].strip()
    vault_id = None
    if version == "1.1":
        if len(header) != 3:
            raise VaultFormatError("vault-header-invalid", "format 1.1 header must have exactly 3 fields")
    elif version == "1.2":
        if len(header) != 4 or not header[3].strip():
            raise VaultFormatError("vault-header-invalid", "format 1.2 header must carry a vault id as 4th field")
        vault_id = header[3].strip()
        if not _VAULT_ID.match(vault_id):
            raise VaultFormatError("vault-header-invalid", "vault id in header contains invalid characters")
    else:
        raise VaultFormatError("vault-header-invalid",
                               f"unsupported vault format version {version!r} (need 1.1 or 1.2)")
    if cipher != "AES256":
        raise VaultFormatError("vault-header-invalid", f"unsupported cipher {cipher!r} (need AES256)")
    _check_body(lines[1:])
    return VaultEnvelope(version=version, cipher=cipher, vault_id=vault_id)


def _check_body(body_lines: list[str]) -> None:
    body = "".join(line.strip() for line in body_lines)
    if not body:
        raise VaultFormatError("vault-body-invalid", "vault body is missing")
    if not all(_HEX_LINE.match(line.strip()) for line in body_lines):
        raise VaultFormatError("vault-body-invalid", "vault body contains non-hex characters")
    if len(body) % 2:
        raise VaultFormatError("vault-body-invalid", "vault body has an odd number of hex digits (truncated?)")
    try:
        inner = binascii.unhexlify(body).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise VaultFormatError("vault-body-invalid", "vault body does not decode to salt/hmac/ciphertext") from None
    parts = inner.split("\n")
    if len(parts) != 3:
        raise VaultFormatError("vault-body-invalid", "vault body must hold salt, hmac and ciphertext (truncated?)")
    salt, hmac, ciphertext = parts
    if len(salt) != _SALT_HEX_LEN or not _HEX_LINE.match(salt):
        raise VaultFormatError("vault-body-invalid", "vault salt is not 32 bytes of hex")
    if len(hmac) != _HMAC_HEX_LEN or not _HEX_LINE.match(hmac):
        raise VaultFormatError("vault-body-invalid", "vault HMAC is not 32 bytes of hex")
    if not ciphertext or len(ciphertext) % _BLOCK_HEX_LEN or not _HEX_LINE.match(ciphertext):
        raise VaultFormatError("vault-body-invalid", "vault ciphertext is not whole AES blocks (truncated?)")


def secrets_from_files(vault_ids: list[str]) -> list[tuple[str, VaultSecret]]:
    """Load ``[id@]file`` specs (like ``--vault-id``) into VaultLib secrets.

    Executable files are run as vault password clients, as ansible-vault does.
    """
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    result = []
    for spec in vault_ids:
        vault_id, sep, path = spec.partition("@")
        if not sep:
            vault_id, path = "default", spec
        secret = get_file_vault_secret(filename=path, vault_id=vault_id, loader=loader)
        secret.load()
        result.append((vault_id, secret))
    return result


def decrypt(text: str | bytes, secrets: list[tuple[str, VaultSecret]]) -> bytes:
    """Decrypt a vault envelope in memory. Raises AnsibleVaultError on failure."""
    if not secrets:
        raise AnsibleVaultError("no vault secret is configured")
    data = text.encode() if isinstance(text, str) else text
    return VaultLib(secrets).decrypt(data)


def encrypt(plaintext: bytes, secrets: list[tuple[str, VaultSecret]], vault_id: str | None = None) -> str:
    """Encrypt plaintext with the secret for ``vault_id`` (or the first one)."""
    if not secrets:
        raise AnsibleVaultError("no vault secret is configured")
    chosen_id, secret = secrets[0]
    if vault_id is not None:
        matches = [pair for pair in secrets if pair[0] == vault_id]
        if not matches:
            raise AnsibleVaultError(f"no vault secret for vault id {vault_id!r}")
        chosen_id, secret = matches[0]
    label = None if chosen_id == "default" else chosen_id
    return VaultLib(secrets).encrypt(plaintext, secret=secret, vault_id=label).decode()
