# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin accounts of core_users, with their defaults: one definition for core_users and security_sshd.

core_users creates the accounts from it; security_sshd's lock-out guard counts, in check mode, the admins with keys
that core_users would create earlier in the same run. Both read the entries through :func:`admin_accounts`, so an
admin means the same to both. :func:`home_permissions_to_fix` picks, from one probe of the admins' homes, the entries
whose mode, owner or group the role tightens.

Documentation: the sidecar files ``admin_accounts.yml`` and ``home_permissions_to_fix.yml``;
``ansible-doc -t filter stability.ops.<name>``.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# What an entry of core_users_admins means when it leaves a key out (meta/argument_specs.yml of core_users
# documents the same). The shell's default is core_users_default_shell, passed in.
ADMIN_DEFAULTS: dict[str, Any] = {"state": "present", "groups": [], "comment": ""}


def admin_accounts(admins: Sequence[Mapping[str, Any]] | None, default_shell: str | None = None) -> list[dict]:
    """The entries of ``core_users_admins`` with their defaults filled in; the entry's own keys win.

    ``shell`` defaults to ``default_shell`` (core_users_default_shell); with ``None`` (core_users not in the play)
    an entry without a shell keeps none. ``authorized_keys`` and ``password`` get no default: core_users leaves an
    admin's key file alone when ``authorized_keys`` is not given.
    """
    defaults = copy.deepcopy(ADMIN_DEFAULTS)
    if default_shell is not None:
        defaults["shell"] = default_shell
    accounts = []
    for admin in admins or []:
        if not isinstance(admin, Mapping) or "name" not in admin:
            raise AnsibleFilterError(f"admin_accounts: every entry of core_users_admins needs a name, got {admin!r}")
        accounts.append({**copy.deepcopy(defaults), **admin})
    return accounts


# --- home directories and init files --------------------------------------------------------------------------

PERMISSION_BITS = 0o777
_CLASSES = (("u", 6), ("g", 3), ("o", 0))


def _octal(mode: Any, name: str) -> int:
    if isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3}", mode):
        return int(mode, 8)
    raise AnsibleFilterError(f"home_permissions_to_fix: {name} must be an octal mode such as '0750', got {mode!r}")


def removal_mode(mode: int) -> str:
    """The symbolic mode that removes every permission bit ``mode`` does not grant (``0o750`` -> ``g-w,o-rwx``).

    Applied with the file module it only takes bits away: a stricter mode the user chose stays as it is.
    """
    forbidden = PERMISSION_BITS & ~mode
    parts = []
    for who, shift in _CLASSES:
        bits = (forbidden >> shift) & 0o7
        letters = "".join(letter for letter, bit in (("r", 4), ("w", 2), ("x", 1)) if bits & bit)
        if letters:
            parts.append(f"{who}-{letters}")
    return ",".join(parts)


def _kind(entry_type: str, path: str, home: str) -> str | None:
    """What the probe entry is to the role: the home, an init file, the .ssh directory or a file in it."""
    ssh_dir = posixpath.join(home, ".ssh")
    if entry_type == "d" and path == home:
        return "home"
    if entry_type == "d" and path == ssh_dir:
        return "ssh_dir"
    if entry_type == "f" and posixpath.dirname(path) == ssh_dir:
        return "ssh_file"
    if entry_type == "f" and posixpath.dirname(path) == home and posixpath.basename(path).startswith("."):
        return "init"
    return None


def home_permissions_to_fix(
    probe: str | None,
    home_mode: str = "0750",
    init_file_mode: str = "0640",
    ssh_dir_mode: str = "0700",
    ssh_file_mode: str = "0600",
) -> list[dict]:
    """The entries of ``probe`` (the core_users home probe) whose mode is more permissive than allowed, or whose
    owner or group is not the admin's own (user and primary group).

    The probe prints, per admin that exists and has a home directory, a header ``@<TAB>user<TAB>group<TAB>home``,
    then ``find -printf '%y\t%m\t%u\t%g\t%p\n'`` lines for the home, its dot files (init files), ``.ssh`` and the
    files in it. Each entry comes back as ``{path, state, owner, group, mode}`` for the file module, ``mode`` the
    symbolic removal of the bits the limit does not grant (never adds a bit). Other lines are ignored.
    """
    limits = {
        "home": _octal(home_mode, "home_mode"),
        "init": _octal(init_file_mode, "init_file_mode"),
        "ssh_dir": _octal(ssh_dir_mode, "ssh_dir_mode"),
        "ssh_file": _octal(ssh_file_mode, "ssh_file_mode"),
    }
    fix: list[dict] = []
    user = group = home = None
    for line in (probe or "").splitlines():
        fields = line.split("\t")
        if fields[0] == "@" and len(fields) >= 4:
            user, group, home = fields[1], fields[2], "\t".join(fields[3:])
            continue
        if home is None or len(fields) < 5:
            continue
        entry_type, mode, owner, group_owner, path = fields[0], fields[1], fields[2], fields[3], "\t".join(fields[4:])
        kind = _kind(entry_type, path, home)
        if kind is None or not re.fullmatch(r"[0-7]{1,4}", mode):
            continue
        too_open = int(mode, 8) & PERMISSION_BITS & ~limits[kind]
        if too_open or owner != user or group_owner != group:
            fix.append({"path": path, "state": "directory" if entry_type == "d" else "file", "owner": user,
                        "group": group, "mode": removal_mode(limits[kind]) or None, "kind": kind})
    return fix


class FilterModule:
    """core_users' filters."""

    def filters(self):
        return {"admin_accounts": admin_accounts, "home_permissions_to_fix": home_permissions_to_fix}
