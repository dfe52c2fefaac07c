"""Adoption findings of the core roles: sudoers, sysctl, chrony and apt, each situation and the pristine host."""

from __future__ import annotations

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
