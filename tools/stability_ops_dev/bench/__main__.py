"""Benchmarks of the stability.ops collection (see bench/README.md).

    stability-ops-bench                  the full run (about 35 minutes on 2 cores)
    stability-ops-bench --smoke          the smallest sizes (the test suite's variant)
    stability-ops-bench --only preflight callback
    stability-ops-bench --write-docs     also regenerate docs/performance.md and .png
    stability-ops-bench --docs-from bench/results/latest.json   only regenerate the docs

Every ratio is measured within one run, side by side; a table of ratios is
printed at the end and the results go to bench/results/<UTC time>.json (and
latest.json). Exit status 1 when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from pathlib import Path

from stability_ops_dev.bench import callback, common, deploy, health, preflight, report

# The tunings the numbers called for, all shipped. Every run measures each again, side by side: a side is an
# environment on this checkout ({} = as shipped) or {"revision": ...}, that revision's collection run from a copy
# (common.tuning_side). A revision missing from the clone skips that comparison.
PIPELINING = {"name": "connection pipelining",
              "change": "connection pipelining (`[connection] pipelining = true` in ansible.cfg; `[ssh_connection]` "
                        "alone only reaches the ssh connection, not the docker one)",
              "before": {"ANSIBLE_PIPELINING": "false"}, "after": {}}
ROUND_TRIPS = {"name": "one round trip per check",
               "change": "security_baseline reads every sensitive path with one `stat` (file runs only where "
                         "something differs), security_auditd each architecture's syscall table with one "
                         "`ausyscall --dump`, instead of a module run per path and per syscall",
               "before": {"revision": "d2d7e13"}, "after": {"revision": "301ff8f"}}
HEALTH_ONE_TASK = {"name": "health_check publishes from its module task",
                   "change": "health_check publishes its set_stats data from the health_facts task (its action "
                             "plugin), no set_stats task: one task per host less",
                   "before": {"revision": "8bdc13e"}, "after": {"revision": "f1e7973"}}
HEALTH_IN_ACTION = {"name": "health_check validates and gates in its action plugin",
                    "change": "the health_facts action plugin validates the role's variables and applies fail_on "
                              "on the controller; production_deploy.yml imports the role with "
                              "`rolespec_validate: false`: no argument-validation or fail task per host",
                    "before": {"revision": "02853cc"}, "after": {"revision": "31d6da8"}}
PROFILES = {
    "full": {
        "lab_hosts": 20,
        "health": {"sizes": [1, 5, 10, 20], "reps": {1: 3, 5: 3, 10: 3, 20: 3}, "budget": 1200, "tuning_size": 5},
        "callback": {"hosts": 20, "tasks": 200, "reps": 1, "replay_tasks": [200, 2000, 10000], "budget": 300},
        "preflight": {"counts": [1000, 10000], "sample": 200, "reps": 3, "budget": 200},
        # A no-op deploy costs about 40 s + 17 s per extra host on 2 cores: the tunings are measured on 5 hosts.
        "deploy": {"sizes": [1, 5, 10, 20], "reps": 1, "budget": 2700, "tuning_size": 5},
        "health_tunings": [PIPELINING, HEALTH_ONE_TASK, HEALTH_IN_ACTION],
        "deploy_tunings": [PIPELINING, ROUND_TRIPS],
    },
    "smoke": {
        "lab_hosts": 1,
        "health": {"sizes": [1], "reps": {1: 1}, "budget": 300, "tuning_size": 1},
        "callback": {"hosts": 2, "tasks": 10, "reps": 1, "replay_tasks": [10, 100], "budget": 60},
        "preflight": {"counts": [30, 90], "sample": 10, "reps": 1, "budget": 60},
        # The whole first converge takes minutes on a busy machine: the smoke deploy keeps two phases.
        "deploy": {"sizes": [1], "reps": 1, "budget": 300, "tags": "preflight,health"},
        "health_tunings": [PIPELINING, HEALTH_ONE_TASK, HEALTH_IN_ACTION],
        "deploy_tunings": [PIPELINING, ROUND_TRIPS],
    },
}
BENCHMARKS = ("preflight", "callback", "health", "deploy")
RESULTS_DIR = common.BENCH_DIR / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="smallest sizes, one repetition each")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these benchmarks ({', '.join(BENCHMARKS)})")
    parser.add_argument("--sizes", type=int, nargs="+", metavar="N",
                        help="lab sizes for the health and deploy benchmarks (default: the profile's)")
    parser.add_argument("--results", type=Path, help="results file (default bench/results/<UTC time>.json)")
    parser.add_argument("--write-docs", action="store_true", help="write docs/performance.md and the PNG")
    parser.add_argument("--docs-dir", type=Path, default=common.REPO_ROOT / "docs",
                        help="where --write-docs writes (default docs/)")
    parser.add_argument("--docs-from", type=Path, nargs="+", metavar="RESULTS",
                        help="only regenerate the docs from these results files (several: their benchmarks are "
                             "merged, each keeps the ratios of its own run)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    profile_name = "smoke" if args.smoke else "full"
    profile = PROFILES[profile_name]
    if args.sizes:
        sizes = sorted(set(args.sizes))
        reps = profile["health"]["reps"]
        profile = dict(profile, lab_hosts=sizes[-1],
                       health=dict(profile["health"], sizes=sizes,
                                   tuning_size=min(profile["health"]["tuning_size"], sizes[-1]),
                                   reps={size: reps.get(size, 1) for size in sizes}),
                       deploy=dict(profile["deploy"], sizes=sizes,
                                   tuning_size=min(profile["deploy"].get("tuning_size", sizes[-1]), sizes[-1])))
    results: dict = {"profile": profile_name, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "machine": common.machine(),
                     "settings": {"health_tunings": profile["health_tunings"],
                                  "deploy_tunings": profile["deploy_tunings"]},
                     "benchmarks": {},
                     "errors": {}}
    path = args.results or RESULTS_DIR / f"{results['started'].replace(':', '')}.json"
    start = time.perf_counter()

    def attempt(name: str, func) -> None:
        if name not in args.only:
            return
        common.log(f"benchmark: {name}")
        try:
            results["benchmarks"][name] = func()
        except Exception as exc:  # record it, go on with the others, fail at the end
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
            common.log(f"benchmark {name} failed: {exc}")
            traceback.print_exc(file=sys.stderr)
        common.write_json(path, results)

    preflight_cfg, callback_cfg = profile["preflight"], profile["callback"]
    attempt("preflight", lambda: preflight.run(preflight_cfg["counts"], preflight_cfg["sample"], preflight_cfg["reps"],
                                               preflight_cfg["budget"], playbook=not args.smoke))
    attempt("callback", lambda: callback.run(callback_cfg["hosts"], callback_cfg["tasks"], callback_cfg["reps"],
                                             callback_cfg["replay_tasks"], callback_cfg["budget"]))
    if {"health", "deploy"} & set(args.only):
        try:
            with common.lab(profile["lab_hosts"]) as lab:
                results["lab"] = {"name": lab.name, "hosts": len(lab.hosts), "boot_seconds": round(lab.boot_seconds, 1)}
                health_cfg, deploy_cfg = profile["health"], profile["deploy"]
                attempt("health", lambda: health.run(lab, health_cfg["sizes"], health_cfg["reps"],
                                                     health_cfg["budget"], profile["health_tunings"],
                                                     health_cfg["tuning_size"]))
                attempt("deploy", lambda: deploy.run(lab, deploy_cfg["sizes"], deploy_cfg["reps"],
                                                     deploy_cfg["budget"], profile["deploy_tunings"],
                                                     tags=deploy_cfg.get("tags"),
                                                     tuning_size=deploy_cfg.get("tuning_size")))
        except common.BenchError as exc:
            for name in ("health", "deploy"):
                if name in args.only and name not in results["benchmarks"]:
                    results["errors"].setdefault(name, f"lab: {exc}")
    results["total_seconds"] = round(time.perf_counter() - start, 1)
    common.write_json(path, results)
    common.write_json(RESULTS_DIR / "latest.json", results)
    results["_path"] = str(path)
    return results


def merge(runs: list[dict]) -> dict:
    """Benchmarks from several runs, in order of preference: an earlier run wins, a later one only adds what
    is missing (a benchmark, a part of it such as the tuned variants, or a lab size). Every ratio still comes
    from one run: parts are never combined into a new ratio."""
    merged = dict(runs[0], benchmarks={}, errors={}, runs=[])
    for result in runs:
        merged["runs"].append({"started": result["started"], "profile": result["profile"],
                               "benchmarks": sorted(result["benchmarks"]), "commit": result["machine"]["commit"]})
        merged["lab"] = merged.get("lab") or result.get("lab")
        for name, data in result["benchmarks"].items():
            target = merged["benchmarks"].setdefault(name, {})
            for key, value in data.items():
                if key not in target:
                    target[key] = value
                elif key == "by_size":
                    target[key] = {**value, **target[key]}
            if "by_size" in target:
                target["by_size"] = dict(sorted(target["by_size"].items(), key=lambda item: int(item[0])))
    for result in runs:
        for name, error in result["errors"].items():
            if name not in merged["benchmarks"]:
                merged["errors"][name] = error
    return merged


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the lab's finally: containers are removed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _terminate)
    if args.docs_from:
        results = merge([json.loads(path.read_text()) for path in args.docs_from])
    else:
        results = run(args)
    print(report.ratio_table(results))
    if not args.docs_from:
        print(f"\nresults: {results.pop('_path')} (total {results['total_seconds']} s)")
    if args.write_docs or args.docs_from:
        written = report.write_docs(results, args.docs_dir)
        print("docs: " + ", ".join(str(p) for p in written))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
