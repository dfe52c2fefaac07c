# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SOPS (age) file structure checks, ``.sops.yaml`` rules and the sops runner.

Controller only. The structure checks work on the parsed document and never
need a key; :class:`SopsRunner` calls the real ``sops`` binary, feeding
plaintext through stdin and reading it from stdout so that it never touches
the disk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_redaction

SOPS_CONFIG_NAMES = (".sops.yaml", ".sops.yml")
ENC_VALUE = re.compile(
    r"^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]{16,},tag:[A-Za-z0-9+/=]{16,},"
    r"type:(str|int|float|bool|bytes|comment)\]$"
)
AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
REQUIRED_METADATA = ("mac", "lastmodified", "version")


class SopsError(RuntimeError):
    """sops failed; the message is sops' whole stderr passed through the redaction layer
    (``secrets_redaction.redact_sops_stderr``), so it keeps the reason and never a value."""

    def __init__(self, message: str, stderr: str | bytes | None = None, path: str | Path | None = None) -> None:
        self.reason = secrets_redaction.redact_sops_stderr(stderr, path) if stderr is not None else message
        super().__init__(self.reason)


@dataclass
class Violation:
    rule: str
    detail: str


# Recipient types: the .sops.yaml creation-rule key and the file-metadata key of each.
RECIPIENT_TYPES = ("age", "pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault")
# The default sops applies when a rule sets none of the four selectors.
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"


@dataclass
class CreationRule:
    """One ``.sops.yaml`` creation rule with every recipient type and selector sops knows."""

    index: int
    path_regex: str | None
    age: list[str]
    raw: dict = field(default_factory=dict)
    pgp: list[str] = field(default_factory=list)
    kms: list[str] = field(default_factory=list)
    gcp_kms: list[str] = field(default_factory=list)
    azure_keyvault: list[str] = field(default_factory=list)
    hc_vault_transit_uri: list[str] = field(default_factory=list)
    key_groups: list[dict[str, list[str]]] = field(default_factory=list)
    encrypted_regex: str | None = None
    unencrypted_regex: str | None = None
    encrypted_suffix: str | None = None
    unencrypted_suffix: str | None = None
    encrypted_comment_regex: str | None = None
    unencrypted_comment_regex: str | None = None
    mac_only_encrypted: bool = False

    def recipients(self) -> set[tuple[str, str]]:
        """Every (type, id) the rule encrypts to, top level and key groups alike."""
        found = {("age", r) for r in self.age} | {("pgp", _fp(r)) for r in self.pgp}
        found |= {("kms", r) for r in self.kms} | {("gcp_kms", r) for r in self.gcp_kms}
        found |= {("azure_keyvault", r.rstrip("/")) for r in self.azure_keyvault}
        found |= {("hc_vault", r.rstrip("/")) for r in self.hc_vault_transit_uri}
        for group in self.key_groups:
            for kind, ids in group.items():
                found |= {(kind, _fp(r) if kind == "pgp" else r.rstrip("/")) for r in ids}
        return found

    def selectors(self) -> dict[str, str]:
        """The key selectors sops applies, with its default when none is set."""
        chosen = {name: getattr(self, name) for name in
                  ("encrypted_regex", "unencrypted_regex", "encrypted_suffix", "unencrypted_suffix")
                  if getattr(self, name)}
        return chosen or {"unencrypted_suffix": DEFAULT_UNENCRYPTED_SUFFIX}


def _fp(value: str) -> str:
    return re.sub(r"\s+", "", str(value)).upper()


def _rule_group(group: dict) -> dict[str, list[str]]:
    """A key group of .sops.yaml: lists of strings or of mappings (kms arn, gcp resource_id, ...)."""
    result: dict[str, list[str]] = {}
    for kind, field_name in (("age", None), ("pgp", None), ("kms", "arn"), ("gcp_kms", "resource_id"),
                             ("azure_keyvault", None), ("hc_vault", None)):
        ids = []
        for item in group.get(kind) or group.get({"hc_vault": "hc_vault_transit_uri"}.get(kind, kind)) or []:
            if isinstance(item, dict):
                if kind == "azure_keyvault":
                    ids.append("/".join(str(item.get(k, "")).strip("/") for k in ("vaultUrl", "key", "version")))
                elif field_name:
                    ids.append(str(item.get(field_name, "")))
            else:
                ids.extend(split_recipients(item))
        if ids:
            result[kind] = [i for i in ids if i]
    return result


