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

import fnmatch
import glob
import os
import re
import stat
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import sops_files, vault_files

RULES: dict[str, str] = {
    "path-not-found": "an explicitly requested path does not exist or the glob matches nothing",
    "unreadable": "the file cannot be read",
    "empty-file": "the file is empty",
    "binary-file": "the file is not UTF-8 text",
    "symlink-outside-tree": "a symlink points outside the repository/inventory tree",
    "yaml-invalid": "the file is not valid YAML (or has duplicate keys)",
    "vars-not-mapping": "a vars file must be a mapping at the top level",
    "vault-header-invalid": "the $ANSIBLE_VAULT header is not 1.1/1.2 AES256 (1.2 with a vault id)",
    "vault-body-invalid": "the vault body is not well-formed hex salt/hmac/ciphertext",
    "vault-decrypt-failed": "the vault file cannot be decrypted with the configured vault ids",
    "inline-vault-invalid": "an inline !vault value is malformed or does not decrypt",
    "sops-mac-missing": "the SOPS metadata has no mac",
    "sops-mac-invalid": "the SOPS mac is not an ENC[AES256_GCM,...] value",
    "sops-metadata-incomplete": "the SOPS metadata lacks lastmodified or version",
    "sops-no-age-recipient": "the SOPS file has no age recipient",
    "sops-recipient-invalid": "a SOPS age recipient is not a valid age public key",
    "sops-value-unencrypted": "a value in a SOPS file is not encrypted",
    "sops-value-malformed": "a value in a SOPS file is a malformed ENC[...] value",
    "sops-secret-unencrypted": "a secret-looking key is excluded from SOPS encryption",
    "sops-config-missing": "no .sops.yaml covers the file",
    "sops-config-invalid": "the .sops.yaml cannot be parsed or has no creation rules",
    "sops-no-creation-rule": "no .sops.yaml creation rule matches the file",
    "sops-recipient-mismatch": "the file's age recipients differ from its .sops.yaml creation rule",
    "sops-decrypt-failed": "sops cannot decrypt the file (tampered, wrong key, or missing key)",
    "plaintext-secret": "a secret-looking key holds a plaintext value",
    "secrets-file-not-encrypted": "a file named like a secrets file is not encrypted",
    "age-private-key": "the file contains an age private key",
    "vault-password-text": "the file contains a configured vault password",
    "age-key-in-tree": "an age private key file lives inside the repository or inventory",
    "key-file-permissions": "a key or password file is readable by group or others",
    "key-file-missing": "the configured age key file does not exist",
}

VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
SECRETS_NAME_PATTERNS = ("secrets*", "*.sops.*", "vault.yml", "vault.yaml", "vault")
AGE_SECRET = re.compile(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}")
SECRET_WORDS = frozenset({
    "password", "passwords", "passwd", "pass", "pwd", "passphrase", "secret", "secrets", "token", "tokens",
    "key", "keys", "apikey", "privkey", "credential", "credentials", "creds", "pin", "otp", "seed",
    "salt", "cookie", "signature", "dsn", "connstr",
})
PUBLIC_QUALIFIERS = frozenset({"public", "pub", "authorized", "known", "fingerprint"})
MAX_SCAN_BYTES = 1024 * 1024
MIN_PASSWORD_SCAN_LEN = 8


def is_secret_key(name: str, extra: re.Pattern | None = None, ignore: re.Pattern | None = None) -> bool:
    """A key looks secret when its last word is a secret word (``db_password``,
    ``api_token``, ``secret_key``) and it is not a public-key name."""
    if ignore is not None and ignore.search(name):
        return False
    if extra is not None and extra.search(name):
        return True
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()) if w]
    if not words or words[-1] not in SECRET_WORDS:
        return False
    return not (len(words) > 1 and words[-2] in PUBLIC_QUALIFIERS)


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
        self.violations.append(sops_files.Violation(rule, detail))

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


# libyaml's parser when PyYAML has it (about 2.5x faster on a whole inventory,
# measured by stability-ops-bench preflight), the pure-Python one otherwise.
_SafeLoaderBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _VarsLoader(_SafeLoaderBase):
    """SafeLoader that knows Ansible's tags and rejects duplicate keys."""


class InlineVault(str):
    """The ciphertext of an inline ``!vault`` value."""


def _construct_mapping(loader, node, deep=False):
    keys = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_VarsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_VarsLoader.add_constructor("!vault", lambda loader, node: InlineVault(loader.construct_scalar(node)))
_VarsLoader.add_constructor("!vault-encrypted", lambda loader, node: InlineVault(loader.construct_scalar(node)))
_VarsLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_vars_text(text: str) -> Any:
    return yaml.load(text, Loader=_VarsLoader)  # noqa: S506 - SafeLoader subclass


def is_secrets_name(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in SECRETS_NAME_PATTERNS)


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


