"""A lived-in host for the adoption tests: a lab host (scripts/lab.sh, the project's systemd test image, no
network) prepared by the test with what a real server has before stability.ops arrives.

``lived_in_host(steps)`` starts one such host (web1, in the lab's ``production`` inventory) and runs the prepare
steps in it; ``LIVED_IN_STEPS`` are the situations of issue 14 for the firewall and sshd (an app on 8080, nftables
rules, sshd Match blocks and an Include'd drop-in, local users) plus a few of our own. The ``lived_in`` fixture is
that host with those steps; other test files pass their own steps to ``lived_in_host``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from stability_ops_dev.testing.lab import Lab, run

REPO_ROOT = Path(__file__).resolve().parents[3]
DISTRO = os.environ.get("STABILITY_OPS_ADOPTION_DISTRO", "debian12")
# The public half of a key pair nobody holds: the host only has to see a key line.
ALICE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0b3xJ3mGm1v1yY2H3o1oYQ3pVh1qD7wz3c3lYb1sV alice@laptop"

APP_UNIT = """[Unit]
Description=Legacy app on port 8080
After=network.target
[Service]
ExecStart=/usr/bin/python3 -m http.server --bind 0.0.0.0 --directory /srv/app 8080
[Install]
WantedBy=multi-user.target
"""
# A loopback-only service: never a firewall finding.
LOOPBACK_UNIT = APP_UNIT.replace("0.0.0.0 --directory /srv/app 8080", "127.0.0.1 --directory /srv/app 8081").replace(
    "port 8080", "loopback port 8081")
NFTABLES = """#!/usr/sbin/nft -f
flush ruleset
table inet filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tiif "lo" accept
\t\tct state established,related accept
\t\ttcp dport 22 accept
\t\ttcp dport 8080 accept comment "legacy app"
\t\tudp dport 123 accept comment "ntp for the clients"
\t\ttcp dport 9000-9010 accept comment "metrics range"
\t}
}
"""
SSHD_MATCH = """
Match Group sftponly
    ChrootDirectory /srv/sftp/%u
    ForceCommand internal-sftp
    AllowTcpForwarding no

Match Address 10.0.0.0/8
    PasswordAuthentication yes
