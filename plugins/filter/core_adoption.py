# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adoption findings of the core roles (core_users' sudoers and accounts, core_sysctl, core_time's chrony, apt
packages).

Each role reads the host's state with one probe in ``tasks/adoption.yml`` and turns it into findings here, in the
shape the guard ``stability.ops.adoption_guard`` takes (``item``, ``kind``, ``detail``, ``accept_with``,
``accepted``, optionally ``carry_with``). No secret reaches a finding: sudoers lines are configuration, never
password material; whether an admin's password hash would change is decided from SHA-256 digests of the hashes (the
host's never leaves the host), and no finding names a hash or a digest.

Documentation: the sidecar files ``sudoers_adoption_findings.yml``, ``account_probes.yml``,
``account_adoption_findings.yml``, ``sysctl_adoption_findings.yml``, ``chrony_adoption_findings.yml`` and
``apt_unfetchable_findings.yml``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.plugin_utils.accounts import PASSWD_HOME, PASSWD_SHELL, no_login_shell
from ansible_collections.stability.ops.plugins.plugin_utils.adoption import finding

SUDOERS = "/etc/sudoers"
SUDOERS_DIR = "/etc/sudoers.d"
DETAIL_LINES = 3
# Where a chrony source or access line that the role's chrony.conf would replace comes from.
CHRONY_DIRECTIVES = ("server", "pool", "peer", "allow", "deny", "local", "refclock")
# apt's own reasons: "E: ..." lines and the indented reason after an "Err:" line.
APT_REASON = re.compile(r"^(E: .*|W: .*|Err:.*|\s+\S.*)$")
APT_PACKAGE_ERRORS = (
    re.compile(r"^E: Unable to locate package (?P<name>\S+)"),
    re.compile(r"^E: Package '?(?P<name>[^' ]+)'? has no installation candidate"),
    re.compile(r"^E: Version '[^']+' for '(?P<name>[^']+)' was not found"),
)
APT_FETCH_ERROR = re.compile(r"^E: Failed to fetch \S*/(?P<file>[^/\s]+\.deb)\s+(?P<reason>.*)$")


def grep_files(output: str | None) -> dict[str, list[str]]:
    """``{path: [lines]}`` from the output of ``grep -r -H ''`` (each line ``path:line``), in the files' order."""
    files: dict[str, list[str]] = {}
    for line in (output or "").splitlines():
        path, sep, text = line.partition(":")
        if sep:
            files.setdefault(path, []).append(text)
    return files


def _squash(line: str) -> str:
    return " ".join(line.split())


def _shorten(lines: Sequence[str]) -> str:
    shown = "; ".join(lines[:DETAIL_LINES])
    return shown + (f" and {len(lines) - DETAIL_LINES} more" if len(lines) > DETAIL_LINES else "")


# --- sudoers ---------------------------------------------------------------------------------------------------

def _sudoers_lines(lines: Sequence[str]) -> list[str]:
    """The statements of a sudoers file: continuation lines joined, comments and blank lines dropped
    (``#include``/``#includedir`` are statements, sudoers(5))."""
    statements, pending = [], ""
    for raw in lines:
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        text = _squash(line)
        if not text or (text.startswith("#") and not re.match(r"#include(dir)?\s", text)):
            continue
        statements.append(text)
    return statements


def _defaults_entries(text: str) -> list[tuple[str, Any]]:
    """``(name, value)`` of each entry of a Defaults line's settings (``use_pty`` -> True, ``!use_pty`` -> False,
    ``logfile="x"`` -> "x")."""
    entries = []
    for part in re.findall(r'(?:[^,"]|"[^"]*")+', text):
        part = part.strip()
        if not part:
            continue
        match = re.match(r"^(!*)\s*([A-Za-z_]+)\s*(?:([+-]?=)\s*(.*))?$", part)
        if not match:
            continue
        bangs, name, operator, value = match.groups()
        if operator:
            entries.append((name, operator.rstrip("=") + value.strip().strip('"')))
        else:
            entries.append((name, len(bangs) % 2 == 0))
    return entries


