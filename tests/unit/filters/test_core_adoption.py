"""Adoption findings of the core roles: sudoers, sysctl, chrony and apt, each situation and the pristine host."""

from __future__ import annotations

import base64
import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import core_adoption as ca

DROPIN = "/etc/sudoers.d/50-stability-ops"
ROLE_DEFAULTS = ["use_pty", 'logfile="/var/log/sudo.log"']
STOCK_SUDOERS = ["Defaults env_reset", "Defaults use_pty", "root ALL=(ALL:ALL) ALL", "%sudo ALL=(ALL:ALL) ALL",
                 "@includedir /etc/sudoers.d"]
PRISTINE_SUDOERS = "\n".join([
    "/etc/sudoers:# comment", "/etc/sudoers:Defaults\tenv_reset", "/etc/sudoers:Defaults\tuse_pty",
    "/etc/sudoers:root\tALL=(ALL:ALL) ALL", "/etc/sudoers:%sudo\tALL=(ALL:ALL) ALL",
    "/etc/sudoers:@includedir /etc/sudoers.d", "/etc/sudoers.d/README:# As of Debian version 1.7.2p1-1 ...",
    f"{DROPIN}:Defaults use_pty", f"{DROPIN}:%admins ALL=(ALL:ALL) NOPASSWD: ALL",
])
LEGACY = "\n".join(["/etc/sudoers.d/legacy:legacyuser ALL=(ALL) NOPASSWD: ALL",
                    "/etc/sudoers.d/legacy:Defaults:legacyuser !use_pty"])


def _sudoers(probe, **kwargs):
    return ca.sudoers_adoption_findings(probe, [DROPIN], ROLE_DEFAULTS, stock=STOCK_SUDOERS, dropin=DROPIN, **kwargs)


def test_a_pristine_sudoers_has_no_finding():
    assert _sudoers(PRISTINE_SUDOERS) == []


def test_a_legacy_dropin_is_unmanaged_and_its_defaults_override():
    findings = _sudoers(f"{PRISTINE_SUDOERS}\n{LEGACY}")
    assert findings == [
        {"item": "/etc/sudoers.d/legacy", "kind": "unmanaged",
         "detail": "not managed by the collection, kept as it is: legacyuser ALL=(ALL) NOPASSWD: ALL",
         "accept_with": "core_users_sudoers_accept_unmanaged", "accepted": False},
        {"item": "/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty", "kind": "override",
         "detail": "overrides the role's Defaults use_pty for legacyuser (core_users_sudo_defaults)",
         "accept_with": "core_users_sudoers_accept_overrides", "accepted": False},
    ]


def test_accepted_items_are_marked():
    findings = _sudoers(LEGACY, accept_unmanaged=["/etc/sudoers.d/legacy"],
                        accept_overrides=["/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty"])
    assert [finding["accepted"] for finding in findings] == [True, True]


def test_remove_mode_drops_the_file_and_its_defaults_go_with_it():
    findings = _sudoers(LEGACY, mode="remove")
    assert [(finding["item"], finding["kind"]) for finding in findings] == [("/etc/sudoers.d/legacy", "drop")]
    assert "removed (core_users_sudoers_unmanaged: remove)" in findings[0]["detail"]


@pytest.mark.parametrize(
    ("probe", "expected"),
    [("/etc/sudoers.d/10-early:Defaults !use_pty", []),
     ("/etc/sudoers.d/90-late:Defaults !use_pty, logfile=/tmp/x",
      ["/etc/sudoers.d/90-late: Defaults !use_pty, logfile=/tmp/x"]),
     ("/etc/sudoers:@includedir /etc/sudoers.d\n/etc/sudoers:Defaults !use_pty", ["/etc/sudoers: Defaults !use_pty"]),
     ("/etc/sudoers:Defaults !use_pty\n/etc/sudoers:@includedir /etc/sudoers.d", []),
     ("/etc/sudoers.d/90-late:Defaults use_pty", []),
     ("/etc/sudoers.d/90-late:Defaults>root !use_pty", ["/etc/sudoers.d/90-late: Defaults>root !use_pty"])],
    ids=["global-before-dropin", "global-after-dropin", "sudoers-after-includedir", "sudoers-before-includedir",
         "same-value", "runas-scoped"],
)
def test_defaults_override_only_where_they_win(probe, expected):
    overrides = [finding["item"] for finding in _sudoers(probe, accept_unmanaged=[]) if finding["kind"] == "override"]
    assert overrides == expected


