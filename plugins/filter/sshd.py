# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of security_sshd's lock-out guard: who may log in, where their keys are, who has one.

The guard refuses to write an sshd_config nobody could log in with. It reads the group and user databases
(``getent``), lists the AuthorizedKeysFile paths of every user the allowed groups let in (:func:`sshd_key_files`),
stats them, greps the existing ones for a key, and counts the users with a key (:func:`sshd_keyed_users`). In check
mode the admins core_users would create earlier in the same run do not exist yet: :func:`sshd_new_admins` names
those that would have a key.

Documentation: one sidecar file per filter (``sshd_key_files.yml`` ...), as ansible.builtin does for the filters of
its ``core.py``; ``ansible-doc -t filter stability.ops.<name>`` reads it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.plugin_utils.accounts import (
    GROUP_GID,
    GROUP_MEMBERS,
    PASSWD_GID,
    PASSWD_HOME,
    PASSWD_SHELL,
    PASSWD_UID,
    no_login_shell,
)
from ansible_collections.stability.ops.plugins.plugin_utils.adoption import finding


def root_may_log_in(permit_root_login: str) -> bool:
    return permit_root_login != "no"


def sshd_login_users(
    getent_group: Mapping[str, Sequence[str]],
    getent_passwd: Mapping[str, Sequence[str]],
    allow_groups: Sequence[str],
    permit_root_login: str,
) -> list[str]:
    """The users sshd lets in, sorted: members of the allowed groups (supplementary or primary) that exist, have a
    login shell (not empty, not nologin or false) and are not root unless root may log in."""
    groups = [name for name in allow_groups if name in getent_group]
    gids = {getent_group[name][GROUP_GID] for name in groups}
    members = [member for name in groups for member in getent_group[name][GROUP_MEMBERS].split(",")]
    members += [user for user, fields in getent_passwd.items() if fields[PASSWD_GID] in gids]
    return sorted({
        user for user in members
        if user and user in getent_passwd
        and (user != "root" or root_may_log_in(permit_root_login))
        and getent_passwd[user][PASSWD_SHELL] and not no_login_shell(getent_passwd[user][PASSWD_SHELL])
    })


def expand_authorized_keys_file(pattern: str, user: str, passwd: Sequence[str]) -> str:
    """One AuthorizedKeysFile pattern as sshd expands it for ``user``: ``%%`` a literal %, ``%h`` the home
    directory, ``%u`` the user, ``%U`` the uid; a relative result is relative to the home directory."""
    home = passwd[PASSWD_HOME]
    uid = passwd[PASSWD_UID]
    parts = [part.replace("%h", home).replace("%u", user).replace("%U", uid) for part in pattern.split("%%")]
    path = "%".join(parts)
    return path if path.startswith("/") else f"{home}/{path}"


def sshd_key_files(
    facts: Mapping[str, Any],
    allow_groups: Sequence[str],
    permit_root_login: str,
    authorized_keys_files: Sequence[str],
) -> list[dict[str, str]]:
    """``{user, pattern, path}`` for every user sshd lets in (:func:`sshd_login_users`) and AuthorizedKeysFile
    pattern, in user then pattern order. ``facts`` holds ``getent_group`` and ``getent_passwd``."""
    try:
        group, passwd = facts["getent_group"], facts["getent_passwd"]
    except KeyError as exc:
        raise AnsibleFilterError(
            f"sshd_key_files: no {exc.args[0]} fact; read the database with ansible.builtin.getent first") from exc
    return [
        {"user": user, "pattern": pattern, "path": expand_authorized_keys_file(pattern, user, passwd[user])}
        for user in sshd_login_users(group, passwd, allow_groups, permit_root_login)
        for pattern in authorized_keys_files
    ]


def sshd_keyed_users(
    key_stats: Sequence[Mapping[str, Any]],
    keyed_files: Mapping[str, Any] | None = None,
    also: Sequence[str] = (),
) -> list[str]:
    """The users with a key, sorted: the loop results of the ``stat`` over :func:`sshd_key_files` whose file exists
    and is among the files with a key (the registered ``grep -l`` result, or ``None`` when it did not run), and the
    users in ``also`` (:func:`sshd_new_admins`)."""
    keyed = set((keyed_files or {}).get("stdout_lines") or [])
    users = {
        result["item"]["user"] for result in key_stats
        if result.get("stat", {}).get("exists") and result["stat"].get("path") in keyed
    }
    return sorted(users | set(also))


