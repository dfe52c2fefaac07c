"""Parsers and collectors of module_utils/health_facts.py against real outputs.

The fixtures were captured from the systemd test image (systemd 252, bookworm)
and from this machine's dockerd 20.10 (see tests/fixtures/health/README.md).
"""

from __future__ import annotations

import os
import time
from collections import namedtuple

import pytest
from ansible_collections.stability.ops.plugins.module_utils import health_facts as hf


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200M", 200 * 1024**2), ("1G", 1024**3), ("1.5K", 1536), ("4096", 4096), ("512B", 512), ("8m", 8 * 1024**2),
     ("", None), (None, None)],
    ids=["M", "G", "fraction", "bytes", "B-suffix", "lowercase", "empty", "none"],
)
def test_parse_size(text, expected):
    assert hf.parse_size(text) == expected


@pytest.mark.parametrize("text", ["12Q", "M", "1..2G", "-5M"], ids=["unit", "no-number", "two-dots", "negative"])
def test_parse_size_rejects_garbage(text):
    with pytest.raises(ValueError, match="invalid size"):
        hf.parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1month", 2629800), ("30day", 30 * 86400), ("30d", 30 * 86400), ("2w 3d", 17 * 86400), ("3600", 3600),
     ("1h30min", 5400), ("1year", 31557600), ("", None)],
    ids=["month", "day", "d", "combined", "seconds", "compact", "year", "empty"],
)
def test_parse_timespan(text, expected):
    assert hf.parse_timespan(text) == expected


@pytest.mark.parametrize("text", ["5 fortnights", "day", "1.2.3d"], ids=["unit", "no-number", "dots"])
def test_parse_timespan_rejects_garbage(text):
    with pytest.raises(ValueError, match=r"systemd\.time"):
        hf.parse_timespan(text)


def test_systemctl_show_fixture(fixture_text):
    units = {u["name"]: u for u in hf.parse_systemctl_show(fixture_text("systemctl_show.txt"))}
    assert list(units) == ["ssh.service", "cron.service", "hc-broken.service", "nosuch.service"]
    assert units["ssh.service"]["active"] is True
    assert units["ssh.service"]["sub_state"] == "running"
    assert units["ssh.service"]["enabled"] is True
    assert units["ssh.service"]["since"].endswith("UTC")
    assert units["cron.service"]["active_state"] == "inactive"
    assert units["cron.service"]["enabled"] is True
    assert units["hc-broken.service"]["active_state"] == "failed"
    assert units["hc-broken.service"]["restarts"] == 0
    assert units["nosuch.service"]["load_state"] == "not-found"
    assert units["nosuch.service"]["since"] is None


def test_systemctl_failed_fixture(fixture_text):
    assert hf.parse_systemctl_failed(fixture_text("systemctl_failed.txt")) == ["auditd.service", "hc-broken.service"]


def test_systemctl_failed_with_bullets():
    # Without --plain, systemctl prefixes failed units with a bullet.
    text = "● foo.service loaded failed failed Foo\n● bar.socket loaded failed failed Bar\n"
    assert hf.parse_systemctl_failed(text) == ["foo.service", "bar.socket"]


def test_mountinfo_of_a_container_keeps_real_mounts_only(fixture_text):
    mounts = {m["mount"]: m for m in hf.parse_mountinfo(fixture_text("mountinfo_container.txt"))}
    # overlay root, tmpfs /run, /run/lock and the 1 MiB tmpfs of the test; the /etc/hosts bind
    # mounts stay in the parse (they are files: collect_disks drops them), /dev, /proc, /sys never.
    assert {"/", "/run", "/run/lock", "/mnt/small"} <= set(mounts)
    assert not [m for m in mounts if m.startswith(("/proc", "/sys", "/dev"))]
    assert mounts["/"]["fstype"] == "overlay"
    assert mounts["/mnt/small"]["fstype"] == "tmpfs"


