"""Adoption of a lived-in host by the core roles: sudoers and existing admin accounts (core_users), sysctl.d
(core_sysctl), chrony (core_time) and packages the host cannot download (core_packages' probe, used by core_time).

Each run is the discovery play of production_deploy.yml for these roles (every role's adoption.yml deferred, then
the guard on all of them) followed by the roles themselves: the guard stops before any change, in check mode too,
with one complete message; with the findings carried or accepted the roles converge, the carried chrony lines are
in effect, and the second run changes nothing. No password hash (nor password) the test set reaches the output or
the Deployment Health Summary of any run. Hosts are lab hosts (no network) named adopt-b-*.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import LivedInHost, _write, failed_tasks, host_stats, lived_in_host, run, task_results

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROLES = ("core_packages", "core_users", "core_time", "core_sysctl")
GUARD = "Stop on every unaccepted finding of every role, before any change"


def _discovery(roles) -> list[str]:
    return [
        "- name: Adoption discovery",
        "  hosts: production",
        "  become: true",
        "  gather_facts: false",
        "  vars:",
        "    stability_ops_adoption_defer: true",
        "  tasks:",
        *[line for role in roles for line in (
            f"    - name: Discover what {role} would change",
            "      ansible.builtin.include_role:",
            f"        name: stability.ops.{role}",
            "        tasks_from: adoption")],
        f"    - name: {GUARD}",
        "      stability.ops.adoption_guard:",
        "        role: all",
    ]


PLAYBOOK = "\n".join([
    *_discovery(ROLES),
    "- name: Core roles",
    "  hosts: production",
    "  become: true",
    "  gather_facts: false",
    "  roles:",
    *[f"    - stability.ops.{role}" for role in ROLES],
    "",
])
CHRONY_CONF = ("# the site's own chrony.conf\nserver ntp1.example.net iburst\nserver ntp2.example.net iburst\n"
               "allow 10.0.0.0/8\nlocal stratum 10\ndriftfile /var/lib/chrony/chrony.drift\n"
               "makestep 1 3\nleapsectz right/UTC\n")
# opsadmin exists before core_users manages it: another shell, a password of its own and a key the admin list does
# not hold (public halves of key pairs nobody holds). newadmin does not exist yet: no finding.
KEPT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGK/e/UvPSm0xasqYO5hWRQlFmjiGBQ3LEQvIqlEYXcL ops@new-laptop"
LEGACY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIML/E0B1skpvrH0UGK+WbYbJObQaq5mpXOCsM50HrMOL legacy@old-image"
# ssh-keygen -l of LEGACY_KEY.
LEGACY_FINGERPRINT = "SHA256:9AcFVVFVA4Z6dFn4focpvojG9C2YYmAqIsU/TlAvn6I"
HOST_PASSWORD = "Canary-host-pw-1"
# openssl passwd -6 -salt CanaryRoleSalt 'Canary-role-pw-1': the hash core_users sets.
ROLE_HASH = ("$6$CanaryRoleSalt$amN9Th0eaSRzWg01p5PMiP1WBptRgs4eVulONdNILdljkpYiccT1xJVn1FmAAW6unxmZmnhl0hwuW/"
             "MNyLNBv/")
ADMINS = [
    {"name": "opsadmin", "password": ROLE_HASH, "authorized_keys": [KEPT_KEY]},
    {"name": "newadmin", "password": ROLE_HASH, "authorized_keys": [KEPT_KEY]},
]
# Issue 14's situations for these roles, plus a sudoers drop-in sudo skips (a dot in its name: no finding) and a
# sysctl.d file that sorts before the role's (no finding).
STEPS: tuple[str, ...] = (
    "useradd -m -s /bin/bash legacyuser && echo 'legacyuser:Adopt-legacy-1' | chpasswd",
    f"useradd -m -s /bin/sh opsadmin && echo 'opsadmin:{HOST_PASSWORD}' | chpasswd",
    "install -d -m 0700 -o opsadmin -g opsadmin /home/opsadmin/.ssh",
    _write("/home/opsadmin/.ssh/authorized_keys", f"{KEPT_KEY}\n{LEGACY_KEY}\n", "0600"),
    "chown opsadmin:opsadmin /home/opsadmin/.ssh/authorized_keys",
    _write("/etc/sudoers.d/legacy", "legacyuser ALL=(ALL) NOPASSWD: ALL\nDefaults:legacyuser !use_pty\n", "0440"),
    _write("/etc/sudoers.d/old.disabled", "legacyuser ALL=(ALL) ALL\n", "0440"),
    _write("/etc/sysctl.d/99-custom.conf", "net.ipv4.ip_forward=1\nkernel.sysrq=1\n"),
    _write("/etc/sysctl.d/10-early.conf", "net.ipv4.ip_forward = 1\n"),
    _write("/etc/chrony/chrony.conf", CHRONY_CONF),
    "visudo -c",
)
SYSCTL = {"net.ipv4.ip_forward": 0, "kernel.sysrq": 0}
# What a stopped run must leave as it was: every file of /etc (passwd and shadow too) and the homes, the package
# database, the kernel's values.
SNAPSHOT = ("find /etc /home -xdev -type f -exec sha256sum {} + | sort; sha256sum /var/lib/dpkg/status; "
            "ls /etc/sysctl.d /etc/sudoers.d; sysctl -n net.ipv4.ip_forward kernel.sysrq")
OVERRIDE = ("/etc/sysctl.d/99-custom.conf sets {name} = 1 and is read after /etc/sysctl.d/90-stability-ops.conf at "
            "boot, so its value wins at boot over the role's; accept it, or set core_sysctl_dropin_last: true to write "
            "the role's drop-in last")
DROPPED = "in /etc/chrony/chrony.conf, which the role replaces; the line would be gone"
CORE_MESSAGE = [
    "core_users:",
    "  - /etc/sudoers.d/legacy (unmanaged): not managed by the collection, kept as it is: "
    "legacyuser ALL=(ALL) NOPASSWD: ALL",
    "  set core_users_sudoers_accept_unmanaged: [/etc/sudoers.d/legacy] in the host's group_vars to accept.",
    "core_users:",
    "  - /etc/sudoers.d/legacy: Defaults:legacyuser !use_pty (override): overrides the role's Defaults use_pty for "
    "legacyuser (core_users_sudo_defaults)",
    "  set core_users_sudoers_accept_overrides: [/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty] in the host's "
    "group_vars to accept.",
    "core_users:",
    "  - opsadmin: authorized_keys (drop): existing account: 1 of 2 key(s) in /home/opsadmin/.ssh/authorized_keys "
    "would be removed (the file then holds exactly the listed keys): "
    f"ssh-ed25519 {LEGACY_FINGERPRINT} legacy@old-image",
    "  - opsadmin: password (drop): existing account: its password hash differs from the one in core_users_admins and "
    "would be replaced, so a current password stops working",
    "  - opsadmin: shell (drop): existing account: its login shell /bin/sh would become /bin/bash",
    "  set core_users_accept_account_changes: [opsadmin: authorized_keys, opsadmin: password, opsadmin: shell] in the "
    "host's group_vars to accept.",
    "core_time:",
    f"  - server ntp1.example.net iburst (drop): {DROPPED}",
    f"  - server ntp2.example.net iburst (drop): {DROPPED}",
    f"  - allow 10.0.0.0/8 (drop): {DROPPED}",
    f"  - local stratum 10 (drop): {DROPPED}",
    "  set core_time_chrony_accept_drop: [server ntp1.example.net iburst, server ntp2.example.net iburst, "
    "allow 10.0.0.0/8, local stratum 10] in the host's group_vars to accept, or carry it with "
    "core_time_chrony_extra_config.",
    "core_sysctl:",
    f"  - kernel.sysrq (override): {OVERRIDE.format(name='kernel.sysrq')}",
    f"  - net.ipv4.ip_forward (override): {OVERRIDE.format(name='net.ipv4.ip_forward')}",
    "  set core_sysctl_accept_overrides: [kernel.sysrq, net.ipv4.ip_forward] in the host's group_vars to accept.",
    "See docs/adoption.md (bringing an existing fleet under stability.ops).",
]
CARRIED = {
    "core_time_chrony_extra_config": ["server ntp1.example.net iburst", "server ntp2.example.net iburst",
                                      "allow 10.0.0.0/8", "local stratum 10"],
    "core_users_sudoers_accept_unmanaged": ["/etc/sudoers.d/legacy"],
    "core_users_sudoers_accept_overrides": ["/etc/sudoers.d/legacy: Defaults:legacyuser !use_pty"],
    "core_sysctl_dropin_last": True,
    "core_users_accept_account_changes": ["opsadmin: authorized_keys", "opsadmin: password", "opsadmin: shell"],
}
ACCOUNT_ITEMS = [("opsadmin: authorized_keys", "drop"), ("opsadmin: password", "drop"), ("opsadmin: shell", "drop")]


class CoreHost(LivedInHost):
    """A lab host named adopt-b-*, running the core roles' discovery and the roles (PLAYBOOK)."""

    prefix = "adopt-b"
    # The password hashes (and their digests) and passwords of this host (read after the prepare steps) and of the
    # admin list.
    secrets: tuple[str, ...] = ()

    def up(self, steps: Sequence[str] = ()) -> None:
        super().up(steps)
        shadow = self.exec("getent", "shadow")
        assert shadow.returncode == 0, shadow.stderr
        hashes = [line.split(":")[1].lstrip("!") for line in shadow.stdout.splitlines()]
        hashes = [found for found in hashes if found.startswith("$")]
        # The digests the discovery's no_log probe prints stay out of the output too.
        digests = [hashlib.sha256(found.encode()).hexdigest() for found in (*hashes, ROLE_HASH)]
        self.secrets = (*hashes, *digests, ROLE_HASH, "CanaryRoleSalt", HOST_PASSWORD, "Adopt-legacy-1")

    def core(self, *extra: str, extra_vars: dict | None = None, text: str = PLAYBOOK) -> tuple[object, dict]:
        self.runs += 1
        playbook = self.tmp / f"core-{self.runs}.yml"
        playbook.write_text(text)
        summary = self.tmp / f"summary-{self.runs}.json"
        args = ["ansible-playbook", "-i", self.inventory, str(playbook),
                "-e", json.dumps({"core_sysctl_parameters": SYSCTL, "core_users_admins": ADMINS,
                                  **(extra_vars or {})}), *extra]
        result = run(args, {**self.env, "STABILITY_OPS_SUMMARY_PATH": str(summary),
                            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
        # Every run, stopped or not: no hash or password in the output or the Deployment Health Summary.
        assert summary.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
        written = f"{result.stdout}\n{result.stderr}\n{summary.read_text(encoding='utf-8')}"
        leaked = [secret for secret in self.secrets if secret in written]
        assert leaked == [], _where(written, leaked[0])
        try:
            return result, json.loads(result.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"no JSON output: {result.stdout[-3000:]}{result.stderr[-3000:]}")


def _where(written: str, secret: str) -> str:
    """The text around a leaked canary (with the canary cut out), for the assertion message."""
    at = written.index(secret)
    return (written[max(0, at - 1500):at] + "<CANARY>" + written[at + len(secret):at + len(secret) + 300]).replace(
        secret, "<CANARY>")


def _host(tmp: Path, steps) -> Iterator[CoreHost]:
    with lived_in_host(tmp, steps, host_class=CoreHost) as host:
        yield host


@pytest.fixture(scope="module")
def lived_in_core(tmp_path_factory) -> Iterator[CoreHost]:
    yield from _host(tmp_path_factory.mktemp("core-lived-in"), STEPS)


@pytest.fixture(scope="module")
def offline_without_chrony(tmp_path_factory) -> Iterator[CoreHost]:
    # The image has no .deb files and the host no network: these packages cannot come back.
    yield from _host(tmp_path_factory.mktemp("core-offline"), ("apt-get purge -y -q chrony logrotate auditd",))


def _stopped(host: CoreHost, *extra: str, extra_vars: dict | None = None, text: str = PLAYBOOK) -> dict:
    before = host.snapshot()
    result, output = host.core(*extra, extra_vars=extra_vars, text=text)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    (guard,) = task_results(output, GUARD)
    assert guard["failed"] is True, failed_tasks(output)
    assert host_stats(output)["changed"] == 0
    assert host.snapshot() == before
    return guard


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "run"])
def test_the_guard_stops_before_any_change_with_one_complete_message(lived_in_core: CoreHost, mode):
    guard = _stopped(lived_in_core, *mode)
    lines = guard["msg"].splitlines()
    assert lines[0] == ("Adoption guard (every role) on web1: 11 finding(s) would be closed, dropped, locked out or "
                        "left unmanaged by this run. Nothing on the host was changed.")
    assert lines[1:] == CORE_MESSAGE
    assert guard["adoption"]["unaccepted"] == 11
    accounts = [(f["item"], f["kind"]) for f in guard["adoption"]["findings"]
                if f["accept_with"] == "core_users_accept_account_changes"]
    assert accounts == ACCOUNT_ITEMS
    # No secret in a finding: the user's password hash never leaves /etc/shadow.
    assert "$y$" not in json.dumps(guard) and "$6$" not in json.dumps(guard)


