# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets workflows behind the scripts (controller only): placeholders,
Vault to SOPS migration and age key rotation.

Plaintext only lives in memory and in pipes to sops. Every workflow verifies
its result by decrypting again, and restores the original ciphertext when the
verification fails. Reports carry key names, never values.
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
    return yaml.safe_load(data.decode("utf-8"))


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
    data = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("secrets"), list):
        raise WorkflowError(f"{spec_path}: a spec needs a 'secrets' list")
    specs = []
    for index, item in enumerate(data["secrets"]):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(item.get("name", ""))):
            raise WorkflowError(f"{spec_path}: secrets[{index}] needs a 'name' that is a valid variable name")
        spec = SecretSpec(name=item["name"], generator=item.get("generator", "password"),
                          length=int(item.get("length", 32)), description=item.get("description", ""))
        if spec.generator not in GENERATORS:
            raise WorkflowError(f"{spec_path}: {spec.name}: generator must be one of {', '.join(GENERATORS)}")
        if not 16 <= spec.length <= 256:
            raise WorkflowError(f"{spec_path}: {spec.name}: length must be between 16 and 256")
        specs.append(spec)
    target = data.get("target")
    return (spec_path.parent / target if target else None), specs


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
    doc = rt.load(plaintext.decode("utf-8")) if plaintext and plaintext.strip() else None
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
        note = f"placeholder generated by add_placeholders.py on {stamp}; replace with the real value"
        if spec.description:
            note = f"{spec.description}\n{note}"
        doc.yaml_set_comment_before_after_key(spec.name, before=note)
        added.append(spec.name)
    return _dump(rt, doc), added, existing


def add_placeholders(target: Path, specs: list[SecretSpec], fmt: str | None, runner: sops_files.SopsRunner,
                     vault_secrets: list, check: bool = False) -> PlaceholderReport:
    plaintext = None
    vault_id = None
    if target.exists():
        text = target.read_text(encoding="utf-8")
        if vault_files.looks_like_vault(text):
            fmt = "vault"
            vault_id = vault_files.parse_envelope(text).vault_id
            plaintext = _vault_decrypt(text, vault_secrets)
        elif sops_files.is_sops_document(_safe_yaml(text)):
            fmt = "sops"
            plaintext = _sops_decrypt(runner, target)
        elif text.strip():
            raise WorkflowError(f"{target} exists but is not encrypted: encrypt or migrate it first")
    fmt = fmt or "sops"
    report = PlaceholderReport(target=str(target), fmt=fmt)
    new_plain, report.added, report.existing = merge_placeholders(plaintext, specs)
    if not report.added or check:
        return report
    if fmt == "sops":
        ciphertext = _sops_encrypt(runner, new_plain, target)
        verify = runner.decrypt_bytes(ciphertext)
    else:
        ciphertext = vault_files.encrypt(new_plain, vault_secrets, vault_id).encode()
        verify = vault_files.decrypt(ciphertext, vault_secrets)
    if not deep_equal(_plain_load(verify), _plain_load(new_plain)):
        raise WorkflowError(f"{target}: encrypted result does not decrypt to the intended document; nothing written")
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


# --------------------------------------------------------------------------- migration


@dataclass
class MigrationReport:
    source: str
    target: str
    backup: str
    keys: int = 0
    backup_kept: bool = False
    source_removed: bool = False
    steps: list[str] = field(default_factory=list)


def verify_keys(target: Path, runner: sops_files.SopsRunner, config: Path | None = None) -> tuple[Path, list[str]]:
    """Refuse unless .sops.yaml has a rule with valid age recipients for the target,
    the local age key is one of them, and a canary encrypts and decrypts."""
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
        raise WorkflowError("no age key file (set SOPS_AGE_KEY_FILE): the result could not be verified")
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
                          config: Path | None = None, keep_backup: bool = False,
                          force: bool = False) -> MigrationReport:
    target = target or sops_target_path(source)
    backup = source.with_name(source.name + ".vault-backup")
    report = MigrationReport(source=str(source), target=str(target), backup=str(backup))
    if not source.is_file():
        raise WorkflowError(f"{source} does not exist")
    text = source.read_text(encoding="utf-8")
    try:
        vault_files.parse_envelope(text)
    except vault_files.VaultFormatError as exc:
        raise WorkflowError(f"{source} is not a valid Ansible Vault file: {exc.detail}") from None
    if target.exists() and target.resolve() != source.resolve() and not force:
        raise WorkflowError(f"{target} already exists: refusing to overwrite it (use --force)")
    plaintext = _vault_decrypt(text, vault_secrets)
    original = _plain_load(plaintext)
    if not isinstance(original, dict):
        raise WorkflowError(f"{source} does not decrypt to a mapping of variables")
    report.keys = len(original)
    report.steps.append("vault decrypted with the given vault id")
    verify_keys(target, runner, config)
    report.steps.append("age recipients and local key verified (canary round trip)")
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
        if target.resolve() == source.resolve():
            shutil.copy2(backup, source)
        else:
            target.unlink()
        report.backup_kept = True
        raise WorkflowError("written SOPS file does not decrypt to the same values: restored, backup kept")
    report.steps.append(f"{target} decrypts to identical values ({report.keys} keys)")
    if target.resolve() != source.resolve():
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


