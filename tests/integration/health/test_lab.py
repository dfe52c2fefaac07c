"""health_check on a real systemd host of the test image, through the docker connection.

The host is broken on purpose: a failed unit, a stopped unit, a 1 MiB tmpfs
filled over the threshold, an old and an oversized log file, and a journald
limit below what the journal already uses (configured, journald not restarted).
Each must show up in the summary as the right fail or warn.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from conftest import REPO_ROOT

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("health-lab")]

BREAK_THE_HOST = r"""
set -e
printf '[Unit]\nDescription=always fails\n[Service]\nType=oneshot\nExecStart=/bin/false\n' \
    > /etc/systemd/system/hc-broken.service
systemctl daemon-reload
systemctl start hc-broken.service || true
systemctl stop cron.service
dd if=/dev/zero of=/mnt/small/fill bs=1k count=950 status=none
mkdir -p /var/log/app
echo old > /var/log/app/old.log
touch -d '40 days ago' /var/log/app/old.log
head -c 2M /dev/zero > /var/log/app/big.log
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nSystemMaxUse=64K\nMaxRetentionSec=1year\n' > /etc/systemd/journald.conf.d/90-test.conf
journalctl --flush
"""

PLAYBOOK = """\
- name: Post-deploy health
  hosts: all
  gather_facts: false
  roles:
    - role: stability.ops.health_check
      vars:
        health_check_units_active: [ssh, cron]
        health_check_failed_units_ignore: [auditd, audit-rules]  # no audit subsystem in containers
        health_check_log_max_size: 1M
        health_check_log_dirs: [/var/log/app]
        health_check_container_runtimes: []
"""


def _systemd_flags() -> list[str]:
    script = f'source "{REPO_ROOT}/scripts/lib.sh"; printf "%s\\n" "${{SYSTEMD_CONTAINER_FLAGS[@]}}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split("\n")[:-1]


@pytest.fixture(scope="module")
def broken_host(docker_names):
    name = docker_names("lab")
    subprocess.run(["docker", "run", "-d", "--name", name, "--hostname", "hc-lab", *_systemd_flags(),
                    "--tmpfs", "/mnt/small:size=1m", "stability-ops-test:latest", "/lib/systemd/systemd"],
                   capture_output=True, check=True)
    deadline = time.monotonic() + 60
    while True:
        state = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running"], capture_output=True,
                               text=True, check=False).stdout.strip()
        if state in ("running", "degraded"):
            break
        assert time.monotonic() < deadline, f"systemd did not boot: {state}"
        time.sleep(0.5)
    subprocess.run(["docker", "exec", name, "bash", "-c", BREAK_THE_HOST], capture_output=True, check=True)
    return f"""\
all:
  hosts:
    hc-lab:
      ansible_connection: community.docker.docker
      ansible_host: {name}
      ansible_python_interpreter: /usr/bin/python3
"""


EXPECTED = {
    "unit:ssh.service": "ok",
    "unit:cron.service": "fail",
    "failed_units": "fail",
    "disk:/mnt/small": "fail",
    "disk:/": "ok",
    "journald_disk_usage": "fail",
    "journald_max_use": "ok",
    "journald_retention": "warn",
    "log_files_old": "warn",
    "log_files_oversized": "warn",
}


def test_each_breakage_is_the_right_fail_or_warn(playbook_runner, broken_host, summary_validator):
    run = playbook_runner(PLAYBOOK, broken_host)
    assert run.process.returncode == 2, run.output
    document = run.summary
    summary_validator.validate(document)
    host = document["hosts"]["hc-lab"]
    checks = {c["name"]: c for c in host["health"]["checks"]}
    assert {name: checks[name]["status"] for name in EXPECTED} == EXPECTED
    assert checks["failed_units"]["observed"] == ["hc-broken.service"]
    assert checks["unit:cron.service"]["observed"] == "inactive (dead)"
    assert checks["journald_disk_usage"]["expected"] == "<= 64.0K"
    assert checks["log_files_old"]["message"].endswith("/var/log/app/old.log")
    assert checks["log_files_oversized"]["message"].endswith("/var/log/app/big.log")
    assert host["status"] == "failed"
    assert host["counts"]["changed"] == 0
    assert document["reason"].startswith("hc-lab: 1 failed task(s), first 'Fail the host on its health check'")
    assert "unit:cron.service, failed_units, disk:/mnt/small, journald_disk_usage" in document["reason"]
    # The table goes to stderr (stdout belongs to the stdout callback).
    assert "FAIL hc-lab disk:/mnt/small" in run.process.stderr


def test_check_mode_with_fail_on_never_reports_without_failing(playbook_runner, broken_host, summary_validator):
    run = playbook_runner(PLAYBOOK, broken_host, "--check", "-e", "health_check_fail_on=never")
    assert run.process.returncode == 0, run.output
    document = run.summary
    summary_validator.validate(document)
    assert document["run"]["check_mode"] is True
    host = document["hosts"]["hc-lab"]
    assert host["counts"]["failed"] == 0
    assert host["counts"]["skipped"] == 0  # the gate is in the health_facts task, no task to skip
    assert host["health"]["status"] == "fail"
    # A check run changes nothing, so failing checks describe the host before the deploy: not a verdict on it,
    # and never "healthy" either (ansible exits 0, the summary must not say "failed").
    assert host["status"] == "unverified"
    assert document["status"] == "unverified"
