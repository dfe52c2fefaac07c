# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets preflight rules: one implementation for the action plugin, the
scripts and the tests (controller only).

Every file passes only if it is a well-formed Ansible Vault envelope, a complete
SOPS (age) document whose recipients match ``.sops.yaml``, or a plain vars file
without secret-looking keys (unless each such value is an inline ``!vault``).
Repository hygiene is checked too: age keys and vault passwords out of the tree
and out of tracked files, key files readable by their owner only.

No message produced here ever contains a value: only paths, key names and rule
identifiers. ``RULES`` lists every rule with a one-line description.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fnmatch
import glob
import os
import re
import stat
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import (
    secrets_redaction,
    secrets_rules,
    sops_files,
    vault_files,
)

RULES: dict[str, str] = {
    "path-not-found": "an explicitly requested path does not exist or the glob matches nothing",
    "unreadable": "the file cannot be read",
    "empty-file": "the file is empty",
    "binary-file": "the file is not UTF-8 text",
    "symlink-outside-tree": "a symlink points outside the repository/inventory tree",
    "symlink-loop": "a symlink loops back on itself, so Ansible cannot load it either",
    "file-too-large": "the file is too large to parse as a vars file (key material is still scanned)",
    "yaml-invalid": "the file is not valid YAML (or has duplicate keys)",
    "yaml-alias-expansion": "YAML aliases expand to far more nodes than the file holds (alias bomb)",
    "time-budget-exceeded": "checking the file took longer than its time budget",
    "internal-error": "the check of this file raised an unexpected error (reported by type and line)",
    "vars-not-mapping": "a vars file must be a mapping at the top level",
    "vault-header-invalid": "the $ANSIBLE_VAULT header is not 1.1/1.2 AES256 (1.2 with a vault id)",
    "vault-body-invalid": "the vault body is not well-formed hex salt/hmac/ciphertext",
    "vault-decrypt-failed": "the vault file cannot be decrypted with the configured vault ids",
    "inline-vault-invalid": "an inline !vault value is malformed or does not decrypt",
    "sops-mac-missing": "the SOPS metadata has no mac",
    "sops-mac-invalid": "the SOPS mac is not an ENC[AES256_GCM,...] value",
    "sops-metadata-incomplete": "the SOPS metadata lacks lastmodified or version",
    "sops-no-recipient": "the SOPS file has no recipient at all (age, pgp, kms, ...)",
    "sops-recipient-invalid": "a SOPS age recipient is not a valid age public key",
    "sops-value-unencrypted": "a value that sops encrypts is not encrypted in the file",
    "sops-value-malformed": "a value in a SOPS file is a malformed ENC[...] value",
    "sops-secret-unencrypted": "a secret-looking key is left in clear by the file's or the rule's selectors",
    "sops-config-missing": "no .sops.yaml covers the file",
    "sops-config-invalid": "the .sops.yaml cannot be parsed or has no creation rules",
    "sops-no-creation-rule": "no .sops.yaml creation rule matches the file",
    "sops-recipient-mismatch": "the file's recipients (any type, key groups too) differ from its creation rule",
    "sops-decrypt-failed": "sops cannot decrypt the file (tampered, wrong key, or missing key)",
    "plaintext-secret": "a secret-looking key holds a plaintext value",
    "connection-password": "an ansible_password / ansible_become_pass / ansible_ssh_pass variable holds plaintext",
    "jinja-literal-secret": "a secret-looking key holds a Jinja string literal ({{ 'pw' }}, default('pw'))",
    "private-key-material": "a PEM or OpenSSH private key, under any key or in any file",
    "cloud-credential": "a cloud or SaaS credential (AWS access key id, GCP service-account key, tokens)",
    "url-credentials": "a URL with an inline user:password@",
    "encoded-blob": "a !!binary value or a long base64 blob in a plain vars file",
    "secret-in-key-name": "a mapping key is itself a credential",
    "secrets-file-not-encrypted": "a file named like a secrets file is not encrypted",
    "age-private-key": "the file contains an age private key",
    "vault-password-text": "the file contains a configured vault password",
    "age-key-in-tree": "an age private key file lives inside the repository or inventory",
    "key-file-permissions": "a key or password file is readable by group or others",
    "key-file-missing": "the configured age key file does not exist",
}

VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
SECRETS_NAME_PATTERNS = ("secrets*", "*.sops.*", "vault.yml", "vault.yaml", "vault")
AGE_SECRET = secrets_rules.AGE_SECRET
SECRET_WORDS = secrets_rules.SECRET_WORDS
# Bounds: what a vars file may cost before it is reported instead of checked.
MAX_PARSE_BYTES = 8 * 1024 * 1024
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 400
FILE_TIME_BUDGET = 10.0
# Key-material scan: the head and tail are always read, the middle streamed up to a cap.
SCAN_CHUNK = 1024 * 1024
SCAN_HEAD_TAIL = 1024 * 1024
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_SCAN_BYTES = SCAN_HEAD_TAIL
MAX_SCAN_FILES = 20_000
SCAN_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox"})
MIN_PASSWORD_SCAN_LEN = 8
_JSON_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
_KEY_MARKERS = (b"AGE-SECRET-KEY-", b"PRIVATE KEY", b"\\u")


def is_secret_key(name: str, extra: re.Pattern | None = None, ignore: re.Pattern | None = None) -> bool:
    """The key-name heuristic (``secrets_rules.is_secret_key``): camelCase, digits,
    pw/pwd/passwd, secret words anywhere unless a setting word follows, ``*_key``
    unless public."""
    return secrets_rules.is_secret_key(name, extra, ignore)


@dataclass
class FileResult:
    path: str
    kind: str = "unknown"
    violations: list[sops_files.Violation] = field(default_factory=list)
    decrypted: bool = False

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, rule: str, detail: str) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown preflight rule {rule!r}")
        if not any(v.rule == rule and v.detail == detail for v in self.violations):
            self.violations.append(sops_files.Violation(rule, detail))

    def has(self, rule: str) -> bool:
        return any(v.rule == rule for v in self.violations)

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "ok": self.ok, "decrypted": self.decrypted,
                "violations": [asdict(v) for v in self.violations]}


@dataclass
class Options:
    paths: list[str] = field(default_factory=list)
    base_dir: str = "."
    tree_roots: list[str] = field(default_factory=list)
    repository_root: str | None = None
    sops_config: str | None = None
    decrypt: bool = False
    vault_secrets: list = field(default_factory=list)
    vault_password_files: list[str] = field(default_factory=list)
    age_key_file: str | None = None
    sops_binary: str | None = None
    scan_tracked_files: bool = True
    secret_key_regex: str | None = None
    secret_key_ignore_regex: str | None = None
    explicit_paths: bool = True
    # Directories whose every file (any extension, tracked or not) is scanned for key material.
    key_scan_roots: list[str] = field(default_factory=list)
    file_time_budget: float = FILE_TIME_BUDGET


# libyaml's parser when PyYAML has it (about 2.5x faster on a whole inventory,
# measured by stability-ops-bench preflight), the pure-Python one otherwise.
_SafeLoaderBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _VarsLoader(_SafeLoaderBase):
    """SafeLoader that knows Ansible's tags, rejects duplicate keys and never
    raises on a scalar whose explicit tag does not fit its text."""


class InlineVault(str):
    """The ciphertext of an inline ``!vault`` value (or JSON ``__ansible_vault``)."""


class UnsafeText(str):
    """A ``!unsafe`` value: a literal string Ansible never templates."""


class TaggedText(str):
    """A scalar whose explicit ``!!int``/``!!float``/``!!bool``/... tag does not fit its text."""


class _DuplicateKey(yaml.constructor.ConstructorError):
    """A duplicate key; carries the key path parts so the message can redact it."""


