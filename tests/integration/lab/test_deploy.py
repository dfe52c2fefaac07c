"""production_deploy.yml end to end on a fresh lab host of each supported release.

The main job's path (docker connection, as root): the first run converges and
ends healthy, the second run changes nothing, and after a reboot of the host
(``docker restart``) the health check alone still finds it healthy: no unit the
roles configured fails at boot (auditd's units in containers, chrony).
"""

from __future__ import annotations

import pytest
from stability_ops_dev.testing.lab import Lab, run

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(lab_distro, tmp_path_factory) -> Lab:
    lab = Lab(lab_distro, tmp_path_factory.mktemp(lab_distro))
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def _failed_units(lab: Lab) -> list[str]:
    listed = lab.exec("systemctl", "list-units", "--failed", "--plain", "--no-legend")
    return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]


def test_first_run_converges_healthy_and_second_run_changes_nothing(lab: Lab):
    release = lab.exec("sh", "-c", ". /etc/os-release && echo $VERSION_ID").stdout.strip()
    assert release == lab.distro.removeprefix("debian")

    host = lab.converge_then_change_nothing()
    assert {check["status"] for check in host["health"]["checks"]} == {"ok"}
    assert _failed_units(lab) == []


def test_after_a_reboot_the_health_check_stays_healthy(lab: Lab):
    restarted = run(["docker", "restart", lab.container], lab.env, timeout=180)
    assert restarted.returncode == 0, restarted.stderr
    booted = run(["bash", "-c", 'source scripts/lib.sh && systemd_booted "$1"', "_", lab.container], lab.env)
    assert booted.returncode == 0, booted.stderr
    assert _failed_units(lab) == []

    result, summary = lab.deploy("after-reboot", "--tags", "health")
    assert result.returncode == 0, result.stdout[-5000:]
    assert summary["status"] == "healthy", summary["reason"]
    assert summary["hosts"]["web1"]["health"]["checks"], "the health check did not run"