def test_extra_rules_in_sudoers_are_unmanaged_and_files_sudo_skips_are_not_read():
    probe = "\n".join(["/etc/sudoers:root ALL=(ALL:ALL) ALL", "/etc/sudoers:deploy ALL=(ALL) NOPASSWD: \\",
                       "/etc/sudoers:    /usr/bin/systemctl", "/etc/sudoers.d/old.bak:bob ALL=(ALL) ALL",
                       "/etc/sudoers.d/legacy~:bob ALL=(ALL) ALL"])
    findings = _sudoers(probe)
    assert [(finding["item"], finding["kind"]) for finding in findings] == [("/etc/sudoers", "unmanaged")]
    assert "deploy ALL=(ALL) NOPASSWD: /usr/bin/systemctl" in findings[0]["detail"]


def test_a_dropin_the_role_wrote_earlier_is_its_own():
    probe = "\n".join(["/etc/sudoers.d/60-old:#", "/etc/sudoers.d/60-old:# Ansible managed",
                       '/etc/sudoers.d/60-old:# sudoers drop-in "60-old" from stability.ops.core_users '
                       "(core_users_sudoers).",
                       "/etc/sudoers.d/60-old:carol ALL=(root) NOPASSWD: /usr/bin/systemctl restart cron"])
    assert _sudoers(probe) == []


def test_an_unknown_mode_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="keep or remove"):
        _sudoers("", mode="delete")


SYSCTL_DROPIN = "/etc/sysctl.d/90-stability-ops.conf"
CUSTOM = [{"name": "net.ipv4.ip_forward", "file": "/etc/sysctl.d/99-custom.conf", "value": "1"},
          {"name": "kernel.sysrq", "file": "/etc/sysctl.d/99-custom.conf", "value": "1"}]


def test_later_sysctl_files_are_overrides_by_parameter():
    findings = ca.sysctl_adoption_findings(CUSTOM, SYSCTL_DROPIN, ["kernel.sysrq"])
    assert [(f["item"], f["kind"], f["accepted"], f["accept_with"]) for f in findings] == [
        ("net.ipv4.ip_forward", "override", False, "core_sysctl_accept_overrides"),
        ("kernel.sysrq", "override", True, "core_sysctl_accept_overrides")]
    assert findings[0]["detail"] == (
        "/etc/sysctl.d/99-custom.conf sets net.ipv4.ip_forward = 1 and is read after "
        "/etc/sysctl.d/90-stability-ops.conf at boot, so its value wins at boot over the role's; accept it, or set "
        "core_sysctl_dropin_last: true to write the role's drop-in last")


def test_moving_the_dropin_last_says_so_and_cannot_pass_sysctl_conf():
    overrides = [*CUSTOM, {"name": "vm.swappiness", "file": "/etc/sysctl.conf", "value": "60"}]
    findings = ca.sysctl_adoption_findings(overrides, SYSCTL_DROPIN, [], "/etc/sysctl.d/zz-90-stability-ops.conf")
    assert [(f["item"], f["accepted"], f["accept_with"]) for f in findings] == [
        ("net.ipv4.ip_forward", True, "core_sysctl_dropin_last"), ("kernel.sysrq", True, "core_sysctl_dropin_last"),
        ("vm.swappiness", False, "core_sysctl_accept_overrides")]
    assert "the role writes /etc/sysctl.d/zz-90-stability-ops.conf instead" in findings[0]["detail"]
    assert ca.sysctl_boot_report(overrides, SYSCTL_DROPIN, "/etc/sysctl.d/zz-90-stability-ops.conf") == [
        "vm.swappiness: not applied at boot, /etc/sysctl.conf sets 60 after /etc/sysctl.d/zz-90-stability-ops.conf"]


def test_distribution_files_are_no_finding_but_are_reported():
    vendor = [{"name": "fs.protected_fifos", "file": "/usr/lib/sysctl.d/99-protect-links.conf", "value": "1"}]
    assert ca.sysctl_adoption_findings(vendor, SYSCTL_DROPIN) == []
    assert ca.sysctl_boot_report(vendor, SYSCTL_DROPIN) == [
        "fs.protected_fifos: not applied at boot, /usr/lib/sysctl.d/99-protect-links.conf sets 1 after "
        f"{SYSCTL_DROPIN}"]


def test_no_override_no_finding():
    assert ca.sysctl_adoption_findings([], SYSCTL_DROPIN) == [] and ca.sysctl_boot_report([], SYSCTL_DROPIN) == []


def test_a_malformed_override_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="not an override"):
        ca.sysctl_adoption_findings([{"name": "x"}], SYSCTL_DROPIN)


