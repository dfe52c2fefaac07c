"""security_sshd's lock-out guard filters: who sshd lets in, where their keys are, who has one."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import sshd
from ansible_collections.stability.ops.plugins.filter.users import admin_accounts

# As ansible.builtin.getent sets them: name -> the fields after the name.
GROUP = {
    "root": ["x", "0", ""],
    "sshusers": ["x", "998", "deploy,sftpuser"],
    "nokeys": ["x", "1003", "nokey,svc"],
    "deploy": ["x", "1000", ""],
    "ops": ["x", "1010", ""],
    "wheel": ["x", "10", "root"],
}
PASSWD = {
    "root": ["x", "0", "0", "root", "/root", "/bin/bash"],
    "deploy": ["x", "1000", "1000", "", "/home/deploy", "/bin/bash"],
    "sftpuser": ["x", "1001", "1001", "", "/home/sftpuser", "/bin/bash"],
    "nokey": ["x", "1002", "1002", "", "/home/nokey", "/bin/bash"],
    "svc": ["x", "1003", "1003", "", "/home/svc", "/usr/sbin/nologin"],
    "opsuser": ["x", "1011", "1010", "", "/home/opsuser", "/bin/sh"],
    "noshell": ["x", "1012", "1010", "", "/home/noshell", ""],
    "stopped": ["x", "1013", "1010", "", "/home/stopped", "/bin/false"],
}
FACTS = {"getent_group": GROUP, "getent_passwd": PASSWD}


@pytest.mark.parametrize(
    ("groups", "permit_root", "expected"),
    [
        (["sshusers"], "no", ["deploy", "sftpuser"]),
        (["nokeys"], "no", ["nokey"]),
        (["ops"], "no", ["opsuser"]),
        (["wheel"], "no", []),
        (["wheel"], "prohibit-password", ["root"]),
        (["sshusers", "nokeys", "missing"], "no", ["deploy", "nokey", "sftpuser"]),
        (["missing"], "no", []),
        (["sshusers", "sshusers"], "no", ["deploy", "sftpuser"]),
    ],
    ids=["supplementary-members", "nologin-member-left-out", "primary-group-members-with-a-shell", "root-kept-out",
         "root-when-permitted", "several-groups-sorted", "unknown-group", "each-user-once"],
)
def test_the_users_sshd_lets_in(groups, permit_root, expected):
    assert sshd.sshd_login_users(GROUP, PASSWD, groups, permit_root) == expected


def test_a_member_missing_from_the_user_database_is_left_out():
    group = {**GROUP, "sshusers": ["x", "998", "deploy,ghost,"]}
    assert sshd.sshd_login_users(group, PASSWD, ["sshusers"], "no") == ["deploy"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (".ssh/authorized_keys", "/home/deploy/.ssh/authorized_keys"),
        ("%h/.ssh/authorized_keys2", "/home/deploy/.ssh/authorized_keys2"),
        ("/etc/ssh/keys/%u", "/etc/ssh/keys/deploy"),
        ("/etc/ssh/keys/%U.pub", "/etc/ssh/keys/1000.pub"),
        ("/etc/ssh/100%%/%u", "/etc/ssh/100%/deploy"),
        ("/etc/ssh/%%u", "/etc/ssh/%u"),
    ],
    ids=["relative-to-home", "home-token", "user-token", "uid-token", "literal-percent", "escaped-token"],
)
def test_authorized_keys_file_patterns_expand_as_sshd_does(pattern, expected):
    assert sshd.expand_authorized_keys_file(pattern, "deploy", PASSWD["deploy"]) == expected


def test_key_files_per_user_and_pattern():
    assert sshd.sshd_key_files(FACTS, ["sshusers"], "no", [".ssh/authorized_keys", "/etc/ssh/keys/%u"]) == [
        {"user": "deploy", "pattern": ".ssh/authorized_keys", "path": "/home/deploy/.ssh/authorized_keys"},
        {"user": "deploy", "pattern": "/etc/ssh/keys/%u", "path": "/etc/ssh/keys/deploy"},
        {"user": "sftpuser", "pattern": ".ssh/authorized_keys", "path": "/home/sftpuser/.ssh/authorized_keys"},
        {"user": "sftpuser", "pattern": "/etc/ssh/keys/%u", "path": "/etc/ssh/keys/sftpuser"},
    ]


def test_key_files_need_the_getent_facts():
    with pytest.raises(AnsibleFilterError, match="no getent_passwd fact"):
        sshd.sshd_key_files({"getent_group": GROUP}, ["sshusers"], "no", [".ssh/authorized_keys"])


def _stat(user: str, path: str, exists: bool = True) -> dict:
    return {"item": {"user": user, "pattern": ".ssh/authorized_keys", "path": path},
            "stat": {"exists": exists, "path": path, "isreg": exists} if exists else {"exists": False}}


STATS = [_stat("deploy", "/home/deploy/.ssh/authorized_keys"), _stat("nokey", "/home/nokey/.ssh/authorized_keys"),
         _stat("sftpuser", "/home/sftpuser/.ssh/authorized_keys", exists=False)]


@pytest.mark.parametrize(
    ("keyed", "also", "expected"),
    [
        ({"stdout_lines": ["/home/deploy/.ssh/authorized_keys"]}, [], ["deploy"]),
        ({"rc": 1, "stdout_lines": []}, [], []),
        ({"skipped": True}, [], []),
        (None, ["alice"], ["alice"]),
        ({"stdout_lines": ["/home/deploy/.ssh/authorized_keys"]}, ["deploy", "alice"], ["alice", "deploy"]),
    ],
    ids=["keyed-file", "no-file-has-a-key", "grep-skipped", "new-admins-only", "union-sorted-once"],
)
def test_keyed_users(keyed, also, expected):
    assert sshd.sshd_keyed_users(STATS, keyed, also) == expected


def test_a_missing_file_never_counts_even_if_grep_named_its_path():
    keyed = {"stdout_lines": ["/home/sftpuser/.ssh/authorized_keys"]}
    assert sshd.sshd_keyed_users(STATS, keyed) == []


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMolecule alice@example"


@pytest.mark.parametrize(
    ("admins", "shell", "permit_root", "expected"),
    [
        ([{"name": "alice", "authorized_keys": [KEY]}], "/bin/bash", "no", ["alice"]),
        ([{"name": "alice", "authorized_keys": [KEY]}], None, "no", ["alice"]),
        ([{"name": "alice"}], "/bin/bash", "no", []),
        ([{"name": "alice", "authorized_keys": []}], "/bin/bash", "no", []),
        ([{"name": "alice", "authorized_keys": [KEY], "state": "absent"}], "/bin/bash", "no", []),
        ([{"name": "alice", "authorized_keys": [KEY], "shell": "/usr/sbin/nologin"}], "/bin/bash", "no", []),
        ([{"name": "alice", "authorized_keys": [KEY]}], "/bin/false", "no", []),
        ([{"name": "deploy", "authorized_keys": [KEY]}], "/bin/bash", "no", []),
        ([{"name": "root", "authorized_keys": [KEY]}], "/bin/bash", "no", []),
        ([{"name": "root2", "authorized_keys": [KEY]}, {"name": "bob", "authorized_keys": [KEY]}], "/bin/bash",
         "no", ["root2", "bob"]),
    ],
    ids=["keyed-admin", "core-users-not-in-play", "no-keys-given", "empty-keys", "absent", "nologin-shell",
         "nologin-default-shell", "exists-already", "root-kept-out", "order-kept"],
)
def test_new_admins_with_keys(admins, shell, permit_root, expected):
    assert sshd.sshd_new_admins(admin_accounts(admins, shell), PASSWD, permit_root) == expected


def test_a_new_root_admin_counts_when_root_may_log_in():
    passwd = {name: fields for name, fields in PASSWD.items() if name != "root"}
    admins = admin_accounts([{"name": "root", "authorized_keys": [KEY]}], "/bin/bash")
    assert sshd.sshd_new_admins(admins, passwd, "prohibit-password") == ["root"]
    assert sshd.sshd_new_admins(admins, passwd, "no") == []


@pytest.mark.parametrize(
    ("shell", "expected"),
    [("/usr/sbin/nologin", True), ("/bin/false", True), ("/bin/bash", False), ("", False), (None, False),
     ("/opt/nologin-wrapper", False)],
    ids=["nologin", "false", "bash", "empty", "none", "name-only-starts-so"],
)
def test_no_login_shells(shell, expected):
    assert sshd.no_login_shell(shell) is expected


# grep -rHs '' -- /etc/ssh/sshd_config /etc/ssh/sshd_config.d on a lived-in Debian 12 host.
FOREIGN = """\
/etc/ssh/sshd_config:# This is the sshd server system-wide configuration file.
/etc/ssh/sshd_config:Include /etc/ssh/sshd_config.d/*.conf
/etc/ssh/sshd_config:KbdInteractiveAuthentication no
/etc/ssh/sshd_config:Subsystem\tsftp\t/usr/lib/openssh/sftp-server
/etc/ssh/sshd_config:#Match User anoncvs
/etc/ssh/sshd_config:
/etc/ssh/sshd_config:Match Group sftponly
/etc/ssh/sshd_config:    ChrootDirectory /srv/sftp/%u
/etc/ssh/sshd_config:    ForceCommand internal-sftp
/etc/ssh/sshd_config:Match   Address 10.0.0.0/8
/etc/ssh/sshd_config:    PasswordAuthentication=yes
/etc/ssh/sshd_config.d/50-legacy.conf:# legacy settings
/etc/ssh/sshd_config.d/50-legacy.conf:ClientAliveInterval 60
/etc/ssh/sshd_config.d/50-legacy.conf:MaxAuthTries 6
/etc/ssh/sshd_config.d/README:not read by the Include
/etc/ssh/sshd_config.d/60-empty.conf:# comments only
"""
DROPIN = "read today through 'Include /etc/ssh/sshd_config.d/*.conf' (ClientAliveInterval, MaxAuthTries); "


def test_adoption_findings_of_a_foreign_config():
    findings = sshd.sshd_adoption_findings(FOREIGN, [], False, ["Match Address 10.0.0.0/8"])
    assert findings == [
        {"item": "Match Group sftponly", "kind": "drop",
         "detail": "sshd_config has 'Match Group sftponly' (ChrootDirectory, ForceCommand); the role's sshd_config "
                   "drops it",
         "accept_with": "security_sshd_accept_dropped", "carry_with": "security_sshd_match_blocks", "accepted": False},
        {"item": "Match Address 10.0.0.0/8", "kind": "drop",
         "detail": "sshd_config has 'Match Address 10.0.0.0/8' (PasswordAuthentication); the role's sshd_config "
                   "drops it",
         "accept_with": "security_sshd_accept_dropped", "carry_with": "security_sshd_match_blocks", "accepted": True},
        {"item": "/etc/ssh/sshd_config.d/50-legacy.conf", "kind": "drop",
         "detail": DROPIN + "the role's sshd_config has no such Include, so sshd would ignore it",
         "accept_with": "security_sshd_accept_dropped",
         "carry_with": "security_sshd_extra_config or security_sshd_include_dropins", "accepted": False},
    ]


def test_adoption_carried_blocks_and_included_dropins_are_no_findings():
    blocks = [{"criteria": "Group  sftponly", "options": {}}, {"criteria": "Address 10.0.0.0/8", "options": {}}]
    assert sshd.sshd_adoption_findings(FOREIGN, blocks, True) == []


def test_adoption_of_the_roles_own_file_and_of_no_file():
    own = "/etc/ssh/sshd_config:# stability.ops.security_sshd\n/etc/ssh/sshd_config:Match Group x\n"
    assert sshd.sshd_adoption_findings(own) == []
    assert sshd.sshd_adoption_findings("") == []


def test_adoption_include_outside_the_dropin_directory():
    text = "/etc/ssh/sshd_config:Include custom/*.conf\n/etc/ssh/sshd_config:Include /etc/ssh/sshd_config.d/*.conf\n"
    (finding,) = sshd.sshd_adoption_findings(text, [], True)
    assert finding["item"] == "Include custom/*.conf"
    assert finding["detail"] == ("sshd_config includes custom/*.conf, outside /etc/ssh/sshd_config.d/ which the "
                                 "discovery reads; the role's sshd_config has no such Include")


def test_adoption_bad_match_blocks():
    with pytest.raises(AnsibleFilterError, match="criteria"):
        sshd.sshd_adoption_findings(FOREIGN, [{"options": {}}])


# sshd -T of Debian's stock file: no access list.
STOCK_SETTINGS = "port 22\npermitrootlogin without-password\nallowtcpforwarding yes\n"
SHELLS = "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n"


def _lockouts(settings=STOCK_SETTINGS, groups=("sshusers",), shells=SHELLS, passwd=None, **kwargs):
    return sshd.sshd_lockout_findings(settings, GROUP, passwd or PASSWD, shells, list(groups), **kwargs)


def test_lockout_names_every_login_user_outside_the_allowed_groups():
    findings = _lockouts(accept_lockout=["nokey"])
    # root: permit_root_login decides; svc and stopped: nologin and false; opsuser's /bin/sh and noshell's empty
    # field (/bin/sh) are login shells.
    assert [(f["item"], f["accepted"]) for f in findings] == [("nokey", True), ("noshell", False), ("opsuser", False)]
    assert findings[1] == {
        "item": "noshell", "kind": "lockout", "accepted": False,
        "accept_with": "security_sshd_accept_lockout", "carry_with": sshd.LOCKOUT_CARRY,
        "detail": "noshell (/bin/sh) may log in over SSH today and is in none of the allowed groups (sshusers); "
                  "AllowGroups would lock the account out",
    }


def test_lockout_without_sshd_or_with_the_same_allow_groups_today_is_empty():
    assert _lockouts(settings=None) == []
    assert _lockouts(settings=STOCK_SETTINGS + "allowgroups sshusers\n") == []


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        ("allowusers nokey\nallowusers deploy@192.0.2.*\n", ["nokey"]),
        ("allowusers *key\n", ["nokey"]),
        ("denyusers nokey opsuser@192.0.2.1\n", ["noshell", "opsuser"]),
        ("denygroups ops\n", ["nokey"]),
        ("allowgroups nokeys sshusers\n", ["nokey"]),
        ("allowgroups !ops\n", []),
    ],
    ids=["allowusers", "allowusers-pattern", "denyusers-host-part", "denygroups-primary", "allowgroups", "negated"],
)
def test_lockout_counts_only_who_sshd_lets_in_today(access, expected):
    assert [f["item"] for f in _lockouts(settings=STOCK_SETTINGS + access)] == expected


def test_lockout_spares_the_admins_core_users_manages_and_removes():
    admins = admin_accounts([{"name": "nokey"}, {"name": "noshell", "state": "absent"},
                             {"name": "opsuser", "groups": ["sshusers"]}], "/bin/bash")
    assert _lockouts(admins=admins, admin_groups=["admins", "sshusers"]) == []
    assert [f["item"] for f in _lockouts(admins=admins, admin_groups=["admins"])] == ["nokey"]
    assert [f["item"] for f in _lockouts(removed=["noshell", "opsuser"])] == ["nokey"]


def test_lockout_without_etc_shells_counts_every_shell_but_nologin_and_false():
    passwd = {**PASSWD, "syncer": ["x", "4", "65534", "", "/bin", "/bin/sync"]}
    assert [f["item"] for f in _lockouts(shells="", passwd=passwd)] == ["nokey", "noshell", "opsuser", "syncer"]
    assert [f["item"] for f in _lockouts(passwd=passwd)] == ["nokey", "noshell", "opsuser"]
