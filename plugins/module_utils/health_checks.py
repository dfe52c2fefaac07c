# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate health facts against thresholds: one structured result per check.

Every result is ``{name, category, status, observed, expected, message}`` with
``status`` one of ``ok``, ``warn``, ``fail``. The same rules serve the module
(evaluation on the host, in the same execution as the gathering) and the tests.
"""

from __future__ import annotations

from ansible_collections.stability.ops.plugins.module_utils.health_facts import (
    DEFAULT_DISK_EXCLUDE,
    parse_size,
    parse_timespan,
)

STATUSES = ("ok", "warn", "fail")
SEVERITIES = ("fail", "warn", "ignore")

# Argument spec of the ``checks`` option, shared by the module and the role's spec test.
CHECKS_ARGUMENT_SPEC = {
    "disk_warn_percent": {"type": "float", "default": 80},
    "disk_fail_percent": {"type": "float", "default": 90},
    "inode_warn_percent": {"type": "float", "default": 80},
    "inode_fail_percent": {"type": "float", "default": 90},
    "units_active": {"type": "list", "elements": "str", "default": []},
    "failed_units": {"type": "str", "default": "fail", "choices": list(SEVERITIES)},
    "failed_units_ignore": {"type": "list", "elements": "str", "default": []},
    "containers_running": {"type": "list", "elements": "str", "default": []},
    "containers_healthy": {"type": "list", "elements": "str", "default": []},
    "containers_unhealthy": {"type": "str", "default": "warn", "choices": list(SEVERITIES)},
    "journald_max_use": {"type": "str"},
    "journald_max_retention": {"type": "str"},
    "log_files": {"type": "str", "default": "warn", "choices": list(SEVERITIES)},
}


SECTIONS = ["systemd", "containers", "disk", "journald", "logs"]


def argument_spec():
    """The module's options: the module validates them on the host, the action plugin on the controller first."""
    return {
        "collect": {"type": "list", "elements": "str", "choices": SECTIONS, "default": SECTIONS},
        "units": {"type": "list", "elements": "str", "default": []},
        "container_runtimes": {"type": "list", "elements": "str", "choices": ["docker", "podman"],
                               "default": ["docker", "podman"]},
        "docker_socket": {"type": "path", "default": "/var/run/docker.sock"},
        "disk_exclude": {"type": "list", "elements": "path", "default": list(DEFAULT_DISK_EXCLUDE)},
        "log_dirs": {"type": "list", "elements": "path", "default": ["/var/log"]},
        "log_max_age": {"type": "str", "default": "30d"},
        "log_max_size": {"type": "str", "default": "100M"},
        "log_report_limit": {"type": "int", "default": 20},
        "checks": {"type": "dict", "options": CHECKS_ARGUMENT_SPEC},
        # Acted on by the action plugin (plugins/action/health_facts.py) on the controller; the module ignores them.
        "publish_stats": {"type": "bool", "default": False},
        "fail_on": {"type": "str", "choices": ["fail", "warn", "never"], "default": "never"},
        "fail_in_check_mode": {"type": "bool", "default": False},
        "failed_result": {"type": "str", "choices": ["full", "short"], "default": "full"},
    }


# For each value of the ``fail_on`` option, the check statuses that fail the task.
FAIL_ON_STATUSES = {"fail": ("fail",), "warn": ("warn", "fail"), "never": ()}


def failing(checks, fail_on):
    """The checks whose status reaches ``fail_on`` (``fail``, ``warn`` or ``never``), in their order."""
    statuses = FAIL_ON_STATUSES[fail_on]
    return [check for check in checks if check.get("status") in statuses]


def failure_message(failed, fail_on):
    """One line naming every failing check with its whole message (the action plugin's ``msg`` is
    :func:`failure_lines`, one short line per check)."""
    details = "; ".join(f"{check['name']}: {check['message']}" for check in failed)
    return f"{len(failed)} health check(s) at or above '{fail_on}': {details}"


# A failed check's line in the task's message is cut to this many characters of its message; the whole check
# (observed, expected, message) stays in the task's health_checks and the Deployment Health Summary.
REASON_MAX_LENGTH = 100


def short_reason(message, limit=REASON_MAX_LENGTH):
    """A check's message on one line, cut to ``limit`` characters (``...`` at the end when cut)."""
    text = " ".join(str(message or "").split())
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def failure_lines(failed, fail_on, host):
    """The task's ``msg`` when checks fail it: a headline, then one line per failing check with its status, the
    host, the check's name and a short reason, as the summary's table prints them."""
    lines = [f"{len(failed)} health check(s) at or above '{fail_on}':"]
    lines += [f"  {check['status'].upper():4} {host} {check['name']}: {short_reason(check.get('message'))}"
              for check in failed]
    lines.append("Details of every check: the Deployment Health Summary.")
    return "\n".join(lines)


