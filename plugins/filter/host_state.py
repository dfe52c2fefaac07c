# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
name: host_state_changes
short_description: What differs between two host_state snapshots, as short lines
version_added: 0.1.0
description:
  - Compares two snapshots of the M(stability.ops.host_state) module and returns one human-readable line per
    difference, ordered by kind (files, unit files, units, packages, nftables), then by path or name.
  - Lines name the path, unit or package and what changed (created, removed, content, mode, owner, enablement,
    activity, version), never what a file holds.
  - An empty list means the two snapshots are the same.
author:
  - Stability Ops maintainers (@stability-ops)
positional: after, limit
options:
  _input:
    description: The earlier snapshot, RV(stability.ops.host_state#module:host_state), or the module's whole
      registered result.
    type: dict
    required: true
  after:
    description: The later snapshot, in the same form.
    type: dict
    required: true
  limit:
    description: List at most this many differences, then one C(... and N more) line; V(0) lists all.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Fail when the run changed the host, naming the first twenty differences
  ansible.builtin.assert:
    that: __before | stability.ops.host_state_changes(__after) | length == 0
    fail_msg: "{{ __before | stability.ops.host_state_changes(__after, limit=20) | join('; ') }}"

# ['file /etc/motd: content changed', 'file /etc/ssh/sshd_config.d/10-hardening.conf: created',
#  'unit chrony.service: active/running -> inactive/dead', 'package chrony: 4.6.1-1 -> 4.6.1-2']
"""

RETURN = r"""
_value:
  description: One line per difference; empty when the snapshots are the same.
  type: list
  elements: str
  sample:
    - "file /etc/motd: content changed"
    - "file /etc/chrony/conf.d/10-lab.conf: mode 0644 -> 0600"
    - "unit file nftables.service: disabled -> enabled"
    - "unit chrony.service: active/running -> inactive/dead"
    - "package chrony: 4.6.1-1 -> 4.6.1-2"
    - "nftables ruleset: changed"
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.module_utils.host_state import changes


def host_state_changes(before, after, limit=0):
    try:
        return changes(before, after, limit=int(limit))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"host_state_changes: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"host_state_changes": host_state_changes}
