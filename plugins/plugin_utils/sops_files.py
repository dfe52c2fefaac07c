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

SOPS_CONFIG_NAMES = (".sops.yaml", ".sops.yml")
ENC_VALUE = re.compile(
    r"^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]{16,},tag:[A-Za-z0-9+/=]{16,},"
    r"type:(str|int|float|bool|bytes|comment)\]$"
)
AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
REQUIRED_METADATA = ("mac", "lastmodified", "version")


class SopsError(RuntimeError):
    """sops failed; the message carries sops' stderr (which never holds values)."""


@dataclass
class Violation:
    rule: str
    detail: str


@dataclass
class CreationRule:
    index: int
    path_regex: str | None
    age: list[str]
    raw: dict = field(default_factory=dict)


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
        age = split_recipients(rule.get("age"))
        for group in rule.get("key_groups") or []:
            if isinstance(group, dict):
                age.extend(split_recipients(group.get("age")))
        result.append(CreationRule(index=index, path_regex=rule.get("path_regex"), age=age, raw=rule))
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
    if not recipients:
        found.append(Violation("sops-no-age-recipient", "sops metadata has no age recipient"))
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


def unencrypted_values(data: dict, metadata: dict, is_secret_key) -> list[Violation]:
    """Every value must be ENC[...] unless its key is excluded by the file's own
    unencrypted_suffix / unencrypted_regex; a secret-looking key is never excluded."""
    suffix = metadata.get("unencrypted_suffix")
    regex = metadata.get("unencrypted_regex")
    found: list[Violation] = []

    def excluded(key: str) -> bool:
        return bool((suffix and key.endswith(suffix)) or (regex and re.search(regex, key)))

    def walk(node: Any, path: str, skip: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                key_s = str(key)
                child = f"{path}.{key_s}" if path else key_s
                child_skip = skip or excluded(key_s)
                bare = key_s[: -len(suffix)] if suffix and key_s.endswith(suffix) else key_s
                if child_skip and is_secret_key(bare.rstrip("_-.")) and _has_content(value):
                    found.append(Violation("sops-secret-unencrypted",
                                           f"secret-looking key '{child}' is excluded from encryption"))
                walk(value, child, child_skip)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]", skip)
        elif skip or node is None or node == "":
            return
        elif isinstance(node, str) and node.startswith("ENC["):
            if not ENC_VALUE.match(node):
                found.append(Violation("sops-value-malformed", f"value of '{path}' is a malformed ENC[...] value"))
        else:
            found.append(Violation("sops-value-unencrypted", f"value of '{path}' is not encrypted"))

    walk({k: v for k, v in data.items() if k != "sops"}, "", False)
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

    def _run(self, args: list[str], stdin: bytes | None = None, for_path: str | Path | None = None) -> bytes:
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
            raise SopsError(_last_error(proc.stderr))
        return proc.stdout

    def decrypt(self, path: str | Path, input_type: str | None = None) -> bytes:
        args = ["--decrypt"]
        if input_type:
            args += ["--input-type", input_type, "--output-type", input_type]
        return self._run([*args, str(path)])

    def decrypt_bytes(self, ciphertext: bytes, input_type: str = "yaml") -> bytes:
        """Decrypt a document held in memory (e.g. a fresh encryption to verify)."""
        return self._run(["--decrypt", "--input-type", input_type, "--output-type", input_type, "/dev/stdin"],
                         stdin=ciphertext)

    def encrypt(self, plaintext: bytes, target: str | Path, input_type: str = "yaml") -> bytes:
        """Encrypt plaintext from stdin for ``target``'s creation rule; returns the ciphertext."""
        return self._run(["--encrypt", "--input-type", input_type, "--output-type", input_type,
                          "--filename-override", str(target), "/dev/stdin"], stdin=plaintext, for_path=target)

    def updatekeys(self, path: str | Path) -> None:
        self._run(["updatekeys", "--yes", str(path)], for_path=path)

    def rotate(self, path: str | Path) -> None:
        self._run(["rotate", "--in-place", str(path)], for_path=path)


def _last_error(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines()
             if line.strip() and "latest version" not in line]
    return lines[-1].strip() if lines else "sops failed without a message"


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