def short_failed_result(result, failed):
    """The result of a task that ``fail_on`` failed, with ``failed_result: short``: the message, the status and the
    names of the failing checks, no facts and no checks (kilobytes a stdout callback prints on its fatal line)."""
    return {
        "changed": result.get("changed", False),
        "failed": True,
        "msg": result["msg"],
        "health_status": result.get("health_status"),
        "health_failed_checks": [check["name"] for check in failed],
    }


def worst(statuses):
    """The most severe of ``statuses`` (``ok`` for none)."""
    rank = max((STATUSES.index(s) for s in statuses if s in STATUSES), default=0)
    return STATUSES[rank]


def _check(name, category, status, observed, expected, message):
    return {
        "name": name,
        "category": category,
        "status": status,
        "observed": observed,
        "expected": expected,
        "message": message,
    }


def _graded(value, warn_at, fail_at):
    if value is None:
        return "ok"
    if value >= fail_at:
        return "fail"
    if value >= warn_at:
        return "warn"
    return "ok"


def check_disks(disks, checks):
    results = []
    for disk in disks:
        mount = disk["mount"]
        used = disk["used_percent"]
        results.append(_check(
            f"disk:{mount}", "disk", _graded(used, checks["disk_warn_percent"], checks["disk_fail_percent"]),
            f"{used}% used", f"< {checks['disk_warn_percent']:g}% (fail at {checks['disk_fail_percent']:g}%)",
            f"{mount} ({disk['fstype']}) is {used}% full",
        ))
        inodes = disk.get("inodes_used_percent")
        if inodes is None:  # tmpfs without an inode limit, btrfs: nothing to check
            continue
        results.append(_check(
            f"inodes:{mount}", "disk", _graded(inodes, checks["inode_warn_percent"], checks["inode_fail_percent"]),
            f"{inodes}% inodes used",
            f"< {checks['inode_warn_percent']:g}% (fail at {checks['inode_fail_percent']:g}%)",
            f"{mount} uses {inodes}% of its inodes",
        ))
    return results


def check_systemd(systemd, checks):
    if not systemd["present"]:
        if checks["units_active"]:
            # Name the units that must be active: none of them can be checked here.
            return [_check("systemd", "systemd", "fail", "systemd not running", "systemd",
                           f"{systemd['error']}; units that must be active, not checked: "
                           + ", ".join(checks["units_active"]))]
        return []
    results = []
    if systemd.get("error"):
        results.append(_check("systemd", "systemd", "fail", "error", "systemctl answers", systemd["error"]))
    units = {unit["name"]: unit for unit in systemd["units"]}
    for name in checks["units_active"]:
        key = name if "." in name else name + ".service"
        unit = units.get(key)
        if unit is None:
            results.append(_check(f"unit:{key}", "systemd", "fail", "unknown", "active", f"{key} was not queried"))
        elif unit["load_state"] != "loaded":
            results.append(_check(f"unit:{key}", "systemd", "fail", unit["load_state"], "active",
                                  f"{key} is {unit['load_state']}"))
        else:
            observed = f"{unit['active_state']} ({unit['sub_state']})"
            results.append(_check(f"unit:{key}", "systemd", "ok" if unit["active"] else "fail", observed, "active",
                                  f"{key} is {observed} since {unit['since'] or 'boot'}, "
                                  f"{unit['restarts'] or 0} restarts"))
    if checks["failed_units"] != "ignore":
        ignored = {name if "." in name else name + ".service" for name in checks["failed_units_ignore"]}
        failed = sorted(set(systemd["failed_units"]) - ignored)
        results.append(_check(
            "failed_units", "systemd", checks["failed_units"] if failed else "ok",
            failed, [], f"{len(failed)} unit(s) in failed state" + (": " + ", ".join(failed) if failed else ""),
        ))
    return results


