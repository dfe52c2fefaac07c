"""1. Health check vs the floor: health_check, a ping playbook, `ansible -m ping`
and the naive task-per-check playbook on the same lab hosts, interleaved."""

from __future__ import annotations

from pathlib import Path

from .common import BENCH_DIR, PLAYBOOKS, BenchError, Deadline, ansible_env, interleaved, log, ratio, run_timed, summary

ADHOC_PING = "ansible -m ping"
PING = "ping playbook"
HEALTH = "health_check"
NAIVE = "naive tasks"
PLAYBOOK = {ADHOC_PING: None, PING: PLAYBOOKS / "ping.yml", HEALTH: PLAYBOOKS / "health_check.yml",
            NAIVE: BENCH_DIR / "naive_health_check.yml"}


def _argv(name: str, inventory: Path) -> list[str]:
    playbook = PLAYBOOK[name.split(" (")[0]]  # "health_check (before)" runs health_check
    if playbook is None:
        return ["ansible", "-i", str(inventory), "all", "-m", "ansible.builtin.ping", "-o"]
    return ["ansible-playbook", "-i", str(inventory), str(playbook)]


def compare(lab, size: int, variants: dict[str, dict[str, str]], reps: int, deadline: Deadline,
            base: str = PING) -> dict:
    """Interleaved runs of each variant (name -> extra environment) on the first `size` lab hosts."""
    inventory = lab.subset(size)

    def measure(name: str, env_extra: dict[str, str]) -> float:
        return run_timed(_argv(name, inventory), env=ansible_env(**lab.env, **env_extra), timeout=deadline.left(300),
                         what=f"{name} on {size} host(s)").seconds

    times = interleaved(variants, reps, measure)
    log(f"health, {size} host(s): " + ", ".join(f"{n} {summary(v)['median']:.2f} s" for n, v in times.items()))
    return {"times": {name: summary(values) for name, values in times.items()},
            "ratios": {name: round(ratio(values, times[base]), 3) for name, values in times.items()}}


def run(lab, sizes: list[int], reps: dict[int, int], budget: float, tuning: dict, tuning_size: int) -> dict:
    """reps: repetitions per size (fewer on the big labs, where one run is long and less noisy).
    tuning: {"change", "before": env, "after": env} (run.py's TUNING); empty: not measured."""
    deadline = Deadline(budget, "health")
    plain = {ADHOC_PING: {}, PING: {}, HEALTH: {}, NAIVE: {}}
    result = {"sizes": sizes, "reps": {str(k): v for k, v in reps.items()}, "base": PING, "by_size": {}}
    for size in sizes:
        try:
            result["by_size"][str(size)] = compare(lab, size, plain, reps[size], deadline)
        except BenchError as exc:  # keep the sizes measured so far
            result["incomplete"] = f"{size} host(s): {exc}"
            log(f"health: stopped at {size} host(s): {exc}")
            return result
    if tuning:
        # Before/after the tuning, side by side; the ratios stay relative to the ping playbook as shipped.
        variants = {PING: tuning["after"], HEALTH: tuning["after"], NAIVE: tuning["after"],
                    f"{PING} (before)": tuning["before"], f"{HEALTH} (before)": tuning["before"]}
        result["tuned"] = {"settings": tuning, "size": tuning_size,
                           **compare(lab, tuning_size, variants, reps[tuning_size], deadline)}
    return result