CONF = "/etc/chrony/chrony.conf"
ROLE_LINES = ["server 127.0.0.1 iburst"]
STOCK = ["pool 2.debian.pool.ntp.org iburst"]
STOCK_CONF = "\n".join([f"{CONF}:# Welcome to the chrony configuration file.",
                        f"{CONF}:pool 2.debian.pool.ntp.org iburst",
                        f"{CONF}:sourcedir /run/chrony-dhcp", "/etc/chrony/conf.d/README:# Use this directory"])
LIVED_IN = "\n".join([f"{CONF}:server ntp1.example.net iburst", f"{CONF}:allow 10.0.0.0/8", f"{CONF}:local  stratum 10",
                      f"{CONF}:driftfile /var/lib/chrony/chrony.drift",
                      "/etc/chrony/conf.d/site.conf:peer 10.0.0.2"])


def test_stock_and_managed_chrony_confs_have_no_finding():
    assert ca.chrony_adoption_findings(STOCK_CONF, ROLE_LINES, STOCK) == []
    managed = f"{CONF}:#\n{CONF}:# Ansible managed\n{CONF}:server old.example iburst"
    assert ca.chrony_adoption_findings(managed, ROLE_LINES, STOCK) == []


def test_custom_chrony_lines_are_drops_carried_or_accepted():
    findings = ca.chrony_adoption_findings(LIVED_IN, ROLE_LINES, STOCK, ["server ntp1.example.net iburst"])
    assert [(f["item"], f["kind"], f["accepted"]) for f in findings] == [
        ("server ntp1.example.net iburst", "drop", True), ("allow 10.0.0.0/8", "drop", False),
        ("local stratum 10", "drop", False), ("/etc/chrony/conf.d/site.conf", "unmanaged", False)]
    assert findings[1] == {
        "item": "allow 10.0.0.0/8", "kind": "drop", "accepted": False,
        "detail": f"in {CONF}, which the role replaces; the line would be gone",
        "accept_with": "core_time_chrony_accept_drop", "carry_with": "core_time_chrony_extra_config"}
    carried = ca.chrony_adoption_findings(LIVED_IN, [*ROLE_LINES, "server ntp1.example.net iburst",
                                                     "allow 10.0.0.0/8", "local stratum 10"], STOCK)
    assert [f["item"] for f in carried] == ["/etc/chrony/conf.d/site.conf"]


FETCH_FAILED = {
    "rc": 100, "stdout": "Err:1 http://deb.debian.org/debian trixie/main amd64 chrony amd64 4.6.1\n"
                         "  Temporary failure resolving 'deb.debian.org'\n",
    "stderr": "E: Failed to fetch http://deb.debian.org/debian/pool/main/c/chrony/chrony_4.6.1-3%2bdeb13u2_amd64.deb"
              "  Temporary failure resolving 'deb.debian.org'\nE: Some files failed to download\n",
}


def test_a_package_the_host_cannot_fetch_carries_apts_reason():
    assert ca.apt_unfetchable_findings(FETCH_FAILED, ["chrony"]) == [{
        "item": "chrony", "kind": "unfetchable", "accept_with": "core_packages_accept_unfetchable", "accepted": False,
        "detail": "not installed and the host cannot download it: failed to fetch chrony_4.6.1-3%2bdeb13u2_amd64.deb: "
                  "Temporary failure resolving 'deb.debian.org'"}]


def test_an_unknown_package_is_named_and_the_others_were_not_tried():
    probe = {"rc": 100, "stdout": "", "stderr": "E: Unable to locate package nosuchpkg\n"}
    findings = ca.apt_unfetchable_findings(probe, ["chrony", "nosuchpkg=1.0"], ["nosuchpkg"])
    assert [(f["item"], f["accepted"], f["detail"]) for f in findings] == [
        ("nosuchpkg", True, "not installed and the host cannot download it: Unable to locate package nosuchpkg")]


def test_an_unnamed_failure_gives_every_package_apts_lines():
    probe = {"rc": 100, "stdout": "", "stderr": "E: Could not open lock file /var/lib/dpkg/lock-frontend\n"}
    assert [f["detail"] for f in ca.apt_unfetchable_findings(probe, ["a", "b"])] == [
        "not installed and the host cannot download it: E: Could not open lock file /var/lib/dpkg/lock-frontend"] * 2


@pytest.mark.parametrize("probe", [{"rc": 0, "stdout": "", "stderr": ""}, {}, None], ids=["fetched", "skipped", "none"])
def test_a_fetchable_or_unprobed_host_has_no_finding(probe):
    assert ca.apt_unfetchable_findings(probe, ["chrony"]) == []


