# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The defaults of this collection's roles, read where they are written: one source for values two roles share.

health_check checks the limits core_journald writes. Where core_journald's variables are not defined (core_journald
is not in the play and the inventory does not set them), health_check falls back to core_journald's own
``defaults/main.yml`` through :func:`role_defaults` instead of a copy of its numbers, and it checks the units the
other roles manage by the service names their ``vars/main.yml`` define, through :func:`role_vars`.

Documentation: the sidecar files ``role_defaults.yml`` and ``role_vars.yml``;
``ansible-doc -t filter stability.ops.role_defaults``.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml
from ansible.errors import AnsibleFilterError

# plugins/filter/roles.py -> the collection root, in the working copy and in an installed collection alike.
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"role_defaults: {path} is not a mapping of variables")
    return data


def _role_file(filter_name: str, role: str, directory: str) -> dict[str, Any]:
    name = str(role).removeprefix("stability.ops.")
    if not ROLE_NAME.match(name):
        raise AnsibleFilterError(f"{filter_name}: {role!r} is not a role name of stability.ops")
    path = ROLES_DIR / name / directory / "main.yml"
    if not path.is_file():
        raise AnsibleFilterError(
            f"{filter_name}: stability.ops has no role {name} with {directory} ({path} not found)")
    return copy.deepcopy(_load(path))


def role_defaults(role: str) -> dict[str, Any]:
    """The variables of ``roles/<role>/defaults/main.yml`` of this collection, as written (templates unrendered).

    ``role`` is the short name (``core_journald``) or the FQCN (``stability.ops.core_journald``).
    """
    return _role_file("role_defaults", role, "defaults")


def role_vars(role: str) -> dict[str, Any]:
    """The variables of ``roles/<role>/vars/main.yml`` of this collection, as written (templates unrendered)."""
    return _role_file("role_vars", role, "vars")


class FilterModule:
    """Filters about the collection's roles."""

    def filters(self):
        return {"role_defaults": role_defaults, "role_vars": role_vars}
