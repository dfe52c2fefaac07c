# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets workflows of the ``stability.ops.secrets_workflow`` action plugin
(controller only): placeholders, Vault to SOPS migration and age key rotation.

Plaintext only lives in memory and in pipes to sops. Every workflow verifies
its result by decrypting again, and restores the original ciphertext when the
verification fails. Reports carry key names, never values. In check mode a
workflow reads, decrypts and encrypts in memory as a real run would, and
writes nothing.

:func:`run` is the entry point: it takes the validated options of the action
plugin (:func:`argument_spec`), resolves relative paths against the current
working directory (the user's repository) and returns the task result.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import string
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight, sops_files, vault_files


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


def _plain_load(data: bytes) -> Any:
    """Parse decrypted YAML. PyYAML's errors quote the document: never let one out."""
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WorkflowError(f"the decrypted document is not valid YAML ({type(exc).__name__})") from None


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
        "keep_backup": {"type": "bool", "default": False},
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
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WorkflowError(f"{spec_path}: not a YAML spec ({type(exc).__name__})") from None
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


def merge_placeholders(plaintext: bytes | None, specs: list[SecretSpec]) -> tuple[bytes, list[str], list[str]]:
    """Add missing keys to a YAML document, keeping comments and order."""
    rt = _ruamel()
    try:
        doc = rt.load(plaintext.decode("utf-8")) if plaintext and plaintext.strip() else None
    except Exception as exc:  # ruamel's errors quote the document: keep them out of every message
        raise WorkflowError(f"the decrypted secrets document is not valid YAML ({type(exc).__name__})") from None
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

    In check mode the new document is still encrypted and verified in memory, so that
    check mode fails where a real run would; only the write is skipped.
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
    new_plain, report.added, report.existing = merge_placeholders(plaintext, specs)
    if not report.added:
        return report
    if fmt == "sops":
        ciphertext = _sops_encrypt(runner, new_plain, target)
        verify = runner.decrypt_bytes(ciphertext)
    else:
        try:
            ciphertext = vault_files.encrypt(new_plain, vault_secrets, vault_id).encode()
        except Exception as exc:
            raise WorkflowError(f"{target}: vault encryption failed: {type(exc).__name__}: {VAULT_HINT}") from None
        verify = vault_files.decrypt(ciphertext, vault_secrets)
    if not deep_equal(_plain_load(verify), _plain_load(new_plain)):
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
    except yaml.YAMLError:
        return None


def _vault_decrypt(text: str | bytes, vault_secrets: list) -> bytes:
    try:
        return vault_files.decrypt(text, vault_secrets)
    except Exception as exc:
        raise WorkflowError(f"vault decryption failed: {type(exc).__name__}: check the vault id") from None


def _sops_decrypt(runner: sops_files.SopsRunner, path: Path) -> bytes:
    try:
        return runner.decrypt(path)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{path}: sops cannot decrypt: {exc}") from None


def _sops_encrypt(runner: sops_files.SopsRunner, plaintext: bytes, target: Path) -> bytes:
    try:
        return runner.encrypt(plaintext, target)
    except sops_files.SopsError as exc:
        raise WorkflowError(f"{target}: sops cannot encrypt: {exc}") from None


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
        raise WorkflowError(f"sops canary round trip failed: {exc}") from None
    if _plain_load(back) != _plain_load(canary):
        raise WorkflowError("sops canary round trip returned different data")
    return config, rule.age


def migrate_vault_to_sops(source: Path, target: Path | None, vault_secrets: list, runner: sops_files.SopsRunner,
                          config: Path | None = None, keep_backup: bool = False, force: bool = False,
                          check: bool = False) -> MigrationReport:
    """Vault file to SOPS, verified value by value; idempotent (a migrated file is left alone).

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
            return report
        raise WorkflowError(f"{source} does not exist")
    text = source.read_text(encoding="utf-8")
    if in_place and not vault_files.looks_like_vault(text) and _is_sops_file(source):
        report.already_migrated = f"{source} is a SOPS file already: already migrated"
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
    original = _plain_load(plaintext)
    if not isinstance(original, dict):
        raise WorkflowError(f"{source} does not decrypt to a mapping of variables")
    report.keys = len(original)
    report.names = [str(name) for name in original]
    report.changed = True
    report.steps.append("vault decrypted with the given vault id")
    verify_keys(target, runner, config)
    report.steps.append("age recipients and local key verified (canary round trip)")
    if check:
        report.steps += [f"would keep a vault backup at {backup}",
                         f"would write {target} and check that it decrypts to identical values ({report.keys} keys)"]
        if not in_place:
            report.steps.append(f"would remove the vault source {source}")
        report.steps.append("would keep the vault backup" if keep_backup else
                            "would remove the vault backup after verification")
        return report
    shutil.copy2(source, backup)
    os.chmod(backup, 0o600)
    report.steps.append(f"vault backup kept at {backup}")
    ciphertext = _sops_encrypt(runner, plaintext, target)
    if not deep_equal(_plain_load(runner.decrypt_bytes(ciphertext)), original):
        report.backup_kept = True
        raise WorkflowError("SOPS result does not decrypt to the same values: nothing changed, backup kept")
    sops_files.write_atomic(target, ciphertext)
    try:
        final = _plain_load(_sops_decrypt(runner, target))
    except WorkflowError:
        final = None
    if not deep_equal(final, original):
        if in_place:
            shutil.copy2(backup, source)
        else:
            target.unlink()
        report.backup_kept = True
        raise WorkflowError("written SOPS file does not decrypt to the same values: restored, backup kept")
    report.steps.append(f"{target} decrypts to identical values ({report.keys} keys)")
    if not in_place:
        source.unlink()
        report.source_removed = True
        report.steps.append(f"vault source {source} removed")
    if keep_backup:
        report.backup_kept = True
    else:
        backup.unlink()
        report.steps.append("vault backup removed after verification")
    return report


# --------------------------------------------------------------------------- rotation


@dataclass
class RotationReport:
    config: str
    files: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    changed: bool = False
    steps: list[str] = field(default_factory=list)


def discover_sops_files(paths: list[Path]) -> list[Path]:
    opts = secrets_preflight.Options(paths=[str(p) for p in paths], explicit_paths=False)
    files, _missing = secrets_preflight.expand_paths(opts)
    found = []
    for path in files:
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if sops_files.is_sops_document(data):
            found.append(path)
    return found


def verify_files(files: list[Path], runner: sops_files.SopsRunner, config: Path) -> list[str]:
    """Every file decrypts and its recipients equal its creation rule. Returns problems."""
    checker = secrets_preflight.Checker(secrets_preflight.Options(
        decrypt=True, age_key_file=runner.age_key_file, sops_binary=runner.binary, sops_config=str(config),
        scan_tracked_files=False))
    problems = []
    for path in files:
        result = checker.check_file(path)
        problems += [f"{path}: [{v.rule}] {v.detail}" for v in result.violations]
    return problems


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


def _file_recipients(path: Path) -> set[str]:
    data = _safe_yaml(path.read_text(encoding="utf-8"))
    return set(sops_files.file_recipients(data["sops"])) if sops_files.is_sops_document(data) else set()


def rotate(config: Path, files: list[Path], runner: sops_files.SopsRunner, add: list[str] | None = None,
           remove: list[str] | None = None, rotate_data_key: bool = False, check: bool = False) -> RotationReport:
    """Change recipients (updatekeys) and/or the data key (rotate) of every file,
    then verify every file; restore everything on failure.

    Idempotent: a recipient already in every rule and file is not added again, one in no
    rule and no file is not removed again. Check mode verifies the files, plans the
    .sops.yaml change and reports what would be done, writing nothing.
    """
    add, remove = add or [], remove or []
    for recipient in add + remove:
        if not sops_files.AGE_RECIPIENT.match(recipient):
            raise WorkflowError(f"not a valid age public key: {recipient}")
    report = RotationReport(config=str(config), files=[str(f) for f in files])
    if not files:
        raise WorkflowError(f"no SOPS file found to rotate (set {option('paths')} to the files or directories)")
    problems = verify_files(files, runner, config)
    mismatch = any("[sops-recipient-mismatch]" in p for p in problems)
    problems = [p for p in problems if "[sops-recipient-mismatch]" not in p]
    if problems:
        raise WorkflowError("files do not verify before rotation:\n  " + "\n  ".join(problems))
    new_config, report.rules_changed = plan_recipients(config, add, remove)
    holders = [f for f in files if _file_recipients(f) & set(remove)]
    update = bool(add or remove) and bool(report.rules_changed or mismatch)
    new_data_key = rotate_data_key or bool(remove and (report.rules_changed or holders))
    if not (update or new_data_key):
        for recipient in add:
            report.steps.append(f"{recipient} is already a recipient of every rule and file: nothing to add")
        for recipient in remove:
            report.steps.append(f"{recipient} is a recipient of no creation rule and no file: nothing to remove")
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
    originals = {path: path.read_bytes() for path in [config, *files]}
    try:
        if update:
            if report.rules_changed:
                sops_files.write_atomic(config, new_config, mode=os.stat(config).st_mode & 0o777)
            for path in files:
                runner.updatekeys(path)
        if new_data_key:
            for path in files:
                runner.rotate(path)
        problems = verify_files(files, runner, config)
        if problems:
            raise WorkflowError("verification after rotation failed:\n  " + "\n  ".join(problems))
    except (sops_files.SopsError, WorkflowError) as exc:
        for path, content in originals.items():
            sops_files.write_atomic(path, content, mode=os.stat(path).st_mode & 0o777)
        raise WorkflowError(f"{exc}\nevery file was restored to its previous content") from None
    report.steps.append(f"all {len(files)} file(s) decrypt and match .sops.yaml")
    return report


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
    if operation == "rotate_keys":
        return _run_rotation(opts, path, runner, sops_config, check)
    explicit = [_vault_id_spec(base, entry) for entry in opts["vault_ids"] or []]
    explicit += [f"default@{path(file)}" for file in opts["vault_password_files"] or []]
    all_vault_secrets = (vault_files.secrets_from_files(explicit) if explicit else []) + list(vault_secrets or [])
    if operation == "add_placeholders":
        return _run_add_placeholders(opts, path, runner, all_vault_secrets, check)
    return _run_migration(opts, path, runner, sops_config, all_vault_secrets, check)


def _vault_id_spec(base: Path, spec: str) -> str:
    vault_id, sep, file = spec.partition("@")
    if not sep or not vault_id or not file:
        raise WorkflowError(f"vault_ids entries are ID@FILE, got {spec!r}")
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
        msg += f"; {verb}: {', '.join(report.added)}"
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
    report = migrate_vault_to_sops(source, target, vault_secrets, runner, sops_config,
                                   keep_backup=opts["keep_backup"], force=opts["force"], check=check)
    if not report.changed:
        msg = report.already_migrated
    elif check:
        msg = f"would migrate {report.source} -> {report.target} ({report.keys} keys); nothing written (check mode)"
    else:
        msg = f"migrated {report.source} -> {report.target} ({report.keys} keys, values identical)"
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
    files = discover_sops_files(paths)
    rotation = opts["rotation"]
    if rotation == "verify":
        if not files:
            raise WorkflowError(f"no SOPS file found to verify under {', '.join(str(p) for p in paths)}")
        problems = verify_files(files, runner, sops_config)
        if problems:
            raise WorkflowError("verification failed:\n  " + "\n  ".join(problems))
        return {"changed": False, "config": str(sops_config), "files": [str(f) for f in files], "steps": [],
                "rules_changed": [], "msg": f"all {len(files)} SOPS file(s) decrypt and match {sops_config}"}
    recipient = opts["recipient"]
    report = rotate(sops_config, files, runner,
                    add=[recipient] if rotation == "add_recipient" else [],
                    remove=[recipient] if rotation == "remove_recipient" else [],
                    rotate_data_key=rotation == "rotate_data_key", check=check)
    return {"changed": report.changed, "config": report.config, "files": report.files,
            "rules_changed": report.rules_changed, "steps": report.steps, "msg": "; ".join(report.steps)}