def sshd_new_admins(
    admins: Sequence[Mapping[str, Any]],
    getent_passwd: Mapping[str, Any],
    permit_root_login: str,
) -> list[str]:
    """The admins (``core_users_admins | stability.ops.admin_accounts``) core_users would create with a key that
    sshd would let in: present, with at least one key, a login shell, not existing yet, not root unless root may
    log in. Their group (core_users_ssh_group) being allowed is the caller's condition."""
    return [
        admin["name"] for admin in admins
        if admin.get("state") == "present" and admin.get("authorized_keys")
        and not no_login_shell(admin.get("shell"))
        and admin["name"] not in getent_passwd
        and (admin["name"] != "root" or root_may_log_in(permit_root_login))
    ]


# Adoption discovery: what replacing a foreign sshd_config would drop.
DROP_VARIABLE = "security_sshd_accept_dropped"
OWN_MARKER = "stability.ops.security_sshd"
_DIRECTIVE = re.compile(r"^\s*(\S+?)(?:\s*=\s*|\s+)(.*)$")


def _sshd_files(grep_output: str) -> dict[str, list[str]]:
    """``grep -rHs`` output (``path:line``) as path -> lines, in file order."""
    files: dict[str, list[str]] = {}
    for line in (grep_output or "").splitlines():
        path, sep, text = line.partition(":")
        if sep:
            files.setdefault(path, []).append(text)
    return files


def _directives(lines: Sequence[str]) -> list[tuple[str, str]]:
    """(keyword, value) of each directive (``Keyword value`` or ``Keyword=value``), comments left out."""
    parsed = []
    for line in lines:
        match = _DIRECTIVE.match(line)
        if match and not match.group(1).startswith("#"):
            parsed.append((match.group(1), " ".join(match.group(2).split())))
    return parsed


def _include_matches(pattern: str, path: str) -> bool:
    # sshd resolves a relative Include against /etc/ssh.
    return fnmatch.fnmatchcase(path, pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}")


