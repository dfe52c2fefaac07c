"""Adoption of a lived-in host by security_firewall and security_sshd: production_deploy.yml stops before any change
with one complete message (in check mode too), nothing on the host changes, and with the app's port and the sftp
Match block carried through variables and the rest accepted it converges, the app keeps its port, the sftp block
still applies (sshd -T -C) and the second run changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import LivedInHost, failed_tasks, host_stats, lived_in_host, task_results

pytestmark = [pytest.mark.docker, pytest.mark.slow]

GUARD = "Stop on every unaccepted finding of every role, before any change"
DROPPED = "would be dropped by 'flush ruleset'; the new ruleset does not allow it"
HEADER = ("Adoption guard (every role) on web1: {} finding(s) would be closed, dropped, locked out or left unmanaged "
          "by this run. Nothing on the host was changed.\n")
FOOTER = "See docs/adoption.md (bringing an existing fleet under stability.ops)."
SSHD_LINES = (
    "security_sshd:\n"
    "  - Match Group sftponly (drop): sshd_config has 'Match Group sftponly' (ChrootDirectory, ForceCommand, "
    "AllowTcpForwarding); the role's sshd_config drops it\n"
    "  - Match Address 10.0.0.0/8 (drop): sshd_config has 'Match Address 10.0.0.0/8' (PasswordAuthentication); "
    "the role's sshd_config drops it\n"
    "  - /etc/ssh/sshd_config.d/50-legacy.conf (drop): read today through 'Include /etc/ssh/sshd_config.d/*.conf' "
    "(ClientAliveInterval, MaxAuthTries); the role's sshd_config has no such Include, so sshd would ignore it\n"
    "  set security_sshd_accept_dropped: [Match Group sftponly, Match Address 10.0.0.0/8, "
    "/etc/ssh/sshd_config.d/50-legacy.conf] in the host's group_vars to accept, or carry it with "
    "security_sshd_extra_config or security_sshd_include_dropins or security_sshd_match_blocks.\n"
    + "security_sshd:\n"
    + "".join(f"  - {user} (lockout): {user} (/bin/bash) may log in over SSH today and is in none of the allowed "
              "groups (sshusers); AllowGroups would lock the account out\n" for user in ("alice", "bob", "carol"))
    + "  set security_sshd_accept_lockout: [alice, bob, carol] in the host's group_vars to accept, or carry it with "
    "security_sshd_allow_groups or core_users_admins (core_users_ssh_group).\n"
)
LOCKED_OUT = ["alice", "bob", "carol"]
FIREWALL_MESSAGE = (
    "Adoption guard (every role) on web1: 3 finding(s) would be closed, dropped, locked out or left unmanaged by "
    "this run. Nothing on the host was changed.\n"
    "security_firewall:\n"
    f"  - 123/udp (close): nftables rule 'udp dport 123 accept' (inet filter input) {DROPPED}\n"
    "  - 8080/tcp (close): python3 listens on 0.0.0.0:8080; nftables rule 'tcp dport 8080 accept' "
    f"(inet filter input) {DROPPED}\n"
    f"  - 9000-9010/tcp (close): nftables rule 'tcp dport 9000-9010 accept' (inet filter input) {DROPPED}\n"
    "  set security_firewall_accept_closing: [123/udp, 8080/tcp, 9000-9010/tcp] in the host's group_vars to accept, "
    "or carry it with security_firewall_rules.\n"
    "See docs/adoption.md (bringing an existing fleet under stability.ops)."
)
CARRIED = {
    "security_firewall_rules__app": [{"port": 8080, "comment": "legacy app"}],
    "security_firewall_accept_closing": ["123/udp", "9000-9010/tcp"],
}


def _stopped_by_the_guard(host: LivedInHost, *extra: str) -> dict:
    before = host.snapshot()
    result, output, _summary = host.playbook("stopped", *extra)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    (guard,) = task_results(output, GUARD)
    assert guard["failed"] is True
    stats = host_stats(output)
    assert stats["changed"] == 0
    assert host.snapshot() == before
    return guard


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "run"])
def test_default_deploy_stops_before_any_change(lived_in: LivedInHost, mode):
    guard = _stopped_by_the_guard(lived_in, *mode)
    # Every finding of every role in one message.
    firewall_lines = "\n".join(FIREWALL_MESSAGE.splitlines()[1:6]) + "\n"
    assert guard["msg"] == HEADER.format(9) + firewall_lines + SSHD_LINES + FOOTER
    assert [(f["role"], f["item"]) for f in guard["adoption"]["findings"]] == [
        ("security_firewall", "123/udp"), ("security_firewall", "8080/tcp"), ("security_firewall", "9000-9010/tcp"),
        ("security_sshd", "Match Group sftponly"), ("security_sshd", "Match Address 10.0.0.0/8"),
        ("security_sshd", "/etc/ssh/sshd_config.d/50-legacy.conf")] + [("security_sshd", user) for user in LOCKED_OUT]
    assert not any(f["accepted"] for f in guard["adoption"]["findings"])


def test_firewall_report_is_complete_and_exact(lived_in: LivedInHost):
    guard = _stopped_by_the_guard(lived_in, "--tags", "security_firewall")
    assert guard["msg"] == FIREWALL_MESSAGE
    assert guard["adoption"]["unaccepted"] == 3


def test_role_run_alone_stops_with_its_own_guard(lived_in: LivedInHost):
    """The role's own discovery (not deferred) stops it too, e.g. when the role is used outside production_deploy."""
    before = lived_in.snapshot()
    result, output, _summary = lived_in.playbook("alone", "--tags", "security_firewall", "--skip-tags", "adoption")
    assert result.returncode == 2, failed_tasks(output)
    results = task_results(output, "Check what the new ruleset would close")
    assert len(results) == 1, failed_tasks(output)
    (guard,) = results
    assert guard["failed"] is True
    assert guard["msg"] == FIREWALL_MESSAGE.replace("(every role)", "(security_firewall)")
    assert lived_in.snapshot() == before