def test_carried_and_accepted_the_roles_converge_and_the_second_run_changes_nothing(lived_in_core: CoreHost):
    result, output = lived_in_core.core(extra_vars=CARRIED)
    assert result.returncode == 0, failed_tasks(output)
    (guard,) = task_results(output, GUARD)
    assert guard["adoption"]["unaccepted"] == 0
    # The drop-in moved last, and the guard said so.
    moved = [f for f in guard["adoption"]["findings"] if f["accept_with"] == "core_sysctl_dropin_last"]
    assert sorted(f["item"] for f in moved) == ["kernel.sysrq", "net.ipv4.ip_forward"]
    assert all(f["accepted"] for f in guard["adoption"]["findings"])
    # The carried chrony lines are in the configuration chronyd reads.
    parsed = lived_in_core.exec("chronyd", "-p", "-f", "/etc/chrony/chrony.conf")
    assert parsed.returncode == 0, parsed.stderr
    for line in ("allow 10.0.0.0/8", "local stratum 10", "server ntp1.example.net iburst"):
        assert line in parsed.stdout.splitlines(), parsed.stdout
    # The role's drop-in is read last at boot; the kept legacy drop-in still holds its rule.
    listing = lived_in_core.exec("ls", "/etc/sysctl.d").stdout.split()
    assert listing[-1] == "zz-90-stability-ops.conf" and "90-stability-ops.conf" not in listing
    assert "legacyuser" in lived_in_core.exec("sudo", "-l", "-U", "legacyuser").stdout
    # The accepted account changes were made, with a warning each; newadmin, created by the run, was no finding.
    accounts = [(f["item"], f["kind"]) for f in guard["adoption"]["findings"]
                if f["accept_with"] == "core_users_accept_account_changes"]
    assert accounts == ACCOUNT_ITEMS
    assert sum("core_users_accept_account_changes lists opsadmin" in w for w in guard.get("warnings", [])) == 3
    passwd = lived_in_core.exec("getent", "passwd", "opsadmin", "newadmin").stdout.splitlines()
    assert [line.split(":")[6] for line in passwd] == ["/bin/bash", "/bin/bash"]
    shadow = lived_in_core.exec("getent", "shadow", "opsadmin").stdout
    assert shadow.split(":")[1] == ROLE_HASH
    keys = lived_in_core.exec("cat", "/home/opsadmin/.ssh/authorized_keys").stdout
    assert keys.splitlines() == [KEPT_KEY]
    again, second = lived_in_core.core(extra_vars=CARRIED)
    assert again.returncode == 0, failed_tasks(second)
    # Nothing would change in the accounts now: no account finding left.
    (guard,) = task_results(second, GUARD)
    assert [f["item"] for f in guard["adoption"]["findings"]
            if f["accept_with"] == "core_users_accept_account_changes"] == []
    assert host_stats(second)["changed"] == 0, [t["task"]["name"] for p in second["plays"] for t in p["tasks"]
                                                if any(h.get("changed") for h in t["hosts"].values())]