def _construct_mapping(loader, node, deep=False):
    keys = set()
    for key_node, _value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # merged keys may be overridden, as in Ansible
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in keys
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "found an unhashable key",
                                                    key_node.start_mark) from None
        if duplicate:
            error = _DuplicateKey(None, None, "duplicate key", key_node.start_mark)
            error.key = key
            raise error
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _tolerant(original):
    """Wrap a SafeLoader scalar constructor: a text that does not fit the tag (``!!int s3cret``)
    is kept as text, so neither a crash nor PyYAML's ValueError can echo it."""
    def construct(loader, node):
        try:
            return original(loader, node)
        except Exception:  # ValueError, TypeError, AttributeError: all of them quote the text
            return TaggedText(loader.construct_scalar(node))
    return construct


def _construct_binary(loader, node):
    text = loader.construct_scalar(node)
    try:
        return base64.decodebytes(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return TaggedText(text)


_VarsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _tag, _method in (("int", "construct_yaml_int"), ("float", "construct_yaml_float"),
                      ("bool", "construct_yaml_bool"), ("timestamp", "construct_yaml_timestamp")):
    _VarsLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _tolerant(getattr(yaml.SafeLoader, _method)))
_VarsLoader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)
_VarsLoader.add_constructor("!vault", lambda loader, node: InlineVault(loader.construct_scalar(node)))
_VarsLoader.add_constructor("!vault-encrypted", lambda loader, node: InlineVault(loader.construct_scalar(node)))
_VarsLoader.add_constructor("!unsafe", lambda loader, node: UnsafeText(loader.construct_scalar(node)))


def load_vars_text(text: str) -> Any:
    return yaml.load(text, Loader=_VarsLoader)  # noqa: S506 - SafeLoader subclass


def is_secrets_name(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in SECRETS_NAME_PATTERNS)


def expanded_size(node: Any, limit: int = MAX_EXPANDED_NODES) -> int:
    """Nodes the data expands to when every alias is copied (what templating and
    a naive walk cost), computed once per shared container; stops past ``limit``."""
    memo: dict[int, int] = {}

    def size(item: Any, depth: int) -> int:
        if not isinstance(item, dict | list):
            return 1
        if depth > MAX_DEPTH:
            raise _TooDeep
        if id(item) in memo:
            return memo[id(item)]
        memo[id(item)] = limit + 1  # a cycle counts as unbounded
        children = item.values() if isinstance(item, dict) else item
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > limit:
                break
        memo[id(item)] = min(total, limit + 1)
        return memo[id(item)]

    return size(node, 0)


class _TooDeep(Exception):
    """Data nests deeper than MAX_DEPTH."""


# --------------------------------------------------------------------------- discovery


def default_paths(inventory_dirs: list[str]) -> list[str]:
    """group_vars/, host_vars/ and secrets*.yml next to each inventory source."""
    result = []
    for directory in inventory_dirs:
        result += [os.path.join(directory, "group_vars"), os.path.join(directory, "host_vars"),
                   os.path.join(directory, "secrets*.yml"), os.path.join(directory, "secrets*.yaml")]
    return result


def inventory_dirs_from_sources(sources: list[str] | str | None) -> list[str]:
    if isinstance(sources, str):
        sources = [sources]
    dirs = []
    for source in sources or []:
        source = os.path.abspath(os.path.expanduser(str(source)))
        if os.path.isdir(source):
            dirs.append(source)
        elif os.path.exists(source):
            dirs.append(os.path.dirname(source))
    return list(dict.fromkeys(dirs))


def _is_vars_candidate(path: Path) -> bool:
    if path.name.startswith(".") or path.name.endswith("~"):
        return False
    return path.suffix in VARS_EXTENSIONS