"""
SSHD_DROPIN = "# legacy settings from the old image\nClientAliveInterval 60\nMaxAuthTries 6\n"


def _write(path: str, text: str, mode: str = "0644") -> str:
    """A prepare step that writes ``text`` to ``path`` (a here-document with a quoted delimiter: no expansion)."""
    return f"mkdir -p \"$(dirname {path})\" && cat > {path} <<'ADOPT_EOF'\n{text}ADOPT_EOF\nchmod {mode} {path}"


LIVED_IN_STEPS: tuple[str, ...] = (
    # The app on 8080 (any address) and a loopback-only one on 8081, as systemd units.
    "mkdir -p /srv/app && echo 'legacy app' > /srv/app/index.html",
    _write("/etc/systemd/system/legacy-app.service", APP_UNIT),
    _write("/etc/systemd/system/legacy-loopback.service", LOOPBACK_UNIT),
    "systemctl daemon-reload && systemctl enable --now legacy-app.service legacy-loopback.service",
    # nftables rules for the app, NTP and a port range, loaded now and at boot.
    _write("/etc/nftables.conf", NFTABLES, "0755"),
    "nft -f /etc/nftables.conf && systemctl enable nftables.service",
    # sshd: Match blocks, the stock Include and a drop-in it reads.
    "groupadd -f sftponly && mkdir -p /srv/sftp/carol && chown root:root /srv/sftp /srv/sftp/carol",
    f"printf '%s' '{SSHD_MATCH}' >> /etc/ssh/sshd_config",
    _write("/etc/ssh/sshd_config.d/50-legacy.conf", SSHD_DROPIN),
    # Local users with passwords and login shells, none in the admin group; alice has a key.
    "useradd -m -s /bin/bash alice && useradd -m -s /bin/bash bob && useradd -m -s /bin/bash -G sftponly carol",
    "useradd -r -s /usr/sbin/nologin legacysvc",
    "echo 'alice:Adopt-alice-1' | chpasswd && echo 'bob:Adopt-bob-1' | chpasswd",
    "install -d -m 0700 -o alice -g alice /home/alice/.ssh",
    _write("/home/alice/.ssh/authorized_keys", ALICE_KEY + "\n", "0600"),
    "chown alice:alice /home/alice/.ssh/authorized_keys",
    # Wait until the app answers: the tests compare against a working service.
    "for i in $(seq 50); do curl -s http://127.0.0.1:8080 >/dev/null && exit 0; sleep 0.2; done; exit 1",
)

# What the tests compare before and after a stopped run: the loaded ruleset, every file of /etc and the homes,
# the package database and the units that serve.
SNAPSHOT = (
    "nft list ruleset; find /etc /home -xdev -type f -exec sha256sum {} + | sort; "
    "sha256sum /var/lib/dpkg/status; systemctl is-active legacy-app.service ssh.service nftables.service"
)


class LivedInHost(Lab):
    """One lab host (web1) of the lab named ``adopt-a-<distro>-<random>``, reached over the docker connection, and
    prepared with the shell steps given to ``up``."""

    prefix = "adopt-a"
    exec_timeout = 180

    def __init__(self, tmp: Path, distro: str = DISTRO) -> None:
        super().__init__(distro, tmp)

    def up(self, steps: Sequence[str] = ()) -> None:
        super().up()
        for step in steps:
            done = self.exec("sh", "-ec", step)
            assert done.returncode == 0, f"prepare step failed: {step}\n{done.stdout}{done.stderr}"

    def snapshot(self) -> str:
        taken = self.exec("sh", "-c", SNAPSHOT)
        assert taken.stdout.strip(), taken.stderr
        return taken.stdout

    def playbook(
        self, label: str, *extra: str, extra_vars: dict | None = None
    ) -> tuple[subprocess.CompletedProcess, dict, dict]:
        """production_deploy.yml in one batch with the json stdout callback: the result, the parsed output and the
        Deployment Health Summary."""
        self.runs += 1
        summary = self.tmp / f"{label}-{self.runs}.json"
        # The secrets preflight runs on localhost only and has its own tests (tests/integration/secrets): skipped,
        # so that these runs depend only on what the host has.
        args = ["ansible-playbook", "-i", self.inventory, "playbooks/production_deploy.yml", "--skip-tags", "preflight",
                "-e", json.dumps({"stability_ops_serial": "100%", **(extra_vars or {})}), *extra]
        env = {**self.env, "STABILITY_OPS_SUMMARY_PATH": str(summary),
               "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}
        result = run(args, env)
        try:
            output = json.loads(result.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"no JSON output: {result.stdout[-3000:]}{result.stderr[-3000:]}")
        report = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
        return result, output, report


def task_results(output: dict, name: str, host: str = "web1") -> list[dict]:
    """The results on ``host`` of every task called ``name`` (a role's tasks: ``<role> : name``) in a json-callback
    output, in run order."""
    return [task["hosts"][host] for play in output["plays"] for task in play["tasks"]
            if task["task"]["name"].rpartition(" : ")[2] == name and host in task["hosts"]]


def failed_tasks(output: dict) -> list[str]:
    """``play | task: msg`` of every failed task (for assertion messages)."""
    return [f"{play['play']['name']} | {task['task']['name']}: {result.get('msg')}"
            for play in output["plays"] for task in play["tasks"] for result in task["hosts"].values()
            if result.get("failed")]


def host_stats(output: dict, host: str = "web1") -> dict:
    return output["stats"][host]


@contextlib.contextmanager
def lived_in_host(tmp: Path, steps: Sequence[str] = LIVED_IN_STEPS, distro: str = DISTRO,
                  host_class: type[LivedInHost] = LivedInHost) -> Iterator[LivedInHost]:
    """A lived-in host prepared with ``steps`` (shell, run with ``sh -e`` in the container), removed afterwards."""
    host = host_class(tmp, distro)
    try:
        host.up(steps)
        yield host
    finally:
        host.down()


@pytest.fixture(scope="module")
def lived_in(tmp_path_factory) -> Iterator[LivedInHost]:
    """The lived-in host of issue 14 (firewall and sshd situations), one per test module."""
    with lived_in_host(tmp_path_factory.mktemp("lived-in")) as host:
        yield host