def set_recipients(config: Path, add: list[str], remove: list[str]) -> list[str]:
    """Edit every creation rule's age recipients in .sops.yaml, keeping comments."""
    for recipient in add:
        if not sops_files.AGE_RECIPIENT.match(recipient):
            raise WorkflowError(f"not a valid age public key: {recipient}")
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
    if remove and not changed and not add:
        raise WorkflowError("recipient to remove is in no creation rule")
    sops_files.write_atomic(config, _dump(rt, doc), mode=os.stat(config).st_mode & 0o777)
    return changed


def rotate(config: Path, files: list[Path], runner: sops_files.SopsRunner, add: list[str] | None = None,
           remove: list[str] | None = None, rotate_data_key: bool = False) -> RotationReport:
    """Change recipients (updatekeys) and/or the data key (rotate) of every file,
    then verify every file; restore everything on failure."""
    add, remove = add or [], remove or []
    report = RotationReport(config=str(config), files=[str(f) for f in files])
    if not files:
        raise WorkflowError("no SOPS file found to rotate")
    problems = [p for p in verify_files(files, runner, config) if "[sops-recipient-mismatch]" not in p]
    if problems:
        raise WorkflowError("files do not verify before rotation:\n  " + "\n  ".join(problems))
    originals = {path: path.read_bytes() for path in [config, *files]}
    try:
        if add or remove:
            changed = set_recipients(config, add, remove)
            report.steps.append(f".sops.yaml updated ({', '.join(changed) or 'no rule changed'})")
            for path in files:
                runner.updatekeys(path)
            report.steps.append(f"sops updatekeys on {len(files)} file(s)")
        if rotate_data_key or remove:
            for path in files:
                runner.rotate(path)
            report.steps.append(f"sops rotate (new data key) on {len(files)} file(s)")
        problems = verify_files(files, runner, config)
        if problems:
            raise WorkflowError("verification after rotation failed:\n  " + "\n  ".join(problems))
    except (sops_files.SopsError, WorkflowError) as exc:
        for path, content in originals.items():
            sops_files.write_atomic(path, content, mode=os.stat(path).st_mode & 0o777)
        raise WorkflowError(f"{exc}\nevery file was restored to its previous content") from None
    report.steps.append(f"all {len(files)} file(s) decrypt and match .sops.yaml")
    return report


# --------------------------------------------------------------------------- CLI helpers


def add_common_arguments(parser) -> None:
    parser.add_argument("--age-key-file", default=os.environ.get("SOPS_AGE_KEY_FILE"),
                        help="age key file for sops (default: $SOPS_AGE_KEY_FILE)")
    parser.add_argument("--sops-config", type=Path, help=".sops.yaml to use (default: searched upwards)")
    parser.add_argument("--sops-binary", help="sops executable (default: sops on PATH)")
    parser.add_argument("--vault-id", action="append", default=[], metavar="ID@FILE",
                        help="vault id and password file, as for ansible-vault (repeatable)")
    parser.add_argument("--vault-password-file", action="append", default=[], metavar="FILE",
                        help="vault password file for the default vault id (repeatable)")


def runner_from_args(args) -> sops_files.SopsRunner:
    return sops_files.SopsRunner(binary=args.sops_binary, age_key_file=args.age_key_file, config=args.sops_config)


def vault_secrets_from_args(args) -> list:
    specs = list(args.vault_id) + list(args.vault_password_file)
    return vault_files.secrets_from_files(specs) if specs else []


def cli_run(func, args) -> int:
    """Run a workflow, turning refusals into exit code 2 and one clear line."""
    import sys

    from ansible.errors import AnsibleError

    try:
        func(args)
    except WorkflowError as exc:
        print(f"REFUSED: {exc}", file=sys.stderr)
        return 2
    except (sops_files.SopsError, vault_files.VaultFormatError, AnsibleError, OSError) as exc:
        print(f"ERROR: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
