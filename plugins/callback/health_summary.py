# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
name: health_summary
type: notification
short_description: Write a JSON Deployment Health Summary at the end of every run
version_added: 0.1.0
description:
  - At the end of every run (also failed runs, runs with unreachable hosts, C(--check) runs and runs interrupted
    with Ctrl-C) writes one JSON document atomically (temporary file and rename) with the run's metadata, per host
    task counts, failed tasks, health check results published by the P(stability.ops.health_check#role) role and
    an overall status C(healthy), C(degraded) or C(failed) with the reason.
  - The document follows the JSON Schema C(docs/schemas/health_summary.schema.json) shipped with the collection.
  - A notification callback, so it works next to any stdout callback, also under ansible-runner and AWX.
  - A failed task under C(no_log) contributes its name only. The callback never fails the run; an error inside it
    is shown as a warning and recorded in the document's C(meta.errors).
author:
  - Stability Ops maintainers (@stability-ops)
requirements:
  - Enable it with C(callbacks_enabled = stability.ops.health_summary) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED).
options:
  output_path:
    description:
      - Where the JSON document is written. Parent directories are created.
      - A relative path in C(ansible.cfg) is relative to the directory of that C(ansible.cfg); a relative path in
        the environment is relative to the current directory.
    type: path
    default: health_summary.json
    env:
      - name: STABILITY_OPS_SUMMARY_PATH
    ini:
      - section: callback_health_summary
        key: output_path
    version_added: 0.1.0
  junit_path:
    description: When set, a JUnit XML report (a test suite per host) is also written there, for CI systems.
    type: path
    env:
      - name: STABILITY_OPS_SUMMARY_JUNIT_PATH
    ini:
      - section: callback_health_summary
        key: junit_path
    version_added: 0.1.0
  indent:
    description: JSON indentation; V(0) writes one compact line.
    type: int
    default: 2
    env:
      - name: STABILITY_OPS_SUMMARY_INDENT
    ini:
      - section: callback_health_summary
        key: indent
    version_added: 0.1.0
  print_table:
    description:
      - Print a compact human table of the summary at the end of the run.
      - It goes to standard error, so that a machine-readable stdout callback (for example C(ansible.posix.json)) still
        prints valid JSON.
    type: bool
    default: true
    env:
      - name: STABILITY_OPS_SUMMARY_TABLE
    ini:
      - section: callback_health_summary
        key: print_table
    version_added: 0.1.0
  max_failed_tasks:
    description: At most this many failed tasks are listed per host (the count is always exact).
    type: int
    default: 20
    env:
      - name: STABILITY_OPS_SUMMARY_MAX_FAILED_TASKS
    ini:
      - section: callback_health_summary
        key: max_failed_tasks
    version_added: 0.1.0
  message_max_length:
    description: Failure messages are cut to this many characters.
    type: int
    default: 300
    env:
      - name: STABILITY_OPS_SUMMARY_MESSAGE_MAX_LENGTH
    ini:
      - section: callback_health_summary
        key: message_max_length
    version_added: 0.1.0
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = stability.ops.health_summary
# [callback_health_summary]
# output_path = reports/health_summary.json
# junit_path = reports/health_summary.xml

# or for one run:
# STABILITY_OPS_SUMMARY_PATH=/tmp/summary.json ANSIBLE_CALLBACKS_ENABLED=stability.ops.health_summary \
#   ansible-playbook -i inventory playbooks/production_deploy.yml
"""

RETURN = r"""# This callback returns nothing; it writes the files named by its options."""

import atexit
import functools
import os
import time
from pathlib import Path

from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import (
    SummaryBuilder,
    callback_result,
    dump,
    health_of,
    render_junit,
    render_table,
    write_atomic,
)

HEALTH_ACTIONS = frozenset(("stability.ops.health_facts", "health_facts"))