def _match_blocks(directives: list[tuple[str, str]]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The Match blocks (criteria, keywords) and the global Include patterns of a file."""
    blocks: list[tuple[str, list[str]]] = []
    includes: list[str] = []
    for keyword, value in directives:
        if keyword.lower() == "match":
            blocks.append((value, []))
        elif blocks:
            blocks[-1][1].append(keyword)
        elif keyword.lower() == "include":
            includes.extend(value.split())
    return blocks, includes


def sshd_adoption_findings(grep_output: str, match_blocks: Sequence[Mapping] = (), include_dropins: bool = False,
                           accept_dropped: Sequence[Any] = (), config: str = "/etc/ssh/sshd_config",
                           role_include: str = "/etc/ssh/sshd_config.d/*.conf") -> list[dict]:
    """``drop`` findings for the Match blocks and Include'd drop-ins of a foreign ``sshd_config`` (one the role did
    not write) that the role's file would lose: not carried by ``match_blocks`` or read through
    ``include_dropins``; ``accepted`` when ``accept_dropped`` lists the item."""
    files = _sshd_files(grep_output)
    main = files.get(config, [])
    if not main or any(line.lstrip().startswith("#") and OWN_MARKER in line for line in main):
        return []
    try:
        carried = {" ".join(str(block["criteria"]).split()) for block in match_blocks or []}
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"sshd_adoption_findings: match_blocks need a criteria each: {exc}") from exc
    blocks, includes = _match_blocks(_directives(main))
    found = [
        (f"Match {criteria}",
         f"sshd_config has 'Match {criteria}' ({', '.join(keywords) or 'no keywords'}); "
         "the role's sshd_config drops it",
         "security_sshd_match_blocks")
        for criteria, keywords in blocks
        if criteria not in carried
    ]
    dropin_dir = role_include.rpartition("/")[0] + "/"
    for pattern in includes:
        if include_dropins and pattern in (role_include, role_include.removeprefix("/etc/ssh/")):
            continue
        read = sorted(path for path in files if path != config and _include_matches(pattern, path))
        for path in read:
            keywords = [directive[0] for directive in _directives(files[path])]
            if keywords:
                found.append((path, f"read today through 'Include {pattern}' ({', '.join(keywords)}); the role's "
                              "sshd_config has no such Include, so sshd would ignore it",
                              "security_sshd_extra_config or security_sshd_include_dropins"))
        absolute = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
        if not read and not absolute.startswith(dropin_dir):
            found.append((f"Include {pattern}", f"sshd_config includes {pattern}, outside {dropin_dir} which the "
                          "discovery reads; the role's sshd_config has no such Include", "security_sshd_extra_config"))
    accepted = [str(entry).strip() for entry in accept_dropped or []]
    return [finding(item, "drop", detail, DROP_VARIABLE, accepted, carry) for item, detail, carry in found]


# Adoption discovery: who AllowGroups would lock out.
LOCKOUT_VARIABLE = "security_sshd_accept_lockout"
LOCKOUT_CARRY = "security_sshd_allow_groups or core_users_admins (core_users_ssh_group)"
_ACCESS_KEYWORDS = ("allowusers", "denyusers", "allowgroups", "denygroups")


def _access_lists(sshd_settings: str) -> dict[str, list[str]]:
    """The AllowUsers, DenyUsers, AllowGroups and DenyGroups patterns of ``sshd -T`` (one per line, lower case)."""
    lists: dict[str, list[str]] = {keyword: [] for keyword in _ACCESS_KEYWORDS}
    for line in (sshd_settings or "").splitlines():
        keyword, _sep, value = line.strip().partition(" ")
        if keyword in lists:
            lists[keyword].extend(value.split())
    return lists


def _matches(name: str, patterns: Sequence[str]) -> bool:
    # sshd's wildcards (* and ?); a negated pattern never lets anyone in, so it is no match here.
    return any(not pattern.startswith("!") and fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _user_groups(user: str, getent_group: Mapping[str, Sequence[str]], gid: str) -> set[str]:
    return {name for name, fields in getent_group.items()
            if fields[GROUP_GID] == gid or user in fields[GROUP_MEMBERS].split(",")}


def _allowed_today(user: str, groups: set[str], lists: Mapping[str, Sequence[str]]) -> bool:
    """Whether sshd's access lists let ``user`` in from somewhere: a DenyUsers pattern with a host part denies
    one host only, an AllowUsers pattern with one allows that host."""
    users_only = [pattern for pattern in lists["denyusers"] if "@" not in pattern]
    allow_users = [pattern.partition("@")[0] for pattern in lists["allowusers"]]
    return not (
        _matches(user, users_only)
        or (allow_users and not _matches(user, allow_users))
        or any(_matches(group, lists["denygroups"]) for group in groups)
        or (lists["allowgroups"] and not any(_matches(group, lists["allowgroups"]) for group in groups))
    )


def sshd_lockout_findings(
    sshd_settings: str | None,
    getent_group: Mapping[str, Sequence[str]],
    getent_passwd: Mapping[str, Sequence[str]],
    shells: str,
    allow_groups: Sequence[str],
    accept_lockout: Sequence[Any] = (),
    admins: Sequence[Mapping[str, Any]] = (),
    admin_groups: Sequence[str] = (),
    removed: Sequence[str] = (),
) -> list[dict]:
    """``lockout`` findings for the local users whom sshd lets in today and the role's ``AllowGroups
    allow_groups`` would not, by name.

    Let in today: a login shell (one ``/etc/shells`` lists, not nologin or false; when ``shells`` is empty any
    but those two; an empty field is /bin/sh) and passing ``sshd -T``'s access lists (``sshd_settings``;
    ``None`` when no sshd is installed, so nobody is). root is left out (security_sshd_permit_root_login decides
    for it), and so are the users in ``removed`` and the admins (``core_users_admins |
    stability.ops.admin_accounts``) with state absent: the operator's explicit choice. The admins present join
    ``admin_groups`` and their own groups earlier in the run.
    """
    if sshd_settings is None:
        return []
    login_shells = {line.strip() for line in (shells or "").splitlines()
                    if line.strip().startswith("/") and not no_login_shell(line.strip())}
    joining = {admin["name"]: set(admin_groups) | set(admin.get("groups") or [])
               for admin in admins or [] if admin.get("state", "present") == "present"}
    leaving = set(removed or []) | {admin["name"] for admin in admins or [] if admin["name"] not in joining}
    lists = _access_lists(sshd_settings)
    accepted = [str(entry).strip() for entry in accept_lockout or []]
    findings = []
    for user in sorted(set(getent_passwd) - leaving - {"root"}):
        fields = getent_passwd[user]
        shell = fields[PASSWD_SHELL] or "/bin/sh"
        if not (shell in login_shells if login_shells else not no_login_shell(shell)):
            continue
        groups = _user_groups(user, getent_group, fields[PASSWD_GID])
        if not _allowed_today(user, groups, lists) or (groups | joining.get(user, set())) & set(allow_groups):
            continue
        findings.append(finding(user, "lockout", f"{user} ({shell}) may log in over SSH today and is in none of the "
                                f"allowed groups ({', '.join(allow_groups)}); AllowGroups would lock the account out",
                                LOCKOUT_VARIABLE, accepted, LOCKOUT_CARRY))
    return findings


class FilterModule:
    """security_sshd's filters."""

    def filters(self):
        return {
            "sshd_key_files": sshd_key_files,
            "sshd_keyed_users": sshd_keyed_users,
            "sshd_new_admins": sshd_new_admins,
            "sshd_adoption_findings": sshd_adoption_findings,
            "sshd_lockout_findings": sshd_lockout_findings,
        }