def _split_defaults(statement: str) -> tuple[str, str] | None:
    """``(scope, settings)`` of a Defaults statement (scope "" for global, ``:user``, ``@host``, ...)."""
    match = re.match(r"^Defaults([:@>!]\S+)?\s+(.*)$", statement)
    return (match.group(1) or "", match.group(2)) if match else None


def sudoers_adoption_findings(
    probe: str | None,
    managed: Sequence[str],
    role_defaults: Sequence[str],
    mode: str = "keep",
    accept_unmanaged: Sequence[str] = (),
    accept_overrides: Sequence[str] = (),
    stock: Sequence[str] = (),
    dropin: str = "/etc/sudoers.d/50-stability-ops",
    marker: str = "from stability.ops.core_users",
) -> list[dict]:
    """Findings for the sudoers files of ``probe`` (``grep -r -H ''`` of /etc/sudoers and /etc/sudoers.d).

    - a drop-in sudo reads that is not in ``managed``, not written by the role earlier (``marker`` in its header
      comments) and holds statements: ``unmanaged`` (``mode`` keep) or
      ``drop`` (``mode`` remove), accepted through ``core_users_sudoers_accept_unmanaged``;
    - statements of /etc/sudoers other than the distribution's (``stock``): ``unmanaged`` (never edited);
    - ``Defaults`` entries that change one of ``role_defaults`` where they win (scoped ``Defaults:user`` anywhere,
      global ones read after ``dropin``): ``override``, accepted through ``core_users_sudoers_accept_overrides``.
    """
    if mode not in ("keep", "remove"):
        raise AnsibleFilterError(f"sudoers_adoption_findings: mode must be keep or remove, got {mode!r}")
    wanted = dict(entry for default in role_defaults for entry in _defaults_entries(default))
    stock_set = {_squash(line) for line in stock}
    managed_set = set(managed)
    findings: list[dict] = []
    dropin_name = os.path.basename(dropin)
    for path, lines in sorted(grep_files(probe).items(), key=lambda item: (item[0] != SUDOERS, item[0])):
        name = os.path.basename(path)
        in_dir = os.path.dirname(path) == SUDOERS_DIR
        # sudo skips drop-in names with a dot or ending in '~' (sudoers(5)).
        if path in managed_set or (in_dir and ("." in name or name.endswith("~"))) or not (in_dir or path == SUDOERS):
            continue
        # Written by the role under a name core_users_sudoers no longer lists: the collection's own.
        if in_dir and any(marker in line for line in lines[:5]):
            continue
        statements = _sudoers_lines(lines)
        removed = in_dir and mode == "remove"
        if path == SUDOERS:
            extra = [text for text in statements if text not in stock_set and not _split_defaults(text)
                     and not text.startswith(("@include", "#include"))]
            if extra:
                findings.append(finding(path, "unmanaged", f"rules the collection does not manage (never edited): "
                                        f"{_shorten(extra)}", "core_users_sudoers_accept_unmanaged",
                                        accept_unmanaged))
        elif statements:
            rules = [text for text in statements if not _split_defaults(text)] or statements
            if removed:
                detail = ("not managed by the collection, removed (core_users_sudoers_unmanaged: remove): "
                          f"{_shorten(rules)}")
            else:
                detail = f"not managed by the collection, kept as it is: {_shorten(rules)}"
            findings.append(finding(path, "drop" if removed else "unmanaged", detail,
                                    "core_users_sudoers_accept_unmanaged", accept_unmanaged))
        if removed:
            continue
        after_dropin = in_dir and name > dropin_name
        past_include = False
        for text in statements:
            if path == SUDOERS and text.startswith(("@includedir", "#includedir")):
                past_include = True
            parts = _split_defaults(text)
            if not parts:
                continue
            scope, settings = parts
            wins = bool(scope) or after_dropin or past_include
            changed = [entry for entry in _defaults_entries(settings)
                       if entry[0] in wanted and entry[1] != wanted[entry[0]]]
            if wins and changed:
                names = ", ".join(sorted({entry[0] for entry in changed}))
                who = f"for {scope[1:]}" if scope else "for everyone"
                findings.append(finding(f"{path}: {text}", "override",
                                        f"overrides the role's Defaults {names} {who} (core_users_sudo_defaults)",
                                        "core_users_sudoers_accept_overrides", accept_overrides))
    return findings


