"""core_sysctl's probe: module_utils/sysctl_state.py against a fake /proc/sys, and the module around it."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stability.ops.plugins.module_utils import sysctl_state
from ansible_collections.stability.ops.plugins.modules import sysctl_state as module


def _fake_proc(root, values):
    for name, value in values.items():
        path = root / (name if "/" in name else name.replace(".", "/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")


@pytest.fixture
def proc(tmp_path):
    """A writable fake /proc/sys and a compare() that reads it."""

    def compare(wanted, current, read_only=False):
        _fake_proc(tmp_path, current)
        return sysctl_state.compare(wanted, proc_sys=str(tmp_path), is_read_only_mount=lambda path: read_only)

    compare.root = tmp_path
    return compare


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "1"), (False, "0"), (16384, "16384"), ("4096\t131072   6291456\n", "4096 131072 6291456"), ("x", "x")],
    ids=["true", "false", "int", "spacing", "string"],
)
def test_values_are_compared_in_the_kernels_spelling(value, expected):
    assert sysctl_state.normalise(value) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("net.ipv4.tcp_syncookies", "/proc/sys/net/ipv4/tcp_syncookies"),
     ("net/ipv4/conf/eth0.100/rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter")],
    ids=["dotted", "slash-keeps-dots"],
)
def test_proc_path(name, expected):
    assert sysctl_state.proc_path(name) == expected


def test_names_that_are_not_parameters_or_leave_proc_sys_are_invalid():
    names = ["net.ipv4.ip_forward", "net/ipv4/conf/eth0.100/rp_filter", "net/../../etc/shadow", "/etc/shadow",
             "kernel msgmax", ""]
    assert sysctl_state.invalid_names(names) == ["", "/etc/shadow", "kernel msgmax", "net/../../etc/shadow"]


def test_forwarding_switches_are_written_before_what_they_reset():
    apply = {
        "net.ipv4.conf.all.accept_redirects": "0",
        "net.ipv4.ip_forward": "0",
        "net.ipv6.conf.all.forwarding": "0",
        "kernel.dmesg_restrict": "1",
    }
    assert sysctl_state.apply_args(apply) == [
        "net.ipv4.ip_forward=0",
        "net.ipv6.conf.all.forwarding=0",
        "kernel.dmesg_restrict=1",
        "net.ipv4.conf.all.accept_redirects=0",
    ]


def test_slash_form_names_are_recognised():
    assert sysctl_state.is_forwarding_switch("net/ipv4/conf/eth0.100/forwarding")
    assert not sysctl_state.is_forwarding_switch("net.ipv4.conf.all.accept_redirects")


def test_nothing_wanted_nothing_to_apply(proc):
    assert proc({}, {}) == {"effective": {}, "apply": {}, "apply_args": [], "unapplied": []}


def test_only_differing_values_are_applied(proc):
    result = proc(
        {"net.ipv4.tcp_rmem": "4096   131072 6291456", "net.ipv4.conf.all.log_martians": True,
         "net.ipv4.conf.all.send_redirects": False},
        {"net.ipv4.tcp_rmem": "4096\t131072\t6291456", "net.ipv4.conf.all.log_martians": 0,
         "net.ipv4.conf.all.send_redirects": 0},
    )
    assert result["effective"] == {"net.ipv4.tcp_rmem": "4096 131072 6291456",
                                   "net.ipv4.conf.all.log_martians": "0", "net.ipv4.conf.all.send_redirects": "0"}
    assert result["apply"] == {"net.ipv4.conf.all.log_martians": "1"}
    assert result["apply_args"] == ["net.ipv4.conf.all.log_martians=1"]
    assert result["unapplied"] == []


def test_an_unknown_parameter_is_reported_not_applied(proc):
    result = proc({"net.ipv4.no_such_parameter": 1}, {})
    path = os.path.join(str(proc.root), "net/ipv4/no_such_parameter")
    assert result["effective"] == {"net.ipv4.no_such_parameter": None}
    assert result["apply"] == {}
    assert result["unapplied"] == [{"name": "net.ipv4.no_such_parameter", "wanted": "1", "effective": None,
                                    "problem": "unknown",
                                    "reason": f"unknown parameter: {path} does not exist (kernel module not loaded?)"}]


def test_a_read_only_proc_sys_is_reported_with_the_effective_value(proc):
    result = proc({"kernel.msgmax": 16384}, {"kernel.msgmax": 8192}, read_only=True)
    assert result["apply"] == {}
    assert result["unapplied"] == [{"name": "kernel.msgmax", "wanted": "16384", "effective": "8192",
                                    "problem": "read_only_mount", "reason": sysctl_state.REASON_READ_ONLY_MOUNT}]


@pytest.mark.parametrize(
    ("denied", "effective", "problem", "reason"),
    [(os.R_OK, None, "write_only", sysctl_state.REASON_WRITE_ONLY),
     (os.W_OK, "0", "not_writable", sysctl_state.REASON_NOT_WRITABLE)],
    ids=["write-only-trigger", "not-writable"],
)
def test_parameters_without_the_access_they_need_are_reported(proc, monkeypatch, denied, effective, problem, reason):
    # The tests may run as root, for whom os.access ignores the mode bits: deny the access explicitly.
    real_access = os.access
    monkeypatch.setattr(sysctl_state.os, "access", lambda path, mode: mode != denied and real_access(path, mode))
    result = proc({"net.ipv4.route.flush": 1}, {"net.ipv4.route.flush": 0})
    assert result["apply"] == {}
    assert result["unapplied"] == [{"name": "net.ipv4.route.flush", "wanted": "1", "effective": effective,
                                    "problem": problem, "reason": reason}]


def test_a_forwarding_change_rewrites_what_the_kernel_resets(proc):
    """accept_redirects already matches, but writing ip_forward will reset it: write it again after."""
    result = proc({"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0},
                  {"net.ipv4.ip_forward": 1, "net.ipv4.conf.all.accept_redirects": 0})
    assert result["apply_args"] == ["net.ipv4.ip_forward=0", "net.ipv4.conf.all.accept_redirects=0"]


def test_without_a_forwarding_change_nothing_extra_is_written(proc):
    result = proc({"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0},
                  {"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0})
    assert result["apply_args"] == []


def _run_module(capsys, args: dict) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_the_module_returns_the_comparison_and_changes_nothing(capsys, monkeypatch, proc):
    _fake_proc(proc.root, {"net.ipv4.conf.all.log_martians": 0})
    monkeypatch.setattr(module, "compare", lambda wanted: sysctl_state.compare(wanted, proc_sys=str(proc.root)))
    result = _run_module(capsys, {"parameters": {"net.ipv4.conf.all.log_martians": True}, "_ansible_check_mode": True})
    assert result["changed"] is False
    assert "failed" not in result
    assert result["apply_args"] == ["net.ipv4.conf.all.log_martians=1"]
    documented = {"effective", "apply", "apply_args", "unapplied", "overrides"}
    assert set(yaml.safe_load(module.RETURN)) == documented <= set(result)


def test_the_module_fails_on_names_that_leave_proc_sys(capsys):
    result = _run_module(capsys, {"parameters": {"net/../../etc/shadow": 1, "vm.swappiness": 10}})
    assert result["failed"] is True
    assert result["msg"] == ("not kernel parameter names (dotted net.ipv4.tcp_syncookies or slash "
                             "net/ipv4/conf/eth0.100/rp_filter, no '..'): net/../../etc/shadow")


def test_the_documented_problems_are_the_ones_the_comparison_gives():
    unapplied = yaml.safe_load(module.RETURN)["unapplied"]
    assert tuple(unapplied["contains"]["problem"]["choices"]) == sysctl_state.PROBLEMS
    assert set(unapplied["contains"]) == {"name", "wanted", "effective", "problem", "reason", "overridden_by"}
    assert {entry["problem"] for entry in unapplied["sample"]} <= set(sysctl_state.PROBLEMS)


def test_the_module_documents_its_options_and_check_mode():
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert set(documentation["options"]) == set(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        assert documentation["options"][name]["type"] == spec["type"]
        assert documentation["options"][name].get("required", False) == spec.get("required", False)
    assert documentation["attributes"]["check_mode"]["support"] == "full"
    yaml.safe_load(module.EXAMPLES)


@pytest.fixture
def sysctl_dirs(tmp_path):
    """Fake /etc, /run and /usr/lib sysctl.d directories and /etc/sysctl.conf (systemd-sysctl's order)."""
    dirs = [tmp_path / "etc", tmp_path / "run", tmp_path / "usr"]
    for directory in dirs:
        directory.mkdir()
    return dirs, tmp_path / "sysctl.conf"


def _overrides(sysctl_dirs, wanted, dropin_name="90-stability-ops.conf", ignore=()):
    dirs, conf = sysctl_dirs
    return sysctl_state.config_overrides(wanted, str(dirs[0] / dropin_name), [str(dirs[0] / name) for name in ignore],
                                         dirs=[str(directory) for directory in dirs], sysctl_conf=str(conf))


def test_a_later_file_overrides_at_boot_and_an_earlier_one_does_not(sysctl_dirs):
    dirs = sysctl_dirs[0]
    (dirs[0] / "10-early.conf").write_text("net.ipv4.ip_forward = 1\n")
    (dirs[0] / "99-custom.conf").write_text("# site\nnet.ipv4.ip_forward=1\n-kernel.sysrq = 1\n; x\nvm.swappiness=0\n")
    assert _overrides(sysctl_dirs, {"net.ipv4.ip_forward": 0, "kernel.sysrq": 0, "vm.swappiness": 0}) == [
        {"name": "kernel.sysrq", "file": str(dirs[0] / "99-custom.conf"), "value": "1"},
        {"name": "net.ipv4.ip_forward", "file": str(dirs[0] / "99-custom.conf"), "value": "1"}]


def test_etc_wins_a_file_name_and_sysctl_conf_is_read_last(sysctl_dirs):
    dirs, conf = sysctl_dirs
    (dirs[2] / "99-custom.conf").write_text("kernel.sysrq = 1\n")
    (dirs[0] / "99-custom.conf").write_text("kernel.sysrq = 0\n")
    (dirs[1] / "95-run.conf").write_text("net/ipv4/conf/eth0.100/rp_filter = 0\n")
    conf.write_text("kernel.sysrq = 16\n")
    assert _overrides(sysctl_dirs, {"kernel.sysrq": 0, "net.ipv4.conf.eth0/100.rp_filter": 1}) == [
        {"name": "kernel.sysrq", "file": str(conf), "value": "16"},
        {"name": "net.ipv4.conf.eth0/100.rp_filter", "file": str(dirs[1] / "95-run.conf"), "value": "0"}]


def test_globs_the_roles_own_files_and_masked_names(sysctl_dirs):
    dirs = sysctl_dirs[0]
    (dirs[2] / "99-vendor.conf").write_text("net.ipv4.conf.*.rp_filter = 2\n")
    (dirs[0] / "99-vendor.conf").symlink_to(os.devnull)
    (dirs[0] / "zz-90-stability-ops.conf").write_text("net.ipv4.conf.all.rp_filter = 0\n")
    (dirs[1] / "98-glob.conf").write_text("net.ipv4.conf.*.rp_filter = 2\n")
    assert _overrides(sysctl_dirs, {"net.ipv4.conf.all.rp_filter": 1}, ignore=["zz-90-stability-ops.conf"]) == [
        {"name": "net.ipv4.conf.all.rp_filter", "file": str(dirs[1] / "98-glob.conf"), "value": "2"}]


def test_pristine_sysctl_dirs_have_no_override(sysctl_dirs):
    dirs = sysctl_dirs[0]
    (dirs[0] / "README.sysctl").write_text("kernel.sysrq = 1\n")
    (dirs[2] / "50-pid-max.conf").write_text("kernel.pid_max = 4194304\n")
    assert _overrides(sysctl_dirs, {"kernel.sysrq": 0, "kernel.pid_max": 32768}) == []


def test_an_overridden_read_only_parameter_makes_no_next_boot_promise():
    result = {"unapplied": [{"name": "kernel.sysrq", "wanted": "0", "effective": "1",
                             "problem": sysctl_state.PROBLEM_READ_ONLY_MOUNT,
                             "reason": sysctl_state.REASON_READ_ONLY_MOUNT}]}
    marked = sysctl_state.mark_overridden(result, [{"name": "kernel.sysrq", "file": "/etc/sysctl.d/99-custom.conf",
                                                    "value": "1"}])
    entry = marked["unapplied"][0]
    assert entry["overridden_by"] == "/etc/sysctl.d/99-custom.conf"
    assert "next boot" not in entry["reason"] and "not applied there either" in entry["reason"]
