# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one redaction layer of the secrets preflight and tools (controller only).

Every message built from text we do not control (sops' stderr, PyYAML errors,
unexpected exceptions, key names) passes through here so that it names files,
lines and keys but never a value. The functions are deliberately conservative:
what they cannot classify is dropped, not passed through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ansible_collections.stability.ops.plugins.plugin_utils import secrets_rules

REDACTED = "<redacted>"
REDACTED_KEY = "<redacted key>"

# sops echoes the offending value in this message (sops 3.x, decrypt of a hand-added plaintext value).
_SOPS_INPUT_STRING = re.compile(r"Input string .*? does not match sops' data format", re.S)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
# Quoted text that is a location or a variable name sops points at, never a value.
_SAFE_QUOTED = re.compile(r"^[A-Z][A-Z0-9_]*$|^[~/][^\s]*$")
_HEX_RUN = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_.:-]{41,}")
_AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}:?$")
_PATH = re.compile(r"^(?:/|~/|\./)[A-Za-z0-9_./~-]*$")
_SOPS_NOISE = ("latest version", "is out of date", "upgrade at")


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _scrub_line(line: str) -> str:
    line = _QUOTED.sub(lambda m: m.group(0) if _SAFE_QUOTED.match(m.group(0)[1:-1]) else REDACTED, line)
    line = _HEX_RUN.sub(REDACTED, line)
    # Long opaque tokens (base64, ciphertext) are redacted; age recipients are public and useful.
    return _LONG_TOKEN.sub(lambda m: m.group(0) if _AGE_RECIPIENT.match(m.group(0)) or _PATH.match(m.group(0))
                           else REDACTED, line)


def redact_sops_stderr(stderr: str | bytes | None, path: str | Path | None = None) -> str:
    """sops' stderr with its whole reason kept (key groups, the hint about
    ``SOPS_AGE_KEY_FILE``) and every value removed; one line, for messages."""
    text = _text(stderr)
    where = f"{path}: " if path else ""
    text = _SOPS_INPUT_STRING.sub(
        "input is not valid SOPS data: a value is not an ENC[...] string (a plaintext value added by hand?)",
        text)
    lines = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("|- ").strip()
        if not line or any(noise in line for noise in _SOPS_NOISE):
            continue
        lines.append(_scrub_line(line))
    if not lines:
        return f"{where}sops failed without a message"
    joined = " ".join(lines)
    # Wrapped lines of sops' key-group report: join them back into sentences.
    joined = re.sub(r"\s+", " ", joined).strip()
    return where + joined[:1200]


def _mark(exc: BaseException) -> Any:
    return getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)


def redact_yaml_error(exc: BaseException, path: str | Path | None = None) -> str:
    """A PyYAML error as file, line, column and problem; never the snippet or buffer."""
    where = f"{path}" if path else "YAML"
    mark = _mark(exc)
    if mark is not None:
        where += f":{mark.line + 1}:{mark.column + 1}"
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if not problem:
        return f"{where}: {type(exc).__name__}"
    # A problem may quote a tag, a character or a key: keep its shape, not its text.
    problem = _QUOTED.sub(lambda m: m.group(0) if re.match(r"^['\"`](?:!|tag:)", m.group(0)) or len(m.group(0)) <= 6
                          else REDACTED, str(problem))
    return f"{where}: {problem[:200]}"


def safe_exception(exc: BaseException, path: str | Path | None = None) -> str:
    """An unexpected exception as its type and the line it points at, nothing else."""
    mark = _mark(exc)
    line = f" at line {mark.line + 1}" if mark is not None else ""
    lineno = getattr(exc, "lineno", None)
    if not line and isinstance(lineno, int):
        line = f" at line {lineno}"
    where = f"{path}: " if path else ""
    return f"{where}unexpected {type(exc).__name__}{line}"


# --------------------------------------------------------------------------- key names

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_MIXED_WORD = re.compile(r"(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{12,}")


def key_looks_like_value(name: str) -> bool:
    """A mapping key that is itself a secret value (a token used as a key)."""
    if not _PLAIN_KEY.match(name) or secrets_rules.value_findings(name):
        return True
    if _MIXED_WORD.search(name):
        return True
    classes = sum(bool(re.search(p, name)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return len(name) >= 16 and classes == 3 and not re.match(r"^[A-Z]?[a-z]+(?:[A-Z][a-z]+)*[0-9]*$", name)


def display_key(parts: Iterable[Any], is_secret_key: Callable[[str], bool] | None = None) -> str:
    """Dotted key path; a key that looks like a value, or that is not a plain
    name under a secret-looking parent, is shown as ``<redacted key>``."""
    shown: list[str] = []
    parent_secret = False
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            shown.append(f"[{part}]")
            continue
        name = str(part)
        secret_child = parent_secret and not re.match(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$", name)
        if key_looks_like_value(name) or secret_child:
            shown.append(REDACTED_KEY)
        else:
            shown.append(name)
            parent_secret = bool(is_secret_key and is_secret_key(name))
    text = ""
    for item in shown:
        text += item if item.startswith("[") or not text else f".{item}"
    return text
