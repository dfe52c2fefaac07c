# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The style guide engine: run the rule table over a repository and collect findings.

Controller-only code behind the ``stability.ops.style_guide`` action plugin (and
the repository's own ``scripts/enforce_style_guide.sh``). It checks any
repository: the one it is given as ``root``, never the collection it ships in.

The file list is ``git ls-files -co --exclude-standard`` (tracked files plus
untracked files that are not ignored) when ``root`` is in a git work tree, and
``rg --files`` otherwise. ``.git/``, ``.venv/``, ``.cache/`` and ``.collections/``
at the root and every ``ansible_collections/`` tree (installed or vendored
collections, e.g. ``collections/ansible_collections/``) are never checked.
Every content rule runs as one ripgrep process (``rg -U -P``) over the files in
its scope. Python only selects files, applies ignores and formats the report.

``.styleignore`` at the root holds ``GLOB [RULE-ID ...]`` lines and
``@enable RULE-ID ...`` lines that switch on opt-in rules (see
:mod:`style_guide_rules`). With ``stray-path`` enabled the repository is a
collection's own source tree: an ``ansible_collections/`` tree in it is then
a copy of the collection inside itself (``recursive-path``), not vendored code.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_rules import (
    RULES,
    RULES_BY_ID,
    UNIGNORABLE,
    Matcher,
)

NEVER_SCANNED = (".git/", ".venv/", ".cache/", ".collections/")
VENDORED_DIR = "ansible_collections"
STYLEIGNORE = ".styleignore"
ENABLE = "@enable"
DOC = "docs/style-guide.md of the stability.ops collection"
# How many violations a failure message lists (the result holds all of them).
MESSAGE_LIMIT = 20

# Top-level names of the collection layout (directories end with "/"): stray-path.
ALLOWED_TOP_LEVEL = frozenset(
    {
        "galaxy.yml",
        "README.md",
        "tox.ini",
        "pyproject.toml",
        "ansible.cfg",
        "execution-environment.yml",
        "LICENSE",
        "COPYING",
        "CHANGELOG.md",
        "CHANGELOG.rst",
        "CONTRIBUTING.md",
        "SECURITY.md",
        "meta/",
        "plugins/",
        "roles/",
        "playbooks/",
        "tests/",
        "docs/",
        "changelogs/",
        "extensions/",
        "scripts/",
        "tools/",
        "inventories/",
        "bench/",
        "requirements/",
        ".ci/",
        ".github/",
        ".config/",
    }
)
ALLOWED_EMPTY = frozenset({"__init__.py", "py.typed", ".gitkeep", ".keep"})
GARBAGE_NAME = re.compile(
    r"(?:\.orig|\.rej|\.swp|\.swo|\.bak|\.tmp|\.retry|~)$|^(?:\.DS_Store|Thumbs\.db|nohup\.out|core)$|^[=\-]"
)
IGNORE_COMMENT = re.compile(r"style-ignore:[ \t]*([\w-]+(?:[ \t]*,[ \t]*[\w-]+)*)")
# Files whose comments may carry per-line ignores.
COMMENT_SUFFIXES = (".yml", ".yaml", ".j2", ".py", ".sh", ".cfg", ".ini", ".toml")


class ConfigError(Exception):
    """A broken invocation or configuration (exit status 2 of the command line)."""


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    rule: str
    detail: str = ""

    def render(self) -> str:
        """``path:line RULE-ID message (detail) (fix: hint)``: one report line."""
        rule = RULES_BY_ID[self.rule]
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.path}:{self.line} {self.rule} {rule.message}{detail} (fix: {rule.fix})"

    def as_dict(self) -> dict[str, str | int]:
        rule = RULES_BY_ID[self.rule]
        return {
            "path": self.path,
            "line": self.line,
            "rule": self.rule,
            "message": rule.message,
            "detail": self.detail,
            "fix": rule.fix,
        }


@dataclass(frozen=True)
class Report:
    """Every finding of one run, sorted, and how many files were checked."""

    findings: list[Finding]
    files: int
    rules: frozenset[str] = field(default=frozenset())


@functools.lru_cache(maxsize=4096)
def glob_to_regex(glob: str) -> re.Pattern[str]:
    """gitignore-like glob over repository-relative POSIX paths.

    ``*`` and ``?`` stay inside one path segment, ``**`` spans segments, a
    trailing ``/`` matches everything below a directory and a pattern without
    ``/`` matches a file name in any directory.
    """
    pattern = glob.strip()
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches_any(path: str, globs: tuple[str, ...] | list[str]) -> bool:
    return any(glob_to_regex(glob).match(path) for glob in globs)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ConfigError(f"{cmd[0]} not found: install it (Debian packages ripgrep, git)") from exc