# --- accounts (core_users) -------------------------------------------------------------------------------------

ACCOUNT_ACCEPT = "core_users_accept_account_changes"
# The key types ansible.posix.authorized_key recognises: a key is the blob after the first of them on its line.
SSH_KEY_TYPES = frozenset({
    "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "ssh-dss", "ssh-rsa", "ssh-xmss@openssh.com",
    "ssh-xmss-cert-v01@openssh.com", "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
})


def authorized_keys_path(home: str) -> str:
    """Where ``ansible.posix.authorized_key`` (and the role's removal of an empty list) writes a user's keys."""
    return f"{home.rstrip('/')}/.ssh/authorized_keys"


def _existing(admins: Sequence[Mapping[str, Any]] | None, passwd: Mapping[str, Sequence[str]] | None,
              name: str) -> list[tuple[Mapping[str, Any], Sequence[str]]]:
    """``(admin, passwd entry)`` of each admin with state present that exists on the host, sorted by name.

    Errors never repeat an entry: it may hold a password hash."""
    accounts = []
    for admin in admins or []:
        if not isinstance(admin, Mapping) or not isinstance(admin.get("name"), str):
            raise AnsibleFilterError(f"{name}: every admin needs a name (the entries of core_users_admins, with "
                                     "stability.ops.admin_accounts applied)")
        if admin.get("state", "present") != "present" or admin["name"] not in (passwd or {}):
            continue
        fields = (passwd or {})[admin["name"]]
        if not isinstance(fields, Sequence) or isinstance(fields, str) or len(fields) <= PASSWD_SHELL:
            raise AnsibleFilterError(f"{name}: the passwd entry of {admin['name']} is not one of the getent_passwd "
                                     "fact (password, uid, gid, gecos, home, shell)")
        accounts.append((admin, fields))
    return sorted(accounts, key=lambda account: account[0]["name"])


