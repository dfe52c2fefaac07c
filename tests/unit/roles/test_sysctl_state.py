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
