#!/usr/bin/python
# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: host_state
short_description: Snapshot the managed state of a host (read-only)
version_added: 0.1.0
description:
  - Takes, in one module execution, a snapshot of what the roles of this collection manage on a host, to compare
    with a later one through the P(stability.ops.host_state_changes#filter) filter.
  - "Files: the type, mode, owner and SHA-256 digest of every regular file, and the type, mode and owner (symlinks:
    the target) of every other path under O(paths), on the file system of each path only (as C(find -xdev)),
    symlinks never followed."
  - "Units: the enablement of every service, socket and timer unit file (C(systemctl list-unit-files)) and, where
    systemd runs, the activity (C(active/running)) of the units an administrator enables or disables. The activity
    of units systemd starts on demand (unit file state C(static), C(indirect), C(generated), C(transient), C(alias)
    or none, such as C(systemd-timedated.service)) is left out: it says nothing about what a run changed."
  - "Packages: the version of every package dpkg knows (C(dpkg-query -W)), its status added unless installed."
  - "nftables: the SHA-256 digest of the loaded ruleset without counters and quotas
    (C(nft --stateless list ruleset))."
  - A tool that is not installed leaves its part of the snapshot empty; a tool that fails fails the module, since a
    comparison without that part would prove nothing.
  - The module only reads and always returns C(changed=false). It returns digests, modes, owners, states and
    versions, never the contents of a file. The C(stability.ops.smoke_test) playbook runs it before and
    after a check-mode deploy.
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
    description: Debian hosts (C(dpkg-query)); the unit and ruleset parts need C(systemctl) and C(nft).
options:
  paths:
    description:
      - The trees to snapshot. Shell glob patterns (C(/home/*/.ssh)) are expanded when the module runs.
      - A path that does not exist is left out; created later, everything under it is reported as created.
      - Reading every file needs root for C(/etc/shadow) and C(/root/.ssh) (C(become)); a file that cannot be read
        is recorded as C(unreadable).
    type: list
    elements: str
    default: [/etc, /root/.ssh, /home/*/.ssh, /usr/local/etc]
  exclude:
    description:
      - Shell glob patterns (C(fnmatch), C(*) also matches C(/)) of paths to leave out, such as files another process
        rewrites on its own (C(/etc/resolv.conf)). A directory that matches is not entered.
    type: list
    elements: str
    default: []
notes:
  - Fast enough for a snapshot before and after a run on a host with about ten thousand files under C(/etc). Every
    file is read once and hashed in the module, the commands run from the module (no shell), one round trip per host.
seealso:
  - name: stability.ops.smoke_test playbook
    description: Runs the production deploy in check mode and fails every host this module finds changed.
    link: https://example.invalid/stability/ops/docs/smoke-test.md
"""

EXAMPLES = r"""
- name: Snapshot the managed state before the run
  stability.ops.host_state:
  become: true
  register: before

- name: Snapshot it again, leaving out a file DHCP rewrites
  stability.ops.host_state:
    exclude: [/etc/resolv.conf]
  become: true
  register: after

- name: Fail when anything differs
  ansible.builtin.assert:
    that: before | stability.ops.host_state_changes(after) | length == 0
    fail_msg: "{{ before | stability.ops.host_state_changes(after, limit=20) | join('; ') }}"
"""

RETURN = r"""
host_state:
  description: The snapshot, one dictionary per kind. Compare two with P(stability.ops.host_state_changes#filter).
  returned: success
  type: dict
  contains:
    files:
      description: Path -> C(file MODE OWNER:GROUP sha256:HEX) (C(unreadable) instead of the digest),
        C(directory MODE OWNER:GROUP), C(symlink -> TARGET) or C(TYPE MODE OWNER:GROUP) for fifos, sockets and devices.
      type: dict
      returned: success
    unit_files:
      description: Unit -> unit file state (C(enabled), C(disabled), C(masked), C(static) ...).
      type: dict
      returned: success
    units:
      description: Unit -> C(ACTIVE/SUB) for the units an administrator enables or disables; empty without systemd.
      type: dict
      returned: success
    packages:
      description: Package -> version, with the dpkg status in parentheses unless C(installed).
      type: dict
      returned: success
    nftables:
      description: "C({ruleset: HEX}): the digest of the loaded ruleset; empty without C(nft)."
      type: dict
      returned: success
  sample:
    files:
      /etc/chrony: directory 0755 root:root
      /etc/hostname: file 0644 root:root sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      /etc/localtime: symlink -> /usr/share/zoneinfo/Etc/UTC
    unit_files: {chrony.service: enabled, systemd-timedated.service: static}
    units: {chrony.service: active/running}
    packages: {chrony: 4.6.1-1, nftables: 1.1.3-1}
    nftables: {ruleset: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}
counts:
  description: How many entries each kind of RV(host_state) holds.
  returned: success
  type: dict
  sample: {files: 9812, unit_files: 214, units: 31, packages: 412, nftables: 1}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stability.ops.plugins.module_utils.host_state import (
    DEFAULT_PATHS,
    SnapshotError,
    collect,
    counts,
)

ARGUMENT_SPEC = {
    "paths": {"type": "list", "elements": "str", "default": list(DEFAULT_PATHS)},
    "exclude": {"type": "list", "elements": "str", "default": []},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        state = collect(
            # The C locale keeps systemctl's and dpkg's output in the form the parsers read.
            lambda argv: module.run_command(argv, environ_update={"LC_ALL": "C"}),
            module.get_bin_path,
            paths=module.params["paths"],
            exclude=module.params["exclude"],
        )
    except SnapshotError as exc:
        module.fail_json(msg=f"the host state snapshot could not be taken: {exc}")
    module.exit_json(changed=False, host_state=state, counts=counts(state))


if __name__ == "__main__":
    main()