def _hook(method):
    """Time every hook and turn any exception into a warning: the callback never breaks a run."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            method(self, *args, **kwargs)
        except Exception as exc:
            self._error(method.__name__, exc)
        finally:
            self._hook_seconds += time.perf_counter() - start
            self._hook_calls += 1

    return wrapper


def _collection_version():
    root = Path(__file__).resolve().parents[2]
    for name in ("MANIFEST.json", "galaxy.yml"):
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".json"):
            import json

            return json.loads(text).get("collection_info", {}).get("version")
        for line in text.splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return None


def _task_name(task):
    # The role is reported on its own; the name is the task's own (already templated).
    return to_text(task.name) if task.name else to_text(task.action)


def _will_be_rescued(task):
    """True when the task sits in the ``block`` section of a block that has a ``rescue``."""
    child, parent = task, getattr(task, "_parent", None)
    while parent is not None:
        if getattr(parent, "rescue", None) and any(
            getattr(item, "_uuid", None) == child._uuid for item in getattr(parent, "block", ()) or ()
        ):
            return True
        child, parent = parent, getattr(parent, "_parent", None)
    return False


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "stability.ops.health_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._hook_seconds = 0.0
        self._hook_calls = 0
        self._builder = SummaryBuilder()
        self._written = False
        self._pid = os.getpid()
        self._builder.versions = {"ansible_core": ANSIBLE_CORE_VERSION}
        # ansible-playbook does not reach v2_playbook_on_stats after Ctrl-C; the
        # exit hook writes the partial summary then (only in this process, not in forks).
        atexit.register(self._at_exit)

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._builder.max_failed_tasks = self.get_option("max_failed_tasks")
        self._builder.message_max_length = self.get_option("message_max_length")

    def _error(self, where, exc):
        message = f"{where}: {type(exc).__name__}: {to_text(exc)}"
        self._builder.errors.append(message)
        self._display.warning(f"stability.ops.health_summary: {message}")

    # -- run metadata
    @_hook
    def v2_playbook_on_start(self, playbook):
        self._builder.playbooks.append(os.path.basename(playbook._file_name))
        self._builder.check_mode = bool(context.CLIARGS.get("check", False))
        if "collection" not in self._builder.versions:
            self._builder.versions["collection"] = _collection_version()

    # -- task events: O(1) each, no result is kept
    @_hook
    def v2_runner_on_ok(self, result):
        self._builder.record_ok(result.host.get_name(), result.is_changed())
        self._record_health(result)

    @_hook
    def v2_runner_on_skipped(self, result):
        self._builder.record_skipped(result.host.get_name())

    def _record_health(self, result):
        # The health check's own result: also on a failed task (failed by its fail_on gate).
        if result.task.action not in HEALTH_ACTIONS:
            return
        data, _no_log = callback_result(result)
        if "health_checks" in data:
            self._builder.record_health(result.host.get_name(), health_of(data))

    @_hook
    def v2_runner_on_failed(self, result, ignore_errors=False):
        task = result.task
        self._record_health(result)
        data, no_log = callback_result(result)
        self._builder.record_failed(
            result.host.get_name(),
            _task_name(task),
            task._role.get_name(include_role_fqcn=True) if task._role else None,
            {} if no_log else data,
            no_log=no_log,
            ignored=bool(ignore_errors),
            rescued=_will_be_rescued(task),
        )

    @_hook
    def v2_runner_on_unreachable(self, result):
        data, no_log = callback_result(result)
        self._builder.record_unreachable(
            result.host.get_name(), _task_name(result.task), {} if no_log else data, no_log=no_log,
        )

    # -- the end
    @_hook
    def v2_playbook_on_stats(self, stats):
        summaries = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._builder.apply_stats(summaries, getattr(stats, "custom", {}))
        self._finish(interrupted=False)

    def _at_exit(self):
        if self._written or os.getpid() != self._pid:
            return
        try:
            self._finish(interrupted=True)
        except Exception as exc:
            self._display.warning(f"stability.ops.health_summary: could not write the summary: {exc}")

    def _finish(self, interrupted):
        self._written = True
        document = self._builder.build(interrupted, self._hook_seconds, self._hook_calls)
        path = self.get_option("output_path")
        write_atomic(path, dump(document, self.get_option("indent")))
        junit = self.get_option("junit_path")
        if junit:
            write_atomic(junit, render_junit(document))
        if self.get_option("print_table"):
            # stderr: stdout belongs to the stdout callback, which may be JSON.
            self._display.display(render_table(document), stderr=True)
            self._display.display(f"health summary written to {path}", stderr=True)
