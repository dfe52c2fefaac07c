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

import fnmatch
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


# Where systemd-sysctl reads its drop-ins, the first directory winning for a file name (sysctl.d(5)), and the file
# procps' `sysctl --system` reads after them all.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSCTL_CONF = "/etc/sysctl.conf"
REASON_OVERRIDDEN = (
    "and at boot {file} sets {value} after the drop-in, so the drop-in's value is not applied there either")


def key_path(name):
    """The /proc/sys relative path of a parameter name in either form (sysctl.d(5): a first '/' means slash form)."""
    name = name.strip().lstrip("-").strip()
    first = min((index for index in (name.find("."), name.find("/")) if index >= 0), default=-1)
    if first >= 0 and name[first] == "/":
        return name.strip("/")
    return name.translate(str.maketrans("./", "/."))


def parse_settings(text):
    """The ``(name, value)`` settings of a sysctl.d file, in file order; comments and blank lines skipped."""
    settings = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, value = line.split("=", 1)
        settings.append((name.strip().lstrip("-").strip(), normalise(value)))
    return settings


def config_files(dirs=SYSCTL_DIRS, sysctl_conf=SYSCTL_CONF):
    """The files systemd-sysctl reads, in its order (by file name, the first directory winning a name), then
    ``sysctl_conf`` unless one of them already is it (Debian links /etc/sysctl.d/99-sysctl.conf to it).

    A file linked to /dev/null masks the name (sysctl.d(5)) and is left out.
    """
    chosen = {}
    seen_dirs = set()
    for directory in dirs:
        real = os.path.realpath(directory)
        if real in seen_dirs or not os.path.isdir(directory):
            continue
        seen_dirs.add(real)
        for entry in sorted(os.listdir(directory)):
            if entry.endswith(".conf") and entry not in chosen:
                chosen[entry] = os.path.join(directory, entry)
    files = [chosen[name] for name in sorted(chosen) if os.path.realpath(chosen[name]) != os.devnull]
    files = [path for path in files if os.path.isfile(path)]
    if os.path.isfile(sysctl_conf) and os.path.realpath(sysctl_conf) not in {os.path.realpath(f) for f in files}:
        files.append(sysctl_conf)
    return files


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def config_overrides(wanted, dropin, ignore=(), dirs=SYSCTL_DIRS, sysctl_conf=SYSCTL_CONF):
    """The wanted parameters that a file read after ``dropin`` sets to another value at boot.

    ``dropin`` is the role's file (its name decides its place, whether it exists yet or not); files in ``ignore``
    (the role's own, under another name) do not count. Returns ``[{name, file, value}]`` by name, with the last
    file that sets each name: the value that wins at boot.
    """
    base = os.path.basename(dropin)
    ignored = {os.path.realpath(path) for path in (dropin, *ignore)}
    later = [path for path in config_files(dirs, sysctl_conf)
             if os.path.realpath(path) not in ignored
             and (os.path.basename(path) > base or path == sysctl_conf)]
    wanted_paths = {name: key_path(name) for name in wanted}
    winners = {}
    for path in later:
        for key, value in parse_settings(read_text(path)):
            pattern = key_path(key)
            for name, relative in wanted_paths.items():
                if fnmatch.fnmatchcase(relative, pattern):
                    winners[name] = {"name": name, "file": path, "value": value}
    return [winners[name] for name in sorted(winners) if winners[name]["value"] != normalise(wanted[name])]


def mark_overridden(result, overrides):
    """Tell, in the reason of an unapplied parameter, that a later file overrides it at boot too."""
    by_name = {entry["name"]: entry for entry in overrides}
    for entry in result["unapplied"]:
        override = by_name.get(entry["name"])
        if override is None:
            continue
        entry["overridden_by"] = override["file"]
        if entry["problem"] == PROBLEM_READ_ONLY_MOUNT:
            entry["reason"] = "/proc/sys is mounted read-only here (container), " + REASON_OVERRIDDEN.format(**override)
    return result
