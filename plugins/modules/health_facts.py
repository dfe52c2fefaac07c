#!/usr/bin/python
# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: health_facts
short_description: Gather systemd, container, disk and log health of a host in one pass
version_added: 0.1.0
description:
  - Reads, in one module execution, the state of systemd units (listed units and every unit in C(failed) state),
    docker and podman containers, disk and inode usage of every real mount, journald disk usage and its
    configured limits, and log files beyond a retention age or a size limit.
  - Commands (C(systemctl), the container CLIs) run concurrently; docker is read through its API socket when
    the socket is there, so no CLI process is needed. Disk, journal and log data come from C(/proc) and the
    file system directly.
  - With O(checks), the facts are evaluated on the host against thresholds and returned as structured results
    (name, status C(ok)/C(warn)/C(fail), observed, expected), ready for the
    P(stability.ops.health_summary#callback) callback.
  - The module only reads. It never changes the host.
  - Its action plugin validates every option on the controller before the module reaches the host, then, on
    the controller, publishes RV(health_checks) and RV(health_status) as C(set_stats) data (O(publish_stats)) and
    fails the task on checks at or above O(fail_on). A health check is then one task per host, with no
    C(ansible.builtin.set_stats), C(ansible.builtin.fail) or argument-validation task around it.
author:
  - Stability Ops maintainers (@stability-ops)
attributes:
  action:
    support: full
    description: The action plugin validates the options, runs the module on the host, publishes the results and
      applies O(fail_on) on the controller.
  async:
    support: none
    description: The action plugin does not run the module asynchronously.
  check_mode:
    support: full
    description: The module only reads, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff to show.
options:
  collect:
    description: The sections to gather.
    type: list
    elements: str
    choices: [systemd, containers, disk, journald, logs]
    default: [systemd, containers, disk, journald, logs]
  units:
    description:
      - Units whose state is reported (active, enabled, sub-state, restarts, since).
      - Units in O(checks.units_active) are always reported. A name without a suffix means C(.service).
    type: list
    elements: str
    default: []
  container_runtimes:
    description: Container runtimes to query. A runtime that is not installed is reported with C(present=false).
    type: list
    elements: str
    choices: [docker, podman]
    default: [docker, podman]
  docker_socket:
    description: The docker Engine API socket. When it is not a socket, the C(docker) CLI is used if installed.
    type: path
    default: /var/run/docker.sock
  disk_exclude:
    description:
      - Mount points equal to or below these paths are not reported (kernel interfaces, container layers, snaps).
      - Pseudo file systems (proc, sysfs, cgroup, devpts, squashfs, ...) are never reported.
    type: list
    elements: path
    default: [/proc, /sys, /dev, /run/user, /run/docker, /run/netns, /run/containerd, /var/lib/docker,
              /var/lib/containers, /var/lib/kubelet, /snap]
  log_dirs:
    description: Directories searched recursively for old or oversized log files (journal files are skipped).
    type: list
    elements: path
    default: [/var/log]
  log_max_age:
    description: A log file whose modification time is older than this systemd time span (C(30d), C(1month)) is old.
    type: str
    default: 30d
  log_max_size:
    description: A log file larger than this size (C(100M), base 1024) is oversized.
    type: str
    default: 100M
  log_report_limit:
    description: At most this many old and this many oversized files are listed; the counts are always exact.
    type: int
    default: 20
  publish_stats:
    description:
      - Publish RV(health_checks) and RV(health_status) as C(set_stats) data under
        C(stability_ops_health.<inventory_hostname>) (C(per_host=false), C(aggregate=true)), the same data an
        M(ansible.builtin.set_stats) task would publish. ansible-runner and AWX show it as the job's artifacts;
        the P(stability.ops.health_summary#callback) callback reads it too.
      - Needs O(checks). Ansible publishes the data of a successful task only. When O(fail_on) fails the task,
        the data stays in the failed result's C(ansible_stats) (O(failed_result=full)); a C(rescue) can publish it
        with M(ansible.builtin.set_stats).
    type: bool
    default: false
  fail_on:
    description:
      - Fail the task when a check of O(checks) has this status (V(warn) means warn or fail). The message names
        every failing check. V(never) only reports; the module never fails on a check by itself.
      - Needs O(checks) unless V(never).
    type: str
    choices: [fail, warn, never]
    default: never
  fail_in_check_mode:
    description:
      - Apply O(fail_on) in check mode too. A check-mode run sees the host as it was before the changes it would
        make, so by default its checks are reported, not failed.
    type: bool
    default: false
  failed_result:
    description:
      - What the result of a task that O(fail_on) failed holds. V(full) keeps every fact, check and the C(ansible_stats)
        of O(publish_stats).
      - V(short) keeps only C(msg), RV(health_status) and RV(health_failed_checks), so that the C(fatal:) line a stdout
        callback prints stays a few lines; the facts and checks are then not in the failed result. The
        C(stability.ops.health_check) role runs the module again in its C(rescue) with O(fail_on=never) to report
        and publish them.
    type: str
    choices: [full, short]
    default: full
    version_added: 0.3.0
  checks:
    description:
      - Thresholds. When set, the module also returns RV(health_checks) and RV(health_status).
    type: dict
    suboptions:
      disk_warn_percent:
        description: Disk usage (percent) at which a mount is C(warn).
        type: float
        default: 80
      disk_fail_percent:
        description: Disk usage (percent) at which a mount is C(fail).
        type: float
        default: 90
      inode_warn_percent:
        description: Inode usage (percent) at which a mount is C(warn).
        type: float
        default: 80
      inode_fail_percent:
        description: Inode usage (percent) at which a mount is C(fail).
        type: float
        default: 90
      units_active:
        description: Units that must be active; any other state is C(fail).
        type: list
        elements: str
        default: []
      failed_units:
        description: Status given when any unit is in C(failed) state.
        type: str
        choices: [fail, warn, ignore]
        default: fail
      failed_units_ignore:
        description: Units whose C(failed) state is not reported.
        type: list
        elements: str
        default: []
      containers_running:
        description: Containers (by name) that must exist and run.
        type: list
        elements: str
        default: []
      containers_healthy:
        description: Containers (by name) that must run with health status C(healthy).
        type: list
        elements: str
        default: []
      containers_unhealthy:
        description: Status given when any other container is C(unhealthy).
        type: str
        choices: [fail, warn, ignore]
        default: warn
      journald_max_use:
        description:
          - Policy for journald's C(SystemMaxUse) (size, base 1024). The configured C(SystemMaxUse) must not
            exceed it (C(warn) otherwise).
          - Persistent journal usage above the configured C(SystemMaxUse) (or above this value when none is
            configured) is C(fail).
        type: str
      journald_max_retention:
        description: Policy for journald's C(MaxRetentionSec); unset or longer is C(warn).
        type: str
      log_files:
        description: Status given when old or oversized log files are found.
        type: str
        choices: [fail, warn, ignore]
        default: warn
notes:
  - Disk usage is computed like C(df) (used over used plus available to unprivileged users).
  - Journal usage is the allocated size of the C(*.journal) files, as C(journalctl --disk-usage) counts it.
  - The effective journald configuration is read from C(/etc/systemd/journald.conf) and the C(journald.conf.d)
    drop-in directories in systemd's order, the same files C(systemd-analyze cat-config systemd/journald.conf)
    shows.
seealso:
  - name: stability.ops.health_check role
    description: Runs this module with its thresholds on every host and publishes the results for the summary.
    link: https://example.invalid/stability/ops/docs/roles/health_check.md
  - plugin: stability.ops.health_summary
    plugin_type: callback
    description: Writes the results of O(checks) into the Deployment Health Summary at the end of the run.
"""

EXAMPLES = r"""
- name: Report a few units and every failed one
  stability.ops.health_facts:
    collect: [systemd]
    units: [ssh, cron]

- name: Gather everything and evaluate it
  stability.ops.health_facts:
    checks:
      units_active: [ssh]
      containers_running: [web]
      disk_fail_percent: 95
      journald_max_use: 200M
      journald_max_retention: 1month
  register: health

- name: Evaluate, publish the results for AWX artifacts and the health summary, fail on a failed check
  stability.ops.health_facts:
    checks:
      units_active: [ssh]
    publish_stats: true
    fail_on: fail

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ health.health_checks | selectattr('status', 'eq', 'fail') | map(attribute='name') | list }}"
"""

RETURN = r"""
health_facts:
  description: The gathered facts, one key per collected section, plus C(timings) in seconds per section.
  returned: always
  type: dict
  contains:
    systemd:
      description: C(present), C(error), C(units) (name, load_state, active_state, sub_state, active,
        unit_file_state, enabled, restarts, since) and C(failed_units) (names).
      type: dict
      returned: when collected
    containers:
      description: Per runtime (C(docker), C(podman)) C(present), C(source) (socket or cli), C(error) and
        C(containers) (name, id, image, state, running, exit_code, health, restart_count, started_at, finished_at).
      type: dict
      returned: when collected
    disks:
      description: Per real mount C(mount), C(device), C(fstype), sizes in bytes, C(used_percent),
        C(inodes_used_percent) (null when the file system has no inode limit).
      type: list
      elements: dict
      returned: when collected
    journald:
      description: C(config) (effective C([Journal]) settings), C(config_files), C(system_usage_bytes),
        C(runtime_usage_bytes), C(system_max_use_bytes), C(max_retention_seconds).
      type: dict
      returned: when collected
    logs:
      description: Counts and (bounded) lists of old and oversized log files.
      type: dict
      returned: when collected
    timings:
      description: Seconds spent per section and in total.
      type: dict
      returned: always
