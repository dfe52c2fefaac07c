"""Evaluation of health facts against thresholds (module_utils/health_checks.py)."""

from __future__ import annotations

import pytest
from ansible_collections.stability.ops.plugins.module_utils import health_checks as hc
from ansible_collections.stability.ops.plugins.module_utils import health_facts as hf


def _checks(**overrides):
    checks = {name: spec.get("default") for name, spec in hc.CHECKS_ARGUMENT_SPEC.items()}
    checks.update(overrides)
    return checks


def _by_name(results):
    return {r["name"]: r for r in results}


def _disk(mount, used, inodes=1.0):
    return {"mount": mount, "fstype": "ext4", "used_percent": used, "inodes_used_percent": inodes}


@pytest.mark.parametrize(
    ("used", "status"), [(10.0, "ok"), (79.9, "ok"), (80.0, "warn"), (89.9, "warn"), (90.0, "fail"), (100.0, "fail")],
    ids=["low", "below-warn", "at-warn", "below-fail", "at-fail", "full"],
)
def test_disk_thresholds(used, status):
    result = _by_name(hc.evaluate({"disks": [_disk("/", used)]}, _checks()))
    assert result["disk:/"]["status"] == status
    assert result["disk:/"]["observed"] == f"{used}% used"
    assert result["inodes:/"]["status"] == "ok"


def test_inode_thresholds_and_file_systems_without_inodes():
    results = _by_name(hc.evaluate({"disks": [_disk("/", 1.0, 95.0), _disk("/run", 1.0, None)]}, _checks()))
    assert results["inodes:/"]["status"] == "fail"
    assert "inodes:/run" not in results


def test_systemd_units_from_the_fixture(fixture_text):
    facts = {"systemd": {
        "present": True, "error": None,
        "units": hf.parse_systemctl_show(fixture_text("systemctl_show.txt")),
        "failed_units": hf.parse_systemctl_failed(fixture_text("systemctl_failed.txt")),
    }}
    results = _by_name(hc.evaluate(facts, _checks(units_active=["ssh", "cron", "nosuch", "timer.timer"],
                                                  failed_units_ignore=["auditd"])))
    assert results["unit:ssh.service"]["status"] == "ok"
    assert results["unit:cron.service"] | {"message": ""} == {
        "name": "unit:cron.service", "category": "systemd", "status": "fail", "observed": "inactive (dead)",
        "expected": "active", "message": ""}
    assert results["unit:nosuch.service"]["observed"] == "not-found"
    assert results["unit:timer.timer"]["status"] == "fail"
    assert results["failed_units"]["status"] == "fail"
    assert results["failed_units"]["observed"] == ["hc-broken.service"]


@pytest.mark.parametrize("severity", ["warn", "ignore"], ids=["warn", "ignore"])
def test_failed_units_severity(severity):
    facts = {"systemd": {"present": True, "error": None, "units": [], "failed_units": ["x.service"]}}
    results = _by_name(hc.evaluate(facts, _checks(failed_units=severity)))
    if severity == "ignore":
        assert "failed_units" not in results
    else:
        assert results["failed_units"]["status"] == "warn"


def test_systemd_absent_fails_only_when_units_are_required():
    facts = {"systemd": {"present": False, "error": "no systemd", "units": [], "failed_units": []}}
    assert hc.evaluate(facts, _checks()) == []
    assert hc.evaluate(facts, _checks(units_active=["ssh"]))[0]["status"] == "fail"


def _docker_facts(fixture_json):
    containers = [hf.container_from_inspect(d) for d in fixture_json("docker_api_inspect.json").values()]
    return {"containers": {
        "docker": {"present": True, "source": "socket", "error": None, "containers": containers},
        "podman": {"present": False, "source": None, "error": None, "containers": []},
    }}


def test_containers_from_the_fixture(fixture_json):
    checks = _checks(containers_running=["hcfix-run", "hcfix-exit", "ghost"], containers_healthy=["hcfix-run"])
    results = _by_name(hc.evaluate(_docker_facts(fixture_json), checks))
    # hcfix-run has no HEALTHCHECK: required healthy, so it fails.
    assert results["container:hcfix-run"]["status"] == "fail"
    assert results["container:hcfix-run"]["expected"] == "running, healthy"
    assert results["container:hcfix-exit"]["status"] == "fail"
    assert results["container:hcfix-exit"]["observed"] == "exited (exit code 3)"
    assert results["container:ghost"]["observed"] == "absent"
    assert results["unhealthy_containers"]["status"] == "warn"
    assert results["unhealthy_containers"]["observed"] == ["hcfix-unhealthy"]


def test_running_container_passes(fixture_json):
    checks = _checks(containers_running=["hcfix-run"], containers_unhealthy="ignore")
    results = _by_name(hc.evaluate(_docker_facts(fixture_json), checks))
    assert results == {"container:hcfix-run": results["container:hcfix-run"]}
    assert results["container:hcfix-run"]["status"] == "ok"