def split_recipients(value: Any) -> list[str]:
    """``age:`` in .sops.yaml is a comma separated string or a list."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def find_config(start: Path, stop: Path | None = None) -> Path | None:
    """Find .sops.yaml from ``start`` upwards, as sops does."""
    current = start if start.is_dir() else start.parent
    current = current.resolve()
    while True:
        for name in SOPS_CONFIG_NAMES:
            candidate = current / name
            if candidate.is_file():
                return candidate
        if current.parent == current or (stop is not None and current == stop.resolve()):
            return None
        current = current.parent


def load_rules(config: Path) -> list[CreationRule]:
    """Parse creation rules; raises ValueError with a value-free message."""
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot parse {config.name}: {type(exc).__name__}") from None
    rules = (data or {}).get("creation_rules") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not rules:
        raise ValueError(f"{config.name} has no creation_rules list")
    result = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ValueError(f"{config.name}: creation rule #{index} is not a mapping")
        groups = [_rule_group(g) for g in rule.get("key_groups") or [] if isinstance(g, dict)]
        age = split_recipients(rule.get("age"))
        # Callers that only know age (the tools) see the key groups' age recipients too.
        age += [r for g in groups for r in g.get("age", []) if r not in age]
        kms = [str(k.get("arn")) if isinstance(k, dict) else k for k in
               (rule.get("kms") if isinstance(rule.get("kms"), list) else split_recipients(rule.get("kms")))]
        result.append(CreationRule(
            index=index, path_regex=rule.get("path_regex"), age=age, raw=rule,
            pgp=split_recipients(rule.get("pgp")), kms=[str(k).strip() for k in kms if k],
            gcp_kms=split_recipients(rule.get("gcp_kms")), azure_keyvault=split_recipients(rule.get("azure_keyvault")),
            hc_vault_transit_uri=split_recipients(rule.get("hc_vault_transit_uri")), key_groups=groups,
            encrypted_regex=rule.get("encrypted_regex"), unencrypted_regex=rule.get("unencrypted_regex"),
            encrypted_suffix=rule.get("encrypted_suffix"), unencrypted_suffix=rule.get("unencrypted_suffix"),
            encrypted_comment_regex=rule.get("encrypted_comment_regex"),
            unencrypted_comment_regex=rule.get("unencrypted_comment_regex"),
            mac_only_encrypted=bool(rule.get("mac_only_encrypted"))))
    return result


def rule_path(config: Path, target: Path) -> str:
    """The path sops matches ``path_regex`` against: relative to the config's directory."""
    target = Path(os.path.abspath(target))
    base = config.resolve().parent
    try:
        return str(target.relative_to(base))
    except ValueError:
        return str(target)


def match_rule(config: Path, rules: list[CreationRule], target: Path) -> CreationRule | None:
    """First matching creation rule, as sops picks it."""
    path = rule_path(config, target)
    for rule in rules:
        if rule.path_regex is None or re.search(rule.path_regex, path):
            return rule
    return None


def _metadata_ids(section: dict) -> set[tuple[str, str]]:
    found = set()
    for entry in section.get("age") or []:
        if isinstance(entry, dict) and entry.get("recipient"):
            found.add(("age", str(entry["recipient"])))
    for entry in section.get("pgp") or []:
        if isinstance(entry, dict) and entry.get("fp"):
            found.add(("pgp", _fp(entry["fp"])))
    for entry in section.get("kms") or []:
        if isinstance(entry, dict) and entry.get("arn"):
            found.add(("kms", str(entry["arn"])))
    for entry in section.get("gcp_kms") or []:
        if isinstance(entry, dict) and entry.get("resource_id"):
            found.add(("gcp_kms", str(entry["resource_id"])))
    for entry in section.get("azure_kv") or []:
        if isinstance(entry, dict) and entry.get("vault_url"):
            found.add(("azure_keyvault", "/".join(str(entry.get(k, "")).strip("/")
                                                  for k in ("vault_url", "name", "version"))))
    for entry in section.get("hc_vault") or []:
        if isinstance(entry, dict) and entry.get("vault_address"):
            found.add(("hc_vault", f"{str(entry['vault_address']).rstrip('/')}/v1/{entry.get('engine_path', '')}"
                                   f"/keys/{entry.get('key_name', '')}"))
    return found


def all_file_recipients(metadata: dict) -> set[tuple[str, str]]:
    """Every (type, id) a SOPS file is encrypted to, top level and key groups alike."""
    found = _metadata_ids(metadata)
    for group in metadata.get("key_groups") or []:
        if isinstance(group, dict):
            found |= _metadata_ids(group)
    return found