def account_probes(admins: Sequence[Mapping[str, Any]] | None,
                   passwd: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """What core_users' discovery reads for the admins (state present) that already exist (``passwd``: the
    ``getent_passwd`` fact): ``key_files``, the authorized_keys files of those with ``authorized_keys`` (the role
    writes or removes them), and ``password_users``, the names of those with a ``password`` (the role sets it)."""
    accounts = _existing(admins, passwd, "account_probes")
    key_files = sorted({authorized_keys_path(str(fields[PASSWD_HOME])) for admin, fields in accounts
                        if admin.get("authorized_keys") is not None})
    return {"key_files": key_files,
            "password_users": [admin["name"] for admin, _fields in accounts if admin.get("password") is not None]}


def parse_public_key(line: str) -> tuple[str, str, str] | None:
    """``(type, blob, comment)`` of an authorized_keys line as ``ansible.posix.authorized_key`` reads it (options
    before the type are skipped), or ``None`` for a comment, a blank or an invalid line."""
    parts = line.replace(r"\#", "#").split()
    if not parts or parts[0].startswith("#"):
        return None
    for index, part in enumerate(parts[:-1]):
        if part in SSH_KEY_TYPES:
            return part, parts[index + 1], " ".join(parts[index + 2:])
    return None


def key_label(key_type: str, blob: str, comment: str = "") -> str:
    """A short form of a public key: its type, its SHA256 fingerprint as ``ssh-keygen -l`` prints it, its comment."""
    try:
        digest = base64.b64encode(hashlib.sha256(base64.b64decode(blob, validate=True)).digest()).decode()
        fingerprint = "SHA256:" + digest.rstrip("=")
    except (binascii.Error, ValueError):
        fingerprint = "(not base64)"
    return " ".join(part for part in (key_type, fingerprint, comment) if part)


def password_digest(password_hash: str) -> str:
    """The SHA-256 (hex) of a crypt hash without its lock marks (leading ``!``): what the discovery's probe prints
    for the host's hash, and what ``ansible.builtin.user`` compares (it ignores the marks on both sides)."""
    return hashlib.sha256(password_hash.lstrip("!").encode()).hexdigest()


def _password_changes(probe: str | None, accounts: Sequence[tuple[Mapping[str, Any], Sequence[str]]]) -> set[str]:
    """The names whose listed ``password`` differs from the host's hash, as ``ansible.builtin.user`` decides with
    ``update_password: always``; ``probe`` holds one ``user:digest`` line per user (:func:`password_digest` of the
    host's hash). A user the probe does not name is not compared."""
    digests = {}
    for line in (probe or "").splitlines():
        user, sep, digest = line.strip().partition(":")
        if sep:
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise AnsibleFilterError(f"account_adoption_findings: the password probe printed no SHA-256 for {user}")
            digests[user] = digest
    return {admin["name"] for admin, _fields in accounts
            if admin.get("password") is not None and admin["name"] in digests
            and password_digest(str(admin["password"])) != digests[admin["name"]]}


def _key_finding(user: str, path: str, present: dict[str, tuple[str, str, str]], wanted: Sequence[str],
                 accept: Iterable[str]) -> dict | None:
    keep = {parsed[1] for parsed in map(parse_public_key, wanted) if parsed}
    removed = [present[blob] for blob in present if blob not in keep]
    if not removed:
        return None
    labels = _shorten([key_label(*key) for key in removed])
    if not keep:
        return finding(f"{user}: authorized_keys", "lockout",
                       f"existing account: its authorized_keys list is empty, so {path} goes with all "
                       f"{len(removed)} key(s) on the host, leaving it no key: {labels}", ACCOUNT_ACCEPT, accept)
    return finding(f"{user}: authorized_keys", "drop",
                   f"existing account: {len(removed)} of {len(present)} key(s) in {path} would be removed (the file "
                   f"then holds exactly the listed keys): {labels}", ACCOUNT_ACCEPT, accept)


def account_adoption_findings(
    admins: Sequence[Mapping[str, Any]] | None,
    passwd: Mapping[str, Sequence[str]] | None,
    keys_probe: str | None = "",
    password_probe: str | None = "",
    accept: Sequence[str] = (),
) -> list[dict]:
    """Findings for the admins (state present, defaults filled in) that already exist and that the run would change.

    - ``<user>: shell``: the login shell in ``passwd`` differs from the admin's ``shell``: ``drop`` (``lockout``
      when the new shell refuses logins and the current one does not);
    - ``<user>: password``: the digest of the admin's ``password`` differs from the host's in ``password_probe``
      (``user:sha256`` lines, :func:`password_digest`): ``drop`` (a current password stops working);
    - ``<user>: authorized_keys``: keys of ``keys_probe`` (``grep -H '' <files>``) whose blob the admin's
      ``authorized_keys`` does not list: ``drop``, or ``lockout`` when the list is empty (the file is removed).

    All accepted through ``core_users_accept_account_changes``; sorted by user, then item. Users to remove
    (``core_users_absent``, state absent) are an explicit request and never a finding.
    """
    accounts = _existing(admins, passwd, "account_adoption_findings")
    changed_passwords = _password_changes(password_probe, accounts)
    files = grep_files(keys_probe)
    findings = []
    for admin, fields in accounts:
        user = admin["name"]
        current, shell = str(fields[PASSWD_SHELL]), admin.get("shell")
        if shell and shell != current:
            locks = no_login_shell(str(shell)) and not no_login_shell(current)
            findings.append(finding(f"{user}: shell", "lockout" if locks else "drop",
                                    f"existing account: its login shell {current or '(none)'} would become {shell}"
                                    + (", which refuses logins" if locks else ""), ACCOUNT_ACCEPT, accept))
        if user in changed_passwords:
            findings.append(finding(f"{user}: password", "drop",
                                    "existing account: its password hash differs from the one in core_users_admins "
                                    "and would be replaced, so a current password stops working", ACCOUNT_ACCEPT,
                                    accept))
        if admin.get("authorized_keys") is not None:
            path = authorized_keys_path(str(fields[PASSWD_HOME]))
            present: dict[str, tuple[str, str, str]] = {}
            for line in files.get(path, []):
                parsed = parse_public_key(line)
                if parsed:
                    present.setdefault(parsed[1], parsed)
            key = _key_finding(user, path, present, admin["authorized_keys"] or [], accept)
            if key:
                findings.append(key)
    return sorted(findings, key=lambda item: (item["item"].rpartition(": ")[0], item["item"]))


# --- sysctl ----------------------------------------------------------------------------------------------------

def sysctl_adoption_findings(
    overrides: Sequence[Mapping[str, Any]],
    dropin: str,
    accept: Sequence[str] = (),
    last_dropin: str | None = None,
    vendor_dirs: Sequence[str] = ("/usr/lib/sysctl.d", "/lib/sysctl.d"),
    sysctl_conf: str = "/etc/sysctl.conf",
) -> list[dict]:
    """Findings for the ``overrides`` of the sysctl_state module (``{name, file, value}``: a file read after
    ``dropin`` at boot sets a managed parameter to another value).

    Each is an ``override`` accepted through ``core_sysctl_accept_overrides`` (by parameter name). With
    ``last_dropin`` (core_sysctl_dropin_last) the role's file moves there: overrides from files that sort before it
    no longer win, reported as accepted findings that say so. Files of the distribution (``vendor_dirs``) are no
    finding; the role's boot report (:func:`sysctl_boot_report`) still names them.
    """
    findings = []
    for entry in overrides:
        if not isinstance(entry, Mapping) or not {"name", "file", "value"} <= set(entry):
            raise AnsibleFilterError(f"sysctl_adoption_findings: not an override of sysctl_state: {entry!r}")
        path = str(entry["file"])
        if os.path.dirname(path) in vendor_dirs:
            continue
        where = f"{path} sets {entry['name']} = {entry['value']} and is read after {dropin} at boot"
        if last_dropin and _moved_past(path, last_dropin, sysctl_conf):
            findings.append({**finding(str(entry["name"]), "override",
                                       f"{where}; the role writes {last_dropin} instead, read after it, so the "
                                       "role's value wins at boot", "core_sysctl_dropin_last"), "accepted": True})
            continue
        findings.append(finding(str(entry["name"]), "override",
                                f"{where}, so its value wins at boot over the role's; accept it, or set "
                                "core_sysctl_dropin_last: true to write the role's drop-in last",
                                "core_sysctl_accept_overrides", accept))
    return findings


def _moved_past(path: str, last_dropin: str, sysctl_conf: str) -> bool:
    return path != sysctl_conf and os.path.basename(path) < os.path.basename(last_dropin)


def sysctl_boot_report(overrides: Sequence[Mapping[str, Any]], dropin: str, last_dropin: str | None = None,
                       sysctl_conf: str = "/etc/sysctl.conf") -> list[str]:
    """One line per parameter whose drop-in value does not win at boot (a later file sets another): what
    core_sysctl says instead of "applied at the next boot"."""
    lines = []
    for entry in overrides:
        if last_dropin and _moved_past(str(entry["file"]), last_dropin, sysctl_conf):
            continue
        lines.append(f"{entry['name']}: not applied at boot, {entry['file']} sets {entry['value']} after "
                     f"{last_dropin or dropin}")
    return lines


# --- chrony ----------------------------------------------------------------------------------------------------

def chrony_adoption_findings(
    probe: str | None,
    rendered: Sequence[str],
    stock: Sequence[str] = (),
    accept_drop: Sequence[str] = (),
    accept_unmanaged: Sequence[str] = (),
    conf: str = "/etc/chrony/chrony.conf",
    managed_marker: str = "Ansible managed",
) -> list[dict]:
    """Findings for chrony's configuration in ``probe`` (``grep -r -H ''`` of chrony.conf, conf.d, sources.d).

    - a ``server``/``pool``/``peer``/``allow``/``deny``/``local``/``refclock`` line of ``conf`` that the role's
      file (``rendered``: its sources and core_time_chrony_extra_config) does not hold and that is not the
      distribution's (``stock``): ``drop``, carried with ``core_time_chrony_extra_config`` or accepted through
      ``core_time_chrony_accept_drop``. A file the role wrote (``managed_marker`` in its first lines) is its own.
    - such lines in the drop-in directories, which the role's file still reads: ``unmanaged``, accepted through
      ``core_time_chrony_accept_unmanaged`` (by file).
    """
    keep = {_squash(line) for line in [*rendered, *stock]}
    findings = []
    for path, lines in sorted(grep_files(probe).items(), key=lambda item: (item[0] != conf, item[0])):
        directives = [_squash(line) for line in lines
                      if _squash(line).split(" ", 1)[0] in CHRONY_DIRECTIVES]
        if path == conf:
            if any(managed_marker in line for line in lines[:3]):
                continue
            findings.extend(
                finding(line, "drop", f"in {conf}, which the role replaces; the line would be gone",
                        "core_time_chrony_accept_drop", accept_drop, carry_with="core_time_chrony_extra_config")
                for line in directives if line not in keep)
        elif directives:
            findings.append(finding(path, "unmanaged", f"read by the role's chrony.conf but not managed by it: "
                                    f"{_shorten(directives)}", "core_time_chrony_accept_unmanaged",
                                    accept_unmanaged))
    return findings


# --- apt -------------------------------------------------------------------------------------------------------

def apt_reason(output: str | None) -> str:
    """apt's own reason in its output: its ``E:`` lines (or ``Err:`` and the reason under it), joined."""
    lines = [line.strip() for line in (output or "").splitlines() if line.startswith("E: ")]
    if not lines:
        lines = [line.strip() for line in (output or "").splitlines() if APT_REASON.match(line)]
    return " ".join(lines)


def apt_unfetchable_findings(probe: Mapping[str, Any] | None, packages: Sequence[str],
                             accept: Sequence[str] = ()) -> list[dict]:
    """Findings for the missing ``packages`` when ``probe`` (the registered result of ``apt-get install
    --download-only`` of them) failed: ``unfetchable`` with apt's reason, accepted through
    ``core_packages_accept_unfetchable``. When apt names packages in its errors, those are the findings, each with
    its own reason; otherwise every package gets the run's reason."""
    if not probe or not packages or int(probe.get("rc", 0)) == 0:
        return []
    output = f"{probe.get('stdout', '')}\n{probe.get('stderr', '')}"
    named: dict[str, str] = {}
    for line in output.splitlines():
        for pattern in APT_PACKAGE_ERRORS:
            match = pattern.match(line)
            if match:
                named[match.group("name")] = line[3:].strip()
        match = APT_FETCH_ERROR.match(line)
        if match:
            package = match.group("file").split("_", 1)[0]
            named[package] = f"failed to fetch {match.group('file')}: {match.group('reason')}"
    fallback = apt_reason(output) or f"apt-get exited with {probe.get('rc')}"
    findings = []
    for package in packages:
        name = re.sub(r"[=<>].*$", "", package)
        # apt stops at a package it cannot find: the others were not tried, so only the named ones are findings.
        if named and name not in named:
            continue
        reason = named.get(name) or fallback
        findings.append(finding(name, "unfetchable", f"not installed and the host cannot download it: {reason}",
                                "core_packages_accept_unfetchable", accept))
    return findings


class FilterModule:
    """Adoption findings of the core roles."""

    def filters(self):
        return {
            "sudoers_adoption_findings": sudoers_adoption_findings,
            "account_probes": account_probes,
            "account_adoption_findings": account_adoption_findings,
            "sysctl_adoption_findings": sysctl_adoption_findings,
            "sysctl_boot_report": sysctl_boot_report,
            "chrony_adoption_findings": chrony_adoption_findings,
            "apt_unfetchable_findings": apt_unfetchable_findings,
        }