# --- core_users: existing accounts ----------------------------------------------------------------------------

# Public halves of keys nobody holds: valid ed25519 and RSA blobs, enough to compare and fingerprint.
def _blob(kind: bytes, fill: int) -> str:
    return base64.b64encode(len(kind).to_bytes(4, "big") + kind + (32).to_bytes(4, "big") + bytes([fill]) * 32).decode()


OLD_KEY = f"ssh-ed25519 {_blob(b'ssh-ed25519', 1)} legacy@old-laptop"
NEW_KEY = f"ssh-ed25519 {_blob(b'ssh-ed25519', 2)} ops@new-laptop"
RSA_KEY = f"ssh-rsa {_blob(b'ssh-rsa', 3)} backup@nas"
CANARY = "$6$canary$CANARYHASHcanaryhash"
PASSWD = {"ops": ["x", "1001", "1001", "", "/home/ops", "/bin/sh"],
          "zed": ["x", "1002", "1002", "", "/srv/zed/", "/bin/bash"]}
KEYS_PROBE = "\n".join(["/home/ops/.ssh/authorized_keys:# keys of the old image",
                        f'/home/ops/.ssh/authorized_keys:from="10.0.0.0/8" {OLD_KEY}',
                        f"/home/ops/.ssh/authorized_keys:{NEW_KEY}", f"/home/ops/.ssh/authorized_keys:{OLD_KEY}",
                        f"/srv/zed/.ssh/authorized_keys:{RSA_KEY}"])


def _admin(name, login_shell="/bin/bash", **entry):
    return {"name": name, "state": "present", "groups": [], "comment": "", "shell": login_shell, **entry}


HOST_HASH = "$y$j9T$hostsalt$HOSTHASHhosthash"


def _password_probe(*changed, unchanged=()):
    """What the discovery's probe prints: ``user:sha256`` of the host's hash, another one for ``changed``."""
    return "\n".join([*(f"{name}:{ca.password_digest(HOST_HASH)}" for name in changed),
                      *(f"{name}:{ca.password_digest('!' + CANARY)}" for name in unchanged)])


def _accounts(admins, probe=KEYS_PROBE, password=None, accept=()):
    return ca.account_adoption_findings(admins, PASSWD, probe, password, accept)


def test_probes_read_only_existing_present_admins_with_keys_or_a_password():
    admins = [_admin("zed", authorized_keys=[]), _admin("ops", password=CANARY, authorized_keys=[NEW_KEY]),
              _admin("newcomer", password=CANARY, authorized_keys=[NEW_KEY]), _admin("nokeys"),
              {**_admin("zed2"), "state": "absent"}]
    assert ca.account_probes(admins, PASSWD) == {
        "key_files": ["/home/ops/.ssh/authorized_keys", "/srv/zed/.ssh/authorized_keys"], "password_users": ["ops"]}
    assert ca.account_probes([], {}) == {"key_files": [], "password_users": []}


def test_an_existing_account_the_run_would_change_has_one_finding_per_change_sorted():
    admins = [_admin("zed", authorized_keys=[]),
              _admin("ops", password=CANARY, authorized_keys=[NEW_KEY])]
    findings = _accounts(admins, password=_password_probe("ops"), accept=["zed: authorized_keys"])
    assert [(f["item"], f["kind"], f["accepted"]) for f in findings] == [
        ("ops: authorized_keys", "drop", False), ("ops: password", "drop", False), ("ops: shell", "drop", False),
        ("zed: authorized_keys", "lockout", True)]
    assert {f["accept_with"] for f in findings} == {"core_users_accept_account_changes"}
    old = ca.key_label(*ca.parse_public_key(OLD_KEY))
    assert old.startswith("ssh-ed25519 SHA256:") and old.endswith(" legacy@old-laptop")
    assert findings[0]["detail"] == ("existing account: 1 of 2 key(s) in /home/ops/.ssh/authorized_keys would be "
                                     f"removed (the file then holds exactly the listed keys): {old}")
    assert findings[1]["detail"] == ("existing account: its password hash differs from the one in core_users_admins "
                                     "and would be replaced, so a current password stops working")
    assert findings[2]["detail"] == "existing account: its login shell /bin/sh would become /bin/bash"
    assert findings[3]["detail"].startswith("existing account: its authorized_keys list is empty, so "
                                            "/srv/zed/.ssh/authorized_keys goes with all 1 key(s) on the host")
    assert "backup@nas" in findings[3]["detail"] and RSA_KEY.split()[1] not in findings[3]["detail"]
    # Neither the hash nor a whole key blob reaches a finding.
    assert CANARY not in repr(findings) and OLD_KEY.split()[1] not in repr(findings)
    assert ca.password_digest(HOST_HASH) not in repr(findings)


