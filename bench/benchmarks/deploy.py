"""4. No-op deploy scaling: playbooks/production_deploy.yml converges the lab
once, then the second (no-op) run is timed on 1..N hosts, with a per-task
profile (bench/callback_plugins/bench_timer.py) of where the time goes, and the
tuning measured before/after side by side on the largest size."""

from __future__ import annotations

import functools
import json
import re
import tempfile
import time
from pathlib import Path

from .common import BENCH_DIR, REPO_ROOT, BenchError, Deadline, ansible_env, interleaved, log, ratio, run_timed, summary

PLAYBOOK = REPO_ROOT / "playbooks" / "production_deploy.yml"
# As scripts/main.sh runs it on the lab: one batch.
# A subset of one host has no "db" host: the preflight is asked for the production group only.
EXTRA_VARS = '{"stability_ops_serial": "100%", "preflight_assertions_required_groups": ["production"]}'
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _deploy(lab, inventory: Path, deadline: Deadline, env_extra: dict[str, str], what: str,
            timer_path: Path | None = None, tags: str | None = None) -> tuple[float, dict[str, int]]:
    """Time one run; returns (seconds, {changed, failed, unreachable} summed over the recap)."""
    env = ansible_env(**lab.env, **env_extra)
    if timer_path:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(BENCH_DIR / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="bench_timer", BENCH_TIMER_PATH=str(timer_path))
    argv = ["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", EXTRA_VARS]
    if tags:
        argv += ["--tags", tags]
    # Exit code 2 (a host failed, e.g. a health check of a partial --tags run) still times the run; the
    # failures are counted and shown with the numbers.
    timed = run_timed(argv, env=env, timeout=deadline.left(900), what=what, ok_codes=(0, 2))
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


def run(lab, sizes: list[int], reps: int, budget: float, tuning: dict[str, str], top: int = 10,
        tags: str | None = None) -> dict:
    """tags: only these phases of the playbook (the smoke variant keeps the preflight and health phases)."""
    deadline = Deadline(budget, "deploy")
    run_deploy = functools.partial(_deploy, tags=tags)
    result: dict = {"sizes": sizes, "reps": reps, "extra_vars": EXTRA_VARS, "tags": tags,
                    "settings": "repository ansible.cfg (forks 5, health_summary callback on), docker connection"}
    largest = lab.subset(sizes[-1])
    first, changed = run_deploy(lab, largest, deadline, {}, "first production_deploy.yml run")
    result["first_run"] = {"hosts": sizes[-1], "seconds": round(first, 3), **changed}
    log(f"deploy: first run on {sizes[-1]} host(s) in {first:.1f} s ({changed})")
    by_size = {}
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        for size in sizes:
            if deadline.end - time.monotonic() < 60:
                result["incomplete"] = f"time budget spent before {size} host(s)"
                break
            inventory = lab.subset(size)
            timer = Path(tmp, f"timer-{size}.json")
            times, changes, failures = [], [], []
            for _rep in range(reps):
                seconds, changed = run_deploy(lab, inventory, deadline, {}, f"no-op deploy on {size} host(s)", timer)
                times.append(seconds)
                changes.append(changed["changed"])
                failures.append(changed["failed"])
            profile = json.loads(timer.read_text())
            by_size[str(size)] = {"times": summary(times), "changed": max(changes), "failed": max(failures),
                                  "seconds_per_host": round(summary(times)["median"] / size, 3),
                                  "top_tasks": profile["tasks"][:top]}
            log(f"deploy: no-op run on {size} host(s): {summary(times)['median']:.1f} s, {max(changes)} changes")
        result["by_size"] = by_size
        result["fit"] = _fit([(int(size), row["times"]["median"]) for size, row in by_size.items()])
        if tuning:
            inventory = lab.subset(sizes[-1])
            variants = {"before": {}, "after": tuning}
            profiles: dict[str, dict] = {}

            def measure(name: str, env_extra: dict[str, str]) -> float:
                timer = Path(tmp, f"tuning-{name}.json")
                what = f"no-op deploy ({name} tuning)"
                seconds, _changed = run_deploy(lab, inventory, deadline, env_extra, what, timer)
                profiles[name] = json.loads(timer.read_text())["tasks"][:top]
                return seconds

            times = interleaved(variants, reps, measure)
            result["tuning"] = {"settings": tuning, "hosts": sizes[-1],
                                "times": {name: summary(values) for name, values in times.items()},
                                "after_over_before": round(ratio(times["after"], times["before"]), 3),
                                "top_tasks_after": profiles.get("after", [])}
            log(f"deploy: tuning on {sizes[-1]} host(s): after/before = {result['tuning']['after_over_before']}")
    return result
