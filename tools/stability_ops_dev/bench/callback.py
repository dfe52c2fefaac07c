"""2. Callback overhead: a local playbook of many hosts x cheap tasks, with and
without stability.ops.health_summary, plus the time spent inside the callback's
own hooks (recorded by the callback itself in meta.callback_hook_seconds) and a
replay of real ansible result objects into the callback (the run's start with a
real play on a real inventory, then per task its start and per host the
runner's start and the result) for time per event and memory against the
number of tasks."""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import yaml

from .common import REPO_ROOT, Deadline, ansible_env, interleaved, log, run_timed, summary

CALLBACK = "stability.ops.health_summary"


def write_playbook(directory: Path, hosts: int, tasks: int) -> tuple[Path, Path]:
    """Cheap tasks: 8 in 10 are debug, 1 set_fact, 1 skipped (when: false)."""
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                         "hosts": {f"bench{index:02d}": None for index in range(1, hosts + 1)}}}
    steps = []
    for index in range(tasks):
        if index % 10 == 4:
            steps.append({"name": f"Set fact {index}", "ansible.builtin.set_fact": {f"bench_fact_{index}": index}})
        elif index % 10 == 9:
            steps.append({"name": f"Skipped {index}", "ansible.builtin.debug": {"msg": "never"}, "when": False})
        else:
            steps.append({"name": f"Debug {index}", "ansible.builtin.debug": {"msg": f"task {index}"}})
    play = [{"name": f"Bench | {hosts} hosts x {tasks} cheap tasks", "hosts": "all", "gather_facts": False,
             "tasks": steps}]
    (directory / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (directory / "playbook.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    return directory / "inventory.yml", directory / "playbook.yml"


def _config_without_callbacks(directory: Path) -> Path:
    """The repository's ansible.cfg without callbacks_enabled, its relative paths made absolute."""
    lines = []
    for line in (REPO_ROOT / "ansible.cfg").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "callbacks_enabled":
            continue
        if sep and key.strip() in ("collections_path", "collections_paths", "roles_path"):
            line = f"{key}= " + ":".join(str(REPO_ROOT / p.strip()) for p in value.split(":"))
        lines.append(line)
    path = directory / "ansible.cfg"
    path.write_text("\n".join(lines) + "\n")
    return path


def in_run(hosts: int, tasks: int, reps: int, deadline: Deadline) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-callback-") as tmp:
        directory = Path(tmp)
        inventory, playbook = write_playbook(directory, hosts, tasks)
        summary_path = directory / "summary.json"
        hook_share: list[float] = []
        hook_seconds: list[float] = []
        hook_calls: list[int] = []
        # The repository's ansible.cfg enables the callback for every run: both variants use a copy without it.
        config = _config_without_callbacks(directory)
        variants = {
            "without callback": {"ANSIBLE_CONFIG": str(config)},
            "with health_summary": {"ANSIBLE_CONFIG": str(config), "ANSIBLE_CALLBACKS_ENABLED": CALLBACK,
                                    "STABILITY_OPS_SUMMARY_PATH": str(summary_path)},
        }

        def measure(name: str, env_extra: dict[str, str]) -> float:
            summary_path.unlink(missing_ok=True)
            seconds = run_timed(["ansible-playbook", "-i", str(inventory), str(playbook)],
                                env=ansible_env(**env_extra), timeout=deadline.left(600),
                                what=f"{hosts} x {tasks} {name}").seconds
            if "ANSIBLE_CALLBACKS_ENABLED" in env_extra:
                meta = json.loads(summary_path.read_text())["meta"]
                hook_seconds.append(meta["callback_hook_seconds"])
                hook_calls.append(meta["callback_hook_calls"])
                hook_share.append(meta["callback_hook_seconds"] / seconds)
            return seconds

        times = interleaved(variants, reps, measure)
    whole = statistics.median(times["with health_summary"]) / statistics.median(times["without callback"])
    log(f"callback in run: {hosts} x {tasks}: whole-run ratio {whole:.3f}, hooks {max(hook_share):.3%} of wall")
    return {"hosts": hosts, "tasks": tasks, "reps": reps,
            "times": {name: summary(values) for name, values in times.items()},
            "whole_run_ratio": round(whole, 4),
            "hook_seconds": hook_seconds, "hook_calls": hook_calls,
            "hook_share_of_wall": [round(share, 6) for share in hook_share]}


# --------------------------------------------------------------------------- replay


def _load_callback(output: Path):
    """The real callback, loaded by ansible's plugin loader as in a run."""
    from ansible.plugins.loader import callback_loader, init_plugin_loader

    with warnings.catch_warnings():  # the preflight benchmark may have installed the collection finder already
        warnings.simplefilter("ignore", UserWarning)
        init_plugin_loader([str(REPO_ROOT / ".collections")])
    callback = callback_loader.get(CALLBACK)
    callback.set_options(direct={"output_path": str(output), "print_table": False})
    return callback


class _Playbook:
    """What v2_playbook_on_start reads of a playbook: its file name and its plays."""

    def __init__(self, name: str, plays: list) -> None:
        self._file_name = name
        self._plays = plays

    def get_plays(self) -> list:
        return list(self._plays)


def _play(hosts: int):
    """A real Play on a real inventory of ``hosts`` hosts: the callback resolves the hosts each play targets."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play import Play
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=",".join(f"bench{index:02d}" for index in range(1, hosts + 1))
                                 + ",")
    variables = VariableManager(loader=loader, inventory=inventory)
    return Play.load({"name": "Replay", "hosts": "all", "gather_facts": False, "tasks": []},
                     variable_manager=variables, loader=loader)


def _start(callback, hosts: int):
    """The events of a run's start, as ansible-playbook sends them: the playbook (placeholder written), the play."""
    play = _play(hosts)
    callback.v2_playbook_on_start(_Playbook("replay.yml", [play]))
    callback.v2_playbook_on_play_start(play)


def _callback_task_result(host, task, data: dict):
    """The CallbackTaskResult of the running ansible-core, built as its strategy builds one: from the return data
    in 2.19, from a UnifiedTaskResult in 2.21 (whose constructor takes no return data)."""
    from ansible.executor.task_result import CallbackTaskResult

    try:
        from ansible._internal._task import UnifiedTaskResult  # ansible-core 2.21; benchmark only, never in plugins
    except ImportError:  # ansible-core 2.19
        return CallbackTaskResult(host, task, data, {})
    return CallbackTaskResult(host, task, UnifiedTaskResult.from_action_result_dict(data))


def _events(hosts: int, tasks: int):
    """Real Host, Task and CallbackTaskResult objects, shaped like the in-run playbook's results: per task its
    start, then per host the runner's start and the result."""
    from ansible.inventory.host import Host
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.task import Task

    loader = DataLoader()
    host_objects = [Host(f"bench{index:02d}") for index in range(1, hosts + 1)]
    templates = []
    for kind in ("debug", "set_fact", "skipped", "failed"):
        task = Task.load({"name": f"{kind} task", "ansible.builtin.debug": {"msg": "x"}}, loader=loader)
        templates.append((kind, task))
    ok_data = {"msg": "task output", "changed": False, "_ansible_verbose_always": True}
    fail_data = {"msg": "a failure message", "failed": True, "changed": False}
    for index in range(tasks):
        kind, task = templates[3 if index % 50 == 49 else 1 if index % 10 == 4 else 2 if index % 10 == 9 else 0]
        yield "task", task
        for host in host_objects:
            yield "start", (host, task)
            data = dict(fail_data if kind == "failed" else ok_data)
            yield kind, _callback_task_result(host, task, data)


def _feed(callback, hosts: int, tasks: int) -> tuple[float, int]:
    """Time only the hook calls (the events are built outside the timed section). An event is one task on one
    host: its result, the runner's start before it and its share of the task's start."""
    spent, count = 0.0, 0
    batch = []
    for event in _events(hosts, tasks):
        batch.append(event)
        if len(batch) < 2000:
            continue
        spent += _dispatch(callback, batch)
        count += sum(1 for kind, _event in batch if kind not in ("task", "start"))
        batch = []
    spent += _dispatch(callback, batch)
    return spent, count + sum(1 for kind, _event in batch if kind not in ("task", "start"))


def _dispatch(callback, batch) -> float:
    start = time.perf_counter()
    for kind, event in batch:
        if kind == "task":
            callback.v2_playbook_on_task_start(event, False)
        elif kind == "start":
            callback.v2_runner_on_start(*event)
        elif kind == "skipped":
            callback.v2_runner_on_skipped(event)
        elif kind == "failed":
            callback.v2_runner_on_failed(event, ignore_errors=True)
        else:
            callback.v2_runner_on_ok(event)
    return time.perf_counter() - start


def _finish(callback, hosts: int) -> float:
    from ansible.executor.stats import AggregateStats

    stats = AggregateStats()
    for index in range(1, hosts + 1):
        stats.increment("ok", f"bench{index:02d}")
    start = time.perf_counter()
    callback.v2_playbook_on_stats(stats)
    return time.perf_counter() - start


def replay(hosts: int, task_counts: list[int]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        for tasks in task_counts:
            # Time per event, without tracemalloc.
            callback = _load_callback(Path(tmp, "timed.json"))
            _start(callback, hosts)
            spent, events = _feed(callback, hosts, tasks)
            finish = _finish(callback, hosts)
            callback._release()  # the replaying process keeps its own signal handlers, writes nothing at exit
            # Memory the callback keeps: traced allocations still alive after every event was fed.
            # A short warm-up first: ansible fills attribute and ABC caches once per process.
            callback = _load_callback(Path(tmp, "traced.json"))
            _start(callback, hosts)
            _feed(callback, hosts, 50)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            _feed(callback, hosts, tasks)
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            callback._release()
            rows.append({"tasks": tasks, "events": events, "hook_seconds": round(spent, 5),
                         "microseconds_per_event": round(spent / events * 1e6, 3),
                         "final_write_seconds": round(finish, 5), "retained_kib": round(retained / 1024, 1)})
            log(f"callback replay: {hosts} x {tasks}: {rows[-1]['microseconds_per_event']} us/event, "
                f"retained {rows[-1]['retained_kib']} KiB")
    return {"hosts": hosts, "rows": rows}


def run(hosts: int, tasks: int, reps: int, replay_tasks: list[int], budget: float) -> dict:
    deadline = Deadline(budget, "callback")
    result = {"in_run": in_run(hosts, tasks, reps, deadline), "replay": replay(hosts, replay_tasks)}
    in_run_result = result["in_run"]
    per_event = statistics.median(r["microseconds_per_event"] for r in result["replay"]["rows"]) / 1e6
    wall = statistics.median(in_run_result["times"]["with health_summary"]["values"])
    events = hosts * tasks
    final = result["replay"]["rows"][0]["final_write_seconds"]
    result["hook_share_in_run"] = round(max(in_run_result["hook_share_of_wall"]), 6)
    result["hook_share_replayed"] = round((per_event * events + final) / wall, 6)
    memory = [row["retained_kib"] for row in result["replay"]["rows"]]
    result["memory_retained_kib"] = {"min": min(memory), "max": max(memory)}
    return result
