# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account facts the roles read (``ansible.builtin.getent`` of passwd and group) and which shells refuse a
login: one definition for security_sshd's lock-out filters and core_users' adoption findings."""

from __future__ import annotations

# getent passwd fields after the name: password, uid, gid, gecos, home, shell.
PASSWD_UID = 1
PASSWD_GID = 2
PASSWD_HOME = 4
PASSWD_SHELL = 5
# getent group fields after the name: password, gid, members (comma separated).
GROUP_GID = 1
GROUP_MEMBERS = 2
NO_LOGIN_SHELLS = ("/nologin", "/false")


def no_login_shell(shell: str | None) -> bool:
    """A shell that refuses logins (``.../nologin``, ``.../false``)."""
    return bool(shell) and shell.endswith(NO_LOGIN_SHELLS)
