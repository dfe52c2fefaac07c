"""security_auditd's filters: the kernel probe, the syscall check against ausyscall and the audit status."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import auditd

# auditctl -s on a host (auditd 3.x), and the refusal inside a container.
STATUS_HOST = "enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n"
REFUSED = "You must be root to run this program.\n"
REFUSED_REASON = (
    "the kernel audit subsystem cannot be controlled here (auditctl -s failed with rc 4: You must be root to run this "
    "program.); containers lack CAP_AUDIT_CONTROL and the initial PID namespace that audit control requires"
)


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ({"rc": 0, "stdout": STATUS_HOST, "stderr": ""},
         {"available": True, "enabled": "1", "immutable": False, "reason": ""}),
        ({"rc": 0, "stdout": STATUS_HOST.replace("enabled 1", "enabled 2"), "stderr": ""},
         {"available": True, "enabled": "2", "immutable": True, "reason": ""}),
        ({"rc": 4, "stdout": "", "stderr": REFUSED},
         {"available": False, "enabled": "", "immutable": False, "reason": REFUSED_REASON}),
        ({"rc": 2, "msg": "[Errno 2] No such file or directory: b'auditctl'", "stdout": "", "stderr": ""},
         {"available": False, "enabled": "", "immutable": False, "reason": auditd.REASON_NOT_INSTALLED}),
        ({"msg": "skipped"},
         {"available": False, "enabled": "", "immutable": False, "reason": auditd.REASON_NOT_INSTALLED}),
    ],
    ids=["host", "immutable", "container", "not-installed", "no-rc"],
)
def test_kernel_state_from_the_probe(probe, expected):
    assert auditd.auditd_kernel_state(probe) == expected


def test_the_refusal_is_quoted_on_one_line():
    probe = {"rc": 1, "stdout": "first\n\n", "stderr": "  second\tline\n"}
    assert "rc 1: first second line)" in auditd.auditd_kernel_state(probe)["reason"]


def _table(arch: str, names: list[str]) -> dict:
    header = {"b64": "Using x86_64 syscall table:", "b32": "Using i386 syscall table:"}[arch]
    return {"item": arch, "stdout_lines": [header, *(f"{number}\t{name}" for number, name in enumerate(names))]}


TABLES = [_table("b64", ["adjtimex", "settimeofday", "clock_settime", "init_module", "finit_module"]),
          _table("b32", ["adjtimex", "settimeofday", "clock_settime", "stime", "init_module"])]
TIME = {
    "b64": ["adjtimex", "settimeofday", "clock_settime"],
    "b32": ["adjtimex", "settimeofday", "clock_settime", "stime"],
}
MODULES = {"b64": ["init_module", "finit_module", "create_module"], "b32": ["init_module", "finit_module"]}


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ((TIME,), []),
        ((TIME, MODULES), ["b64 create_module", "b32 finit_module"]),
        (({}, MODULES), ["b64 create_module", "b32 finit_module"]),
        ((TIME, {}), []),
        ((), []),
        (({"b64": ["stime"]},), ["b64 stime"]),
        (({"b64": ["nope", "nope"]}, {"b64": ["nope"]}), ["b64 nope"]),
    ],
    ids=["known", "unknown-per-arch", "time-group-off", "module-group-off", "no-group", "arch-specific-name",
         "each-name-once"],
)
def test_unknown_syscalls_per_architecture(groups, expected):
    assert auditd.auditd_unknown_syscalls(TABLES, *groups) == expected


def test_an_architecture_not_in_the_tables_is_not_checked():
    assert auditd.auditd_unknown_syscalls(TABLES[:1], MODULES) == ["b64 create_module"]


def test_a_result_that_is_not_a_table_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="not a loop result of ausyscall --dump"):
        auditd.auditd_unknown_syscalls([{"item": "b64", "skipped": True}], TIME)


@pytest.mark.parametrize(
    ("counts", "compiled", "expected"),
    [
        ({"stdout_lines": ["12", "12"]}, {"changed": False}, False),
        ({"stdout_lines": ["12", "0"]}, {"changed": False}, True),
        ({"stdout_lines": ["12", "12"]}, {"changed": True}, True),
        ({"skipped": True}, {"skipped": True, "changed": False}, False),
        ({}, {}, False),
        (None, None, False),
    ],
    ids=["same-counts", "kernel-differs", "just-compiled", "count-skipped", "not-run", "none"],
)
def test_rules_are_stale_when_compiled_or_counted_differently(counts, compiled, expected):
    assert auditd.auditd_rules_stale(counts, compiled) is expected


def test_a_count_of_other_than_two_lines_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="expected two rule counts"):
        auditd.auditd_rules_stale({"stdout_lines": ["12"]})


KERNEL_HOST = {"available": True, "enabled": "1", "immutable": False, "reason": ""}
KERNEL_IMMUTABLE = {"available": True, "enabled": "2", "immutable": True, "reason": ""}
KERNEL_CONTAINER = {"available": False, "enabled": "", "immutable": False, "reason": REFUSED_REASON}
SAME = {"stdout_lines": ["12", "12"]}
DIFFERENT = {"stdout_lines": ["12", "3"]}


@pytest.mark.parametrize(
    ("kernel", "counts", "compiled", "loaded", "reason"),
    [
        (KERNEL_HOST, SAME, {"changed": False}, True, ""),
        (KERNEL_HOST, DIFFERENT, {"changed": False}, True, ""),
        (KERNEL_IMMUTABLE, SAME, {"changed": False}, True, ""),
        (KERNEL_IMMUTABLE, DIFFERENT, {"changed": False}, False, auditd.REASON_IMMUTABLE),
        (KERNEL_IMMUTABLE, SAME, {"changed": True}, False, auditd.REASON_IMMUTABLE),
        (KERNEL_CONTAINER, {"skipped": True}, {"changed": False}, False, REFUSED_REASON),
        (KERNEL_CONTAINER, {}, {}, False, REFUSED_REASON),
    ],
    ids=["host-current", "host-reloaded", "immutable-current", "immutable-stale", "immutable-recompiled",
         "container", "container-rules-skipped"],
)
def test_the_status_fact(kernel, counts, compiled, loaded, reason):
    status = auditd.auditd_status(kernel, counts, compiled, rules_file="/etc/audit/rules.d/50-stability-ops.rules",
                                  compiled_rules="/etc/audit/audit.rules")
    assert status == {"available": kernel["available"], "loaded": loaded, "enabled": kernel["enabled"],
                      "rules_file": "/etc/audit/rules.d/50-stability-ops.rules",
                      "compiled_rules": "/etc/audit/audit.rules", "reason": reason}
