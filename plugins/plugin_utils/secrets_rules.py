# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What looks like a secret: the key-name heuristic and the content rules
(controller only, no I/O). ``secrets_preflight`` applies them to files; the
redaction layer uses them to hide key names that are themselves values.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

# A key is secret when one of its words is a secret word and no word after it
# turns the name into a setting about the secret (``password_min_length``).
SECRET_WORDS = frozenset({
    "password", "passwords", "passwd", "pw", "pwd", "passphrase", "secret", "secrets", "token", "tokens",
    "apikey", "privkey", "credential", "credentials", "creds",
})
# Weaker words count only as the last word (``admin_pin``, ``sudo_pass``, not ``salt_master``).
LAST_WORDS = frozenset({
    "pass", "pin", "otp", "seed", "salt", "cookie", "signature", "dsn", "connstr", "psk", "totp", "hmac",
})
# ``key`` alone is secret only as the last word (``api_key``, ``secret_key``, ``private_key``).
KEY_WORDS = frozenset({"key", "keys"})
# Words before ``key`` that make it public or not a credential at all.
PUBLIC_QUALIFIERS = frozenset({
    "public", "pub", "authorized", "known", "fingerprint", "primary", "foreign", "sort", "partition", "cache",
    "lookup", "index", "map", "dict", "registry", "hotkey", "host", "trusted", "gpg", "apt", "repo",
})
# Words after a secret word that describe a setting, a reference or metadata, not the secret itself.
MODIFIERS = frozenset({
    "min", "max", "minimum", "maximum", "length", "len", "size", "ttl", "expiry", "expires", "expire", "expiration",
    "lifetime", "age", "policy", "policies", "file", "files", "path", "paths", "dir", "directory", "name", "names",
    "id", "ids", "type", "types", "mode", "enabled", "enable", "disabled", "required", "require", "allowed",
    "hash", "hashed", "hashing", "algorithm", "algorithms", "algo", "cipher", "ciphers", "complexity",
    "history", "count", "retries", "retry", "attempts", "timeout", "interval", "rotation", "rotate", "prompt",
    "command", "cmd", "env", "var", "vars", "variable", "header", "endpoint", "url", "uri", "format", "version",
    "strength", "chars", "characters", "reuse", "warn", "days", "auth", "authentication", "fingerprint", "bits",
    "location", "source", "src", "dest", "owner", "group", "permissions", "perms", "label", "description",
    "comment", "store", "backend", "provider", "manager", "helper", "lookup", "ref", "reference", "exchange",
    "lock", "lockout", "change", "changed", "reset", "last", "used", "check", "checks", "quality", "pattern",
    "regex", "rules", "rule", "scope", "scopes", "audience", "issuer", "validity", "valid", "usage", "user",
    "username", "login", "option", "options", "set", "list", "server", "servers", "host", "port", "method",
    "methods", "schema", "storage", "mount", "volume", "secret_ref",
})
# ansible-core's connection and become variables: secrets whatever the heuristic says.
CONNECTION_PASSWORDS = frozenset({
    "ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_pass",
    "ansible_become_password", "ansible_sudo_pass", "ansible_sudo_password", "ansible_su_pass",
    "ansible_su_password", "ansible_httpapi_pass", "ansible_httpapi_password", "ansible_winrm_password",
    "ansible_net_password", "ansible_net_auth_pass", "ansible_enable_pass", "ansible_vault_password",
})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def split_words(name: str) -> list[str]:
    """``DBPassword2`` -> ``['db', 'password', '2']``; ``ldap_bind_pw`` -> ``['ldap', 'bind', 'pw']``."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", str(name)).lower()) if w]


def is_secret_key(name: Any, extra: re.Pattern | None = None, ignore: re.Pattern | None = None) -> bool:
    """Whether a key name looks like it holds a secret. ``ignore`` wins over ``extra``."""
    name = str(name)
    if ignore is not None and ignore.search(name):
        return False
    if extra is not None and extra.search(name):
        return True
    if name.lower() in CONNECTION_PASSWORDS:
        return True
    # A file path used as a key (``/etc/ssh/ssh_host_ed25519_key: {mode: "0600"}``) names a file, not a secret.
    if name.startswith(("/", "~/", "./")):
        return False
    words = [w for w in split_words(name) if not w.isdigit()]
    if not words:
        return False
    # ``keyboard``, ``passport``: whole words only, so these never match.
    for index, word in enumerate(words):
        if word in SECRET_WORDS:
            rest = words[index + 1:]
            if not any(w in MODIFIERS for w in rest):
                return True
    if words[-1] in LAST_WORDS:
        return True
    # Environment-style names written as one word: PGPASSWORD, MYSQLPWD.
    if len(words) == 1 and words[0].endswith(("password", "passwd", "passphrase", "secret", "token", "apikey")):
        return True
    if words[-1] in KEY_WORDS:
        return (words[-2] if len(words) > 1 else "") not in PUBLIC_QUALIFIERS
    if len(words) > 1 and words[-2] in KEY_WORDS and words[-1] in ("base", "material", "data", "pem", "b64"):
        return True
    return False


# --------------------------------------------------------------------------- content rules

# The armour line followed by key material (optional RFC 1421 headers, then base64), also with JSON "\\n"
# escapes: a bare armour line, as in documentation, is no key.
PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:\s|\\[nr])+(?:[A-Za-z-]+: [^\n\\]*(?:\s|\\[nr])+)*[A-Za-z0-9+/=]{32,}")
AGE_SECRET = re.compile(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", re.I)
CLOUD_KEYS = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Stripe key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}\b")),
    ("Azure storage key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{40,}")),
)
# scheme://user:password@host, unless the password is a Jinja expression or an obvious placeholder.
URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"]+:([^\s/@'\"]+)@[^\s/]")
_PLACEHOLDER_PASSWORD = re.compile(r"^(?:\{\{.*|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_(]+.*|\*+|x+|<[^>]*>)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
MIN_BLOB_LEN = 40
# A Jinja string literal as the whole expression, or as a default() argument.
_JINJA_LITERAL = re.compile(r"""\{\{-?\s*(?:'[^']*'|"[^"]*")\s*(?:\|\s*[a-z_]+\s*)*-?\}\}""")
_JINJA_DEFAULT = re.compile(r"""\|\s*(?:default|d)\s*\(\s*(?:'[^']+'|"[^"]+")""")


def is_encoded_blob(value: str) -> bool:
    """A long base64 string (not hex: checksums and fingerprints are hex)."""
    if "-----" in value or " " in value.strip():
        return False  # PEM armour (certificates are public) or prose
    compact = "".join(value.split())
    if len(compact) < MIN_BLOB_LEN or not _BASE64.match(compact) or _HEX.match(compact):
        return False
    if not (re.search(r"[a-z]", compact) and re.search(r"[A-Z]", compact) and re.search(r"[0-9+/]", compact)):
        return False
    padded = compact.replace("-", "+").replace("_", "/")
    padded += "=" * (-len(padded) % 4)
    try:
        base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def value_findings(value: Any) -> list[tuple[str, str]]:
    """Content rules that fire on a value whatever its key: (rule, what was found)."""
    if isinstance(value, bytes | bytearray):
        return [("encoded-blob", "a !!binary value")]
    if not isinstance(value, str) or len(value) < 8:
        return []
    found = []
    if PRIVATE_KEY.search(value):
        found.append(("private-key-material", "a PEM/OpenSSH private key"))
    if AGE_SECRET.search(value):
        found.append(("age-private-key", "an AGE-SECRET-KEY"))
    for label, pattern in CLOUD_KEYS:
        if pattern.search(value):
            found.append(("cloud-credential", f"a {label}"))
            break
    for match in URL_CREDENTIALS.finditer(value):
        if not _PLACEHOLDER_PASSWORD.match(match.group(1)):
            found.append(("url-credentials", "a URL with user:password@"))
            break
    if not found and is_encoded_blob(value):
        found.append(("encoded-blob", "a long base64 blob"))
    return found


def mapping_findings(node: dict) -> list[tuple[str, str]]:
    """Rules that need a whole mapping: a GCP service-account key."""
    if node.get("type") == "service_account" and isinstance(node.get("private_key"), str) and node["private_key"]:
        return [("cloud-credential", "a GCP service-account key")]
    return []


def jinja_literal(value: Any) -> bool:
    """``"{{ 'pw' }}"`` or ``"{{ x | default('pw') }}"``: a literal secret dressed as a template."""
    return isinstance(value, str) and bool(_JINJA_LITERAL.search(value) or _JINJA_DEFAULT.search(value))


def is_template_reference(value: str) -> bool:
    """A value that is only a Jinja expression (a reference to another variable)."""
    stripped = value.strip()
    return stripped.startswith("{{") and stripped.endswith("}}") and not jinja_literal(stripped)