health_checks:
  description: One result per check.
  returned: when O(checks) is set
  type: list
  elements: dict
  sample:
    - name: "disk:/"
      category: disk
      status: ok
      observed: 41.2% used
      expected: < 80% (fail at 90%)
      message: / (ext4) is 41.2% full
health_status:
  description: The most severe status of RV(health_checks) (C(ok), C(warn) or C(fail)).
  returned: when O(checks) is set
  type: str
  sample: warn
health_failed_checks:
  description: The names of the checks that failed the task.
  returned: when O(fail_on) failed the task and O(failed_result=short)
  type: list
  elements: str
  sample: ["disk:/var"]
  version_added: 0.3.0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stability.ops.plugins.module_utils.health_checks import (
    argument_spec,
    evaluate,
    worst,
)
from ansible_collections.stability.ops.plugins.module_utils.health_facts import (
    gather,
    parse_size,
    parse_timespan,
)


def _unit_name(name):
    return name if "." in name else name + ".service"


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = dict(module.params)
    checks = params["checks"]
    wanted = params["units"] + (checks["units_active"] if checks else [])
    params["units"] = list(dict.fromkeys(_unit_name(name) for name in wanted))
    try:
        parse_timespan(params["log_max_age"])
        parse_size(params["log_max_size"])
        if checks:
            parse_size(checks["journald_max_use"])
            parse_timespan(checks["journald_max_retention"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    facts = gather(params)
    result = {"changed": False, "health_facts": facts}
    if checks:
        result["health_checks"] = evaluate(facts, checks)
        result["health_status"] = worst(check["status"] for check in result["health_checks"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