def test_mountinfo_of_a_docker_host_skips_layers_and_namespaces(fixture_text):
    mounts = [m["mount"] for m in hf.parse_mountinfo(fixture_text("mountinfo_host.txt"))]
    assert mounts == ["/"]


def test_mountinfo_unescapes_spaces():
    line = "50 27 8:1 / /mnt/my\\040disk rw - ext4 /dev/sdb1 rw"
    assert hf.parse_mountinfo(line)[0]["mount"] == "/mnt/my disk"


def test_disk_usage_is_computed_like_df():
    vfs = namedtuple("vfs", "f_blocks f_bfree f_bavail f_frsize f_files f_ffree f_favail")
    usage = hf.disk_usage_from_statvfs(vfs(1000, 300, 250, 4096, 100, 40, 40))
    assert usage["used_bytes"] == 700 * 4096
    assert usage["used_percent"] == round(100 * 700 / 950, 1)  # reserved blocks do not count as free
    assert usage["inodes_used_percent"] == 60.0
    assert hf.disk_usage_from_statvfs(vfs(10, 10, 10, 4096, 0, 0, 0))["inodes_used_percent"] is None


def test_collect_disks_reads_statvfs_and_skips_file_bind_mounts(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "hosts").write_text("")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "1 0 8:1 / /data rw - ext4 /dev/sda1 rw\n"
        "2 0 8:1 /x /hosts rw - ext4 /dev/sda1 rw\n"
        "3 0 0:5 / /proc rw - proc proc rw\n"
    )
    disks = hf.collect_disks(str(tmp_path), (), str(mountinfo))
    assert [d["mount"] for d in disks] == ["/data"]
    assert disks[0]["size_bytes"] > 0


def test_journald_conf_fixture_has_only_comments(fixture_text):
    assert hf.parse_journald_conf(fixture_text("journald.conf")) == {}


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_journald_config_follows_systemd_drop_in_precedence(tmp_path, fixture_text):
    _write(tmp_path / "etc/systemd/journald.conf", fixture_text("journald.conf") + "\n[Journal]\nSystemMaxUse=1G\n")
    _write(tmp_path / "usr/lib/systemd/journald.conf.d/10-vendor.conf", "[Journal]\nSystemMaxUse=50M\nStorage=auto\n")
    # Same name in /etc masks the vendor file; later names override earlier ones.
    _write(tmp_path / "etc/systemd/journald.conf.d/10-vendor.conf", "[Journal]\nMaxFileSec=1week\n")
    _write(tmp_path / "run/systemd/journald.conf.d/60-ops.conf",
           "[Journal]\nSystemMaxUse=200M\nMaxRetentionSec=1month\n")
    _write(tmp_path / "etc/systemd/journald.conf.d/99-other.conf", "[Other]\nSystemMaxUse=1K\n")
    settings, files = hf.journald_config(str(tmp_path))
    assert settings == {"SystemMaxUse": "200M", "MaxFileSec": "1week", "MaxRetentionSec": "1month"}
    assert files == ["/etc/systemd/journald.conf", "/etc/systemd/journald.conf.d/10-vendor.conf",
                     "/run/systemd/journald.conf.d/60-ops.conf", "/etc/systemd/journald.conf.d/99-other.conf"]


def test_collect_journald_sums_journal_files(tmp_path):
    journal = tmp_path / "var/log/journal/abc"
    journal.mkdir(parents=True)
    (journal / "system.journal").write_bytes(b"x" * 10000)
    (journal / "user-1000@0005-1.journal~").write_bytes(b"x" * 5000)
    (journal / "notes.txt").write_bytes(b"x" * 100000)
    _write(tmp_path / "etc/systemd/journald.conf", "[Journal]\nSystemMaxUse=1M\nMaxRetentionSec=30day\n")
    facts = hf.collect_journald(str(tmp_path))
    expected = sum(os.lstat(journal / n).st_blocks * 512 for n in ("system.journal", "user-1000@0005-1.journal~"))
    assert facts["system_usage_bytes"] == expected > 0
    assert facts["runtime_usage_bytes"] == 0
    assert facts["system_max_use_bytes"] == 1024**2
    assert facts["max_retention_seconds"] == 30 * 86400
    assert facts["error"] is None


