"""stability.ops.admin_accounts: what an entry of core_users_admins means, for core_users and security_sshd."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.users import ADMIN_DEFAULTS, admin_accounts

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMolecule alice@example"


@pytest.mark.parametrize(
    ("admin", "shell", "expected"),
    [
        ({"name": "alice"}, "/bin/bash",
         {"name": "alice", "state": "present", "groups": [], "comment": "", "shell": "/bin/bash"}),
        ({"name": "alice", "shell": "/bin/zsh", "groups": ["adm"], "comment": "Alice", "state": "absent"}, "/bin/bash",
         {"name": "alice", "state": "absent", "groups": ["adm"], "comment": "Alice", "shell": "/bin/zsh"}),
        ({"name": "alice"}, None, {"name": "alice", "state": "present", "groups": [], "comment": ""}),
        ({"name": "alice", "authorized_keys": [KEY]}, "/bin/bash",
         {"name": "alice", "state": "present", "groups": [], "comment": "", "shell": "/bin/bash",
          "authorized_keys": [KEY]}),
        ({"name": "alice", "shell": None}, "/bin/bash",
         {"name": "alice", "state": "present", "groups": [], "comment": "", "shell": None}),
    ],
    ids=["defaults", "own-keys-win", "no-default-shell", "keys-kept-as-given", "explicit-null-wins"],
)
def test_defaults_are_filled_in_and_the_entry_wins(admin, shell, expected):
    assert admin_accounts([admin], shell) == [expected]


def test_no_key_file_default_is_invented():
    """core_users leaves the key file alone when authorized_keys is not given: the filter must not add one."""
    assert "authorized_keys" not in admin_accounts([{"name": "alice"}], "/bin/bash")[0]


def test_entries_do_not_share_their_default_groups():
    first, second = admin_accounts([{"name": "a"}, {"name": "b"}], "/bin/bash")
    first["groups"].append("adm")
    assert second["groups"] == [] and ADMIN_DEFAULTS["groups"] == []


@pytest.mark.parametrize("admins", [None, []], ids=["none", "empty"])
def test_no_admins(admins):
    assert admin_accounts(admins, "/bin/bash") == []


@pytest.mark.parametrize("admin", [{"shell": "/bin/bash"}, "alice"], ids=["without-name", "not-a-mapping"])
def test_an_entry_without_a_name_is_a_filter_error(admin):
    with pytest.raises(AnsibleFilterError, match="needs a name"):
        admin_accounts([admin], "/bin/bash")