def test_carried_port_stays_open_and_second_run_changes_nothing(lived_in: LivedInHost):
    partial = {**CARRIED, "security_firewall_accept_closing": ["123/udp"]}
    result, output, _summary = lived_in.playbook("partial", "--tags", "security_firewall", extra_vars=partial)
    assert result.returncode == 2
    (guard,) = task_results(output, GUARD)
    assert [f["item"] for f in guard["adoption"]["findings"] if not f["accepted"]] == ["9000-9010/tcp"]
    assert "set security_firewall_accept_closing: [9000-9010/tcp]" in guard["msg"]

    first, output, _summary = lived_in.playbook("carried", "--tags", "security_firewall", extra_vars=CARRIED)
    assert first.returncode == 0, first.stdout[-5000:]
    assert host_stats(output)["changed"] > 0
    (guard,) = task_results(output, GUARD)
    assert sorted(guard["warnings"]) == sorted([
        "security_firewall: proceeding because security_firewall_accept_closing lists 123/udp "
        f"(close: nftables rule 'udp dport 123 accept' (inet filter input) {DROPPED})",
        "security_firewall: proceeding because security_firewall_accept_closing lists 9000-9010/tcp "
        f"(close: nftables rule 'tcp dport 9000-9010 accept' (inet filter input) {DROPPED})",
    ])
    ruleset = lived_in.exec("nft", "list", "ruleset").stdout
    assert 'tcp dport 8080 accept comment "legacy app"' in ruleset
    assert "table inet filter" not in ruleset
    assert lived_in.exec("curl", "-s", "http://127.0.0.1:8080").stdout.strip() == "legacy app"

    second, output, _summary = lived_in.playbook("second", "--tags", "security_firewall", extra_vars=CARRIED)
    assert second.returncode == 0, second.stdout[-5000:]
    assert host_stats(output)["changed"] == 0
    # The role's own rules are never findings: only the accepted ports are reported on later runs.
    (guard,) = task_results(output, GUARD)
    assert guard["adoption"]["findings"] == []


SFTP_BLOCK = {"criteria": "Group sftponly",
              "options": {"ChrootDirectory": "/srv/sftp/%u", "ForceCommand": "internal-sftp",
                          "AllowTcpForwarding": "no"}}
SSHD_CARRIED = {
    "security_sshd_match_blocks": [SFTP_BLOCK],
    "security_sshd_accept_dropped": ["Match Address 10.0.0.0/8", "/etc/ssh/sshd_config.d/50-legacy.conf"],
    # carol keeps SSH through her sftponly group, alice through sshusers (KEYS puts her there); bob is named.
    "security_sshd_allow_groups": ["sshusers", "sftponly"],
    "security_sshd_accept_lockout": ["bob"],
}
# Key pairs generated in the container at test time, so that a real login over loopback tells who sshd lets in.
KEYS = ("for user in alice bob; do ssh-keygen -q -t ed25519 -N '' -C \"$user@test\" -f /root/id_$user && "
        "install -d -m 0700 -o $user -g $user /home/$user/.ssh && "
        "cat /root/id_$user.pub >> /home/$user/.ssh/authorized_keys && "
        "chown $user:$user /home/$user/.ssh/authorized_keys; done && usermod -aG sshusers alice")
# The admin core_users creates in a full run (sshusers, the lab's key), so that the lock-out guard lets sshd
# through and core_users has nothing to change on the account.
ADMIN = ("groupadd -f sshusers && (id deploy || useradd -m -s /bin/bash -G sshusers deploy) && "
         "install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh && "
         "cat > /home/deploy/.ssh/authorized_keys && chown deploy:deploy /home/deploy/.ssh/authorized_keys")


