"""stability.ops.sysctl_unapplied_report: core_sysctl's warning, one line per problem naming what to act on."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.sysctl import sysctl_unapplied_report
from ansible_collections.stability.ops.plugins.module_utils import sysctl_state

DROPIN = "/etc/sysctl.d/91-stability-ops-hardening.conf"


def _entry(name: str, problem: str | None, reason: str = "why", effective: str | None = "0") -> dict:
    entry = {"name": name, "wanted": "1", "effective": effective, "reason": reason}
    if problem is not None:
        entry["problem"] = problem
    return entry


READ_ONLY = [_entry(f"kernel.p{n}", "read_only_mount", sysctl_state.REASON_READ_ONLY_MOUNT) for n in range(7)]


def test_nothing_unapplied_no_lines():
    assert sysctl_unapplied_report([], DROPIN) == []


def test_a_container_gets_a_headline_and_one_line():
    lines = sysctl_unapplied_report(READ_ONLY, DROPIN, "security_baseline_sysctl_parameters")
    assert lines == [
        f"WARNING: core_sysctl could not apply 7 parameter(s) of {DROPIN} here "
        "(wanted and effective values: core_sysctl_unapplied):",
        "- kernel.p0, kernel.p1, kernel.p2, kernel.p3, kernel.p4 and 2 more: /proc/sys is mounted read-only here "
        "(container): the drop-in applies at the next boot of a host; core_sysctl_apply_enabled: false skips "
        "applying on such hosts",
    ]


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("unknown", "- net.x: no such parameter here (kernel module not loaded?): correct or drop in my_params"),
        ("write_only", "- net.x: write-only trigger, never applied: drop from my_params"),
        ("not_writable", "- net.x: not writable here (read-only parameter, or not namespaced in this container): "
                         "drop from my_params for such hosts"),
    ],
    ids=["unknown", "write-only", "not-writable"],
)
def test_each_problem_names_the_variable_to_correct(problem, expected):
    assert sysctl_unapplied_report([_entry("net.x", problem)], DROPIN, "my_params")[1:] == [expected]


def test_the_variable_defaults_to_core_sysctls_own():
    line = sysctl_unapplied_report([_entry("net.x", "unknown")], DROPIN)[1]
    assert line.endswith("correct or drop in core_sysctl_parameters")


def test_one_line_per_problem_most_actionable_first_names_sorted():
    unapplied = [*READ_ONLY[:2], _entry("vm.b", "not_writable"), _entry("net.z", "unknown"), _entry("net.a", "unknown"),
                 _entry("net.flush", "write_only")]
    lines = sysctl_unapplied_report(unapplied, DROPIN)
    assert lines[0].startswith("WARNING: core_sysctl could not apply 6 parameter(s) ")
    assert [line.split(":")[0] for line in lines[1:]] == ["- net.a, net.z", "- net.flush", "- vm.b",
                                                          "- kernel.p0, kernel.p1"]


def test_every_problem_of_the_module_has_advice():
    lines = sysctl_unapplied_report([_entry(f"p.{p}", p) for p in sysctl_state.PROBLEMS], DROPIN)
    assert len(lines) == 1 + len(sysctl_state.PROBLEMS)


def test_an_entry_without_a_known_problem_is_grouped_by_its_reason():
    unapplied = [_entry("a.b", None, "odd reason"), _entry("c.d", "future_problem", "odd reason")]
    assert sysctl_unapplied_report(unapplied, DROPIN)[1:] == ["- a.b, c.d: odd reason"]


@pytest.mark.parametrize(("limit", "expected"), [(0, 7), (2, 2), (10, 7)], ids=["all", "two", "more-than-there-are"])
def test_the_names_per_line_are_limited(limit, expected):
    line = sysctl_unapplied_report(READ_ONLY, DROPIN, limit=limit)[1]
    assert line.split(":")[0].count("kernel.p") == expected
    assert ("more" in line.split(":")[0]) is (expected < len(READ_ONLY))


def test_the_failing_headline_names_the_switch():
    lines = sysctl_unapplied_report(READ_ONLY[:1], DROPIN, failing=True)
    assert lines[0] == (f"core_sysctl: core_sysctl_fail_on_unapplied is true and 1 parameter(s) of {DROPIN} cannot be "
                        "applied here (wanted and effective values: core_sysctl_unapplied):")


def test_the_report_is_short_whatever_the_number_of_parameters():
    """The old warning printed every entry's raw data: about 3.5 KB per host for the hardening set."""
    many = [_entry(f"net.ipv4.conf.all.param_{n:02}", "read_only_mount", sysctl_state.REASON_READ_ONLY_MOUNT)
            for n in range(33)]
    lines = sysctl_unapplied_report(many, DROPIN, "security_baseline_sysctl_parameters")
    assert len(lines) == 2
    assert sum(len(line) for line in lines) < 600


def test_the_module_result_feeds_the_report(tmp_path):
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "msgmax").write_text("8192\n")
    result = sysctl_state.compare({"kernel.msgmax": 16384, "net.nope": 1}, proc_sys=str(tmp_path),
                                  is_read_only_mount=lambda path: True)
    lines = sysctl_unapplied_report(result["unapplied"], DROPIN)
    assert [line.split(":")[0] for line in lines[1:]] == ["- net.nope", "- kernel.msgmax"]


def test_an_entry_that_is_not_one_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="not an unapplied entry"):
        sysctl_unapplied_report([{"reason": "x"}], DROPIN)