def test_a_converged_account_and_a_new_one_have_no_finding():
    converged = [_admin("ops", login_shell="/bin/sh", password=CANARY, authorized_keys=[OLD_KEY, NEW_KEY]),
                 _admin("newcomer", login_shell="/bin/zsh", password=CANARY, authorized_keys=[])]
    assert _accounts(converged, password=_password_probe(unchanged=["ops"])) == []
    # The keys are compared by blob, as ansible.posix.authorized_key does: options and comments may differ.
    relabelled = [_admin("ops", login_shell="/bin/sh", authorized_keys=[NEW_KEY, OLD_KEY.replace("legacy@old", "x")])]
    assert _accounts(relabelled) == []


def test_admins_to_remove_and_admins_whose_keys_are_left_alone_are_no_finding():
    admins = [{**_admin("ops", login_shell="/bin/zsh", authorized_keys=[]), "state": "absent"},
              _admin("zed"), _admin("ops", login_shell="/bin/sh")]
    assert _accounts(admins) == []


@pytest.mark.parametrize(
    ("shell", "kind"), [("/usr/sbin/nologin", "lockout"), ("/bin/false", "lockout"), ("/bin/dash", "drop")],
    ids=["nologin", "false", "another-login-shell"])
def test_a_new_shell_that_refuses_logins_is_a_lockout(shell, kind):
    (found,) = _accounts([_admin("zed", login_shell=shell)], probe="")
    assert (found["item"], found["kind"]) == ("zed: shell", kind)
    assert found["detail"].startswith(f"existing account: its login shell /bin/bash would become {shell}")


def test_only_the_digests_decide_and_lock_marks_do_not_count():
    admins = [_admin("ops", login_shell="/bin/sh", password=CANARY)]
    # The host's hash is the listed one, locked ("!"): ansible.builtin.user sets nothing, no finding.
    assert _accounts(admins, password=_password_probe(unchanged=["ops"])) == []
    assert ca.password_digest("!!" + CANARY) == ca.password_digest(CANARY)
    # Not probed (the probe was skipped): not compared.
    assert _accounts(admins, password="") == []
    assert [f["item"] for f in _accounts(admins, password=_password_probe("ops"))] == ["ops: password"]
    # A differing digest for an admin without a password in the list is not the role's change.
    assert _accounts([_admin("ops", login_shell="/bin/sh")], password=_password_probe("ops")) == []
    with pytest.raises(AnsibleFilterError, match="printed no SHA-256 for ops") as error:
        _accounts(admins, password=f"ops:{HOST_HASH}")
    assert HOST_HASH not in str(error.value)


def test_errors_never_repeat_an_admin_entry():
    with pytest.raises(AnsibleFilterError, match="every admin needs a name") as error:
        ca.account_probes([{"password": CANARY}], PASSWD)
    assert CANARY not in str(error.value)
    with pytest.raises(AnsibleFilterError, match="not one of the getent_passwd fact"):
        ca.account_adoption_findings([_admin("ops")], {"ops": "x:1001"}, "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [(NEW_KEY, ("ssh-ed25519", NEW_KEY.split()[1], "ops@new-laptop")),
     (f'command="/bin/true",no-pty {RSA_KEY}', ("ssh-rsa", RSA_KEY.split()[1], "backup@nas")),
     ("ssh-ed25519 AAAA", ("ssh-ed25519", "AAAA", "")), ("# ssh-ed25519 AAAA x", None), ("", None),
     ("not a key", None), ("ssh-ed25519", None)],
    ids=["plain", "options", "no-comment", "comment-line", "blank", "garbage", "type-only"])
def test_authorized_keys_lines_parse_as_the_module_reads_them(line, expected):
    assert ca.parse_public_key(line) == expected


def test_a_key_label_is_ssh_keygens_fingerprint():
    # ssh-keygen -l prints the unpadded base64 of the SHA256 of the decoded blob.
    blob = _blob(b"ssh-ed25519", 0)
    digest = base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode().rstrip("=")
    assert ca.key_label("ssh-ed25519", blob, "me@host") == f"ssh-ed25519 SHA256:{digest} me@host"
    assert ca.key_label("ssh-rsa", "not*base64", "") == "ssh-rsa (not base64)"