def expand_paths(opts: Options) -> tuple[list[Path], list[FileResult]]:
    """Expand files, directories and globs. Returns (files, not-found results)."""
    files: list[Path] = []
    missing: list[FileResult] = []
    for raw in opts.paths:
        pattern = os.path.join(opts.base_dir, os.path.expanduser(raw))
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else (
            [pattern] if os.path.lexists(pattern) else [])
        if not matches:
            if opts.explicit_paths and not glob.has_magic(pattern):
                result = FileResult(path=raw, kind="missing")
                result.add("path-not-found", "path does not exist")
                missing.append(result)
            continue
        for match in matches:
            path = Path(match)
            if path.is_dir() and not path.is_symlink():
                for root, dirs, names in os.walk(path, followlinks=False):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
                        candidate = Path(root, name)
                        if _is_vars_candidate(candidate) or candidate.is_symlink():
                            files.append(candidate)
            else:
                files.append(path)
    unique = list(dict.fromkeys(os.path.abspath(f) for f in files))
    return [Path(f) for f in unique], missing


# --------------------------------------------------------------------------- per file


class _BudgetExceeded(Exception):
    """The per-file time budget ran out."""


class Checker:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.extra = re.compile(opts.secret_key_regex, re.I) if opts.secret_key_regex else None
        self.ignore = re.compile(opts.secret_key_ignore_regex, re.I) if opts.secret_key_ignore_regex else None
        self.roots = [_resolve(Path(r)) for r in opts.tree_roots if r]
        self.runner = sops_files.SopsRunner(binary=opts.sops_binary, age_key_file=opts.age_key_file)
        self.passwords = [p for p in self._password_texts() if len(p) >= MIN_PASSWORD_SCAN_LEN]
        self._config_cache: dict[Path, Any] = {}
        self._deadline = 0.0

    def secret_key(self, name: str) -> bool:
        return is_secret_key(name, self.extra, self.ignore)

    def key_path(self, parts: list) -> str:
        return secrets_redaction.display_key(parts, self.secret_key)

    def _password_texts(self) -> list[str]:
        texts = []
        for _vault_id, secret in self.opts.vault_secrets:
            try:
                texts.append(secret.bytes.decode("utf-8").strip())
            except (AttributeError, UnicodeDecodeError):
                continue
        return [t for t in texts if t]

    def display(self, path: Path) -> str:
        base = _resolve(Path(self.opts.repository_root or self.opts.base_dir))
        absolute = Path(os.path.abspath(path))
        try:
            return str(absolute.relative_to(base))
        except ValueError:
            return str(absolute)

    def in_tree(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved == root or root in resolved.parents for root in self.roots)

    def check_file(self, path: Path) -> FileResult:
        """Check one file; never raises: an unexpected error becomes ``internal-error``."""
        result = FileResult(path=self.display(path))
        self._deadline = time.monotonic() + self.opts.file_time_budget
        try:
            self._check_file(path, result)
        except _BudgetExceeded:
            result.add("time-budget-exceeded", f"not fully checked within {self.opts.file_time_budget:g}s")
        except Exception as exc:  # the run must report every file, whatever one of them does
            result.add("internal-error", secrets_redaction.safe_exception(exc))
        return result

    def _check_file(self, path: Path, result: FileResult) -> None:
        if path.is_symlink():
            try:
                path.resolve(strict=True)
            except (RuntimeError, OSError) as exc:
                if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
                    result.kind = "symlink"
                    result.add("symlink-loop", "symlink loop: the link never reaches a file")
                    return
            if self.roots and path.exists() and not self.in_tree(path):
                result.kind = "symlink"
                result.add("symlink-outside-tree", "symlink resolves outside the repository/inventory tree")
                return
            if path.is_dir():
                result.kind = "directory"
                return
        try:
            size = path.stat().st_size
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                result.kind = "symlink"
                result.add("symlink-loop", "symlink loop: the link never reaches a file")
            else:
                result.add("unreadable", f"cannot read file: {exc.strerror or type(exc).__name__}")
            return
        if not path.is_file():
            # A FIFO or device would block the read (and Ansible's load) forever.
            result.add("unreadable", "not a regular file")
            return
        if size > MAX_PARSE_BYTES:
            result.kind = "large"
            result.add("file-too-large", f"{size} bytes is over the {MAX_PARSE_BYTES}-byte parse limit")
            self._scan_stream(path, result)
            return
        try:
            raw = path.read_bytes()
        except OSError as exc:
            result.add("unreadable", f"cannot read file: {exc.strerror or type(exc).__name__}")
            return
        if not raw.strip():
            result.add("empty-file", "file is empty")
            return
        self._scan_bytes(raw, result)
        try:
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            result.kind = "binary"
            result.add("binary-file", "file is not UTF-8 text")
            return
        if vault_files.looks_like_vault(text):
            self._check_vault(text, result)
        else:
            self._check_yaml(path, text, result)

    # ------------------------------------------------------------------ key material

    def scan_content(self, text: str, result: FileResult) -> None:
        self._scan_bytes(text.encode("utf-8", errors="replace"), result)

    def _scan_bytes(self, data: bytes, result: FileResult) -> None:
        """Age and PEM/OpenSSH private keys (also written with JSON ``\\u`` escapes) and vault passwords."""
        if b"\\u" in data:
            data += b"\n" + _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)).encode("utf-8", "replace"), data)
        if b"AGE-SECRET-KEY-" in data.upper() and AGE_SECRET.search(data.decode("utf-8", "replace")):
            result.add("age-private-key", "file contains an AGE-SECRET-KEY (private key material)")
        if b"PRIVATE KEY" in data and secrets_rules.PRIVATE_KEY.search(data.decode("utf-8", "replace")):
            result.add("private-key-material", "file contains a PEM/OpenSSH private key block")
        for password in self.passwords:
            if password.encode("utf-8") in data:
                result.add("vault-password-text", "file contains the text of a configured vault password")
                break

    def _scan_stream(self, path: Path, result: FileResult) -> None:
        """Head, tail and a streamed middle (up to MAX_STREAM_BYTES) with overlapping chunks."""
        overlap = 4096
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                previous = b""
                streamed = 0
                while streamed < max(MAX_STREAM_BYTES, SCAN_HEAD_TAIL):
                    chunk = handle.read(SCAN_CHUNK)
                    if not chunk:
                        break
                    streamed += len(chunk)
                    self._scan_bytes(previous + chunk, result)
                    previous = chunk[-overlap:]
                if size > streamed:
                    handle.seek(max(size - SCAN_HEAD_TAIL, streamed))
                    self._scan_bytes(handle.read(SCAN_HEAD_TAIL), result)
        except OSError as exc:
            result.add("unreadable", f"cannot read file: {exc.strerror or type(exc).__name__}")

    def scan_key_material(self, path: Path) -> FileResult | None:
        """Key-material rules on any file (any extension, tracked or not, any size:
        bounded reads, never skipped). None when the file is clean or not a regular file."""
        result = FileResult(path=self.display(path), kind="scanned")
        try:
            if path.is_symlink() or not path.is_file():
                return None
        except OSError:
            return None
        self._scan_stream(path, result)
        return result if result.violations else None

    # ------------------------------------------------------------------ formats

    def _check_vault(self, text: str, result: FileResult) -> None:
        result.kind = "vault"
        try:
            vault_files.parse_envelope(text)
        except vault_files.VaultFormatError as exc:
            result.add(exc.rule, exc.detail)
            return
        if self.opts.decrypt:
            try:
                vault_files.decrypt(text, self.opts.vault_secrets)
            except Exception as exc:  # AnsibleVaultError and friends
                result.add("vault-decrypt-failed",
                           f"cannot decrypt with the configured vault ids ({type(exc).__name__})")
            else:
                result.decrypted = True

    def _check_yaml(self, path: Path, text: str, result: FileResult) -> None:
        try:
            data = load_vars_text(text)
        except _DuplicateKey as exc:
            result.kind = "invalid"
            mark = exc.problem_mark
            result.add("yaml-invalid", f"duplicate key '{self.key_path([exc.key])}' at line {mark.line + 1}")
            return
        except yaml.YAMLError as exc:
            result.kind = "invalid"
            result.add("yaml-invalid", f"YAML does not parse: {secrets_redaction.redact_yaml_error(exc)}")
            return
        if time.monotonic() > self._deadline:
            raise _BudgetExceeded
        if data is None:
            result.kind = "plain"
            return
        if not isinstance(data, dict):
            result.kind = "invalid"
            result.add("vars-not-mapping", f"top level is a {type(data).__name__}, not a mapping")
            return
        try:
            expanded = expanded_size(data)
        except _TooDeep:
            result.kind = "invalid"
            result.add("yaml-invalid", f"data nests deeper than {MAX_DEPTH} levels")
            return
        if expanded > MAX_EXPANDED_NODES:
            result.add("yaml-alias-expansion",
                       f"aliases expand to more than {MAX_EXPANDED_NODES} nodes from {len(text)} bytes")
        if sops_files.is_sops_document(data):
            self._check_sops(path, data, result)
        else:
            result.kind = "plain"
            if is_secrets_name(path):
                result.add("secrets-file-not-encrypted",
                           "file is named like a secrets file but is neither Vault- nor SOPS-encrypted")
            self.check_data(path, data, result, origin="")

    def _check_sops(self, path: Path, data: dict, result: FileResult) -> None:
        result.kind = "sops"
        metadata = data["sops"]
        structural = sops_files.check_metadata(metadata)
        structural += sops_files.unencrypted_values(data, metadata, self.secret_key)
        for violation in structural:
            result.add(violation.rule, violation.detail)
        self._check_recipients(path, data, result)
        if self.opts.decrypt and not result.has("sops-mac-missing"):
            try:
                self.runner.decrypt(path, input_type="json" if path.suffix == ".json" else "yaml")
            except sops_files.SopsError as exc:
                result.add("sops-decrypt-failed", f"sops cannot decrypt: {exc.reason}")
            else:
                result.decrypted = True

    def config_for(self, path: Path) -> tuple[Path | None, Any]:
        if self.opts.sops_config:
            config = Path(self.opts.base_dir, self.opts.sops_config)
            config = config if config.is_file() else None
        else:
            config = sops_files.find_config(path)
        if config is None:
            return None, None
        if config not in self._config_cache:
            try:
                self._config_cache[config] = sops_files.load_rules(config)
            except ValueError as exc:
                self._config_cache[config] = exc
        return config, self._config_cache[config]

    def _check_recipients(self, path: Path, data: dict, result: FileResult) -> None:
        metadata = data["sops"]
        config, rules = self.config_for(path)
        if config is None:
            result.add("sops-config-missing", "no .sops.yaml found for this file")
            return
        if isinstance(rules, ValueError):
            result.add("sops-config-invalid", str(rules))
            return
        rule = sops_files.match_rule(config, rules, path)
        if rule is None:
            result.add("sops-no-creation-rule", f"no creation rule in {self.display(config)} matches this file")
            return
        have, want = sops_files.all_file_recipients(metadata), rule.recipients()
        if have != want:
            parts = []
            if have - want:
                parts.append(f"{len(have - want)} recipient(s) not in .sops.yaml: "
                             f"{', '.join(f'{kind} {ident}' for kind, ident in sorted(have - want))}")
            if want - have:
                parts.append(f"{len(want - have)} recipient(s) missing (run sops updatekeys): "
                             f"{', '.join(f'{kind} {ident}' for kind, ident in sorted(want - have))}")
            result.add("sops-recipient-mismatch", f"creation rule #{rule.index}: " + "; ".join(parts))
        for shown in sops_files.keys_left_in_clear(rule, data, self.secret_key):
            result.add("sops-secret-unencrypted",
                       f"creation rule #{rule.index} leaves secret-looking key '{shown}' in clear")

    # ------------------------------------------------------------------ vars content

    def check_data(self, path: Path, data: Any, result: FileResult, origin: str = "") -> None:
        """The vars-content rules on already-parsed data (a vars file, or variables
        parsed from an inventory). ``origin`` is appended to each message (e.g. ``host web1``)."""
        del path  # the result already names the file
        where = f" ({origin})" if origin else ""
        for parts, value, secret in self._walk(data):
            shown = self.key_path(parts)
            name = str(parts[-1]) if parts and not isinstance(parts[-1], int) else ""
            if isinstance(value, dict):
                for rule, what in secrets_rules.mapping_findings(value):
                    result.add(rule, f"key '{shown}' holds {what}{where}")
                for key in value:
                    if any(f[0] != "encoded-blob" for f in secrets_rules.value_findings(str(key))):
                        result.add("secret-in-key-name", f"a key under '{shown or '<top>'}' is a credential{where}")
                continue
            if isinstance(value, InlineVault):
                self._check_inline_vault(shown, value, result)
                continue
            if secret and _is_plaintext_secret(value):
                if secrets_rules.jinja_literal(value):
                    result.add("jinja-literal-secret", f"key '{shown}' holds a Jinja string literal{where}")
                elif name.lower() in secrets_rules.CONNECTION_PASSWORDS:
                    result.add("connection-password",
                               f"connection variable '{shown}' holds a plaintext value{where} (use SOPS or !vault)")
                else:
                    tag = " (!unsafe)" if isinstance(value, UnsafeText) else ""
                    result.add("plaintext-secret",
                               f"key '{shown}' holds a plaintext value{tag}{where} (use SOPS or !vault)")
                continue
            for rule, what in secrets_rules.value_findings(value):
                if rule == "age-private-key" and result.has(rule):
                    continue
                result.add(rule, f"key '{shown}' holds {what}{where}")

    def _walk(self, node: Any):
        """(key parts, value, under a secret-looking key) for every mapping and leaf.
        A shared (aliased) container is walked once, so an alias fan-out stays linear."""
        seen: set[tuple[int, bool]] = set()
        stack: list[tuple[list, Any, bool]] = [([], node, False)]
        steps = 0
        while stack:
            parts, item, secret = stack.pop()
            steps += 1
            if steps % 2048 == 0 and time.monotonic() > self._deadline:
                raise _BudgetExceeded
            if isinstance(item, dict) and set(item) == {"__ansible_vault"}:
                # ansible-core's JSON form of an inline vault value.
                yield parts, InlineVault(str(item["__ansible_vault"])), secret
                continue
            if isinstance(item, dict | list):
                if (id(item), secret) in seen:
                    continue
                seen.add((id(item), secret))
            if isinstance(item, dict):
                yield parts, item, secret
                for key, value in reversed(list(item.items())):
                    stack.append(([*parts, key], value, secret or self.secret_key(str(key))))
            elif isinstance(item, list):
                for index in reversed(range(len(item))):
                    stack.append(([*parts, index], item[index], secret))
            else:
                yield parts, item, secret

    def _check_inline_vault(self, key_path: str, value: str, result: FileResult) -> None:
        try:
            vault_files.parse_envelope(value)
        except vault_files.VaultFormatError as exc:
            result.add("inline-vault-invalid", f"!vault value of '{key_path}': {exc.detail}")
            return
        if self.opts.decrypt:
            try:
                vault_files.decrypt(value, self.opts.vault_secrets)
            except Exception as exc:
                result.add("inline-vault-invalid",
                           f"!vault value of '{key_path}' does not decrypt ({type(exc).__name__})")


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))