def test_collect_journald_reports_an_invalid_setting(tmp_path):
    _write(tmp_path / "etc/systemd/journald.conf", "[Journal]\nSystemMaxUse=lots\n")
    assert "invalid size" in hf.collect_journald(str(tmp_path))["error"]


def test_collect_log_files_finds_old_and_oversized_files(tmp_path):
    now = time.time()
    (tmp_path / "app").mkdir()
    for index in range(3):
        old = tmp_path / "app" / f"old{index}.log"
        old.write_text("x")
        os.utime(old, (now - 40 * 86400, now - 40 * 86400))
    (tmp_path / "big.log").write_bytes(b"x" * 2048)
    (tmp_path / "fresh.log").write_text("x")
    (tmp_path / "system.journal").write_bytes(b"x" * 4096)
    os.symlink(tmp_path / "big.log", tmp_path / "link.log")
    logs = hf.collect_log_files([str(tmp_path)], 30 * 86400, 1024, report_limit=2, now=now)
    assert logs["files_scanned"] == 5
    assert logs["old_count"] == 3
    assert len(logs["old_files"]) == 2  # bounded list, exact count
    assert logs["oversized_count"] == 1
    assert logs["oversized_files"][0]["path"].endswith("big.log")
    assert logs["old_files"][0]["age_days"] == 40.0


def test_container_from_api_inspect_fixture(fixture_json):
    documents = fixture_json("docker_api_inspect.json").values()
    containers = {c["name"]: c for c in map(hf.container_from_inspect, documents)}
    assert containers["hcfix-run"]["running"] is True
    assert containers["hcfix-run"]["health"] is None
    assert containers["hcfix-exit"]["state"] == "exited"
    assert containers["hcfix-exit"]["exit_code"] == 3
    assert containers["hcfix-unhealthy"]["health"] == "unhealthy"
    assert containers["hcfix-restart"]["restart_count"] == 2
    assert containers["hcfix-run"]["image"] == "stability-ops-test:latest"
    assert len(containers["hcfix-run"]["id"]) == 12


def test_cli_and_api_inspect_give_the_same_containers(fixture_json):
    api = {c["name"]: c for c in map(hf.container_from_inspect, fixture_json("docker_api_inspect.json").values())}
    cli = {c["name"]: c for c in map(hf.container_from_inspect, fixture_json("docker_cli_inspect.json"))}
    # runtime state differs between the two captures; the identity of each container must not
    volatile = ("started_at", "finished_at", "health", "state", "running", "restart_count")
    for name, container in cli.items():
        assert {k: v for k, v in container.items() if k not in volatile} == \
            {k: v for k, v in api[name].items() if k not in volatile}


def test_podman_healthcheck_key_is_understood():
    # podman < 4 names the health block "Healthcheck"; the rest of the document is docker's shape.
    data = {"Name": "web", "Id": "0123456789abcdef", "ImageName": "quay.io/x/web:1",
            "State": {"Status": "running", "Running": True, "Healthcheck": {"Status": "healthy"}}, "RestartCount": 1}
    container = hf.container_from_inspect(data)
    assert container["health"] == "healthy"
    assert container["image"] == "quay.io/x/web:1"
    assert container["restart_count"] == 1


def test_missing_runtime_is_reported_absent(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert hf.start_runtime_cli("podman") is None
    assert hf.finish_runtime_cli("podman", None) == {"present": False, "source": None, "error": None, "containers": []}


def test_systemd_absent_is_reported(tmp_path):
    facts = hf.finish_systemd(hf.start_systemd(["ssh.service"], str(tmp_path)))
    assert facts["present"] is False
    assert "not the init system" in facts["error"]


def test_command_that_cannot_start_reports_the_error():
    rc, _out, err = hf._Command(["/nonexistent/systemctl"]).result()
    assert rc is None
    assert "systemctl" in err
