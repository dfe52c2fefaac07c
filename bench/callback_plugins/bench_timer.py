# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: wall time per task, written as JSON (not shipped)."""

from __future__ import annotations

# ruff: noqa: E402
DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Record the wall time of every task for stability-ops-bench
description:
  - Times each task from its start to the start of the next one (as ansible.posix.profile_tasks does) and writes
    the list, summed per role and task name, as JSON to the path in E(BENCH_TIMER_PATH) at the end of the run.
  - Lives in bench/ and is loaded with E(ANSIBLE_CALLBACK_PLUGINS); it is not part of the collection.
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._current = None
        self._started = time.perf_counter()
        self._tasks: dict[str, dict] = {}
        # Per host: tasks that ran a module on it (a round trip) and tasks skipped there (no round trip).
        self._per_host: dict[str, dict[str, int]] = {}

    def _close(self):
        if self._current is None:
            return
        key, start = self._current
        self._tasks[key]["seconds"] += time.perf_counter() - start
        self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional=False):
        self._close()
        key = task.get_name()  # "<role> : <task>" for a role's task
        self._tasks.setdefault(key, {"task": key, "seconds": 0.0, "runs": 0})["runs"] += 1
        self._current = (key, time.perf_counter())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _count(self, result, kind: str) -> None:
        counts = self._per_host.setdefault(result._host.get_name(), {"executed": 0, "skipped": 0, "loop_items": 0})
        counts[kind] += 1
        # A loop runs its module once per item that was not skipped.
        items = result._result.get("results") if kind == "executed" else None
        if isinstance(items, list):
            counts["loop_items"] += sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))

    def v2_runner_on_ok(self, result):
        self._count(result, "executed")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "executed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("BENCH_TIMER_PATH")
        if not path:
            return
        tasks = sorted(self._tasks.values(), key=lambda item: item["seconds"], reverse=True)
        # A run on localhost (the preflight) has no production host: count only the busiest host.
        busiest = max(self._per_host.values(), key=lambda counts: counts["executed"], default=None)
        document = {"wall_seconds": time.perf_counter() - self._started, "task_runs_per_host": busiest,
                    "tasks": [dict(item, seconds=round(item["seconds"], 4)) for item in tasks]}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
