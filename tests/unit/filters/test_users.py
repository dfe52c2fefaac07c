"""stability.ops.admin_accounts: what an entry of core_users_admins means, for core_users and security_sshd."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.users import (
    ADMIN_DEFAULTS,
    admin_accounts,
    home_permissions_to_fix,
    removal_mode,
)

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


# --- home_permissions_to_fix ------------------------------------------------------------------------------------

def _probe(*lines: str) -> str:
    return "\n".join(lines) + "\n"


HEADER = "@\talice\talice\t/home/alice"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(0o750, "g-w,o-rwx"), (0o640, "u-x,g-wx,o-rwx"), (0o700, "g-rwx,o-rwx"), (0o600, "u-x,g-rwx,o-rwx"),
     (0o777, "")],
    ids=["home", "init", "ssh-dir", "ssh-file", "everything"],
)
def test_removal_mode_takes_away_what_the_limit_does_not_grant(mode, expected):
    assert removal_mode(mode) == expected


def test_a_fresh_admin_home_is_tightened():
    """useradd's home (0755 on Debian 12) and the 0644 skeleton files; .ssh as authorized_key writes it is fine."""
    probe = _probe(HEADER, "d\t755\talice\talice\t/home/alice", "f\t644\talice\talice\t/home/alice/.bashrc",
                   "f\t644\talice\talice\t/home/alice/.profile", "d\t700\talice\talice\t/home/alice/.ssh",
                   "f\t600\talice\talice\t/home/alice/.ssh/authorized_keys")
    assert home_permissions_to_fix(probe) == [
        {"path": "/home/alice", "state": "directory", "owner": "alice", "group": "alice", "mode": "g-w,o-rwx",
         "kind": "home"},
        {"path": "/home/alice/.bashrc", "state": "file", "owner": "alice", "group": "alice",
         "mode": "u-x,g-wx,o-rwx", "kind": "init"},
        {"path": "/home/alice/.profile", "state": "file", "owner": "alice", "group": "alice",
         "mode": "u-x,g-wx,o-rwx", "kind": "init"},
    ]


def test_a_converged_or_stricter_home_is_no_finding():
    probe = _probe(HEADER, "d\t700\talice\talice\t/home/alice", "f\t600\talice\talice\t/home/alice/.bashrc",
                   "f\t640\talice\talice\t/home/alice/.profile", "d\t700\talice\talice\t/home/alice/.ssh",
                   "f\t400\talice\talice\t/home/alice/.ssh/authorized_keys")
    assert home_permissions_to_fix(probe) == []


@pytest.mark.parametrize(
    ("line", "kind"),
    [("d\t755\talice\talice\t/home/alice/.ssh", "ssh_dir"),
     ("f\t644\talice\talice\t/home/alice/.ssh/authorized_keys", "ssh_file"),
     ("f\t600\troot\talice\t/home/alice/.bashrc", "init"),
     ("f\t600\talice\tusers\t/home/alice/.bashrc", "init"),
     ("d\t2770\talice\talice\t/home/alice", "home")],
    ids=["ssh-dir-open", "ssh-file-open", "other-owner", "other-group", "group-writable-setgid-home"],
)
def test_each_kind_is_checked_against_its_own_limit_and_owner(line, kind):
    assert [entry["kind"] for entry in home_permissions_to_fix(_probe(HEADER, line))] == [kind]


def test_the_limits_come_from_the_role_variables():
    probe = _probe(HEADER, "d\t750\talice\talice\t/home/alice", "f\t640\talice\talice\t/home/alice/.bashrc")
    assert [entry["mode"] for entry in home_permissions_to_fix(probe, "0700", "0600")] == [
        "g-rwx,o-rwx", "u-x,g-rwx,o-rwx"]


def test_entries_belong_to_the_admin_of_their_header():
    probe = _probe(HEADER, "f\t644\talice\talice\t/home/alice/.bashrc", "@\tbob\tadmins\t/srv/bob",
                   "f\t644\tbob\tadmins\t/srv/bob/.profile")
    assert [(entry["path"], entry["owner"], entry["group"]) for entry in home_permissions_to_fix(probe)] == [
        ("/home/alice/.bashrc", "alice", "alice"), ("/srv/bob/.profile", "bob", "admins")]


@pytest.mark.parametrize(
    "probe",
    [None, "", "f\t644\talice\talice\t/home/alice/.bashrc\n",
     _probe(HEADER, "f\t644\talice\talice\t/home/alice/notes.txt", "f\t644\talice\talice\t/home/alice/dir/.x",
            "d\t755\talice\talice\t/home/alice/.cache", "l\t777\talice\talice\t/home/alice/.vimrc", "garbage")],
    ids=["none", "empty", "no-header", "not-an-init-file-or-ssh"],
)
def test_what_the_role_does_not_manage_is_ignored(probe):
    assert home_permissions_to_fix(probe) == []


def test_a_limit_without_the_leading_zero_is_octal_too():
    probe = _probe(HEADER, "d\t755\talice\talice\t/home/alice")
    assert [entry["mode"] for entry in home_permissions_to_fix(probe, "750")] == ["g-w,o-rwx"]


@pytest.mark.parametrize("mode", ["u=rwx", 750, "07500", None], ids=["symbolic", "int", "too-long", "none"])
def test_a_limit_that_is_not_an_octal_string_is_a_filter_error(mode):
    with pytest.raises(AnsibleFilterError, match="home_mode must be an octal mode"):
        home_permissions_to_fix("", mode)