def test_runtime_error_is_a_warning():
    facts = {"containers": {"docker": {"present": True, "source": "socket", "error": "permission denied",
                                       "containers": []}}}
    assert hc.evaluate(facts, _checks())[0] | {"message": ""} == {
        "name": "runtime:docker", "category": "containers", "status": "warn", "observed": "error",
        "expected": "readable", "message": ""}


def _journald(usage, max_use=None, retention=None, config=None):
    return {"journald": {"config": config or {}, "system_usage_bytes": usage, "system_max_use_bytes": max_use,
                         "max_retention_seconds": retention, "error": None}}


@pytest.mark.parametrize(
    ("usage", "configured", "status"),
    [(8 * 2**20, 2**20, "fail"), (190 * 2**20, 200 * 2**20, "warn"), (10 * 2**20, 200 * 2**20, "ok")],
    ids=["over-limit", "near-limit", "well-below"],
)
def test_journald_usage_against_the_configured_limit(usage, configured, status):
    results = _by_name(hc.evaluate(_journald(usage, configured), _checks(journald_max_use="200M")))
    assert results["journald_disk_usage"]["status"] == status
    assert results["journald_max_use"]["status"] == "ok"


def test_journald_unconfigured_uses_the_policy_and_warns():
    results = _by_name(hc.evaluate(_journald(300 * 2**20), _checks(journald_max_use="200M")))
    assert results["journald_disk_usage"]["status"] == "fail"
    assert "SystemMaxUse is not set" in results["journald_disk_usage"]["message"]
    assert results["journald_max_use"]["status"] == "warn"
    assert results["journald_max_use"]["observed"] == "unset"


@pytest.mark.parametrize(
    ("configured", "status"), [(None, "warn"), (86400 * 365, "warn"), (86400 * 30, "ok"), (0, "warn")],
    ids=["unset", "longer", "shorter", "zero-means-unlimited"],
)
def test_journald_retention_policy(configured, status):
    facts = _journald(0, 2**20, configured, {"MaxRetentionSec": str(configured)})
    results = _by_name(hc.evaluate(facts, _checks(journald_max_retention="1month")))
    assert results["journald_retention"]["status"] == status


def test_journald_invalid_threshold_is_a_failed_check():
    results = _by_name(hc.evaluate(_journald(0), _checks(journald_max_use="much")))
    assert results["journald_thresholds"]["status"] == "fail"


def _logs(old, oversized):
    entry = {"path": "/var/log/x.log", "size_bytes": 1, "age_days": 40.0}
    return {"logs": {"directories": ["/var/log"], "max_age_seconds": 30 * 86400, "max_size_bytes": 100 * 2**20,
                     "old_count": old, "oversized_count": oversized, "old_files": [entry] * min(old, 1),
                     "oversized_files": [entry] * min(oversized, 1)}}


def test_log_files():
    results = _by_name(hc.evaluate(_logs(3, 0), _checks()))
    assert results["log_files_old"]["status"] == "warn"
    assert results["log_files_old"]["observed"] == 3
    assert results["log_files_old"]["message"].endswith("/var/log/x.log ...")
    assert results["log_files_oversized"]["status"] == "ok"
    assert _by_name(hc.evaluate(_logs(0, 1), _checks(log_files="fail")))["log_files_oversized"]["status"] == "fail"
    assert hc.evaluate(_logs(5, 5), _checks(log_files="ignore")) == []


@pytest.mark.parametrize(
    ("statuses", "expected"), [([], "ok"), (["ok", "warn"], "warn"), (["warn", "fail", "ok"], "fail")],
    ids=["none", "warn", "fail"],
)
def test_worst(statuses, expected):
    assert hc.worst(statuses) == expected


def test_every_result_has_the_documented_shape(fixture_json):
    facts = {**_docker_facts(fixture_json), **_journald(0, 2**20), **_logs(1, 1), "disks": [_disk("/", 95.0)]}
    for result in hc.evaluate(facts, _checks(containers_running=["x"], journald_max_retention="1d")):
        assert set(result) == {"name", "category", "status", "observed", "expected", "message"}
        assert result["status"] in hc.STATUSES


@pytest.mark.parametrize(
    ("fail_on", "expected"), [("fail", ["disk:/data"]), ("warn", ["disk:/", "disk:/data"]), ("never", [])],
    ids=["fail", "warn", "never"],
)
def test_failing_checks_for_each_fail_on(fail_on, expected):
    results = hc.evaluate({"disks": [_disk("/", 85.0), _disk("/data", 95.0), _disk("/srv", 10.0)]}, _checks())
    assert [check["name"] for check in hc.failing(results, fail_on)] == expected


def test_failure_message_names_each_failing_check_on_one_line():
    results = hc.evaluate({"disks": [_disk("/", 85.0), _disk("/data", 95.0)]}, _checks())
    message = hc.failure_message(hc.failing(results, "warn"), "warn")
    assert message == ("2 health check(s) at or above 'warn': disk:/: / (ext4) is 85.0% full; "
                       "disk:/data: /data (ext4) is 95.0% full")