def require_ripgrep(root: Path) -> None:
    """Fail early when ``rg`` is missing or was built without PCRE2 (every rule needs ``-P``)."""
    if run(["rg", "--pcre2-version"], root).returncode != 0:
        raise ConfigError("this ripgrep (rg) has no PCRE2 support: install a build with PCRE2 (Debian package ripgrep)")


def is_vendored(path: str) -> bool:
    """Whether ``path`` lies in an ``ansible_collections/`` tree (an installed or vendored collection)."""
    return VENDORED_DIR in PurePosixPath(path).parts[:-1]


def list_files(root: Path, skip_vendored: bool = True) -> list[str]:
    """Repository-relative paths of every file to check, sorted."""
    inside = run(["git", "rev-parse", "--is-inside-work-tree"], root)
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        proc = run(["git", "-c", "core.quotePath=false", "ls-files", "-z", "-co", "--exclude-standard"], root)
        if proc.returncode != 0:
            raise ConfigError(f"git ls-files failed: {proc.stderr.strip()}")
    else:
        prune = [arg for top in NEVER_SCANNED for arg in ("--glob", f"!/{top}")]
        if skip_vendored:
            prune += ["--glob", f"!{VENDORED_DIR}/"]
        proc = run(["rg", "--no-config", "--files", "--hidden", "--no-require-git", "--null", *prune], root)
        if proc.returncode not in (0, 1):
            raise ConfigError(f"rg --files failed: {proc.stderr.strip()}")
    paths = {p for p in proc.stdout.split("\0") if p}
    return sorted(
        p
        for p in paths
        if not p.startswith(NEVER_SCANNED)
        and not (skip_vendored and is_vendored(p))
        and ((root / p).is_symlink() or (root / p).exists())
    )


@dataclass(frozen=True)
class IgnoreEntry:
    glob: str
    rules: frozenset[str]  # empty: every rule
    line: int


@dataclass
class Styleignore:
    """``.styleignore``: ignore entries, the opt-in rules it enables, and its own findings."""

    entries: list[IgnoreEntry] = field(default_factory=list)
    enabled: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


def _split_ids(chunks: list[str]) -> list[str]:
    return [i for chunk in chunks for i in chunk.split(",") if i]


def read_styleignore(root: Path) -> Styleignore:
    """Parse ``.styleignore``: ``GLOB [RULE-ID ...]`` or ``@enable RULE-ID ...`` per line, ``#`` comments."""
    path = root / STYLEIGNORE
    config = Styleignore()
    if not path.is_file():
        return config
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not text:
            continue
        glob, *ids = text.split()
        ids = _split_ids(ids)
        for rule_id in ids:
            if rule_id not in RULES_BY_ID or rule_id in UNIGNORABLE:
                config.findings.append(Finding(STYLEIGNORE, number, "unknown-rule-id", rule_id))
        if glob == ENABLE:
            config.enabled.update(i for i in ids if i in RULES_BY_ID)
        else:
            config.entries.append(IgnoreEntry(glob, frozenset(ids), number))
    return config


def ignoring_entry(path: str, rule: str, entries: list[IgnoreEntry]) -> IgnoreEntry | None:
    """The first ``.styleignore`` entry that ignores ``rule`` for ``path``."""
    for entry in entries:
        if (not entry.rules or rule in entry.rules) and glob_to_regex(entry.glob).match(path):
            return entry
    return None


