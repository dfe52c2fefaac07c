"""1. Health check vs the floor: health_check, a ping playbook, `ansible -m ping`
and the naive task-per-check playbook on the same lab hosts, interleaved."""

from __future__ import annotations

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

ADHOC_PING = "ansible -m ping"
PING = "ping playbook"
HEALTH = "health_check"
MODULE = "health_facts module alone"
NAIVE = "naive tasks"
# In the bench/ of the tree that runs: a revision runs the health check as its own production_deploy.yml did.
PLAYBOOK = {ADHOC_PING: None, PING: "playbooks/ping.yml", HEALTH: "playbooks/health_check.yml",
            MODULE: "playbooks/health_facts_module.yml", NAIVE: "naive_health_check.yml"}


def _argv(name: str, inventory: Path, tree: Path) -> list[str]:
    playbook = PLAYBOOK[name.split(" (")[0]]  # "health_check (before)" runs health_check
    if playbook is None:
        return ["ansible", "-i", str(inventory), "all", "-m", "ansible.builtin.ping", "-o"]
    return ["ansible-playbook", "-i", str(inventory), str(tree / BENCH_DIR.relative_to(REPO_ROOT) / playbook)]


def compare(lab, size: int, variants: dict[str, tuple[dict[str, str], Path]], reps: int, deadline: Deadline,
            base: str = PING) -> dict:
    """Interleaved runs of each variant (name -> (extra environment, tree whose collection runs)) on the first
    `size` lab hosts, each with the tree's own bench playbooks."""
    inventory = lab.subset(size)

    def measure(name: str, side: tuple[dict[str, str], Path]) -> float:
        env_extra, tree = side
        return run_timed(_argv(name, inventory, tree), env=ansible_env(tree, **lab.env, **env_extra),
                         timeout=deadline.left(300), cwd=tree,
                         what=f"{name} on {size} host(s)").seconds

    times = interleaved(variants, reps, measure)
    log(f"health, {size} host(s): " + ", ".join(f"{n} {summary(v)['median']:.2f} s" for n, v in times.items()))
    return {"times": {name: summary(values) for name, values in times.items()},
            "ratios": {name: round(ratio(values, times[base]), 3) for name, values in times.items()}}


def run(lab, sizes: list[int], reps: dict[int, int], budget: float, tunings: list[dict], tuning_size: int) -> dict:
    """reps: repetitions per size (fewer on the big labs, where one run is long and less noisy).
    tunings: the bench's TUNINGS for the health check, each measured before/after on tuning_size hosts."""
    deadline = Deadline(budget, "health")
    shipped = ({}, REPO_ROOT)
    # The module alone splits the health check's cost: the module vs the role around it.
    plain = {ADHOC_PING: shipped, PING: shipped, HEALTH: shipped, MODULE: shipped, NAIVE: shipped}
    result = {"sizes": sizes, "reps": {str(k): v for k, v in reps.items()}, "base": PING, "by_size": {},
              "tunings": []}
    for size in sizes:
        try:
            result["by_size"][str(size)] = compare(lab, size, plain, reps[size], deadline)
        except BenchError as exc:  # keep the sizes measured so far
            result["incomplete"] = f"{size} host(s): {exc}"
            log(f"health: stopped at {size} host(s): {exc}")
            return result
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        for index, tuning in enumerate(tunings):
            try:
                before, after = (tuning_side(tuning[side], Path(tmp, f"{index}-{side}"))
                                 for side in ("before", "after"))
            except MissingRevision as exc:
                result["tunings"].append({"settings": tuning, "skipped": str(exc)})
                continue
            # Before/after side by side; the ratios stay relative to the ping playbook after the tuning.
            variants = {PING: after, HEALTH: after, NAIVE: after, f"{PING} (before)": before,
                        f"{HEALTH} (before)": before}
            try:
                result["tunings"].append({"settings": tuning, "size": tuning_size,
                                          **compare(lab, tuning_size, variants, reps[tuning_size], deadline)})
            except BenchError as exc:
                result["incomplete"] = f"tuning '{tuning['change'][:40]}': {exc}"
                break
    return result
