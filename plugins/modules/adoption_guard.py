# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the work is done on the controller by the
# action plugin plugins/action/adoption_guard.py; no module runs on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: adoption_guard
short_description: Stop before a role closes, drops, locks out or leaves unmanaged what a lived-in host depends on
version_added: 0.1.0
description:
  - Controller-side verdict (no module is sent to any host) on the adoption findings of one role, computed by the
    role's C(tasks/adoption.yml) from the host's current state before the role writes anything.
  - A finding is a dict with C(item) (a short stable identifier such as C(8080/tcp)), C(kind) (C(close), C(drop),
    C(lockout), C(unmanaged), C(override) or C(unfetchable)), C(detail) (what is on the host and what the run would
    do to it, never a secret value), C(accept_with) (the role variable, a list, that accepts the item), C(accepted)
    (true when that variable lists the item) and optionally C(carry_with) (the variable that carries the
    configuration through instead) and C(role).
  - Without O(defer), fails when any finding is not accepted, with one message listing every unaccepted finding
    grouped by the variable that accepts it, and a note that nothing on the host was changed. Accepted findings are
    printed as warnings (C(proceeding because <variable> lists <item>)).
  - With O(defer=true) it never fails and adds the findings to the host fact C(stability_ops_adoption_pending)
    (a dict of role name to findings). O(role=all) without findings then fails on every unaccepted pending finding
    of every role, in one message per host, as the C(Adoption discovery) play of C(production_deploy.yml) does.
  - The rules live in C(plugins/plugin_utils/adoption.py).
options:
  role:
    description:
      - The role whose findings these are, or C(all) to act on every finding in C(stability_ops_adoption_pending).
    type: str
    required: true
  findings:
    description:
      - The role's findings (see the description for the keys). Must be empty with O(role=all).
    type: list
    elements: dict
    default: []
  defer:
    description:
      - Record the findings in C(stability_ops_adoption_pending) instead of failing; the caller runs the guard with
        O(role=all) later. Not allowed with O(role=all).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: It changes nothing and runs (and fails) in check mode too; that is the adoption report.
  diff_mode:
    support: none
    description: It changes nothing, so there is no diff to show.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller only (an action plugin); no connection to the host is made.
author:
  - Stability Ops maintainers (@stability-ops)
notes:
  - With O(role=all), a passing verdict resets C(stability_ops_adoption_pending) to an empty dict so that a persistent
    fact cache does not replay the findings in the next run.
seealso:
  - name: Adoption guide
    description: Bringing an existing fleet under stability.ops (check-mode report, carry or accept, canary, rollout).
    link: https://example.invalid/stability/ops/docs/adoption.md
"""

EXAMPLES = r"""
- name: Stop when the new ruleset would close what the host serves
  stability.ops.adoption_guard:
    role: security_firewall
    findings: "{{ __security_firewall_findings }}"
    defer: "{{ stability_ops_adoption_defer | default(false) }}"

- name: Stop on every deferred finding of every role, in one message
  stability.ops.adoption_guard:
    role: all
"""

RETURN = r"""
adoption:
  description: The verdict's data, read by the Deployment Health Summary.
  returned: always
  type: dict
  contains:
    role: {description: The O(role) argument., type: str}
    findings:
      description: The checked findings; with O(role=all) each one has its C(role) key.
      type: list
      elements: dict
    unaccepted: {description: How many findings are not accepted., type: int}
  sample:
    role: security_firewall
    findings:
      - item: 8080/tcp
        kind: close
        detail: "python3 listens on 0.0.0.0:8080; nftables rule 'tcp dport 8080 accept' would be dropped"
        accept_with: security_firewall_accept_closing
        accepted: false
    unaccepted: 1
ansible_facts:
  description: With O(defer=true), C(stability_ops_adoption_pending) merged with this role's findings; with
    O(role=all) and a passing verdict, C(stability_ops_adoption_pending) reset to an empty dict.
  returned: when O(defer=true), or O(role=all) passes
  type: dict
checked_roles:
  description:
    - The roles whose deferred discovery ran and passed, sorted. A play that registers the result as
      C(stability_ops_adoption_discovered) lets these roles skip their own discovery later in the same run
      (registered results, unlike facts, never outlive the run).
  returned: when O(role=all) passes
  type: list
  elements: str
  sample: [core_users, security_firewall]
msg:
  description: The verdict; on failure every unaccepted finding and the variable that accepts it.
  returned: always
  type: str
"""