class Checker:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.extra = re.compile(opts.secret_key_regex, re.I) if opts.secret_key_regex else None
        self.ignore = re.compile(opts.secret_key_ignore_regex, re.I) if opts.secret_key_ignore_regex else None
        self.roots = [Path(r).resolve() for r in opts.tree_roots if r]
        self.runner = sops_files.SopsRunner(binary=opts.sops_binary, age_key_file=opts.age_key_file)
        self.passwords = [p for p in self._password_texts() if len(p) >= MIN_PASSWORD_SCAN_LEN]
        self._config_cache: dict[Path, Any] = {}

    def secret_key(self, name: str) -> bool:
        return is_secret_key(name, self.extra, self.ignore)

    def _password_texts(self) -> list[str]:
        texts = []
        for _vault_id, secret in self.opts.vault_secrets:
            try:
                texts.append(secret.bytes.decode("utf-8").strip())
            except (AttributeError, UnicodeDecodeError):
                continue
        return [t for t in texts if t]

    def display(self, path: Path) -> str:
        base = Path(self.opts.repository_root or self.opts.base_dir).resolve()
        absolute = Path(os.path.abspath(path))
        try:
            return str(absolute.relative_to(base))
        except ValueError:
            return str(absolute)

    def in_tree(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved == root or root in resolved.parents for root in self.roots)

    def check_file(self, path: Path) -> FileResult:
        result = FileResult(path=self.display(path))
        if path.is_symlink():
            if self.roots and not self.in_tree(path):
                result.kind = "symlink"
                result.add("symlink-outside-tree", "symlink resolves outside the repository/inventory tree")
                return result
            if path.is_dir():
                result.kind = "directory"
                return result
        try:
            raw = path.read_bytes()
        except OSError as exc:
            result.add("unreadable", f"cannot read file: {exc.strerror or type(exc).__name__}")
            return result
        if not raw.strip():
            result.add("empty-file", "file is empty")
            return result
        try:
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            result.kind = "binary"
            result.add("binary-file", "file is not UTF-8 text")
            return result
        self.scan_content(text, result)
        if vault_files.looks_like_vault(text):
            self._check_vault(text, result)
        else:
            self._check_yaml(path, text, result)
        return result

    def scan_content(self, text: str, result: FileResult) -> None:
        if AGE_SECRET.search(text):
            result.add("age-private-key", "file contains an AGE-SECRET-KEY (private key material)")
        for password in self.passwords:
            if password in text:
                result.add("vault-password-text", "file contains the text of a configured vault password")
                break

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
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "parse error"
            # The problem text of a duplicate key names the key, never the value.
            result.kind = "invalid"
            result.add("yaml-invalid", f"YAML does not parse{where}: {problem}")
            return
        if data is None:
            result.kind = "plain"
            return
        if not isinstance(data, dict):
            result.kind = "invalid"
            result.add("vars-not-mapping", f"top level is a {type(data).__name__}, not a mapping")
            return
        if sops_files.is_sops_document(data):
            self._check_sops(path, data, result)
        else:
            self._check_plain(path, data, result)

    def _check_sops(self, path: Path, data: dict, result: FileResult) -> None:
        result.kind = "sops"
        metadata = data["sops"]
        structural = sops_files.check_metadata(metadata)
        structural += sops_files.unencrypted_values(data, metadata, self.secret_key)
        for violation in structural:
            result.add(violation.rule, violation.detail)
        self._check_recipients(path, metadata, result)
        if self.opts.decrypt and not any(v.rule == "sops-mac-missing" for v in result.violations):
            try:
                self.runner.decrypt(path, input_type="json" if path.suffix == ".json" else "yaml")
            except sops_files.SopsError as exc:
                result.add("sops-decrypt-failed", f"sops cannot decrypt: {_value_free(str(exc))}")
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

    def _check_recipients(self, path: Path, metadata: dict, result: FileResult) -> None:
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
        have, want = set(sops_files.file_recipients(metadata)), set(rule.age)
        if have != want:
            parts = []
            if have - want:
                parts.append(f"{len(have - want)} recipient(s) not in .sops.yaml: {', '.join(sorted(have - want))}")
            if want - have:
                parts.append(f"{len(want - have)} recipient(s) missing (run sops updatekeys): "
                             f"{', '.join(sorted(want - have))}")
            result.add("sops-recipient-mismatch", f"creation rule #{rule.index}: " + "; ".join(parts))

    def _check_plain(self, path: Path, data: dict, result: FileResult) -> None:
        result.kind = "plain"
        if is_secrets_name(path):
            result.add("secrets-file-not-encrypted",
                       "file is named like a secrets file but is neither Vault- nor SOPS-encrypted")
        for key_path, value, secret in _walk(data, self.secret_key):
            if isinstance(value, InlineVault):
                self._check_inline_vault(key_path, value, result)
            elif secret and _is_plaintext_secret(value):
                result.add("plaintext-secret", f"key '{key_path}' holds a plaintext value (use SOPS or !vault)")

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


def _walk(node: Any, secret_key, path: str = "", secret: bool = False):
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield from _walk(value, secret_key, child, secret or secret_key(str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, secret_key, f"{path}[{index}]", secret)
    else:
        yield path, node, secret


def _is_plaintext_secret(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        stripped = value.strip()
        # A Jinja reference to another variable is not itself a secret.
        return bool(stripped) and not (stripped.startswith("{{") and stripped.endswith("}}"))
    return isinstance(value, int | float)


def _value_free(message: str) -> str:
    """sops errors name keys and MACs, never values; keep them short anyway."""
    return message[:300]


# --------------------------------------------------------------------------- hygiene


def key_file_problems(path: str, roots: list[Path], label: str, must_exist: bool = False) -> FileResult | None:
    result = FileResult(path=path, kind=label)
    target = Path(path).expanduser()
    if not target.exists():
        if must_exist:
            result.add("key-file-missing", f"{label} does not exist")
        return result if result.violations else None
    resolved = target.resolve()
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


def run(opts: Options) -> dict:
    """Check everything and return the structured result (never raises for a bad file)."""
    checker = Checker(opts)
    files, results = expand_paths(opts)
    checked = set()
    for path in files:
        checked.add(path.resolve())
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
    if opts.scan_tracked_files and opts.repository_root:
        for path in tracked_files(opts.repository_root):
            if path.resolve() in checked or not path.is_file() or path.is_symlink():
                continue
            try:
                if path.stat().st_size > MAX_SCAN_BYTES:
                    continue
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            result = FileResult(path=checker.display(path), kind="tracked")
            checker.scan_content(text, result)
            if result.violations:
                results.append(result)
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
