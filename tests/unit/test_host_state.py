"""host_state.py: parsing a host snapshot and comparing two of them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "host_state.py"
spec = importlib.util.spec_from_file_location("host_state", SCRIPT)
host_state = importlib.util.module_from_spec(spec)
spec.loader.exec_module(host_state)

SNAPSHOT = """\
file /etc/chrony/chrony.conf 1111
file /etc/hostname 2222
enabled chrony.service enabled
enabled systemd-timedated.service static
active chrony.service active/running
active systemd-timedated.service active/running
active session-1.scope active/running
package chrony 4.3-2
nftables ruleset abcd
"""


def test_parse_groups_lines_by_kind():
    state = host_state.parse_snapshot(SNAPSHOT)
    assert state["file"] == {"/etc/chrony/chrony.conf": "1111", "/etc/hostname": "2222"}
    assert state["package"] == {"chrony": "4.3-2"}
    assert state["nftables"] == {"ruleset": "abcd"}


def test_parse_drops_activity_of_on_demand_and_transient_units():
    active = host_state.parse_snapshot(SNAPSHOT)["active"]
    assert active == {"chrony.service": "active/running"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("/etc/hostname 2222", "/etc/hostname 3333"), "h1: file /etc/hostname: content changed"),
        (("file /etc/hostname 2222\n", ""), "h1: file /etc/hostname: 2222 -> <absent>"),
        (("chrony.service active/running", "chrony.service inactive/dead"),
         "h1: active chrony.service: active/running -> inactive/dead"),
        (("chrony 4.3-2", "chrony 4.3-3"), "h1: package chrony: 4.3-2 -> 4.3-3"),
        (("ruleset abcd", "ruleset ef01"), "h1: nftables ruleset: abcd -> ef01"),
    ],
    ids=["file-content", "file-removed", "unit-stopped", "package-upgraded", "ruleset"],
)
def test_compare_names_each_difference(change, expected):
    before = {"h1": host_state.parse_snapshot(SNAPSHOT)}
    after = {"h1": host_state.parse_snapshot(SNAPSHOT.replace(*change))}
    assert host_state.compare(before, after) == [expected]


def test_compare_identical_snapshots_is_empty():
    state = {"h1": host_state.parse_snapshot(SNAPSHOT)}
    assert host_state.compare(state, state) == []


def test_compare_reports_a_host_missing_from_one_snapshot():
    state = host_state.parse_snapshot(SNAPSHOT)
    assert host_state.compare({"h1": state}, {}) == ["h1: present in only one snapshot"]
