"""core_sysctl's probe: the order in which differing parameters are written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "core_sysctl" / "files" / "sysctl_state.py"
spec = importlib.util.spec_from_file_location("sysctl_state", SCRIPT)
sysctl_state = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sysctl_state)


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


def test_compare_reports_apply_args_for_what_differs(tmp_path, monkeypatch):
    monkeypatch.setattr(sysctl_state, "PROC_SYS", str(tmp_path))
    result = sysctl_state.compare({})
    assert result["apply"] == {} and result["apply_args"] == []


def _fake_proc(tmp_path, values):
    for name, value in values.items():
        path = tmp_path / name.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")


def test_a_forwarding_change_rewrites_what_the_kernel_resets(tmp_path, monkeypatch):
    """accept_redirects already matches, but writing ip_forward will reset it: write it again after."""
    monkeypatch.setattr(sysctl_state, "PROC_SYS", str(tmp_path))
    monkeypatch.setattr(sysctl_state, "read_only_mount", lambda path: False)
    _fake_proc(tmp_path, {"net.ipv4.ip_forward": 1, "net.ipv4.conf.all.accept_redirects": 0})
    result = sysctl_state.compare({"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0})
    assert result["apply_args"] == ["net.ipv4.ip_forward=0", "net.ipv4.conf.all.accept_redirects=0"]


def test_without_a_forwarding_change_nothing_extra_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(sysctl_state, "PROC_SYS", str(tmp_path))
    monkeypatch.setattr(sysctl_state, "read_only_mount", lambda path: False)
    _fake_proc(tmp_path, {"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0})
    result = sysctl_state.compare({"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0})
    assert result["apply_args"] == []
