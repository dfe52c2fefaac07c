# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION comes first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
name: idempotence_recorder
type: notification
short_description: Record every ansible-playbook run of a molecule scenario for the idempotence gate
version_added: 0.1.0
description:
  - Development tool of the collection, used by C(scripts/verify_idempotence.sh); not shipped as a plugin.
  - At the end of each ansible-playbook run writes one JSON record (playbook, check mode, start and end time, per
    host counts, and every changed, failed or unreachable task with its role, host and diff) to O(record_dir).
  - A task under C(no_log) is recorded by name, host and status only; its diff and message are never written.
  - Does nothing when O(record_dir) is not set.
requirements:
  - Enable it with E(ANSIBLE_CALLBACK_PLUGINS) pointing at C(tools/stability_ops_dev/callback_plugins) and
    E(ANSIBLE_CALLBACKS_ENABLED=idempotence_recorder).
options:
  record_dir:
    description: Directory the run records are written to; created when missing.
    type: path
    env:
      - name: STABILITY_OPS_IDEMPOTENCE_RECORD_DIR
    ini:
      - section: callback_idempotence_recorder
        key: record_dir
    version_added: 0.1.0
"""

import os
import time

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase
from stability_ops_dev.idempotence import COUNT_KEYS, RunRecorder, task_entry


class CallbackModule(CallbackBase):
    """Write one JSON record per playbook run for the idempotence gate."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "idempotence_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None) -> None:
        super().__init__(display=display, options=options)
        self._recorder: RunRecorder | None = None
        self._record_dir: str | None = None
        self._handlers: set[str] = set()

    def set_options(self, task_keys=None, var_options=None, direct=None) -> None:
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._record_dir = self.get_option("record_dir") or None

    def v2_playbook_on_start(self, playbook) -> None:
        if not self._record_dir:
            return
        self._recorder = RunRecorder(
            playbook=os.path.abspath(playbook._file_name),
            check_mode=bool(context.CLIARGS.get("check")),
            diff=bool(context.CLIARGS.get("diff") or C.DIFF_ALWAYS),
            started=time.time(),
            pid=os.getpid(),
        )

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self._handlers.add(task._uuid)

    def _add(self, result, status: str) -> None:
        if self._recorder is None:
            return
        task = result.task
        role = task._role.get_name(include_role_fqcn=False) if task._role else None
        self._recorder.add(
            task_entry(
                host=result.host.get_name(),
                task=task.get_name(include_role_fqcn=False).split(" : ", 1)[-1] if role else task.get_name(),
                role=role,
                action=task.action,
                status=status,
                result=result.result,
                task_no_log=task.no_log,
                handler=task._uuid in self._handlers,
            )
        )

    def v2_runner_on_ok(self, result) -> None:
        if result.is_changed():
            self._add(result, "changed")

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._add(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result) -> None:
        self._add(result, "unreachable")

    def v2_playbook_on_stats(self, stats) -> None:
        if self._recorder is None:
            return
        counts = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            # summarize() names the failed count "failures"; the record uses the play recap's "failed".
            summary["failed"] = summary.get("failures", 0)
            counts[host] = {key: summary.get(key, 0) for key in COUNT_KEYS}
        self._recorder.finish(counts, time.time())
        try:
            self._recorder.write(self._record_dir)
        except OSError as exc:
            self._display.warning(f"idempotence_recorder: cannot write the run record: {exc}")
        self._recorder = None
