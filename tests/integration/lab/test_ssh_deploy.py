"""production_deploy.yml over the connection users have: SSH as the admin, become through sudo.

One lab host per supported release, started with ``STABILITY_OPS_LAB_CONNECTION=ssh``
(``scripts/lab.sh``): a key generated at ``up``, host keys pinned in a generated
known_hosts, a ProxyCommand into the container's own sshd (``docker exec ... sshd -i``,
no network). The admin is created once by ``scripts/lab.sh bootstrap`` (core_users as
root over the docker connection); then the whole playbook runs twice over SSH with
pipelining (ansible.cfg): the first run converges healthy through the hardened sshd
and sudoers it writes, the second changes nothing. Every run starts its own SSH
control masters, so no run rides on a connection opened before the hardening.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from stability_ops_dev.testing.lab import Lab, run

ADMIN = "deploy"  # core_users_admins[0] of inventories/lab/group_vars/all/main.yml

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("ssh-deploy")]


@pytest.fixture(scope="module")
def lab(lab_distro, tmp_path_factory) -> Lab:
    lab = Lab(lab_distro, tmp_path_factory.mktemp(f"ssh-{lab_distro}"), connection="ssh")
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def _stdout(result: subprocess.CompletedProcess) -> str:
    """The command output of a one-host ad-hoc run: the lines after 'web1 | CHANGED | rc=0 >>'."""
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split(">>\n", 1)[1].strip()


def test_the_lab_host_resolves_its_own_name(lab: Lab):
    resolved = run(["docker", "exec", lab.container, "getent", "hosts", "web1"], lab.env, timeout=60)
    assert resolved.stdout.split() == ["127.0.1.1", "web1"]


def test_before_the_bootstrap_the_admin_cannot_log_in(lab: Lab):
    # Nothing in the lab creates the admin behind core_users' back.
    result = lab.ansible("-m", "ansible.builtin.ping")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "UNREACHABLE" in result.stdout
    assert "Permission denied (publickey" in result.stdout


def test_after_the_bootstrap_ssh_logs_in_as_the_admin_and_become_gives_root(lab: Lab):
    bootstrap = run(["bash", "scripts/lab.sh", "bootstrap"], lab.env)
    assert bootstrap.returncode == 0, bootstrap.stdout[-5000:] + bootstrap.stderr[-2000:]

    assert _stdout(lab.ansible("-m", "ansible.builtin.command", "-a", "whoami", "-e", "ansible_become=false")) == ADMIN
    become = lab.ansible("-vvv", "-m", "ansible.builtin.command", "-a", "whoami")
    assert _stdout(become) == "root"
    # Pipelined (ansible.cfg): the module goes to sudo's python on stdin, no file is copied to the host.
    assert "BECOME-SUCCESS-" in become.stdout
    assert "PUT " not in become.stdout
    assert "unable to resolve host" not in become.stdout + become.stderr


def test_production_deploy_over_ssh_converges_then_changes_nothing(lab: Lab):
    host = lab.converge_then_change_nothing()
    assert {check["status"] for check in host["health"]["checks"]} == {"ok"}


def test_the_hardened_sshd_is_what_lets_the_admin_in(lab: Lab):
    effective = dict(
        line.split(" ", 1)
        for line in _stdout(lab.ansible("-m", "ansible.builtin.command", "-a", "sshd -T")).splitlines()
    )
    assert effective["allowgroups"] == "sshusers"
    assert effective["permitrootlogin"] == "no"
    assert effective["passwordauthentication"] == "no"
    groups = _stdout(lab.ansible("-m", "ansible.builtin.command", "-a", f"id -nG {ADMIN}")).split()
    assert {"sshusers", "admins"} <= set(groups)


def test_a_host_key_other_than_the_pinned_one_is_refused(lab: Lab):
    key = lab.tmp / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    known_hosts = lab.tmp / "known_hosts_other"
    public = key.with_suffix(".pub").read_text().split()
    known_hosts.write_text(f"{lab.container} {public[0]} {public[1]}\n")
    args = lab.ssh_common_args()
    other = re.sub(r'UserKnownHostsFile="[^"]*"', f'UserKnownHostsFile="{known_hosts}"', args)
    assert other != args
    result = lab.ansible("-m", "ansible.builtin.ping", "-e", json.dumps({"ansible_ssh_common_args": other}))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "Host key verification failed" in result.stdout
