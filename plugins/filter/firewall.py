# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of security_firewall's adoption discovery: what the new default-deny ruleset would close.

The role's ``tasks/adoption.yml`` reads the listening sockets (``ss -lntupH``) and the loaded ruleset
(``nft -j list ruleset``) once each; :func:`firewall_adoption_findings` compares them with the merged allowlist and
returns the findings the guard ``stability.ops.adoption_guard`` acts on (plugins/plugin_utils/adoption.py).

Documentation: one sidecar file per filter (``firewall_adoption_findings.yml``), as ansible.builtin does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.plugin_utils.adoption import finding

ACCEPT_VARIABLE = "security_firewall_accept_closing"
CARRY_VARIABLE = "security_firewall_rules"
_PROCESS = re.compile(r'users:\(\("([^"]+)"')
_PROTOCOLS = ("tcp", "udp")


def _port_range(value: Any) -> tuple[int, int]:
    text = str(value)
    first, last = text.partition("-")[::2]
    return int(first), int(last or first)


def _item(proto: str, ports: tuple[int, int]) -> str:
    first, last = ports
    return f"{first}/{proto}" if first == last else f"{first}-{last}/{proto}"


def _loopback(address: str) -> bool:
    host, scope = address.partition("%")[::2]
    if scope == "lo":
        return True
    if host in ("*", ""):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_sockets(ss_output: str) -> list[dict]:
    """The TCP and UDP sockets of ``ss -lntupH`` that listen beyond loopback."""
    sockets = []
    for line in (ss_output or "").splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] not in _PROTOCOLS:
            continue
        address, port = fields[4].rpartition(":")[::2]
        address = address.strip("[]")
        if not port.isdigit() or _loopback(address):
            continue
        process = _PROCESS.search(line)
        sockets.append({
            "proto": fields[0],
            "port": int(port),
            "address": fields[4],
            "process": process.group(1) if process else "a process",
        })
    return sockets


def _ports(right: Any) -> list[tuple[int, int]]:
    if isinstance(right, int):
        return [(right, right)]
    if isinstance(right, Mapping):
        if "range" in right:
            first, last = right["range"]
            return [(int(first), int(last))] if isinstance(first, int) and isinstance(last, int) else []
        if "set" in right:
            return [port for element in right["set"] for port in _ports(element)]
    if isinstance(right, list):
        return [port for element in right for port in _ports(element)]
    return []


def _describe(proto: str, ports: tuple[int, int]) -> str:
    first, last = ports
    return f"{proto} dport {first if first == last else f'{first}-{last}'} accept"


def _rule_ports(expressions: Sequence[Any]) -> list[tuple[str, tuple[int, int]]]:
    """(proto, port range) of an accept rule's destination port matches; nothing for other rules."""
    if not any(isinstance(e, Mapping) and "accept" in e for e in expressions):
        return []
    l4proto: list[str] = []
    found: list[tuple[str, tuple[int, int]]] = []
    for expression in expressions:
        match = expression.get("match") if isinstance(expression, Mapping) else None
        if not isinstance(match, Mapping) or match.get("op", "==") not in ("==", "in"):
            continue
        left, right = match.get("left") or {}, match.get("right")
        meta = left.get("meta") if isinstance(left, Mapping) else None
        if isinstance(meta, Mapping) and meta.get("key") in ("iif", "iifname") and right == "lo":
            return []  # loopback traffic, which the role accepts anyway
        if isinstance(meta, Mapping) and meta.get("key") == "l4proto":
            values = right.get("set", []) if isinstance(right, Mapping) else [right]
            l4proto = [value for value in values if value in _PROTOCOLS]
        payload = left.get("payload") if isinstance(left, Mapping) else None
        if isinstance(payload, Mapping) and payload.get("field") == "dport":
            protocols = [payload.get("protocol")] if payload.get("protocol") in _PROTOCOLS else l4proto
            found.extend((proto, ports) for proto in protocols for ports in _ports(right))
    return found


def accept_rules(nft_json: Any, own_table: str) -> list[dict]:
    """Accept rules for destination ports in the loaded ruleset, except those of the role's own table and of base
    chains that do not filter inbound traffic."""
    if not nft_json:
        return []
    data = json.loads(nft_json) if isinstance(nft_json, str) else nft_json
    objects = data.get("nftables", []) if isinstance(data, Mapping) else []
    not_inbound = {
        (c["family"], c["table"], c["name"])
        for c in (o.get("chain") for o in objects if isinstance(o, Mapping))
        if isinstance(c, Mapping) and c.get("hook") not in (None, "input", "prerouting", "ingress")
    }
    rules = []
    for obj in objects:
        rule = obj.get("rule") if isinstance(obj, Mapping) else None
        if not isinstance(rule, Mapping):
            continue
        where = (rule.get("family"), rule.get("table"), rule.get("chain"))
        if (where[0], where[1]) == ("inet", own_table) or where in not_inbound:
            continue
        for proto, ports in _rule_ports(rule.get("expr") or []):
            rules.append({"proto": proto, "ports": ports, "rule": _describe(proto, ports),
                          "where": " ".join(str(part) for part in where)})
    return rules


def _allowed(proto: str, ports: tuple[int, int], allowlist: list[tuple[str, tuple[int, int]]]) -> bool:
    return any(proto == p and first <= ports[0] and ports[1] <= last for p, (first, last) in allowlist)


def firewall_adoption_findings(ss_output: str, nft_json: Any, rules: Sequence[Mapping], ssh_port: Any = None,
                               accept_closing: Sequence[Any] = (), own_table: str = "stability_ops",
                               flush_ruleset: bool = True) -> list[dict]:
    """One ``close`` finding per port (``8080/tcp``) that listens beyond loopback or has an accept rule today and
    that the new ruleset (ssh port plus allowlist ``rules``) would drop."""
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        raise AnsibleFilterError("firewall_adoption_findings: rules must be the merged allowlist (a list)")
    try:
        allowlist = [(str(rule.get("proto", "tcp")), _port_range(rule["port"])) for rule in rules]
        if ssh_port not in (None, ""):
            allowlist.append(("tcp", _port_range(ssh_port)))
        rules_loaded = accept_rules(nft_json, own_table)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"firewall_adoption_findings: cannot read the input: {exc}") from exc
    accepted = [str(entry).strip() for entry in accept_closing or []]
    details: dict[tuple[str, tuple[int, int]], list[str]] = {}
    for socket in listening_sockets(ss_output):
        key = (socket["proto"], (socket["port"], socket["port"]))
        line = f"{socket['process']} listens on {socket['address']}"
        if line not in details.setdefault(key, []):
            details[key].append(line)
    dropped = "would be dropped by 'flush ruleset'" if flush_ruleset else "would be shadowed by the role's drop policy"
    for rule in rules_loaded:
        key = (rule["proto"], rule["ports"])
        details.setdefault(key, []).append(f"nftables rule '{rule['rule']}' ({rule['where']}) {dropped}")
    findings = []
    for (proto, ports), lines in sorted(details.items(), key=lambda entry: (entry[0][1], entry[0][0])):
        if _allowed(proto, ports, allowlist):
            continue
        findings.append(finding(_item(proto, ports), "close", "; ".join(lines) + "; the new ruleset does not allow it",
                                ACCEPT_VARIABLE, accepted, CARRY_VARIABLE))
    return findings


class FilterModule:
    """security_firewall's filters."""

    def filters(self):
        return {"firewall_adoption_findings": firewall_adoption_findings}
