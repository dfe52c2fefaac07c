"""stability.ops.baseline_sysctl_parameters: security_baseline's merge of the overrides over the default parameters."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.baseline import baseline_sysctl_parameters

DEFAULTS = {"net.ipv4.ip_forward": 0, "kernel.sysrq": 0, "kernel.yama.ptrace_scope": 1}


@pytest.mark.parametrize(
    ("overwrite", "expected"),
    [
        ({}, DEFAULTS),
        (None, DEFAULTS),
        ({"net.ipv4.ip_forward": 1}, {**DEFAULTS, "net.ipv4.ip_forward": 1}),
        ({"vm.swappiness": 10}, {**DEFAULTS, "vm.swappiness": 10}),
        ({"kernel.yama.ptrace_scope": None}, {"net.ipv4.ip_forward": 0, "kernel.sysrq": 0}),
        ({"vm.unknown_here": None}, DEFAULTS),
        ({"net.ipv4.tcp_rmem": "4096 131072 6291456"}, {**DEFAULTS, "net.ipv4.tcp_rmem": "4096 131072 6291456"}),
    ],
    ids=["empty", "null-overwrite", "one-key-changed", "key-added", "null-removes", "null-of-absent-key",
         "string-value"],
)
def test_overrides_are_merged_over_the_defaults(overwrite, expected):
    assert baseline_sysctl_parameters(DEFAULTS, overwrite) == expected


def test_the_order_of_the_defaults_is_kept_and_new_keys_follow():
    merged = baseline_sysctl_parameters(DEFAULTS, {"vm.swappiness": 10, "kernel.sysrq": 1})
    assert list(merged) == ["net.ipv4.ip_forward", "kernel.sysrq", "kernel.yama.ptrace_scope", "vm.swappiness"]


def test_the_inputs_are_not_modified():
    defaults, overwrite = dict(DEFAULTS), {"kernel.sysrq": None}
    baseline_sysctl_parameters(defaults, overwrite)
    assert (defaults, overwrite) == (DEFAULTS, {"kernel.sysrq": None})


def test_no_parameters_gives_the_overrides():
    assert baseline_sysctl_parameters(None, {"kernel.sysrq": 0, "vm.swappiness": None}) == {"kernel.sysrq": 0}


@pytest.mark.parametrize(
    ("parameters", "overwrite", "message"),
    [(["kernel.sysrq"], {}, "security_baseline_sysctl_parameters must be a dict, got list"),
     (DEFAULTS, "kernel.sysrq=1", "security_baseline_sysctl_overwrite must be a dict, got str")],
    ids=["parameters-not-a-dict", "overwrite-not-a-dict"],
)
def test_a_value_that_is_not_a_dict_is_a_filter_error(parameters, overwrite, message):
    with pytest.raises(AnsibleFilterError, match=message):
        baseline_sysctl_parameters(parameters, overwrite)