def file_recipients(metadata: dict) -> list[str]:
    recipients = [entry.get("recipient") for entry in metadata.get("age") or [] if isinstance(entry, dict)]
    for group in metadata.get("key_groups") or []:
        if isinstance(group, dict):
            recipients.extend(e.get("recipient") for e in group.get("age") or [] if isinstance(e, dict))
    return [str(r) for r in recipients if r]


def is_sops_document(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("sops"), dict)


def check_metadata(metadata: dict) -> list[Violation]:
    """Metadata rules: mac, lastmodified, version and at least one age recipient."""
    found = []
    missing = [name for name in REQUIRED_METADATA if not metadata.get(name)]
    if "mac" in missing:
        found.append(Violation("sops-mac-missing", "sops metadata has no mac: the file cannot be verified"))
    other = [name for name in missing if name != "mac"]
    if other:
        found.append(Violation("sops-metadata-incomplete", f"sops metadata lacks {', '.join(other)}"))
    mac = metadata.get("mac")
    if mac and not (isinstance(mac, str) and ENC_VALUE.match(mac)):
        found.append(Violation("sops-mac-invalid", "sops mac is not an ENC[AES256_GCM,...] value"))
    stamp = metadata.get("lastmodified")
    if stamp and not _is_timestamp(stamp):
        found.append(Violation("sops-metadata-incomplete", "sops lastmodified is not an RFC 3339 timestamp"))
    recipients = file_recipients(metadata)
    if not all_file_recipients(metadata):
        found.append(Violation("sops-no-recipient", "sops metadata has no recipient (age, pgp, kms, ...)"))
    bad = [r for r in recipients if not AGE_RECIPIENT.match(r)]
    if bad:
        found.append(Violation("sops-recipient-invalid", f"{len(bad)} age recipient(s) are not valid age1 public keys"))
    return found


