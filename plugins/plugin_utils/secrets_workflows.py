# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets workflows of the ``stability.ops.secrets_workflow`` action plugin
(controller only): placeholders, Vault to SOPS migration and age key rotation.

Plaintext only lives in memory and in pipes to sops. Every workflow checks the
ciphertext it is about to write (every secret-looking value ``ENC[...]``, the
recipients those of the creation rule) and verifies its result by decrypting
again, restoring the original ciphertext when a check fails. A creation rule
that would leave a secret in clear is refused before anything is written.
Reports carry key names (through the redaction layer), never values; text we
do not control (sops' stderr, YAML errors, exceptions) only reaches a message
through :mod:`secrets_redaction`. In check mode a workflow reads, decrypts and
encrypts in memory as a real run would, and writes nothing.

A rotation keeps a journal (:data:`JOURNAL_NAME`, next to ``.sops.yaml``, file
names and states only) so that an interrupted run is finished by the next one.

:func:`run` is the entry point: it takes the validated options of the action
plugin (:func:`argument_spec`), resolves relative paths against the current
working directory (the user's repository) and returns the task result.
"""

from __future__ import annotations

import configparser
import io
import itertools
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import (
    secrets_preflight,
    secrets_redaction,
    sops_files,
    vault_files,
)


class WorkflowError(RuntimeError):
    """A refusal or failure with a value-free message."""


# --------------------------------------------------------------------------- shared


def _ruamel():
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    return rt


def _dump(rt, data) -> bytes:
    buffer = io.StringIO()
    rt.dump(data, buffer)
    return buffer.getvalue().encode()


def deep_equal(left: Any, right: Any) -> bool:
    """Equality that also compares leaf types (so 1 != True and 1 != "1")."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(deep_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(deep_equal(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def _plain_load(data: bytes, path: str | Path | None = None, what: str = "the decrypted document") -> Any:
    """Parse decrypted YAML. PyYAML's errors quote the document: only file, line and problem get out."""
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except yaml.YAMLError as exc:
        reason = secrets_redaction.redact_yaml_error(exc, path)
        raise WorkflowError(f"{what} is not valid YAML: {reason}") from None
    except (UnicodeDecodeError, ValueError, TypeError) as exc:  # e.g. !!int on a non-number
        raise WorkflowError(f"{what} cannot be read: {secrets_redaction.safe_exception(exc, path)}") from None


def is_secret(name: Any) -> bool:
    return secrets_preflight.is_secret_key(str(name))


def sops_reason(exc: BaseException, path: str | Path | None = None) -> str:
    """sops' whole reason (the key hint included), values removed."""
    return secrets_redaction.redact_sops_stderr(str(exc), path)


def age_public_keys(key_file: str | Path) -> set[str]:
    """Public keys of every identity in an age key file (read locally, never printed)."""
    text = Path(key_file).read_text(encoding="utf-8")
    found = set(re.findall(r"^# public key: (age1[0-9a-z]+)$", text, re.M))
    if not found and "AGE-SECRET-KEY-" in text:
        proc = subprocess.run(["age-keygen", "-y", str(key_file)], capture_output=True, text=True, check=False)
        found = set(proc.stdout.split())
    return found


def sops_target_path(source: Path) -> Path:
    """secrets.generated.yml -> secrets.generated.sops.yml"""
    if ".sops." in source.name:
        return source
    return source.with_name(f"{source.stem}.sops{source.suffix or '.yml'}")


# --------------------------------------------------------------------------- ciphertext checks

# A plaintext shorter than this may appear in base64 ciphertext by chance; ENC[...] checks cover it.
MIN_LEAK_CHECK_LEN = 8


def rule_recipients(rule: sops_files.CreationRule) -> set[str]:
    """Every key of a creation rule as ``type:identifier`` (top level and key_groups)."""
    return {f"{kind}:{ident}" for kind, ident in rule.recipients()}


def metadata_recipients(metadata: dict) -> set[str]:
    """Every key a SOPS file is encrypted to, as ``type:identifier`` (top level and key_groups)."""
    return {f"{kind}:{ident}" for kind, ident in sops_files.all_file_recipients(metadata)}


def recipients_differ(have: set[str], want: set[str]) -> str:
    """Empty when equal, else what differs (public keys only)."""
    extra = sorted(have - want)
    missing = sorted(want - have)
    parts = []
    if extra:
        parts.append(f"not in the rule: {', '.join(extra)}")
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    return "; ".join(parts)


def _leaves(node: Any, parts: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*parts, index))
    else:
        yield parts, node


def _under_secret(parts: tuple, secret_key: Callable[[Any], bool]) -> bool:
    return any(not isinstance(p, int) and secret_key(p) for p in parts)


def clear_secrets(document: dict, secret_key: Callable[[Any], bool]) -> list[str]:
    """Keys (as the redaction layer shows them) under a secret-looking key whose value
    in an encrypted document is not ``ENC[...]``."""
    found = []
    for parts, value in _leaves({k: v for k, v in document.items() if k != "sops"}):
        if value in (None, "") or not _under_secret(parts, secret_key):
            continue
        if not (isinstance(value, str) and sops_files.ENC_VALUE.match(value)):
            found.append(secrets_redaction.display_key(parts, is_secret))
    return found


def check_ciphertext(ciphertext: bytes, plain: dict, rule: Any, target: Path,
                     secret_key: Callable[[Any], bool] = is_secret) -> list[str]:
    """What is wrong with a SOPS YAML ciphertext about to be (or just) written for ``target``:
    metadata (mac, recipients equal to the creation rule), every value under a secret-looking
    key ``ENC[...]``, and no plaintext value of such a key anywhere in the bytes."""
    try:
        document = yaml.safe_load(ciphertext.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return [f"the ciphertext is not valid YAML ({secrets_redaction.safe_exception(exc)})"]
    if not sops_files.is_sops_document(document):
        return ["the ciphertext has no sops metadata"]
    problems = []
    metadata = document["sops"]
    if not (isinstance(metadata.get("mac"), str) and sops_files.ENC_VALUE.match(metadata["mac"])):
        problems.append("the sops metadata has no valid mac")
    if rule is not None:
        differ = recipients_differ(metadata_recipients(metadata), rule_recipients(rule))
        if differ:
            problems.append(f"its recipients differ from creation rule #{rule.index} ({differ})")
    clear = clear_secrets(document, secret_key)
    if clear:
        problems.append(f"secret-looking key(s) in clear: {', '.join(clear)}")
    text = ciphertext.decode("utf-8", errors="replace")
    leaked = [secrets_redaction.display_key(parts, is_secret) for parts, value in _leaves(plain)
              if _under_secret(parts, secret_key) and isinstance(value, str | int | float)
              and not isinstance(value, bool) and len(str(value)) >= MIN_LEAK_CHECK_LEN and str(value) in text]
    if leaked:
        problems.append(f"the plaintext of {', '.join(leaked)} appears in the ciphertext")
    return problems


def describe_rule(rule: Any, config: Path) -> str:
    """``creation rule #N of CONFIG (encrypted_regex: ...)``: the settings that choose what is encrypted."""
    settings = [f"{name}: {rule.raw[name]}" for name in ("encrypted_regex", "encrypted_suffix", "unencrypted_regex",
                                                         "unencrypted_suffix", "encrypted_comment_regex",
                                                         "unencrypted_comment_regex", "mac_only_encrypted")
                if isinstance(rule.raw, dict) and rule.raw.get(name) not in (None, "")]
    return f"creation rule #{rule.index} of {config}" + (f" ({'; '.join(settings)})" if settings else "")


def target_rule(target: Path, runner: sops_files.SopsRunner, config: Path | None = None) -> tuple[Path | None, Any]:
    """The .sops.yaml and creation rule sops will use for ``target`` (None, None when none covers it)."""
    config = config or (Path(runner.config) if runner.config else None) or sops_files.find_config(target)
    if config is None or not config.is_file():
        return None, None
    try:
        return config, sops_files.match_rule(config, sops_files.load_rules(config), target)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


def refuse_clear_keys(target: Path, config: Path | None, rule: Any, data: Any,
                      secret_key: Callable[[Any], bool] = is_secret) -> None:
    """Refuse before writing when the creation rule would leave a secret-looking key in clear."""
    if rule is None or not isinstance(data, dict):
        return
    clear = sops_files.keys_left_in_clear(rule, data, secret_key)
    if clear:
        raise WorkflowError(f"{describe_rule(rule, config)} would leave secret-looking key(s) in clear in {target}: "
                            f"{', '.join(clear)}; nothing written. Make the rule encrypt them (drop or widen "
                            "encrypted_regex/encrypted_suffix, narrow unencrypted_regex/unencrypted_suffix, no "
                            "mac_only_encrypted) or give the file a rule of its own")


# --------------------------------------------------------------------------- options

OPERATIONS = ("add_placeholders", "migrate_vault_to_sops", "rotate_keys")
ROTATIONS = ("add_recipient", "remove_recipient", "rotate_data_key", "verify")
# The collection playbooks pass every option NAME from the variable stability_ops_secrets_NAME.
VARIABLE_PREFIX = "stability_ops_secrets_"
COMMON_OPTIONS = ("operation", "sops_config", "age_key_file", "sops_binary")
OPERATION_OPTIONS = {
    "add_placeholders": ("spec", "target", "format", "vault_ids", "vault_password_files"),
    "migrate_vault_to_sops": ("source", "target", "keep_backup", "force", "verify_only", "vault_ids",
                              "vault_password_files"),
    "rotate_keys": ("rotation", "recipient", "paths"),
}
# Accepted and ignored, with a deprecation warning: the Vault backup is always kept.
DEPRECATED_OPTIONS = {"keep_backup": ("1.0.0", "the Vault backup is always kept until you remove it; the option is "
                                               "ignored")}
REQUIRED_IF = [
    ("operation", "add_placeholders", ("spec",)),
    ("operation", "migrate_vault_to_sops", ("source",)),
    ("operation", "rotate_keys", ("sops_config", "rotation")),
    ("rotation", "add_recipient", ("recipient",)),
    ("rotation", "remove_recipient", ("recipient",)),
]


def argument_spec() -> dict[str, dict[str, Any]]:
    """Options of the secrets_workflow action plugin (documented in plugins/modules/secrets_workflow.py)."""
    return {
        "operation": {"type": "str", "required": True, "choices": list(OPERATIONS)},
        "spec": {"type": "path"},
        "target": {"type": "path"},
        "format": {"type": "str", "choices": ["sops", "vault"]},
        "source": {"type": "path"},
        "keep_backup": {"type": "bool"},
        "force": {"type": "bool", "default": False},
        "verify_only": {"type": "bool", "default": False},
        "rotation": {"type": "str", "choices": list(ROTATIONS)},
        "recipient": {"type": "str"},
        "paths": {"type": "list", "elements": "path"},
        "sops_config": {"type": "path"},
        "age_key_file": {"type": "path"},
        "sops_binary": {"type": "path"},
        "vault_ids": {"type": "list", "elements": "str"},
        "vault_password_files": {"type": "list", "elements": "path"},
    }


def required_if() -> list[list]:
    """REQUIRED_IF in the form ArgumentSpecValidator takes."""
    return [[key, value, list(names)] for key, value, names in REQUIRED_IF]


def option(name: str) -> str:
    """An option as messages name it: the plugin option and the playbook variable."""
    return f"{name} ({VARIABLE_PREFIX}{name})"


VAULT_HINT = (f"run ansible-playbook with --vault-id ID@FILE (or --vault-password-file FILE), or set "
              f"{option('vault_ids')}")


# --------------------------------------------------------------------------- placeholders

GENERATORS = ("password", "hex", "token", "uuid")
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "-_.~"


@dataclass
class SecretSpec:
    name: str
    generator: str = "password"
    length: int = 32
    description: str = ""


@dataclass
class PlaceholderReport:
    target: str
    fmt: str
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    written: bool = False


def load_spec(spec_path: Path) -> tuple[Path | None, list[SecretSpec]]:
    """Parse a required secrets spec; its 'target' is relative to the spec's directory."""
    if not spec_path.is_file():
        raise WorkflowError(f"{spec_path} does not exist: set {option('spec')} to a required secrets spec")
    try:
        data = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise WorkflowError(f"not a YAML spec: {secrets_redaction.redact_yaml_error(exc, spec_path)}") from None
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise WorkflowError(f"not a YAML spec: {secrets_redaction.safe_exception(exc, spec_path)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("secrets"), list):
        raise WorkflowError(f"{spec_path}: a spec needs a 'secrets' list")
    specs = []
    for index, item in enumerate(data["secrets"]):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(item.get("name", ""))):
            raise WorkflowError(f"{spec_path}: secrets[{index}] needs a 'name' that is a valid variable name")
        try:
            length = int(item.get("length", 32))
        except (TypeError, ValueError):
            raise WorkflowError(f"{spec_path}: {item['name']}: length must be a number") from None
        spec = SecretSpec(name=item["name"], generator=item.get("generator", "password"), length=length,
                          description=item.get("description", ""))
        if spec.generator not in GENERATORS:
            raise WorkflowError(f"{spec_path}: {spec.name}: generator must be one of {', '.join(GENERATORS)}")
        if not 16 <= spec.length <= 256:
            raise WorkflowError(f"{spec_path}: {spec.name}: length must be between 16 and 256")
        specs.append(spec)
    target = data.get("target")
    return (Path(os.path.normpath(spec_path.parent / target)) if target else None), specs


def generate(spec: SecretSpec) -> str:
    if spec.generator == "hex":
        return secrets.token_hex((spec.length + 1) // 2)[: spec.length]
    if spec.generator == "token":
        return secrets.token_urlsafe(spec.length)[: spec.length]
    if spec.generator == "uuid":
        return str(uuid.uuid4())
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _index in range(spec.length))


def merge_placeholders(plaintext: bytes | None, specs: list[SecretSpec],
                       path: str | Path | None = None) -> tuple[bytes, list[str], list[str]]:
    """Add missing keys to a YAML document, keeping comments and order."""
    rt = _ruamel()
    try:
        doc = rt.load(plaintext.decode("utf-8")) if plaintext and plaintext.strip() else None
    except Exception as exc:  # ruamel's errors quote the document: only file, line and problem get out
        raise WorkflowError("the decrypted secrets document is not valid YAML: "
                            f"{secrets_redaction.redact_yaml_error(exc, path)}") from None
    if doc is None:
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise WorkflowError("the secrets document is not a mapping")
    added, existing = [], []
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    for spec in specs:
        if spec.name in doc:
            existing.append(spec.name)
            continue
        doc[spec.name] = generate(spec)
        note = f"placeholder generated by stability.ops.add_placeholders on {stamp}; replace with the real value"
        if spec.description:
            note = f"{spec.description}\n{note}"
        doc.yaml_set_comment_before_after_key(spec.name, before=note)
        added.append(spec.name)
    return _dump(rt, doc), added, existing


def add_placeholders(target: Path, specs: list[SecretSpec], fmt: str | None, runner: sops_files.SopsRunner,
                     vault_secrets: list, check: bool = False) -> PlaceholderReport:
    """Add the missing keys of ``specs`` to ``target`` (SOPS or Vault), never touching an existing value.

    The creation rule must encrypt every generated value and every secret-looking key, and the
    ciphertext is checked (values ``ENC[...]``, recipients of the rule, no generated value in it)
    before it is written. In check mode the new document is still encrypted and verified in
    memory, so that check mode fails where a real run would; only the write is skipped.
    """
    plaintext = None
    vault_id = None
    if target.exists():
        text = target.read_text(encoding="utf-8")
        if vault_files.looks_like_vault(text):
            fmt = "vault"
            try:
                vault_id = vault_files.parse_envelope(text).vault_id
            except vault_files.VaultFormatError as exc:
                raise WorkflowError(f"{target} is not a valid Ansible Vault file: {exc.detail}") from None
            if not vault_secrets:
                raise WorkflowError(f"{target} is an Ansible Vault file but no vault password was given: {VAULT_HINT}")
            plaintext = _vault_decrypt(text, vault_secrets)
        elif sops_files.is_sops_document(_safe_yaml(text)):
            fmt = "sops"
            plaintext = _sops_decrypt(runner, target)
        elif text.strip():
            raise WorkflowError(f"{target} exists but is not encrypted: encrypt or migrate it first")
    fmt = fmt or "sops"
    if fmt == "vault" and not vault_secrets:
        raise WorkflowError(f"a new Ansible Vault file {target} needs a vault password: {VAULT_HINT}")
    report = PlaceholderReport(target=str(target), fmt=fmt)
    new_plain, report.added, report.existing = merge_placeholders(plaintext, specs, target)
    if not report.added:
        return report
    new_data = _plain_load(new_plain, target)
    if fmt == "sops":
        generated = set(report.added)

        def secret_key(name: Any) -> bool:  # a generated value is a secret whatever its name
            return name in generated or is_secret(name)

        config, rule = target_rule(target, runner)
        refuse_clear_keys(target, config, rule, new_data, secret_key)
        ciphertext = _sops_encrypt(runner, new_plain, target)
        problems = check_ciphertext(ciphertext, new_data, rule, target, secret_key)
        if problems:
            raise WorkflowError(f"{target}: the new ciphertext fails its check: {'; '.join(problems)}; "
                                "nothing written")
        verify = _sops_decrypt_bytes(runner, ciphertext, target)
    else:
        try:
            ciphertext = vault_files.encrypt(new_plain, vault_secrets, vault_id).encode()
        except Exception as exc:
            raise WorkflowError(f"{target}: vault encryption failed: {type(exc).__name__}: {VAULT_HINT}") from None
        verify = vault_files.decrypt(ciphertext, vault_secrets)
    if not deep_equal(_plain_load(verify, target), new_data):
        raise WorkflowError(f"{target}: encrypted result does not decrypt to the intended document; nothing written")
    if check:
        return report
    target.parent.mkdir(parents=True, exist_ok=True)
    sops_files.write_atomic(target, ciphertext)
    report.written = True
    return report


def _safe_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError):
        return None


def _vault_decrypt(text: str | bytes, vault_secrets: list) -> bytes:
    try:
        return vault_files.decrypt(text, vault_secrets)
    except Exception as exc:
        raise WorkflowError(f"vault decryption failed: {type(exc).__name__}: check the vault id") from None


def _sops_decrypt(runner: sops_files.SopsRunner, path: Path, input_type: str | None = None) -> bytes:
    try:
        return runner.decrypt(path, input_type=input_type)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{path}: sops cannot decrypt: {sops_reason(exc)}") from None


def _sops_decrypt_bytes(runner: sops_files.SopsRunner, ciphertext: bytes, target: Path) -> bytes:
    try:
        return runner.decrypt_bytes(ciphertext)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{target}: sops cannot decrypt the new ciphertext: {sops_reason(exc)}") from None


def _sops_encrypt(runner: sops_files.SopsRunner, plaintext: bytes, target: Path) -> bytes:
    try:
        return runner.encrypt(plaintext, target)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{target}: sops cannot encrypt: {sops_reason(exc)}") from None


def _is_sops_file(path: Path) -> bool:
    try:
        return path.is_file() and sops_files.is_sops_document(_safe_yaml(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


# --------------------------------------------------------------------------- migration


@dataclass
class MigrationReport:
    source: str
    target: str
    backup: str
    keys: int = 0
    names: list[str] = field(default_factory=list)
    changed: bool = False
    backup_kept: bool = False
    source_removed: bool = False
    steps: list[str] = field(default_factory=list)
    already_migrated: str = ""  # why nothing was done, for an idempotent second run


def verify_keys(target: Path, runner: sops_files.SopsRunner, config: Path | None = None) -> tuple[Path, list[str]]:
    """Refuse unless .sops.yaml has a rule with valid age recipients for the target,
    the local age key is one of them, and a canary encrypts and decrypts (in memory)."""
    config = config or sops_files.find_config(target)
    if config is None:
        raise WorkflowError(f"no .sops.yaml covers {target}: create one with the age recipients first")
    try:
        rule = sops_files.match_rule(config, sops_files.load_rules(config), target)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None
    if rule is None or not rule.age:
        raise WorkflowError(f"no creation rule with age recipients in {config} matches {target}")
    bad = [r for r in rule.age if not sops_files.AGE_RECIPIENT.match(r)]
    if bad:
        raise WorkflowError(f"{config}: invalid age recipient(s): {', '.join(bad)}")
    key_file = runner.age_key_file or os.environ.get("SOPS_AGE_KEY_FILE")
    if not key_file or not Path(key_file).is_file():
        raise WorkflowError(f"no age key file (set SOPS_AGE_KEY_FILE or {option('age_key_file')}): "
                            "the result could not be verified")
    if os.stat(key_file).st_mode & 0o077:
        raise WorkflowError(f"age key file {key_file} is readable by group or others: chmod 600 it first")
    if not age_public_keys(key_file) & set(rule.age):
        raise WorkflowError("the local age key is not among the .sops.yaml recipients: refusing, since nobody "
                            "here could verify the result")
    canary = b"stability_ops_canary: verified\n"
    try:
        back = runner.decrypt_bytes(runner.encrypt(canary, target))
    except sops_files.SopsError as exc:
        raise WorkflowError(f"sops canary round trip failed: {sops_reason(exc)}") from None
    if _plain_load(back) != _plain_load(canary):
        raise WorkflowError("sops canary round trip returned different data")
    return config, rule.age


def migrate_vault_to_sops(source: Path, target: Path | None, vault_secrets: list, runner: sops_files.SopsRunner,
                          config: Path | None = None, force: bool = False, check: bool = False) -> MigrationReport:
    """Vault file to SOPS, verified value by value; idempotent (a migrated file is left alone).

    Refused before anything is written when the creation rule would leave a secret-looking key
    in clear. The new ciphertext is checked (metadata, recipients equal to the rule, every
    secret-looking value ``ENC[...]``) and decrypted, in memory and again from disk, before the
    Vault source is removed. The Vault backup is always kept: only the operator removes it.
    In check mode the source is decrypted and the keys verified (a canary round trip in memory),
    then the steps a real run would take are reported; nothing is written.
    """
    target = target or sops_target_path(source)
    backup = source.with_name(source.name + ".vault-backup")
    report = MigrationReport(source=str(source), target=str(target), backup=str(backup))
    in_place = target.resolve() == source.resolve()
    if not source.is_file():
        if _is_sops_file(target):
            report.already_migrated = f"{source} is gone and {target} is a SOPS file: already migrated"
            report.backup_kept = backup.exists()
            return report
        raise WorkflowError(f"{source} does not exist")
    text = source.read_text(encoding="utf-8")
    if in_place and not vault_files.looks_like_vault(text) and _is_sops_file(source):
        report.already_migrated = f"{source} is a SOPS file already: already migrated"
        report.backup_kept = backup.exists()
        return report
    try:
        vault_files.parse_envelope(text)
    except vault_files.VaultFormatError as exc:
        raise WorkflowError(f"{source} is not a valid Ansible Vault file: {exc.detail}") from None
    if target.exists() and not in_place and not force:
        raise WorkflowError(f"{target} already exists: refusing to overwrite it (set {option('force')})")
    if not vault_secrets:
        raise WorkflowError(f"no vault password to decrypt {source}: {VAULT_HINT}")
    plaintext = _vault_decrypt(text, vault_secrets)
    original = _plain_load(plaintext, source, what=f"the decrypted Vault content of {source}")
    if not isinstance(original, dict):
        raise WorkflowError(f"{source} does not decrypt to a mapping of variables")
    report.keys = len(original)
    report.names = [secrets_redaction.display_key([name], is_secret) for name in original]
    report.changed = True
    report.steps.append("vault decrypted with the given vault id")
    config, _recipients = verify_keys(target, runner, config)
    report.steps.append("age recipients and local key verified (canary round trip)")
    _config, rule = target_rule(target, runner, config)
    refuse_clear_keys(target, config, rule, original)
    report.steps.append(f"{describe_rule(rule, config)} encrypts every secret-looking key")
    ciphertext = _sops_encrypt(runner, plaintext, target)
    _check_migrated(ciphertext, original, rule, target, runner, "the new ciphertext")
    report.steps.append("the new ciphertext checked in memory: recipients of the rule, secret-looking values "
                        "ENC[...], identical values")
    if check:
        report.steps += [f"would keep a vault backup at {backup}",
                         f"would write {target} and check its metadata, ciphertext and values ({report.keys} keys)"]
        if not in_place:
            report.steps.append(f"would remove the vault source {source}")
        report.steps.append("would keep the vault backup until you remove it")
        return report
    shutil.copy2(source, backup)
    os.chmod(backup, 0o600)
    report.backup_kept = True
    report.steps.append(f"vault backup kept at {backup}")
    sops_files.write_atomic(target, ciphertext)
    try:
        _check_migrated(target.read_bytes(), original, rule, target, runner, f"the written {target}")
    except WorkflowError as exc:
        if in_place:
            shutil.copy2(backup, source)
        else:
            target.unlink()
        raise WorkflowError(f"{exc}; restored, backup kept at {backup}") from None
    report.steps.append(f"{target} checked from disk: metadata, ciphertext and identical values ({report.keys} keys)")
    if not in_place:
        source.unlink()
        report.source_removed = True
        report.steps.append(f"vault source {source} removed")
    report.steps.append(f"vault backup kept at {backup}: remove it once the SOPS file is committed and deployed")
    return report


def _check_migrated(ciphertext: bytes, original: dict, rule: Any, target: Path, runner: sops_files.SopsRunner,
                    what: str) -> None:
    problems = check_ciphertext(ciphertext, original, rule, target)
    if problems:
        raise WorkflowError(f"{what} fails its check: {'; '.join(problems)}; the vault source is untouched")
    decrypted = _plain_load(_sops_decrypt_bytes(runner, ciphertext, target), target)
    if not deep_equal(decrypted, original):
        raise WorkflowError(f"{what} does not decrypt to the same values; the vault source is untouched")


# --------------------------------------------------------------------------- rotation

JOURNAL_NAME = ".stability-ops-rotation.json"
JOURNAL_SCHEMA = 1
MAX_SOPS_FILE_BYTES = 16 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"})
# sops picks the store by extension; a file whose own metadata says otherwise gets --input-type.
_EXTENSION_TYPES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".env": "dotenv", ".ini": "ini"}


@dataclass
class SopsFile:
    path: Path
    fmt: str  # yaml, json, dotenv, ini or binary: from the file's own sops metadata
    metadata: dict


@dataclass
class RotationReport:
    config: str
    files: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    changed: bool = False
    resumed: bool = False
    steps: list[str] = field(default_factory=list)


def _unflatten(flat: dict[str, str]) -> dict:
    """sops' flattened metadata (dotenv ``sops_*``, INI ``[sops]``): ``age__list_0__map_recipient``."""
    root: dict = {}
    for key, value in flat.items():
        node: Any = root
        tokens = key.split("__")
        path: list[Any] = [tokens[0]]
        for token in tokens[1:]:
            if token.startswith("list_") and token[5:].isdigit():
                path.append(int(token[5:]))
            elif token.startswith("map_"):
                path.append(token[4:])
            else:
                path[-1] = f"{path[-1]}__{token}"
        for here, nxt in itertools.pairwise(path):
            container: Any = [] if isinstance(nxt, int) else {}
            if isinstance(here, int):
                while len(node) <= here:
                    node.append(None)
                node[here] = node[here] if node[here] is not None else container
                node = node[here]
            else:
                node = node.setdefault(here, container)
        last = path[-1]
        if isinstance(last, int):
            while len(node) <= last:
                node.append(None)
            node[last] = value
        else:
            node[last] = value
    return root


def read_sops_file(path: Path) -> SopsFile | None:
    """A SOPS file of any type sops reads, recognised by its own metadata (not by its name)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_SOPS_FILE_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "sops" not in text or "mac" not in text:  # cheap: most files of a repository are not SOPS files
        return None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if sops_files.is_sops_document(data):
            binary = set(data) == {"data", "sops"} and path.suffix.lower() not in (".json", ".yaml", ".yml")
            return SopsFile(path, "binary" if binary else "json", data["sops"])
    if re.search(r"^sops_version=", text, re.M) and re.search(r"^sops_mac=", text, re.M):
        flat = {}
        for line in text.splitlines():
            name, sep, value = line.partition("=")
            if sep and name.startswith("sops_"):
                flat[name[5:]] = value.replace("\\n", "\n")
        return SopsFile(path, "dotenv", _unflatten(flat))
    if re.search(r"^\[sops\]\s*$", text, re.M):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # keep key case
        try:
            parser.read_string(text)
        except configparser.Error:
            return None
        if parser.has_section("sops") and parser.has_option("sops", "mac"):
            flat = {k: v.replace("\\n", "\n") for k, v in parser.items("sops")}
            return SopsFile(path, "ini", _unflatten(flat))
    if not re.search(r"^sops:", text, re.M):  # sops writes its metadata as a top-level key
        return None
    data = _safe_yaml(text)
    if sops_files.is_sops_document(data):
        return SopsFile(path, "yaml", data["sops"])
    return None


def discover_sops_files(paths: list[Path], skip: tuple[Path, ...] = ()) -> list[SopsFile]:
    """Every SOPS file under ``paths`` (files given directly, directories walked without following
    symlinks), whatever its name or type. ``skip`` are files that are never SOPS files (.sops.yaml)."""
    skipped = {Path(os.path.abspath(p)) for p in skip}
    found: dict[Path, SopsFile] = {}
    candidates: list[Path] = []
    for root in paths:
        if root.is_file():
            candidates.append(root)
            continue
        for directory, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            candidates += [Path(directory, name) for name in sorted(names)]
    for path in candidates:
        absolute = Path(os.path.abspath(path))
        if absolute in skipped or path.name in (JOURNAL_NAME, *sops_files.SOPS_CONFIG_NAMES) or path.is_symlink():
            continue
        sops_file = read_sops_file(path)
        if sops_file is not None:
            found.setdefault(absolute, sops_file)
    return list(found.values())


def _type_args(sops_file: SopsFile, output: bool = True) -> list[str]:
    if _EXTENSION_TYPES.get(sops_file.path.suffix.lower(), "binary") == sops_file.fmt:
        return []
    return ["--input-type", sops_file.fmt] + (["--output-type", sops_file.fmt] if output else [])


def _sops(runner: sops_files.SopsRunner, args: list[str], path: Path) -> bytes:
    # The runner's own methods pick the type from the extension; these calls need --input-type.
    return runner.run(args, for_path=path)


def sops_updatekeys(runner: sops_files.SopsRunner, sops_file: SopsFile) -> None:
    _sops(runner, ["updatekeys", "--yes", *_type_args(sops_file, output=False), str(sops_file.path)], sops_file.path)


def sops_rotate(runner: sops_files.SopsRunner, sops_file: SopsFile) -> None:
    # To stdout, then an atomic replace: a run killed here leaves the old file or the new one, never half of one.
    ciphertext = _sops(runner, ["rotate", *_type_args(sops_file), str(sops_file.path)], sops_file.path)
    if not ciphertext.strip():
        raise sops_files.SopsError("sops rotate printed nothing")
    sops_files.write_atomic(sops_file.path, ciphertext, mode=os.stat(sops_file.path).st_mode & 0o777)


def sops_decrypt_file(runner: sops_files.SopsRunner, sops_file: SopsFile) -> None:
    _sops(runner, ["--decrypt", *_type_args(sops_file), str(sops_file.path)], sops_file.path)


def verify_files(files: list[SopsFile], runner: sops_files.SopsRunner, config: Path) -> list[str]:
    """Every file decrypts (with sops' whole redacted reason when not) and its keys equal its
    creation rule's. Returns the problems, value-free; re-reads each file's metadata."""
    try:
        rules = sops_files.load_rules(config)
    except ValueError as exc:
        return [f"{config}: [sops-config-invalid] {exc}"]
    problems = []
    for index, sops_file in enumerate(files):
        current = read_sops_file(sops_file.path)
        if current is None:
            problems.append(f"{sops_file.path}: [sops-metadata-missing] not a SOPS file any more")
            continue
        files[index] = sops_file = current
        try:
            sops_decrypt_file(runner, sops_file)
        except sops_files.SopsError as exc:
            problems.append(f"{sops_file.path}: [sops-decrypt-failed] {sops_reason(exc)}")
        rule = sops_files.match_rule(config, rules, sops_file.path)
        if rule is None:
            problems.append(f"{sops_file.path}: [sops-no-creation-rule] no creation rule of {config} matches it")
            continue
        differ = recipients_differ(metadata_recipients(sops_file.metadata), rule_recipients(rule))
        if differ:
            problems.append(f"{sops_file.path}: [sops-recipient-mismatch] creation rule #{rule.index}: {differ}")
    return problems


def rewritable_rules(config: Path) -> None:
    """Refuse rules whose recipients this tool cannot rewrite, saying what to do instead."""
    try:
        rules = sops_files.load_rules(config)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None
    by_hand = ("edit that rule by hand, run sops updatekeys --yes FILE on each file it covers, then run "
               f"this playbook with {option('rotation')}=verify")
    for rule in rules:
        raw = rule.raw if isinstance(rule.raw, dict) else {}
        if raw.get("key_groups"):
            raise WorkflowError(f"creation rule #{rule.index} of {config} uses key_groups: rotate_keys does not "
                                f"rewrite key groups (nothing changed); {by_hand}")
        if not sops_files.split_recipients(raw.get("age")):
            others = sorted({kind for kind, _ident in rule.recipients()} - {"age"})
            kinds = f"only {', '.join(others)}" if others else "no keys"
            raise WorkflowError(f"creation rule #{rule.index} of {config} has no age recipients ({kinds}): "
                                f"rotate_keys only rewrites age recipients (nothing changed); add an age list "
                                f"to the rule or {by_hand}")


def plan_recipients(config: Path, add: list[str], remove: list[str]) -> tuple[bytes, list[str]]:
    """The .sops.yaml with every creation rule's age recipients edited (comments kept), and the
    labels of the rules that change. Writes nothing."""
    rt = _ruamel()
    doc = rt.load(config.read_text(encoding="utf-8"))
    changed = []
    for index, rule in enumerate(doc.get("creation_rules") or []):
        if "age" not in rule:
            continue
        current = sops_files.split_recipients(rule["age"])
        wanted = [r for r in current if r not in remove] + [r for r in add if r not in current]
        if not wanted:
            raise WorkflowError(f"creation rule #{index} would have no age recipient left: refusing")
        if wanted != current:
            rule["age"] = wanted if isinstance(rule["age"], list) else ",".join(wanted)
            changed.append(f"creation rule #{index}")
    return _dump(rt, doc), changed


# ----------------------------------------------------------------- journal


def journal_path(config: Path) -> Path:
    return config.parent / JOURNAL_NAME


def load_journal(config: Path) -> dict | None:
    """The journal of an interrupted rotation, or None. A journal we cannot read is a refusal."""
    path = journal_path(config)
    if not path.exists():
        return None
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        journal = None
    if not (isinstance(journal, dict) and journal.get("schema") == JOURNAL_SCHEMA
            and isinstance(journal.get("files"), dict)):
        raise WorkflowError(f"{path} is not a rotation journal this version can read: check the files with "
                            f"{option('rotation')}=verify, then remove it")
    return journal


def write_journal(config: Path, journal: dict) -> None:
    """Atomically (a reader never sees half a journal); it holds file names, states and public keys only."""
    sops_files.write_atomic(journal_path(config), (json.dumps(journal, indent=2, sort_keys=True) + "\n").encode(),
                            mode=0o644)


def _journal_key(config: Path, path: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(config)).parent))
    except ValueError:
        return str(Path(os.path.abspath(path)))


def _journal_file(config: Path, key: str) -> Path:
    return Path(os.path.normpath(Path(os.path.abspath(config)).parent / key))


def rotate(config: Path, files: list[SopsFile], runner: sops_files.SopsRunner, add: list[str] | None = None,
           remove: list[str] | None = None, rotate_data_key: bool = False, check: bool = False,
           rotation: str = "") -> RotationReport:
    """Change recipients (updatekeys) and/or the data key (rotate) of every file, then verify every
    file; restore this run's changes on a failure sops reports.

    A journal next to .sops.yaml records the plan and each file's progress, so that a run that is
    killed is finished by the next one with the same rotation (only the files not yet done).
    Idempotent: a recipient already in every rule and file is not added again, one in no rule and
    no file is not removed again. Check mode verifies the files, plans the .sops.yaml change and
    reports what would be done, writing nothing.
    """
    add, remove = add or [], remove or []
    for recipient in add + remove:
        if not sops_files.AGE_RECIPIENT.match(recipient):
            raise WorkflowError(f"not a valid age public key: {recipient}")
    recipient = (add + remove + [""])[0]
    journal = load_journal(config)
    if journal is not None:
        return _resume(config, files, runner, journal, rotation, recipient, check)
    report = RotationReport(config=str(config), files=[str(f.path) for f in files])
    if add or remove:
        rewritable_rules(config)
    if not files:
        raise WorkflowError(f"no SOPS file found to rotate (set {option('paths')} to the files or directories)")
    problems = verify_files(files, runner, config)
    mismatch = any("[sops-recipient-mismatch]" in p for p in problems)
    problems = [p for p in problems if "[sops-recipient-mismatch]" not in p]
    if problems:
        raise WorkflowError("files do not verify before rotation:\n  " + "\n  ".join(problems))
    new_config, report.rules_changed = plan_recipients(config, add, remove)
    holders = [f for f in files if set(metadata_recipients(f.metadata)) & {f"age:{r}" for r in remove}]
    update = bool(add or remove) and bool(report.rules_changed or mismatch)
    new_data_key = rotate_data_key or bool(remove and (report.rules_changed or holders))
    if not (update or new_data_key):
        for name in add:
            report.steps.append(f"{name} is already a recipient of every rule and file: nothing to add")
        for name in remove:
            report.steps.append(f"{name} is a recipient of no creation rule and no file: nothing to remove")
        return report
    report.changed = True
    verb = "would " if check else ""
    if update:
        report.steps.append(f".sops.yaml {'would be ' if check else ''}updated "
                            f"({', '.join(report.rules_changed) or 'no rule changed'})")
        report.steps.append(f"{verb}sops updatekeys on {len(files)} file(s)")
    if new_data_key:
        report.steps.append(f"{verb}sops rotate (new data key) on {len(files)} file(s)")
    if check:
        return report
    journal = {
        "schema": JOURNAL_SCHEMA, "tool": "stability.ops.rotate_keys", "rotation": rotation, "recipient": recipient,
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "update": update, "rotate_data_key": new_data_key,
        "rules_changed": report.rules_changed, "config_written": not report.rules_changed,
        "files": {_journal_key(config, f.path): "pending" for f in files},
    }
    _execute(config, files, runner, journal, new_config, fresh=True)
    report.steps.append(f"all {len(files)} file(s) decrypt and match .sops.yaml")
    return report


def _resume(config: Path, files: list[SopsFile], runner: sops_files.SopsRunner, journal: dict, rotation: str,
            recipient: str, check: bool) -> RotationReport:
    path = journal_path(config)
    if (journal.get("rotation"), journal.get("recipient") or "") != (rotation, recipient):
        started = journal.get("rotation") or "a rotation"
        who = f" of {journal['recipient']}" if journal.get("recipient") else ""
        raise WorkflowError(f"an interrupted {started}{who} is recorded in {path}: run that rotation again to finish "
                            "it before starting another (nothing changed)")
    known = {Path(os.path.abspath(f.path)): f for f in files}
    todo: list[SopsFile] = []
    for key, state in journal["files"].items():
        file_path = _journal_file(config, key)
        if state == "done":
            continue
        sops_file = known.get(file_path) or read_sops_file(file_path)
        if sops_file is None:
            raise WorkflowError(f"{file_path} is in the journal {path} but is no SOPS file any more: restore it from "
                                "git, or check the files with rotation=verify and remove the journal")
        todo.append(sops_file)
    done = len(journal["files"]) - len(todo)
    report = RotationReport(config=str(config), files=[str(_journal_file(config, k)) for k in journal["files"]],
                            rules_changed=list(journal.get("rules_changed") or []), changed=True, resumed=True)
    verb = "would " if check else ""
    report.steps.append(f"{verb}resume the interrupted {rotation} recorded in {path}: {done} file(s) done, "
                        f"{len(todo)} left")
    if not journal.get("config_written"):
        report.steps.append(f".sops.yaml {'would be ' if check else ''}updated ({', '.join(report.rules_changed)})")
    if journal.get("update"):
        report.steps.append(f"{verb}sops updatekeys on {len(todo)} file(s)")
    if journal.get("rotate_data_key"):
        report.steps.append(f"{verb}sops rotate (new data key) on {len(todo)} file(s)")
    if check:
        return report
    add = [recipient] if rotation == "add_recipient" else []
    remove = [recipient] if rotation == "remove_recipient" else []
    new_config = None if journal.get("config_written") else plan_recipients(config, add, remove)[0]
    _execute(config, todo, runner, journal, new_config, fresh=False,
             every=[_journal_file(config, k) for k in journal["files"]])
    report.steps.append(f"all {len(journal['files'])} file(s) decrypt and match .sops.yaml")
    return report


def _step(action: Callable, runner: sops_files.SopsRunner, sops_file: SopsFile, name: str) -> None:
    try:
        action(runner, sops_file)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{sops_file.path}: sops {name} failed: {sops_reason(exc)}") from None


def _execute(config: Path, files: list[SopsFile], runner: sops_files.SopsRunner, journal: dict,
             new_config: bytes | None, fresh: bool, every: list[Path] | None = None) -> None:
    """Apply the journal's plan to ``files``, recording each step before the next one. On a failure
    sops reports, this run's changes are undone; a killed run leaves the journal for the next one."""
    start_journal = json.loads(json.dumps(journal))
    originals = {path: path.read_bytes() for path in [config, *(f.path for f in files)]}
    write_journal(config, journal)
    try:
        if new_config is not None and not journal["config_written"]:
            sops_files.write_atomic(config, new_config, mode=os.stat(config).st_mode & 0o777)
            journal["config_written"] = True
            write_journal(config, journal)
        for sops_file in files:
            key = _journal_key(config, sops_file.path)
            if journal["update"] and journal["files"][key] == "pending":
                _step(sops_updatekeys, runner, sops_file, "updatekeys")
                journal["files"][key] = "keys_updated" if journal["rotate_data_key"] else "done"
                write_journal(config, journal)
            if journal["rotate_data_key"] and journal["files"][key] != "done":
                _step(sops_rotate, runner, sops_file, "rotate")
                journal["files"][key] = "done"
                write_journal(config, journal)
        checked = [read_sops_file(p) or SopsFile(p, "yaml", {}) for p in every] if every else files
        problems = verify_files(checked, runner, config)
        if problems:
            raise WorkflowError("verification after rotation failed:\n  " + "\n  ".join(problems))
    except (sops_files.SopsError, WorkflowError) as exc:
        for path, content in originals.items():
            sops_files.write_atomic(path, content, mode=os.stat(path).st_mode & 0o777)
        if fresh:
            journal_path(config).unlink(missing_ok=True)
        else:
            write_journal(config, start_journal)
        reason = sops_reason(exc) if isinstance(exc, sops_files.SopsError) else str(exc)
        raise WorkflowError(f"{reason}\nevery file was restored to its previous content") from None
    journal_path(config).unlink(missing_ok=True)


# --------------------------------------------------------------------------- entry point


def run(options: dict[str, Any], vault_secrets: list | None = None, check: bool = False,
        base_dir: str | Path | None = None) -> dict[str, Any]:
    """Run one operation with the action plugin's options; returns the task result.

    Relative paths are relative to ``base_dir`` (default: the current working directory,
    the user's repository). ``vault_secrets`` are the run's vault secrets (--vault-id);
    those of ``vault_ids``/``vault_password_files`` come first. Raises WorkflowError
    (value-free message) on a refusal.
    """
    spec = argument_spec()
    unknown = sorted(set(options) - set(spec))
    if unknown:
        raise WorkflowError(f"unknown option(s): {', '.join(unknown)}")
    opts = {name: options.get(name, spec[name].get("default")) for name in spec}
    operation = opts["operation"]
    if operation not in OPERATIONS:
        raise WorkflowError(f"operation must be one of {', '.join(OPERATIONS)}")
    allowed = COMMON_OPTIONS + OPERATION_OPTIONS[operation]
    misplaced = [name for name in spec if name not in allowed and opts[name] not in (None, False, [])]
    if misplaced:
        raise WorkflowError(f"option(s) {', '.join(misplaced)} do not apply to operation {operation}")
    for key, value, names in REQUIRED_IF:
        missing = [name for name in names if opts[key] == value and opts[name] in (None, "", [])]
        if missing:
            raise WorkflowError(f"{key}={value} needs {', '.join(option(name) for name in missing)}")

    base = Path(base_dir) if base_dir is not None else Path.cwd()

    def path(value: str | None) -> Path | None:
        return None if value in (None, "") else Path(os.path.normpath(base / os.path.expanduser(str(value))))

    sops_config = path(opts["sops_config"])
    age_key_file = path(opts["age_key_file"])
    runner = sops_files.SopsRunner(binary=opts["sops_binary"], config=sops_config,
                                   age_key_file=str(age_key_file) if age_key_file else
                                   os.environ.get("SOPS_AGE_KEY_FILE"))
    deprecations = [{"msg": f"{name} ({VARIABLE_PREFIX}{name}) is deprecated: {why}", "version": version,
                     "collection_name": "stability.ops"}
                    for name, (version, why) in DEPRECATED_OPTIONS.items() if opts[name] is not None]
    if operation == "rotate_keys":
        return _run_rotation(opts, path, runner, sops_config, check)
    explicit = [_vault_id_spec(base, entry) for entry in opts["vault_ids"] or []]
    explicit += [f"default@{path(file)}" for file in opts["vault_password_files"] or []]
    all_vault_secrets = (vault_files.secrets_from_files(explicit) if explicit else []) + list(vault_secrets or [])
    if operation == "add_placeholders":
        return _run_add_placeholders(opts, path, runner, all_vault_secrets, check)
    result = _run_migration(opts, path, runner, sops_config, all_vault_secrets, check)
    if deprecations:
        result["deprecations"] = deprecations
    return result


def _vault_id_spec(base: Path, spec: str) -> str:
    vault_id, sep, file = spec.partition("@")
    if not sep or not vault_id or not file:
        # The entry may be a password pasted by mistake: never echo it.
        raise WorkflowError(f"vault_ids entries are ID@FILE, got {secrets_redaction.REDACTED} "
                            f"({len(spec)} characters, no '@')")
    return f"{vault_id}@{os.path.normpath(base / os.path.expanduser(file))}"


def _run_add_placeholders(opts, path, runner, vault_secrets, check) -> dict[str, Any]:
    spec_target, specs = load_spec(path(opts["spec"]))
    target = path(opts["target"]) or spec_target
    if target is None:
        raise WorkflowError(f"no target: set {option('target')} or 'target' in the spec")
    report = add_placeholders(target, specs, opts["format"], runner, vault_secrets, check=check)
    verb = "would add" if check else "added"
    state = "written" if report.written else ("unchanged" if not report.added else "not written (check mode)")
    msg = f"{report.target} ({report.fmt}): {len(report.added)} {verb}, {len(report.existing)} kept, {state}"
    if report.added:
        msg += f"; {verb}: {', '.join(secrets_redaction.display_key([name], is_secret) for name in report.added)}"
    return {"changed": bool(report.added), "msg": msg, "target": report.target, "format": report.fmt,
            "added": report.added, "existing": report.existing, "written": report.written}


def _run_migration(opts, path, runner, sops_config, vault_secrets, check) -> dict[str, Any]:
    source = path(opts["source"])
    target = path(opts["target"])
    if opts["verify_only"]:
        target = target or sops_target_path(source)
        config, recipients = verify_keys(target, runner, sops_config)
        return {"changed": False, "source": str(source), "target": str(target), "config": str(config),
                "recipients": recipients,
                "msg": f"keys verified for {target}: {len(recipients)} age recipient(s) from {config}"}
    report = migrate_vault_to_sops(source, target, vault_secrets, runner, sops_config, force=opts["force"],
                                   check=check)
    if not report.changed:
        msg = report.already_migrated
    elif check:
        msg = f"would migrate {report.source} -> {report.target} ({report.keys} keys); nothing written (check mode)"
    else:
        msg = (f"migrated {report.source} -> {report.target} ({report.keys} keys, ciphertext checked, values "
               f"identical); the Vault backup {report.backup} is kept: remove it once the SOPS file is committed")
    return {"changed": report.changed, "msg": msg, "source": report.source, "target": report.target,
            "backup": report.backup, "key_count": report.keys, "names": report.names,
            "backup_kept": report.backup_kept, "source_removed": report.source_removed, "steps": report.steps}


def _run_rotation(opts, path, runner, sops_config, check) -> dict[str, Any]:
    if not sops_config.is_file():
        raise WorkflowError(f"{sops_config} does not exist: set {option('sops_config')} to an existing .sops.yaml")
    paths = [path(p) for p in opts["paths"]] if opts["paths"] else [sops_config.parent]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise WorkflowError(f"path(s) do not exist: {', '.join(missing)}")
    files = discover_sops_files(paths, skip=(sops_config,))
    rotation = opts["rotation"]
    if rotation == "verify":
        if journal_path(sops_config).exists():
            raise WorkflowError(f"an interrupted rotation is recorded in {journal_path(sops_config)}: run it again "
                                "to finish it, then verify")
        if not files:
            raise WorkflowError(f"no SOPS file found to verify under {', '.join(str(p) for p in paths)}")
        problems = verify_files(files, runner, sops_config)
        if problems:
            raise WorkflowError("verification failed:\n  " + "\n  ".join(problems))
        return {"changed": False, "config": str(sops_config), "files": [str(f.path) for f in files], "steps": [],
                "rules_changed": [], "resumed": False,
                "msg": f"all {len(files)} SOPS file(s) decrypt and match {sops_config}"}
    recipient = opts["recipient"]
    report = rotate(sops_config, files, runner,
                    add=[recipient] if rotation == "add_recipient" else [],
                    remove=[recipient] if rotation == "remove_recipient" else [],
                    rotate_data_key=rotation == "rotate_data_key", check=check, rotation=rotation)
    return {"changed": report.changed, "config": report.config, "files": report.files,
            "rules_changed": report.rules_changed, "resumed": report.resumed, "steps": report.steps,
            "msg": "; ".join(report.steps)}