def _is_plaintext_secret(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, bytes | bytearray):
        return bool(value)
    if isinstance(value, str):
        stripped = value.strip()
        # A Jinja reference to another variable is not itself a secret; a literal in Jinja is.
        return bool(stripped) and (isinstance(value, TaggedText | UnsafeText)
                                   or not secrets_rules.is_template_reference(stripped))
    return isinstance(value, int | float)


# --------------------------------------------------------------------------- hygiene


def key_file_problems(path: str, roots: list[Path], label: str, must_exist: bool = False) -> FileResult | None:
    result = FileResult(path=path, kind=label)
    target = Path(path).expanduser()
    if not target.exists():
        if must_exist:
            result.add("key-file-missing", f"{label} does not exist")
        return result if result.violations else None
    resolved = _resolve(target)
    if label == "age key file" and any(resolved == r or r in resolved.parents for r in roots):
        result.add("age-key-in-tree", "age private key file lives inside the repository or inventory")
    mode = stat.S_IMODE(target.stat().st_mode)
    if mode & 0o077:
        result.add("key-file-permissions", f"{label} has mode {mode:04o}; it must be 0600 or stricter")
    return result if result.violations else None


def git_toplevel(directory: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def tracked_files(root: str) -> list[Path]:
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [Path(root, name.decode()) for name in out.stdout.split(b"\0") if name]


def _tree_files(roots: list[str]) -> list[Path]:
    """Every regular file under the roots (not following directory links), capped."""
    found: list[Path] = []
    for root in roots:
        for directory, dirs, names in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d not in SCAN_SKIP_DIRS)
            for name in sorted(names):
                found.append(Path(directory, name))
                if len(found) >= MAX_SCAN_FILES:
                    return found
    return found


