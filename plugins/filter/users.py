# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin accounts of core_users, with their defaults: one definition for core_users and security_sshd.

core_users creates the accounts from it; security_sshd's lock-out guard counts, in check mode, the admins with keys
that core_users would create earlier in the same run. Both read the entries through :func:`admin_accounts`, so an
admin means the same to both.

Documentation: the sidecar file ``admin_accounts.yml``; ``ansible-doc -t filter stability.ops.admin_accounts``.
"""

from __future__ import annotations

import copy
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


class FilterModule:
    """core_users' filters."""

    def filters(self):
        return {"admin_accounts": admin_accounts}
