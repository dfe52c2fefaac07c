# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
name: health_summary
type: notification
short_description: Write a JSON Deployment Health Summary that tells how every run ended
version_added: 0.1.0
description:
  - Writes one JSON document atomically (temporary file and rename) with the run's metadata (user, controller,
    C(--limit), C(--tags), check and diff mode, inventory sources, git commit of the playbook's and the inventory's
    repositories), the plays and the hosts each targeted, per host task counts, durations, changed tasks, failed
    tasks (with role, action, return code, the tail of stderr and stdout, the failing loop item, and for a failed
    rescue the failure it rescued), health check results published by the P(stability.ops.health_check#role)
    role, the findings of the C(stability.ops.adoption_guard) action (what a role would close, drop, lock out or
    override on a host it adopts, and whether each was accepted), the compliance results published by the
    P(stability.ops.compliance_report#role) role (per host, scanner and profile the status, score, test counts and
    failing test ids, in the optional C(compliance) section), and an overall status with the reason.
  - When the run starts, a placeholder with status C(running) and the run id replaces any previous document, so a
    stale C(healthy) never survives a later run. The end of the run replaces the placeholder; so do Ctrl-C,
    C(SIGTERM) and C(SIGHUP) (status C(interrupted), naming the tasks and hosts in flight), after which the signal
    goes on to ansible's own handling, so ansible-playbook stops with the exit status it has without this callback.
    A placeholder still C(running) after the run means it was killed with C(SIGKILL) or crashed.
  - Run statuses C(healthy), C(degraded) (health check warnings), C(unverified) (no health check ran on a fleet host,
    or check mode saw failing checks on the host as it was before the deploy), C(empty) (no fleet host was targeted),
    C(failed) and C(interrupted). Host statuses C(healthy), C(degraded), C(unverified), C(not_run) (a play targeted
    the host but never reached it), C(aborted) (the play stopped before the host finished it) and C(failed).
    The controller itself (C(localhost), the implicit localhost) is listed apart from the fleet, under C(controller).
  - Errors that stop ansible-playbook before it loads callbacks (a syntax error, a missing role, an undefined
    variable in an import, a C(--limit) that matches nothing) cannot be reported by any callback; the wrapper that
    runs ansible-playbook writes the placeholder first (docs/health-summary.md, the gate recipe).
  - The document follows the JSON Schema C(docs/schemas/health_summary.schema.json) (schema version 2.0) shipped
    with the collection.
  - A notification callback, so it works next to any stdout callback, also under ansible-runner and AWX.
  - A task under C(no_log) contributes its name, role and action only, never anything of its result. The callback
    never fails the run; an error inside it is shown as a warning and recorded in the document's C(meta.errors).
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
    description:
      - When set, a JUnit XML report is also written there, for CI systems (GitLab, Jenkins), with the same
        placeholder at the start of the run.
      - A C(run) test suite (run finished, fleet hosts targeted, one test case per play), then a test suite per
        host (deploy, one test case per failed task and per health check).
    type: path
    env:
      - name: STABILITY_OPS_SUMMARY_JUNIT_PATH
    ini:
      - section: callback_health_summary
        key: junit_path
    version_added: 0.1.0
  run_id:
    description:
      - The run id recorded in C(run.id) from the placeholder on. Set it in the wrapper that runs ansible-playbook
        and compare it in the gate, so that a document of another run never passes.
      - When unset, C(awx-<id>) in AWX (the extra variable C(awx_job_id)), else a random UUID.
    type: str
    env:
      - name: STABILITY_OPS_RUN_ID
    ini:
      - section: callback_health_summary
        key: run_id
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
  max_changed_tasks:
    description: At most this many changed tasks are listed per host (C(counts.changed) is always exact).
    type: int
    default: 20
    env:
      - name: STABILITY_OPS_SUMMARY_MAX_CHANGED_TASKS
    ini:
      - section: callback_health_summary
        key: max_changed_tasks
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
  output_tail_length:
    description: Of a failed task's stdout and stderr, the last this many characters are kept (V(0) keeps none).
    type: int
    default: 500
    env:
      - name: STABILITY_OPS_SUMMARY_OUTPUT_TAIL_LENGTH
    ini:
      - section: callback_health_summary
        key: output_tail_length
    version_added: 0.1.0
  git_timeout:
    description:
      - Seconds each C(git) command may take when the run starts, reading the commit and the dirty flag of the
        repositories of the playbook and of the inventory; V(0) skips them. A missing or slow git gives V(null).
    type: float
    default: 2.0
    env:
      - name: STABILITY_OPS_SUMMARY_GIT_TIMEOUT
    ini:
      - section: callback_health_summary
        key: git_timeout
    version_added: 0.1.0
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = stability.ops.health_summary
# [callback_health_summary]
# output_path = reports/health_summary.json
# junit_path = reports/health_summary.xml

# or for one run, with the run id a gate compares afterwards:
# STABILITY_OPS_RUN_ID=deploy-42 STABILITY_OPS_SUMMARY_PATH=/tmp/summary.json \
#   ANSIBLE_CALLBACKS_ENABLED=stability.ops.health_summary \
#   ansible-playbook -i inventory playbooks/production_deploy.yml
# jq -e --arg id deploy-42 '.status == "healthy" and .run.id == $id' /tmp/summary.json
"""

RETURN = r"""# This callback returns nothing; it writes the files named by its options."""


import atexit
import functools
import os
import signal
import time
from pathlib import Path

from ansible import context
from ansible.inventory.manager import split_host_pattern
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible_collections.stability.ops.plugins.plugin_utils.health_summary import (
    COMPLIANCE_FACT,
    SignalChain,
    SummaryBuilder,
    callback_result,
    dump,
    health_of,
    is_controller,
    render_junit,
    render_table,
    run_metadata,
    write_atomic,
)

HEALTH_ACTIONS = frozenset(("stability.ops.health_facts", "health_facts"))
ADOPTION_ACTIONS = frozenset(("stability.ops.adoption_guard", "adoption_guard"))
SET_FACT_ACTIONS = frozenset(("ansible.builtin.set_fact", "ansible.legacy.set_fact", "set_fact"))


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
    # The role is reported on its own; the name is the task's own.
    return to_text(task.name) if task.name else to_text(task.action)


def _sections(task):
    """The ``(block, section)`` pairs enclosing a task, innermost first: section is block, rescue or always."""
    child, parent = task, getattr(task, "_parent", None)
    while parent is not None:
        uuid = getattr(child, "_uuid", None)
        for section in ("block", "rescue", "always"):
            if any(getattr(item, "_uuid", None) == uuid for item in getattr(parent, section, None) or ()):
                yield parent, section
                break
        child, parent = parent, getattr(parent, "_parent", None)


def _will_be_rescued(task):
    """True when the task sits in the ``block`` section of a block that has a ``rescue``."""
    return any(section == "block" and getattr(block, "rescue", None) for block, section in _sections(task))


def _in_rescue(task):
    return any(section == "rescue" for _block, section in _sections(task))


def _fatal(task):
    """Whether a failure of this task makes the linear strategy stop every host of the batch (as it decides)."""
    return bool(task.any_errors_fatal or task.run_once is True) and not task.ignore_errors


def _inventory(play):
    """The inventory the play runs on: the variable manager's (ansible has no public accessor)."""
    manager = play.get_variable_manager()
    return getattr(manager, "_inventory", None)


def _pattern(hosts):
    return ",".join(hosts) if isinstance(hosts, (list, tuple)) else to_text(hosts or "")


def _known_ahead(inventory, hosts):
    """Whether a play's raw ``hosts`` can be resolved before the play starts without side effects: no template,
    only names of existing groups and hosts (no wildcard or regex that might warn about matching nothing, no group
    that add_host or group_by may create later)."""
    values = hosts if isinstance(hosts, (list, tuple)) else [hosts]
    if any(not isinstance(value, str) or "{{" in value or "{%" in value for value in values):
        return False
    try:
        parts = [part for value in values for part in split_host_pattern(value)]
    except Exception:
        return False
    groups, names = inventory.groups, inventory.hosts
    for part in parts:
        name = part.lstrip("!&")
        if name not in ("all", "*") and not is_controller(name) and name not in groups and name not in names:
            return False
    return bool(parts)


def _targets(hosts):
    return [(host.name, is_controller(host.name, bool(getattr(host, "implicit", False)))) for host in hosts]


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
        self._builder.versions = {"ansible_core": ANSIBLE_CORE_VERSION}
        self._final = False  # the end-of-run document is written
        self._signal_name = None
        self._signals = SignalChain(self._on_signal)
        self._pid = os.getpid()
        self._armed = False
        self._play = None
        self._label_task = None
        self._label = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        builder = self._builder
        builder.max_failed_tasks = self.get_option("max_failed_tasks")
        builder.max_changed_tasks = self.get_option("max_changed_tasks")
        builder.message_max_length = self.get_option("message_max_length")
        builder.output_tail_length = self.get_option("output_tail_length")
        if self.get_option("run_id"):
            builder.run_id = self.get_option("run_id")

    def _error(self, where, exc):
        message = f"{where}: {type(exc).__name__}: {to_text(exc)}"
        self._builder.errors.append(message)
        self._display.warning(f"stability.ops.health_summary: {message}")

    def _task_label(self, task):
        """``(name, role)`` of a task, computed once per task (every host's events share the task object)."""
        if task is not self._label_task:
            role = task._role.get_name(include_role_fqcn=True) if task._role else None
            self._label_task, self._label = task, (_task_name(task), role)
        return self._label

    # -- the start: metadata, the plays and hosts ahead, the placeholder
    @_hook
    def v2_playbook_on_start(self, playbook):
        builder = self._builder
        path = os.path.abspath(playbook._file_name)
        builder.playbooks.append(os.path.basename(path))
        plays = playbook.get_plays()
        if not builder.metadata:
            manager = plays[0].get_variable_manager() if plays else None
            extra_vars = getattr(manager, "extra_vars", None) or {}
            builder.metadata = run_metadata(context.CLIARGS, os.path.dirname(path), self.get_option("git_timeout"),
                                            extra_vars)
            if not self.get_option("run_id") and extra_vars.get("awx_job_id") is not None:
                builder.run_id = f"awx-{to_text(extra_vars['awx_job_id'])}"  # AWX passes the job's id
            builder.check_mode = builder.metadata["check_mode"]
            builder.versions["collection"] = _collection_version()
        for play in plays:
            hosts = None
            inventory = _inventory(play)
            if inventory is not None and play.hosts and _known_ahead(inventory, play.hosts):
                hosts = _targets(inventory.get_hosts(play.hosts, ignore_restrictions=True))
            builder.expect_play(play._uuid, play.name or _pattern(play.hosts), _pattern(play.hosts), hosts)
        self._arm()
        self._final = False  # a later playbook of the same command line runs: placeholder again
        self._write(builder.build(None, None, self._hook_seconds, self._hook_calls))

    def _arm(self):
        """Signal handlers and the exit hook, once, in the process that runs the playbook (never in a worker)."""
        if self._armed:
            return
        self._armed = True
        self._pid = os.getpid()
        self._signals.install()
        atexit.register(self._at_exit)

    def _release(self):
        """Take the handlers back and write nothing more (a process that replays events, e.g. the benchmark)."""
        self._final = True
        self._signals.uninstall()
        atexit.unregister(self._at_exit)

    # -- plays and tasks
    @_hook
    def v2_playbook_on_play_start(self, play):
        self._play = play
        inventory = _inventory(play)
        targeted, batch = [], []
        if inventory is not None and play.hosts:
            targeted = _targets(inventory.get_hosts(play.hosts, ignore_restrictions=True))
            batch = [host.name for host in inventory.get_hosts(play.hosts)]
        self._builder.start_play(play._uuid, play.get_name(), _pattern(play.hosts), targeted, batch)

    @_hook
    def v2_playbook_on_no_hosts_matched(self):
        matched = 0
        inventory = _inventory(self._play) if self._play is not None else None
        if inventory is not None and self._play.hosts:
            matched = len(inventory.get_hosts(self._play.hosts, ignore_limits=True, ignore_restrictions=True))
        self._builder.play_matched_no_host(matched)

    @_hook
    def v2_playbook_on_no_hosts_remaining(self):
        self._builder.stop_batch()

    @_hook
    def v2_playbook_on_task_start(self, task, is_conditional):
        self._builder.start_task(*self._task_label(task))

    @_hook
    def v2_playbook_on_handler_task_start(self, task):
        self._builder.start_task(*self._task_label(task))

    @_hook
    def v2_runner_on_start(self, host, task):
        self._builder.host_started(host.get_name(), *self._task_label(task))

    # -- task events: O(1) each, no result is kept
    @_hook
    def v2_runner_on_ok(self, result):
        changed = result.is_changed()
        name, role = self._task_label(result.task) if changed else (None, None)
        self._builder.record_ok(result.host.get_name(), changed, name, role)
        self._record_health(result)
        self._record_adoption(result, failed=False)
        self._record_compliance(result)

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

    def _record_adoption(self, result, failed):
        # What an adoption guard would change or lock out, also when it failed the task; never under no_log.
        if result.task.action not in ADOPTION_ACTIONS:
            return
        data, no_log = callback_result(result)
        if not no_log and "adoption" in data:
            self._builder.record_adoption(result.host.get_name(), data["adoption"], failed)

    def _record_compliance(self, result):
        # The results the compliance_report role publishes with set_fact; never under no_log.
        if result.task.action not in SET_FACT_ACTIONS:
            return
        data, no_log = callback_result(result)
        facts = data.get("ansible_facts")
        if not no_log and isinstance(facts, dict) and COMPLIANCE_FACT in facts:
            self._builder.record_compliance(result.host.get_name(), facts[COMPLIANCE_FACT])

    @_hook
    def v2_runner_on_failed(self, result, ignore_errors=False):
        task = result.task
        self._record_health(result)
        self._record_adoption(result, failed=not ignore_errors)
        data, no_log = callback_result(result)
        name, role = self._task_label(task)
        self._builder.record_failed(
            result.host.get_name(), name, role, {} if no_log else data, no_log=no_log, ignored=bool(ignore_errors),
            rescued=_will_be_rescued(task), action=to_text(task.action), in_rescue=_in_rescue(task),
            failed_when=() if no_log else [to_text(cond) for cond in task.failed_when or ()], fatal=_fatal(task),
        )

    @_hook
    def v2_runner_on_unreachable(self, result):
        data, no_log = callback_result(result)
        self._builder.record_unreachable(
            result.host.get_name(), self._task_label(result.task)[0], {} if no_log else data, no_log=no_log,
            fatal=_fatal(result.task),
        )

    # -- the endings
    @_hook
    def v2_playbook_on_stats(self, stats):
        summaries = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._builder.apply_stats(summaries, getattr(stats, "custom", {}))
        self._finish("finished")

    def _on_signal(self, signum):
        """SIGINT, SIGTERM, SIGHUP in the main process: write the interrupted document, then the signal goes on.

        Inside a signal handler: no ansible display (its lock may be held by the interrupted code), one line
        written to stderr directly instead.
        """
        if self._final:
            return
        self._signal_name = signal.Signals(signum).name
        self._finish("signal", quiet=True)

    def _at_exit(self):
        """ansible-playbook exits without its end-of-run stats: after Ctrl-C (KeyboardInterrupt), or an error."""
        if self._final or os.getpid() != self._pid:
            return
        self._finish("signal" if self._signal_name else "error")

    def _finish(self, ending, quiet=False):
        document = None
        try:
            document = self._builder.build(ending, self._signal_name, self._hook_seconds, self._hook_calls)
            self._write(document)
        except Exception as exc:
            if not quiet:
                raise
            self._builder.errors.append(f"{ending}: {type(exc).__name__}: {exc}")
            os.write(2, f"[WARNING]: stability.ops.health_summary: could not write the summary: {exc}\n".encode())
            return
        finally:
            if ending == "finished":
                self._final = True
        path = self.get_option("output_path")
        if quiet:
            os.write(2, f"health summary ({document['status']}) written to {path}\n".encode())
        elif self.get_option("print_table"):
            # stderr: stdout belongs to the stdout callback, which may be JSON.
            self._display.display(render_table(document), stderr=True)
            self._display.display(f"health summary written to {path}", stderr=True)

    def _write(self, document):
        write_atomic(self.get_option("output_path"), dump(document, self.get_option("indent")))
        junit = self.get_option("junit_path")
        if junit:
            write_atomic(junit, render_junit(document))
