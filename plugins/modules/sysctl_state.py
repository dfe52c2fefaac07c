#!/usr/bin/python
# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: sysctl_state
short_description: Compare wanted kernel parameters with the running kernel (read-only)
version_added: 0.1.0
description:
  - Reads each parameter of O(parameters) from C(/proc/sys) and compares it with the wanted value in the kernel's
    canonical spacing (C("4096 131072 6291456") equals C(4096<TAB>131072<TAB>6291456)); booleans count as 1/0.
  - Returns what differs and can be written here (RV(apply), and RV(apply_args) in the order to write it, forwarding
    switches first), and what differs and cannot be written here with the reason (RV(unapplied)).
  - The module only reads; it never changes the host. The C(stability.ops.core_sysctl) role runs it as its probe
    and writes RV(apply_args) with C(sysctl -w).
  - A module returns its result as JSON whatever the connection's terminal does, so the probe works over SSH with
    C(become) (where sudo's warnings share the script's pseudo-terminal) as well as over the docker connection.
author:
  - Stability Ops maintainers (@stability-ops)
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff to show.
  platform:
    support: full
    platforms: posix
    description: Linux hosts with C(/proc/sys).
options:
  parameters:
    description:
      - Kernel parameters, name -> wanted value, in dotted form (C(net.ipv4.tcp_syncookies)) or slash form for names
        whose components contain dots (C(net/ipv4/conf/eth0.100/rp_filter)).
      - Values as C(sysctl -n) prints them; multi-value parameters as one string (C("4096 131072 6291456")).
      - A name that is not a parameter name, or a slash-form name with a C(..) component, fails the module.
    type: dict
    required: true
  dropin:
    description:
      - The sysctl.d file the parameters are written to. When given, the module also reads the files
        C(systemd-sysctl) reads at boot (C(/etc/sysctl.d), C(/run/sysctl.d), C(/usr/local/lib/sysctl.d),
        C(/usr/lib/sysctl.d), by file name, C(/etc) winning a name; then C(/etc/sysctl.conf) unless linked from
        one of them) and returns in RV(overrides) the parameters a file read after O(dropin) sets to another value.
      - The file need not exist yet; its name decides its place.
    type: path
    version_added: 0.2.0
  ignore:
    description: Files that are not counted as overriding O(dropin) (the role's own drop-in under another name).
    type: list
    elements: path
    default: []
    version_added: 0.2.0
notes:
  - Writing a forwarding switch (C(net.ipv4.ip_forward), C(*.forwarding)) makes the kernel reset
    C(net.ipv4.conf.all.accept_redirects); when a switch is in RV(apply) and that parameter is wanted, it is in
    RV(apply) too, after the switch, even if it matches now.
seealso:
  - name: stability.ops.core_sysctl role
    description: Writes the parameters to a sysctl.d drop-in and applies what this module reports.
    link: https://example.invalid/stability/ops/docs/roles/core_sysctl.md
  - module: ansible.posix.sysctl
    description: Sets one parameter at a time, in a file and in the kernel.
"""

EXAMPLES = r"""
- name: Compare the wanted values with the effective ones
  stability.ops.sysctl_state:
    parameters:
      net.ipv4.tcp_syncookies: 1
      net.ipv4.tcp_rmem: "4096 131072 6291456"
      net/ipv4/conf/eth0.100/rp_filter: 2
    dropin: /etc/sysctl.d/90-stability-ops.conf
  register: sysctl

- name: Fail when a later sysctl.d file overrides a parameter at boot
  ansible.builtin.fail:
    msg: "{{ sysctl.overrides }}"
  when: sysctl.overrides | length > 0

- name: Apply what differs, in the order the module gives
  ansible.builtin.command:
    argv: "{{ ['sysctl', '-w'] + sysctl.apply_args }}"
  changed_when: true
  when: sysctl.apply_args | length > 0
"""

RETURN = r"""
effective:
  description: The effective value of every wanted parameter, in canonical spacing; null when it has none here
    (unknown parameter, write-only trigger).
  returned: always
  type: dict
  sample: {net.ipv4.tcp_syncookies: "0", net.ipv4.tcp_rmem: "4096 131072 6291456"}
apply:
  description: The parameters whose effective value differs and that can be written here, name -> wanted value.
  returned: always
  type: dict
  sample: {net.ipv4.tcp_syncookies: "1"}
apply_args:
  description: RV(apply) as C(sysctl -w) arguments (C(name=value)), forwarding switches first, then by name.
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.ip_forward=0, net.ipv4.conf.all.accept_redirects=0]
overrides:
  description:
    - With O(dropin), the wanted parameters that a file read after it at boot sets to another value, by name, each
      with the last such file (whose value wins at boot); empty without O(dropin).
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    name:
      description: The parameter, as given in O(parameters).
      type: str
      returned: always
    file:
      description: The file whose setting wins at boot.
      type: str
      returned: always
    value:
      description: The value it sets, in canonical spacing.
      type: str
      returned: always
  sample: [{name: net.ipv4.ip_forward, file: /etc/sysctl.d/99-custom.conf, value: "1"}]
unapplied:
  description: The parameters whose effective value differs and that cannot be written here.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The parameter, as given.
      type: str
      returned: always
    wanted:
      description: The wanted value, in canonical spacing.
      type: str
      returned: always
    effective:
      description: The effective value, null when it has none.
      type: str
      returned: always
    problem:
      description:
        - Why it cannot be written here, as a code for programs (the C(stability.ops.core_sysctl) role's warning
          groups by it, P(stability.ops.sysctl_unapplied_report#filter)).
        - V(unknown) (no such parameter here), V(write_only) (a trigger without a value), V(read_only_mount)
          (C(/proc/sys) mounted read-only, as in containers), V(not_writable) (a read-only parameter, or one not
          namespaced in this container).
      type: str
      choices: [unknown, write_only, read_only_mount, not_writable]
      returned: always
      version_added: 0.1.0
    reason:
      description: Why it cannot be written here (unknown parameter, write-only trigger, C(/proc/sys) mounted
        read-only, not writable), and, when a later file overrides it at boot, that it is not applied there either.
      type: str
      returned: always
    overridden_by:
      description: With O(dropin), the file read after it that sets the parameter to another value at boot.
      type: str
      returned: when a later file overrides the parameter
      version_added: 0.2.0
  sample:
    - name: kernel.msgmax
      wanted: "16384"
      effective: "8192"
      problem: read_only_mount
      reason: "/proc/sys is mounted read-only here (container): applied at the next boot of a host"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stability.ops.plugins.module_utils.sysctl_state import (
    compare,
    config_overrides,
    invalid_names,
    mark_overridden,
)

ARGUMENT_SPEC = {
    "parameters": {"type": "dict", "required": True},
    "dropin": {"type": "path"},
    "ignore": {"type": "list", "elements": "path", "default": []},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    parameters = module.params["parameters"]
    bad = invalid_names(parameters)
    if bad:
        module.fail_json(
            msg="not kernel parameter names (dotted net.ipv4.tcp_syncookies or slash net/ipv4/conf/eth0.100/rp_filter, "
            f"no '..'): {', '.join(bad)}"
        )
    result = compare(parameters)
    dropin = module.params["dropin"]
    result["overrides"] = config_overrides(parameters, dropin, module.params["ignore"]) if dropin else []
    module.exit_json(changed=False, **mark_overridden(result, result["overrides"]))


if __name__ == "__main__":
    main()