def _add_admin(host: LivedInHost) -> None:
    key = Path(host.env["STABILITY_OPS_LAB_ADMIN_PUBKEY_FILE"]).read_text(encoding="utf-8")
    added = subprocess.run(["docker", "exec", "-i", host.container, "sh", "-ec", ADMIN], input=key, text=True,
                           capture_output=True, check=False, timeout=60)
    assert added.returncode == 0, added.stderr


def _logs_in(host: LivedInHost, user: str) -> bool:
    """A real SSH login over the container's loopback with the user's key."""
    port = next(line.split()[1] for line in _effective(host, user) if line.startswith("port "))
    login = host.exec("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                      "-o", "UserKnownHostsFile=/dev/null", "-i", f"/root/id_{user}", "-p", port,
                      f"{user}@127.0.0.1", "true")
    return login.returncode == 0


def _effective(host: LivedInHost, user: str) -> list[str]:
    shown = host.exec("sshd", "-T", "-C", f"user={user},host=client.example,addr=192.0.2.10")
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.splitlines()


def test_sshd_report_then_carried_match_block_still_applies(lived_in: LivedInHost):
    guard = _stopped_by_the_guard(lived_in, "--tags", "security_sshd")
    assert guard["msg"] == HEADER.format(6) + SSHD_LINES + FOOTER

    _add_admin(lived_in)
    assert lived_in.exec("sh", "-ec", KEYS).returncode == 0
    assert _logs_in(lived_in, "alice") and _logs_in(lived_in, "bob")
    partial = {"security_sshd_match_blocks": [SFTP_BLOCK]}
    result, output, _summary = lived_in.playbook("sshd-partial", "--tags", "security_sshd", extra_vars=partial)
    assert result.returncode == 2
    (guard,) = task_results(output, GUARD)
    # alice is in sshusers now: only bob and carol would be locked out.
    assert [f["item"] for f in guard["adoption"]["findings"]] == ["Match Address 10.0.0.0/8",
                                                                  "/etc/ssh/sshd_config.d/50-legacy.conf",
                                                                  "bob", "carol"]

    first, output, _summary = lived_in.playbook("sshd-carried", "--tags", "security_sshd", extra_vars=SSHD_CARRIED)
    assert first.returncode == 0, failed_tasks(output)
    assert host_stats(output)["changed"] > 0
    (guard,) = task_results(output, GUARD)
    assert len(guard["warnings"]) == 3
    assert ("security_sshd: proceeding because security_sshd_accept_lockout lists bob (lockout: bob (/bin/bash) "
            "may log in over SSH today and is in none of the allowed groups (sshusers, sftponly); AllowGroups would "
            "lock the account out)") in guard["warnings"]
    # The key holder carried keeps SSH; the one named is locked out, as accepted.
    assert _logs_in(lived_in, "alice")
    assert not _logs_in(lived_in, "bob")
    carol = _effective(lived_in, "carol")
    assert "forcecommand internal-sftp" in carol
    assert "chrootdirectory /srv/sftp/%u" in carol
    assert "allowtcpforwarding no" in carol
    assert "forcecommand internal-sftp" not in _effective(lived_in, "bob")
    # The dropped drop-in no longer applies; the role's value does.
    assert "maxauthtries 3" in _effective(lived_in, "bob")

    second, output, _summary = lived_in.playbook("sshd-second", "--tags", "security_sshd", extra_vars=SSHD_CARRIED)
    assert second.returncode == 0, failed_tasks(output)
    assert host_stats(output)["changed"] == 0
    (guard,) = task_results(output, GUARD)
    assert guard["adoption"]["findings"] == []


def test_pristine_host_has_no_finding(tmp_path):
    """A fresh lab host (sshd on its port, chrony on loopback): the report passes with nothing to accept."""
    with lived_in_host(tmp_path, steps=()) as pristine:
        result, output, _summary = pristine.playbook("pristine", "--check", "--tags", "adoption")
        assert result.returncode == 0, failed_tasks(output)
        (guard,) = task_results(output, GUARD)
        assert guard["adoption"] == {"role": "all", "findings": [], "unaccepted": 0}
        assert guard["msg"] == "all: no adoption finding"
        # The discovery play reads the package list once, not again in each role's package check.
        (discovery,) = [play for play in output["plays"] if play["play"]["name"].startswith("Adoption discovery")]
        names = [task["task"]["name"].rpartition(" : ")[2] for task in discovery["tasks"]
                 if not task["hosts"]["web1"].get("skipped")]
        reads = [name for name in names if name.startswith("Read the installed packages")]
        assert reads == ["Read the installed packages once, for every role's package check"]
