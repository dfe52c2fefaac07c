"""security_firewall's adoption filter, on the real output of ss -lntupH and nft -j list ruleset (Debian 12)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import firewall

SS = """\
tcp LISTEN 0      5        0.0.0.0:8080 0.0.0.0:* users:(("python3",pid=11,fd=3))
tcp LISTEN 0      5      127.0.0.1:8081 0.0.0.0:* users:(("python3",pid=13,fd=3))
tcp LISTEN 0      128         [::]:22      [::]:* users:(("sshd",pid=40,fd=4))
udp UNCONN 0      0        0.0.0.0:123  0.0.0.0:* users:(("chronyd",pid=50,fd=6))
udp UNCONN 0      0          [::1]:323     [::]:* users:(("chronyd",pid=50,fd=7))
tcp LISTEN 0      4096           *:9100       *:*
udp UNCONN 0      0    127.0.0.53%lo:53   0.0.0.0:* users:(("systemd-resolve",pid=60,fd=13))
"""

NFT = {"nftables": [
    {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
    {"table": {"family": "inet", "name": "filter", "handle": 1}},
    {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input",
               "prio": 0, "policy": "accept"}},
    {"chain": {"family": "inet", "table": "filter", "name": "output", "handle": 2, "type": "filter",
               "hook": "output", "prio": 0, "policy": "accept"}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3, "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}},
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 5000}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "comment": "app", "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 5, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 123}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                   "right": {"set": [80, 443, {"range": [9000, 9010]}]}}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 9, "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "udp"]}}},
        {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 53}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "filter", "chain": "output", "handle": 10, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 25}},
        {"accept": None}]}},
    {"rule": {"family": "inet", "table": "stability_ops", "chain": "input", "handle": 11, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7000}},
        {"accept": None}]}},
]}
RULE = "would be dropped by 'flush ruleset'; the new ruleset does not allow it"


def items(findings):
    return [finding["item"] for finding in findings]


def test_listening_sockets_beyond_loopback():
    assert firewall.listening_sockets(SS) == [
        {"proto": "tcp", "port": 8080, "address": "0.0.0.0:8080", "process": "python3"},
        {"proto": "tcp", "port": 22, "address": "[::]:22", "process": "sshd"},
        {"proto": "udp", "port": 123, "address": "0.0.0.0:123", "process": "chronyd"},
        {"proto": "tcp", "port": 9100, "address": "*:9100", "process": "a process"},
    ]


def test_every_closed_port_is_a_finding():
    findings = firewall.firewall_adoption_findings(SS, json.dumps(NFT), [], ssh_port=22)
    assert items(findings) == ["53/tcp", "53/udp", "80/tcp", "123/udp", "443/tcp", "8080/tcp", "9000-9010/tcp",
                               "9100/tcp"]
    by_item = {finding["item"]: finding for finding in findings}
    assert by_item["8080/tcp"] == {
        "item": "8080/tcp",
        "kind": "close",
        "detail": "python3 listens on 0.0.0.0:8080; nftables rule 'tcp dport 8080 accept' (inet filter input) " + RULE,
        "accept_with": "security_firewall_accept_closing",
        "carry_with": "security_firewall_rules",
        "accepted": False,
    }
    assert by_item["123/udp"]["detail"] == (
        "chronyd listens on 0.0.0.0:123; nftables rule 'udp dport 123 accept' (inet filter input) " + RULE)
    assert by_item["9100/tcp"]["detail"] == "a process listens on *:9100; the new ruleset does not allow it"


def test_allowlist_and_acceptance():
    rules = [{"port": 8080}, {"port": "9000-9100", "proto": "tcp", "sources": ["10.0.0.0/8"]},
             {"port": 53, "proto": "udp"}, {"port": 53}]
    findings = firewall.firewall_adoption_findings(SS, NFT, rules, ssh_port="22",
                                                   accept_closing=["123/udp", "80/tcp"], flush_ruleset=False)
    assert items(findings) == ["80/tcp", "123/udp", "443/tcp"]
    assert [finding["accepted"] for finding in findings] == [True, True, False]
    assert findings[0]["detail"] == ("nftables rule 'tcp dport 80 accept' (inet filter input) would be shadowed by "
                                     "the role's drop policy; the new ruleset does not allow it")


def test_ssh_port_allowed_only_when_given():
    assert "22/tcp" in items(firewall.firewall_adoption_findings(SS, "", [], ssh_port=None))
    assert "22/tcp" not in items(firewall.firewall_adoption_findings(SS, "", [], ssh_port=22))


def test_pristine_host_has_no_finding():
    ss = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=40,fd=3))\n'
    empty = {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}]}
    assert firewall.firewall_adoption_findings(ss, json.dumps(empty), [], ssh_port=22) == []
    assert firewall.firewall_adoption_findings("", "", [], ssh_port=22) == []


@pytest.mark.parametrize(("rules", "nft"), [("8080", ""), ([{"proto": "tcp"}], ""), ([], "{not json")],
                         ids=["rules-string", "rule-without-port", "bad-json"])
def test_bad_input_is_a_filter_error(rules, nft):
    with pytest.raises(AnsibleFilterError, match="firewall_adoption_findings"):
        firewall.firewall_adoption_findings("", nft, rules)
