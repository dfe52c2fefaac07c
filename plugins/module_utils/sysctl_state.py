# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare wanted kernel parameters with the running kernel (reads /proc/sys only).

Shipped to the managed host with the ``sysctl_state`` module, which the
``core_sysctl`` role runs as its probe. Nothing here writes anything: the role
writes what :func:`compare` returns in ``apply_args`` with ``sysctl -w``.

Values are compared in the kernel's canonical spacing (``"4096 131072
6291456"``), booleans as 1/0.
"""

from __future__ import annotations

import os
import re

PROC_SYS = "/proc/sys"
# Dotted (net.ipv4.tcp_syncookies) or slash form (net/ipv4/conf/eth0.100/rp_filter).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")

# What the kernel rewrites when a forwarding switch is written:
# net/ipv4/devinet.c inet_forward_change() sets conf.all.accept_redirects to
# !forwarding. A wanted value for it is written again after the switch.
RESET_BY_FORWARDING = ("net.ipv4.conf.all.accept_redirects",)

# Why a parameter cannot be written here: a code (the ``problem`` of an unapplied entry, for programs such as
# core_sysctl's warning) and the sentence (its ``reason``, for people).
PROBLEM_UNKNOWN = "unknown"
PROBLEM_WRITE_ONLY = "write_only"
PROBLEM_READ_ONLY_MOUNT = "read_only_mount"
PROBLEM_NOT_WRITABLE = "not_writable"
PROBLEMS = (PROBLEM_UNKNOWN, PROBLEM_WRITE_ONLY, PROBLEM_READ_ONLY_MOUNT, PROBLEM_NOT_WRITABLE)

REASON_UNKNOWN = "unknown parameter: {path} does not exist (kernel module not loaded?)"
REASON_WRITE_ONLY = "write-only trigger: it has no value to compare, so it is never applied"
REASON_READ_ONLY_MOUNT = "/proc/sys is mounted read-only here (container): applied at the next boot of a host"
REASON_NOT_WRITABLE = "not writable here: read-only parameter or not namespaced in this container"


def normalise(value):
    """The kernel's spelling of a value: whitespace runs as one space, booleans as 1/0."""
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def invalid_names(names):
    """Names that are not parameter names, or that would leave /proc/sys (a ``..`` component)."""
    return sorted(name for name in names if not NAME_PATTERN.match(name) or ".." in name.split("/"))


def proc_path(name, proc_sys=PROC_SYS):
    """The /proc/sys file of a parameter; the slash form keeps dots inside a component."""
    relative = name if "/" in name else name.replace(".", "/")
    return os.path.join(proc_sys, relative)


def read_only_mount(path):
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def read_value(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return normalise(handle.read())
    except OSError:
        return None


def is_forwarding_switch(name):
    return name.replace("/", ".").endswith(("ip_forward", ".forwarding"))


def apply_args(apply):
    """``sysctl -w`` arguments, forwarding switches first.

    Writing a forwarding switch makes the kernel reset other settings (a
    change of net.ipv4.ip_forward sets conf.all.accept_redirects to
    !forwarding), so a value written before it would not stick and the next
    run would write it again.
    """
    names = sorted(apply, key=lambda name: (not is_forwarding_switch(name), name))
    return [f"{name}={apply[name]}" for name in names]


def compare(wanted, proc_sys=PROC_SYS, is_read_only_mount=read_only_mount):
    """Compare ``wanted`` ({name: value}) with the running kernel.

    Returns ``{"effective": {name: value-or-None}, "apply": {name: wanted},
    "apply_args": ["name=wanted", ...], "unapplied": [{name, wanted,
    effective, problem, reason}]}``: ``apply`` holds what differs and can be
    written here, ``apply_args`` the same in the order to write it,
    ``unapplied`` what differs and cannot be written here, with the problem
    (one of :data:`PROBLEMS`) and the reason.
    """
    result = {"effective": {}, "apply": {}, "unapplied": []}
    for name in sorted(wanted):
        want = normalise(wanted[name])
        path = proc_path(name, proc_sys)
        exists = os.path.exists(path)
        effective = read_value(path) if exists and os.access(path, os.R_OK) else None
        result["effective"][name] = effective
        if effective == want:
            continue
        if not exists:
            problem, reason = PROBLEM_UNKNOWN, REASON_UNKNOWN.format(path=path)
        elif effective is None:
            problem, reason = PROBLEM_WRITE_ONLY, REASON_WRITE_ONLY
        elif is_read_only_mount(path):
            problem, reason = PROBLEM_READ_ONLY_MOUNT, REASON_READ_ONLY_MOUNT
        elif not os.access(path, os.W_OK):
            problem, reason = PROBLEM_NOT_WRITABLE, REASON_NOT_WRITABLE
        else:
            result["apply"][name] = want
            continue
        result["unapplied"].append(
            {"name": name, "wanted": want, "effective": effective, "problem": problem, "reason": reason})
    if any(is_forwarding_switch(name) for name in result["apply"]):
        unapplied = {entry["name"] for entry in result["unapplied"]}
        for name in RESET_BY_FORWARDING:
            if name in wanted and name not in unapplied:
                result["apply"][name] = normalise(wanted[name])
    result["apply_args"] = apply_args(result["apply"])
    return result