def run(opts: Options) -> dict:
    """Check everything and return the structured result (never raises for a bad file)."""
    checker = Checker(opts)
    files, results = expand_paths(opts)
    checked = set()
    for path in files:
        checked.add(_resolve(path))
        results.append(checker.check_file(path))
    if opts.age_key_file or os.environ.get("SOPS_AGE_KEY_FILE"):
        problem = key_file_problems(opts.age_key_file or os.environ["SOPS_AGE_KEY_FILE"], checker.roots,
                                    "age key file", must_exist=opts.decrypt)
        if problem:
            results.append(problem)
    for password_file in opts.vault_password_files:
        if os.path.isfile(password_file) and not os.access(password_file, os.X_OK):
            problem = key_file_problems(password_file, checker.roots, "vault password file")
            if problem:
                results.append(problem)
    extra: list[Path] = []
    if opts.scan_tracked_files and opts.repository_root:
        extra += tracked_files(opts.repository_root)
    extra += _tree_files(opts.key_scan_roots)
    for path in extra:
        resolved = _resolve(path)
        if resolved in checked:
            continue
        checked.add(resolved)
        try:
            found = checker.scan_key_material(path)
        except Exception as exc:  # a hostile file never aborts the run
            found = FileResult(path=checker.display(path), kind="scanned")
            found.add("internal-error", secrets_redaction.safe_exception(exc))
        if found:
            results.append(found)
    return summarize(results, len(files))


def summarize(results: list[FileResult], checked: int) -> dict:
    offending = [r for r in results if not r.ok]
    files = [r.as_dict() for r in results]
    violations = [{"path": r.path, **asdict(v)} for r in offending for v in r.violations]
    summary = {"checked": checked, "offending": len(offending),
               "by_kind": _count(r.kind for r in results), "rules": _count(v["rule"] for v in violations)}
    return {"failed": bool(offending), "files": files, "violations": violations, "summary": summary,
            "msg": format_message(offending, checked)}


def _count(items) -> dict:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def format_message(offending: list[FileResult], checked: int) -> str:
    if not offending:
        return f"Secrets preflight passed: {checked} file(s) checked, none offending."
    lines = [f"Secrets preflight failed: {len(offending)} offending file(s) out of {checked} checked."]
    for result in offending:
        for violation in result.violations:
            lines.append(f"  - {result.path}: [{violation.rule}] {violation.detail}")
    lines.append("No host was touched. Fix the files above (see docs/secrets.md) and run again.")
    return "\n".join(lines)