def test_check_mode_on_an_offline_host_missing_chrony_fails_before_any_change(offline_without_chrony: CoreHost):
    guard = _stopped(offline_without_chrony, "--check")
    unfetchable = [f for f in guard["adoption"]["findings"] if f["kind"] == "unfetchable"]
    assert [(f["role"], f["item"], f["accepted"]) for f in unfetchable] == [("core_time", "chrony", False)]
    # apt's own reason: the download of chrony's package failed (no network here).
    assert unfetchable[0]["detail"].startswith("not installed and the host cannot download it: failed to fetch chrony_")
    assert "  set core_packages_accept_unfetchable: [chrony] in the host's group_vars to accept." in guard["msg"]


def test_every_role_that_installs_a_package_finds_it_unfetchable_before_any_change(offline_without_chrony: CoreHost):
    """core_journald and security_auditd install a package too: the same probe stops them before any change."""
    roles = ("core_journald", "security_auditd", "security_firewall", "security_baseline")
    guard = _stopped(offline_without_chrony, "--check", text="\n".join([*_discovery(roles), ""]))
    unfetchable = [(f["role"], f["item"], f["accepted"]) for f in guard["adoption"]["findings"]
                   if f["kind"] == "unfetchable"]
    # nftables and the pwquality packages are installed: nothing to fetch, no finding.
    assert unfetchable == [("core_journald", "logrotate", False), ("security_auditd", "auditd", False)]
    for package in ("auditd", "logrotate"):
        accept = f"  set core_packages_accept_unfetchable: [{package}] in the host's group_vars to accept."
        assert accept in guard["msg"]
