#!/usr/bin/env python
"""Compare wanted kernel parameters with the running kernel; print JSON.

Run by the core_sysctl role (ansible.builtin.script) with one argument, a
JSON object {name: value}. Reads /proc/sys only, never writes. Prints:

    {"effective": {name: value-or-null},
     "apply": {name: wanted},           # differs and can be written here
     "apply_args": ["name=wanted", ...], # the same, in the order to write them
     "unapplied": [{"name", "wanted", "effective", "reason"}]}

Values are compared in the kernel's canonical spacing ("4096 131072 6291456"),
booleans as 1/0.
"""

import json
import os
import sys

PROC_SYS = "/proc/sys"


def normalise(value):
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def proc_path(name):
    # The slash form keeps dots inside a component (net/ipv4/conf/eth0.100/rp_filter).
    relative = name if "/" in name else name.replace(".", "/")
    return os.path.join(PROC_SYS, relative)


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


# What the kernel rewrites when a forwarding switch is written:
# net/ipv4/devinet.c inet_forward_change() sets conf.all.accept_redirects to
# !forwarding. A wanted value for it is written again after the switch.
RESET_BY_FORWARDING = ("net.ipv4.conf.all.accept_redirects",)


def is_forwarding_switch(name):
    return name.replace("/", ".").endswith(("ip_forward", ".forwarding"))


def apply_args(apply):
    """sysctl -w arguments, forwarding switches first.

    Writing a forwarding switch makes the kernel reset other settings (a
    change of net.ipv4.ip_forward sets conf.all.accept_redirects to
    !forwarding), so a value written before it would not stick and the next
    run would write it again.
    """
    names = sorted(apply, key=lambda name: (not is_forwarding_switch(name), name))
    return [f"{name}={apply[name]}" for name in names]


def compare(wanted):
    result = {"effective": {}, "apply": {}, "unapplied": []}
    for name in sorted(wanted):
        want = normalise(wanted[name])
        path = proc_path(name)
        exists = os.path.exists(path)
        effective = read_value(path) if exists and os.access(path, os.R_OK) else None
        result["effective"][name] = effective
        if effective == want:
            continue
        if not exists:
            reason = f"unknown parameter: {path} does not exist (kernel module not loaded?)"
        elif effective is None:
            reason = "write-only trigger: it has no value to compare, so it is never applied"
        elif read_only_mount(path):
            reason = "/proc/sys is mounted read-only here (container): applied at the next boot of a host"
        elif not os.access(path, os.W_OK):
            reason = "not writable here: read-only parameter or not namespaced in this container"
        else:
            result["apply"][name] = want
            continue
        result["unapplied"].append({"name": name, "wanted": want, "effective": effective, "reason": reason})
    if any(is_forwarding_switch(name) for name in result["apply"]):
        unapplied = {entry["name"] for entry in result["unapplied"]}
        for name in RESET_BY_FORWARDING:
            if name in wanted and name not in unapplied:
                result["apply"][name] = normalise(wanted[name])
    result["apply_args"] = apply_args(result["apply"])
    return result


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: sysctl_state.py '{\"name\": value, ...}'\n")
        return 2
    print(json.dumps(compare(json.loads(argv[1])), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