def comment_start(line: str) -> int:
    """Index where a comment starts on ``line`` (outside quotes), or -1."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t{"):
            return index - 1 if index and line[index - 1] == "{" else index
    return -1


def inline_ignores(root: Path, files: list[str]) -> tuple[dict[tuple[str, int], set[str]], list[Finding]]:
    """Per-line ``style-ignore: ID[, ID]`` comments, found by ripgrep.

    A comment covers its own line and, when it is alone on its line, the next one.
    Returns ``{(path, line): ids}`` for every covered line, plus findings for
    unknown ids. Keys ``(path, -line)`` remember where each comment stands.
    """
    candidates = [f for f in files if f.endswith(COMMENT_SUFFIXES)]
    covered: dict[tuple[str, int], set[str]] = {}
    findings: list[Finding] = []
    for path, number, text in rg_lines(root, r"style-ignore:", candidates):
        start = comment_start(text)
        match = IGNORE_COMMENT.search(text, start) if start >= 0 else None
        if not match:
            continue
        ids = {i.strip() for i in match.group(1).split(",")}
        for rule_id in sorted(ids):
            if rule_id not in RULES_BY_ID or rule_id in UNIGNORABLE:
                findings.append(Finding(path, number, "unknown-rule-id", rule_id))
        covered.setdefault((path, -number), set()).update(ids)
        covered.setdefault((path, number), set()).update(ids)
        if not text[:start].strip():
            covered.setdefault((path, number + 1), set()).update(ids)
    return covered, findings


def rg_lines(root: Path, pattern: str, files: list[str]) -> list[tuple[str, int, str]]:
    """(path, line, text) of every line where ``pattern`` matches."""
    hits: list[tuple[str, int, str]] = []
    for event in rg_json(root, ["-e", pattern], files):
        data = event["data"]
        hits.append((data["path"]["text"], data["line_number"], data["lines"].get("text", "")))
    return hits


def rg_json(root: Path, args: list[str], files: list[str]) -> list[dict]:
    if not files:
        return []
    proc = run(["rg", "--no-config", "--json", "--no-ignore", "--hidden", *args, "--", *files], root)
    if proc.returncode not in (0, 1):
        raise ConfigError(f"rg failed ({' '.join(args[:2])}...): {proc.stderr.strip()}")
    events = (json.loads(line) for line in proc.stdout.splitlines())
    return [e for e in events if e["type"] == "match"]


def run_matcher(root: Path, rule_id: str, matcher: Matcher, files: list[str]) -> list[Finding]:
    scoped = [f for f in files if matches_any(f, matcher.include) and not matches_any(f, matcher.exclude)]
    if not scoped:
        return []
    base = ["-U", "-P", "--no-config", "--no-ignore", "--hidden"]
    if matcher.files_without_match:
        proc = run(["rg", *base, "--files-without-match", "--null", "-e", matcher.pattern, "--", *scoped], root)
        if proc.returncode not in (0, 1):
            raise ConfigError(f"rg failed for rule {rule_id}: {proc.stderr.strip()}")
        return [Finding(p, 1, rule_id) for p in proc.stdout.split("\0") if p]
    # --vimgrep reports every match on its own line, at the line where the
    # match starts (after \K), even when matches sit on adjacent lines.
    proc = run(["rg", *base, "--vimgrep", "--null", "-e", matcher.pattern, "--", *scoped], root)
    if proc.returncode not in (0, 1):
        raise ConfigError(f"rg failed for rule {rule_id}: {proc.stderr.strip()}")
    findings = []
    lines: dict[str, list[str]] = {}
    for row in proc.stdout.splitlines():
        path, _sep, rest = row.partition("\0")
        number = int(rest.split(":", 1)[0])
        if path not in lines:
            lines[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        text = lines[path][number - 1] if number <= len(lines[path]) else ""
        findings.append(Finding(path, number, rule_id, detail_for(rule_id, text)))
    return findings


def detail_for(rule_id: str, text: str) -> str:
    """A short, secret-free pointer to what matched."""
    if rule_id == "fqcn":
        name = re.search(r"([a-z0-9_]+)[\"']?\s*(?::|$)", text.strip().removeprefix("- "))
        return f"`{name.group(1)}`" if name else ""
    return ""


def recursive_prefix(path: str) -> str | None:
    """The directory prefix at which ``path`` starts repeating itself, if any."""
    parts = PurePosixPath(path).parts[:-1]
    if VENDORED_DIR in parts:
        return "/".join(parts[: parts.index(VENDORED_DIR) + 1]) + "/"
    for end in range(1, len(parts) + 1):
        for size in range(1, end // 2 + 1):
            if parts[end - 2 * size : end - size] == parts[end - size : end]:
                return "/".join(parts[:end]) + "/"
    if len(parts) >= 2:
        for start in range(2, len(parts) - 1):
            if parts[start : start + 2] == parts[:2]:
                return "/".join(parts[: start + 2]) + "/"
    return None


def hygiene(root: Path, files: list[str], active: frozenset[str]) -> list[Finding]:
    findings: set[Finding] = set()
    for path in files:
        top, _sep, rest = path.partition("/")
        name = top + "/" if rest else top
        if "stray-path" in active and name not in ALLOWED_TOP_LEVEL and not (not rest and top.startswith(".")):
            findings.add(Finding(name, 1, "stray-path"))
        prefix = recursive_prefix(path) if "recursive-path" in active else None
        if prefix:
            findings.add(Finding(prefix, 1, "recursive-path"))
        if "garbage-file" in active and GARBAGE_NAME.search(PurePosixPath(path).name):
            findings.add(Finding(path, 1, "garbage-file"))
    regular = [f for f in files if (root / f).is_file() and not (root / f).is_symlink()]
    candidates = [f for f in regular if PurePosixPath(f).name not in ALLOWED_EMPTY] if "empty-file" in active else []
    if candidates:
        proc = run(
            [
                "rg",
                "--no-config",
                "--no-ignore",
                "--hidden",
                "--files-without-match",
                "--null",
                "-e",
                r"\S",
                "--",
                *candidates,
            ],
            root,
        )
        if proc.returncode not in (0, 1):
            raise ConfigError(f"rg failed for empty-file: {proc.stderr.strip()}")
        findings.update(Finding(p, 1, "empty-file") for p in proc.stdout.split("\0") if p)
    return sorted(findings)


def active_rules(enabled: set[str] | frozenset[str], requested: list[str] | None = None) -> frozenset[str]:
    """The rule ids a run applies.

    Every rule that is not opt-in, plus the opt-in rules ``enabled`` names; a
    ``requested`` list limits the run to those ids (opt-in rules included when
    named) and the ignore bookkeeping rules, which always run.
    """
    if requested:
        unknown = sorted(set(requested) - set(RULES_BY_ID))
        if unknown:
            raise ConfigError(f"unknown rule id(s): {', '.join(unknown)} (known: {', '.join(RULES_BY_ID)})")
        return frozenset(requested) | UNIGNORABLE
    return frozenset(rule.id for rule in RULES if not rule.opt_in or rule.id in enabled)


def normalize_paths(root: Path, paths: list[str] | None) -> list[str]:
    """Repository-relative POSIX paths for ``paths`` (relative to ``root``, or absolute inside it)."""
    out = []
    for raw in paths or []:
        path = str(raw)
        if os.path.isabs(path):
            relative = os.path.relpath(os.path.normpath(path), root)
            if relative == os.pardir or relative.startswith(os.pardir + os.sep):
                raise ConfigError(f"path {path} is outside the checked root {root}")
            path = relative
        path = posixpath.normpath(path.replace(os.sep, "/"))
        if path == ".":
            return []  # the whole repository
        if path == ".." or path.startswith("../"):
            raise ConfigError(f"path {raw} is outside the checked root {root}")
        out.append(path)
    return out


def check(root: Path, only: list[str] | None = None, rules: list[str] | None = None) -> Report:
    """Every finding for the repository at ``root`` (or the given paths and rules), ignores applied."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"root {root} is not a directory")
    require_ripgrep(root)
    only = normalize_paths(root, only)
    config = read_styleignore(root)
    active = active_rules(config.enabled, rules)
    files = list_files(root, skip_vendored="stray-path" not in active)
    if only:
        files = [f for f in files if any(f == p or f.startswith(p + "/") for p in only)]
    entries = config.entries
    findings = list(config.findings)
    files = [f for f in files if not any(not e.rules and glob_to_regex(e.glob).match(f) for e in entries)]
    content = [f for f in files if (root / f).is_file() and not (root / f).is_symlink()]
    covered, comment_findings = inline_ignores(root, content)
    findings += comment_findings

    jobs = [(rule.id, matcher) for rule in RULES if rule.id in active for matcher in rule.matchers]
    with ThreadPoolExecutor(max_workers=4) as pool:  # each job is one rg process
        results = pool.map(lambda job: run_matcher(root, *job, content), jobs)
        raw = hygiene(root, files, active) + [finding for found in results for finding in found]

    used: set[tuple[str, int]] = set()
    for finding in raw:
        entry = ignoring_entry(finding.path, finding.rule, entries)
        if entry:
            used.add((STYLEIGNORE, -entry.line))
            continue
        key = (finding.path, finding.line)
        if finding.rule in covered.get(key, set()):
            used.add(key)
            continue
        findings.append(finding)
    # Only an ignore of rules that ran can be judged stale.
    judged = active - UNIGNORABLE
    for (path, line), ids in covered.items():
        if line < 0 and not ({(path, -line), (path, 1 - line)} & used) and ids <= judged:
            findings.append(Finding(path, -line, "unused-ignore", ", ".join(sorted(ids))))
    if not only:  # a partial run cannot tell whether a .styleignore entry is stale
        for entry in entries:
            if entry.rules and entry.rules <= judged and (STYLEIGNORE, -entry.line) not in used:
                findings.append(Finding(STYLEIGNORE, entry.line, "unused-ignore", " ".join(sorted(entry.rules))))
    return Report(sorted(set(findings)), len(files), active)


def failure_message(report: Report, limit: int = MESSAGE_LIMIT) -> str:
    """The verdict of a run: a count, then at most ``limit`` report lines."""
    count = len(report.findings)
    if not count:
        return f"style guide: {report.files} file(s) checked, no violations"
    shown = report.findings[:limit]
    more = f" ({len(shown)} shown; the result's violations list holds every one)" if count > len(shown) else ""
    lines = [f"{count} style violation(s) in {report.files} checked file(s){more}; see {DOC}:"]
    lines += [finding.render() for finding in shown]
    return "\n".join(lines)
