"""4. No-op deploy scaling: playbooks/production_deploy.yml converges the lab
once, then the second (no-op) run is timed on 1..N hosts, with a per-task
profile (bench/callback_plugins/bench_timer.py) of where the time goes, and each
tuning measured before/after side by side: a setting switched off by the
environment, or a change to the roles run from the revision before it (a
`git archive` of that revision, its own collection link, the same lab)."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from pathlib import Path

from .common import (
    BENCH_DIR,
    REPO_ROOT,
    BenchError,
    Deadline,
    MissingRevision,
    ansible_env,
    interleaved,
    log,
    ratio,
    run_timed,
    summary,
    tuning_side,
)

PLAYBOOK = REPO_ROOT / "playbooks" / "production_deploy.yml"
# As scripts/main.sh runs it on the lab: one batch.
# A subset of one host has no "db" host: the preflight is asked for the production group only.
EXTRA_VARS = '{"stability_ops_serial": "100%", "preflight_assertions_required_groups": ["production"]}'
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _deploy(lab, inventory: Path, deadline: Deadline, env_extra: dict[str, str], what: str,
            timer_path: Path | None = None, tags: str | None = None,
            tree: Path = REPO_ROOT) -> tuple[float, dict[str, int]]:
    """Time one run of the playbook of `tree` (the working copy, or an older revision's copy); returns
    (seconds, {changed, failed, unreachable} summed over the recap)."""
    env = ansible_env(tree, **lab.env, **env_extra)
    if timer_path:
        # Next to the callbacks of ansible.cfg (health_summary), not instead of them.
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(BENCH_DIR / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="stability.ops.health_summary,bench_timer",
                   BENCH_TIMER_PATH=str(timer_path))
    argv = ["ansible-playbook", "-i", str(inventory), str(tree / PLAYBOOK.relative_to(REPO_ROOT)), "-e", EXTRA_VARS]
    if tags:
        argv += ["--tags", tags]
    # Exit code 2 (a host failed, e.g. a health check of a partial --tags run) still times the run; the
    # failures are counted and shown with the numbers.
    timed = run_timed(argv, env=env, timeout=deadline.left(900), what=what, ok_codes=(0, 2), cwd=tree)
    recap = RECAP.findall(timed.process.stdout)
    counts = {"changed": sum(int(row[2]) for row in recap), "failed": sum(int(row[4]) for row in recap),
              "unreachable": sum(int(row[3]) for row in recap)}
    if counts["unreachable"] or not recap:
        tail = "\n".join(timed.process.stdout.splitlines()[-15:])
        raise BenchError(f"{what}: unreachable host(s) or no recap:\n{tail}")
    return timed.seconds, counts


def _fit(points: list[tuple[int, float]]) -> dict[str, float]:
    """Least squares: seconds = fixed + per_host * hosts."""
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _y in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0
    return {"per_host_seconds": round(slope, 3), "fixed_seconds": round(mean_y - slope * mean_x, 3)}


def run(lab, sizes: list[int], reps: int, budget: float, tunings: list[dict], top: int = 10,
        tags: str | None = None, tuning_size: int | None = None) -> dict:
    """tags: only these phases of the playbook (the smoke variant keeps the preflight and health phases).
    tunings: the bench's deploy tunings, each measured before/after on tuning_size hosts (default the largest)."""
    deadline = Deadline(budget, "deploy")
    run_deploy = functools.partial(_deploy, tags=tags)
    result: dict = {"sizes": sizes, "reps": reps, "extra_vars": EXTRA_VARS, "tags": tags,
                    "settings": "repository ansible.cfg (forks 5, connection pipelining, health_summary callback on), "
                                "community.docker.docker connection"}
    largest = lab.subset(sizes[-1])
    first, changed = run_deploy(lab, largest, deadline, {}, "first production_deploy.yml run")
    result["first_run"] = {"hosts": sizes[-1], "seconds": round(first, 3), **changed}
    log(f"deploy: first run on {sizes[-1]} host(s) in {first:.1f} s ({changed})")
    by_size: dict[str, dict] = {}
    result.update(by_size=by_size, tunings=[])
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        try:
            _scaling(lab, sizes, reps, deadline, run_deploy, Path(tmp), top, by_size)
            for index, one in enumerate(tunings):
                try:
                    result["tunings"].append(_tuning(lab, one, tuning_size or sizes[-1], reps, deadline, run_deploy,
                                                     Path(tmp, f"tuning-{index}"), top))
                except MissingRevision as exc:
                    result["tunings"].append({"settings": one, "skipped": str(exc)})
                    log(f"deploy: {one['change']}: skipped, {exc}")
        except BenchError as exc:  # keep what was measured so far, like the health benchmark
            result["incomplete"] = str(exc)
            log(f"deploy: stopped early: {exc}")
    if len(by_size) >= 2:
        result["fit"] = _fit([(int(size), row["times"]["median"]) for size, row in by_size.items()])
    if not by_size:
        raise BenchError(result.get("incomplete", "no size measured"))
    return result


def _scaling(lab, sizes, reps, deadline, run_deploy, tmp: Path, top: int, by_size: dict) -> None:
    """The no-op run on each size, with its per-task profile."""
    for size in sizes:
        inventory = lab.subset(size)
        timer = tmp / f"timer-{size}.json"
        times, changes, failures = [], [], []
        for _rep in range(reps):
            seconds, changed = run_deploy(lab, inventory, deadline, {}, f"no-op deploy on {size} host(s)", timer)
            times.append(seconds)
            changes.append(changed["changed"])
            failures.append(changed["failed"])
        profile = json.loads(timer.read_text())
        by_size[str(size)] = {"times": summary(times), "changed": max(changes), "failed": max(failures),
                              "seconds_per_host": round(summary(times)["median"] / size, 3),
                              "tasks_per_host": profile.get("task_runs_per_host"),
                              "top_tasks": profile["tasks"][:top]}
        log(f"deploy: no-op run on {size} host(s): {summary(times)['median']:.1f} s, {max(changes)} changes")


def _tuning(lab, tuning: dict, size: int, reps: int, deadline, run_deploy, tmp: Path, top: int) -> dict:
    """The no-op run before and after one tuning (common.tuning_side), interleaved."""
    inventory = lab.subset(size)
    tmp.mkdir(parents=True, exist_ok=True)
    profiles: dict[str, list] = {}
    changes: dict[str, int] = {}
    sides = {name: tuning_side(tuning[name], tmp / name) for name in ("before", "after")}

    def measure(name: str, side: tuple[dict[str, str], Path]) -> float:
        env_extra, tree = side
        timer = tmp / f"tuning-{name}.json"
        seconds, changed = run_deploy(lab, inventory, deadline, env_extra, f"no-op deploy ({name} tuning)", timer,
                                      tree=tree)
        profiles[name] = json.loads(timer.read_text())["tasks"][:top]
        changes[name] = max(changes.get(name, 0), changed["changed"])
        return seconds

    times = interleaved(sides, reps, measure)
    out = {"settings": tuning, "hosts": size, "times": {name: summary(values) for name, values in times.items()},
           "after_over_before": round(ratio(times["after"], times["before"]), 3), "changed": changes,
           "top_tasks_before": profiles.get("before", []), "top_tasks_after": profiles.get("after", [])}
    log(f"deploy: {tuning['change']} on {size} host(s): after/before = {out['after_over_before']}")
    return out
