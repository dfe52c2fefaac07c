"""Issue 14's lived-in host with every situation at once, under the default production_deploy.yml: the firewall and
sshd situations of conftest plus a legacy sudoers drop-in, a later sysctl.d file and a site chrony.conf. The run stops
before any change (in check mode too) with one message holding every role's findings; with each item carried or
accepted it converges, the app keeps its port, and the second run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import LIVED_IN_STEPS, LivedInHost, _write, failed_tasks, host_stats, lived_in_host, task_results

pytestmark = [pytest.mark.docker, pytest.mark.slow]

GUARD = "Stop on every unaccepted finding of every role, before any change"
CHRONY_CONF = ("# the site's own chrony.conf\nserver ntp1.example.net iburst\nallow 10.0.0.0/8\nlocal stratum 10\n"
               "driftfile /var/lib/chrony/chrony.drift\n")
STEPS = (
    *LIVED_IN_STEPS,
    "useradd -m -s /bin/bash legacyuser",
    _write("/etc/sudoers.d/legacy", "legacyuser ALL=(ALL) NOPASSWD: ALL\nDefaults:legacyuser !use_pty\n", "0440"),
    # Read after security_baseline's 99-stability-ops-hardening.conf at boot, so its values would win.
    _write("/etc/sysctl.d/99-zz-site.conf", "net.ipv4.ip_forward=1\nkernel.sysrq=1\n"),
    _write("/etc/chrony/chrony.conf", CHRONY_CONF),
    "systemctl restart chrony.service",
)
FINDINGS = [
    ("core_users", "/etc/sudoers.d/legacy"),
    ("core_users", "/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty"),
    ("core_time", "server ntp1.example.net iburst"),
    ("core_time", "allow 10.0.0.0/8"),
    ("core_time", "local stratum 10"),
    ("security_firewall", "123/udp"),
    ("security_firewall", "8080/tcp"),
    ("security_firewall", "9000-9010/tcp"),
    ("security_sshd", "Match Group sftponly"),
    ("security_sshd", "Match Address 10.0.0.0/8"),
    ("security_sshd", "/etc/ssh/sshd_config.d/50-legacy.conf"),
    ("security_sshd", "alice"),
    ("security_sshd", "bob"),
    ("security_sshd", "carol"),
    ("security_sshd", "legacyuser"),
    ("security_baseline", "kernel.sysrq"),
    ("security_baseline", "net.ipv4.ip_forward"),
]
CARRIED_ITEMS = [
    ("core_time", "server ntp1.example.net iburst"), ("core_time", "allow 10.0.0.0/8"),
    ("core_time", "local stratum 10"), ("security_firewall", "8080/tcp"), ("security_sshd", "Match Group sftponly"),
    ("security_sshd", "carol"),
]
CARRIED = {
    "core_users_sudoers_accept_unmanaged": ["/etc/sudoers.d/legacy"],
    "core_users_sudoers_accept_overrides": ["/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty"],
    "core_time_chrony_extra_config": ["server ntp1.example.net iburst", "allow 10.0.0.0/8", "local stratum 10"],
    "security_firewall_rules__app": [{"port": 8080, "comment": "legacy app"}],
    "security_firewall_accept_closing": ["123/udp", "9000-9010/tcp"],
    "security_sshd_match_blocks": [{"criteria": "Group sftponly",
                                    "options": {"ChrootDirectory": "/srv/sftp/%u", "ForceCommand": "internal-sftp",
                                                "AllowTcpForwarding": "no"}}],
    "security_sshd_accept_dropped": ["Match Address 10.0.0.0/8", "/etc/ssh/sshd_config.d/50-legacy.conf"],
    # carol keeps SSH through her sftponly group; the others are named.
    "security_sshd_allow_groups": ["sshusers", "sftponly"],
    "security_sshd_accept_lockout": ["alice", "bob", "legacyuser"],
    "core_sysctl_accept_overrides": ["kernel.sysrq", "net.ipv4.ip_forward"],
}


@pytest.fixture(scope="module")
def everything(tmp_path_factory) -> Iterator[LivedInHost]:
    with lived_in_host(tmp_path_factory.mktemp("every-role"), STEPS) as host:
        yield host


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "run"])
def test_default_deploy_stops_with_every_role_in_one_message(everything: LivedInHost, mode):
    before = everything.snapshot()
    result, output, summary = everything.playbook("stopped", *mode)
    assert result.returncode == 2, failed_tasks(output)
    (guard,) = task_results(output, GUARD)
    # The guard is the one task that failed: no role ran.
    assert len(failed_tasks(output)) == 1, failed_tasks(output)
    findings = guard["adoption"]["findings"]
    assert [(f["role"], f["item"]) for f in findings] == FINDINGS
    assert not any(f["accepted"] for f in findings)
    lines = guard["msg"].splitlines()
    assert lines[0].startswith(f"Adoption guard (every role) on web1: {len(FINDINGS)} finding(s)")
    for role, item in FINDINGS:
        assert f"  - {item} (" in guard["msg"], (role, item)
    assert host_stats(output)["changed"] == 0
    assert everything.snapshot() == before
    # The Deployment Health Summary carries the same findings for the host.
    assert [(f["role"], f["item"]) for f in summary["hosts"]["web1"]["adoption"]] == FINDINGS


def test_a_run_limited_to_one_role_stops_on_that_role_only(everything: LivedInHost):
    """Without the discovery play, each role checks for itself, and only the roles the tags select."""
    before = everything.snapshot()
    result, output, _summary = everything.playbook("firewall-only", "--tags", "security_firewall",
                                                   "--skip-tags", "adoption")
    assert result.returncode == 2, failed_tasks(output)
    assert _guards_after_discovery(output) == ["Check what the new ruleset would close"]
    (guard,) = task_results(output, "Check what the new ruleset would close")
    assert [f["item"] for f in guard["adoption"]["findings"]] == [
        item for role, item in FINDINGS if role == "security_firewall"]
    assert host_stats(output)["changed"] == 0
    assert everything.snapshot() == before


def test_carried_and_accepted_it_converges_keeps_the_app_and_then_changes_nothing(everything: LivedInHost):
    first, output, _summary = everything.playbook("carried", extra_vars=CARRIED)
    assert first.returncode == 0, failed_tasks(output)
    assert host_stats(output)["changed"] > 0
    (guard,) = task_results(output, GUARD)
    # What is carried (the app's port, the chrony lines, the sftp block, carol's group) is no finding any more; the
    # rest is accepted, each with a warning.
    findings = guard["adoption"]["findings"]
    assert [(f["role"], f["item"]) for f in findings] == [found for found in FINDINGS if found not in CARRIED_ITEMS]
    assert all(f["accepted"] for f in findings)
    assert len(guard["warnings"]) == len(findings)
    assert everything.exec("curl", "-s", "http://127.0.0.1:8080").stdout.strip() == "legacy app"

    second, output, _summary = everything.playbook("second", extra_vars=CARRIED)
    assert second.returncode == 0, failed_tasks(output)
    assert host_stats(output)["changed"] == 0
    # The roles the discovery play checked do not check again later in the run. core_sysctl's guard is the one left
    # (its discovery also reads the boot report it prints): for its own parameters and for security_baseline's.
    assert _guards_after_discovery(output) == ["Stop unless every later sysctl.d override is accepted"] * 2


def _guards_after_discovery(output: dict) -> list[str]:
    """The adoption guards that ran on web1 after the discovery play, by task name."""
    return [task["task"]["name"].rpartition(" : ")[2]
            for play in output["plays"] if not play["play"]["name"].startswith("Adoption discovery")
            for task in play["tasks"]
            if task["hosts"].get("web1", {}).get("action") == "stability.ops.adoption_guard"
            and not task["hosts"]["web1"].get("skipped")]