def check_containers(runtimes, checks):
    results = []
    containers = {}
    for runtime, facts in runtimes.items():
        if facts.get("error"):
            results.append(_check(f"runtime:{runtime}", "containers", "warn", "error", "readable", facts["error"]))
        for container in facts["containers"]:
            containers[container["name"]] = dict(container, runtime=runtime)
    wanted_healthy = set(checks["containers_healthy"])
    for name in sorted(set(checks["containers_running"]) | wanted_healthy):
        container = containers.get(name)
        expected = "running, healthy" if name in wanted_healthy else "running"
        if container is None:
            results.append(_check(f"container:{name}", "containers", "fail", "absent", expected,
                                  f"no container named {name}"))
            continue
        observed = container["state"]
        if container["health"]:
            observed += f" ({container['health']})"
        elif not container["running"] and container["exit_code"] is not None:
            observed += f" (exit code {container['exit_code']})"
        status = "ok"
        if not container["running"]:
            status = "fail"
        elif name in wanted_healthy and container["health"] != "healthy":
            status = "fail"
        results.append(_check(f"container:{name}", "containers", status, observed, expected,
                              f"{name} ({container['image']}) is {observed}, "
                              f"{container['restart_count']} restarts"))
    if checks["containers_unhealthy"] != "ignore":
        named = set(checks["containers_running"]) | wanted_healthy
        unhealthy = sorted(n for n, c in containers.items() if c["health"] == "unhealthy" and n not in named)
        if unhealthy:
            results.append(_check("unhealthy_containers", "containers", checks["containers_unhealthy"], unhealthy,
                                  [], "unhealthy: " + ", ".join(unhealthy)))
    return results


def check_journald(journald, checks):
    results = []
    if journald.get("error"):
        results.append(_check("journald_config", "logs", "fail", "invalid", "valid journald.conf", journald["error"]))
    try:
        wanted_use = parse_size(checks.get("journald_max_use"))
        wanted_retention = parse_timespan(checks.get("journald_max_retention"))
    except ValueError as exc:
        return [*results, _check("journald_thresholds", "logs", "fail", "invalid", "valid thresholds", str(exc))]
    configured_use = journald["system_max_use_bytes"]
    # The limit is what journald was configured with; the threshold is the fallback
    # (and a cap: a configured limit above the policy is itself reported).
    limit = configured_use if configured_use is not None else wanted_use
    usage = journald["system_usage_bytes"]
    if limit is not None:
        status = "fail" if usage > limit else ("warn" if usage > 0.9 * limit else "ok")
        results.append(_check(
            "journald_disk_usage", "logs", status, _human(usage), f"<= {_human(limit)}",
            f"persistent journal uses {_human(usage)} of SystemMaxUse {_human(limit)}"
            + ("" if configured_use is not None else " (threshold: SystemMaxUse is not set)"),
        ))
    if wanted_use is not None:
        ok = configured_use is not None and configured_use <= wanted_use
        results.append(_check(
            "journald_max_use", "logs", "ok" if ok else "warn",
            _human(configured_use) if configured_use is not None else "unset", f"<= {_human(wanted_use)}",
            "SystemMaxUse " + ("matches the policy" if ok else "is unset or above the policy"),
        ))
    if wanted_retention is not None:
        configured = journald["max_retention_seconds"]
        ok = configured is not None and 0 < configured <= wanted_retention
        results.append(_check(
            "journald_retention", "logs", "ok" if ok else "warn",
            journald["config"].get("MaxRetentionSec", "unset"), f"<= {checks['journald_max_retention']}",
            "MaxRetentionSec " + ("matches the policy" if ok else "is unset or longer than the policy"),
        ))
    return results


def check_logs(logs, checks):
    if checks["log_files"] == "ignore":
        return []
    results = []
    for kind, limit in (("old", f"mtime within {_days(logs['max_age_seconds'])}"),
                        ("oversized", f"<= {_human(logs['max_size_bytes'])}")):
        count = logs[f"{kind}_count"]
        listed = [entry["path"] for entry in logs[f"{kind}_files"]]
        results.append(_check(
            f"log_files_{kind}", "logs", checks["log_files"] if count else "ok", count, limit,
            f"{count} {kind} log file(s) under {', '.join(logs['directories'])}"
            + (": " + ", ".join(listed) + (" ..." if count > len(listed) else "") if listed else ""),
        ))
    return results


def evaluate(facts, checks):
    """All checks for the sections present in ``facts``."""
    results = []
    if "systemd" in facts:
        results.extend(check_systemd(facts["systemd"], checks))
    if "containers" in facts:
        results.extend(check_containers(facts["containers"], checks))
    if "disks" in facts:
        results.extend(check_disks(facts["disks"], checks))
    if "journald" in facts:
        results.extend(check_journald(facts["journald"], checks))
    if "logs" in facts:
        results.extend(check_logs(facts["logs"], checks))
    return results


def _human(value):
    if value is None:
        return "unset"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024.0
    return str(value)  # pragma: no cover


def _days(seconds):
    return "unlimited" if seconds is None else f"{seconds / 86400:g} days"