def _is_timestamp(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def sops_encrypts(keys: list[str], selectors: dict[str, str]) -> bool:
    """Whether sops encrypts a leaf whose key path (mapping keys from the root,
    list indexes left out) is ``keys``, exactly as sops' ``Tree.Encrypt`` decides:
    unencrypted_suffix on any key of the path excludes; encrypted_suffix /
    encrypted_regex require a match on some key of the path; unencrypted_regex
    on any key of the path excludes. sops allows only one selector per rule."""
    encrypted = True
    if selectors.get("unencrypted_suffix"):
        encrypted = not any(k.endswith(selectors["unencrypted_suffix"]) for k in keys)
    if selectors.get("encrypted_suffix"):
        encrypted = any(k.endswith(selectors["encrypted_suffix"]) for k in keys)
    if selectors.get("encrypted_regex"):
        encrypted = any(re.search(selectors["encrypted_regex"], k) for k in keys)
    if selectors.get("unencrypted_regex") and any(re.search(selectors["unencrypted_regex"], k) for k in keys):
        encrypted = False
    return encrypted


def metadata_selectors(metadata: dict) -> dict[str, str]:
    """The selectors a SOPS file records in its metadata (sops' default when none)."""
    chosen = {name: str(metadata[name]) for name in
              ("encrypted_regex", "unencrypted_regex", "encrypted_suffix", "unencrypted_suffix")
              if metadata.get(name)}
    return chosen or {"unencrypted_suffix": DEFAULT_UNENCRYPTED_SUFFIX}


def _leaves(node: Any, keys: tuple[str, ...] = (), parts: tuple = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*keys, str(key)), (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, keys, (*parts, index))
    else:
        yield keys, parts, node


def _secret_path(keys: tuple[str, ...], selectors: dict[str, str], is_secret_key) -> bool:
    suffix = selectors.get("unencrypted_suffix") or ""
    bare = [k[: -len(suffix)] if suffix and k.endswith(suffix) else k for k in keys]
    return any(is_secret_key(k.rstrip("_-.")) for k in bare)


def keys_left_in_clear(rule: CreationRule | dict, data: Any, is_secret_key) -> list[str]:
    """Display paths (``secrets_redaction.display_key``) of the secret-looking keys
    that ``rule`` (a creation rule, or a file's metadata mapping) leaves in clear."""
    selectors = rule.selectors() if isinstance(rule, CreationRule) else metadata_selectors(rule)
    found = []
    body = {k: v for k, v in data.items() if k != "sops"} if isinstance(data, dict) else data
    for keys, parts, value in _leaves(body):
        if value in (None, "") or sops_encrypts(list(keys), selectors):
            continue
        if _secret_path(keys, selectors, is_secret_key):
            shown = secrets_redaction.display_key(list(parts), is_secret_key)
            if shown not in found:
                found.append(shown)
    return found


def unencrypted_values(data: dict, metadata: dict, is_secret_key) -> list[Violation]:
    """Every value sops would encrypt (by the file's own selectors) must be a
    well-formed ENC[...]; a secret-looking key left in clear by a selector is a finding."""
    selectors = metadata_selectors(metadata)
    found: list[Violation] = []
    for shown in keys_left_in_clear(metadata, data, is_secret_key):
        found.append(Violation("sops-secret-unencrypted", f"secret-looking key '{shown}' is left in clear "
                                                          "by the file's encryption selectors"))
    for keys, parts, value in _leaves({k: v for k, v in data.items() if k != "sops"}):
        if value is None or value == "" or not sops_encrypts(list(keys), selectors):
            continue
        shown = secrets_redaction.display_key(list(parts), is_secret_key)
        if isinstance(value, str) and value.startswith("ENC["):
            if not ENC_VALUE.match(value):
                found.append(Violation("sops-value-malformed", f"value of '{shown}' is a malformed ENC[...] value"))
        else:
            found.append(Violation("sops-value-unencrypted", f"value of '{shown}' is not encrypted"))
    return found


def _has_content(value: Any) -> bool:
    if isinstance(value, dict | list):
        return bool(value)
    return value not in (None, "")


# --------------------------------------------------------------------------- runner


def find_sops() -> str:
    """sops on PATH, else next to the running Python (a venv's bin)."""
    return shutil.which("sops") or shutil.which("sops", path=os.path.dirname(sys.executable)) or "sops"


class SopsRunner:
    """Thin wrapper around the sops binary. Plaintext goes through pipes only."""

    def __init__(self, binary: str | None = None, age_key_file: str | None = None,
                 config: str | Path | None = None, timeout: int = 60) -> None:
        self.binary = binary or find_sops()
        self.age_key_file = age_key_file
        self.config = str(config) if config else None
        self.timeout = timeout

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.age_key_file:
            env["SOPS_AGE_KEY_FILE"] = str(self.age_key_file)
        return env

    def run(self, args: list[str], stdin: bytes | None = None, for_path: str | Path | None = None) -> bytes:
        """sops with ``args`` (its config found from ``for_path``); the redacted reason in SopsError on failure."""
        cmd = [self.binary]
        # sops looks for .sops.yaml from its working directory; look from the file instead.
        config = self.config or (find_config(Path(for_path)) if for_path else None)
        if config:
            cmd += ["--config", str(config)]
        try:
            proc = subprocess.run(cmd + args, input=stdin, capture_output=True, env=self._env(),
                                  timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise SopsError(f"sops binary not found: {self.binary}") from None
        except subprocess.TimeoutExpired:
            raise SopsError(f"sops {args[0]} timed out after {self.timeout}s") from None
        if proc.returncode != 0:
            raise SopsError("sops failed", stderr=proc.stderr)
        return proc.stdout

    def decrypt(self, path: str | Path, input_type: str | None = None) -> bytes:
        args = ["--decrypt"]
        if input_type:
            args += ["--input-type", input_type, "--output-type", input_type]
        return self.run([*args, str(path)])

    def decrypt_bytes(self, ciphertext: bytes, input_type: str = "yaml") -> bytes:
        """Decrypt a document held in memory (e.g. a fresh encryption to verify)."""
        return self.run(["--decrypt", "--input-type", input_type, "--output-type", input_type, "/dev/stdin"],
                        stdin=ciphertext)

    def encrypt(self, plaintext: bytes, target: str | Path, input_type: str = "yaml") -> bytes:
        """Encrypt plaintext from stdin for ``target``'s creation rule; returns the ciphertext."""
        return self.run(["--encrypt", "--input-type", input_type, "--output-type", input_type,
                         "--filename-override", str(target), "/dev/stdin"], stdin=plaintext, for_path=target)

    def updatekeys(self, path: str | Path) -> None:
        self.run(["updatekeys", "--yes", str(path)], for_path=path)

    def rotate(self, path: str | Path) -> None:
        self.run(["rotate", "--in-place", str(path)], for_path=path)


def write_atomic(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write next to the target then rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
